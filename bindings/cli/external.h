/* SPDX-License-Identifier: MIT
 * agentcredit signals: external programs as the pipeline's oracle,
 * verifier, scorer and repair (--oracle-cmd, --verifier-cmd, --scorer-cmd,
 * --repair-cmd), protocol "agentcredit.work/1" (docs/cli.md, "External
 * programs").
 *
 * Each pipeline callback call is one batch: one request line to the
 * program's stdin, one reply line from its stdout (external_reply.c reads
 * it). Each worker thread has its own ext_worker and so its own children,
 * one per command, started on the first request (/bin/sh -c COMMAND, in a
 * process group of its own) and fed through pipes. A program that dies,
 * closes its stdout, hangs past the timeout or answers what is not a reply
 * fails the episode with a message naming the command; it is killed and
 * started again for the next episode. A refusal ({"error": ...}) fails the
 * episode and keeps the program. */
#ifndef AGENTCREDIT_CLI_EXTERNAL_H
#define AGENTCREDIT_CLI_EXTERNAL_H

#include "external_reply.h"

#include <agentcredit.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* The programs' roles, each an option of signals. */
typedef enum ext_role {
    EXT_ORACLE = 0,
    EXT_VERIFIER = 1,
    EXT_SCORER = 2,
    EXT_REPAIRER = 3
} ext_role;
#define EXT_ROLES 4

/* "--oracle-cmd", ... */
const char *ext_role_option(ext_role role);

typedef struct ext_config {
    const char *cmd[EXT_ROLES]; /* NULL: no program for that role         */
    double timeout;             /* seconds a request may take; 0: no limit */
    uint64_t max_reply;         /* longest reply line, in bytes            */
} ext_config;

/* 1 when any role has a program. */
int ext_config_any(const ext_config *cfg);

/* One running program (pid 0: not started). */
typedef struct ext_program {
    const char *cmd, *option;
    pid_t pid;
    int to_fd, from_fd;
    char *buf; /* what it wrote and was not read yet */
    size_t len, cap;
    uint64_t requests;     /* requests since it started           */
    uint64_t episode_sent; /* the worker's episode it was last sent */
} ext_program;

/* One thread's programs and the episode its pipeline is running. */
typedef struct ext_worker {
    const ext_config *cfg;
    ext_program prog[EXT_ROLES];
    /* the current episode */
    const char *where, *text; /* its "FILE:LINE" and its JSON line */
    size_t text_len;
    const ac_episode *ep;
    uint64_t episode; /* counts the episodes this worker began */
    char **agent_json; /* the agents' names as JSON strings, made lazily */
    uint32_t agents;
    /* the request being built */
    char *req;
    size_t req_len, req_cap;
    int req_failed; /* out of memory while building it */
    char error[1024]; /* why the last callback failed; "" if none */
} ext_worker;

void ext_worker_init(ext_worker *w, const ext_config *cfg);
/* Sets the pipeline's callbacks for every role that has a program. */
int ext_worker_attach(ext_worker *w, ac_pipeline *p);
/* Before each run: the episode (its where, line and handle stay alive
 * until ext_worker_end). */
void ext_worker_begin(ext_worker *w, const char *where, const char *text,
                      size_t len, const ac_episode *ep);
/* Why a callback failed this episode ("" when none did). */
const char *ext_worker_error(const ext_worker *w);
void ext_worker_end(ext_worker *w);
/* Ends every program: stdin closed, waited for (killed when it does not
 * end in time), reaped; a program that ended badly is reported to err. */
void ext_worker_close(ext_worker *w, FILE *err);

#endif
