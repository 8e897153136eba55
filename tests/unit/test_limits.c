/* SPDX-License-Identifier: MIT
 *
 * Placeholder: filled in by the reliability work (issue 13).
 */
#include "helpers.h"

START_TEST(placeholder)
{
    ck_assert_int_eq(ac_abi_version(), AC_ABI_VERSION);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = th_tcase(s, "placeholder");
    tcase_add_test(tc, placeholder);
    return th_run_suite(s);
}
