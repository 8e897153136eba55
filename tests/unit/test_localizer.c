/* SPDX-License-Identifier: MIT
 *
 * The first-error localizer (ac_localizer), its failure blame and the
 * repair-aware preference pairs.
 *
 *  - exact: a monotone exact verifier, every strategy, batch and first-error
 *    position: the step is exact, with probability 1, in the documented
 *    number of calls; AUTO resolves as documented.
 *  - repairs in the run: a non-monotone exact verifier: LINEAR finds the
 *    first error, the corrective scan flags every later message.
 *  - noisy: seeded independent and repeatable verifiers: accuracy and
 *    calibration of the reported probability; a repeatable verifier is
 *    never asked the same prefix twice.
 *  - ask/tell: bit-identical to the callback driver, whatever the order and
 *    grouping of the tells; every ticket told once, stale or repeated
 *    tickets refused whole.
 *  - the corrective scan: whatever stops it (a cancel, a verifier failing
 *    past its retries, a callback) ends the scan, and the run succeeds
 *    with the result the search made.
 *  - scores, budget, failures, errors, blame labels through the refiner,
 *    preference pairs, out of memory at every allocation.
 *
 * Every verifier here is the test's own: the truth is a per-prefix on/off
 * pattern, and noise comes from the test's generator (th_rng) or from a
 * hash of (episode seed, prefix).
 */
#include "helpers.h"

#include <float.h>

/* Check's ck_assert_* marks a point even when it passes; the loops make
 * many checks, so they use this instead. */
#define REQUIRE(cond, ...)                                                   \
    do {                                                                     \
        if (!(cond))                                                         \
            ck_abort_msg(__VA_ARGS__);                                       \
    } while (0)

/* The call is made once: a failing one is not called again to print it. */
#define loc_ok(call, lh)                                                     \
    do {                                                                     \
        int ok_ = (call);                                                    \
        ck_assert_msg(ok_ == AC_OK, "%s returned %d (%s): %s", #call, ok_,   \
                      ac_status_name(ok_), ac_localizer_last_error(lh));     \
    } while (0)

#define loc_rc(call, want, lh)                                               \
    do {                                                                     \
        int rc_ = (call);                                                    \
        ck_assert_msg(rc_ == (want), "%s returned %d (%s), want %s: %s",     \
                      #call, rc_, ac_status_name(rc_), #want,                \
                      ac_localizer_last_error(lh));                          \
    } while (0)

#define assert_names(lh, kw)                                                 \
    ck_assert_msg(th_icontains(ac_localizer_last_error(lh), (kw)),           \
                  "last_error \"%s\" does not name \"%s\"",                  \
                  ac_localizer_last_error(lh), (kw))

#define MAX_T 160u  /* longest episode of these tests */
#define MAX_W 16u   /* widest batch of the ask/tell driver */
#define N_AUDIT 14  /* AC_LOCALIZER_AUDIT_* keys 1..14 */

/* ===================================================================== */
/* The test's verifier                                                   */
/* ===================================================================== */

typedef struct vf {
    uint32_t T;
    uint8_t on[MAX_T];          /* the truth: prefix t is on track        */
    int noise;                  /* AC_NOISE_* of this simulated verifier  */
    double p;                   /* its accuracy                           */
    uint64_t seed;              /* REPEATABLE: flips from hash(seed, t)   */
    th_rng rng;                 /* INDEPENDENT: flips and graded values   */
    int graded;                 /* answers in (0, 1) rather than 0 / 1    */
    double on_value, off_value; /* the answers when not graded            */
    uint32_t fail_first[MAX_T]; /* the first fail_first[t] asks of t fail */
    uint32_t always_fail;       /* this prefix always fails               */
    uint32_t bad_prefix;        /* this prefix is answered bad_value      */
    double bad_value;
    int ret;                    /* the callback's return value            */
    uint64_t act_at;            /* ret and reenter act from this call on
                                   (1-based; 0 or 1: from the first)      */
    ac_localizer *loc;          /* for the re-entrancy tests              */
    int reenter;                /* 1: drive loc from inside; 2: cancel    */
    int reenter_rc[8];
    char reenter_msg[256];
    /* what the library did */
    uint32_t asked[MAX_T];
    uint64_t calls, evals, failed, repeats, out_of_range, prefill_bad;
    uint32_t max_count;
} vf;

static void vf_init(vf *v, uint32_t T, uint32_t h)
{
    memset(v, 0, sizeof *v);
    ck_assert_uint_le(T, MAX_T);
    v->T = T;
    for (uint32_t t = 0; t < T; t++)
        v->on[t] = t < h;
    v->noise = AC_NOISE_NONE;
    v->p = 1.0;
    v->on_value = 1.0;
    v->off_value = 0.0;
    v->always_fail = UINT32_MAX;
    v->bad_prefix = UINT32_MAX;
    v->rng = th_rng_make(1);
}

static void vf_noisy(vf *v, int noise, double p, uint64_t seed)
{
    v->noise = noise;
    v->p = p;
    v->seed = seed;
    v->rng = th_rng_make(seed);
}

/* Uniform in [0, 1) from (seed, t) alone. */
static double hash_unif(uint64_t seed, uint64_t t)
{
    uint64_t x = th_mix(seed ^ th_mix(t * 0x9E3779B97F4A7C15ull + 0x51EDull));
    return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

static double vf_answer(vf *v, uint32_t t)
{
    int says = v->on[t];
    if (v->noise == AC_NOISE_INDEPENDENT) {
        if (th_rng_unif(&v->rng) >= v->p)
            says = !says;
    } else if (v->noise == AC_NOISE_REPEATABLE) {
        if (hash_unif(v->seed, t) >= v->p)
            says = !says;
    }
    if (v->graded) {
        double g = v->noise == AC_NOISE_REPEATABLE
                       ? hash_unif(v->seed + 7u, t)
                       : th_rng_unif(&v->rng);
        return says ? 0.55 + 0.4 * g : 0.05 + 0.4 * g;
    }
    return says ? v->on_value : v->off_value;
}

static void vf_reenter(vf *v)
{
    uint32_t buf[4], n = 9;
    uint64_t tk[4], ticket = 1; /* the run's first ticket, outstanding */
    double val = 1.0;
    ac_preference_pair pair;
    memset(&pair, 0, sizeof pair);
    pair.struct_size = sizeof pair;
    v->reenter_rc[0] = ac_localizer_ask(v->loc, 4, tk, buf, &n);
    snprintf(v->reenter_msg, sizeof v->reenter_msg, "%s",
             ac_localizer_last_error(v->loc));
    v->reenter_rc[1] = ac_localizer_tell(v->loc, 1, &ticket, &val, NULL);
    v->reenter_rc[2] = ac_localizer_run(v->loc);
    v->reenter_rc[3] = ac_localizer_set_int(v->loc, AC_LOCALIZER_PARAM_BATCH, 2);
    v->reenter_rc[4] = ac_localizer_reset(v->loc, AC_RESET_SESSION);
    v->reenter_rc[5] = ac_localizer_set_verifier(v->loc, NULL, NULL);
    v->reenter_rc[6] = ac_localizer_make_pair(v->loc, 1, &pair);
    v->reenter_rc[7] = (int)n; /* untouched by the refused ask: 9 */
}

static int vf_fn(void *user, const uint32_t *prefixes, uint32_t count,
                 double *p_on_track, int32_t *status)
{
    vf *v = user;
    v->calls++;
    if (count > v->max_count)
        v->max_count = count;
    int act = v->calls >= v->act_at;
    if (act && v->reenter == 1 && v->loc != NULL) {
        v->reenter = 0;
        vf_reenter(v);
    } else if (act && v->reenter == 2 && v->loc != NULL) {
        v->reenter = 0;
        ac_localizer_cancel(v->loc);
    }
    for (uint32_t k = 0; k < count; k++) {
        uint32_t t = prefixes[k];
        if (!isnan(p_on_track[k]) || status[k] != 0)
            v->prefill_bad++;
        if (t >= v->T) {
            v->out_of_range++;
            continue;
        }
        v->evals++;
        if (v->asked[t]++ > 0)
            v->repeats++;
        if (t == v->always_fail || v->asked[t] <= v->fail_first[t]) {
            /* a failed answer, four ways in turn */
            switch (v->failed++ % 4u) {
            case 0:
                status[k] = 7;
                p_on_track[k] = 1.0; /* the status alone fails it */
                break;
            case 1:
                p_on_track[k] = NAN;
                break;
            case 2:
                p_on_track[k] = INFINITY;
                break;
            default:
                p_on_track[k] = -INFINITY;
                break;
            }
            continue;
        }
        if (t == v->bad_prefix) {
            p_on_track[k] = v->bad_value;
            continue;
        }
        p_on_track[k] = vf_answer(v, t);
    }
    return act ? v->ret : 0;
}

/* ===================================================================== */
/* The test's repair and candidate check                                 */
/* ===================================================================== */

#define RP_ID(k) (0xC0FFEE00ull + (uint64_t)(k))

typedef struct rp {
    uint32_t n;           /* candidates proposed                    */
    int overclaim;        /* *count = max_count + 1                 */
    double p[64];         /* the check's answer per candidate       */
    int32_t st[64];       /* and its status                         */
    int repair_ret, check_ret;
    uint32_t check_ret_from; /* check_ret from this check call on
                                (1-based; 0 or 1: from the first)  */
    uint32_t fail_first[64]; /* the first fail_first[k] checks of
                                candidate k fail                   */
    ac_localizer *loc;    /* re-entrancy from the repair callback   */
    int reenter_rc;
    /* what the library did */
    uint32_t step_seen, check_step_seen, max_seen;
    uint32_t repair_calls, check_calls, checked, bad_ids, prefill_bad;
    uint32_t attempts[64]; /* checks per candidate */
} rp;

static void rp_init(rp *r, uint32_t n, const double *p)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    for (uint32_t k = 0; k < n && k < 64; k++)
        r->p[k] = p ? p[k] : 0.0;
    r->step_seen = r->check_step_seen = UINT32_MAX;
}

static int rp_repair(void *user, uint32_t step, uint32_t max_count,
                     uint64_t *candidates, uint32_t *count)
{
    rp *r = user;
    r->repair_calls++;
    r->step_seen = step;
    r->max_seen = max_count;
    if (r->loc != NULL) {
        ac_preference_pair q;
        memset(&q, 0, sizeof q);
        q.struct_size = sizeof q;
        r->reenter_rc = ac_localizer_make_pair(r->loc, 1, &q);
    }
    if (r->repair_ret != 0)
        return r->repair_ret;
    uint32_t n = r->n < max_count ? r->n : max_count;
    for (uint32_t k = 0; k < n; k++)
        candidates[k] = RP_ID(k);
    *count = r->overclaim ? max_count + 1u : n;
    return 0;
}

static int rp_check(void *user, uint32_t step, const uint64_t *candidates,
                    uint32_t count, double *p_on_track, int32_t *status)
{
    rp *r = user;
    r->check_calls++;
    r->checked += count;
    r->check_step_seen = step;
    for (uint32_t k = 0; k < count; k++) {
        if (!isnan(p_on_track[k]) || status[k] != 0)
            r->prefill_bad++;
        uint64_t idx = candidates[k] - RP_ID(0);
        if (candidates[k] < RP_ID(0) || idx >= r->n) {
            r->bad_ids++;
            continue;
        }
        if (r->attempts[idx]++ < r->fail_first[idx]) {
            /* a failed answer, three ways in turn; the first with a
             * tempting value that must not be read */
            switch (r->attempts[idx] % 3u) {
            case 1:
                p_on_track[k] = 0.999;
                status[k] = 5;
                break;
            case 2:
                p_on_track[k] = NAN;
                break;
            default:
                p_on_track[k] = -INFINITY;
                break;
            }
            continue;
        }
        p_on_track[k] = r->p[idx];
        status[k] = r->st[idx];
    }
    return r->check_calls >= r->check_ret_from ? r->check_ret : 0;
}

/* ===================================================================== */
/* Small helpers                                                         */
/* ===================================================================== */

static ac_preference_pair blank_pair(void)
{
    ac_preference_pair p;
    memset(&p, 0xA5, sizeof p);
    p.struct_size = sizeof p;
    return p;
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static ac_localizer *new_loc(uint32_t T, int64_t strategy, int64_t W)
{
    ac_localizer *l = NULL;
    int rc = ac_localizer_create(&l, T, NULL);
    REQUIRE(rc == AC_OK && l != NULL, "create(%u): %d", T, rc);
    rc = ac_localizer_set_int(l, AC_LOCALIZER_PARAM_STRATEGY, strategy);
    REQUIRE(rc == AC_OK, "strategy %lld: %s", (long long)strategy,
            ac_localizer_last_error(l));
    rc = ac_localizer_set_int(l, AC_LOCALIZER_PARAM_BATCH, W);
    REQUIRE(rc == AC_OK, "batch %lld: %s", (long long)W,
            ac_localizer_last_error(l));
    return l;
}

static void set_i(ac_localizer *l, ac_localizer_param param, int64_t value)
{
    int rc = ac_localizer_set_int(l, param, value);
    REQUIRE(rc == AC_OK, "set_int(%d, %lld): %s", (int)param,
            (long long)value, ac_localizer_last_error(l));
}

static void set_f(ac_localizer *l, ac_localizer_param param, double value)
{
    int rc = ac_localizer_set_f64(l, param, value);
    REQUIRE(rc == AC_OK, "set_f64(%d, %g): %s", (int)param, value,
            ac_localizer_last_error(l));
}

static int64_t audit(const ac_localizer *l, ac_localizer_audit_key key)
{
    int64_t v = -12345;
    int rc = ac_localizer_audit(l, key, &v);
    REQUIRE(rc == AC_OK, "audit key %d: %d", (int)key, rc);
    return v;
}

/* Everything a finished run reports. */
typedef struct lres {
    int rc;
    int64_t step;
    uint32_t agent;
    double prob;
    double post[MAX_T + 1];
    uint32_t flags[MAX_T];
    double labels[MAX_T];
    int64_t audit[N_AUDIT + 1];
} lres;

static void collect(const ac_localizer *l, uint32_t T, int rc, lres *r)
{
    memset(r, 0, sizeof *r);
    r->rc = rc;
    for (int k = 1; k <= N_AUDIT; k++)
        r->audit[k] = audit(l, (ac_localizer_audit_key)k);
    if (rc != AC_OK)
        return;
    int e = ac_localizer_result(l, &r->step, &r->agent, &r->prob);
    REQUIRE(e == AC_OK, "result: %d %s", e, ac_localizer_last_error(l));
    e = ac_localizer_posterior(l, r->post, T + 1);
    REQUIRE(e == AC_OK, "posterior: %d", e);
    e = ac_localizer_step_flags(l, r->flags, T);
    REQUIRE(e == AC_OK, "step_flags: %d", e);
    e = ac_localizer_blame_labels(l, r->labels, T);
    REQUIRE(e == AC_OK, "blame_labels: %d", e);
}

/* The same status and, on success, the same result bit for bit (the
 * audit aside). */
static void assert_same_result(const lres *a, const lres *b, uint32_t T,
                               const char *what)
{
    REQUIRE(a->rc == b->rc, "%s: status %d vs %d", what, a->rc, b->rc);
    if (a->rc != AC_OK)
        return;
    REQUIRE(a->step == b->step && a->agent == b->agent,
            "%s: step %lld/%u vs %lld/%u", what, (long long)a->step,
            a->agent, (long long)b->step, b->agent);
    REQUIRE(same_bits(a->prob, b->prob), "%s: probability %.17g vs %.17g",
            what, a->prob, b->prob);
    for (uint32_t h = 0; h <= T; h++)
        REQUIRE(same_bits(a->post[h], b->post[h]),
                "%s: posterior[%u] %.17g vs %.17g", what, h, a->post[h],
                b->post[h]);
    for (uint32_t t = 0; t < T; t++) {
        REQUIRE(a->flags[t] == b->flags[t], "%s: flags[%u] %u vs %u", what,
                t, a->flags[t], b->flags[t]);
        REQUIRE(same_bits(a->labels[t], b->labels[t]),
                "%s: labels[%u] %.17g vs %.17g", what, t, a->labels[t],
                b->labels[t]);
    }
}

/* The same status, audit and result. */
static void assert_same(const lres *a, const lres *b, uint32_t T,
                        const char *what)
{
    REQUIRE(a->rc == b->rc, "%s: status %d vs %d", what, a->rc, b->rc);
    for (int k = 1; k <= N_AUDIT; k++)
        REQUIRE(a->audit[k] == b->audit[k], "%s: audit %d: %lld vs %lld",
                what, k, (long long)a->audit[k], (long long)b->audit[k]);
    assert_same_result(a, b, T, what);
}

static uint32_t ceil_log2(uint64_t x)
{
    uint32_t k = 0;
    while (((uint64_t)1 << k) < x)
        k++;
    return k;
}

/* The flags the header prescribes for a fully judged episode with first
 * error h and truth on[]. */
static void expected_flags(const uint8_t *on, uint32_t T, uint32_t h,
                           uint32_t *flags)
{
    for (uint32_t t = 0; t < T; t++)
        flags[t] = 0;
    if (h >= T)
        return;
    flags[h] = AC_STEP_FLAG_FIRST_ERROR;
    int rejected = 1;
    for (uint32_t t = h + 1; t < T; t++) {
        if (on[t]) {
            flags[t] = rejected ? AC_STEP_FLAG_CORRECTIVE : AC_STEP_FLAG_RECOVERED;
            rejected = 0;
        } else {
            flags[t] = AC_STEP_FLAG_PROPAGATES;
            rejected = 1;
        }
    }
}

static void shuffle_u32(th_rng *rng, uint32_t *a, uint32_t len)
{
    for (uint32_t i = len; i > 1; i--) {
        uint32_t j = th_rng_below(rng, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* Drives l through ask/tell with v as the judge. mode 0: the whole round
 * at once, told back shuffled in random groups; mode 1: random chunks of
 * the round, each told (shuffled) before the next ask. Checks progress,
 * that a second ask hands out nothing while answers are outstanding, and
 * that no ticket is handed out twice. */
static int drive_asktell(ac_localizer *l, vf *v, th_rng *r, uint32_t W,
                         int mode)
{
    uint32_t pre[MAX_W], extra[MAX_W], idx[MAX_W];
    uint64_t tk[MAX_W], etk[MAX_W], tt[MAX_W], last = 0;
    double val[MAX_W], tv[MAX_W];
    int32_t st[MAX_W], ts[MAX_W];
    REQUIRE(W <= MAX_W, "W %u too wide for the driver", W);
    for (uint32_t guard = 0; guard < 200000u; guard++) {
        uint32_t want = mode == 0 ? W : 1u + th_rng_below(r, W);
        uint32_t n = 777;
        int rc = ac_localizer_ask(l, want, tk, pre, &n);
        if (rc != AC_OK)
            return rc;
        int32_t done = -1;
        uint64_t out = 999;
        REQUIRE(ac_localizer_progress(l, &done, &out) == AC_OK, "progress");
        if (n == 0) {
            REQUIRE(done == 1 && out == 0,
                    "ask handed out nothing, yet done %d, outstanding %llu",
                    done, (unsigned long long)out);
            return AC_OK;
        }
        REQUIRE(n <= want, "ask handed out %u > %u", n, want);
        REQUIRE(done == 0 && out == n, "after ask: done %d, outstanding "
                "%llu, handed %u", done, (unsigned long long)out, n);
        /* tickets count up and are never reused */
        for (uint32_t k = 0; k < n; k++) {
            REQUIRE(tk[k] > last, "ticket %llu after %llu",
                    (unsigned long long)tk[k], (unsigned long long)last);
            last = tk[k];
        }
        if (mode == 0) {
            uint32_t n2 = 777;
            rc = ac_localizer_ask(l, W, etk, extra, &n2);
            REQUIRE(rc == AC_OK && n2 == 0,
                    "ask while %u outstanding: rc %d, handed %u", n, rc, n2);
            REQUIRE(ac_localizer_progress(l, &done, &out) == AC_OK &&
                        out == n,
                    "outstanding %llu after an empty ask, want %u",
                    (unsigned long long)out, n);
        }
        for (uint32_t k = 0; k < n; k++) {
            val[k] = NAN;
            st[k] = 0;
            idx[k] = k;
        }
        (void)vf_fn(v, pre, n, val, st);
        int any_status = 0;
        for (uint32_t k = 0; k < n; k++)
            any_status |= st[k] != 0;
        shuffle_u32(r, idx, n);
        uint32_t told = 0;
        while (told < n) {
            uint32_t g = mode == 0 ? 1u + th_rng_below(r, n - told) : n - told;
            for (uint32_t j = 0; j < g; j++) {
                tt[j] = tk[idx[told + j]];
                tv[j] = val[idx[told + j]];
                ts[j] = st[idx[told + j]];
            }
            rc = ac_localizer_tell(l, g, tt, tv,
                                   any_status || (guard & 1u) ? ts : NULL);
            if (rc != AC_OK)
                return rc;
            told += g;
            REQUIRE(ac_localizer_progress(l, &done, &out) == AC_OK &&
                        out == n - told,
                    "outstanding %llu after telling %u of %u",
                    (unsigned long long)out, told, n);
        }
    }
    ck_abort_msg("ask/tell did not finish");
    return AC_E_STATE;
}

/* ===================================================================== */
/* 1. Exact monotone verifier: every strategy, batch and position        */
/* ===================================================================== */

static const uint32_t EXACT_T[] = {1, 2, 3, 8, 33, 128};
static const uint32_t EXACT_W[] = {1, 2, 3, 7};
static const int64_t EXACT_S[] = {AC_STRATEGY_LINEAR, AC_STRATEGY_BINARY,
                                  AC_STRATEGY_BISECTION, AC_STRATEGY_AUTO};

START_TEST(exact_monotone_every_position)
{
    vf v;
    for (size_t si = 0; si < sizeof EXACT_S / sizeof EXACT_S[0]; si++)
    for (size_t wi = 0; wi < sizeof EXACT_W / sizeof EXACT_W[0]; wi++)
    for (size_t ti = 0; ti < sizeof EXACT_T / sizeof EXACT_T[0]; ti++) {
        int64_t S = EXACT_S[si];
        uint32_t W = EXACT_W[wi], T = EXACT_T[ti];
        int64_t resolved = S == AC_STRATEGY_AUTO ? AC_STRATEGY_BINARY : S;
        uint32_t worst_binary = 0;
        for (uint32_t h = 0; h <= T; h++) {
            vf_init(&v, T, h);
            ac_localizer *l = new_loc(T, S, W);
            ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
            int rc = ac_localizer_run(l);
            REQUIRE(rc == AC_OK, "S %lld W %u T %u h %u: run %d %s",
                    (long long)S, W, T, h, rc, ac_localizer_last_error(l));
            int64_t step = -7;
            uint32_t agent = 7;
            double prob = -1.0;
            ck_assert_int_eq(ac_localizer_result(l, &step, &agent, &prob),
                             AC_OK);
            int64_t want = h == T ? -1 : (int64_t)h;
            REQUIRE(step == want && prob == 1.0 && agent == UINT32_MAX,
                    "S %lld W %u T %u h %u: step %lld prob %.17g agent %u",
                    (long long)S, W, T, h, (long long)step, prob, agent);
            int64_t outcome = audit(l, AC_LOCALIZER_AUDIT_OUTCOME);
            REQUIRE(outcome == (h == T ? AC_LOCALIZER_OUTCOME_NO_ERROR : AC_LOCALIZER_OUTCOME_FOUND),
                    "S %lld W %u T %u h %u: outcome %lld", (long long)S, W,
                    T, h, (long long)outcome);
            REQUIRE(audit(l, AC_LOCALIZER_AUDIT_STRATEGY) == resolved,
                    "S %lld: resolved to %lld", (long long)S,
                    (long long)audit(l, AC_LOCALIZER_AUDIT_STRATEGY));
            int64_t calls = audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS);
            int64_t sc = audit(l, AC_LOCALIZER_AUDIT_SEARCH_EVALUATIONS);
            int64_t sr = audit(l, AC_LOCALIZER_AUDIT_SEARCH_ROUNDS);
            int64_t scan = audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS);
            REQUIRE(calls == sc + scan && (uint64_t)calls == v.evals,
                    "S %lld W %u T %u h %u: calls %lld = search %lld + scan "
                    "%lld, verifier saw %llu", (long long)S, W, T, h,
                    (long long)calls, (long long)sc, (long long)scan,
                    (unsigned long long)v.evals);
            REQUIRE((uint64_t)audit(l, AC_LOCALIZER_AUDIT_ROUNDS) == v.calls,
                    "rounds %lld, verifier calls %llu",
                    (long long)audit(l, AC_LOCALIZER_AUDIT_ROUNDS),
                    (unsigned long long)v.calls);
            REQUIRE(sr * (int64_t)W >= sc, "search rounds %lld * W %u < "
                    "search calls %lld", (long long)sr, W, (long long)sc);
            REQUIRE(v.repeats == 0 && v.out_of_range == 0 &&
                        v.prefill_bad == 0 && v.max_count <= W,
                    "S %lld W %u T %u h %u: repeats %llu, out of range %llu,"
                    " prefill %llu, batch %u", (long long)S, W, T, h,
                    (unsigned long long)v.repeats,
                    (unsigned long long)v.out_of_range,
                    (unsigned long long)v.prefill_bad, v.max_count);
            REQUIRE(audit(l, AC_LOCALIZER_AUDIT_FAILURES) == 0 &&
                        audit(l, AC_LOCALIZER_AUDIT_RETRIES) == 0,
                    "failures without failing answers");
            if (resolved == AC_STRATEGY_BINARY && W == 1) {
                REQUIRE(sc <= (int64_t)ceil_log2((uint64_t)T + 1u),
                        "BINARY T %u h %u: %lld search calls > ceil(log2(T+1))"
                        " = %u", T, h, (long long)sc,
                        ceil_log2((uint64_t)T + 1u));
                if ((uint32_t)sc > worst_binary)
                    worst_binary = (uint32_t)sc;
            }
            uint32_t lin = h + 1u < T ? h + 1u : T;
            if (resolved == AC_STRATEGY_LINEAR) {
                REQUIRE(W > 1 || sc == (int64_t)lin,
                        "LINEAR T %u h %u: %lld search calls, want %u", T, h,
                        (long long)sc, lin);
                REQUIRE(sc >= (int64_t)lin &&
                            sc <= (int64_t)(h + W < T ? h + W : T),
                        "LINEAR W %u T %u h %u: %lld search calls", W, T, h,
                        (long long)sc);
            }
            /* the posterior: all mass on the truth */
            double post[MAX_T + 1];
            ck_assert_int_eq(ac_localizer_posterior(l, post, T + 1), AC_OK);
            for (uint32_t u = 0; u <= T; u++)
                REQUIRE(post[u] == (u == h ? 1.0 : 0.0),
                        "T %u h %u: posterior[%u] = %.17g", T, h, u, post[u]);
            double within = -1.0;
            ck_assert_int_eq(ac_localizer_probability_within(l, 0, &within),
                             AC_OK);
            REQUIRE(within == 1.0, "within 0: %.17g", within);
            /* the scan judged every later prefix: flags as prescribed */
            uint32_t flags[MAX_T], want_flags[MAX_T];
            ck_assert_int_eq(ac_localizer_step_flags(l, flags, T), AC_OK);
            expected_flags(v.on, T, h, want_flags);
            for (uint32_t t = 0; t < T; t++)
                REQUIRE(flags[t] == want_flags[t],
                        "S %lld W %u T %u h %u: flags[%u] = %u, want %u",
                        (long long)S, W, T, h, t, flags[t], want_flags[t]);
            if (h < T) {
                REQUIRE(audit(l, AC_LOCALIZER_AUDIT_SCAN_COMPLETE) == 1,
                        "scan incomplete with budget to spare");
                for (uint32_t t = h + 1; t < T; t++)
                    REQUIRE(v.asked[t] == 1, "prefix %u after the error asked"
                            " %u times", t, v.asked[t]);
            }
            int32_t done = 0;
            uint64_t out = 9;
            ck_assert_int_eq(ac_localizer_progress(l, &done, &out), AC_OK);
            REQUIRE(done == 1 && out == 0, "progress %d %llu", done,
                    (unsigned long long)out);
            ac_localizer_free(l);
        }
        /* ceil(log2(T+1)) is also what some position needs: the bound of
         * any deterministic search, reached */
        if (resolved == AC_STRATEGY_BINARY && W == 1)
            REQUIRE(worst_binary == ceil_log2((uint64_t)T + 1u),
                    "BINARY T %u: worst case %u calls, want %u", T,
                    worst_binary, ceil_log2((uint64_t)T + 1u));
    }
}
END_TEST

/* T = 1 and the last step, written out. */
START_TEST(exact_edges_written_out)
{
    vf v;
    int64_t step;
    double prob;
    /* T = 1, error at step 0: one call, prefix 0 */
    for (size_t si = 0; si < sizeof EXACT_S / sizeof EXACT_S[0]; si++) {
        vf_init(&v, 1, 0);
        ac_localizer *l = new_loc(1, EXACT_S[si], 1);
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        loc_ok(ac_localizer_run(l), l);
        loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
        ck_assert_int_eq(step, 0);
        ck_assert(prob == 1.0);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME), AC_LOCALIZER_OUTCOME_FOUND);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 1);
        ck_assert_uint_eq(v.asked[0], 1);
        uint32_t fl = 99;
        loc_ok(ac_localizer_step_flags(l, &fl, 1), l);
        ck_assert_uint_eq(fl, AC_STEP_FLAG_FIRST_ERROR);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_COMPLETE), 1);
        ac_localizer_free(l);

        /* T = 1, no error: step -1 */
        vf_init(&v, 1, 1);
        l = new_loc(1, EXACT_S[si], 1);
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        loc_ok(ac_localizer_run(l), l);
        loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
        ck_assert_int_eq(step, -1);
        ck_assert(prob == 1.0);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME), AC_LOCALIZER_OUTCOME_NO_ERROR);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 1);
        fl = 99;
        loc_ok(ac_localizer_step_flags(l, &fl, 1), l);
        ck_assert_uint_eq(fl, 0);
        ac_localizer_free(l);
    }
    /* T = 16, error at the last step (15): BINARY, ceil(log2 17) = 5 */
    vf_init(&v, 16, 15);
    ac_localizer *l = new_loc(16, AC_STRATEGY_BINARY, 1);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
    ck_assert_int_eq(step, 15);
    ck_assert(prob == 1.0);
    ck_assert_int_le(audit(l, AC_LOCALIZER_AUDIT_SEARCH_EVALUATIONS), 5);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS), 0); /* none after */
    ck_assert_uint_eq(v.asked[15], 1);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_COMPLETE), 1);
    ac_localizer_free(l);
    /* LINEAR at the last step: T calls exactly */
    vf_init(&v, 16, 15);
    l = new_loc(16, AC_STRATEGY_LINEAR, 1);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
    ck_assert_int_eq(step, 15);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 16);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SEARCH_ROUNDS), 16);
    ac_localizer_free(l);
    /* error at step 0 of a long episode: LINEAR needs one search call */
    vf_init(&v, 50, 0);
    l = new_loc(50, AC_STRATEGY_LINEAR, 1);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
    ck_assert_int_eq(step, 0);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SEARCH_EVALUATIONS), 1);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS), 49);
    ac_localizer_free(l);
}
END_TEST

static int64_t resolved_strategy(int monotone, int noise, int scores,
                                 int verifier)
{
    vf v;
    vf_init(&v, 12, 5);
    ac_localizer *l = new_loc(12, AC_STRATEGY_AUTO, 1);
    set_i(l, AC_LOCALIZER_PARAM_MONOTONE, monotone);
    set_i(l, AC_LOCALIZER_PARAM_NOISE, noise);
    if (noise != AC_NOISE_NONE)
        vf_noisy(&v, noise, 0.8, 99);
    if (scores) {
        double s[12] = {0.1, 0.1, 0.2, 0.1, 0.3, 0.9, 0.1, 0.1, 0, 0, 1, 0};
        loc_ok(ac_localizer_set_scores(l, s, 12), l);
    }
    int rc;
    if (verifier) {
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        rc = ac_localizer_run(l);
    } else {
        th_rng r = th_rng_make(5);
        rc = drive_asktell(l, &v, &r, 1, 0);
    }
    loc_ok(rc, l);
    int64_t s = audit(l, AC_LOCALIZER_AUDIT_STRATEGY);
    int64_t step;
    loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
    if (noise == AC_NOISE_NONE)
        ck_assert_int_eq(step, 5); /* SCORES also says 5 */
    if (s == AC_STRATEGY_SCORES)
        ck_assert_uint_eq(v.evals, 0);
    ac_localizer_free(l);
    return s;
}

START_TEST(auto_resolution)
{
    ck_assert_int_eq(resolved_strategy(1, AC_NOISE_NONE, 0, 1), AC_STRATEGY_BINARY);
    ck_assert_int_eq(resolved_strategy(0, AC_NOISE_NONE, 0, 1), AC_STRATEGY_LINEAR);
    ck_assert_int_eq(resolved_strategy(1, AC_NOISE_INDEPENDENT, 0, 1),
                     AC_STRATEGY_BISECTION);
    ck_assert_int_eq(resolved_strategy(1, AC_NOISE_REPEATABLE, 0, 1),
                     AC_STRATEGY_BISECTION);
    ck_assert_int_eq(resolved_strategy(0, AC_NOISE_INDEPENDENT, 0, 1),
                     AC_STRATEGY_BISECTION);
    /* scores and no verifier: SCORES (ask/tell hands out nothing) */
    ck_assert_int_eq(resolved_strategy(1, AC_NOISE_NONE, 1, 0), AC_STRATEGY_SCORES);
    /* scores, but a verifier too: the verifier wins */
    ck_assert_int_eq(resolved_strategy(1, AC_NOISE_NONE, 1, 1), AC_STRATEGY_BINARY);
    /* ask/tell without scores: the exact rule */
    ck_assert_int_eq(resolved_strategy(1, AC_NOISE_NONE, 0, 0), AC_STRATEGY_BINARY);
    ck_assert_int_eq(resolved_strategy(0, AC_NOISE_NONE, 0, 0), AC_STRATEGY_LINEAR);
}
END_TEST

/* ===================================================================== */
/* 2. Non-monotone exact verifier: repairs inside the episode            */
/* ===================================================================== */

/* A truth with its first error at h and later messages switching between
 * on and off (a repair, then maybe another error). */
static void random_pattern(th_rng *r, uint8_t *on, uint32_t T, uint32_t h)
{
    for (uint32_t t = 0; t < T; t++)
        on[t] = t < h;
    int state = 0;
    for (uint32_t t = h + 1; t < T; t++) {
        if (th_rng_unif(r) < 0.3)
            state = !state;
        on[t] = (uint8_t)state;
    }
}

START_TEST(non_monotone_hand_case)
{
    /* off on [2, 5), on from 5 (the repair), off again at 8 */
    static const uint8_t truth[10] = {1, 1, 0, 0, 0, 1, 1, 1, 0, 0};
    static const uint32_t want[10] = {
        0, 0, AC_STEP_FLAG_FIRST_ERROR, AC_STEP_FLAG_PROPAGATES, AC_STEP_FLAG_PROPAGATES,
        AC_STEP_FLAG_CORRECTIVE, AC_STEP_FLAG_RECOVERED, AC_STEP_FLAG_RECOVERED,
        AC_STEP_FLAG_PROPAGATES, AC_STEP_FLAG_PROPAGATES};
    vf v;
    vf_init(&v, 10, 0);
    memcpy(v.on, truth, sizeof truth);
    ac_localizer *l = new_loc(10, AC_STRATEGY_AUTO, 1);
    set_i(l, AC_LOCALIZER_PARAM_MONOTONE, 0);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    int64_t step;
    double prob;
    loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
    ck_assert_int_eq(step, 2);
    ck_assert(prob == 1.0);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_STRATEGY), AC_STRATEGY_LINEAR);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SEARCH_EVALUATIONS), 3);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS), 7);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_COMPLETE), 1);
    uint32_t flags[10];
    loc_ok(ac_localizer_step_flags(l, flags, 10), l);
    for (uint32_t t = 0; t < 10; t++)
        ck_assert_msg(flags[t] == want[t], "flags[%u] = %u, want %u", t,
                      flags[t], want[t]);
    ac_localizer_free(l);

    /* scan off: every message after the error propagates it */
    vf_init(&v, 10, 0);
    memcpy(v.on, truth, sizeof truth);
    l = new_loc(10, AC_STRATEGY_LINEAR, 1);
    set_i(l, AC_LOCALIZER_PARAM_SCAN_AFTER, 0);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
    ck_assert_int_eq(step, 2);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS), 0);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 3);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_COMPLETE), 0);
    loc_ok(ac_localizer_step_flags(l, flags, 10), l);
    for (uint32_t t = 0; t < 10; t++)
        ck_assert_uint_eq(flags[t], t < 2 ? 0u
                                    : t == 2 ? AC_STEP_FLAG_FIRST_ERROR
                                             : AC_STEP_FLAG_PROPAGATES);
    ac_localizer_free(l);
}
END_TEST

START_TEST(non_monotone_random)
{
    th_rng r = th_rng_make(202);
    vf v;
    static const struct {
        int64_t strategy, monotone;
        uint32_t W;
    } variants[] = {{AC_STRATEGY_LINEAR, 1, 1}, {AC_STRATEGY_LINEAR, 0, 3},
                    {AC_STRATEGY_AUTO, 0, 1},   {AC_STRATEGY_AUTO, 0, 2},
                    {AC_STRATEGY_LINEAR, 1, 7}};
    for (int ep = 0; ep < 300; ep++) {
        uint32_t T = 2u + th_rng_below(&r, 60);
        uint32_t h = th_rng_below(&r, T);
        uint8_t on[MAX_T];
        random_pattern(&r, on, T, h);
        uint32_t want[MAX_T], flags[MAX_T];
        expected_flags(on, T, h, want);
        for (size_t vi = 0; vi < sizeof variants / sizeof variants[0]; vi++) {
            vf_init(&v, T, 0);
            memcpy(v.on, on, T);
            ac_localizer *l = new_loc(T, variants[vi].strategy,
                                      variants[vi].W);
            set_i(l, AC_LOCALIZER_PARAM_MONOTONE, variants[vi].monotone);
            ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
            int rc = ac_localizer_run(l);
            REQUIRE(rc == AC_OK, "run: %s", ac_localizer_last_error(l));
            int64_t step;
            double prob;
            loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
            REQUIRE(step == (int64_t)h && prob == 1.0,
                    "ep %d variant %zu T %u: step %lld (want %u) prob %.17g",
                    ep, vi, T, (long long)step, h, prob);
            REQUIRE(audit(l, AC_LOCALIZER_AUDIT_STRATEGY) == AC_STRATEGY_LINEAR,
                    "not LINEAR");
            REQUIRE(audit(l, AC_LOCALIZER_AUDIT_OUTCOME) == AC_LOCALIZER_OUTCOME_FOUND,
                    "outcome");
            REQUIRE(audit(l, AC_LOCALIZER_AUDIT_SCAN_COMPLETE) == 1,
                    "ep %d: scan incomplete", ep);
            REQUIRE(v.repeats == 0 && audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS) <= T,
                    "ep %d: %llu repeats, %lld calls for T %u", ep,
                    (unsigned long long)v.repeats,
                    (long long)audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), T);
            loc_ok(ac_localizer_step_flags(l, flags, T), l);
            for (uint32_t t = 0; t < T; t++)
                REQUIRE(flags[t] == want[t],
                        "ep %d variant %zu T %u h %u: flags[%u] = %u, want %u",
                        ep, vi, T, h, t, flags[t], want[t]);
            ac_localizer_free(l);
        }
        /* the scan off, W = 1: everything after h propagates */
        vf_init(&v, T, 0);
        memcpy(v.on, on, T);
        ac_localizer *l = new_loc(T, AC_STRATEGY_LINEAR, 1);
        set_i(l, AC_LOCALIZER_PARAM_SCAN_AFTER, 0);
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        loc_ok(ac_localizer_run(l), l);
        REQUIRE(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS) == (int64_t)h + 1 &&
                    audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS) == 0,
                "scan off: %lld calls", (long long)audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS));
        loc_ok(ac_localizer_step_flags(l, flags, T), l);
        for (uint32_t t = 0; t < T; t++)
            REQUIRE(flags[t] == (t < h ? 0u
                                 : t == h ? AC_STEP_FLAG_FIRST_ERROR
                                          : AC_STEP_FLAG_PROPAGATES),
                    "scan off: flags[%u] = %u", t, flags[t]);
        ac_localizer_free(l);
    }
}
END_TEST

/* The budget stops the scan: SCAN_COMPLETE 0; judged messages keep their
 * flags; a message never judged is flagged PROPAGATES ("after it, rejected
 * (or not judged)"). */
START_TEST(partial_scan)
{
    static const uint8_t truth[20] = {1, 1, 1, 0, 0, 1, 1, 0, 1, 1,
                                      1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    vf v;
    vf_init(&v, 20, 0);
    memcpy(v.on, truth, sizeof truth);
    ac_localizer *l = new_loc(20, AC_STRATEGY_LINEAR, 1);
    set_i(l, AC_LOCALIZER_PARAM_BUDGET, 4 + 2); /* the search, then prefixes 4 and 5 */
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    int64_t step;
    loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
    ck_assert_int_eq(step, 3);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 6);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS), 2);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_COMPLETE), 0);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME), AC_LOCALIZER_OUTCOME_FOUND);
    uint32_t flags[20];
    loc_ok(ac_localizer_step_flags(l, flags, 20), l);
    ck_assert_uint_eq(flags[3], AC_STEP_FLAG_FIRST_ERROR);
    ck_assert_uint_eq(flags[4], AC_STEP_FLAG_PROPAGATES);
    ck_assert_uint_eq(flags[5], AC_STEP_FLAG_CORRECTIVE);
    /* Messages 6..19 were never judged: AC_STEP_FLAG_PROPAGATES ("after it,
     * rejected (or not judged)"). A fixed bug carried the last judged
     * state forward and flagged them AC_STEP_FLAG_RECOVERED. */
    ac_localizer_free(l);
    for (uint32_t t = 6; t < 20; t++)
        ck_assert_msg(flags[t] == AC_STEP_FLAG_PROPAGATES,
                      "never judged message %u flagged %u, want "
                      "AC_STEP_FLAG_PROPAGATES (%u)", t, flags[t],
                      AC_STEP_FLAG_PROPAGATES);
}
END_TEST

/* ===================================================================== */
/* 3. Noisy verifiers                                                    */
/* ===================================================================== */

START_TEST(noisy_independent_bisection)
{
    const uint32_t T = 64, N = 300;
    const double p = 0.8;
    th_rng r = th_rng_make(303);
    vf v;
    uint32_t correct = 0;
    double sum_prob = 0.0;
    uint64_t repeats = 0;
    for (uint32_t ep = 0; ep < N; ep++) {
        uint32_t h = th_rng_below(&r, T + 1);
        vf_init(&v, T, h);
        vf_noisy(&v, AC_NOISE_INDEPENDENT, p, 1000u + ep);
        ac_localizer *l = new_loc(T, AC_STRATEGY_BISECTION, 1);
        set_i(l, AC_LOCALIZER_PARAM_NOISE, AC_NOISE_INDEPENDENT);
        set_f(l, AC_LOCALIZER_PARAM_ACCURACY, p);
        set_i(l, AC_LOCALIZER_PARAM_SCAN_AFTER, 0);
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        int rc = ac_localizer_run(l);
        REQUIRE(rc == AC_OK, "ep %u: %s", ep, ac_localizer_last_error(l));
        int64_t step;
        double prob;
        loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
        int64_t outcome = audit(l, AC_LOCALIZER_AUDIT_OUTCOME);
        REQUIRE(outcome == (step < 0 ? AC_LOCALIZER_OUTCOME_NO_ERROR : AC_LOCALIZER_OUTCOME_FOUND),
                "ep %u: outcome %lld for step %lld", ep, (long long)outcome,
                (long long)step);
        REQUIRE(prob >= 0.95 && prob <= 1.0,
                "ep %u: stopped at probability %.17g < target", ep, prob);
        double post[65];
        loc_ok(ac_localizer_posterior(l, post, T + 1), l);
        REQUIRE(same_bits(post[step < 0 ? T : (uint32_t)step], prob),
                "the probability is not the posterior of the step");
        REQUIRE(fabs(th_sum(post, T + 1) - 1.0) < 1e-12, "posterior sum");
        REQUIRE((uint64_t)audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS) == v.evals,
                "calls vs evaluations");
        correct += step == (h == T ? -1 : (int64_t)h);
        sum_prob += prob;
        repeats += v.repeats;
        ac_localizer_free(l);
    }
    double acc = (double)correct / N, mean = sum_prob / N;
    ck_assert_msg(acc >= 0.9, "accuracy %.3f < 0.9", acc);
    ck_assert_msg(fabs(mean - acc) <= 0.05,
                  "mean probability %.4f vs accuracy %.4f", mean, acc);
    /* asking a prefix again adds evidence: the library does it */
    ck_assert_msg(repeats > 0, "an independent verifier was never re-asked");
}
END_TEST

START_TEST(noisy_repeatable)
{
    const uint32_t T = 64, N = 500;
    const double p = 0.8;
    th_rng r = th_rng_make(404);
    vf v;
    uint32_t correct = 0, exhausted = 0;
    double sum_prob = 0.0;
    for (uint32_t ep = 0; ep < N; ep++) {
        uint32_t h = th_rng_below(&r, T + 1);
        uint32_t W = ep % 3u == 0 ? 3u : 1u;
        vf_init(&v, T, h);
        vf_noisy(&v, AC_NOISE_REPEATABLE, p, 0xABCD0000u + ep);
        ac_localizer *l = new_loc(T, AC_STRATEGY_AUTO, W);
        set_i(l, AC_LOCALIZER_PARAM_NOISE, AC_NOISE_REPEATABLE);
        set_f(l, AC_LOCALIZER_PARAM_ACCURACY, p);
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        int rc = ac_localizer_run(l);
        REQUIRE(rc == AC_OK, "ep %u: %s", ep, ac_localizer_last_error(l));
        REQUIRE(audit(l, AC_LOCALIZER_AUDIT_STRATEGY) == AC_STRATEGY_BISECTION,
                "AUTO with noise is not BISECTION");
        REQUIRE(v.repeats == 0, "ep %u: a repeatable verifier was asked the "
                "same prefix again (%llu repeats)", ep,
                (unsigned long long)v.repeats);
        int64_t step;
        double prob;
        loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
        int64_t outcome = audit(l, AC_LOCALIZER_AUDIT_OUTCOME);
        REQUIRE(outcome == AC_LOCALIZER_OUTCOME_FOUND || outcome == AC_LOCALIZER_OUTCOME_EXHAUSTED ||
                    outcome == AC_LOCALIZER_OUTCOME_OUT_OF_BUDGET ||
                    (outcome == AC_LOCALIZER_OUTCOME_NO_ERROR && step == -1),
                "ep %u: outcome %lld", ep, (long long)outcome);
        REQUIRE(outcome != AC_LOCALIZER_OUTCOME_FOUND || prob >= 0.95,
                "FOUND below the target: %.17g", prob);
        REQUIRE((uint64_t)audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS) == v.evals &&
                    v.evals <= T,
                "ep %u: %llu evaluations", ep, (unsigned long long)v.evals);
        exhausted += outcome == AC_LOCALIZER_OUTCOME_EXHAUSTED;
        correct += step == (h == T ? -1 : (int64_t)h);
        sum_prob += prob;
        ac_localizer_free(l);
    }
    double acc = (double)correct / N, mean = sum_prob / N;
    ck_assert_msg(fabs(mean - acc) <= 0.06,
                  "repeatable: mean probability %.4f vs accuracy %.4f "
                  "(exhausted %u)", mean, acc, exhausted);
    ck_assert_msg(acc > 0.3, "repeatable: accuracy %.3f", acc);
}
END_TEST

/* ===================================================================== */
/* 4. ask/tell equals run                                                */
/* ===================================================================== */

typedef struct at_cfg {
    int64_t strategy, noise, monotone;
    uint32_t W;
    double acc;
    int graded, fail;
} at_cfg;

static const at_cfg AT_CFGS[] = {
    {AC_STRATEGY_LINEAR, AC_NOISE_NONE, 0, 3, 0.8, 0, 0},
    {AC_STRATEGY_BINARY, AC_NOISE_NONE, 1, 4, 0.8, 0, 1},
    {AC_STRATEGY_BISECTION, AC_NOISE_NONE, 1, 2, 0.8, 1, 0},
    {AC_STRATEGY_BISECTION, AC_NOISE_INDEPENDENT, 1, 3, 0.75, 1, 0},
    {AC_STRATEGY_BISECTION, AC_NOISE_INDEPENDENT, 1, 5, 0.85, 0, 1},
    {AC_STRATEGY_AUTO, AC_NOISE_REPEATABLE, 1, 4, 0.8, 1, 0},
    {AC_STRATEGY_LINEAR, AC_NOISE_INDEPENDENT, 1, 2, 0.9, 0, 0},
    {AC_STRATEGY_AUTO, AC_NOISE_NONE, 0, 1, 0.8, 0, 1},
    {AC_STRATEGY_AUTO, AC_NOISE_NONE, 1, 7, 0.8, 0, 0},
};

static ac_localizer *at_loc(const at_cfg *c, uint32_t T)
{
    ac_localizer *l = new_loc(T, c->strategy, c->W);
    set_i(l, AC_LOCALIZER_PARAM_NOISE, c->noise);
    set_i(l, AC_LOCALIZER_PARAM_MONOTONE, c->monotone);
    set_f(l, AC_LOCALIZER_PARAM_ACCURACY, c->acc);
    return l;
}

static void at_vf(vf *v, const at_cfg *c, uint32_t T, const uint8_t *on,
                  uint64_t seed)
{
    vf_init(v, T, 0);
    memcpy(v->on, on, T);
    if (c->noise != AC_NOISE_NONE)
        vf_noisy(v, (int)c->noise, c->acc, seed);
    else
        v->rng = th_rng_make(seed);
    v->graded = c->graded;
    if (c->fail)
        for (uint32_t t = 0; t < T; t++)
            v->fail_first[t] = (uint32_t)(th_mix(seed + t) % 3u); /* <= 2 */
}

START_TEST(asktell_equals_run)
{
    th_rng r = th_rng_make(404040);
    vf v;
    lres want, got;
    for (size_t ci = 0; ci < sizeof AT_CFGS / sizeof AT_CFGS[0]; ci++) {
        const at_cfg *c = &AT_CFGS[ci];
        for (int ep = 0; ep < 10; ep++) {
            uint32_t T = 5u + th_rng_below(&r, 56);
            uint32_t h = th_rng_below(&r, T + 1);
            uint8_t on[MAX_T];
            if (c->monotone)
                for (uint32_t t = 0; t < T; t++)
                    on[t] = t < h;
            else
                random_pattern(&r, on, T, h < T ? h : T - 1);
            uint64_t seed = 5000u + ci * 100u + (uint64_t)ep;

            at_vf(&v, c, T, on, seed);
            ac_localizer *l = at_loc(c, T);
            ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
            int rc = ac_localizer_run(l);
            collect(l, T, rc, &want);
            REQUIRE(rc == AC_OK, "cfg %zu ep %d: run %d %s", ci, ep, rc,
                    ac_localizer_last_error(l));
            uint64_t want_evals = v.evals;
            uint32_t want_asked[MAX_T];
            memcpy(want_asked, v.asked, sizeof want_asked);
            if (c->fail)
                REQUIRE(want.audit[AC_LOCALIZER_AUDIT_FAILURES] > 0 ||
                            v.failed == 0,
                        "failures not counted");
            ac_localizer_free(l);

            for (int mode = 0; mode < 2; mode++) {
                at_vf(&v, c, T, on, seed);
                l = at_loc(c, T);
                rc = drive_asktell(l, &v, &r, c->W, mode);
                collect(l, T, rc, &got);
                char what[64];
                snprintf(what, sizeof what, "cfg %zu ep %d mode %d", ci, ep,
                         mode);
                assert_same(&want, &got, T, what);
                REQUIRE(v.evals == want_evals, "%s: evaluations differ",
                        what);
                for (uint32_t t = 0; t < T; t++)
                    REQUIRE(v.asked[t] == want_asked[t],
                            "%s: prefix %u asked %u vs %u times", what, t,
                            v.asked[t], want_asked[t]);
                /* done: ask hands out nothing, tell is a state error */
                uint32_t pre[4], n = 5;
                uint64_t tk[4];
                double one = 1.0;
                loc_ok(ac_localizer_ask(l, 4, tk, pre, &n), l);
                REQUIRE(n == 0, "ask after the end handed out %u", n);
                tk[0] = 1;
                REQUIRE(ac_localizer_tell(l, 1, tk, &one, NULL) ==
                            AC_E_STATE,
                        "tell after the end");
                ac_localizer_free(l);
            }
        }
    }
}
END_TEST

/* An independent verifier may be asked one prefix several times in one
 * round, each time under a ticket of its own. how 0: the round told in one
 * call, in the order handed out; 1: in reverse, one ticket per call, each
 * ticket told a second time refused; 2: as 1, with the answers of each
 * prefix's tickets rotated among them (as if the verifier had answered in
 * another order). A round is applied in a canonical order once all of it
 * is in, so none of this changes the result. */
static int drive_ordered(ac_localizer *l, vf *v, uint32_t W, int how,
                         uint32_t *dup_rounds)
{
    uint32_t pre[MAX_W];
    uint64_t tk[MAX_W];
    double val[MAX_W], tv[MAX_W];
    int32_t st[MAX_W];
    for (;;) {
        uint32_t n = 0;
        int rc = ac_localizer_ask(l, W, tk, pre, &n);
        if (rc != AC_OK || n == 0)
            return rc;
        for (uint32_t k = 0; k < n; k++) {
            val[k] = NAN;
            st[k] = 0;
        }
        (void)vf_fn(v, pre, n, val, st);
        int dup = 0;
        for (uint32_t k = 0; k < n; k++) {
            tv[k] = val[k];
            for (uint32_t j = 0; j < n; j++) {
                if (j == k)
                    continue;
                REQUIRE(tk[j] != tk[k], "ticket %llu handed out twice in a "
                        "round", (unsigned long long)tk[k]);
                dup |= pre[j] == pre[k];
            }
            if (how == 2) /* the next answer to the same prefix, cyclically */
                for (uint32_t d = 1; d < n; d++)
                    if (pre[(k + d) % n] == pre[k]) {
                        tv[k] = val[(k + d) % n];
                        break;
                    }
        }
        *dup_rounds += (uint32_t)dup;
        if (how == 0) {
            rc = ac_localizer_tell(l, n, tk, tv, NULL);
            if (rc != AC_OK)
                return rc;
            continue;
        }
        for (uint32_t k = n; k-- > 0;) {
            if ((rc = ac_localizer_tell(l, 1, &tk[k], &tv[k], NULL)) != AC_OK)
                return rc;
            if (k == 0)
                break; /* the round is complete: nothing left to refuse */
            int32_t done = -1;
            uint64_t out = 0;
            REQUIRE(ac_localizer_progress(l, &done, &out) == AC_OK &&
                        done == 0 && out == k,
                    "after telling ticket %llu: done %d, %llu outstanding, "
                    "want %u", (unsigned long long)tk[k], done,
                    (unsigned long long)out, k);
            /* told already: refused whole, even beside a good ticket */
            uint64_t again[2] = {tk[k - 1], tk[k]};
            double av[2] = {tv[k - 1], tv[k]};
            rc = ac_localizer_tell(l, 2, again, av, NULL);
            REQUIRE(rc == AC_E_INVALID_ARG, "ticket %llu told twice: %s",
                    (unsigned long long)tk[k], ac_status_name(rc));
            REQUIRE(th_icontains(ac_localizer_last_error(l), "told already"),
                    "message \"%s\"", ac_localizer_last_error(l));
            REQUIRE(ac_localizer_progress(l, &done, &out) == AC_OK &&
                        out == k,
                    "a refused tell took something: %llu outstanding, "
                    "want %u", (unsigned long long)out, k);
        }
    }
}

START_TEST(asktell_repeated_prefix_in_a_round)
{
    uint32_t dup_rounds = 0;
    lres res[4];
    vf v;
    for (int ep = 0; ep < 40; ep++) {
        uint32_t T = 2u + (uint32_t)(ep % 5);
        uint32_t W = 8u + (uint32_t)(ep % 3);
        uint32_t h = (uint32_t)(th_mix((uint64_t)ep) % (T + 1));
        for (int pass = 0; pass < 4; pass++) {
            vf_init(&v, T, h);
            vf_noisy(&v, AC_NOISE_INDEPENDENT, 0.7, 900u + (uint64_t)ep);
            v.graded = 1;
            ac_localizer *l = new_loc(T, AC_STRATEGY_BISECTION, W);
            set_i(l, AC_LOCALIZER_PARAM_NOISE, AC_NOISE_INDEPENDENT);
            set_f(l, AC_LOCALIZER_PARAM_ACCURACY, 0.7);
            set_f(l, AC_LOCALIZER_PARAM_TARGET, 0.99);
            int rc;
            if (pass == 3) {
                ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
                rc = ac_localizer_run(l);
            } else {
                rc = drive_ordered(l, &v, W, pass, &dup_rounds);
            }
            loc_ok(rc, l);
            collect(l, T, rc, &res[pass]);
            ac_localizer_free(l);
        }
        assert_same(&res[0], &res[1], T, "forward vs reversed tells");
        assert_same(&res[0], &res[2], T, "answers rotated among tickets");
        assert_same(&res[0], &res[3], T, "ask/tell vs run");
    }
    /* the case this test is about did happen */
    ck_assert_uint_gt(dup_rounds, 20);
}
END_TEST

/* A bad tell takes nothing; the round completes afterwards as if it had
 * never happened. */
START_TEST(asktell_bad_tells_take_nothing)
{
    const uint32_t T = 40, W = 3;
    vf v;
    lres want, got;
    vf_init(&v, T, 23);
    ac_localizer *l = new_loc(T, AC_STRATEGY_BINARY, W);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    collect(l, T, AC_OK, &want);
    ac_localizer_free(l);

    vf_init(&v, T, 23);
    l = new_loc(T, AC_STRATEGY_BINARY, W);
    uint32_t pre[MAX_W], n = 0;
    uint64_t tk[MAX_W], out = 0;
    double val[MAX_W];
    int32_t st[MAX_W];
    int32_t done = 5;
    double one = 1.0;
    /* tell before any ask: no run waits */
    tk[0] = 1;
    loc_rc(ac_localizer_tell(l, 1, tk, &one, NULL), AC_E_STATE, l);
    assert_names(l, "no run");
    int first = 1;
    for (;;) {
        loc_ok(ac_localizer_ask(l, W, tk, pre, &n), l);
        if (n == 0)
            break;
        for (uint32_t k = 0; k < n; k++) {
            val[k] = NAN;
            st[k] = 0;
        }
        vf_fn(&v, pre, n, val, st);
        if (first && n >= 2) {
            first = 0;
            uint64_t bt[3] = {tk[0], tk[n - 1] + 1000u, tk[1]};
            double bv[3] = {val[0], 1.0, val[1]};
            /* a ticket never handed out */
            loc_rc(ac_localizer_tell(l, 3, bt, bv, NULL), AC_E_INVALID_ARG,
                   l);
            assert_names(l, "never handed out");
            assert_names(l, "position 1");
            loc_ok(ac_localizer_progress(l, &done, &out), l);
            ck_assert_uint_eq(out, n);
            ck_assert_int_eq(done, 0);
            /* ticket 0 is never a ticket */
            bt[1] = 0;
            loc_rc(ac_localizer_tell(l, 3, bt, bv, NULL), AC_E_INVALID_ARG,
                   l);
            /* the same ticket twice in one call */
            bt[1] = tk[0];
            loc_rc(ac_localizer_tell(l, 2, bt, bv, NULL), AC_E_INVALID_ARG,
                   l);
            assert_names(l, "twice");
            loc_ok(ac_localizer_progress(l, &done, &out), l);
            ck_assert_uint_eq(out, n);
            /* an answer outside [0, 1] */
            bv[0] = 1.5;
            loc_rc(ac_localizer_tell(l, 1, bt, bv, NULL), AC_E_INVALID_ARG,
                   l);
            assert_names(l, "[0, 1]");
            bv[0] = -0.25;
            loc_rc(ac_localizer_tell(l, 1, bt, bv, NULL), AC_E_INVALID_ARG,
                   l);
            loc_ok(ac_localizer_progress(l, &done, &out), l);
            ck_assert_uint_eq(out, n);
            /* parameters and inputs are fixed once the run has started */
            loc_rc(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_BATCH, 2), AC_E_STATE, l);
            assert_names(l, "started");
            loc_rc(ac_localizer_set_f64(l, AC_LOCALIZER_PARAM_ACCURACY, 0.9), AC_E_STATE,
                   l);
            uint32_t au[40] = {0};
            loc_rc(ac_localizer_set_authors(l, au, T), AC_E_STATE, l);
            /* the answers, one at a time: the first is taken, and telling
             * it again is refused, alone or with an outstanding one */
            loc_ok(ac_localizer_tell(l, 1, &tk[0], &val[0], NULL), l);
            loc_ok(ac_localizer_progress(l, &done, &out), l);
            ck_assert_uint_eq(out, n - 1);
            loc_rc(ac_localizer_tell(l, 1, &tk[0], &val[0], NULL),
                   AC_E_INVALID_ARG, l);
            assert_names(l, "told already");
            uint64_t mixed[2] = {tk[1], tk[0]};
            double mv[2] = {val[1], val[0]};
            loc_rc(ac_localizer_tell(l, 2, mixed, mv, NULL),
                   AC_E_INVALID_ARG, l);
            loc_ok(ac_localizer_progress(l, &done, &out), l);
            ck_assert_uint_eq(out, n - 1);
            loc_ok(ac_localizer_tell(l, n - 1, tk + 1, val + 1, NULL), l);
            continue;
        }
        loc_ok(ac_localizer_tell(l, n, tk, val, st), l);
    }
    ck_assert_int_eq(first, 0);
    collect(l, T, AC_OK, &got);
    assert_same(&want, &got, T, "after bad tells");
    ac_localizer_free(l);
}
END_TEST

/* A reset makes every ticket handed out before it stale: refused whole in
 * the next run, never taken for a new question; the new run's tickets are
 * new numbers. */
START_TEST(asktell_stale_ticket_after_reset)
{
    const uint32_t T = 30, W = 4;
    vf v;
    lres want, got;
    vf_init(&v, T, 11);
    ac_localizer *l = new_loc(T, AC_STRATEGY_BINARY, W);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    collect(l, T, AC_OK, &want);
    ac_localizer_free(l);

    l = new_loc(T, AC_STRATEGY_BINARY, W);
    uint32_t pre[MAX_W], old_pre[MAX_W], n = 0, old_n = 0;
    uint64_t tk[MAX_W], old_tk[MAX_W], out = 9;
    double val[MAX_W], old_val[MAX_W];
    int32_t st[MAX_W], done = 9;
    /* a first run, abandoned with its round outstanding */
    loc_ok(ac_localizer_ask(l, W, old_tk, old_pre, &old_n), l);
    ck_assert_uint_ge(old_n, 2);
    loc_ok(ac_localizer_reset(l, AC_RESET_SESSION), l);
    loc_ok(ac_localizer_progress(l, &done, &out), l);
    ck_assert_int_eq(done, 0);
    ck_assert_uint_eq(out, 0);
    for (uint32_t k = 0; k < old_n; k++)
        old_val[k] = old_pre[k] < 11 ? 1.0 : 0.0;
    /* idle after the reset: no run waits for them */
    loc_rc(ac_localizer_tell(l, old_n, old_tk, old_val, NULL), AC_E_STATE, l);
    /* a new run asks the same prefixes under new tickets */
    vf_init(&v, T, 11);
    loc_ok(ac_localizer_ask(l, W, tk, pre, &n), l);
    ck_assert_uint_eq(n, old_n);
    for (uint32_t k = 0; k < n; k++) {
        ck_assert_uint_eq(pre[k], old_pre[k]);
        ck_assert_uint_gt(tk[k], old_tk[old_n - 1]);
    }
    /* a stale ticket, alone or beside a good one: refused, nothing taken */
    loc_rc(ac_localizer_tell(l, 1, &old_tk[0], &old_val[0], NULL),
           AC_E_INVALID_ARG, l);
    assert_names(l, "stale");
    uint64_t mixed[2] = {tk[0], old_tk[1]};
    double mv[2] = {old_val[0], old_val[1]};
    loc_rc(ac_localizer_tell(l, 2, mixed, mv, NULL), AC_E_INVALID_ARG, l);
    assert_names(l, "position 1");
    loc_ok(ac_localizer_progress(l, &done, &out), l);
    ck_assert_int_eq(done, 0);
    ck_assert_uint_eq(out, n);
    /* the new run goes on, and ends as a fresh handle's */
    for (;;) {
        for (uint32_t k = 0; k < n; k++) {
            val[k] = NAN;
            st[k] = 0;
        }
        vf_fn(&v, pre, n, val, st);
        loc_ok(ac_localizer_tell(l, n, tk, val, st), l);
        loc_ok(ac_localizer_ask(l, W, tk, pre, &n), l);
        if (n == 0)
            break;
    }
    collect(l, T, AC_OK, &got);
    assert_same(&want, &got, T, "after stale tells");
    /* done: even a stale ticket meets the state error first */
    loc_rc(ac_localizer_tell(l, 1, &old_tk[0], &old_val[0], NULL),
           AC_E_STATE, l);
    /* after several resets the first run's tickets are still stale */
    loc_ok(ac_localizer_reset(l, AC_RESET_SESSION), l);
    loc_ok(ac_localizer_reset(l, AC_RESET_SESSION), l);
    loc_ok(ac_localizer_ask(l, W, tk, pre, &n), l);
    ck_assert_uint_gt(n, 0);
    loc_rc(ac_localizer_tell(l, 1, &old_tk[0], &old_val[0], NULL),
           AC_E_INVALID_ARG, l);
    assert_names(l, "stale");
    ac_localizer_free(l);
}
END_TEST

/* progress: done and outstanding through a run's life, in ask/tell. */
START_TEST(asktell_progress)
{
    const uint32_t T = 20, W = 3;
    ac_localizer *l = new_loc(T, AC_STRATEGY_LINEAR, W);
    int32_t done = 9;
    uint64_t out = 9;
    loc_ok(ac_localizer_progress(l, &done, &out), l);
    ck_assert_int_eq(done, 0); /* idle */
    ck_assert_uint_eq(out, 0);
    loc_ok(ac_localizer_progress(l, NULL, &out), l);
    loc_ok(ac_localizer_progress(l, &done, NULL), l);
    uint32_t pre[MAX_W], n = 0, rounds = 0;
    uint64_t tk[MAX_W];
    double val[MAX_W];
    for (;;) {
        loc_ok(ac_localizer_ask(l, 2, tk, pre, &n), l); /* part of a round */
        loc_ok(ac_localizer_progress(l, &done, &out), l);
        if (n == 0) {
            ck_assert_int_eq(done, 1);
            ck_assert_uint_eq(out, 0);
            break;
        }
        rounds++;
        ck_assert_int_eq(done, 0);
        ck_assert_uint_eq(out, n);
        uint32_t n2 = 0;
        loc_ok(ac_localizer_ask(l, W, tk + n, pre + n, &n2), l); /* the rest */
        loc_ok(ac_localizer_progress(l, &done, &out), l);
        ck_assert_uint_eq(out, n + n2);
        ck_assert_uint_le(n + n2, W);
        n += n2;
        for (uint32_t k = 0; k < n; k++)
            val[k] = pre[k] < 7 ? 1.0 : 0.0;
        for (uint32_t k = 0; k < n; k++) { /* one at a time, last first */
            loc_ok(ac_localizer_tell(l, 1, &tk[n - 1 - k], &val[n - 1 - k],
                                     NULL), l);
            loc_ok(ac_localizer_progress(l, &done, &out), l);
            ck_assert_uint_eq(out, n - 1 - k);
            ck_assert_int_eq(done, 0); /* the next ask ends the run */
        }
    }
    ck_assert_uint_gt(rounds, 2);
    int64_t step = -5;
    loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
    ck_assert_int_eq(step, 7);
    /* done stays done; a reset makes it idle again */
    loc_ok(ac_localizer_ask(l, W, tk, pre, &n), l);
    ck_assert_uint_eq(n, 0);
    loc_ok(ac_localizer_progress(l, &done, &out), l);
    ck_assert_int_eq(done, 1);
    loc_ok(ac_localizer_reset(l, AC_RESET_SESSION), l);
    loc_ok(ac_localizer_progress(l, &done, &out), l);
    ck_assert_int_eq(done, 0);
    ck_assert_uint_eq(out, 0);
    /* a failed run is done too */
    loc_ok(ac_localizer_ask(l, W, tk, pre, &n), l);
    ck_assert_uint_gt(n, 0);
    ac_localizer_cancel(l);
    loc_rc(ac_localizer_ask(l, W, tk, pre, &n), AC_E_CANCELLED, l);
    loc_ok(ac_localizer_progress(l, &done, NULL), l);
    ck_assert_int_eq(done, 1);
    ac_localizer_free(l);
}
END_TEST

/* tell with no run waiting: idle (fresh, after a reset), done. */
START_TEST(asktell_tell_when_idle)
{
    const uint32_t T = 6;
    ac_localizer *l = new_loc(T, AC_STRATEGY_LINEAR, 2);
    uint64_t tk[2] = {1, 2};
    uint32_t pre[2], n = 0;
    double val[2] = {1.0, 1.0};
    /* fresh: no ticket exists, still the state error, not the ticket's */
    loc_rc(ac_localizer_tell(l, 1, tk, val, NULL), AC_E_STATE, l);
    assert_names(l, "no run");
    loc_rc(ac_localizer_tell(l, 0, NULL, NULL, NULL), AC_E_STATE, l);
    /* the handle is still idle: an input is accepted */
    double prior[7] = {1, 1, 1, 1, 1, 1, 1};
    loc_ok(ac_localizer_set_prior(l, prior, T + 1), l);
    /* after a reset */
    loc_ok(ac_localizer_ask(l, 2, tk, pre, &n), l);
    ck_assert_uint_eq(n, 2);
    loc_ok(ac_localizer_reset(l, AC_RESET_SESSION), l);
    loc_rc(ac_localizer_tell(l, 2, tk, val, NULL), AC_E_STATE, l);
    /* done */
    uint64_t out = 0;
    for (;;) {
        loc_ok(ac_localizer_ask(l, 2, tk, pre, &n), l);
        if (n == 0)
            break;
        for (uint32_t k = 0; k < n; k++)
            val[k] = pre[k] < 4 ? 1.0 : 0.0;
        loc_ok(ac_localizer_tell(l, n, tk, val, NULL), l);
    }
    loc_rc(ac_localizer_tell(l, 1, tk, val, NULL), AC_E_STATE, l);
    assert_names(l, "no run");
    loc_ok(ac_localizer_progress(l, NULL, &out), l);
    ck_assert_uint_eq(out, 0);
    int64_t step = -5;
    loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
    ck_assert_int_eq(step, 4);
    ac_localizer_free(l);
}
END_TEST

/* ===================================================================== */
/* 5. SCORES                                                             */
/* ===================================================================== */

static void scores_closed_form(const double *s, uint32_t T, double *post)
{
    double surv = 1.0;
    for (uint32_t h = 0; h < T; h++) {
        post[h] = s[h] * surv;
        surv *= 1.0 - s[h];
    }
    post[T] = surv;
    double total = th_sum(post, T + 1);
    for (uint32_t h = 0; h <= T; h++)
        post[h] /= total;
}

static void check_scores(const double *s, uint32_t T, double threshold,
                         int explicit_strategy, int with_verifier)
{
    vf v;
    vf_init(&v, T, 0);
    ac_localizer *l = new_loc(T, explicit_strategy ? AC_STRATEGY_SCORES
                                                   : AC_STRATEGY_AUTO, 1);
    set_f(l, AC_LOCALIZER_PARAM_THRESHOLD, threshold);
    loc_ok(ac_localizer_set_scores(l, s, T), l);
    if (with_verifier)
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_STRATEGY), AC_STRATEGY_SCORES);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 0);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_ROUNDS), 0);
    ck_assert_uint_eq(v.calls, 0);
    int64_t want = -1;
    for (uint32_t t = 0; t < T; t++)
        if (s[t] >= threshold) {
            want = t;
            break;
        }
    int64_t step;
    double prob;
    loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
    ck_assert_int_eq(step, want);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME),
                     want < 0 ? AC_LOCALIZER_OUTCOME_NO_ERROR : AC_LOCALIZER_OUTCOME_FOUND);
    double post[MAX_T + 1], ref[MAX_T + 1];
    loc_ok(ac_localizer_posterior(l, post, T + 1), l);
    scores_closed_form(s, T, ref);
    for (uint32_t h = 0; h <= T; h++)
        ck_assert_msg(fabs(post[h] - ref[h]) <= 1e-12 * ref[h] + 1e-300,
                      "T %u: posterior[%u] = %.17g, closed form %.17g", T, h,
                      post[h], ref[h]);
    ck_assert(same_bits(prob, post[want < 0 ? T : (uint32_t)want]));
    uint32_t flags[MAX_T];
    loc_ok(ac_localizer_step_flags(l, flags, T), l);
    for (uint32_t t = 0; t < T; t++)
        ck_assert_uint_eq(flags[t], want < 0 || (int64_t)t < want ? 0u
                                    : (int64_t)t == want
                                        ? AC_STEP_FLAG_FIRST_ERROR
                                        : AC_STEP_FLAG_PROPAGATES);
    ac_localizer_free(l);
}

START_TEST(scores_closed_form_and_threshold)
{
    th_rng r = th_rng_make(55);
    double s[MAX_T];
    for (int rep = 0; rep < 60; rep++) {
        uint32_t T = 1u + th_rng_below(&r, 80);
        for (uint32_t t = 0; t < T; t++)
            s[t] = th_rng_unif(&r) * (rep % 2 ? 0.6 : 1.0);
        check_scores(s, T, 0.5, rep % 3 == 0, rep % 3 == 0);
        check_scores(s, T, 0.8, 0, 0);
        check_scores(s, T, 0.0, 1, 0); /* message 0 */
    }
    /* edges: exact 0 and 1, a score equal to the threshold */
    static const double e1[6] = {0.0, 0.2, 0.5, 1.0, 0.3, 0.0};
    check_scores(e1, 6, 0.5, 1, 0);  /* 0.5 >= 0.5: step 2 */
    check_scores(e1, 6, 0.51, 1, 0); /* step 3, the certain error */
    static const double e2[4] = {1.0, 1.0, 0.0, 0.7};
    check_scores(e2, 4, 0.9, 0, 0);
    /* nothing at or above the threshold: step -1 */
    static const double low[5] = {0.1, 0.2, 0.3, 0.4, 0.49};
    check_scores(low, 5, 0.5, 1, 0);
    static const double zeros[3] = {0.0, 0.0, 0.0};
    check_scores(zeros, 3, 0.5, 0, 0);
    /* long episode of small scores: no underflow */
    for (uint32_t t = 0; t < MAX_T; t++)
        s[t] = 0.3 + 0.2 * th_rng_unif(&r);
    check_scores(s, MAX_T, 0.49, 1, 0);
}
END_TEST

/* ===================================================================== */
/* 6. Budget                                                             */
/* ===================================================================== */

/* An exact run out of budget: the posterior is uniform on an interval of m
 * consecutive hypotheses that holds the truth; the step is its first one
 * and the probability 1/m. Returns m. */
static uint32_t check_out_of_budget(const ac_localizer *l, uint32_t T,
                                    uint32_t h)
{
    double post[MAX_T + 1];
    int64_t step;
    double prob;
    REQUIRE(ac_localizer_result(l, &step, NULL, &prob) == AC_OK, "result");
    REQUIRE(ac_localizer_posterior(l, post, T + 1) == AC_OK, "posterior");
    uint32_t first = UINT32_MAX, last = 0, m = 0;
    for (uint32_t u = 0; u <= T; u++)
        if (post[u] != 0.0) {
            if (first == UINT32_MAX)
                first = u;
            last = u;
            m++;
        }
    REQUIRE(m >= 2 && last - first + 1 == m,
            "out of budget: %u hypotheses left in [%u, %u]", m, first, last);
    REQUIRE(h >= first && h <= last, "the truth %u is outside [%u, %u]", h,
            first, last);
    for (uint32_t u = first; u <= last; u++)
        REQUIRE(fabs(post[u] - 1.0 / m) <= 1e-15, "posterior[%u] = %.17g, "
                "want 1/%u", u, post[u], m);
    REQUIRE(step == (first == T ? -1 : (int64_t)first),
            "step %lld, most probable %u", (long long)step, first);
    REQUIRE(fabs(prob - 1.0 / m) <= 1e-15, "probability %.17g, want 1/%u",
            prob, m);
    return m;
}

START_TEST(budget_zero_and_one)
{
    const uint32_t T = 16;
    vf v;
    vf_init(&v, T, 9);
    ac_localizer *l = new_loc(T, AC_STRATEGY_AUTO, 1);
    set_i(l, AC_LOCALIZER_PARAM_BUDGET, 0);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME), AC_LOCALIZER_OUTCOME_OUT_OF_BUDGET);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 0);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_BUDGET), 0);
    ck_assert_uint_eq(v.calls, 0);
    ck_assert_uint_eq(check_out_of_budget(l, T, 9), T + 1);
    ac_localizer_free(l);

    /* budget 1, BINARY: one call, half the interval */
    vf_init(&v, T, 9);
    l = new_loc(T, AC_STRATEGY_BINARY, 1);
    set_i(l, AC_LOCALIZER_PARAM_BUDGET, 1);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME), AC_LOCALIZER_OUTCOME_OUT_OF_BUDGET);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 1);
    ck_assert_uint_eq(v.evals, 1);
    ck_assert_uint_le(check_out_of_budget(l, T, 9), (T + 2) / 2);
    ac_localizer_free(l);

    /* budget 1 is enough for T = 1 */
    vf_init(&v, 1, 0);
    l = new_loc(1, AC_STRATEGY_AUTO, 1);
    set_i(l, AC_LOCALIZER_PARAM_BUDGET, 1);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME), AC_LOCALIZER_OUTCOME_FOUND);
    ac_localizer_free(l);

    /* LINEAR with b < h + 1 calls: prefixes 0..b-1 accepted, the interval
     * (b-1, T]: step b with probability 1/(T+1-b) */
    for (uint32_t b = 0; b <= 9; b++) {
        vf_init(&v, T, 9);
        l = new_loc(T, AC_STRATEGY_LINEAR, 1);
        set_i(l, AC_LOCALIZER_PARAM_BUDGET, b);
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        loc_ok(ac_localizer_run(l), l);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME), AC_LOCALIZER_OUTCOME_OUT_OF_BUDGET);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), b);
        ck_assert_uint_eq(check_out_of_budget(l, T, 9), T + 1 - b);
        /* the guess b has later messages the budget left unjudged */
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_COMPLETE), 0);
        int64_t step;
        loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
        ck_assert_int_eq(step, b);
        ac_localizer_free(l);
    }
}
END_TEST

START_TEST(budget_binary_short)
{
    /* BINARY, W = 1, budget b below ceil(log2(T+1)): at most
     * ceil((T+1)/2^b) hypotheses remain */
    const uint32_t T = 100;
    vf v;
    for (uint32_t h = 0; h <= T; h += 3)
        for (uint32_t b = 0; b < ceil_log2(T + 1); b++) {
            vf_init(&v, T, h);
            ac_localizer *l = new_loc(T, AC_STRATEGY_BINARY, 1);
            set_i(l, AC_LOCALIZER_PARAM_BUDGET, b);
            ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
            loc_ok(ac_localizer_run(l), l);
            int64_t outcome = audit(l, AC_LOCALIZER_AUDIT_OUTCOME);
            int64_t step;
            loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
            if (outcome == AC_LOCALIZER_OUTCOME_OUT_OF_BUDGET) {
                uint32_t m = check_out_of_budget(l, T, h);
                uint32_t bound = (uint32_t)((T + 1 + ((1u << b) - 1u)) >> b);
                REQUIRE(m <= bound, "h %u b %u: %u left > %u", h, b, m, bound);
            } else {
                REQUIRE(step == (h == T ? -1 : (int64_t)h),
                        "h %u b %u: finished at %lld", h, b, (long long)step);
            }
            REQUIRE(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS) <= b, "over budget");
            ac_localizer_free(l);
        }
}
END_TEST

typedef struct bud_cfg {
    int64_t strategy, noise;
    uint32_t W;
    int fail;
} bud_cfg;

START_TEST(budget_never_exceeded)
{
    static const bud_cfg cfgs[] = {
        {AC_STRATEGY_LINEAR, AC_NOISE_NONE, 1, 0},
        {AC_STRATEGY_LINEAR, AC_NOISE_NONE, 3, 1},
        {AC_STRATEGY_BINARY, AC_NOISE_NONE, 1, 0},
        {AC_STRATEGY_BINARY, AC_NOISE_NONE, 4, 1},
        {AC_STRATEGY_BISECTION, AC_NOISE_NONE, 2, 0},
        {AC_STRATEGY_BISECTION, AC_NOISE_INDEPENDENT, 1, 0},
        {AC_STRATEGY_BISECTION, AC_NOISE_INDEPENDENT, 3, 1},
        {AC_STRATEGY_AUTO, AC_NOISE_REPEATABLE, 2, 0},
    };
    const uint32_t T = 20;
    static const double cand_p[3] = {0.1, 0.2, 0.3};
    vf v;
    rp r;
    uint32_t authors[20];
    for (uint32_t t = 0; t < T; t++)
        authors[t] = t % 3u;
    for (size_t ci = 0; ci < sizeof cfgs / sizeof cfgs[0]; ci++)
        for (uint32_t b = 0; b <= 70; b++) {
            uint32_t h = (uint32_t)(th_mix(b * 31u + ci) % (T + 1));
            vf_init(&v, T, h);
            if (cfgs[ci].noise != AC_NOISE_NONE)
                vf_noisy(&v, (int)cfgs[ci].noise, 0.8, b + 100u * ci);
            if (cfgs[ci].fail)
                for (uint32_t t = 0; t < T; t++)
                    v.fail_first[t] = t % 3u == 1 ? 1u : 0u;
            rp_init(&r, 3, cand_p);
            ac_localizer *l = new_loc(T, cfgs[ci].strategy, cfgs[ci].W);
            set_i(l, AC_LOCALIZER_PARAM_NOISE, cfgs[ci].noise);
            set_i(l, AC_LOCALIZER_PARAM_BUDGET, b);
            loc_ok(ac_localizer_set_authors(l, authors, T), l);
            ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
            ck_assert_int_eq(ac_localizer_set_repair(l, rp_repair, rp_check, &r), AC_OK);
            int rc = ac_localizer_run(l);
            REQUIRE(rc == AC_OK, "cfg %zu b %u: %s", ci, b,
                    ac_localizer_last_error(l));
            int64_t after_run = audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS);
            REQUIRE(after_run <= b && (uint64_t)after_run == v.evals,
                    "cfg %zu b %u: %lld calls, %llu evaluations", ci, b,
                    (long long)after_run, (unsigned long long)v.evals);
            if (cfgs[ci].noise == AC_NOISE_NONE &&
                audit(l, AC_LOCALIZER_AUDIT_OUTCOME) == AC_LOCALIZER_OUTCOME_OUT_OF_BUDGET)
                check_out_of_budget(l, T, h);
            else if (cfgs[ci].noise == AC_NOISE_NONE) {
                int64_t step;
                loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
                REQUIRE(step == (h == T ? -1 : (int64_t)h),
                        "cfg %zu b %u: exact run finished at %lld, truth %u",
                        ci, b, (long long)step, h);
            }
            ac_preference_pair pair;
            memset(&pair, 0, sizeof pair);
            pair.struct_size = sizeof pair;
            loc_ok(ac_localizer_make_pair(l, b, &pair), l);
            int64_t calls = audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS);
            REQUIRE(calls <= b, "cfg %zu b %u: %lld calls", ci, b,
                    (long long)calls);
            REQUIRE((uint64_t)calls == v.evals + r.checked,
                    "cfg %zu b %u: calls %lld, verifier %llu + checks %u", ci,
                    b, (long long)calls, (unsigned long long)v.evals,
                    r.checked);
            REQUIRE(audit(l, AC_LOCALIZER_AUDIT_REPAIR_CHECKS) == r.checked,
                    "repair checks");
            REQUIRE(audit(l, AC_LOCALIZER_AUDIT_BUDGET) == b, "audit budget");
            ac_localizer_free(l);
        }
}
END_TEST

/* ===================================================================== */
/* 7. Failures                                                           */
/* ===================================================================== */

START_TEST(failures_are_retried)
{
    static const int64_t strategies[] = {AC_STRATEGY_LINEAR, AC_STRATEGY_BINARY,
                                         AC_STRATEGY_BISECTION};
    static const uint32_t hs[] = {0, 7, 29, 30};
    const uint32_t T = 30;
    vf v;
    for (size_t si = 0; si < 3; si++)
        for (uint32_t W = 1; W <= 3; W += 2)
            for (size_t hi = 0; hi < 4; hi++) {
                uint32_t h = hs[hi];
                vf_init(&v, T, h);
                for (uint32_t t = 0; t < T; t++)
                    v.fail_first[t] = (t * 7u + 3u) % 3u; /* 0, 1 or 2 */
                ac_localizer *l = new_loc(T, strategies[si], W);
                ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
                int rc = ac_localizer_run(l);
                REQUIRE(rc == AC_OK, "S %lld W %u h %u: %d %s",
                        (long long)strategies[si], W, h, rc,
                        ac_localizer_last_error(l));
                int64_t step;
                double prob;
                loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
                REQUIRE(step == (h == T ? -1 : (int64_t)h) && prob == 1.0,
                        "with failures: step %lld prob %g, truth %u",
                        (long long)step, prob, h);
                int64_t failures = audit(l, AC_LOCALIZER_AUDIT_FAILURES);
                int64_t retries = audit(l, AC_LOCALIZER_AUDIT_RETRIES);
                REQUIRE(v.failed > 0, "no failure was injected");
                REQUIRE((uint64_t)failures == v.failed,
                        "FAILURES %lld, injected %llu", (long long)failures,
                        (unsigned long long)v.failed);
                /* W = 1: every failed answer is asked again, once */
                REQUIRE(W > 1 ? retries <= failures : retries == failures,
                        "S %lld W %u h %u: RETRIES %lld, FAILURES %lld",
                        (long long)strategies[si], W, h, (long long)retries,
                        (long long)failures);
                REQUIRE((uint64_t)audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS) == v.evals,
                        "failed answers are calls too");
                REQUIRE(v.prefill_bad == 0, "answers not pre-filled");
                /* the flags after the error are still exact */
                uint32_t flags[MAX_T], want[MAX_T];
                loc_ok(ac_localizer_step_flags(l, flags, T), l);
                expected_flags(v.on, T, h, want);
                for (uint32_t t = 0; t < T; t++)
                    REQUIRE(flags[t] == want[t], "flags[%u] %u, want %u", t,
                            flags[t], want[t]);
                ac_localizer_free(l);
            }
}
END_TEST

static void assert_no_result(ac_localizer *l, uint32_t T)
{
    int64_t step = 77;
    double d[MAX_T + 1];
    uint32_t u[MAX_T];
    ac_preference_pair pair;
    memset(&pair, 0, sizeof pair);
    pair.struct_size = sizeof pair;
    loc_rc(ac_localizer_result(l, &step, NULL, NULL), AC_E_STATE, l);
    ck_assert_int_eq(step, 77);
    loc_rc(ac_localizer_posterior(l, d, T + 1), AC_E_STATE, l);
    loc_rc(ac_localizer_step_flags(l, u, T), AC_E_STATE, l);
    loc_rc(ac_localizer_blame_labels(l, d, T), AC_E_STATE, l);
    loc_rc(ac_localizer_probability_within(l, 1, d), AC_E_STATE, l);
    loc_rc(ac_localizer_make_pair(l, 1, &pair), AC_E_STATE, l);
}

START_TEST(oracle_failure_past_retries)
{
    const uint32_t T = 20;
    vf v;
    for (int64_t retries = 0; retries <= 5; retries += 1) {
        vf_init(&v, T, 12);
        v.always_fail = 5;
        ac_localizer *l = new_loc(T, AC_STRATEGY_LINEAR, 1);
        set_i(l, AC_LOCALIZER_PARAM_MAX_RETRIES, retries);
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        loc_rc(ac_localizer_run(l), AC_E_ORACLE, l);
        assert_names(l, "prefix 5 ");
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME),
                         AC_LOCALIZER_OUTCOME_ERROR);
        ck_assert_uint_eq(v.asked[5], (uint32_t)retries + 1u);
        ck_assert_uint_eq(v.asked[6], 0);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_FAILURES), retries + 1);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_RETRIES), retries);
        assert_no_result(l, T);
        int32_t done = 0;
        loc_ok(ac_localizer_progress(l, &done, NULL), l);
        ck_assert_int_eq(done, 1);
        /* the failure sticks until a reset */
        uint64_t evals = v.evals;
        loc_rc(ac_localizer_run(l), AC_E_ORACLE, l);
        uint32_t pre[2], n = 3;
        uint64_t tk[2] = {0, 0};
        loc_rc(ac_localizer_ask(l, 2, tk, pre, &n), AC_E_ORACLE, l);
        ck_assert_uint_eq(n, 3); /* outputs untouched on failure */
        ck_assert_uint_eq(tk[0], 0);
        ck_assert_uint_eq(v.evals, evals);

        /* reset the session: the next run equals a fresh handle's */
        loc_ok(ac_localizer_reset(l, AC_RESET_SESSION), l);
        int64_t kept = -1;
        loc_ok(ac_localizer_get_int(l, AC_LOCALIZER_PARAM_MAX_RETRIES, &kept), l);
        ck_assert_int_eq(kept, retries); /* parameters stay */
        vf_init(&v, T, 12);
        loc_ok(ac_localizer_run(l), l);
        lres a, b;
        collect(l, T, AC_OK, &a);
        ac_localizer_free(l);
        vf_init(&v, T, 12);
        l = new_loc(T, AC_STRATEGY_LINEAR, 1);
        set_i(l, AC_LOCALIZER_PARAM_MAX_RETRIES, retries);
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        loc_ok(ac_localizer_run(l), l);
        collect(l, T, AC_OK, &b);
        assert_same(&a, &b, T, "after reset");
        ck_assert_int_eq(a.step, 12);
        ac_localizer_free(l);
    }
}
END_TEST

START_TEST(callback_and_bad_value)
{
    const uint32_t T = 12;
    vf v;
    /* the callback returns non-zero */
    vf_init(&v, T, 4);
    v.ret = 5;
    ac_localizer *l = new_loc(T, AC_STRATEGY_BINARY, 2);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_rc(ac_localizer_run(l), AC_E_CALLBACK, l);
    assert_names(l, "callback");
    assert_names(l, "5");
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME),
                     AC_LOCALIZER_OUTCOME_ERROR);
    assert_no_result(l, T);
    int32_t done = 0;
    loc_ok(ac_localizer_progress(l, &done, NULL), l);
    ck_assert_int_eq(done, 1);
    loc_rc(ac_localizer_run(l), AC_E_CALLBACK, l);
    ck_assert_uint_eq(v.calls, 1);
    /* reset, a working verifier: identical to a fresh handle */
    loc_ok(ac_localizer_reset(l, AC_RESET_SESSION), l);
    vf_init(&v, T, 4);
    loc_ok(ac_localizer_run(l), l);
    lres a, b;
    collect(l, T, AC_OK, &a);
    ac_localizer_free(l);
    vf_init(&v, T, 4);
    l = new_loc(T, AC_STRATEGY_BINARY, 2);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    collect(l, T, AC_OK, &b);
    assert_same(&a, &b, T, "reset after a callback failure");
    ac_localizer_free(l);

    /* a finite answer outside [0, 1] */
    static const double bad[] = {1.5, -0.5, 1.0000001};
    for (size_t i = 0; i < 3; i++) {
        vf_init(&v, T, 9);
        v.bad_prefix = 3;
        v.bad_value = bad[i];
        l = new_loc(T, AC_STRATEGY_LINEAR, 1);
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        loc_rc(ac_localizer_run(l), AC_E_INVALID_ARG, l);
        assert_names(l, "prefix 3");
        assert_names(l, "[0, 1]");
        assert_no_result(l, T);
        /* a reset recovers */
        loc_ok(ac_localizer_reset(l, AC_RESET_SESSION), l);
        vf_init(&v, T, 9);
        loc_ok(ac_localizer_run(l), l);
        int64_t step = 77;
        loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
        ck_assert_int_eq(step, 9);
        ac_localizer_free(l);
    }
}
END_TEST

START_TEST(bad_value_then_run_again)
{
    const uint32_t T = 12;
    vf v;
    vf_init(&v, T, 9);
    v.bad_prefix = 3;
    v.bad_value = 1.5;
    ac_localizer *l = new_loc(T, AC_STRATEGY_LINEAR, 1);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_rc(ac_localizer_run(l), AC_E_INVALID_ARG, l);
    assert_no_result(l, T);
    /* The run stopped with AC_E_INVALID_ARG; a second ac_localizer_run
     * must fail again (or finish with a result), never return AC_OK
     * without one. A fixed bug left prefix 3 handed out and the run not
     * failed, so the second run returned AC_OK with no result. */
    int rc2 = ac_localizer_run(l);
    int64_t step = 77;
    int rc3 = ac_localizer_result(l, &step, NULL, NULL);
    int32_t done = 5;
    uint64_t outstanding = 5;
    loc_ok(ac_localizer_progress(l, &done, &outstanding), l);
    ac_localizer_free(l);
    ck_assert_msg(rc2 != AC_OK || rc3 == AC_OK,
                  "a second run returned AC_OK without a result (result: "
                  "%s; progress: done %d, outstanding %llu)",
                  ac_status_name(rc3), done,
                  (unsigned long long)outstanding);
}
END_TEST

/* Whatever stops the corrective scan of ac_localizer_run ends the scan,
 * not the run: AC_OK with the search's result, SCAN_COMPLETE 0 and
 * SCAN_STOPPED the cause; the result is the one of a run whose budget cut
 * the scan at the same prefix. The same causes during the search fail the
 * run (oracle_failure_past_retries, callback_and_bad_value, state_errors). */
START_TEST(scan_stopped_run_succeeds)
{
    /* error at 8, a repair at 10, off again at 13, on from 16 */
    static const uint8_t truth[20] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0,
                                      1, 1, 1, 0, 0, 0, 1, 1, 1, 1};
    const uint32_t T = 20, h = 8;
    /* LINEAR, W = 1: prefix t > h is asked in verifier call t + 1 */
    enum { CANCEL, CALLBACK, ORACLE, BAD_VALUE, RETRIED, N_CASES };
    static const struct {
        int64_t stopped;
        uint32_t judged_end; /* prefixes h + 1 .. judged_end - 1 judged */
        const char *names;
    } want_case[N_CASES] = {
        [CANCEL] = {AC_E_CANCELLED, 13, "cancel"},
        [CALLBACK] = {AC_E_CALLBACK, 12, "callback"},
        [ORACLE] = {AC_E_ORACLE, 12, "prefix 12 "},
        /* an answer outside [0, 1] fails the verifier's call as a whole,
         * and so stops the scan the same way */
        [BAD_VALUE] = {AC_E_INVALID_ARG, 12, "[0, 1]"},
        [RETRIED] = {AC_OK, 20, NULL},
    };
    uint32_t authors[20];
    for (uint32_t t = 0; t < T; t++)
        authors[t] = t % 3u;
    vf v;
    lres got, cut;
    for (int c = 0; c < N_CASES; c++) {
        vf_init(&v, T, 0);
        memcpy(v.on, truth, T);
        ac_localizer *l = new_loc(T, AC_STRATEGY_LINEAR, 1);
        set_i(l, AC_LOCALIZER_PARAM_MONOTONE, 0);
        loc_ok(ac_localizer_set_authors(l, authors, T), l);
        v.loc = l;
        v.act_at = 13; /* prefix 12 */
        if (c == CANCEL)
            v.reenter = 2;
        else if (c == CALLBACK)
            v.ret = 3;
        else if (c == ORACLE)
            v.always_fail = 12;
        else if (c == BAD_VALUE) {
            v.bad_prefix = 12;
            v.bad_value = 1.25;
        }
        else
            v.fail_first[12] = 2; /* within MAX_RETRIES 2 */
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        int rc = ac_localizer_run(l);
        REQUIRE(rc == AC_OK, "case %d: run %s: %s", c, ac_status_name(rc),
                ac_localizer_last_error(l));
        collect(l, T, rc, &got);
        REQUIRE(got.step == (int64_t)h && got.prob == 1.0 &&
                    got.agent == authors[h],
                "case %d: step %lld prob %g", c, (long long)got.step,
                got.prob);
        REQUIRE(got.audit[AC_LOCALIZER_AUDIT_OUTCOME] ==
                    AC_LOCALIZER_OUTCOME_FOUND, "case %d: outcome", c);
        REQUIRE(got.audit[AC_LOCALIZER_AUDIT_SCAN_STOPPED] ==
                    want_case[c].stopped,
                "case %d: SCAN_STOPPED %lld, want %lld", c,
                (long long)got.audit[AC_LOCALIZER_AUDIT_SCAN_STOPPED],
                (long long)want_case[c].stopped);
        REQUIRE(got.audit[AC_LOCALIZER_AUDIT_SCAN_COMPLETE] ==
                    (want_case[c].stopped == AC_OK),
                "case %d: SCAN_COMPLETE %lld", c,
                (long long)got.audit[AC_LOCALIZER_AUDIT_SCAN_COMPLETE]);
        REQUIRE(got.audit[AC_LOCALIZER_AUDIT_SEARCH_EVALUATIONS] == h + 1,
                "case %d: the search changed", c);
        if (want_case[c].names != NULL)
            assert_names(l, want_case[c].names);
        /* nothing was asked past the stop */
        uint32_t end = want_case[c].judged_end;
        for (uint32_t t = end + 1; t < T; t++)
            REQUIRE(v.asked[t] == 0, "case %d: prefix %u asked after the "
                    "scan stopped", c, t);
        REQUIRE(c != ORACLE || v.asked[12] == 3, "case %d: prefix 12 asked"
                " %u times, want 1 + MAX_RETRIES", c, v.asked[12]);
        /* flags: judged prefixes as the truth says, the rest propagates */
        uint8_t seen[20];
        memcpy(seen, truth, T);
        for (uint32_t t = end; t < T; t++)
            seen[t] = 0;
        uint32_t want_flags[20];
        expected_flags(seen, T, h, want_flags);
        for (uint32_t t = 0; t < T; t++)
            REQUIRE(got.flags[t] == want_flags[t], "case %d: flags[%u] %u, "
                    "want %u", c, t, got.flags[t], want_flags[t]);
        /* the run is done and stays done */
        uint64_t calls = v.calls;
        loc_ok(ac_localizer_run(l), l);
        ck_assert_uint_eq(v.calls, calls);
        int32_t done = 0;
        loc_ok(ac_localizer_progress(l, &done, NULL), l);
        ck_assert_int_eq(done, 1);
        uint32_t pre[1], n = 9;
        uint64_t tk[1];
        loc_ok(ac_localizer_ask(l, 1, tk, pre, &n), l);
        ck_assert_uint_eq(n, 0);
        ac_preference_pair pair = blank_pair();
        loc_ok(ac_localizer_make_pair(l, 3, &pair), l);
        ck_assert_int_eq(pair.step, h);
        ac_localizer_free(l);

        /* the same result as a scan the budget cut at the same prefix */
        vf_init(&v, T, 0);
        memcpy(v.on, truth, T);
        l = new_loc(T, AC_STRATEGY_LINEAR, 1);
        set_i(l, AC_LOCALIZER_PARAM_MONOTONE, 0);
        set_i(l, AC_LOCALIZER_PARAM_BUDGET, end);
        loc_ok(ac_localizer_set_authors(l, authors, T), l);
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        loc_ok(ac_localizer_run(l), l);
        collect(l, T, AC_OK, &cut);
        ck_assert_int_eq(cut.audit[AC_LOCALIZER_AUDIT_SCAN_STOPPED], AC_OK);
        ck_assert_int_eq(cut.audit[AC_LOCALIZER_AUDIT_SCAN_COMPLETE],
                         end == T);
        assert_same_result(&cut, &got, T, "stopped scan vs budget");
        ac_localizer_free(l);
    }
}
END_TEST

/* The same through ask/tell: a failed answer past the retries told during
 * the scan ends it, the tell succeeds, the result is readable. */
START_TEST(scan_stopped_asktell_oracle)
{
    const uint32_t T = 12, h = 4;
    ac_localizer *l = new_loc(T, AC_STRATEGY_LINEAR, 2);
    set_i(l, AC_LOCALIZER_PARAM_MAX_RETRIES, 0);
    uint32_t pre[2], n = 0;
    uint64_t tk[2];
    double val[2];
    int32_t st[2];
    for (;;) {
        loc_ok(ac_localizer_ask(l, 2, tk, pre, &n), l);
        ck_assert_uint_gt(n, 0);
        int scan = audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS) > 0;
        for (uint32_t k = 0; k < n; k++) {
            val[k] = pre[k] < h ? 1.0 : 0.0;
            st[k] = scan && pre[k] == h + 3 ? 5 : 0;
        }
        loc_ok(ac_localizer_tell(l, n, tk, val, st), l);
        if (scan && (pre[0] == h + 3 || (n > 1 && pre[1] == h + 3)))
            break;
    }
    int32_t done = 0;
    loc_ok(ac_localizer_progress(l, &done, NULL), l);
    ck_assert_int_eq(done, 1);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_STOPPED), AC_E_ORACLE);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_COMPLETE), 0);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_FAILURES), 1);
    assert_names(l, "prefix 7");
    int64_t step = -5;
    loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
    ck_assert_int_eq(step, h);
    /* the run is done: tell is a state error, ask hands out nothing */
    loc_rc(ac_localizer_tell(l, 1, tk, val, NULL), AC_E_STATE, l);
    loc_ok(ac_localizer_ask(l, 2, tk, pre, &n), l);
    ck_assert_uint_eq(n, 0);
    ac_localizer_free(l);
}
END_TEST

/* ===================================================================== */
/* 8. Errors and argument checks                                         */
/* ===================================================================== */

START_TEST(null_handle_everywhere)
{
    int64_t iv = 5, lo = 5, hi = 5;
    double fv = 5, d[4] = {5, 5, 5, 5};
    uint32_t u[4] = {5, 5, 5, 5}, n = 5;
    uint64_t tk[4] = {5, 5, 5, 5}, out = 5;
    int32_t done = 5;
    int32_t st = 0;
    ac_preference_pair pair;
    memset(&pair, 0, sizeof pair);
    pair.struct_size = sizeof pair;

    ac_localizer_free(NULL);
    ac_localizer_cancel(NULL);
    ck_assert_ptr_nonnull(ac_localizer_last_error(NULL));
    ck_assert_int_eq(ac_localizer_create(NULL, 5, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_set_int(NULL, AC_LOCALIZER_PARAM_BATCH, 2),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_get_int(NULL, AC_LOCALIZER_PARAM_BATCH, &iv),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_set_f64(NULL, AC_LOCALIZER_PARAM_ACCURACY, 0.9),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_get_f64(NULL, AC_LOCALIZER_PARAM_ACCURACY, &fv),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_param_bounds_int(AC_LOCALIZER_PARAM_BATCH, NULL, &hi),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_param_bounds_int(AC_LOCALIZER_PARAM_BATCH, &lo, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(
        ac_localizer_param_bounds_f64(AC_LOCALIZER_PARAM_ACCURACY, NULL, &fv),
        AC_E_INVALID_ARG);
    ck_assert_int_eq(
        ac_localizer_param_bounds_f64(AC_LOCALIZER_PARAM_ACCURACY, &fv, NULL),
        AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_reset(NULL, AC_RESET_ALL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_set_authors(NULL, u, 4), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_set_prior(NULL, d, 4), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_set_scores(NULL, d, 4), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_set_verifier(NULL, vf_fn, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_run(NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_ask(NULL, 4, tk, u, &n), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_tell(NULL, 1, tk, d, &st), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_progress(NULL, &done, &out),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_result(NULL, &iv, u, &fv),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_probability_within(NULL, 1, &fv),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_posterior(NULL, d, 4), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_audit(NULL, AC_LOCALIZER_AUDIT_EVALUATIONS, &iv),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_step_flags(NULL, u, 4), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_blame_labels(NULL, d, 4), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_set_repair(NULL, rp_repair, rp_check, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_make_pair(NULL, 1, &pair), AC_E_INVALID_ARG);
    /* outputs untouched */
    ck_assert_int_eq(iv, 5);
    ck_assert(fv == 5.0 && d[0] == 5.0 && u[0] == 5 && done == 5);
    ck_assert(tk[0] == 5 && out == 5 && n == 5);

    /* NULL pointers on a live handle */
    ac_localizer *l = new_loc(3, AC_STRATEGY_AUTO, 1);
    ck_assert_int_eq(ac_localizer_get_int(l, AC_LOCALIZER_PARAM_BATCH, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_get_f64(l, AC_LOCALIZER_PARAM_ACCURACY, NULL),
                     AC_E_INVALID_ARG);
    loc_rc(ac_localizer_set_authors(l, NULL, 3), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_set_prior(l, NULL, 4), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_set_scores(l, NULL, 3), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_ask(l, 2, NULL, u, &n), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_ask(l, 2, tk, NULL, &n), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_ask(l, 2, tk, u, NULL), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_tell(l, 1, NULL, d, NULL), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_tell(l, 1, tk, NULL, NULL), AC_E_INVALID_ARG, l);
    /* none of it started a run: an input is still accepted */
    loc_ok(ac_localizer_set_authors(l, u, 3), l);
    ck_assert_int_eq(ac_localizer_audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS, NULL),
                     AC_E_INVALID_ARG);
    loc_rc(ac_localizer_audit(l, (ac_localizer_audit_key)99, &iv),
           AC_E_INVALID_ARG, l);
    assert_names(l, "audit");
    loc_rc(ac_localizer_reset(l, 8u), AC_E_INVALID_ARG, l);
    assert_names(l, "reset");
    ck_assert_int_eq(ac_localizer_progress(l, NULL, NULL), AC_OK);
    ac_localizer_free(l);
}
END_TEST

static void *std_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return malloc(size);
}

static void std_free(void *opaque, void *ptr)
{
    (void)opaque;
    free(ptr);
}

START_TEST(create_and_lengths)
{
    ac_localizer *l = (ac_localizer *)(uintptr_t)1;
    ck_assert_int_eq(ac_localizer_create(&l, 0, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_localizer_create(&l, 1u << 25, NULL), AC_E_TOO_LARGE);
    ck_assert_int_eq(ac_localizer_create(&l, (1u << 24) + 1u, NULL),
                     AC_E_TOO_LARGE);
    ck_assert_ptr_eq(l, (ac_localizer *)(uintptr_t)1); /* untouched */
    ac_allocator bad = {sizeof(ac_allocator) + 1u, 0, std_alloc, std_free,
                        NULL};
    ck_assert_int_eq(ac_localizer_create(&l, 4, &bad), AC_E_INVALID_ARG);
    ac_allocator good = {sizeof(ac_allocator), 0, std_alloc, std_free, NULL};
    l = NULL;
    ck_assert_int_eq(ac_localizer_create(&l, 4, &good), AC_OK);
    ac_localizer_free(l);

    const uint32_t T = 6;
    l = new_loc(T, AC_STRATEGY_AUTO, 1);
    uint32_t au[8] = {0, 1, 2, 0, 1, 2, 0, 1};
    double d[8] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
    uint32_t u[8];
    /* wrong lengths */
    loc_rc(ac_localizer_set_authors(l, au, T - 1), AC_E_INVALID_ARG, l);
    assert_names(l, "expected");
    loc_rc(ac_localizer_set_authors(l, au, T + 1), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_set_prior(l, d, T), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_set_prior(l, d, T + 2), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_set_scores(l, d, T + 1), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_set_scores(l, d, T - 1), AC_E_INVALID_ARG, l);
    /* an agent beyond AC_MAX_PLAYERS */
    au[2] = AC_MAX_PLAYERS;
    loc_rc(ac_localizer_set_authors(l, au, T), AC_E_INVALID_ARG, l);
    assert_names(l, "message 2");
    au[2] = 2;
    /* bad priors */
    double prior[7] = {1, 1, 1, 1, 1, 1, 1};
    prior[3] = NAN;
    loc_rc(ac_localizer_set_prior(l, prior, T + 1), AC_E_INVALID_ARG, l);
    assert_names(l, "prior[3]");
    prior[3] = -0.5;
    loc_rc(ac_localizer_set_prior(l, prior, T + 1), AC_E_INVALID_ARG, l);
    assert_names(l, "prior[3]");
    prior[3] = INFINITY;
    loc_rc(ac_localizer_set_prior(l, prior, T + 1), AC_E_INVALID_ARG, l);
    for (uint32_t t = 0; t <= T; t++)
        prior[t] = 0.0;
    loc_rc(ac_localizer_set_prior(l, prior, T + 1), AC_E_INVALID_ARG, l);
    assert_names(l, "prior");
    /* bad scores */
    double s[6] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
    s[4] = 1.01;
    loc_rc(ac_localizer_set_scores(l, s, T), AC_E_INVALID_ARG, l);
    assert_names(l, "message 4");
    s[4] = -0.01;
    loc_rc(ac_localizer_set_scores(l, s, T), AC_E_INVALID_ARG, l);
    s[4] = NAN;
    loc_rc(ac_localizer_set_scores(l, s, T), AC_E_INVALID_ARG, l);
    /* run: outputs of the wrong length */
    vf v;
    vf_init(&v, T, 2);
    loc_ok(ac_localizer_set_authors(l, au, T), l);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    loc_rc(ac_localizer_posterior(l, d, T), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_posterior(l, d, T + 2), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_posterior(l, NULL, T + 1), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_step_flags(l, u, T + 1), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_step_flags(l, u, T - 1), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_blame_labels(l, d, T - 1), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_blame_labels(l, d, T + 1), AC_E_INVALID_ARG, l);
    loc_rc(ac_localizer_probability_within(l, 0, NULL), AC_E_INVALID_ARG, l);
    /* a failed output call leaves the output alone */
    ck_assert(d[0] == 0.1);
    uint32_t agent = 0;
    loc_ok(ac_localizer_result(l, NULL, &agent, NULL), l);
    ck_assert_uint_eq(agent, 2); /* au[2] */
    /* inputs and parameters are fixed after the run */
    loc_rc(ac_localizer_set_authors(l, au, T), AC_E_STATE, l);
    loc_rc(ac_localizer_set_prior(l, d, T + 1), AC_E_STATE, l);
    loc_rc(ac_localizer_set_scores(l, s, T), AC_E_STATE, l);
    loc_rc(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_STRATEGY, AC_STRATEGY_LINEAR), AC_E_STATE,
           l);
    loc_rc(ac_localizer_set_f64(l, AC_LOCALIZER_PARAM_TARGET, 0.9), AC_E_STATE, l);
    /* AC_RESET_SESSION makes the handle idle: they are accepted again, and
     * the next run uses them */
    loc_ok(ac_localizer_reset(l, AC_RESET_SESSION), l);
    loc_rc(ac_localizer_result(l, NULL, &agent, NULL), AC_E_STATE, l);
    au[2] = 1;
    loc_ok(ac_localizer_set_authors(l, au, T), l);
    loc_ok(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_STRATEGY,
                                AC_STRATEGY_LINEAR), l);
    vf_init(&v, T, 2);
    loc_ok(ac_localizer_run(l), l);
    loc_ok(ac_localizer_result(l, NULL, &agent, NULL), l);
    ck_assert_uint_eq(agent, 1);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_STRATEGY), AC_STRATEGY_LINEAR);
    ac_localizer_free(l);
}
END_TEST

START_TEST(parameters)
{
    ac_localizer *l = new_loc(5, AC_STRATEGY_AUTO, 1);
    static const struct {
        ac_localizer_param p;
        int64_t def, lo, hi;
    } ints[] = {
        {AC_LOCALIZER_PARAM_STRATEGY, AC_STRATEGY_AUTO, AC_STRATEGY_AUTO, AC_STRATEGY_SCORES},
        {AC_LOCALIZER_PARAM_NOISE, AC_NOISE_NONE, AC_NOISE_NONE, AC_NOISE_REPEATABLE},
        {AC_LOCALIZER_PARAM_BUDGET, 1024, 0, (int64_t)1 << 31},
        {AC_LOCALIZER_PARAM_BATCH, 1, 1, 4096},
        {AC_LOCALIZER_PARAM_MAX_RETRIES, 2, 0, 1000},
        {AC_LOCALIZER_PARAM_MONOTONE, 1, 0, 1},
        {AC_LOCALIZER_PARAM_SCAN_AFTER, 1, 0, 1},
        {AC_LOCALIZER_PARAM_CANDIDATES, 4, 1, 1024},
    };
    static const struct {
        ac_localizer_param p;
        double def, lo, hi, bad_lo, bad_hi;
    } f64s[] = {
        {AC_LOCALIZER_PARAM_ACCURACY, 0.8, 0.5, 0.999999999, 0.5, 1.0}, /* (0.5, 1) */
        {AC_LOCALIZER_PARAM_TARGET, 0.95, 0.5, 1.0, 0.5, 1.0},
        {AC_LOCALIZER_PARAM_THRESHOLD, 0.5, 0.0, 1.0, -0.01, 1.01},
        {AC_LOCALIZER_PARAM_LABEL_ERROR, -1.0, -1.0, 0.0, -1.01, 0.01},
        {AC_LOCALIZER_PARAM_LABEL_PROPAGATE, -0.25, -1.0, 0.0, -1.5, 0.5},
        {AC_LOCALIZER_PARAM_LABEL_CORRECTIVE, 1.0, 0.0, 1.0, -0.01, 1.01},
        {AC_LOCALIZER_PARAM_LABEL_BEFORE, 0.1, -1.0, 1.0, -1.01, 1.01},
        {AC_LOCALIZER_PARAM_ACCEPT, 0.5, 0.0, 1.0, 0.0, 1.01},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t v = -99, lo = -99, hi = -99;
        loc_ok(ac_localizer_get_int(l, ints[i].p, &v), l);
        ck_assert_msg(v == ints[i].def, "param %d default %lld", ints[i].p,
                      (long long)v);
        ck_assert_int_eq(ac_localizer_param_bounds_int(ints[i].p, &lo, &hi),
                         AC_OK);
        ck_assert_int_eq(lo, ints[i].lo);
        ck_assert_int_eq(hi, ints[i].hi);
        loc_rc(ac_localizer_set_int(l, ints[i].p, ints[i].lo - 1),
               AC_E_PARAM_OUT_OF_BOUND, l);
        loc_rc(ac_localizer_set_int(l, ints[i].p, ints[i].hi + 1),
               AC_E_PARAM_OUT_OF_BOUND, l);
        loc_ok(ac_localizer_set_int(l, ints[i].p, ints[i].hi), l);
        loc_ok(ac_localizer_get_int(l, ints[i].p, &v), l);
        ck_assert_int_eq(v, ints[i].hi);
        /* the wrong type is refused (the code is not documented) */
        ck_assert_int_ne(ac_localizer_set_f64(l, ints[i].p, 1.0), AC_OK);
    }
    for (size_t i = 0; i < sizeof f64s / sizeof f64s[0]; i++) {
        double v = -99, lo = -99, hi = -99;
        loc_ok(ac_localizer_get_f64(l, f64s[i].p, &v), l);
        ck_assert_msg(v == f64s[i].def, "param %d default %g", f64s[i].p, v);
        ck_assert_int_eq(ac_localizer_param_bounds_f64(f64s[i].p, &lo, &hi),
                         AC_OK);
        ck_assert_msg(lo == f64s[i].lo && (hi == f64s[i].hi ||
                      (f64s[i].p == AC_LOCALIZER_PARAM_TARGET && hi < 1.0 && hi > 0.99)),
                      "param %d bounds [%g, %g]", f64s[i].p, lo, hi);
        loc_rc(ac_localizer_set_f64(l, f64s[i].p, f64s[i].bad_lo),
               AC_E_PARAM_OUT_OF_BOUND, l);
        loc_rc(ac_localizer_set_f64(l, f64s[i].p, f64s[i].bad_hi),
               AC_E_PARAM_OUT_OF_BOUND, l);
        loc_rc(ac_localizer_set_f64(l, f64s[i].p, NAN),
               AC_E_PARAM_OUT_OF_BOUND, l);
        ck_assert_int_ne(ac_localizer_set_int(l, f64s[i].p, 0), AC_OK);
    }
    /* the ones the brief names */
    loc_rc(ac_localizer_set_f64(l, AC_LOCALIZER_PARAM_ACCURACY, 0.4),
           AC_E_PARAM_OUT_OF_BOUND, l);
    assert_names(l, "AC_LOCALIZER_PARAM_ACCURACY");
    loc_rc(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_BATCH, 0), AC_E_PARAM_OUT_OF_BOUND,
           l);
    assert_names(l, "AC_LOCALIZER_PARAM_BATCH");
    loc_rc(ac_localizer_set_f64(l, AC_LOCALIZER_PARAM_TARGET, 1.0),
           AC_E_PARAM_OUT_OF_BOUND, l);
    assert_names(l, "AC_LOCALIZER_PARAM_TARGET");
    /* unknown parameters */
    loc_rc(ac_localizer_set_int(l, (ac_localizer_param)299, 1),
           AC_E_PARAM_UNSUPPORTED, l);
    assert_names(l, "299");
    loc_rc(ac_localizer_set_f64(l, (ac_localizer_param)AC_REFINER_PARAM_BOUND, 1.0),
           AC_E_PARAM_UNSUPPORTED, l);
    int64_t iv;
    double fv;
    ck_assert_int_eq(ac_localizer_get_int(l, (ac_localizer_param)316, &iv),
                     AC_E_PARAM_UNSUPPORTED);
    ck_assert_int_eq(ac_localizer_get_f64(l, (ac_localizer_param)0, &fv),
                     AC_E_PARAM_UNSUPPORTED);
    ck_assert_int_eq(
        ac_localizer_param_bounds_int((ac_localizer_param)299, &iv, &iv),
        AC_E_PARAM_UNSUPPORTED);
    /* AC_RESET_PARAMS restores the defaults */
    loc_ok(ac_localizer_reset(l, AC_RESET_PARAMS), l);
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        loc_ok(ac_localizer_get_int(l, ints[i].p, &iv), l);
        ck_assert_int_eq(iv, ints[i].def);
    }
    ac_localizer_free(l);
}
END_TEST

START_TEST(state_errors)
{
    const uint32_t T = 8;
    vf v;
    /* run without a verifier */
    ac_localizer *l = new_loc(T, AC_STRATEGY_AUTO, 1);
    loc_rc(ac_localizer_run(l), AC_E_STATE, l);
    assert_names(l, "verifier");
    assert_no_result(l, T);
    /* SCORES without scores */
    set_i(l, AC_LOCALIZER_PARAM_STRATEGY, AC_STRATEGY_SCORES);
    loc_rc(ac_localizer_run(l), AC_E_STATE, l);
    assert_names(l, "scores");
    uint32_t pre[4], n = 9;
    uint64_t tk[4];
    loc_rc(ac_localizer_ask(l, 4, tk, pre, &n), AC_E_STATE, l);
    ck_assert_uint_eq(n, 9); /* outputs untouched on failure */
    /* still idle: the scores can come now */
    double s[8] = {0, 0, 0.7, 0, 0, 0, 0, 0};
    loc_ok(ac_localizer_set_scores(l, s, T), l);
    loc_ok(ac_localizer_run(l), l);
    int64_t step;
    loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
    ck_assert_int_eq(step, 2);
    /* run again after the end: nothing more */
    loc_ok(ac_localizer_run(l), l);
    /* AC_RESET_KNOWN forgets the scores */
    loc_ok(ac_localizer_reset(l, AC_RESET_SESSION | AC_RESET_KNOWN), l);
    loc_rc(ac_localizer_run(l), AC_E_STATE, l);
    ac_localizer_free(l);

    /* cancel from inside the verifier */
    vf_init(&v, T, 5);
    l = new_loc(T, AC_STRATEGY_LINEAR, 1);
    v.loc = l;
    v.reenter = 2;
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_rc(ac_localizer_run(l), AC_E_CANCELLED, l);
    assert_names(l, "cancel");
    ck_assert_uint_eq(v.calls, 1);
    assert_no_result(l, T);
    int32_t done = 0;
    loc_ok(ac_localizer_progress(l, &done, NULL), l);
    ck_assert_int_eq(done, 1);
    loc_ok(ac_localizer_reset(l, AC_RESET_SESSION), l);
    vf_init(&v, T, 5);
    loc_ok(ac_localizer_run(l), l);
    loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
    ck_assert_int_eq(step, 5);
    ac_localizer_free(l);

    /* cancel before the run */
    vf_init(&v, T, 5);
    l = new_loc(T, AC_STRATEGY_LINEAR, 1);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    ac_localizer_cancel(l);
    loc_rc(ac_localizer_run(l), AC_E_CANCELLED, l);
    ck_assert_uint_eq(v.calls, 0);
    ac_localizer_free(l);

    /* driving the localizer from inside its verifier: AC_E_BUSY, and the
     * run goes on undisturbed */
    for (int64_t S = AC_STRATEGY_LINEAR; S <= AC_STRATEGY_BISECTION; S++) {
        vf_init(&v, T, 5);
        l = new_loc(T, S, 2);
        v.loc = l;
        v.reenter = 1;
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        loc_ok(ac_localizer_run(l), l);
        for (int k = 0; k < 7; k++)
            ck_assert_msg(v.reenter_rc[k] == AC_E_BUSY,
                          "re-entrant call %d returned %s", k,
                          ac_status_name(v.reenter_rc[k]));
        /* the refused ask left its output untouched */
        ck_assert_int_eq(v.reenter_rc[7], 9);
        ck_assert_msg(th_icontains(v.reenter_msg, "ac_localizer_ask") &&
                          th_icontains(v.reenter_msg, "callback"),
                      "BUSY message \"%s\"", v.reenter_msg);
        loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
        ck_assert_int_eq(step, 5);
        int64_t batch = 0;
        loc_ok(ac_localizer_get_int(l, AC_LOCALIZER_PARAM_BATCH, &batch), l);
        ck_assert_int_eq(batch, 2);
        ac_localizer_free(l);
    }
}
END_TEST

/* ===================================================================== */
/* 9. Blame labels and the refiner                                       */
/* ===================================================================== */

/* The header's formula, from the posterior and the flags. */
static void expected_labels(const double *post, const uint32_t *flags,
                            uint32_t T, double before, double error,
                            double propagate, double corrective,
                            double *labels)
{
    double below = 0.0;
    for (uint32_t t = 0; t < T; t++) {
        double at = post[t], after = 1.0 - below - at;
        if (after < 0.0)
            after = 0.0;
        double x = after * before + at * error + below * propagate;
        if (flags[t] & AC_STEP_FLAG_CORRECTIVE)
            x = corrective;
        else if (flags[t] & AC_STEP_FLAG_RECOVERED)
            x = before;
        labels[t] = x < -1.0 ? -1.0 : (x > 1.0 ? 1.0 : x);
        below += at;
    }
}

START_TEST(blame_labels_exact)
{
    static const uint8_t truth[10] = {1, 1, 1, 0, 0, 1, 1, 0, 0, 1};
    static const double want_default[10] = {0.1,  0.1,   0.1, -1.0, -0.25,
                                            1.0,  0.1, -0.25, -0.25, 1.0};
    vf v;
    for (int custom = 0; custom < 2; custom++) {
        vf_init(&v, 10, 0);
        memcpy(v.on, truth, sizeof truth);
        ac_localizer *l = new_loc(10, AC_STRATEGY_LINEAR, 1);
        if (custom) {
            set_f(l, AC_LOCALIZER_PARAM_LABEL_ERROR, -0.6);
            set_f(l, AC_LOCALIZER_PARAM_LABEL_PROPAGATE, -0.1);
            set_f(l, AC_LOCALIZER_PARAM_LABEL_CORRECTIVE, 0.7);
            set_f(l, AC_LOCALIZER_PARAM_LABEL_BEFORE, 0.3);
        }
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        loc_ok(ac_localizer_run(l), l);
        double labels[10];
        loc_ok(ac_localizer_blame_labels(l, labels, 10), l);
        for (uint32_t t = 0; t < 10; t++) {
            double want = want_default[t];
            if (custom)
                want = want == 0.1    ? 0.3
                       : want == -1.0  ? -0.6
                       : want == -0.25 ? -0.1
                                       : 0.7;
            ck_assert_msg(labels[t] == want, "custom %d: label[%u] = %.17g, "
                          "want %.17g", custom, t, labels[t], want);
        }
        ac_localizer_free(l);
    }
    /* no error: every message is "before" */
    vf_init(&v, 6, 6);
    ac_localizer *l = new_loc(6, AC_STRATEGY_AUTO, 1);
    set_f(l, AC_LOCALIZER_PARAM_LABEL_BEFORE, -0.2);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    double labels[6];
    loc_ok(ac_localizer_blame_labels(l, labels, 6), l);
    for (uint32_t t = 0; t < 6; t++)
        ck_assert(labels[t] == -0.2);
    ac_localizer_free(l);
}
END_TEST

START_TEST(blame_labels_to_refiner)
{
    th_rng r = th_rng_make(909);
    vf v;
    uint32_t checked_sign = 0;
    for (int ep = 0; ep < 200; ep++) {
        uint32_t T = 6u + th_rng_below(&r, 40);
        uint32_t h = th_rng_below(&r, T);
        uint32_t authors[MAX_T];
        int present[3];
        do {
            present[0] = present[1] = present[2] = 0;
            for (uint32_t t = 0; t < T; t++) {
                authors[t] = th_rng_below(&r, 3);
                present[authors[t]] = 1;
            }
        } while (!(present[0] && present[1] && present[2]));
        vf_init(&v, T, h);
        if (ep % 2)
            random_pattern(&r, v.on, T, h);
        ac_localizer *l = new_loc(T, AC_STRATEGY_LINEAR, 1 + (uint32_t)(ep % 3));
        loc_ok(ac_localizer_set_authors(l, authors, T), l);
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        loc_ok(ac_localizer_run(l), l);
        uint32_t agent;
        int64_t step;
        loc_ok(ac_localizer_result(l, &step, &agent, NULL), l);
        REQUIRE(step == (int64_t)h && agent == authors[h], "step/agent");
        double labels[MAX_T];
        uint32_t flags[MAX_T];
        loc_ok(ac_localizer_blame_labels(l, labels, T), l);
        loc_ok(ac_localizer_step_flags(l, flags, T), l);
        for (uint32_t t = 0; t < T; t++) {
            REQUIRE(labels[t] >= -1.0 && labels[t] <= 1.0, "label range");
            double want = t < h ? 0.1
                          : t == h ? -1.0
                          : (flags[t] & AC_STEP_FLAG_CORRECTIVE) ? 1.0
                          : (flags[t] & AC_STEP_FLAG_RECOVERED) ? 0.1
                                                           : -0.25;
            REQUIRE(labels[t] == want, "ep %d: label[%u] = %g, want %g", ep,
                    t, labels[t], want);
        }
        ac_localizer_free(l);

        double credit[3];
        for (int i = 0; i < 3; i++)
            credit[i] = th_rng_range(&r, -1.0, 1.0);
        ac_refiner *ref = NULL;
        REQUIRE(ac_refiner_create(&ref, 3, T, NULL) == AC_OK, "refiner");
        REQUIRE(ac_refiner_set_authors(ref, authors, T) == AC_OK, "authors");
        REQUIRE(ac_refiner_set_credits(ref, credit, 3) == AC_OK, "credits");
        int rc = ac_refiner_set_labels(ref, labels, T);
        REQUIRE(rc == AC_OK, "set_labels: %s", ac_refiner_last_error(ref));
        /* every label given: the run asks no scorer, it refines */
        rc = ac_refiner_run(ref);
        REQUIRE(rc == AC_OK, "refiner run: %s", ac_refiner_last_error(ref));
        int64_t scored = -1;
        REQUIRE(ac_refiner_audit(ref, AC_REFINER_AUDIT_EVALUATIONS,
                                 &scored) == AC_OK && scored == 0,
                "the refiner asked a scorer for %lld labels", (long long)scored);
        double rewards[MAX_T];
        REQUIRE(ac_refiner_rewards(ref, rewards, T) == AC_OK, "rewards");
        for (uint32_t i = 0; i < 3; i++) {
            double mine[MAX_T];
            uint32_t k = 0;
            int has_nonneg = 0;
            for (uint32_t t = 0; t < T; t++)
                if (authors[t] == i) {
                    mine[k++] = rewards[t];
                    has_nonneg |= t != h && labels[t] >= 0.0;
                }
            double sum = th_sum(mine, k);
            double scale = fabs(credit[i]) > th_sum_abs(mine, k)
                               ? fabs(credit[i])
                               : th_sum_abs(mine, k);
            REQUIRE(fabs(sum - credit[i]) <= 1e-12 * scale + 1e-300,
                    "ep %d agent %u: rewards sum %.17g, credit %.17g", ep, i,
                    sum, credit[i]);
            if (i == authors[h] && has_nonneg) {
                checked_sign++;
                REQUIRE(rewards[h] <= 0.0,
                        "ep %d: the first error (agent %u, credit %g) got "
                        "reward %.17g", ep, i, credit[i], rewards[h]);
            }
        }
        ac_refiner_free(ref);
    }
    ck_assert_uint_gt(checked_sign, 50);
}
END_TEST

START_TEST(blame_labels_noisy_formula)
{
    th_rng r = th_rng_make(1212);
    vf v;
    for (int ep = 0; ep < 60; ep++) {
        const uint32_t T = 30;
        uint32_t h = th_rng_below(&r, T + 1);
        vf_init(&v, T, h);
        vf_noisy(&v, ep % 2 ? AC_NOISE_INDEPENDENT : AC_NOISE_REPEATABLE,
                 0.8, 7000u + (uint64_t)ep);
        ac_localizer *l = new_loc(T, AC_STRATEGY_BISECTION, 1 + (uint32_t)(ep % 2));
        set_i(l, AC_LOCALIZER_PARAM_NOISE, v.noise);
        double lb = 0.1, le = -1.0, lp = -0.25, lc = 1.0;
        if (ep % 3 == 0) {
            lb = -0.4;
            le = -0.3;
            lp = -0.9;
            lc = 0.2;
            set_f(l, AC_LOCALIZER_PARAM_LABEL_BEFORE, lb);
            set_f(l, AC_LOCALIZER_PARAM_LABEL_ERROR, le);
            set_f(l, AC_LOCALIZER_PARAM_LABEL_PROPAGATE, lp);
            set_f(l, AC_LOCALIZER_PARAM_LABEL_CORRECTIVE, lc);
        }
        if (ep % 4 == 1)
            set_i(l, AC_LOCALIZER_PARAM_BUDGET, 6); /* a wide posterior */
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        loc_ok(ac_localizer_run(l), l);
        double post[MAX_T + 1], labels[MAX_T], want[MAX_T];
        uint32_t flags[MAX_T];
        loc_ok(ac_localizer_posterior(l, post, T + 1), l);
        loc_ok(ac_localizer_step_flags(l, flags, T), l);
        loc_ok(ac_localizer_blame_labels(l, labels, T), l);
        expected_labels(post, flags, T, lb, le, lp, lc, want);
        for (uint32_t t = 0; t < T; t++) {
            REQUIRE(labels[t] >= -1.0 && labels[t] <= 1.0, "range");
            REQUIRE(fabs(labels[t] - want[t]) <= 1e-12,
                    "ep %d: label[%u] = %.17g, formula %.17g", ep, t,
                    labels[t], want[t]);
        }
        ac_localizer_free(l);
    }
}
END_TEST

/* ===================================================================== */
/* 10. Repair-aware preference pairs                                     */
/* ===================================================================== */

static const uint32_t PAIR_AUTHORS[10] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};

/* Runs LINEAR on a 10-message episode of the given truth, then makes the
 * pair with repair state r (NULL: no repair registered). */
static ac_localizer *pair_run(const uint8_t *truth, rp *r, int authors,
                              double on_value)
{
    static vf v;
    vf_init(&v, 10, 0);
    memcpy(v.on, truth, 10);
    v.on_value = on_value;
    ac_localizer *l = new_loc(10, AC_STRATEGY_LINEAR, 1);
    if (authors)
        loc_ok(ac_localizer_set_authors(l, PAIR_AUTHORS, 10), l);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    if (r != NULL)
        loc_ok(ac_localizer_set_repair(l, rp_repair, rp_check, r), l);
    loc_ok(ac_localizer_run(l), l);
    return l;
}

static const uint8_t MONO3[10] = {1, 1, 1, 0, 0, 0, 0, 0, 0, 0};

START_TEST(pair_repair_verified)
{
    rp r;
    const uint64_t episode = 0xDEADBEEFCAFEull;
    /* (a) several verified: the most probable wins, the first on ties */
    static const double p4[4] = {0.3, 0.9, 0.7, 0.9};
    rp_init(&r, 4, p4);
    ac_localizer *l = pair_run(MONO3, &r, 1, 1.0);
    int64_t before = audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS);
    ck_assert_uint_eq(r.repair_calls, 0); /* not before make_pair */
    ac_preference_pair pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, episode, &pair), l);
    ck_assert_uint_eq(pair.struct_size, sizeof pair);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_REPAIR);
    ck_assert_uint_eq(pair.chosen, RP_ID(1));
    ck_assert(pair.confidence == 0.9);
    ck_assert(pair.localization == 1.0);
    ck_assert(pair.weight == 0.9 * 1.0);
    ck_assert_uint_eq(pair.step, 3);
    ck_assert_uint_eq(pair.prompt_end, 3);
    ck_assert_uint_eq(pair.agent, 0);
    ck_assert_uint_eq(pair.episode, episode);
    ck_assert_uint_eq(pair.candidates, 4);
    ck_assert_uint_eq(pair.verified, 3);
    ck_assert_uint_eq(r.step_seen, 3);
    ck_assert_uint_eq(r.check_step_seen, 3);
    ck_assert_uint_eq(r.max_seen, 4); /* AC_LOCALIZER_PARAM_CANDIDATES */
    ck_assert_uint_eq(r.check_calls, 1);
    ck_assert_uint_eq(r.checked, 4);
    ck_assert_uint_eq(r.bad_ids + r.prefill_bad, 0);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_REPAIR_CANDIDATES), 4);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_REPAIR_CHECKS), 4);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), before + 4);
    ac_localizer_free(l);

    /* exactly one verified; a failed check (status) with a high p is not
     * read: asked again, the candidate says 0.1 */
    static const double p1[4] = {0.2, 0.6, 0.1, 0.1};
    rp_init(&r, 4, p1);
    r.fail_first[3] = 1;
    l = pair_run(MONO3, &r, 1, 1.0);
    pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 7, &pair), l);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_REPAIR);
    ck_assert_uint_eq(pair.chosen, RP_ID(1));
    ck_assert(pair.confidence == 0.6);
    ck_assert(pair.weight == 0.6);
    ck_assert_uint_eq(pair.verified, 1);
    ck_assert_uint_eq(pair.checked, 4);
    ck_assert_uint_eq(pair.episode, 7);
    ck_assert_uint_eq(r.attempts[3], 2);
    ac_localizer_free(l);

    /* AC_LOCALIZER_PARAM_ACCEPT: verified at or above it; AC_LOCALIZER_PARAM_CANDIDATES: asked for */
    static const double p3[6] = {0.9, 0.95, 0.94, 1.0, 0.2, 0.99};
    rp_init(&r, 6, p3);
    vf v;
    vf_init(&v, 10, 3);
    l = new_loc(10, AC_STRATEGY_AUTO, 1);
    set_f(l, AC_LOCALIZER_PARAM_ACCEPT, 0.95);
    set_i(l, AC_LOCALIZER_PARAM_CANDIDATES, 3);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    ck_assert_int_eq(ac_localizer_set_repair(l, rp_repair, rp_check, &r), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 1, &pair), l);
    ck_assert_uint_eq(r.max_seen, 3);
    ck_assert_uint_eq(pair.candidates, 3);
    ck_assert_uint_eq(pair.verified, 1); /* 0.95 only */
    ck_assert_uint_eq(pair.chosen, RP_ID(1));
    ck_assert_uint_eq(pair.agent, UINT32_MAX); /* no authors */
    ac_localizer_free(l);

    /* a noisy localization: localization is the reported probability */
    static const double pn[2] = {0.7, 0.8};
    rp_init(&r, 2, pn);
    vf_init(&v, 40, 17);
    vf_noisy(&v, AC_NOISE_INDEPENDENT, 0.8, 31337);
    l = new_loc(40, AC_STRATEGY_AUTO, 1);
    set_i(l, AC_LOCALIZER_PARAM_NOISE, AC_NOISE_INDEPENDENT);
    set_i(l, AC_LOCALIZER_PARAM_SCAN_AFTER, 0);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    ck_assert_int_eq(ac_localizer_set_repair(l, rp_repair, rp_check, &r), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    int64_t step;
    double prob;
    loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
    pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 2, &pair), l);
    if (step >= 0) {
        ck_assert(prob < 1.0);
        ck_assert_int_eq(pair.kind, AC_PAIR_KIND_REPAIR);
        ck_assert(same_bits(pair.localization, prob));
        ck_assert(pair.confidence == 0.8);
        ck_assert(same_bits(pair.weight, 0.8 * prob));
        ck_assert_uint_eq(pair.step, (uint32_t)step);
    } else {
        ck_assert_int_eq(pair.reason, AC_PAIR_REASON_NOT_LOCALIZED);
    }
    ac_localizer_free(l);
}
END_TEST

START_TEST(pair_corrective_and_none)
{
    rp r;
    static const double plow[3] = {0.1, 0.2, 0.3};
    /* error at 3 (agent 0); correctives at 5 (agent 2) and 9 (agent 0) */
    static const uint8_t both[10] = {1, 1, 1, 0, 0, 1, 0, 0, 0, 1};
    /* only the corrective of another agent */
    static const uint8_t other[10] = {1, 1, 1, 0, 0, 1, 1, 0, 0, 0};

    rp_init(&r, 3, plow);
    ac_localizer *l = pair_run(both, &r, 1, 0.8);
    uint32_t flags[10];
    loc_ok(ac_localizer_step_flags(l, flags, 10), l);
    ck_assert_uint_eq(flags[5], AC_STEP_FLAG_CORRECTIVE);
    ck_assert_uint_eq(flags[9], AC_STEP_FLAG_CORRECTIVE);
    ac_preference_pair pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 11, &pair), l);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_CORRECTIVE);
    ck_assert_uint_eq(pair.chosen, 9); /* not 5: agent 2 */
    ck_assert(pair.confidence == 0.8);
    ck_assert(pair.weight == 0.8);
    ck_assert_uint_eq(pair.candidates, 3);
    ck_assert_uint_eq(pair.verified, 0);
    ck_assert_uint_eq(pair.agent, 0);
    ck_assert_uint_eq(pair.step, 3);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_REPAIR_CANDIDATES), 3);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_REPAIR_CHECKS), 3);
    ac_localizer_free(l);

    /* the corrective without any repair callback */
    l = pair_run(both, NULL, 1, 1.0);
    pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 11, &pair), l);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_CORRECTIVE);
    ck_assert_uint_eq(pair.chosen, 9);
    ck_assert_uint_eq(pair.candidates, 0);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_REPAIR_CHECKS), 0);
    ac_localizer_free(l);

    /* without authors, no corrective can stand in */
    rp_init(&r, 3, plow);
    l = pair_run(both, &r, 0, 1.0);
    pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 11, &pair), l);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_NONE);
    ck_assert_int_eq(pair.reason, AC_PAIR_REASON_NOT_VERIFIED);
    ck_assert_uint_eq(pair.agent, UINT32_MAX);
    ac_localizer_free(l);

    /* a corrective by another agent does not count */
    rp_init(&r, 3, plow);
    l = pair_run(other, &r, 1, 1.0);
    pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 12, &pair), l);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_NONE);
    ck_assert_int_eq(pair.reason, AC_PAIR_REASON_NOT_VERIFIED);
    ck_assert_uint_eq(pair.candidates, 3);
    ck_assert_uint_eq(pair.verified, 0);
    ck_assert_uint_eq(pair.step, 3);
    ck_assert_uint_eq(pair.episode, 12);
    ck_assert(pair.weight == 0.0);
    ac_localizer_free(l);

    /* no candidates proposed, no corrective: NO_CANDIDATE */
    rp_init(&r, 0, NULL);
    l = pair_run(MONO3, &r, 1, 1.0);
    pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 13, &pair), l);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_NONE);
    ck_assert_int_eq(pair.reason, AC_PAIR_REASON_NO_CANDIDATE);
    ck_assert_uint_eq(pair.candidates, 0);
    ck_assert_uint_eq(r.repair_calls, 1);
    ck_assert_uint_eq(r.checked, 0);
    ac_localizer_free(l);
    /* no repair registered */
    l = pair_run(MONO3, NULL, 1, 1.0);
    pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 13, &pair), l);
    ck_assert_int_eq(pair.reason, AC_PAIR_REASON_NO_CANDIDATE);
    ac_localizer_free(l);

    /* a check answering a status, NaN or an infinity is asked again (the
     * answer rule); what comes back decides: not verified */
    static const double pnan[2] = {0.2, 0.3};
    rp_init(&r, 2, pnan);
    r.fail_first[0] = r.fail_first[1] = 2;
    l = pair_run(MONO3, &r, 1, 1.0);
    pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 14, &pair), l);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_NONE);
    ck_assert_int_eq(pair.reason, AC_PAIR_REASON_NOT_VERIFIED);
    ck_assert_uint_eq(pair.verified, 0);
    ck_assert_uint_eq(pair.checked, 2);
    ck_assert_uint_eq(r.check_calls, 3);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_REPAIR_CHECKS), 6);
    ac_localizer_free(l);

    /* (d) no error found: NOT_LOCALIZED, the repair is not asked */
    static const uint8_t fine[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    rp_init(&r, 3, plow);
    l = pair_run(fine, &r, 1, 1.0);
    pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 15, &pair), l);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_NONE);
    ck_assert_int_eq(pair.reason, AC_PAIR_REASON_NOT_LOCALIZED);
    ck_assert_uint_eq(pair.episode, 15);
    ck_assert_uint_eq(pair.agent, UINT32_MAX);
    ck_assert_uint_eq(r.repair_calls, 0);
    ac_localizer_free(l);
}
END_TEST

START_TEST(pair_errors)
{
    rp r;
    static const double p2[2] = {0.9, 0.8};
    ac_preference_pair pair = blank_pair();
    /* make_pair before the run */
    ac_localizer *l = new_loc(10, AC_STRATEGY_AUTO, 1);
    loc_rc(ac_localizer_make_pair(l, 1, &pair), AC_E_STATE, l);
    ac_localizer_free(l);

    /* struct_size wrong, NULL pair */
    rp_init(&r, 2, p2);
    l = pair_run(MONO3, &r, 1, 1.0);
    pair = blank_pair();
    pair.struct_size = sizeof pair - 8u;
    loc_rc(ac_localizer_make_pair(l, 1, &pair), AC_E_INVALID_ARG, l);
    assert_names(l, "struct_size");
    ck_assert_uint_eq(pair.struct_size, sizeof pair - 8u); /* untouched */
    loc_rc(ac_localizer_make_pair(l, 1, NULL), AC_E_INVALID_ARG, l);
    ck_assert_uint_eq(r.repair_calls, 0);
    ac_localizer_free(l);

    /* a failing repair callback */
    rp_init(&r, 2, p2);
    r.repair_ret = -4;
    l = pair_run(MONO3, &r, 1, 1.0);
    pair = blank_pair();
    loc_rc(ac_localizer_make_pair(l, 1, &pair), AC_E_CALLBACK, l);
    assert_names(l, "repair");
    ac_localizer_free(l);

    /* a failing check callback */
    rp_init(&r, 2, p2);
    r.check_ret = 9;
    l = pair_run(MONO3, &r, 1, 1.0);
    pair = blank_pair();
    loc_rc(ac_localizer_make_pair(l, 1, &pair), AC_E_CALLBACK, l);
    assert_names(l, "check");
    ac_localizer_free(l);

    /* more candidates than AC_LOCALIZER_PARAM_CANDIDATES */
    rp_init(&r, 4, NULL);
    r.overclaim = 1;
    l = pair_run(MONO3, &r, 1, 1.0);
    pair = blank_pair();
    loc_rc(ac_localizer_make_pair(l, 1, &pair), AC_E_INVALID_ARG, l);
    assert_names(l, "5 candidates");
    ck_assert_uint_eq(r.checked, 0);
    ac_localizer_free(l);

    /* a check answering a finite value outside [0, 1] */
    static const double pbad[2] = {0.9, 1.5};
    rp_init(&r, 2, pbad);
    l = pair_run(MONO3, &r, 1, 1.0);
    pair = blank_pair();
    loc_rc(ac_localizer_make_pair(l, 1, &pair), AC_E_INVALID_ARG, l);
    assert_names(l, "[0, 1]");
    ac_localizer_free(l);

    /* make_pair from inside the repair callback: AC_E_BUSY */
    rp_init(&r, 2, p2);
    l = pair_run(MONO3, &r, 1, 1.0);
    r.loc = l;
    pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 1, &pair), l);
    ck_assert_int_eq(r.reenter_rc, AC_E_BUSY);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_REPAIR);
    ac_localizer_free(l);

    /* the budget pays for part of the checks only (no corrective scan,
     * which would otherwise keep AC_LOCALIZER_PARAM_CANDIDATES evaluations for them) */
    static const double p3[3] = {0.1, 0.95, 0.99};
    rp_init(&r, 3, p3);
    l = pair_run(MONO3, &r, 1, 1.0);
    int64_t spent = audit(l, AC_LOCALIZER_AUDIT_SEARCH_EVALUATIONS);
    ac_localizer_free(l);
    vf v;
    vf_init(&v, 10, 3);
    rp_init(&r, 3, p3);
    l = new_loc(10, AC_STRATEGY_LINEAR, 1);
    set_i(l, AC_LOCALIZER_PARAM_SCAN_AFTER, 0);
    set_i(l, AC_LOCALIZER_PARAM_BUDGET, spent + 2);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    ck_assert_int_eq(ac_localizer_set_repair(l, rp_repair, rp_check, &r), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), spent);
    pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 1, &pair), l);
    ck_assert_uint_eq(r.checked, 2);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_REPAIR_CHECKS), 2);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_REPAIR_CANDIDATES), 3);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), spent + 2);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_REPAIR);
    ck_assert_uint_eq(pair.chosen, RP_ID(1)); /* the third was never checked */
    ac_localizer_free(l);
}
END_TEST


/* ===================================================================== */
/* Regressions from a cold review                                        */
/* ===================================================================== */

START_TEST(review_batch_larger_than_budget)
{
    /* A round the budget cannot pay in full is planned smaller: with W far
     * above the budget, the calls still split the hypotheses and the
     * result matches W = 1. */
    vf v;
    vf_init(&v, 2, 1);
    ac_localizer *l = new_loc(2, AC_STRATEGY_BISECTION, 4096);
    set_i(l, AC_LOCALIZER_PARAM_NOISE, AC_NOISE_INDEPENDENT);
    set_i(l, AC_LOCALIZER_PARAM_BUDGET, 64);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    int64_t step = -5;
    double prob = 0.0;
    loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
    ck_assert_int_eq(step, 1);
    ck_assert_msg(prob > 0.95, "probability %g", prob);
    ck_assert_uint_gt(v.asked[1], 0);
    ck_assert_int_le(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 64);
    ac_localizer_free(l);
}
END_TEST

START_TEST(review_reset_params_mid_run)
{
    /* Parameters cannot change mid-run through a reset either. */
    vf v;
    vf_init(&v, 100, 40);
    ac_localizer *l = new_loc(100, AC_STRATEGY_BINARY, 1);
    set_i(l, AC_LOCALIZER_PARAM_BUDGET, 3);
    uint32_t pre[1], n = 0;
    uint64_t tk[1];
    loc_ok(ac_localizer_ask(l, 1, tk, pre, &n), l);
    loc_rc(ac_localizer_reset(l, AC_RESET_PARAMS), AC_E_STATE, l);
    loc_rc(ac_localizer_reset(l, AC_RESET_KNOWN), AC_E_STATE, l);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_BUDGET), 3);
    /* with the session they may */
    loc_ok(ac_localizer_reset(l, AC_RESET_ALL), l);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_BUDGET), 1024);
    ac_localizer_free(l);
}
END_TEST

START_TEST(review_pair_checks_reserved_and_repeatable)
{
    /* A long episode whose corrective scan would take the whole default
     * budget still leaves the candidate checks their evaluations; a second
     * make_pair returns the same pair without asking the callbacks. */
    static const double p2[2] = {0.2, 0.9};
    rp r;
    rp_init(&r, 2, p2);
    vf v;
    vf_init(&v, MAX_T, 3);
    ac_localizer *l = new_loc(MAX_T, AC_STRATEGY_LINEAR, 1);
    set_i(l, AC_LOCALIZER_PARAM_BUDGET, 40);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_set_repair(l, rp_repair, rp_check, &r), l);
    loc_ok(ac_localizer_run(l), l);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_COMPLETE), 0);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 40 - 4);
    ac_preference_pair a = blank_pair(), b = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 5, &a), l);
    ck_assert_int_eq(a.kind, AC_PAIR_KIND_REPAIR);
    ck_assert_uint_eq(a.checked, 2);
    ck_assert_uint_eq(r.check_calls, 1);
    loc_ok(ac_localizer_make_pair(l, 6, &b), l);
    ck_assert_uint_eq(r.check_calls, 1);
    ck_assert_uint_eq(r.repair_calls, 1);
    ck_assert_int_eq(b.kind, a.kind);
    ck_assert_uint_eq(b.chosen, a.chosen);
    ck_assert_uint_eq(b.episode, 6);
    ck_assert_int_le(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 40);
    ac_localizer_free(l);

    /* no budget left for any check: the reason says so */
    rp_init(&r, 2, p2);
    vf_init(&v, 10, 3);
    l = new_loc(10, AC_STRATEGY_LINEAR, 1);
    set_i(l, AC_LOCALIZER_PARAM_SCAN_AFTER, 0);
    set_i(l, AC_LOCALIZER_PARAM_BUDGET, 4);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_set_repair(l, rp_repair, rp_check, &r), l);
    loc_ok(ac_localizer_run(l), l);
    a = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 1, &a), l);
    ck_assert_int_eq(a.kind, AC_PAIR_KIND_NONE);
    ck_assert_int_eq(a.reason, AC_PAIR_REASON_NO_BUDGET);
    ck_assert_uint_eq(a.checked, 0);
    ac_localizer_free(l);
}
END_TEST

/* Every third answer fails; the others say prefix 0 is off track. */
static int every_third_fails(void *user, const uint32_t *prefixes,
                             uint32_t count, double *p_on_track,
                             int32_t *status)
{
    uint32_t *calls = user;
    (void)prefixes;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p_on_track[k] = ++*calls % 3 == 0 ? NAN : 0.0;
    return 0;
}

START_TEST(review_retries_per_failed_answer)
{
    /* AC_LOCALIZER_PARAM_MAX_RETRIES bounds the retries of one failed answer, not the
     * failures of a prefix over the whole run: a verifier whose every
     * third answer fails, each retry succeeding, still finishes. */
    uint32_t calls = 0;
    ac_localizer *l = new_loc(1, AC_STRATEGY_BISECTION, 1);
    set_i(l, AC_LOCALIZER_PARAM_NOISE, AC_NOISE_INDEPENDENT);
    set_f(l, AC_LOCALIZER_PARAM_ACCURACY, 0.6);
    set_f(l, AC_LOCALIZER_PARAM_TARGET, 0.99);
    set_i(l, AC_LOCALIZER_PARAM_MAX_RETRIES, 1);
    ck_assert_int_eq(ac_localizer_set_verifier(l, every_third_fails, &calls), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    int64_t failures = audit(l, AC_LOCALIZER_AUDIT_FAILURES);
    ck_assert_int_ge(failures, 2);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_RETRIES), failures);
    int64_t step = -5;
    loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
    ck_assert_int_eq(step, 0);
    ac_localizer_free(l);
}
END_TEST

START_TEST(review_exact_bisection_zero_prior)
{
    /* An exact verifier's prior with no mass on the error's position: the
     * search still verifies the step instead of guessing. */
    double prior[11] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
    vf v;
    vf_init(&v, 10, 2);
    ac_localizer *l = new_loc(10, AC_STRATEGY_BISECTION, 1);
    loc_ok(ac_localizer_set_prior(l, prior, 11), l);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    int64_t step = -5;
    double prob = 0.0;
    loc_ok(ac_localizer_result(l, &step, NULL, &prob), l);
    ck_assert_int_eq(step, 2);
    ck_assert(prob == 1.0);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME), AC_LOCALIZER_OUTCOME_FOUND);
    ac_localizer_free(l);
}
END_TEST

/* A cancel during the corrective scan, in ask/tell: the scan ends, the run
 * succeeds with the search's result (the error contract: no error with a
 * result behind it); a cancel during the search fails the run. */
START_TEST(review_cancel_during_scan_keeps_result)
{
    vf v;
    vf_init(&v, 100, 60);
    for (int outstanding = 0; outstanding < 2; outstanding++) {
        ac_localizer *l = new_loc(100, AC_STRATEGY_BINARY, 4);
        uint32_t pre[4], n = 0;
        uint64_t tk[4];
        double ans[4];
        for (;;) { /* the search, through ask/tell */
            loc_ok(ac_localizer_ask(l, 4, tk, pre, &n), l);
            ck_assert_uint_gt(n, 0);
            if (outstanding &&
                audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS) > 0)
                break; /* a scan round handed out, not told */
            for (uint32_t k = 0; k < n; k++)
                ans[k] = pre[k] < 60 ? 1.0 : 0.0;
            loc_ok(ac_localizer_tell(l, n, tk, ans, NULL), l);
            if (audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS) > 0)
                break;
        }
        int64_t scanned = audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS);
        ck_assert_int_gt(scanned, 0);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_STOPPED), AC_OK);
        int64_t step = -5;
        loc_rc(ac_localizer_result(l, &step, NULL, NULL), AC_E_STATE, l);
        ac_localizer_cancel(l);
        n = 9;
        loc_ok(ac_localizer_ask(l, 4, tk, pre, &n), l);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_STOPPED),
                         AC_E_CANCELLED);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_COMPLETE), 0);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME),
                         AC_LOCALIZER_OUTCOME_FOUND);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS),
                         scanned);
        loc_ok(ac_localizer_result(l, &step, NULL, NULL), l);
        ck_assert_int_eq(step, 60);
        int32_t done = 0;
        loc_ok(ac_localizer_progress(l, &done, NULL), l);
        ck_assert_int_eq(done, 1);
        /* the scan's judged prefixes flag, the rest propagates */
        uint32_t flags[100];
        loc_ok(ac_localizer_step_flags(l, flags, 100), l);
        ck_assert_uint_eq(flags[60], AC_STEP_FLAG_FIRST_ERROR);
        for (uint32_t t = 61; t < 100; t++)
            ck_assert_uint_eq(flags[t], AC_STEP_FLAG_PROPAGATES);
        /* done: the round dropped by the cancel cannot be told, the run
         * stays done */
        for (uint32_t k = 0; k < 4; k++)
            ans[k] = 0.0;
        if (outstanding)
            loc_rc(ac_localizer_tell(l, 1, tk, ans, NULL), AC_E_STATE, l);
        loc_ok(ac_localizer_run(l), l);
        loc_ok(ac_localizer_ask(l, 4, tk, pre, &n), l);
        ck_assert_uint_eq(n, 0);
        ac_localizer_free(l);
    }

    /* a cancel during the search fails the run: no result */
    ac_localizer *l = new_loc(100, AC_STRATEGY_BINARY, 4);
    uint32_t pre[4], n = 0;
    uint64_t tk[4];
    loc_ok(ac_localizer_ask(l, 4, tk, pre, &n), l);
    ac_localizer_cancel(l);
    loc_rc(ac_localizer_ask(l, 4, tk, pre, &n), AC_E_CANCELLED, l);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SCAN_STOPPED), AC_OK);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME),
                     AC_LOCALIZER_OUTCOME_CANCELLED);
    assert_no_result(l, 100);
    loc_rc(ac_localizer_ask(l, 4, tk, pre, &n), AC_E_CANCELLED, l);
    double one = 1.0;
    loc_rc(ac_localizer_tell(l, 1, tk, &one, NULL), AC_E_CANCELLED, l);
    ac_localizer_free(l);
}
END_TEST

START_TEST(review_probability_within_huge_radius)
{
    vf v;
    vf_init(&v, 4, 2);
    ac_localizer *l = new_loc(4, AC_STRATEGY_BINARY, 1);
    ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
    loc_ok(ac_localizer_run(l), l);
    double p = 0.0;
    loc_ok(ac_localizer_probability_within(l, UINT32_MAX, &p), l);
    ck_assert(p == 1.0);
    ac_localizer_free(l);
    /* a prior that sums past DBL_MAX is normalised, not refused */
    double prior[5] = {DBL_MAX, DBL_MAX, 0, 0, 0};
    l = new_loc(4, AC_STRATEGY_BINARY, 1);
    loc_ok(ac_localizer_set_prior(l, prior, 5), l);
    ac_localizer_free(l);
}
END_TEST

static void audit_all(const ac_localizer *l, int64_t *a)
{
    for (int k = 1; k <= N_AUDIT; k++)
        a[k] = audit(l, (ac_localizer_audit_key)k);
}

static void assert_same_audit(const int64_t *a, const int64_t *b,
                              const char *what)
{
    for (int k = 1; k <= N_AUDIT; k++)
        REQUIRE(a[k] == b[k], "%s: audit %d: %lld vs %lld", what, k,
                (long long)a[k], (long long)b[k]);
}

/* LINEAR on MONO3 (error at 3, found in 4 evaluations), no corrective
 * scan, the given budget, the repair state r. */
static ac_localizer *pair_budget_run(rp *r, vf *v, int64_t budget,
                                     int64_t max_retries)
{
    vf_init(v, 10, 3);
    ac_localizer *l = new_loc(10, AC_STRATEGY_LINEAR, 1);
    loc_ok(ac_localizer_set_authors(l, PAIR_AUTHORS, 10), l);
    set_i(l, AC_LOCALIZER_PARAM_SCAN_AFTER, 0);
    set_i(l, AC_LOCALIZER_PARAM_BUDGET, budget);
    set_i(l, AC_LOCALIZER_PARAM_MAX_RETRIES, max_retries);
    loc_ok(ac_localizer_set_verifier(l, vf_fn, v), l);
    loc_ok(ac_localizer_set_repair(l, rp_repair, rp_check, r), l);
    loc_ok(ac_localizer_run(l), l);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 4);
    return l;
}

START_TEST(review_pair_failure_changes_nothing)
{
    /* A make_pair that returns an error changes nothing (the error
     * contract): not the budget, not the audit, not the cached pair. Two
     * failing calls, then a working one: the pair and the audit of a
     * first call. The budget pays for the 4 checks and 2 retries, so a
     * failed call that kept its charge would leave the working one short
     * (checked < 4) or without any (NO_BUDGET). */
    static const double good[4] = {0.3, 0.9, 0.7, 0.2};
    const int64_t budget = 4 + 4 + 2;
    rp r;
    vf v;
    rp_init(&r, 4, good);
    ac_localizer *l = pair_budget_run(&r, &v, budget, 2);
    ac_preference_pair want = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 5, &want), l);
    ck_assert_int_eq(want.kind, AC_PAIR_KIND_REPAIR);
    ck_assert_uint_eq(want.chosen, RP_ID(1));
    int64_t want_audit[N_AUDIT + 1];
    audit_all(l, want_audit);
    ck_assert_int_eq(want_audit[AC_LOCALIZER_AUDIT_EVALUATIONS], 4 + 4);
    ac_localizer_free(l);

    enum { N_MODES = 6 };
    static const int want_rc[N_MODES] = {
        AC_E_CALLBACK, AC_E_CALLBACK, AC_E_INVALID_ARG, AC_E_INVALID_ARG,
        AC_E_ORACLE, AC_E_CALLBACK};
    static const char *const names[N_MODES] = {
        "check", "repair", "candidates", "[0, 1]", "candidate 2",
        "check"};
    for (int mode = 0; mode < N_MODES; mode++) {
        rp_init(&r, 4, good);
        l = pair_budget_run(&r, &v, budget, 2);
        int64_t before[N_AUDIT + 1], after[N_AUDIT + 1];
        audit_all(l, before);
        for (int attempt = 0; attempt < 2; attempt++) {
            rp_init(&r, 4, good);
            switch (mode) {
            case 0: /* the check returns non-zero */
                r.check_ret = 7;
                break;
            case 1: /* the repair returns non-zero */
                r.repair_ret = -4;
                break;
            case 2: /* more candidates than asked for */
                r.overclaim = 1;
                break;
            case 3: /* a finite answer outside [0, 1] */
                r.p[2] = 1.5;
                break;
            case 4: /* a candidate failing past its retries */
                r.fail_first[2] = 3;
                break;
            default: /* the first check works, its retry returns 7 */
                r.fail_first[1] = 1;
                r.check_ret = 7;
                r.check_ret_from = 2;
                break;
            }
            ac_preference_pair pair = blank_pair(), blank = blank_pair();
            int rc = ac_localizer_make_pair(l, 5, &pair);
            REQUIRE(rc == want_rc[mode], "mode %d: %s, want %s: %s", mode,
                    ac_status_name(rc), ac_status_name(want_rc[mode]),
                    ac_localizer_last_error(l));
            REQUIRE(th_icontains(ac_localizer_last_error(l), names[mode]),
                    "mode %d: \"%s\" does not name \"%s\"", mode,
                    ac_localizer_last_error(l), names[mode]);
            REQUIRE(memcmp(&pair, &blank, sizeof pair) == 0,
                    "mode %d: the pair was written", mode);
            audit_all(l, after);
            assert_same_audit(before, after, "a failed make_pair");
        }
        REQUIRE(mode != 4 || r.attempts[2] == 3, "mode 4: %u checks",
                r.attempts[2]);
        REQUIRE(mode != 5 || r.check_calls == 2, "mode 5: %u calls",
                r.check_calls);
        /* the callbacks work again: as if the failures never were */
        rp_init(&r, 4, good);
        ac_preference_pair pair = blank_pair();
        loc_ok(ac_localizer_make_pair(l, 5, &pair), l);
        REQUIRE(memcmp(&pair, &want, sizeof pair) == 0,
                "mode %d: kind %d reason %d chosen %llx checked %u", mode,
                pair.kind, pair.reason, (unsigned long long)pair.chosen,
                pair.checked);
        audit_all(l, after);
        assert_same_audit(want_audit, after, "the retried make_pair");
        ck_assert_uint_eq(r.check_calls, 1);
        ac_localizer_free(l);
    }
}
END_TEST

START_TEST(review_pair_answer_rule)
{
    /* The candidate check follows the answer rule of every callback: a
     * status, NaN or an infinity is a failed answer, asked again (only the
     * failed candidates, in one call) up to AC_LOCALIZER_PARAM_MAX_RETRIES
     * within the budget, never read as a number; past the retries,
     * AC_E_ORACLE naming the candidate. */
    static const double p4[4] = {0.3, 0.9, 0.2, 0.4};
    rp r;
    vf v;
    rp_init(&r, 4, p4);
    r.fail_first[1] = 2; /* 0.999 with a status, then NaN, then 0.9 */
    r.fail_first[3] = 1; /* 0.999 with a status, then 0.4 */
    ac_localizer *l = pair_budget_run(&r, &v, 1024, 2);
    ac_preference_pair pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 1, &pair), l);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_REPAIR);
    ck_assert_uint_eq(pair.chosen, RP_ID(1));
    ck_assert(pair.confidence == 0.9); /* not the failed 0.999 */
    ck_assert_uint_eq(pair.candidates, 4);
    ck_assert_uint_eq(pair.checked, 4);
    ck_assert_uint_eq(pair.verified, 1);
    ck_assert_uint_eq(r.check_calls, 3);
    ck_assert_uint_eq(r.attempts[0], 1);
    ck_assert_uint_eq(r.attempts[1], 3);
    ck_assert_uint_eq(r.attempts[2], 1);
    ck_assert_uint_eq(r.attempts[3], 2);
    ck_assert_uint_eq(r.checked, 7);
    ck_assert_uint_eq(r.prefill_bad + r.bad_ids, 0);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_REPAIR_CHECKS), 7);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 4 + 7);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_FAILURES), 3);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_RETRIES), 3);
    ac_localizer_free(l);

    /* past the retries: AC_E_ORACLE, for any MAX_RETRIES; one more
     * retry and the same candidate gets through */
    for (int64_t retries = 0; retries <= 3; retries++) {
        rp_init(&r, 4, p4);
        r.fail_first[2] = (uint32_t)retries + 1u;
        l = pair_budget_run(&r, &v, 1024, retries);
        pair = blank_pair();
        loc_rc(ac_localizer_make_pair(l, 1, &pair), AC_E_ORACLE, l);
        assert_names(l, "candidate 2");
        ck_assert_uint_eq(r.attempts[2], (uint32_t)retries + 1u);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_REPAIR_CHECKS), 0);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_FAILURES), 0);
        ac_localizer_free(l);
        rp_init(&r, 4, p4);
        r.fail_first[2] = (uint32_t)retries;
        l = pair_budget_run(&r, &v, 1024, retries);
        loc_ok(ac_localizer_make_pair(l, 1, &pair), l);
        ck_assert_uint_eq(pair.checked, 4);
        ck_assert_uint_eq(r.attempts[2], (uint32_t)retries + 1u);
        ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_FAILURES), retries);
        ac_localizer_free(l);
    }

    /* within the budget: 4 evaluations left for 4 candidates, no retry;
     * the failed candidate is not checked, and that is no error */
    rp_init(&r, 4, p4);
    r.fail_first[1] = 1;
    l = pair_budget_run(&r, &v, 4 + 4, 2);
    pair = blank_pair();
    loc_ok(ac_localizer_make_pair(l, 1, &pair), l);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_NONE);
    ck_assert_int_eq(pair.reason, AC_PAIR_REASON_NOT_VERIFIED);
    ck_assert_uint_eq(pair.candidates, 4);
    ck_assert_uint_eq(pair.checked, 3);
    ck_assert_uint_eq(r.check_calls, 1);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 8);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_REPAIR_CHECKS), 4);
    ac_localizer_free(l);
    /* one more evaluation pays for the retry */
    rp_init(&r, 4, p4);
    r.fail_first[1] = 1;
    l = pair_budget_run(&r, &v, 4 + 5, 2);
    loc_ok(ac_localizer_make_pair(l, 1, &pair), l);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_REPAIR);
    ck_assert_uint_eq(pair.chosen, RP_ID(1));
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 9);
    ac_localizer_free(l);
    /* every answer failed and nothing left to ask again: NO_BUDGET */
    rp_init(&r, 4, p4);
    for (uint32_t k = 0; k < 4; k++)
        r.fail_first[k] = 1;
    l = pair_budget_run(&r, &v, 4 + 4, 2);
    loc_ok(ac_localizer_make_pair(l, 1, &pair), l);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_NONE);
    ck_assert_int_eq(pair.reason, AC_PAIR_REASON_NO_BUDGET);
    ck_assert_uint_eq(pair.checked, 0);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_FAILURES), 4);
    ac_localizer_free(l);
}
END_TEST

static void assert_outcome(const ac_localizer *l, int64_t want, int32_t done)
{
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_OUTCOME), want);
    int32_t d = -1;
    ck_assert_int_eq(ac_localizer_progress(l, &d, NULL), AC_OK);
    ck_assert_int_eq(d, done);
}

START_TEST(review_outcome_of_failed_run)
{
    /* A run that ends failed says so in its outcome: CANCELLED for a
     * cancel, ERROR for any other failure; a reset makes it PENDING. */
    const uint32_t T = 40;
    vf v;
    for (int mode = 0; mode < 4; mode++) {
        vf_init(&v, T, 20);
        ac_localizer *l = new_loc(T, AC_STRATEGY_BINARY, 1);
        int want_rc = AC_E_CALLBACK;
        int64_t want = AC_LOCALIZER_OUTCOME_ERROR;
        switch (mode) {
        case 0: /* a cancel from the verifier, mid-search */
            v.loc = l;
            v.reenter = 2;
            v.act_at = 2;
            want_rc = AC_E_CANCELLED;
            want = AC_LOCALIZER_OUTCOME_CANCELLED;
            break;
        case 1:
            v.ret = 3;
            v.act_at = 2;
            break;
        case 2: /* the first prefix asked (19) always fails */
            v.always_fail = 19;
            want_rc = AC_E_ORACLE;
            break;
        default:
            v.bad_prefix = 19;
            v.bad_value = 1.5;
            want_rc = AC_E_INVALID_ARG;
            break;
        }
        ck_assert_int_eq(ac_localizer_set_verifier(l, vf_fn, &v), AC_OK);
        assert_outcome(l, AC_LOCALIZER_OUTCOME_PENDING, 0);
        loc_rc(ac_localizer_run(l), want_rc, l);
        assert_outcome(l, want, 1);
        loc_rc(ac_localizer_run(l), want_rc, l); /* it sticks */
        assert_outcome(l, want, 1);
        loc_ok(ac_localizer_reset(l, AC_RESET_SESSION), l);
        assert_outcome(l, AC_LOCALIZER_OUTCOME_PENDING, 0);
        vf_init(&v, T, 20);
        loc_ok(ac_localizer_run(l), l);
        assert_outcome(l, AC_LOCALIZER_OUTCOME_FOUND, 1);
        ac_localizer_free(l);
    }

    /* ask/tell: a cancel between rounds; a prefix failing past its
     * retries through tell */
    uint32_t pre[2], n = 0;
    uint64_t tk[2];
    ac_localizer *l = new_loc(T, AC_STRATEGY_BINARY, 2);
    loc_ok(ac_localizer_ask(l, 2, tk, pre, &n), l);
    ac_localizer_cancel(l);
    assert_outcome(l, AC_LOCALIZER_OUTCOME_PENDING, 0);
    loc_rc(ac_localizer_ask(l, 2, tk, pre, &n), AC_E_CANCELLED, l);
    assert_outcome(l, AC_LOCALIZER_OUTCOME_CANCELLED, 1);
    ac_localizer_free(l);
    l = new_loc(T, AC_STRATEGY_BINARY, 1);
    set_i(l, AC_LOCALIZER_PARAM_MAX_RETRIES, 1);
    double nan = NAN;
    for (int k = 0; k < 2; k++) {
        loc_ok(ac_localizer_ask(l, 1, tk, pre, &n), l);
        ck_assert_uint_eq(n, 1);
        int rc = ac_localizer_tell(l, 1, tk, &nan, NULL);
        ck_assert_int_eq(rc, k == 0 ? AC_OK : AC_E_ORACLE);
    }
    assert_outcome(l, AC_LOCALIZER_OUTCOME_ERROR, 1);
    ac_localizer_free(l);

    /* a call that could not start the run changed nothing: still
     * PENDING, not done */
    l = new_loc(T, AC_STRATEGY_SCORES, 1);
    loc_rc(ac_localizer_ask(l, 1, tk, pre, &n), AC_E_STATE, l);
    assert_outcome(l, AC_LOCALIZER_OUTCOME_PENDING, 0);
    ac_localizer_free(l);
}
END_TEST

START_TEST(review_budget_charged_when_planned)
{
    /* The budget is charged when a round is planned, not when its
     * tickets are handed out or answered: one ticket of a planned round
     * of 4 already counts 4, and a round a failure drops stays charged. */
    ac_localizer *l = new_loc(100, AC_STRATEGY_BINARY, 4);
    uint32_t pre[4], n = 0;
    uint64_t tk[4];
    loc_ok(ac_localizer_ask(l, 1, tk, pre, &n), l);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 4);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_SEARCH_EVALUATIONS), 4);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_ROUNDS), 1);
    loc_ok(ac_localizer_ask(l, 4, tk + 1, pre + 1, &n), l);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 4);
    ac_localizer_cancel(l);
    loc_rc(ac_localizer_ask(l, 4, tk, pre, &n), AC_E_CANCELLED, l);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 4);
    ac_localizer_free(l);
    /* a round the budget cannot pay in full is planned smaller */
    l = new_loc(100, AC_STRATEGY_BINARY, 4);
    set_i(l, AC_LOCALIZER_PARAM_BUDGET, 2);
    loc_ok(ac_localizer_ask(l, 1, tk, pre, &n), l);
    ck_assert_int_eq(audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS), 2);
    ac_localizer_free(l);
}
END_TEST

/* ===================================================================== */
/* 11. Out of memory at every allocation                                 */
/* ===================================================================== */


static void oom_step(int rc, const ac_localizer *l, const th_fail_alloc *f,
                     long *reported, const char *what)
{
    if (rc == AC_E_NO_MEMORY) {
        ck_assert_msg(f->failed == 1 && *reported == 0,
                      "%s: AC_E_NO_MEMORY without an injected failure", what);
        ck_assert_msg(ac_localizer_last_error(l)[0] != '\0',
                      "%s: no message after AC_E_NO_MEMORY", what);
        (*reported)++;
    } else {
        ck_assert_msg(rc == AC_OK, "%s: %s (%s)", what, ac_status_name(rc),
                      ac_localizer_last_error(l));
    }
}

#define OOM_CALL(call, what)                                                 \
    do {                                                                     \
        int rc_ = (call);                                                    \
        oom_step(rc_, l, &f, &reported, what);                               \
        if (rc_ == AC_E_NO_MEMORY)                                           \
            loc_ok((call), l);                                               \
    } while (0)

START_TEST(out_of_memory)
{
    const uint32_t T = 24;
    uint32_t authors[24];
    double prior[25];
    for (uint32_t t = 0; t < T; t++) {
        authors[t] = t % 3u;
        prior[t] = 1.0 + (double)(t % 4u);
    }
    prior[T] = 2.0;
    static const double cand_p[3] = {0.4, 0.8, 0.6};
    static lres want, got, want_paired, got_paired;
    memset(&want, 0, sizeof want);
    memset(&got, 0, sizeof got);
    ac_preference_pair want_pair;
    memset(&want_pair, 0, sizeof want_pair);
    vf v;
    rp r;
    long k;
    for (k = -1;; k++) {
        th_fail_alloc f = {0, k, 0, 0};
        long reported = 0;
        ac_allocator al = {sizeof(ac_allocator), 0, th_fa_alloc, th_fa_free, &f};
        ac_localizer *l = NULL;
        int rc = ac_localizer_create(&l, T, &al);
        if (rc == AC_E_NO_MEMORY) {
            ck_assert_ptr_null(l);
            ck_assert_int_eq(f.live, 0); /* a failed create leaks nothing */
            reported++;
            rc = ac_localizer_create(&l, T, &al);
        }
        ck_assert_int_eq(rc, AC_OK);
        set_i(l, AC_LOCALIZER_PARAM_STRATEGY, AC_STRATEGY_BISECTION);
        set_i(l, AC_LOCALIZER_PARAM_NOISE, AC_NOISE_INDEPENDENT);
        set_f(l, AC_LOCALIZER_PARAM_ACCURACY, 0.8);
        set_i(l, AC_LOCALIZER_PARAM_BATCH, 4);
        OOM_CALL(ac_localizer_set_authors(l, authors, T), "set_authors");
        OOM_CALL(ac_localizer_set_prior(l, prior, T + 1), "set_prior");
        vf_init(&v, T, 11);
        vf_noisy(&v, AC_NOISE_INDEPENDENT, 0.8, 4242);
        rp_init(&r, 3, cand_p);
        loc_ok(ac_localizer_set_verifier(l, vf_fn, &v), l);
        loc_ok(ac_localizer_set_repair(l, rp_repair, rp_check, &r), l);
        OOM_CALL(ac_localizer_run(l), "run");
        collect(l, T, AC_OK, &got);
        ac_preference_pair pair = blank_pair();
        OOM_CALL(ac_localizer_make_pair(l, 99, &pair), "make_pair");
        collect(l, T, AC_OK, &got_paired); /* a failed make_pair: no trace */
        if (k < 0) {
            want = got;
            want_paired = got_paired;
            want_pair = pair;
            ck_assert_int_ge(got.step, 0); /* the pair has something to do */
            ck_assert_int_eq(pair.kind, AC_PAIR_KIND_REPAIR);
        } else {
            assert_same(&want, &got, T, "after an injected failure");
            assert_same(&want_paired, &got_paired, T,
                        "the pair after an injected failure");
            ck_assert_int_eq(pair.kind, want_pair.kind);
            ck_assert_uint_eq(pair.chosen, want_pair.chosen);
            ck_assert(same_bits(pair.weight, want_pair.weight));
        }
        ac_localizer_free(l);
        ck_assert_msg(f.live == 0, "fail at %ld: %ld blocks leaked", k,
                      f.live);
        ck_assert_int_eq(reported, f.failed);
        if (k >= 0 && f.failed == 0)
            break; /* past the last allocation */
        ck_assert_msg(k < 10000, "the allocation count does not converge");
    }
    /* create, authors, prior, the run's arrays and the pair's at least */
    ck_assert_int_ge(k, 8);
}
END_TEST

/* ===================================================================== */

static Suite *localizer_suite(void)
{
    Suite *s = suite_create("localizer");
    TCase *tc = th_tcase(s, "exact");
    tcase_add_test(tc, exact_monotone_every_position);
    tcase_add_test(tc, exact_edges_written_out);
    tcase_add_test(tc, auto_resolution);
    tc = th_tcase(s, "non_monotone");
    tcase_add_test(tc, non_monotone_hand_case);
    tcase_add_test(tc, non_monotone_random);
    tcase_add_test(tc, partial_scan);
    tc = th_tcase(s, "noisy");
    tcase_add_test(tc, noisy_independent_bisection);
    tcase_add_test(tc, noisy_repeatable);
    tc = th_tcase(s, "asktell");
    tcase_add_test(tc, asktell_equals_run);
    tcase_add_test(tc, asktell_bad_tells_take_nothing);
    tcase_add_test(tc, asktell_repeated_prefix_in_a_round);
    tcase_add_test(tc, asktell_stale_ticket_after_reset);
    tcase_add_test(tc, asktell_progress);
    tcase_add_test(tc, asktell_tell_when_idle);
    tc = th_tcase(s, "scores");
    tcase_add_test(tc, scores_closed_form_and_threshold);
    tc = th_tcase(s, "budget");
    tcase_add_test(tc, budget_zero_and_one);
    tcase_add_test(tc, budget_binary_short);
    tcase_add_test(tc, budget_never_exceeded);
    tc = th_tcase(s, "review");
    tcase_add_test(tc, review_batch_larger_than_budget);
    tcase_add_test(tc, review_reset_params_mid_run);
    tcase_add_test(tc, review_pair_checks_reserved_and_repeatable);
    tcase_add_test(tc, review_retries_per_failed_answer);
    tcase_add_test(tc, review_exact_bisection_zero_prior);
    tcase_add_test(tc, review_cancel_during_scan_keeps_result);
    tcase_add_test(tc, review_probability_within_huge_radius);
    tcase_add_test(tc, review_pair_failure_changes_nothing);
    tcase_add_test(tc, review_pair_answer_rule);
    tcase_add_test(tc, review_outcome_of_failed_run);
    tcase_add_test(tc, review_budget_charged_when_planned);
    tc = th_tcase(s, "failures");
    tcase_add_test(tc, failures_are_retried);
    tcase_add_test(tc, oracle_failure_past_retries);
    tcase_add_test(tc, callback_and_bad_value);
    tcase_add_test(tc, bad_value_then_run_again);
    tcase_add_test(tc, scan_stopped_run_succeeds);
    tcase_add_test(tc, scan_stopped_asktell_oracle);
    tc = th_tcase(s, "errors");
    tcase_add_test(tc, null_handle_everywhere);
    tcase_add_test(tc, create_and_lengths);
    tcase_add_test(tc, parameters);
    tcase_add_test(tc, state_errors);
    tc = th_tcase(s, "blame");
    tcase_add_test(tc, blame_labels_exact);
    tcase_add_test(tc, blame_labels_to_refiner);
    tcase_add_test(tc, blame_labels_noisy_formula);
    tc = th_tcase(s, "pairs");
    tcase_add_test(tc, pair_repair_verified);
    tcase_add_test(tc, pair_corrective_and_none);
    tcase_add_test(tc, pair_errors);
    tc = th_tcase(s, "memory");
    tcase_add_test(tc, out_of_memory);
    return s;
}

int main(void)
{
    return th_run_suite(localizer_suite());
}
