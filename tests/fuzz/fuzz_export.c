/* SPDX-License-Identifier: MIT
 *
 * The trainer exporter (ac_export) on fuzzed episodes, candidates and
 * parameters. The input is HEADER (8 bytes), then a candidates text, a
 * NUL byte and an episode text (no NUL: no candidates, the rest is the
 * episode). The header sets the parameters (placement, speaker prefix,
 * the empty prompt's system message, a tools column, the group
 * separator, verl's data source, the trained agents, AReaL's discount,
 * the most tokens), the oracle's weights and whether the run repairs its
 * first error with candidate `header[7]`. An episode that loads (at most
 * 8 agents and 64 messages) is run by a pipeline (first error from its
 * annotation, an additive oracle); its signals go to every format, with
 * the candidates loaded whatever they are. Checked on every call:
 *
 *  - loading the candidates: AC_OK, or a documented status with a message;
 *  - a failed conversion: a documented status for that format (a token
 *    span or an rLLM name the format cannot take, a response past the
 *    most tokens, an AReaL reward beyond a double) with a message, and no
 *    text and no skip left; every other format never fails;
 *  - a success: "\n"-terminated lines, as many as the records, each a JSON
 *    object jansson reads, every number finite, every "flags" an array of
 *    strings, every skip a known reason about a message of the episode (or
 *    -1) and a trained agent (or none); the same call again gives the same
 *    bytes;
 *  - per-token records (verl-tokens, SkyRL): the mask exactly the agent's
 *    spans, each token's reward exactly what the placement puts there, the
 *    vector adding up to the agent's credit (each message of the agent has
 *    a span, or there is no record);
 *  - AReaL: the rewards the signals', set_rewards r_k - g r_{k+1}, and
 *    AReaL's backward pass R_k = s_k + g R_{k+1} giving each r_k back
 *    within 1e-9 relative; prime-rl's and rLLM's rewards the credits; an
 *    agent's verl or OpenRLHF rows adding up to its credit when none of
 *    its messages was skipped.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

enum { HEADER = 8, MAX_AGENTS = 8, MAX_MESSAGES = 64, N_FORMATS = 12 };

typedef struct run {
    const ac_episode *ep;
    const ac_signals *s;
    uint32_t n_agents, n_msg;
    double credit[MAX_AGENTS], reward[MAX_MESSAGES];
    uint32_t author[MAX_MESSAGES]; /* UINT32_MAX: a non-player */
    uint64_t begin[MAX_MESSAGES], end[MAX_MESSAGES];
    int64_t placement;
    double discount;
} run;

/* ===================================================================== */
/* The run that makes the signals                                        */
/* ===================================================================== */

/* v(S) = sum of the weights of S's agents. */
static int additive_oracle(void *user, const uint64_t *coalitions,
                           uint32_t words, uint32_t count, double *values,
                           int32_t *status)
{
    const double *w = user;
    for (uint32_t k = 0; k < count; k++) {
        double v = 0.0;
        for (uint32_t a = 0; a < MAX_AGENTS && a < 64u * words; a++)
            if (coalitions[(size_t)k * words + a / 64u] >> (a % 64u) & 1u)
                v += w[a];
        values[k] = v;
        status[k] = 0;
    }
    return 0;
}

static int propose(void *user, uint32_t step, uint32_t max_count,
                   uint64_t *ids, uint32_t *count)
{
    (void)step;
    *count = max_count > 0 ? 1 : 0;
    ids[0] = *(const uint64_t *)user;
    return 0;
}

static int judge(void *user, uint32_t step, const uint64_t *ids,
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

/* The signals of a run on ep, or NULL when the run fails (an episode
 * without an outcome, say). */
static ac_signals *signals_of(const ac_episode *ep, const uint8_t *header,
                              double *weights, uint64_t *candidate)
{
    for (int a = 0; a < MAX_AGENTS; a++)
        weights[a] = (double)(int8_t)(header[3] ^ (uint8_t)(a * 37)) / 16.0;
    *candidate = header[7];
    ac_pipeline *p = NULL;
    FZ_CHECK(ac_pipeline_create(&p, NULL) == AC_OK &&
                 ac_pipeline_set_int(p, AC_PIPELINE_PARAM_VERIFIER,
                                     AC_VERIFIER_SOURCE_ANNOTATION) ==
                     AC_OK &&
                 ac_pipeline_set_oracle(p, additive_oracle, weights) == AC_OK,
             "pipeline setup");
    if (header[6] & 1u)
        FZ_CHECK(ac_pipeline_set_repair(p, propose, judge, candidate) ==
                     AC_OK,
                 "repair");
    ac_signals *s = NULL;
    if (ac_pipeline_run(p, ep) == AC_OK)
        FZ_CHECK(ac_pipeline_signals(p, ep, NULL, &s) == AC_OK, "signals");
    ac_pipeline_free(p);
    return s;
}

static void read_figures(run *r)
{
    FZ_CHECK(ac_signals_counts(r->s, &r->n_agents, &r->n_msg) == AC_OK &&
                 ac_signals_credits(r->s, r->credit, NULL, r->n_agents) ==
                     AC_OK &&
                 ac_signals_rewards(r->s, r->reward, r->n_msg) == AC_OK,
             "figures");
    for (uint32_t k = 0; k < r->n_msg; k++)
        FZ_CHECK(ac_signals_message_from(r->s, k, NULL, &r->author[k]) ==
                         AC_OK &&
                     ac_episode_message_links(r->ep, k, NULL, &r->begin[k],
                                              &r->end[k]) == AC_OK,
                 "message %u", k);
}

/* ===================================================================== */
/* The parameters                                                        */
/* ===================================================================== */

static const char *const SEPARATORS[] = {NULL, "", "-", "::"};

/* The header's settings, every one of them valid. */
static void configure(ac_export *x, const uint8_t *h, const run *r,
                      const char *const *names)
{
    FZ_CHECK(ac_export_set_int(x, AC_EXPORT_PARAM_PLACEMENT, r->placement) ==
                     AC_OK &&
                 ac_export_set_int(x, AC_EXPORT_PARAM_SPEAKER_PREFIX,
                                   h[0] >> 1 & 1u) == AC_OK &&
                 ac_export_set_f64(x, AC_EXPORT_PARAM_TURN_DISCOUNT,
                                   r->discount) == AC_OK &&
                 ac_export_set_int(x, AC_EXPORT_PARAM_MAX_TOKENS,
                                   1 + 4 * (int64_t)h[4]) == AC_OK &&
                 ac_export_set_str(x, AC_EXPORT_PARAM_EMPTY_PROMPT,
                                   h[0] & 4u ? "You help." : NULL) == AC_OK &&
                 ac_export_set_str(x, AC_EXPORT_PARAM_TOOLS,
                                   h[0] & 8u ? "[{\"type\":\"function\"}]"
                                             : NULL) == AC_OK &&
                 ac_export_set_str(x, AC_EXPORT_PARAM_GROUP_SEP,
                                   SEPARATORS[h[0] >> 4 & 3u]) == AC_OK &&
                 ac_export_set_str(x, AC_EXPORT_PARAM_DATA_SOURCE,
                                   h[0] & 64u ? "src" : NULL) == AC_OK,
             "a valid setting refused: %s", ac_export_last_error(x));
    /* The trained agents: those of header[2]'s bits, and a stranger. */
    const char *trained[MAX_AGENTS + 1];
    uint32_t count = 0;
    if (h[0] & 128u) {
        for (uint32_t a = 0; a < r->n_agents; a++)
            if (h[2] >> a & 1u)
                trained[count++] = names[a];
        trained[count++] = "nobody";
    }
    FZ_CHECK(ac_export_set_agents(x, trained, count) == AC_OK,
             "set_agents: %s", ac_export_last_error(x));
}

/* ===================================================================== */
/* The checks of one conversion                                          */
/* ===================================================================== */

static int close_to(double got, double want, double scale)
{
    return fabs(got - want) <= 1e-9 * scale + 1e-300;
}

/* Every number finite, every "flags" / "step_flags" an array of strings,
 * OpenRLHF's label (a string) the JSON text of an object. */
static void check_values(const json_t *v, const char *key)
{
    if (json_is_real(v))
        FZ_CHECK(isfinite(json_real_value(v)), "%s: not finite", key);
    if (strcmp(key, "flags") == 0 || strcmp(key, "step_flags") == 0) {
        FZ_CHECK(json_is_array(v), "%s: not an array", key);
        size_t i;
        const json_t *f;
        json_array_foreach(v, i, f)
            FZ_CHECK(json_is_string(f), "%s[%zu]: not a string", key, i);
    }
    if (strcmp(key, "label") == 0 && json_is_string(v)) {
        json_t *label = json_loads(json_string_value(v), 0, NULL);
        FZ_CHECK(json_is_object(label), "label: not an object's text");
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

static json_t *get(const json_t *v, const char *key)
{
    json_t *m = json_object_get(v, key);
    FZ_CHECK(m != NULL, "no \"%s\"", key);
    return m;
}

static uint32_t agent_named(const run *r, const char *name)
{
    FZ_CHECK(name != NULL, "no agent name");
    for (uint32_t a = 0; a < r->n_agents; a++)
        if (strcmp(ac_signals_agent_name(r->s, a), name) == 0)
            return a;
    FZ_CHECK(0, "no agent \"%s\"", name);
    return 0;
}

/* Per-token rewards: the mask on the agent's spans, each reward where
 * the placement puts it, accumulated in message order as the exporter
 * does (so exactly), the vector adding up to the credit. */
static void check_tokens(const run *r, const json_t *rec, int skyrl)
{
    uint32_t a = agent_named(r, json_string_value(get(rec, "agent")));
    const json_t *v = get(rec, skyrl ? "rewards" : "token_rewards");
    const json_t *m = get(rec, skyrl ? "loss_mask" : "response_mask");
    uint64_t b0 = (uint64_t)json_integer_value(get(rec, "begin"));
    size_t T = (size_t)json_integer_value(get(rec, "length"));
    FZ_CHECK(json_array_size(v) == T && json_array_size(m) == T,
             "the vectors' length");
    double *want = calloc(T + 1, sizeof *want);
    uint8_t *mask = calloc(T + 1, 1);
    FZ_CHECK(want != NULL && mask != NULL, "memory");
    double abs_sum = 0.0;
    for (uint32_t k = 0; k < r->n_msg; k++) {
        if (r->author[k] != a)
            continue;
        FZ_CHECK(r->begin[k] != UINT64_MAX && r->begin[k] >= b0 &&
                     r->end[k] - b0 <= T,
                 "message %u's span outside the record", k);
        size_t b = (size_t)(r->begin[k] - b0), e = (size_t)(r->end[k] - b0);
        memset(mask + b, 1, e - b);
        for (size_t i = b; r->placement && i < e; i++)
            want[i] += r->reward[k] / (double)(e - b);
        if (!r->placement && e > b)
            want[e - 1] += r->reward[k];
        abs_sum += fabs(r->reward[k]);
    }
    long double sum = 0.0L;
    for (size_t i = 0; i < T; i++) {
        double got = json_real_value(json_array_get(v, i));
        FZ_CHECK(json_is_real(json_array_get(v, i)) && got == want[i],
                 "token %zu: %.17g, want %.17g", i, got, want[i]);
        FZ_CHECK(json_integer_value(json_array_get(m, i)) == mask[i],
                 "mask at %zu", i);
        sum += got;
    }
    FZ_CHECK(close_to((double)sum, r->credit[a], abs_sum + fabs(r->credit[a])),
             "the tokens add up to %.17g, the credit is %.17g", (double)sum,
             r->credit[a]);
    FZ_CHECK(json_real_value(get(rec, "credit")) == r->credit[a], "credit");
    free(want);
    free(mask);
}

/* AReaL: s_k = r_k - g r_{k+1}; R_k = s_k + g R_{k+1} gives r_k back. */
static void check_areal(const run *r, const json_t *rec)
{
    uint32_t a = agent_named(r, json_string_value(get(rec, "agent")));
    const json_t *msgs = get(rec, "messages"), *rw = get(rec, "rewards"),
                 *set = get(rec, "set_rewards");
    double g = json_real_value(get(rec, "turn_discount"));
    FZ_CHECK(g == r->discount, "turn_discount");
    size_t n = json_array_size(msgs), i = 0;
    FZ_CHECK(json_array_size(rw) == n && json_array_size(set) == n, "sizes");
    for (uint32_t k = 0; k < r->n_msg; k++)
        if (r->author[k] == a) {
            FZ_CHECK(i < n && json_integer_value(json_array_get(msgs, i)) == k
                         && json_real_value(json_array_get(rw, i)) ==
                                r->reward[k],
                     "message %u", k);
            i++;
        }
    FZ_CHECK(i == n, "the agent's messages");
    double next = 0.0, scale = 0.0;
    for (size_t k = n; k-- > 0;) {
        double rk = json_real_value(json_array_get(rw, k));
        double rn = k + 1 < n ? json_real_value(json_array_get(rw, k + 1))
                              : 0.0;
        double sk = json_real_value(json_array_get(set, k));
        FZ_CHECK(sk == rk - g * rn, "set_rewards[%zu]", k);
        scale = scale * g + fabs(rk) + fabs(sk);
        next = sk + g * next;
        FZ_CHECK(close_to(next, rk, scale),
                 "AReaL's pass gives %.17g for %.17g", next, rk);
    }
}

/* verl and OpenRLHF: the rows' figures, and an agent's rows adding up to
 * its credit when none of its messages was skipped. */
static void check_rows(const run *r, const json_t *recs, int openrlhf,
                       const uint8_t *skipped)
{
    double sum[MAX_AGENTS] = {0}, abs_sum[MAX_AGENTS] = {0};
    size_t i;
    const json_t *rec;
    json_array_foreach(recs, i, rec) {
        json_t *info =
            openrlhf
                ? json_loads(json_string_value(get(rec, "label")), 0, NULL)
                : json_incref(get(get(rec, "extra_info"), "agentcredit"));
        uint32_t a = agent_named(r, json_string_value(get(info, "agent")));
        json_int_t k = json_integer_value(get(info, "message"));
        FZ_CHECK(k >= 0 && (uint32_t)k < r->n_msg && r->author[k] == a,
                 "row of message %lld", (long long)k);
        FZ_CHECK(json_real_value(get(info, "reward")) == r->reward[k] &&
                     json_real_value(get(info, "credit")) == r->credit[a],
                 "a row's figures");
        sum[a] += r->reward[k];
        abs_sum[a] += fabs(r->reward[k]);
        json_decref(info);
    }
    for (uint32_t a = 0; a < r->n_agents; a++)
        if (abs_sum[a] > 0 && !skipped[a])
            FZ_CHECK(close_to(sum[a], r->credit[a],
                              abs_sum[a] + fabs(r->credit[a])),
                     "agent %u's rows add up to %.17g, its credit %.17g", a,
                     sum[a], r->credit[a]);
}

static void check_record(const run *r, int32_t format, const json_t *rec)
{
    if (format == AC_EXPORT_FORMAT_VERL_TOKENS ||
        format == AC_EXPORT_FORMAT_SKYRL)
        check_tokens(r, rec, format == AC_EXPORT_FORMAT_SKYRL);
    if (format == AC_EXPORT_FORMAT_AREAL)
        check_areal(r, rec);
    if (format == AC_EXPORT_FORMAT_PRIME_RL) {
        const json_t *agent = get(rec, "agent");
        uint32_t a = agent_named(r, json_string_value(get(agent, "name")));
        FZ_CHECK(json_real_value(get(get(get(rec, "rewards"), "agentcredit"),
                                     "score")) == r->credit[a],
                 "prime-rl's score");
    }
    if (format == AC_EXPORT_FORMAT_RLLM) {
        size_t i;
        const json_t *t;
        json_array_foreach(get(rec, "trajectories"), i, t) {
            uint32_t a = agent_named(r, json_string_value(get(t, "name")));
            FZ_CHECK(json_real_value(get(t, "reward")) == r->credit[a],
                     "rLLM's trajectory reward");
        }
    }
}

/* The lines of a success, parsed (each a JSON object) and checked. */
static json_t *read_lines(const char *text, size_t len, uint32_t records)
{
    json_t *recs = json_array();
    FZ_CHECK(recs != NULL, "memory");
    for (const char *line = text; line < text + len;) {
        const char *end = memchr(line, '\n', (size_t)(text + len - line));
        FZ_CHECK(end != NULL, "a record without its newline");
        json_error_t e;
        json_t *rec = json_loadb(line, (size_t)(end - line), 0, &e);
        FZ_CHECK(json_is_object(rec), "not a JSON object (%s): %.*s", e.text,
                 (int)(end - line), line);
        check_values(rec, "");
        json_array_append_new(recs, rec);
        line = end + 1;
    }
    FZ_CHECK(json_array_size(recs) == records, "%zu lines, %u records",
             json_array_size(recs), records);
    return recs;
}

/* The statuses a format may fail with on valid arguments. */
static int may_fail(int32_t format, int rc)
{
    switch (format) {
    case AC_EXPORT_FORMAT_VERL_TOKENS:
    case AC_EXPORT_FORMAT_SKYRL:
        return rc == AC_E_INVALID_ARG || rc == AC_E_TOO_LARGE;
    case AC_EXPORT_FORMAT_RLLM: return rc == AC_E_INVALID_ARG;
    case AC_EXPORT_FORMAT_AREAL: return rc == AC_E_TOO_LARGE;
    default: return 0;
    }
}

static void check_skips(const ac_export *x, const run *r, uint8_t *skipped)
{
    uint32_t n = 0;
    FZ_CHECK(ac_export_skip_count(x, &n) == AC_OK, "skip_count");
    for (uint32_t k = 0; k < n; k++) {
        int32_t reason = 0;
        int64_t message = 0;
        const char *agent = NULL;
        FZ_CHECK(ac_export_skip(x, k, &reason, &message, &agent) == AC_OK,
                 "skip %u", k);
        FZ_CHECK(ac_export_skip_name(reason) != NULL, "reason %d", reason);
        FZ_CHECK(message >= -1 && message < (int64_t)r->n_msg,
                 "skip of message %lld", (long long)message);
        if (agent != NULL)
            skipped[agent_named(r, agent)] = 1;
    }
    FZ_CHECK(ac_export_skip(x, n, NULL, NULL, NULL) == AC_E_INVALID_ARG,
             "a skip past the count");
}

static void convert(const run *r, int32_t format, const uint8_t *h,
                    const char *cands, size_t cands_len,
                    const char *const *names)
{
    ac_export *x = NULL;
    FZ_CHECK(ac_export_create(&x, format, NULL) == AC_OK, "create");
    configure(x, h, r, names);
    if (cands != NULL) {
        int rc = ac_export_load_candidates(x, cands, cands_len, NULL);
        FZ_CHECK(rc == AC_OK || ((rc == AC_E_PARSE || rc == AC_E_TOO_LARGE) &&
                                 ac_export_last_error(x)[0] != '\0'),
                 "load_candidates = %s: %s", ac_status_name(rc),
                 ac_export_last_error(x));
    }
    int rc = ac_export_episode(x, r->ep, r->s);
    const char *text = NULL;
    size_t len = 0;
    uint32_t records = 0, n_skips = 0;
    FZ_CHECK(ac_export_text(x, &text, &len, &records) == AC_OK &&
                 text != NULL && strlen(text) == len &&
                 ac_export_skip_count(x, &n_skips) == AC_OK,
             "the result");
    if (getenv("FZ_TRACE") != NULL)
        fprintf(stderr, "%s %s: %s, %u records, %u skips%s%s\n",
                ac_episode_id(r->ep), ac_export_format_name(format),
                ac_status_name(rc), records, n_skips, rc ? ": " : "",
                rc ? ac_export_last_error(x) : "");
    if (rc != AC_OK) {
        FZ_CHECK(may_fail(format, rc), "%s = %s: %s",
                 ac_export_format_name(format), ac_status_name(rc),
                 ac_export_last_error(x));
        FZ_CHECK(ac_export_last_error(x)[0] != '\0', "no message");
        FZ_CHECK(len == 0 && records == 0 && n_skips == 0,
                 "a failure left %u records and %u skips", records, n_skips);
        ac_export_free(x);
        return;
    }
    json_t *recs = read_lines(text, len, records);
    uint8_t skipped[MAX_AGENTS] = {0};
    check_skips(x, r, skipped);
    size_t i;
    const json_t *rec;
    json_array_foreach(recs, i, rec)
        check_record(r, format, rec);
    if (format == AC_EXPORT_FORMAT_VERL || format == AC_EXPORT_FORMAT_OPENRLHF)
        check_rows(r, recs, format == AC_EXPORT_FORMAT_OPENRLHF, skipped);
    json_decref(recs);
    /* The same call again: the same bytes. */
    char *first = malloc(len + 1);
    FZ_CHECK(first != NULL, "memory");
    memcpy(first, text, len + 1);
    FZ_CHECK(ac_export_episode(x, r->ep, r->s) == AC_OK &&
                 ac_export_text(x, &text, &len, NULL) == AC_OK &&
                 strcmp(text, first) == 0,
             "the same call gave other bytes");
    free(first);
    ac_export_free(x);
}

/* ===================================================================== */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER)
        return 0;
    const uint8_t *h = data;
    const char *body = (const char *)data + HEADER;
    size_t body_len = size - HEADER;
    const char *nul = memchr(body, '\0', body_len);
    const char *cands = nul != NULL ? body : NULL;
    size_t cands_len = nul != NULL ? (size_t)(nul - body) : 0;
    const char *text = nul != NULL ? nul + 1 : body;
    size_t text_len = body_len - (size_t)(text - body);

    ac_episode *ep = NULL;
    if (ac_episode_load_json(&ep, text, text_len, NULL, NULL, 0, NULL, 0,
                             NULL, 0) != AC_OK)
        return 0;
    uint32_t n = 0, T = 0;
    FZ_CHECK(ac_episode_counts(ep, NULL, &n, &T) == AC_OK, "counts");
    double weights[MAX_AGENTS];
    uint64_t candidate = 0;
    ac_signals *s = n >= 1 && n <= MAX_AGENTS && T <= MAX_MESSAGES
                        ? signals_of(ep, h, weights, &candidate)
                        : NULL;
    if (s == NULL) {
        ac_episode_free(ep);
        return 0;
    }
    run r;
    memset(&r, 0, sizeof r);
    r.ep = ep;
    r.s = s;
    r.placement = h[0] & 1u;
    r.discount = h[1] / 255.0;
    read_figures(&r);
    const char *names[MAX_AGENTS];
    for (uint32_t a = 0; a < r.n_agents; a++)
        names[a] = ac_signals_agent_name(s, a);
    for (int32_t format = 1; format <= N_FORMATS; format++)
        convert(&r, format, h, cands, cands_len, names);
    ac_signals_free(s);
    ac_episode_free(ep);
    return 0;
}
