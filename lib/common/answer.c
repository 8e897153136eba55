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

void ac__answer_prefill(double *values, int32_t *status, uint32_t count)
{
    for (uint32_t k = 0; k < count; k++) {
        values[k] = NAN;
        status[k] = 0;
    }
}

void ac__batch_free(ac__batch *b, const ac__mem *mem)
{
    ac__mem_free(mem, b->tickets);
    ac__mem_free(mem, b->items);
    ac__mem_free(mem, b->values);
    ac__mem_free(mem, b->status);
}

int ac__batch_alloc(ac__batch *b, const ac__mem *mem, uint32_t width,
                    size_t item_size, char *err)
{
    b->tickets = ac__mem_alloc(mem, width, sizeof *b->tickets);
    b->items = ac__mem_alloc(mem, width, item_size);
    b->values = ac__mem_alloc(mem, width, sizeof *b->values);
    b->status = ac__mem_alloc(mem, width, sizeof *b->status);
    if (b->tickets && b->items && b->values && b->status)
        return AC_OK;
    ac__batch_free(b, mem);
    return ac__fail(err, AC_E_NO_MEMORY,
                    "no memory for a round of %u answers", width);
}
