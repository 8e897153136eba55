/* SPDX-License-Identifier: MIT
 *
 * Tool calls in the episode (issue 15's foundation): the OpenAI/TRL keys
 * tool_calls, tool_call_id and name of "agentcredit.episode/1" messages.
 * What is accepted reads back in its canonical form and writes the same
 * text again; what is malformed is refused naming the field; unknown keys
 * inside a call are warnings (errors under AC_JSON_STRICT); the C setters
 * check UTF-8, NULL and ranges and change nothing when they fail, also
 * when memory runs out.
 */
#include <jansson.h>

#include "helpers.h"

/* An episode of two participants with `messages` (the JSON of the list's
 * elements after the first, "" for none). */
#define TOOLS_EPISODE(messages)                                              \
    "{\"format\": \"agentcredit.episode/1\", \"participants\": [{\"name\": " \
    "\"a\"}, {\"name\": \"tool:lookup\", \"kind\": \"tool\"}], "            \
    "\"messages\": [{\"from\": \"a\", \"text\": \"hi\"}" messages "], "      \
    "\"outcome\": 1}"

/* A message of agent a with the tool_calls `calls`. */
#define CALLS(calls) ", {\"from\": \"a\", \"tool_calls\": " calls "}"


static char *episode_text(const ac_episode *ep)
{
    size_t len = 0;
    ck_assert_int_eq(ac_episode_write_json(ep, NULL, 0, &len), AC_OK);
    char *buf = malloc(len + 1);
    size_t again = 0;
    ck_assert_int_eq(ac_episode_write_json(ep, buf, len + 1, &again), AC_OK);
    ck_assert_uint_eq(again, len);
    return buf;
}

/* The tool keys of message t; "-" stands for NULL. */
static void assert_tools(const ac_episode *ep, uint32_t t, const char *calls,
                         const char *id, const char *name)
{
    const char *c = "x", *i = "x", *n = "x";
    ck_assert_int_eq(ac_episode_message_tools(ep, t, &c, &i, &n), AC_OK);
    ck_assert_str_eq(c != NULL ? c : "-", calls);
    ck_assert_str_eq(i != NULL ? i : "-", id);
    ck_assert_str_eq(n != NULL ? n : "-", name);
}

/* write(th_load(text)) is a fixed point: loading it again and writing gives
 * the same bytes. Returns the written text. */
static char *assert_round_trip(const ac_episode *ep)
{
    char *text = episode_text(ep);
    ac_episode *again = th_load(text, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
    char *text2 = episode_text(again);
    ck_assert_str_eq(text2, text);
    free(text2);
    ac_episode_free(again);
    return text;
}

/* ===================================================================== */
/* Reading                                                               */
/* ===================================================================== */

START_TEST(tool_keys_read_back)
{
    const char *text = TOOLS_EPISODE(
        /* 1: OpenAI's form, arguments a JSON string, text null */
        ", {\"from\": \"a\", \"role\": \"assistant\", \"text\": null, "
        "\"tool_calls\": [{\"id\": \"call_1\", \"type\": \"function\", "
        "\"function\": {\"name\": \"lookup\", \"arguments\": "
        "\"{\\\"q\\\": \\\"caf\\u00e9\\\",  \\\"n\\\":1.50}\"}}]}"
        /* 2: the tool's answer */
        ", {\"from\": \"tool:lookup\", \"role\": \"tool\", \"text\": \"42\", "
        "\"tool_call_id\": \"call_1\", \"name\": \"lookup\", \"parent\": 1}"
        /* 3: no id, no type, arguments an object (key order kept, numbers
         * as the writer writes them); two calls; a name on an agent's */
        ", {\"from\": \"a\", \"name\": \"Alice\", \"text\": \"two calls\", "
        "\"tool_calls\": [{\"function\": {\"arguments\": {\"z\": [1, 2.5, "
        "true, null], \"a\": {\"b\": \"\\n\"}}, \"name\": \"f\"}}, "
        "{\"type\": null, \"id\": null, \"function\": {\"name\": \"g\", "
        "\"arguments\": \"\"}}]}"
        /* 4: null and [] are no tool calls */
        ", {\"from\": \"a\", \"tool_calls\": null, \"tool_call_id\": null, "
        "\"name\": null}"
        ", {\"from\": \"a\", \"tool_calls\": []}");
    char warn[256];
    ac_episode *ep = th_load(text, AC_JSON_STRICT, AC_OK, NULL, warn,
                          sizeof warn);
    ck_assert_str_eq(warn, "");
    uint32_t messages = 0;
    ck_assert_int_eq(ac_episode_counts(ep, NULL, NULL, &messages), AC_OK);
    ck_assert_uint_eq(messages, 6);
    assert_tools(ep, 0, "-", "-", "-");
    /* the arguments string as given, byte for byte */
    assert_tools(ep, 1,
                 "[{\"id\":\"call_1\",\"type\":\"function\",\"function\":"
                 "{\"name\":\"lookup\",\"arguments\":\"{\\\"q\\\": "
                 "\\\"caf\xc3\xa9\\\",  \\\"n\\\":1.50}\"}}]",
                 "-", "-");
    const char *t1 = "x";
    ck_assert_int_eq(ac_episode_message(ep, 1, NULL, NULL, &t1), AC_OK);
    ck_assert_ptr_null(t1);
    assert_tools(ep, 2, "-", "call_1", "lookup");
    assert_tools(ep, 3,
                 "[{\"type\":\"function\",\"function\":{\"name\":\"f\","
                 "\"arguments\":{\"z\":[1,2.5,true,null],\"a\":{\"b\":"
                 "\"\\n\"}}}},{\"type\":\"function\",\"function\":{\"name\":"
                 "\"g\",\"arguments\":\"\"}}]",
                 "-", "Alice");
    assert_tools(ep, 4, "-", "-", "-");
    assert_tools(ep, 5, "-", "-", "-");
    /* the canonical text is JSON whose arguments string decodes to what
     * the file's did */
    const char *calls = NULL;
    ck_assert_int_eq(ac_episode_message_tools(ep, 1, &calls, NULL, NULL),
                     AC_OK);
    json_t *j = json_loads(calls, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
                         json_array_get(j, 0), "function"), "arguments")),
                     "{\"q\": \"caf\xc3\xa9\",  \"n\":1.50}");
    json_decref(j);
    char *out = assert_round_trip(ep);
    /* the writer puts the keys after the text, and leaves out what is
     * not given */
    ck_assert_ptr_nonnull(strstr(out, "{\"from\":\"tool:lookup\",\"role\":"
                                      "\"tool\",\"text\":\"42\","
                                      "\"tool_call_id\":\"call_1\",\"name\":"
                                      "\"lookup\",\"parent\":1}"));
    ck_assert_ptr_nonnull(strstr(out, "{\"from\":\"a\"},{\"from\":\"a\"}]"));
    free(out);
    ac_episode_free(ep);
}
END_TEST

/* Every malformed tool key, refused with the field and why. */
START_TEST(tool_keys_errors)
{
    static const struct {
        const char *text;
        const char *says;
    } BAD[] = {
        {TOOLS_EPISODE(CALLS("{}")), "messages[1].tool_calls: an array of "
         "tool calls is needed"},
        {TOOLS_EPISODE(CALLS("\"f()\"")), "messages[1].tool_calls: an array"},
        {TOOLS_EPISODE(CALLS("[1]")), "messages[1].tool_calls[0]: an object "
         "{\"id\", \"type\", \"function\"} is needed"},
        {TOOLS_EPISODE(CALLS("[{\"function\": {\"name\": \"f\", "
                             "\"arguments\": \"\"}}, null]")),
         "messages[1].tool_calls[1]: an object"},
        {TOOLS_EPISODE(CALLS("[{\"id\": 7, \"function\": {\"name\": \"f\", "
                             "\"arguments\": \"\"}}]")),
         "messages[1].tool_calls[0].id: a string is needed"},
        {TOOLS_EPISODE(CALLS("[{\"type\": \"code\", \"function\": {\"name\": "
                             "\"f\", \"arguments\": \"\"}}]")),
         "messages[1].tool_calls[0].type: \"function\" is needed"},
        {TOOLS_EPISODE(CALLS("[{\"type\": 1, \"function\": {\"name\": "
                             "\"f\", \"arguments\": \"\"}}]")),
         "messages[1].tool_calls[0].type: \"function\" is needed"},
        {TOOLS_EPISODE(CALLS("[{\"id\": \"c\"}]")),
         "messages[1].tool_calls[0].function: an object {\"name\", "
         "\"arguments\"} is needed"},
        {TOOLS_EPISODE(CALLS("[{\"function\": [\"f\"]}]")),
         "messages[1].tool_calls[0].function: an object"},
        {TOOLS_EPISODE(CALLS("[{\"function\": {\"arguments\": \"\"}}]")),
         "messages[1].tool_calls[0].function.name: a string is needed"},
        {TOOLS_EPISODE(CALLS("[{\"function\": {\"name\": 3, \"arguments\": "
                             "\"\"}}]")),
         "messages[1].tool_calls[0].function.name: a string is needed"},
        {TOOLS_EPISODE(CALLS("[{\"function\": {\"name\": \"\", "
                             "\"arguments\": \"\"}}]")),
         "messages[1].tool_calls[0].function.name: the function's name is "
         "empty"},
        {TOOLS_EPISODE(CALLS("[{\"function\": {\"name\": \"f\"}}]")),
         "messages[1].tool_calls[0].function.arguments: a string (JSON "
         "text) or an object is needed"},
        {TOOLS_EPISODE(CALLS("[{\"function\": {\"name\": \"f\", "
                             "\"arguments\": null}}]")),
         "messages[1].tool_calls[0].function.arguments: a string"},
        {TOOLS_EPISODE(CALLS("[{\"function\": {\"name\": \"f\", "
                             "\"arguments\": [1]}}]")),
         "messages[1].tool_calls[0].function.arguments: a string"},
        {TOOLS_EPISODE(CALLS("[{\"function\": {\"name\": \"f\", "
                             "\"arguments\": 1}}]")),
         "messages[1].tool_calls[0].function.arguments: a string"},
        {TOOLS_EPISODE(", {\"from\": \"a\", \"tool_call_id\": 5}"),
         "messages[1].tool_call_id: a string is needed"},
        {TOOLS_EPISODE(", {\"from\": \"a\", \"tool_call_id\": \"\"}"),
         "messages[1].tool_call_id: message 1: the tool_call_id is empty"},
        {TOOLS_EPISODE(", {\"from\": \"a\", \"name\": [\"x\"]}"),
         "messages[1].name: a string is needed"},
        {TOOLS_EPISODE(", {\"from\": \"a\", \"name\": \"\"}"),
         "messages[1].name: message 1: the name is empty"},
        {TOOLS_EPISODE(CALLS("[{\"function\": {\"name\": \"f\", "
                             "\"arguments\": \"\", \"name\": \"g\"}}]")),
         "line 1"}, /* a duplicate key */
    };
    for (size_t k = 0; k < sizeof BAD / sizeof BAD[0]; k++)
        th_load(BAD[k].text, 0, AC_E_PARSE, BAD[k].says, NULL, 0);
}
END_TEST

START_TEST(tool_keys_unknown)
{
    const char *text = TOOLS_EPISODE(CALLS(
        "[{\"id\": \"c1\", \"index\": 0, \"function\": {\"name\": \"f\", "
        "\"arguments\": \"{}\", \"strict\": true}}]"));
    char warn[512];
    ac_episode *ep = th_load(text, 0, AC_OK, NULL, warn, sizeof warn);
    ck_assert_str_eq(warn, "messages[1].tool_calls[0].index: unknown key, "
                           "ignored\nmessages[1].tool_calls[0].function."
                           "strict: unknown key, ignored");
    /* the call is kept without them */
    assert_tools(ep, 1,
                 "[{\"id\":\"c1\",\"type\":\"function\",\"function\":{"
                 "\"name\":\"f\",\"arguments\":\"{}\"}}]",
                 "-", "-");
    free(assert_round_trip(ep));
    ac_episode_free(ep);
    th_load(text, AC_JSON_STRICT, AC_E_PARSE, "messages[1].tool_calls[0]: "
         "unknown key \"index\" (AC_JSON_STRICT)", warn, sizeof warn);
    ck_assert_str_eq(warn, "");
    /* the three keys are no longer unknown */
    char w2[64];
    ep = th_load(TOOLS_EPISODE(", {\"from\": \"a\", \"tool_call_id\": \"x\", "
                            "\"name\": \"y\"}"),
              0, AC_OK, NULL, w2, sizeof w2);
    ck_assert_str_eq(w2, "");
    ac_episode_free(ep);
}
END_TEST

/* ===================================================================== */
/* The C setters and getter                                              */
/* ===================================================================== */

static ac_episode *two_messages(const ac_allocator *alloc)
{
    ac_episode *ep = NULL;
    ck_assert_int_eq(ac_episode_create(&ep, alloc), AC_OK);
    uint32_t a = 0, t = 0;
    ck_assert_int_eq(ac_episode_add_participant(ep, "a",
                                                AC_PARTICIPANT_KIND_AGENT,
                                                &a),
                     AC_OK);
    ck_assert_int_eq(ac_episode_add_participant(ep, "tool:f",
                                                AC_PARTICIPANT_KIND_TOOL, &t),
                     AC_OK);
    ck_assert_int_eq(ac_episode_add_message(ep, a, "assistant", NULL, NULL),
                     AC_OK);
    ck_assert_int_eq(ac_episode_add_message(ep, t, "tool", "ok", NULL),
                     AC_OK);
    return ep;
}

#define CALL_F "[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":" \
               "\"f\",\"arguments\":\"{\\\"x\\\":1}\"}}]"

START_TEST(tool_setters)
{
    ac_episode *ep = two_messages(NULL);
    /* the text need not end in a NUL: len says where it ends */
    char text[] = CALL_F "garbage";
    ck_assert_int_eq(ac_episode_set_tool_calls(ep, 0, text,
                                               strlen(CALL_F)),
                     AC_OK);
    assert_tools(ep, 0, CALL_F, "-", "-");
    ck_assert_int_eq(ac_episode_set_tool_call_id(ep, 1, "c1"), AC_OK);
    ck_assert_int_eq(ac_episode_set_message_name(ep, 1, "f"), AC_OK);
    assert_tools(ep, 1, "-", "c1", "f");
    free(assert_round_trip(ep));
    /* refused: nothing changes, the message says why */
    static const struct {
        const char *json;
        const char *says;
    } BAD[] = {
        {"[{\"function\": {\"name\": \"f\"}}]",
         "tool_calls[0].function.arguments: a string"},
        {"[{\"function\": {\"name\": \"f\", \"arguments\": \"\"}, "
         "\"index\": 0}]",
         "tool_calls[0]: unknown key \"index\""},
        {"[{\"function\": {\"name\": \"f\", \"arguments\": \"\"}}",
         "tool_calls: line 1"},
        {"{\"function\": {\"name\": \"f\", \"arguments\": \"\"}}",
         "tool_calls: an array"},
        {"[{\"function\": {\"name\": \"f\xff\", \"arguments\": \"\"}}]",
         "tool_calls: line 1"}, /* not UTF-8 */
        {"null", "tool_calls: line 1"}, /* NULL, not "null", removes */
        {"", "tool_calls: line 1"},
    };
    for (size_t k = 0; k < sizeof BAD / sizeof BAD[0]; k++) {
        ck_assert_int_eq(ac_episode_set_tool_calls(ep, 0, BAD[k].json,
                                                   strlen(BAD[k].json)),
                         AC_E_INVALID_ARG);
        ck_assert_msg(strstr(ac_episode_last_error(ep), BAD[k].says) != NULL,
                      "%s: \"%s\"", BAD[k].json, ac_episode_last_error(ep));
        assert_tools(ep, 0, CALL_F, "-", "-");
    }
    ck_assert_int_eq(ac_episode_set_tool_calls(ep, 2, CALL_F,
                                               strlen(CALL_F)),
                     AC_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(ac_episode_last_error(ep),
                                 "tool calls: no message 2 (2 given)"));
    ck_assert_int_eq(ac_episode_set_tool_calls(NULL, 0, CALL_F,
                                               strlen(CALL_F)),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_tool_call_id(ep, 1, ""),
                     AC_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(ac_episode_last_error(ep),
                                 "the tool_call_id is empty"));
    ck_assert_int_eq(ac_episode_set_message_name(ep, 1, "f\xc3"),
                     AC_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(ac_episode_last_error(ep), "not UTF-8"));
    ck_assert_int_eq(ac_episode_set_message_name(ep, 1, "\xed\xa0\x80"),
                     AC_E_INVALID_ARG); /* a surrogate */
    ck_assert_int_eq(ac_episode_set_tool_call_id(ep, 7, "c"),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_message_name(NULL, 0, "c"),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_set_tool_call_id(NULL, 0, "c"),
                     AC_E_INVALID_ARG);
    assert_tools(ep, 1, "-", "c1", "f");
    /* replaced, then removed: by NULL, and by an empty array */
    ck_assert_int_eq(ac_episode_set_message_name(ep, 1, "g"), AC_OK);
    ck_assert_int_eq(ac_episode_set_tool_call_id(ep, 1, NULL), AC_OK);
    assert_tools(ep, 1, "-", "-", "g");
    ck_assert_int_eq(ac_episode_set_message_name(ep, 1, NULL), AC_OK);
    ck_assert_int_eq(ac_episode_set_tool_calls(ep, 0, " [ ] ", 5), AC_OK);
    assert_tools(ep, 0, "-", "-", "-");
    ck_assert_int_eq(ac_episode_set_tool_calls(ep, 0, CALL_F, strlen(CALL_F)),
                     AC_OK);
    ck_assert_int_eq(ac_episode_set_tool_calls(ep, 0, NULL, 99), AC_OK);
    assert_tools(ep, 0, "-", "-", "-");
    /* the getter: any output may be NULL; out of range, NULL episode */
    ck_assert_int_eq(ac_episode_message_tools(ep, 0, NULL, NULL, NULL),
                     AC_OK);
    const char *c = "x";
    ck_assert_int_eq(ac_episode_message_tools(ep, 2, &c, NULL, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_int_eq(ac_episode_message_tools(NULL, 0, &c, NULL, NULL),
                     AC_E_INVALID_ARG);
    ck_assert_str_eq(c, "x");
    ac_episode_free(ep);
}
END_TEST

/* An arguments string keeps every character: escapes, quotes, non-ASCII,
 * text that is not JSON at all (the exporter, not the episode, judges). */
START_TEST(tool_arguments_kept)
{
    static const char *const ARGS[] = {
        "", "{}", "not json (", "{\"a\": \"\\u00e9\"}", "line\nbreak\ttab",
        "quote \" backslash \\ slash /", "\xe2\x9c\x93 \xf0\x9f\x98\x80",
        "\x7f\x01\x1f"};
    for (size_t k = 0; k < sizeof ARGS / sizeof ARGS[0]; k++) {
        json_t *call = json_pack("[{s:{s:s,s:s}}]", "function", "name", "f",
                                 "arguments", ARGS[k]);
        char *json = json_dumps(call, JSON_COMPACT);
        json_decref(call);
        ac_episode *ep = two_messages(NULL);
        ck_assert_int_eq(ac_episode_set_tool_calls(ep, 0, json,
                                                   strlen(json)),
                         AC_OK);
        free(json);
        char *text = assert_round_trip(ep);
        ac_episode *again = th_load(text, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
        const char *calls = NULL;
        ck_assert_int_eq(ac_episode_message_tools(again, 0, &calls, NULL,
                                                  NULL),
                         AC_OK);
        json_t *j = json_loads(calls, 0, NULL);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
                             json_array_get(j, 0), "function"), "arguments")),
                         ARGS[k]);
        json_decref(j);
        free(text);
        ac_episode_free(again);
        ac_episode_free(ep);
    }
}
END_TEST

/* Numbers of an arguments object: written as the episode writer writes
 * them, which reads back to the same text (a fixed point). */
START_TEST(tool_arguments_numbers)
{
    const char *json = "[{\"function\":{\"name\":\"f\",\"arguments\":{\"a\":"
                       "0.1,\"b\":1e300,\"c\":-0.0,\"d\":9007199254740993,"
                       "\"e\":1E2,\"f\":-5e-324}}}]";
    ac_episode *ep = two_messages(NULL);
    ck_assert_int_eq(ac_episode_set_tool_calls(ep, 0, json, strlen(json)),
                     AC_OK);
    const char *calls = NULL;
    ck_assert_int_eq(ac_episode_message_tools(ep, 0, &calls, NULL, NULL),
                     AC_OK);
    ck_assert_str_eq(calls, "[{\"type\":\"function\",\"function\":{\"name\":"
                            "\"f\",\"arguments\":{\"a\":0.10000000000000001,"
                            "\"b\":1.0000000000000001e300,\"c\":-0.0,"
                            "\"d\":9007199254740993,\"e\":100.0,"
                            "\"f\":-4.9406564584124654e-324}}}]");
    /* the canonical text given back is taken as is */
    ac_episode *ep2 = two_messages(NULL);
    ck_assert_int_eq(ac_episode_set_tool_calls(ep2, 0, calls, strlen(calls)),
                     AC_OK);
    const char *calls2 = NULL;
    ck_assert_int_eq(ac_episode_message_tools(ep2, 0, &calls2, NULL, NULL),
                     AC_OK);
    ck_assert_str_eq(calls2, calls);
    free(assert_round_trip(ep));
    ac_episode_free(ep2);
    ac_episode_free(ep);
}
END_TEST

/* ===================================================================== */
/* Memory                                                                */
/* ===================================================================== */

static const char *const MEMORY_TEXT = TOOLS_EPISODE(
    ", {\"from\": \"a\", \"text\": null, \"tool_calls\": [{\"id\": \"c1\", "
    "\"function\": {\"name\": \"lookup\", \"arguments\": \"{}\"}}, "
    "{\"function\": {\"name\": \"g\", \"arguments\": {\"x\": [1.5]}}}]}"
    ", {\"from\": \"tool:lookup\", \"tool_call_id\": \"c1\", \"name\": "
    "\"lookup\", \"text\": \"ok\"}");

/* Every allocation of a load with tool keys failing in turn: the
 * documented AC_E_NO_MEMORY with nothing left behind, until the load
 * succeeds with the whole episode. */
START_TEST(tool_keys_allocation_failure)
{
    ac_episode *clean = th_load(MEMORY_TEXT, AC_JSON_STRICT, AC_OK, NULL, NULL,
                             0);
    char *want = episode_text(clean);
    ac_episode_free(clean);
    long failures = 0;
    for (long k = 0;; k++) {
        th_fail_alloc f = {0, k, 0, 0};
        ac_allocator a = th_fail_allocator(&f);
        ac_episode *ep = (ac_episode *)&f;
        char err[256];
        int rc = ac_episode_load_json(&ep, MEMORY_TEXT, strlen(MEMORY_TEXT),
                                      &a, NULL, 0, err, sizeof err, NULL, 0);
        if (rc == AC_OK) {
            char *got = episode_text(ep);
            ck_assert_str_eq(got, want);
            free(got);
            ac_episode_free(ep);
            ck_assert_int_eq(f.live, 0);
            break;
        }
        ck_assert_msg(rc == AC_E_NO_MEMORY, "k %ld: %d: %s", k, rc, err);
        ck_assert(ep == (ac_episode *)&f && strstr(err, "memory") != NULL);
        ck_assert_int_eq(f.live, 0);
        failures++;
    }
    /* episode, participants, messages, strings, and the tool keys' own:
     * the scratch list and the canonical text of each call list, the id
     * and the name */
    ck_assert_int_ge(failures, 10);
    free(want);
}
END_TEST

/* The setters out of memory: AC_E_NO_MEMORY, and the message keeps what
 * it had. */
START_TEST(tool_setters_allocation_failure)
{
    for (int which = 0; which < 3; which++) {
        long failures = 0;
        for (long k = 0;; k++) {
            th_fail_alloc f = {0, -1, 0, 0};
            ac_allocator a = th_fail_allocator(&f);
            ac_episode *ep = two_messages(&a);
            ck_assert_int_eq(ac_episode_set_tool_calls(ep, 0, CALL_F,
                                                       strlen(CALL_F)),
                             AC_OK);
            ck_assert_int_eq(ac_episode_set_tool_call_id(ep, 1, "c1"),
                             AC_OK);
            ck_assert_int_eq(ac_episode_set_message_name(ep, 1, "f"), AC_OK);
            long live = f.live;
            f.fail_at = f.calls + k;
            const char *other = "[{\"function\":{\"name\":\"g\","
                                "\"arguments\":{\"y\":2}}}]";
            int rc = which == 0 ? ac_episode_set_tool_calls(ep, 0, other,
                                                            strlen(other))
                     : which == 1 ? ac_episode_set_tool_call_id(ep, 1, "c2")
                                  : ac_episode_set_message_name(ep, 1, "g");
            f.fail_at = -1;
            if (rc == AC_OK) {
                ck_assert_int_eq(f.live, live); /* one replaced by one */
                ac_episode_free(ep);
                ck_assert_int_eq(f.live, 0);
                break;
            }
            ck_assert_int_eq(rc, AC_E_NO_MEMORY);
            ck_assert_ptr_nonnull(strstr(ac_episode_last_error(ep),
                                         "memory"));
            ck_assert_int_eq(f.live, live);
            assert_tools(ep, 0, CALL_F, "-", "-");
            assert_tools(ep, 1, "-", "c1", "f");
            ac_episode_free(ep);
            ck_assert_int_eq(f.live, 0);
            failures++;
        }
        ck_assert_int_ge(failures, which == 0 ? 2 : 1);
    }
}
END_TEST

/* Bytes live and at their peak, of the host's allocator and of
 * jansson's (this program sets jansson's with json_set_alloc_funcs). */
typedef struct counted {
    size_t live, peak;
} counted;
static counted jansson_bytes;

static void *count_alloc(counted *c, size_t size)
{
    size_t *q = malloc(sizeof(size_t) * 2 + size);
    if (q == NULL)
        return NULL;
    q[0] = size;
    c->live += size;
    if (c->live > c->peak)
        c->peak = c->live;
    return q + 2;
}

static void count_free(counted *c, void *p)
{
    if (p == NULL)
        return;
    size_t *q = (size_t *)p - 2;
    c->live -= q[0];
    free(q);
}

static void *host_alloc(void *opaque, size_t size)
{
    return count_alloc(opaque, size);
}

static void host_free(void *opaque, void *p)
{
    count_free(opaque, p);
}

static void *jansson_alloc(size_t size)
{
    return count_alloc(&jansson_bytes, size);
}

static void jansson_free(void *p)
{
    count_free(&jansson_bytes, p);
}

/* The memory estimate covers the canonical text: an arguments object of
 * many short numbers, which "%.17g" writes 5 times longer, loads within
 * the smallest max_memory that lets it through: the host's peak plus
 * jansson's is at most that. */
START_TEST(tool_keys_within_max_memory)
{
    enum { N = 4000 };
    size_t cap = 6 * (size_t)N + 512;
    char *text = malloc(cap);
    size_t k = (size_t)snprintf(text, cap, "{\"participants\": [{\"name\": "
                                "\"a\"}], \"messages\": [{\"from\": "
                                "\"a\", \"tool_calls\": [{\"function\": "
                                "{\"name\": \"f\", \"arguments\": {\"v\": "
                                "[");
    for (int i = 0; i < N; i++)
        k += (size_t)snprintf(text + k, cap - k, "%s1e-7", i ? "," : "");
    snprintf(text + k, cap - k, "]}}}]}], \"outcome\": 1}");
    size_t len = strlen(text);
    uint64_t lo = 1, hi = (uint64_t)64 << 20;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        ac_json_limits lim;
        ac_json_limits_default(&lim);
        lim.max_memory = mid;
        ac_episode *ep = NULL;
        int rc = ac_episode_load_json(&ep, text, len, NULL, &lim, 0, NULL, 0,
                                      NULL, 0);
        ac_episode_free(ep);
        if (rc == AC_E_TOO_LARGE)
            lo = mid + 1;
        else
            hi = mid;
    }
    ac_json_limits lim;
    ac_json_limits_default(&lim);
    lim.max_memory = lo;
    counted host = {0, 0};
    ac_allocator a = {sizeof a, 0, host_alloc, host_free, &host};
    ac_episode *ep = NULL;
    json_set_alloc_funcs(jansson_alloc, jansson_free);
    int rc = ac_episode_load_json(&ep, text, len, &a, &lim, 0, NULL, 0, NULL,
                                  0);
    json_set_alloc_funcs(malloc, free);
    ck_assert_int_eq(rc, AC_OK);
    const char *calls = NULL;
    ck_assert_int_eq(ac_episode_message_tools(ep, 0, &calls, NULL, NULL),
                     AC_OK);
    ck_assert_uint_gt(strlen(calls), 5 * (size_t)N * 4);
    ck_assert_ptr_nonnull(strstr(calls, "9.9999999999999995e-8"));
    ck_assert_msg(host.peak + jansson_bytes.peak <= lo,
                  "host %zu + jansson %zu bytes, the estimate allowed %llu",
                  host.peak, jansson_bytes.peak, (unsigned long long)lo);
    ac_episode_free(ep);
    free(text);
}
END_TEST

/* docs/format.md's episode example has the tool keys, and they load. */
START_TEST(tool_keys_in_the_format_doc)
{
    FILE *f = fopen(AC_TEST_DATA_DIR "/../../docs/format.md", "rb");
    ck_assert_msg(f != NULL, "cannot open docs/format.md");
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *start = strstr(text, "<!-- episode example -->");
    ck_assert_ptr_nonnull(start);
    start = strstr(start, "```json\n");
    ck_assert_ptr_nonnull(start);
    start += strlen("```json\n");
    char *end = strstr(start, "\n```");
    ck_assert_ptr_nonnull(end);
    *end = '\0';
    ac_episode *ep = th_load(start, AC_JSON_STRICT, AC_OK, NULL, NULL, 0);
    assert_tools(ep, 2,
                 "[{\"id\":\"call_1\",\"type\":\"function\",\"function\":"
                 "{\"name\":\"run_tests\",\"arguments\":\"{\\\"path\\\": "
                 "\\\"tests/\\\"}\"}}]",
                 "-", "-");
    assert_tools(ep, 3, "-", "call_1", "run_tests");
    ac_episode_free(ep);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("episode_tools");
    TCase *tc = th_tcase(s, "tool keys");
    tcase_add_test(tc, tool_keys_read_back);
    tcase_add_test(tc, tool_keys_errors);
    tcase_add_test(tc, tool_keys_unknown);
    tcase_add_test(tc, tool_setters);
    tcase_add_test(tc, tool_arguments_kept);
    tcase_add_test(tc, tool_arguments_numbers);
    tcase_add_test(tc, tool_keys_allocation_failure);
    tcase_add_test(tc, tool_setters_allocation_failure);
    tcase_add_test(tc, tool_keys_within_max_memory);
    tcase_add_test(tc, tool_keys_in_the_format_doc);
    return th_run_suite(s);
}
