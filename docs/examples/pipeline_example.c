/* docs/signals.md, "Episodes and the pipeline": one failed episode of a
 * three-agent team with a tool and a user, every signal from one call.
 *
 * The team's oracle is a table (the outcome with only the agents of S
 * acting, the others replaced by a pass-through); the hidden check run on
 * each prefix is the verifier; the repair callback proposes two
 * replacements of the first error. The group's other episodes of this task
 * succeeded 40% of the time: that is the reference the failure is judged
 * against. Then the same run as work a host serves elsewhere (a queue, a
 * cluster): one ask/tell loop, each piece answered by the same functions,
 * gives the same signals. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcredit.h"

static const char *const NAMES[] = {"planner", "coder", "critic", "pytest",
                                    "user"};
static const int KINDS[] = {AC_PARTICIPANT_KIND_AGENT,
                            AC_PARTICIPANT_KIND_AGENT,
                            AC_PARTICIPANT_KIND_AGENT,
                            AC_PARTICIPANT_KIND_TOOL,
                            AC_PARTICIPANT_KIND_USER};
enum { N_PARTICIPANTS = 5, N_AGENTS = 3, N_MESSAGES = 9 };

static const struct {
    unsigned who;
    int on_track; /* the hidden check on messages 0..t */
    const char *text;
} SCRIPT[N_MESSAGES] = {
    {4, 1, "Sum the amounts per key."},
    {0, 1, "Plan: group by key, then sum."},
    {1, 1, "def totals(rows): ..."},
    {3, 1, "tests: 3 passed"},
    {2, 0, "Cast amounts to int, it is faster."},
    {1, 0, "Applied the cast."},
    {3, 0, "tests: 1 failed"},
    {2, 1, "Revert the cast: amounts stay Decimal."},
    {0, 0, "Final: totals(), cast kept in the report."},
};

/* v(S): the success rate of the team with only S acting (bit a: agent a). */
static const double TEAM[8] = {0.0, 0.10, 0.15, 0.30, 0.05, 0.20, 0.25, 0.0};

static int oracle(void *user, const uint64_t *coalitions, uint32_t words,
                  uint32_t count, double *values, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        values[k] = TEAM[coalitions[(size_t)k * words]];
    return 0;
}

static int verifier(void *user, const uint32_t *prefixes, uint32_t count,
                    double *p_on_track, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p_on_track[k] = SCRIPT[prefixes[k]].on_track;
    return 0;
}

static int propose(void *user, uint32_t step, uint32_t max_count,
                   uint64_t *ids, uint32_t *count)
{
    (void)user;
    (void)step;
    *count = max_count < 2 ? max_count : 2;
    for (uint32_t k = 0; k < *count; k++)
        ids[k] = k;
    return 0;
}

static int check(void *user, uint32_t step, const uint64_t *ids,
                 uint32_t count, double *p_on_track, int32_t *status)
{
    (void)user;
    (void)step;
    (void)status;
    for (uint32_t k = 0; k < count; k++) /* candidate 1 passes the check */
        p_on_track[k] = ids[k] == 1 ? 0.95 : 0.0;
    return 0;
}

static int build(ac_episode *ep)
{
    int rc = AC_OK;
    for (int i = 0; rc == AC_OK && i < N_PARTICIPANTS; i++)
        rc = ac_episode_add_participant(ep, NAMES[i], KINDS[i], NULL);
    for (int t = 0; rc == AC_OK && t < N_MESSAGES; t++)
        rc = ac_episode_add_message(ep, SCRIPT[t].who, NULL, SCRIPT[t].text,
                                    NULL);
    if (rc == AC_OK) rc = ac_episode_set_outcome(ep, 0.0);   /* it failed */
    if (rc == AC_OK) rc = ac_episode_set_reference(ep, 0.4); /* the group */
    if (rc == AC_OK) rc = ac_episode_set_baseline(ep, 0.0);  /* v(empty) */
    return rc;
}

static void print(const ac_pipeline *p)
{
    double phi[N_AGENTS], reward[N_MESSAGES], label[N_MESSAGES];
    double total, reference, prob;
    int64_t step;
    uint32_t agent;
    ac_preference_pair pair = {sizeof pair, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                               0, 0, 0};
    if (ac_pipeline_credits(p, phi, NULL, N_AGENTS) != AC_OK ||
        ac_pipeline_total(p, &total, &reference) != AC_OK ||
        ac_pipeline_rewards(p, reward, N_MESSAGES) != AC_OK ||
        ac_pipeline_labels(p, label, N_MESSAGES) != AC_OK ||
        ac_pipeline_first_error(p, &step, &agent, &prob) != AC_OK ||
        ac_pipeline_pair(p, &pair) != AC_OK)
        return;
    printf("R - reference = %+.4f (reference %.2f)\n", total, reference);
    for (int a = 0; a < N_AGENTS; a++)
        printf("  credit %-8s %+.4f\n", NAMES[a], phi[a]);
    printf("first error: message %lld by %s (probability %.2f)\n",
           (long long)step, NAMES[agent], prob);
    printf("%-4s %-8s %6s %8s  %s\n", "t", "who", "label", "reward",
           "message");
    for (int t = 0; t < N_MESSAGES; t++) {
        char lab[16] = "-";
        if (!isnan(label[t]))
            snprintf(lab, sizeof lab, "%+.2f", label[t]);
        printf("%-4d %-8s %6s %+8.4f  %s\n", t, NAMES[SCRIPT[t].who], lab,
               reward[t], SCRIPT[t].text);
    }
    if (pair.kind == AC_PAIR_KIND_REPAIR)
        printf("pair: prompt messages 0..%u, rejected message %u, chosen "
               "candidate %llu (confidence %.2f, weight %.2f)\n",
               pair.prompt_end - 1, pair.step,
               (unsigned long long)pair.chosen, pair.confidence, pair.weight);
}

/* The run as work: ask hands out pieces of one kind at a time (the
 * coalitions, then the prefixes, the repair, the candidate checks), the
 * host answers them however it likes (here: at once, in order) and tells
 * them back by ticket, until an ask hands out nothing. */
static int serve(ac_pipeline *p, const ac_episode *ep, int *asks,
                 int *pieces)
{
    enum { ROOM = 64 };
    ac_work work[ROOM];
    uint64_t coalitions[ROOM], tickets[ROOM];
    double answers[ROOM];
    uint32_t n = 0;
    int rc = ac_pipeline_start(p, ep, AC_SERVES_VERIFIER | AC_SERVES_REPAIR);
    while (rc == AC_OK &&
           (rc = ac_pipeline_ask(p, ROOM, work, coalitions, 1, &n)) ==
               AC_OK &&
           n > 0) {
        uint32_t told = 0;
        ++*asks;
        *pieces += (int)n;
        for (uint32_t k = 0; rc == AC_OK && k < n; k++) {
            const ac_work *w = &work[k];
            int32_t status = 0;
            double *a = &answers[told];
            if (w->kind == AC_WORK_KIND_REPAIR) {
                uint64_t ids[8];
                uint32_t count = 0;
                propose(NULL, w->message, w->max_count < 8 ? w->max_count : 8,
                        ids, &count);
                rc = ac_pipeline_tell_repair(p, w->ticket, ids, count);
                continue;
            }
            if (w->kind == AC_WORK_KIND_VALUE)
                oracle(NULL, &coalitions[k], 1, 1, a, &status);
            else if (w->kind == AC_WORK_KIND_PREFIX)
                verifier(NULL, &w->message, 1, a, &status);
            else /* AC_WORK_KIND_CHECK */
                check(NULL, w->message, &w->candidate, 1, a, &status);
            tickets[told++] = w->ticket;
        }
        if (rc == AC_OK && told > 0)
            rc = ac_pipeline_tell(p, told, tickets, answers, NULL);
    }
    return rc;
}

/* The signals line of the last run (malloc'd), or NULL. */
static char *signals_json(const ac_pipeline *p, const ac_episode *ep)
{
    size_t len = 0;
    char *text = NULL;
    if (ac_pipeline_write_json(p, ep, NULL, 0, &len) == AC_OK &&
        (text = malloc(len + 1)) != NULL &&
        ac_pipeline_write_json(p, ep, text, len + 1, &len) != AC_OK) {
        free(text);
        text = NULL;
    }
    return text;
}

int main(void)
{
    ac_episode *ep = NULL;
    ac_pipeline *p = NULL;
    int rc = ac_episode_create(&ep, NULL);
    if (rc == AC_OK) rc = build(ep);
    if (rc == AC_OK) rc = ac_pipeline_create(&p, NULL);
    /* a later message can repair an earlier one: scan, do not bisect */
    if (rc == AC_OK) rc = ac_pipeline_set_int(p, AC_LOCALIZER_PARAM_MONOTONE, 0);
    if (rc == AC_OK) rc = ac_pipeline_set_f64(p, AC_REFINER_PARAM_BOUND, 0.5);
    if (rc == AC_OK) rc = ac_pipeline_set_oracle(p, oracle, NULL);
    if (rc == AC_OK) rc = ac_pipeline_set_verifier(p, verifier, NULL);
    if (rc == AC_OK) rc = ac_pipeline_set_repair(p, propose, check, NULL);
    if (rc == AC_OK) rc = ac_pipeline_run(p, ep);
    char *one_call = rc == AC_OK ? signals_json(p, ep) : NULL;
    int asks = 0, pieces = 0;
    if (rc == AC_OK)
        print(p);
    if (rc == AC_OK)
        rc = serve(p, ep, &asks, &pieces);
    char *served = rc == AC_OK ? signals_json(p, ep) : NULL;
    if (rc == AC_OK)
        printf("ask/tell: %d pieces of work in %d asks, %s signals\n",
               pieces, asks,
               one_call && served && strcmp(one_call, served) == 0
                   ? "the same"
                   : "OTHER");
    else
        fprintf(stderr, "pipeline: %s: %s\n", ac_strerror(rc),
                p ? ac_pipeline_last_error(p) : ac_episode_last_error(ep));
    free(one_call);
    free(served);
    ac_pipeline_free(p);
    ac_episode_free(ep);
    return rc == AC_OK ? 0 : 1;
}
