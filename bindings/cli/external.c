/* SPDX-License-Identifier: MIT
 * agentcredit signals: external programs (external.h), the process side. */
#define _GNU_SOURCE /* pipe2, O_CLOEXEC */

#include "external.h"

#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define END_GRACE_SECONDS 10.0 /* a program's time to end after its EOF */

static const char *const role_options[EXT_ROLES] = {
    "--oracle-cmd", "--verifier-cmd", "--scorer-cmd", "--repair-cmd"};

const char *ext_role_option(ext_role role)
{
    return (unsigned)role < EXT_ROLES ? role_options[role] : "?";
}

int ext_config_any(const ext_config *cfg)
{
    for (int r = 0; r < EXT_ROLES; r++)
        if (cfg->cmd[r] != NULL)
            return 1;
    return 0;
}

/* ---- failures: one message per episode, the first ---- */

static int fail(ext_worker *w, const ext_program *pr, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(ext_worker *w, const ext_program *pr, const char *fmt, ...)
{
    if (w->error[0] != '\0')
        return -1;
    int n = snprintf(w->error, sizeof w->error, "%s '%s': ", pr->option,
                     pr->cmd);
    if (n < 0 || (size_t)n >= sizeof w->error)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->error + n, sizeof w->error - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- time ---- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Milliseconds left before deadline (-1: none), for poll(). */
static int ms_left(double deadline)
{
    if (deadline <= 0)
        return -1;
    double left = deadline - now_seconds();
    if (left <= 0)
        return 0;
    return left > 1e6 ? 1000000000 : (int)ceil(left * 1000.0);
}

/* Waits for `events` on fd until the deadline: 1 ready, 0 timed out. */
static int wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        struct pollfd p = {fd, events, 0};
        int n = poll(&p, 1, ms_left(deadline));
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return 1; /* the read or write that follows says what is wrong */
    }
}

/* ---- processes ---- */

static void program_reset(ext_program *pr)
{
    pr->pid = 0;
    pr->to_fd = pr->from_fd = -1;
    pr->len = 0;
    pr->requests = 0;
    pr->episode_sent = 0;
}

/* "exited with status 3", "was killed by signal 9" */
static void describe_status(int status, char *buf, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(buf, cap, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, cap, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, cap, "ended (wait status %d)", status);
}

/* Waits up to `seconds` for the program to end: 1 and *status when it did. */
static int reap_within(pid_t pid, double seconds, int *status)
{
    double deadline = now_seconds() + seconds;
    for (;;) {
        pid_t got = waitpid(pid, status, WNOHANG);
        if (got == pid || (got < 0 && errno != EINTR))
            return got == pid;
        if (now_seconds() >= deadline)
            return 0;
        struct timespec nap = {0, 10 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
}

/* Kills the program's process group (the shell and what it started). */
static void kill_and_reap(pid_t pid)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        continue;
}

static void close_fds(ext_program *pr)
{
    if (pr->to_fd >= 0)
        close(pr->to_fd);
    if (pr->from_fd >= 0)
        close(pr->from_fd);
    pr->to_fd = pr->from_fd = -1;
}

/* Ends a program whose conversation is broken: no more requests. */
static void discard(ext_program *pr)
{
    if (pr->pid == 0)
        return;
    close_fds(pr);
    kill_and_reap(pr->pid);
    program_reset(pr);
}

/* After its stdout ended: how the program ended (it is reaped), or that it
 * only closed its stdout (it is killed). */
static void ended(ext_program *pr, char *how, size_t cap)
{
    int status = 0;
    close_fds(pr);
    if (reap_within(pr->pid, 1.0, &status)) {
        describe_status(status, how, cap);
    } else {
        snprintf(how, cap, "closed its stdout");
        kill_and_reap(pr->pid);
    }
    program_reset(pr);
}

/* 1 when cmd is one simple command (words of these characters alone):
 * the shell may then exec it, and the program's pipes are its alone, so
 * that its closing stdout is seen (dash keeps a copy while it waits). */
static int simple_command(const char *cmd)
{
    return strspn(cmd, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789_./ -:,+@") == strlen(cmd);
}

/* /bin/sh -c CMD with its stdin and stdout on pipes (close-on-exec in
 * this process, so that the children of other threads do not hold them),
 * SIGPIPE at its default (the tool ignores it), in its own process group
 * (so that a timeout kills what the shell started). */
static int start(ext_worker *w, ext_program *pr)
{
    size_t len = strlen(pr->cmd);
    char *script = malloc(len + 6);
    if (script == NULL)
        return fail(w, pr, "out of memory starting the program");
    snprintf(script, len + 6, "%s%s", simple_command(pr->cmd) ? "exec " : "",
             pr->cmd);
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t dflt;
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
        int e = errno;
        free(script);
        for (int k = 0; k < 2; k++) {
            if (in[k] >= 0)
                close(in[k]);
            if (out[k] >= 0)
                close(out[k]);
        }
        return fail(w, pr, "cannot make a pipe: %s", strerror(e));
    }
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0)
        rc = posix_spawnattr_init(&attr);
    if (rc == 0) {
        posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                            POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setsigdefault(&attr, &dflt);
        char *argv[] = {"sh", "-c", script, NULL};
        rc = posix_spawn(&pr->pid, "/bin/sh", &fa, &attr, argv, environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
    }
    free(script);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        program_reset(pr);
        return fail(w, pr, "cannot start /bin/sh: %s", strerror(rc));
    }
    pr->to_fd = in[1];
    pr->from_fd = out[0];
    fcntl(pr->to_fd, F_SETFL, fcntl(pr->to_fd, F_GETFL) | O_NONBLOCK);
    fcntl(pr->from_fd, F_SETFL, fcntl(pr->from_fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

/* ---- one request, one reply ---- */

static int send_request(ext_worker *w, ext_program *pr, ext_kind kind,
                        double deadline)
{
    size_t done = 0;
    while (done < w->req_len) {
        ssize_t n = write(pr->to_fd, w->req + done, w->req_len - done);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            if (!wait_fd(pr->to_fd, POLLOUT, deadline)) {
                discard(pr);
                return fail(w, pr, "%s request not read within "
                            "--cmd-timeout %g s (killed)",
                            ext_kind_name(kind), w->cfg->timeout);
            }
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            char how[128];
            ended(pr, how, sizeof how);
            return fail(w, pr, "the program %s before reading its %s "
                        "request", how, ext_kind_name(kind));
        }
    }
    return 0;
}

/* The next line of the program's stdout into pr->buf [0, *line_len). */
static int read_reply(ext_worker *w, ext_program *pr, ext_kind kind,
                      double deadline, size_t *line_len)
{
    size_t scanned = 0;
    for (;;) {
        char *nl = pr->len > scanned /* no buffer yet: nothing to scan */
                       ? memchr(pr->buf + scanned, '\n', pr->len - scanned)
                       : NULL;
        if (nl != NULL) {
            *line_len = (size_t)(nl - pr->buf);
            return 0;
        }
        scanned = pr->len;
        if (pr->len >= w->cfg->max_reply) {
            discard(pr);
            return fail(w, pr, "%s reply longer than %llu bytes (killed)",
                        ext_kind_name(kind),
                        (unsigned long long)w->cfg->max_reply);
        }
        if (pr->cap - pr->len < 4096) {
            size_t want = pr->cap ? 2 * pr->cap : 65536;
            char *grown = realloc(pr->buf, want);
            if (grown == NULL)
                return fail(w, pr, "out of memory reading a reply");
            pr->buf = grown;
            pr->cap = want;
        }
        ssize_t n = read(pr->from_fd, pr->buf + pr->len, pr->cap - pr->len);
        if (n > 0) {
            pr->len += (size_t)n;
        } else if (n == 0) {
            char how[128];
            int partial = pr->len > 0;
            ended(pr, how, sizeof how);
            return fail(w, pr, "the program %s %s its %s reply", how,
                        partial ? "in the middle of" : "before",
                        ext_kind_name(kind));
        } else if (errno == EAGAIN) {
            if (!wait_fd(pr->from_fd, POLLIN, deadline)) {
                discard(pr);
                return fail(w, pr, "no %s reply within --cmd-timeout %g s "
                            "(killed)", ext_kind_name(kind),
                            w->cfg->timeout);
            }
        } else if (errno != EINTR) {
            int e = errno;
            discard(pr);
            return fail(w, pr, "reading its stdout: %s", strerror(e));
        }
    }
}

/* Drops the reply line (and its newline) from the buffer. */
static void consume(ext_program *pr, size_t line_len)
{
    size_t used = line_len + 1;
    memmove(pr->buf, pr->buf + used, pr->len - used);
    pr->len -= used;
}

/* 1 when the program wrote what no request asked for: bytes left after
 * its last reply, or waiting in the pipe before the next request. */
static int unasked_output(ext_program *pr)
{
    char c;
    if (pr->len > 0)
        return 1;
    ssize_t n;
    while ((n = read(pr->from_fd, &c, 1)) < 0 && errno == EINTR)
        continue;
    return n > 0; /* 0 (its end) is seen when its reply is read */
}

/* The request in w->req to the role's program, its reply parsed. */
static int exchange(ext_worker *w, ext_role role, ext_kind kind,
                    uint32_t count, double *answers, int32_t *status,
                    uint64_t *ids, uint32_t *n_ids)
{
    ext_program *pr = &w->prog[role];
    if (w->req_failed)
        return fail(w, pr, "out of memory building a %s request",
                    ext_kind_name(kind));
    if (unasked_output(pr)) {
        discard(pr);
        return fail(w, pr, "wrote output no request asked for, before this "
                    "%s request (killed)", ext_kind_name(kind));
    }
    double deadline = w->cfg->timeout > 0 ? now_seconds() + w->cfg->timeout
                                          : 0;
    size_t line = 0;
    if (send_request(w, pr, kind, deadline) != 0 ||
        read_reply(w, pr, kind, deadline, &line) != 0)
        return -1;
    unsigned long long number = ++pr->requests;
    char why[512];
    ext_reply_status rc = ext_reply_parse(kind, pr->buf, line, count, answers,
                                          status, ids, n_ids, why,
                                          sizeof why);
    consume(pr, line);
    if (rc == EXT_REPLY_REFUSED)
        return fail(w, pr, "refused the %s request: %s", ext_kind_name(kind),
                    why);
    if (rc == EXT_REPLY_OK && pr->len > 0) {
        rc = EXT_REPLY_BAD;
        snprintf(why, sizeof why, "more than one line");
    }
    if (rc != EXT_REPLY_OK) {
        discard(pr);
        return fail(w, pr, "reply to request %llu (%s): %s (killed)", number,
                    ext_kind_name(kind), why);
    }
    return 0;
}

/* ---- building requests ---- */

static void req_add(ext_worker *w, const char *s, size_t n)
{
    if (w->req_failed)
        return;
    if (w->req_cap - w->req_len < n + 1) {
        size_t want = w->req_cap ? w->req_cap : 4096;
        while (want - w->req_len < n + 1)
            want *= 2;
        char *grown = realloc(w->req, want);
        if (grown == NULL) {
            w->req_failed = 1;
            return;
        }
        w->req = grown;
        w->req_cap = want;
    }
    memcpy(w->req + w->req_len, s, n);
    w->req_len += n;
    w->req[w->req_len] = '\0';
}

static void req_str(ext_worker *w, const char *s)
{
    req_add(w, s, strlen(s));
}

static void req_u64(ext_worker *w, uint64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    req_str(w, num);
}

/* A JSON string; NULL out of memory. The caller frees it. */
static char *json_quote(const char *s)
{
    json_t *j = json_string(s);
    char *q = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(j);
    return q;
}

/* The head every request shares; the episode itself the first time this
 * program hears of it. Its line's carriage returns (whitespace in JSON:
 * a string cannot hold one raw) become spaces, so that a reader that
 * splits lines at '\r' too reads one line. */
static void req_begin(ext_worker *w, ext_program *pr, ext_kind kind)
{
    w->req_len = 0;
    w->req_failed = 0;
    req_str(w, "{\"protocol\":\"" EXT_PROTOCOL "\",\"request\":\"");
    req_str(w, ext_kind_name(kind));
    req_str(w, "\",\"ref\":");
    char *ref = json_quote(w->where);
    if (ref == NULL)
        w->req_failed = 1;
    else
        req_str(w, ref);
    free(ref);
    if (pr->episode_sent != w->episode) {
        req_str(w, ",\"episode\":");
        size_t start = w->req_len;
        req_add(w, w->text, w->text_len);
        for (size_t k = start; !w->req_failed && k < w->req_len; k++)
            if (w->req[k] == '\r' || w->req[k] == '\n')
                w->req[k] = ' ';
    }
}

static void req_u32_array(ext_worker *w, const char *key, const uint32_t *v,
                          uint32_t count)
{
    req_str(w, ",\"");
    req_str(w, key);
    req_str(w, "\":[");
    for (uint32_t k = 0; k < count; k++) {
        if (k > 0)
            req_str(w, ",");
        req_u64(w, v[k]);
    }
    req_str(w, "]");
}

static void req_end(ext_worker *w)
{
    req_str(w, "}\n");
}

/* Starts the program when it is not running, then sends and reads; the
 * program is told the episode once (again after a restart). */
static int ask(ext_worker *w, ext_role role, ext_kind kind, uint32_t count,
               double *answers, int32_t *status, uint64_t *ids,
               uint32_t *n_ids)
{
    ext_program *pr = &w->prog[role];
    req_end(w);
    if (pr->pid == 0 && start(w, pr) != 0)
        return -1;
    int rc = exchange(w, role, kind, count, answers, status, ids, n_ids);
    if (rc == 0 || pr->pid != 0)
        pr->episode_sent = w->episode;
    return rc;
}

/* The agents' names as JSON strings, by agent index. */
static int agent_names(ext_worker *w, ext_program *pr)
{
    if (w->agent_json != NULL)
        return 0;
    uint32_t parts = 0, agents = 0;
    if (ac_episode_counts(w->ep, &parts, &agents, NULL) != AC_OK ||
        (w->agent_json = calloc(agents ? agents : 1, sizeof(char *))) == NULL)
        return fail(w, pr, "out of memory listing the agents");
    w->agents = agents;
    for (uint32_t p = 0; p < parts; p++) {
        const char *name = NULL;
        uint32_t a = 0;
        if (ac_episode_agent_of(w->ep, p, &a) != AC_OK || a >= agents ||
            ac_episode_participant(w->ep, p, &name, NULL) != AC_OK)
            continue;
        if ((w->agent_json[a] = json_quote(name)) == NULL)
            return fail(w, pr, "out of memory listing the agents");
    }
    for (uint32_t a = 0; a < agents; a++)
        if (w->agent_json[a] == NULL)
            return fail(w, pr, "agent %u has no name", a);
    return 0;
}

/* ---- the pipeline's callbacks ---- */

static int oracle_cb(void *user, const uint64_t *coalitions, uint32_t words,
                     uint32_t count, double *values, int32_t *status)
{
    ext_worker *w = user;
    ext_program *pr = &w->prog[EXT_ORACLE];
    if (agent_names(w, pr) != 0)
        return -1;
    req_begin(w, pr, EXT_VALUES);
    req_str(w, ",\"coalitions\":[");
    for (uint32_t k = 0; k < count; k++) {
        const uint64_t *c = coalitions + (size_t)k * words;
        req_str(w, k > 0 ? ",[" : "[");
        int first = 1;
        for (uint32_t a = 0; a < w->agents && a < 64u * words; a++)
            if ((c[a / 64] >> (a % 64)) & 1u) {
                req_str(w, first ? "" : ",");
                req_str(w, w->agent_json[a]);
                first = 0;
            }
        req_str(w, "]");
    }
    req_str(w, "]");
    return ask(w, EXT_ORACLE, EXT_VALUES, count, values, status, NULL, NULL);
}

static int verifier_cb(void *user, const uint32_t *prefixes, uint32_t count,
                       double *p_on_track, int32_t *status)
{
    ext_worker *w = user;
    req_begin(w, &w->prog[EXT_VERIFIER], EXT_VERDICTS);
    req_u32_array(w, "prefixes", prefixes, count);
    return ask(w, EXT_VERIFIER, EXT_VERDICTS, count, p_on_track, status, NULL,
               NULL);
}

static int scorer_cb(void *user, const uint32_t *messages, uint32_t count,
                     double *labels, int32_t *status)
{
    ext_worker *w = user;
    req_begin(w, &w->prog[EXT_SCORER], EXT_LABELS);
    req_u32_array(w, "messages", messages, count);
    return ask(w, EXT_SCORER, EXT_LABELS, count, labels, status, NULL, NULL);
}

static int repair_cb(void *user, uint32_t step, uint32_t max_count,
                     uint64_t *candidates, uint32_t *count)
{
    ext_worker *w = user;
    req_begin(w, &w->prog[EXT_REPAIRER], EXT_REPAIR);
    req_str(w, ",\"message\":");
    req_u64(w, step);
    req_str(w, ",\"max\":");
    req_u64(w, max_count);
    *count = 0;
    return ask(w, EXT_REPAIRER, EXT_REPAIR, max_count, NULL, NULL, candidates,
               count);
}

static int check_cb(void *user, uint32_t step, const uint64_t *candidates,
                    uint32_t count, double *p_on_track, int32_t *status)
{
    ext_worker *w = user;
    req_begin(w, &w->prog[EXT_REPAIRER], EXT_CHECK);
    req_str(w, ",\"message\":");
    req_u64(w, step);
    req_str(w, ",\"candidates\":[");
    for (uint32_t k = 0; k < count; k++) {
        req_str(w, k > 0 ? "," : "");
        req_u64(w, candidates[k]);
    }
    req_str(w, "]");
    return ask(w, EXT_REPAIRER, EXT_CHECK, count, p_on_track, status, NULL,
               NULL);
}

/* ---- the worker ---- */

void ext_worker_init(ext_worker *w, const ext_config *cfg)
{
    memset(w, 0, sizeof *w);
    w->cfg = cfg;
    for (int r = 0; r < EXT_ROLES; r++) {
        program_reset(&w->prog[r]);
        w->prog[r].cmd = cfg->cmd[r];
        w->prog[r].option = role_options[r];
    }
}

int ext_worker_attach(ext_worker *w, ac_pipeline *p)
{
    const ext_config *c = w->cfg;
    int rc = AC_OK;
    if (c->cmd[EXT_ORACLE] != NULL)
        rc = ac_pipeline_set_oracle(p, oracle_cb, w);
    if (rc == AC_OK && c->cmd[EXT_VERIFIER] != NULL)
        rc = ac_pipeline_set_verifier(p, verifier_cb, w);
    if (rc == AC_OK && c->cmd[EXT_SCORER] != NULL)
        rc = ac_pipeline_set_scorer(p, scorer_cb, w);
    if (rc == AC_OK && c->cmd[EXT_REPAIRER] != NULL)
        rc = ac_pipeline_set_repair(p, repair_cb, check_cb, w);
    return rc;
}

void ext_worker_begin(ext_worker *w, const char *where, const char *text,
                      size_t len, const ac_episode *ep)
{
    w->where = where;
    w->text = text;
    w->text_len = len;
    w->ep = ep;
    w->episode++;
    w->error[0] = '\0';
}

const char *ext_worker_error(const ext_worker *w)
{
    return w->error;
}

void ext_worker_end(ext_worker *w)
{
    for (uint32_t a = 0; w->agent_json != NULL && a < w->agents; a++)
        free(w->agent_json[a]);
    free(w->agent_json);
    w->agent_json = NULL;
    w->agents = 0;
    w->ep = NULL;
}

/* Its stdin closed, a program has END_GRACE_SECONDS (or the timeout, when
 * longer) to end; past that it is killed. */
static void end_program(ext_program *pr, double timeout, FILE *err)
{
    if (pr->pid == 0)
        return;
    close_fds(pr);
    int status = 0;
    double grace = timeout > END_GRACE_SECONDS ? timeout : END_GRACE_SECONDS;
    char how[128];
    if (reap_within(pr->pid, grace, &status)) {
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            describe_status(status, how, sizeof how);
            fprintf(err, "agentcredit: %s '%s': at the end the program %s\n",
                    pr->option, pr->cmd, how);
        }
    } else {
        kill_and_reap(pr->pid);
        fprintf(err, "agentcredit: %s '%s': the program did not end within "
                "%g s of its stdin's end (killed)\n", pr->option, pr->cmd,
                grace);
    }
    program_reset(pr);
}

void ext_worker_close(ext_worker *w, FILE *err)
{
    for (int r = 0; r < EXT_ROLES; r++) {
        end_program(&w->prog[r], w->cfg->timeout, err);
        free(w->prog[r].buf);
        w->prog[r].buf = NULL;
        w->prog[r].cap = 0;
    }
    ext_worker_end(w);
    free(w->req);
    w->req = NULL;
    w->req_cap = w->req_len = 0;
}
