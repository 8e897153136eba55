/* The failure path through ask/tell: a judge at temperature 0 (the same
 * answer whenever it sees the same prefix, right 85% of the time) judges
 * the prefixes a host hands it in batches of 3, as a cluster would. The
 * localizer never asks a prefix twice and reports a calibrated probability;
 * its blame labels, with the agents' credit, become message rewards that
 * add up to the credit; a repair callback yields the preference pair.
 *
 * The episode: 12 messages by 3 agents; message 7 (agent 1) broke it. */
#include <agentcredit.h>

#include <math.h>
#include <stdio.h>

#define T 12
#define AGENTS 3
#define ERROR_AT 7

/* The judge: on track before the error, off from it; a fixed set of
 * prefixes it gets wrong, the same every time (temperature 0). */
static double judge(uint32_t prefix)
{
    static const int wrong[T] = {0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    int on = prefix < ERROR_AT;
    return (wrong[prefix] ? !on : on) ? 1.0 : 0.0;
}

/* Two candidate fixes for the erring message; the second one passes. */
static int propose(void *user, uint32_t step, uint32_t max_count,
                   uint64_t *ids, uint32_t *count)
{
    (void)user; (void)step;
    *count = max_count < 2 ? max_count : 2;
    for (uint32_t k = 0; k < *count; k++)
        ids[k] = 100 + k;
    return 0;
}

static int check(void *user, uint32_t step, const uint64_t *ids,
                 uint32_t count, double *p_on_track, int32_t *status)
{
    (void)user; (void)step; (void)status;
    for (uint32_t k = 0; k < count; k++)
        p_on_track[k] = ids[k] == 101 ? 0.9 : 0.2;
    return 0;
}

static int fail(const char *what, int rc, const char *detail)
{
    fprintf(stderr, "%s: %s (%s)\n", what, ac_strerror(rc), detail);
    return 1;
}

int main(void)
{
    const uint32_t author[T] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2};
    const double credit[AGENTS] = {0.10, -0.35, 0.05}; /* a failed episode */
    ac_localizer *loc;
    int rc = ac_localizer_create(&loc, T, NULL);
    if (rc != AC_OK)
        return fail("create", rc, "");
    if ((rc = ac_localizer_set_int(loc, AC_LOCALIZER_PARAM_NOISE,
                                   AC_NOISE_REPEATABLE)) != AC_OK ||
        (rc = ac_localizer_set_f64(loc, AC_LOCALIZER_PARAM_ACCURACY, 0.85)) !=
            AC_OK ||
        (rc = ac_localizer_set_int(loc, AC_LOCALIZER_PARAM_BATCH, 3)) != AC_OK ||
        (rc = ac_localizer_set_authors(loc, author, T)) != AC_OK ||
        (rc = ac_localizer_set_repair(loc, propose, check, NULL)) != AC_OK)
        return fail("setup", rc, ac_localizer_last_error(loc));

    /* The host's loop: ask for a batch of tickets, each with a prefix to
     * judge; judge them (anywhere, any order) and tell the answers back by
     * ticket. */
    uint64_t tickets[3];
    uint32_t prefixes[3], count, asked_twice = 0, seen[T] = {0};
    double answers[3];
    for (;;) {
        if ((rc = ac_localizer_ask(loc, 3, tickets, prefixes, &count)) !=
            AC_OK)
            return fail("ask", rc, ac_localizer_last_error(loc));
        if (count == 0)
            break;
        for (uint32_t k = 0; k < count; k++) {
            asked_twice += seen[prefixes[k]]++ > 0;
            answers[k] = judge(prefixes[k]);
        }
        if ((rc = ac_localizer_tell(loc, count, tickets, answers, NULL)) !=
            AC_OK)
            return fail("tell", rc, ac_localizer_last_error(loc));
    }
    /* count 0 also means "waiting for outstanding tells"; this loop tells
     * every ticket before it asks again, so here the run is done. */
    int32_t done = 0;
    if ((rc = ac_localizer_progress(loc, &done, NULL)) != AC_OK)
        return fail("progress", rc, ac_localizer_last_error(loc));
    if (!done)
        return fail("progress", AC_E_STATE, "the run is not done");

    int64_t step, calls, rounds;
    uint32_t agent;
    double prob, near, labels[T], rewards[T];
    if ((rc = ac_localizer_result(loc, &step, &agent, &prob)) != AC_OK ||
        (rc = ac_localizer_probability_within(loc, 1, &near)) != AC_OK ||
        (rc = ac_localizer_audit(loc, AC_LOCALIZER_AUDIT_EVALUATIONS,
                                 &calls)) != AC_OK ||
        (rc = ac_localizer_audit(loc, AC_LOCALIZER_AUDIT_ROUNDS, &rounds)) !=
            AC_OK ||
        (rc = ac_localizer_blame_labels(loc, labels, T)) != AC_OK)
        return fail("result", rc, ac_localizer_last_error(loc));
    ac_preference_pair pair = {.struct_size = sizeof pair};
    if ((rc = ac_localizer_make_pair(loc, 42, &pair)) != AC_OK)
        return fail("pair", rc, ac_localizer_last_error(loc));
    ac_localizer_free(loc);
    printf("first error: message %lld by agent %u, probability %.3f "
           "(within one step %.3f)\n", (long long)step, agent, prob, near);
    printf("verifier: %lld prefixes in %lld rounds, none asked twice: %s\n",
           (long long)calls, (long long)rounds, asked_twice ? "no" : "yes");

    ac_refiner *ref;
    if ((rc = ac_refiner_create(&ref, AGENTS, T, NULL)) != AC_OK)
        return fail("refiner", rc, "");
    if ((rc = ac_refiner_set_f64(ref, AC_REFINER_PARAM_BOUND, 0.25)) == AC_OK &&
        (rc = ac_refiner_set_authors(ref, author, T)) == AC_OK &&
        (rc = ac_refiner_set_credits(ref, credit, AGENTS)) == AC_OK &&
        (rc = ac_refiner_set_labels(ref, labels, T)) == AC_OK)
        rc = ac_refiner_run(ref); /* every label given: no scorer asked */
    if (rc == AC_OK)
        rc = ac_refiner_rewards(ref, rewards, T);
    if (rc != AC_OK)
        return fail("refine", rc, ac_refiner_last_error(ref));
    ac_refiner_free(ref);
    for (uint32_t t = 0; t < T; t++)
        printf("message %2u (agent %u): blame label %+.3f reward %+.4f\n", t,
               author[t], labels[t], rewards[t]);
    for (uint32_t a = 0; a < AGENTS; a++) {
        double sum = 0.0;
        for (uint32_t t = 0; t < T; t++)
            sum += author[t] == a ? rewards[t] : 0.0;
        printf("agent %u: credit %+.2f, rewards add up to %+.4f\n", a,
               credit[a], sum);
        if (fabs(sum - credit[a]) > 1e-12)
            return 1;
    }
    printf("pair: episode %llu, rejected message %u, chosen candidate %llu, "
           "prompt messages 0..%u, weight %.3f\n",
           (unsigned long long)pair.episode, pair.step,
           (unsigned long long)pair.chosen, pair.prompt_end - 1, pair.weight);
    return pair.kind == AC_PAIR_KIND_REPAIR && !asked_twice ? 0 : 1;
}
