/* Detailed error messages kept per handle (status codes are in errors.c). */
#ifndef AC_ERRORS_H
#define AC_ERRORS_H

#include <stddef.h>

#define AC__ERRMSG_CAP 512

#if defined(__GNUC__)
#define AC__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AC__PRINTF(a, b)
#endif

/* Formats the message into buf (AC__ERRMSG_CAP bytes) and returns status,
 * so a failing path reads: return ac__fail(h->err, AC_E_X, "...", ...). */
int ac__fail(char *buf, int status, const char *fmt, ...) AC__PRINTF(3, 4);

#endif
