/* The online RL trainers (docs/trainers.md): verl's and OpenRLHF's
 * prompt rows with the reward in what they carry through, AReaL's
 * per-completion rewards, prime-rl's traces and rLLM's episodes. */
#include <math.h>
#include <string.h>

#include "episodes/json_io.h"
#include "exports/export_internal.h"

/* What a row carries for the reward function: where the message is, its
 * reward and flags, its agent's credit and the grouping key that verl's
 * uid does not keep (verl/trainer/ppo/ray_trainer.py:1482-1484). */
static json_t *row_info(ac__xrun *r, uint32_t k, uint32_t a, int64_t turn,
                        const ac__text *response)
{
    json_t *info = json_object();
    int ok = info != NULL;
    if (!ok)
        return NULL;
    put(info, "episode", json_string(r->id), &ok);
    put(info, "group", ac__xrun_group(r), &ok);
    put(info, "agent", json_string(ac__xrun_agent_name(r, a)), &ok);
    put(info, "turn", json_integer(turn), &ok);
    put(info, "message", json_integer(k), &ok);
    put(info, "reward", json_real(r->s->reward[k]), &ok);
    put(info, "credit", json_real(r->s->credit[a]), &ok);
    put(info, "flags", ac__xrun_flags(r, k, 0), &ok);
    put(info, "step_flags", ac__xrun_flags(r, k, 1), &ok);
    put(info, "key", ac__xrun_key(r, a, turn), &ok);
    if (response != NULL)
        put(info, "response", ac__text_json(response), &ok);
    if (!ok)
        json_decref(info);
    return ok ? info : NULL;
}

/* verl: the keys its reward managers read unconditionally
 * (verl/workers/reward_manager/naive.py:121-123). */
static json_t *verl_row(ac__xrun *r, json_t *info, const ac__text *truth)
{
    const char *source = ac__export_str(r->x, AC_EXPORT_PARAM_DATA_SOURCE);
    json_t *row = json_object(), *model = json_object(), *extra = json_object();
    int ok = row != NULL && model != NULL && extra != NULL;
    if (ok) {
        put(model, "style", json_string("agentcredit"), &ok);
        put(model, "ground_truth", ac__text_json(truth), &ok);
        put(extra, "agentcredit", info, &ok);
        info = NULL;
        put(row, "data_source",
            json_string(source != NULL ? source : "agentcredit"), &ok);
        put(row, "prompt", json_null(), &ok);
        put(row, "ability", json_string("agentcredit"), &ok);
        put(row, "reward_model", model, &ok);
        model = NULL;
        put(row, "extra_info", extra, &ok);
        extra = NULL;
    }
    json_decref(info);
    json_decref(model);
    json_decref(extra);
    if (!ok)
        json_decref(row);
    return ok ? row : NULL;
}

/* OpenRLHF: its default input key and the label as text, which it
 * passes to the reward function (openrlhf/cli/train_ppo_ray.py:542). */
static json_t *openrlhf_row(ac__xrun *r, json_t *info)
{
    ac__text label = {0};
    int ok = ac__text_dump(&r->x->mem, &label, info, AC__JSON_DUMP_FLAGS) ==
             AC_OK;
    json_decref(info);
    json_t *row = ok ? json_object() : NULL;
    ok = row != NULL;
    if (ok) {
        put(row, "input", json_null(), &ok);
        put(row, "label", ac__text_json(&label), &ok);
    }
    ac__text_free(&r->x->mem, &label);
    if (!ok)
        json_decref(row);
    return ok ? row : NULL;
}

static int message_row(ac__xrun *r, uint32_t k, uint32_t a, int64_t turn)
{
    ac__text prompt = {0}, truth = {0};
    int rc = ac__render_prompt_text(r, k, a, &prompt);
    if (rc == AC_OK)
        rc = ac__render_text(r, k, a, &truth);
    int openrlhf = r->x->format == AC_EXPORT_FORMAT_OPENRLHF;
    if (rc == AC_OK) {
        json_t *info = row_info(r, k, a, turn, openrlhf ? &truth : NULL);
        json_t *row = info == NULL ? NULL
                      : openrlhf   ? openrlhf_row(r, info)
                                   : verl_row(r, info, &truth);
        const char *key = openrlhf ? "input" : "prompt";
        const ac__text *value = &prompt;
        rc = ac__export_emit_spliced(r, row, 1, &key, &value);
    }
    ac__text_free(&r->x->mem, &prompt);
    ac__text_free(&r->x->mem, &truth);
    return rc;
}

/* One row a message of a trained agent; turn j is the agent's j-th
 * message. */
int ac__export_verl(ac__xrun *r)
{
    int64_t *turns = ac__mem_calloc(&r->x->mem, r->s->n_agents, sizeof *turns);
    int rc = turns == NULL ? ac__export_oom(r, "the turns") : AC_OK;
    for (uint32_t k = 0; rc == AC_OK && k < r->s->n_msg; k++) {
        uint32_t a = ac__xrun_author(r, k);
        if (a != AC__NO_AGENT && r->trained[a])
            rc = ac__export_settle(r, message_row(r, k, a, turns[a]++), k, a);
    }
    ac__mem_free(&r->x->mem, turns);
    return rc;
}

/* Agent a's messages in order, with their rewards, as JSON arrays. */
static int agent_messages(ac__xrun *r, uint32_t a, json_t **messages,
                          json_t **rewards)
{
    *messages = json_array();
    *rewards = json_array();
    int ok = *messages != NULL && *rewards != NULL;
    for (uint32_t k = 0; ok && k < r->s->n_msg; k++)
        if (ac__xrun_author(r, k) == a) {
            push(*messages, json_integer(k), &ok);
            push(*rewards, json_real(r->s->reward[k]), &ok);
        }
    if (ok)
        return AC_OK;
    json_decref(*messages);
    json_decref(*rewards);
    *messages = *rewards = NULL;
    return ac__export_oom(r, "a record");
}

/* The rewards AReaL must be given so that its backward pass, R_k = s_k +
 * g R_{k+1} over the agent's calls (areal/experimental/openai/cache.py:256),
 * gives back r_k: s_k = r_k - g r_{k+1}. */
static int areal_set_rewards(ac__xrun *r, const json_t *rewards, json_t **out)
{
    double g = r->x->p.turn_discount;
    size_t n = json_array_size(rewards);
    *out = json_array();
    int ok = *out != NULL;
    for (size_t k = 0; ok && k < n; k++) {
        double rk = json_real_value(json_array_get(rewards, k));
        double next = k + 1 < n ? json_real_value(json_array_get(rewards, k + 1))
                                : 0.0;
        double s = rk - g * next;
        if (!isfinite(s)) {
            json_decref(*out);
            *out = NULL;
            return ac__fail(r->x->err, AC_E_TOO_LARGE, "areal: the reward to "
                            "set for call %zu, %g - %g x %g, is beyond a "
                            "double", k, rk, g, next);
        }
        push(*out, json_real(s), &ok);
    }
    if (ok)
        return AC_OK;
    json_decref(*out);
    *out = NULL;
    return ac__export_oom(r, "a record");
}

static int areal_record(ac__xrun *r, uint32_t a)
{
    json_t *messages, *rewards, *set = NULL;
    int rc = agent_messages(r, a, &messages, &rewards);
    if (rc == AC_OK)
        rc = areal_set_rewards(r, rewards, &set);
    json_t *rec = rc == AC_OK ? json_object() : NULL;
    int ok = rec != NULL;
    if (ok) {
        put(rec, "episode", json_string(r->id), &ok);
        put(rec, "group", ac__xrun_group(r), &ok);
        put(rec, "agent", json_string(ac__xrun_agent_name(r, a)), &ok);
        put(rec, "messages", messages, &ok);
        put(rec, "rewards", rewards, &ok);
        put(rec, "turn_discount", json_real(r->x->p.turn_discount), &ok);
        put(rec, "set_rewards", set, &ok);
        if (!ok)
            json_decref(rec);
        return ac__export_emit(r, ok ? rec : NULL);
    }
    json_decref(messages);
    json_decref(rewards);
    json_decref(set);
    return rc != AC_OK ? rc : ac__export_oom(r, "a record");
}

/* prime-rl: the trace's reward is the sum of its weighted rewards
 * (verifiers/v1/trace.py:413-414), here the agent's credit; the turn
 * rewards ride in info for a per-turn algorithm. */
static int prime_record(ac__xrun *r, uint32_t a)
{
    json_t *messages, *rewards;
    int rc = agent_messages(r, a, &messages, &rewards);
    if (rc != AC_OK)
        return rc;
    json_t *rec = json_object(), *agent = json_object(), *rw = json_object(),
           *score = json_object(), *info = json_object(), *ac = json_object();
    int ok = rec && agent && rw && score && info && ac;
    if (ok) {
        put(agent, "name", json_string(ac__xrun_agent_name(r, a)), &ok);
        put(score, "score", json_real(r->s->credit[a]), &ok);
        put(score, "weight", json_real(1.0), &ok);
        put(rw, "agentcredit", score, &ok);
        score = NULL;
        put(ac, "episode", json_string(r->id), &ok);
        put(ac, "group", ac__xrun_group(r), &ok);
        put(ac, "turn_rewards", rewards, &ok);
        put(ac, "messages", messages, &ok);
        rewards = messages = NULL;
        put(info, "agentcredit", ac, &ok);
        ac = NULL;
        put(rec, "agent", agent, &ok);
        put(rec, "rewards", rw, &ok);
        put(rec, "info", info, &ok);
        agent = rw = info = NULL;
    }
    json_t *left[] = {agent, rw, score, info, ac, messages, rewards};
    for (size_t i = 0; i < sizeof left / sizeof left[0]; i++)
        json_decref(left[i]);
    if (!ok)
        json_decref(rec);
    return ac__export_emit(r, ok ? rec : NULL);
}

static int per_agent(ac__xrun *r, int (*record)(ac__xrun *, uint32_t))
{
    int rc = AC_OK;
    for (uint32_t a = 0; rc == AC_OK && a < r->s->n_agents; a++)
        if (r->trained[a])
            rc = ac__export_settle(r, record(r, a), -1, a);
    return rc;
}

int ac__export_areal(ac__xrun *r)
{
    return per_agent(r, areal_record);
}

int ac__export_prime_rl(ac__xrun *r)
{
    return per_agent(r, prime_record);
}

/* rLLM: one trajectory per agent, its reward the credit and its steps'
 * the messages'. */
static int rllm_trajectory(ac__xrun *r, uint32_t a, json_t **out)
{
    json_t *messages, *rewards;
    int rc = agent_messages(r, a, &messages, &rewards);
    if (rc != AC_OK)
        return rc;
    json_t *t = json_object(), *steps = json_array();
    int ok = t != NULL && steps != NULL;
    for (size_t i = 0; ok && i < json_array_size(messages); i++) {
        json_t *step = json_object(), *meta = json_object();
        ok = step != NULL && meta != NULL;
        if (ok) {
            put(meta, "message", json_incref(json_array_get(messages, i)), &ok);
            put(step, "reward", json_incref(json_array_get(rewards, i)), &ok);
            put(step, "metadata", meta, &ok);
            meta = NULL;
            push(steps, step, &ok);
            step = NULL;
        }
        json_decref(step);
        json_decref(meta);
    }
    json_decref(messages);
    json_decref(rewards);
    if (ok) {
        put(t, "name", json_string(ac__xrun_agent_name(r, a)), &ok);
        put(t, "reward", json_real(r->s->credit[a]), &ok);
        put(t, "steps", steps, &ok);
        steps = NULL;
    }
    json_decref(steps);
    if (!ok)
        json_decref(t);
    *out = ok ? t : NULL;
    return ok ? AC_OK : ac__export_oom(r, "a record");
}

/* rLLM groups by f"{task_id}:{trajectory.name}", task_id the id up to its
 * first ':' (rllm/types.py:333-334): a ':' in the group or a name would
 * merge groups. */
static int rllm_names_fit(ac__xrun *r)
{
    if (memchr(r->id, ':', r->group_len) != NULL)
        return ac__fail(r->x->err, AC_E_INVALID_ARG, "rllm: the group \"%.*s\" "
                        "holds ':', which rLLM splits ids at",
                        (int)r->group_len, r->id);
    for (uint32_t a = 0; a < r->s->n_agents; a++)
        if (r->trained[a] && strchr(ac__xrun_agent_name(r, a), ':') != NULL)
            return ac__fail(r->x->err, AC_E_INVALID_ARG, "rllm: the agent "
                            "\"%s\" holds ':', which rLLM splits keys at",
                            ac__xrun_agent_name(r, a));
    return AC_OK;
}

/* The episode's id as rLLM reads it: GROUP:ROLLOUT (the rollout the rest
 * of the id, "0" when the id is all group). */
static json_t *rllm_id(ac__xrun *r)
{
    ac__text t = {0};
    size_t len = strlen(r->id);
    const char *sep = ac__export_str(r->x, AC_EXPORT_PARAM_GROUP_SEP);
    size_t skip = r->group_len < len ? strlen(sep != NULL ? sep : ":") : 0;
    const char *rollout = r->group_len < len ? r->id + r->group_len + skip : "0";
    int ok = ac__text_add(&r->x->mem, &t, r->id, r->group_len) == AC_OK &&
             ac__text_add(&r->x->mem, &t, ":", 1) == AC_OK &&
             ac__text_add(&r->x->mem, &t, rollout, strlen(rollout)) == AC_OK;
    json_t *id = ok ? ac__text_json(&t) : NULL;
    ac__text_free(&r->x->mem, &t);
    return id;
}

int ac__export_rllm(ac__xrun *r)
{
    int rc = rllm_names_fit(r);
    json_t *rec = rc == AC_OK ? json_object() : NULL,
           *trajectories = json_array();
    int ok = rec != NULL && trajectories != NULL;
    for (uint32_t a = 0; rc == AC_OK && ok && a < r->s->n_agents; a++) {
        json_t *t = NULL;
        if (r->trained[a] && (rc = rllm_trajectory(r, a, &t)) == AC_OK)
            push(trajectories, t, &ok);
    }
    if (rc == AC_OK && ok) {
        put(rec, "id", rllm_id(r), &ok);
        put(rec, "is_correct", json_boolean(r->s->audit[AC_PIPELINE_AUDIT_SUCCESS]),
            &ok);
        put(rec, "trajectories", trajectories, &ok);
        trajectories = NULL;
    }
    json_decref(trajectories);
    if (rc != AC_OK || !ok) {
        json_decref(rec);
        return rc != AC_OK ? rc : ac__export_oom(r, "a record");
    }
    return ac__export_emit(r, rec);
}
