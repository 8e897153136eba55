/* SPDX-License-Identifier: MIT
 *
 * The signals JSON parser (ac_signals_load_json) on any bytes. A load
 * either fails with a documented status and a message, leaving *out
 * alone and no warning behind, or gives signals that round-trip: written
 * and read back (strict, without a warning) they write the same text
 * again, and every getter answers for the counts the signals say.
 * Message and warning buffers are written within their capacity and
 * terminated.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

enum { ERR_ROOM = 320, WARN_ROOM = 200 };

static char *write_signals(const ac_signals *s)
{
    size_t len = 0;
    FZ_CHECK(ac_signals_write_json(s, NULL, 0, &len) == AC_OK, "write");
    char *buf = malloc(len + 1);
    FZ_CHECK(buf != NULL, "memory");
    size_t again = 0;
    FZ_CHECK(ac_signals_write_json(s, buf, len + 1, &again) == AC_OK &&
                 again == len && strlen(buf) == len, "write");
    return buf;
}

/* The getters answer for the counts, and refuse one more. */
static void check_getters(const ac_signals *s)
{
    uint32_t n = 0, T = 0;
    FZ_CHECK(ac_signals_counts(s, &n, &T) == AC_OK, "counts");
    double *d = malloc(((size_t)n + T + 2) * 2 * sizeof *d);
    uint32_t *u = malloc(((size_t)n + T + 2) * sizeof *u);
    FZ_CHECK(d != NULL && u != NULL, "memory");
    FZ_CHECK(ac_signals_credits(s, d, d + n + 1, n) == AC_OK &&
                 ac_signals_rewards(s, d, T) == AC_OK &&
                 ac_signals_labels(s, d, T) == AC_OK &&
                 ac_signals_message_flags(s, u, T) == AC_OK &&
                 ac_signals_step_flags(s, u, T) == AC_OK &&
                 ac_signals_agent_flags(s, u, n) == AC_OK,
             "a getter refuses the counts");
    FZ_CHECK(ac_signals_rewards(s, d, T + 1) == AC_E_INVALID_ARG &&
                 ac_signals_agent_flags(s, u, n + 1) == AC_E_INVALID_ARG,
             "a getter takes a wrong count");
    /* interactions: there or not, for the pairs only */
    size_t pairs = (size_t)n * (n > 0 ? n - 1 : 0) / 2;
    double *x = n <= AC_EXACT_MAX_PLAYERS
                    ? malloc(2 * (pairs + 1) * sizeof *x) : NULL;
    int rc = x != NULL ? ac_signals_interactions(s, x, x + pairs + 1, pairs)
                       : ac_signals_interactions(s, NULL, NULL, 0);
    FZ_CHECK(x != NULL ? rc == AC_OK || rc == AC_E_STATE
                       : rc == AC_E_INVALID_ARG || rc == AC_E_STATE,
             "interactions: %d", rc);
    if (x != NULL)
        FZ_CHECK(ac_signals_interactions(s, x, NULL, pairs + 1) ==
                     AC_E_INVALID_ARG, "interactions of a wrong count");
    free(x);
    for (uint32_t a = 0; a < n; a++)
        FZ_CHECK(ac_signals_agent_name(s, a) != NULL, "agent %u's name", a);
    for (uint32_t t = 0; t < T; t++) {
        const char *name = NULL;
        uint32_t agent = 0;
        FZ_CHECK(ac_signals_message_from(s, t, &name, &agent) == AC_OK &&
                     name != NULL &&
                     (agent == UINT32_MAX ||
                      strcmp(name, ac_signals_agent_name(s, agent)) == 0),
                 "message %u's sender", t);
    }
    free(d);
    free(u);
}

static void check_round_trip(const ac_signals *s)
{
    char *text = write_signals(s);
    ac_signals *back = NULL;
    char err[ERR_ROOM], warn[WARN_ROOM];
    int rc = ac_signals_load_json(&back, text, strlen(text), NULL, NULL,
                                  AC_JSON_STRICT, err, sizeof err, warn,
                                  sizeof warn);
    FZ_CHECK(rc == AC_OK && warn[0] == '\0',
             "what the writer wrote does not load: %s\n%s", err, text);
    char *again = write_signals(back);
    FZ_CHECK(strcmp(text, again) == 0, "round trip:\n%s\n%s", text, again);
    free(again);
    free(text);
    ac_signals_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t flags = size > 0 && (data[size - 1] & 1u) ? AC_JSON_STRICT : 0;
    ac_signals *s = (ac_signals *)&flags; /* must stay untouched */
    char err[ERR_ROOM + 1], warn[WARN_ROOM + 1];
    err[ERR_ROOM] = warn[WARN_ROOM] = 'X';
    int rc = ac_signals_load_json(&s, (const char *)data, size, NULL, NULL,
                                  flags, err, ERR_ROOM, warn, WARN_ROOM);
    FZ_CHECK(err[ERR_ROOM] == 'X' && warn[WARN_ROOM] == 'X' &&
                 memchr(err, '\0', ERR_ROOM) && memchr(warn, '\0', WARN_ROOM),
             "a buffer overrun");
    if (rc != AC_OK) {
        FZ_CHECK(rc == AC_E_PARSE || rc == AC_E_TOO_LARGE ||
                     rc == AC_E_NO_MEMORY,
                 "load = %s: %s", ac_status_name(rc), err);
        FZ_CHECK(s == (ac_signals *)&flags, "*out changed on failure");
        FZ_CHECK(err[0] != '\0' && warn[0] == '\0', "messages on failure");
        return 0;
    }
    FZ_CHECK(err[0] == '\0', "a message on success: %s", err);
    check_getters(s);
    check_round_trip(s);
    ac_signals_free(s);
    return 0;
}
