/* OddSHAP's fit, for a method that builds on it (method_surrogate.c): the
 * same plan, the same affordability, and the fit with its residuals. */
#ifndef AC_ODDSHAP_FIT_H
#define AC_ODDSHAP_FIT_H

#include "credit/estimator_internal.h"

int ac__oddshap_affordable(const ac_estimator *e);
/* The KernelSHAP plan, refused (AC_E_TOO_LARGE) when the budget could give
 * more pairs than the fit takes. */
int ac__oddshap_begin(ac_estimator *e);
/* OddSHAP's estimate (phi, se: n) from the planned evaluations. With
 * res_fit and res_loo (e->cache.count each, or both NULL) also the fit's
 * residuals of the odd part u(S) = (v(S) - v(N \ S)) / 2 at its rows, per
 * cache entry (S's, and its complement's with the opposite sign; other
 * entries are left as they were), in the values' scaled space: res_fit of
 * the fit on every row, res_loo of the fit without that row. AC_OK,
 * AC__FALL_BACK (more rows than the fit takes), or an error. */
int ac__oddshap_fit(ac_estimator *e, double *phi, double *se,
                    double *res_fit, double *res_loo);

#endif
