/* The trainer exports: the handle (export.c), the rendering of messages
 * as chat turns and text (export_render.c), the candidates of repair
 * pairs (export_candidates.c) and the formats (export_trl.c,
 * export_rl.c, export_tokens.c). */
#ifndef AC_EXPORT_INTERNAL_H
#define AC_EXPORT_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcredit.h"
#include "common/alloc.h"
#include "common/errors.h"
#include "episodes/episode_internal.h"
#include "episodes/signals_internal.h"

typedef struct ac__export_params {
    int64_t placement, speaker_prefix, max_tokens;
    double turn_discount;
} ac__export_params;

/* The string parameters, by AC_EXPORT_PARAM_* - AC__EXPORT_STR_FIRST. */
#define AC__EXPORT_STR_FIRST AC_EXPORT_PARAM_EMPTY_PROMPT
#define AC__EXPORT_N_STR 4

typedef struct ac__export_skip {
    int32_t reason;
    int64_t message;  /* -1: the episode                            */
    size_t agent;     /* offset of the agent's name in names, or
                         SIZE_MAX: none                             */
} ac__skip_entry;

/* A growing text in a handle's memory. */
typedef struct ac__text {
    char *p;
    size_t len, cap;
} ac__text;

struct ac_export {
    ac__mem mem;
    char err[AC__ERRMSG_CAP];
    int32_t format;
    ac__export_params p;
    char *str[AC__EXPORT_N_STR]; /* NULL: the default             */
    json_t *tools;               /* the TOOLS parameter, parsed   */
    char **agents;               /* the trained agents (0: all)   */
    uint32_t n_agents;
    json_t *candidates;          /* NULL: none loaded             */
    /* The last call's result. */
    ac__text out;
    uint32_t records;
    ac__skip_entry *skips;
    uint32_t n_skips, cap_skips;
    ac__text names;              /* the skips' agent names        */
};

/* One conversion: the handle, the episode and its signals, the group and
 * the trained agents of this episode. */
typedef struct ac__xrun {
    ac_export *x;
    const ac_episode *ep;
    const ac_signals *s;
    const char *id;       /* "" when the episode has none          */
    size_t group_len;     /* the group: id[0 .. group_len)         */
    uint8_t *trained;     /* per agent: 1 trained                  */
    /* Chat formats: message k's turn as its author's own (2k) and as
     * anyone else's (2k + 1), made once and shared by the records. */
    json_t **turns;
    ac__text *texts;      /* the same turns as JSON text           */
} ac__xrun;

/* Statuses of the renderers and formats: AC_OK, an AC_E_* error (the
 * message in x->err), or a skip (a positive AC_EXPORT_SKIP_REASON_* reason) for
 * the record being made. */
#define AC__IS_SKIP(rc) ((rc) > 0)

/* The handle's string parameter (NULL: unset). */
const char *ac__export_str(const ac_export *x, int32_t param);
/* Appends rec (released) as a line of the output. */
int ac__export_emit(ac__xrun *r, json_t *rec);
/* Appends rec (released) as a line of the output with the text of
 * values[i] as the value of keys[i] (null in rec; keys in rec's order):
 * what is written once and repeated (prompts) or long (per-token
 * vectors) is not built as a tree. */
int ac__export_emit_spliced(ac__xrun *r, json_t *rec, int n,
                            const char *const *keys,
                            const ac__text *const *values);
/* Records a skip of message (-1: the episode) of agent (AC__NO_AGENT:
 * none). */
int ac__export_skip(ac__xrun *r, int32_t reason, int64_t message,
                    uint32_t agent);
/* A skip, or an error passed on: what a format does with a record's
 * status. */
int ac__export_settle(ac__xrun *r, int rc, int64_t message, uint32_t agent);
/* AC_E_NO_MEMORY with its message, for a jansson builder that failed. */
int ac__export_oom(ac__xrun *r, const char *what);

/* Agent a's name, message k's agent (AC__NO_AGENT: a non-player). */
const char *ac__xrun_agent_name(const ac__xrun *r, uint32_t a);
uint32_t ac__xrun_author(const ac__xrun *r, uint32_t k);
/* The group as a JSON string; the key "GROUP:AGENT" (turn < 0) or
 * "GROUP:AGENT:TURN". NULL: no memory. */
json_t *ac__xrun_group(const ac__xrun *r);
json_t *ac__xrun_key(const ac__xrun *r, uint32_t agent, int64_t turn);
/* The flags of message k, by name: message flags or step flags. */
json_t *ac__xrun_flags(const ac__xrun *r, uint32_t k, int step);

/* Rendering (export_render.c). Message k as a chat turn seen by agent
 * `view`: the view's own messages are the assistant's, another agent's a
 * user's turn with its name (and a speaker prefix), a tool's a tool
 * turn. */
int ac__render_turn(ac__xrun *r, uint32_t k, uint32_t view, json_t **out);
/* Messages [0, end) as turns seen by view; an empty prompt is the
 * EMPTY_PROMPT parameter's system turn, or the skip. */
int ac__render_prompt(ac__xrun *r, uint32_t end, uint32_t view,
                      json_t **out);
/* The prompt as ac__render_prompt gives it, as JSON text into out: each
 * turn's text is made once per conversion and copied after. */
int ac__render_prompt_text(ac__xrun *r, uint32_t end, uint32_t view,
                           ac__text *out);
/* Message k as text seen by view (AC__NO_AGENT: every agent and tool
 * with its speaker prefix), appended to t. */
int ac__render_text(ac__xrun *r, uint32_t k, uint32_t view, ac__text *t);
/* Messages [0, end) as one text, each followed by sep. */
int ac__render_text_prefix(ac__xrun *r, uint32_t end, uint32_t view,
                           const char *sep, ac__text *t);
/* A candidate (a string, or an assistant message object) as the view's
 * assistant turn, or as text (text non-NULL). */
int ac__render_candidate(ac__xrun *r, const json_t *cand, json_t **turn,
                         ac__text *text);
/* OpenAI tool calls with each call's arguments as a JSON object (a JSON
 * string is parsed): the skip ARGUMENTS_NOT_JSON when one is not an
 * object. */
int ac__render_calls(ac__xrun *r, const json_t *calls, json_t **out);

/* A text in the handle's memory: appending, as a JSON string (NULL: no
 * memory), freeing. */
int ac__text_add(const ac__mem *m, ac__text *t, const char *s, size_t n);
int ac__text_dump(const ac__mem *m, ac__text *t, const json_t *json,
                  size_t flags);
json_t *ac__text_json(const ac__text *t);
void ac__text_free(const ac__mem *m, ac__text *t);

/* The loaded candidate `chosen` of the episode, NULL when not loaded. */
const json_t *ac__export_candidate(const ac__xrun *r, uint64_t chosen);
/* Checks and keeps a candidates file (export_candidates.c). */
int ac__export_read_candidates(ac_export *x, json_t *root);

/* The formats. */
int ac__export_trl_pair(ac__xrun *r);     /* DPO, DPO standard, reward */
int ac__export_trl_kto(ac__xrun *r);
int ac__export_trl_prm(ac__xrun *r);
int ac__export_verl(ac__xrun *r);         /* verl, openrlhf rows      */
int ac__export_areal(ac__xrun *r);
int ac__export_prime_rl(ac__xrun *r);
int ac__export_rllm(ac__xrun *r);
int ac__export_tokens(ac__xrun *r);       /* verl-tokens, skyrl        */

#endif
