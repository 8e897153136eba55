/* From agent credit to message rewards, the success path end to end.
 *
 * A team of 3 agents wrote 7 messages. The estimator gives each agent its
 * Shapley credit from a coalition oracle; the refiner splits each agent's
 * credit over its messages. Two label feeds are shown: a judge's scores
 * (a scorer callback) for agents 0 and 2, and a message-level game for
 * agent 1, whose messages are the players of a second, smaller Shapley game.
 * Then every agent's rewards add up to its credit. */
#include <agentcredit.h>

#include <math.h>
#include <stdio.h>

#define AGENTS 3
#define MESSAGES 7

/* Team outcome when only the agents in s act: the planner (0) and the coder
 * (1) are both needed; the critic (2) adds a little on its own. */
static int team(void *user, const uint64_t *s, uint32_t words, uint32_t count,
                double *values, int32_t *status)
{
    (void)user; (void)status;
    for (uint32_t k = 0; k < count; k++) {
        uint64_t c = s[k * words];
        values[k] = 0.7 * ((c & 3) == 3) + 0.1 * ((c >> 1) & 1) + 0.2 * ((c >> 2) & 1);
    }
    return 0;
}

/* A judge's score per message, in [-1, 1]; message 4 is the critic's
 * off-topic remark. */
static int judge(void *user, const uint32_t *messages, uint32_t count,
                 double *labels, int32_t *status)
{
    static const double score[MESSAGES] = {0.5, 0.9, 0.0, 0.0, -0.5, 1.0, 0.25};
    (void)user; (void)status;
    for (uint32_t k = 0; k < count; k++)
        labels[k] = score[messages[k]];
    return 0;
}

/* Agent 1's two messages as players: the code (player 0) is what matters,
 * the test (player 1) adds a quarter as much when the code is there. */
static int coder_messages(void *user, const uint64_t *s, uint32_t words,
                          uint32_t count, double *values, int32_t *status)
{
    (void)user; (void)status;
    for (uint32_t k = 0; k < count; k++) {
        uint64_t c = s[k * words];
        values[k] = 0.8 * (c & 1) + 0.4 * ((c & 3) == 3);
    }
    return 0;
}

static int check(int rc, const char *what, const char *detail)
{
    if (rc != AC_OK)
        fprintf(stderr, "%s: %s (%s)\n", what, ac_strerror(rc), detail);
    return rc;
}

/* Shapley values of a game over n players with the given oracle; v(all) and
 * v(empty) are evaluated by the oracle too. */
static int shapley(uint32_t n, ac_oracle_fn fn, double *phi)
{
    ac_estimator *est;
    int rc = check(ac_estimator_create(&est, n, NULL), "create", "");
    if (rc != AC_OK)
        return rc;
    rc = ac_estimator_set_oracle(est, fn, NULL);
    if (rc == AC_OK)
        rc = ac_estimator_run(est);
    if (rc == AC_OK)
        rc = ac_estimator_result(est, phi, NULL, n);
    check(rc, "estimator", ac_estimator_last_error(est));
    ac_estimator_free(est);
    return rc;
}

int main(void)
{
    /* who wrote each message: plan, code, review, test, remark, fix, answer */
    const uint32_t author[MESSAGES] = {0, 1, 2, 1, 2, 0, 0};
    double credit[AGENTS], rewards[MESSAGES], labels[MESSAGES];
    double msg_phi[2];
    uint32_t coder[2], k, relaxed[AGENTS];
    ac_refiner *ref;

    if (shapley(AGENTS, team, credit) != AC_OK)
        return 1;
    if (check(ac_refiner_create(&ref, AGENTS, MESSAGES, NULL), "create", "") != AC_OK)
        return 1;
    const char *why = "";
    int rc = ac_refiner_set_f64(ref, AC_REFINER_PARAM_BOUND, 0.5);
    if (rc == AC_OK)
        rc = ac_refiner_set_authors(ref, author, MESSAGES);
    if (rc == AC_OK)
        rc = ac_refiner_set_credits(ref, credit, AGENTS);
    /* Feed 3 for agent 1: its messages are players 0 and 1 of a game. */
    if (rc == AC_OK)
        rc = ac_refiner_agent_messages(ref, 1, coder, 2, &k);
    if (rc == AC_OK && (rc = shapley(k, coder_messages, msg_phi)) == AC_OK)
        rc = ac_refiner_labels_from_shapley(ref, 1, msg_phi, k);
    /* Feed 2 for the rest: the run asks the judge for every message still
     * unlabelled, then splits the credits. */
    if (rc == AC_OK)
        rc = ac_refiner_set_scorer(ref, judge, NULL);
    if (rc == AC_OK)
        rc = ac_refiner_run(ref);
    if (rc == AC_OK)
        rc = ac_refiner_rewards(ref, rewards, MESSAGES);
    if (rc == AC_OK)
        rc = ac_refiner_labels(ref, labels, MESSAGES);
    if (rc == AC_OK)
        rc = ac_refiner_agent_flags(ref, relaxed, AGENTS);
    if (rc != AC_OK)
        why = ac_refiner_last_error(ref);
    ac_refiner_free(ref);
    if (check(rc, "refiner", why) != AC_OK)
        return 1;

    for (uint32_t t = 0; t < MESSAGES; t++)
        printf("message %u (agent %u): label %+.2f reward %+.4f\n", t,
               author[t], labels[t], rewards[t]);
    for (uint32_t a = 0; a < AGENTS; a++) {
        double sum = 0.0;
        for (uint32_t t = 0; t < MESSAGES; t++)
            sum += author[t] == a ? rewards[t] : 0.0;
        printf("agent %u: credit %+.4f, rewards add up to %+.4f%s\n", a,
               credit[a], sum, relaxed[a] ? " (relaxed)" : "");
        if (fabs(sum - credit[a]) > 1e-12)
            return 1;
    }
    return 0;
}
