/* SPDX-License-Identifier: MIT
 * agentcredit demo, second part: a failed episode of the same team.
 *
 * One call of the pipeline (ac_pipeline_run) on the episode: the team
 * game's credits, moved to add up to R - reference (the episode failed:
 * R = 0 against the threshold 0.5); the hidden test suite, run on a prefix
 * of the transcript, as the verifier (exact, but not monotone, since a
 * later message can repair an earlier one: the localizer scans for the
 * first rejected prefix, then judges the rest to find the corrective
 * messages); blame labels; rewards that add up to each credit; and, from
 * the repair callback's candidates, the verified one as a preference
 * pair. With --json, the run's signals as one JSON line instead. */
#include "cli.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#define FAIL_AGENTS CLI_DEMO_AGENTS
#define FAIL_MESSAGES 9
/* The host's id for this episode (the preference pair carries it): the
 * demo's second episode, after the successful one. */
#define FAIL_EPISODE 2

static const struct fail_message {
    uint32_t agent;
    int on_track; /* does the hidden suite pass on messages 0..t? */
    const char *text;
} episode[FAIL_MESSAGES] = {
    {0, 1, "Plan: group rows by key, sum the amounts."},
    {0, 1, "Code: totals() sums Decimal amounts per key."},
    {1, 1, "Review: add a test with a decimal amount."},
    {3, 0, "Patch: cast amounts to int, it is faster."},
    {0, 0, "Refactor: totals() into two helpers."},
    {1, 1, "Revert the int cast: amounts stay Decimal."},
    {2, 1, "Review: looks right to me."},
    {3, 0, "Delete the failing decimal test."},
    {0, 0, "Final answer: totals() and its tests."},
};

/* Candidate replacements of the first error, by host id. */
static const struct candidate {
    int on_track;
    const char *text;
} candidates[] = {
    {0, "Patch: round amounts to whole cents as floats."},
    {1, "Patch: sum with math.fsum over Decimal, no cast."},
};
#define FAIL_CANDIDATES 2

static int suite_on_prefix(void *user, const uint32_t *prefixes,
                           uint32_t count, double *p_on_track,
                           int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p_on_track[k] = episode[prefixes[k]].on_track;
    return 0;
}

static int propose(void *user, uint32_t step, uint32_t max_count,
                   uint64_t *ids, uint32_t *count)
{
    (void)user;
    (void)step;
    *count = max_count < FAIL_CANDIDATES ? max_count : FAIL_CANDIDATES;
    for (uint32_t k = 0; k < *count; k++)
        ids[k] = k;
    return 0;
}

static int suite_on_candidate(void *user, uint32_t step, const uint64_t *ids,
                              uint32_t count, double *p_on_track,
                              int32_t *status)
{
    (void)user;
    (void)step;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p_on_track[k] = candidates[ids[k]].on_track;
    return 0;
}

static const char *flag_name(uint32_t f)
{
    return (f & AC_STEP_FLAG_FIRST_ERROR)  ? "FIRST ERROR"
           : (f & AC_STEP_FLAG_CORRECTIVE) ? "corrective"
           : (f & AC_STEP_FLAG_PROPAGATES) ? "propagates"
           : (f & AC_STEP_FLAG_RECOVERED)  ? "recovered"
                                      : "before";
}

/* The episode: the team's four agents, the transcript, the outcome (a
 * failure), and every coalition's noise-free value as known (the game the
 * demo's first part estimates from rollouts). */
static int build_episode(ac_episode *ep)
{
    int rc = ac_episode_set_id(ep, "demo-failure");
    for (uint32_t a = 0; rc == AC_OK && a < FAIL_AGENTS; a++)
        rc = ac_episode_add_participant(ep, cli_demo_role[a],
                                        AC_PARTICIPANT_KIND_AGENT, NULL);
    for (int t = 0; rc == AC_OK && t < FAIL_MESSAGES; t++)
        rc = ac_episode_add_message(ep, episode[t].agent, "assistant",
                                    episode[t].text, NULL);
    if (rc == AC_OK) rc = ac_episode_set_outcome(ep, 0.0);
    if (rc == AC_OK) rc = ac_episode_set_baseline(ep, cli_demo_value(0));
    uint64_t all = ((uint64_t)1 << FAIL_AGENTS) - 1;
    for (uint64_t s = 1; rc == AC_OK && s < all; s++)
        rc = ac_episode_set_value(ep, &s, 1, cli_demo_value(s));
    if (rc != AC_OK)
        cli_error("the failed episode: %s", ac_episode_last_error(ep));
    return rc;
}

static int run_pipeline(ac_pipeline *p, const ac_episode *ep)
{
    int rc = ac_pipeline_set_int(p, AC_LOCALIZER_PARAM_MONOTONE, 0);
    if (rc == AC_OK) rc = ac_pipeline_set_f64(p, AC_REFINER_PARAM_BOUND, 0.5);
    if (rc == AC_OK) rc = ac_pipeline_set_int(p, AC_PIPELINE_PARAM_EPISODE_ID,
                                              FAIL_EPISODE);
    if (rc == AC_OK) rc = ac_pipeline_set_verifier(p, suite_on_prefix, NULL);
    if (rc == AC_OK) rc = ac_pipeline_set_repair(p, propose,
                                                 suite_on_candidate, NULL);
    if (rc == AC_OK) rc = ac_pipeline_run(p, ep);
    if (rc != AC_OK)
        cli_error("the pipeline failed: %s: %s", ac_strerror(rc),
                  ac_pipeline_last_error(p));
    return rc;
}

static void print_pair(const ac_preference_pair *pair)
{
    printf("\nRepair-aware preference pair (for DPO-style training):\n");
    if (pair->kind == AC_PAIR_KIND_NONE) {
        printf("  none: %s\n", pair->reason == AC_PAIR_REASON_NOT_VERIFIED
                                   ? "no candidate repair was verified"
                                   : "no candidate and no corrective message");
        return;
    }
    printf("  prompt:   messages 0..%u (the transcript the %s saw)\n",
           pair->prompt_end - 1, cli_demo_role[pair->agent]);
    printf("  rejected: message %u: \"%s\"\n", pair->step,
           episode[pair->step].text);
    if (pair->kind == AC_PAIR_KIND_REPAIR)
        printf("  chosen:   candidate %" PRIu64 ": \"%s\" (verified: the "
               "suite passes)\n", pair->chosen, candidates[pair->chosen].text);
    else
        printf("  chosen:   later corrective message %" PRIu64 ": \"%s\"\n",
               pair->chosen, episode[pair->chosen].text);
    printf("  candidates %u, verified %u, confidence %.2f, weight %.2f\n",
           pair->candidates, pair->verified, pair->confidence, pair->weight);
}

/* Every figure of the run, in the arrays below; AC_OK or the getter's
 * status. */
struct failure_signals {
    uint32_t flags[FAIL_MESSAGES];
    double labels[FAIL_MESSAGES], reward[FAIL_MESSAGES], phi[FAIL_AGENTS];
    double total, reference, prob;
    int64_t step, calls;
    uint32_t agent;
    ac_preference_pair pair;
};

static int read_signals(const ac_pipeline *p, struct failure_signals *f)
{
    memset(f, 0, sizeof *f);
    f->pair.struct_size = sizeof f->pair;
    int rc = ac_pipeline_first_error(p, &f->step, &f->agent, &f->prob);
    if (rc == AC_OK) rc = ac_pipeline_step_flags(p, f->flags, FAIL_MESSAGES);
    if (rc == AC_OK) rc = ac_pipeline_labels(p, f->labels, FAIL_MESSAGES);
    if (rc == AC_OK) rc = ac_pipeline_rewards(p, f->reward, FAIL_MESSAGES);
    if (rc == AC_OK) rc = ac_pipeline_credits(p, f->phi, NULL, FAIL_AGENTS);
    if (rc == AC_OK) rc = ac_pipeline_total(p, &f->total, &f->reference);
    if (rc == AC_OK) rc = ac_pipeline_pair(p, &f->pair);
    if (rc == AC_OK)
        rc = ac_pipeline_audit(p, AC_PIPELINE_AUDIT_VERIFIER_EVALUATIONS,
                               &f->calls);
    return rc;
}

static int print_failure(const struct failure_signals *f)
{
    printf("\nA failed episode: who is to blame (docs/localizer.md)\n\n");
    printf("The same team failed another task: the hidden suite fails on the "
           "final answer. The\n"
           "suite, run on each prefix, is the verifier; a later message can "
           "repair an earlier\n"
           "one, so the localizer scans for the first rejected prefix, then "
           "judges the rest.\n"
           "One call of the pipeline (docs/signals.md, section 10) gives "
           "every signal below.\n\n");
    printf("first error: message %" PRId64 " by agent %u (%s), probability "
           "%.2f; %" PRId64 " verifier calls to find it and judge the rest\n\n",
           f->step, f->agent, cli_demo_role[f->agent], f->prob, f->calls);
    printf("%-4s %-10s %-12s %6s %9s  %s\n", "step", "role", "localizer",
           "label", "reward", "message");
    for (int t = 0; t < FAIL_MESSAGES; t++)
        printf("%-4d %-10s %-12s %+6.2f %+9.4f  %s\n", t,
               cli_demo_role[episode[t].agent], flag_name(f->flags[t]),
               f->labels[t], f->reward[t], episode[t].text);
    printf("\nPer agent (credit from the team game, moved to add up to "
           "R - reference = %+.2f: the\n"
           "failure is judged against the success threshold), rewards add "
           "up to it:\n", f->total);
    int ok = 1;
    for (uint32_t a = 0; a < FAIL_AGENTS; a++) {
        double sum = 0.0;
        for (int t = 0; t < FAIL_MESSAGES; t++)
            sum += episode[t].agent == a ? f->reward[t] : 0.0;
        ok &= fabs(sum - f->phi[a]) <= 1e-12 * fmax(1.0, fabs(f->phi[a]));
        printf("  %-10s credit %+.6f  sum of rewards %+.6f\n",
               cli_demo_role[a], f->phi[a], sum);
    }
    print_pair(&f->pair);
    printf("\nReading: the saboteur's cast is the first error and carries the "
           "strongest blame;\n"
           "the helper's revert repaired the run and is rewarded; the "
           "messages that carried\n"
           "the error forward get a milder blame label. The pair teaches "
           "the saboteur's role\n"
           "the verified fix.\n");
    if (!ok)
        cli_error("the failure rewards do not add up to the credits");
    return ok ? CLI_OK : CLI_FAILED;
}

int cli_demo_failure(int json)
{
    ac_episode *ep = NULL;
    ac_pipeline *p = NULL;
    struct failure_signals f;
    int rc = ac_episode_create(&ep, NULL);
    if (rc == AC_OK) rc = build_episode(ep);
    if (rc == AC_OK) rc = ac_pipeline_create(&p, NULL);
    if (rc == AC_OK) rc = run_pipeline(p, ep);
    if (rc == AC_OK) rc = read_signals(p, &f);
    if (rc == AC_OK && f.step < 0)
        rc = AC_E_STATE;
    if (rc == AC_OK && json) {
        rc = cli_print_signals(p, ep);
        ac_pipeline_free(p);
        ac_episode_free(ep);
        return rc == AC_OK ? CLI_OK : CLI_FAILED;
    }
    ac_pipeline_free(p);
    ac_episode_free(ep);
    if (rc != AC_OK)
        return CLI_FAILED;
    return print_failure(&f);
}
