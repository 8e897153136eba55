/* The episode's record, read by the pipeline and the JSON layer. */
#ifndef AC_EPISODE_INTERNAL_H
#define AC_EPISODE_INTERNAL_H

#include <stdint.h>

#include "agentcredit.h"
#include "common/alloc.h"
#include "common/errors.h"

#define AC__NO_AGENT UINT32_MAX
#define AC__NO_MESSAGE UINT32_MAX
#define AC__NO_TOKEN UINT64_MAX

typedef struct ac__participant {
    char *name;
    int32_t kind;       /* ac_participant_kind                       */
    uint32_t agent;     /* its agent index, or AC__NO_AGENT          */
} ac__participant;

typedef struct ac__message {
    uint32_t participant;
    uint32_t parent;    /* AC__NO_MESSAGE: none                      */
    uint64_t token_begin, token_end; /* AC__NO_TOKEN: none           */
    char *role, *text;  /* NULL: not given                           */
    double label;       /* NaN: not given                            */
    /* The OpenAI/TRL tool keys (NULL: not given): the calls as their
     * canonical JSON text (episode_json.c), the call a tool's message
     * answers, the message's name. */
    char *tool_calls, *tool_call_id, *name;
} ac__message;

struct ac_episode {
    ac__mem mem;
    char err[AC__ERRMSG_CAP];
    char *id;           /* NULL: none                                */
    ac__participant *part;
    uint32_t n_part, cap_part, n_agents;
    ac__message *msg;
    uint32_t n_msg, cap_msg;
    double outcome, threshold, reference, baseline;
    int has_outcome, has_reference, has_baseline;
    uint32_t first_error; /* AC__NO_MESSAGE: no annotation             */
    /* Known coalition values, `words` words a key (fixed by the first). */
    uint64_t *known_key;
    double *known_value;
    uint32_t n_known, cap_known, known_words;
    uint32_t *known_slots; /* the index (episode.c), slot_cap a power of 2 */
    uint32_t slot_cap;
};

/* The agent who wrote message t, or AC__NO_AGENT for a non-player. */
static inline uint32_t ac__episode_author(const ac_episode *ep, uint32_t t)
{
    return ep->part[ep->msg[t].participant].agent;
}

/* AC_OK when message is one of the episode's; AC_E_INVALID_ARG with a
 * message naming `what` otherwise. */
int ac__episode_check_message(ac_episode *ep, uint32_t message,
                              const char *what);

/* The length of the well-formed UTF-8 prefix of s (RFC 3629): all of it
 * when s is UTF-8, which is all JSON and an episode hold. */
size_t ac__utf8_prefix(const unsigned char *s, size_t len);

/* The pipeline's own memory (its host's allocator), for work made on its
 * behalf (writing its signals) rather than on an episode's. */
const ac__mem *ac__pipeline_mem(const ac_pipeline *p);

#endif
