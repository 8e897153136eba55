/* SPDX-License-Identifier: MIT
 * agentcredit import: transcripts recorded by other systems, as episodes.
 *
 * Each importer reads one file's text (a buffer, so that a fuzz target can
 * call it as the command does) with jansson and hands every episode it
 * builds to a sink, through ac_episode_* only: the sink writes it with
 * ac_episode_write_json. Problems go to the sink too, each with where it
 * is ("FILE", or "FILE: record 3" for one run of a file of many) and what
 * it is. An error means the file (or the record) gave no episode; a
 * warning means the episode was written without what the warning names (a
 * first-error label that is out of range, say). Nothing here keeps state
 * between calls: everything an import needs is in its arguments.
 * docs/cli.md ("import") describes the mapping of each format. */
#ifndef AGENTCREDIT_CLI_IMPORT_H
#define AGENTCREDIT_CLI_IMPORT_H

#include <agentcredit.h>
#include <jansson.h>

#include <stddef.h>
#include <stdint.h>

typedef enum imp_level { IMP_WARNING = 0, IMP_ERROR = 1 } imp_level;

typedef struct imp_sink {
    /* One episode, complete; the importer frees it after the call. Return
     * 0 to go on, anything else to stop the import (an output error). */
    int (*episode)(void *user, const ac_episode *ep);
    /* One problem: where and what, each a NUL-terminated line. */
    void (*report)(void *user, imp_level level, const char *where,
                   const char *what);
    void *user;
} imp_sink;

/* What an importer returns: the number of errors it reported (0: every
 * episode of the text was handed to the sink), or IMP_STOPPED when the
 * sink's episode callback asked to stop. */
#define IMP_STOPPED (-1)

/* ---- the steps every importer shares (import_common.c) ---- */

/* Reports "what" (printf-style) at `where`. */
void imp_report(const imp_sink *sink, imp_level level, const char *where,
                const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Parses text (len bytes) with jansson: duplicate keys are refused and a
 * syntax error is reported at `where` as "line L, column C: ...". NULL
 * after the report. The caller json_decref()s the result. */
json_t *imp_parse_json(const char *text, size_t len, const char *where,
                       const imp_sink *sink);

/* A growing NUL-terminated string. */
typedef struct imp_text {
    char *s;
    size_t len, cap;
} imp_text;
/* Appends n bytes of s; -1 when memory is short (the text is unchanged). */
int imp_text_add(imp_text *t, const char *s, size_t n);
void imp_text_free(imp_text *t);

/* Room for one more element of `size` bytes in the array *at of *cap
 * (count used), doubling it: 0, or -1 when memory is short (unchanged). */
int imp_grow(void **at, size_t *cap, size_t count, size_t size);

/* An id from a JSON value: an integer, or a non-empty string; its text in
 * buf. 0, or -1 when it is neither, or longer than cap - 1 bytes. */
int imp_json_id(const json_t *v, char *buf, size_t cap);
/* Room for an id (a run's task_id, a failure_id): 255 bytes. */
#define IMP_ID_ROOM 256
/* A non-negative integer, given as a JSON integer or a string of decimal
 * digits (Who&When writes "mistake_step": "3"). 0, or -1 otherwise. */
int imp_json_index(const json_t *v, int64_t *out);
/* A message's content: a string (*text set) or null/absent (*text NULL).
 * 0, or -1 for any other value. */
int imp_json_text(const json_t *obj, const char *key, const char **text);

/* The name folded for matching a list of known names: lower case, without
 * '_', '-' and ' ' ("User_proxy" -> "userproxy"). 0, or -1 when it is
 * longer than cap - 1 bytes (no known name is). */
int imp_name_key(const char *name, char *key, size_t cap);

/* Appends one "NAME(ARGUMENTS)" line, after a newline when out is not
 * empty: the arguments as given when a string, compact JSON otherwise,
 * nothing when null or absent. 0, or -1 when memory is short. */
int imp_call_line(imp_text *out, const char *name, size_t name_len,
                  const json_t *args);

/* The records of a file: one JSON object (one record), a JSON array
 * whose first element is_record() says is a record (each element one:
 * "FILE: record K", 0-based), any other JSON array (one record, the array
 * itself: a bare list of messages), or JSON Lines (more than one JSON
 * value: each non-blank line one record, "FILE: line N", 1-based). fn gets
 * where it is, an id for it (the file's last component, with ":K" or ":N"
 * when the file holds many) and the record, and returns 0, 1 after an
 * error, or IMP_STOPPED. Returns the errors (a syntax error is one), or
 * IMP_STOPPED. */
typedef int (*imp_record_fn)(void *user, const char *where, const char *id,
                             const json_t *record);
int imp_records(const char *path, const char *text, size_t len,
                const imp_sink *sink, int (*is_record)(const json_t *),
                imp_record_fn fn, void *user);

/* An episode in the making: the episode and where it comes from, for the
 * messages. */
typedef struct imp_episode {
    ac_episode *ep;
    const char *where;
    const imp_sink *sink;
    uint32_t last;      /* the participant found last (a cache) */
} imp_episode;

/* A new episode with its id, outcome (NULL: none, the episode has no
 * outcome) and success threshold. 0, or -1 after an error reported at
 * where. */
int imp_episode_begin(imp_episode *b, const char *where, const imp_sink *sink,
                      const char *id, const double *outcome,
                      double threshold);
/* The participant `name` of `kind`, added the first time it is named;
 * *index its index. 0, or -1 after an error naming `field` (a name
 * already taken by a participant of another kind, or a library limit: an
 * empty or non-UTF-8 name). */
int imp_episode_participant(imp_episode *b, const char *field,
                            const char *name, int32_t kind, uint32_t *index);
/* Appends the calls of a "tool_calls" array (each {"function": {"name",
 * "arguments"}}) to out, one imp_call_line each. 0, or -1 after an error
 * naming field.tool_calls[C]. */
int imp_calls_text(imp_episode *b, const char *field, const json_t *calls,
                   imp_text *out);
/* The tool keys of message `at` (docs/format.md), kept beside the
 * "NAME(ARGUMENTS)" text: the calls of a "tool_calls" array and of a
 * legacy "function_call" object (fcall; NULL: none), each as
 * {"id"?, "type": "function", "function": {"name", "arguments"}} with the
 * log's other keys left out and absent or null arguments as "{}"; the
 * tool_call_id and name of a tool's answer (NULL or "": none). The calls'
 * names must be strings (imp_calls_text checked them). 0, or -1 after an
 * error naming field. */
int imp_episode_tools(imp_episode *b, const char *field, uint32_t at,
                      const json_t *calls, const json_t *fcall,
                      const char *call_id, const char *name);
/* Appends a message; *index (may be NULL) its position. 0, or -1 after an
 * error naming `field` (as "traj[4]"). */
int imp_episode_message(imp_episode *b, const char *field,
                        uint32_t participant, const char *role,
                        const char *text, uint32_t *index);
/* Message `message` replies to `parent` (an earlier one). 0, or -1 after
 * an error. */
int imp_episode_parent(imp_episode *b, uint32_t message, uint32_t parent);
/* The human first-error label: the annotation when `step` (0-based) is an
 * agent's message; otherwise a warning naming `label` (the source's field)
 * and why, and no annotation. 1 when set, 0 when not. */
int imp_episode_first_error(imp_episode *b, const char *label, int64_t step);
/* Hands the episode to the sink and frees it. 0, or IMP_STOPPED. */
int imp_episode_emit(imp_episode *b);
/* Frees an episode that is not emitted (after an error). */
void imp_episode_drop(imp_episode *b);

/* ---- Who&When (import_whowhen.c) ---- */

/* One Who&When episode file (one JSON object): `path` names it in the
 * reports, and its last component is the episode's id. */
int imp_whowhen_buffer(const char *path, const char *text, size_t len,
                       const imp_sink *sink);

/* ---- tau-bench, as AgentRx publishes it (import_tau.c) ---- */

/* Human labels of tau-bench runs (AgentRx's tau_ground_truth.json): the
 * decisive failure's message per run id. */
typedef struct imp_tau_labels imp_tau_labels;
/* Reads a labels file's text; a malformed entry is a warning and is left
 * out. 0 and *out on success, -1 after an error (the text is not a JSON
 * array, or memory). */
int imp_tau_labels_load(const char *path, const char *text, size_t len,
                        const imp_sink *sink, imp_tau_labels **out);
/* Warnings for the labels that no run took, or that more than one took
 * (call once every file is imported). */
void imp_tau_labels_finish(const imp_tau_labels *labels, const char *path,
                           const imp_sink *sink);
void imp_tau_labels_free(imp_tau_labels *labels); /* NULL ok */
/* One file of tau-bench runs (a JSON array of runs, or one run): one
 * episode per run, in order; labels (may be NULL) give the first-error
 * annotations, joined on the run's task_id. A run that cannot be read is
 * reported as "FILE: record K" (0-based) and the import goes on with the
 * next. */
int imp_tau_buffer(const char *path, const char *text, size_t len,
                   imp_tau_labels *labels, const imp_sink *sink);

/* ---- conversations in the OpenAI Chat Completions message format, and
 * AG2 (AutoGen 0.2) chat histories (import_chat.c) ---- */

/* A file of conversations {"messages": [...]} (or TRL's {"prompt": [...],
 * "completion": [...]}), one object, an array of them, or JSON Lines: one
 * episode each (docs/cli.md). */
int imp_openai_buffer(const char *path, const char *text, size_t len,
                      const imp_sink *sink);

/* A name --non-player gives AG2, and the kind of its participant. */
typedef struct imp_non_player {
    const char *name;
    int32_t kind;
} imp_non_player;

/* A file of AG2 chat histories: a list of messages, an object holding one
 * in "chat_history" or "messages", an array of such objects, or JSON
 * Lines. The author of a message is its "name"; non_players (count 0: the
 * default rule, docs/cli.md) are the names that are not agents. */
int imp_ag2_buffer(const char *path, const char *text, size_t len,
                   const imp_non_player *non_players, size_t count,
                   const imp_sink *sink);

#endif
