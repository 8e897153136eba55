/* A rollout worker process embedding agentcredit (docs/threading.md, "A
 * rollout worker").
 *
 * WORKERS worker threads score EPISODES episodes of a team of six agents.
 * Each worker takes episodes from a shared episode counter, keeps up to
 * IN_FLIGHT of them open at once, and owns their estimators: no handle is
 * ever touched by two threads. The coalitions the estimators ask for are
 * evaluated by a simulated pool of GPU rollout servers (ROLLOUT_SERVERS
 * threads) fed by one shared job queue of (episode, ticket, coalition); each
 * result comes back, after a random delay and so out of order, to the
 * mailbox of the worker that asked, which tells it to the estimator as it
 * arrives. The queues are the only shared mutable state, each behind a
 * mutex and a condition variable.
 *
 * A rollout is a 0/1 draw (did the team pass?) whose success probability
 * comes from a small team game: the coder carries the task, the planner and
 * the tester help the coder, the reviewer helps a little, the echo agent
 * repeats others, the saboteur hurts. The draw is a pure function of
 * (episode, coalition, ticket), never of which server ran it or when, and
 * the estimator combines repeated evaluations in a fixed order whatever the
 * order of the tells. So at the end every episode's credits must equal, bit
 * for bit, a plain serial ask/tell run of the same episode, and add up to
 * the episode's observed outcome minus the baseline. The program prints a
 * table and exits non-zero on any mismatch. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <agentcredit.h>

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AGENTS 6
#define EPISODES 16
#define WORKERS 4
#define ROLLOUT_SERVERS 3
#define IN_FLIGHT 2        /* episodes a worker keeps open at once        */
#define MAX_OUTSTANDING 24 /* rollouts one episode may have in flight     */
#define ASK_MAX 8          /* evaluations per ask                         */
#define REPEATS 4          /* rollouts per coalition (a noisy oracle)     */
#define BUDGET 160         /* rollouts per episode: 40 of 62 coalitions   */

static const char *const agent_name[AGENTS] = {"planner", "coder", "tester",
                                               "reviewer", "echo", "saboteur"};

/* ------------------------------------------------------------------ */
/* The simulated team and its rollouts                                 */
/* ------------------------------------------------------------------ */

static uint64_t mix(uint64_t z)
{
    z += UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double unit(uint64_t h) /* [0, 1) */
{
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

/* The probability that the agents in s (bit i: agent i) pass episode e. */
static double success_probability(uint32_t episode, uint64_t s)
{
    double p = 0.05 + 0.1 * unit(mix(episode)); /* how easy the task is */
    if (s & 2u)
        p += 0.35;
    if ((s & 3u) == 3u)
        p += 0.2;
    if ((s & 6u) == 6u)
        p += 0.15;
    if (s & 8u)
        p += 0.1;
    if (s & 32u)
        p -= 0.2;
    return p < 0.0 ? 0.0 : p > 1.0 ? 1.0 : p;
}

/* One rollout: a pure function of (episode, coalition, ticket). */
static double rollout(uint32_t episode, uint64_t s, uint64_t ticket)
{
    uint64_t h = mix(mix(mix(UINT64_C(0xE9150DE) + episode) ^ s) ^ ticket);
    return unit(h) < success_probability(episode, s) ? 1.0 : 0.0;
}

static const uint64_t ALL = (1u << AGENTS) - 1u, NONE = 0;

/* The episode's observed outcome: one rollout of the whole team. */
static double observed_outcome(uint32_t episode)
{
    return rollout(episode, ALL, UINT64_MAX);
}

/* The same estimator setup for the concurrent and the serial run. */
static int episode_start(uint32_t episode, ac_estimator **out)
{
    ac_estimator *est = NULL;
    int rc = ac_estimator_create(&est, AGENTS, NULL);
    if (rc != AC_OK)
        return rc;
    if ((rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_METHOD, AC_METHOD_KERNELSHAP)) != AC_OK ||
        (rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_BUDGET, BUDGET)) != AC_OK ||
        (rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_REPEATS, REPEATS)) != AC_OK ||
        (rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_SEED, 1000 + episode)) != AC_OK ||
        (rc = ac_estimator_set_value(est, &ALL, 1, observed_outcome(episode))) != AC_OK ||
        (rc = ac_estimator_set_value(est, &NONE, 1, 0.0)) != AC_OK) {
        ac_estimator_free(est);
        return rc;
    }
    *out = est;
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* A thread-safe FIFO of jobs                                          */
/* ------------------------------------------------------------------ */

struct job {
    uint32_t episode, worker;
    uint64_t ticket, coalition;
    double value;
};

struct queue {
    pthread_mutex_t mu;
    pthread_cond_t nonempty;
    struct job *items;
    size_t head, len, cap;
    int closed; /* no more pushes: pop returns 0 once empty */
};

static void queue_init(struct queue *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->nonempty, NULL);
}

static void queue_destroy(struct queue *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->nonempty);
    free(q->items);
}

static int queue_push(struct queue *q, const struct job *j)
{
    pthread_mutex_lock(&q->mu);
    if (q->head + q->len == q->cap) {
        if (q->head > 0) {
            memmove(q->items, q->items + q->head, q->len * sizeof *q->items);
            q->head = 0;
        } else {
            size_t cap = q->cap ? 2 * q->cap : 64;
            struct job *items = realloc(q->items, cap * sizeof *items);
            if (items == NULL) {
                pthread_mutex_unlock(&q->mu);
                return -1;
            }
            q->items = items;
            q->cap = cap;
        }
    }
    q->items[q->head + q->len++] = *j;
    pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

/* Takes up to max jobs, waiting for at least one. Returns how many; 0 only
 * once the queue is closed and empty. */
static size_t queue_pop(struct queue *q, struct job *out, size_t max)
{
    pthread_mutex_lock(&q->mu);
    while (q->len == 0 && !q->closed)
        pthread_cond_wait(&q->nonempty, &q->mu);
    size_t n = q->len < max ? q->len : max;
    memcpy(out, q->items + q->head, n * sizeof *out);
    q->head += n;
    q->len -= n;
    if (q->len == 0)
        q->head = 0;
    pthread_mutex_unlock(&q->mu);
    return n;
}

static void queue_close(struct queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->nonempty);
    pthread_mutex_unlock(&q->mu);
}

/* ------------------------------------------------------------------ */
/* Shared state: the queues and the episode counter                    */
/* ------------------------------------------------------------------ */

static struct queue jobs;               /* workers -> rollout servers */
static struct queue mailbox[WORKERS];   /* rollout servers -> worker i */
static pthread_mutex_t episodes_mu = PTHREAD_MUTEX_INITIALIZER;
static uint32_t next_episode;           /* guarded by episodes_mu      */

static int take_episode(uint32_t *episode)
{
    pthread_mutex_lock(&episodes_mu);
    int got = next_episode < EPISODES;
    if (got)
        *episode = next_episode++;
    pthread_mutex_unlock(&episodes_mu);
    return got;
}

/* Written by the worker that ran the episode, read after the join. */
struct result {
    int rc; /* AC_OK, or what failed */
    uint32_t worker;
    double outcome;
    double phi[AGENTS], se[AGENTS];
    int64_t evaluations;
    uint64_t reordered; /* results that came back after a later ticket */
};
static struct result results[EPISODES];

/* ------------------------------------------------------------------ */
/* The rollout servers                                                 */
/* ------------------------------------------------------------------ */

static void *rollout_server(void *arg)
{
    uint64_t rng = mix((uint64_t)(uintptr_t)arg); /* delays only */
    struct job j;
    while (queue_pop(&jobs, &j, 1) == 1) {
        rng = mix(rng);
        struct timespec delay = {0, (long)(rng % 200000u)}; /* < 0.2 ms */
        nanosleep(&delay, NULL);
        j.value = rollout(j.episode, j.coalition, j.ticket);
        if (queue_push(&mailbox[j.worker], &j) != 0)
            abort(); /* a result lost would hang its worker */
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The workers                                                         */
/* ------------------------------------------------------------------ */

struct open_episode {
    int used;
    uint32_t id;
    ac_estimator *est; /* owned by this worker */
    uint64_t outstanding, last_ticket;
};

static void close_episode(struct open_episode *o, int rc)
{
    struct result *r = &results[o->id];
    r->rc = rc;
    if (rc == AC_OK)
        r->rc = ac_estimator_result(o->est, r->phi, r->se, AGENTS);
    if (r->rc != AC_OK)
        fprintf(stderr, "episode %u: %s (%s)\n", o->id, ac_strerror(r->rc),
                ac_estimator_last_error(o->est));
    if (ac_estimator_audit(o->est, AC_ESTIMATOR_AUDIT_EVALUATIONS,
                           &r->evaluations) != AC_OK)
        r->evaluations = -1;
    ac_estimator_free(o->est);
    o->used = 0; /* results still in flight for it are dropped */
}

/* Asks o's estimator for work while o has room, and sends it out. */
static int feed(struct open_episode *o, uint32_t worker)
{
    uint64_t tickets[ASK_MAX], coalitions[ASK_MAX];
    for (;;) {
        uint64_t room = MAX_OUTSTANDING - o->outstanding;
        uint32_t count = 0;
        if (room == 0)
            return AC_OK;
        int rc = ac_estimator_ask(o->est, room < ASK_MAX ? (uint32_t)room : ASK_MAX,
                                  tickets, coalitions, &count);
        if (rc != AC_OK || count == 0)
            return rc;
        for (uint32_t k = 0; k < count; k++) {
            struct job j = {o->id, worker, tickets[k], coalitions[k], NAN};
            if (queue_push(&jobs, &j) != 0) {
                ac_estimator_cancel(o->est);
                return AC_E_NO_MEMORY;
            }
            o->outstanding++;
        }
    }
}

static void *worker_main(void *arg)
{
    const uint32_t self = (uint32_t)(uintptr_t)arg;
    struct open_episode open[IN_FLIGHT];
    struct job arrived[64];
    int more = 1;
    memset(open, 0, sizeof open);
    for (;;) {
        /* Open episodes while there is room. */
        for (int s = 0; s < IN_FLIGHT && more; s++) {
            if (open[s].used)
                continue;
            uint32_t id;
            if (!(more = take_episode(&id)))
                break;
            memset(&open[s], 0, sizeof open[s]);
            open[s].id = id;
            results[id].worker = self;
            results[id].outcome = observed_outcome(id);
            int rc = episode_start(id, &open[s].est);
            if (rc != AC_OK) {
                results[id].rc = rc;
                continue;
            }
            open[s].used = 1;
        }
        /* Hand out work; close the episodes that are done. */
        uint64_t waiting = 0;
        int n_open = 0;
        for (int s = 0; s < IN_FLIGHT; s++) {
            struct open_episode *o = &open[s];
            if (!o->used)
                continue;
            int rc = feed(o, self);
            int32_t done = 0;
            if (rc == AC_OK)
                rc = ac_estimator_progress(o->est, &done, NULL);
            if (rc == AC_OK && !done && o->outstanding == 0)
                rc = AC_E_STATE; /* asks for nothing, yet not done */
            if (rc != AC_OK || done) {
                close_episode(o, rc);
                continue;
            }
            waiting += o->outstanding;
            n_open++;
        }
        if (n_open == 0) {
            if (!more)
                return NULL;
            continue;
        }
        if (waiting == 0)
            continue;
        /* Wait for results; tell each one as it comes. */
        size_t n = queue_pop(&mailbox[self], arrived, 64);
        for (size_t k = 0; k < n; k++) {
            struct open_episode *o = NULL;
            for (int s = 0; s < IN_FLIGHT; s++)
                if (open[s].used && open[s].id == arrived[k].episode)
                    o = &open[s];
            if (o == NULL)
                continue; /* its episode failed and was closed */
            o->outstanding--;
            if (arrived[k].ticket < o->last_ticket)
                results[o->id].reordered++;
            else
                o->last_ticket = arrived[k].ticket;
            int rc = ac_estimator_tell(o->est, 1, &arrived[k].ticket,
                                       &arrived[k].value, NULL);
            if (rc != AC_OK)
                close_episode(o, rc);
        }
    }
}

/* ------------------------------------------------------------------ */
/* The reference: one episode, serially, on the calling thread          */
/* ------------------------------------------------------------------ */

static int serial_run(uint32_t episode, double *phi, double *se)
{
    ac_estimator *est;
    int rc = episode_start(episode, &est);
    if (rc != AC_OK)
        return rc;
    uint64_t tickets[64], coalitions[64];
    double values[64];
    uint32_t count;
    while ((rc = ac_estimator_ask(est, 64, tickets, coalitions, &count)) == AC_OK &&
           count > 0) {
        for (uint32_t k = 0; k < count; k++)
            values[k] = rollout(episode, coalitions[k], tickets[k]);
        if ((rc = ac_estimator_tell(est, count, tickets, values, NULL)) != AC_OK)
            break;
    }
    if (rc == AC_OK)
        rc = ac_estimator_result(est, phi, se, AGENTS);
    ac_estimator_free(est);
    return rc;
}

int main(void)
{
    pthread_t servers[ROLLOUT_SERVERS], workers[WORKERS];
    queue_init(&jobs);
    for (int i = 0; i < WORKERS; i++)
        queue_init(&mailbox[i]);
    for (uintptr_t i = 0; i < ROLLOUT_SERVERS; i++)
        if (pthread_create(&servers[i], NULL, rollout_server, (void *)i) != 0)
            return 1;
    for (uintptr_t i = 0; i < WORKERS; i++)
        if (pthread_create(&workers[i], NULL, worker_main, (void *)i) != 0)
            return 1;
    for (int i = 0; i < WORKERS; i++)
        pthread_join(workers[i], NULL);
    /* Every result was told (or its episode failed): stop the servers. */
    queue_close(&jobs);
    for (int i = 0; i < ROLLOUT_SERVERS; i++)
        pthread_join(servers[i], NULL);

    printf("%d episodes, %d workers, %d rollout servers; credit per agent\n",
           EPISODES, WORKERS, ROLLOUT_SERVERS);
    printf("episode worker  R ");
    for (int i = 0; i < AGENTS; i++)
        printf(" %8s", agent_name[i]);
    printf("   sum  rollouts serial\n");
    int bad = 0;
    uint64_t rollouts = 0, reordered = 0;
    double mean[AGENTS] = {0};
    for (uint32_t e = 0; e < EPISODES; e++) {
        const struct result *r = &results[e];
        double phi[AGENTS], se[AGENTS], sum = 0.0, mass = 0.0;
        int rc = serial_run(e, phi, se);
        int same = r->rc == AC_OK && rc == AC_OK &&
                   memcmp(phi, r->phi, sizeof phi) == 0 &&
                   memcmp(se, r->se, sizeof se) == 0;
        printf("%7u %6u %2.0f ", e, r->worker, r->outcome);
        for (int i = 0; i < AGENTS; i++) {
            printf(" %+8.3f", r->phi[i]);
            sum += r->phi[i];
            mass += fabs(r->phi[i]);
            mean[i] += r->phi[i] / EPISODES;
        }
        int conserves = fabs(sum - r->outcome) <= 1e-12 * (1.0 + mass);
        printf(" %+6.3f %8lld %s\n", sum, (long long)r->evaluations,
               same && conserves ? "same" : !same ? "DIFFERS" : "NOT CONSERVED");
        bad |= !same || !conserves;
        rollouts += (uint64_t)r->evaluations;
        reordered += r->reordered;
    }
    printf("mean              ");
    for (int i = 0; i < AGENTS; i++)
        printf(" %+8.3f", mean[i]);
    printf("\n%llu rollouts, %llu told after a later ticket of their episode; "
           "%s\n", (unsigned long long)rollouts, (unsigned long long)reordered,
           bad ? "MISMATCH" : "every episode equals its serial run bit for bit "
                              "and conserves credit");

    queue_destroy(&jobs);
    for (int i = 0; i < WORKERS; i++)
        queue_destroy(&mailbox[i]);
    return bad ? 1 : 0;
}
