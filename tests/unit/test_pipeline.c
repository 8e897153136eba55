/* SPDX-License-Identifier: MIT
 *
 * Episodes and the pipeline (issue 14): an episode is data that reads back
 * as it was given and refuses what is malformed; the pipeline's one call
 * equals the three objects wired by hand; a non-player's message is never
 * rewarded; credits add up to R - reference, so a failure is penalised and
 * a success rewarded.
 */
#include <jansson.h>

#include "helpers.h"

/* ===================================================================== */
/* A small team                                                          */
/* ===================================================================== */

/* The team: planner (agent 0), coder (agent 1), critic (agent 2), and two
 * non-players: a tool and the user. */
enum { PLANNER, CODER, CRITIC, TOOL, USER, N_PART };
#define N_AGENTS 3u

static const struct {
    uint32_t who;
    const char *text;
    int on_track; /* does the hidden check pass on messages 0..t? */
} SCRIPT[] = {
    {USER, "Sum the amounts per key.", 1},
    {PLANNER, "Plan: group by key, then sum.", 1},
    {CODER, "def totals(rows): ...", 1},
    {TOOL, "tests: 3 passed", 1},
    {CRITIC, "Cast amounts to int, it is faster.", 0},
    {CODER, "Applied the cast.", 0},
    {TOOL, "tests: 1 failed", 0},
    {CRITIC, "Revert the cast: amounts stay Decimal.", 1},
    {PLANNER, "Final: totals() with Decimal sums.", 1},
    {PLANNER, "Final: totals() with Decimal sums.", 1},
};
#define N_MSG ((uint32_t)(sizeof SCRIPT / sizeof SCRIPT[0]))

static ac_episode *team_episode(double outcome)
{
    static const char *const NAMES[N_PART] = {"planner", "coder", "critic",
                                              "pytest", "user"};
    static const int32_t KINDS[N_PART] = {
        AC_PARTICIPANT_KIND_AGENT, AC_PARTICIPANT_KIND_AGENT,
        AC_PARTICIPANT_KIND_AGENT, AC_PARTICIPANT_KIND_TOOL,
        AC_PARTICIPANT_KIND_USER};
    ac_episode *ep = NULL;
    ck_assert_int_eq(ac_episode_create(&ep, NULL), AC_OK);
    for (uint32_t i = 0; i < N_PART; i++) {
        uint32_t index = 99;
        ck_assert_int_eq(ac_episode_add_participant(ep, NAMES[i], KINDS[i],
                                                    &index), AC_OK);
        ck_assert_uint_eq(index, i);
    }
    for (uint32_t t = 0; t < N_MSG; t++)
        ck_assert_int_eq(ac_episode_add_message(ep, SCRIPT[t].who,
                                                SCRIPT[t].who == TOOL
                                                    ? "tool"
                                                    : "assistant",
                                                SCRIPT[t].text, NULL),
                         AC_OK);
    ck_assert_int_eq(ac_episode_set_outcome(ep, outcome), AC_OK);
    return ep;
}

/* v(S) over the agents: each helps, the three together more. */
static double team_value(uint64_t s)
{
    static const double W[N_AGENTS] = {0.3, 0.25, 0.1};
    double v = 0.05;
    for (uint32_t a = 0; a < N_AGENTS; a++)
        v += (s >> a & 1u) ? W[a] : 0.0;
    return s == 7u ? v + 0.2 : v;
}

static int team_oracle(void *user, const uint64_t *coalitions, uint32_t words,
                       uint32_t count, double *values, int32_t *status)
{
    int *calls = user;
    for (uint32_t k = 0; k < count; k++) {
        values[k] = team_value(coalitions[(size_t)k * words]);
        status[k] = 0;
    }
    if (calls != NULL)
        (*calls)++;
    return 0;
}

static int check_verifier(void *user, const uint32_t *prefixes,
                          uint32_t count, double *p_on_track, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p_on_track[k] = SCRIPT[prefixes[k]].on_track;
    return 0;
}

/* The scorer sees transcript positions: it labels by the script. */
static int script_scorer(void *user, const uint32_t *messages, uint32_t count,
                         double *labels, int32_t *status)
{
    uint32_t *asked = user;
    (void)status;
    for (uint32_t k = 0; k < count; k++) {
        ck_assert_uint_lt(messages[k], N_MSG);
        ck_assert_uint_ne(SCRIPT[messages[k]].who, TOOL);
        ck_assert_uint_ne(SCRIPT[messages[k]].who, USER);
        labels[k] = SCRIPT[messages[k]].on_track ? 0.5 : -0.5;
        asked[messages[k]]++;
    }
    return 0;
}

static int propose(void *user, uint32_t step, uint32_t max_count,
                   uint64_t *ids, uint32_t *count)
{
    (void)user;
    (void)step;
    *count = max_count < 2 ? max_count : 2;
    for (uint32_t k = 0; k < *count; k++)
        ids[k] = 10 + k;
    return 0;
}

static int judge(void *user, uint32_t step, const uint64_t *ids,
                 uint32_t count, double *p, int32_t *status)
{
    (void)user;
    (void)step;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p[k] = ids[k] == 11 ? 0.9 : 0.1;
    return 0;
}

static uint32_t author_of(uint32_t t)
{
    return SCRIPT[t].who < N_AGENTS ? SCRIPT[t].who : UINT32_MAX;
}

static double sum_rewards_of(const double *reward, uint32_t agent)
{
    double r[N_MSG];
    uint32_t k = 0;
    for (uint32_t t = 0; t < N_MSG; t++)
        if (author_of(t) == agent)
            r[k++] = reward[t];
    return th_sum(r, k);
}

/* ===================================================================== */
/* The episode                                                           */
/* ===================================================================== */

START_TEST(episode_reads_back)
{
    ac_episode *ep = team_episode(0.25);
    uint32_t parts = 0, agents = 0, msgs = 0;
    ck_assert_int_eq(ac_episode_counts(ep, &parts, &agents, &msgs), AC_OK);
    ck_assert_uint_eq(parts, N_PART);
    ck_assert_uint_eq(agents, N_AGENTS);
    ck_assert_uint_eq(msgs, N_MSG);
    const char *name = NULL;
    int32_t kind = -1;
    ck_assert_int_eq(ac_episode_participant(ep, TOOL, &name, &kind), AC_OK);
    ck_assert_str_eq(name, "pytest");
    ck_assert_int_eq(kind, AC_PARTICIPANT_KIND_TOOL);
    uint32_t agent = 99;
    ck_assert_int_eq(ac_episode_agent_of(ep, CRITIC, &agent), AC_OK);
    ck_assert_uint_eq(agent, 2);
    ck_assert_int_eq(ac_episode_agent_of(ep, TOOL, &agent), AC_E_INVALID_ARG);
    uint32_t who = 99;
    const char *role = NULL, *text = NULL;
    ck_assert_int_eq(ac_episode_message(ep, 3, &who, &role, &text), AC_OK);
    ck_assert_uint_eq(who, TOOL);
    ck_assert_str_eq(role, "tool");
    ck_assert_str_eq(text, SCRIPT[3].text);

    ck_assert_int_eq(ac_episode_set_parent(ep, 5, 2), AC_OK);
    ck_assert_int_eq(ac_episode_set_token_span(ep, 5, 100, 140), AC_OK);
    uint32_t parent = 0;
    uint64_t b = 0, e = 0;
    ck_assert_int_eq(ac_episode_message_links(ep, 5, &parent, &b, &e), AC_OK);
    ck_assert_uint_eq(parent, 2);
    ck_assert_uint_eq(b, 100);
    ck_assert_uint_eq(e, 140);
    ck_assert_int_eq(ac_episode_message_links(ep, 4, &parent, &b, &e), AC_OK);
    ck_assert_uint_eq(parent, UINT32_MAX);
    ck_assert(b == UINT64_MAX && e == UINT64_MAX);

    double v = 0.0;
    int set = -1;
    ck_assert_int_eq(ac_episode_get_f64(ep, AC_EPISODE_FIELD_OUTCOME, &v,
                                        &set), AC_OK);
    ck_assert(v == 0.25 && set == 1);
    ck_assert_int_eq(ac_episode_get_f64(ep, AC_EPISODE_FIELD_THRESHOLD, &v,
                                        &set), AC_OK);
    ck_assert(v == 0.5 && set == 1);
    ck_assert_int_eq(ac_episode_get_f64(ep, AC_EPISODE_FIELD_REFERENCE, &v,
                                        &set), AC_OK);
    ck_assert(isnan(v) && set == 0);
    ck_assert_int_eq(ac_episode_set_reference(ep, 0.4), AC_OK);
    ck_assert_int_eq(ac_episode_get_f64(ep, AC_EPISODE_FIELD_REFERENCE, &v,
                                        &set), AC_OK);
    ck_assert(v == 0.4 && set == 1);
    ac_episode_clear_reference(ep);
    ck_assert_int_eq(ac_episode_get_f64(ep, AC_EPISODE_FIELD_REFERENCE, &v,
                                        &set), AC_OK);
    ck_assert_int_eq(set, 0);

    uint64_t c = 5;
    ck_assert_int_eq(ac_episode_set_value(ep, &c, 1, 0.3), AC_OK);
    ck_assert_int_eq(ac_episode_set_value(ep, &c, 1, 0.35), AC_OK);
    uint32_t known = 0;
    ck_assert_int_eq(ac_episode_known_count(ep, &known), AC_OK);
    ck_assert_uint_eq(known, 1);
    uint64_t got = 0;
    ck_assert_int_eq(ac_episode_known_value(ep, 0, &got, 1, &v), AC_OK);
    ck_assert(got == 5 && v == 0.35);

    ck_assert_int_eq(ac_episode_set_label(ep, 4, -0.75), AC_OK);
    double labels[N_MSG];
    ck_assert_int_eq(ac_episode_labels(ep, labels, N_MSG), AC_OK);
    for (uint32_t t = 0; t < N_MSG; t++)
        ck_assert(t == 4 ? labels[t] == -0.75 : isnan(labels[t]));
    uint32_t first = 0;
    ck_assert_int_eq(ac_episode_first_error_label(ep, &first), AC_OK);
    ck_assert_uint_eq(first, UINT32_MAX);
    ck_assert_int_eq(ac_episode_set_first_error_label(ep, 4), AC_OK);
    ck_assert_int_eq(ac_episode_first_error_label(ep, &first), AC_OK);
    ck_assert_uint_eq(first, 4);
    ac_episode_free(ep);
}
END_TEST

/* Every malformed input is refused with a message naming it, and changes
 * nothing. */
START_TEST(episode_refuses_what_is_malformed)
{
    ac_episode *ep = team_episode(1.0);
    static const struct {
        const char *name;
        int32_t kind;
        int rc;
        const char *says;
    } BAD_PART[] = {
        {"", AC_PARTICIPANT_KIND_AGENT, AC_E_INVALID_ARG, "non-empty"},
        {NULL, AC_PARTICIPANT_KIND_TOOL, AC_E_INVALID_ARG, "non-empty"},
        {"coder", AC_PARTICIPANT_KIND_AGENT, AC_E_INVALID_ARG, "already"},
        {"judge", 9, AC_E_INVALID_ARG, "unknown kind"},
        {"judge", -1, AC_E_INVALID_ARG, "unknown kind"},
    };
    for (size_t k = 0; k < sizeof BAD_PART / sizeof BAD_PART[0]; k++) {
        ck_assert_int_eq(ac_episode_add_participant(ep, BAD_PART[k].name,
                                                    BAD_PART[k].kind, NULL),
                         BAD_PART[k].rc);
        ck_assert_msg(strstr(ac_episode_last_error(ep), BAD_PART[k].says),
                      "%s", ac_episode_last_error(ep));
    }
    ck_assert_int_eq(ac_episode_add_message(ep, N_PART, "x", "y", NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_label(ep, 3, 0.5), AC_E_INVALID_ARG);
    ck_assert(strstr(ac_episode_last_error(ep), "pytest") != NULL);
    ck_assert_int_eq(ac_episode_set_label(ep, 1, 1.5), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_label(ep, 1, NAN), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_label(ep, N_MSG, 0.5), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_first_error_label(ep, 0),
                     AC_E_INVALID_ARG); /* the user's */
    ck_assert_int_eq(ac_episode_set_parent(ep, 3, 3), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_parent(ep, 3, 7), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_token_span(ep, 3, 9, 4),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_token_span(ep, 3, 0, UINT64_MAX),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_token_span(ep, 3, 0,
                                               (uint64_t)INT64_MAX + 1),
                     AC_E_INVALID_ARG); /* JSON could not hold it */
    ck_assert_int_eq(ac_episode_set_token_span(ep, 3, 0, INT64_MAX), AC_OK);
    /* strings are UTF-8: a stray continuation byte, an overlong form, a
     * surrogate, a cut sequence */
    static const char *const NOT_UTF8[] = {"a\x80\x62", "\xC0\xAF",
                                           "\xED\xA0\x80", "ok\xE2\x82"};
    for (size_t k = 0; k < sizeof NOT_UTF8 / sizeof NOT_UTF8[0]; k++) {
        ck_assert_int_eq(ac_episode_add_participant(ep, NOT_UTF8[k], 1, NULL),
                         AC_E_INVALID_ARG);
        ck_assert(strstr(ac_episode_last_error(ep), "not UTF-8") != NULL);
        ck_assert_int_eq(ac_episode_add_message(ep, 0, NULL, NOT_UTF8[k],
                                                NULL), AC_E_INVALID_ARG);
        ck_assert_int_eq(ac_episode_set_id(ep, NOT_UTF8[k]),
                         AC_E_INVALID_ARG);
    }
    ck_assert_int_eq(ac_episode_add_participant(
                         ep, "caf\xC3\xA9 \xF0\x9F\x98\x80", 1, NULL),
                     AC_OK);
    ck_assert_int_eq(ac_episode_set_outcome(ep, NAN), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_reference(ep, INFINITY),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_threshold(ep, -INFINITY),
                     AC_E_INVALID_ARG);
    uint64_t c[2] = {8, 0};
    ck_assert_int_eq(ac_episode_set_value(ep, c, 1, 0.1), AC_E_INVALID_ARG);
    c[0] = 1;
    ck_assert_int_eq(ac_episode_set_value(ep, c, 2, 0.1), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_value(ep, c, 1, NAN), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_value(ep, c, 1, 0.1), AC_OK);
    /* an agent after known values would change their width */
    ck_assert_int_eq(ac_episode_add_participant(ep, "late", 0, NULL),
                     AC_E_STATE);
    ck_assert_int_eq(ac_episode_add_participant(ep, "db", 1, NULL), AC_OK);
    uint32_t parts = 0, agents = 0, msgs = 0;
    ck_assert_int_eq(ac_episode_counts(ep, &parts, &agents, &msgs), AC_OK);
    ck_assert_uint_eq(parts, N_PART + 2); /* "db" and the UTF-8 name */
    ck_assert_uint_eq(agents, N_AGENTS);
    ck_assert_uint_eq(msgs, N_MSG);
    double v;
    ck_assert_int_eq(ac_episode_get_f64(ep, AC_EPISODE_FIELD_OUTCOME, &v,
                                        NULL), AC_OK);
    ck_assert(v == 1.0);
    ac_episode_free(ep);

    ac_episode *empty = NULL;
    ck_assert_int_eq(ac_episode_create(&empty, NULL), AC_OK);
    ck_assert_int_eq(ac_episode_set_value(empty, c, 1, 0.1),
                     AC_E_INVALID_ARG);
    ac_episode_free(empty);
}
END_TEST

/* ===================================================================== */
/* The pipeline                                                          */
/* ===================================================================== */

typedef struct signals {
    double phi[N_AGENTS], se[N_AGENTS], reward[N_MSG], label[N_MSG];
    uint32_t flags[N_MSG], steps[N_MSG];
    double total, reference;
    int64_t step;
    uint32_t agent;
    double probability;
    ac_preference_pair pair;
} signals;

static void read_signals(const ac_pipeline *p, signals *s)
{
    ck_assert_int_eq(ac_pipeline_credits(p, s->phi, s->se, N_AGENTS), AC_OK);
    ck_assert_int_eq(ac_pipeline_total(p, &s->total, &s->reference), AC_OK);
    ck_assert_int_eq(ac_pipeline_rewards(p, s->reward, N_MSG), AC_OK);
    ck_assert_int_eq(ac_pipeline_labels(p, s->label, N_MSG), AC_OK);
    ck_assert_int_eq(ac_pipeline_message_flags(p, s->flags, N_MSG), AC_OK);
    ck_assert_int_eq(ac_pipeline_step_flags(p, s->steps, N_MSG), AC_OK);
    ck_assert_int_eq(ac_pipeline_first_error(p, &s->step, &s->agent,
                                             &s->probability), AC_OK);
    s->pair.struct_size = sizeof s->pair;
    ck_assert_int_eq(ac_pipeline_pair(p, &s->pair), AC_OK);
}

static int64_t audit(const ac_pipeline *p, int32_t key)
{
    int64_t v = -1;
    ck_assert_int_eq(ac_pipeline_audit(p, key, &v), AC_OK);
    return v;
}

/* What every run must hold: credits add up to R - reference, each agent's
 * rewards to its credit, a non-player's messages get 0 and no label. */
static void assert_invariants(const signals *s, double outcome,
                              double reference)
{
    ck_assert(s->reference == reference);
    ck_assert(s->total == outcome - reference);
    ck_assert_msg(fabs(th_sum(s->phi, N_AGENTS) - s->total) <=
                      1e-12 * fmax(1.0, fabs(s->total)),
                  "credits add up to %.17g, not %.17g",
                  th_sum(s->phi, N_AGENTS), s->total);
    for (uint32_t a = 0; a < N_AGENTS; a++)
        ck_assert_msg(fabs(sum_rewards_of(s->reward, a) - s->phi[a]) <=
                          1e-12 * fmax(1.0, fabs(s->phi[a])),
                      "agent %u: rewards %.17g, credit %.17g", a,
                      sum_rewards_of(s->reward, a), s->phi[a]);
    for (uint32_t t = 0; t < N_MSG; t++) {
        int player = author_of(t) != UINT32_MAX;
        ck_assert_msg(player || (s->reward[t] == 0.0 && isnan(s->label[t]) &&
                                 (s->flags[t] & AC_MESSAGE_FLAG_NON_PLAYER)),
                      "message %u (%s) is a non-player's: reward %g", t,
                      SCRIPT[t].text, s->reward[t]);
        ck_assert(!player || !(s->flags[t] & AC_MESSAGE_FLAG_NON_PLAYER));
    }
}

/* A success, labels from the scorer but for one the episode gives: the
 * scorer is asked for the agents' messages only (never a tool's or the
 * user's), at transcript positions, never for the given one or the
 * repeated final message. */
START_TEST(success_with_scorer)
{
    ac_episode *ep = team_episode(1.0);
    ck_assert_int_eq(ac_episode_set_label(ep, 2, 1.0), AC_OK);
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    uint32_t asked[N_MSG] = {0};
    ck_assert_int_eq(ac_pipeline_set_oracle(p, team_oracle, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_scorer(p, script_scorer, asked), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_verifier(p, check_verifier, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    signals s;
    read_signals(p, &s);
    assert_invariants(&s, 1.0, 0.5);
    for (uint32_t t = 0; t < N_MSG; t++)
        ck_assert_uint_eq(asked[t], author_of(t) == UINT32_MAX || t == 2 ||
                                            t == 9
                                        ? 0
                                        : 1);
    ck_assert(s.label[2] == 1.0);
    ck_assert(s.flags[9] & AC_MESSAGE_FLAG_REDUNDANT);
    ck_assert(s.step == -1 && s.pair.kind == AC_PAIR_KIND_NONE &&
              s.pair.reason == AC_PAIR_REASON_NOT_LOCALIZED);
    ck_assert_int_eq(audit(p, AC_PIPELINE_AUDIT_SUCCESS), 1);
    ck_assert_int_eq(audit(p, AC_PIPELINE_AUDIT_LOCALIZED), 0);
    ck_assert_int_eq(audit(p, AC_PIPELINE_AUDIT_LABELS),
                     AC_LABEL_SOURCE_SCORER);
    ck_assert_int_eq(audit(p, AC_PIPELINE_AUDIT_REFERENCE_GIVEN), 0);
    ck_assert_int_eq(audit(p, AC_PIPELINE_AUDIT_METHOD), AC_METHOD_EXACT);
    ck_assert_int_eq(audit(p, AC_PIPELINE_AUDIT_ORACLE_EVALUATIONS), 7);
    ck_assert_int_eq(audit(p, AC_PIPELINE_AUDIT_SCORER_EVALUATIONS), 5);
    /* a success above the reference: every agent rewarded */
    for (uint32_t a = 0; a < N_AGENTS; a++)
        ck_assert_msg(s.phi[a] > 0.0, "agent %u: %g", a, s.phi[a]);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* The failure semantics: R - reference is what the agents share. A failed
 * episode (R = 0) is penalised against the threshold (0.5, by default) or
 * the group's mean; a success (R = 1) rewarded; the game's own Shapley
 * values are moved by one equal share, (R - reference - (v(all) -
 * v(empty))) / n. */
START_TEST(credits_add_up_to_outcome_minus_reference)
{
    static const struct {
        double outcome, reference; /* NaN: none given */
        double baseline;           /* NaN: the oracle's */
    } CASES[] = {
        {0.0, NAN, NAN}, {0.0, 0.2, NAN}, {1.0, NAN, NAN},
        {1.0, 0.8, 0.0}, {0.3, 0.3, 0.3}, {0.0, NAN, 0.0},
    };
    double exact[N_AGENTS], table[8];
    for (uint64_t m = 0; m < 8; m++)
        table[m] = team_value(m);
    for (size_t k = 0; k < sizeof CASES / sizeof CASES[0]; k++) {
        ac_episode *ep = team_episode(CASES[k].outcome);
        int given = !isnan(CASES[k].reference);
        if (given)
            ck_assert_int_eq(ac_episode_set_reference(ep, CASES[k].reference),
                             AC_OK);
        if (!isnan(CASES[k].baseline))
            ck_assert_int_eq(ac_episode_set_baseline(ep, CASES[k].baseline),
                             AC_OK);
        table[7] = CASES[k].outcome;
        table[0] = isnan(CASES[k].baseline) ? team_value(0)
                                            : CASES[k].baseline;
        ck_assert_int_eq(ac_shapley_exact(N_AGENTS, table, 8, exact), AC_OK);
        ac_pipeline *p = NULL;
        ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
        ck_assert_int_eq(ac_pipeline_set_oracle(p, team_oracle, NULL), AC_OK);
        ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
        signals s;
        read_signals(p, &s);
        double ref = given ? CASES[k].reference : 0.5;
        assert_invariants(&s, CASES[k].outcome, ref);
        double shift = (CASES[k].outcome - ref - (table[7] - table[0])) / 3;
        for (uint32_t a = 0; a < N_AGENTS; a++)
            ck_assert_msg(fabs(s.phi[a] - (exact[a] + shift)) <= 1e-15,
                          "case %zu agent %u: %.17g, want %.17g", k, a,
                          s.phi[a], exact[a] + shift);
        if (CASES[k].outcome < ref)
            ck_assert(th_sum(s.phi, N_AGENTS) < 0.0);
        if (CASES[k].outcome > ref)
            ck_assert(th_sum(s.phi, N_AGENTS) > 0.0);
        ck_assert_int_eq(audit(p, AC_PIPELINE_AUDIT_REFERENCE_GIVEN), given);
        ck_assert_int_eq(audit(p, AC_PIPELINE_AUDIT_SUCCESS),
                         CASES[k].outcome >= 0.5);
        ck_assert_int_eq(audit(p, AC_PIPELINE_AUDIT_LABELS),
                         AC_LABEL_SOURCE_NEUTRAL);
        ac_pipeline_free(p);
        ac_episode_free(ep);
    }
}
END_TEST

/* The human first-error label as an exact verifier: the first error is
 * the labelled message, blamed; the repair the check accepts makes the
 * pair. */
START_TEST(failure_localized_by_annotation)
{
    ac_episode *ep = team_episode(0.0);
    ck_assert_int_eq(ac_episode_set_first_error_label(ep, 4), AC_OK);
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_PIPELINE_PARAM_VERIFIER,
                                         AC_VERIFIER_SOURCE_ANNOTATION),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_PIPELINE_PARAM_EPISODE_ID, 77),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_set_oracle(p, team_oracle, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_repair(p, propose, judge, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    signals s;
    read_signals(p, &s);
    assert_invariants(&s, 0.0, 0.5);
    ck_assert_int_eq(s.step, 4);
    ck_assert_uint_eq(s.agent, 2);
    ck_assert(s.probability == 1.0);
    ck_assert(s.steps[4] & AC_STEP_FLAG_FIRST_ERROR);
    ck_assert(s.label[4] < 0.0 && s.reward[4] <= 0.0);
    ck_assert_int_eq(s.pair.kind, AC_PAIR_KIND_REPAIR);
    ck_assert_uint_eq(s.pair.chosen, 11);
    ck_assert_uint_eq(s.pair.step, 4);
    ck_assert_uint_eq(s.pair.agent, 2);
    ck_assert_uint_eq(s.pair.episode, 77);
    ck_assert_int_eq(audit(p, AC_PIPELINE_AUDIT_LOCALIZED), 1);
    ck_assert_int_eq(audit(p, AC_PIPELINE_AUDIT_LABELS),
                     AC_LABEL_SOURCE_BLAME);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* The hand-wired localizer's numbering: the agents' messages, at
 * transcript positions at[k]; prefix k ends where message k + 1 begins. */
typedef struct agent_prefixes {
    const uint32_t *at;
    uint32_t count;
} agent_prefixes;

static int agent_prefix_verifier(void *user, const uint32_t *prefixes,
                                 uint32_t count, double *p_on_track,
                                 int32_t *status)
{
    const agent_prefixes *m = user;
    uint32_t ends[N_MSG];
    for (uint32_t k = 0; k < count; k++)
        ends[k] = prefixes[k] + 1 < m->count ? m->at[prefixes[k] + 1] - 1
                                             : N_MSG - 1;
    return check_verifier(NULL, ends, count, p_on_track, status);
}

static int agent_propose(void *user, uint32_t step, uint32_t max_count,
                         uint64_t *ids, uint32_t *count)
{
    const agent_prefixes *m = user;
    return propose(NULL, m->at[step], max_count, ids, count);
}

static int agent_judge(void *user, uint32_t step, const uint64_t *ids,
                       uint32_t count, double *p, int32_t *status)
{
    const agent_prefixes *m = user;
    return judge(NULL, m->at[step], ids, count, p, status);
}

/* One call equals the three objects wired by hand with the documented
 * steps: the estimator's credits moved to R - reference (to the last ulps:
 * the pipeline conserves them exactly), then, from the pipeline's credits,
 * the localizer and the refiner over the agents' messages (a localizer
 * prefix ends where the next agent message begins), bit for bit. */
START_TEST(one_call_equals_hand_wired)
{
    ac_episode *ep = team_episode(0.0);
    ck_assert_int_eq(ac_episode_set_reference(ep, 0.35), AC_OK);
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_LOCALIZER_PARAM_MONOTONE, 0),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_set_f64(p, AC_REFINER_PARAM_BOUND, 0.3),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_SEED, 5),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_set_oracle(p, team_oracle, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_verifier(p, check_verifier, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_repair(p, propose, judge, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    signals s;
    read_signals(p, &s);
    assert_invariants(&s, 0.0, 0.35);

    /* by hand: credit */
    ac_estimator *e = NULL;
    ck_assert_int_eq(ac_estimator_create(&e, N_AGENTS, NULL), AC_OK);
    ck_assert_int_eq(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_SEED, 5),
                     AC_OK);
    uint64_t all = 7;
    ck_assert_int_eq(ac_estimator_set_value(e, &all, 1, 0.0), AC_OK);
    ck_assert_int_eq(ac_estimator_set_oracle(e, team_oracle, NULL), AC_OK);
    ck_assert_int_eq(ac_estimator_run(e), AC_OK);
    double phi[N_AGENTS], se[N_AGENTS];
    ck_assert_int_eq(ac_estimator_result(e, phi, se, N_AGENTS), AC_OK);
    double shift = (0.0 - 0.35 - th_sum(phi, N_AGENTS)) / N_AGENTS;
    for (uint32_t a = 0; a < N_AGENTS; a++) {
        ck_assert(fabs(s.phi[a] - (phi[a] + shift)) <= 4 * DBL_EPSILON);
        ck_assert(s.se[a] == se[a]);
    }
    ac_estimator_free(e);

    /* by hand: the first error over the agents' messages, prefix k
     * ending where the next agent message begins */
    ac_localizer *l = NULL;
    uint32_t authors[N_MSG], at[N_MSG], K = 0;
    double blame[N_MSG];
    for (uint32_t t = 0; t < N_MSG; t++)
        if (author_of(t) != UINT32_MAX) {
            at[K] = t;
            authors[K++] = author_of(t);
        }
    agent_prefixes prefixes = {at, K};
    ck_assert_int_eq(ac_localizer_create(&l, K, NULL), AC_OK);
    ck_assert_int_eq(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_MONOTONE, 0),
                     AC_OK);
    ck_assert_int_eq(ac_localizer_set_authors(l, authors, K), AC_OK);
    ck_assert_int_eq(ac_localizer_set_verifier(l, agent_prefix_verifier,
                                               &prefixes), AC_OK);
    ck_assert_int_eq(ac_localizer_set_repair(l, agent_propose, agent_judge,
                                             &prefixes), AC_OK);
    ck_assert_int_eq(ac_localizer_run(l), AC_OK);
    int64_t step;
    uint32_t agent, flags[N_MSG];
    double prob;
    ac_preference_pair pair = {sizeof pair, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                               0, 0, 0};
    ck_assert_int_eq(ac_localizer_result(l, &step, &agent, &prob), AC_OK);
    ck_assert_int_eq(ac_localizer_step_flags(l, flags, K), AC_OK);
    ck_assert_int_eq(ac_localizer_blame_labels(l, blame, K), AC_OK);
    ck_assert_int_eq(ac_localizer_make_pair(l, 0, &pair), AC_OK);
    ac_localizer_free(l);
    ck_assert(at[step] == (uint32_t)s.step && agent == s.agent &&
              prob == s.probability);
    ck_assert_int_eq(s.step, 4);
    for (uint32_t t = 0, k = 0; t < N_MSG; t++)
        ck_assert_uint_eq(s.steps[t], author_of(t) != UINT32_MAX
                                          ? flags[k++]
                                          : 0);
    pair.step = pair.prompt_end = at[pair.step]; /* transcript positions */
    ck_assert(memcmp(&pair, &s.pair, sizeof pair) == 0);

    /* by hand: the rewards over the agents' messages */
    uint32_t k = 0, map[N_MSG], who[N_MSG];
    double lab[N_MSG];
    const char *text[N_MSG];
    for (uint32_t t = 0; t < N_MSG; t++)
        if (author_of(t) != UINT32_MAX) {
            map[k] = t;
            who[k] = author_of(t);
            lab[k] = blame[k];
            text[k++] = SCRIPT[t].text;
        }
    ac_refiner *f = NULL;
    ck_assert_int_eq(ac_refiner_create(&f, N_AGENTS, k, NULL), AC_OK);
    ck_assert_int_eq(ac_refiner_set_f64(f, AC_REFINER_PARAM_BOUND, 0.3),
                     AC_OK);
    ck_assert_int_eq(ac_refiner_set_authors(f, who, k), AC_OK);
    ck_assert_int_eq(ac_refiner_set_credits(f, s.phi, N_AGENTS), AC_OK);
    ck_assert_int_eq(ac_refiner_set_texts(f, text, NULL, k), AC_OK);
    ck_assert_int_eq(ac_refiner_set_labels(f, lab, k), AC_OK);
    ck_assert_int_eq(ac_refiner_run(f), AC_OK);
    double reward[N_MSG], label[N_MSG];
    ck_assert_int_eq(ac_refiner_rewards(f, reward, k), AC_OK);
    ck_assert_int_eq(ac_refiner_labels(f, label, k), AC_OK);
    ac_refiner_free(f);
    for (uint32_t j = 0; j < k; j++) {
        ck_assert_msg(memcmp(&reward[j], &s.reward[map[j]], sizeof reward[j])
                          == 0,
                      "message %u: %.17g by hand, %.17g in one call", map[j],
                      reward[j], s.reward[map[j]]);
        ck_assert(memcmp(&label[j], &s.label[map[j]], sizeof label[j]) == 0);
    }
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* A verifier that first rejects the prefix ending at a tool's output
 * (message 3, "tests: 3 passed", here taken as the moment it went wrong):
 * the first error is the agent's message the output followed (message 2,
 * the coder's), never the tool's; the tool's message gets no flag. */
static int rejects_from_the_tool(void *user, const uint32_t *prefixes,
                                 uint32_t count, double *p_on_track,
                                 int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++) {
        ck_assert_msg(prefixes[k] + 1 == N_MSG ||
                          author_of(prefixes[k] + 1) != UINT32_MAX,
                      "prefix %u does not end before an agent's message",
                      prefixes[k]);
        p_on_track[k] = prefixes[k] < 3 ? 1.0 : 0.0;
    }
    return 0;
}

START_TEST(first_error_is_an_agents_message)
{
    ac_episode *ep = team_episode(0.0);
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_oracle(p, team_oracle, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_verifier(p, rejects_from_the_tool, NULL),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    signals s;
    read_signals(p, &s);
    assert_invariants(&s, 0.0, 0.5);
    ck_assert_int_eq(s.step, 2);
    ck_assert_uint_eq(s.agent, CODER);
    ck_assert_uint_eq(s.steps[3], 0);
    ck_assert(s.steps[2] & AC_STEP_FLAG_FIRST_ERROR);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* Agent messages without text (tool calls) are not repeats of each other:
 * none is flagged redundant. */
START_TEST(messages_without_text_are_no_repeats)
{
    ac_episode *ep = NULL;
    ck_assert_int_eq(ac_episode_create(&ep, NULL), AC_OK);
    ck_assert_int_eq(ac_episode_add_participant(ep, "a", 0, NULL), AC_OK);
    ck_assert_int_eq(ac_episode_add_participant(ep, "t", 1, NULL), AC_OK);
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(ac_episode_add_message(ep, 0, "assistant", NULL,
                                                NULL), AC_OK);
        ck_assert_int_eq(ac_episode_add_message(ep, 1, "tool", "ok", NULL),
                         AC_OK);
    }
    ck_assert_int_eq(ac_episode_add_message(ep, 0, NULL, "done", NULL),
                     AC_OK);
    ck_assert_int_eq(ac_episode_add_message(ep, 0, NULL, "done", NULL),
                     AC_OK);
    ck_assert_int_eq(ac_episode_set_outcome(ep, 1.0), AC_OK);
    ck_assert_int_eq(ac_episode_set_baseline(ep, 0.0), AC_OK);
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    uint32_t flags[8];
    ck_assert_int_eq(ac_pipeline_message_flags(p, flags, 8), AC_OK);
    for (int t = 0; t < 6; t += 2)
        ck_assert_uint_eq(flags[t] & AC_MESSAGE_FLAG_REDUNDANT, 0);
    ck_assert(flags[7] & AC_MESSAGE_FLAG_REDUNDANT); /* a real repeat */
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* Parameters of the three objects pass through, checked as each object
 * checks them; the pipeline keeps them for every run. */
START_TEST(parameters_pass_through)
{
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    int64_t v = -1;
    double f = -1.0;
    ck_assert_int_eq(ac_pipeline_get_int(p, AC_ESTIMATOR_PARAM_BUDGET, &v),
                     AC_OK);
    ck_assert_int_eq(v, 2048);
    ck_assert_int_eq(ac_pipeline_get_f64(p, AC_REFINER_PARAM_BOUND, &f),
                     AC_OK);
    ck_assert(f == 1.0);
    ck_assert_int_eq(ac_pipeline_get_int(p, AC_PIPELINE_PARAM_VERIFIER, &v),
                     AC_OK);
    ck_assert_int_eq(v, AC_VERIFIER_SOURCE_CALLBACK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_BUDGET, 100),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_get_int(p, AC_ESTIMATOR_PARAM_BUDGET, &v),
                     AC_OK);
    ck_assert_int_eq(v, 100);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_BUDGET, -1),
                     AC_E_PARAM_OUT_OF_BOUND);
    ck_assert_int_eq(ac_pipeline_set_f64(p, AC_LOCALIZER_PARAM_ACCURACY, 0.5),
                     AC_E_PARAM_OUT_OF_BOUND); /* an open bound */
    ck_assert_int_eq(ac_pipeline_set_f64(p, AC_ESTIMATOR_PARAM_BUDGET, 1.0),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_pipeline_set_int(p, 999, 1), AC_E_PARAM_UNSUPPORTED);
    ck_assert_int_eq(ac_pipeline_set_int(p, 150, 1), AC_E_PARAM_UNSUPPORTED);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_PIPELINE_PARAM_VERIFIER, 3),
                     AC_E_PARAM_OUT_OF_BOUND);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_LOCALIZER_PARAM_STRATEGY,
                                         AC_STRATEGY_SCORES),
                     AC_E_PARAM_OUT_OF_BOUND); /* no scores to give it */
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_LOCALIZER_PARAM_STRATEGY,
                                         AC_STRATEGY_BISECTION), AC_OK);
    ck_assert_int_eq(ac_pipeline_get_int(p, AC_ESTIMATOR_PARAM_BUDGET, &v),
                     AC_OK);
    ck_assert_int_eq(v, 100);
    /* the parameters reach the estimator: the exact method needs the 7
     * coalitions v(all) = R leaves unknown, and a budget of 2 fails */
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_METHOD,
                                         AC_METHOD_EXACT), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_BUDGET, 2),
                     AC_OK);
    ac_episode *ep = team_episode(1.0);
    ck_assert_int_eq(ac_pipeline_set_oracle(p, team_oracle, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_E_BUDGET);
    ck_assert_msg(strncmp(ac_pipeline_last_error(p), "credit: ", 8) == 0,
                  "%s", ac_pipeline_last_error(p));
    double phi[N_AGENTS];
    ck_assert_int_eq(ac_pipeline_credits(p, phi, NULL, N_AGENTS), AC_E_STATE);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_BUDGET, 7),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    ck_assert_int_eq(ac_pipeline_credits(p, phi, NULL, N_AGENTS), AC_OK);
    ck_assert_int_eq(ac_pipeline_credits(p, phi, NULL, 2), AC_E_INVALID_ARG);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* An episode the pipeline cannot take is refused up front, naming why. */
START_TEST(episodes_the_pipeline_refuses)
{
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, NULL), AC_E_INVALID_ARG);
    ac_episode *ep = NULL;
    ck_assert_int_eq(ac_episode_create(&ep, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_E_STATE);
    ck_assert(strstr(ac_pipeline_last_error(p), "outcome") != NULL);
    ck_assert_int_eq(ac_episode_set_outcome(ep, 1.0), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_E_STATE);
    ck_assert(strstr(ac_pipeline_last_error(p), "no agent") != NULL);
    ck_assert_int_eq(ac_episode_add_participant(ep, "solo", 0, NULL), AC_OK);
    ck_assert_int_eq(ac_episode_add_participant(ep, "quiet", 0, NULL), AC_OK);
    ck_assert_int_eq(ac_episode_add_message(ep, 0, NULL, "hi", NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_E_STATE);
    ck_assert(strstr(ac_pipeline_last_error(p), "\"quiet\"") != NULL);
    ck_assert_int_eq(ac_episode_add_message(ep, 1, NULL, NULL, NULL), AC_OK);
    /* no oracle: v({solo}) is unknown */
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_E_STATE);
    ck_assert(strncmp(ac_pipeline_last_error(p), "credit: ", 8) == 0);
    uint64_t c = 1;
    ck_assert_int_eq(ac_episode_set_value(ep, &c, 1, 0.7), AC_OK);
    c = 2;
    ck_assert_int_eq(ac_episode_set_value(ep, &c, 1, 0.1), AC_OK);
    ck_assert_int_eq(ac_episode_set_baseline(ep, 0.0), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK); /* every value known */
    double phi[2];
    ck_assert_int_eq(ac_pipeline_credits(p, phi, NULL, 2), AC_OK);
    ck_assert(fabs(phi[0] + phi[1] - 0.5) <= 1e-15);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* From inside its callbacks the pipeline refuses what would change it
 * (AC_E_BUSY) and has no result to read (AC_E_STATE); cancel is allowed
 * and ends the run. */
typedef struct reentry {
    ac_pipeline *p;
    ac_episode *ep;
    int calls, cancel;
} reentry;

static int reentrant_oracle(void *user, const uint64_t *coalitions,
                            uint32_t words, uint32_t count, double *values,
                            int32_t *status)
{
    reentry *r = user;
    r->calls++;
    ck_assert_int_eq(ac_pipeline_run(r->p, r->ep), AC_E_BUSY);
    ck_assert(strstr(ac_pipeline_last_error(r->p), "ac_pipeline_run") !=
              NULL);
    ck_assert_int_eq(ac_pipeline_set_int(r->p, AC_ESTIMATOR_PARAM_SEED, 1),
                     AC_E_BUSY);
    ck_assert_int_eq(ac_pipeline_set_f64(r->p, AC_REFINER_PARAM_BOUND, 1.0),
                     AC_E_BUSY);
    ck_assert_int_eq(ac_pipeline_set_oracle(r->p, NULL, NULL), AC_E_BUSY);
    ck_assert_int_eq(ac_pipeline_set_verifier(r->p, NULL, NULL), AC_E_BUSY);
    ck_assert_int_eq(ac_pipeline_set_scorer(r->p, NULL, NULL), AC_E_BUSY);
    ck_assert_int_eq(ac_pipeline_set_repair(r->p, NULL, NULL, NULL),
                     AC_E_BUSY);
    ac_work w;
    uint64_t c = 0, one = 1;
    uint32_t n = 0;
    double a = 0.5;
    ck_assert_int_eq(ac_pipeline_start(r->p, r->ep, 0), AC_E_BUSY);
    ck_assert_int_eq(ac_pipeline_ask(r->p, 1, &w, &c, 1, &n), AC_E_BUSY);
    ck_assert_int_eq(ac_pipeline_tell(r->p, 1, &one, &a, NULL), AC_E_BUSY);
    ck_assert_int_eq(ac_pipeline_tell_repair(r->p, one, NULL, 0), AC_E_BUSY);
    double phi[N_AGENTS];
    ck_assert_int_eq(ac_pipeline_credits(r->p, phi, NULL, N_AGENTS),
                     AC_E_STATE);
    int64_t v;
    ck_assert_int_eq(ac_pipeline_get_int(r->p, AC_ESTIMATOR_PARAM_SEED, &v),
                     AC_OK);
    if (r->cancel)
        ac_pipeline_cancel(r->p);
    return team_oracle(NULL, coalitions, words, count, values, status);
}

START_TEST(reentry_from_callbacks)
{
    ac_episode *ep = team_episode(1.0);
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_BATCH, 1),
                     AC_OK);
    reentry r = {p, ep, 0, 0};
    ck_assert_int_eq(ac_pipeline_set_oracle(p, reentrant_oracle, &r), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    ck_assert_int_eq(r.calls, 7);
    r.cancel = 1;
    r.calls = 0;
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_E_CANCELLED);
    ck_assert_msg(strncmp(ac_pipeline_last_error(p), "credit: ", 8) == 0,
                  "%s", ac_pipeline_last_error(p));
    ck_assert_int_lt(r.calls, 7);
    r.cancel = 0;
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK); /* usable again */
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* ===================================================================== */
/* JSON                                                                  */
/* ===================================================================== */

/* The whole text of an episode or of signals, through the snprintf-style
 * writers (called once to size, once to write). */
static char *episode_text(const ac_episode *ep)
{
    size_t len = 0;
    char small[8];
    ck_assert_int_eq(ac_episode_write_json(ep, small, sizeof small, &len),
                     AC_OK);
    ck_assert_uint_gt(len, sizeof small); /* too small: only "" written */
    ck_assert_str_eq(small, "");
    char *buf = malloc(len + 1);
    size_t again = 0;
    ck_assert_int_eq(ac_episode_write_json(ep, buf, len + 1, &again), AC_OK);
    ck_assert_uint_eq(again, len);
    ck_assert_uint_eq(strlen(buf), len);
    return buf;
}


/* Episode -> JSON -> episode -> JSON gives the same text, and the episode
 * read back has every field. */
START_TEST(episode_json_round_trip)
{
    ac_episode *ep = team_episode(0.0);
    ck_assert_int_eq(ac_episode_set_id(ep, "who&when/17"), AC_OK);
    ck_assert_int_eq(ac_episode_set_reference(ep, 0.4), AC_OK);
    ck_assert_int_eq(ac_episode_set_baseline(ep, 0.05), AC_OK);
    ck_assert_int_eq(ac_episode_set_threshold(ep, 0.75), AC_OK);
    ck_assert_int_eq(ac_episode_set_parent(ep, 5, 4), AC_OK);
    ck_assert_int_eq(ac_episode_set_token_span(ep, 5, 120, 131), AC_OK);
    ck_assert_int_eq(ac_episode_set_label(ep, 7, 0.1 + 0.2), AC_OK);
    ck_assert_int_eq(ac_episode_set_first_error_label(ep, 4), AC_OK);
    uint64_t c = 3;
    ck_assert_int_eq(ac_episode_set_value(ep, &c, 1, 1.0 / 3.0), AC_OK);
    char *text = episode_text(ep);
    ac_episode *back = th_load(text, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
    char *again = episode_text(back);
    ck_assert_str_eq(again, text);
    ck_assert_str_eq(ac_episode_id(back), "who&when/17");
    double v;
    ck_assert_int_eq(ac_episode_get_f64(back, AC_EPISODE_FIELD_BASELINE, &v,
                                        NULL), AC_OK);
    ck_assert(v == 0.05);
    double labels[N_MSG];
    ck_assert_int_eq(ac_episode_labels(back, labels, N_MSG), AC_OK);
    ck_assert(labels[7] == 0.1 + 0.2); /* every bit: 17 digits */
    uint64_t key = 0;
    ck_assert_int_eq(ac_episode_known_value(back, 0, &key, 1, &v), AC_OK);
    ck_assert(key == 3 && v == 1.0 / 3.0);
    uint32_t parent;
    uint64_t b, e;
    ck_assert_int_eq(ac_episode_message_links(back, 5, &parent, &b, &e),
                     AC_OK);
    ck_assert(parent == 4 && b == 120 && e == 131);
    free(text);
    free(again);
    ac_episode_free(back);
    ac_episode_free(ep);
}
END_TEST

#define MIN_EPISODE(extra)                                                   \
    "{\"participants\": [{\"name\": \"a\"}, {\"name\": \"t\", \"kind\": "     \
    "\"tool\"}], \"messages\": [{\"from\": \"a\", \"text\": \"hi\"}, "        \
    "{\"from\": \"t\"}], \"outcome\": 1" extra "}"

/* Every way an episode text can be wrong, refused with AC_E_PARSE (or
 * AC_E_TOO_LARGE) and a message naming the line and column or the field. */
START_TEST(episode_json_errors)
{
    static const struct {
        const char *text;
        int rc;
        const char *says;
    } BAD[] = {
        {"{\"participants\": [", AC_E_PARSE, "line 1, column"},
        {"{\n\"outcome\": 1,\n\"outcome\": 2}", AC_E_PARSE, "line 3"},
        {"[1, 2]", AC_E_PARSE, "must be a JSON object"},
        {"{\"messages\": [], \"outcome\": 1}", AC_E_PARSE, "participants"},
        {"{\"participants\": [], \"outcome\": 1}", AC_E_PARSE, "messages"},
        {MIN_EPISODE(", \"outcome\": null"), AC_E_PARSE, "line"},
        {MIN_EPISODE(", \"threshold\": \"high\""), AC_E_PARSE,
         "threshold: a number"},
        {MIN_EPISODE(", \"reference\": 1e999"), AC_E_PARSE, "line 1"},
        {"{\"participants\": [{\"name\": \"a\"}, {\"name\": \"a\"}], "
         "\"messages\": [], \"outcome\": 1}", AC_E_PARSE,
         "participants[1]: participant \"a\" is there already"},
        {"{\"participants\": [{\"kind\": \"agent\"}], \"messages\": [], "
         "\"outcome\": 1}", AC_E_PARSE, "participants[0].name"},
        {"{\"participants\": [{\"name\": \"a\", \"kind\": \"robot\"}], "
         "\"messages\": [], \"outcome\": 1}", AC_E_PARSE,
         "participants[0].kind: unknown kind \"robot\""},
        {"{\"participants\": [{\"name\": \"a\"}], \"messages\": [{\"from\": "
         "\"b\"}], \"outcome\": 1}", AC_E_PARSE,
         "messages[0].from: no participant \"b\""},
        {"{\"participants\": [{\"name\": \"a\"}], \"messages\": [{\"from\": "
         "\"a\", \"text\": 5}], \"outcome\": 1}", AC_E_PARSE,
         "messages[0].text: a string"},
        {"{\"participants\": [{\"name\": \"a\"}], \"messages\": [{\"from\": "
         "\"a\", \"text\": \"x\\u0000y\"}], \"outcome\": 1}", AC_E_PARSE,
         "\\u0000 is not allowed"}, /* jansson: no NUL in a string */
        {"{\"participants\": [{\"name\": \"a\"}], \"messages\": [{\"from\": "
         "\"a\", \"parent\": 0}], \"outcome\": 1}", AC_E_PARSE,
         "messages[0].parent: 0 is out of range"},
        {"{\"participants\": [{\"name\": \"a\"}], \"messages\": [{\"from\": "
         "\"a\", \"tokens\": [5, 2]}], \"outcome\": 1}", AC_E_PARSE,
         "messages[0].tokens"},
        {"{\"participants\": [{\"name\": \"a\"}], \"messages\": [{\"from\": "
         "\"a\", \"label\": 2}], \"outcome\": 1}", AC_E_PARSE,
         "messages[0].label: message 0: label 2 is outside [-1, 1]"},
        {MIN_EPISODE(", \"annotations\": {\"first_error\": 1}"), AC_E_PARSE,
         "annotations.first_error: first-error label: message 1 is by \"t\""},
        {MIN_EPISODE(", \"annotations\": {\"first_error\": 7}"), AC_E_PARSE,
         "annotations.first_error: 7 is out of range"},
        {MIN_EPISODE(", \"values\": [{\"agents\": [\"t\"], \"value\": 1}]"),
         AC_E_PARSE, "values[0].agents[0]: \"t\" is not an agent"},
        {MIN_EPISODE(", \"values\": [{\"agents\": [\"a\"]}]"), AC_E_PARSE,
         "values[0].value: a value is needed"},
        {MIN_EPISODE(", \"format\": \"agentcredit.episode/2\""), AC_E_PARSE,
         "format: \"agentcredit.episode/2\" is not"},
        {"{\"outcome\": 1,\001}", AC_E_PARSE, "byte 14 is 0x01"},
    };
    for (size_t k = 0; k < sizeof BAD / sizeof BAD[0]; k++)
        th_load(BAD[k].text, 0, BAD[k].rc, BAD[k].says, NULL, 0);
    /* no outcome: it loads (and writes back the same), the pipeline
     * refuses it */
    ac_episode *none = th_load("{\"participants\": [{\"name\": \"a\"}], "
                            "\"messages\": [{\"from\": \"a\"}]}",
                            AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
    char *text = episode_text(none);
    ac_episode *again = th_load(text, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, again), AC_E_STATE);
    ck_assert(strstr(ac_pipeline_last_error(p), "no outcome") != NULL);
    ac_pipeline_free(p);
    free(text);
    ac_episode_free(again);
    ac_episode_free(none);
    /* NULL and unknown flags */
    ac_episode *ep = NULL;
    ck_assert_int_eq(ac_episode_load_json(&ep, NULL, 0, NULL, NULL, 0, NULL,
                                          0, NULL, 0), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_load_json(&ep, "{}", 2, NULL, NULL, 2, NULL,
                                          0, NULL, 0), AC_E_INVALID_ARG);
}
END_TEST

/* Unknown keys are warnings, one line each, and errors under
 * AC_JSON_STRICT. */
START_TEST(episode_json_unknown_keys)
{
    const char *text = MIN_EPISODE(", \"colour\": \"red\", \"annotations\": "
                                   "{\"who\": \"x\"}");
    char warn[256];
    ac_episode *ep = th_load(text, 0, AC_OK, NULL, warn, sizeof warn);
    ck_assert_str_eq(warn, "episode.colour: unknown key, ignored\n"
                           "annotations.who: unknown key, ignored");
    ac_episode_free(ep);
    char tiny[12];
    ep = th_load(text, 0, AC_OK, NULL, tiny, sizeof tiny); /* truncated */
    ck_assert_uint_eq(strlen(tiny), sizeof tiny - 1);
    ac_episode_free(ep);
    th_load(text, AC_JSON_STRICT, AC_E_PARSE,
         "episode: unknown key \"colour\" (AC_JSON_STRICT)", NULL, 0);
}
END_TEST

/* Past a limit: AC_E_TOO_LARGE naming it, before the memory is taken. */
START_TEST(episode_json_limits)
{
    const char *text = MIN_EPISODE("");
    ac_json_limits lim;
    ac_json_limits_default(&lim);
    ck_assert_uint_eq(lim.max_bytes, (uint64_t)64 << 20);
    ck_assert_uint_eq(lim.max_memory, (uint64_t)512 << 20);
    char err[256];
    ac_episode *ep = NULL;
    lim.max_bytes = 20;
    ck_assert_int_eq(ac_episode_load_json(&ep, text, strlen(text), NULL, &lim,
                                          0, err, sizeof err, NULL, 0),
                     AC_E_TOO_LARGE);
    ck_assert(strstr(err, "max_bytes") != NULL);
    lim.max_bytes = 0; /* the default */
    lim.max_memory = 1000;
    ck_assert_int_eq(ac_episode_load_json(&ep, text, strlen(text), NULL, &lim,
                                          0, err, sizeof err, NULL, 0),
                     AC_E_TOO_LARGE);
    ck_assert(strstr(err, "max_memory") != NULL);
    lim.struct_size = 8;
    ck_assert_int_eq(ac_episode_load_json(&ep, text, strlen(text), NULL, &lim,
                                          0, err, sizeof err, NULL, 0),
                     AC_E_INVALID_ARG);
    ck_assert(ep == NULL);
}
END_TEST

/* Candidates 10, 11 after the host's base id (user): 11 verified. */
static int propose_from(void *user, uint32_t step, uint32_t max_count,
                        uint64_t *ids, uint32_t *count)
{
    (void)step;
    uint64_t base = *(const uint64_t *)user;
    *count = max_count < 2 ? max_count : 2;
    for (uint32_t k = 0; k < *count; k++)
        ids[k] = base + 10 + k;
    return 0;
}

static int judge_from(void *user, uint32_t step, const uint64_t *ids,
                      uint32_t count, double *p, int32_t *status)
{
    (void)step;
    (void)status;
    uint64_t base = *(const uint64_t *)user;
    for (uint32_t k = 0; k < count; k++)
        p[k] = ids[k] == base + 11 ? 0.9 : 0.1;
    return 0;
}

/* A candidate id is the host's uint64: up to INT64_MAX a JSON integer, past
 * it the decimal digits as a string; either way it reads back exactly
 * (before the fix an id of 2^63 or more came out negative). */
START_TEST(signals_json_large_candidate_ids)
{
    static const struct {
        uint64_t base;
        const char *digits; /* NULL: an integer */
    } cases[] = {
        {0, NULL},
        {(uint64_t)INT64_MAX - 11, NULL},
        {(uint64_t)INT64_MAX - 10, "9223372036854775808"},
        {UINT64_MAX - 11, "18446744073709551615"},
    };
    uint64_t base = cases[_i].base;
    ac_episode *ep = team_episode(0.0);
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_LOCALIZER_PARAM_MONOTONE, 0),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_set_oracle(p, team_oracle, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_verifier(p, check_verifier, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_repair(p, propose_from, judge_from,
                                            &base),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    signals s;
    read_signals(p, &s);
    ck_assert_int_eq(s.pair.kind, AC_PAIR_KIND_REPAIR);
    ck_assert(s.pair.chosen == base + 11);
    size_t len = 0;
    ck_assert_int_eq(ac_pipeline_write_json(p, ep, NULL, 0, &len), AC_OK);
    char *buf = malloc(len + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(ac_pipeline_write_json(p, ep, buf, len + 1, &len), AC_OK);
    json_error_t jerr;
    json_t *root = json_loads(buf, 0, &jerr);
    ck_assert_msg(root != NULL, "%s", jerr.text);
    json_t *chosen = json_object_get(json_object_get(root, "pair"), "chosen");
    if (cases[_i].digits == NULL) {
        ck_assert(json_is_integer(chosen));
        ck_assert(json_integer_value(chosen) >= 0);
        ck_assert((uint64_t)json_integer_value(chosen) == base + 11);
    } else {
        ck_assert(json_is_string(chosen));
        ck_assert_str_eq(json_string_value(chosen), cases[_i].digits);
        ck_assert(strtoull(json_string_value(chosen), NULL, 10) ==
                  base + 11);
    }
    json_decref(root);
    free(buf);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* The signals as JSON: what the getters say, by name. */
START_TEST(signals_json)
{
    ac_episode *ep = team_episode(0.0);
    ck_assert_int_eq(ac_episode_set_id(ep, "ep-1"), AC_OK);
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    size_t len = 0;
    ck_assert_int_eq(ac_pipeline_write_json(p, ep, NULL, 0, &len),
                     AC_E_STATE);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_LOCALIZER_PARAM_MONOTONE, 0),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_set_oracle(p, team_oracle, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_verifier(p, check_verifier, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_repair(p, propose, judge, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    signals s;
    read_signals(p, &s);
    ck_assert_int_eq(ac_pipeline_write_json(p, ep, NULL, 0, &len), AC_OK);
    char *buf = malloc(len + 1);
    ck_assert_int_eq(ac_pipeline_write_json(p, ep, buf, len + 1, &len), AC_OK);
    json_error_t jerr;
    json_t *root = json_loads(buf, 0, &jerr);
    ck_assert_msg(root != NULL, "%s", jerr.text);
    ck_assert_str_eq(json_string_value(json_object_get(root, "format")),
                     "agentcredit.signals/1");
    ck_assert_str_eq(json_string_value(json_object_get(root, "id")), "ep-1");
    ck_assert(json_real_value(json_object_get(root, "total")) == s.total);
    json_t *agents = json_object_get(root, "agents");
    ck_assert_uint_eq(json_array_size(agents), N_AGENTS);
    for (uint32_t a = 0; a < N_AGENTS; a++)
        ck_assert(json_real_value(json_object_get(json_array_get(agents, a),
                                                  "credit")) == s.phi[a]);
    json_t *msgs = json_object_get(root, "messages");
    ck_assert_uint_eq(json_array_size(msgs), N_MSG);
    json_t *tool = json_array_get(msgs, 3);
    ck_assert_str_eq(json_string_value(json_object_get(tool, "from")),
                     "pytest");
    ck_assert(json_is_null(json_object_get(tool, "label")));
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(tool, "flags"), 0)), "non_player");
    json_t *err4 = json_array_get(msgs, 4);
    ck_assert(json_real_value(json_object_get(err4, "reward")) ==
              s.reward[4]);
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(err4, "step_flags"), 0)),
                     "first_error");
    json_t *first = json_object_get(root, "first_error");
    ck_assert_int_eq(json_integer_value(json_object_get(first, "message")),
                     4);
    ck_assert_str_eq(json_string_value(json_object_get(first, "agent")),
                     "critic");
    json_t *pair = json_object_get(root, "pair");
    ck_assert_str_eq(json_string_value(json_object_get(pair, "kind")),
                     "repair");
    ck_assert_int_eq(json_integer_value(json_object_get(pair, "chosen")), 11);
    json_t *audit = json_object_get(root, "audit");
    ck_assert_str_eq(json_string_value(json_object_get(audit, "method")),
                     "exact");
    ck_assert_str_eq(json_string_value(json_object_get(audit, "labels")),
                     "blame");
    ck_assert(json_is_false(json_object_get(audit, "success")));
    json_decref(root);
    free(buf);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* docs/format.md's examples: the episode loads under AC_JSON_STRICT, and
 * the signals are what the pipeline writes for it with
 * docs/examples/pipeline_example.c's callbacks and parameters. */
static const double DOC_TEAM[8] = {0.0, 0.10, 0.15, 0.30, 0.05, 0.20, 0.25,
                                   0.0};
static const int DOC_ON_TRACK[9] = {1, 1, 1, 1, 0, 0, 0, 1, 0};

static int doc_oracle(void *user, const uint64_t *coalitions, uint32_t words,
                      uint32_t count, double *values, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        values[k] = DOC_TEAM[coalitions[(size_t)k * words]];
    return 0;
}

static int doc_verifier(void *user, const uint32_t *prefixes, uint32_t count,
                        double *p_on_track, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p_on_track[k] = DOC_ON_TRACK[prefixes[k]];
    return 0;
}

static int doc_check(void *user, uint32_t step, const uint64_t *ids,
                     uint32_t count, double *p, int32_t *status)
{
    (void)user;
    (void)step;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p[k] = ids[k] == 1 ? 0.95 : 0.0;
    return 0;
}

static int doc_propose(void *user, uint32_t step, uint32_t max_count,
                       uint64_t *ids, uint32_t *count)
{
    (void)user;
    (void)step;
    *count = max_count < 2 ? max_count : 2;
    for (uint32_t k = 0; k < *count; k++)
        ids[k] = k;
    return 0;
}

/* The ```json block after `marker` in text, NUL-terminated in place. */
static char *doc_block(char *text, const char *marker)
{
    char *at = strstr(text, marker);
    ck_assert_msg(at != NULL, "docs/format.md has no %s", marker);
    char *start = strstr(at, "```json\n");
    ck_assert(start != NULL);
    start += strlen("```json\n");
    char *end = strstr(start, "\n```");
    ck_assert(end != NULL);
    *end = '\0';
    return start;
}

START_TEST(format_examples)
{
    FILE *f = fopen(AC_TEST_DATA_DIR "/../../docs/format.md", "rb");
    ck_assert_msg(f != NULL, "cannot open docs/format.md");
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *sig_text = doc_block(text, "<!-- signals example -->");
    char *ep_text = doc_block(text, "<!-- episode example -->");
    ac_episode *ep = th_load(ep_text, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_LOCALIZER_PARAM_MONOTONE, 0),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_set_f64(p, AC_REFINER_PARAM_BOUND, 0.5),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_set_oracle(p, doc_oracle, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_verifier(p, doc_verifier, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_repair(p, doc_propose, doc_check, NULL),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    size_t len = 0;
    static char out[1 << 16];
    ck_assert_int_eq(ac_pipeline_write_json(p, ep, out, sizeof out, &len),
                     AC_OK);
    ck_assert_uint_lt(len, sizeof out);
    json_error_t e1, e2;
    json_t *want = json_loads(sig_text, 0, &e1);
    json_t *got = json_loads(out, 0, &e2);
    ck_assert_msg(want != NULL, "the doc's signals: %s", e1.text);
    ck_assert(got != NULL);
    ck_assert_msg(json_equal(want, got), "docs/format.md's signals are not "
                  "what the pipeline writes:\n%s", out);
    json_decref(want);
    json_decref(got);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* ===================================================================== */
/* Allocation failure                                                    */
/* ===================================================================== */

/* An allocator that fails its k-th request (k >= 0; -1: never) and counts
 * the blocks alive. */
typedef struct failing {
    long k, calls, live;
} failing;

static void *failing_alloc(void *opaque, size_t size)
{
    failing *f = opaque;
    if (f->k >= 0 && f->calls++ == f->k)
        return NULL;
    void *q = malloc(size ? size : 1);
    f->live += q != NULL;
    return q;
}

static void failing_free(void *opaque, void *ptr)
{
    failing *f = opaque;
    if (ptr != NULL) {
        f->live--;
        free(ptr);
    }
}

/* What a run gives, as text: the signals line, compared bit for bit.
 * *ran: the run succeeded (a failure after it is the writer's). */
static char *run_text(ac_pipeline *p, const ac_episode *ep, int *rc,
                      int *ran)
{
    *rc = ac_pipeline_run(p, ep);
    *ran = *rc == AC_OK;
    if (*rc != AC_OK)
        return NULL;
    size_t len = 0;
    *rc = ac_pipeline_write_json(p, ep, NULL, 0, &len);
    char *buf = *rc == AC_OK ? malloc(len + 1) : NULL;
    if (buf != NULL)
        *rc = ac_pipeline_write_json(p, ep, buf, len + 1, &len);
    if (*rc != AC_OK) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

static uint32_t scorer_tally[N_MSG]; /* script_scorer's count */

static void setup_pipeline(ac_pipeline *p)
{
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_LOCALIZER_PARAM_MONOTONE, 0),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_set_oracle(p, team_oracle, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_verifier(p, check_verifier, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_repair(p, propose, judge, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_scorer(p, script_scorer, scorer_tally),
                     AC_OK);
}

/* Every allocation of loading an episode, running the pipeline on it and
 * writing its signals fails in turn (k = 0, 1, ... until the call
 * succeeds): each failure is AC_E_NO_MEMORY with a message, the load
 * leaves *out alone, a failed run leaves no result, and the same handle
 * then gives the result of a run that never failed, bit for bit; no block
 * outlives its handle. */
START_TEST(allocation_failure)
{
    ac_episode *base = team_episode(0.0);
    ck_assert_int_eq(ac_episode_set_reference(base, 0.35), AC_OK);
    char *text = episode_text(base);
    ac_pipeline *clean = NULL;
    ck_assert_int_eq(ac_pipeline_create(&clean, NULL), AC_OK);
    setup_pipeline(clean);
    int rc, ran;
    char *want = run_text(clean, base, &rc, &ran);
    ck_assert_int_eq(rc, AC_OK);
    long load_failures = 0, run_failures = 0;
    for (long k = 0;; k++) {
        failing f = {k, 0, 0};
        ac_allocator a = {sizeof a, 0, failing_alloc, failing_free, &f};
        ac_episode *ep = (ac_episode *)&f;
        char err[256];
        rc = ac_episode_load_json(&ep, text, strlen(text), &a, NULL, 0, err,
                                  sizeof err, NULL, 0);
        if (rc == AC_OK) {
            ac_episode_free(ep);
            ck_assert_int_eq(f.live, 0);
            break;
        }
        ck_assert_int_eq(rc, AC_E_NO_MEMORY);
        ck_assert(ep == (ac_episode *)&f && err[0] != '\0');
        ck_assert_int_eq(f.live, 0);
        load_failures++;
    }
    for (long k = 0;; k++) {
        failing f = {-1, 0, 0};
        ac_allocator a = {sizeof a, 0, failing_alloc, failing_free, &f};
        ac_pipeline *p = NULL;
        ck_assert_int_eq(ac_pipeline_create(&p, &a), AC_OK);
        setup_pipeline(p);
        f.k = f.calls + k; /* the k-th allocation from here on */
        char *got = run_text(p, base, &rc, &ran);
        if (rc == AC_OK) {
            ck_assert_str_eq(got, want);
            free(got);
            ac_pipeline_free(p);
            ck_assert_int_eq(f.live, 0);
            break;
        }
        ck_assert_msg(rc == AC_E_NO_MEMORY, "k %ld: status %d: %s", k, rc,
                      ac_pipeline_last_error(p));
        /* a failed run says why and has no result; a failed write (a
         * status, no message: the pipeline is const there) keeps it */
        double phi[N_AGENTS];
        int have = ac_pipeline_credits(p, phi, NULL, N_AGENTS);
        ck_assert_int_eq(have, ran ? AC_OK : AC_E_STATE);
        ck_assert(ran || ac_pipeline_last_error(p)[0] != '\0');
        f.k = -1; /* the same handle, memory back: the clean result */
        got = run_text(p, base, &rc, &ran);
        ck_assert_int_eq(rc, AC_OK);
        ck_assert_str_eq(got, want);
        free(got);
        ac_pipeline_free(p);
        ck_assert_int_eq(f.live, 0);
        run_failures++;
    }
    ck_assert_int_gt(load_failures, 10);
    ck_assert_int_gt(run_failures, 10);
    fprintf(stderr, "allocation failure: %ld failures injected into the "
            "load, %ld into the run and the writer\n", load_failures,
            run_failures);
    free(want);
    free(text);
    ac_pipeline_free(clean);
    ac_episode_free(base);
}
END_TEST

/* ===================================================================== */
/* Ask/tell                                                              */
/* ===================================================================== */

/* A host that serves the pipeline's work through ask/tell with the same
 * answers as the callbacks of setup_pipeline: it asks up to `max` pieces
 * at a time, keeps asking while work comes (several asks outstanding at
 * once), then tells everything, in reverse when `reverse`, with coalitions
 * `words` words apart. */
typedef struct host {
    uint32_t max, words;
    int reverse;
    uint32_t tally[N_MSG];
    uint64_t asks, pieces;
} host;

enum { HOST_ROOM = 512 };

static double answer(host *h, const ac_work *w, const uint64_t *coalition)
{
    double v = NAN;
    int32_t st = 0;
    switch (w->kind) {
    case AC_WORK_KIND_VALUE:
        team_oracle(NULL, coalition, h->words, 1, &v, &st);
        break;
    case AC_WORK_KIND_PREFIX:
        check_verifier(NULL, &w->message, 1, &v, &st);
        break;
    case AC_WORK_KIND_SCORE:
        script_scorer(h->tally, &w->message, 1, &v, &st);
        break;
    default:
        ck_assert_int_eq(w->kind, AC_WORK_KIND_CHECK);
        judge(NULL, w->message, &w->candidate, 1, &v, &st);
        break;
    }
    return v;
}

/* One round: ask until nothing more comes, answer, tell. 0: done, 1: more
 * to come, or the first status that was not AC_OK. */
static int host_round(ac_pipeline *p, host *h)
{
    static ac_work work[HOST_ROOM];
    static uint64_t coal[HOST_ROOM * 2];
    static uint64_t tickets[HOST_ROOM];
    static double answers[HOST_ROOM];
    uint32_t have = 0, n = 0;
    int rc = AC_OK;
    do {
        uint32_t room = HOST_ROOM - have < h->max ? HOST_ROOM - have : h->max;
        rc = ac_pipeline_ask(p, room, work + have,
                             coal + (size_t)have * h->words, h->words, &n);
        h->asks++;
        for (uint32_t k = have; rc == AC_OK && k < have + n; k++)
            if (work[k].kind == AC_WORK_KIND_REPAIR) {
                uint64_t ids[16];
                uint32_t c = 0;
                ck_assert_uint_le(work[k].max_count, 16);
                propose(NULL, work[k].message, work[k].max_count, ids, &c);
                rc = ac_pipeline_tell_repair(p, work[k].ticket, ids, c);
            }
        have += rc == AC_OK ? n : 0;
    } while (rc == AC_OK && n > 0 && have < HOST_ROOM);
    uint32_t told = 0;
    for (uint32_t i = 0; rc == AC_OK && i < have; i++) {
        uint32_t k = h->reverse ? have - 1 - i : i;
        if (work[k].kind == AC_WORK_KIND_REPAIR)
            continue;
        tickets[told] = work[k].ticket;
        answers[told++] = answer(h, &work[k], coal + (size_t)k * h->words);
    }
    if (rc == AC_OK && told > 0)
        rc = ac_pipeline_tell(p, told, tickets, answers, NULL);
    h->pieces += have;
    return rc != AC_OK ? rc : have > 0;
}

/* Drives one run through ask/tell; its signals line, or NULL with *rc the
 * first failed call's status. */
static char *asktell_try(ac_pipeline *p, const ac_episode *ep, host *h,
                         int *rc, int *ran)
{
    uint32_t serves = AC_SERVES_VERIFIER | AC_SERVES_SCORER |
                      AC_SERVES_REPAIR;
    *rc = ac_pipeline_start(p, ep, serves);
    int more = 1;
    while (*rc == AC_OK && more)
        if ((more = host_round(p, h)) < 0)
            *rc = more;
    *ran = *rc == AC_OK;
    if (*rc != AC_OK)
        return NULL;
    int32_t done = 0;
    uint64_t outstanding = 1;
    ck_assert_int_eq(ac_pipeline_progress(p, &done, &outstanding), AC_OK);
    ck_assert(done == 1 && outstanding == 0);
    size_t len = 0;
    *rc = ac_pipeline_write_json(p, ep, NULL, 0, &len);
    char *buf = *rc == AC_OK ? malloc(len + 1) : NULL;
    if (buf != NULL)
        *rc = ac_pipeline_write_json(p, ep, buf, len + 1, &len);
    if (*rc != AC_OK) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

static char *asktell_text(ac_pipeline *p, const ac_episode *ep, host *h)
{
    int rc = AC_OK, ran = 0;
    char *text = asktell_try(p, ep, h, &rc, &ran);
    ck_assert_msg(rc == AC_OK, "ask/tell: %d: %s", rc,
                  ac_pipeline_last_error(p));
    return text;
}

/* The ask/tell loop gives what one call gives, bit for bit, whatever the
 * ask sizes, the stride of the coalitions and the order of the tells: a
 * success scored by the host, a failure localized by its verdicts with a
 * repair-aware pair, a failure localized by the annotation. */
START_TEST(asktell_equals_one_call)
{
    static const host HOSTS[] = {{1, 1, 0, {0}, 0, 0}, {3, 2, 1, {0}, 0, 0},
                                 {HOST_ROOM, 1, 1, {0}, 0, 0}};
    for (int kind = 0; kind < 3; kind++) {
        ac_episode *ep = team_episode(kind == 0 ? 1.0 : 0.0);
        ck_assert_int_eq(ac_episode_set_reference(ep, 0.35), AC_OK);
        if (kind == 2)
            ck_assert_int_eq(ac_episode_set_first_error_label(ep, 4), AC_OK);
        ac_pipeline *p = NULL;
        ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
        setup_pipeline(p);
        if (kind == 2)
            ck_assert_int_eq(ac_pipeline_set_int(
                                 p, AC_PIPELINE_PARAM_VERIFIER,
                                 AC_VERIFIER_SOURCE_ANNOTATION), AC_OK);
        int rc, ran;
        char *want = run_text(p, ep, &rc, &ran);
        ck_assert_int_eq(rc, AC_OK);
        if (kind == 1) /* the pair is the repair's: every kind of work */
            ck_assert(strstr(want, "\"repair\"") != NULL);
        for (size_t h = 0; h < sizeof HOSTS / sizeof HOSTS[0]; h++) {
            host hh = HOSTS[h];
            char *got = asktell_text(p, ep, &hh);
            ck_assert_msg(strcmp(got, want) == 0,
                          "episode %d, host %zu:\n%s\n%s", kind, h, got, want);
            ck_assert_uint_gt(hh.pieces, 0);
            free(got);
        }
        free(want);
        ac_pipeline_free(p);
        ac_episode_free(ep);
    }
}
END_TEST

/* Found by fuzz_pipeline: ac_pipeline_run gave the repair callback room
 * for the batches of the stages before the pair (64 and 1 by default), not
 * for the max_count candidates it may propose (here 100). */
static int propose_all(void *user, uint32_t step, uint32_t max_count,
                       uint64_t *ids, uint32_t *count)
{
    (void)user;
    (void)step;
    for (uint32_t k = 0; k < max_count; k++)
        ids[k] = 1000 + k;
    *count = max_count;
    return 0;
}

static int judge_last(void *user, uint32_t step, const uint64_t *ids,
                      uint32_t count, double *p, int32_t *status)
{
    (void)user;
    (void)step;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p[k] = ids[k] == 1099 ? 0.9 : 0.0;
    return 0;
}

START_TEST(repair_gets_room_for_max_count)
{
    ac_episode *ep = team_episode(0.0);
    ck_assert_int_eq(ac_episode_set_first_error_label(ep, 4), AC_OK);
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_PIPELINE_PARAM_VERIFIER,
                                         AC_VERIFIER_SOURCE_ANNOTATION),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_LOCALIZER_PARAM_CANDIDATES,
                                         100), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_oracle(p, team_oracle, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_repair(p, propose_all, judge_last,
                                            NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    ac_preference_pair pair = {.struct_size = sizeof pair};
    ck_assert_int_eq(ac_pipeline_pair(p, &pair), AC_OK);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_REPAIR);
    ck_assert_uint_eq(pair.candidates, 100);
    ck_assert_uint_eq(pair.chosen, 1099);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* The protocol's rules: nothing before a start, a tell checked whole
 * (unknown, stale, twice, out of range: nothing taken), a repair's
 * candidates only through ac_pipeline_tell_repair, a failed answer asked
 * again under a new ticket, setters refused while a run is under way, a
 * cancel ending the run, progress. */
START_TEST(asktell_protocol)
{
    ac_episode *ep = team_episode(1.0);
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    ac_work w[8];
    uint64_t c[8] = {0}, t[8];
    double a[8] = {0};
    int32_t st[8] = {0};
    uint32_t n = 99;
    int32_t done = 0;
    uint64_t out = 9;
    ck_assert_int_eq(ac_pipeline_progress(p, &done, &out), AC_OK);
    ck_assert(done == 1 && out == 0);
    ck_assert_int_eq(ac_pipeline_ask(p, 8, w, c, 1, &n), AC_E_STATE);
    ck_assert_int_eq(ac_pipeline_tell(p, 0, NULL, NULL, NULL), AC_E_STATE);
    ck_assert_int_eq(ac_pipeline_start(p, NULL, 0), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_pipeline_start(p, ep, 8u), AC_E_INVALID_ARG);
    ck_assert(strstr(ac_pipeline_last_error(p), "AC_SERVES_") != NULL);
    ck_assert_int_eq(ac_pipeline_start(p, ep, 0), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_SEED, 3),
                     AC_E_STATE);
    ck_assert_int_eq(ac_pipeline_set_oracle(p, team_oracle, NULL),
                     AC_E_STATE);
    /* no room for coalitions: refused, the run goes on */
    ck_assert_int_eq(ac_pipeline_ask(p, 8, w, NULL, 1, &n), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_pipeline_ask(p, 8, w, c, 0, &n), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_pipeline_ask(p, 2, w, c, 1, &n), AC_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(w[0].kind, AC_WORK_KIND_VALUE);
    ck_assert_int_eq(ac_pipeline_progress(p, &done, &out), AC_OK);
    ck_assert(done == 0 && out == 2);
    /* unknown, twice: nothing taken */
    t[0] = w[0].ticket;
    t[1] = w[0].ticket + 100;
    ck_assert_int_eq(ac_pipeline_tell(p, 2, t, a, NULL), AC_E_INVALID_ARG);
    t[1] = w[0].ticket;
    ck_assert_int_eq(ac_pipeline_tell(p, 2, t, a, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_pipeline_tell_repair(p, w[0].ticket, NULL, 0),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_pipeline_progress(p, NULL, &out), AC_OK);
    ck_assert_uint_eq(out, 2);
    /* failed answers (a status, a value not finite): the same coalitions
     * again, under new tickets */
    uint64_t failed_coalition = c[1];
    t[0] = w[0].ticket;
    t[1] = w[1].ticket;
    a[0] = INFINITY;
    a[1] = 0.0;
    st[1] = 1;
    ck_assert_int_eq(ac_pipeline_tell(p, 2, t, a, st), AC_OK);
    ck_assert_int_eq(ac_pipeline_tell(p, 1, t, a, NULL), AC_E_INVALID_ARG);
    ck_assert(strstr(ac_pipeline_last_error(p), "told already") != NULL);
    int again = 0;
    uint64_t seen = 0;
    do {
        ck_assert_int_eq(ac_pipeline_ask(p, 1, w, c, 1, &n), AC_OK);
        if (n == 1 && w[0].kind == AC_WORK_KIND_VALUE) {
            ck_assert_uint_gt(w[0].ticket, t[1]);
            again |= c[0] == failed_coalition;
            seen++;
            a[0] = team_value(c[0]);
            ck_assert_int_eq(ac_pipeline_tell(p, 1, &w[0].ticket, a, NULL),
                             AC_OK);
        }
    } while (n > 0);
    ck_assert(again && seen == 7);
    /* the rest needs no host (no scorer, a success): done */
    ck_assert_int_eq(ac_pipeline_progress(p, &done, &out), AC_OK);
    ck_assert(done == 1 && out == 0);
    double phi[N_AGENTS];
    ck_assert_int_eq(ac_pipeline_credits(p, phi, NULL, N_AGENTS), AC_OK);
    ck_assert_int_eq(ac_pipeline_tell(p, 1, t, a, NULL), AC_E_STATE);
    /* a new start: the old tickets are stale, a cancel ends the run */
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_SEED, 3),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_start(p, ep, 0), AC_OK);
    ck_assert_int_eq(ac_pipeline_credits(p, phi, NULL, N_AGENTS), AC_E_STATE);
    ck_assert_int_eq(ac_pipeline_ask(p, 1, w, c, 1, &n), AC_OK);
    ck_assert_int_eq(ac_pipeline_tell(p, 1, t, a, NULL), AC_E_INVALID_ARG);
    ck_assert(strstr(ac_pipeline_last_error(p), "stale") != NULL);
    ac_pipeline_cancel(p);
    ck_assert_int_eq(ac_pipeline_ask(p, 1, w, c, 1, &n), AC_E_CANCELLED);
    ck_assert(strstr(ac_pipeline_last_error(p), "credit: ") != NULL);
    ck_assert_int_eq(ac_pipeline_ask(p, 1, w, c, 1, &n), AC_E_CANCELLED);
    ck_assert_int_eq(ac_pipeline_tell(p, 1, &w[0].ticket, a, NULL),
                     AC_E_CANCELLED);
    ck_assert_int_eq(ac_pipeline_progress(p, &done, NULL), AC_OK);
    ck_assert_int_eq(done, 1);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* The pair stage's rules: a REPAIR ticket answered only by
 * ac_pipeline_tell_repair, within its max_count; a check's answer in
 * [0, 1]; a check handed out over several asks when the host has little
 * room; a verifier answer out of range refused, nothing taken. */
START_TEST(asktell_pair_rules)
{
    ac_episode *ep = team_episode(0.0);
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_LOCALIZER_PARAM_MONOTONE, 0),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_start(p, ep, AC_SERVES_VERIFIER |
                                                  AC_SERVES_REPAIR), AC_OK);
    ac_work w[16];
    uint64_t c[16], t[16];
    double a[16];
    uint32_t n = 0, checks = 0, repairs = 0;
    int refused = 0;
    for (;;) {
        ck_assert_int_eq(ac_pipeline_ask(p, 1, w, c, 1, &n), AC_OK);
        if (n == 0)
            break;
        t[0] = w[0].ticket;
        switch (w[0].kind) {
        case AC_WORK_KIND_VALUE:
            a[0] = team_value(c[0]);
            break;
        case AC_WORK_KIND_PREFIX:
            if (!refused) {
                a[0] = 1.5;
                ck_assert_int_eq(ac_pipeline_tell(p, 1, t, a, NULL),
                                 AC_E_INVALID_ARG);
                ck_assert(strstr(ac_pipeline_last_error(p), "first error")
                          != NULL);
                refused = 1;
            }
            a[0] = SCRIPT[w[0].message].on_track;
            break;
        case AC_WORK_KIND_REPAIR: {
            uint64_t ids[3] = {10, 11, 12};
            ck_assert_uint_eq(w[0].message, 4); /* the critic's cast */
            a[0] = 0.5;
            ck_assert_int_eq(ac_pipeline_tell(p, 1, t, a, NULL),
                             AC_E_INVALID_ARG);
            ck_assert_int_eq(ac_pipeline_tell_repair(p, t[0], ids,
                                                     w[0].max_count + 1),
                             AC_E_INVALID_ARG);
            ck_assert_int_eq(ac_pipeline_tell_repair(p, t[0], ids, 3),
                             AC_OK);
            repairs++;
            continue;
        }
        default:
            ck_assert_int_eq(w[0].kind, AC_WORK_KIND_CHECK);
            ck_assert_uint_eq(w[0].message, 4);
            a[0] = -0.1;
            ck_assert_int_eq(ac_pipeline_tell(p, 1, t, a, NULL),
                             AC_E_INVALID_ARG);
            a[0] = w[0].candidate == 11 ? 0.9 : 0.1;
            checks++;
            break;
        }
        ck_assert_int_eq(ac_pipeline_tell(p, 1, t, a, NULL), AC_OK);
    }
    ck_assert(refused && repairs == 1 && checks == 3);
    ac_preference_pair pair = {.struct_size = sizeof pair};
    ck_assert_int_eq(ac_pipeline_pair(p, &pair), AC_OK);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_REPAIR);
    ck_assert_uint_eq(pair.chosen, 11);
    ck_assert_uint_eq(pair.step, 4);
    ck_assert_uint_eq(pair.candidates, 3);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* The parameters and callbacks are kept without memory: no setter
 * allocates. Every allocation of an ask/tell drive fails in turn: the call
 * that meets it returns AC_E_NO_MEMORY with a message and the run has
 * failed (done, no result, every later ask says so); the same handle then
 * drives the clean run again, bit for bit; no block outlives it. */
START_TEST(allocation_failure_asktell)
{
    ac_episode *ep = team_episode(0.0);
    ck_assert_int_eq(ac_episode_set_reference(ep, 0.35), AC_OK);
    ac_pipeline *clean = NULL;
    ck_assert_int_eq(ac_pipeline_create(&clean, NULL), AC_OK);
    setup_pipeline(clean);
    host h0 = {5, 1, 1, {0}, 0, 0};
    char *want = asktell_text(clean, ep, &h0);
    long failures = 0;
    for (long k = 0;; k++) {
        failing f = {-1, 0, 0};
        ac_allocator a = {sizeof a, 0, failing_alloc, failing_free, &f};
        ac_pipeline *p = NULL;
        ck_assert_int_eq(ac_pipeline_create(&p, &a), AC_OK);
        f.k = f.calls; /* from here on, any allocation fails */
        setup_pipeline(p);
        ck_assert_int_eq(ac_pipeline_set_f64(p, AC_REFINER_PARAM_BOUND, 0.9),
                         AC_OK);
        ck_assert_int_eq(ac_pipeline_set_f64(p, AC_REFINER_PARAM_BOUND, 1.0),
                         AC_OK);
        f.k = f.calls + k;
        host h = {5, 1, 1, {0}, 0, 0};
        int rc = AC_OK, ran = 0;
        char *got = asktell_try(p, ep, &h, &rc, &ran);
        if (rc == AC_OK) {
            ck_assert_str_eq(got, want);
            free(got);
            ac_pipeline_free(p);
            ck_assert_int_eq(f.live, 0);
            break;
        }
        ck_assert_msg(rc == AC_E_NO_MEMORY, "k %ld: status %d: %s", k, rc,
                      ac_pipeline_last_error(p));
        int32_t done = 0;
        uint64_t out = 1;
        ck_assert_int_eq(ac_pipeline_progress(p, &done, &out), AC_OK);
        ck_assert(done == 1 && out == 0);
        /* the run failed, or (ran) the writer did and the result stays */
        double phi[N_AGENTS];
        ck_assert_int_eq(ac_pipeline_credits(p, phi, NULL, N_AGENTS),
                         ran ? AC_OK : AC_E_STATE);
        ck_assert(ran || ac_pipeline_last_error(p)[0] != '\0');
        ac_work w;
        uint64_t c = 0;
        uint32_t n = 0;
        ck_assert_int_eq(ac_pipeline_ask(p, 1, &w, &c, 1, &n),
                         ran ? AC_OK : AC_E_NO_MEMORY);
        f.k = -1;
        host h2 = {5, 1, 1, {0}, 0, 0};
        got = asktell_text(p, ep, &h2);
        ck_assert_str_eq(got, want);
        free(got);
        ac_pipeline_free(p);
        ck_assert_int_eq(f.live, 0);
        failures++;
    }
    ck_assert_int_gt(failures, 20);
    fprintf(stderr, "allocation failure: %ld failures injected into "
            "ask/tell runs\n", failures);
    free(want);
    ac_pipeline_free(clean);
    ac_episode_free(ep);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = th_tcase(s, "episode");
    tcase_add_test(tc, episode_reads_back);
    tcase_add_test(tc, episode_refuses_what_is_malformed);
    tc = th_tcase(s, "pipeline");
    tcase_add_test(tc, success_with_scorer);
    tcase_add_test(tc, credits_add_up_to_outcome_minus_reference);
    tcase_add_test(tc, failure_localized_by_annotation);
    tcase_add_test(tc, one_call_equals_hand_wired);
    tcase_add_test(tc, first_error_is_an_agents_message);
    tcase_add_test(tc, messages_without_text_are_no_repeats);
    tcase_add_test(tc, parameters_pass_through);
    tcase_add_test(tc, episodes_the_pipeline_refuses);
    tcase_add_test(tc, reentry_from_callbacks);
    tc = th_tcase(s, "ask/tell");
    tcase_add_test(tc, asktell_equals_one_call);
    tcase_add_test(tc, asktell_protocol);
    tcase_add_test(tc, asktell_pair_rules);
    tcase_add_test(tc, repair_gets_room_for_max_count);
    tc = th_tcase(s, "allocation failure");
    tcase_add_test(tc, allocation_failure);
    tcase_add_test(tc, allocation_failure_asktell);
    tc = th_tcase(s, "json");
    tcase_add_test(tc, episode_json_round_trip);
    tcase_add_test(tc, episode_json_errors);
    tcase_add_test(tc, episode_json_unknown_keys);
    tcase_add_loop_test(tc, signals_json_large_candidate_ids, 0, 4);
    tcase_add_test(tc, episode_json_limits);
    tcase_add_test(tc, signals_json);
    tcase_add_test(tc, format_examples);
    return th_run_suite(s);
}
