/* TRL's datasets (trl f2cd577; docs/trainers.md): preference pairs
 * (DPO conversational and standard, reward-model pairs with a margin),
 * KTO's single messages and the stepwise PRM's labelled steps. */
#include <string.h>

#include "episodes/json_io.h"
#include "exports/export_internal.h"

/* The pair's chosen side as the erring agent's turn (text NULL) or text:
 * the loaded candidate of a repair, the later message of a corrective
 * pair. */
static int chosen_side(ac__xrun *r, json_t **turn, ac__text *text)
{
    const ac_preference_pair *pair = &r->s->pair;
    if (pair->kind == AC_PAIR_KIND_CORRECTIVE)
        return text != NULL ? ac__render_text(r, (uint32_t)pair->chosen,
                                              pair->agent, text)
                            : ac__render_turn(r, (uint32_t)pair->chosen,
                                              pair->agent, turn);
    const json_t *cand = ac__export_candidate(r, pair->chosen);
    if (cand == NULL)
        return AC_EXPORT_SKIP_REASON_NO_CANDIDATE_TEXT;
    return ac__render_candidate(r, cand, turn, text);
}

/* A list of one turn, after the prompt's turns when prompt is given
 * (jansson's json_copy of an array drops what it fails to append: the
 * size says so). */
static json_t *side(const json_t *prompt, json_t *turn)
{
    json_t *list = prompt != NULL ? json_copy((json_t *)prompt) : json_array();
    int whole = list != NULL && json_array_size(list) ==
                                    (prompt != NULL ? json_array_size(prompt)
                                                    : 0);
    if (!whole || json_array_append_new(list, turn) != 0) {
        if (!whole)
            json_decref(turn);
        json_decref(list);
        return NULL;
    }
    return list;
}

static int pair_standard(ac__xrun *r)
{
    const ac_preference_pair *pair = &r->s->pair;
    ac__text prompt = {0}, chosen = {0}, rejected = {0};
    int rc = ac__render_text_prefix(r, pair->prompt_end, pair->agent, "\n\n",
                                    &prompt);
    if (rc == AC_OK)
        rc = chosen_side(r, NULL, &chosen);
    if (rc == AC_OK)
        rc = ac__render_text(r, pair->step, pair->agent, &rejected);
    if (rc == AC_OK) {
        json_t *rec = json_object();
        int ok = rec != NULL;
        if (ok) {
            put(rec, "prompt", ac__text_json(&prompt), &ok);
            put(rec, "chosen", ac__text_json(&chosen), &ok);
            put(rec, "rejected", ac__text_json(&rejected), &ok);
        }
        if (!ok)
            json_decref(rec);
        rc = ac__export_emit(r, ok ? rec : NULL);
    }
    ac__text_free(&r->x->mem, &prompt);
    ac__text_free(&r->x->mem, &chosen);
    ac__text_free(&r->x->mem, &rejected);
    return rc;
}

/* DPO: {"prompt", "chosen", "rejected"}, an empty prompt skipped (TRL's
 * is_conversational indexes prompt[0]: trl/data_utils.py:193). Reward
 * pairs: the prompt inside each side, never an empty list, and the
 * margin the reward trainer subtracts (trainer/reward_trainer.py:750). */
static int pair_chat(ac__xrun *r, int reward)
{
    const ac_preference_pair *pair = &r->s->pair;
    json_t *prompt = NULL, *chosen = NULL, *rejected = NULL;
    int rc = ac__render_prompt(r, pair->prompt_end, pair->agent, &prompt);
    if (rc == AC_EXPORT_SKIP_REASON_EMPTY_PROMPT && reward)
        rc = AC_OK; /* [chosen] and [rejected] alone */
    if (rc == AC_OK)
        rc = chosen_side(r, &chosen, NULL);
    if (rc == AC_OK)
        rc = ac__render_turn(r, pair->step, pair->agent, &rejected);
    if (rc != AC_OK) {
        json_decref(prompt);
        json_decref(chosen);
        return rc;
    }
    json_t *rec = json_object();
    int ok = rec != NULL;
    if (ok && !reward) {
        put(rec, "prompt", prompt, &ok);
        put(rec, "chosen", side(NULL, chosen), &ok);
        put(rec, "rejected", side(NULL, rejected), &ok);
    } else if (ok) {
        put(rec, "chosen", side(prompt, chosen), &ok);
        put(rec, "rejected", side(prompt, rejected), &ok);
        put(rec, "margin", json_real(pair->weight), &ok);
        json_decref(prompt);
    } else {
        json_decref(prompt);
        json_decref(chosen);
        json_decref(rejected);
    }
    if (!ok)
        json_decref(rec);
    return ac__export_emit(r, ok ? rec : NULL);
}

/* The pair as the episode must have it (ac_preference_pair): the
 * rejected message the agent's, the prompt every message before it, a
 * corrective message the agent's and later. Signals read from JSON are
 * checked field by field only; a contradiction would write another
 * speaker's message as the agent's completion. */
static int pair_fits(ac__xrun *r)
{
    const ac_preference_pair *pair = &r->s->pair;
    const char *agent = ac__xrun_agent_name(r, pair->agent);
    if (ac__xrun_author(r, pair->step) != pair->agent)
        return ac__fail(r->x->err, AC_E_INVALID_ARG, "pair: message %u (the "
                        "rejected step) is not agent \"%s\"'s", pair->step,
                        agent);
    if (pair->prompt_end != pair->step)
        return ac__fail(r->x->err, AC_E_INVALID_ARG, "pair: prompt_end %u "
                        "is not the step %u", pair->prompt_end, pair->step);
    if (pair->kind == AC_PAIR_KIND_CORRECTIVE &&
        (pair->chosen <= pair->step ||
         ac__xrun_author(r, (uint32_t)pair->chosen) != pair->agent))
        return ac__fail(r->x->err, AC_E_INVALID_ARG, "pair: the corrective "
                        "message %llu is not agent \"%s\"'s after step %u",
                        (unsigned long long)pair->chosen, agent, pair->step);
    return AC_OK;
}

int ac__export_trl_pair(ac__xrun *r)
{
    const ac_preference_pair *pair = &r->s->pair;
    if (pair->kind == AC_PAIR_KIND_NONE)
        return ac__export_skip(r, AC_EXPORT_SKIP_REASON_NO_PAIR, -1, AC__NO_AGENT);
    if (pair->agent >= r->s->n_agents || !r->trained[pair->agent])
        return ac__export_skip(r, AC_EXPORT_SKIP_REASON_NOT_TRAINED_AGENT,
                               pair->step, pair->agent < r->s->n_agents
                                               ? pair->agent
                                               : AC__NO_AGENT);
    int rc = pair_fits(r);
    if (rc != AC_OK)
        return rc;
    rc = r->x->format == AC_EXPORT_FORMAT_TRL_DPO_STANDARD
                 ? pair_standard(r)
                 : pair_chat(r, r->x->format == AC_EXPORT_FORMAT_TRL_REWARD);
    return ac__export_settle(r, rc, pair->step, pair->agent);
}

/* KTO: a trained agent's message with its prompt and a bool label
 * (trl/trainer/kto_trainer.py:209); a reward of 0 prefers nothing. */
static int kto_record(ac__xrun *r, uint32_t k, uint32_t a)
{
    if (r->s->reward[k] == 0)
        return AC_EXPORT_SKIP_REASON_ZERO_REWARD;
    ac__text prompt = {0};
    json_t *turn = NULL;
    int rc = ac__render_prompt_text(r, k, a, &prompt);
    if (rc == AC_OK)
        rc = ac__render_turn(r, k, a, &turn);
    json_t *rec = rc == AC_OK ? json_object() : NULL;
    int ok = rec != NULL;
    if (ok) {
        put(rec, "prompt", json_null(), &ok);
        put(rec, "completion", side(NULL, turn), &ok);
        put(rec, "label", json_boolean(r->s->reward[k] > 0), &ok);
    } else {
        json_decref(turn);
    }
    if (rc == AC_OK) {
        const char *key = "prompt";
        const ac__text *value = &prompt;
        rc = ac__export_emit_spliced(r, ok ? rec : (json_decref(rec), NULL),
                                     1, &key, &value);
    }
    ac__text_free(&r->x->mem, &prompt);
    return rc;
}

int ac__export_trl_kto(ac__xrun *r)
{
    int rc = AC_OK;
    for (uint32_t k = 0; rc == AC_OK && k < r->s->n_msg; k++) {
        uint32_t a = ac__xrun_author(r, k);
        if (a != AC__NO_AGENT && r->trained[a])
            rc = ac__export_settle(r, kto_record(r, k, a), k, a);
    }
    return rc;
}

/* The label of step k: 1 helpful, 0 harmful, -100 (ignored by the loss
 * and the accuracy: trl/experimental/prm/prm_trainer.py:55-71) for a
 * reward of 0 and for every message not of a trained agent. */
static json_int_t prm_label(const ac__xrun *r, uint32_t k)
{
    uint32_t a = ac__xrun_author(r, k);
    if (a == AC__NO_AGENT || !r->trained[a] || r->s->reward[k] == 0)
        return -100;
    return r->s->reward[k] > 0 ? 1 : 0;
}

/* Stepwise PRM: one solution a record, every message from the first
 * agent's on a step (the other agents' and the tools' too: the solution
 * stays whole), the messages before it the prompt. */
int ac__export_trl_prm(ac__xrun *r)
{
    uint32_t first = 0, n = r->s->n_msg;
    while (first < n && ac__xrun_author(r, first) == AC__NO_AGENT)
        first++;
    int labelled = 0;
    for (uint32_t k = first; k < n; k++)
        labelled |= prm_label(r, k) != -100;
    if (!labelled)
        return ac__export_skip(r, AC_EXPORT_SKIP_REASON_ZERO_REWARD, -1,
                               AC__NO_AGENT);
    ac__text prompt = {0};
    int rc = ac__render_text_prefix(r, first, AC__NO_AGENT, "\n", &prompt);
    json_t *rec = json_object(), *steps = json_array(), *labels = json_array();
    int ok = rec != NULL && steps != NULL && labels != NULL;
    for (uint32_t k = first; rc == AC_OK && ok && k < n; k++) {
        ac__text step = {0};
        rc = ac__render_text(r, k, AC__NO_AGENT, &step);
        if (rc == AC_OK) {
            push(steps, ac__text_json(&step), &ok);
            push(labels, json_integer(prm_label(r, k)), &ok);
        }
        ac__text_free(&r->x->mem, &step);
    }
    if (rc == AC_OK && ok)
        put(rec, "prompt", ac__text_json(&prompt), &ok);
    ac__text_free(&r->x->mem, &prompt);
    if (rc == AC_OK && ok) {
        put(rec, "completions", steps, &ok);
        put(rec, "labels", labels, &ok);
        return ac__export_emit(r, ok ? rec : (json_decref(rec), NULL));
    }
    json_decref(rec);
    json_decref(steps);
    json_decref(labels);
    return rc != AC_OK ? rc : ac__export_oom(r, "a record");
}
