/* The life of a run, the same for every object: IDLE (parameters and
 * inputs may change) -> RUNNING (from the first ask or run) -> DONE (the
 * result is ready) or FAILED (the run's error is returned by every later
 * ask, tell and run). Only AC_RESET_SESSION goes back to IDLE. */
#ifndef AC_RUN_H
#define AC_RUN_H

#include <stdint.h>

#include "common/ticket.h"

enum { AC__PHASE_IDLE, AC__PHASE_RUNNING, AC__PHASE_DONE, AC__PHASE_FAILED };

/* The one reset rule: unknown flags are AC_E_INVALID_ARG; AC_RESET_PARAMS
 * or AC_RESET_KNOWN without AC_RESET_SESSION are AC_E_STATE unless the
 * handle is idle (what a run used must stay what its result says). Checked
 * before anything is reset. */
int ac__reset_check(uint32_t what, int phase, char *err);
/* Parameters and inputs change only while idle: AC_E_STATE otherwise, with
 * a message naming the call. */
int ac__check_idle(int phase, const char *what, char *err);
/* Every object's progress: *done once the run has ended (done or failed),
 * *outstanding the tickets the run still waits for. A run that has ended
 * waits for none: tickets it handed out and never got back can no longer
 * be told (AC_E_STATE, or the failed run's error). Either may be NULL. */
void ac__progress(int phase, const ac__tickets *tk, int32_t *done,
                  uint64_t *outstanding);

#endif
