/* SPDX-License-Identifier: MIT
 * agentcredit import --from openai-chat | ag2: conversations as lists of
 * messages in the OpenAI Chat Completions format, one episode each.
 *
 * Both formats are lists of {"role", "content", "name"?, "tool_calls"?,
 * "tool_call_id"?, "function_call"?} (AG2 adds "tool_responses"), mapped
 * one to one onto the episode's messages, the role kept as given. What
 * differs is who wrote a message:
 *   openai-chat  the role says: "assistant" is an agent (its "name", else
 *                "assistant"), "user" the user, "system" and "developer"
 *                the system (each its "name", else the role).
 *   ag2          the "name" says (AG2's role is "user" or "assistant" as
 *                the recording agent saw it): every name is an agent but
 *                the non-players (--non-player, or a default rule for the
 *                usual names of a user proxy or an executor). A message
 *                without a name (AG2 leaves it out of a tool call's
 *                message in a two-agent chat) is by the one agent the
 *                conversation names, when there is one.
 * In both, "tool" and "function" messages are tools' answers: participant
 * "tool:NAME", NAME the function of the call they answer (found by
 * tool_call_id), kind tool, and their parent is the message that made the
 * call. A message's calls are part of its text, one "NAME(ARGUMENTS)" line
 * each after its content: what an agent did is what a verifier must read.
 * The calls are kept as the message's tool_calls too (a "function_call"
 * as a call without id), and a tool's answer keeps its tool_call_id and,
 * as its name, the function it answers (docs/format.md's tool keys).
 * The outcome is the record's "reward", "score", "outcome" (a number, or
 * true/false) or "label" (TRL's true/false), at most one, none: no
 * outcome; the id its "id" (AG2: or "chat_id"), else the file's name.
 * docs/cli.md ("import") has the whole mapping. */
#include "import.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A call made earlier in the conversation, for the answer that names it.
 * The strings are the record's (alive while it is read). */
typedef struct made_call {
    const char *id;       /* the tool call's id; NULL: a function_call */
    const char *function; /* the function's name */
    uint32_t message;     /* the message that made it */
} made_call;

typedef struct made_calls {
    made_call *at;
    size_t count, cap;
} made_calls;

/* How a format names authors. */
typedef struct chat_format {
    int ag2;
    const imp_non_player *non_players;
    size_t count;
    const imp_sink *sink;
} chat_format;

/* One conversation being read. */
typedef struct conversation {
    imp_episode b;
    const chat_format *f;
    made_calls made;
    imp_text text, author;
    const char *only_agent; /* ag2: the author of a message without name */
    int agents_named;       /* ag2: distinct agents named (0, 1, 2 = many) */
} conversation;

static int calls_add(made_calls *c, const char *id, const char *function,
                     uint32_t message)
{
    void *at = c->at;
    if (imp_grow(&at, &c->cap, c->count, sizeof *c->at) != 0)
        return -1;
    c->at = at;
    c->at[c->count++] = (made_call){id, function, message};
    return 0;
}

/* The latest call with this id (id NULL: the latest function_call named
 * `function`, or any function_call when that is NULL too); NULL if none. */
static const made_call *calls_find(const made_calls *c, const char *id,
                              const char *function)
{
    for (size_t k = c->count; k-- > 0;) {
        const made_call *x = &c->at[k];
        if (id != NULL ? x->id != NULL && strcmp(x->id, id) == 0
                       : x->id == NULL && (function == NULL ||
                                           strcmp(x->function, function) ==
                                               0))
            return x;
    }
    return NULL;
}

/* A string member, or NULL when absent, null or "" (an empty name is no
 * name). -1 when it is something else. */
static int optional_string(const json_t *msg, const char *key,
                           const char **out)
{
    if (imp_json_text(msg, key, out) != 0)
        return -1;
    if (*out != NULL && (*out)[0] == '\0')
        *out = NULL;
    return 0;
}

/* A content part's text: "text" (and "input_text") and "refusal" parts
 * give theirs, any other part its type in brackets ("[image_url]"), so the
 * transcript says something was there. */
static int part_text(conversation *c, const char *field, size_t k,
                     const json_t *part, imp_text *out)
{
    const json_t *type = json_object_get(part, "type");
    const char *t = json_string_value(type);
    if (t == NULL) {
        imp_report(c->b.sink, IMP_ERROR, c->b.where, "%s.content[%zu]: %s",
                   field, k, json_is_object(part) ? "no \"type\""
                                                  : "not an object");
        return -1;
    }
    const char *key = strcmp(t, "text") == 0 || strcmp(t, "input_text") == 0
                          ? "text"
                      : strcmp(t, "refusal") == 0 ? "refusal" : NULL;
    int bad = out->len > 0 && imp_text_add(out, "\n", 1) != 0;
    if (key == NULL) {
        bad = bad || imp_text_add(out, "[", 1) != 0 ||
              imp_text_add(out, t, json_string_length(type)) != 0 ||
              imp_text_add(out, "]", 1) != 0;
    } else {
        const json_t *s = json_object_get(part, key);
        if (!json_is_string(s)) {
            imp_report(c->b.sink, IMP_ERROR, c->b.where,
                       "%s.content[%zu].%s: not a string", field, k, key);
            return -1;
        }
        bad = bad || imp_text_add(out, json_string_value(s),
                                  json_string_length(s)) != 0;
    }
    if (bad)
        imp_report(c->b.sink, IMP_ERROR, c->b.where, "%s: out of memory",
                   field);
    return bad ? -1 : 0;
}

/* A message's text into c->text: its content (a string, or its parts one
 * a line), a refusal, then its calls. *has 0 when there is none of them
 * (the message has no text). 0, or -1 after an error. */
static int message_text(conversation *c, const char *field,
                        const json_t *msg, int *has)
{
    imp_text *out = &c->text;
    const json_t *content = json_object_get(msg, "content");
    const json_t *calls = json_object_get(msg, "tool_calls");
    const json_t *fcall = json_object_get(msg, "function_call");
    const char *refusal = NULL;
    out->len = 0;
    *has = 0;
    if (json_is_string(content)) {
        *has = 1;
        if (imp_text_add(out, json_string_value(content),
                         json_string_length(content)) != 0)
            goto memory;
    } else if (json_is_array(content)) {
        *has = 1;
        for (size_t k = 0; k < json_array_size(content); k++)
            if (part_text(c, field, k, json_array_get(content, k), out) != 0)
                return -1;
    } else if (content != NULL && !json_is_null(content)) {
        imp_report(c->b.sink, IMP_ERROR, c->b.where, "%s.content: not a "
                   "string, null or a list of parts", field);
        return -1;
    }
    if (optional_string(msg, "refusal", &refusal) != 0) {
        imp_report(c->b.sink, IMP_ERROR, c->b.where,
                   "%s.refusal: not a string or null", field);
        return -1;
    }
    if (refusal != NULL) {
        *has = 1;
        if ((out->len > 0 && imp_text_add(out, "\n", 1) != 0) ||
            imp_text_add(out, refusal, strlen(refusal)) != 0)
            goto memory;
    }
    *has |= json_array_size(calls) > 0 || json_is_object(fcall);
    if (imp_calls_text(&c->b, field, calls, out) != 0)
        return -1;
    if (json_is_object(fcall)) {
        const json_t *name = json_object_get(fcall, "name");
        if (!json_is_string(name)) {
            imp_report(c->b.sink, IMP_ERROR, c->b.where,
                       "%s.function_call.name: not a string", field);
            return -1;
        }
        if (imp_call_line(out, json_string_value(name),
                          json_string_length(name),
                          json_object_get(fcall, "arguments")) != 0)
            goto memory;
    }
    return 0;
memory:
    imp_report(c->b.sink, IMP_ERROR, c->b.where, "%s: out of memory", field);
    return -1;
}

/* The shape of a message's keys: each of the right type when present. */
static int check_message(conversation *c, const char *field,
                         const json_t *msg)
{
    static const char *const strings[] = {"role", "name", "tool_call_id"};
    static const char *const lists[] = {"tool_calls", "tool_responses"};
    const char *s = NULL, *key = NULL, *what = NULL;
    if (!json_is_object(msg)) {
        imp_report(c->b.sink, IMP_ERROR, c->b.where, "%s: not an object",
                   field);
        return -1;
    }
    for (size_t k = 0; k < 3 && key == NULL; k++)
        if (imp_json_text(msg, strings[k], &s) != 0)
            key = strings[k], what = "a string or null";
    for (size_t k = 0; k < 2 && key == NULL; k++) {
        const json_t *v = json_object_get(msg, lists[k]);
        if (v != NULL && !json_is_null(v) && !json_is_array(v))
            key = lists[k], what = "a list or null";
    }
    const json_t *fcall = json_object_get(msg, "function_call");
    if (key == NULL && fcall != NULL && !json_is_null(fcall) &&
        !json_is_object(fcall))
        key = "function_call", what = "an object or null";
    if (key != NULL) {
        imp_report(c->b.sink, IMP_ERROR, c->b.where, "%s.%s: not %s", field,
                   key, what);
        return -1;
    }
    return 0;
}

/* The id of the call a tool's answer answers: its tool_call_id, or
 * (AG2) that of its first tool_responses entry that has one; NULL if
 * none. */
static const char *answered_id(const json_t *msg)
{
    const char *id = NULL;
    if (imp_json_text(msg, "tool_call_id", &id) == 0 && id != NULL)
        return id;
    const json_t *answers = json_object_get(msg, "tool_responses");
    for (size_t k = 0; k < json_array_size(answers); k++) {
        const json_t *aid =
            json_object_get(json_array_get(answers, k), "tool_call_id");
        if (json_is_string(aid))
            return json_string_value(aid);
    }
    return NULL;
}

/* The call a tool's answer answers: by its id (answered_id), or for a
 * "function" message the latest function_call of its name. NULL when none
 * is found. */
static const made_call *answered_call(const conversation *c, const json_t *msg,
                                 const char *role, const char *name)
{
    const char *id = answered_id(msg);
    if (id != NULL)
        return calls_find(&c->made, id, NULL);
    if (strcmp(role, "function") == 0)
        return calls_find(&c->made, NULL, name);
    return NULL;
}

/* The kind of an AG2 author: --non-player's, else the default rule. */
static int32_t ag2_kind(const chat_format *f, const char *name)
{
    if (f->count > 0) {
        for (size_t k = 0; k < f->count; k++)
            if (strcmp(f->non_players[k].name, name) == 0)
                return f->non_players[k].kind;
        return AC_PARTICIPANT_KIND_AGENT;
    }
    static const char *const users[] = {"user", "userproxy", "human",
                                        "admin"};
    static const char *const tools[] = {"executor", "codeexecutor",
                                        "computerterminal"};
    char key[24];
    if (imp_name_key(name, key, sizeof key) != 0)
        return AC_PARTICIPANT_KIND_AGENT;
    for (size_t k = 0; k < sizeof users / sizeof *users; k++)
        if (strcmp(key, users[k]) == 0)
            return AC_PARTICIPANT_KIND_USER;
    for (size_t k = 0; k < sizeof tools / sizeof *tools; k++)
        if (strcmp(key, tools[k]) == 0)
            return AC_PARTICIPANT_KIND_TOOL;
    return AC_PARTICIPANT_KIND_AGENT;
}

static int is_tool_role(const char *role)
{
    return role != NULL &&
           (strcmp(role, "tool") == 0 || strcmp(role, "function") == 0);
}

/* The author of a message that is not a tool's answer, into *who and
 * *kind. 0, or -1 after an error. */
static int author_of(conversation *c, const char *field, const char *role,
                     const char *name, const char **who, int32_t *kind)
{
    if (c->f->ag2) {
        if (name != NULL) {
            *who = name;
            *kind = ag2_kind(c->f, name);
            return 0;
        }
        if (c->agents_named == 1) {
            *who = c->only_agent;
            *kind = AC_PARTICIPANT_KIND_AGENT;
            return 0;
        }
        imp_report(c->b.sink, IMP_ERROR, c->b.where, "%s: no name, and %s "
                   "agent the conversation names to take it", field,
                   c->agents_named == 0 ? "no" : "more than one");
        return -1;
    }
    if (role == NULL) {
        imp_report(c->b.sink, IMP_ERROR, c->b.where, "%s.role: missing",
                   field);
        return -1;
    }
    if (strcmp(role, "assistant") == 0)
        *kind = AC_PARTICIPANT_KIND_AGENT;
    else if (strcmp(role, "user") == 0)
        *kind = AC_PARTICIPANT_KIND_USER;
    else if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0)
        *kind = AC_PARTICIPANT_KIND_SYSTEM;
    else {
        imp_report(c->b.sink, IMP_ERROR, c->b.where, "%s.role: \"%s\" is not "
                   "system, developer, user, assistant, tool or function",
                   field, role);
        return -1;
    }
    *who = name != NULL ? name : role;
    return 0;
}

/* Records the calls message `at` makes, for the answers to come. */
static int remember_calls(conversation *c, const json_t *msg, uint32_t at)
{
    const json_t *calls = json_object_get(msg, "tool_calls");
    for (size_t k = 0; k < json_array_size(calls); k++) {
        const json_t *call = json_array_get(calls, k);
        const json_t *id = json_object_get(call, "id");
        const json_t *fn = json_object_get(json_object_get(call, "function"),
                                           "name");
        if (json_is_string(id) &&
            calls_add(&c->made, json_string_value(id), json_string_value(fn),
                      at) != 0)
            return -1;
    }
    const json_t *fname =
        json_object_get(json_object_get(msg, "function_call"), "name");
    if (json_is_string(fname) &&
        calls_add(&c->made, NULL, json_string_value(fname), at) != 0)
        return -1;
    return 0;
}

/* One message into the episode. 0, or -1 after an error. */
static int add_message(conversation *c, const char *field, const json_t *msg)
{
    const char *role = NULL, *name = NULL, *who = NULL, *tool_fn = NULL;
    int32_t kind = AC_PARTICIPANT_KIND_TOOL;
    uint32_t author = 0, at = 0, parent = UINT32_MAX;
    int has = 0;
    if (check_message(c, field, msg) != 0 ||
        imp_json_text(msg, "role", &role) != 0 ||
        optional_string(msg, "name", &name) != 0 ||
        message_text(c, field, msg, &has) != 0)
        return -1;
    if (is_tool_role(role)) {
        const made_call *answered = answered_call(c, msg, role, name);
        /* AG2's tool message is named after the executor, not the tool */
        const char *fn = answered != NULL ? answered->function
                         : !c->f->ag2 || strcmp(role, "function") == 0
                             ? name
                             : NULL;
        c->author.len = 0;
        if (imp_text_add(&c->author, "tool", 4) != 0 ||
            (fn != NULL && (imp_text_add(&c->author, ":", 1) != 0 ||
                            imp_text_add(&c->author, fn, strlen(fn)) != 0))) {
            imp_report(c->b.sink, IMP_ERROR, c->b.where, "out of memory");
            return -1;
        }
        who = c->author.s;
        tool_fn = fn;
        parent = answered != NULL ? answered->message : UINT32_MAX;
    } else if (author_of(c, field, role, name, &who, &kind) != 0) {
        return -1;
    }
    if (imp_episode_participant(&c->b, field, who, kind, &author) != 0 ||
        imp_episode_message(&c->b, field, author, role,
                            has ? c->text.s : NULL, &at) != 0)
        return -1;
    if (parent != UINT32_MAX && imp_episode_parent(&c->b, at, parent) != 0)
        return -1;
    if (is_tool_role(role)
            ? imp_episode_tools(&c->b, field, at, NULL, NULL,
                                answered_id(msg), tool_fn)
            : imp_episode_tools(&c->b, field, at,
                                json_object_get(msg, "tool_calls"),
                                json_object_get(msg, "function_call"), NULL,
                                NULL))
        return -1;
    if (remember_calls(c, msg, at) != 0) {
        imp_report(c->b.sink, IMP_ERROR, c->b.where, "out of memory");
        return -1;
    }
    return 0;
}

/* AG2: the agents a conversation names, so that a message without a name
 * can be given to the one agent when there is one. */
static void count_agents(conversation *c, const json_t *list)
{
    for (size_t j = 0; j < json_array_size(list) && c->agents_named < 2;
         j++) {
        const json_t *msg = json_array_get(list, j);
        const char *role = NULL, *name = NULL;
        if (imp_json_text(msg, "role", &role) != 0 || is_tool_role(role) ||
            optional_string(msg, "name", &name) != 0 || name == NULL ||
            ag2_kind(c->f, name) != AC_PARTICIPANT_KIND_AGENT)
            continue;
        if (c->agents_named == 0) {
            c->only_agent = name;
            c->agents_named = 1;
        } else if (strcmp(c->only_agent, name) != 0) {
            c->agents_named = 2;
        }
    }
}

/* The lists of messages of a record, in order, and their keys: a bare
 * list; openai-chat "messages", or TRL's "prompt" then "completion";
 * AG2 "chat_history" or "messages". n the lists found (0 after an
 * error). */
static size_t message_lists(const chat_format *f, const json_t *rec,
                            const char *where, const imp_sink *sink,
                            const json_t *lists[2], const char *keys[2])
{
    if (json_is_array(rec)) {
        if (json_array_size(rec) == 0) { /* an episode has a message */
            imp_report(sink, IMP_ERROR, where, "no message");
            return 0;
        }
        lists[0] = rec;
        keys[0] = "";
        return 1;
    }
    if (!json_is_object(rec)) {
        imp_report(sink, IMP_ERROR, where, "not an object or a list of "
                   "messages");
        return 0;
    }
    const char *one = f->ag2 ? "chat_history" : "messages";
    const char *other = f->ag2 ? "messages" : "prompt";
    const json_t *a = json_object_get(rec, one);
    const json_t *b = json_object_get(rec, other);
    if (a != NULL && b != NULL) {
        imp_report(sink, IMP_ERROR, where, "both %s and %s: give one", one,
                   other);
        return 0;
    }
    size_t n = 0;
    if (a != NULL || b != NULL) {
        lists[n] = a != NULL ? a : b;
        keys[n++] = a != NULL ? one : other;
    }
    const json_t *completion = json_object_get(rec, "completion");
    if (!f->ag2 && b != NULL && completion != NULL) {
        lists[n] = completion;
        keys[n++] = "completion";
    }
    if (n == 0) {
        imp_report(sink, IMP_ERROR, where, "no %s (nor %s)", one, other);
        return 0;
    }
    for (size_t k = 0; k < n; k++)
        if (!json_is_array(lists[k])) {
            imp_report(sink, IMP_ERROR, where, "%s: not a list", keys[k]);
            return 0;
        }
    if (json_array_size(lists[0]) + (n > 1 ? json_array_size(lists[1]) : 0) ==
        0) {
        imp_report(sink, IMP_ERROR, where, "%s: no message", keys[0]);
        return 0;
    }
    return n;
}

/* The record's outcome: *set 0 when it gives none. 0, or -1 after an
 * error. */
static int read_outcome(const json_t *rec, const char *where,
                        const imp_sink *sink, double *out, int *set)
{
    static const char *const keys[] = {"reward", "score", "outcome",
                                       "label"};
    const char *given = NULL;
    *set = 0;
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        const json_t *v = json_object_get(rec, keys[k]);
        if (v == NULL || json_is_null(v))
            continue;
        if (given != NULL) {
            imp_report(sink, IMP_ERROR, where, "both %s and %s: give one "
                       "outcome", given, keys[k]);
            return -1;
        }
        given = keys[k];
        int label = strcmp(keys[k], "label") == 0;
        if (json_is_boolean(v)) {
            *out = json_is_true(v) ? 1.0 : 0.0;
        } else if (!label && json_is_number(v) &&
                   isfinite(json_number_value(v))) {
            *out = json_number_value(v);
        } else {
            imp_report(sink, IMP_ERROR, where, "%s: not %s", keys[k],
                       label ? "true or false"
                             : "a finite number, true or false");
            return -1;
        }
        *set = 1;
    }
    return 0;
}

/* The record's id: "id" (AG2: or "chat_id"), else `fallback`. 0, or -1
 * after an error. */
static int read_id(const chat_format *f, const json_t *rec, const char *where,
                   const imp_sink *sink, const char *fallback, char *id)
{
    const char *key = "id";
    const json_t *v = json_object_get(rec, key);
    if ((v == NULL || json_is_null(v)) && f->ag2) {
        key = "chat_id";
        v = json_object_get(rec, key);
    }
    if (v == NULL || json_is_null(v)) {
        snprintf(id, IMP_ID_ROOM, "%s", fallback);
        return 0;
    }
    if (imp_json_id(v, id, IMP_ID_ROOM) != 0) {
        imp_report(sink, IMP_ERROR, where, "%s: not an integer or a "
                   "non-empty string of at most %d bytes", key,
                   IMP_ID_ROOM - 1);
        return -1;
    }
    return 0;
}

/* The messages of the lists into the episode. 0, or -1 after an error. */
static int add_lists(conversation *c, const json_t *const lists[2],
                     const char *const keys[2], size_t n)
{
    char field[64];
    if (c->f->ag2)
        for (size_t k = 0; k < n; k++)
            count_agents(c, lists[k]);
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < json_array_size(lists[k]); j++) {
            snprintf(field, sizeof field, "%s[%zu]", keys[k], j);
            if (add_message(c, field, json_array_get(lists[k], j)) != 0)
                return -1;
        }
    return 0;
}

/* One record: its episode to the sink. 0, 1 after an error, IMP_STOPPED. */
static int one_conversation(void *user, const char *where, const char *id,
                            const json_t *rec)
{
    const chat_format *f = user;
    const imp_sink *sink = f->sink;
    const json_t *lists[2] = {NULL, NULL};
    const char *keys[2] = {NULL, NULL};
    char episode_id[IMP_ID_ROOM];
    double outcome = 0.0;
    int has_outcome = 0;
    conversation c;
    memset(&c, 0, sizeof c);
    c.f = f;
    size_t n = message_lists(f, rec, where, sink, lists, keys);
    if (n == 0)
        return 1;
    if (json_is_object(rec) &&
        (read_outcome(rec, where, sink, &outcome, &has_outcome) != 0 ||
         read_id(f, rec, where, sink, id, episode_id) != 0))
        return 1;
    if (!json_is_object(rec))
        snprintf(episode_id, sizeof episode_id, "%s", id);
    if (imp_episode_begin(&c.b, where, sink, episode_id,
                          has_outcome ? &outcome : NULL, 0.5) != 0)
        return 1;
    int rc = add_lists(&c, lists, keys, n);
    free(c.made.at);
    imp_text_free(&c.text);
    imp_text_free(&c.author);
    if (rc != 0) {
        imp_episode_drop(&c.b);
        return 1;
    }
    return imp_episode_emit(&c.b);
}

/* A record of a file, rather than its first message: a list (of
 * messages), or an object that is not a message (no role, no content). */
static int is_conversation(const json_t *v)
{
    return json_is_array(v) ||
           (json_is_object(v) && json_object_get(v, "role") == NULL &&
            json_object_get(v, "content") == NULL);
}

int imp_openai_buffer(const char *path, const char *text, size_t len,
                      const imp_sink *sink)
{
    chat_format f = {0, NULL, 0, sink};
    return imp_records(path, text, len, sink, is_conversation,
                       one_conversation, &f);
}

int imp_ag2_buffer(const char *path, const char *text, size_t len,
                   const imp_non_player *non_players, size_t count,
                   const imp_sink *sink)
{
    chat_format f = {1, non_players, count, sink};
    return imp_records(path, text, len, sink, is_conversation,
                       one_conversation, &f);
}
