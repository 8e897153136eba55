/* SPDX-License-Identifier: MIT
 *
 * The episode JSON parser (ac_episode_load_json) on any bytes, and the
 * signals writer after it. A load either fails with a documented status
 * and a message, leaving *out alone, or gives an episode that round-trips:
 * written and read back (strict) it writes the same text again. Then the
 * pipeline runs on it (small episodes only, an oracle of its agents'
 * count, the human label as verifier): a failure is a documented status
 * with a message naming its stage; a success has credits adding up to
 * R - reference, each agent's rewards to its credit, no reward on a
 * non-player's message, and signals that jansson reads back. Tool calls:
 * the setter keeps the loader's canonical text as it is, and input that
 * starts with '[' goes to the setter too. Message and
 * warning buffers are written within their capacity and terminated.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

enum { ERR_ROOM = 320, WARN_ROOM = 200, MAX_AGENTS = 12, MAX_MESSAGES = 400 };

static char *write_episode(const ac_episode *ep)
{
    size_t len = 0;
    FZ_CHECK(ac_episode_write_json(ep, NULL, 0, &len) == AC_OK, "write");
    char *buf = malloc(len + 1);
    FZ_CHECK(buf != NULL, "memory");
    size_t again = 0;
    FZ_CHECK(ac_episode_write_json(ep, buf, len + 1, &again) == AC_OK &&
                 again == len && strlen(buf) == len, "write");
    return buf;
}

static void check_round_trip(const ac_episode *ep)
{
    char *text = write_episode(ep);
    ac_episode *back = NULL;
    char err[ERR_ROOM];
    int rc = ac_episode_load_json(&back, text, strlen(text), NULL, NULL,
                                  AC_JSON_STRICT, err, sizeof err, NULL, 0);
    FZ_CHECK(rc == AC_OK, "what the writer wrote does not load: %s\n%s",
             err, text);
    char *again = write_episode(back);
    FZ_CHECK(strcmp(text, again) == 0, "round trip:\n%s\n%s", text, again);
    free(again);
    free(text);
    ac_episode_free(back);
}

/* An episode of one message, for the tool-call setter. */
static ac_episode *one_message(void)
{
    ac_episode *ep = NULL;
    FZ_CHECK(ac_episode_create(&ep, NULL) == AC_OK &&
                 ac_episode_add_participant(ep, "a",
                                            AC_PARTICIPANT_KIND_AGENT,
                                            NULL) == AC_OK &&
                 ac_episode_add_message(ep, 0, NULL, NULL, NULL) == AC_OK,
             "setup");
    return ep;
}

/* The tool calls `json` through the setter: refused with a documented
 * status and a message, changing nothing; or kept as a canonical text
 * that the setter keeps as it is (a fixed point). want: the canonical
 * text it must give, or NULL. */
static void check_tool_setter(const char *json, size_t len, const char *want)
{
    ac_episode *ep = one_message();
    int rc = ac_episode_set_tool_calls(ep, 0, json, len);
    const char *calls = "x";
    FZ_CHECK(ac_episode_message_tools(ep, 0, &calls, NULL, NULL) == AC_OK,
             "tools");
    if (rc != AC_OK) {
        FZ_CHECK(want == NULL && (rc == AC_E_INVALID_ARG ||
                                  rc == AC_E_NO_MEMORY),
                 "set_tool_calls = %s: %s", ac_status_name(rc),
                 ac_episode_last_error(ep));
        FZ_CHECK(ac_episode_last_error(ep)[0] != '\0' && calls == NULL,
                 "a refusal without message, or with a change");
    } else if (calls != NULL) {
        FZ_CHECK(want == NULL || strcmp(calls, want) == 0,
                 "the setter's text:\n%s\nthe loader's:\n%s", calls, want);
        if (want == NULL)
            check_tool_setter(calls, strlen(calls), calls);
    }
    ac_episode_free(ep);
}

/* Every message's tool calls: the setter takes the loader's canonical
 * text to itself. */
static void check_tools(const ac_episode *ep)
{
    uint32_t T = 0;
    FZ_CHECK(ac_episode_counts(ep, NULL, NULL, &T) == AC_OK, "counts");
    for (uint32_t t = 0; t < T; t++) {
        const char *calls = NULL, *id = NULL, *name = NULL;
        FZ_CHECK(ac_episode_message_tools(ep, t, &calls, &id, &name) ==
                     AC_OK, "tools");
        FZ_CHECK((id == NULL || id[0] != '\0') &&
                     (name == NULL || name[0] != '\0'), "an empty key");
        if (calls != NULL)
            check_tool_setter(calls, strlen(calls), calls);
    }
}

/* v(S) = |S| / n: enough for the pipeline to run on any episode. */
static int count_oracle(void *user, const uint64_t *coalitions,
                        uint32_t words, uint32_t count, double *values,
                        int32_t *status)
{
    const uint32_t *n = user;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t c = 0;
        for (uint32_t w = 0; w < words; w++)
            c += (uint32_t)__builtin_popcountll(coalitions[(size_t)k * words
                                                           + w]);
        values[k] = (double)c / *n;
        status[k] = 0;
    }
    return 0;
}

static void run_pipeline(const ac_episode *ep)
{
    uint32_t parts = 0, n = 0, T = 0;
    FZ_CHECK(ac_episode_counts(ep, &parts, &n, &T) == AC_OK, "counts");
    if (n == 0 || n > MAX_AGENTS || T > MAX_MESSAGES)
        return;
    ac_pipeline *p = NULL;
    FZ_CHECK(ac_pipeline_create(&p, NULL) == AC_OK, "create");
    FZ_CHECK(ac_pipeline_set_oracle(p, count_oracle, &n) == AC_OK &&
                 ac_pipeline_set_int(p, AC_PIPELINE_PARAM_VERIFIER,
                                     AC_VERIFIER_SOURCE_ANNOTATION) == AC_OK,
             "setup");
    int rc = ac_pipeline_run(p, ep);
    FZ_CHECK(rc == AC_OK || rc == AC_E_STATE || rc == AC_E_TOO_LARGE ||
                 rc == AC_E_BUDGET || rc == AC_E_INFEASIBLE,
             "run = %s: %s", ac_status_name(rc), ac_pipeline_last_error(p));
    if (rc == AC_OK)
        free(fz_check_pipeline_done(p, ep));
    else
        FZ_CHECK(ac_pipeline_last_error(p)[0] != '\0', "no message");
    ac_pipeline_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t flags = size > 0 && (data[size - 1] & 1u) ? AC_JSON_STRICT : 0;
    ac_episode *ep = (ac_episode *)&flags; /* must stay untouched */
    char err[ERR_ROOM + 1], warn[WARN_ROOM + 1];
    err[ERR_ROOM] = warn[WARN_ROOM] = 'X';
    int rc = ac_episode_load_json(&ep, (const char *)data, size, NULL, NULL,
                                  flags, err, ERR_ROOM, warn, WARN_ROOM);
    FZ_CHECK(err[ERR_ROOM] == 'X' && warn[WARN_ROOM] == 'X' &&
                 memchr(err, '\0', ERR_ROOM) && memchr(warn, '\0', WARN_ROOM),
             "a buffer overrun");
    /* the bytes as a tool-call list too (the setter's own parse) */
    if (size > 0 && data[0] == '[')
        check_tool_setter((const char *)data, size, NULL);
    if (rc != AC_OK) {
        FZ_CHECK(rc == AC_E_PARSE || rc == AC_E_TOO_LARGE ||
                     rc == AC_E_NO_MEMORY,
                 "load = %s: %s", ac_status_name(rc), err);
        FZ_CHECK(ep == (ac_episode *)&flags, "*out changed on failure");
        FZ_CHECK(err[0] != '\0' && warn[0] == '\0', "messages on failure");
        return 0;
    }
    FZ_CHECK(err[0] == '\0', "a message on success: %s", err);
    check_round_trip(ep);
    check_tools(ep);
    run_pipeline(ep);
    ac_episode_free(ep);
    return 0;
}
