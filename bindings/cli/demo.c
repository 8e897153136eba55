/* SPDX-License-Identifier: MIT
 * agentcredit demo: a built-in simulated team of four agents.
 *
 * The team solves a coding task that 100 hidden tests check. The simulator
 * knows, for every coalition S of agents (the others replaced by a null
 * policy that does nothing), the probability p(S) that a rollout of S passes
 * a hidden test:
 *
 *   p(S) = (0.05                              nobody: the fallback answer
 *           + 0.55 [carrier]                  writes the solution
 *           + [helper] * (carrier ? 0.30 : 0.05)   reviews and fixes it
 *           + [redundant, no helper] * (carrier ? 0.03 : 0)
 *                                              a weaker copy of the helper's
 *                                              review: nothing when the
 *                                              helper is there
 *          ) * (saboteur ? 0.70 : 1)          breaks 30% of the runs
 *
 * Each oracle call is one simulated rollout: a seeded Bernoulli draw with
 * probability p(S). The observed episode (all four agents) passed k of the
 * 100 hidden tests, so v(all) = k / 100 is given as known, and so is
 * v(empty) = 0.05, the fallback's known pass rate. The estimator runs the
 * exact method with AC_ESTIMATOR_PARAM_REPEATS rollouts (--repeats, default
 * 400) on each of the 14 other coalitions; the rollouts' variance becomes
 * the standard errors. The noise-free column is the same game without
 * rollout noise: p(S) itself, with the same known v(all) and v(empty).
 *
 * Then the same budget of rollouts again with AC_METHOD_ADAPTIVE, which
 * spends them where they cut the credits' variance most, beside the equal
 * repeats' standard errors.
 *
 * Then the message refiner (docs/signals.md) splits each agent's credit over
 * its messages in a short invented transcript of the episode, with a fixed
 * label per message as a judge would give it, and the texts so that the
 * refiner flags an agent's repeat of its own earlier message (the same text
 * but for white space).
 *
 * Last, demo_failure.c shows a failed episode: the first error, the blame
 * per message and the repair-aware preference pair.
 *
 * With --json the two episodes go through the pipeline instead (the
 * observed one with the same rollouts, estimator and refiner as the
 * tables), and each prints its signals, one "agentcredit.signals/1" line.
 */
#include "cli.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_AGENTS CLI_DEMO_AGENTS
#define DEMO_COALITIONS (1u << DEMO_AGENTS)
#define DEMO_HIDDEN_TESTS 100
#define DEMO_V_EMPTY 0.05
#define DEMO_SEED 1
#define DEMO_REPEATS 400

enum { CARRIER = 0, HELPER = 1, REDUNDANT = 2, SABOTEUR = 3 };

const char *const cli_demo_role[CLI_DEMO_AGENTS] = {"carrier", "helper",
                                                    "redundant", "saboteur"};
static const char *const role_text[DEMO_AGENTS] = {
    "writes the solution",
    "reviews and fixes it",
    "repeats the helper's review, worse",
    "breaks 30% of the runs"};

/* The success probability of a coalition (bit i: agent i acts). */
static double team_success(uint64_t s)
{
    int carrier = (s >> CARRIER) & 1u, helper = (s >> HELPER) & 1u;
    int redundant = (s >> REDUNDANT) & 1u, saboteur = (s >> SABOTEUR) & 1u;
    double p = DEMO_V_EMPTY;
    if (carrier)
        p += 0.55;
    if (helper)
        p += carrier ? 0.30 : 0.05;
    else if (redundant && carrier)
        p += 0.03;
    if (saboteur)
        p *= 0.70;
    return p;
}

double cli_demo_value(uint64_t coalition)
{
    return team_success(coalition);
}

int cli_demo_credit(double v_all, double phi[CLI_DEMO_AGENTS])
{
    double table[DEMO_COALITIONS];
    for (uint64_t s = 0; s < DEMO_COALITIONS; s++)
        table[s] = team_success(s);
    table[DEMO_COALITIONS - 1] = v_all;
    table[0] = DEMO_V_EMPTY;
    return ac_shapley_exact(DEMO_AGENTS, table, DEMO_COALITIONS, phi);
}

/* splitmix64: the simulator's own seeded generator. */
struct rng {
    uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int bernoulli(struct rng *r, double p)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53 < p;
}

struct simulator {
    struct rng rng;
    uint64_t rollouts;
};

/* The oracle: one simulated rollout per requested coalition. */
static int rollout_oracle(void *user, const uint64_t *coalitions,
                          uint32_t words, uint32_t count, double *values,
                          int32_t *status)
{
    struct simulator *sim = user;
    for (uint32_t k = 0; k < count; k++) {
        uint64_t s = coalitions[(size_t)k * words];
        values[k] = bernoulli(&sim->rng, team_success(s)) ? 1.0 : 0.0;
        status[k] = 0;
        sim->rollouts++;
    }
    return 0;
}

/* The episode's transcript, as the judge labelled it. */
#define DEMO_MESSAGES 10
#define DEMO_BOUND 0.5

static const struct demo_message {
    int agent;
    double label; /* the judge's label in [-1, 1] */
    const char *text;
} transcript[DEMO_MESSAGES] = {
    {CARRIER, 0.5, "Plan: group rows by key, sum the amounts."},
    {CARRIER, 0.6, "Code: totals() loops to len(rows) - 1."},
    {HELPER, 0.8, "Review: totals() skips the last row."},
    {REDUNDANT, 0.0, "Review: the loop skips the last row."},
    {SABOTEUR, -1.0, "Patch: cast amounts to int, it is faster."},
    {CARRIER, 1.0, "Fix: loop over every row, keep Decimal."},
    {HELPER, 0.6, "Test: a last-row case, a decimal amount."},
    /* the same as step 3 but for white space: a redundant repeat */
    {REDUNDANT, 0.0, "Review:  the loop   skips the last row."},
    {SABOTEUR, -0.6, "Delete the failing decimal test."},
    {CARRIER, 0.4, "Final answer: fixed totals() and tests."},
};

static int demo_refine(const double phi[DEMO_AGENTS])
{
    uint32_t agent_of[DEMO_MESSAGES];
    double judge[DEMO_MESSAGES], label[DEMO_MESSAGES], reward[DEMO_MESSAGES];
    const char *text[DEMO_MESSAGES];
    uint32_t msg_flags[DEMO_MESSAGES], agent_flags[DEMO_AGENTS];
    for (int t = 0; t < DEMO_MESSAGES; t++) {
        agent_of[t] = (uint32_t)transcript[t].agent;
        judge[t] = transcript[t].label;
        text[t] = transcript[t].text;
    }
    double beta = 0.0;
    ac_refiner *ref = NULL;
    int rc = ac_refiner_create(&ref, DEMO_AGENTS, DEMO_MESSAGES, NULL);
    if (rc != AC_OK) {
        cli_error("cannot create a refiner: %s", ac_strerror(rc));
        return CLI_FAILED;
    }
    if ((rc = ac_refiner_set_f64(ref, AC_REFINER_PARAM_BOUND, DEMO_BOUND)) != AC_OK ||
        (rc = ac_refiner_get_f64(ref, AC_REFINER_PARAM_BETA, &beta)) != AC_OK ||
        (rc = ac_refiner_set_authors(ref, agent_of, DEMO_MESSAGES)) != AC_OK ||
        (rc = ac_refiner_set_credits(ref, phi, DEMO_AGENTS)) != AC_OK ||
        (rc = ac_refiner_set_labels(ref, judge, DEMO_MESSAGES)) != AC_OK ||
        (rc = ac_refiner_set_texts(ref, text, NULL, DEMO_MESSAGES)) != AC_OK ||
        (rc = ac_refiner_run(ref)) != AC_OK ||
        (rc = ac_refiner_rewards(ref, reward, DEMO_MESSAGES)) != AC_OK ||
        (rc = ac_refiner_labels(ref, label, DEMO_MESSAGES)) != AC_OK ||
        (rc = ac_refiner_message_flags(ref, msg_flags, DEMO_MESSAGES)) != AC_OK ||
        (rc = ac_refiner_agent_flags(ref, agent_flags, DEMO_AGENTS)) != AC_OK) {
        cli_error("the message refiner failed: %s (%s): %s", ac_strerror(rc),
                  ac_status_name(rc), ac_refiner_last_error(ref));
        ac_refiner_free(ref);
        return CLI_FAILED;
    }
    ac_refiner_free(ref);

    printf("\nMessage rewards: each agent's credit split over its messages "
           "(docs/signals.md)\n\n");
    printf("A transcript of the episode, labelled by a judge (helpful > 0 > "
           "harmful). The refiner\n"
           "projects y = credit/K + beta B label onto the splits that add up "
           "to the credit,\n"
           "with |reward| <= B = %.2f and the sign of the label; beta = %.2f. "
           "A repeat of the\n"
           "agent's own earlier message is flagged and labelled -penalty.\n\n",
           DEMO_BOUND, beta);
    printf("%-4s %-5s %-10s %6s %6s %9s  %-10s %s\n", "step", "agent", "role",
           "judge", "label", "reward", "flags", "message");
    for (int t = 0; t < DEMO_MESSAGES; t++) {
        int a = transcript[t].agent;
        const char *flag = (msg_flags[t] & AC_MESSAGE_FLAG_REDUNDANT) ? "redundant"
                           : (msg_flags[t] & AC_MESSAGE_FLAG_LABEL_FIXED) ? "fixed"
                                                                 : "-";
        printf("%-4d %-5d %-10s %+6.2f %+6.2f %+9.4f  %-10s %s\n", t, a,
               cli_demo_role[a], judge[t], label[t], reward[t], flag,
               transcript[t].text);
    }

    printf("\nPer agent, the rewards add up to the credit:\n");
    printf("%-10s %8s %16s %16s %10s  %s\n", "role", "messages", "credit",
           "sum of rewards", "difference", "relaxed");
    int ok = 1;
    for (int a = 0; a < DEMO_AGENTS; a++) {
        double sum = 0.0;
        int k = 0;
        for (int t = 0; t < DEMO_MESSAGES; t++)
            if (transcript[t].agent == a) {
                sum += reward[t];
                k++;
            }
        double diff = sum - phi[a];
        if (!(fabs(diff) <= 1e-12 * fmax(1.0, fabs(phi[a]))))
            ok = 0;
        const char *relaxed =
            (agent_flags[a] & AC_AGENT_FLAG_RELAXED_BOUND) ? "sign, bound"
            : (agent_flags[a] & AC_AGENT_FLAG_RELAXED_SIGN) ? "sign"
                                                 : "none";
        printf("%-10s %8d %+16.12f %+16.12f %10.2g  %s\n", cli_demo_role[a], k,
               phi[a], sum, diff, relaxed);
    }
    printf("\nReading: within each agent a higher label never earns less, "
           "and the rewards add up\n"
           "to the agent's credit. The saboteur's bug carries most of its "
           "blame. The redundant\n"
           "agent's repeat is flagged and penalised, so its first review "
           "takes the rest of its\n"
           "near-zero credit.\n");
    if (!ok) {
        cli_error("the message rewards do not add up to the credits");
        return CLI_FAILED;
    }
    return CLI_OK;
}

/* The same rollouts again, spent where they cut the credits' variance
 * most (AC_METHOD_ADAPTIVE), beside the equal repeats' standard errors. */
static int demo_adaptive(struct simulator *sim, int64_t budget, int64_t seed,
                         double v_all, double v_empty, const double *se_equal)
{
    const uint64_t all = DEMO_COALITIONS - 1u, none = 0;
    ac_estimator *est = NULL;
    int rc = ac_estimator_create(&est, DEMO_AGENTS, NULL);
    if (rc == AC_OK)
        rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_METHOD, AC_METHOD_ADAPTIVE);
    if (rc == AC_OK)
        rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_BUDGET, budget);
    if (rc == AC_OK)
        rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_SEED, seed);
    if (rc == AC_OK)
        rc = ac_estimator_set_value(est, &all, 1, v_all);
    if (rc == AC_OK)
        rc = ac_estimator_set_value(est, &none, 1, v_empty);
    if (rc == AC_OK)
        rc = ac_estimator_set_oracle(est, rollout_oracle, sim);
    if (rc == AC_OK)
        rc = ac_estimator_run(est);
    double phi[DEMO_AGENTS], se[DEMO_AGENTS];
    if (rc == AC_OK)
        rc = ac_estimator_result(est, phi, se, DEMO_AGENTS);
    if (rc != AC_OK) {
        cli_error("the adaptive estimation failed: %s: %s", ac_strerror(rc),
                  est ? ac_estimator_last_error(est) : "");
        ac_estimator_free(est);
        return CLI_FAILED;
    }
    printf("\nThe same %" PRId64 " rollouts, spent where they cut the credits' "
           "variance most\n(method adaptive: a lone agent's coalition weighs "
           "more in the credits than a\npair's, and a coalition that nearly "
           "always passes or fails needs fewer rollouts):\n",
           budget);
    printf("%-10s %10s %10s %22s\n", "role", "credit", "std.err",
           "std.err, equal repeats");
    double var = 0.0, var_equal = 0.0;
    for (int i = 0; i < DEMO_AGENTS; i++) {
        printf("%-10s %+10.4f %10.4f %22.4f\n", cli_demo_role[i], phi[i], se[i],
               se_equal[i]);
        var += se[i] * se[i];
        var_equal += se_equal[i] * se_equal[i];
    }
    printf("summed variance %.3g, against %.3g with equal repeats: worth %.2f "
           "times the rollouts\n",
           var, var_equal, var > 0.0 ? var_equal / var : 0.0);
    ac_estimator_free(est);
    return CLI_OK;
}

/* The judge as the pipeline's scorer (messages are transcript positions).
 * A scorer, not labels given with the episode: those would be fixed, and
 * the refiner could not mark the redundant repeat down as the tables do. */
static int judge_scorer(void *user, const uint32_t *messages, uint32_t count,
                        double *labels, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        labels[k] = transcript[messages[k]].label;
    return 0;
}

/* The observed episode as the pipeline takes it (--json): the team, the
 * transcript, the outcome v(all), and v(empty) as both the baseline and
 * the reference, so that the credits add up to v(all) - v(empty) as the
 * tables' do. */
static int build_observed(ac_episode *ep, double v_all)
{
    int rc = ac_episode_set_id(ep, "demo-success");
    for (uint32_t a = 0; rc == AC_OK && a < DEMO_AGENTS; a++)
        rc = ac_episode_add_participant(ep, cli_demo_role[a],
                                        AC_PARTICIPANT_KIND_AGENT, NULL);
    for (uint32_t t = 0; rc == AC_OK && t < DEMO_MESSAGES; t++) {
        rc = ac_episode_add_message(ep, (uint32_t)transcript[t].agent,
                                    "assistant", transcript[t].text, NULL);
    }
    if (rc == AC_OK) rc = ac_episode_set_outcome(ep, v_all);
    if (rc == AC_OK) rc = ac_episode_set_baseline(ep, DEMO_V_EMPTY);
    if (rc == AC_OK) rc = ac_episode_set_reference(ep, DEMO_V_EMPTY);
    if (rc != AC_OK)
        cli_error("the observed episode: %s", ac_episode_last_error(ep));
    return rc;
}

/* The observed episode through the pipeline, with the tables' estimator
 * (exact, `repeats` rollouts of each coalition, the same seed and
 * rollouts), judge and refiner bound: its signals as one JSON line. */
static int demo_json(struct simulator *sim, int64_t seed, int64_t repeats,
                     int64_t budget, double v_all)
{
    ac_episode *ep = NULL;
    ac_pipeline *p = NULL;
    int rc = ac_episode_create(&ep, NULL);
    if (rc == AC_OK) rc = build_observed(ep, v_all);
    if (rc == AC_OK) rc = ac_pipeline_create(&p, NULL);
    if (rc == AC_OK) rc = ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_METHOD,
                                              AC_METHOD_EXACT);
    if (rc == AC_OK) rc = ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_REPEATS,
                                              repeats);
    if (rc == AC_OK) rc = ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_SEED, seed);
    if (rc == AC_OK) rc = ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_BUDGET,
                                              budget);
    if (rc == AC_OK) rc = ac_pipeline_set_f64(p, AC_REFINER_PARAM_BOUND,
                                              DEMO_BOUND);
    if (rc == AC_OK) rc = ac_pipeline_set_int(p, AC_PIPELINE_PARAM_EPISODE_ID,
                                              1);
    if (rc == AC_OK) rc = ac_pipeline_set_oracle(p, rollout_oracle, sim);
    if (rc == AC_OK) rc = ac_pipeline_set_scorer(p, judge_scorer, NULL);
    if (rc == AC_OK && (rc = ac_pipeline_run(p, ep)) != AC_OK)
        cli_error("the pipeline failed: %s: %s", ac_strerror(rc),
                  ac_pipeline_last_error(p));
    else if (rc == AC_OK)
        rc = cli_print_signals(p, ep);
    else if (p != NULL)
        cli_error("cannot set up the pipeline: %s: %s", ac_strerror(rc),
                  ac_pipeline_last_error(p));
    ac_pipeline_free(p);
    ac_episode_free(ep);
    return rc == AC_OK ? CLI_OK : CLI_FAILED;
}

void cli_demo_help(FILE *f, const char *lead)
{
    fprintf(f,
            "%sdemo [--seed N] [--repeats N] [--json]\n"
            "        A built-in simulated team of %d agents (a carrier, a "
            "helper,\n"
            "        a redundant agent and a saboteur) on a task of %d hidden\n"
            "        tests; each oracle call is one simulated rollout. Prints "
            "the\n"
            "        credits, their standard errors, the conservation check "
            "and\n"
            "        the audit record; the same rollouts spent adaptively; the\n"
            "        credits split over the agents' messages; and a failed\n"
            "        episode's first error, blame and preference pair.\n"
            "        --seed N        seed of the rollouts and of the "
            "estimator\n"
            "                        (default %d)\n"
            "        --repeats N     rollouts of each coalition (default %d)\n"
            "        --json          instead of the tables, the signals of the\n"
            "                        demo's two episodes (the observed one, the\n"
            "                        failed one) through the pipeline, one\n"
            "                        \"agentcredit.signals/1\" line each\n"
            "        -h, --help      this text\n",
            lead, DEMO_AGENTS, DEMO_HIDDEN_TESTS, DEMO_SEED, DEMO_REPEATS);
}

/* CLI_OK to run, CLI_USAGE after a message, -1 when the help was printed. */
static int demo_args(int argc, char **argv, int64_t *seed, int64_t *repeats,
                     int *json)
{
    for (int i = 1; i < argc;) {
        const char *val = NULL;
        int m;
        if (cli_is_help(argv[i])) {
            cli_demo_help(stdout, "Usage: agentcredit ");
            fputc('\n', stdout);
            cli_print_exit_status(stdout);
            return -1;
        }
        if ((m = cli_option_flag(argv[i], "--json")) != 0) {
            if (m < 0)
                return CLI_USAGE;
            *json = 1;
            i++;
            continue;
        }
        if ((m = cli_option_value(argc, argv, &i, "--seed", &val)) != 0) {
            if (m < 0 || cli_parse_int("--seed", val, seed) != 0)
                return CLI_USAGE;
            if (*seed < 0) {
                cli_error("--seed must be >= 0, got %" PRId64, *seed);
                return CLI_USAGE;
            }
            continue;
        }
        if ((m = cli_option_value(argc, argv, &i, "--repeats", &val)) != 0) {
            if (m < 0 || cli_parse_int("--repeats", val, repeats) != 0)
                return CLI_USAGE;
            continue;
        }
        cli_error("demo: unknown %s '%s' (try 'agentcredit demo --help')",
                  argv[i][0] == '-' ? "option" : "argument", argv[i]);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_demo(int argc, char **argv)
{
    int64_t seed = DEMO_SEED, repeats = DEMO_REPEATS;
    int json = 0;
    int parsed = demo_args(argc, argv, &seed, &repeats, &json);
    if (parsed != CLI_OK)
        return parsed < 0 ? CLI_OK : parsed;

    /* The observed episode: the whole team on the hidden tests. */
    struct simulator sim = {{(uint64_t)seed * UINT64_C(0x2545F4914F6CDD1D) + 1u}, 0};
    const uint64_t all = DEMO_COALITIONS - 1u, none = 0;
    int passed = 0;
    for (int t = 0; t < DEMO_HIDDEN_TESTS; t++)
        passed += bernoulli(&sim.rng, team_success(all));
    const double v_all = (double)passed / DEMO_HIDDEN_TESTS;
    const double v_empty = DEMO_V_EMPTY;

    int status = CLI_FAILED;
    ac_estimator *est = NULL;
    int rc = ac_estimator_create(&est, DEMO_AGENTS, NULL);
    if (rc != AC_OK) {
        cli_error("cannot create an estimator: %s", ac_strerror(rc));
        return CLI_FAILED;
    }
    if (cli_set_int(est, AC_ESTIMATOR_PARAM_METHOD, "method", AC_METHOD_EXACT) != 0 ||
        cli_set_int(est, AC_ESTIMATOR_PARAM_REPEATS, "--repeats", repeats) != 0 ||
        cli_set_int(est, AC_ESTIMATOR_PARAM_SEED, "--seed", seed) != 0) {
        status = CLI_USAGE;
        goto out;
    }
    /* Every coalition but the two known ones, `repeats` rollouts each; the
     * library has bounded repeats, so the product cannot overflow. */
    const int64_t budget = (int64_t)(DEMO_COALITIONS - 2u) * repeats;
    char budget_what[64];
    snprintf(budget_what, sizeof budget_what,
             "the budget (%u coalitions times --repeats)", DEMO_COALITIONS - 2u);
    if (cli_set_int(est, AC_ESTIMATOR_PARAM_BUDGET, budget_what, budget) != 0) {
        status = CLI_USAGE;
        goto out;
    }
    if (json) {
        if ((status = demo_json(&sim, seed, repeats, budget, v_all)) ==
                CLI_OK &&
            (status = cli_demo_failure(1)) == CLI_OK)
            status = fflush(stdout) == 0 ? CLI_OK : CLI_FAILED;
        goto out;
    }
    if ((rc = ac_estimator_set_value(est, &all, 1, v_all)) != AC_OK ||
        (rc = ac_estimator_set_value(est, &none, 1, v_empty)) != AC_OK ||
        (rc = ac_estimator_set_oracle(est, rollout_oracle, &sim)) != AC_OK) {
        cli_error("cannot set up the estimator: %s: %s", ac_strerror(rc),
                  ac_estimator_last_error(est));
        goto out;
    }
    sim.rollouts = 0;
    rc = ac_estimator_run(est);
    if (rc != AC_OK) {
        cli_error("the estimation failed: %s (%s): %s", ac_strerror(rc),
                  ac_status_name(rc), ac_estimator_last_error(est));
        goto out;
    }
    double phi[DEMO_AGENTS], se[DEMO_AGENTS];
    if ((rc = ac_estimator_result(est, phi, se, DEMO_AGENTS)) != AC_OK) {
        cli_error("cannot read the result: %s: %s", ac_strerror(rc),
                  ac_estimator_last_error(est));
        goto out;
    }

    /* The same game without rollout noise: the credits infinitely many
     * rollouts per coalition would give (same known v(all), v(empty)). */
    double truth[DEMO_AGENTS];
    int have_truth = cli_demo_credit(v_all, truth) == AC_OK;

    printf("agentcredit demo: who gets the credit in a simulated team of %d "
           "agents\n\n",
           DEMO_AGENTS);
    printf("Task: a coding task checked by %d hidden tests. Each oracle call "
           "is one simulated\n"
           "rollout of a coalition (the absent agents do nothing): pass 1 or "
           "fail 0.\n",
           DEMO_HIDDEN_TESTS);
    printf("  v(all)   = %.4f  observed: the whole team passed %d of %d hidden "
           "tests (known)\n",
           v_all, passed, DEMO_HIDDEN_TESTS);
    printf("  v(empty) = %.4f  the fallback answer's pass rate (known)\n",
           v_empty);
    printf("  method exact, %" PRId64 " rollouts per coalition, seed %" PRId64
           "\n\n",
           repeats, seed);

    printf("%-6s %-10s %-36s %10s %10s %12s\n", "agent", "role", "what it does",
           "credit", "std.err", "noise-free");
    for (int i = 0; i < DEMO_AGENTS; i++) {
        printf("%-6d %-10s %-36s %+10.4f %10.4f", i, cli_demo_role[i], role_text[i],
               phi[i], se[i]);
        if (have_truth)
            printf(" %+12.4f", truth[i]);
        putchar('\n');
    }
    double sum = 0.0;
    for (int i = 0; i < DEMO_AGENTS; i++)
        sum += phi[i];
    printf("\nconservation: sum of credits = %.12f, v(all) - v(empty) = "
           "%.12f, difference = %.3g\n",
           sum, v_all - v_empty, sum - (v_all - v_empty));
    printf("audit: ");
    cli_audit_print(stdout, est);
    printf("simulated rollouts: %" PRIu64 " (the oracle's own count)\n",
           sim.rollouts);
    printf("\nReading: the carrier earns most of the outcome; the helper "
           "earns its review;\n"
           "the redundant agent earns about nothing, since the helper already "
           "does its job;\n"
           "the saboteur's credit is negative: it is blamed for the runs it "
           "breaks.\n");
    if ((status = demo_adaptive(&sim, budget, seed, v_all, v_empty, se)) !=
            CLI_OK ||
        (status = demo_refine(phi)) != CLI_OK ||
        (status = cli_demo_failure(0)) != CLI_OK)
        goto out;
    status = fflush(stdout) == 0 ? CLI_OK : CLI_FAILED;

out:
    ac_estimator_free(est);
    return status;
}
