/* SPDX-License-Identifier: MIT
 *
 * The signals of one episode as data (ac_signals): a snapshot of a run
 * writes what the pipeline writes, byte for byte, and outlives it; a
 * signals line reads back to the same text and the same figures; a line
 * that is malformed or whose figures do not hold together is refused with
 * a message naming the field; the join check says what differs.
 */
#include <jansson.h>

#include "helpers.h"

/* ===================================================================== */
/* A run to take signals from                                            */
/* ===================================================================== */

/* Three agents and a tool; the critic's message 3 is the first error,
 * its message 6 corrects it. */
enum { PLANNER, CODER, CRITIC, TOOL, N_PART };
static const uint32_t FROM[] = {PLANNER, CODER, TOOL, CRITIC,
                                CODER,   TOOL,  CRITIC};
static const int ON_TRACK[] = {1, 1, 1, 0, 0, 0, 1};
#define N_MSG 7u
#define N_AGENTS 3u

static ac_episode *team(double outcome, const char *id)
{
    static const char *const NAMES[N_PART] = {"planner", "coder", "critic",
                                              "pytest"};
    ac_episode *ep = NULL;
    ck_assert_int_eq(ac_episode_create(&ep, NULL), AC_OK);
    for (uint32_t i = 0; i < N_PART; i++)
        ck_assert_int_eq(ac_episode_add_participant(
                             ep, NAMES[i],
                             i == TOOL ? AC_PARTICIPANT_KIND_TOOL
                                       : AC_PARTICIPANT_KIND_AGENT,
                             NULL),
                         AC_OK);
    for (uint32_t t = 0; t < N_MSG; t++)
        ck_assert_int_eq(ac_episode_add_message(ep, FROM[t], NULL, "m",
                                                NULL),
                         AC_OK);
    ck_assert_int_eq(ac_episode_set_outcome(ep, outcome), AC_OK);
    if (id != NULL)
        ck_assert_int_eq(ac_episode_set_id(ep, id), AC_OK);
    return ep;
}

static int oracle(void *user, const uint64_t *coalitions, uint32_t words,
                  uint32_t count, double *values, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++) {
        uint64_t s = coalitions[(size_t)k * words];
        values[k] = 0.1 * (double)(s & 1u) + 0.3 * (double)(s >> 1 & 1u) +
                    0.05 * (double)(s >> 2 & 1u);
    }
    return 0;
}

static int verifier(void *user, const uint32_t *prefixes, uint32_t count,
                    double *p, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        p[k] = ON_TRACK[prefixes[k]];
    return 0;
}

static int scorer(void *user, const uint32_t *messages, uint32_t count,
                  double *labels, int32_t *status)
{
    (void)user;
    (void)status;
    for (uint32_t k = 0; k < count; k++)
        labels[k] = messages[k] % 2 ? 0.5 : -0.25;
    return 0;
}

/* Candidates base + 10 and base + 11; the second is verified. */
static int propose(void *user, uint32_t step, uint32_t max_count,
                   uint64_t *ids, uint32_t *count)
{
    (void)step;
    uint64_t base = *(const uint64_t *)user;
    *count = max_count < 2 ? max_count : 2;
    for (uint32_t k = 0; k < *count; k++)
        ids[k] = base + 10 + k;
    return 0;
}

static int judge(void *user, uint32_t step, const uint64_t *ids,
                 uint32_t count, double *p, int32_t *status)
{
    (void)step;
    (void)status;
    uint64_t base = *(const uint64_t *)user;
    for (uint32_t k = 0; k < count; k++)
        p[k] = ids[k] == base + 11 ? 0.9 : 0.1;
    return 0;
}

static uint64_t zero_base = 0;

static ac_pipeline *pipeline(const ac_allocator *alloc, uint64_t *base)
{
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, alloc), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_LOCALIZER_PARAM_MONOTONE, 0),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_set_oracle(p, oracle, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_verifier(p, verifier, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_scorer(p, scorer, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_repair(p, propose, judge,
                                            base != NULL ? base : &zero_base),
                     AC_OK);
    return p;
}

/* The text of the pipeline's run, or of the signals. */
static char *pipeline_text(const ac_pipeline *p, const ac_episode *ep)
{
    size_t len = 0;
    ck_assert_int_eq(ac_pipeline_write_json(p, ep, NULL, 0, &len), AC_OK);
    char *buf = malloc(len + 1);
    ck_assert_int_eq(ac_pipeline_write_json(p, ep, buf, len + 1, &len),
                     AC_OK);
    return buf;
}

static char *signals_text(const ac_signals *s)
{
    size_t len = 0;
    char small[4] = "xyz";
    ck_assert_int_eq(ac_signals_write_json(s, small, sizeof small, &len),
                     AC_OK);
    ck_assert_str_eq(small, ""); /* too small: nothing partial */
    char *buf = malloc(len + 1);
    size_t again = 0;
    ck_assert_int_eq(ac_signals_write_json(s, buf, len + 1, &again), AC_OK);
    ck_assert_uint_eq(again, len);
    ck_assert_uint_eq(strlen(buf), len);
    return buf;
}

/* Loads text, expecting `want` and a message that says `says`; *out is
 * untouched on failure. */
static ac_signals *load(const char *text, uint32_t flags, int want,
                        const char *says, char *warn, size_t warn_cap)
{
    ac_signals *s = (ac_signals *)&want; /* a sentinel */
    char err[512] = "unset";
    int rc = ac_signals_load_json(&s, text, strlen(text), NULL, NULL, flags,
                                  err, sizeof err, warn, warn_cap);
    ck_assert_msg(rc == want, "%s: status %d (%s), want %d", text, rc, err,
                  want);
    ck_assert_msg(says == NULL || strstr(err, says) != NULL,
                  "the message \"%s\" does not say \"%s\"", err, says);
    if (rc != AC_OK) {
        ck_assert_ptr_eq(s, (ac_signals *)&want);
        return NULL;
    }
    ck_assert_str_eq(err, "");
    return s;
}

/* Every figure of the signals equals the pipeline's, bit for bit. */
static void assert_same_figures(const ac_signals *s, const ac_pipeline *p)
{
    double a[N_MSG], b[N_MSG], c[N_MSG], d[N_MSG];
    uint32_t u[N_MSG], v[N_MSG];
    uint32_t n = 0, T = 0;
    ck_assert_int_eq(ac_signals_counts(s, &n, &T), AC_OK);
    ck_assert_uint_eq(n, N_AGENTS);
    ck_assert_uint_eq(T, N_MSG);
    ck_assert_int_eq(ac_signals_credits(s, a, b, N_AGENTS), AC_OK);
    ck_assert_int_eq(ac_pipeline_credits(p, c, d, N_AGENTS), AC_OK);
    ck_assert(memcmp(a, c, N_AGENTS * sizeof *a) == 0);
    ck_assert(memcmp(b, d, N_AGENTS * sizeof *b) == 0);
    ck_assert_int_eq(ac_signals_total(s, &a[0], &a[1]), AC_OK);
    ck_assert_int_eq(ac_pipeline_total(p, &c[0], &c[1]), AC_OK);
    ck_assert(a[0] == c[0] && a[1] == c[1]);
    ck_assert_int_eq(ac_signals_rewards(s, a, N_MSG), AC_OK);
    ck_assert_int_eq(ac_pipeline_rewards(p, c, N_MSG), AC_OK);
    ck_assert(memcmp(a, c, sizeof a) == 0);
    ck_assert_int_eq(ac_signals_labels(s, a, N_MSG), AC_OK);
    ck_assert_int_eq(ac_pipeline_labels(p, c, N_MSG), AC_OK);
    for (uint32_t t = 0; t < N_MSG; t++)
        ck_assert(isnan(a[t]) ? isnan(c[t]) : a[t] == c[t]);
    ck_assert_int_eq(ac_signals_message_flags(s, u, N_MSG), AC_OK);
    ck_assert_int_eq(ac_pipeline_message_flags(p, v, N_MSG), AC_OK);
    ck_assert(memcmp(u, v, sizeof u) == 0);
    ck_assert_int_eq(ac_signals_step_flags(s, u, N_MSG), AC_OK);
    ck_assert_int_eq(ac_pipeline_step_flags(p, v, N_MSG), AC_OK);
    ck_assert(memcmp(u, v, sizeof u) == 0);
    ck_assert_int_eq(ac_signals_agent_flags(s, u, N_AGENTS), AC_OK);
    ck_assert_int_eq(ac_pipeline_agent_flags(p, v, N_AGENTS), AC_OK);
    ck_assert(memcmp(u, v, N_AGENTS * sizeof *u) == 0);
    int64_t step[2];
    uint32_t agent[2];
    double prob[2];
    ck_assert_int_eq(ac_signals_first_error(s, &step[0], &agent[0],
                                            &prob[0]), AC_OK);
    ck_assert_int_eq(ac_pipeline_first_error(p, &step[1], &agent[1],
                                             &prob[1]), AC_OK);
    ck_assert(step[0] == step[1] && agent[0] == agent[1] &&
              prob[0] == prob[1]);
    ac_preference_pair x, y;
    x.struct_size = y.struct_size = sizeof x;
    ck_assert_int_eq(ac_signals_pair(s, &x), AC_OK);
    ck_assert_int_eq(ac_pipeline_pair(p, &y), AC_OK);
    ck_assert_int_eq(x.kind, y.kind);
    ck_assert_int_eq(x.reason, y.reason);
    if (x.kind != AC_PAIR_KIND_NONE) {
        ck_assert(x.agent == y.agent && x.step == y.step &&
                  x.prompt_end == y.prompt_end && x.chosen == y.chosen &&
                  x.candidates == y.candidates && x.verified == y.verified);
        ck_assert(x.confidence == y.confidence &&
                  x.localization == y.localization && x.weight == y.weight);
    }
    for (int32_t k = AC_PIPELINE_AUDIT_SUCCESS;
         k <= AC_PIPELINE_AUDIT_RELAXED_AGENTS; k++) {
        int64_t g = -5, h = -6;
        ck_assert_int_eq(ac_signals_audit(s, k, &g), AC_OK);
        ck_assert_int_eq(ac_pipeline_audit(p, k, &h), AC_OK);
        ck_assert_int_eq(g, h);
    }
}

/* ===================================================================== */
/* Snapshots and round trips                                             */
/* ===================================================================== */

/* A failure (localized, a repair pair) and a success (scorer labels, no
 * pair): the snapshot writes the pipeline's text, its figures are the
 * pipeline's, and it outlives the pipeline; the text loads (strict, no
 * warning) to signals that write it again. */
START_TEST(snapshot_and_round_trip)
{
    double outcome = _i == 0 ? 0.0 : 1.0;
    ac_episode *ep = team(outcome, _i == 0 ? "ep-1" : NULL);
    ac_pipeline *p = pipeline(NULL, NULL);
    ac_signals *s = NULL;
    ck_assert_int_eq(ac_pipeline_signals(p, ep, NULL, &s), AC_E_STATE);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    ck_assert_int_eq(ac_pipeline_signals(p, ep, NULL, &s), AC_OK);
    assert_same_figures(s, p);
    char *want = pipeline_text(p, ep);
    char *got = signals_text(s);
    ck_assert_str_eq(got, want);
    ac_pipeline_free(p); /* the snapshot is the signals' own */
    free(got);
    got = signals_text(s);
    ck_assert_str_eq(got, want);
    char warn[256] = "unset";
    ac_signals *back = load(want, AC_JSON_STRICT, AC_OK, NULL, warn,
                            sizeof warn);
    ck_assert_str_eq(warn, "");
    free(got);
    got = signals_text(back);
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(ac_signals_matches(back, ep, NULL, 0), AC_OK);
    /* The names and the episode's figures. */
    ck_assert_str_eq(ac_signals_agent_name(back, CRITIC), "critic");
    ck_assert_ptr_null(ac_signals_agent_name(back, N_AGENTS));
    if (_i == 0)
        ck_assert_str_eq(ac_signals_id(back), "ep-1");
    else
        ck_assert_ptr_null(ac_signals_id(back));
    const char *name = NULL;
    uint32_t agent = 0;
    ck_assert_int_eq(ac_signals_message_from(back, 2, &name, &agent), AC_OK);
    ck_assert_str_eq(name, "pytest");
    ck_assert_uint_eq(agent, UINT32_MAX);
    ck_assert_int_eq(ac_signals_message_from(back, 3, &name, &agent), AC_OK);
    ck_assert_str_eq(name, "critic");
    ck_assert_uint_eq(agent, CRITIC);
    ck_assert_int_eq(ac_signals_message_from(back, N_MSG, &name, &agent),
                     AC_E_INVALID_ARG);
    double o = -1, th = -1;
    ck_assert_int_eq(ac_signals_outcome(back, &o, &th), AC_OK);
    ck_assert(o == outcome && th == 0.5);
    ac_preference_pair pair;
    pair.struct_size = sizeof pair;
    ck_assert_int_eq(ac_signals_pair(back, &pair), AC_OK);
    ck_assert_int_eq(pair.kind, _i == 0 ? AC_PAIR_KIND_REPAIR
                                        : AC_PAIR_KIND_NONE);
    free(got);
    free(want);
    ac_signals_free(back);
    ac_signals_free(s);
    ac_episode_free(ep);
}
END_TEST

/* The getters refuse what the pipeline's refuse. */
START_TEST(getters_refuse_wrong_sizes)
{
    ac_episode *ep = team(0.0, NULL);
    ac_pipeline *p = pipeline(NULL, NULL);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    ac_signals *s = NULL;
    ck_assert_int_eq(ac_pipeline_signals(p, ep, NULL, &s), AC_OK);
    double d[N_MSG + 1];
    uint32_t u[N_MSG + 1];
    int64_t v;
    ck_assert_int_eq(ac_signals_credits(s, d, d, N_AGENTS + 1),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_credits(s, NULL, NULL, N_AGENTS), AC_OK);
    ck_assert_int_eq(ac_signals_rewards(s, d, N_MSG - 1), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_rewards(s, NULL, N_MSG), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_labels(s, d, N_MSG + 1), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_message_flags(s, u, 0), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_step_flags(s, u, N_AGENTS),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_agent_flags(s, u, N_MSG), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_audit(s, 0, &v), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_audit(s, AC_PIPELINE_AUDIT_RELAXED_AGENTS + 1,
                                      &v), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_audit(s, AC_PIPELINE_AUDIT_METHOD, NULL),
                     AC_E_INVALID_ARG);
    ac_preference_pair pair;
    pair.struct_size = sizeof pair - 1;
    ck_assert_int_eq(ac_signals_pair(s, &pair), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_pair(s, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_counts(NULL, NULL, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_total(NULL, d, d), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_first_error(NULL, &v, u, d),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_outcome(NULL, d, d), AC_E_INVALID_ARG);
    ck_assert_ptr_null(ac_signals_id(NULL));
    ck_assert_ptr_null(ac_signals_agent_name(NULL, 0));
    size_t len = 0;
    ck_assert_int_eq(ac_signals_write_json(s, NULL, 0, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_write_json(s, NULL, 5, &len),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_write_json(NULL, NULL, 0, &len),
                     AC_E_INVALID_ARG);
    ac_signals *other = NULL;
    ck_assert_int_eq(ac_pipeline_signals(NULL, ep, NULL, &other),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_pipeline_signals(p, NULL, NULL, &other),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_pipeline_signals(p, ep, NULL, NULL),
                     AC_E_INVALID_ARG);
    ac_allocator bad = {sizeof bad - 1, 0, NULL, NULL, NULL};
    ck_assert_int_eq(ac_pipeline_signals(p, ep, &bad, &other),
                     AC_E_INVALID_ARG);
    /* An episode of another size than the run's. */
    ac_episode *bigger = team(0.0, NULL);
    ck_assert_int_eq(ac_episode_add_message(bigger, PLANNER, NULL, NULL,
                                            NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_signals(p, bigger, NULL, &other),
                     AC_E_INVALID_ARG);
    ck_assert_ptr_null(other);
    ac_signals_free(NULL);
    ac_episode_free(bigger);
    ac_signals_free(s);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* docs/format.md's signals example loads under AC_JSON_STRICT and writes
 * back as the same JSON value. */
START_TEST(format_example_loads)
{
    FILE *f = fopen(AC_TEST_DATA_DIR "/../../docs/format.md", "rb");
    ck_assert_msg(f != NULL, "cannot open docs/format.md");
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *at = strstr(text, "<!-- signals example -->");
    ck_assert(at != NULL);
    char *start = strstr(at, "```json\n");
    ck_assert(start != NULL);
    start += strlen("```json\n");
    char *end = strstr(start, "\n```");
    ck_assert(end != NULL);
    *end = '\0';
    ac_signals *s = load(start, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
    char *out = signals_text(s);
    json_error_t e1, e2;
    json_t *want = json_loads(start, 0, &e1);
    json_t *got = json_loads(out, 0, &e2);
    ck_assert(want != NULL && got != NULL);
    ck_assert_msg(json_equal(want, got), "%s", out);
    uint32_t agent = 0;
    int64_t step = 0;
    ck_assert_int_eq(ac_signals_first_error(s, &step, &agent, NULL), AC_OK);
    ck_assert_int_eq(step, 4);
    ck_assert_str_eq(ac_signals_agent_name(s, agent), "critic");
    json_decref(want);
    json_decref(got);
    free(out);
    ac_signals_free(s);
}
END_TEST

/* A candidate id is the host's uint64: written past INT64_MAX as its
 * digits in a string, it reads back exactly; a string that is not such
 * an id is refused. */
START_TEST(large_candidate_ids)
{
    static const uint64_t BASES[] = {0, (uint64_t)INT64_MAX - 11,
                                     (uint64_t)INT64_MAX - 10,
                                     UINT64_MAX - 11};
    uint64_t base = BASES[_i];
    ac_episode *ep = team(0.0, NULL);
    ac_pipeline *p = pipeline(NULL, &base);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    char *text = pipeline_text(p, ep);
    ac_signals *s = load(text, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
    ac_preference_pair pair;
    pair.struct_size = sizeof pair;
    ck_assert_int_eq(ac_signals_pair(s, &pair), AC_OK);
    ck_assert_int_eq(pair.kind, AC_PAIR_KIND_REPAIR);
    ck_assert(pair.chosen == base + 11);
    char *again = signals_text(s);
    ck_assert_str_eq(again, text);
    free(again);
    ac_signals_free(s);
    ac_pipeline_free(p);
    ac_episode_free(ep);
    free(text);
}
END_TEST

/* ===================================================================== */
/* Refusals                                                              */
/* ===================================================================== */

/* The text of the failed team's signals, and one edit of it: the value
 * at a path ("pair/chosen", "messages/3/flags") replaced by the JSON
 * `value`, or removed when value is NULL. */
static char *base_text(void)
{
    ac_episode *ep = team(0.0, "ep-1");
    ac_pipeline *p = pipeline(NULL, NULL);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    char *text = pipeline_text(p, ep);
    ac_pipeline_free(p);
    ac_episode_free(ep);
    return text;
}

static char *edited(const char *text, const char *path, const char *value)
{
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    ck_assert(root != NULL);
    json_t *at = root;
    char key[64];
    const char *p = path;
    for (;;) {
        size_t k = strcspn(p, "/");
        ck_assert_uint_lt(k, sizeof key);
        memcpy(key, p, k);
        key[k] = '\0';
        if (p[k] == '\0')
            break;
        at = json_is_array(at) ? json_array_get(at, strtoul(key, NULL, 10))
                               : json_object_get(at, key);
        ck_assert_msg(at != NULL, "no %s in the signals", path);
        p += k + 1;
    }
    json_t *v = value != NULL ? json_loads(value, JSON_DECODE_ANY, &jerr)
                              : NULL;
    ck_assert_msg(value == NULL || v != NULL, "%s: %s", value, jerr.text);
    if (json_is_array(at))
        ck_assert_int_eq(json_array_set_new(at, strtoul(key, NULL, 10), v),
                         0);
    else if (v != NULL)
        ck_assert_int_eq(json_object_set_new(at, key, v), 0);
    else
        ck_assert_int_eq(json_object_del(at, key), 0);
    char *out = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(root);
    return out;
}

static const struct {
    const char *path, *value; /* value NULL: the key removed */
    int want;
    const char *says;
} EDITS[] = {
    {"format", "\"agentcredit.episode/1\"", AC_E_PARSE,
     "format: \"agentcredit.signals/1\" is needed"},
    {"id", "17", AC_E_PARSE, "id: a string is needed"},
    {"outcome", NULL, AC_E_PARSE, "outcome: a number is needed"},
    {"total", "0.5", AC_E_PARSE, "total: 0.5 is not outcome - reference"},
    {"agents", "{}", AC_E_PARSE, "agents: an array is needed"},
    {"messages", "null", AC_E_PARSE, "messages: an array is needed"},
    {"agents/0", "[]", AC_E_PARSE, "agents[0]: an object is needed"},
    {"agents/0/name", NULL, AC_E_PARSE, "agents[0].name: a string is needed"},
    {"agents/1/name", "\"planner\"", AC_E_PARSE,
     "agents[1]: \"planner\" twice"},
    {"agents/0/credit", "\"x\"", AC_E_PARSE,
     "agents[0].credit: a number is needed"},
    {"agents/0/credit", "0.123", AC_E_PARSE, "agents: the credits add up to"},
    {"agents/0/se", "-1", AC_E_PARSE, "agents[0].se: -1 is out of range"},
    {"agents/0/se", "true", AC_E_PARSE,
     "agents[0].se: a number or null is needed"},
    {"agents/0/flags", "[\"sideways\"]", AC_E_PARSE,
     "agents[0].flags[0]: unknown \"sideways\" (\"relaxed_sign\", "
     "\"relaxed_bound\")"},
    {"agents/0/flags", "[\"relaxed_sign\",\"relaxed_sign\"]", AC_E_PARSE,
     "agents[0].flags[1]: \"relaxed_sign\" twice"},
    {"agents/0/flags", "\"relaxed_sign\"", AC_E_PARSE,
     "agents[0].flags: an array of flag names is needed"},
    {"messages/2/from", "7", AC_E_PARSE, "messages[2].from: a string is "
     "needed"},
    {"messages/2/flags", "[]", AC_E_PARSE,
     "messages[2]: \"pytest\" is no agent: the message needs the flag "
     "non_player"},
    {"messages/1/flags", "[\"non_player\"]", AC_E_PARSE,
     "messages[1]: \"coder\" is an agent, not a non_player"},
    {"messages/2/reward", "0.5", AC_E_PARSE,
     "messages[2]: a non-player's message has reward 0"},
    {"messages/2/label", "0.5", AC_E_PARSE,
     "messages[2]: a non-player's message has reward 0, label null"},
    {"messages/2/step_flags", "[\"corrective\"]", AC_E_PARSE,
     "messages[2]: a non-player's message"},
    {"messages/1/label", "null", AC_E_PARSE,
     "messages[1]: an agent's message needs a label"},
    {"messages/1/label", "1.5", AC_E_PARSE,
     "messages[1].label: 1.5 is out of range [-1, 1]"},
    {"messages/1/step_flags", "[\"bogus\"]", AC_E_PARSE,
     "messages[1].step_flags[0]: unknown \"bogus\""},
    {"messages/1/reward", "null", AC_E_PARSE,
     "messages[1].reward: a number is needed"},
    {"first_error", "7", AC_E_PARSE, "first_error: an object is needed"},
    {"first_error/message", "7", AC_E_PARSE,
     "first_error.message: 7 is out of range [0, 7)"},
    {"first_error/message", "1.0", AC_E_PARSE,
     "first_error.message: an integer is needed"},
    {"first_error/agent", "\"coder\"", AC_E_PARSE,
     "first_error.agent: messages[3] is not \"coder\"'s"},
    {"first_error/agent", "\"pytest\"", AC_E_PARSE,
     "first_error.agent: \"pytest\" is not an agent"},
    {"first_error/agent", "\"judge\"", AC_E_PARSE,
     "first_error.agent: no agent \"judge\""},
    {"first_error/agent", "3", AC_E_PARSE,
     "first_error.agent: an agent's name or null is needed"},
    {"first_error/probability", "2", AC_E_PARSE,
     "first_error.probability: 2 is out of range [0, 1]"},
    {"pair", "[]", AC_E_PARSE, "pair: an object is needed"},
    {"pair/kind", "\"great\"", AC_E_PARSE,
     "pair.kind: unknown \"great\" (\"none\", \"repair\", \"corrective\")"},
    {"pair/step", "7", AC_E_PARSE, "pair.step: 7 is out of range [0, 7)"},
    {"pair/prompt_end", "8", AC_E_PARSE,
     "pair.prompt_end: 8 is out of range [0, 8)"},
    {"pair/chosen", "\"5\"", AC_E_PARSE,
     "pair.chosen: \"5\" is a string: an id up to 2^63 - 1 is a JSON "
     "integer"},
    {"pair/chosen", "\"18446744073709551616\"", AC_E_PARSE,
     "pair.chosen: \"18446744073709551616\" is no candidate id"},
    {"pair/chosen", "\"09223372036854775808\"", AC_E_PARSE,
     "is no candidate id"},
    {"pair/chosen", "\"9223372036854775808x\"", AC_E_PARSE,
     "is no candidate id"},
    {"pair/chosen", "-1", AC_E_PARSE, "pair.chosen: -1 is out of range"},
    {"pair/verified", "3", AC_E_PARSE,
     "pair.verified: 3 is out of range [0, 3)"},
    {"pair/candidates", "4294967296", AC_E_PARSE,
     "pair.candidates: 4294967296 is out of range"},
    {"pair/weight", "1.5", AC_E_PARSE, "pair.weight: 1.5 is out of range"},
    {"pair/confidence", NULL, AC_E_PARSE,
     "pair.confidence: a number is needed"},
    {"pair/agent", "\"judge\"", AC_E_PARSE, "pair.agent: no agent \"judge\""},
    {"audit", "1", AC_E_PARSE, "audit: an object is needed"},
    {"audit/method", "\"guess\"", AC_E_PARSE,
     "audit.method: unknown \"guess\" (\"auto\", \"exact\""},
    {"audit/labels", "3", AC_E_PARSE, "audit.labels: a string is needed"},
    {"audit/success", "1", AC_E_PARSE,
     "audit.success: true or false is needed"},
    {"audit/success", "true", AC_E_PARSE,
     "audit.success: true, but the outcome 0 is below the threshold 0.5"},
    {"audit/oracle_evaluations", "-1", AC_E_PARSE,
     "audit.oracle_evaluations: -1 is out of range"},
    {"audit/relaxed_agents", NULL, AC_E_PARSE,
     "audit.relaxed_agents: an integer is needed"},
};

START_TEST(refuses_what_is_malformed)
{
    char *base = base_text();
    char *text = edited(base, EDITS[_i].path, EDITS[_i].value);
    load(text, 0, EDITS[_i].want, EDITS[_i].says, NULL, 0);
    free(text);
    free(base);
}
END_TEST

/* Edits that keep the signals whole: an infinite standard error (null),
 * a first error or a pair's agent unknown (null), a pair of no kind. */
START_TEST(accepts_the_formats_nulls)
{
    static const struct {
        const char *path, *value;
    } OK_EDITS[] = {
        {"agents/0/se", "null"},
        {"first_error/agent", "null"},
        {"first_error", "null"},
        {"pair/agent", "null"},
        {"id", NULL},
        {"format", NULL},
        {"pair", "{\"kind\":\"none\",\"reason\":\"no_budget\"}"},
    };
    char *base = base_text();
    for (size_t k = 0; k < sizeof OK_EDITS / sizeof OK_EDITS[0]; k++) {
        char *text = edited(base, OK_EDITS[k].path, OK_EDITS[k].value);
        ac_signals *s = load(text, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
        char *out = signals_text(s);
        ac_signals *again = load(out, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
        char *out2 = signals_text(again);
        ck_assert_str_eq(out, out2);
        if (k == 0) {
            double se[N_AGENTS];
            ck_assert_int_eq(ac_signals_credits(s, NULL, se, N_AGENTS),
                             AC_OK);
            ck_assert(isinf(se[0]) && se[0] > 0);
        }
        free(out);
        free(out2);
        free(text);
        ac_signals_free(again);
        ac_signals_free(s);
    }
    free(base);
}
END_TEST

START_TEST(refuses_bad_text_and_arguments)
{
    load("{\"format\":", 0, AC_E_PARSE, "line 1, column", NULL, 0);
    load("[]", 0, AC_E_PARSE, "signals must be a JSON object", NULL, 0);
    load("{\"outcome\": NaN}", 0, AC_E_PARSE, "line 1", NULL, 0);
    load("{\"outcome\": 1e999}", 0, AC_E_PARSE, "line 1", NULL, 0);
    load("{\"outcome\": 1, \"outcome\": 2}", 0, AC_E_PARSE, "duplicate",
         NULL, 0);
    load("{\"id\":\"a\x01\"}", 0, AC_E_PARSE, "0x01, which no JSON text "
         "holds", NULL, 0);
    char err[64] = "unset";
    ac_signals *s = NULL;
    ck_assert_int_eq(ac_signals_load_json(NULL, "{}", 2, NULL, NULL, 0, err,
                                          sizeof err, NULL, 0),
                     AC_E_INVALID_ARG);
    ck_assert(strstr(err, "must not be NULL") != NULL);
    ck_assert_int_eq(ac_signals_load_json(&s, NULL, 2, NULL, NULL, 0, NULL,
                                          0, NULL, 0), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_load_json(&s, "{}", 2, NULL, NULL, 2, NULL,
                                          0, NULL, 0), AC_E_INVALID_ARG);
    ac_allocator bad = {sizeof bad, 1, NULL, NULL, NULL};
    ck_assert_int_eq(ac_signals_load_json(&s, "{}", 2, &bad, NULL, 0, err,
                                          sizeof err, NULL, 0),
                     AC_E_INVALID_ARG);
    ck_assert_str_eq(err, "malformed ac_allocator");
    ac_json_limits lim;
    ac_json_limits_default(&lim);
    lim.reserved = 1;
    ck_assert_int_eq(ac_signals_load_json(&s, "{}", 2, NULL, &lim, 0, err,
                                          sizeof err, NULL, 0),
                     AC_E_INVALID_ARG);
    ck_assert(strstr(err, "malformed ac_json_limits") != NULL);
    ck_assert_ptr_null(s);
}
END_TEST

/* Unknown keys: warnings naming each, or under AC_JSON_STRICT the first
 * an error; a failed load leaves no warning behind. */
START_TEST(unknown_keys)
{
    char *base = base_text();
    char *a = edited(base, "agents/1/colour", "\"red\"");
    char *b = edited(a, "extra", "1");
    char *c = edited(b, "pair/note", "null");
    char warn[512];
    ac_signals *s = load(c, 0, AC_OK, NULL, warn, sizeof warn);
    ck_assert_msg(strstr(warn, "agents[1].colour: unknown key, ignored") &&
                      strstr(warn, "signals.extra: unknown key, ignored") &&
                      strstr(warn, "pair.note: unknown key, ignored"),
                  "%s", warn);
    char *out = signals_text(s);
    ck_assert_str_eq(out, base); /* ignored: the same signals */
    load(c, AC_JSON_STRICT, AC_E_PARSE, "unknown key", warn, sizeof warn);
    load(a, AC_JSON_STRICT, AC_E_PARSE, "agents[1]: unknown key \"colour\"",
         NULL, 0);
    /* A pair of no kind takes a reason only. */
    char *d = edited(base, "pair", "{\"kind\":\"none\",\"reason\":"
                     "\"not_localized\",\"step\":3}");
    load(d, AC_JSON_STRICT, AC_E_PARSE, "pair: unknown key \"step\"", NULL,
         0);
    char *e = edited(d, "pair/reason", "\"tired\"");
    strcpy(warn, "unset");
    load(e, 0, AC_E_PARSE, "pair.reason: unknown \"tired\"", warn,
         sizeof warn);
    ck_assert_str_eq(warn, "");
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
    free(out);
    free(base);
    ac_signals_free(s);
}
END_TEST

START_TEST(limits)
{
    char *base = base_text();
    ac_json_limits lim;
    ac_json_limits_default(&lim);
    lim.max_bytes = strlen(base) - 1;
    ac_signals *s = NULL;
    char err[256];
    ck_assert_int_eq(ac_signals_load_json(&s, base, strlen(base), NULL, &lim,
                                          0, err, sizeof err, NULL, 0),
                     AC_E_TOO_LARGE);
    ck_assert(strstr(err, "max_bytes") != NULL);
    ac_json_limits_default(&lim);
    lim.max_memory = 4096;
    ck_assert_int_eq(ac_signals_load_json(&s, base, strlen(base), NULL, &lim,
                                          0, err, sizeof err, NULL, 0),
                     AC_E_TOO_LARGE);
    ck_assert(strstr(err, "max_memory") != NULL);
    ck_assert_ptr_null(s);
    lim.max_bytes = strlen(base);
    lim.max_memory = 0; /* the default */
    ck_assert_int_eq(ac_signals_load_json(&s, base, strlen(base), NULL, &lim,
                                          0, err, sizeof err, NULL, 0),
                     AC_OK);
    ac_signals_free(s);
    free(base);
}
END_TEST

/* ===================================================================== */
/* The join                                                              */
/* ===================================================================== */

START_TEST(matches_says_what_differs)
{
    ac_episode *ep = team(0.0, "ep-1");
    ac_pipeline *p = pipeline(NULL, NULL);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    ac_signals *s = NULL;
    ck_assert_int_eq(ac_pipeline_signals(p, ep, NULL, &s), AC_OK);
    char err[256] = "unset";
    ck_assert_int_eq(ac_signals_matches(s, ep, err, sizeof err), AC_OK);
    ck_assert_str_eq(err, "");
    static const struct {
        const char *id;
        double outcome;
        int change; /* 0 none, 1 a message more, 2 a sender, 3 a name */
        const char *says;
    } CASES[] = {
        {"ep-2", 0.0, 0, "id: \"ep-1\" in the signals, \"ep-2\" in the "
                         "episode"},
        {NULL, 0.0, 0, "id: \"ep-1\" in the signals, \"(none)\""},
        {"ep-1", 0.25, 0, "outcome: 0 in the signals, 0.25 in the episode"},
        {"ep-1", 0.0, 1, "the signals have 3 agents and 7 messages, the "
                         "episode 3 and 8"},
        {"ep-1", 0.0, 2, "messages[6]: from \"critic\" in the signals, "
                         "\"pytest\" in the episode"},
        {"ep-1", 0.0, 3, "agents[1]: \"coder\" in the signals, \"builder\" "
                         "in the episode"},
    };
    for (size_t k = 0; k < sizeof CASES / sizeof CASES[0]; k++) {
        ac_episode *other = NULL;
        if (CASES[k].change == 3) {
            static const char *const NAMES[N_PART] = {"planner", "builder",
                                                      "critic", "pytest"};
            ck_assert_int_eq(ac_episode_create(&other, NULL), AC_OK);
            for (uint32_t i = 0; i < N_PART; i++)
                ck_assert_int_eq(ac_episode_add_participant(
                                     other, NAMES[i],
                                     i == TOOL ? AC_PARTICIPANT_KIND_TOOL
                                               : AC_PARTICIPANT_KIND_AGENT,
                                     NULL), AC_OK);
            for (uint32_t t = 0; t < N_MSG; t++)
                ck_assert_int_eq(ac_episode_add_message(other, FROM[t], NULL,
                                                        NULL, NULL), AC_OK);
            ck_assert_int_eq(ac_episode_set_id(other, "ep-1"), AC_OK);
        } else if (CASES[k].change == 2) {
            ck_assert_int_eq(ac_episode_create(&other, NULL), AC_OK);
            static const char *const NAMES[N_PART] = {"planner", "coder",
                                                      "critic", "pytest"};
            for (uint32_t i = 0; i < N_PART; i++)
                ck_assert_int_eq(ac_episode_add_participant(
                                     other, NAMES[i],
                                     i == TOOL ? AC_PARTICIPANT_KIND_TOOL
                                               : AC_PARTICIPANT_KIND_AGENT,
                                     NULL), AC_OK);
            for (uint32_t t = 0; t < N_MSG; t++)
                ck_assert_int_eq(ac_episode_add_message(
                                     other, t == 6 ? TOOL : FROM[t], NULL,
                                     NULL, NULL), AC_OK);
            ck_assert_int_eq(ac_episode_set_id(other, "ep-1"), AC_OK);
        } else {
            other = team(CASES[k].outcome, CASES[k].id);
            if (CASES[k].change == 1)
                ck_assert_int_eq(ac_episode_add_message(other, CODER, NULL,
                                                        NULL, NULL), AC_OK);
        }
        ck_assert_int_eq(ac_signals_matches(s, other, err, sizeof err),
                         AC_E_INVALID_ARG);
        ck_assert_msg(strstr(err, CASES[k].says) != NULL, "case %zu: %s", k,
                      err);
        ac_episode_free(other);
    }
    /* An episode without an outcome is joined by its names. */
    ck_assert_int_eq(ac_signals_matches(s, NULL, err, sizeof err),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_signals_matches(NULL, ep, NULL, 0), AC_E_INVALID_ARG);
    ac_signals_free(s);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

/* ===================================================================== */
/* Allocation failure                                                    */
/* ===================================================================== */

/* Every allocation of a load, a snapshot and the pipeline's write fails
 * in turn until the call succeeds: each failure is AC_E_NO_MEMORY (with
 * a message for the load), leaves *out alone and no block behind; the
 * success gives the text of a call that never failed. */
START_TEST(allocation_failure)
{
    ac_episode *ep = team(0.0, "ep-1");
    ac_pipeline *clean = pipeline(NULL, NULL);
    ck_assert_int_eq(ac_pipeline_run(clean, ep), AC_OK);
    char *want = pipeline_text(clean, ep);
    long failures[3] = {0, 0, 0};
    for (int what = 0; what < 3; what++) {
        for (long k = 0;; k++) {
            th_fail_alloc f = {0, -1, 0, 0};
            ac_allocator a = th_fail_allocator(&f);
            ac_pipeline *p = what == 2 ? pipeline(&a, NULL) : NULL;
            if (p != NULL)
                ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
            long live = f.live;
            f.fail_at = f.calls + k;
            ac_signals *s = (ac_signals *)&f;
            char err[256] = "unset";
            char *got = NULL;
            int rc;
            if (what == 0)
                rc = ac_signals_load_json(&s, want, strlen(want), &a, NULL,
                                          0, err, sizeof err, NULL, 0);
            else if (what == 1)
                rc = ac_pipeline_signals(clean, ep, &a, &s);
            else {
                size_t len = 0;
                got = malloc(strlen(want) + 1);
                rc = ac_pipeline_write_json(p, ep, got, strlen(want) + 1,
                                            &len);
            }
            if (rc != AC_OK) {
                ck_assert_int_eq(rc, AC_E_NO_MEMORY);
                ck_assert_ptr_eq(s, (ac_signals *)&f);
                ck_assert_int_eq(f.live, live);
                if (what == 0)
                    ck_assert_str_eq(err, "out of memory");
                failures[what]++;
                free(got);
                ac_pipeline_free(p);
                ck_assert_int_eq(f.live, 0);
                continue;
            }
            if (what < 2) {
                got = signals_text(s);
                ac_signals_free(s);
            }
            ck_assert_str_eq(got, want);
            free(got);
            ac_pipeline_free(p);
            ck_assert_int_eq(f.live, 0);
            break;
        }
    }
    /* A handle, its block and its pool: three allocations each. */
    ck_assert_int_ge(failures[0], 3);
    ck_assert_int_ge(failures[1], 3);
    ck_assert_int_ge(failures[2], 3);
    free(want);
    ac_pipeline_free(clean);
    ac_episode_free(ep);
}
END_TEST

/* ---- interactions (AC_ESTIMATOR_PARAM_INTERACTIONS) ---- */

/* The additive oracle above plus 0.2 when planner and coder are both in:
 * I(planner, coder) = 0.2, the other pairs 0, for the oracle's v(all). */
static int pair_oracle(void *user, const uint64_t *coalitions,
                       uint32_t words, uint32_t count, double *values,
                       int32_t *status)
{
    int rc = oracle(user, coalitions, words, count, values, status);
    for (uint32_t k = 0; k < count; k++)
        values[k] += (coalitions[(size_t)k * words] & 3u) == 3u ? 0.2 : 0.0;
    return rc;
}

static ac_pipeline *pair_pipeline(int interactions)
{
    ac_pipeline *p = pipeline(NULL, NULL);
    ck_assert_int_eq(ac_pipeline_set_oracle(p, pair_oracle, NULL), AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_ESTIMATOR_PARAM_INTERACTIONS,
                                         interactions), AC_OK);
    return p;
}

static char *interactions_text(void)
{
    ac_episode *ep = team(0.0, "ep-1");
    ac_pipeline *p = pair_pipeline(1);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    char *text = pipeline_text(p, ep);
    ac_pipeline_free(p);
    ac_episode_free(ep);
    return text;
}

/* The pipeline's interactions, in its text and read back from it; none
 * (no key, AC_E_STATE) when not asked for. */
START_TEST(interactions_round_trip)
{
    ac_episode *ep = team(0.0, "ep-1");
    ac_pipeline *p = pair_pipeline(1);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    double index[3], se[3], back[3], back_se[3];
    ck_assert_int_eq(ac_pipeline_interactions(p, index, se, 3), AC_OK);
    ck_assert_int_eq(ac_pipeline_interactions(p, index, se, 2),
                     AC_E_INVALID_ARG);
    /* the game's v(all) is R = 0, not the oracle's 0.65: every pair moves
     * by (0 - 0.65) / (n - 1) */
    const double want[3] = {0.2 - 0.325, -0.325, -0.325};
    for (int k = 0; k < 3; k++) {
        ck_assert_double_eq_tol(index[k], want[k], 1e-15);
        ck_assert(se[k] == 0.0);
    }
    char *text = pipeline_text(p, ep);
    ck_assert_msg(strstr(text, "\"interactions\":[{\"agents\":[\"planner\","
                               "\"coder\"],\"index\":") != NULL, "%s", text);
    ac_signals *s = load(text, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
    ck_assert_int_eq(ac_signals_interactions(s, back, back_se, 3), AC_OK);
    ck_assert_int_eq(ac_signals_interactions(s, back, NULL, 4),
                     AC_E_INVALID_ARG);
    ck_assert_mem_eq(back, index, sizeof index);
    ck_assert_mem_eq(back_se, se, sizeof se);
    char *again = signals_text(s);
    ck_assert_str_eq(again, text);
    free(again);
    free(text);
    ac_signals_free(s);
    ac_pipeline_free(p);
    p = pair_pipeline(0);
    ck_assert_int_eq(ac_pipeline_run(p, ep), AC_OK);
    ck_assert_int_eq(ac_pipeline_interactions(p, index, se, 3), AC_E_STATE);
    text = pipeline_text(p, ep);
    ck_assert_ptr_null(strstr(text, "interactions"));
    s = load(text, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
    ck_assert_int_eq(ac_signals_interactions(s, back, NULL, 3), AC_E_STATE);
    free(text);
    ac_signals_free(s);
    ac_pipeline_free(p);
    ac_episode_free(ep);
}
END_TEST

static const struct {
    const char *path, *value;
    uint32_t flags;
    const char *says;
} INTER_EDITS[] = {
    {"interactions", "{}", 0,
     "interactions: an array of the 3 pairs of agents is needed"},
    {"interactions", "[]", 0, "an array of the 3 pairs"},
    {"interactions/0", "7", 0, "interactions[0]: an object is needed"},
    {"interactions/0/agents", "[\"coder\",\"planner\"]", 0,
     "interactions[0].agents: the pairs are in the order of the agents: "
     "[\"planner\", \"coder\"] here"},
    {"interactions/2/agents", "[\"coder\"]", 0,
     "interactions[2].agents: the names of two agents are needed"},
    {"interactions/1/index", "\"x\"", 0,
     "interactions[1].index: a number is needed"},
    {"interactions/1/index", "null", 0,
     "interactions[1].index: a number is needed"},
    {"interactions/1/se", "-0.5", 0,
     "interactions[1].se: -0.5 is out of range"},
    {"interactions/1/weight", "1", AC_JSON_STRICT,
     "interactions[1]: unknown key \"weight\""},
};

START_TEST(interactions_refused)
{
    char *base = interactions_text();
    char *text = edited(base, INTER_EDITS[_i].path, INTER_EDITS[_i].value);
    load(text, INTER_EDITS[_i].flags, AC_E_PARSE, INTER_EDITS[_i].says, NULL,
         0);
    free(text);
    free(base);
}
END_TEST

/* An infinite standard error is null, and reads back so. */
START_TEST(interactions_null_se)
{
    char *base = interactions_text();
    char *text = edited(base, "interactions/2/se", "null");
    ac_signals *s = load(text, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
    double se[3];
    ck_assert_int_eq(ac_signals_interactions(s, se, se, 3),
                     AC_OK);
    ck_assert(isinf(se[2]));
    char *out = signals_text(s);
    ck_assert_str_eq(out, text);
    free(out);
    free(text);
    free(base);
    ac_signals_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("signals");
    TCase *tc = th_tcase(s, "signals");
    tcase_add_loop_test(tc, snapshot_and_round_trip, 0, 2);
    tcase_add_test(tc, getters_refuse_wrong_sizes);
    tcase_add_test(tc, format_example_loads);
    tcase_add_loop_test(tc, large_candidate_ids, 0, 4);
    tcase_add_loop_test(tc, refuses_what_is_malformed, 0,
                        (int)(sizeof EDITS / sizeof EDITS[0]));
    tcase_add_test(tc, accepts_the_formats_nulls);
    tcase_add_test(tc, refuses_bad_text_and_arguments);
    tcase_add_test(tc, unknown_keys);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, matches_says_what_differs);
    tcase_add_test(tc, allocation_failure);
    tcase_add_test(tc, interactions_round_trip);
    tcase_add_loop_test(tc, interactions_refused, 0,
                        (int)(sizeof INTER_EDITS / sizeof INTER_EDITS[0]));
    tcase_add_test(tc, interactions_null_se);
    return th_run_suite(s);
}
