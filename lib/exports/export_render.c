/* Messages as a trainer reads them, from one agent's point of view: chat
 * turns (role, content, name, tool calls with object arguments) for the
 * conversational formats, text for the string formats. */
#include <string.h>

#include "episodes/json_io.h"
#include "exports/export_internal.h"

static const ac__message *msg(const ac__xrun *r, uint32_t k)
{
    return &r->ep->msg[k];
}

static const ac__participant *sender(const ac__xrun *r, uint32_t k)
{
    return &r->ep->part[msg(r, k)->participant];
}

/* A tool message's function: its own name, else the participant's name
 * without the importers' "tool:". */
static const char *tool_name(const ac__xrun *r, uint32_t k)
{
    if (msg(r, k)->name != NULL)
        return msg(r, k)->name;
    const char *name = sender(r, k)->name;
    return strncmp(name, "tool:", 5) == 0 && name[5] != '\0' ? name + 5 : name;
}

/* The speaker's name in "NAME: text": another agent's, or a tool's. */
static const char *speaker(const ac__xrun *r, uint32_t k, uint32_t view)
{
    const ac__participant *p = sender(r, k);
    if (!r->x->p.speaker_prefix)
        return NULL;
    if (p->kind == AC_PARTICIPANT_KIND_AGENT)
        return p->agent == view ? NULL : p->name;
    return p->kind == AC_PARTICIPANT_KIND_TOOL ? tool_name(r, k) : NULL;
}

/* text parsed, trusted only when a second parse gives the same value:
 * jansson 2.14's lexer, when one of its allocations fails, can lose a
 * character and still succeed, or report a syntax error
 * (akheron/jansson#362); without a failure a parse is a function of the
 * text. NULL with *oom set: out of memory (either parse failed for it, or
 * they differ); NULL with *oom 0: the text is not JSON. */
static json_t *parse_checked(const char *text, size_t len, size_t flags,
                             int *oom)
{
    json_error_t e1, e2;
    memset(&e1, 0, sizeof e1);
    memset(&e2, 0, sizeof e2);
    json_t *a = json_loadb(text, len, flags, &e1);
    json_t *b = json_loadb(text, len, flags, &e2);
    int same = a != NULL || b != NULL
                   ? json_equal(a, b)
                   : e1.text[0] != '\0' &&
                         json_error_code(&e1) != json_error_out_of_memory &&
                         e1.position == e2.position &&
                         strcmp(e1.text, e2.text) == 0;
    json_decref(b);
    *oom = !same;
    if (same)
        return a;
    json_decref(a);
    return NULL;
}

/* The message's tool calls, parsed from the episode's canonical text;
 * NULL (rc AC_OK) without any. */
static int parse_calls(ac__xrun *r, uint32_t k, json_t **calls)
{
    *calls = NULL;
    const char *text = msg(r, k)->tool_calls;
    if (text == NULL)
        return AC_OK;
    int oom;
    *calls = parse_checked(text, strlen(text), 0, &oom);
    return *calls == NULL ? ac__export_oom(r, "tool calls") : AC_OK;
}

static int add(ac__xrun *r, ac__text *t, const char *s)
{
    return ac__text_add(&r->x->mem, t, s, strlen(s)) == AC_OK
               ? AC_OK
               : ac__export_oom(r, "a message's text");
}

/* One line "NAME(ARGUMENTS)" per call, ARGUMENTS as given (a string) or
 * written compactly (an object): the importers' rendering. */
static int add_call_lines(ac__xrun *r, const json_t *calls, ac__text *t,
                          size_t body_from)
{
    size_t i;
    const json_t *call;
    int rc = AC_OK;
    json_array_foreach(calls, i, call) {
        const json_t *fn = json_object_get(call, "function");
        const json_t *args = json_object_get(fn, "arguments");
        const char *name = json_string_value(json_object_get(fn, "name"));
        if (rc == AC_OK && t->len > body_from)
            rc = add(r, t, "\n");
        if (rc == AC_OK)
            rc = add(r, t, name == NULL ? "" : name);
        if (rc == AC_OK)
            rc = add(r, t, "(");
        if (rc == AC_OK && args != NULL &&
            (json_is_string(args)
                 ? ac__text_add(&r->x->mem, t, json_string_value(args),
                                json_string_length(args))
                 : ac__text_dump(&r->x->mem, t, args,
                                 JSON_COMPACT | JSON_ENCODE_ANY)) != AC_OK)
            rc = ac__export_oom(r, "tool calls");
        if (rc == AC_OK)
            rc = add(r, t, ")");
    }
    return rc;
}

int ac__render_text(ac__xrun *r, uint32_t k, uint32_t view, ac__text *t)
{
    const char *who = speaker(r, k, view);
    int rc = AC_OK;
    if (who != NULL) {
        rc = add(r, t, who);
        if (rc == AC_OK)
            rc = add(r, t, ": ");
    }
    size_t body_from = t->len;
    if (rc == AC_OK && msg(r, k)->text != NULL)
        rc = add(r, t, msg(r, k)->text);
    json_t *calls = NULL;
    if (rc == AC_OK)
        rc = parse_calls(r, k, &calls);
    if (rc == AC_OK && calls != NULL)
        rc = add_call_lines(r, calls, t, body_from);
    json_decref(calls);
    return rc;
}

int ac__render_text_prefix(ac__xrun *r, uint32_t end, uint32_t view,
                           const char *sep, ac__text *t)
{
    int rc = AC_OK;
    for (uint32_t k = 0; rc == AC_OK && k < end; k++) {
        rc = ac__render_text(r, k, view, t);
        if (rc == AC_OK)
            rc = add(r, t, sep);
    }
    return rc;
}

int ac__render_calls(ac__xrun *r, const json_t *calls, json_t **out)
{
    *out = json_deep_copy(calls);
    if (*out == NULL)
        return ac__export_oom(r, "tool calls");
    size_t i;
    json_t *call;
    json_array_foreach(*out, i, call) {
        json_t *fn = json_object_get(call, "function");
        json_t *args = json_object_get(fn, "arguments");
        int oom = 0;
        json_t *obj = json_is_string(args)
                          ? parse_checked(json_string_value(args),
                                          json_string_length(args),
                                          JSON_DECODE_ANY, &oom)
                          : json_incref(args);
        int rc = json_is_object(obj) ? AC_OK
                 : oom               ? ac__export_oom(r, "tool calls")
                                     : AC_EXPORT_SKIP_REASON_ARGUMENTS_NOT_JSON;
        if (rc == AC_OK && json_object_set_new(fn, "arguments", obj) != 0)
            rc = ac__export_oom(r, "tool calls");
        else if (rc != AC_OK)
            json_decref(obj);
        if (rc != AC_OK) {
            json_decref(*out);
            *out = NULL;
            return rc;
        }
    }
    return AC_OK;
}

/* A turn {"role", "content"}; content NULL is "". */
static json_t *turn(const char *role, const char *content, size_t len)
{
    json_t *t = json_object();
    int ok = t != NULL;
    if (ok) {
        put(t, "role", json_string(role), &ok);
        put(t, "content", json_stringn(content == NULL ? "" : content,
                                       content == NULL ? 0 : len), &ok);
    }
    if (!ok)
        json_decref(t);
    return ok ? t : NULL;
}

/* The view's own message: the assistant's, with its calls. */
static int own_turn(ac__xrun *r, uint32_t k, json_t **out)
{
    const char *text = msg(r, k)->text;
    json_t *t = turn("assistant", text, text == NULL ? 0 : strlen(text));
    json_t *calls = NULL, *rendered = NULL;
    int rc = t == NULL ? ac__export_oom(r, "a turn") : parse_calls(r, k, &calls);
    if (rc == AC_OK && calls != NULL)
        rc = ac__render_calls(r, calls, &rendered);
    if (rc == AC_OK && rendered != NULL &&
        json_object_set_new(t, "tool_calls", rendered) != 0)
        rc = ac__export_oom(r, "a turn");
    json_decref(calls);
    if (rc != AC_OK)
        json_decref(t);
    *out = rc == AC_OK ? t : NULL;
    return rc;
}

/* Another agent's message: a user turn with its name, its text prefixed
 * and its calls as lines (a user turn cannot carry calls). */
static int other_turn(ac__xrun *r, uint32_t k, uint32_t view, json_t **out)
{
    ac__text text = {0};
    int rc = ac__render_text(r, k, view, &text);
    json_t *t = rc == AC_OK ? turn("user", text.p, text.len) : NULL;
    int ok = t != NULL;
    if (ok)
        put(t, "name", json_string(sender(r, k)->name), &ok);
    ac__text_free(&r->x->mem, &text);
    if (rc == AC_OK && !ok) {
        json_decref(t);
        rc = ac__export_oom(r, "a turn");
    }
    *out = rc == AC_OK ? t : NULL;
    return rc;
}

static int tool_turn(ac__xrun *r, uint32_t k, json_t **out)
{
    const char *text = msg(r, k)->text;
    json_t *t = turn("tool", text, text == NULL ? 0 : strlen(text));
    int ok = t != NULL;
    if (ok)
        put(t, "name", json_string(tool_name(r, k)), &ok);
    if (ok && msg(r, k)->tool_call_id != NULL)
        put(t, "tool_call_id", json_string(msg(r, k)->tool_call_id), &ok);
    if (!ok)
        json_decref(t);
    *out = ok ? t : NULL;
    return ok ? AC_OK : ac__export_oom(r, "a turn");
}

static int make_turn(ac__xrun *r, uint32_t k, uint32_t view, json_t **out)
{
    const ac__participant *p = sender(r, k);
    if (p->kind == AC_PARTICIPANT_KIND_AGENT)
        return p->agent == view ? own_turn(r, k, out)
                                : other_turn(r, k, view, out);
    if (p->kind == AC_PARTICIPANT_KIND_TOOL)
        return tool_turn(r, k, out);
    const char *text = msg(r, k)->text;
    *out = turn(p->kind == AC_PARTICIPANT_KIND_SYSTEM ? "system" : "user",
                text, text == NULL ? 0 : strlen(text));
    return *out != NULL ? AC_OK : ac__export_oom(r, "a turn");
}

/* A message's turn depends on the view only through whether the view
 * wrote it: two variants, each made once (a skip is not kept). */
int ac__render_turn(ac__xrun *r, uint32_t k, uint32_t view, json_t **out)
{
    const ac__participant *p = sender(r, k);
    int own = p->kind == AC_PARTICIPANT_KIND_AGENT && p->agent == view;
    json_t **kept = r->turns == NULL ? NULL : &r->turns[2 * (size_t)k + !own];
    if (kept != NULL && *kept != NULL) {
        *out = json_incref(*kept);
        return AC_OK;
    }
    int rc = make_turn(r, k, view, out);
    if (rc == AC_OK && kept != NULL)
        *kept = json_incref(*out);
    return rc;
}

int ac__render_prompt(ac__xrun *r, uint32_t end, uint32_t view, json_t **out)
{
    *out = NULL;
    const char *stand_in = ac__export_str(r->x, AC_EXPORT_PARAM_EMPTY_PROMPT);
    if (end == 0 && stand_in == NULL)
        return AC_EXPORT_SKIP_REASON_EMPTY_PROMPT;
    json_t *arr = json_array();
    int rc = arr == NULL ? ac__export_oom(r, "a prompt") : AC_OK;
    if (rc == AC_OK && end == 0) {
        json_t *t = turn("system", stand_in, strlen(stand_in));
        int ok = 1;
        push(arr, t, &ok);
        rc = ok ? AC_OK : ac__export_oom(r, "a prompt");
    }
    for (uint32_t k = 0; rc == AC_OK && k < end; k++) {
        json_t *t = NULL;
        rc = ac__render_turn(r, k, view, &t);
        int ok = 1;
        if (rc == AC_OK)
            push(arr, t, &ok);
        if (!ok)
            rc = ac__export_oom(r, "a prompt");
    }
    if (rc != AC_OK)
        json_decref(arr);
    *out = rc == AC_OK ? arr : NULL;
    return rc;
}

int ac__render_candidate(ac__xrun *r, const json_t *cand, json_t **out,
                         ac__text *text)
{
    const json_t *content = json_is_string(cand)
                                ? cand
                                : json_object_get(cand, "content");
    const json_t *calls = json_is_object(cand)
                              ? json_object_get(cand, "tool_calls")
                              : NULL;
    const char *s = json_string_value(content);
    size_t len = json_string_length(content);
    if (text != NULL) {
        int rc = s == NULL ? AC_OK
                           : ac__text_add(&r->x->mem, text, s, len) == AC_OK
                                 ? AC_OK
                                 : ac__export_oom(r, "a candidate");
        return rc == AC_OK && calls != NULL
                   ? add_call_lines(r, calls, text, 0)
                   : rc;
    }
    json_t *t = turn("assistant", s, len), *rendered = NULL;
    int rc = t == NULL ? ac__export_oom(r, "a candidate") : AC_OK;
    if (rc == AC_OK && calls != NULL)
        rc = ac__render_calls(r, calls, &rendered);
    if (rc == AC_OK && rendered != NULL &&
        json_object_set_new(t, "tool_calls", rendered) != 0)
        rc = ac__export_oom(r, "a candidate");
    if (rc != AC_OK)
        json_decref(t);
    *out = rc == AC_OK ? t : NULL;
    return rc;
}

/* Message k's turn seen by view as JSON text, kept beside the turn. */
static int turn_text(ac__xrun *r, uint32_t k, uint32_t view,
                     const ac__text **out)
{
    const ac__participant *p = sender(r, k);
    int own = p->kind == AC_PARTICIPANT_KIND_AGENT && p->agent == view;
    ac__text *kept = &r->texts[2 * (size_t)k + !own];
    if (kept->p == NULL) {
        json_t *t = NULL;
        int rc = ac__render_turn(r, k, view, &t);
        if (rc != AC_OK)
            return rc;
        rc = ac__text_dump(&r->x->mem, kept, t, AC__JSON_DUMP_FLAGS);
        json_decref(t);
        if (rc != AC_OK) {
            ac__text_free(&r->x->mem, kept);
            return ac__export_oom(r, "a turn");
        }
    }
    *out = kept;
    return AC_OK;
}

int ac__render_prompt_text(ac__xrun *r, uint32_t end, uint32_t view,
                           ac__text *out)
{
    if (end == 0) {
        json_t *prompt = NULL;
        int rc = ac__render_prompt(r, 0, view, &prompt);
        if (rc == AC_OK &&
            ac__text_dump(&r->x->mem, out, prompt, AC__JSON_DUMP_FLAGS) != AC_OK)
            rc = ac__export_oom(r, "a prompt");
        json_decref(prompt);
        return rc;
    }
    int rc = add(r, out, "[");
    for (uint32_t k = 0; rc == AC_OK && k < end; k++) {
        const ac__text *t = NULL;
        rc = turn_text(r, k, view, &t);
        if (rc == AC_OK && k > 0)
            rc = add(r, out, ",");
        if (rc == AC_OK && ac__text_add(&r->x->mem, out, t->p, t->len) != AC_OK)
            rc = ac__export_oom(r, "a prompt");
    }
    return rc == AC_OK ? add(r, out, "]") : rc;
}
