/* Reference games: the handle shared by the parser (game_json.c), the value
 * function and oracle (game.c) and the exact values (game_exact.c). */
#ifndef AC_GAME_INTERNAL_H
#define AC_GAME_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "agentcredit.h"
#include "common/alloc.h"
#include "common/errors.h"
#include "common/rng.h"

enum { AC__GAME_VALUES, AC__GAME_TERMS, AC__GAME_AIRPORT, AC__GAME_VOTING };
enum { AC__NOISE_NONE, AC__NOISE_GAUSSIAN, AC__NOISE_BERNOULLI };

/* A value table is read from JSON only for small n (2^n numbers). */
#define AC__GAME_TABLE_MAX_PLAYERS 24u

/* The defaults of ac_game_limits (documented in agentcredit.h). */
#define AC__GAME_DEFAULT_MAX_BYTES ((uint64_t)16 << 20)
#define AC__GAME_DEFAULT_MAX_MEMORY ((uint64_t)64 << 20)
#define AC__GAME_DEFAULT_MAX_EXACT_WORK ((uint64_t)1 << 27)

struct ac_game {
    ac__mem mem;
    ac_game_limits limits; /* resolved: no field 0                   */
    uint64_t held;         /* bytes the game holds (max_memory)      */
    uint64_t loading;      /* bytes the load holds besides: text and
                              parse tree, 0 once loaded               */
    uint32_t n, words;
    int kind;
    double *values; /* VALUES: 2^n                                     */
    /* TERMS: term t has coefficient coefs[t] and the members
     * members[term_start[t] .. term_start[t + 1] - 1]. A list, not a
     * bitset of n bits per term, so that the game is as large as its
     * text (an empty term of a 65536-player game is 16 bytes, not 8 KiB). */
    uint32_t n_terms;
    uint64_t n_members;
    double *coefs;
    uint64_t *term_start;
    uint32_t *members;
    double *numbers; /* AIRPORT: costs; VOTING: weights (n each)        */
    double quota;    /* VOTING                                          */
    double *exact;   /* n, or NULL                                      */
    int noise;
    double noise_sd;
    ac__rng rng;
    /* The last error message. Reached through a pointer so that the
     * read-only calls, which take a const handle, may still explain a
     * refusal (SQLite's errmsg does the same). */
    char *err;
    char err_store[AC__ERRMSG_CAP];
};

/* Copies *limits with 0 fields replaced by the defaults (NULL: all the
 * defaults). AC_E_INVALID_ARG (message in err) when it is malformed. */
int ac__game_limits_resolve(ac_game_limits *out, const ac_game_limits *limits,
                            char *err);
/* AC_OK when `bytes` more, on top of `in_use`, stay within max_memory;
 * else AC_E_TOO_LARGE with a message in err naming the limit and `what`
 * the bytes are for. */
int ac__game_check_memory(const ac_game_limits *limits, char *err,
                          uint64_t in_use, uint64_t bytes, const char *what);
/* count * size bytes held by the game (g->held grows), checked against
 * max_memory first. NULL with *rc and g->err set on failure. */
void *ac__game_alloc(ac_game *g, size_t count, size_t size, int zero,
                     const char *what, int *rc);
/* "12345 bytes (1.2 MiB)" into buf. */
const char *ac__game_bytes(char *buf, size_t cap, uint64_t bytes);

/* Allocates an empty game of n players (fields zero) holding its own size. */
int ac__game_new(ac_game **out, const ac__mem *mem,
                 const ac_game_limits *limits, uint32_t n);
double ac__game_value(const ac_game *g, const uint64_t *coalition);

#endif
