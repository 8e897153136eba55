/* The message refiner: inputs, the per-agent projection with its
 * relaxations, and the results. The run (ask/tell, the scorer) is in
 * refiner_run.c. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "common/ksum.h"
#include "messages/projection.h"
#include "messages/redundancy.h"
#include "messages/refiner_internal.h"

#define MAX_MESSAGES (1u << 28)

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

static void release_arrays(ac_refiner *r)
{
    void *arrays[] = {r->agent_of, r->credit, r->label, r->label_state,
                      r->fixed, r->redundant, r->failures, r->wanted,
                      r->by_agent, r->agent_start, r->reward, r->used_label,
                      r->agent_flags};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        ac__mem_free(&r->mem, arrays[i]);
}

void ac_refiner_free(ac_refiner *ref)
{
    if (ref == NULL)
        return;
    release_arrays(ref);
    ac__tickets_clear(&ref->tickets, &ref->mem);
    ac__mem mem = ref->mem;
    ac__mem_free(&mem, ref);
}

int ac_refiner_create(ac_refiner **out, uint32_t n_agents, uint32_t n_messages,
                      const ac_allocator *alloc)
{
    if (out == NULL || n_agents == 0 || n_messages == 0)
        return AC_E_INVALID_ARG;
    if (n_agents > AC_MAX_PLAYERS || n_messages > MAX_MESSAGES)
        return AC_E_TOO_LARGE;
    ac__mem mem;
    int rc;
    ac_refiner *r = ac__mem_new_handle(alloc, sizeof *r, &mem, &rc);
    if (r == NULL)
        return rc;
    r->mem = mem;
    r->err = r->err_store;
    r->n_agents = n_agents;
    r->n_messages = n_messages;
    ac__refiner_params_default(&r->p);
    /* Everything a refine needs is allocated here, so that refine itself
     * only fails on bad input (its scratch aside). */
    r->label = ac__mem_calloc(&mem, n_messages, sizeof *r->label);
    r->label_state = ac__mem_calloc(&mem, n_messages, 1);
    r->fixed = ac__mem_calloc(&mem, n_messages, 1);
    r->redundant = ac__mem_calloc(&mem, n_messages, 1);
    r->failures = ac__mem_calloc(&mem, n_messages, sizeof *r->failures);
    r->wanted = ac__mem_alloc(&mem, n_messages, sizeof *r->wanted);
    r->reward = ac__mem_calloc(&mem, n_messages, sizeof *r->reward);
    r->used_label = ac__mem_calloc(&mem, n_messages, sizeof *r->used_label);
    r->agent_flags = ac__mem_calloc(&mem, n_agents, sizeof *r->agent_flags);
    if (!r->label || !r->label_state || !r->fixed || !r->redundant ||
        !r->failures || !r->wanted || !r->reward || !r->used_label ||
        !r->agent_flags) {
        ac_refiner_free(r);
        return AC_E_NO_MEMORY;
    }
    atomic_init(&r->cancelled, 0);
    ac__tickets_init(&r->tickets);
    r->phase = AC__PHASE_IDLE;
    *out = r;
    return AC_OK;
}

/* Forgets the run: the scorer's labels, the tickets, the result, the
 * audit and the error; the host's inputs stay. */
static void clear_session(ac_refiner *r)
{
    for (uint32_t t = 0; t < r->n_messages; t++)
        if (r->label_state[t] != AC__LABEL_GIVEN)
            r->label_state[t] = AC__LABEL_NONE;
    memset(r->failures, 0, r->n_messages * sizeof *r->failures);
    ac__tickets_clear(&r->tickets, &r->mem); /* earlier tickets go stale */
    r->phase = AC__PHASE_IDLE;
    r->fail_status = AC_OK;
    r->wanted_head = r->wanted_len = 0;
    r->rounds = r->failed_answers = r->retries = 0;
    atomic_store(&r->cancelled, 0);
    r->err[0] = '\0';
}

/* Forgets the host's inputs: authors, credits, labels, fixed labels and
 * redundancy. */
static void clear_known(ac_refiner *r)
{
    ac__mem_free(&r->mem, r->agent_of);
    ac__mem_free(&r->mem, r->credit);
    ac__mem_free(&r->mem, r->by_agent);
    ac__mem_free(&r->mem, r->agent_start);
    r->agent_of = r->by_agent = r->agent_start = NULL;
    r->credit = NULL;
    memset(r->label, 0, r->n_messages * sizeof *r->label);
    memset(r->label_state, 0, r->n_messages);
    memset(r->fixed, 0, r->n_messages);
    memset(r->redundant, 0, r->n_messages);
}

int ac__refiner_check(ac_refiner *r, const char *what)
{
    if (r == NULL)
        return AC_E_INVALID_ARG;
    if (r->busy)
        return ac__fail(r->err, AC_E_BUSY,
                        "%s called from inside this refiner's scorer", what);
    return AC_OK;
}

int ac__refiner_check_input(ac_refiner *r, const char *what)
{
    int rc = ac__refiner_check(r, what);
    return rc != AC_OK ? rc : ac__check_idle(r->phase, what, r->err);
}

int ac_refiner_reset(ac_refiner *ref, uint32_t what)
{
    int rc = ac__refiner_check(ref, "ac_refiner_reset");
    if (rc != AC_OK)
        return rc;
    if ((rc = ac__reset_check(what, ref->phase, ref->err)) != AC_OK)
        return rc;
    if (what & AC_RESET_SESSION)
        clear_session(ref);
    if (what & AC_RESET_PARAMS)
        ac__refiner_params_default(&ref->p);
    if (what & AC_RESET_KNOWN)
        clear_known(ref);
    return AC_OK;
}

const char *ac_refiner_last_error(const ac_refiner *ref)
{
    return ref ? ref->err : "invalid refiner handle (NULL)";
}

/* ------------------------------------------------------------------ */
/* Inputs                                                              */
/* ------------------------------------------------------------------ */

static int check_length(ac_refiner *r, const void *p, uint32_t len,
                        uint32_t want, const char *what)
{
    if (p == NULL)
        return ac__fail(r->err, AC_E_INVALID_ARG, "%s is NULL", what);
    if (len != want)
        return ac__fail(r->err, AC_E_INVALID_ARG,
                        "%s has %u entries; the refiner was created for %u",
                        what, len, want);
    return AC_OK;
}

/* Groups the messages by agent, keeping episode order within each. */
static int group_by_agent(ac_refiner *r, const uint32_t *agent_of,
                          uint32_t **by_agent, uint32_t **start)
{
    *by_agent = ac__mem_alloc(&r->mem, r->n_messages, sizeof **by_agent);
    *start = ac__mem_calloc(&r->mem, (size_t)r->n_agents + 1, sizeof **start);
    if (*by_agent == NULL || *start == NULL) {
        ac__mem_free(&r->mem, *by_agent);
        ac__mem_free(&r->mem, *start);
        return ac__fail(r->err, AC_E_NO_MEMORY,
                        "no memory to group %u messages by agent",
                        r->n_messages);
    }
    for (uint32_t t = 0; t < r->n_messages; t++)
        (*start)[agent_of[t] + 1]++;
    for (uint32_t a = 0; a < r->n_agents; a++)
        (*start)[a + 1] += (*start)[a];
    for (uint32_t t = 0; t < r->n_messages; t++)
        (*by_agent)[(*start)[agent_of[t]]++] = t;
    for (uint32_t a = r->n_agents; a > 0; a--) /* shift back to starts */
        (*start)[a] = (*start)[a - 1];
    (*start)[0] = 0;
    return AC_OK;
}

int ac_refiner_set_authors(ac_refiner *ref, const uint32_t *agent_of,
                           uint32_t n_messages)
{
    int rc = ac__refiner_check_input(ref, "ac_refiner_set_authors");
    if (rc == AC_OK)
        rc = check_length(ref, agent_of, n_messages, ref->n_messages,
                          "agent_of");
    for (uint32_t t = 0; rc == AC_OK && t < n_messages; t++)
        if (agent_of[t] >= ref->n_agents)
            rc = ac__fail(ref->err, AC_E_INVALID_ARG,
                          "message %u names agent %u; there are %u agents", t,
                          agent_of[t], ref->n_agents);
    uint32_t *copy = NULL, *by_agent = NULL, *start = NULL;
    if (rc == AC_OK) {
        copy = ac__mem_alloc(&ref->mem, n_messages, sizeof *copy);
        if (copy == NULL)
            return ac__fail(ref->err, AC_E_NO_MEMORY,
                            "no memory to copy the authors");
        rc = group_by_agent(ref, agent_of, &by_agent, &start);
        if (rc != AC_OK) {
            ac__mem_free(&ref->mem, copy);
            return rc;
        }
        memcpy(copy, agent_of, n_messages * sizeof *copy);
        ac__mem_free(&ref->mem, ref->agent_of);
        ac__mem_free(&ref->mem, ref->by_agent);
        ac__mem_free(&ref->mem, ref->agent_start);
        ref->agent_of = copy;
        ref->by_agent = by_agent;
        ref->agent_start = start;
    }
    return rc;
}

int ac_refiner_set_credits(ac_refiner *ref, const double *credit,
                           uint32_t n_agents)
{
    int rc = ac__refiner_check_input(ref, "ac_refiner_set_credits");
    if (rc == AC_OK)
        rc = check_length(ref, credit, n_agents, ref->n_agents, "credit");
    for (uint32_t a = 0; rc == AC_OK && a < n_agents; a++)
        if (!isfinite(credit[a]))
            rc = ac__fail(ref->err, AC_E_INVALID_ARG,
                          "credit of agent %u is %g, not a finite number", a,
                          credit[a]);
    if (rc != AC_OK)
        return rc;
    if (ref->credit == NULL) {
        ref->credit = ac__mem_alloc(&ref->mem, n_agents, sizeof *ref->credit);
        if (ref->credit == NULL)
            return ac__fail(ref->err, AC_E_NO_MEMORY,
                            "no memory to copy the credits");
    }
    memcpy(ref->credit, credit, n_agents * sizeof *credit);
    return AC_OK;
}

static int check_label(ac_refiner *r, double label, uint32_t t)
{
    if (!(label >= -1.0 && label <= 1.0))
        return ac__fail(r->err, AC_E_INVALID_ARG,
                        "label of message %u is %g; labels lie in [-1, 1]", t,
                        label);
    return AC_OK;
}

/* Stores a feed's label unless the host fixed that message's label. */
static void store_label(ac_refiner *r, uint32_t t, double label)
{
    if (r->fixed[t])
        return;
    r->label[t] = label;
    r->label_state[t] = AC__LABEL_GIVEN;
}

int ac_refiner_set_labels(ac_refiner *ref, const double *labels,
                          uint32_t n_messages)
{
    int rc = ac__refiner_check_input(ref, "ac_refiner_set_labels");
    if (rc == AC_OK)
        rc = check_length(ref, labels, n_messages, ref->n_messages, "labels");
    for (uint32_t t = 0; rc == AC_OK && t < n_messages; t++)
        rc = check_label(ref, labels[t], t);
    for (uint32_t t = 0; rc == AC_OK && t < n_messages; t++)
        store_label(ref, t, labels[t]);
    return rc;
}

int ac_refiner_fix_label(ac_refiner *ref, uint32_t message, double label)
{
    int rc = ac__refiner_check_input(ref, "ac_refiner_fix_label");
    if (rc == AC_OK && message >= ref->n_messages)
        rc = ac__fail(ref->err, AC_E_INVALID_ARG,
                      "message %u does not exist (%u messages)", message,
                      ref->n_messages);
    if (rc == AC_OK)
        rc = check_label(ref, label, message);
    if (rc == AC_OK) {
        ref->fixed[message] = 0;
        store_label(ref, message, label);
        ref->fixed[message] = 1;
    }
    return rc;
}

int ac__refiner_need_authors(ac_refiner *r)
{
    if (r->agent_of == NULL)
        return ac__fail(r->err, AC_E_STATE,
                        "authors are not set: call ac_refiner_set_authors");
    return AC_OK;
}

int ac_refiner_set_texts(ac_refiner *ref, const char *const *texts,
                         const uint64_t *lengths, uint32_t n_messages)
{
    int rc = ac__refiner_check_input(ref, "ac_refiner_set_texts");
    if (rc == AC_OK)
        rc = check_length(ref, texts, n_messages, ref->n_messages, "texts");
    if (rc == AC_OK)
        rc = ac__refiner_need_authors(ref);
    if (rc != AC_OK)
        return rc;
    uint8_t *found = ac__mem_alloc(&ref->mem, n_messages, 1);
    rc = found ? ac__find_redundant(&ref->mem, texts, lengths, ref->agent_of,
                                    n_messages, found)
               : AC_E_NO_MEMORY;
    if (rc == AC_OK)
        memcpy(ref->redundant, found, n_messages);
    ac__mem_free(&ref->mem, found);
    return rc == AC_OK ? AC_OK
                       : ac__fail(ref->err, rc, "cannot compare the texts: %s",
                                  ac_strerror(rc));
}

int ac_refiner_agent_messages(const ac_refiner *ref, uint32_t agent,
                              uint32_t *messages, uint32_t cap,
                              uint32_t *count)
{
    if (ref == NULL || count == NULL || (cap > 0 && messages == NULL))
        return AC_E_INVALID_ARG;
    if (ref->agent_of == NULL)
        return ac__fail(ref->err, AC_E_STATE, "authors are not set");
    if (agent >= ref->n_agents)
        return ac__fail(ref->err, AC_E_INVALID_ARG,
                        "agent %u does not exist (%u agents)", agent,
                        ref->n_agents);
    uint32_t first = ref->agent_start[agent], k = ref->agent_start[agent + 1] - first;
    for (uint32_t j = 0; j < k && j < cap; j++)
        messages[j] = ref->by_agent[first + j];
    *count = k;
    return AC_OK;
}

int ac_refiner_labels_from_shapley(ac_refiner *ref, uint32_t agent,
                                   const double *message_phi, uint32_t count)
{
    int rc = ac__refiner_check_input(ref, "ac_refiner_labels_from_shapley");
    if (rc == AC_OK)
        rc = ac__refiner_need_authors(ref);
    if (rc == AC_OK && agent >= ref->n_agents)
        rc = ac__fail(ref->err, AC_E_INVALID_ARG,
                      "agent %u does not exist (%u agents)", agent,
                      ref->n_agents);
    if (rc != AC_OK)
        return rc;
    uint32_t first = ref->agent_start[agent];
    uint32_t k = ref->agent_start[agent + 1] - first;
    rc = check_length(ref, message_phi, count, k, "message_phi");
    double scale = 0.0;
    for (uint32_t j = 0; rc == AC_OK && j < k; j++) {
        if (!isfinite(message_phi[j]))
            return ac__fail(ref->err, AC_E_INVALID_ARG,
                            "message_phi[%u] is %g, not finite", j,
                            message_phi[j]);
        scale = fmax(scale, fabs(message_phi[j]));
    }
    for (uint32_t j = 0; rc == AC_OK && j < k; j++) {
        double l = scale > 0.0 ? message_phi[j] / scale : 0.0;
        /* Division can land a hair outside [-1, 1]; the labels must not. */
        store_label(ref, ref->by_agent[first + j], fmax(-1.0, fmin(1.0, l)));
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Refine                                                              */
/* ------------------------------------------------------------------ */

double ac__refiner_effective_label(const ac_refiner *r, uint32_t t)
{
    if (r->fixed[t] || !r->redundant[t])
        return r->label[t];
    return -r->p.penalty;
}

int ac__refiner_needs_label(const ac_refiner *r, uint32_t t)
{
    return r->label_state[t] != AC__LABEL_GIVEN &&
           r->label_state[t] != AC__LABEL_SCORED && !r->fixed[t] &&
           !r->redundant[t];
}

typedef struct agent_work {
    double *label, *y, *lo, *hi, *out;
    ac__breakpoint *bp;
} agent_work;

/* The boxes by label sign, then the documented relaxations:
 * AC_AGENT_FLAG_RELAXED_SIGN widens the boxes of the messages on the wrong side of the
 * credit's sign to [-B, B]; AC_AGENT_FLAG_RELAXED_BOUND, when |phi| > K B, gives every
 * message phi / K. Returns the flags, or -1 when relaxing is not allowed. */
static int set_boxes(const ac_refiner *r, const double *labels, uint32_t k,
                     double phi, agent_work *w)
{
    double b = r->p.bound;
    uint32_t n_lo = 0, n_hi = 0; /* boxes reaching -B, and +B */
    for (uint32_t j = 0; j < k; j++) {
        w->lo[j] = labels[j] > 0.0 ? 0.0 : -b;
        w->hi[j] = labels[j] < 0.0 ? 0.0 : b;
        n_lo += labels[j] <= 0.0;
        n_hi += labels[j] >= 0.0;
    }
    /* Counts times B, one rounding: a sum of B's rounds below the product
     * and would call a credit of exactly K B infeasible. */
    double sum_lo = -(double)n_lo * b, sum_hi = (double)n_hi * b;
    if (phi >= sum_lo && phi <= sum_hi)
        return 0;
    if (r->p.relaxation == AC_RELAXATION_NEVER)
        return -1;
    /* Credit above what the boxes hold: the harmful messages may go
     * positive; below: the helpful ones may go negative. */
    for (uint32_t j = 0; j < k; j++) {
        if (phi > sum_hi)
            w->hi[j] = b;
        else
            w->lo[j] = -b;
    }
    return fabs(phi) <= (double)k * b ? (int)AC_AGENT_FLAG_RELAXED_SIGN
                                       : (int)(AC_AGENT_FLAG_RELAXED_SIGN | AC_AGENT_FLAG_RELAXED_BOUND);
}

/* How far message j may move by `delta` to absorb a rounding residual:
 * within its box, and, for a label-0 message, not across 0. The exact
 * projection keeps every label-0 reward between the rewards of the harmful
 * messages (<= 0) and of the helpful ones (>= 0); a rounding-sized move
 * across 0 could break that order (property 4). */
static double absorb_limit(double out, double label, double lo, double hi,
                           double delta)
{
    double to = out + delta;
    to = to < lo ? lo : (to > hi ? hi : to);
    if (label == 0.0 && ((out <= 0.0 && to > 0.0) || (out >= 0.0 && to < 0.0)))
        to = 0.0;
    return to;
}

static int can_absorb(double out, double label, double lo, double hi,
                      double residual)
{
    return absorb_limit(out, label, lo, hi, residual) != out;
}

/* Adds residual / (their number) to the messages that can absorb it and
 * whose label is `only` (all of them when only is NaN). */
static void spread(agent_work *w, uint32_t k, double residual, double only)
{
    uint32_t n = 0;
    for (uint32_t j = 0; j < k; j++)
        n += (isnan(only) || w->label[j] == only) &&
             can_absorb(w->out[j], w->label[j], w->lo[j], w->hi[j], residual);
    double share = n ? residual / n : 0.0;
    for (uint32_t j = 0; n > 0 && j < k; j++)
        if ((isnan(only) || w->label[j] == only) &&
            can_absorb(w->out[j], w->label[j], w->lo[j], w->hi[j], residual))
            w->out[j] = absorb_limit(w->out[j], w->label[j], w->lo[j],
                                     w->hi[j], share);
}

/* The message that takes a residual of this sign without breaking the
 * order: the absorbing one of highest label for a positive residual (every
 * message of higher label sits at an upper bound above it), of lowest label
 * for a negative one. k when none can absorb it. */
static uint32_t extreme_absorber(const agent_work *w, uint32_t k,
                                 double residual)
{
    uint32_t first = k;
    for (uint32_t j = 0; j < k; j++)
        if (can_absorb(w->out[j], w->label[j], w->lo[j], w->hi[j], residual) &&
            (first == k || (residual > 0.0 ? w->label[j] > w->label[first]
                                           : w->label[j] < w->label[first])))
            first = j;
    return first;
}

/* Rounding leaves sum(out) a few ulps from phi. The residual goes to the
 * messages that can take it inside their boxes; moving all of them by the
 * same amount keeps their order. In a large agent each one's share can fall
 * below half an ulp and move nothing: then the residual goes to the
 * absorbing messages of the extreme label, and what rounding leaves of it
 * to one extreme message alone, chosen by that remainder's own sign.
 * Conservation outranks exact ties; the order of different labels is
 * kept. */
static void absorb_residual(agent_work *w, uint32_t k, double phi)
{
    for (int pass = 0; pass < 4; pass++) {
        double residual = phi - ac__sum(w->out, k);
        if (residual == 0.0)
            return;
        if (pass < 2) {
            spread(w, k, residual, NAN);
            continue;
        }
        uint32_t j = extreme_absorber(w, k, residual);
        if (j == k)
            return;
        if (pass == 2)
            spread(w, k, residual, w->label[j]);
        else
            w->out[j] = absorb_limit(w->out[j], w->label[j], w->lo[j],
                                     w->hi[j], residual);
    }
}

/* The power of two by which an agent's projection is scaled down so that
 * nothing in it overflows. Every number it handles is at most
 * m = max(|phi|, B, beta B) times 3 (a target |phi|/K + beta B |l|, a
 * breakpoint target - bound), and every sum at most 4K of them (the upper
 * bounds, the sweep's slope times a gap, the free targets): 2^(e+1) 32K
 * must stay below DBL_MAX = 2^1024 (1 - 2^-53). With a credit of 1e308 or
 * B = 1e300, beta 1e6 and a thousand messages, unscaled sums reached
 * infinity and the rewards came out NaN. Only then is s > 0, so every
 * other run computes exactly what it did; scaled, a reward loses bits only
 * where it is below 2^(s - 1022) (s <= 34): beneath any tolerance of the
 * extreme sums that make s positive. */
static int overflow_shift(double phi, double bound, double strength,
                          uint32_t k)
{
    double m = fmax(fabs(phi), fmax(bound, strength));
    int room = DBL_MAX_EXP - 7 - ilogb((double)k);
    int e = ilogb(m);
    return e > room ? e - room : 0;
}

static int refine_agent(ac_refiner *r, uint32_t a, agent_work *w,
                        double *reward, uint32_t *flags)
{
    uint32_t first = r->agent_start[a], k = r->agent_start[a + 1] - first;
    double phi = r->credit[a];
    if (k == 0) {
        if (phi != 0.0) /* ac__refiner_check_ready refused it already */
            return ac__fail(r->err, AC_E_STATE,
                            "agent %u has credit %g but no messages to carry "
                            "it", a, phi);
        flags[a] = 0;
        return AC_OK;
    }
    double *labels = w->label;
    for (uint32_t j = 0; j < k; j++)
        labels[j] = ac__refiner_effective_label(r, r->by_agent[first + j]);
    int f = set_boxes(r, labels, k, phi, w);
    if (f < 0)
        return ac__fail(r->err, AC_E_INFEASIBLE,
                        "agent %u: credit %g cannot be split over its %u "
                        "messages within the label boxes (bound %g) and "
                        "AC_REFINER_PARAM_RELAXATION is AC_RELAXATION_NEVER", a, phi, k,
                        r->p.bound);
    flags[a] = (uint32_t)f;
    if (f & (int)AC_AGENT_FLAG_RELAXED_BOUND) {
        /* The k shares miss phi by k roundings at most: nothing next to
         * the promised 1e-12 for a normal credit, so the split stays equal;
         * but most of a share for a subnormal one (180 units of 2^-1074
         * over 19 messages: 9 each, 171 in all). Past the promise, what
         * they miss (fma-exact) goes to the message of the highest label
         * (a gain) or the lowest (a loss): the order of labels holds. */
        double share = phi / k, miss = fma(-(double)k, share, phi);
        uint32_t to = 0;
        for (uint32_t j = 0; j < k; j++) {
            reward[r->by_agent[first + j]] = share;
            if (miss > 0.0 ? labels[j] >= labels[to] : labels[j] <= labels[to])
                to = j;
        }
        if (fabs(miss) > 1e-12 * fabs(phi))
            reward[r->by_agent[first + to]] += miss;
        return AC_OK;
    }
    /* The projection works in a space scaled by 2^-s, exactly (a power of
     * two), so that its sums cannot overflow; s is 0 but for the extremes. */
    int s = overflow_shift(phi, r->p.bound, r->p.beta * r->p.bound, k);
    double phi_s = ldexp(phi, -s);
    double share = phi_s / k, strength = r->p.beta * ldexp(r->p.bound, -s);
    for (uint32_t j = 0; j < k; j++) {
        w->y[j] = share + strength * labels[j];
        w->lo[j] = ldexp(w->lo[j], -s);
        w->hi[j] = ldexp(w->hi[j], -s);
    }
    ac__project_boxes(w->y, w->lo, w->hi, k, phi_s, w->out, w->bp);
    absorb_residual(w, k, phi_s);
    for (uint32_t j = 0; j < k; j++)
        reward[r->by_agent[first + j]] = ldexp(w->out[j], s);
    return AC_OK;
}

int ac__refiner_check_ready(ac_refiner *r, int have_scorer)
{
    int rc = ac__refiner_need_authors(r);
    if (rc == AC_OK && r->credit == NULL)
        rc = ac__fail(r->err, AC_E_STATE,
                      "credits are not set: call ac_refiner_set_credits");
    /* Before any label is asked: a run that cannot end in rewards must not
     * spend the scorer's time. */
    for (uint32_t a = 0; rc == AC_OK && a < r->n_agents; a++)
        if (r->agent_start[a + 1] == r->agent_start[a] && r->credit[a] != 0.0)
            rc = ac__fail(r->err, AC_E_STATE,
                          "agent %u has credit %g but no messages to carry "
                          "it",
                          a, r->credit[a]);
    for (uint32_t t = 0; rc == AC_OK && !have_scorer && t < r->n_messages;
         t++)
        if (ac__refiner_needs_label(r, t))
            rc = ac__fail(r->err, AC_E_STATE,
                          "message %u has no label and no scorer is set: "
                          "give labels first, or a scorer", t);
    return rc;
}

static uint32_t largest_agent(const ac_refiner *r)
{
    uint32_t k = 0;
    for (uint32_t a = 0; a < r->n_agents; a++)
        if (r->agent_start[a + 1] - r->agent_start[a] > k)
            k = r->agent_start[a + 1] - r->agent_start[a];
    return k;
}

int ac__refiner_refine(ac_refiner *ref)
{
    int rc;
    uint32_t kmax = largest_agent(ref);
    agent_work w;
    w.label = ac__mem_alloc(&ref->mem, kmax, sizeof *w.label);
    w.y = ac__mem_alloc(&ref->mem, kmax, sizeof *w.y);
    w.lo = ac__mem_alloc(&ref->mem, kmax, sizeof *w.lo);
    w.hi = ac__mem_alloc(&ref->mem, kmax, sizeof *w.hi);
    w.out = ac__mem_alloc(&ref->mem, kmax, sizeof *w.out);
    w.bp = ac__mem_alloc(&ref->mem, 2 * (size_t)kmax, sizeof *w.bp);
    double *reward = ac__mem_alloc(&ref->mem, ref->n_messages, sizeof *reward);
    uint32_t *flags = ac__mem_alloc(&ref->mem, ref->n_agents, sizeof *flags);
    rc = (w.label && w.y && w.lo && w.hi && w.out && w.bp && reward && flags)
             ? AC_OK
             : ac__fail(ref->err, AC_E_NO_MEMORY,
                        "no memory to refine %u messages", ref->n_messages);
    for (uint32_t a = 0; rc == AC_OK && a < ref->n_agents; a++)
        rc = refine_agent(ref, a, &w, reward, flags);
    /* Never a success with a number that is not one: the scaling above
     * keeps every reward finite, and this says so before it is reported. */
    for (uint32_t t = 0; rc == AC_OK && t < ref->n_messages; t++)
        if (!isfinite(reward[t]))
            rc = ac__fail(ref->err, AC_E_TOO_LARGE,
                          "the reward of message %u (agent %u, credit %g, "
                          "bound %g) is %g, not a finite number; no result",
                          t, ref->agent_of[t], ref->credit[ref->agent_of[t]],
                          ref->p.bound, reward[t]);
    if (rc == AC_OK) { /* commit only a complete result */
        memcpy(ref->reward, reward, ref->n_messages * sizeof *reward);
        memcpy(ref->agent_flags, flags, ref->n_agents * sizeof *flags);
        for (uint32_t t = 0; t < ref->n_messages; t++)
            ref->used_label[t] = ac__refiner_effective_label(ref, t);
    }
    void *scratch[] = {w.label, w.y, w.lo, w.hi, w.out, w.bp, reward, flags};
    for (size_t i = 0; i < sizeof scratch / sizeof scratch[0]; i++)
        ac__mem_free(&ref->mem, scratch[i]);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Results                                                             */
/* ------------------------------------------------------------------ */

static int check_result(const ac_refiner *r, const void *out, uint32_t len,
                        uint32_t want)
{
    if (r == NULL || out == NULL)
        return AC_E_INVALID_ARG;
    if (len != want)
        return ac__fail(r->err, AC_E_INVALID_ARG,
                        "output has %u entries, not %u", len, want);
    if (r->phase != AC__PHASE_DONE)
        return ac__fail(r->err, AC_E_STATE,
                        r->phase == AC__PHASE_FAILED
                            ? "the run failed: no result"
                            : "no result yet: run the refiner first "
                              "(ac_refiner_run, or ask/tell to the end)");
    return AC_OK;
}

/* Copies one array of the last result. */
static int copy_result(const ac_refiner *r, void *dst, const void *src,
                       uint32_t len, uint32_t want, size_t size)
{
    int rc = check_result(r, dst, len, want);
    if (rc == AC_OK)
        memcpy(dst, src, len * size);
    return rc;
}

int ac_refiner_rewards(const ac_refiner *ref, double *rewards,
                       uint32_t n_messages)
{
    return ref == NULL ? AC_E_INVALID_ARG
                       : copy_result(ref, rewards, ref->reward, n_messages,
                                     ref->n_messages, sizeof *rewards);
}

int ac_refiner_labels(const ac_refiner *ref, double *labels,
                      uint32_t n_messages)
{
    return ref == NULL ? AC_E_INVALID_ARG
                       : copy_result(ref, labels, ref->used_label, n_messages,
                                     ref->n_messages, sizeof *labels);
}

int ac_refiner_message_flags(const ac_refiner *ref, uint32_t *flags,
                             uint32_t n_messages)
{
    if (ref == NULL || flags == NULL)
        return AC_E_INVALID_ARG;
    if (n_messages != ref->n_messages)
        return ac__fail(ref->err, AC_E_INVALID_ARG,
                        "output has %u entries, not %u", n_messages,
                        ref->n_messages);
    for (uint32_t t = 0; t < n_messages; t++)
        flags[t] = (ref->redundant[t] ? AC_MESSAGE_FLAG_REDUNDANT : 0u) |
                   (ref->fixed[t] ? AC_MESSAGE_FLAG_LABEL_FIXED : 0u);
    return AC_OK;
}

int ac_refiner_agent_flags(const ac_refiner *ref, uint32_t *flags,
                           uint32_t n_agents)
{
    return ref == NULL ? AC_E_INVALID_ARG
                       : copy_result(ref, flags, ref->agent_flags, n_agents,
                                     ref->n_agents, sizeof *flags);
}
