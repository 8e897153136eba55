#include "agentcredit.h"

uint32_t ac_version_number(void)
{
    return AC_VERSION_NUMBER;
}

const char *ac_version_string(void)
{
    return AC_VERSION_STRING;
}

uint32_t ac_abi_version(void)
{
    return AC_ABI_VERSION;
}
