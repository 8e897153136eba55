/* SPDX-License-Identifier: MIT
 * agentcredit signals: the reply lines of the external programs
 * (--oracle-cmd, --verifier-cmd, --scorer-cmd, --repair-cmd), protocol
 * "agentcredit.work/1" (docs/cli.md, "External programs").
 *
 * A reply is one JSON object on one line: {"answers": [...]} for values,
 * verdicts, labels and checks, {"candidates": [...]} for a repair, or
 * {"error": "..."} when the program refuses the whole request. The parser
 * keeps no state and touches nothing but its arguments, so that a fuzz
 * target (tests/fuzz/fuzz_external_reply.c) can call it as signals does. */
#ifndef AGENTCREDIT_CLI_EXTERNAL_REPLY_H
#define AGENTCREDIT_CLI_EXTERNAL_REPLY_H

#include <stddef.h>
#include <stdint.h>

#define EXT_PROTOCOL "agentcredit.work/1"

/* The kinds of request, each answered by one reply line. */
typedef enum ext_kind {
    EXT_VALUES = 0,   /* the oracle: coalition values, any finite number   */
    EXT_VERDICTS = 1, /* the verifier: p_on_track of prefixes, in [0, 1]    */
    EXT_LABELS = 2,   /* the scorer: message labels, in [-1, 1]             */
    EXT_REPAIR = 3,   /* the repair: up to `max` candidate ids              */
    EXT_CHECK = 4     /* the repair's check: p_on_track of candidates, [0, 1] */
} ext_kind;
#define EXT_KINDS 5

/* The request's name on the wire ("values", "verdicts", ...). */
const char *ext_kind_name(ext_kind kind);

/* What ext_reply_parse returns. */
typedef enum ext_reply_status {
    EXT_REPLY_OK = 0,      /* the answers (or candidates) are written     */
    EXT_REPLY_REFUSED = 1, /* {"error": "..."}: the message is in why     */
    EXT_REPLY_BAD = 2      /* not a reply to this request: why says what  */
} ext_reply_status;

/* Parses one reply line (len bytes, need not be NUL-terminated) to a
 * request of `kind` for `count` answers (for EXT_REPAIR: at most `count`
 * candidates).
 * Answers: answers[k] the number, status[k] 0; a null answer is a failed
 * one, answers[k] NaN and status[k] 1 (the library asks it again). Every
 * number must be in the kind's range; the array exactly `count` long.
 * Candidates: ids[0 .. *n_ids) non-negative integers below 2^63.
 * Unknown keys are refused (a misspelt "answer" would otherwise read as
 * no answer). On EXT_REPLY_REFUSED and EXT_REPLY_BAD, why (NUL-terminated,
 * truncated to why_cap) says what; answers, status and ids may then be
 * partly written. */
ext_reply_status ext_reply_parse(ext_kind kind, const char *text, size_t len,
                                 uint32_t count, double *answers,
                                 int32_t *status, uint64_t *ids,
                                 uint32_t *n_ids, char *why, size_t why_cap);

#endif
