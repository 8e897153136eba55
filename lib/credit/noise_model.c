/* The per-coalition noise model: see noise_model.h. */
#include "credit/noise_model.h"

#include <string.h>

void ac__noise_init(ac__layer_noise *L, uint32_t n, int binary)
{
    memset(L, 0, sizeof *L);
    L->n = n;
    L->binary = binary;
}

void ac__noise_add(ac__layer_noise *L, uint32_t size, double count,
                   double mean, double var)
{
    L->hits[size] += mean * count;
    L->seen[size] += count;
    if (count > 1.0) {
        L->ss[size] += var * (count - 1.0);
        L->dof[size] += count - 1.0;
    }
}

int ac__noise_pool(ac__layer_noise *L)
{
    double ss = 0.0, dof = 0.0;
    for (uint32_t z = 0; z <= L->n; z++) {
        ss += L->ss[z];
        dof += L->dof[z];
    }
    L->global = dof > 0.0 ? ss / dof : 0.0;
    return L->binary || dof > 0.0;
}

double ac__noise_var(const ac__layer_noise *L, uint32_t size, double count,
                     double mean, double var, double prior)
{
    if (L->binary) {
        double layer = (L->hits[size] + 1.0) / (L->seen[size] + 2.0);
        double p = (mean * count + prior * layer) / (count + prior);
        return p * (1.0 - p);
    }
    double pool = L->dof[size] > 0.0 ? L->ss[size] / L->dof[size] : L->global;
    double d = count - 1.0;
    return d > 0.0 ? (prior * pool + d * var) / (prior + d) : pool;
}
