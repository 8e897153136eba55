/* The method entries, each defined in its method's file: for the table
 * (method_table.c) and for a method that names another as its fallback.
 * The core reaches them only through the table. */
#ifndef AC_METHODS_H
#define AC_METHODS_H

#include "credit/estimator_internal.h"

extern const ac__method ac__method_exact;
extern const ac__method ac__method_permutation;
extern const ac__method ac__method_kernelshap;
extern const ac__method ac__method_adaptive;
extern const ac__method ac__method_oddshap;
extern const ac__method ac__method_surrogate;

#endif
