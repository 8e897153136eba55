/* The localizer handle, shared by localizer.c (life cycle, inputs, ask/tell,
 * results), localizer_search.c (the strategies and the posterior),
 * localizer_params.c, localizer_blame.c and repair_pair.c. */
#ifndef AC_LOCALIZER_INTERNAL_H
#define AC_LOCALIZER_INTERNAL_H

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>

#include "agentcredit.h"
#include "common/alloc.h"
#include "common/answer.h"
#include "common/errors.h"
#include "common/run.h"
#include "common/ticket.h"

typedef struct ac__localizer_params {
    int64_t strategy, noise, budget, batch, max_retries, monotone, scan_after,
        candidates;
    double accuracy, target, threshold, label_error, label_propagate,
        label_corrective, label_before, accept;
} ac__localizer_params;

/* One prefix of the current round: planned, then handed out under a
 * ticket whose aux is its place in the round. */
typedef struct ac__loc_query {
    uint32_t prefix;
    uint8_t told;
    uint8_t failed;
    double value;
} ac__loc_query;

/* A noisy verifier's answer waiting to enter the posterior, with the
 * product of P(answer | off track) over it and every later one of its
 * batch (written by the update). */
typedef struct ac__loc_answer {
    uint32_t prefix;
    int32_t suffix_exp;
    double value;
    double suffix;
} ac__loc_answer;

struct ac_localizer {
    ac__mem mem;
    uint32_t n; /* T, the messages */
    ac__localizer_params p;
    uint32_t *agent_of; /* n, optional */
    double *prior;      /* n + 1, optional */
    double *scores;     /* n, optional */
    ac_verifier_fn verifier;
    void *verifier_user;
    ac_repair_fn repair;
    ac_candidate_fn check;
    void *repair_user;

    /* The run: phase AC__PHASE_*, and while RUNNING, whether the search is
     * over and the corrective scan runs. */
    int phase, scanning, strategy, outcome, fail_status;
    int scan_stopped;    /* the status that ended the scan early, or 0  */
    ac__tickets tickets; /* item: the prefix, aux: its place in round  */
    double *post;        /* n + 1: the posterior over the first error  */
    double *answer_sum;  /* n: sum of the answers per prefix            */
    uint32_t *answers;   /* n: answers per prefix                       */
    uint32_t *failures;  /* n: failed answers per prefix                */
    ac__loc_query *round;/* the round: round_cap entries                */
    uint32_t *plan;      /* round_cap: the strategy's picks             */
    uint32_t round_cap, round_len, round_handed, round_told;
    double *cdf;         /* n: P(h <= t), scratch of the bisection      */
    uint8_t *picked;     /* n: 1 for a prefix in the round being planned */
    /* The posterior is brought up to date only when it is read (planning a
     * bisection, finishing the search): the answers of a noisy verifier
     * wait here and enter it in one pass over the hypotheses, so that a
     * round of W answers costs O(T + W log W), not W passes of O(T); an
     * exact verifier's interval is applied once (restrict_due). */
    ac__loc_answer *pending;
    uint32_t pending_len, pending_cap;
    int restrict_due;
    int64_t lo, hi;      /* exact logic: last accepted, first rejected  */
    uint32_t scan;       /* the corrective scan: all before is answered */
    int64_t step;        /* the result: -1 for no error                 */
    double prob;
    uint32_t *flags;     /* n: AC_STEP_FLAG_*                                */
    int64_t calls, rounds, search_calls, search_rounds, scan_calls,
        failed_answers, retries, repair_candidates, repair_checks;
    int scan_complete;
    ac_preference_pair pair; /* made once per localization      */
    int have_pair;
    atomic_int cancelled;
    int busy;
    char *err;
    char err_store[AC__ERRMSG_CAP];
};

void ac__localizer_params_default(ac__localizer_params *p);
/* The parameters' table (the pipeline keeps them with it too). */
extern const struct ac__param_table ac__localizer_param_table;
/* AC_E_INVALID_ARG for NULL, AC_E_BUSY from inside a callback. */
int ac__localizer_check(ac_localizer *loc, const char *what);
/* How many of `want` evaluations the budget still pays for, leaving `keep`
 * of it unspent; and charging n of them. */
uint32_t ac__localizer_affordable(const ac_localizer *loc, uint32_t want,
                                  int64_t keep);
void ac__localizer_charge(ac_localizer *loc, uint32_t n);

/* AC_E_INVALID_ARG for NULL, AC_E_STATE (with the message) until done. */
int ac__localizer_check_done(const ac_localizer *loc);
/* Appends prefix t to the round (the caller has charged the budget). */
void ac__localizer_enqueue(ac_localizer *loc, uint32_t t);

/* localizer_search.c */
/* The strategy AC_STRATEGY_AUTO stands for, given the inputs set so far. */
int ac__localizer_strategy(const ac_localizer *loc);
/* Sets up the run: the strategy, the posterior from the prior. */
int ac__search_start(ac_localizer *loc);
/* Plans the next round of the search into loc->round. Sets round_len to 0
 * and finishes the search (step, prob, outcome) when nothing is left to
 * ask. */
void ac__search_plan(ac_localizer *loc);
/* Applies a complete round's answers (prefix order). */
void ac__search_apply(ac_localizer *loc);
/* The verdict for prefix t from its answers: 1 accepted, 0 rejected,
 * -1 never answered. */
int ac__loc_verdict(const ac_localizer *loc, uint32_t t);

/* localizer_blame.c */
/* AC_STEP_FLAG_* flags from the result and the answers after it. */
void ac__localizer_set_flags(ac_localizer *loc);

#endif
