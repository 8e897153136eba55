/* SPDX-License-Identifier: MIT
 *
 * The reference games read from JSON (tests/data/games, found through the
 * AC_TEST_DATA environment variable): every format, values against hand
 * computations, exact Shapley values against brute force and closed forms,
 * the noise models (Bernoulli draws are 0/1 with the right mean, Gaussian
 * draws have the right mean and sd), seeding, and ac_game_oracle driving an
 * estimator.
 */
#include "helpers.h"

#ifndef AC_TEST_DATA_DIR
#define AC_TEST_DATA_DIR "tests/data"
#endif

static void data_path(char *buf, size_t size, const char *name)
{
    const char *dir = getenv("AC_TEST_DATA");
    if (!dir || !*dir)
        dir = AC_TEST_DATA_DIR;
    int len = snprintf(buf, size, "%s/games/%s", dir, name);
    ck_assert(len > 0 && (size_t)len < size);
}

static ac_game *load(const char *name)
{
    char path[4096], err[256] = "x";
    ac_game *g = NULL;
    data_path(path, sizeof path, name);
    int rc = ac_game_load_file(&g, path, NULL, NULL, err, sizeof err);
    ck_assert_msg(rc == AC_OK, "%s: %d (%s) %s", path, rc, ac_status_name(rc),
                  err);
    ck_assert_str_eq(err, ""); /* success writes "" */
    ck_assert_ptr_nonnull(g);
    return g;
}

static ac_game *load_text(const char *text)
{
    ac_game *g = NULL;
    char err[256];
    int rc = ac_game_load_json(&g, text, strlen(text), NULL, NULL, err,
                               sizeof err);
    ck_assert_msg(rc == AC_OK, "%s: %d (%s) %s", text, rc, ac_status_name(rc),
                  err);
    return g;
}

static uint32_t players(const ac_game *g)
{
    uint32_t n = 0;
    ck_assert_int_eq(ac_game_players(g, &n), AC_OK);
    return n;
}

static double value_mask(const ac_game *g, uint64_t S)
{
    double v = NAN;
    ck_assert_int_eq(ac_game_value(g, &S, 1, &v), AC_OK);
    return v;
}

/* The full table through ac_game_value (n <= 16); the caller frees it. */
static double *table_of(const ac_game *g)
{
    uint32_t n = players(g);
    ck_assert_uint_le(n, 16);
    double *t = malloc(((size_t)1 << n) * sizeof *t);
    ck_assert_ptr_nonnull(t);
    for (uint64_t S = 0; S < ((uint64_t)1 << n); S++)
        t[S] = value_mask(g, S);
    return t;
}

/* One draw of coalition S through the oracle. */
static double draw(ac_game *g, uint64_t S)
{
    double v = NAN;
    int32_t st = 0;
    ck_assert_int_eq(ac_game_oracle(g, &S, 1, 1, &v, &st), 0);
    ck_assert_int_eq(st, 0);
    return v;
}

/* ===================================================================== */
/* Formats and values                                                    */
/* ===================================================================== */

START_TEST(values_format)
{
    ac_game *g = load("values3.json");
    static const double t[8] = {0.0, 0.2, 0.1, 0.5, 0.3, 0.6, 0.4, 1.0};
    ck_assert_uint_eq(players(g), 3);
    for (uint64_t S = 0; S < 8; S++)
        ck_assert(value_mask(g, S) == t[S]);
    /* no noise: the oracle returns the value itself */
    for (uint64_t S = 0; S < 8; S++)
        ck_assert(draw(g, S) == t[S]);
    ck_assert_str_eq(ac_game_last_error(g), "");
    ac_game_free(g);
}
END_TEST

START_TEST(terms_format)
{
    /* v(S) = sum of the coefficients of the terms inside S */
    ac_game *g = load("soum6.json");
    static const struct {
        double coef;
        uint64_t members;
    } terms[] = {{1.0, 0x03}, {-0.5, 0x04}, {0.9, 0x2A}, {0.3, 0x10},
                 {0.6, 0x3D}};
    ck_assert_uint_eq(players(g), 6);
    for (uint64_t S = 0; S < 64; S++) {
        double want = 0;
        for (size_t k = 0; k < 5; k++)
            if ((terms[k].members & ~S) == 0)
                want += terms[k].coef;
        ck_assert_msg(fabs(value_mask(g, S) - want) < 1e-15,
                      "v(%llx) = %.17g, want %.17g", (unsigned long long)S,
                      value_mask(g, S), want);
    }
    ac_game_free(g);
}
END_TEST

START_TEST(airport_format)
{
    /* v(S) = the largest cost in S, 0 for nobody */
    ac_game *g = load("airport5.json");
    static const double c[5] = {3, 1, 4, 1, 5};
    ck_assert_uint_eq(players(g), 5);
    for (uint64_t S = 0; S < 32; S++) {
        double want = 0;
        for (uint32_t i = 0; i < 5; i++)
            if (((S >> i) & 1u) && c[i] > want)
                want = c[i];
        ck_assert(value_mask(g, S) == want);
    }
    ac_game_free(g);
}
END_TEST

START_TEST(voting_format)
{
    /* v(S) = 1 when the weight of S reaches the quota (6), else 0 */
    ac_game *g = load("voting5.json");
    static const double w[5] = {4, 3, 2, 1, 1};
    ck_assert_uint_eq(players(g), 5);
    for (uint64_t S = 0; S < 32; S++) {
        double sum = 0;
        for (uint32_t i = 0; i < 5; i++)
            if ((S >> i) & 1u)
                sum += w[i];
        ck_assert_msg(value_mask(g, S) == (sum >= 6 ? 1.0 : 0.0),
                      "v(%llx) with weight %g", (unsigned long long)S, sum);
    }
    ac_game_free(g);
}
END_TEST

START_TEST(not_nul_terminated)
{
    /* len bytes only: what follows is not part of the text */
    static const char buf[] = "{\"n\": 1, \"values\": [0.5, 2.5]}GARBAGE{";
    size_t len = strlen("{\"n\": 1, \"values\": [0.5, 2.5]}");
    ac_game *g = NULL;
    ck_assert_int_eq(ac_game_load_json(&g, buf, len, NULL, NULL, NULL, 0),
                     AC_OK);
    ck_assert(value_mask(g, 1) == 2.5);
    ac_game_free(g);
    /* and cut short it is malformed */
    g = NULL;
    ck_assert_int_eq(ac_game_load_json(&g, buf, len - 1, NULL, NULL, NULL, 0),
                     AC_E_PARSE);
    ck_assert_ptr_null(g);
}
END_TEST

START_TEST(file_equals_text)
{
    static const char text[] =
        "{\"n\": 5, \"type\": \"airport\", \"costs\": [3, 1, 4, 1, 5]}";
    ac_game *a = load("airport5.json"), *b = load_text(text);
    double pa[5], pb[5];
    for (uint64_t S = 0; S < 32; S++)
        ck_assert(value_mask(a, S) == value_mask(b, S));
    ck_assert_int_eq(ac_game_exact(a, pa, 5), AC_OK);
    ck_assert_int_eq(ac_game_exact(b, pb, 5), AC_OK);
    ck_assert(memcmp(pa, pb, sizeof pa) == 0);
    ac_game_free(a);
    ac_game_free(b);
}
END_TEST

START_TEST(multiword_coalitions)
{
    /* n = 70: two words per coalition; player 69 lives in word 1 */
    static const char text[] =
        "{\"n\": 70, \"terms\": [{\"coef\": 2, \"members\": [0, 69]},"
        "{\"coef\": -1, \"members\": [64]},"
        "{\"coef\": 0.5, \"members\": [3]}]}";
    ac_game *g = load_text(text);
    uint64_t c[2] = {1, (uint64_t)1 << 5}; /* players 0 and 69 */
    double v = NAN, phi[70];
    ck_assert_uint_eq(players(g), 70);
    ck_assert_uint_eq(ac_coalition_words(70), 2);
    ck_assert_int_eq(ac_game_value(g, c, 2, &v), AC_OK);
    ck_assert(v == 2.0);
    c[1] |= 1; /* and 64 */
    ck_assert_int_eq(ac_game_value(g, c, 2, &v), AC_OK);
    ck_assert(v == 1.0);
    c[1] = (uint64_t)1 << 6; /* player 70: beyond n */
    ck_assert_int_eq(ac_game_value(g, c, 2, &v), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_game_exact(g, phi, 70), AC_OK);
    ck_assert(fabs(phi[0] - 1.0) < 1e-15 && fabs(phi[69] - 1.0) < 1e-15);
    ck_assert(fabs(phi[64] + 1.0) < 1e-15 && fabs(phi[3] - 0.5) < 1e-15);
    ck_assert(phi[1] == 0.0 && phi[68] == 0.0);
    /* a batch of two through the oracle */
    uint64_t batch[4] = {0x9, 0, 0, 1};
    double vals[2];
    int32_t st[2] = {5, 5};
    ck_assert_int_eq(ac_game_oracle(g, batch, 2, 2, vals, st), 0);
    ck_assert(vals[0] == 0.5 && vals[1] == -1.0 && st[0] == 0 && st[1] == 0);
    ac_game_free(g);
}
END_TEST

/* ===================================================================== */
/* Exact values                                                          */
/* ===================================================================== */

START_TEST(exact_vs_brute_force)
{
    static const char *const files[] = {"values3.json", "glove4.json",
                                        "soum6.json", "airport5.json",
                                        "voting5.json", "bernoulli3.json",
                                        "gaussian_soum4.json",
                                        "team12_gauss.json"};
    ac_game *g = load(files[_i]);
    uint32_t n = players(g);
    double *t = table_of(g);
    double want[16], phi[16];
    th_shapley_subsets(n, t, want);
    ck_assert_int_eq(ac_game_exact(g, phi, n), AC_OK);
    th_assert_vec_near(phi, want, n, 1e-12, files[_i]);
    th_assert_conserves(phi, n, t[((uint64_t)1 << n) - 1u], t[0]);
    free(t);
    ac_game_free(g);
}
END_TEST

START_TEST(exact_closed_forms)
{
    double phi[6];
    ac_game *g = load("glove4.json");
    const double glove[4] = {0.75, 1.0 / 12, 1.0 / 12, 1.0 / 12};
    ck_assert_int_eq(ac_game_exact(g, phi, 4), AC_OK);
    th_assert_vec_near(phi, glove, 4, 1e-15, "glove");
    ac_game_free(g);

    /* airport, sorted 1, 1, 3, 4, 5: 1/5, 1/5, 1/5 + 2/3, + 1/2, + 1 */
    g = load("airport5.json");
    const double a = 0.2, b = a + 2.0 / 3, c = b + 0.5, d = c + 1;
    const double airport[5] = {b, a, c, a, d};
    ck_assert_int_eq(ac_game_exact(g, phi, 5), AC_OK);
    th_assert_vec_near(phi, airport, 5, 1e-14, "airport");
    ac_game_free(g);

    /* terms: each coefficient split equally among its members */
    g = load("soum6.json");
    const double soum[6] = {0.5 + 0.12, 0.5 + 0.3, -0.5 + 0.12, 0.3 + 0.12,
                            0.3 + 0.12, 0.3 + 0.12};
    ck_assert_int_eq(ac_game_exact(g, phi, 6), AC_OK);
    th_assert_vec_near(phi, soum, 6, 1e-15, "terms");
    ac_game_free(g);
}
END_TEST

START_TEST(exact_given_is_returned)
{
    /* "exact" in the file wins over any computation: returned as written */
    ac_game *g = load("values2_exact.json");
    double phi[2];
    ck_assert_int_eq(ac_game_exact(g, phi, 2), AC_OK);
    ck_assert(phi[0] == 0.3 && phi[1] == 0.4);
    ac_game_free(g);
}
END_TEST

/* The test's own Shapley-Shubik count for integer weights: player i swings
 * coalition S (i not in S) when quota - w_i <= w(S) < quota; cnt[s][W]
 * counts coalitions of the others with s members and weight W. */
static void swing_dp(uint32_t n, const double *w, double quota, double *phi)
{
    enum { MAXW = 256 };
    static double cnt[41][MAXW];
    ck_assert_uint_le(n, 40);
    for (uint32_t i = 0; i < n; i++) {
        memset(cnt, 0, sizeof cnt);
        cnt[0][0] = 1;
        for (uint32_t j = 0; j < n; j++) {
            if (j == i)
                continue;
            int wj = (int)w[j];
            for (int s = (int)n - 1; s >= 1; s--)
                for (int W = MAXW - 1; W >= wj; W--)
                    cnt[s][W] += cnt[s - 1][W - wj];
        }
        double acc = 0;
        for (uint32_t s = 0; s < n; s++)
            for (int W = 0; W < MAXW; W++)
                if (W < quota && W + w[i] >= quota)
                    acc += cnt[s][W] * th_weight(n, s);
        phi[i] = acc;
    }
}

START_TEST(exact_voting_dp_large)
{
    /* n = 40 integer weights: too many coalitions for a table, so this is
     * the dynamic programme. Efficiency (v(all) = 1), equal weights get
     * equal credit, and credit grows with weight. */
    char text[1024];
    int pos = snprintf(text, sizeof text,
                       "{\"n\": 40, \"type\": \"voting\", \"quota\": 61, "
                       "\"weights\": [");
    double w[40], phi[40];
    for (uint32_t i = 0; i < 40; i++) {
        w[i] = (double)(1 + i % 5); /* total 120 */
        pos += snprintf(text + pos, sizeof text - (size_t)pos, "%s%g",
                        i ? ", " : "", w[i]);
    }
    snprintf(text + pos, sizeof text - (size_t)pos, "]}");
    ac_game *g = load_text(text);
    ck_assert_int_eq(ac_game_exact(g, phi, 40), AC_OK);
    ck_assert(fabs(th_sum(phi, 40) - 1.0) < 1e-12);
    for (uint32_t i = 5; i < 40; i++)
        ck_assert_msg(fabs(phi[i] - phi[i % 5]) < 1e-12,
                      "players %u and %u weigh the same", i, i % 5);
    double want[40];
    swing_dp(40, w, 61, want);
    th_assert_vec_near(phi, want, 40, 1e-12, "voting n = 40");
    ac_game_free(g);
}
END_TEST

START_TEST(exact_voting_dp_small_vs_count)
{
    /* The DP against brute force over the table for random integer weights
     * and quotas, n = 9 (512 coalitions). */
    th_rng r = th_rng_make(17 + (uint64_t)_i);
    char text[512];
    double w[9], total = 0, phi[9], want[9];
    int pos = snprintf(text, sizeof text,
                       "{\"n\": 9, \"type\": \"voting\", \"weights\": [");
    for (uint32_t i = 0; i < 9; i++) {
        w[i] = (double)(1 + th_rng_below(&r, 12));
        total += w[i];
        pos += snprintf(text + pos, sizeof text - (size_t)pos, "%s%g",
                        i ? ", " : "", w[i]);
    }
    double quota = 1 + floor(total * (0.3 + 0.1 * _i));
    snprintf(text + pos, sizeof text - (size_t)pos, "], \"quota\": %g}", quota);
    ac_game *g = load_text(text);
    th_game *ref = th_game_voting(9, w, quota);
    double *t = th_game_table(ref);
    th_shapley_subsets(9, t, want);
    ck_assert_int_eq(ac_game_exact(g, phi, 9), AC_OK);
    th_assert_vec_near(phi, want, 9, 1e-12, text);
    free(t);
    th_game_free(ref);
    ac_game_free(g);
}
END_TEST

START_TEST(exact_terms_large)
{
    /* a terms game at n = 300 in closed form, against the test's own */
    th_game *ref = th_game_soum(300, 60, 6, 300);
    size_t cap = 64 * 1024, pos = 0;
    char *text = malloc(cap);
    double phi[300], want[300];
    ck_assert_ptr_nonnull(text);
    pos += (size_t)snprintf(text, cap, "{\"n\": 300, \"terms\": [");
    for (uint32_t t = 0; t < ref->nterms; t++) {
        pos += (size_t)snprintf(text + pos, cap - pos,
                                "%s{\"coef\": %.17g, \"members\": [",
                                t ? ", " : "", ref->coef[t]);
        int first = 1;
        for (uint32_t i = 0; i < 300; i++)
            if (th_has(ref->members + (size_t)t * ref->words, i)) {
                pos += (size_t)snprintf(text + pos, cap - pos, "%s%u",
                                        first ? "" : ", ", i);
                first = 0;
            }
        pos += (size_t)snprintf(text + pos, cap - pos, "]}");
    }
    snprintf(text + pos, cap - pos, "]}");
    ac_game *g = load_text(text);
    ck_assert(th_game_closed_phi(ref, want));
    ck_assert_int_eq(ac_game_exact(g, phi, 300), AC_OK);
    th_assert_vec_near(phi, want, 300, 1e-12, "terms n = 300");
    free(text);
    th_game_free(ref);
    ac_game_free(g);
}
END_TEST

START_TEST(exact_none_applies)
{
    /* voting with non-integer weights at n = 40: no table, no DP, no given
     * exact values */
    char text[1024];
    int pos = snprintf(text, sizeof text,
                       "{\"n\": 40, \"type\": \"voting\", \"quota\": 10.5, "
                       "\"weights\": [");
    for (uint32_t i = 0; i < 40; i++)
        pos += snprintf(text + pos, sizeof text - (size_t)pos, "%s%.6f",
                        i ? ", " : "", 0.1 + 0.7071067 * (i % 7));
    snprintf(text + pos, sizeof text - (size_t)pos, "]}");
    ac_game *g = load_text(text);
    double phi[40];
    phi[0] = 9;
    ck_assert_int_eq(ac_game_exact(g, phi, 40), AC_E_TOO_LARGE);
    ck_assert(phi[0] == 9);
    ac_game_free(g);
}
END_TEST

/* ===================================================================== */
/* Noise                                                                 */
/* ===================================================================== */

START_TEST(bernoulli_draws)
{
    ac_game *g = load("bernoulli3.json");
    static const double p[8] = {0.0, 0.3, 0.2, 0.6, 0.1, 0.5, 0.4, 1.0};
    const int draws = 20000;
    ck_assert_int_eq(ac_game_seed(g, 11), AC_OK);
    for (uint64_t S = 0; S < 8; S++) {
        /* the game's value is the probability, without noise */
        ck_assert(value_mask(g, S) == p[S]);
        double ones = 0;
        for (int k = 0; k < draws; k++) {
            double x = draw(g, S);
            ck_assert_msg(x == 0.0 || x == 1.0, "draw %g", x);
            ones += x;
        }
        double mean = ones / draws;
        double tol = 4 * sqrt(p[S] * (1 - p[S]) / draws) + 1e-12;
        ck_assert_msg(fabs(mean - p[S]) <= tol, "S %llu: mean %g, p %g",
                      (unsigned long long)S, mean, p[S]);
    }
    ac_game_free(g);
}
END_TEST

START_TEST(gaussian_draws)
{
    ac_game *g = load("gaussian_soum4.json");
    const int draws = 20000;
    const double sd = 0.5;
    ck_assert_int_eq(ac_game_seed(g, 12), AC_OK);
    for (uint64_t S = 0; S < 16; S += 5) {
        double mu = value_mask(g, S), s1 = 0, s2 = 0;
        for (int k = 0; k < draws; k++) {
            double x = draw(g, S) - mu;
            s1 += x;
            s2 += x * x;
        }
        double mean = s1 / draws, var = s2 / draws - mean * mean;
        ck_assert_msg(fabs(mean) <= 4 * sd / sqrt(draws), "mean off by %g",
                      mean);
        /* sd of the sample variance ~ sd^2 sqrt(2 / draws) = 0.0025 */
        ck_assert_msg(fabs(var - sd * sd) <= 0.015, "variance %g", var);
    }
    ac_game_free(g);
}
END_TEST

START_TEST(seed_determinism)
{
    ac_game *a = load("gaussian_soum4.json"), *b = load("gaussian_soum4.json");
    double xa[50], xb[50];
    /* default seed 0 equals an explicit seed 0 */
    for (int k = 0; k < 50; k++)
        xa[k] = draw(a, (uint64_t)k % 16);
    ck_assert_int_eq(ac_game_seed(b, 0), AC_OK);
    for (int k = 0; k < 50; k++)
        xb[k] = draw(b, (uint64_t)k % 16);
    ck_assert(memcmp(xa, xb, sizeof xa) == 0);
    /* reseeding restarts the sequence */
    ck_assert_int_eq(ac_game_seed(a, 5), AC_OK);
    for (int k = 0; k < 50; k++)
        xa[k] = draw(a, 3);
    ck_assert_int_eq(ac_game_seed(a, 5), AC_OK);
    for (int k = 0; k < 50; k++)
        xb[k] = draw(a, 3);
    ck_assert(memcmp(xa, xb, sizeof xa) == 0);
    /* another seed, another sequence */
    ck_assert_int_eq(ac_game_seed(a, 6), AC_OK);
    for (int k = 0; k < 50; k++)
        xb[k] = draw(a, 3);
    ck_assert(memcmp(xa, xb, sizeof xa) != 0);
    /* the draws do vary */
    ck_assert(xa[0] != xa[1]);
    ac_game_free(a);
    ac_game_free(b);
}
END_TEST

/* ===================================================================== */
/* ac_game_oracle as an estimator's oracle                               */
/* ===================================================================== */

START_TEST(game_oracle_drives_estimator)
{
    static const char *const files[] = {"soum6.json", "airport5.json",
                                        "voting5.json"};
    ac_game *g = load(files[_i]);
    uint32_t n = players(g);
    ac_estimator *e = th_est(n, AC_METHOD_EXACT, 2048, 0);
    double phi[6], want[6];
    th_ok(ac_estimator_set_oracle(e, ac_game_oracle, g), e);
    th_ok(ac_estimator_run(e), e);
    th_ok(ac_estimator_result(e, phi, NULL, n), e);
    ck_assert_int_eq(ac_game_exact(g, want, n), AC_OK);
    th_assert_vec_near(phi, want, n, 1e-12, files[_i]);
    ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_FAILURES), 0);
    ac_estimator_free(e);
    ac_game_free(g);
}
END_TEST

START_TEST(game_oracle_batch_status)
{
    /* every slot of a batch gets a finite value and status 0 */
    ac_game *g = load("team12_gauss.json");
    uint64_t batch[40];
    double vals[40];
    int32_t st[40];
    for (int k = 0; k < 40; k++) {
        batch[k] = (uint64_t)k * 97u % 4096u;
        vals[k] = NAN;
        st[k] = 3;
    }
    ck_assert_int_eq(ac_game_oracle(g, batch, 1, 40, vals, st), 0);
    for (int k = 0; k < 40; k++)
        ck_assert(isfinite(vals[k]) && st[k] == 0);
    ac_game_free(g);
}
END_TEST

static Suite *game_suite(void)
{
    Suite *s = suite_create("game");
    TCase *tc = th_tcase(s, "formats");
    tcase_add_test(tc, values_format);
    tcase_add_test(tc, terms_format);
    tcase_add_test(tc, airport_format);
    tcase_add_test(tc, voting_format);
    tcase_add_test(tc, not_nul_terminated);
    tcase_add_test(tc, file_equals_text);
    tcase_add_test(tc, multiword_coalitions);
    tc = th_tcase(s, "exact");
    tcase_add_loop_test(tc, exact_vs_brute_force, 0, 8);
    tcase_add_test(tc, exact_closed_forms);
    tcase_add_test(tc, exact_given_is_returned);
    tcase_add_test(tc, exact_voting_dp_large);
    tcase_add_loop_test(tc, exact_voting_dp_small_vs_count, 0, 4);
    tcase_add_test(tc, exact_terms_large);
    tcase_add_test(tc, exact_none_applies);
    tc = th_tcase(s, "noise");
    tcase_add_test(tc, bernoulli_draws);
    tcase_add_test(tc, gaussian_draws);
    tcase_add_test(tc, seed_determinism);
    tc = th_tcase(s, "oracle");
    tcase_add_loop_test(tc, game_oracle_drives_estimator, 0, 3);
    tcase_add_test(tc, game_oracle_batch_status);
    return s;
}

int main(void)
{
    return th_run_suite(game_suite());
}
