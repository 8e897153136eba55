#include "common/run.h"

#include "agentcredit.h"
#include "common/errors.h"

int ac__reset_check(uint32_t what, int phase, char *err)
{
    if (what & ~(uint32_t)AC_RESET_ALL)
        return ac__fail(err, AC_E_INVALID_ARG, "unknown reset flags 0x%x",
                        what & ~(uint32_t)AC_RESET_ALL);
    if ((what & (AC_RESET_PARAMS | AC_RESET_KNOWN)) &&
        !(what & AC_RESET_SESSION) && phase != AC__PHASE_IDLE)
        return ac__fail(err, AC_E_STATE,
                        "parameters and inputs stay as the run used them: "
                        "reset them together with AC_RESET_SESSION");
    return AC_OK;
}

int ac__check_idle(int phase, const char *what, char *err)
{
    if (phase == AC__PHASE_IDLE)
        return AC_OK;
    return ac__fail(err, AC_E_STATE,
                    "%s: parameters and inputs are fixed once a run has "
                    "started; reset the session (AC_RESET_SESSION) first",
                    what);
}

void ac__progress(int phase, const ac__tickets *tk, int32_t *done,
                  uint64_t *outstanding)
{
    int ended = phase == AC__PHASE_DONE || phase == AC__PHASE_FAILED;
    if (done != NULL)
        *done = ended;
    if (outstanding != NULL)
        *outstanding = ended ? 0 : tk->outstanding;
}
