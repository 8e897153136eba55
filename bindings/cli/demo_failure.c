/* SPDX-License-Identifier: MIT
 * agentcredit demo, second part: a failed episode of the same team.
 *
 * The hidden test suite, run on a prefix of the transcript, is the verifier:
 * exact, but not monotone, since a later message can repair an earlier one.
 * The localizer scans for the first rejected prefix (AC_LOCALIZER_PARAM_MONOTONE 0),
 * then judges the rest to find the corrective messages. The localization
 * becomes blame labels, the refiner turns them and the agents' credit for
 * this episode into message rewards that add up to the credit, and a
 * repair callback proposes replacements for the first error, from which the
 * verified one makes a preference pair. */
#include "cli.h"

#include <inttypes.h>
#include <math.h>

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

static int localize(ac_localizer *loc, const uint32_t *author)
{
    int rc = ac_localizer_set_int(loc, AC_LOCALIZER_PARAM_MONOTONE, 0);
    if (rc == AC_OK) rc = ac_localizer_set_authors(loc, author, FAIL_MESSAGES);
    if (rc == AC_OK) rc = ac_localizer_set_verifier(loc, suite_on_prefix, NULL);
    if (rc == AC_OK) rc = ac_localizer_set_repair(loc, propose, suite_on_candidate, NULL);
    if (rc == AC_OK) rc = ac_localizer_run(loc);
    return rc;
}

static int blame(const double phi[FAIL_AGENTS], const uint32_t *author,
                 const double *labels, double *reward)
{
    ac_refiner *ref = NULL;
    int rc = ac_refiner_create(&ref, FAIL_AGENTS, FAIL_MESSAGES, NULL);
    if (rc == AC_OK) rc = ac_refiner_set_f64(ref, AC_REFINER_PARAM_BOUND, 0.5);
    if (rc == AC_OK) rc = ac_refiner_set_authors(ref, author, FAIL_MESSAGES);
    if (rc == AC_OK) rc = ac_refiner_set_credits(ref, phi, FAIL_AGENTS);
    if (rc == AC_OK) rc = ac_refiner_set_labels(ref, labels, FAIL_MESSAGES);
    if (rc == AC_OK) rc = ac_refiner_run(ref);
    if (rc == AC_OK) rc = ac_refiner_rewards(ref, reward, FAIL_MESSAGES);
    if (rc != AC_OK)
        cli_error("the refiner failed: %s: %s", ac_strerror(rc),
                  ref ? ac_refiner_last_error(ref) : "");
    ac_refiner_free(ref);
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

int cli_demo_failure(void)
{
    uint32_t author[FAIL_MESSAGES], flags[FAIL_MESSAGES];
    double labels[FAIL_MESSAGES], reward[FAIL_MESSAGES], phi[FAIL_AGENTS];
    for (int t = 0; t < FAIL_MESSAGES; t++)
        author[t] = episode[t].agent;
    ac_localizer *loc = NULL;
    ac_preference_pair pair = {sizeof pair, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    int64_t step = -1, calls = 0, scan = 0;
    uint32_t agent = 0;
    double prob = 0.0;
    int rc = ac_localizer_create(&loc, FAIL_MESSAGES, NULL);
    if (rc == AC_OK) rc = localize(loc, author);
    if (rc == AC_OK) rc = ac_localizer_result(loc, &step, &agent, &prob);
    if (rc == AC_OK) rc = ac_localizer_step_flags(loc, flags, FAIL_MESSAGES);
    if (rc == AC_OK) rc = ac_localizer_blame_labels(loc, labels, FAIL_MESSAGES);
    if (rc == AC_OK) rc = ac_localizer_audit(loc, AC_LOCALIZER_AUDIT_SEARCH_EVALUATIONS, &calls);
    if (rc == AC_OK) rc = ac_localizer_audit(loc, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS, &scan);
    if (rc == AC_OK) rc = ac_localizer_make_pair(loc, FAIL_EPISODE, &pair);
    if (rc != AC_OK) {
        cli_error("the localizer failed: %s: %s", ac_strerror(rc),
                  loc ? ac_localizer_last_error(loc) : "");
        ac_localizer_free(loc);
        return CLI_FAILED;
    }
    ac_localizer_free(loc);
    if (step < 0 || cli_demo_credit(0.0, phi) != AC_OK ||
        blame(phi, author, labels, reward) != AC_OK)
        return CLI_FAILED;

    printf("\nA failed episode: who is to blame (docs/localizer.md)\n\n");
    printf("The same team failed another task: the hidden suite fails on the "
           "final answer. The\n"
           "suite, run on each prefix, is the verifier; a later message can "
           "repair an earlier\n"
           "one, so the localizer scans for the first rejected prefix, then "
           "judges the rest.\n\n");
    printf("first error: message %" PRId64 " by agent %u (%s), probability "
           "%.2f; %" PRId64 " verifier calls to find it, %" PRId64
           " to judge the rest\n\n", step, agent, cli_demo_role[agent], prob,
           calls, scan);
    printf("%-4s %-10s %-12s %6s %9s  %s\n", "step", "role", "localizer",
           "label", "reward", "message");
    for (int t = 0; t < FAIL_MESSAGES; t++)
        printf("%-4d %-10s %-12s %+6.2f %+9.4f  %s\n", t,
               cli_demo_role[author[t]], flag_name(flags[t]), labels[t],
               reward[t], episode[t].text);
    printf("\nPer agent (credit from the team game with the observed v(all) "
           "= 0), rewards add up to it:\n");
    int ok = 1;
    for (uint32_t a = 0; a < FAIL_AGENTS; a++) {
        double sum = 0.0;
        for (int t = 0; t < FAIL_MESSAGES; t++)
            sum += author[t] == a ? reward[t] : 0.0;
        ok &= fabs(sum - phi[a]) <= 1e-12 * fmax(1.0, fabs(phi[a]));
        printf("  %-10s credit %+.6f  sum of rewards %+.6f\n", cli_demo_role[a],
               phi[a], sum);
    }
    print_pair(&pair);
    printf("\nReading: the saboteur's cast is the first error and carries the "
           "strongest blame;\n"
           "the helper's revert repaired the run and is rewarded; the "
           "messages that carried\n"
           "the error forward get a milder blame label. The pair teaches "
           "the saboteur's role\n"
           "the verified fix.\n");
    if (!ok) {
        cli_error("the failure rewards do not add up to the credits");
        return CLI_FAILED;
    }
    return CLI_OK;
}
