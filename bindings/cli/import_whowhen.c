/* SPDX-License-Identifier: MIT
 * agentcredit import --from who-and-when: one Who&When episode file (Who&When,
 * "Which Agent Causes Task Failures and When?", ICML 2025), one episode.
 *
 * The file is one object: "history" the messages in order, each
 * {"content", "role", "name"?}; "mistake_step" the human label of the
 * first error (an index into history, an integer or a string of digits);
 * "mistake_agent" its author; "is_correct" (Algorithm-Generated) or
 * "is_corrected" (Hand-Crafted) whether the run succeeded: always false.
 * The author of a message is its "name" (Algorithm-Generated, where "role"
 * is AG2's view, "assistant" or "user"), else its "role" without the
 * channel in parentheses (Hand-Crafted: "Orchestrator (thought)",
 * "Orchestrator (-> WebSurfer)", "WebSurfer", "human"). Messages map one
 * to one, so the label's index is the message's; the role is kept as the
 * transcript gives it. Kinds: the computer terminal is a tool, "human"
 * (or "user") the user, every other author an agent. An instruction
 * "(-> X)" becomes the parent of X's next message. */
#include "import.h"

#include <stdlib.h>
#include <string.h>

/* An addressee waiting for its next message: "Orchestrator (-> X)". */
typedef struct pending {
    char *name;
    uint32_t message;
} pending;

typedef struct pendings {
    pending *at;
    size_t count, cap;
} pendings;

static void pendings_free(pendings *p)
{
    for (size_t k = 0; k < p->count; k++)
        free(p->at[k].name);
    free(p->at);
}

/* X's next message replies to `message` (replacing an earlier one). */
static int pendings_set(pendings *p, const char *name, size_t len,
                        uint32_t message)
{
    for (size_t k = 0; k < p->count; k++)
        if (strlen(p->at[k].name) == len &&
            memcmp(p->at[k].name, name, len) == 0) {
            p->at[k].message = message;
            return 0;
        }
    void *at = p->at;
    if (imp_grow(&at, &p->cap, p->count, sizeof *p->at) != 0)
        return -1;
    p->at = at;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, name, len);
    copy[len] = '\0';
    p->at[p->count].name = copy;
    p->at[p->count].message = message;
    p->count++;
    return 0;
}

/* The message `name` answers, if one waits (and it stops waiting):
 * UINT32_MAX otherwise. */
static uint32_t pendings_take(pendings *p, const char *name)
{
    for (size_t k = 0; k < p->count; k++)
        if (strcmp(p->at[k].name, name) == 0) {
            uint32_t m = p->at[k].message;
            free(p->at[k].name);
            p->at[k] = p->at[--p->count];
            return m;
        }
    return UINT32_MAX;
}

/* The kind of an author: Computer_terminal / ComputerTerminal a tool,
 * human / user the user, system the system, the rest agents (case, '_',
 * '-' and spaces aside). */
static int32_t kind_of(const char *name)
{
    char key[24];
    if (imp_name_key(name, key, sizeof key) != 0)
        return AC_PARTICIPANT_KIND_AGENT;
    if (strcmp(key, "computerterminal") == 0)
        return AC_PARTICIPANT_KIND_TOOL;
    if (strcmp(key, "human") == 0 || strcmp(key, "user") == 0)
        return AC_PARTICIPANT_KIND_USER;
    if (strcmp(key, "system") == 0)
        return AC_PARTICIPANT_KIND_SYSTEM;
    return AC_PARTICIPANT_KIND_AGENT;
}

/* The author of a message into *author (its "name", else its "role"
 * without a final " (channel)"), and the addressee of a "(-> X)" channel
 * (*to, *to_len; NULL without one). 0, or -1 when there is no author. */
static int author_of(const json_t *msg, imp_text *author, const char **to,
                     size_t *to_len)
{
    const json_t *name = json_object_get(msg, "name");
    const json_t *role = json_object_get(msg, "role");
    const char *r = json_is_string(role) ? json_string_value(role) : NULL;
    size_t rlen = r ? json_string_length(role) : 0, alen = rlen;
    *to = NULL;
    *to_len = 0;
    if (r != NULL && rlen > 0 && r[rlen - 1] == ')') {
        /* the last " (" opens the channel */
        for (size_t k = rlen - 1; k-- > 1;)
            if (r[k] == '(' && r[k - 1] == ' ') {
                alen = k - 1;
                const char *ch = r + k + 1;
                size_t clen = rlen - k - 2;
                if (clen > 3 && memcmp(ch, "-> ", 3) == 0) {
                    *to = ch + 3;
                    *to_len = clen - 3;
                }
                break;
            }
    }
    author->len = 0;
    if (json_is_string(name) && json_string_length(name) > 0)
        return imp_text_add(author, json_string_value(name),
                            json_string_length(name));
    if (r == NULL || alen == 0)
        return -1;
    return imp_text_add(author, r, alen);
}

/* The history into the episode. 0, or -1 after an error. */
static int add_history(imp_episode *b, const json_t *history)
{
    imp_text author = {NULL, 0, 0};
    pendings waiting = {NULL, 0, 0};
    char field[48];
    int rc = 0;
    for (size_t j = 0; j < json_array_size(history) && rc == 0; j++) {
        const json_t *msg = json_array_get(history, j);
        const char *text = NULL, *role = NULL, *to = NULL;
        size_t to_len = 0;
        uint32_t who = 0, at = 0;
        snprintf(field, sizeof field, "history[%zu]", j);
        rc = -1;
        if (!json_is_object(msg))
            imp_report(b->sink, IMP_ERROR, b->where, "%s: not an object",
                       field);
        else if (imp_json_text(msg, "content", &text) != 0)
            imp_report(b->sink, IMP_ERROR, b->where,
                       "%s.content: not a string or null", field);
        else if (imp_json_text(msg, "role", &role) != 0)
            imp_report(b->sink, IMP_ERROR, b->where,
                       "%s.role: not a string or null", field);
        else if (author_of(msg, &author, &to, &to_len) != 0)
            imp_report(b->sink, IMP_ERROR, b->where,
                       "%s: no author (no \"name\" and no \"role\")", field);
        else
            rc = 0;
        if (rc == 0)
            rc = imp_episode_participant(b, field, author.s,
                                         kind_of(author.s), &who);
        if (rc == 0)
            rc = imp_episode_message(b, field, who, role, text, &at);
        if (rc == 0) {
            uint32_t parent = pendings_take(&waiting, author.s);
            if (parent != UINT32_MAX)
                rc = imp_episode_parent(b, at, parent);
        }
        if (rc == 0 && to != NULL && to_len > 0 &&
            pendings_set(&waiting, to, to_len, at) != 0) {
            imp_report(b->sink, IMP_ERROR, b->where, "out of memory");
            rc = -1;
        }
    }
    pendings_free(&waiting);
    imp_text_free(&author);
    return rc;
}

/* The human label: the annotation when it names an agent's message; a
 * warning otherwise, and when its author is not "mistake_agent". */
static void add_label(imp_episode *b, const json_t *root)
{
    const json_t *step = json_object_get(root, "mistake_step");
    int64_t s = 0;
    double outcome = 0.0;
    int given = step != NULL && !json_is_null(step);
    if (ac_episode_get_f64(b->ep, AC_EPISODE_FIELD_OUTCOME, &outcome,
                           NULL) == AC_OK && outcome >= 0.5) {
        if (given)
            imp_report(b->sink, IMP_WARNING, b->where,
                       "mistake_step: the run succeeded; no first-error "
                       "annotation");
        return;
    }
    if (!given) {
        imp_report(b->sink, IMP_WARNING, b->where,
                   "no mistake_step; no first-error annotation");
        return;
    }
    if (imp_json_index(step, &s) != 0) {
        imp_report(b->sink, IMP_WARNING, b->where,
                   "mistake_step: not a message index (an integer or a "
                   "string of digits); no first-error annotation");
        return;
    }
    if (!imp_episode_first_error(b, "mistake_step", s))
        return;
    const json_t *agent = json_object_get(root, "mistake_agent");
    uint32_t who = 0;
    const char *name = NULL;
    if (json_is_string(agent) &&
        ac_episode_message(b->ep, (uint32_t)s, &who, NULL, NULL) == AC_OK &&
        ac_episode_participant(b->ep, who, &name, NULL) == AC_OK &&
        strcmp(name, json_string_value(agent)) != 0)
        imp_report(b->sink, IMP_WARNING, b->where,
                   "mistake_agent \"%s\" is not the author of message "
                   "%lld (\"%s\"); the annotation is kept",
                   json_string_value(agent), (long long)s, name);
}

int imp_whowhen_buffer(const char *path, const char *text, size_t len,
                       const imp_sink *sink)
{
    json_t *root = imp_parse_json(text, len, path, sink);
    if (root == NULL)
        return 1;
    const json_t *history = json_object_get(root, "history");
    const json_t *ok = json_object_get(root, "is_correct");
    const char *ok_key = "is_correct";
    int rc = 1; /* 1: an error reported */
    if (ok == NULL) {
        ok = json_object_get(root, "is_corrected");
        ok_key = "is_corrected";
    }
    if (!json_is_object(root))
        imp_report(sink, IMP_ERROR, path, "not a JSON object (a Who&When "
                   "file holds one episode object)");
    else if (!json_is_array(history))
        imp_report(sink, IMP_ERROR, path, "history: %s",
                   history ? "not an array" : "missing");
    else if (json_array_size(history) == 0)
        imp_report(sink, IMP_ERROR, path, "history: no message");
    else if (ok != NULL && !json_is_boolean(ok))
        imp_report(sink, IMP_ERROR, path, "%s: not true or false", ok_key);
    else
        rc = 0;
    if (rc == 0 && ok == NULL)
        imp_report(sink, IMP_WARNING, path, "no is_correct or is_corrected; "
                   "taken as a failed run (outcome 0)");
    const char *id = strrchr(path, '/');
    id = id != NULL && id[1] != '\0' ? id + 1 : path;
    imp_episode b;
    double outcome = json_is_true(ok) ? 1.0 : 0.0;
    if (rc == 0 && imp_episode_begin(&b, path, sink, id, &outcome, 0.5) != 0)
        rc = 1;
    if (rc == 0 && add_history(&b, history) != 0) {
        imp_episode_drop(&b);
        rc = 1;
    }
    if (rc == 0) {
        add_label(&b, root);
        rc = imp_episode_emit(&b);
    }
    json_decref(root);
    return rc;
}
