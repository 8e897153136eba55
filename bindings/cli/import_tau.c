/* SPDX-License-Identifier: MIT
 * agentcredit import --from tau-bench: tau-bench runs (as AgentRx publishes
 * them, tau_dataset_full.json), one episode a run, and AgentRx's human
 * labels (tau_ground_truth.json) as first-error annotations.
 *
 * A run: {"task_id", "trial", "reward", "traj": [{"role", "content",
 * "tool_calls"?, "tool_call_id"?, "name"?, "index"}], "info", ...}. The
 * messages map one to one: "system" is the system prompt (kind system),
 * "user" the LLM user simulator (kind user), "assistant" the agent (the one
 * player), "tool" a tool's answer (participant "tool:NAME", kind tool,
 * whose parent is the assistant message that made the call). An assistant
 * message that calls tools has the calls as its text, one "NAME(ARGUMENTS)"
 * line each, after its content when it has one (tau leaves the content
 * null): what the agent did is part of the transcript a verifier reads.
 * The calls are kept as the message's tool_calls too (arguments as the
 * model wrote them), and a tool's answer keeps its tool_call_id and name,
 * for the exports (docs/format.md).
 * The outcome is "reward", the threshold 0.5. The id is "TASK_ID:TRIAL".
 *
 * A label: {"trajectory_id" (the run's task_id), "failures": [{"failure_id",
 * "step_number" (1-based message index), ...}], "root_cause":
 * {"failure_id"}}: the decisive failure is the one root_cause names (the
 * only one when there is one). */
#include "import.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct tau_label {
    char *id;      /* the run's task_id, as text */
    int64_t step;  /* the decisive failure's message, 0-based */
    size_t entry;  /* its index in the labels file */
    uint32_t used; /* runs that took it */
} tau_label;

struct imp_tau_labels {
    tau_label *at;
    size_t count;
};

void imp_tau_labels_free(imp_tau_labels *labels)
{
    if (labels == NULL)
        return;
    for (size_t k = 0; k < labels->count; k++)
        free(labels->at[k].id);
    free(labels->at);
    free(labels);
}

static int by_id(const void *a, const void *b)
{
    const tau_label *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c != 0 ? c : (x->entry > y->entry) - (x->entry < y->entry);
}

/* The decisive failure's 0-based message of one label entry; -1 after a
 * warning when the entry gives none. */
static int64_t decisive_step(const json_t *entry, size_t k, const char *path,
                             const imp_sink *sink)
{
    const json_t *failures = json_object_get(entry, "failures");
    const json_t *chosen = NULL;
    char want[IMP_ID_ROOM], have[IMP_ID_ROOM];
    size_t n = json_array_size(failures);
    if (n == 0) {
        imp_report(sink, IMP_WARNING, path, "[%zu].failures: %s; left out",
                   k, json_is_array(failures) ? "empty" : "not an array");
        return -1;
    }
    if (n == 1) {
        chosen = json_array_get(failures, 0);
    } else {
        const json_t *root = json_object_get(entry, "root_cause");
        if (imp_json_id(json_object_get(root, "failure_id"), want,
                        sizeof want) != 0) {
            imp_report(sink, IMP_WARNING, path, "[%zu]: %zu failures and no "
                       "root_cause.failure_id to choose one; left out", k, n);
            return -1;
        }
        for (size_t f = 0; f < n && chosen == NULL; f++) {
            const json_t *fail = json_array_get(failures, f);
            if (imp_json_id(json_object_get(fail, "failure_id"), have,
                            sizeof have) == 0 && strcmp(want, have) == 0)
                chosen = fail;
        }
        if (chosen == NULL) {
            imp_report(sink, IMP_WARNING, path, "[%zu].root_cause: failure "
                       "%s is none of the failures; left out", k, want);
            return -1;
        }
    }
    int64_t step = 0;
    if (imp_json_index(json_object_get(chosen, "step_number"), &step) != 0 ||
        step < 1) {
        imp_report(sink, IMP_WARNING, path, "[%zu]: the decisive failure has "
                   "no step_number (a 1-based message index); left out", k);
        return -1;
    }
    return step - 1;
}

int imp_tau_labels_load(const char *path, const char *text, size_t len,
                        const imp_sink *sink, imp_tau_labels **out)
{
    json_t *root = imp_parse_json(text, len, path, sink);
    if (root == NULL)
        return -1;
    if (!json_is_array(root)) {
        imp_report(sink, IMP_ERROR, path, "not a JSON array of labels");
        json_decref(root);
        return -1;
    }
    imp_tau_labels *labels = calloc(1, sizeof *labels);
    size_t n = json_array_size(root);
    if (labels != NULL && n > 0 &&
        (labels->at = calloc(n, sizeof *labels->at)) == NULL) {
        free(labels);
        labels = NULL;
    }
    for (size_t k = 0; k < n && labels != NULL; k++) {
        const json_t *entry = json_array_get(root, k);
        char id[IMP_ID_ROOM];
        if (!json_is_object(entry) ||
            imp_json_id(json_object_get(entry, "trajectory_id"), id,
                        sizeof id) != 0) {
            imp_report(sink, IMP_WARNING, path, "[%zu]: %s; left out", k,
                       json_is_object(entry) ? "no trajectory_id (an integer "
                       "or a short string)" : "not an object");
            continue;
        }
        int64_t step = decisive_step(entry, k, path, sink);
        if (step < 0)
            continue;
        tau_label *l = &labels->at[labels->count];
        if ((l->id = malloc(strlen(id) + 1)) == NULL) {
            imp_tau_labels_free(labels);
            labels = NULL;
            break;
        }
        strcpy(l->id, id);
        l->step = step;
        l->entry = k;
        l->used = 0;
        labels->count++;
    }
    json_decref(root);
    if (labels == NULL) {
        imp_report(sink, IMP_ERROR, path, "out of memory");
        return -1;
    }
    /* sorted by id for the join; of two labels of one run the first
     * stays */
    if (labels->count > 1)
        qsort(labels->at, labels->count, sizeof *labels->at, by_id);
    size_t kept = 0;
    for (size_t k = 0; k < labels->count; k++) {
        if (kept > 0 && strcmp(labels->at[kept - 1].id, labels->at[k].id) ==
                            0) {
            imp_report(sink, IMP_WARNING, path, "[%zu]: a second label of "
                       "run %s (the first is [%zu]); left out",
                       labels->at[k].entry, labels->at[k].id,
                       labels->at[kept - 1].entry);
            free(labels->at[k].id);
            continue;
        }
        labels->at[kept++] = labels->at[k];
    }
    labels->count = kept;
    *out = labels;
    return 0;
}

static tau_label *find_label(imp_tau_labels *labels, const char *id)
{
    size_t lo = 0, hi = labels ? labels->count : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(id, labels->at[mid].id);
        if (c == 0)
            return &labels->at[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

void imp_tau_labels_finish(const imp_tau_labels *labels, const char *path,
                           const imp_sink *sink)
{
    for (size_t k = 0; labels != NULL && k < labels->count; k++) {
        const tau_label *l = &labels->at[k];
        if (l->used == 0)
            imp_report(sink, IMP_WARNING, path, "[%zu]: no run has task_id "
                       "%s; not used", l->entry, l->id);
        else if (l->used > 1)
            imp_report(sink, IMP_WARNING, path, "[%zu]: %u runs have task_id "
                       "%s; each took the label", l->entry, (unsigned)l->used,
                       l->id);
    }
}

/* An assistant message's text: its content, then one "NAME(ARGUMENTS)"
 * line per tool call. 0, or -1 after an error naming the field. */
static int assistant_text(imp_episode *b, const char *field,
                          const char *content, const json_t *calls,
                          imp_text *out)
{
    out->len = 0;
    if (content != NULL && imp_text_add(out, content, strlen(content)) != 0) {
        imp_report(b->sink, IMP_ERROR, b->where, "%s: out of memory", field);
        return -1;
    }
    return imp_calls_text(b, field, calls, out);
}

/* 1 when the assistant's calls include the id `id`. */
static int has_call(const json_t *calls, const char *id)
{
    for (size_t c = 0; c < json_array_size(calls); c++) {
        const json_t *cid = json_object_get(json_array_get(calls, c), "id");
        if (json_is_string(cid) && strcmp(json_string_value(cid), id) == 0)
            return 1;
    }
    return 0;
}

/* The transcript into the episode. 0, or -1 after an error. */
static int add_traj(imp_episode *b, const json_t *traj)
{
    imp_text text = {NULL, 0, 0}, tool = {NULL, 0, 0};
    const json_t *calls_of_last = NULL; /* the last assistant's tool calls */
    uint32_t last_caller = UINT32_MAX;
    char field[48];
    int rc = 0;
    for (size_t j = 0; j < json_array_size(traj) && rc == 0; j++) {
        const json_t *m = json_array_get(traj, j);
        const json_t *calls = json_object_get(m, "tool_calls");
        const char *role = NULL, *content = NULL, *body = NULL;
        const char *who_name = NULL, *call_id = NULL, *tool_name = NULL;
        int32_t kind = AC_PARTICIPANT_KIND_AGENT;
        uint32_t who = 0, at = 0;
        snprintf(field, sizeof field, "traj[%zu]", j);
        rc = -1;
        if (!json_is_object(m))
            imp_report(b->sink, IMP_ERROR, b->where, "%s: not an object",
                       field);
        else if (imp_json_text(m, "role", &role) != 0 || role == NULL)
            imp_report(b->sink, IMP_ERROR, b->where,
                       "%s.role: not a string", field);
        else if (imp_json_text(m, "content", &content) != 0)
            imp_report(b->sink, IMP_ERROR, b->where,
                       "%s.content: not a string or null", field);
        else if (calls != NULL && !json_is_null(calls) &&
                 !json_is_array(calls))
            imp_report(b->sink, IMP_ERROR, b->where,
                       "%s.tool_calls: not an array", field);
        else if (imp_json_text(m, "name", &tool_name) != 0 ||
                 imp_json_text(m, "tool_call_id", &call_id) != 0)
            imp_report(b->sink, IMP_ERROR, b->where,
                       "%s: name or tool_call_id not a string", field);
        else
            rc = 0;
        if (rc != 0)
            break;
        body = content;
        if (strcmp(role, "system") == 0) {
            who_name = "system", kind = AC_PARTICIPANT_KIND_SYSTEM;
        } else if (strcmp(role, "user") == 0) {
            who_name = "user", kind = AC_PARTICIPANT_KIND_USER;
        } else if (strcmp(role, "assistant") == 0) {
            who_name = "assistant", kind = AC_PARTICIPANT_KIND_AGENT;
            if (json_array_size(calls) > 0) {
                rc = assistant_text(b, field, content, calls, &text);
                body = text.s;
            }
        } else if (strcmp(role, "tool") == 0) {
            kind = AC_PARTICIPANT_KIND_TOOL;
            tool.len = 0;
            if (imp_text_add(&tool, "tool", 4) != 0 ||
                (tool_name != NULL && tool_name[0] != '\0' &&
                 (imp_text_add(&tool, ":", 1) != 0 ||
                  imp_text_add(&tool, tool_name, strlen(tool_name)) != 0))) {
                imp_report(b->sink, IMP_ERROR, b->where, "out of memory");
                rc = -1;
            }
            who_name = tool.s;
        } else {
            imp_report(b->sink, IMP_ERROR, b->where, "%s.role: \"%s\" is not "
                       "system, user, assistant or tool", field, role);
            rc = -1;
        }
        if (rc == 0)
            rc = imp_episode_participant(b, field, who_name, kind, &who);
        if (rc == 0)
            rc = imp_episode_message(b, field, who, role, body, &at);
        if (rc == 0)
            rc = kind == AC_PARTICIPANT_KIND_TOOL
                     ? imp_episode_tools(b, field, at, NULL, NULL, call_id,
                                         tool_name)
                     : imp_episode_tools(b, field, at,
                                         kind == AC_PARTICIPANT_KIND_AGENT
                                             ? calls
                                             : NULL,
                                         NULL, NULL, NULL);
        if (rc == 0 && kind == AC_PARTICIPANT_KIND_TOOL && call_id != NULL &&
            last_caller != UINT32_MAX && has_call(calls_of_last, call_id))
            rc = imp_episode_parent(b, at, last_caller);
        if (rc == 0 && kind == AC_PARTICIPANT_KIND_AGENT &&
            json_array_size(calls) > 0) {
            calls_of_last = calls;
            last_caller = at;
        }
    }
    imp_text_free(&text);
    imp_text_free(&tool);
    return rc;
}

/* One run: its episode to the sink. 0, 1 after an error, IMP_STOPPED. */
static int one_run(const char *path, size_t k, const json_t *run,
                   imp_tau_labels *labels, const imp_sink *sink)
{
    char where[1024], task[IMP_ID_ROOM], trial[IMP_ID_ROOM];
    char id[2 * IMP_ID_ROOM];
    snprintf(where, sizeof where, "%s: record %zu", path, k);
    const json_t *reward = json_object_get(run, "reward");
    const json_t *traj = json_object_get(run, "traj");
    const json_t *tr = json_object_get(run, "trial");
    int bad = 1;
    if (!json_is_object(run))
        imp_report(sink, IMP_ERROR, where, "not an object");
    else if (imp_json_id(json_object_get(run, "task_id"), task,
                         sizeof task) != 0)
        imp_report(sink, IMP_ERROR, where, "task_id: %s",
                   json_object_get(run, "task_id") ? "not an integer or a "
                   "short string" : "missing");
    else if (tr != NULL && !json_is_null(tr) &&
             imp_json_id(tr, trial, sizeof trial) != 0)
        imp_report(sink, IMP_ERROR, where, "trial: not an integer or a "
                   "short string");
    else if (!json_is_number(reward) || !isfinite(json_number_value(reward)))
        imp_report(sink, IMP_ERROR, where, "reward: %s",
                   reward ? "not a number" : "missing");
    else if (!json_is_array(traj) || json_array_size(traj) == 0)
        imp_report(sink, IMP_ERROR, where, "traj: %s",
                   !traj ? "missing" : json_is_array(traj) ? "no message"
                                                          : "not an array");
    else
        bad = 0;
    if (bad)
        return 1;
    if (tr != NULL && !json_is_null(tr))
        snprintf(id, sizeof id, "%s:%s", task, trial);
    else
        snprintf(id, sizeof id, "%s", task);
    double r = json_number_value(reward);
    imp_episode b;
    if (imp_episode_begin(&b, where, sink, id, &r, 0.5) != 0)
        return 1;
    if (add_traj(&b, traj) != 0) {
        imp_episode_drop(&b);
        return 1;
    }
    tau_label *l = find_label(labels, task);
    if (l != NULL) {
        l->used++;
        char label[IMP_ID_ROOM + 64];
        snprintf(label, sizeof label, "label of run %s (step_number %lld)",
                 l->id, (long long)l->step + 1);
        if (r >= 0.5)
            imp_report(sink, IMP_WARNING, where, "%s: the run succeeded "
                       "(reward %g); no first-error annotation", label, r);
        else
            (void)imp_episode_first_error(&b, label, l->step);
    }
    return imp_episode_emit(&b);
}

int imp_tau_buffer(const char *path, const char *text, size_t len,
                   imp_tau_labels *labels, const imp_sink *sink)
{
    json_t *root = imp_parse_json(text, len, path, sink);
    if (root == NULL)
        return 1;
    int failed = 0;
    if (json_is_object(root)) {
        failed = one_run(path, 0, root, labels, sink);
    } else if (json_is_array(root)) {
        for (size_t k = 0; k < json_array_size(root); k++) {
            int rc = one_run(path, k, json_array_get(root, k), labels, sink);
            if (rc == IMP_STOPPED) {
                failed = IMP_STOPPED;
                break;
            }
            failed += rc;
        }
    } else {
        imp_report(sink, IMP_ERROR, path, "not a JSON array of runs");
        failed = 1;
    }
    json_decref(root);
    return failed;
}
