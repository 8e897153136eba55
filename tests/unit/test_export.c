/* SPDX-License-Identifier: MIT
 *
 * The trainer exporter (ac_export) on the fixtures of tests/data/exports:
 * each format makes the checks tests/data/exports/README.md lists, each
 * check citing the upstream line it encodes (the pinned commits are in
 * docs/exports-spec.md); every record of every format is a JSON object
 * whose numbers are finite and whose flags are arrays of strings, and the
 * figures hold together (per-token vectors and rows add up to the
 * agent's credit, AReaL's backward pass gives the rewards back). Then the
 * edge cases (a first error at message 0, tool messages, arguments that
 * are no JSON object, trained agents, separators, the tools column), the
 * errors (each with its status and a message naming the problem; a failed
 * conversion leaves no record and no skip), and out of memory from the
 * host's allocator and from jansson's: AC_E_NO_MEMORY with a message,
 * nothing left behind, and the next call gives the bytes of a handle that
 * never failed.
 */
#include <jansson.h>

#include "helpers.h"

/* ===================================================================== */
/* The fixtures                                                          */
/* ===================================================================== */

enum { STEP0_0, STEP0_1, TAU, TEAM3, TEAM4, N_EP };
static const char *const IDS[N_EP] = {"step0:0", "step0:1", "tau-cancel:0",
                                      "team:3", "team:4"};
#define N_FORMATS 12

typedef struct fixtures {
    ac_episode *ep[N_EP];
    ac_signals *plain[N_EP];  /* signals.jsonl: no pair                 */
    ac_signals *repair[N_EP]; /* signals-repair.jsonl: candidate 7      */
    char *candidates;         /* candidates.json                        */
} fixtures;

static char *copy_of(const char *text, size_t len)
{
    char *c = malloc(len + 1);
    ck_assert_ptr_nonnull(c);
    memcpy(c, text, len);
    c[len] = '\0';
    return c;
}

static char *slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/exports/%s", AC_TEST_DATA_DIR, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    ck_assert(feof(f));
    fclose(f);
    return copy_of(buf, n);
}

/* Line k of a JSON-lines file, loaded as an episode (episodes != NULL) or
 * as signals: the library's own readers, strict (no unknown key). */
static void load_lines(const char *name, ac_episode **episodes,
                       ac_signals **signals)
{
    char *text = slurp(name), *line = text;
    for (int k = 0; k < N_EP; k++) {
        char *end = strchr(line, '\n');
        ck_assert_ptr_nonnull(end);
        char err[256];
        int rc = episodes != NULL
                     ? ac_episode_load_json(&episodes[k], line,
                                            (size_t)(end - line), NULL, NULL,
                                            AC_JSON_STRICT, err, sizeof err,
                                            NULL, 0)
                     : ac_signals_load_json(&signals[k], line,
                                            (size_t)(end - line), NULL, NULL,
                                            AC_JSON_STRICT, err, sizeof err,
                                            NULL, 0);
        ck_assert_msg(rc == AC_OK, "%s line %d: %s", name, k + 1, err);
        const char *id = episodes != NULL ? ac_episode_id(episodes[k])
                                          : ac_signals_id(signals[k]);
        ck_assert_str_eq(id, IDS[k]);
        line = end + 1;
    }
    ck_assert_str_eq(line, "");
    free(text);
}

static void fx_load(fixtures *fx)
{
    load_lines("episodes.jsonl", fx->ep, NULL);
    load_lines("signals.jsonl", NULL, fx->plain);
    load_lines("signals-repair.jsonl", NULL, fx->repair);
    fx->candidates = slurp("candidates.json");
}

static void fx_free(fixtures *fx)
{
    for (int k = 0; k < N_EP; k++) {
        ac_episode_free(fx->ep[k]);
        ac_signals_free(fx->plain[k]);
        ac_signals_free(fx->repair[k]);
    }
    free(fx->candidates);
}

/* ===================================================================== */
/* One conversion, read back and checked                                 */
/* ===================================================================== */

#define MAX_SKIPS 32

typedef struct xskip {
    int32_t reason;
    int64_t message;
    char agent[64]; /* "" for none */
} xskip;

typedef struct xout {
    int rc;
    char err[512];
    char *text;
    size_t len;
    uint32_t records;
    json_t *recs; /* the lines, parsed */
    uint32_t n_skips;
    xskip skip[MAX_SKIPS];
} xout;

static void xout_free(xout *o)
{
    free(o->text);
    json_decref(o->recs);
    memset(o, 0, sizeof *o);
}

#define X_OK(call, x)                                                        \
    ck_assert_msg((call) == AC_OK, "%s: %s", #call, ac_export_last_error(x))

static ac_export *xnew(int32_t format)
{
    ac_export *x = NULL;
    ck_assert_int_eq(ac_export_create(&x, format, NULL), AC_OK);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(ac_export_format_of(x), format);
    return x;
}

/* A handle with candidates.json loaded. */
static ac_export *xnew_loaded(int32_t format, const fixtures *fx)
{
    ac_export *x = xnew(format);
    X_OK(ac_export_load_candidates(x, fx->candidates, strlen(fx->candidates),
                                   NULL), x);
    return x;
}

/* Every number finite, every "flags" / "step_flags" an array of strings,
 * and OpenRLHF's label (a string) the JSON text of an object, checked the
 * same way. */
static void check_values(const json_t *v, const char *key)
{
    if (json_is_real(v))
        ck_assert_msg(isfinite(json_real_value(v)), "%s: not finite", key);
    if (strcmp(key, "flags") == 0 || strcmp(key, "step_flags") == 0) {
        ck_assert_msg(json_is_array(v), "%s is not an array", key);
        size_t i;
        const json_t *f;
        json_array_foreach(v, i, f)
            ck_assert_msg(json_is_string(f), "%s[%zu] not a string", key, i);
    }
    if (strcmp(key, "label") == 0 && json_is_string(v)) {
        json_error_t e;
        json_t *label = json_loads(json_string_value(v), 0, &e);
        ck_assert_msg(json_is_object(label), "label: %s", e.text);
        check_values(label, "");
        json_decref(label);
    }
    const char *k;
    const json_t *m;
    size_t i;
    if (json_is_object(v))
        json_object_foreach((json_t *)v, k, m)
            check_values(m, k);
    if (json_is_array(v))
        json_array_foreach(v, i, m)
            check_values(m, "");
}

/* The lines of a successful conversion: each "\n"-terminated, one JSON
 * object, as many as the records; dumping a record again succeeds and
 * reads back equal (what write_jsonl does). */
static json_t *parse_lines(const char *text, size_t len, uint32_t records)
{
    json_t *recs = json_array();
    const char *line = text;
    while (line < text + len) {
        const char *end = memchr(line, '\n', (size_t)(text + len - line));
        ck_assert_msg(end != NULL, "a record without its newline");
        json_error_t e;
        json_t *rec = json_loadb(line, (size_t)(end - line), 0, &e);
        ck_assert_msg(json_is_object(rec), "not a JSON object (%s): %.*s",
                      e.text, (int)(end - line), line);
        check_values(rec, "");
        char *again = json_dumps(rec, JSON_COMPACT);
        ck_assert_ptr_nonnull(again);
        json_t *back = json_loads(again, 0, NULL);
        ck_assert(json_equal(rec, back));
        json_decref(back);
        free(again);
        json_array_append_new(recs, rec);
        line = end + 1;
    }
    ck_assert_uint_eq(json_array_size(recs), records);
    return recs;
}

/* Converts ep with s and reads everything back; a failure must leave no
 * record and no skip, and a message. */
static xout convert(ac_export *x, const ac_episode *ep, const ac_signals *s)
{
    xout o;
    memset(&o, 0, sizeof o);
    o.rc = ac_export_episode(x, ep, s);
    const char *text = NULL;
    ck_assert_int_eq(ac_export_text(x, &text, &o.len, &o.records), AC_OK);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(strlen(text), o.len);
    o.text = copy_of(text, o.len);
    ck_assert_int_eq(ac_export_skip_count(x, &o.n_skips), AC_OK);
    ck_assert_uint_le(o.n_skips, MAX_SKIPS);
    for (uint32_t k = 0; k < o.n_skips; k++) {
        const char *agent = "unset";
        ck_assert_int_eq(ac_export_skip(x, k, &o.skip[k].reason,
                                        &o.skip[k].message, &agent),
                         AC_OK);
        ck_assert_ptr_nonnull(ac_export_skip_name(o.skip[k].reason));
        snprintf(o.skip[k].agent, sizeof o.skip[k].agent, "%s",
                 agent == NULL ? "" : agent);
    }
    ck_assert_int_eq(ac_export_skip(x, o.n_skips, NULL, NULL, NULL),
                     AC_E_INVALID_ARG);
    snprintf(o.err, sizeof o.err, "%s", ac_export_last_error(x));
    if (o.rc != AC_OK) {
        ck_assert_msg(o.len == 0 && o.records == 0 && o.n_skips == 0,
                      "a failed conversion (%s: %s) left %u records and %u "
                      "skips", ac_status_name(o.rc), o.err, o.records,
                      o.n_skips);
        ck_assert_msg(o.err[0] != '\0', "%s without a message",
                      ac_status_name(o.rc));
        return o;
    }
    o.recs = parse_lines(o.text, o.len, o.records);
    return o;
}

static xout convert_ok(ac_export *x, const ac_episode *ep,
                       const ac_signals *s)
{
    xout o = convert(x, ep, s);
    ck_assert_msg(o.rc == AC_OK, "%s %s: %s: %s",
                  ac_export_format_name(ac_export_format_of(x)),
                  ac_episode_id(ep), ac_status_name(o.rc), o.err);
    return o;
}

static json_t *rec(const xout *o, size_t k)
{
    ck_assert_uint_lt(k, json_array_size(o->recs));
    return json_array_get(o->recs, k);
}

/* v at a path of object keys and array indices: "a.b.0.c". */
static json_t *at(const json_t *v, const char *path)
{
    json_t *cur = (json_t *)v;
    for (const char *p = path; cur != NULL && *p != '\0';) {
        size_t n = strcspn(p, ".");
        char part[64];
        ck_assert_uint_lt(n, sizeof part);
        memcpy(part, p, n);
        part[n] = '\0';
        cur = json_is_array(cur) ? json_array_get(cur, strtoul(part, NULL, 10))
                                 : json_object_get(cur, part);
        p += p[n] == '.' ? n + 1 : n;
    }
    ck_assert_msg(cur != NULL, "no %s", path);
    return cur;
}

static const char *str_at(const json_t *v, const char *path)
{
    const json_t *s = at(v, path);
    ck_assert_msg(json_is_string(s), "%s is not a string", path);
    return json_string_value(s);
}

static double real_at(const json_t *v, const char *path)
{
    const json_t *d = at(v, path);
    ck_assert_msg(json_is_real(d), "%s is not a float", path);
    return json_real_value(d);
}

/* text is the JSON value want. */
static void assert_json(const json_t *got, const char *want)
{
    json_error_t e;
    json_t *w = json_loads(want, JSON_DECODE_ANY, &e);
    ck_assert_msg(w != NULL, "test's JSON: %s", e.text);
    char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
    ck_assert_msg(json_equal(got, w), "got %s, want %s", g, want);
    free(g);
    json_decref(w);
}

static int has_skip(const xout *o, int32_t reason, int64_t message,
                    const char *agent)
{
    for (uint32_t k = 0; k < o->n_skips; k++)
        if (o->skip[k].reason == reason && o->skip[k].message == message &&
            strcmp(o->skip[k].agent, agent) == 0)
            return 1;
    return 0;
}

static void assert_only_skip(const xout *o, int32_t reason, int64_t message,
                             const char *agent)
{
    ck_assert_msg(o->n_skips == 1 && has_skip(o, reason, message, agent),
                  "want the one skip %s of message %lld (%s), have %u",
                  ac_export_skip_name(reason), (long long)message, agent,
                  o->n_skips);
}

/* got == want, or where they part (Check's messages are short). */
static void assert_same_text(const char *got, const char *want,
                             const char *what)
{
    if (strcmp(got, want) == 0)
        return;
    size_t i = 0;
    while (got[i] == want[i])
        i++;
    size_t from = i > 80 ? i - 80 : 0;
    ck_abort_msg("%s: the texts part at byte %zu:\n...%.300s\nwant\n...%.300s",
                 what, i, got + from, want + from);
}

/* |got - want| within a relative 1e-12 of scale (>= |want|). */
static void assert_near(double got, double want, double scale,
                        const char *what)
{
    if (fabs(want) > scale)
        scale = fabs(want);
    ck_assert_msg(fabs(got - want) <= 1e-12 * scale + 1e-300,
                  "%s: %.17g, want %.17g", what, got, want);
}

/* ===================================================================== */
/* The episode's figures, through the public getters                     */
/* ===================================================================== */

typedef struct figures {
    uint32_t n_agents, n_msg;
    double credit[8], reward[16];
    uint32_t author[16]; /* agent index, UINT32_MAX: a non-player */
    uint64_t begin[16], end[16];
} figures;

static figures figures_of(const ac_episode *ep, const ac_signals *s)
{
    figures f;
    memset(&f, 0, sizeof f);
    ck_assert_int_eq(ac_signals_counts(s, &f.n_agents, &f.n_msg), AC_OK);
    ck_assert_uint_le(f.n_agents, 8);
    ck_assert_uint_le(f.n_msg, 16);
    ck_assert_int_eq(ac_signals_credits(s, f.credit, NULL, f.n_agents),
                     AC_OK);
    ck_assert_int_eq(ac_signals_rewards(s, f.reward, f.n_msg), AC_OK);
    for (uint32_t k = 0; k < f.n_msg; k++) {
        ck_assert_int_eq(ac_signals_message_from(s, k, NULL, &f.author[k]),
                         AC_OK);
        ck_assert_int_eq(ac_episode_message_links(ep, k, NULL, &f.begin[k],
                                                  &f.end[k]),
                         AC_OK);
    }
    return f;
}

static uint32_t agent_index(const ac_signals *s, const char *name)
{
    uint32_t n = 0;
    ck_assert_int_eq(ac_signals_counts(s, &n, NULL), AC_OK);
    for (uint32_t a = 0; a < n; a++)
        if (strcmp(ac_signals_agent_name(s, a), name) == 0)
            return a;
    ck_abort_msg("no agent %s", name);
    return 0;
}

static double sum_json(const json_t *arr)
{
    double v[4096];
    size_t n = json_array_size(arr);
    ck_assert_uint_le(n, 4096);
    for (size_t i = 0; i < n; i++)
        v[i] = json_real_value(json_array_get(arr, i));
    return th_sum(v, n);
}

/* ===================================================================== */
/* The formats on the fixtures (tests/data/exports/README.md)            */
/* ===================================================================== */

/* Conversational DPO: "prompt", "chosen", "rejected" lists. */
START_TEST(trl_dpo)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew_loaded(AC_EXPORT_FORMAT_TRL_DPO, &fx);

    /* step0:0: no record, empty_prompt: TRL indexes prompt[0]
     * (trl/data_utils.py:193). */
    xout o = convert_ok(x, fx.ep[STEP0_0], fx.repair[STEP0_0]);
    ck_assert_uint_eq(o.records, 0);
    assert_only_skip(&o, AC_EXPORT_SKIP_REASON_EMPTY_PROMPT, 0, "solver");
    xout_free(&o);

    /* step0:1: prompt [system, user], chosen the candidate's text, rejected
     * the logged 9.11 (trl/data_utils.py:193 has a prompt[0] here). */
    o = convert_ok(x, fx.ep[STEP0_1], fx.repair[STEP0_1]);
    ck_assert_uint_eq(o.records, 1);
    assert_json(rec(&o, 0),
                "{\"prompt\":[{\"role\":\"system\",\"content\":\"Answer with "
                "one number.\"},{\"role\":\"user\",\"content\":\"Which is "
                "larger, 9.8 or 9.11?\"}],\"chosen\":[{\"role\":"
                "\"assistant\",\"content\":\"9.8\"}],\"rejected\":[{\"role\":"
                "\"assistant\",\"content\":\"9.11\"}]}");
    ck_assert_uint_eq(o.n_skips, 0);
    xout_free(&o);

    /* tau-cancel:0: TRL's tool-calling example
     * (docs/source/dataset_formats.md:146-151: arguments an object;
     * :152: the tool message with its name). */
    o = convert_ok(x, fx.ep[TAU], fx.repair[TAU]);
    ck_assert_uint_eq(o.records, 1);
    json_t *r = rec(&o, 0);
    ck_assert_uint_eq(json_array_size(at(r, "prompt")), 4);
    ck_assert_str_eq(str_at(r, "prompt.2.role"), "assistant");
    ck_assert_str_eq(str_at(r, "prompt.2.content"), ""); /* text null */
    assert_json(at(r, "prompt.2.tool_calls.0.function.arguments"),
                "{\"order_id\": \"#W123\"}");
    ck_assert_str_eq(str_at(r, "prompt.2.tool_calls.0.id"), "call_1");
    ck_assert_str_eq(str_at(r, "prompt.2.tool_calls.0.type"), "function");
    assert_json(at(r, "prompt.3"),
                "{\"role\":\"tool\",\"name\":\"get_order_details\","
                "\"tool_call_id\":\"call_1\",\"content\":\"{\\\"order_id\\\": "
                "\\\"#W123\\\", \\\"status\\\": \\\"pending\\\"}\"}");
    assert_json(at(r, "rejected.0.tool_calls.0.function.arguments"),
                "{\"order_id\": \"#W124\", \"reason\": \"no longer needed\"}");
    assert_json(at(r, "chosen.0.tool_calls.0.function.arguments"),
                "{\"order_id\": \"#W123\", \"reason\": \"no longer needed\"}");
    ck_assert_str_eq(str_at(r, "chosen.0.content"), "");
    ck_assert_str_eq(str_at(r, "chosen.0.role"), "assistant");
    xout_free(&o);

    /* team:3: the critic's view (dataset_formats.md:146-152): the user,
     * planner and coder as users with their names and speaker prefixes,
     * pytest as a tool. */
    o = convert_ok(x, fx.ep[TEAM3], fx.repair[TEAM3]);
    ck_assert_uint_eq(o.records, 1);
    assert_json(at(rec(&o, 0), "prompt"),
                "[{\"role\":\"user\",\"content\":\"Sum the amounts per key.\"},"
                "{\"role\":\"user\",\"name\":\"planner\",\"content\":"
                "\"planner: Plan: group by key, then sum.\"},"
                "{\"role\":\"user\",\"name\":\"coder\",\"content\":"
                "\"coder: def totals(rows): ...\"},"
                "{\"role\":\"tool\",\"name\":\"pytest\",\"content\":"
                "\"tests: 3 passed\"}]");
    assert_json(at(rec(&o, 0), "chosen"),
                "[{\"role\":\"assistant\",\"content\":\"Keep amounts as "
                "Decimal; int() would truncate cents.\"}]");
    assert_json(at(rec(&o, 0), "rejected"),
                "[{\"role\":\"assistant\",\"content\":\"Cast amounts to int, "
                "it is faster.\"}]");
    xout_free(&o);

    /* team:4 and every episode of signals.jsonl: no pair. */
    o = convert_ok(x, fx.ep[TEAM4], fx.repair[TEAM4]);
    ck_assert_uint_eq(o.records, 0);
    assert_only_skip(&o, AC_EXPORT_SKIP_REASON_NO_PAIR, -1, "");
    xout_free(&o);
    for (int e = 0; e < N_EP; e++) {
        o = convert_ok(x, fx.ep[e], fx.plain[e]);
        ck_assert_uint_eq(o.records, 0);
        assert_only_skip(&o, AC_EXPORT_SKIP_REASON_NO_PAIR, -1, "");
        xout_free(&o);
    }
    ac_export_free(x);

    /* Without candidates a repair pair has no chosen text. */
    x = xnew(AC_EXPORT_FORMAT_TRL_DPO);
    o = convert_ok(x, fx.ep[TEAM3], fx.repair[TEAM3]);
    ck_assert_uint_eq(o.records, 0);
    assert_only_skip(&o, AC_EXPORT_SKIP_REASON_NO_CANDIDATE_TEXT, 4,
                     "critic");
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* With AC_EXPORT_PARAM_EMPTY_PROMPT the empty prompt is exactly one system
 * message, the host's text (trl/data_utils.py:193 then has a prompt[0]). */
START_TEST(trl_dpo_empty_prompt_system)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew_loaded(AC_EXPORT_FORMAT_TRL_DPO, &fx);
    X_OK(ac_export_set_str(x, AC_EXPORT_PARAM_EMPTY_PROMPT,
                           "Answer the question."), x);
    xout o = convert_ok(x, fx.ep[STEP0_0], fx.repair[STEP0_0]);
    ck_assert_uint_eq(o.records, 1);
    ck_assert_uint_eq(o.n_skips, 0);
    assert_json(rec(&o, 0),
                "{\"prompt\":[{\"role\":\"system\",\"content\":\"Answer the "
                "question.\"}],\"chosen\":[{\"role\":\"assistant\",\"content\":"
                "\"9.8 is larger: 9.8 = 9.80 > 9.11.\"}],\"rejected\":[{"
                "\"role\":\"assistant\",\"content\":\"The answer is 9.11 "
                "because 11 > 8.\"}]}");
    xout_free(&o);
    /* A non-empty prompt is left as it is. */
    o = convert_ok(x, fx.ep[STEP0_1], fx.repair[STEP0_1]);
    ck_assert_uint_eq(json_array_size(at(rec(&o, 0), "prompt")), 2);
    ck_assert_str_eq(str_at(rec(&o, 0), "prompt.0.content"),
                     "Answer with one number.");
    xout_free(&o);
    /* NULL: back to the skip. */
    X_OK(ac_export_set_str(x, AC_EXPORT_PARAM_EMPTY_PROMPT, NULL), x);
    const char *v = "unset";
    ck_assert_int_eq(ac_export_get_str(x, AC_EXPORT_PARAM_EMPTY_PROMPT, &v),
                     AC_OK);
    ck_assert_ptr_null(v);
    o = convert_ok(x, fx.ep[STEP0_0], fx.repair[STEP0_0]);
    assert_only_skip(&o, AC_EXPORT_SKIP_REASON_EMPTY_PROMPT, 0, "solver");
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* String DPO: the prompt text ends "\n\n" (dpo_trainer.py:1042-1046
 * concatenates prompt and chosen with no separator), "" at step 0 (no
 * crash: dpo_trainer.py:1042), tool calls as NAME(ARGUMENTS) lines. */
START_TEST(trl_dpo_standard)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew_loaded(AC_EXPORT_FORMAT_TRL_DPO_STANDARD, &fx);
    xout o = convert_ok(x, fx.ep[STEP0_0], fx.repair[STEP0_0]);
    ck_assert_uint_eq(o.records, 1);
    ck_assert_uint_eq(o.n_skips, 0);
    assert_json(rec(&o, 0),
                "{\"prompt\":\"\",\"chosen\":\"9.8 is larger: 9.8 = 9.80 > "
                "9.11.\",\"rejected\":\"The answer is 9.11 because 11 > 8.\"}");
    xout_free(&o);
    o = convert_ok(x, fx.ep[STEP0_1], fx.repair[STEP0_1]);
    assert_json(rec(&o, 0),
                "{\"prompt\":\"Answer with one number.\\n\\nWhich is larger, "
                "9.8 or 9.11?\\n\\n\",\"chosen\":\"9.8\",\"rejected\":"
                "\"9.11\"}");
    xout_free(&o);
    /* The agent's own calls without a prefix, the tool's answer with its
     * name (dpo_trainer.py:1042-1046: the text is the whole input). */
    o = convert_ok(x, fx.ep[TAU], fx.repair[TAU]);
    assert_json(rec(&o, 0),
                "{\"prompt\":\"You are a retail agent. Cancel only orders the "
                "user confirms.\\n\\nCancel order #W123, not #W124.\\n\\n"
                "get_order_details({\\\"order_id\\\": \\\"#W123\\\"})\\n\\n"
                "get_order_details: {\\\"order_id\\\": \\\"#W123\\\", "
                "\\\"status\\\": \\\"pending\\\"}\\n\\n\","
                "\"chosen\":\"cancel_pending_order({\\\"order_id\\\": "
                "\\\"#W123\\\", \\\"reason\\\": \\\"no longer needed\\\"})\","
                "\"rejected\":\"cancel_pending_order({\\\"order_id\\\": "
                "\\\"#W124\\\", \\\"reason\\\": \\\"no longer needed\\\"})\"}");
    xout_free(&o);
    o = convert_ok(x, fx.ep[TEAM3], fx.repair[TEAM3]);
    ck_assert_str_eq(str_at(rec(&o, 0), "prompt"),
                     "Sum the amounts per key.\n\nplanner: Plan: group by key, "
                     "then sum.\n\ncoder: def totals(rows): ...\n\npytest: "
                     "tests: 3 passed\n\n");
    xout_free(&o);
    o = convert_ok(x, fx.ep[TEAM4], fx.repair[TEAM4]);
    assert_only_skip(&o, AC_EXPORT_SKIP_REASON_NO_PAIR, -1, "");
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* Reward pairs: the prompt inside each side, never an empty list, and a
 * float margin on every record, the pair's weight 0.9
 * (reward_trainer.py:202-203 looks at examples[0] only; :750-751 subtracts
 * it). */
START_TEST(trl_reward)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew_loaded(AC_EXPORT_FORMAT_TRL_REWARD, &fx);
    int records = 0;
    for (int e = 0; e < N_EP; e++) {
        xout o = convert_ok(x, fx.ep[e], fx.repair[e]);
        if (e == TEAM4) {
            assert_only_skip(&o, AC_EXPORT_SKIP_REASON_NO_PAIR, -1, "");
            xout_free(&o);
            continue;
        }
        ck_assert_uint_eq(o.records, 1);
        ck_assert_uint_eq(o.n_skips, 0);
        json_t *r = rec(&o, 0);
        ck_assert_double_eq(real_at(r, "margin"), 0.9);
        ck_assert_ptr_null(json_object_get(r, "prompt"));
        size_t n = json_array_size(at(r, "chosen"));
        ck_assert_uint_ge(n, 1);
        ck_assert_uint_eq(json_array_size(at(r, "rejected")), n);
        /* The same prompt on both sides, then the two turns. */
        for (size_t k = 0; k + 1 < n; k++)
            ck_assert(json_equal(json_array_get(at(r, "chosen"), k),
                                 json_array_get(at(r, "rejected"), k)));
        if (e == STEP0_0) /* step 0: one message each */
            ck_assert_uint_eq(n, 1);
        if (e == STEP0_1) {
            ck_assert_uint_eq(n, 3);
            ck_assert_str_eq(str_at(r, "chosen.2.content"), "9.8");
            ck_assert_str_eq(str_at(r, "rejected.2.content"), "9.11");
        }
        records++;
        xout_free(&o);
    }
    ck_assert_int_eq(records, 4);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* KTO: one record per message of a trained agent with a non-zero reward,
 * its label a bool (kto_trainer.py:209). */
START_TEST(trl_kto)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew(AC_EXPORT_FORMAT_TRL_KTO);
    xout o = convert_ok(x, fx.ep[TEAM3], fx.plain[TEAM3]);
    static const uint32_t MSG[] = {1, 2, 4, 5, 8, 9};
    static const int LABEL[] = {1, 1, 0, 0, 0, 0};
    ck_assert_uint_eq(o.records, 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *r = rec(&o, i);
        ck_assert(json_is_boolean(at(r, "label")));
        ck_assert_int_eq(json_is_true(at(r, "label")), LABEL[i]);
        /* The prompt is the messages before it, the completion the one. */
        ck_assert_uint_eq(json_array_size(at(r, "prompt")), MSG[i]);
        ck_assert_uint_eq(json_array_size(at(r, "completion")), 1);
        const char *text = NULL;
        ck_assert_int_eq(ac_episode_message(fx.ep[TEAM3], MSG[i], NULL, NULL,
                                            &text),
                         AC_OK);
        ck_assert_str_eq(str_at(r, "completion.0.content"), text);
        ck_assert_str_eq(str_at(r, "completion.0.role"), "assistant");
    }
    /* Message 7, reward 0.0: no preference. */
    assert_only_skip(&o, AC_EXPORT_SKIP_REASON_ZERO_REWARD, 7, "critic");
    xout_free(&o);
    /* step0:0: message 0 has no prompt (trl/data_utils.py:193), message 2
     * reward 0; message 1 is written. */
    o = convert_ok(x, fx.ep[STEP0_0], fx.plain[STEP0_0]);
    ck_assert_uint_eq(o.records, 1);
    ck_assert_uint_eq(o.n_skips, 2);
    ck_assert(has_skip(&o, AC_EXPORT_SKIP_REASON_EMPTY_PROMPT, 0, "solver"));
    ck_assert(has_skip(&o, AC_EXPORT_SKIP_REASON_ZERO_REWARD, 2, "solver"));
    ck_assert(json_is_false(at(rec(&o, 0), "label")));
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* Stepwise PRM: one record a solution, every message a step, labels ints
 * (prm_trainer.py:225), -100 where nothing is learnt (:331-342 keeps the
 * step and labels its last token; :68,71 filter -100 out). */
START_TEST(trl_prm)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew(AC_EXPORT_FORMAT_TRL_PRM);
    xout o = convert_ok(x, fx.ep[TEAM3], fx.plain[TEAM3]);
    ck_assert_uint_eq(o.records, 1);
    ck_assert_str_eq(str_at(rec(&o, 0), "prompt"),
                     "Sum the amounts per key.\n");
    ck_assert_uint_eq(json_array_size(at(rec(&o, 0), "completions")), 9);
    ck_assert_str_eq(str_at(rec(&o, 0), "completions.2"),
                     "pytest: tests: 3 passed"); /* tools too */
    assert_json(at(rec(&o, 0), "labels"), "[1, 1, -100, 0, 0, -100, -100, 0, 0]");
    for (size_t i = 0; i < 9; i++) /* never bools */
        ck_assert(json_is_integer(json_array_get(at(rec(&o, 0), "labels"), i)));
    xout_free(&o);

    /* --agent critic (claim 7): still 9 completions, the solution whole;
     * only the critic's steps labelled (message 7's 0.0: -100). */
    const char *critic[] = {"critic"};
    X_OK(ac_export_set_agents(x, critic, 1), x);
    o = convert_ok(x, fx.ep[TEAM3], fx.plain[TEAM3]);
    ck_assert_uint_eq(json_array_size(at(rec(&o, 0), "completions")), 9);
    assert_json(at(rec(&o, 0), "labels"),
                "[-100, -100, -100, 0, -100, -100, -100, -100, -100]");
    xout_free(&o);
    /* team:4's critic: -0.083 at message 4, the one label. */
    o = convert_ok(x, fx.ep[TEAM4], fx.plain[TEAM4]);
    assert_json(at(rec(&o, 0), "labels"), "[-100, -100, -100, 0, -100]");
    xout_free(&o);
    X_OK(ac_export_set_agents(x, NULL, 0), x);

    /* step0:0: the first message is an agent's: prompt "" (:345-356 joins
     * prompt and steps with no separator), 3 completions. */
    o = convert_ok(x, fx.ep[STEP0_0], fx.plain[STEP0_0]);
    ck_assert_str_eq(str_at(rec(&o, 0), "prompt"), "");
    ck_assert_uint_eq(json_array_size(at(rec(&o, 0), "completions")), 3);
    assert_json(at(rec(&o, 0), "labels"), "[0, 0, -100]");
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* verl rows: the keys its reward managers read unconditionally
 * (verl/workers/reward_manager/naive.py:121-122), the grouping key in
 * extra_info because uid is replaced (ray_trainer.py:1482-1484). */
START_TEST(verl_rows)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew(AC_EXPORT_FORMAT_VERL);
    for (int e = 0; e < N_EP; e++) {
        xout o = convert_ok(x, fx.ep[e], fx.plain[e]);
        figures f = figures_of(fx.ep[e], fx.plain[e]);
        for (size_t i = 0; i < o.records; i++) {
            json_t *r = rec(&o, i);
            ck_assert_str_eq(str_at(r, "data_source"), "agentcredit");
            ck_assert(json_is_array(at(r, "prompt")));
            str_at(r, "reward_model.ground_truth");
            ck_assert_str_eq(str_at(r, "reward_model.style"), "agentcredit");
            json_t *info = at(r, "extra_info.agentcredit");
            ck_assert_str_eq(str_at(info, "episode"), IDS[e]);
            json_int_t k = json_integer_value(at(info, "message"));
            ck_assert_double_eq(real_at(info, "reward"), f.reward[k]);
            uint32_t a = agent_index(fx.plain[e], str_at(info, "agent"));
            ck_assert_uint_eq(f.author[k], a);
            ck_assert_double_eq(real_at(info, "credit"), f.credit[a]);
            char key[96];
            snprintf(key, sizeof key, "%s:%s:%lld", str_at(info, "group"),
                     str_at(info, "agent"),
                     (long long)json_integer_value(at(info, "turn")));
            ck_assert_str_eq(str_at(info, "key"), key);
        }
        xout_free(&o);
    }
    /* team:3, --agent critic: its two turns, keys team:critic:0 and :1;
     * the logged text is the ground truth; flags arrays of strings. */
    const char *critic[] = {"critic"};
    X_OK(ac_export_set_agents(x, critic, 1), x);
    xout o = convert_ok(x, fx.ep[TEAM3], fx.plain[TEAM3]);
    ck_assert_uint_eq(o.records, 2);
    ck_assert_str_eq(str_at(rec(&o, 0), "extra_info.agentcredit.key"),
                     "team:critic:0");
    ck_assert_str_eq(str_at(rec(&o, 1), "extra_info.agentcredit.key"),
                     "team:critic:1");
    ck_assert_str_eq(str_at(rec(&o, 0), "reward_model.ground_truth"),
                     "Cast amounts to int, it is faster.");
    assert_json(at(rec(&o, 0), "extra_info.agentcredit.step_flags"),
                "[\"first_error\"]");
    assert_json(at(rec(&o, 1), "extra_info.agentcredit.step_flags"),
                "[\"propagates\"]");
    ck_assert_uint_eq(json_array_size(at(rec(&o, 1), "prompt")), 7);
    xout_free(&o);
    /* The coder's message 8 repeats message 5: flags ["redundant"]. */
    const char *coder[] = {"coder"};
    X_OK(ac_export_set_agents(x, coder, 1), x);
    o = convert_ok(x, fx.ep[TEAM3], fx.plain[TEAM3]);
    ck_assert_uint_eq(o.records, 3);
    assert_json(at(rec(&o, 2), "extra_info.agentcredit.flags"),
                "[\"redundant\"]");
    assert_json(at(rec(&o, 0), "extra_info.agentcredit.flags"), "[]");
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* Per-token rewards of team:3's critic (verl-tokens and SkyRL): verl puts
 * a trajectory's scalar on its last token (agent_loop.py:1062-1069); this
 * vector replaces the row, its sum the credit. */
static void check_critic_tokens(int32_t format, int64_t placement)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew(format);
    const char *critic[] = {"critic"};
    X_OK(ac_export_set_agents(x, critic, 1), x);
    X_OK(ac_export_set_int(x, AC_EXPORT_PARAM_PLACEMENT, placement), x);
    int skyrl = format == AC_EXPORT_FORMAT_SKYRL;
    const char *rw = skyrl ? "rewards" : "token_rewards";
    const char *mk = skyrl ? "loss_mask" : "response_mask";
    xout o = convert_ok(x, fx.ep[TEAM3], fx.plain[TEAM3]);
    ck_assert_uint_eq(o.records, 1);
    json_t *r = rec(&o, 0);
    ck_assert_int_eq(json_integer_value(at(r, "begin")), 6);
    ck_assert_int_eq(json_integer_value(at(r, "length")), 65);
    ck_assert_str_eq(str_at(r, "agent"), "critic");
    ck_assert_str_eq(str_at(r, "group"), "team");
    ck_assert_int_eq(json_object_get(r, "key") == NULL, skyrl);
    if (!skyrl)
        ck_assert_str_eq(str_at(r, "key"), "team:critic");
    assert_json(at(r, "spans"), "[[21, 30], [40, 49]]");
    json_t *v = at(r, rw), *m = at(r, mk);
    ck_assert_uint_eq(json_array_size(v), 65);
    ck_assert_uint_eq(json_array_size(m), 65);
    for (int i = 0; i < 65; i++) {
        int in = (i >= 21 && i < 30) || (i >= 40 && i < 49);
        ck_assert(json_is_integer(json_array_get(m, (size_t)i)));
        ck_assert_int_eq(json_integer_value(json_array_get(m, (size_t)i)), in);
        double want = 0.0;
        if (placement == AC_TOKEN_PLACEMENT_LAST)
            want = i == 29 ? -0.25 : 0.0; /* 0.0 at 48: message 7's reward */
        else
            want = i >= 21 && i < 30 ? -0.25 / 9.0 : 0.0;
        ck_assert_msg(json_real_value(json_array_get(v, (size_t)i)) == want,
                      "%s[%d] = %.17g, want %.17g", rw, i,
                      json_real_value(json_array_get(v, (size_t)i)), want);
    }
    assert_near(sum_json(v), -0.25, 0.25, "the critic's tokens");
    ck_assert_double_eq(real_at(r, "credit"), -0.25);
    xout_free(&o);
    /* tau-cancel:0 has no tokens. */
    X_OK(ac_export_set_agents(x, NULL, 0), x);
    o = convert_ok(x, fx.ep[TAU], fx.plain[TAU]);
    ck_assert_uint_eq(o.records, 0);
    assert_only_skip(&o, AC_EXPORT_SKIP_REASON_NO_TOKENS, -1, "assistant");
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}

START_TEST(verl_tokens_last)
{
    check_critic_tokens(AC_EXPORT_FORMAT_VERL_TOKENS, AC_TOKEN_PLACEMENT_LAST);
}
END_TEST

START_TEST(verl_tokens_spread)
{
    check_critic_tokens(AC_EXPORT_FORMAT_VERL_TOKENS,
                        AC_TOKEN_PLACEMENT_SPREAD);
}
END_TEST

START_TEST(skyrl_last)
{
    check_critic_tokens(AC_EXPORT_FORMAT_SKYRL, AC_TOKEN_PLACEMENT_LAST);
}
END_TEST

START_TEST(skyrl_spread)
{
    check_critic_tokens(AC_EXPORT_FORMAT_SKYRL, AC_TOKEN_PLACEMENT_SPREAD);
}
END_TEST

/* OpenRLHF: its default input key (train_ppo_ray.py:542), the label a
 * string that parses to the agentcredit object, and an agent's rows'
 * rewards adding up to its credit, as its agent loop adds the step
 * rewards (openrlhf/utils/agent.py:119). */
START_TEST(openrlhf_rows)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew(AC_EXPORT_FORMAT_OPENRLHF);
    for (int e = 0; e < N_EP; e++) {
        figures f = figures_of(fx.ep[e], fx.plain[e]);
        xout o = convert_ok(x, fx.ep[e], fx.plain[e]);
        double sum[8] = {0};
        for (size_t i = 0; i < o.records; i++) {
            json_t *r = rec(&o, i);
            ck_assert(json_is_array(at(r, "input")));
            ck_assert_ptr_null(json_object_get(r, "prompt"));
            json_t *label = json_loads(str_at(r, "label"), 0, NULL);
            ck_assert(json_is_object(label));
            uint32_t a = agent_index(fx.plain[e], str_at(label, "agent"));
            json_int_t k = json_integer_value(at(label, "message"));
            ck_assert_double_eq(real_at(label, "reward"), f.reward[k]);
            ck_assert_double_eq(real_at(label, "credit"), f.credit[a]);
            ck_assert_str_eq(str_at(label, "episode"), IDS[e]);
            str_at(label, "response");
            str_at(label, "key");
            sum[a] += f.reward[k];
            json_decref(label);
        }
        for (uint32_t a = 0; a < f.n_agents; a++)
            if (!has_skip(&o, AC_EXPORT_SKIP_REASON_EMPTY_PROMPT, 0,
                          ac_signals_agent_name(fx.plain[e], a)))
                assert_near(sum[a], f.credit[a], 0.5, "the rows' rewards");
        /* step0:0: message 0 has no prompt; every other episode whole. */
        ck_assert_uint_eq(o.n_skips, e == STEP0_0 ? 1 : 0);
        xout_free(&o);
    }
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* AReaL: the rewards AReaL's backward pass R = s + g R_next
 * (areal/experimental/openai/cache.py:256) turns back into the message
 * rewards. */
START_TEST(areal_rewards)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew(AC_EXPORT_FORMAT_AREAL);
    xout o = convert_ok(x, fx.ep[TAU], fx.plain[TAU]);
    ck_assert_uint_eq(o.records, 1);
    json_t *r = rec(&o, 0);
    figures f = figures_of(fx.ep[TAU], fx.plain[TAU]);
    const double R[] = {f.reward[2], f.reward[4], f.reward[6]};
    static const double DECIMAL[] = {0.075, -0.475, -0.1};
    json_t *rewards = at(r, "rewards"), *set = at(r, "set_rewards");
    assert_json(at(r, "messages"), "[2, 4, 6]");
    ck_assert_double_eq(real_at(r, "turn_discount"), 1.0);
    ck_assert_uint_eq(json_array_size(set), 3);
    static const double S1[] = {0.55, -0.375, -0.1};
    for (size_t k = 0; k < 3; k++) {
        ck_assert(json_real_value(json_array_get(rewards, k)) == R[k]);
        assert_near(R[k], DECIMAL[k], 0.5, "the rewards");
        assert_near(json_real_value(json_array_get(set, k)), S1[k], 0.5,
                    "set_rewards at g = 1");
    }
    /* The backward pass gives the rewards back. */
    double next = 0.0;
    for (size_t k = 3; k-- > 0;) {
        next = json_real_value(json_array_get(set, k)) + 1.0 * next;
        assert_near(next, R[k], 0.5, "AReaL's pass at g = 1");
    }
    xout_free(&o);

    X_OK(ac_export_set_f64(x, AC_EXPORT_PARAM_TURN_DISCOUNT, 0.9), x);
    o = convert_ok(x, fx.ep[TAU], fx.plain[TAU]);
    r = rec(&o, 0);
    set = at(r, "set_rewards");
    ck_assert_double_eq(real_at(r, "turn_discount"), 0.9);
    const double S9[] = {0.075 + 0.9 * 0.475, -0.475 + 0.9 * 0.1, -0.1};
    next = 0.0;
    for (size_t k = 3; k-- > 0;) {
        assert_near(json_real_value(json_array_get(set, k)), S9[k], 0.5,
                    "set_rewards at g = 0.9");
        next = json_real_value(json_array_get(set, k)) + 0.9 * next;
        assert_near(next, R[k], 0.5, "AReaL's pass at g = 0.9");
    }
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* prime-rl: a trace per agent whose reward is the sum of its weighted
 * rewards (verifiers/v1/trace.py:413-414): the credit, with weight 1. */
START_TEST(prime_rl_traces)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew(AC_EXPORT_FORMAT_PRIME_RL);
    xout o = convert_ok(x, fx.ep[TEAM3], fx.plain[TEAM3]);
    figures f = figures_of(fx.ep[TEAM3], fx.plain[TEAM3]);
    ck_assert_uint_eq(o.records, 3);
    static const char *const NAMES[] = {"planner", "coder", "critic"};
    for (size_t i = 0; i < 3; i++) {
        json_t *r = rec(&o, i);
        ck_assert_str_eq(str_at(r, "agent.name"), NAMES[i]);
        ck_assert_double_eq(real_at(r, "rewards.agentcredit.score"),
                            f.credit[i]);
        ck_assert_double_eq(real_at(r, "rewards.agentcredit.weight"), 1.0);
        ck_assert_str_eq(str_at(r, "info.agentcredit.episode"), "team:3");
        ck_assert_str_eq(str_at(r, "info.agentcredit.group"), "team");
        assert_near(sum_json(at(r, "info.agentcredit.turn_rewards")),
                    f.credit[i], 0.5, "turn rewards");
    }
    assert_json(at(rec(&o, 2), "info.agentcredit.turn_rewards"),
                "[-0.25, 0.0]");
    assert_json(at(rec(&o, 2), "info.agentcredit.messages"), "[4, 7]");
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* rLLM: the id's part before its first ':' is the group (rllm/types.py:
 * 333-334; transform.py:127 groups by it and the trajectory's name); a
 * trajectory per agent whose reward is the credit. */
START_TEST(rllm_episodes)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew(AC_EXPORT_FORMAT_RLLM);
    xout o = convert_ok(x, fx.ep[TEAM3], fx.plain[TEAM3]);
    figures f = figures_of(fx.ep[TEAM3], fx.plain[TEAM3]);
    ck_assert_uint_eq(o.records, 1);
    json_t *r = rec(&o, 0);
    const char *id = str_at(r, "id");
    ck_assert_str_eq(id, "team:3");
    ck_assert_int_eq((int)(strchr(id, ':') - id), 4); /* "team" */
    ck_assert(json_is_false(at(r, "is_correct")));
    json_t *ts = at(r, "trajectories");
    ck_assert_uint_eq(json_array_size(ts), 3);
    static const char *const NAMES[] = {"planner", "coder", "critic"};
    for (size_t i = 0; i < 3; i++) {
        json_t *t = json_array_get(ts, i);
        ck_assert_str_eq(str_at(t, "name"), NAMES[i]);
        ck_assert_double_eq(real_at(t, "reward"), f.credit[i]);
        json_t *steps = at(t, "steps");
        double v[8];
        for (size_t k = 0; k < json_array_size(steps); k++) {
            json_t *st = json_array_get(steps, k);
            json_int_t m = json_integer_value(at(st, "metadata.message"));
            ck_assert_uint_eq(f.author[m], i);
            v[k] = real_at(st, "reward");
            ck_assert_double_eq(v[k], f.reward[m]);
        }
        assert_near(th_sum(v, json_array_size(steps)), f.credit[i], 0.5,
                    "the steps' rewards");
    }
    xout_free(&o);
    o = convert_ok(x, fx.ep[TEAM4], fx.plain[TEAM4]);
    ck_assert(json_is_true(at(rec(&o, 0), "is_correct")));
    ck_assert_str_eq(str_at(rec(&o, 0), "id"), "team:4");
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* ===================================================================== */
/* Every format on every fixture: the invariants                         */
/* ===================================================================== */

/* The per-token record of one agent: its mask exactly on its spans, each
 * reward where the placement puts it (exactly: each r_k written once, or
 * r_k / length on each token), the vector adding up to the credit. */
static void check_token_record(const json_t *r, const figures *f,
                               const ac_signals *s, int skyrl, int spread)
{
    uint32_t a = agent_index(s, str_at(r, "agent"));
    json_t *v = at(r, skyrl ? "rewards" : "token_rewards");
    json_t *m = at(r, skyrl ? "loss_mask" : "response_mask");
    uint64_t b0 = (uint64_t)json_integer_value(at(r, "begin"));
    size_t T = (size_t)json_integer_value(at(r, "length"));
    ck_assert_uint_eq(json_array_size(v), T);
    ck_assert_uint_eq(json_array_size(m), T);
    double want[256] = {0};
    int mask[256] = {0};
    ck_assert_uint_le(T, 256);
    for (uint32_t k = 0; k < f->n_msg; k++) {
        if (f->author[k] != a)
            continue;
        size_t b = (size_t)(f->begin[k] - b0), e = (size_t)(f->end[k] - b0);
        for (size_t i = b; i < e; i++) {
            mask[i] = 1;
            if (spread)
                want[i] += f->reward[k] / (double)(e - b);
        }
        if (!spread && e > b)
            want[e - 1] += f->reward[k];
    }
    for (size_t i = 0; i < T; i++) {
        ck_assert_int_eq(json_integer_value(json_array_get(m, i)), mask[i]);
        ck_assert_msg(json_real_value(json_array_get(v, i)) == want[i],
                      "token %zu: %.17g, want %.17g", i,
                      json_real_value(json_array_get(v, i)), want[i]);
    }
    assert_near(sum_json(v), f->credit[a], th_sum_abs(want, T),
                "the tokens' rewards");
    ck_assert_double_eq(real_at(r, "credit"), f->credit[a]);
}

/* AReaL's record: the agent's rewards, and its set_rewards s_k = r_k - g
 * r_{k+1} that AReaL's pass (cache.py:256) turns back into them. */
static void check_areal_record(const json_t *r, const figures *f,
                               const ac_signals *s, double g)
{
    uint32_t a = agent_index(s, str_at(r, "agent"));
    json_t *msgs = at(r, "messages"), *rw = at(r, "rewards"),
           *set = at(r, "set_rewards");
    size_t n = json_array_size(msgs), i = 0;
    ck_assert_uint_eq(json_array_size(rw), n);
    ck_assert_uint_eq(json_array_size(set), n);
    for (uint32_t k = 0; k < f->n_msg; k++)
        if (f->author[k] == a) {
            ck_assert_int_eq(json_integer_value(json_array_get(msgs, i)), k);
            ck_assert(json_real_value(json_array_get(rw, i)) == f->reward[k]);
            i++;
        }
    ck_assert_uint_eq(i, n);
    double next = 0.0;
    for (size_t k = n; k-- > 0;) {
        double rk = json_real_value(json_array_get(rw, k));
        double rn = k + 1 < n ? json_real_value(json_array_get(rw, k + 1))
                              : 0.0;
        ck_assert(json_real_value(json_array_get(set, k)) == rk - g * rn);
        next = json_real_value(json_array_get(set, k)) + g * next;
        assert_near(next, rk, fabs(rk) + fabs(rn), "AReaL's pass");
    }
}

/* The rows (verl, OpenRLHF) of each agent add up to its credit when none
 * of its messages was skipped. */
static void check_rows(const xout *o, const figures *f, const ac_signals *s,
                       int openrlhf)
{
    double sum[8] = {0}, abs_sum[8] = {0};
    for (size_t i = 0; i < o->records; i++) {
        json_t *info = openrlhf
                           ? json_loads(str_at(rec(o, i), "label"), 0, NULL)
                           : json_incref(at(rec(o, i),
                                            "extra_info.agentcredit"));
        uint32_t a = agent_index(s, str_at(info, "agent"));
        json_int_t k = json_integer_value(at(info, "message"));
        ck_assert(real_at(info, "reward") == f->reward[k]);
        ck_assert(real_at(info, "credit") == f->credit[a]);
        sum[a] += f->reward[k];
        abs_sum[a] += fabs(f->reward[k]);
        json_decref(info);
    }
    for (uint32_t a = 0; a < f->n_agents; a++) {
        int skipped = 0;
        for (uint32_t k = 0; k < o->n_skips; k++)
            skipped |= strcmp(o->skip[k].agent, ac_signals_agent_name(s, a)) ==
                       0;
        if (!skipped)
            assert_near(sum[a], f->credit[a], abs_sum[a], "the rows");
    }
}

static void check_invariants(int32_t format, const xout *o, const figures *f,
                             const ac_signals *s, int spread, double g)
{
    for (size_t i = 0; i < o->records; i++) {
        const json_t *r = rec(o, i);
        if (format == AC_EXPORT_FORMAT_VERL_TOKENS ||
            format == AC_EXPORT_FORMAT_SKYRL)
            check_token_record(r, f, s, format == AC_EXPORT_FORMAT_SKYRL,
                               spread);
        if (format == AC_EXPORT_FORMAT_AREAL)
            check_areal_record(r, f, s, g);
        if (format == AC_EXPORT_FORMAT_PRIME_RL)
            ck_assert(real_at(r, "rewards.agentcredit.score") ==
                      f->credit[agent_index(s, str_at(r, "agent.name"))]);
        if (format == AC_EXPORT_FORMAT_TRL_PRM) {
            size_t j;
            json_t *l;
            json_array_foreach(at(r, "labels"), j, l)
                ck_assert(json_is_integer(l));
        }
        if (format == AC_EXPORT_FORMAT_TRL_KTO)
            ck_assert(json_is_boolean(at(r, "label")));
    }
    if (format == AC_EXPORT_FORMAT_VERL || format == AC_EXPORT_FORMAT_OPENRLHF)
        check_rows(o, f, s, format == AC_EXPORT_FORMAT_OPENRLHF);
}

/* Every format, both signals files, every episode, both placements and
 * two discounts: records that are JSON objects with finite numbers and
 * flags as arrays of strings (convert checks those), the invariants above,
 * and the same bytes from the same call again and from a fresh handle. */
START_TEST(every_format_invariants)
{
    int32_t format = _i + 1;
    fixtures fx;
    fx_load(&fx);
    for (int variant = 0; variant < 2; variant++) {
        ac_export *x = xnew_loaded(format, &fx);
        double g = variant ? 0.5 : 1.0;
        X_OK(ac_export_set_int(x, AC_EXPORT_PARAM_PLACEMENT, variant), x);
        X_OK(ac_export_set_f64(x, AC_EXPORT_PARAM_TURN_DISCOUNT, g), x);
        for (int file = 0; file < 2; file++)
            for (int e = 0; e < N_EP; e++) {
                ac_signals *s = file ? fx.repair[e] : fx.plain[e];
                figures f = figures_of(fx.ep[e], s);
                xout o = convert_ok(x, fx.ep[e], s);
                check_invariants(format, &o, &f, s, variant, g);
                xout again = convert_ok(x, fx.ep[e], s);
                assert_same_text(again.text, o.text, "again");
                ck_assert_uint_eq(again.n_skips, o.n_skips);
                ck_assert(memcmp(again.skip, o.skip,
                                 o.n_skips * sizeof o.skip[0]) == 0);
                xout_free(&again);
                ac_export *y = xnew_loaded(format, &fx);
                X_OK(ac_export_set_int(y, AC_EXPORT_PARAM_PLACEMENT, variant),
                     y);
                X_OK(ac_export_set_f64(y, AC_EXPORT_PARAM_TURN_DISCOUNT, g),
                     y);
                again = convert_ok(y, fx.ep[e], s);
                assert_same_text(again.text, o.text, "again");
                xout_free(&again);
                ac_export_free(y);
                xout_free(&o);
            }
        ac_export_free(x);
    }
    fx_free(&fx);
}
END_TEST

/* ===================================================================== */
/* Episodes made for a case, and their signals from a run                */
/* ===================================================================== */

/* v(S) = 0.1 |S|: every agent counts. */
static int count_oracle(void *user, const uint64_t *coalitions,
                        uint32_t words, uint32_t count, double *values,
                        int32_t *status)
{
    (void)user;
    for (uint32_t k = 0; k < count; k++) {
        values[k] = 0.1 * (double)th_popcount(coalitions + (size_t)k * words,
                                              words);
        status[k] = 0;
    }
    return 0;
}

/* The repair source of signals-repair.jsonl: candidate 7, on track at
 * 0.9. */
static int propose_7(void *user, uint32_t step, uint32_t max_count,
                     uint64_t *ids, uint32_t *count)
{
    (void)user;
    (void)step;
    *count = max_count > 0 ? 1 : 0;
    ids[0] = 7;
    return 0;
}

static int judge_09(void *user, uint32_t step, const uint64_t *ids,
                    uint32_t count, double *p, int32_t *status)
{
    (void)user;
    (void)step;
    (void)ids;
    for (uint32_t k = 0; k < count; k++) {
        p[k] = 0.9;
        status[k] = 0;
    }
    return 0;
}

/* The signals of a run on ep, the first error from its annotation, and
 * with `repair` candidate 7 for it. */
static ac_signals *signals_of_run(const ac_episode *ep, int repair)
{
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_create(&p, NULL), AC_OK);
    if (repair)
        ck_assert_int_eq(ac_pipeline_set_repair(p, propose_7, judge_09, NULL),
                         AC_OK);
    ck_assert_int_eq(ac_pipeline_set_int(p, AC_PIPELINE_PARAM_VERIFIER,
                                         AC_VERIFIER_SOURCE_ANNOTATION),
                     AC_OK);
    ck_assert_int_eq(ac_pipeline_set_oracle(p, count_oracle, NULL), AC_OK);
    ck_assert_msg(ac_pipeline_run(p, ep) == AC_OK, "%s",
                  ac_pipeline_last_error(p));
    ac_signals *s = NULL;
    ck_assert_int_eq(ac_pipeline_signals(p, ep, NULL, &s), AC_OK);
    ac_pipeline_free(p);
    return s;
}

static ac_signals *signals_of(const ac_episode *ep)
{
    return signals_of_run(ep, 0);
}

/* An episode of a failure (outcome 0, reference 0.5) from its id,
 * participants and messages (JSON texts), the first error at `first`. */
static ac_episode *episode(const char *id, const char *participants,
                           const char *messages, int first)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"format\":\"agentcredit.episode/1\",\"id\":\"%s\","
             "\"participants\":%s,\"messages\":%s,\"outcome\":0.0,"
             "\"threshold\":0.5,\"reference\":0.5,"
             "\"annotations\":{\"first_error\":%d}}",
             id, participants, messages, first);
    return th_load(text, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
}

/* ===================================================================== */
/* Edge cases                                                            */
/* ===================================================================== */

/* Arguments that are no JSON object: what the agent itself said, with its
 * calls and their arguments as an object (dataset_formats.md:146-151), is
 * skipped, arguments_not_json; another agent's view writes the call as a
 * NAME(ARGUMENTS) line, which holds any text; the other records are
 * written. The episode is built with the C API. */
static const char *const BAD_ARGUMENTS[] = {
    "not json", "[1, 2]", "\"{}\"", "{\"q\": 1", "17", "null", ""};

START_TEST(arguments_not_json)
{
    ac_episode *ep = NULL;
    ck_assert_int_eq(ac_episode_create(&ep, NULL), AC_OK);
    static const char *const NAMES[] = {"user", "a", "b", "tool:f"};
    static const int32_t KINDS[] = {AC_PARTICIPANT_KIND_USER,
                                    AC_PARTICIPANT_KIND_AGENT,
                                    AC_PARTICIPANT_KIND_AGENT,
                                    AC_PARTICIPANT_KIND_TOOL};
    for (uint32_t i = 0; i < 4; i++)
        ck_assert_int_eq(ac_episode_add_participant(ep, NAMES[i], KINDS[i],
                                                    NULL),
                         AC_OK);
    static const uint32_t FROM[] = {0, 1, 2, 1, 3, 2, 1, 2};
    static const char *const TEXT[] = {"go", "first", "second", NULL,
                                       "done", NULL, "last", "bye"};
    for (uint32_t k = 0; k < 8; k++)
        ck_assert_int_eq(ac_episode_add_message(ep, FROM[k], NULL, TEXT[k],
                                                NULL),
                         AC_OK);
    char calls[256];
    json_t *args = json_string(BAD_ARGUMENTS[_i]);
    json_t *list = json_pack("[{s:s, s:s, s:{s:s, s:O}}]", "id", "c1", "type",
                             "function", "function", "name", "f", "arguments",
                             args);
    char *list_text = json_dumps(list, JSON_COMPACT);
    snprintf(calls, sizeof calls, "%s", list_text);
    free(list_text);
    json_decref(list);
    json_decref(args);
    ck_assert_int_eq(ac_episode_set_tool_calls(ep, 3, calls, strlen(calls)),
                     AC_OK);
    ck_assert_int_eq(ac_episode_set_tool_call_id(ep, 4, "c1"), AC_OK);
    ck_assert_int_eq(ac_episode_set_outcome(ep, 0.0), AC_OK);
    ck_assert_int_eq(ac_episode_set_reference(ep, 0.5), AC_OK);
    ck_assert_int_eq(ac_episode_set_first_error_label(ep, 3), AC_OK);
    ck_assert_int_eq(ac_episode_set_id(ep, "args:0"), AC_OK);
    ac_signals *s = signals_of(ep);

    /* verl and OpenRLHF: a's message 3 is a response, written as text;
     * a's message 6 has it in its prompt as a's own turn: skipped. */
    for (int openrlhf = 0; openrlhf < 2; openrlhf++) {
        ac_export *x = xnew(openrlhf ? AC_EXPORT_FORMAT_OPENRLHF
                                     : AC_EXPORT_FORMAT_VERL);
        xout o = convert_ok(x, ep, s);
        ck_assert_uint_eq(o.records, 5); /* a:1, b:2, a:3, b:5, b:7 */
        assert_only_skip(&o, AC_EXPORT_SKIP_REASON_ARGUMENTS_NOT_JSON, 6, "a");
        json_t *b5 = rec(&o, 3);
        json_t *prompt = at(b5, openrlhf ? "input" : "prompt");
        char line[128];
        snprintf(line, sizeof line, "a: f(%s)", BAD_ARGUMENTS[_i]);
        ck_assert_str_eq(str_at(prompt, "3.content"), line);
        ck_assert_str_eq(str_at(prompt, "3.role"), "user");
        ck_assert_str_eq(str_at(prompt, "3.name"), "a");
        assert_json(json_array_get(prompt, 4),
                    "{\"role\":\"tool\",\"name\":\"f\",\"tool_call_id\":"
                    "\"c1\",\"content\":\"done\"}");
        /* Text null without calls: content "" (exports-spec.md 3). */
        json_t *b7 = rec(&o, 4);
        prompt = at(b7, openrlhf ? "input" : "prompt");
        assert_json(json_array_get(prompt, 5),
                    "{\"role\":\"assistant\",\"content\":\"\"}");
        if (!openrlhf) {
            ck_assert_str_eq(str_at(b5, "reward_model.ground_truth"), "");
            snprintf(line, sizeof line, "f(%s)", BAD_ARGUMENTS[_i]);
            ck_assert_str_eq(str_at(rec(&o, 2), "reward_model.ground_truth"),
                             line);
        }
        xout_free(&o);
        ac_export_free(x);
    }
    /* KTO and DPO-like turns: a's messages 3 and 6 carry or follow the
     * call as a's own turn: both skipped; b's records written. */
    figures f = figures_of(ep, s);
    ac_export *x = xnew(AC_EXPORT_FORMAT_TRL_KTO);
    xout o = convert_ok(x, ep, s);
    uint32_t want = 0;
    for (uint32_t k = 0; k < f.n_msg; k++)
        want += f.author[k] != UINT32_MAX && f.reward[k] != 0 && k != 3 &&
                k != 6;
    ck_assert_uint_eq(o.records, want);
    ck_assert_uint_ge(want, 3);
    ck_assert(has_skip(&o, AC_EXPORT_SKIP_REASON_ARGUMENTS_NOT_JSON, 3, "a"));
    ck_assert(has_skip(&o, AC_EXPORT_SKIP_REASON_ARGUMENTS_NOT_JSON, 6, "a") ||
              (f.reward[6] == 0 &&
               has_skip(&o, AC_EXPORT_SKIP_REASON_ZERO_REWARD, 6, "a")));
    xout_free(&o);
    ac_export_free(x);
    /* The text formats write the call as given. */
    x = xnew(AC_EXPORT_FORMAT_TRL_PRM);
    o = convert_ok(x, ep, s);
    char line[128];
    snprintf(line, sizeof line, "a: f(%s)", BAD_ARGUMENTS[_i]);
    ck_assert_str_eq(str_at(rec(&o, 0), "completions.2"), line);
    ck_assert_str_eq(str_at(rec(&o, 0), "completions.4"), "b: ");
    xout_free(&o);
    ac_export_free(x);
    ac_signals_free(s);
    ac_episode_free(ep);
}
END_TEST

/* Arguments that are a JSON object's text, or an object: the turn carries
 * the object (dataset_formats.md:146-151), the text line the arguments as
 * given, or an object compactly. */
START_TEST(arguments_as_objects)
{
    static const char *const MESSAGES =
        "[{\"from\":\"user\",\"text\":\"go\"},"
        "{\"from\":\"a\",\"text\":\"calling\",\"tool_calls\":["
        "{\"id\":\"c1\",\"function\":{\"name\":\"f\",\"arguments\":"
        "\"{\\\"q\\\": [1, 2.5], \\\"s\\\": \\\"\\u00e9\\\"}\"}},"
        "{\"type\":\"function\",\"function\":{\"name\":\"g\",\"arguments\":"
        "{\"n\":{\"deep\":true}}}}]},"
        "{\"from\":\"tool:f\",\"text\":\"ok\",\"name\":\"f_named\"},"
        "{\"from\":\"a\",\"text\":\"end\"}]";
    ac_episode *ep = episode("obj:1",
                             "[{\"name\":\"user\",\"kind\":\"user\"},"
                             "{\"name\":\"a\",\"kind\":\"agent\"},"
                             "{\"name\":\"tool:f\",\"kind\":\"tool\"}]",
                             MESSAGES, 1);
    ac_signals *s = signals_of(ep);
    ac_export *x = xnew(AC_EXPORT_FORMAT_VERL);
    xout o = convert_ok(x, ep, s);
    ck_assert_uint_eq(o.records, 2);
    ck_assert_uint_eq(o.n_skips, 0);
    json_t *turn = at(rec(&o, 1), "prompt.1");
    assert_json(turn,
                "{\"role\":\"assistant\",\"content\":\"calling\",\"tool_calls\":["
                "{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":"
                "\"f\",\"arguments\":{\"q\":[1,2.5],\"s\":\"\\u00e9\"}}},"
                "{\"type\":\"function\",\"function\":{\"name\":\"g\","
                "\"arguments\":{\"n\":{\"deep\":true}}}}]}");
    /* The tool message's own name wins over its participant's. */
    assert_json(at(rec(&o, 1), "prompt.2"),
                "{\"role\":\"tool\",\"name\":\"f_named\",\"content\":\"ok\"}");
    ck_assert_str_eq(str_at(rec(&o, 0), "reward_model.ground_truth"),
                     "calling\nf({\"q\": [1, 2.5], \"s\": \"\xc3\xa9\"})\n"
                     "g({\"n\":{\"deep\":true}})");
    xout_free(&o);
    ac_export_free(x);
    ac_signals_free(s);
    ac_episode_free(ep);
}
END_TEST

/* The step0:1 line of signals-repair.jsonl with another pair. */
static ac_signals *step0_1_pair(const char *pair_json)
{
    char *lines = slurp("signals-repair.jsonl");
    char *line = strstr(lines, "{\"format\":\"agentcredit.signals/1\","
                               "\"id\":\"step0:1\"");
    ck_assert_ptr_nonnull(line);
    *strchr(line, '\n') = '\0';
    char *pair = strstr(line, "\"pair\":{\"kind\":\"repair\"");
    ck_assert_ptr_nonnull(pair);
    char text[4096];
    snprintf(text, sizeof text, "%.*s\"pair\":%s%s", (int)(pair - line), line,
             pair_json, strstr(pair, "},\"audit\"") + 1);
    ac_signals *s = NULL;
    char err[256];
    ck_assert_msg(ac_signals_load_json(&s, text, strlen(text), NULL, NULL,
                                       AC_JSON_STRICT, err, sizeof err, NULL,
                                       0) == AC_OK,
                  "%s", err);
    free(lines);
    return s;
}

/* A corrective pair's chosen side is the later message of the transcript,
 * written as the erring agent's turn. */
START_TEST(corrective_pair)
{
    fixtures fx;
    fx_load(&fx);
    ac_signals *s = step0_1_pair(
        "{\"kind\":\"corrective\",\"agent\":\"solver\",\"step\":2,"
        "\"prompt_end\":2,\"chosen\":4,\"candidates\":0,\"verified\":0,"
        "\"confidence\":1.0,\"localization\":1.0,\"weight\":1.0}");
    ac_export *x = xnew(AC_EXPORT_FORMAT_TRL_DPO);
    xout o = convert_ok(x, fx.ep[STEP0_1], s);
    ck_assert_uint_eq(o.records, 1);
    assert_json(at(rec(&o, 0), "chosen"),
                "[{\"role\":\"assistant\",\"content\":\"9.11\"}]");
    xout_free(&o);
    ac_export_free(x);
    x = xnew(AC_EXPORT_FORMAT_TRL_DPO_STANDARD);
    o = convert_ok(x, fx.ep[STEP0_1], s);
    ck_assert_str_eq(str_at(rec(&o, 0), "chosen"), "9.11");
    xout_free(&o);
    ac_export_free(x);
    ac_signals_free(s);
    fx_free(&fx);
}
END_TEST

/* The trained agents: records for them only; an episode without one is
 * skipped, not_trained_agent; a pair of an untrained agent too. */
START_TEST(trained_agents)
{
    fixtures fx;
    fx_load(&fx);
    const char *nobody[] = {"nobody"};
    for (int32_t f = 1; f <= N_FORMATS; f++) {
        ac_export *x = xnew_loaded(f, &fx);
        X_OK(ac_export_set_agents(x, nobody, 1), x);
        xout o = convert_ok(x, fx.ep[TEAM3], fx.repair[TEAM3]);
        ck_assert_uint_eq(o.records, 0);
        assert_only_skip(&o, AC_EXPORT_SKIP_REASON_NOT_TRAINED_AGENT, -1, "");
        xout_free(&o);
        ac_export_free(x);
    }
    ac_export *x = xnew_loaded(AC_EXPORT_FORMAT_TRL_DPO, &fx);
    const char *planner[] = {"nobody", "planner"};
    X_OK(ac_export_set_agents(x, planner, 2), x);
    xout o = convert_ok(x, fx.ep[TEAM3], fx.repair[TEAM3]);
    ck_assert_uint_eq(o.records, 0);
    assert_only_skip(&o, AC_EXPORT_SKIP_REASON_NOT_TRAINED_AGENT, 4,
                     "critic");
    xout_free(&o);
    ac_export_free(x);
    /* KTO for the coder: its messages 2, 5 and 8 only. */
    x = xnew(AC_EXPORT_FORMAT_TRL_KTO);
    const char *coder[] = {"coder"};
    X_OK(ac_export_set_agents(x, coder, 1), x);
    o = convert_ok(x, fx.ep[TEAM3], fx.plain[TEAM3]);
    ck_assert_uint_eq(o.records, 3);
    ck_assert_uint_eq(json_array_size(at(rec(&o, 0), "prompt")), 2);
    ck_assert_uint_eq(json_array_size(at(rec(&o, 1), "prompt")), 5);
    ck_assert_uint_eq(json_array_size(at(rec(&o, 2), "prompt")), 8);
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* Speaker prefix off: the others' text as it is, their names still on the
 * turns. */
START_TEST(speaker_prefix_off)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew_loaded(AC_EXPORT_FORMAT_TRL_DPO, &fx);
    X_OK(ac_export_set_int(x, AC_EXPORT_PARAM_SPEAKER_PREFIX, 0), x);
    int64_t v = -1;
    ck_assert_int_eq(ac_export_get_int(x, AC_EXPORT_PARAM_SPEAKER_PREFIX, &v),
                     AC_OK);
    ck_assert_int_eq(v, 0);
    xout o = convert_ok(x, fx.ep[TEAM3], fx.repair[TEAM3]);
    assert_json(at(rec(&o, 0), "prompt.1"),
                "{\"role\":\"user\",\"name\":\"planner\",\"content\":\"Plan: "
                "group by key, then sum.\"}");
    xout_free(&o);
    ac_export_free(x);
    x = xnew(AC_EXPORT_FORMAT_TRL_PRM);
    X_OK(ac_export_set_int(x, AC_EXPORT_PARAM_SPEAKER_PREFIX, 0), x);
    o = convert_ok(x, fx.ep[TEAM3], fx.plain[TEAM3]);
    ck_assert_str_eq(str_at(rec(&o, 0), "completions.0"),
                     "Plan: group by key, then sum.");
    ck_assert_str_eq(str_at(rec(&o, 0), "completions.2"), "tests: 3 passed");
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* The group: the id up to the last separator; "" keeps the whole id; a
 * separator the id lacks too. */
START_TEST(group_separator)
{
    fixtures fx;
    fx_load(&fx);
    static const struct {
        const char *sep, *group;
    } CASES[] = {{NULL, "tau-cancel"},  {":", "tau-cancel"},
                 {"", "tau-cancel:0"},  {"-", "tau"},
                 {"cancel:", "tau-"},   {"#", "tau-cancel:0"},
                 {"tau-cancel:0+", "tau-cancel:0"}};
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        ac_export *x = xnew(AC_EXPORT_FORMAT_VERL);
        X_OK(ac_export_set_str(x, AC_EXPORT_PARAM_GROUP_SEP, CASES[c].sep),
             x);
        xout o = convert_ok(x, fx.ep[TAU], fx.plain[TAU]);
        ck_assert_str_eq(str_at(rec(&o, 0), "extra_info.agentcredit.group"),
                         CASES[c].group);
        char key[96];
        snprintf(key, sizeof key, "%s:assistant:0", CASES[c].group);
        ck_assert_str_eq(str_at(rec(&o, 0), "extra_info.agentcredit.key"),
                         key);
        xout_free(&o);
        ac_export_free(x);
    }
    /* rLLM: GROUP:ROLLOUT, the rollout what follows the separator. */
    ac_export *x = xnew(AC_EXPORT_FORMAT_RLLM);
    X_OK(ac_export_set_str(x, AC_EXPORT_PARAM_GROUP_SEP, "-"), x);
    xout o = convert_ok(x, fx.ep[TAU], fx.plain[TAU]);
    ck_assert_str_eq(str_at(rec(&o, 0), "id"), "tau:cancel:0");
    xout_free(&o);
    ac_export_free(x);
    /* An id without a separator: the rollout "0". */
    ac_episode *ep = episode("solo", "[{\"name\":\"a\",\"kind\":\"agent\"}]",
                             "[{\"from\":\"a\",\"text\":\"x\"}]", 0);
    ac_signals *s = signals_of(ep);
    x = xnew(AC_EXPORT_FORMAT_RLLM);
    o = convert_ok(x, ep, s);
    ck_assert_str_eq(str_at(rec(&o, 0), "id"), "solo:0");
    xout_free(&o);
    ac_export_free(x);
    ac_signals_free(s);
    ac_episode_free(ep);
    fx_free(&fx);
}
END_TEST

/* AC_EXPORT_PARAM_TOOLS: the schemas as every conversational record's
 * "tools" column (TRL passes it to the chat template:
 * dpo_trainer.py:1019-1022, kto_trainer.py:1052-1055,
 * reward_trainer.py:665-667); the string formats have none. */
START_TEST(tools_column)
{
    fixtures fx;
    fx_load(&fx);
    static const char *const TOOLS =
        "[{\"type\":\"function\",\"function\":{\"name\":\"get_order_details\","
        "\"parameters\":{\"type\":\"object\"}}}]";
    for (int32_t f = 1; f <= N_FORMATS; f++) {
        ac_export *x = xnew_loaded(f, &fx);
        X_OK(ac_export_set_str(x, AC_EXPORT_PARAM_TOOLS, TOOLS), x);
        const char *v = NULL;
        ck_assert_int_eq(ac_export_get_str(x, AC_EXPORT_PARAM_TOOLS, &v),
                         AC_OK);
        ck_assert_str_eq(v, TOOLS);
        xout o = convert_ok(x, fx.ep[TEAM3], fx.repair[TEAM3]);
        int chat = f == AC_EXPORT_FORMAT_TRL_DPO ||
                   f == AC_EXPORT_FORMAT_TRL_REWARD ||
                   f == AC_EXPORT_FORMAT_TRL_KTO || f == AC_EXPORT_FORMAT_VERL;
        ck_assert_uint_gt(o.records, 0);
        for (size_t i = 0; i < o.records; i++) {
            json_t *tools = json_object_get(rec(&o, i), "tools");
            ck_assert_msg((tools != NULL) == chat, "%s: tools %s",
                          ac_export_format_name(f),
                          tools != NULL ? "written" : "missing");
            if (chat)
                assert_json(tools, TOOLS);
        }
        xout_free(&o);
        ac_export_free(x);
    }
    fx_free(&fx);
}
END_TEST

/* verl's data_source (naive.py:121 reads it for the score function). */
START_TEST(data_source)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew(AC_EXPORT_FORMAT_VERL);
    X_OK(ac_export_set_str(x, AC_EXPORT_PARAM_DATA_SOURCE, "agents/gsm8k"), x);
    xout o = convert_ok(x, fx.ep[TEAM3], fx.plain[TEAM3]);
    ck_assert_uint_eq(o.records, 7);
    for (size_t i = 0; i < o.records; i++)
        ck_assert_str_eq(str_at(rec(&o, i), "data_source"), "agents/gsm8k");
    xout_free(&o);
    X_OK(ac_export_set_str(x, AC_EXPORT_PARAM_DATA_SOURCE, NULL), x);
    o = convert_ok(x, fx.ep[TEAM3], fx.plain[TEAM3]);
    ck_assert_str_eq(str_at(rec(&o, 0), "data_source"), "agentcredit");
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* ===================================================================== */
/* Errors                                                                */
/* ===================================================================== */

/* A conversion that fails after one that wrote records and skips: the
 * status, a message holding `says`, and nothing of the earlier result. */
static void fails_after_success(ac_export *x, const ac_episode *good_ep,
                                const ac_signals *good_s,
                                const ac_episode *ep, const ac_signals *s,
                                int want, const char *says)
{
    xout o = convert_ok(x, good_ep, good_s);
    ck_assert_uint_gt(o.records + o.n_skips, 0);
    xout_free(&o);
    o = convert(x, ep, s);
    ck_assert_msg(o.rc == want, "%s, want %s (%s)", ac_status_name(o.rc),
                  ac_status_name(want), o.err);
    const char *keywords[] = {says, NULL};
    ck_assert_msg(th_names(o.err, keywords), "\"%s\" does not name \"%s\"",
                  o.err, says);
    xout_free(&o);
}

START_TEST(names_and_null_arguments)
{
    for (int32_t f = 1; f <= N_FORMATS; f++)
        ck_assert_int_eq(ac_export_format_from_name(ac_export_format_name(f)),
                         f);
    ck_assert_str_eq(ac_export_format_name(AC_EXPORT_FORMAT_SKYRL), "skyrl");
    ck_assert_ptr_null(ac_export_format_name(0));
    ck_assert_ptr_null(ac_export_format_name(N_FORMATS + 1));
    ck_assert_int_eq(ac_export_format_from_name("trl"), 0);
    ck_assert_int_eq(ac_export_format_from_name(NULL), 0);
    static const char *const SKIPS[] = {
        NULL, "empty_prompt", "no_pair", "no_candidate_text", "zero_reward",
        "no_tokens", "arguments_not_json", "not_trained_agent"};
    for (int32_t k = 1; k < 8; k++)
        ck_assert_str_eq(ac_export_skip_name(k), SKIPS[k]);
    ck_assert_ptr_null(ac_export_skip_name(0));
    ck_assert_ptr_null(ac_export_skip_name(8));

    /* create: out NULL, an unknown format, a malformed allocator. */
    ac_export *x = (ac_export *)(void *)&x;
    ck_assert_int_eq(ac_export_create(NULL, 1, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_create(&x, 0, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_create(&x, N_FORMATS + 1, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_create(&x, -1, NULL), AC_E_INVALID_ARG);
    th_fail_alloc fa = {0, -1, 0, 0};
    ac_allocator bad = th_fail_allocator(&fa);
    bad.struct_size = 4;
    ck_assert_int_eq(ac_export_create(&x, 1, &bad), AC_E_INVALID_ARG);
    ck_assert_ptr_eq(x, (ac_export *)(void *)&x);

    /* Every call on NULL. */
    int64_t i64 = 0;
    double f64 = 0;
    const char *str = NULL;
    uint32_t u32 = 0;
    ck_assert_str_eq(ac_export_last_error(NULL), "");
    ck_assert_int_eq(ac_export_format_of(NULL), 0);
    ac_export_free(NULL);
    ck_assert_int_eq(ac_export_set_int(NULL, AC_EXPORT_PARAM_PLACEMENT, 0),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_get_int(NULL, AC_EXPORT_PARAM_PLACEMENT, &i64),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_set_f64(NULL, AC_EXPORT_PARAM_TURN_DISCOUNT, 1),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_get_f64(NULL, AC_EXPORT_PARAM_TURN_DISCOUNT,
                                       &f64),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_set_str(NULL, AC_EXPORT_PARAM_GROUP_SEP, ":"),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_get_str(NULL, AC_EXPORT_PARAM_GROUP_SEP, &str),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_set_agents(NULL, NULL, 0), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_load_candidates(NULL, "{}", 2, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_episode(NULL, NULL, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_text(NULL, &str, NULL, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_skip_count(NULL, &u32), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_skip(NULL, 0, NULL, NULL, NULL),
                     AC_E_INVALID_ARG);

    fixtures fx;
    fx_load(&fx);
    x = xnew(AC_EXPORT_FORMAT_TRL_KTO);
    ck_assert_str_eq(ac_export_last_error(x), "");
    ck_assert_int_eq(ac_export_get_int(x, AC_EXPORT_PARAM_PLACEMENT, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_get_f64(x, AC_EXPORT_PARAM_TURN_DISCOUNT, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_get_str(x, AC_EXPORT_PARAM_TOOLS, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_skip_count(x, NULL), AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_export_text(x, NULL, NULL, NULL), AC_OK);
    const char *nul[] = {"a", NULL}, *empty[] = {"a", ""};
    ck_assert_int_eq(ac_export_set_agents(x, NULL, 1), AC_E_INVALID_ARG);
    ck_assert(th_icontains(ac_export_last_error(x), "NULL"));
    ck_assert_int_eq(ac_export_set_agents(x, nul, 2), AC_E_INVALID_ARG);
    ck_assert(th_icontains(ac_export_last_error(x), "names[1] is NULL"));
    ck_assert_int_eq(ac_export_set_agents(x, empty, 2), AC_E_INVALID_ARG);
    ck_assert(th_icontains(ac_export_last_error(x), "names[1] is empty"));
    ck_assert_int_eq(ac_export_load_candidates(x, NULL, 0, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_str_ne(ac_export_last_error(x), "");
    fails_after_success(x, fx.ep[TEAM3], fx.plain[TEAM3], NULL,
                        fx.plain[TEAM3], AC_E_INVALID_ARG, "NULL");
    fails_after_success(x, fx.ep[TEAM3], fx.plain[TEAM3], fx.ep[TEAM3], NULL,
                        AC_E_INVALID_ARG, "NULL");
    /* Signals of another episode: what differs. */
    fails_after_success(x, fx.ep[TEAM3], fx.plain[TEAM3], fx.ep[TEAM3],
                        fx.plain[TEAM4], AC_E_INVALID_ARG, "not the episode's");
    fails_after_success(x, fx.ep[TEAM3], fx.plain[TEAM3], fx.ep[TAU],
                        fx.plain[STEP0_1], AC_E_INVALID_ARG, "step0:1");
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* Each parameter's bounds, the wrong type and unknown ids; a refused
 * value changes nothing. */
START_TEST(parameters)
{
    ac_export *x = xnew(AC_EXPORT_FORMAT_VERL_TOKENS);
    static const struct {
        int32_t id;
        int64_t lo, hi, def;
        const char *name;
    } INTS[] = {{AC_EXPORT_PARAM_PLACEMENT, 0, 1, 0,
                 "AC_EXPORT_PARAM_PLACEMENT"},
                {AC_EXPORT_PARAM_SPEAKER_PREFIX, 0, 1, 1,
                 "AC_EXPORT_PARAM_SPEAKER_PREFIX"},
                {AC_EXPORT_PARAM_MAX_TOKENS, 1, 67108864, 1048576,
                 "AC_EXPORT_PARAM_MAX_TOKENS"}};
    for (size_t p = 0; p < 3; p++) {
        int64_t v = -7;
        ck_assert_int_eq(ac_export_get_int(x, INTS[p].id, &v), AC_OK);
        ck_assert_int_eq(v, INTS[p].def);
        const int64_t bad[] = {INTS[p].lo - 1, INTS[p].hi + 1, INT64_MIN,
                               INT64_MAX};
        for (size_t b = 0; b < 4; b++) {
            ck_assert_int_eq(ac_export_set_int(x, INTS[p].id, bad[b]),
                             AC_E_PARAM_OUT_OF_BOUND);
            ck_assert(th_icontains(ac_export_last_error(x), INTS[p].name));
            ck_assert_int_eq(ac_export_get_int(x, INTS[p].id, &v), AC_OK);
            ck_assert_int_eq(v, INTS[p].def);
        }
        X_OK(ac_export_set_int(x, INTS[p].id, INTS[p].lo), x);
        X_OK(ac_export_set_int(x, INTS[p].id, INTS[p].hi), x);
        ck_assert_int_eq(ac_export_get_int(x, INTS[p].id, &v), AC_OK);
        ck_assert_int_eq(v, INTS[p].hi);
        /* An integer through the real setter: the wrong type. */
        ck_assert_int_eq(ac_export_set_f64(x, INTS[p].id, 0.0),
                         AC_E_INVALID_ARG);
        ck_assert(th_icontains(ac_export_last_error(x), "ac_export_set_int"));
        ck_assert_int_eq(ac_export_get_f64(x, INTS[p].id, &(double){0}),
                         AC_E_INVALID_ARG);
        ck_assert_int_eq(ac_export_set_str(x, INTS[p].id, "1"),
                         AC_E_INVALID_ARG);
        ck_assert(th_icontains(ac_export_last_error(x), "not a string"));
    }
    const double bad_g[] = {-0.1, -DBL_MIN, nextafter(1.0, 2.0), NAN, INFINITY,
                            -INFINITY, 1e308};
    for (size_t b = 0; b < sizeof bad_g / sizeof bad_g[0]; b++) {
        ck_assert_int_eq(ac_export_set_f64(x, AC_EXPORT_PARAM_TURN_DISCOUNT,
                                           bad_g[b]),
                         AC_E_PARAM_OUT_OF_BOUND);
        ck_assert(th_icontains(ac_export_last_error(x),
                               "AC_EXPORT_PARAM_TURN_DISCOUNT"));
        double g = -1;
        ck_assert_int_eq(ac_export_get_f64(x, AC_EXPORT_PARAM_TURN_DISCOUNT,
                                           &g),
                         AC_OK);
        ck_assert_double_eq(g, 1.0);
    }
    X_OK(ac_export_set_f64(x, AC_EXPORT_PARAM_TURN_DISCOUNT, 0.0), x);
    X_OK(ac_export_set_f64(x, AC_EXPORT_PARAM_TURN_DISCOUNT, 1.0), x);
    ck_assert_int_eq(ac_export_set_int(x, AC_EXPORT_PARAM_TURN_DISCOUNT, 1),
                     AC_E_INVALID_ARG);
    ck_assert(th_icontains(ac_export_last_error(x), "ac_export_set_f64"));
    /* A string parameter through the number setters and getters. */
    static const int32_t STRS[] = {
        AC_EXPORT_PARAM_EMPTY_PROMPT, AC_EXPORT_PARAM_GROUP_SEP,
        AC_EXPORT_PARAM_TOOLS, AC_EXPORT_PARAM_DATA_SOURCE};
    for (size_t p = 0; p < 4; p++) {
        ck_assert_int_eq(ac_export_set_int(x, STRS[p], 0), AC_E_INVALID_ARG);
        ck_assert(th_icontains(ac_export_last_error(x), "ac_export_set_str"));
        ck_assert_int_eq(ac_export_set_f64(x, STRS[p], 0), AC_E_INVALID_ARG);
        ck_assert(th_icontains(ac_export_last_error(x), "string"));
        ck_assert_int_eq(ac_export_get_int(x, STRS[p], &(int64_t){0}),
                         AC_E_INVALID_ARG);
        ck_assert_int_eq(ac_export_get_f64(x, STRS[p], &(double){0}),
                         AC_E_INVALID_ARG);
        const char *v = "unset";
        ck_assert_int_eq(ac_export_get_str(x, STRS[p], &v), AC_OK);
        ck_assert_ptr_null(v);
        /* Not UTF-8: refused, nothing changed. */
        X_OK(ac_export_set_str(x, STRS[p], STRS[p] == AC_EXPORT_PARAM_TOOLS
                                               ? "[]"
                                               : "kept"),
             x);
        ck_assert_int_eq(ac_export_set_str(x, STRS[p], "caf\xe9"),
                         AC_E_INVALID_ARG);
        ck_assert(th_icontains(ac_export_last_error(x), "UTF-8"));
        ck_assert_int_eq(ac_export_get_str(x, STRS[p], &v), AC_OK);
        ck_assert_str_eq(v, STRS[p] == AC_EXPORT_PARAM_TOOLS ? "[]" : "kept");
    }
    /* TOOLS must be a JSON array. */
    static const char *const NOT_TOOLS[] = {"{}", "\"[]\"", "[", "", "[1]x"};
    for (size_t t = 0; t < 5; t++) {
        ck_assert_int_eq(ac_export_set_str(x, AC_EXPORT_PARAM_TOOLS,
                                           NOT_TOOLS[t]),
                         AC_E_INVALID_ARG);
        ck_assert(th_icontains(ac_export_last_error(x),
                               "AC_EXPORT_PARAM_TOOLS"));
        const char *v = NULL;
        ck_assert_int_eq(ac_export_get_str(x, AC_EXPORT_PARAM_TOOLS, &v),
                         AC_OK);
        ck_assert_str_eq(v, "[]");
    }
    /* Unknown ids. */
    static const int32_t UNKNOWN[] = {0, 499, 504, 509, 514, 400, -1};
    for (size_t u = 0; u < sizeof UNKNOWN / sizeof UNKNOWN[0]; u++) {
        ck_assert_int_eq(ac_export_set_int(x, UNKNOWN[u], 0),
                         AC_E_PARAM_UNSUPPORTED);
        ck_assert(th_icontains(ac_export_last_error(x), "export"));
        ck_assert_int_eq(ac_export_set_f64(x, UNKNOWN[u], 0),
                         AC_E_PARAM_UNSUPPORTED);
        ck_assert_int_eq(ac_export_set_str(x, UNKNOWN[u], "x"),
                         AC_E_PARAM_UNSUPPORTED);
        ck_assert(th_icontains(ac_export_last_error(x), "not a string"));
        ck_assert_int_eq(ac_export_get_int(x, UNKNOWN[u], &(int64_t){0}),
                         AC_E_PARAM_UNSUPPORTED);
        ck_assert_int_eq(ac_export_get_f64(x, UNKNOWN[u], &(double){0}),
                         AC_E_PARAM_UNSUPPORTED);
    }
    ac_export_free(x);
}
END_TEST

/* Candidates files malformed in each way export_candidates.c checks: the
 * message names the place; what was loaded before stays. */
static const struct {
    const char *text, *says;
} BAD_CANDIDATES[] = {
    {"[]", "(top): an object of episodes"},
    {"{\"e\": 5}", "\"e\": an object of candidates"},
    {"{\"e\": {\"x\": \"t\"}}", "\"e\".\"x\": a candidate id"},
    {"{\"e\": {\"\": \"t\"}}", "\"e\".\"\": a candidate id"},
    {"{\"e\": {\"07\": \"t\"}}", "\"e\".\"07\": a candidate id"},
    {"{\"e\": {\"-1\": \"t\"}}", "\"e\".\"-1\": a candidate id"},
    {"{\"e\": {\"18446744073709551616\": \"t\"}}",
     "\"e\".\"18446744073709551616\": a candidate id"},
    {"{\"e\": {\"99999999999999999999\": \"t\"}}", "a candidate id"},
    {"{\"e\": {\"184467440737095516150\": \"t\"}}", "a candidate id"},
    {"{\"e\": {\"7\": 5}}", "\"e\".\"7\": a text or an assistant message"},
    {"{\"e\": {\"7\": null}}", "\"e\".\"7\": a text or an assistant message"},
    {"{\"e\": {\"7\": {\"role\": \"user\"}}}", "\"e\".\"7\": role"},
    {"{\"e\": {\"7\": {\"role\": 1}}}", "\"e\".\"7\": role"},
    {"{\"e\": {\"7\": {\"content\": 5}}}", "\"e\".\"7\": content"},
    {"{\"e\": {\"7\": {\"tool_calls\": {}}}}",
     "\"e\".\"7\": tool_calls: an array"},
    {"{\"e\": {\"7\": {\"tool_calls\": [5]}}}",
     "\"e\".\"7\".tool_calls[0]: an object"},
    {"{\"e\": {\"7\": {\"name\": \"x\"}}}", "\"e\".\"7\": unknown key \"name\""},
    {"{\"e\": {\"7\": {\"tool_calls\": [{\"function\": {\"name\": \"f\", "
     "\"arguments\": \"{}\"}, \"extra\": 1}]}}}",
     "\"e\".\"7\".tool_calls[0]: unknown key \"extra\""},
    {"{\"e\": {\"7\": {\"tool_calls\": [{\"id\": 5, \"function\": {\"name\": "
     "\"f\", \"arguments\": \"{}\"}}]}}}",
     "\"e\".\"7\".tool_calls[0]: id: a string"},
    {"{\"e\": {\"7\": {\"tool_calls\": [{\"function\": {\"arguments\": "
     "\"{}\"}}]}}}",
     "\"e\".\"7\".tool_calls[0]: function.name"},
    {"{\"e\": {\"7\": {\"tool_calls\": [{\"function\": {\"name\": 3, "
     "\"arguments\": \"{}\"}}]}}}",
     "tool_calls[0]: function.name"},
    {"{\"e\": {\"7\": {\"tool_calls\": [{}, {\"function\": {\"name\": \"f\", "
     "\"arguments\": 5}}]}}}",
     "\"e\".\"7\".tool_calls[0]: function.name"},
    {"{\"e\": {\"7\": {\"tool_calls\": [{\"function\": {\"name\": \"f\", "
     "\"arguments\": 5}}]}}}",
     "\"e\".\"7\".tool_calls[0]: function.arguments"},
    {"{\"e\": {\"7\": {\"tool_calls\": [{\"function\": {\"name\": \"f\"}}]}}}",
     "function.arguments"},
    {"{\"e\": {\"7\": \"t\", \"8\": {\"tool_calls\": [{\"function\": "
     "{\"name\": \"f\", \"arguments\": [1]}}]}}}",
     "\"e\".\"8\".tool_calls[0]: function.arguments"},
};

START_TEST(candidates_malformed)
{
    fixtures fx;
    fx_load(&fx);
    ac_export *x = xnew_loaded(AC_EXPORT_FORMAT_TRL_DPO, &fx);
    for (size_t c = 0; c < sizeof BAD_CANDIDATES / sizeof BAD_CANDIDATES[0];
         c++) {
        const char *t = BAD_CANDIDATES[c].text;
        ck_assert_int_eq(ac_export_load_candidates(x, t, strlen(t), NULL),
                         AC_E_PARSE);
        ck_assert_msg(strstr(ac_export_last_error(x), BAD_CANDIDATES[c].says),
                      "%s: \"%s\" does not say \"%s\"", t,
                      ac_export_last_error(x), BAD_CANDIDATES[c].says);
        /* What was loaded stays. */
        xout o = convert_ok(x, fx.ep[STEP0_1], fx.repair[STEP0_1]);
        ck_assert_str_eq(str_at(rec(&o, 0), "chosen.0.content"), "9.8");
        xout_free(&o);
    }
    /* Not JSON: line and column. */
    ck_assert_int_eq(ac_export_load_candidates(x, "{\n \"e\": }", 9, NULL),
                     AC_E_PARSE);
    ck_assert(th_icontains(ac_export_last_error(x), "line 2"));
    /* A limit: the text too large. */
    ac_json_limits lim;
    ac_json_limits_default(&lim);
    lim.max_bytes = 8;
    ck_assert_int_eq(ac_export_load_candidates(x, fx.candidates,
                                               strlen(fx.candidates), &lim),
                     AC_E_TOO_LARGE);
    xout o = convert_ok(x, fx.ep[STEP0_1], fx.repair[STEP0_1]);
    ck_assert_str_eq(str_at(rec(&o, 0), "chosen.0.content"), "9.8");
    xout_free(&o);
    /* The largest id, and a message with no content: accepted; a new load
     * replaces the old one. */
    static const char *const GOOD =
        "{\"step0:1\": {\"18446744073709551615\": \"x\", \"7\": "
        "{\"role\": \"assistant\"}}}";
    X_OK(ac_export_load_candidates(x, GOOD, strlen(GOOD), NULL), x);
    o = convert_ok(x, fx.ep[STEP0_1], fx.repair[STEP0_1]);
    assert_json(at(rec(&o, 0), "chosen"),
                "[{\"role\":\"assistant\",\"content\":\"\"}]");
    xout_free(&o);
    o = convert_ok(x, fx.ep[TEAM3], fx.repair[TEAM3]);
    assert_only_skip(&o, AC_EXPORT_SKIP_REASON_NO_CANDIDATE_TEXT, 4,
                     "critic");
    xout_free(&o);
    ac_export_free(x);
    fx_free(&fx);
}
END_TEST

/* rLLM splits ids at their first ':' (rllm/types.py:333-334): a group or
 * a trained agent's name holding one is refused, naming it. */
START_TEST(rllm_refuses_colons)
{
    fixtures fx;
    fx_load(&fx);
    ac_episode *solo = episode("solo", "[{\"name\":\"a\",\"kind\":\"agent\"}]",
                               "[{\"from\":\"a\",\"text\":\"x\"}]", 0);
    ac_signals *solo_s = signals_of(solo);
    ac_export *x = xnew(AC_EXPORT_FORMAT_RLLM);
    X_OK(ac_export_set_str(x, AC_EXPORT_PARAM_GROUP_SEP, "/"), x);
    fails_after_success(x, solo, solo_s, fx.ep[TEAM3], fx.plain[TEAM3],
                        AC_E_INVALID_ARG, "the group \"team:3\"");
    X_OK(ac_export_set_str(x, AC_EXPORT_PARAM_GROUP_SEP, ""), x);
    fails_after_success(x, solo, solo_s, fx.ep[TEAM3], fx.plain[TEAM3],
                        AC_E_INVALID_ARG, "team:3");
    ac_export_free(x);
    ac_signals_free(solo_s);
    ac_episode_free(solo);
    ac_episode *ep = episode("team:9",
                             "[{\"name\":\"a:b\",\"kind\":\"agent\"},"
                             "{\"name\":\"c\",\"kind\":\"agent\"}]",
                             "[{\"from\":\"c\",\"text\":\"x\"},"
                             "{\"from\":\"a:b\",\"text\":\"y\"}]",
                             1);
    ac_signals *s = signals_of(ep);
    x = xnew(AC_EXPORT_FORMAT_RLLM);
    fails_after_success(x, fx.ep[TEAM3], fx.plain[TEAM3], ep, s,
                        AC_E_INVALID_ARG, "the agent \"a:b\"");
    /* Not trained, it does not matter. */
    const char *c[] = {"c"};
    X_OK(ac_export_set_agents(x, c, 1), x);
    xout o = convert_ok(x, ep, s);
    ck_assert_uint_eq(json_array_size(at(rec(&o, 0), "trajectories")), 1);
    xout_free(&o);
    ac_export_free(x);
    ac_signals_free(s);
    ac_episode_free(ep);
    fx_free(&fx);
}
END_TEST

/* Per-token records: a response longer than AC_EXPORT_PARAM_MAX_TOKENS is
 * AC_E_TOO_LARGE; a message with a reward and an empty span, or a span
 * before the response, AC_E_INVALID_ARG. */
START_TEST(token_errors)
{
    fixtures fx;
    fx_load(&fx);
    for (int skyrl = 0; skyrl < 2; skyrl++) {
        ac_export *x = xnew(skyrl ? AC_EXPORT_FORMAT_SKYRL
                                  : AC_EXPORT_FORMAT_VERL_TOKENS);
        X_OK(ac_export_set_int(x, AC_EXPORT_PARAM_MAX_TOKENS, 64), x);
        fails_after_success(x, fx.ep[TEAM4], fx.plain[TEAM4], fx.ep[TEAM3],
                            fx.plain[TEAM3], AC_E_TOO_LARGE,
                            "65 tokens, more than AC_EXPORT_PARAM_MAX_TOKENS");
        X_OK(ac_export_set_int(x, AC_EXPORT_PARAM_MAX_TOKENS, 65), x);
        xout o = convert_ok(x, fx.ep[TEAM3], fx.plain[TEAM3]);
        ck_assert_uint_eq(o.records, 3);
        xout_free(&o);

        static const char *const PARTS =
            "[{\"name\":\"user\",\"kind\":\"user\"},"
            "{\"name\":\"a\",\"kind\":\"agent\"},"
            "{\"name\":\"b\",\"kind\":\"agent\"}]";
        ac_episode *ep = episode(
            "z:0", PARTS,
            "[{\"from\":\"user\",\"text\":\"q\",\"tokens\":[0,2]},"
            "{\"from\":\"a\",\"text\":\"x\",\"tokens\":[2,5]},"
            "{\"from\":\"b\",\"text\":\"y\",\"tokens\":[5,5]},"
            "{\"from\":\"a\",\"text\":\"z\",\"tokens\":[5,8]}]",
            1);
        ac_signals *s = signals_of(ep);
        double r[4];
        ck_assert_int_eq(ac_signals_rewards(s, r, 4), AC_OK);
        ck_assert(r[2] != 0);
        fails_after_success(x, fx.ep[TEAM3], fx.plain[TEAM3], ep, s,
                            AC_E_INVALID_ARG, "message 2 has reward");
        /* b untrained: a's record is fine. */
        const char *a[] = {"a"};
        X_OK(ac_export_set_agents(x, a, 1), x);
        o = convert_ok(x, ep, s);
        ck_assert_uint_eq(o.records, 1);
        xout_free(&o);
        X_OK(ac_export_set_agents(x, NULL, 0), x);
        ac_signals_free(s);
        ac_episode_free(ep);

        ep = episode("z:1", PARTS,
                     "[{\"from\":\"user\",\"text\":\"q\",\"tokens\":[0,2]},"
                     "{\"from\":\"a\",\"text\":\"x\",\"tokens\":[2,5]},"
                     "{\"from\":\"b\",\"text\":\"y\",\"tokens\":[1,2]}]",
                     1);
        s = signals_of(ep);
        fails_after_success(x, fx.ep[TEAM3], fx.plain[TEAM3], ep, s,
                            AC_E_INVALID_ARG, "before the response");
        ac_signals_free(s);
        ac_episode_free(ep);
        ac_export_free(x);
    }
    fx_free(&fx);
}
END_TEST

/* A response of no token (every span from the first agent message on is
 * empty, every reward 0) has no position for verl or SkyRL to train: a
 * skip, no_tokens, not a record with empty vectors. */
START_TEST(empty_response_skipped)
{
    ac_episode *ep = th_load(
        "{\"format\":\"agentcredit.episode/1\",\"id\":\"e:0\","
        "\"participants\":[{\"name\":\"user\",\"kind\":\"user\"},"
        "{\"name\":\"a\",\"kind\":\"agent\"}],"
        "\"messages\":[{\"from\":\"user\",\"text\":\"q\",\"tokens\":[0,2]},"
        "{\"from\":\"a\",\"text\":\"\",\"tokens\":[2,2]}],"
        "\"outcome\":0.5,\"threshold\":0.5,\"reference\":0.5}",
        AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
    ac_signals *s = signals_of(ep);
    double r[2];
    ck_assert_int_eq(ac_signals_rewards(s, r, 2), AC_OK);
    ck_assert(r[1] == 0);
    for (int skyrl = 0; skyrl < 2; skyrl++) {
        ac_export *x = xnew(skyrl ? AC_EXPORT_FORMAT_SKYRL
                                  : AC_EXPORT_FORMAT_VERL_TOKENS);
        xout o = convert_ok(x, ep, s);
        ck_assert_uint_eq(o.records, 0);
        ck_assert(has_skip(&o, AC_EXPORT_SKIP_REASON_NO_TOKENS, -1, "a"));
        xout_free(&o);
        ac_export_free(x);
    }
    ac_signals_free(s);
    ac_episode_free(ep);
}
END_TEST

/* Signals of a one-agent episode of two messages with these rewards. */
static ac_signals *two_rewards(const char *id, double r0, double r1)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"format\":\"agentcredit.signals/1\",\"id\":\"%s\","
             "\"outcome\":0.0,\"threshold\":0.5,\"reference\":0.5,"
             "\"total\":-0.5,\"agents\":[{\"name\":\"a\",\"credit\":-0.5,"
             "\"se\":0.0,\"flags\":[]}],\"messages\":["
             "{\"from\":\"a\",\"reward\":%.17g,\"label\":0.1,\"flags\":[],"
             "\"step_flags\":[]},"
             "{\"from\":\"a\",\"reward\":%.17g,\"label\":-1.0,\"flags\":[],"
             "\"step_flags\":[\"first_error\"]}],"
             "\"first_error\":{\"message\":1,\"agent\":\"a\","
             "\"probability\":1.0},"
             "\"pair\":{\"kind\":\"none\",\"reason\":\"no_candidate\"},"
             "\"audit\":{\"success\":false,\"localized\":true,"
             "\"labels\":\"blame\",\"reference_given\":true,"
             "\"method\":\"exact\",\"oracle_evaluations\":0,"
             "\"verifier_evaluations\":2,\"scorer_evaluations\":0,"
             "\"relaxed_agents\":0}}",
             id, r0, r1);
    ac_signals *s = NULL;
    char err[256];
    ck_assert_msg(ac_signals_load_json(&s, text, strlen(text), NULL, NULL, 0,
                                       err, sizeof err, NULL, 0) == AC_OK,
                  "%s", err);
    return s;
}

/* AReaL: a reward to set beyond a double (r_k - g r_{k+1} overflows) is
 * AC_E_TOO_LARGE, never an infinity written. */
START_TEST(areal_overflow)
{
    static const char *const PARTS = "[{\"name\":\"a\",\"kind\":\"agent\"}]";
    ac_episode *ep = episode("big:0", PARTS,
                             "[{\"from\":\"a\",\"text\":\"x\"},"
                             "{\"from\":\"a\",\"text\":\"y\"}]",
                             1);
    ac_signals *s = two_rewards("big:0", 1.5e308, -1.5e308);
    ac_signals *run = signals_of(ep);
    ac_export *x = xnew(AC_EXPORT_FORMAT_AREAL);
    fails_after_success(x, ep, run, ep, s, AC_E_TOO_LARGE, "beyond a double");
    ac_signals_free(run);
    /* At g = 0 nothing is accumulated: the rewards themselves. */
    X_OK(ac_export_set_f64(x, AC_EXPORT_PARAM_TURN_DISCOUNT, 0.0), x);
    xout o = convert_ok(x, ep, s);
    assert_json(at(rec(&o, 0), "set_rewards"), "[1.5e308, -1.5e308]");
    xout_free(&o);
    ac_export_free(x);
    ac_signals_free(s);
    ac_episode_free(ep);
}
END_TEST

/* Per-token rewards that add up past a double where two of an agent's
 * spans share a token: AC_E_TOO_LARGE, never "inf" (or worse) written
 * into a vector; at half the size the record is written. */
START_TEST(token_overflow)
{
    static const char *const PARTS = "[{\"name\":\"a\",\"kind\":\"agent\"}]";
    ac_episode *ep = episode("big:1", PARTS,
                             "[{\"from\":\"a\",\"text\":\"x\",\"tokens\":[0,1]},"
                             "{\"from\":\"a\",\"text\":\"y\",\"tokens\":[0,1]}]",
                             1);
    ac_signals *huge = two_rewards("big:1", 1.5e308, 1.5e308);
    ac_signals *half = two_rewards("big:1", 0.75e308, 0.75e308);
    for (int f = 0; f < 4; f++) {
        ac_export *x = xnew(f < 2 ? AC_EXPORT_FORMAT_VERL_TOKENS
                                  : AC_EXPORT_FORMAT_SKYRL);
        X_OK(ac_export_set_int(x, AC_EXPORT_PARAM_PLACEMENT, f % 2), x);
        fails_after_success(x, ep, half, ep, huge, AC_E_TOO_LARGE,
                            "beyond a double");
        ac_export_free(x);
    }
    ac_signals_free(half);
    ac_signals_free(huge);
    ac_episode_free(ep);
}
END_TEST

/* A pair the episode contradicts (signals written by hand: the loader
 * checks each index alone): the rejected message not the pair agent's, a
 * prompt that does not end at it, a corrective message of another agent
 * or not after the error. The pair formats refuse it, AC_E_INVALID_ARG
 * naming the pair, rather than write another agent's message as the
 * erring agent's completion. */
static const char *const BAD_PAIRS[] = {
    "{\"kind\":\"repair\",\"agent\":\"solver\",\"step\":3,\"prompt_end\":3,"
    "\"chosen\":7,\"candidates\":1,\"verified\":1,\"confidence\":0.9,"
    "\"localization\":1.0,\"weight\":0.9}",
    "{\"kind\":\"repair\",\"agent\":\"solver\",\"step\":2,\"prompt_end\":4,"
    "\"chosen\":7,\"candidates\":1,\"verified\":1,\"confidence\":0.9,"
    "\"localization\":1.0,\"weight\":0.9}",
    "{\"kind\":\"corrective\",\"agent\":\"solver\",\"step\":2,"
    "\"prompt_end\":2,\"chosen\":3,\"candidates\":0,\"verified\":0,"
    "\"confidence\":1.0,\"localization\":1.0,\"weight\":1.0}",
    "{\"kind\":\"corrective\",\"agent\":\"solver\",\"step\":2,"
    "\"prompt_end\":2,\"chosen\":2,\"candidates\":0,\"verified\":0,"
    "\"confidence\":1.0,\"localization\":1.0,\"weight\":1.0}"};

START_TEST(pair_contradicts_episode)
{
    fixtures fx;
    fx_load(&fx);
    ac_signals *bad = step0_1_pair(BAD_PAIRS[_i]);
    static const int32_t PAIR_FORMATS[] = {AC_EXPORT_FORMAT_TRL_DPO,
                                           AC_EXPORT_FORMAT_TRL_DPO_STANDARD,
                                           AC_EXPORT_FORMAT_TRL_REWARD};
    for (int f = 0; f < 3; f++) {
        ac_export *x = xnew_loaded(PAIR_FORMATS[f], &fx);
        fails_after_success(x, fx.ep[STEP0_1], fx.repair[STEP0_1],
                            fx.ep[STEP0_1], bad, AC_E_INVALID_ARG, "pair");
        ac_export_free(x);
    }
    ac_signals_free(bad);
    fx_free(&fx);
}
END_TEST

/* ===================================================================== */
/* Out of memory                                                         */
/* ===================================================================== */

static const char *const TOOLS_TEXT =
    "[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]";

/* A handle's setup before it converts: the candidates and, for `full`,
 * every string parameter, trained agents and the spread placement. */
static void configure(ac_export *x, const fixtures *fx, int full)
{
    X_OK(ac_export_load_candidates(x, fx->candidates, strlen(fx->candidates),
                                   NULL), x);
    if (!full)
        return;
    static const char *const AGENTS[] = {"solver", "critic", "assistant",
                                         "coder"};
    X_OK(ac_export_set_agents(x, AGENTS, 4), x);
    X_OK(ac_export_set_str(x, AC_EXPORT_PARAM_EMPTY_PROMPT, "Solve it."), x);
    X_OK(ac_export_set_str(x, AC_EXPORT_PARAM_GROUP_SEP, ":"), x);
    X_OK(ac_export_set_str(x, AC_EXPORT_PARAM_TOOLS, TOOLS_TEXT), x);
    X_OK(ac_export_set_str(x, AC_EXPORT_PARAM_DATA_SOURCE, "src"), x);
    X_OK(ac_export_set_int(x, AC_EXPORT_PARAM_PLACEMENT,
                           AC_TOKEN_PLACEMENT_SPREAD), x);
    X_OK(ac_export_set_f64(x, AC_EXPORT_PARAM_TURN_DISCOUNT, 0.75), x);
}

/* The last call's result as one text: the records, then the skips. */
static char *snapshot(const ac_export *x)
{
    const char *text = NULL;
    size_t len = 0;
    uint32_t records = 0, n = 0;
    ck_assert_int_eq(ac_export_text(x, &text, &len, &records), AC_OK);
    ck_assert_int_eq(ac_export_skip_count(x, &n), AC_OK);
    char *out = malloc(len + 64 + (size_t)n * 96);
    ck_assert_ptr_nonnull(out);
    size_t end = (size_t)sprintf(out, "%u records\n%s", records, text);
    for (uint32_t k = 0; k < n; k++) {
        int32_t reason = 0;
        int64_t message = 0;
        const char *agent = NULL;
        ck_assert_int_eq(ac_export_skip(x, k, &reason, &message, &agent),
                         AC_OK);
        end += (size_t)sprintf(out + end, "skip %d %lld %.60s\n", (int)reason,
                               (long long)message,
                               agent == NULL ? "-" : agent);
    }
    return out;
}

/* jansson allocates with its own global allocator (the header says so):
 * this program, not the library, sets it to fail the k-th allocation
 * inside a call. Check runs each test in its own process, so the hook
 * never outlives the test that set it; its count is the one piece of
 * file-level state here. */
static struct {
    long calls, fail_at, failed, live;
} jfail = {0, -1, 0, 0};

static void *jfail_malloc(size_t size)
{
    if (jfail.calls++ == jfail.fail_at) {
        jfail.failed++;
        return NULL;
    }
    void *p = malloc(size ? size : 1);
    if (p != NULL)
        jfail.live++;
    return p;
}

static void jfail_free(void *p)
{
    if (p != NULL) {
        jfail.live--;
        free(p);
    }
}

/* One call under allocation failure, on a handle set up as configure
 * says (and with `extra` candidates): the call, and what it leaves to
 * compare (the result, or the handle's conversions). */
typedef struct oom_case {
    int32_t format;
    const fixtures *fx;
    int full;
    const char *extra;
    const ac_episode *ep;
    const ac_signals *s;
    int what; /* the setter (change) */
    int (*call)(ac_export *x, const struct oom_case *c);
    char *(*result)(ac_export *x, const struct oom_case *c);
    int jansson; /* fail jansson's allocations, not the host's */
} oom_case;

static int change(ac_export *x, const oom_case *c);

static ac_export *oom_handle(const oom_case *c, const ac_allocator *a)
{
    ac_export *x = NULL;
    ck_assert_int_eq(ac_export_create(&x, c->format, a), AC_OK);
    configure(x, c->fx, c->full);
    if (c->extra != NULL)
        X_OK(ac_export_load_candidates(x, c->extra, strlen(c->extra), NULL),
             x);
    return x;
}

static char *oom_clean(const oom_case *c, int called)
{
    ac_export *x = oom_handle(c, NULL);
    if (called)
        X_OK(c->call(x, c), x);
    char *r = c->result(x, c);
    ac_export_free(x);
    return r;
}

/* The call with allocation k failing, k = 0, 1, ... until one is past
 * the call's last, each on a fresh handle: a failure is AC_E_NO_MEMORY
 * with a message (for jansson's parse of a setter's text also the syntax
 * error jansson 2.14 reports for some of its failed allocations,
 * akheron/jansson#362), changes nothing (the result of a handle that was
 * not called), leaves nothing behind (the host's blocks after free,
 * jansson's after the call); the same call then succeeds with the
 * result of a handle that never failed; a success despite a failure
 * (jansson recovers from some) has that result too. Returns the
 * failures reported. */
/* AC_TEST_OOM_STRIDE=s fails every s-th allocation only: memcheck
 * (.ci/valgrind.sh) runs the loops at a fraction of their cost, the
 * sanitizer and plain runs take them all (and only they can count the
 * failures a call must report). */
static long oom_stride(void)
{
    const char *env = getenv("AC_TEST_OOM_STRIDE");
    return env != NULL && atol(env) > 0 ? atol(env) : 1;
}

/* The failures reported meet a count only when every allocation failed. */
#define OOM_COUNT(check) do { if (oom_stride() == 1) { check; } } while (0)

static long oom_drive(const oom_case *c)
{
    char *before = oom_clean(c, 0), *want = oom_clean(c, 1);
    long reported = 0, stride = oom_stride();
    for (long k = 0;; k += stride) {
        ck_assert_int_lt(k, 100000);
        th_fail_alloc f = {0, -1, 0, 0};
        ac_allocator a = th_fail_allocator(&f);
        ac_export *x = oom_handle(c, &a);
        long failed0 = jfail.failed, live0 = jfail.live;
        if (c->jansson) {
            json_set_alloc_funcs(jfail_malloc, jfail_free);
            jfail.fail_at = jfail.calls + k;
        } else {
            f.fail_at = f.calls + k;
        }
        int rc = c->call(x, c);
        jfail.fail_at = f.fail_at = -1;
        json_set_alloc_funcs(malloc, free);
        long failed = c->jansson ? jfail.failed - failed0 : f.failed;
        char what[160];
        snprintf(what, sizeof what, "%s, %s allocation %ld failing: %s",
                 ac_export_format_name(c->format),
                 c->jansson ? "jansson's" : "the host's", k,
                 ac_status_name(rc));
        /* A setter that succeeds releases what it replaced. */
        ck_assert_msg(jfail.live == live0 || (rc == AC_OK && c->call == change),
                      "%s: jansson holds %ld more blocks", what,
                      jfail.live - live0);
        ck_assert_msg(rc == AC_OK || failed == 1, "%s, no failure", what);
        if (rc != AC_OK) {
            int parse = c->call == change && c->jansson &&
                        (rc == AC_E_PARSE || rc == AC_E_INVALID_ARG);
            ck_assert_msg(rc == AC_E_NO_MEMORY || parse, "%s (%s)", what,
                          ac_export_last_error(x));
            ck_assert_msg(rc != AC_E_NO_MEMORY ||
                              th_icontains(ac_export_last_error(x), "memory"),
                          "%s, but the message is \"%s\"", what,
                          ac_export_last_error(x));
            char *got = c->result(x, c);
            assert_same_text(got, before, what);
            free(got);
            X_OK(c->call(x, c), x);
            reported++;
        }
        char *got = c->result(x, c);
        assert_same_text(got, want, what);
        free(got);
        ac_export_free(x);
        ck_assert_msg(f.live == 0, "%s: %ld blocks left", what, f.live);
        if (rc == AC_OK && failed == 0)
            break; /* past the call's last allocation */
    }
    free(before);
    free(want);
    return reported;
}

static int call_episode(ac_export *x, const oom_case *c)
{
    return ac_export_episode(x, c->ep, c->s);
}

/* A conversion's result; "0 records" before any (a failed one leaves
 * that). */
static char *episode_result(ac_export *x, const oom_case *c)
{
    (void)c;
    return snapshot(x);
}

/* The setters, each changing what configure set. */
static int change(ac_export *x, const oom_case *c)
{
    static const char *const AGENTS[] = {"planner", "coder", "critic"};
    static const char *const CANDS = "{\"team:3\": {\"7\": {\"content\": "
                                     "\"Keep Decimal.\"}}}";
    switch (c->what) {
    case 0: return ac_export_set_agents(x, AGENTS, 3);
    case 1: return ac_export_set_str(x, AC_EXPORT_PARAM_EMPTY_PROMPT, "B");
    case 2: return ac_export_set_str(x, AC_EXPORT_PARAM_GROUP_SEP, ":");
    case 3: return ac_export_set_str(x, AC_EXPORT_PARAM_TOOLS, "[{}, 1]");
    case 4: return ac_export_set_str(x, AC_EXPORT_PARAM_DATA_SOURCE, "B");
    default: return ac_export_load_candidates(x, CANDS, strlen(CANDS), NULL);
    }
}

/* What a setter changes: the handle's records of team:3 and step0:0. */
static char *handle_result(ac_export *x, const oom_case *c)
{
    X_OK(ac_export_episode(x, c->fx->ep[TEAM3], c->fx->repair[TEAM3]), x);
    char *a = snapshot(x);
    X_OK(ac_export_episode(x, c->fx->ep[STEP0_0], c->fx->repair[STEP0_0]), x);
    char *b = snapshot(x);
    char *both = malloc(strlen(a) + strlen(b) + 1);
    ck_assert_ptr_nonnull(both);
    strcpy(both, a);
    strcat(both, b);
    free(a);
    free(b);
    return both;
}

/* ac_export_episode under the host's allocation failures, on every
 * fixture episode with both signals files and two setups. */
START_TEST(oom_episode_host)
{
    fixtures fx;
    fx_load(&fx);
    oom_case c = {_i + 1, &fx, 0, NULL, NULL, NULL, 0, call_episode,
                  episode_result, 0};
    long reported = 0;
    for (c.full = 0; c.full < 2; c.full++)
        for (int e = 0; e < 2 * N_EP; e++) {
            c.ep = fx.ep[e % N_EP];
            c.s = e < N_EP ? fx.plain[e] : fx.repair[e - N_EP];
            long n = oom_drive(&c);
            OOM_COUNT(ck_assert_int_ge(n, 1)); /* the trained agents, at least */
            reported += n;
        }
    fprintf(stderr, "export %s, the host's allocator: %ld failures "
            "reported\n", ac_export_format_name(c.format), reported);
    fx_free(&fx);
}
END_TEST

/* create, and every setter that allocates, under the host's allocation
 * failures. */
START_TEST(oom_setters_host)
{
    int32_t format = _i + 1;
    for (long k = 0;; k++) {
        th_fail_alloc f = {0, k, 0, 0};
        ac_allocator a = th_fail_allocator(&f);
        ac_export *x = (ac_export *)(void *)&f;
        int rc = ac_export_create(&x, format, &a);
        if (rc == AC_OK) {
            ck_assert_int_eq(f.failed, 0);
            ac_export_free(x);
            ck_assert_int_eq(f.live, 0);
            break;
        }
        ck_assert_int_eq(rc, AC_E_NO_MEMORY);
        ck_assert_ptr_eq(x, (ac_export *)(void *)&f); /* untouched */
        ck_assert_int_eq(f.live, 0);
    }
    fixtures fx;
    fx_load(&fx);
    oom_case c = {format, &fx, 1, NULL, NULL, NULL, 0, change,
                  handle_result, 0};
    for (c.what = 0; c.what < 6; c.what++) {
        /* The array and each agent's name; a string's copy; the
         * candidates are jansson's alone. */
        long n = oom_drive(&c);
        OOM_COUNT(ck_assert_int_eq(n, c.what == 0 ? 4 : c.what == 5 ? 0 : 1));
    }
    fx_free(&fx);
}
END_TEST

/* A long prompt (12 messages, the first error at 10 with a repair):
 * jansson grows arrays past 8 elements, and its json_copy of an array
 * drops an element it fails to append. */
static const char *const LONG_CANDIDATES = "{\"long:0\": {\"7\": \"fixed\"}}";

static ac_episode *long_episode(void)
{
    char messages[2048] = "[{\"from\":\"user\",\"text\":\"start\"}";
    for (int k = 1; k < 12; k++) {
        size_t n = strlen(messages);
        snprintf(messages + n, sizeof messages - n,
                 ",{\"from\":\"%s\",\"text\":\"step %d\"}", k % 2 ? "a" : "b",
                 k);
    }
    strcat(messages, "]");
    return episode("long:0",
                   "[{\"name\":\"user\",\"kind\":\"user\"},"
                   "{\"name\":\"a\",\"kind\":\"agent\"},"
                   "{\"name\":\"b\",\"kind\":\"agent\"}]",
                   messages, 10);
}

/* ac_export_episode under jansson's allocation failures: never a success
 * with another text and never a skip in memory's stead. Every fixture
 * episode (the pair formats with signals-repair.jsonl, the others with
 * signals.jsonl, which differ in the pair only), team:3 with the full
 * setup, and the long prompt: each call costs as many runs as it makes
 * allocations. */
START_TEST(oom_episode_jansson)
{
    fixtures fx;
    fx_load(&fx);
    oom_case c = {_i + 1, &fx, 0, NULL, NULL, NULL, 0, call_episode,
                  episode_result, 1};
    int pairs = c.format <= AC_EXPORT_FORMAT_TRL_REWARD;
    long reported = 0;
    for (int e = 0; e < N_EP; e++) {
        c.ep = fx.ep[e];
        c.s = pairs ? fx.repair[e] : fx.plain[e];
        reported += oom_drive(&c);
    }
    c.full = 1;
    c.ep = fx.ep[TEAM3];
    c.s = fx.repair[TEAM3];
    reported += oom_drive(&c);
    c.full = 0;
    c.extra = LONG_CANDIDATES;
    c.ep = long_episode();
    c.s = signals_of_run(c.ep, 1);
    reported += oom_drive(&c);
    ac_signals_free((ac_signals *)c.s);
    ac_episode_free((ac_episode *)c.ep);
    OOM_COUNT(ck_assert_int_gt(reported, 20));
    fprintf(stderr, "export %s, jansson's allocator: %ld failures "
            "reported\n", ac_export_format_name(c.format), reported);
    fx_free(&fx);
}
END_TEST

/* The setters that parse (TOOLS, the candidates) under jansson's
 * allocation failures. */
START_TEST(oom_setters_jansson)
{
    fixtures fx;
    fx_load(&fx);
    oom_case c = {AC_EXPORT_FORMAT_TRL_DPO, &fx, 1, NULL, NULL, NULL, 3,
                  change, handle_result, 1};
    long n = oom_drive(&c);
    OOM_COUNT(ck_assert_int_gt(n, 2));
    c.what = 5;
    n = oom_drive(&c);
    OOM_COUNT(ck_assert_int_gt(n, 2));
    fx_free(&fx);
}
END_TEST

/* ===================================================================== */

int main(void)
{
    Suite *s = suite_create("export");
    TCase *tc = th_tcase(s, "formats");
    tcase_add_test(tc, trl_dpo);
    tcase_add_test(tc, trl_dpo_empty_prompt_system);
    tcase_add_test(tc, trl_dpo_standard);
    tcase_add_test(tc, trl_reward);
    tcase_add_test(tc, trl_kto);
    tcase_add_test(tc, trl_prm);
    tcase_add_test(tc, verl_rows);
    tcase_add_test(tc, verl_tokens_last);
    tcase_add_test(tc, verl_tokens_spread);
    tcase_add_test(tc, skyrl_last);
    tcase_add_test(tc, skyrl_spread);
    tcase_add_test(tc, openrlhf_rows);
    tcase_add_test(tc, areal_rewards);
    tcase_add_test(tc, prime_rl_traces);
    tcase_add_test(tc, rllm_episodes);
    tcase_add_loop_test(tc, every_format_invariants, 0, N_FORMATS);
    tc = th_tcase(s, "edges");
    tcase_add_loop_test(tc, arguments_not_json, 0,
                        (int)(sizeof BAD_ARGUMENTS / sizeof BAD_ARGUMENTS[0]));
    tcase_add_test(tc, arguments_as_objects);
    tcase_add_test(tc, corrective_pair);
    tcase_add_test(tc, trained_agents);
    tcase_add_test(tc, speaker_prefix_off);
    tcase_add_test(tc, group_separator);
    tcase_add_test(tc, tools_column);
    tcase_add_test(tc, data_source);
    tc = th_tcase(s, "errors");
    tcase_add_test(tc, names_and_null_arguments);
    tcase_add_test(tc, parameters);
    tcase_add_test(tc, candidates_malformed);
    tcase_add_test(tc, rllm_refuses_colons);
    tcase_add_test(tc, token_errors);
    tcase_add_test(tc, empty_response_skipped);
    tcase_add_test(tc, areal_overflow);
    tcase_add_test(tc, token_overflow);
    tcase_add_loop_test(tc, pair_contradicts_episode, 0,
                        (int)(sizeof BAD_PAIRS / sizeof BAD_PAIRS[0]));
    tc = th_tcase(s, "memory");
    tcase_add_loop_test(tc, oom_episode_host, 0, N_FORMATS);
    tcase_add_loop_test(tc, oom_setters_host, 0, N_FORMATS);
    tcase_add_loop_test(tc, oom_episode_jansson, 0, N_FORMATS);
    tcase_add_test(tc, oom_setters_jansson);
    return th_run_suite(s);
}
