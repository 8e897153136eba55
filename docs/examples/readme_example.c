#include <agentcredit.h>
#include <stdio.h>

/* The team's outcome when only the agents in coalition s act (bit i: agent i).
 * Agent 0 plans, agent 1 codes, agent 2 reviews. */
static int team(void *user, const uint64_t *s, uint32_t words, uint32_t count,
                double *values, int32_t *status) {
    (void)user; (void)status;
    for (uint32_t k = 0; k < count; k++) {
        uint64_t c = s[k * words];
        values[k] = 0.6 * ((c >> 1) & 1) + 0.3 * ((c & 3) == 3) + 0.1 * ((c >> 2) & 1);
    }
    return 0;
}

int main(void) {
    ac_estimator *est;
    uint64_t all = 7, none = 0;
    double phi[3], se[3];
    if (ac_estimator_create(&est, 3, NULL) != AC_OK) return 1;
    int rc = ac_estimator_set_value(est, &all, 1, 1.0);  /* outcome R */
    if (rc == AC_OK) rc = ac_estimator_set_value(est, &none, 1, 0.0); /* baseline */
    if (rc == AC_OK) rc = ac_estimator_set_oracle(est, team, NULL);
    if (rc == AC_OK) rc = ac_estimator_run(est);
    if (rc == AC_OK) rc = ac_estimator_result(est, phi, se, 3);
    if (rc != AC_OK) fprintf(stderr, "%s\n", ac_estimator_last_error(est));
    for (int i = 0; rc == AC_OK && i < 3; i++)
        printf("agent %d: credit %+.3f (se %.3f)\n", i, phi[i], se[i]);
    ac_estimator_free(est);
    return rc == AC_OK ? 0 : 1;
}
