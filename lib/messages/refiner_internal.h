/* The refiner handle, shared by refiner.c (inputs, the projection,
 * results), refiner_params.c and refiner_run.c (the run: ask/tell with the
 * scorer, then the rewards). */
#ifndef AC_REFINER_INTERNAL_H
#define AC_REFINER_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "agentcredit.h"
#include "common/alloc.h"
#include "common/errors.h"
#include "common/run.h"
#include "common/ticket.h"

typedef struct ac__refiner_params {
    double bound, beta, penalty;
    int64_t relaxation, batch, max_retries;
} ac__refiner_params;

/* Label states: given by the host (an input, kept by AC_RESET_SESSION), or
 * asked of the scorer and told back (the run's). */
enum { AC__LABEL_NONE = 0, AC__LABEL_GIVEN = 1, AC__LABEL_SCORED = 2,
       AC__LABEL_ASKED = 3 };

struct ac_refiner {
    ac__mem mem;
    uint32_t n_agents, n_messages;
    ac__refiner_params p;
    /* Inputs (AC_RESET_KNOWN). */
    uint32_t *agent_of;    /* n_messages, or NULL until set            */
    double *credit;        /* n_agents, or NULL until set              */
    double *label;         /* n_messages: the feeds' labels            */
    uint8_t *label_state;  /* AC__LABEL_*                              */
    uint8_t *fixed;        /* 1: label fixed by the host               */
    uint8_t *redundant;    /* 1: repeats an earlier message            */
    /* Messages grouped by agent (counting sort, episode order kept). */
    uint32_t *by_agent, *agent_start;
    ac_scorer_fn scorer;
    void *scorer_user;
    int busy;              /* inside the scorer callback of run()      */
    atomic_int cancelled;  /* written from any thread                  */

    /* The run (AC_RESET_SESSION). */
    int phase, fail_status;
    ac__tickets tickets;   /* item: the message                        */
    uint32_t *failures;    /* failed scorer answers per message        */
    /* The messages waiting to be handed out for a label, first come first
     * asked: a ring of n_messages (each is in it at most once), filled when
     * the run starts and refilled by failed answers. An ask costs what it
     * hands out, and one that finds nothing costs nothing, however many
     * labels are outstanding (a scan of every message per ask made a host
     * that polls ask between tells quadratic). */
    uint32_t *wanted;
    uint32_t wanted_head, wanted_len;
    int64_t rounds, failed_answers, retries;
    /* The result, once DONE. */
    double *reward, *used_label;
    uint32_t *agent_flags;
    char *err;
    char err_store[AC__ERRMSG_CAP];
};

void ac__refiner_params_default(ac__refiner_params *p);
/* The parameters' table (the pipeline keeps them with it too). */
extern const struct ac__param_table ac__refiner_param_table;
/* AC_E_INVALID_ARG for NULL, AC_E_BUSY from inside the scorer. */
int ac__refiner_check(ac_refiner *r, const char *what);
/* The same, and AC_E_STATE unless idle: for the calls that set inputs. */
int ac__refiner_check_input(ac_refiner *r, const char *what);
/* Whether every input a run needs is there (AC_E_STATE naming what is
 * missing): authors, credits, and a label or a scorer for every message. */
int ac__refiner_check_ready(ac_refiner *r, int have_scorer);
/* Computes the rewards from the inputs and the scored labels: AC_OK with
 * the result stored, or the error (nothing stored). */
int ac__refiner_refine(ac_refiner *r);
/* AC_E_STATE (with the message) until the authors are set. */
int ac__refiner_need_authors(ac_refiner *r);
/* The label the projection uses for message t. */
double ac__refiner_effective_label(const ac_refiner *r, uint32_t t);
/* Whether message t still needs a label from a feed. */
int ac__refiner_needs_label(const ac_refiner *r, uint32_t t);

#endif
