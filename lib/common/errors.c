#include "common/errors.h"

#include <stdarg.h>
#include <stdio.h>

#include "agentcredit.h"

typedef struct status_text {
    int status;
    const char *name;
    const char *text;
} status_text;

static const status_text STATUS_TEXTS[] = {
    {AC_OK, "AC_OK", "success"},
    {AC_E_INVALID_ARG, "AC_E_INVALID_ARG", "invalid argument"},
    {AC_E_NO_MEMORY, "AC_E_NO_MEMORY", "out of memory"},
    {AC_E_STATE, "AC_E_STATE", "call not valid in the handle's current state"},
    {AC_E_TOO_LARGE, "AC_E_TOO_LARGE", "size beyond the library's limits"},
    {AC_E_PARAM_UNSUPPORTED, "AC_E_PARAM_UNSUPPORTED",
     "parameter not supported by this object"},
    {AC_E_PARAM_OUT_OF_BOUND, "AC_E_PARAM_OUT_OF_BOUND",
     "parameter value out of bounds"},
    {AC_E_CALLBACK, "AC_E_CALLBACK", "a host callback reported an error"},
    {AC_E_ORACLE, "AC_E_ORACLE",
     "oracle evaluations failed beyond the allowed retries"},
    {AC_E_CANCELLED, "AC_E_CANCELLED", "the run was cancelled"},
    {AC_E_BUSY, "AC_E_BUSY",
     "the handle is busy: re-entrant call from a callback"},
    {AC_E_BUDGET, "AC_E_BUDGET", "the evaluation budget cannot pay for this"},
    {AC_E_INFEASIBLE, "AC_E_INFEASIBLE",
     "the constraints cannot all hold and relaxing them is not allowed"},
    {AC_E_PARSE, "AC_E_PARSE", "malformed or invalid JSON input"},
    {AC_E_IO, "AC_E_IO", "input/output error"},
};

static const status_text *find_status(int status)
{
    for (size_t i = 0; i < sizeof STATUS_TEXTS / sizeof STATUS_TEXTS[0]; i++)
        if (STATUS_TEXTS[i].status == status)
            return &STATUS_TEXTS[i];
    return NULL;
}

const char *ac_strerror(int status)
{
    const status_text *s = find_status(status);
    return s ? s->text : "unknown status code";
}

const char *ac_status_name(int status)
{
    const status_text *s = find_status(status);
    return s ? s->name : "AC_E_UNKNOWN";
}

int ac__fail(char *buf, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, AC__ERRMSG_CAP, fmt, ap);
    va_end(ap);
    return status;
}
