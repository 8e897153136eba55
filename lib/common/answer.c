#include "common/answer.h"

#include "agentcredit.h"
#include "common/errors.h"

int ac__answer_check_range(const ac__tickets *tk, const uint64_t *tickets,
                           const int32_t *status, const double *values,
                           uint32_t count, double lo, double hi,
                           const char *what, const char *item_name,
                           char *err)
{
    for (uint32_t k = 0; k < count; k++)
        if (!ac__answer_failed(status, values, k) &&
            !(values[k] >= lo && values[k] <= hi))
            return ac__fail(err, AC_E_INVALID_ARG,
                            "%s for %s %u (ticket %llu, position %u of the "
                            "tell) is %.17g, outside [%g, %g]",
                            what, item_name,
                            ac__tickets_find(tk, tickets[k])->item,
                            (unsigned long long)tickets[k], k, values[k], lo,
                            hi);
    return AC_OK;
}
