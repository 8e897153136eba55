/* The ask/tell loop: the host owns the evaluation. It asks the estimator for
 * batches of coalitions, evaluates them however it likes (here: two batches
 * in flight at once, as a cluster would run them, finishing out of order)
 * and tells the values back by ticket, in any order.
 *
 * The game: 8 agents; agent 0 carries the task, agents 1 and 2 help only
 * together, agent 7 sabotages: v(S) = 0.5[0] + 0.3[1 and 2] - 0.2[7] + 0.05|S|.
 * Its Shapley values are known: (0.55, 0.2, 0.2, 0.05, 0.05, 0.05, 0.05, -0.15).
 */
#include <agentcredit.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define AGENTS 8
#define BATCH 16

static double game(uint64_t s)
{
    double v = 0.0;
    for (int i = 0; i < AGENTS; i++)
        v += 0.05 * (double)((s >> i) & 1u);
    if (s & 1u)
        v += 0.5;
    if ((s & 6u) == 6u)
        v += 0.3;
    if (s & 0x80u)
        v -= 0.2;
    return v;
}

/* One batch in flight: the tickets handed out and the values computed. */
struct job {
    uint32_t count;
    uint64_t tickets[BATCH];
    uint64_t coalitions[BATCH]; /* one word: AGENTS <= 64 */
    double values[BATCH];
};

static int fail(const ac_estimator *est, const char *what, int rc)
{
    fprintf(stderr, "%s: %s (%s)\n", what, ac_strerror(rc),
            ac_estimator_last_error(est));
    return 1;
}

int main(void)
{
    const double want[AGENTS] = {0.55, 0.2, 0.2, 0.05, 0.05, 0.05, 0.05, -0.15};
    ac_estimator *est = NULL;
    int rc = ac_estimator_create(&est, AGENTS, NULL);
    if (rc != AC_OK)
        return fail(NULL, "create", rc);
    if (ac_coalition_words(AGENTS) != 1)
        return 1;

    /* Known values cost no budget. */
    const uint64_t all = (1u << AGENTS) - 1u, none = 0;
    if ((rc = ac_estimator_set_value(est, &all, 1, game(all))) != AC_OK ||
        (rc = ac_estimator_set_value(est, &none, 1, game(none))) != AC_OK ||
        (rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_METHOD, AC_METHOD_KERNELSHAP)) != AC_OK ||
        (rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_BUDGET, 200)) != AC_OK ||
        (rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_SEED, 42)) != AC_OK) {
        rc = fail(est, "setup", rc);
        ac_estimator_free(est);
        return rc;
    }

    struct job jobs[2];
    int32_t done = 0;
    for (int round = 0; !done; round++) {
        /* Hand out up to two batches before telling anything back. */
        uint32_t in_flight = 0;
        for (int j = 0; j < 2; j++) {
            rc = ac_estimator_ask(est, BATCH, jobs[j].tickets,
                                  jobs[j].coalitions, &jobs[j].count);
            if (rc != AC_OK)
                goto error;
            in_flight += jobs[j].count;
        }
        /* "Remote" evaluation of both batches. */
        for (int j = 0; j < 2; j++)
            for (uint32_t k = 0; k < jobs[j].count; k++)
                jobs[j].values[k] = game(jobs[j].coalitions[k]);
        /* The second batch finishes first; within each batch the results
         * come back one at a time, last first. */
        for (int j = 1; j >= 0; j--) {
            for (uint32_t k = jobs[j].count; k-- > 0;) {
                rc = ac_estimator_tell(est, 1, &jobs[j].tickets[k],
                                       &jobs[j].values[k], NULL);
                if (rc != AC_OK)
                    goto error;
            }
        }
        uint64_t outstanding = 0;
        if ((rc = ac_estimator_progress(est, &done, &outstanding)) != AC_OK)
            goto error;
        if (!done && in_flight == 0) {
            fprintf(stderr, "the estimator asks for nothing yet is not done\n");
            ac_estimator_free(est);
            return 1;
        }
        printf("round %d: %u evaluations told, done %d\n", round,
               (unsigned)in_flight, (int)done);
    }

    double phi[AGENTS], se[AGENTS], sum = 0.0;
    if ((rc = ac_estimator_result(est, phi, se, AGENTS)) != AC_OK)
        goto error;
    int64_t evaluations = 0, rounds = 0, method = 0;
    if ((rc = ac_estimator_audit(est, AC_ESTIMATOR_AUDIT_EVALUATIONS,
                                 &evaluations)) != AC_OK ||
        (rc = ac_estimator_audit(est, AC_ESTIMATOR_AUDIT_ROUNDS, &rounds)) !=
            AC_OK ||
        (rc = ac_estimator_audit(est, AC_ESTIMATOR_AUDIT_METHOD, &method)) !=
            AC_OK)
        goto error;
    int bad = 0;
    for (int i = 0; i < AGENTS; i++) {
        printf("agent %d: credit %+.4f (se %.4f, true %+.4f)\n", i, phi[i],
               se[i], want[i]);
        sum += phi[i];
        bad |= fabs(phi[i] - want[i]) > 0.05; /* a sampled estimate */
    }
    printf("sum %.12f = v(all) - v(empty) %.12f; %lld evaluations in %lld "
           "rounds (method %lld)\n",
           sum, game(all) - game(none), (long long)evaluations,
           (long long)rounds, (long long)method);
    bad |= fabs(sum - (game(all) - game(none))) > 1e-9;
    ac_estimator_free(est);
    return bad ? 1 : 0;

error:
    fail(est, "ask/tell", rc);
    ac_estimator_free(est);
    return 1;
}
