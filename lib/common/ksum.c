#include "common/ksum.h"

double ac__sum(const double *x, uint32_t n)
{
    ac__ksum k = {0.0, 0.0};
    for (uint32_t i = 0; i < n; i++)
        ac__ksum_add(&k, x[i]);
    return ac__ksum_value(&k);
}
