/* The pipeline's stages: what each sets up on its object from the episode
 * and the parameters, and what it takes from the object once it is done.
 * The objects are driven through their public API exactly as a host would
 * by hand (the test suite checks the two agree bit for bit); what the
 * pipeline adds is the wiring: non-player messages kept out of the game and
 * the rewards, the credits moved to add up to R - reference, the labels
 * chosen, the indices translated. pipeline_run.c moves from one stage to
 * the next and hands out their work. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/coalition.h"
#include "credit/conserve.h"
#include "credit/interactions.h"
#include "episodes/pipeline_internal.h"

/* An object's failure, named by its stage: "credit: the budget ...". */
int ac__stage_failed(ac_pipeline *p, int rc, const char *what,
                     const char *why)
{
    return ac__fail(p->err, rc, "%s: %s", what,
                    why != NULL && why[0] ? why : ac_strerror(rc));
}

void ac__stage_free_objects(ac_pipeline *p)
{
    ac__run *r = &p->run;
    ac_estimator_free(r->est);
    ac_localizer_free(r->loc);
    ac_refiner_free(r->ref);
    r->est = NULL;
    r->loc = NULL;
    r->ref = NULL;
}

/* The localizer and the refiner number the agents' messages only (a
 * non-player's message is never the first error, never rewarded): k is
 * the k-th agent message, at transcript position agent_msg[k]. The
 * localizer's prefix k ends where the next agent message begins: the
 * tools' outputs and the user's replies that follow an agent's message
 * belong to its prefix, the consequences of what it did. */
uint32_t ac__stage_message_at(const ac_pipeline *p, uint32_t k)
{
    return p->run.agent_msg[k];
}

uint32_t ac__stage_prefix_end(const ac_pipeline *p, uint32_t k)
{
    return k + 1 < p->run.n_agent_msg ? p->run.agent_msg[k + 1] - 1
                                      : p->res.n_msg - 1;
}

int ac__stage_check_episode(ac_pipeline *p, const ac_episode *ep)
{
    if (!ep->has_outcome)
        return ac__fail(p->err, AC_E_STATE, "the episode has no outcome");
    if (ep->n_agents == 0)
        return ac__fail(p->err, AC_E_STATE, "the episode has no agent");
    /* Every agent speaks: a silent player's credit has no message to
     * carry it. One pass, then one look per agent. */
    uint8_t *spoke = ac__mem_calloc(&p->mem, ep->n_part, 1);
    if (spoke == NULL)
        return ac__fail(p->err, AC_E_NO_MEMORY, "out of memory");
    for (uint32_t t = 0; t < ep->n_msg; t++)
        spoke[ep->msg[t].participant] = 1;
    uint32_t silent = UINT32_MAX;
    for (uint32_t i = 0; silent == UINT32_MAX && i < ep->n_part; i++)
        if (ep->part[i].agent != AC__NO_AGENT && !spoke[i])
            silent = i;
    ac__mem_free(&p->mem, spoke);
    if (silent != UINT32_MAX)
        return ac__fail(p->err, AC_E_STATE,
                        "agent \"%s\" has no message: its credit would "
                        "have none to carry it (leave a silent agent "
                        "out, or give it a non-player kind)",
                        ep->part[silent].name);
    return AC_OK;
}

int ac__stage_map_messages(ac_pipeline *p)
{
    ac__run *r = &p->run;
    const ac_episode *ep = r->ep;
    uint32_t T = p->res.n_msg;
    r->agent_msg = ac__mem_alloc(&p->mem, T, sizeof *r->agent_msg);
    r->blame = ac__mem_alloc(&p->mem, T, sizeof *r->blame);
    if (r->agent_msg == NULL || r->blame == NULL)
        return ac__fail(p->err, AC_E_NO_MEMORY, "out of memory");
    r->n_agent_msg = 0;
    for (uint32_t t = 0; t < T; t++)
        if (ac__episode_author(ep, t) != AC__NO_AGENT)
            r->agent_msg[r->n_agent_msg++] = t;
        else
            p->res.msg_flags[t] = AC_MESSAGE_FLAG_NON_PLAYER;
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* Credit                                                              */
/* ------------------------------------------------------------------ */

/* The estimator's inputs: the episode's known values, v(all) = R unless
 * given, v(empty) = the baseline when given. */
static int give_values(ac_pipeline *p, ac_estimator *e, const ac_episode *ep)
{
    uint32_t words = ac_coalition_words(p->res.n_agents);
    uint64_t *all = ac__mem_calloc(&p->mem, 2 * (size_t)words, sizeof *all);
    if (all == NULL)
        return AC_E_NO_MEMORY;
    uint64_t *none = all + words;
    ac__coalition_fill(all, words, p->res.n_agents);
    int rc = AC_OK, all_known = 0;
    for (uint32_t k = 0; rc == AC_OK && k < ep->n_known; k++) {
        const uint64_t *key = ep->known_key + (size_t)k * words;
        all_known |= memcmp(key, all, words * sizeof *key) == 0;
        rc = ac_estimator_set_value(e, key, words, ep->known_value[k]);
    }
    if (rc == AC_OK && !all_known)
        rc = ac_estimator_set_value(e, all, words, ep->outcome);
    if (rc == AC_OK && ep->has_baseline)
        rc = ac_estimator_set_value(e, none, words, ep->baseline);
    ac__mem_free(&p->mem, all);
    return rc;
}

int ac__stage_credit_begin(ac_pipeline *p)
{
    ac__run *r = &p->run;
    int rc = ac_estimator_create(&r->est, p->res.n_agents,
                                 ac__pipeline_object_alloc(p));
    if (rc != AC_OK)
        return ac__stage_failed(p, rc, "credit", "");
    rc = ac__pipeline_apply_params(p, AC__OWNER_ESTIMATOR, r->est);
    if (rc == AC_OK)
        rc = give_values(p, r->est, r->ep);
    if (rc != AC_OK)
        rc = ac__stage_failed(p, rc, "credit",
                              ac_estimator_last_error(r->est));
    return rc;
}

/* The credits add up to R - reference: what the game leaves unexplained
 * (v(empty) - reference, and R - v(all) when the host's v(all) is not R)
 * is split equally, which is the Shapley value of the same game with
 * v(empty) replaced by the reference. */
static int refer_credits(ac_pipeline *p, const ac_episode *ep)
{
    ac__result *r = &p->res;
    uint32_t n = r->n_agents;
    r->reference = ep->has_reference ? ep->reference : ep->threshold;
    r->total = ep->outcome - r->reference;
    r->audit[AC_PIPELINE_AUDIT_REFERENCE_GIVEN] = ep->has_reference;
    if (!isfinite(r->total))
        return ac__fail(p->err, AC_E_TOO_LARGE, "credit: R - reference = "
                        "%g - %g is beyond a double", ep->outcome,
                        r->reference);
    double shift = (r->total - ac__sum(r->phi, n)) / n;
    for (uint32_t i = 0; i < n; i++)
        r->phi[i] += shift;
    ac__conserve(r->phi, r->se, n, r->total);
    for (uint32_t i = 0; i < n; i++)
        if (!isfinite(r->phi[i]))
            return ac__fail(p->err, AC_E_TOO_LARGE, "credit: agent %u's "
                            "credit moved to the reference is %g", i,
                            r->phi[i]);
    return AC_OK;
}

/* The estimator's interactions, when it was asked for them and its method
 * ended with them (AC_E_STATE otherwise: none, which is no failure). They
 * are the interactions of the game the estimator evaluated: unlike the
 * credits they are not moved to the reference, which would add the same
 * constant to every pair. */
static int take_interactions(ac_pipeline *p, ac_estimator *e)
{
    ac__result *r = &p->res;
    size_t pairs = (size_t)ac__pair_count(r->n_agents);
    if (!p->est_params.interactions || e->inter == NULL)
        return AC_OK;
    r->inter = ac__mem_alloc(&p->mem, pairs ? pairs : 1, sizeof *r->inter);
    r->inter_se = ac__mem_alloc(&p->mem, pairs ? pairs : 1,
                                sizeof *r->inter_se);
    if (r->inter == NULL || r->inter_se == NULL)
        return ac__fail(p->err, AC_E_NO_MEMORY, "out of memory for the "
                        "interactions of %u agents", r->n_agents);
    return ac_estimator_interactions(e, r->inter, r->inter_se, pairs);
}

int ac__stage_credit_end(ac_pipeline *p)
{
    ac__result *r = &p->res;
    ac_estimator *e = p->run.est;
    int rc = ac_estimator_result(e, r->phi, r->se, r->n_agents);
    if (rc == AC_OK)
        rc = take_interactions(p, e);
    if (rc == AC_OK)
        rc = ac_estimator_audit(e, AC_ESTIMATOR_AUDIT_METHOD,
                                &r->audit[AC_PIPELINE_AUDIT_METHOD]);
    if (rc == AC_OK)
        rc = ac_estimator_audit(
            e, AC_ESTIMATOR_AUDIT_EVALUATIONS,
            &r->audit[AC_PIPELINE_AUDIT_ORACLE_EVALUATIONS]);
    if (rc != AC_OK)
        rc = ac__stage_failed(p, rc, "credit", ac_estimator_last_error(e));
    ac_estimator_free(e);
    p->run.est = NULL;
    return rc == AC_OK ? refer_credits(p, p->run.ep) : rc;
}

/* ------------------------------------------------------------------ */
/* The first error and the preference pair                             */
/* ------------------------------------------------------------------ */

/* AC_VERIFIER_SOURCE_ANNOTATION: the prefix of agent message k is on
 * track iff it ends before the labelled first error. */
static int annotation_verifier(void *user, const uint32_t *prefixes,
                               uint32_t count, double *p_on_track,
                               int32_t *status)
{
    const ac_pipeline *p = user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p_on_track[k] =
            ac__stage_prefix_end(p, prefixes[k]) < p->run.ep->first_error
                ? 1.0
                : 0.0;
    return 0;
}

/* Whether a failure is localized, and by whom: the host (ask/tell, or the
 * verifier callback of ac_pipeline_run), the annotation, or nobody. */
static int verdicts_from(const ac_pipeline *p)
{
    const ac_episode *ep = p->run.ep;
    if (ep->outcome >= ep->threshold)
        return AC_VERIFIER_SOURCE_NONE;
    if (p->verifier_source == AC_VERIFIER_SOURCE_CALLBACK)
        return p->run.serves & AC_SERVES_VERIFIER ? AC_VERIFIER_SOURCE_CALLBACK
                                                  : AC_VERIFIER_SOURCE_NONE;
    if (p->verifier_source == AC_VERIFIER_SOURCE_ANNOTATION)
        return ep->first_error != AC__NO_MESSAGE
                   ? AC_VERIFIER_SOURCE_ANNOTATION
                   : AC_VERIFIER_SOURCE_NONE;
    return AC_VERIFIER_SOURCE_NONE;
}

/* The authors of the agents' messages, in the objects' numbering (the
 * localizer's and the refiner's). NULL: no memory. */
static uint32_t *agent_authors(ac_pipeline *p)
{
    uint32_t K = p->run.n_agent_msg;
    uint32_t *author = ac__mem_alloc(&p->mem, K, sizeof *author);
    for (uint32_t k = 0; author != NULL && k < K; k++)
        author[k] = ac__episode_author(p->run.ep, p->run.agent_msg[k]);
    return author;
}

static int replay_repair(void *user, uint32_t step, uint32_t max_count,
                         uint64_t *candidates, uint32_t *count);
static int replay_check(void *user, uint32_t step, const uint64_t *candidates,
                        uint32_t count, double *p_on_track, int32_t *status);

/* Creates the localizer of a failure that will be localized (none
 * otherwise). The annotation answers at once; the host's verdicts are
 * asked as PREFIX work. */
int ac__stage_localize_begin(ac_pipeline *p)
{
    ac__run *r = &p->run;
    int source = verdicts_from(p);
    if (source == AC_VERIFIER_SOURCE_NONE)
        return AC_OK;
    uint32_t *author = agent_authors(p);
    int rc = author ? ac_localizer_create(&r->loc, r->n_agent_msg,
                                          ac__pipeline_object_alloc(p))
                    : AC_E_NO_MEMORY;
    if (rc == AC_OK)
        rc = ac__pipeline_apply_params(p, AC__OWNER_LOCALIZER, r->loc);
    if (rc == AC_OK)
        rc = ac_localizer_set_authors(r->loc, author, r->n_agent_msg);
    /* Before the run: the corrective scan leaves the checks their budget. */
    if (rc == AC_OK && (r->serves & AC_SERVES_REPAIR))
        rc = ac_localizer_set_repair(r->loc, replay_repair, replay_check, p);
    if (rc == AC_OK && source == AC_VERIFIER_SOURCE_ANNOTATION) {
        rc = ac_localizer_set_verifier(r->loc, annotation_verifier, p);
        if (rc == AC_OK)
            rc = ac_localizer_run(r->loc);
    }
    p->res.audit[AC_PIPELINE_AUDIT_LOCALIZED] = 1;
    ac__mem_free(&p->mem, author);
    if (rc != AC_OK)
        rc = ac__stage_failed(p, rc, "first error",
                              r->loc ? ac_localizer_last_error(r->loc) : "");
    return rc;
}

/* The localizer's figures once it is done: the first error, its step
 * flags (moved to the transcript), the blame labels (kept in its
 * numbering for the refiner), the verifier's evaluations. */
int ac__stage_localize_end(ac_pipeline *p)
{
    ac__result *r = &p->res;
    ac_localizer *l = p->run.loc;
    uint32_t K = p->run.n_agent_msg;
    uint32_t *flags = ac__mem_alloc(&p->mem, K, sizeof *flags);
    int rc = flags ? AC_OK : AC_E_NO_MEMORY;
    int64_t search = 0, scan = 0;
    if (rc == AC_OK)
        rc = ac_localizer_result(l, &r->step, &r->agent, &r->probability);
    if (rc == AC_OK) rc = ac_localizer_step_flags(l, flags, K);
    if (rc == AC_OK) rc = ac_localizer_blame_labels(l, p->run.blame, K);
    if (rc == AC_OK)
        rc = ac_localizer_audit(l, AC_LOCALIZER_AUDIT_SEARCH_EVALUATIONS,
                                &search);
    if (rc == AC_OK)
        rc = ac_localizer_audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS, &scan);
    for (uint32_t k = 0; rc == AC_OK && k < K; k++)
        r->step_flags[ac__stage_message_at(p, k)] = flags[k];
    r->audit[AC_PIPELINE_AUDIT_VERIFIER_EVALUATIONS] = search + scan;
    p->run.localized = rc == AC_OK && r->step >= 0;
    ac__mem_free(&p->mem, flags);
    if (rc != AC_OK)
        rc = ac__stage_failed(p, rc, "first error",
                              ac_localizer_last_error(l));
    return rc;
}

/* The pair's positions moved to the transcript, and the first error's. */
static void place_pair(ac_pipeline *p)
{
    ac__result *r = &p->res;
    uint32_t K = p->run.n_agent_msg;
    if (r->step >= 0)
        r->step = ac__stage_message_at(p, (uint32_t)r->step);
    ac_preference_pair *pair = &r->pair;
    if (pair->kind != AC_PAIR_KIND_NONE || pair->step < K) {
        uint32_t at = pair->step < K ? ac__stage_message_at(p, pair->step)
                                     : pair->step;
        pair->prompt_end = at; /* the transcript before the error */
        pair->step = at;
    }
    if (pair->kind == AC_PAIR_KIND_CORRECTIVE)
        pair->chosen = ac__stage_message_at(p, (uint32_t)pair->chosen);
}

/* The repair and the checks replayed from the host's answers (the record
 * in pipeline_internal.h): an answer not yet in is recorded as the need
 * and the attempt aborts. */
static int replay_repair(void *user, uint32_t step, uint32_t max_count,
                         uint64_t *candidates, uint32_t *count)
{
    ac__pair_replay *rp = &((ac_pipeline *)user)->run.pair;
    if (!rp->proposed) {
        rp->need = AC_WORK_KIND_REPAIR;
        rp->need_step = step;
        rp->need_max = max_count;
        return 1;
    }
    if (rp->n_ids > 0)
        memcpy(candidates, rp->ids, rp->n_ids * sizeof *candidates);
    *count = rp->n_ids;
    return 0;
}

static int replay_check(void *user, uint32_t step, const uint64_t *candidates,
                        uint32_t count, double *p_on_track, int32_t *status)
{
    ac_pipeline *p = user;
    ac__pair_replay *rp = &p->run.pair;
    if (rp->next_call < rp->n_calls) {
        uint32_t at = 0;
        for (uint32_t c = 0; c < rp->next_call; c++)
            at += rp->call_len[c];
        /* The attempts are a function of the answers: call c is the same
         * call every time. */
        if (rp->call_len[rp->next_call++] != count) {
            rp->failed = AC_E_STATE;
            return 1;
        }
        memcpy(p_on_track, rp->call_p + at, count * sizeof *p_on_track);
        memcpy(status, rp->call_status + at, count * sizeof *status);
        return 0;
    }
    uint64_t *ids = ac__mem_alloc(&p->mem, count, sizeof *ids);
    double *got = ac__mem_alloc(&p->mem, count, sizeof *got);
    int32_t *st = ac__mem_alloc(&p->mem, count, sizeof *st);
    if (ids == NULL || got == NULL || st == NULL) {
        ac__mem_free(&p->mem, ids);
        ac__mem_free(&p->mem, got);
        ac__mem_free(&p->mem, st);
        rp->failed = AC_E_NO_MEMORY; /* need stays 0: the attempt fails */
        return 1;
    }
    memcpy(ids, candidates, count * sizeof *ids);
    rp->need = AC_WORK_KIND_CHECK;
    rp->need_step = step;
    rp->need_ids = ids;
    rp->got_p = got;
    rp->got_status = st;
    rp->n_need = count;
    return 1;
}

/* One attempt at the pair. AC_OK with rp->need set: work to hand out;
 * AC_OK without: the pair is made and placed, the localizer freed. */
int ac__stage_pair_attempt(ac_pipeline *p)
{
    ac__run *r = &p->run;
    r->pair.next_call = 0;
    r->pair.need = 0;
    r->pair.failed = AC_OK;
    int rc = ac_localizer_make_pair(r->loc, (uint64_t)p->episode_id,
                                    &p->res.pair);
    if (r->pair.need != 0)
        return AC_OK;
    if (rc == AC_E_CALLBACK && r->pair.failed != AC_OK)
        return ac__fail(p->err, r->pair.failed, "first error: %s",
                        r->pair.failed == AC_E_NO_MEMORY
                            ? "out of memory for a candidate check"
                            : "a candidate check replayed differently");
    if (rc != AC_OK)
        return ac__stage_failed(p, rc, "first error",
                                ac_localizer_last_error(r->loc));
    place_pair(p);
    ac_localizer_free(r->loc);
    r->loc = NULL;
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* Rewards                                                             */
/* ------------------------------------------------------------------ */

/* The refiner's labels: blame (a localized failure), else the episode's
 * given labels (fixed), the host's scores for the rest when it serves
 * them, 0 otherwise. */
static int give_labels(ac_pipeline *p, ac_refiner *f)
{
    ac__run *run = &p->run;
    ac__result *r = &p->res;
    uint32_t K = run->n_agent_msg;
    double *lab = ac__mem_alloc(&p->mem, K, sizeof *lab);
    if (lab == NULL)
        return AC_E_NO_MEMORY;
    int given = 0, missing = 0, rc = AC_OK;
    for (uint32_t k = 0; k < K; k++) {
        double g = run->ep->msg[run->agent_msg[k]].label;
        lab[k] = run->localized ? run->blame[k] : isnan(g) ? 0.0 : g;
        given += !isnan(g);
        missing += isnan(g);
    }
    if (run->localized) {
        r->audit[AC_PIPELINE_AUDIT_LABELS] = AC_LABEL_SOURCE_BLAME;
        rc = ac_refiner_set_labels(f, lab, K);
    } else {
        int scored = (run->serves & AC_SERVES_SCORER) && missing > 0;
        r->audit[AC_PIPELINE_AUDIT_LABELS] =
            scored  ? AC_LABEL_SOURCE_SCORER
            : given ? AC_LABEL_SOURCE_GIVEN
                    : AC_LABEL_SOURCE_NEUTRAL;
        /* Scored: the labels not given are asked as SCORE work. */
        if (!scored)
            rc = ac_refiner_set_labels(f, lab, K);
        for (uint32_t k = 0; rc == AC_OK && k < K; k++)
            if (!isnan(run->ep->msg[run->agent_msg[k]].label))
                rc = ac_refiner_fix_label(f, k, lab[k]);
    }
    ac__mem_free(&p->mem, lab);
    return rc;
}

/* Authors and texts of the agents' messages, in the refiner's numbering.
 * A message without text is never an exact repeat: it gets a text of its
 * own that no real one can equal (a NUL, then its position; real texts
 * hold no NUL), passed with its length. */
static int refiner_inputs(ac_pipeline *p, ac_refiner *f)
{
    uint32_t K = p->run.n_agent_msg;
    uint32_t *author = agent_authors(p);
    const char **text = ac__mem_alloc(&p->mem, K, sizeof *text);
    uint64_t *len = ac__mem_alloc(&p->mem, K, sizeof *len);
    char (*none)[16] = ac__mem_alloc(&p->mem, K, sizeof *none);
    int rc = author && text && len && none ? AC_OK : AC_E_NO_MEMORY;
    for (uint32_t k = 0; rc == AC_OK && k < K; k++) {
        const char *t = p->run.ep->msg[p->run.agent_msg[k]].text;
        if (t == NULL) {
            none[k][0] = '\0';
            len[k] = 1 + (uint64_t)snprintf(none[k] + 1, sizeof none[k] - 1,
                                            "%u", k);
            t = none[k];
        } else {
            len[k] = strlen(t);
        }
        text[k] = t;
    }
    if (rc == AC_OK) rc = ac_refiner_set_authors(f, author, K);
    if (rc == AC_OK)
        rc = ac_refiner_set_credits(f, p->res.phi, p->res.n_agents);
    if (rc == AC_OK) rc = ac_refiner_set_texts(f, text, len, K);
    ac__mem_free(&p->mem, author);
    ac__mem_free(&p->mem, (void *)text);
    ac__mem_free(&p->mem, len);
    ac__mem_free(&p->mem, none);
    return rc;
}

int ac__stage_rewards_begin(ac_pipeline *p)
{
    ac__run *r = &p->run;
    int rc = ac_refiner_create(&r->ref, p->res.n_agents, r->n_agent_msg,
                               ac__pipeline_object_alloc(p));
    if (rc != AC_OK)
        return ac__stage_failed(p, rc, "rewards", "");
    rc = ac__pipeline_apply_params(p, AC__OWNER_REFINER, r->ref);
    if (rc == AC_OK) rc = refiner_inputs(p, r->ref);
    if (rc == AC_OK) rc = give_labels(p, r->ref);
    if (rc != AC_OK)
        rc = ac__stage_failed(p, rc, "rewards", ac_refiner_last_error(r->ref));
    return rc;
}

/* The refiner's results, moved to transcript positions. */
static int scatter_refined(ac_pipeline *p, ac_refiner *f)
{
    ac__result *r = &p->res;
    uint32_t K = p->run.n_agent_msg;
    double *reward = ac__mem_alloc(&p->mem, K, sizeof *reward);
    double *label = ac__mem_alloc(&p->mem, K, sizeof *label);
    uint32_t *flags = ac__mem_alloc(&p->mem, K, sizeof *flags);
    int rc = reward && label && flags ? AC_OK : AC_E_NO_MEMORY;
    if (rc == AC_OK) rc = ac_refiner_rewards(f, reward, K);
    if (rc == AC_OK) rc = ac_refiner_labels(f, label, K);
    if (rc == AC_OK) rc = ac_refiner_message_flags(f, flags, K);
    if (rc == AC_OK)
        rc = ac_refiner_agent_flags(f, r->agent_flags, r->n_agents);
    for (uint32_t k = 0; rc == AC_OK && k < K; k++) {
        uint32_t t = p->run.agent_msg[k];
        r->reward[t] = reward[k];
        r->label[t] = label[k];
        r->msg_flags[t] = flags[k];
    }
    ac__mem_free(&p->mem, reward);
    ac__mem_free(&p->mem, label);
    ac__mem_free(&p->mem, flags);
    return rc;
}

int ac__stage_rewards_end(ac_pipeline *p)
{
    ac__result *r = &p->res;
    ac_refiner *f = p->run.ref;
    int rc = scatter_refined(p, f);
    if (rc == AC_OK)
        rc = ac_refiner_audit(f, AC_REFINER_AUDIT_EVALUATIONS,
                              &r->audit[AC_PIPELINE_AUDIT_SCORER_EVALUATIONS]);
    if (rc == AC_OK)
        rc = ac_refiner_audit(f, AC_REFINER_AUDIT_RELAXED_AGENTS,
                              &r->audit[AC_PIPELINE_AUDIT_RELAXED_AGENTS]);
    if (rc != AC_OK)
        rc = ac__stage_failed(p, rc, "rewards", ac_refiner_last_error(f));
    ac_refiner_free(f);
    p->run.ref = NULL;
    return rc;
}
