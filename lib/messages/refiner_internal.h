/* The refiner handle, shared by refiner.c (inputs, refine, results),
 * refiner_params.c and refiner_scorer.c (the scorer feed). */
#ifndef AC_REFINER_INTERNAL_H
#define AC_REFINER_INTERNAL_H

#include <stdint.h>

#include "agentcredit.h"
#include "common/alloc.h"
#include "common/errors.h"

typedef struct ac__refiner_params {
    double bound, beta, penalty;
    int64_t relaxation, batch, max_retries;
} ac__refiner_params;

/* Label states. */
enum { AC__LABEL_NONE = 0, AC__LABEL_SET = 1, AC__LABEL_ASKED = 2 };

struct ac_refiner {
    ac__mem mem;
    uint32_t n_agents, n_messages;
    ac__refiner_params p;
    uint32_t *agent_of;    /* n_messages, or NULL until set            */
    double *credit;        /* n_agents, or NULL until set              */
    double *label;         /* n_messages: the feeds' labels            */
    uint8_t *label_state;  /* AC__LABEL_*                              */
    uint8_t *fixed;        /* 1: label fixed by the host               */
    uint8_t *redundant;    /* 1: repeats an earlier message            */
    uint32_t *failures;    /* failed scorer answers per message        */
    /* Messages grouped by agent (counting sort, episode order kept). */
    uint32_t *by_agent, *agent_start;
    /* The result of the last successful refine. */
    double *reward, *used_label;
    uint32_t *agent_flags;
    int have_result;
    ac_scorer_fn scorer;
    void *scorer_user;
    int busy;
    uint32_t scan;         /* ask's cursor over the messages           */
    char *err;
    char err_store[AC__ERRMSG_CAP];
};

void ac__refiner_params_default(ac__refiner_params *p);
/* AC_E_INVALID_ARG for NULL, AC_E_BUSY from inside the scorer. */
int ac__refiner_check(ac_refiner *r, const char *what);
/* AC_E_STATE (with the message) until the authors are set. */
int ac__refiner_need_authors(ac_refiner *r);
/* The label the projection uses for message t. */
double ac__refiner_effective_label(const ac_refiner *r, uint32_t t);
/* Whether message t still needs a label from a feed. */
int ac__refiner_needs_label(const ac_refiner *r, uint32_t t);

#endif
