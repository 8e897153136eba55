/* The signals of one episode as data (ac_signals), shared by signals.c
 * (the handle, the pipeline's snapshot, the getters) and signals_json.c
 * (the "agentcredit.signals/1" reader and writer). */
#ifndef AC_SIGNALS_INTERNAL_H
#define AC_SIGNALS_INTERNAL_H

#include <stdint.h>

#include "agentcredit.h"
#include "common/alloc.h"

/* The names of the flag bits and the enumerations, as the JSON writes
 * them: bit k (value k) is NAMES[k]. */
#define AC__N_MESSAGE_FLAGS 3
#define AC__N_STEP_FLAGS 4
#define AC__N_AGENT_FLAGS 2
#define AC__N_METHODS 6
#define AC__N_LABEL_SOURCES 4
#define AC__N_PAIR_KINDS 3
#define AC__N_PAIR_REASONS 5
extern const char *const ac__message_flag_names[AC__N_MESSAGE_FLAGS];
extern const char *const ac__step_flag_names[AC__N_STEP_FLAGS];
extern const char *const ac__agent_flag_names[AC__N_AGENT_FLAGS];
extern const char *const ac__method_names[AC__N_METHODS];
extern const char *const ac__label_source_names[AC__N_LABEL_SOURCES];
extern const char *const ac__pair_kind_names[AC__N_PAIR_KINDS];
extern const char *const ac__pair_reason_names[AC__N_PAIR_REASONS];

#define AC__SIGNALS_AUDIT_KEYS (AC_PIPELINE_AUDIT_RELAXED_AGENTS + 1)

/* Names: the participants' (of the episode, or those a file names),
 * names[agent_name[a]] agent a's, agent_of[i] the agent of names[i]
 * (UINT32_MAX: a non-player); message t was sent by names[from[t]].
 * Every array lives in one block and every string in one pool, both the
 * handle's. */
struct ac_signals {
    ac__mem mem;
    uint32_t n_agents, n_msg, n_names;
    const char *id;           /* NULL: none                            */
    const char **names;
    uint32_t *agent_name, *agent_of, *from;
    double outcome, threshold, total, reference;
    double *credit, *se;      /* per agent                             */
    double *reward, *label;   /* per message                           */
    /* The agent pairs' interactions and their standard errors, condensed
     * order (credit/interactions.h), in a block of their own: NULL when
     * the signals have none. */
    double *inter, *inter_se;
    uint32_t *agent_flags, *msg_flags, *step_flags;
    int64_t step;             /* the first error: -1 none              */
    uint32_t agent;           /* its agent, UINT32_MAX: none           */
    double probability;
    ac_preference_pair pair;
    int64_t audit[AC__SIGNALS_AUDIT_KEYS];
    void *block;
    char *pool;
};

/* A handle in mem with room for its arrays and pool_bytes of strings
 * (zeroed; the arrays pointed into the block); NULL: no memory. */
ac_signals *ac__signals_new(const ac__mem *mem, uint32_t n_agents,
                            uint32_t n_msg, uint32_t n_names,
                            size_t pool_bytes);
/* The last successful run of p on ep, in mem: AC_OK, AC_E_STATE (no
 * result), AC_E_INVALID_ARG (ep is not the size of the run's episode),
 * AC_E_NO_MEMORY. */
int ac__signals_snapshot(const ac_pipeline *p, const ac_episode *ep,
                         const ac__mem *mem, ac_signals **out);
/* Room for the interactions of s's agents (inter, inter_se): AC_OK or
 * AC_E_NO_MEMORY. */
int ac__signals_alloc_interactions(ac_signals *s);
/* Copies s into the pool at *at (advanced past its NUL): the copy. */
const char *ac__signals_keep(ac_signals *sig, size_t *at, const char *s);

#endif
