/* SPDX-License-Identifier: MIT
 *
 * Reproducer (found by fuzz_pipeline): ac_pipeline_run hands the repair
 * callback a candidates buffer (p->ids, grown by grow_loop to the batch of
 * the stages run so far: the estimator's AC_ESTIMATOR_PARAM_BATCH, the
 * localizer's AC_LOCALIZER_PARAM_BATCH) instead of one of max_count =
 * AC_LOCALIZER_PARAM_CANDIDATES entries, so a callback that proposes its
 * max_count candidates writes past the buffer when CANDIDATES exceeds
 * every batch before the pair stage (here 100 > the default batches 64
 * and 1). Build against the library with AddressSanitizer:
 *   clang -g -fsanitize=address -Iinclude \
 *       tests/fuzz/crashes/pipeline_run_repair_room.c \
 *       <libagentcredit built with -fsanitize=address> -ljansson -lm
 * ASan reports a heap-buffer-overflow WRITE in repair(), called from
 * serve_repair (lib/episodes/pipeline_run.c). Not built by meson.
 */
#include <stdint.h>
#include <stdio.h>
#include "agentcredit.h"

static int oracle(void *u, const uint64_t *c, uint32_t w, uint32_t n,
                  double *v, int32_t *st)
{
    (void)u; (void)c; (void)w;
    for (uint32_t k = 0; k < n; k++) { v[k] = 0.0; st[k] = 0; }
    return 0;
}
static int repair(void *u, uint32_t step, uint32_t max, uint64_t *ids,
                  uint32_t *count)
{
    (void)u; (void)step;
    for (uint32_t k = 0; k < max; k++) ids[k] = k + 1; /* max is 100 */
    *count = max;
    return 0;
}
static int check(void *u, uint32_t step, const uint64_t *ids, uint32_t n,
                 double *p, int32_t *st)
{
    (void)u; (void)step; (void)ids;
    for (uint32_t k = 0; k < n; k++) { p[k] = 1.0; st[k] = 0; }
    return 0;
}
int main(void)
{
    ac_episode *ep = NULL;
    ac_pipeline *p = NULL;
    uint32_t a = 0;
    if (ac_episode_create(&ep, NULL) || ac_episode_add_participant(ep, "a", 0, &a) ||
        ac_episode_add_message(ep, a, NULL, "x", NULL) ||
        ac_episode_add_message(ep, a, NULL, "y", NULL) ||
        ac_episode_set_outcome(ep, 0.0) ||
        ac_episode_set_first_error_label(ep, 0) ||
        ac_pipeline_create(&p, NULL) ||
        ac_pipeline_set_int(p, AC_PIPELINE_PARAM_VERIFIER, AC_VERIFIER_SOURCE_ANNOTATION) ||
        ac_pipeline_set_int(p, AC_LOCALIZER_PARAM_CANDIDATES, 100) ||
        ac_pipeline_set_oracle(p, oracle, NULL) ||
        ac_pipeline_set_repair(p, repair, check, NULL))
        return 2;
    int rc = ac_pipeline_run(p, ep);
    printf("run = %d\n", rc);
    ac_pipeline_free(p);
    ac_episode_free(ep);
    return 0;
}
