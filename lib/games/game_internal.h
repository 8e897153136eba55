/* Reference games: the handle shared by the parser (game_json.c), the value
 * function and oracle (game.c) and the exact values (game_exact.c). */
#ifndef AC_GAME_INTERNAL_H
#define AC_GAME_INTERNAL_H

#include <stdint.h>

#include "agentcredit.h"
#include "common/alloc.h"
#include "common/errors.h"
#include "common/rng.h"

enum { AC__GAME_VALUES, AC__GAME_TERMS, AC__GAME_AIRPORT, AC__GAME_VOTING };
enum { AC__NOISE_NONE, AC__NOISE_GAUSSIAN, AC__NOISE_BERNOULLI };

/* A value table is read from JSON only for small n (2^n numbers). */
#define AC__GAME_TABLE_MAX_PLAYERS 24u

struct ac_game {
    ac__mem mem;
    uint32_t n, words;
    int kind;
    double *values;      /* VALUES: 2^n                               */
    uint32_t n_terms;    /* TERMS                                     */
    double *coefs;       /* n_terms                                   */
    uint64_t *term_sets; /* n_terms * words                           */
    double *numbers;     /* AIRPORT: costs; VOTING: weights (n each)  */
    double quota;        /* VOTING                                    */
    double *exact;       /* n, or NULL                                */
    int noise;
    double noise_sd;
    ac__rng rng;
    /* The last error message. Reached through a pointer so that the
     * read-only calls, which take a const handle, may still explain a
     * refusal (SQLite's errmsg does the same). */
    char *err;
    char err_store[AC__ERRMSG_CAP];
};

/* Allocates an empty game of n players (fields zero). */
int ac__game_new(ac_game **out, const ac__mem *mem, uint32_t n);
double ac__game_value(const ac_game *g, const uint64_t *coalition);

#endif
