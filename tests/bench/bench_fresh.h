/* Fresh instances of the benchmark's game families (bench_shapley
 * --fresh SEED): generated from a seed, with other sizes, weight, cost and
 * probability ranges than the committed tests/bench/games, so that a
 * method tuned to the committed instances shows. Each is the JSON text of
 * the game format (ac_game_load_json), with "exact" computed here,
 * independently of the library: the closed forms of sums of unanimity
 * games and airport games, an exact counting programme for weighted voting,
 * the Shapley formula over the value table for the team games. */
#ifndef AC_BENCH_FRESH_H
#define AC_BENCH_FRESH_H

#include <stddef.h>
#include <stdint.h>

typedef struct fresh_game {
    char name[32]; /* the family and size: "voting_n30" */
    char *json;    /* malloc'd, NUL-terminated */
} fresh_game;

/* Every family's fresh instances from seed (quick: the small ones only);
 * *count of them. The caller frees them with fresh_games_free. */
fresh_game *fresh_games(uint64_t seed, int quick, size_t *count);
void fresh_games_free(fresh_game *games, size_t count);

#endif
