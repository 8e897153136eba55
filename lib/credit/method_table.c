/* The methods the estimator knows, in AUTO's order of preference: AUTO
 * takes the first one affordable for the game and the budget. A new method
 * is a file with its entry, a line in methods.h and one here; the core
 * (estimator.c, estimator_internal.h) needs no edit. */
#include "credit/methods.h"

const ac__method *const ac__methods[] = {
    &ac__method_adaptive,    /* the table pays, the oracle is noisy     */
    &ac__method_exact,       /* the table pays                          */
    &ac__method_surrogate,   /* OddSHAP's limits, a deterministic oracle */
    &ac__method_oddshap,     /* its fit holds a pair for every 2 evals  */
    &ac__method_kernelshap,  /* n <= AC_KERNEL_MAX_PLAYERS              */
    &ac__method_permutation, /* anything                                */
};

const uint32_t ac__n_methods = sizeof ac__methods / sizeof ac__methods[0];
