/* SPDX-License-Identifier: MIT
 *
 * Unknown keys in a game file (issue 14): the rule of every JSON format of
 * the library. ac_game_load_json2 / _file2 report an unknown key as a
 * warning line naming its path, and as an AC_E_PARSE error under
 * AC_JSON_STRICT; a key of another kind of game (or of noise) is an error
 * either way; the 1.0 loaders, which have no place for a warning, keep
 * refusing unknown keys as they document.
 */
#define _POSIX_C_SOURCE 200809L

#include "helpers.h"

#include <unistd.h>

/* A terms game with unknown keys at the top, in a term and in the noise. */
static const char EXTRAS[] =
    "{\"n\": 3, \"seed\": 7, \"name\": \"soum\","
    " \"terms\": [{\"coef\": 1, \"members\": [0, 1]},"
    "             {\"coef\": 0.5, \"members\": [2], \"colour\": \"red\"}],"
    " \"noise\": {\"kind\": \"gaussian\", \"sd\": 0, \"note\": \"x\"},"
    " \"source\": {\"generator\": 1}}";
static const char PLAIN[] =
    "{\"n\": 3, \"name\": \"soum\","
    " \"terms\": [{\"coef\": 1, \"members\": [0, 1]},"
    "             {\"coef\": 0.5, \"members\": [2]}],"
    " \"noise\": {\"kind\": \"gaussian\", \"sd\": 0}}";
/* jansson keeps an object's keys in insertion order */
static const char EXTRAS_WARNINGS[] = "game.seed: unknown key, ignored\n"
                                      "game.source: unknown key, ignored\n"
                                      "terms[1].colour: unknown key, ignored\n"
                                      "noise.note: unknown key, ignored";

static int load2(ac_game **g, const char *text, uint32_t flags, char *err,
                 size_t err_cap, char *warn, size_t warn_cap)
{
    return ac_game_load_json2(g, text, strlen(text), NULL, NULL, flags, err,
                              err_cap, warn, warn_cap);
}

static void assert_same_game(const ac_game *a, const ac_game *b)
{
    uint32_t na = 0, nb = 0;
    ck_assert_int_eq(ac_game_players(a, &na), AC_OK);
    ck_assert_int_eq(ac_game_players(b, &nb), AC_OK);
    ck_assert_uint_eq(na, nb);
    for (uint64_t S = 0; S < ((uint64_t)1 << na); S++) {
        double va = NAN, vb = NAN;
        ck_assert_int_eq(ac_game_value(a, &S, 1, &va), AC_OK);
        ck_assert_int_eq(ac_game_value(b, &S, 1, &vb), AC_OK);
        ck_assert(va == vb);
    }
}

START_TEST(unknown_keys_are_warnings)
{
    ac_game *g = NULL, *plain = NULL;
    char err[256] = "x", warn[512] = "x";
    ck_assert_int_eq(load2(&g, EXTRAS, 0, err, sizeof err, warn, sizeof warn),
                     AC_OK);
    ck_assert_str_eq(err, "");
    ck_assert_str_eq(warn, EXTRAS_WARNINGS);
    /* ignored: the game is the one without them */
    ck_assert_int_eq(load2(&plain, PLAIN, 0, err, sizeof err, warn,
                           sizeof warn),
                     AC_OK);
    ck_assert_str_eq(warn, "");
    assert_same_game(g, plain);
    ac_game_free(g);
    ac_game_free(plain);
    /* no buffer for them: the same success */
    g = NULL;
    ck_assert_int_eq(load2(&g, EXTRAS, 0, NULL, 0, NULL, 0), AC_OK);
    ac_game_free(g);
}
END_TEST

/* Under AC_JSON_STRICT each unknown key, wherever it is, is the error. */
static const struct {
    const char *text, *error;
} strict_cases[] = {
    {"{\"n\": 1, \"values\": [0, 1], \"seed\": 3}",
     "game: unknown key \"seed\" (AC_JSON_STRICT)"},
    {"{\"n\": 1, \"terms\": [{\"coef\": 1, \"members\": [0]},"
     " {\"coef\": 1, \"members\": [], \"colour\": 1}]}",
     "terms[1]: unknown key \"colour\" (AC_JSON_STRICT)"},
    {"{\"n\": 1, \"values\": [0, 1], \"noise\": {\"kind\": \"bernoulli\","
     " \"p\": 1}}",
     "noise: unknown key \"p\" (AC_JSON_STRICT)"},
};

START_TEST(strict_makes_them_errors)
{
    ac_game *sentinel = (ac_game *)&strict_cases[_i], *g = sentinel;
    char err[256] = "", warn[256] = "x";
    ck_assert_int_eq(load2(&g, strict_cases[_i].text, AC_JSON_STRICT, err,
                           sizeof err, warn, sizeof warn),
                     AC_E_PARSE);
    ck_assert_ptr_eq(g, sentinel);
    ck_assert_str_eq(err, strict_cases[_i].error);
    ck_assert_str_eq(warn, "");
    /* without the flag: a warning and a game */
    g = NULL;
    ck_assert_int_eq(load2(&g, strict_cases[_i].text, 0, err, sizeof err,
                           warn, sizeof warn),
                     AC_OK);
    ck_assert_ptr_nonnull(strstr(warn, ": unknown key, ignored"));
    ac_game_free(g);
}
END_TEST

/* The 1.0 loaders keep their documented refusal. */
START_TEST(old_loaders_stay_strict)
{
    ac_game *sentinel = (ac_game *)EXTRAS, *g = sentinel;
    char err[256] = "";
    ck_assert_int_eq(ac_game_load_json(&g, EXTRAS, strlen(EXTRAS), NULL, NULL,
                                       err, sizeof err),
                     AC_E_PARSE);
    ck_assert_ptr_eq(g, sentinel);
    ck_assert_str_eq(err, "game: unknown key \"seed\" (AC_JSON_STRICT)");
    ck_assert_int_eq(ac_game_load_json(&g, PLAIN, strlen(PLAIN), NULL, NULL,
                                       err, sizeof err),
                     AC_OK);
    ac_game_free(g);
}
END_TEST

/* Keys of another kind of game or noise: errors with and without strict. */
static const char *const other_kind[] = {
    "{\"n\": 2, \"type\": \"airport\", \"costs\": [1, 2], \"weights\": [1, 1]}",
    "{\"n\": 2, \"type\": \"voting\", \"weights\": [1, 1], \"quota\": 1,"
    " \"costs\": [1, 2]}",
    "{\"n\": 1, \"values\": [0, 1], \"quota\": 1}",
    "{\"n\": 1, \"terms\": [], \"values\": [0, 1]}",
    "{\"n\": 1, \"values\": [0, 1], \"noise\": {\"kind\": \"bernoulli\","
    " \"sd\": 1}}",
};

START_TEST(other_kinds_keys_are_errors)
{
    for (uint32_t flags = 0; flags <= AC_JSON_STRICT; flags++) {
        ac_game *g = NULL;
        char err[256] = "", warn[256] = "x";
        ck_assert_int_eq(load2(&g, other_kind[_i], flags, err, sizeof err,
                               warn, sizeof warn),
                         AC_E_PARSE);
        ck_assert_ptr_null(g);
        ck_assert_msg(strstr(err, "belongs to") != NULL, "%s: %s",
                      other_kind[_i], err);
        ck_assert_str_eq(warn, "");
    }
}
END_TEST

/* A failed load leaves no warnings: they would describe no game. */
START_TEST(failure_clears_warnings)
{
    static const char text[] = "{\"n\": 2, \"seed\": 1, \"values\": [0, 1]}";
    ac_game *g = NULL;
    char err[256] = "", warn[256] = "x";
    ck_assert_int_eq(load2(&g, text, 0, err, sizeof err, warn, sizeof warn),
                     AC_E_PARSE);
    ck_assert_str_eq(warn, "");
    ck_assert_ptr_nonnull(strstr(err, "\"values\" has 2 entries"));
    /* and a term's shape is still checked among unknown keys */
    static const char no_coef[] =
        "{\"n\": 1, \"terms\": [{\"members\": [0], \"colour\": 1}]}";
    ck_assert_int_eq(load2(&g, no_coef, 0, err, sizeof err, warn,
                           sizeof warn),
                     AC_E_PARSE);
    ck_assert_str_eq(warn, "");
    ck_assert_ptr_null(g);
}
END_TEST

/* Warnings truncated to warn_cap, always NUL-terminated. */
START_TEST(warnings_truncated)
{
    for (size_t cap = 1; cap <= sizeof EXTRAS_WARNINGS + 1; cap++) {
        char warn[sizeof EXTRAS_WARNINGS + 8];
        memset(warn, 'x', sizeof warn);
        ac_game *g = NULL;
        ck_assert_int_eq(load2(&g, EXTRAS, 0, NULL, 0, warn, cap), AC_OK);
        ac_game_free(g);
        size_t len = strnlen(warn, cap);
        ck_assert_uint_lt(len, cap);
        ck_assert(strncmp(warn, EXTRAS_WARNINGS, len) == 0);
        ck_assert_int_eq(warn[cap], 'x'); /* nothing past cap written */
    }
}
END_TEST

START_TEST(unknown_flag_refused)
{
    ac_game *g = NULL;
    char err[256] = "", warn[64] = "x";
    ck_assert_int_eq(load2(&g, PLAIN, 2, err, sizeof err, warn, sizeof warn),
                     AC_E_INVALID_ARG);
    ck_assert_ptr_null(g);
    ck_assert_ptr_nonnull(strstr(err, "AC_JSON_STRICT"));
    ck_assert_str_eq(warn, "");
    ck_assert_int_eq(ac_game_load_file2(&g, "/nonexistent", NULL, NULL, 2,
                                        err, sizeof err, NULL, 0),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(load2(NULL, PLAIN, 0, err, sizeof err, NULL, 0),
                     AC_E_INVALID_ARG);
}
END_TEST

/* A file gives what its text gives, warnings and strictness included. */
START_TEST(file_equals_text)
{
    char path[] = "/tmp/ac_game_keys_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, EXTRAS, strlen(EXTRAS)),
                     (ssize_t)strlen(EXTRAS));
    close(fd);
    ac_game *g = NULL, *t = NULL;
    char err[512] = "x", warn[512] = "x";
    ck_assert_int_eq(ac_game_load_file2(&g, path, NULL, NULL, 0, err,
                                        sizeof err, warn, sizeof warn),
                     AC_OK);
    ck_assert_str_eq(warn, EXTRAS_WARNINGS);
    ck_assert_int_eq(load2(&t, EXTRAS, 0, NULL, 0, NULL, 0), AC_OK);
    assert_same_game(g, t);
    ac_game_free(g);
    ac_game_free(t);
    g = NULL;
    ck_assert_int_eq(ac_game_load_file2(&g, path, NULL, NULL, AC_JSON_STRICT,
                                        err, sizeof err, warn, sizeof warn),
                     AC_E_PARSE);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "unknown key \"seed\""));
    ck_assert_str_eq(warn, "");
    ck_assert_int_eq(ac_game_load_file(&g, path, NULL, NULL, err, sizeof err),
                     AC_E_PARSE);
    ck_assert_ptr_null(g);
    unlink(path);
}
END_TEST

static Suite *game_keys_suite(void)
{
    Suite *s = suite_create("game_keys");
    TCase *tc = th_tcase(s, "unknown keys");
    tcase_add_test(tc, unknown_keys_are_warnings);
    tcase_add_loop_test(tc, strict_makes_them_errors, 0,
                        (int)(sizeof strict_cases / sizeof strict_cases[0]));
    tcase_add_test(tc, old_loaders_stay_strict);
    tcase_add_loop_test(tc, other_kinds_keys_are_errors, 0,
                        (int)(sizeof other_kind / sizeof other_kind[0]));
    tcase_add_test(tc, failure_clears_warnings);
    tcase_add_test(tc, warnings_truncated);
    tcase_add_test(tc, unknown_flag_refused);
    tcase_add_test(tc, file_equals_text);
    return s;
}

int main(void)
{
    return th_run_suite(game_keys_suite());
}
