/* SPDX-License-Identifier: MIT
 *
 * Version macros and queries, the pinned status codes and their strings,
 * and the coalition word count. These values are ABI: a renumbered status or
 * a wrong word count breaks every binding, so each is pinned literally.
 */
#include <limits.h>

#include "helpers.h"

/* Every status of the header with its literal value and enumerator name. */
static const struct {
    int code;
    int pinned;
    const char *name;
} statuses[] = {
    {AC_OK, 0, "AC_OK"},
    {AC_E_INVALID_ARG, -1, "AC_E_INVALID_ARG"},
    {AC_E_NO_MEMORY, -2, "AC_E_NO_MEMORY"},
    {AC_E_STATE, -3, "AC_E_STATE"},
    {AC_E_TOO_LARGE, -4, "AC_E_TOO_LARGE"},
    {AC_E_PARAM_UNSUPPORTED, -10, "AC_E_PARAM_UNSUPPORTED"},
    {AC_E_PARAM_OUT_OF_BOUND, -11, "AC_E_PARAM_OUT_OF_BOUND"},
    {AC_E_CALLBACK, -20, "AC_E_CALLBACK"},
    {AC_E_ORACLE, -21, "AC_E_ORACLE"},
    {AC_E_CANCELLED, -22, "AC_E_CANCELLED"},
    {AC_E_BUSY, -23, "AC_E_BUSY"},
    {AC_E_BUDGET, -30, "AC_E_BUDGET"},
    {AC_E_INFEASIBLE, -31, "AC_E_INFEASIBLE"},
    {AC_E_PARSE, -40, "AC_E_PARSE"},
    {AC_E_IO, -41, "AC_E_IO"},
};
#define N_STATUSES (sizeof statuses / sizeof statuses[0])

/* Codes that are not statuses: gaps between the pinned ranges, positives and
 * the extremes of int. */
static const int unknown_codes[] = {1, 2, -5, -9, -12, -19, -24, -29, -32,
                                    -39, -42, -1000, INT_MIN, INT_MAX};
#define N_UNKNOWN (sizeof unknown_codes / sizeof unknown_codes[0])

START_TEST(version_macros_match_runtime)
{
    char buf[64];
    ck_assert_int_eq(AC_VERSION_NUMBER, AC_VERSION_MAJOR * 10000 +
                                            AC_VERSION_MINOR * 100 +
                                            AC_VERSION_PATCH);
    ck_assert_uint_eq(ac_version_number(), (uint32_t)AC_VERSION_NUMBER);
    ck_assert_uint_eq(ac_abi_version(), (uint32_t)AC_ABI_VERSION);
    ck_assert_ptr_nonnull(ac_version_string());
    ck_assert_str_eq(ac_version_string(), AC_VERSION_STRING);
    snprintf(buf, sizeof buf, "%d.%d.%d", AC_VERSION_MAJOR, AC_VERSION_MINOR,
             AC_VERSION_PATCH);
    ck_assert_str_eq(AC_VERSION_STRING, buf);
    /* static storage: the same pointer every time */
    ck_assert_ptr_eq(ac_version_string(), ac_version_string());
}
END_TEST

START_TEST(version_is_the_one_meson_read)
{
    /* meson.build reads the header's macros; the library's file name, the
     * pkg-config file and the Python package follow from that reading. */
    ck_assert_str_eq(ac_version_string(), AC_TEST_BUILD_VERSION);
    ck_assert_uint_eq(ac_abi_version(), (uint32_t)AC_TEST_BUILD_SOVERSION);
    char want[32];
    snprintf(want, sizeof want, "%u.%u.%u", (unsigned)AC_VERSION_MAJOR,
             (unsigned)AC_VERSION_MINOR, (unsigned)AC_VERSION_PATCH);
    ck_assert_str_eq(AC_VERSION_STRING, want);
}
END_TEST

START_TEST(status_values_pinned)
{
    for (size_t i = 0; i < N_STATUSES; i++)
        ck_assert_msg(statuses[i].code == statuses[i].pinned,
                      "%s is %d, pinned at %d", statuses[i].name,
                      statuses[i].code, statuses[i].pinned);
}
END_TEST

START_TEST(status_names_exact)
{
    for (size_t i = 0; i < N_STATUSES; i++) {
        const char *name = ac_status_name(statuses[i].code);
        ck_assert_ptr_nonnull(name);
        ck_assert_str_eq(name, statuses[i].name);
    }
}
END_TEST

START_TEST(strerror_distinct_nonempty)
{
    for (size_t i = 0; i < N_STATUSES; i++) {
        const char *a = ac_strerror(statuses[i].code);
        ck_assert_ptr_nonnull(a);
        ck_assert_msg(strlen(a) > 3, "strerror(%s) is \"%s\"",
                      statuses[i].name, a);
        /* static: stable pointer */
        ck_assert_ptr_eq(a, ac_strerror(statuses[i].code));
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(a, ac_strerror(statuses[j].code)) != 0,
                          "strerror(%s) == strerror(%s): \"%s\"",
                          statuses[i].name, statuses[j].name, a);
    }
}
END_TEST

START_TEST(unknown_codes_sensible)
{
    for (size_t i = 0; i < N_UNKNOWN; i++) {
        int code = unknown_codes[i];
        const char *msg = ac_strerror(code);
        const char *name = ac_status_name(code);
        ck_assert_ptr_nonnull(msg);
        ck_assert_ptr_nonnull(name);
        ck_assert_msg(strlen(msg) > 0, "strerror(%d) is empty", code);
        ck_assert_str_eq(name, "AC_E_UNKNOWN");
        /* An unknown code must not claim to be a known status, success
         * least of all. */
        for (size_t j = 0; j < N_STATUSES; j++)
            ck_assert_msg(strcmp(msg, ac_strerror(statuses[j].code)) != 0,
                          "strerror(%d) reads like %s: \"%s\"", code,
                          statuses[j].name, msg);
    }
}
END_TEST

START_TEST(coalition_words)
{
    static const struct {
        uint32_t n, words;
    } cases[] = {{1, 1},    {2, 1},     {63, 1},     {64, 1},
                 {65, 2},   {127, 2},   {128, 2},    {129, 3},
                 {200, 4},  {4095, 64}, {4096, 64},  {4097, 65},
                 {65535, 1024}, {AC_MAX_PLAYERS, 1024}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(ac_coalition_words(cases[i].n) == cases[i].words,
                      "ac_coalition_words(%u) = %u, want %u", cases[i].n,
                      ac_coalition_words(cases[i].n), cases[i].words);
}
END_TEST

START_TEST(limits_consistent)
{
    /* The engine must serve message-level games (n >= 4096) and exact must
     * cover the n <= 20 of the benchmark. */
    ck_assert_uint_ge(AC_MAX_PLAYERS, 4096u);
    ck_assert_uint_ge(AC_EXACT_MAX_PLAYERS, 20u);
    ck_assert_uint_le(AC_EXACT_MAX_PLAYERS, 63u);
    ck_assert_uint_le(AC_KERNEL_MAX_PLAYERS, AC_MAX_PLAYERS);
    ck_assert_uint_eq(sizeof(ac_allocator),
                      2 * sizeof(uint32_t) + 3 * sizeof(void *));
}
END_TEST

static Suite *version_suite(void)
{
    Suite *s = suite_create("version");
    TCase *tc = th_tcase(s, "version");
    tcase_add_test(tc, version_macros_match_runtime);
    tcase_add_test(tc, version_is_the_one_meson_read);
    tc = th_tcase(s, "status");
    tcase_add_test(tc, status_values_pinned);
    tcase_add_test(tc, status_names_exact);
    tcase_add_test(tc, strerror_distinct_nonempty);
    tcase_add_test(tc, unknown_codes_sensible);
    tc = th_tcase(s, "coalition");
    tcase_add_test(tc, coalition_words);
    tcase_add_test(tc, limits_consistent);
    return s;
}

int main(void)
{
    return th_run_suite(version_suite());
}
