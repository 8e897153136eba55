/* The cost planner: the budget AC_METHOD_ADAPTIVE needs for a target
 * standard error, before any rollout (ac_estimator_plan).
 *
 * The exact formula makes phi_i a fixed linear combination of the
 * coalition means, so with m_S evaluations of S, each of variance sigma^2,
 *   sum_i Var(phi_i) = sigma^2 sum_S a_S^2 / m_S,
 * a_S depending on |S| only (ac__shapley_layer_norms). With one sigma for
 * every coalition the problem is symmetric in the players: every agent's
 * variance is the sum over n. The adaptive method evaluates every unknown
 * coalition once, then spreads the rest towards m_S = lambda a_S sigma_S
 * without lowering any count: with one sigma that is water-filling,
 * m_S = max(1, lambda a_S). The variance falls and the budget grows with
 * lambda, each piecewise simple between the breakpoints lambda = 1 / a_k
 * where a layer joins the spread, so both directions have a closed form on
 * the right piece. The learning costs the method a little against that
 * allocation: ADAPTIVE_OVER_NEYMAN. */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "credit/estimator_internal.h"
#include "credit/shapley_exact.h"

/* The adaptive method's variance over that of the allocation it learns
 * (Neyman's with every coalition at least once): its MSE is 1.00-1.08
 * times Neyman's at 4 to 16 x 2^n rollouts on the benchmark's team games
 * (docs/performance.md, "Small noisy agent teams"), and its runs at the
 * plans of bench_shapley --only plan average 1.05. */
#define ADAPTIVE_OVER_NEYMAN 1.05

/* The layers with coalitions to evaluate, heaviest (largest a) first. */
typedef struct plan_layers {
    uint32_t count;
    double a[AC_ADAPTIVE_MAX_PLAYERS + 1];
    double size[AC_ADAPTIVE_MAX_PLAYERS + 1]; /* coalitions not known */
    double missing;                           /* their sum: the pilot */
} plan_layers;

static void plan_layers_init(uint32_t n, int ends_known, plan_layers *p)
{
    double a[AC_ADAPTIVE_MAX_PLAYERS + 1], binom = 1.0;
    ac__shapley_layer_norms(n, a);
    p->count = 0;
    p->missing = 0.0;
    for (uint32_t s = 0; s <= n; s++) {
        double size = binom - (ends_known && (s == 0 || s == n) ? 1.0 : 0.0);
        binom = binom * (double)(n - s) / (double)(s + 1);
        if (size <= 0.0)
            continue;
        uint32_t k = p->count++; /* insertion by a, heaviest first */
        for (; k > 0 && p->a[k - 1] < a[s]; k--) {
            p->a[k] = p->a[k - 1];
            p->size[k] = p->size[k - 1];
        }
        p->a[k] = a[s];
        p->size[k] = size;
        p->missing += size;
    }
}

/* The first j layers spread (m = lambda a), the others at one evaluation:
 * spread = sum L a over the first j, rest_var = sum L a^2 and rest_size =
 * sum L over the others. */
typedef struct plan_piece {
    double spread, rest_var, rest_size;
} plan_piece;

static plan_piece piece(const plan_layers *p, uint32_t j)
{
    plan_piece q = {0.0, 0.0, 0.0};
    for (uint32_t k = 0; k < p->count; k++) {
        if (k < j) {
            q.spread += p->size[k] * p->a[k];
        } else {
            q.rest_var += p->size[k] * p->a[k] * p->a[k];
            q.rest_size += p->size[k];
        }
    }
    return q;
}

/* sum_S a_S^2 / m_S and sum_S m_S at the piece's j-th breakpoint,
 * lambda = 1 / a of layer j (0-based: where layer j joins); past the last
 * layer, variance 0 and an infinite budget. */
static void at_breakpoint(const plan_layers *p, uint32_t j, double *var,
                          double *budget)
{
    if (j >= p->count) {
        *var = 0.0;
        *budget = INFINITY;
        return;
    }
    plan_piece q = piece(p, j);
    double lambda = 1.0 / p->a[j];
    *var = q.spread / lambda + q.rest_var;
    *budget = q.spread * lambda + q.rest_size;
}

/* The smallest budget (real-valued) with sum_S a_S^2 / m_S <= c. */
static double budget_for(const plan_layers *p, double c)
{
    plan_piece all = piece(p, 0);
    if (all.rest_var <= c)
        return p->missing;
    for (uint32_t j = 1;; j++) {
        double var, budget;
        at_breakpoint(p, j, &var, &budget);
        if (var <= c) { /* the answer lies on piece j: c - rest_var > 0 */
            plan_piece q = piece(p, j);
            return q.spread * (q.spread / (c - q.rest_var)) + q.rest_size;
        }
    }
}

/* sum_S a_S^2 / m_S at a budget of at least the pilot. */
static double variance_at(const plan_layers *p, double budget)
{
    if (budget <= p->missing)
        return piece(p, 0).rest_var;
    for (uint32_t j = 1;; j++) {
        double var, reach;
        at_breakpoint(p, j, &var, &reach);
        if (reach >= budget) {
            plan_piece q = piece(p, j);
            return q.spread / ((budget - q.rest_size) / q.spread) + q.rest_var;
        }
    }
}

static int check_inputs(uint32_t n, ac_plan_noise noise, double param,
                        double target_se, uint32_t flags, char *err)
{
    if (n == 0)
        return ac__fail(err, AC_E_INVALID_ARG, "n_players is 0");
    if (n > AC_ADAPTIVE_MAX_PLAYERS)
        return ac__fail(err, AC_E_TOO_LARGE,
                        "n_players %u: the planner covers the adaptive "
                        "method, at most %u players (beyond it the sampled "
                        "methods' error depends on the game, not on the "
                        "noise alone)",
                        n, AC_ADAPTIVE_MAX_PLAYERS);
    if (noise == AC_PLAN_NOISE_ROLLOUTS && !(param > 0.0 && param < 1.0))
        return ac__fail(err, AC_E_INVALID_ARG,
                        "noise_param %g: the expected success rate of a "
                        "rollout must lie in (0, 1) (0.5: the worst case)",
                        param);
    if (noise == AC_PLAN_NOISE_SD && !(param > 0.0 && isfinite(param)))
        return ac__fail(err, AC_E_INVALID_ARG,
                        "noise_param %g: the standard deviation of one "
                        "evaluation must be finite and > 0", param);
    if (noise != AC_PLAN_NOISE_ROLLOUTS && noise != AC_PLAN_NOISE_SD)
        return ac__fail(err, AC_E_INVALID_ARG,
                        "noise %d: not an ac_plan_noise (1 rollouts, 2 sd)",
                        (int)noise);
    if (!(target_se > 0.0 && isfinite(target_se)))
        return ac__fail(err, AC_E_INVALID_ARG,
                        "target_se %g: must be finite and > 0", target_se);
    if (flags & ~(uint32_t)AC_PLAN_FLAG_ENDS_KNOWN)
        return ac__fail(err, AC_E_INVALID_ARG,
                        "flags 0x%x: unknown bits 0x%x", (unsigned)flags,
                        (unsigned)(flags & ~(uint32_t)AC_PLAN_FLAG_ENDS_KNOWN));
    return AC_OK;
}

/* The plan in whole evaluations: *spread, the smallest budget of at least
 * the pilot whose variance meets c, and *budget, that plus the retry
 * margin AUTO keeps at the default AC_ESTIMATOR_PARAM_MAX_RETRIES. The
 * margin pays for no variance: near the table the adaptive method keeps it
 * back for retries, and a noisy oracle evaluated once a coalition shows no
 * variance to spend it on. */
static int plan_budget(const plan_layers *p, double c, double *spread,
                       double *budget, char *err)
{
    ac__params defaults;
    int64_t lo, hi;
    ac__params_default(&defaults);
    if (ac_estimator_param_bounds_int(AC_ESTIMATOR_PARAM_BUDGET, &lo, &hi) !=
        AC_OK)
        return ac__fail(err, AC_E_INVALID_ARG, "no budget bounds");
    int64_t pilot = (int64_t)p->missing;
    double margin = (double)ac__est_retry_margin(pilot, defaults.max_retries);
    double b = ceil(budget_for(p, c));
    if (!(b + margin <= (double)hi))
        return ac__fail(err, AC_E_TOO_LARGE,
                        "the target needs %s%.3g evaluations, beyond "
                        "AC_ESTIMATOR_PARAM_BUDGET's bound %lld",
                        isfinite(b) ? "about " : "more than ",
                        isfinite(b) ? b + margin : DBL_MAX, (long long)hi);
    /* ceil of a figure a rounding above a whole number */
    if (b - 1.0 >= p->missing && variance_at(p, b - 1.0) <= c * (1.0 + 1e-12))
        b -= 1.0;
    *spread = b;
    *budget = b + margin;
    return AC_OK;
}

static int report(char *buf, size_t cap, int status, const char *msg)
{
    if (buf != NULL && cap > 0)
        snprintf(buf, cap, "%s", status == AC_OK ? "" : msg);
    return status;
}

AC_API int ac_estimator_plan(uint32_t n_players, ac_plan_noise noise,
                             double noise_param, double target_se,
                             uint32_t flags, int64_t *evaluations, double *se,
                             char *err_buf, size_t err_cap)
{
    char err[AC__ERRMSG_CAP] = "";
    if (evaluations == NULL)
        return report(err_buf, err_cap,
                      ac__fail(err, AC_E_INVALID_ARG, "evaluations is NULL"),
                      err);
    int rc = check_inputs(n_players, noise, noise_param, target_se, flags,
                          err);
    if (rc != AC_OK)
        return report(err_buf, err_cap, rc, err);
    double sd = noise == AC_PLAN_NOISE_SD
                    ? noise_param
                    : sqrt(noise_param * (1.0 - noise_param));
    double ratio = target_se / sd;
    /* every agent's variance ADAPTIVE_OVER_NEYMAN sd^2 / n sum a^2 / m at
     * most target_se^2 */
    double c = (double)n_players * ratio * ratio / ADAPTIVE_OVER_NEYMAN;
    plan_layers p;
    plan_layers_init(n_players, (flags & AC_PLAN_FLAG_ENDS_KNOWN) != 0, &p);
    double spread = 0.0, budget = 0.0;
    if (p.count > 0 &&
        (rc = plan_budget(&p, c, &spread, &budget, err)) != AC_OK)
        return report(err_buf, err_cap, rc, err);
    *evaluations = (int64_t)budget;
    if (se != NULL)
        *se = p.count > 0 ? sd * sqrt(ADAPTIVE_OVER_NEYMAN *
                                      variance_at(&p, spread) / n_players)
                          : 0.0;
    return report(err_buf, err_cap, AC_OK, err);
}
