/* The pipeline's record, shared by pipeline.c (the handle, its parameters
 * and its result), pipeline_stages.c (what each stage sets up and takes
 * from its object) and pipeline_run.c (the run: start, ask/tell and the
 * callback loop over them). */
#ifndef AC_PIPELINE_INTERNAL_H
#define AC_PIPELINE_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "agentcredit.h"
#include "common/alloc.h"
#include "common/errors.h"
#include "common/params.h"
#include "common/ticket.h"
#include "credit/estimator_internal.h"
#include "episodes/episode_internal.h"
#include "failure/localizer_internal.h"
#include "messages/refiner_internal.h"

enum { AC__OWNER_NONE, AC__OWNER_ESTIMATOR, AC__OWNER_REFINER,
       AC__OWNER_LOCALIZER, AC__OWNER_PIPELINE };

typedef struct ac__callbacks {
    ac_oracle_fn oracle;
    void *oracle_user;
    ac_verifier_fn verifier;
    void *verifier_user;
    ac_scorer_fn scorer;
    void *scorer_user;
    ac_repair_fn repair;
    ac_candidate_fn check;
    void *repair_user;
} ac__callbacks;

/* The last run's signals. */
typedef struct ac__result {
    uint32_t n_agents, n_msg;
    double *phi, *se, *reward, *label;
    /* The estimator's interactions of the agent pairs and their standard
     * errors (AC_ESTIMATOR_PARAM_INTERACTIONS); NULL: none. */
    double *inter, *inter_se;
    uint32_t *msg_flags, *step_flags, *agent_flags;
    double total, reference;
    int64_t step;
    uint32_t agent;
    double probability;
    ac_preference_pair pair;
    int64_t audit[AC_PIPELINE_AUDIT_RELAXED_AGENTS + 1];
} ac__result;

/* Where a run stands. */
typedef enum ac__stage {
    AC__STAGE_IDLE = 0, /* no run: none started, or a run was abandoned */
    AC__STAGE_CREDIT,   /* the estimator: VALUE work                     */
    AC__STAGE_LOCALIZE, /* the localizer: PREFIX work                    */
    AC__STAGE_PAIR,     /* the preference pair: REPAIR and CHECK work    */
    AC__STAGE_REWARDS,  /* the refiner: SCORE work                       */
    AC__STAGE_DONE,     /* the result is ready                           */
    AC__STAGE_FAILED    /* no result; run_error says why                 */
} ac__stage;

/* The preference pair's repair and checks, asked of the host as work.
 * ac_localizer_make_pair takes them through callbacks and changes nothing
 * when a callback aborts, so the pair stage replays it: each attempt
 * answers the calls it has answers for and aborts at the first it has
 * not, which is then handed out; the last attempt makes the pair. */
typedef struct ac__pair_replay {
    int proposed;          /* the repair's candidates are in             */
    uint64_t *ids;         /* the candidates proposed                    */
    uint32_t n_ids;
    /* The check calls answered so far, flattened: call c holds
     * call_len[c] answers. */
    uint64_t *call_ids;
    double *call_p;
    int32_t *call_status;
    uint32_t *call_len;
    uint32_t n_calls, n_answers, cap_calls, cap_answers;
    /* During an attempt: the next call to replay. After one: what the
     * attempt needed (AC_WORK_KIND_REPAIR, AC_WORK_KIND_CHECK or 0), for which step
     * (the localizer's numbering) and, for a check, the candidates. */
    uint32_t next_call;
    int failed;            /* the attempt's own failure (no memory)      */
    int32_t need;
    uint32_t need_step, need_max;
    uint64_t *need_ids;
    uint32_t n_need;
    uint32_t handed, n_got; /* of the need: handed out, answered       */
    /* The answers of the handed-out check, by place in need_ids. */
    double *got_p;
    int32_t *got_status;
} ac__pair_replay;

/* The buffers of one batch of ac_pipeline_run: the work asked, its
 * coalitions, positions, answers and status, and candidate ids (then the
 * tickets told). */
typedef struct ac__host_batch {
    ac_work *work;
    uint64_t *coalitions;
    uint32_t *where;
    double *answers;
    int32_t *status;
    uint64_t *ids;
    uint32_t cap, words;
} ac__host_batch;

/* The state of one run, from ac_pipeline_start to its end. */
typedef struct ac__run {
    const ac_episode *ep;
    ac__stage stage;
    int error;          /* AC__STAGE_FAILED: the run's status          */
    uint32_t serves;    /* AC_SERVES_* of the host                     */
    /* The map from the localizer's and refiner's messages (the agents')
     * to transcript positions. */
    uint32_t *agent_msg;
    uint32_t n_agent_msg;
    double *blame;      /* the localizer's blame labels, its numbering */
    int localized;      /* the localizer found a first error           */
    ac_estimator *est;
    ac_localizer *loc;
    ac_refiner *ref;
    ac__pair_replay pair;
    /* Scratch of ask/tell: object tickets and payloads. */
    uint64_t *obj_tickets;
    uint32_t *obj_items;
    uint32_t scratch_cap;
} ac__run;

struct ac_pipeline {
    ac__mem mem;
    ac_allocator alloc; /* given to the objects of each run */
    int has_alloc;
    char err[AC__ERRMSG_CAP];
    int64_t verifier_source, episode_id;
    /* The three objects' parameters, given to the objects of each run. */
    ac__params est_params;
    ac__refiner_params ref_params;
    ac__localizer_params loc_params;
    ac__callbacks cb;
    atomic_int cancelled;
    int in_callback;    /* inside a callback of ac_pipeline_run        */
    ac__tickets tk;     /* the host's tickets: over the handle's life  */
    ac__run run;
    ac__result res;
    ac__host_batch batch;    /* ac_pipeline_run's, for the callbacks        */
};

/* pipeline.c */
const ac_allocator *ac__pipeline_object_alloc(const ac_pipeline *p);
int ac__pipeline_apply_params(const ac_pipeline *p, int owner, void *obj);
void ac__pipeline_free_result(ac_pipeline *p);
int ac__pipeline_alloc_result(ac_pipeline *p, uint32_t n, uint32_t T);
int ac__pipeline_busy(ac_pipeline *p, const char *what);
/* pipeline_run.c: frees the run's state and the loop's buffers. */
void ac__pipeline_free_run(ac_pipeline *p);

/* pipeline_stages.c: each stage's setup (from the episode and the
 * parameters) and its end (the object's figures into the result). */
int ac__stage_credit_begin(ac_pipeline *p);
int ac__stage_credit_end(ac_pipeline *p);
int ac__stage_localize_begin(ac_pipeline *p);
int ac__stage_localize_end(ac_pipeline *p);
int ac__stage_pair_attempt(ac_pipeline *p);
int ac__stage_rewards_begin(ac_pipeline *p);
int ac__stage_rewards_end(ac_pipeline *p);
int ac__stage_check_episode(ac_pipeline *p, const ac_episode *ep);
int ac__stage_map_messages(ac_pipeline *p);
int ac__stage_failed(ac_pipeline *p, int rc, const char *what,
                     const char *why);
uint32_t ac__stage_message_at(const ac_pipeline *p, uint32_t k);
uint32_t ac__stage_prefix_end(const ac_pipeline *p, uint32_t k);
void ac__stage_free_objects(ac_pipeline *p);

#endif
