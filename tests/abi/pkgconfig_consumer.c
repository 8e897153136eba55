/* Built against the *installed* library through
 * `pkg-config --cflags --libs agentcredit` by pkgconfig_consumer.sh: the
 * header, the .pc file and the shared library must all be where they say. */
#include <agentcredit.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define EXPECT(cond)                                                        \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                     \
        }                                                                   \
    } while (0)

/* v(S) = |S| + 2 [0 and 1 both in S]: phi = (2, 2, 1). */
static int oracle(void *user, const uint64_t *coalitions, uint32_t words,
                  uint32_t count, double *values, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++) {
        uint64_t s = coalitions[(size_t)k * words];
        values[k] = (double)((s & 1u) + (s >> 1 & 1u) + (s >> 2 & 1u)) +
                    ((s & 3u) == 3u ? 2.0 : 0.0);
    }
    return 0;
}

int main(void)
{
    /* The header and the loaded library agree. */
    EXPECT(ac_version_number() == AC_VERSION_NUMBER);
    EXPECT(strcmp(ac_version_string(), AC_VERSION_STRING) == 0);
    EXPECT(ac_abi_version() == AC_ABI_VERSION);
    EXPECT(strcmp(ac_status_name(AC_E_BUDGET), "AC_E_BUDGET") == 0);
    EXPECT(ac_coalition_words(64) == 1 && ac_coalition_words(65) == 2);

    /* Exact from a table: v(S) = |S| for 2 players, phi = (1, 1). */
    const double table[4] = {0.0, 1.0, 1.0, 2.0};
    double phi2[2] = {0.0, 0.0};
    EXPECT(ac_shapley_exact(2, table, 4, phi2) == AC_OK);
    EXPECT(fabs(phi2[0] - 1.0) < 1e-12 && fabs(phi2[1] - 1.0) < 1e-12);

    /* The estimator through its callback. */
    ac_estimator *est = NULL;
    EXPECT(ac_estimator_create(&est, 3, NULL) == AC_OK);
    if (est == NULL)
        return 1;
    EXPECT(ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_METHOD, AC_METHOD_EXACT) == AC_OK);
    EXPECT(ac_estimator_set_oracle(est, oracle, NULL) == AC_OK);
    EXPECT(ac_estimator_run(est) == AC_OK);
    double phi[3] = {0}, se[3] = {0};
    EXPECT(ac_estimator_result(est, phi, se, 3) == AC_OK);
    EXPECT(fabs(phi[0] - 2.0) < 1e-9);
    EXPECT(fabs(phi[1] - 2.0) < 1e-9);
    EXPECT(fabs(phi[2] - 1.0) < 1e-9);
    int64_t method = -1;
    EXPECT(ac_estimator_audit(est, AC_ESTIMATOR_AUDIT_METHOD, &method) == AC_OK);
    EXPECT(method == AC_METHOD_EXACT);
    ac_estimator_free(est);
    ac_estimator_free(NULL);

    if (failures == 0)
        printf("ok: installed agentcredit %s works through pkg-config\n",
               ac_version_string());
    return failures == 0 ? 0 : 1;
}
