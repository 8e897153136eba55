/* SPDX-License-Identifier: MIT
 *
 * agentcredit: evaluation-aligned training signals for multi-LLM-agent teams.
 *
 * The one public header, and the manual: read it top to bottom. Everything
 * the shared library exports is declared here, starts with ac_ (types,
 * functions) or AC_ (macros, enumerators), and is listed in
 * lib/agentcredit.map.
 *
 * Three objects do the work, each an opaque handle with the same life:
 *   ac_estimator  Shapley credit per agent from a coalition value oracle
 *   ac_refiner    per-message rewards that add up to each agent's credit
 *   ac_localizer  the first erroneous message of a failed episode, blame
 *                 labels and repair-aware preference pairs
 * and ac_game reads reference games (JSON) for tests and benchmarks.
 *
 * Names. Every value set is a typed enum, and every enumerator is AC_, then
 * its type's name without ac_ (and without a final _key), then the member:
 * AC_ESTIMATOR_PARAM_BUDGET is a key of ac_estimator_param,
 * AC_LOCALIZER_AUDIT_EVALUATIONS a key of ac_localizer_audit_key,
 * AC_STRATEGY_BISECTION a value of ac_strategy. The one exception is
 * ac_status: AC_OK and AC_E_<reason>, as errno's E. The Python package
 * names the same sets as classes (EstimatorParam.BUDGET).
 *
 * Conventions that hold for every function below unless its comment says
 * otherwise:
 *
 *  - Fallible functions return int: AC_OK (0) or a negative ac_status, and
 *    are AC_NODISCARD. A non-OK return means no new result: the call
 *    changed nothing, or a call that drives a run (ask, tell, run) ended
 *    the run failed, without a result. ac_strerror() turns any status into a
 *    static English sentence; the handle's *_last_error() gives the detailed
 *    message of its last failure, naming what was wrong.
 *  - Handles are created by ac_<object>_create() and released by
 *    ac_<object>_free(), which accepts NULL.
 *  - Pointers passed in are borrowed for the duration of the call; whatever
 *    the library keeps, it copies. Pointers returned are owned by the library
 *    and stay valid as documented.
 *  - A handle is not thread-safe: use it from one thread at a time (it may
 *    move between threads). Different handles never share mutable state, so
 *    N threads with N handles need no locking. The exceptions are named:
 *    ac_<object>_cancel() may be called from any thread.
 *  - Only fixed-width scalars and pointers cross the boundary; no struct is
 *    passed by value, so ctypes and other FFIs can call everything.
 *  - On failure, outputs are left untouched unless stated.
 *
 * The run (every object the same way). A handle is idle after create and
 * after ac_<object>_reset(AC_RESET_SESSION). Parameters (set_int/_f64) and
 * inputs (set_value, set_authors, set_labels, ...) change only while it is
 * idle: later they return AC_E_STATE, because a result must be the result
 * of the inputs it reports. The first ask (or run) starts the run; one
 * that cannot start it (an input missing, a budget too small for what the
 * run needs first) returns why and leaves the handle idle, so the host can
 * mend the input and ask again. The run ends done (the result is ready)
 * or failed (no result; every later ask, tell and run returns the run's
 * error, a later cancel included) until the next AC_RESET_SESSION.
 * Anything partial that is still worth reading is a success with the audit
 * saying what was left out, never an error that leaves a result behind.
 *
 * Reset. ac_<object>_reset(what) takes AC_RESET_* flags: SESSION forgets
 * the run (tickets, results, audit, error, a cancellation) and is always
 * allowed; PARAMS restores the defaults and KNOWN forgets the inputs, each
 * allowed while idle or together with SESSION (AC_E_STATE otherwise). Flags
 * are checked before anything is reset.
 *
 * Ask/tell. A host that evaluates elsewhere (a cluster, an async pool)
 * drives a run itself:
 *   ask(h, max_count, tickets, <payloads>, &count)  hands out up to
 *       max_count pieces of work: tickets[k] and its payload (a coalition,
 *       a message to score, a prefix to verify). count 0 means the run is
 *       done (see progress) or waits for outstanding tells.
 *   tell(h, count, tickets, values, status)  takes answers back by ticket,
 *       in any order and any grouping. The call is checked whole before any
 *       of it is taken: a ticket never handed out, from before a reset
 *       (stale), already told, or twice in the call is AC_E_INVALID_ARG and
 *       nothing is taken. With no run waiting (idle, done) tell is
 *       AC_E_STATE.
 *   progress(h, &done, &outstanding)  done is 1 once the run has ended
 *       (done or failed), outstanding counts the tickets the run still
 *       waits for: 0 once it has ended (a ticket handed out and never told
 *       back before the end can no longer be told).
 * Tickets are 64-bit numbers never reused by a handle, so a late answer
 * from before a reset can never be taken for a new question. ac_<object>
 * _run() is a loop over the same ask/tell with the host's callback.
 *
 * The answer rule (every callback and every tell): an answer has failed
 * when its status is non-zero or its value is not finite (NaN, infinity);
 * a failed answer is asked again under a new ticket, up to the object's
 * MAX_RETRIES parameter, and never read as a number; past the retries the
 * run fails with AC_E_ORACLE. A finite value outside the object's documented
 * range is the host's error: the tell is AC_E_INVALID_ARG, names the value
 * in last_error, and takes nothing. A callback that returns non-zero ends
 * the run with AC_E_CALLBACK. Where a run can do without an answer, its
 * function says so: the estimator leaves out a sampled coalition the budget
 * cannot retry (AC_ESTIMATOR_AUDIT_DROPPED), and the localizer's corrective
 * scan ends inside a successful run (AC_LOCALIZER_AUDIT_SCAN_STOPPED).
 */
#ifndef AGENTCREDIT_H
#define AGENTCREDIT_H

#include <stddef.h>
#include <stdint.h>

/* AC_API marks what the shared library exports. A host that builds the
 * library into its own binary (or needs another attribute) defines it before
 * including this header. */
#ifndef AC_API
#  if defined(_WIN32) || defined(__CYGWIN__)
#    if defined(AC_BUILDING_LIBRARY)
#      define AC_API __declspec(dllexport)
#    elif defined(AC_STATIC)
#      define AC_API
#    else
#      define AC_API __declspec(dllimport)
#    endif
#  elif defined(__GNUC__) && __GNUC__ >= 4
#    define AC_API __attribute__((visibility("default")))
#  else
#    define AC_API
#  endif
#endif

/* AC_NODISCARD is on every function that returns a status: ignoring one is
 * how a failed call goes unnoticed. A host that must (an old compiler, a
 * wrapper generator) defines AC_NODISCARD empty before including this
 * header. */
#ifndef AC_NODISCARD
#  if defined(__GNUC__) && __GNUC__ >= 4
/* The GNU attribute, not C++17's [[nodiscard]]: a standard attribute may
 * not follow AC_API's __attribute__ in a declaration (clang refuses it). */
#    define AC_NODISCARD __attribute__((warn_unused_result))
#  elif defined(_MSC_VER)
#    include <sal.h>
#    define AC_NODISCARD _Check_return_
#  else
#    define AC_NODISCARD
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ===================================================================== */
/* Version                                                               */
/* ===================================================================== */

/* The one place the version is written: meson.build reads these three
 * lines and AC_ABI_VERSION, and the pkg-config file, the shared library's
 * name and the Python package's __version__ follow from them. */
#define AC_VERSION_MAJOR 1
#define AC_VERSION_MINOR 1
#define AC_VERSION_PATCH 0
#define AC__STRINGIFY_(x) #x
#define AC__STRINGIFY(x) AC__STRINGIFY_(x)
#define AC_VERSION_STRING                                                    \
    AC__STRINGIFY(AC_VERSION_MAJOR) "." AC__STRINGIFY(AC_VERSION_MINOR) "."  \
    AC__STRINGIFY(AC_VERSION_PATCH)
/* MAJOR*10000 + MINOR*100 + PATCH, for #if comparisons. */
#define AC_VERSION_NUMBER \
    (AC_VERSION_MAJOR * 10000 + AC_VERSION_MINOR * 100 + AC_VERSION_PATCH)
/* The SONAME major: libagentcredit.so.<AC_ABI_VERSION>. Bumped only by an
 * incompatible ABI change. */
#define AC_ABI_VERSION 1

/* AC_VERSION_NUMBER of the library actually loaded (may differ from the
 * header the caller was compiled with). Thread-safe. */
AC_API uint32_t ac_version_number(void);
/* "MAJOR.MINOR.PATCH" of the loaded library; static storage. Thread-safe. */
AC_API const char *ac_version_string(void);
/* AC_ABI_VERSION of the loaded library. Bindings refuse to run when it is not
 * the one they were written for. Thread-safe. */
AC_API uint32_t ac_abi_version(void);

/* ===================================================================== */
/* Status codes. The values are ABI: never renumbered.                   */
/* ===================================================================== */

typedef enum ac_status {
    AC_OK = 0,
    AC_E_INVALID_ARG = -1,        /* NULL pointer, bad length, bad value     */
    AC_E_NO_MEMORY = -2,          /* an allocation failed; nothing changed   */
    AC_E_STATE = -3,              /* call not valid in the handle's state    */
    AC_E_TOO_LARGE = -4,          /* a size beyond the library's limits      */
    AC_E_PARAM_UNSUPPORTED = -10, /* unknown parameter for this object       */
    AC_E_PARAM_OUT_OF_BOUND = -11,/* value outside the parameter's bounds    */
    AC_E_CALLBACK = -20,          /* a host callback returned non-zero       */
    AC_E_ORACLE = -21,            /* evaluations failed beyond the retries   */
    AC_E_CANCELLED = -22,         /* ac_*_cancel() was called                */
    AC_E_BUSY = -23,              /* re-entrant call from inside a callback  */
    AC_E_BUDGET = -30,            /* the budget cannot pay for the request   */
    AC_E_INFEASIBLE = -31,        /* constraints that cannot all hold, and
                                     relaxing them was not allowed          */
    AC_E_PARSE = -40,             /* malformed or invalid JSON input         */
    AC_E_IO = -41                 /* a file could not be read                */
} ac_status;

/* A static English sentence for any status, known or not; never NULL.
 * Thread-safe. */
AC_API const char *ac_strerror(int status);
/* The enumerator's name ("AC_E_BUDGET"), or "AC_E_UNKNOWN"; never NULL.
 * Thread-safe. */
AC_API const char *ac_status_name(int status);

/* ===================================================================== */
/* Memory                                                                */
/* ===================================================================== */

/* Optional per-handle allocator, given at creation (NULL: malloc/free). The
 * library copies the struct; opaque is passed back untouched. alloc returns
 * NULL on failure, which the library reports as AC_E_NO_MEMORY and survives.
 * struct_size must be sizeof(ac_allocator) (forward compatibility). The
 * functions may be called from whichever thread uses the handle. JSON parsing
 * inside the library goes through jansson's own allocator, not this one. */
typedef struct ac_allocator {
    uint32_t struct_size;
    uint32_t reserved; /* must be 0 */
    void *(*alloc)(void *opaque, size_t size);
    void (*free)(void *opaque, void *ptr);
    void *opaque;
} ac_allocator;

/* ===================================================================== */
/* Every object's run                                                    */
/* ===================================================================== */

/* ac_<object>_reset() flags (see "Reset" at the top). What SESSION and
 * KNOWN cover is said for each object. */
typedef enum ac_reset {
    AC_RESET_SESSION = 1, /* forget the run                               */
    AC_RESET_PARAMS = 2,  /* parameters back to their defaults            */
    AC_RESET_KNOWN = 4,   /* forget the inputs                            */
    AC_RESET_ALL = 7
} ac_reset;

/* ===================================================================== */
/* Coalitions                                                            */
/* ===================================================================== */

/* A coalition of n players is a bitset of ac_coalition_words(n) uint64_t
 * words: player i is a member when bit (i % 64) of word (i / 64) is set.
 * Bits at or beyond n must be 0. Batches of coalitions are stored one after
 * the other, each ac_coalition_words(n) words long. */
AC_API uint32_t ac_coalition_words(uint32_t n_players);

/* The largest number of players an estimator or game accepts. */
#define AC_MAX_PLAYERS 65536u

/* ===================================================================== */
/* Exact Shapley values from a full value table                          */
/* ===================================================================== */

/* phi[i] = Shapley value of player i of the game whose values are
 * values[S] = v(S) for the bitmask S = 0 .. 2^n - 1 (bit i set: i in S).
 * len must be 2^n; n in 1..AC_EXACT_MAX_PLAYERS; values finite.
 * O(n 2^n) time, O(n^2) extra memory. sum(phi) == v(all) - v(empty) to a
 * relative 1e-12 (exactly for subnormal credits), values of any finite
 * magnitude (computed in a scaled space where they need it). phi is written only on success. Thread-safe
 * (no handle). Returns: AC_OK; AC_E_INVALID_ARG; AC_E_TOO_LARGE (n beyond
 * AC_EXACT_MAX_PLAYERS, or a credit or the total beyond what a double
 * holds). */
AC_API AC_NODISCARD int ac_shapley_exact(uint32_t n, const double *values,
                                         uint64_t len, double *phi);
#define AC_EXACT_MAX_PLAYERS 30u

/* The Shapley interaction index (Grabisch and Roubens 1999) of every pair
 * of players of the same table:
 *   I_ij = sum over S in N \ {i,j} of |S|! (n-|S|-2)! / (n-1)!
 *          [v(S+i+j) - v(S+i) - v(S+j) + v(S)],
 * in the condensed order (0,1), (0,2), ..., (0,n-1), (1,2), ... (scipy's
 * pdist order): index_len must be n(n-1)/2 (index may be NULL when it is
 * 0). Negative: the two are redundant with each other (either does what
 * both do); positive: complementary (together they do more than apart).
 * O(n^2 2^n) time, O(n^3) extra memory; values of any finite magnitude.
 * index is written only on success. Thread-safe (no handle). Returns:
 * AC_OK; AC_E_INVALID_ARG (as ac_shapley_exact, or index_len);
 * AC_E_TOO_LARGE (n beyond AC_EXACT_MAX_PLAYERS, or an index beyond what a
 * double holds); AC_E_NO_MEMORY. */
AC_API AC_NODISCARD int ac_shapley_interactions_exact(uint32_t n,
                                                      const double *values,
                                                      uint64_t len,
                                                      double *index,
                                                      size_t index_len);

/* ===================================================================== */
/* Shapley estimator over a coalition value oracle                       */
/* ===================================================================== */

typedef struct ac_estimator ac_estimator;

/* The oracle: evaluates `count` coalitions (each `words` uint64_t long, see
 * ac_coalition_words) and writes values[k] and status[k] for each.
 * Before the call the library fills values with NaN and status with 0.
 * status[k] != 0, or a NaN or infinite values[k], marks evaluation k as
 * failed: it is retried within the budget (AC_ESTIMATOR_PARAM_MAX_RETRIES) and
 * never read as a number. Return 0 to go on; any other return aborts the run
 * with AC_E_CALLBACK. The callback runs on the thread that called
 * ac_estimator_run(), must not throw or longjmp across the library, and must
 * not change the estimator that is calling it: ask, tell, run, reset,
 * set_value, set_oracle and the setters return AC_E_BUSY from inside it. The
 * read-only calls (getters, progress, audit, last_error) and
 * ac_estimator_cancel() are allowed. */
typedef int (*ac_oracle_fn)(void *user, const uint64_t *coalitions,
                            uint32_t words, uint32_t count, double *values,
                            int32_t *status);

/* Estimation methods (AC_ESTIMATOR_PARAM_METHOD). See docs/estimators.md. */
typedef enum ac_method {
    AC_METHOD_AUTO = 0,        /* the first of these the budget pays for:
                                  adaptive for a noisy oracle
                                  (AC_ESTIMATOR_PARAM_NOISY) whose whole
                                  table it pays, exact when it pays the
                                  table (not with an error target), the
                                  surrogate method (for an oracle not
                                  declared noisy) or OddSHAP while the
                                  fit fits,
                                  KernelSHAP up to AC_KERNEL_MAX_PLAYERS,
                                  permutation sampling (docs/estimators.md
                                  gives the margins) */
    AC_METHOD_EXACT = 1,       /* every coalition; n <= AC_EXACT_MAX_PLAYERS */
    AC_METHOD_PERMUTATION = 2, /* antithetic permutation sampling */
    AC_METHOD_KERNELSHAP = 3,  /* paired KernelSHAP, exact small/large sizes */
    AC_METHOD_ADAPTIVE = 4,    /* every coalition, repeated evaluations of a
                                  noisy oracle allocated where they cut the
                                  credits' variance most (learnt Neyman
                                  allocation); n <= AC_ADAPTIVE_MAX_PLAYERS;
                                  memory O(2^n), not the budget */
    AC_METHOD_ODDSHAP = 5,     /* KernelSHAP's coalitions, then a Gaussian-
                                  process fit of the game's odd part (low
                                  orders first); n <= AC_KERNEL_MAX_PLAYERS,
                                  budget <= 2 x AC_ODDSHAP_MAX_ROWS */
    AC_METHOD_SURROGATE = 6    /* KernelSHAP's coalitions, surrogate games
                                  (OddSHAP's fit, regression trees, a
                                  threshold of an additive score) plus a
                                  stratified Monte-Carlo estimate of what
                                  the one of least variance misses;
                                  OddSHAP's limits */
} ac_method;
#define AC_KERNEL_MAX_PLAYERS 512u
#define AC_ADAPTIVE_MAX_PLAYERS 20u
#define AC_ODDSHAP_MAX_ROWS 4096u

/* Estimator parameters, set with ac_estimator_set_int / _set_f64 before the
 * run starts (after it, until a reset, they return AC_E_STATE). Sticky until
 * ac_estimator_reset(AC_RESET_PARAMS). Bounds: ac_estimator_param_bounds_*. */
typedef enum ac_estimator_param {
    /* int: an ac_method. Default AC_METHOD_AUTO. */
    AC_ESTIMATOR_PARAM_METHOD = 100,
    /* int: hard cap on oracle evaluations (each repeat and retry counts one;
     * known values count none). [0, 2^40], default 2048. */
    AC_ESTIMATOR_PARAM_BUDGET = 101,
    /* int: seed of the handle's random generator. [0, INT64_MAX], default 0. */
    AC_ESTIMATOR_PARAM_SEED = 102,
    /* int: coalitions per oracle call in ac_estimator_run(), and the round
     * width the host evaluates at once. [1, 2^20], default 64. It changes
     * the result only with AC_ESTIMATOR_PARAM_TARGET_SE (checkpoints) and with
     * AC_METHOD_ADAPTIVE, which plans its phases in whole rounds of it. */
    AC_ESTIMATOR_PARAM_BATCH = 103,
    /* int: evaluations of each coalition, for a noisy oracle: their mean is
     * the value and their variance enters the standard errors. [1, 65536],
     * default 1. */
    AC_ESTIMATOR_PARAM_REPEATS = 104,
    /* int: how often one failed evaluation is retried. [0, 1000], default 2. */
    AC_ESTIMATOR_PARAM_MAX_RETRIES = 105,
    /* int: 1 declares the oracle noisy (a rollout, a sampled judge):
     * evaluating a coalition again gives a fresh, independent draw.
     * AC_METHOD_AUTO then takes AC_METHOD_ADAPTIVE when the budget pays
     * for every unknown coalition (n <= AC_ADAPTIVE_MAX_PLAYERS), and the
     * budget beyond the table goes to repeats. 0: AUTO never spends an
     * evaluation on a repeat the host did not ask for
     * (AC_ESTIMATOR_PARAM_REPEATS). [0, 1], default 0. */
    AC_ESTIMATOR_PARAM_NOISY = 106,
    /* f64: stop once every standard error is at most this (outcome
     * AC_ESTIMATOR_OUTCOME_TARGET), tested at checkpoints: the sampled
     * methods, and AC_METHOD_ADAPTIVE between its phases. AC_METHOD_EXACT
     * cannot stop early: with a target it is refused (AC_E_INVALID_ARG at
     * the start), and AUTO does not take it. 0 turns it off. [0, 1e300],
     * default 0. */
    AC_ESTIMATOR_PARAM_TARGET_SE = 110,
    /* int: 1 computes the interaction index of every pair of players from
     * the same evaluations as the credits (ac_estimator_interactions): an
     * O(n^2 2^n) pass over the whole table at the end, so it is asked
     * for. It needs every coalition: AC_METHOD_EXACT and
     * AC_METHOD_ADAPTIVE give it; a sampled method when the budget pays
     * for the table (AC_E_BUDGET at the start otherwise) and its cache
     * ends up complete. AUTO chooses as without it (exact or adaptive
     * whenever the budget pays for the table; with an error target it
     * passes over exact, and a sampled method that stops on the target
     * before the table is complete leaves no interactions). n beyond
     * AC_EXACT_MAX_PLAYERS: AC_E_TOO_LARGE at the start. [0, 1], default
     * 0. */
    AC_ESTIMATOR_PARAM_INTERACTIONS = 111
} ac_estimator_param;

/* Audit record keys (ac_estimator_audit): valid during and after a run. */
typedef enum ac_estimator_audit_key {
    /* ac_method actually used */
    AC_ESTIMATOR_AUDIT_METHOD = 1,
    /* oracle evaluations spent (budget used) */
    AC_ESTIMATOR_AUDIT_EVALUATIONS = 2,
    /* distinct coalitions evaluated */
    AC_ESTIMATOR_AUDIT_COALITIONS = 3,
    /* evaluations beyond the first per coalition */
    AC_ESTIMATOR_AUDIT_REPEATS = 4,
    /* requests answered from the cache / known */
    AC_ESTIMATOR_AUDIT_CACHE_HITS = 5,
    /* asks that handed out work (oracle calls) */
    AC_ESTIMATOR_AUDIT_ROUNDS = 6,
    /* failed evaluations (status, NaN, inf) */
    AC_ESTIMATOR_AUDIT_FAILURES = 7,
    /* evaluations re-issued after a failure */
    AC_ESTIMATOR_AUDIT_RETRIES = 8,
    /* an ac_estimator_outcome */
    AC_ESTIMATOR_AUDIT_OUTCOME = 9,
    /* permutations, or sampled coalitions */
    AC_ESTIMATOR_AUDIT_SAMPLES = 10,
    /* values given up front */
    AC_ESTIMATOR_AUDIT_KNOWN = 11,
    /* the budget in force */
    AC_ESTIMATOR_AUDIT_BUDGET = 12,
    /* sampled coalitions given up: they failed and no budget was left to retry
     * them; the samples that needed them are left out.
     * With AC_METHOD_ADAPTIVE: repeats given up the same way (their coalition
     * keeps the evaluations that came in) */
    AC_ESTIMATOR_AUDIT_DROPPED = 13
} ac_estimator_audit_key;

typedef enum ac_estimator_outcome {
    AC_ESTIMATOR_OUTCOME_PENDING = 0,  /* not finished */
    AC_ESTIMATOR_OUTCOME_COMPLETE = 1, /* the method needed nothing more
                                          (exact) */
    AC_ESTIMATOR_OUTCOME_BUDGET = 2,   /* sampling stopped because the budget
                                          ran out */
    AC_ESTIMATOR_OUTCOME_TARGET = 3,   /* every standard error reached
                                          AC_ESTIMATOR_PARAM_TARGET_SE */
    AC_ESTIMATOR_OUTCOME_CANCELLED = 4,
    AC_ESTIMATOR_OUTCOME_ERROR = 5     /* the run failed; see last_error */
} ac_estimator_outcome;

/* Creates an estimator for a game of n_players (1..AC_MAX_PLAYERS; beyond:
 * AC_E_TOO_LARGE). alloc may be NULL. *out is set on success only; release
 * it with ac_estimator_free(). */
AC_API AC_NODISCARD int ac_estimator_create(ac_estimator **out,
                                            uint32_t n_players,
                                            const ac_allocator *alloc);
/* Releases everything the estimator owns. Accepts NULL. */
AC_API void ac_estimator_free(ac_estimator *est);

/* Typed parameter access (zstd's model). Unknown parameter:
 * AC_E_PARAM_UNSUPPORTED; wrong type for the parameter: AC_E_INVALID_ARG;
 * value outside the bounds: AC_E_PARAM_OUT_OF_BOUND (never clamped). */
AC_API AC_NODISCARD int ac_estimator_set_int(ac_estimator *est,
                                             ac_estimator_param param,
                                             int64_t value);
AC_API AC_NODISCARD int ac_estimator_get_int(const ac_estimator *est,
                                             ac_estimator_param param,
                                             int64_t *value);
AC_API AC_NODISCARD int ac_estimator_set_f64(ac_estimator *est,
                                             ac_estimator_param param,
                                             double value);
AC_API AC_NODISCARD int ac_estimator_get_f64(const ac_estimator *est,
                                             ac_estimator_param param,
                                             double *value);
/* Bounds of a parameter; no handle needed. Thread-safe. */
AC_API AC_NODISCARD int ac_estimator_param_bounds_int(ac_estimator_param param,
                                                      int64_t *lower,
                                                      int64_t *upper);
AC_API AC_NODISCARD int ac_estimator_param_bounds_f64(ac_estimator_param param,
                                                      double *lower,
                                                      double *upper);
/* The reset rule at the top: AC_RESET_SESSION forgets the run (cache,
 * tickets, result, audit, error, a cancellation); AC_RESET_KNOWN forgets
 * the values given by ac_estimator_set_value. */
AC_API AC_NODISCARD int ac_estimator_reset(ac_estimator *est, uint32_t what);

/* Gives a value the host already knows (typically v(all), the observed
 * outcome, and v(empty), the baseline). Known values cost no budget and are
 * exact (no variance). Giving a coalition again replaces its value. An
 * input: while idle only (AC_E_STATE). words must be ac_coalition_words(n);
 * value finite. */
AC_API AC_NODISCARD int ac_estimator_set_value(ac_estimator *est,
                                               const uint64_t *coalition,
                                               uint32_t words, double value);

/* Registers the oracle used by ac_estimator_run(). user is never
 * dereferenced by the library; the caller keeps it alive while the estimator
 * may call fn. fn NULL unregisters. Allowed at any time but from inside
 * the oracle (AC_E_BUSY). */
AC_API AC_NODISCARD int ac_estimator_set_oracle(ac_estimator *est,
                                                ac_oracle_fn fn, void *user);

/* Runs to the end with the registered oracle, AC_ESTIMATOR_PARAM_BATCH
 * coalitions per call. A loop over ask/tell: the result equals the ask/tell
 * path with the same seed, options and values. On a finished run it
 * returns AC_OK at once; after a failed one, its error.
 * Returns: AC_OK (done; without an oracle too, when every value the run
 * needs is known); AC_E_STATE (no oracle and values to evaluate, or
 * tickets asked outside run still outstanding); AC_E_BUDGET (the budget
 * cannot pay v(all) and v(empty), or a coalition the method needs failed
 * and the budget cannot pay a retry), AC_E_TOO_LARGE (the method cannot
 * run this game), AC_E_INVALID_ARG (no method affordable), each of them
 * at the start leaving the handle idle; AC_E_CALLBACK, AC_E_ORACLE,
 * AC_E_CANCELLED; AC_E_TOO_LARGE at the end (a credit, a standard error
 * or the total beyond what a double holds, though every value was finite:
 * the run fails and last_error names the figure; values of any finite
 * magnitude whose credits a double holds are computed in a scaled space);
 * AC_E_NO_MEMORY (it changed nothing, or ended the run). */
AC_API AC_NODISCARD int ac_estimator_run(ac_estimator *est);

/* Ask/tell, as at the top. The payload of ticket k is the coalition at
 * coalitions + k * words (the caller provides room for max_count tickets
 * and max_count * words words; words from ac_coalition_words). The
 * library's own memory grows with the work handed out, not with
 * max_count. Which
 * coalition each ticket stands for depends only on the seed, the options
 * and the values told, not on the ask sizes or the order of the tells, as
 * long as no evaluation fails (a failed one is queued again when its
 * failure is told); docs/threading.md relies on it for reproducible
 * distributed runs. */
AC_API AC_NODISCARD int ac_estimator_ask(ac_estimator *est, uint32_t max_count,
                                         uint64_t *tickets,
                                         uint64_t *coalitions, uint32_t *count);
/* values[k] is v(S) for tickets[k]: any finite number (status may be
 * NULL: all 0). Returns: AC_OK; AC_E_INVALID_ARG (a ticket not
 * outstanding: nothing taken); AC_E_STATE (no run waiting); or the run's
 * error when this tell ended it (AC_E_ORACLE: a coalition failed past its
 * retries; AC_E_BUDGET: a coalition the method needs failed and the budget
 * cannot pay a retry; AC_E_NO_MEMORY). */
AC_API AC_NODISCARD int ac_estimator_tell(ac_estimator *est, uint32_t count,
                                          const uint64_t *tickets,
                                          const double *values,
                                          const int32_t *status);
/* Where the run stands, as at the top: *done is 1 once the run has ended
 * (done or failed: AC_ESTIMATOR_AUDIT_OUTCOME says which), *outstanding
 * the tickets it still waits for. Either pointer may be NULL. */
AC_API AC_NODISCARD int ac_estimator_progress(const ac_estimator *est,
                                              int32_t *done,
                                              uint64_t *outstanding);
/* Copies the estimate: phi[i] and its standard error se[i] for the n players
 * (n must equal the estimator's). se may be NULL. Infinity as a standard error
 * means the method had too few samples to estimate it, or an oracle declared
 * noisy (AC_ESTIMATOR_PARAM_NOISY) whose noise it could not see (one
 * evaluation of each coalition, values other than 0/1). sum(phi) equals
 * v(all) - v(empty) to a relative 1e-12 (exactly for subnormal credits).
 * AC_E_STATE before the run is done. */
AC_API AC_NODISCARD int ac_estimator_result(const ac_estimator *est,
                                            double *phi, double *se,
                                            uint32_t n);
/* Copies the interaction index of every pair of players (as
 * ac_shapley_interactions_exact: condensed order, len = n(n-1)/2, index
 * NULL only when len is 0) and its standard error se[p] (se may be NULL),
 * of a run with AC_ESTIMATOR_PARAM_INTERACTIONS 1. Negative: the pair is
 * redundant; positive: complementary. The standard errors come from the
 * coalitions' variances as the credits' do (0 for a deterministic oracle
 * with no repeats). Read-only: safe where ac_estimator_result is.
 * AC_E_INVALID_ARG (len); AC_E_STATE before the run is done, after it
 * failed, when the parameter was 0, or when a sampled method ended without
 * every coalition (last_error says which). */
AC_API AC_NODISCARD int ac_estimator_interactions(const ac_estimator *est,
                                                  double *index, double *se,
                                                  size_t len);
/* One figure of the audit record. Valid during and after a run. An unknown
 * key is AC_E_INVALID_ARG (*value untouched). */
AC_API AC_NODISCARD int ac_estimator_audit(const ac_estimator *est,
                                           ac_estimator_audit_key key,
                                           int64_t *value);
/* Asks the run to stop: the next ask, ac_estimator_run between oracle
 * calls, or a method's long computation (OddSHAP's fit, KernelSHAP's
 * solves, a large table) ends the run failed with AC_E_CANCELLED (a
 * finished run keeps its result). Safe from any thread, including while
 * another thread runs the estimator; a no-op on NULL. Cleared by
 * AC_RESET_SESSION. */
AC_API void ac_estimator_cancel(ac_estimator *est);
/* The detailed message of the last failure on this handle ("" if none).
 * Owned by the estimator, valid until the next call on it. */
AC_API const char *ac_estimator_last_error(const ac_estimator *est);

/* Planning a budget (since ABI 1.1): before any rollout, the evaluations
 * AC_METHOD_ADAPTIVE needs for a target standard error of every agent's
 * credit, for a team of n_players and a noise model. The model
 * (docs/estimators.md, "Planning a budget"): every evaluation of every
 * coalition has the same variance sigma^2; the method evaluates every
 * coalition not known once, then spreads the rest of the budget by
 * water-filling, m_S = max(1, lambda a_S) (Neyman allocation with every
 * coalition at least once); every agent's credit then has the variance
 * (sigma^2 / n) sum_S a_S^2 / m_S, and the plan is the smallest budget
 * whose variance is at most target_se^2. The answer is at least the table
 * (2^n coalitions, less the two ends when they are known) plus the retry
 * margin of AC_METHOD_AUTO at the default AC_ESTIMATOR_PARAM_MAX_RETRIES
 * (2 + table / 32), so that AUTO with AC_ESTIMATOR_PARAM_NOISY = 1 takes
 * the adaptive method at that budget; 0 when nothing is unknown.
 *   noise, noise_param  AC_PLAN_NOISE_ROLLOUTS: 0/1 rollouts whose success
 *                       rate is expected near noise_param, in (0, 1):
 *                       sigma^2 = p (1 - p); 0.5 is the worst case, an
 *                       upper bound whatever the rates.
 *                       AC_PLAN_NOISE_SD: any values whose single
 *                       evaluation has the standard deviation noise_param
 *                       (finite, > 0).
 *   target_se           finite, > 0.
 *   flags               AC_PLAN_FLAG_* (0: nothing known).
 *   *evaluations        the budget to set (AC_ESTIMATOR_PARAM_BUDGET).
 *   se                  (may be NULL) the standard error of every agent's
 *                       credit the model gives at that budget: target_se
 *                       or less (less when the table alone does better).
 * err_buf (may be NULL) receives a message naming what was wrong, as
 * ac_game_load_json's; "" on success. Thread-safe (no handle). Returns:
 * AC_OK; AC_E_INVALID_ARG (evaluations NULL, n_players 0, an unknown noise
 * or flag, a noise_param or target_se out of its range, NaN included);
 * AC_E_TOO_LARGE (n_players beyond AC_ADAPTIVE_MAX_PLAYERS: the sampled
 * methods' error depends on the game, not on the noise alone, so no plan
 * is made for them; or a plan beyond AC_ESTIMATOR_PARAM_BUDGET's upper
 * bound). *evaluations and *se are written on success only. */
typedef enum ac_plan_noise {
    AC_PLAN_NOISE_ROLLOUTS = 1, /* 0/1 outcomes; noise_param: success rate */
    AC_PLAN_NOISE_SD = 2        /* noise_param: sd of one evaluation      */
} ac_plan_noise;
typedef enum ac_plan_flag {
    /* v(empty) and v(all) will be given (ac_estimator_set_value): they cost
     * nothing and carry no noise */
    AC_PLAN_FLAG_ENDS_KNOWN = 1
} ac_plan_flag;
AC_API AC_NODISCARD int ac_estimator_plan(uint32_t n_players,
                                          ac_plan_noise noise,
                                          double noise_param,
                                          double target_se, uint32_t flags,
                                          int64_t *evaluations, double *se,
                                          char *err_buf, size_t err_cap);

/* ===================================================================== */
/* Message refiner: per-message rewards that add up to each agent's credit */
/* ===================================================================== */

/* For each agent i with credit phi_i and messages M_i carrying labels l_t in
 * [-1, 1] (helpful > 0 > harmful), the refiner writes rewards r_t with
 *   1. sum_{t in M_i} r_t == phi_i               (conservation)
 *   2. |r_t| <= B                                (bounded)
 *   3. l_t < 0 gives r_t <= 0 and l_t > 0 gives r_t >= 0 (signed by label)
 *   4. within an agent, a higher label never gets a lower reward (monotone)
 *   5. r_t depends only on phi_i, agent i's labels and the options (local).
 * Construction: the exact Euclidean projection of y_t = phi_i/|M_i| +
 * beta B l_t onto {sum = phi_i} and the boxes [0,B] (l > 0), [-B,0] (l < 0),
 * [-B,B] (l = 0). When the boxes make that infeasible, the refiner relaxes in
 * a fixed order and says so per agent (AC_AGENT_FLAG_RELAXED_*).
 * docs/signals.md gives the proofs and a worked example.
 *
 * Labels come from one of three feeds, all ending in the same projection:
 * an array (ac_refiner_set_labels), a message-level Shapley game
 * (ac_refiner_labels_from_shapley), or a scorer asked for every message
 * still without a label: its callback (ac_refiner_set_scorer) or ask/tell.
 * The run asks the scorer, then computes the rewards: once every label is
 * in, the next ask (or ac_refiner_run) refines and the run is done.
 *
 * Inputs (AC_RESET_KNOWN): authors, credits, given and fixed labels, texts.
 * The run (AC_RESET_SESSION): the scorer's labels, tickets, the result,
 * the audit. */
typedef struct ac_refiner ac_refiner;

/* A scorer (a process reward model, a judge): labels `count` messages, given
 * by their indices in the episode, writing labels[k] in [-1, 1] and
 * status[k] (0: ok). Labels are pre-filled with NaN and status with 0. The
 * answer rule at the top holds: a non-zero status, a NaN or an infinity is
 * a failed label, asked again up to AC_REFINER_PARAM_MAX_RETRIES times; a
 * finite label outside [-1, 1] is AC_E_INVALID_ARG. Return non-zero to
 * abort with AC_E_CALLBACK. Runs on the thread that called
 * ac_refiner_run(); must not drive this refiner (AC_E_BUSY). */
typedef int (*ac_scorer_fn)(void *user, const uint32_t *messages,
                            uint32_t count, double *labels, int32_t *status);

typedef enum ac_refiner_param {
    /* f64: the bound B on |r_t|. (0, 1e300], default 1. */
    AC_REFINER_PARAM_BOUND = 200,
    /* f64: label strength beta in y_t = phi/K + beta B l_t. [0, 1e6],
     * default 0.5. 0 gives the equal split wherever the boxes allow it. */
    AC_REFINER_PARAM_BETA = 201,
    /* f64: a redundant message (see ac_refiner_set_texts) gets the label
     * -penalty. [0, 1], default 0.5. */
    AC_REFINER_PARAM_REDUNDANCY_PENALTY = 202,
    /* int: what to do when the boxes are infeasible: AC_RELAXATION_ORDERED
     * (default) relaxes as documented and flags the agent;
     * AC_RELAXATION_NEVER makes the run fail with AC_E_INFEASIBLE. */
    AC_REFINER_PARAM_RELAXATION = 203,
    /* int: messages per scorer call in ac_refiner_run. [1, 2^20], 64. */
    AC_REFINER_PARAM_BATCH = 204,
    /* int: how often a failed label is asked again. [0, 1000], default 2. */
    AC_REFINER_PARAM_MAX_RETRIES = 205
} ac_refiner_param;

/* Values of AC_REFINER_PARAM_RELAXATION. */
typedef enum ac_relaxation {
    AC_RELAXATION_ORDERED = 0,
    AC_RELAXATION_NEVER = 1
} ac_relaxation;

/* Per-agent relaxation flags (ac_refiner_agent_flags). */
typedef enum ac_agent_flag {
    AC_AGENT_FLAG_RELAXED_SIGN = 1,  /* messages on the wrong side of the
                                        credit's sign were allowed the
                                        other sign (property 3 dropped for
                                        this agent)                       */
    AC_AGENT_FLAG_RELAXED_BOUND = 2  /* |phi| > |M_i| B: every message gets
                                        phi/|M_i|, beyond B (property 2
                                        dropped); what the shares'
                                        roundings miss, when past 1e-12
                                        (subnormal credits), to the
                                        highest label (a gain) or the
                                        lowest (a loss)                   */
} ac_agent_flag;

/* Per-message flags (ac_refiner_message_flags). */
typedef enum ac_message_flag {
    AC_MESSAGE_FLAG_REDUNDANT = 1,  /* repeats an earlier message of its
                                       agent                              */
    AC_MESSAGE_FLAG_LABEL_FIXED = 2 /* label fixed by ac_refiner_fix_label */
} ac_message_flag;

/* Audit record keys (ac_refiner_audit): valid during and after a run. */
typedef enum ac_refiner_audit_key {
    AC_REFINER_AUDIT_EVALUATIONS = 1,    /* labels asked of the scorer,
                                            each retry counted            */
    AC_REFINER_AUDIT_ROUNDS = 2,         /* asks that handed out work     */
    AC_REFINER_AUDIT_FAILURES = 3,       /* failed answers (status, NaN,
                                            infinity)                     */
    AC_REFINER_AUDIT_RETRIES = 4,        /* labels asked again after a
                                            failure                       */
    AC_REFINER_AUDIT_RELAXED_AGENTS = 5, /* agents with an AC_AGENT_FLAG_
                                            (0 before the result)         */
    AC_REFINER_AUDIT_REDUNDANT = 6       /* messages flagged redundant    */
} ac_refiner_audit_key;

/* Creates a refiner for an episode of n_agents agents (1..AC_MAX_PLAYERS)
 * and n_messages messages (1..2^28). */
AC_API AC_NODISCARD int ac_refiner_create(ac_refiner **out, uint32_t n_agents,
                                          uint32_t n_messages,
                                          const ac_allocator *alloc);
AC_API void ac_refiner_free(ac_refiner *ref); /* NULL ok */

AC_API AC_NODISCARD int ac_refiner_set_int(ac_refiner *ref,
                                           ac_refiner_param param,
                                           int64_t value);
AC_API AC_NODISCARD int ac_refiner_get_int(const ac_refiner *ref,
                                           ac_refiner_param param,
                                           int64_t *value);
AC_API AC_NODISCARD int ac_refiner_set_f64(ac_refiner *ref,
                                           ac_refiner_param param,
                                           double value);
AC_API AC_NODISCARD int ac_refiner_get_f64(const ac_refiner *ref,
                                           ac_refiner_param param,
                                           double *value);
AC_API AC_NODISCARD int ac_refiner_param_bounds_int(ac_refiner_param param,
                                                    int64_t *lower,
                                                    int64_t *upper);
AC_API AC_NODISCARD int ac_refiner_param_bounds_f64(ac_refiner_param param,
                                                    double *lower,
                                                    double *upper);
/* The reset rule at the top: AC_RESET_SESSION forgets the run (the
 * scorer's labels, tickets, result, audit, error, a cancellation);
 * AC_RESET_KNOWN forgets the inputs (authors, credits, given and fixed
 * labels, redundancy). */
AC_API AC_NODISCARD int ac_refiner_reset(ac_refiner *ref, uint32_t what);

/* The inputs below are set while idle only (AC_E_STATE otherwise).
 * Who wrote each message: agent_of[t] < n_agents. Copied. */
AC_API AC_NODISCARD int ac_refiner_set_authors(ac_refiner *ref,
                                               const uint32_t *agent_of,
                                               uint32_t n_messages);
/* Each agent's credit (finite), e.g. from ac_estimator_result. Copied. */
AC_API AC_NODISCARD int ac_refiner_set_credits(ac_refiner *ref,
                                               const double *credit,
                                               uint32_t n_agents);
/* Feed 1: a label per message, each finite and in [-1, 1]. Copied. */
AC_API AC_NODISCARD int ac_refiner_set_labels(ac_refiner *ref,
                                              const double *labels,
                                              uint32_t n_messages);
/* Fixes one message's label: neither a feed nor the redundancy rule changes
 * it afterwards. */
AC_API AC_NODISCARD int ac_refiner_fix_label(ac_refiner *ref, uint32_t message,
                                             double label);
/* Message texts, for redundancy: a message whose text, after collapsing runs
 * of white space and trimming the ends, equals an earlier message of the
 * same agent is flagged AC_MESSAGE_FLAG_REDUNDANT and labelled -penalty
 * (unless its label is fixed). lengths[t] bytes of texts[t]; lengths NULL:
 * NUL-terminated. Read during the call only. */
AC_API AC_NODISCARD int ac_refiner_set_texts(ac_refiner *ref,
                                             const char *const *texts,
                                             const uint64_t *lengths,
                                             uint32_t n_messages);
/* The messages of one agent, in episode order: the map from player k of a
 * message-level game to message index. *count is the agent's number of
 * messages; up to cap indices are written. */
AC_API AC_NODISCARD int ac_refiner_agent_messages(const ac_refiner *ref,
                                                  uint32_t agent,
                                                  uint32_t *messages,
                                                  uint32_t cap,
                                                  uint32_t *count);
/* Feed 3: labels for one agent's messages from the Shapley values of a
 * message-level game over them (message_phi[k] for the k-th message of the
 * agent, as ac_refiner_agent_messages orders them; count must equal the
 * agent's number of messages), normalised to l_k = phi_k / max_j |phi_j|
 * (all 0 when every phi is 0). Fixed labels are kept. */
AC_API AC_NODISCARD int
ac_refiner_labels_from_shapley(ac_refiner *ref,
                               uint32_t agent,
                               const double *message_phi,
                               uint32_t count);
/* Feed 2: the scorer callback used by ac_refiner_run (fn NULL
 * unregisters). Allowed at any time but from inside the scorer. */
AC_API AC_NODISCARD int ac_refiner_set_scorer(ac_refiner *ref, ac_scorer_fn fn,
                                              void *user);

/* Runs to the end: asks the scorer for every message still without a label
 * (redundant and fixed ones are not scored), AC_REFINER_PARAM_BATCH per
 * call, then computes the rewards. A loop over ask/tell. On a finished run
 * it returns AC_OK at once; after a failed one, its error. O(K log K) per
 * agent of K messages.
 * Returns: AC_OK (done); AC_E_STATE (authors or credits not set; a message
 * without a label and no scorer; an agent with non-zero credit and no
 * message; tickets asked outside run still outstanding); AC_E_INFEASIBLE
 * (AC_RELAXATION_NEVER and boxes that cannot hold); AC_E_CALLBACK,
 * AC_E_ORACLE, AC_E_CANCELLED, AC_E_NO_MEMORY; AC_E_TOO_LARGE (a reward a
 * double cannot hold: never for finite inputs, which the projection
 * scales). */
AC_API AC_NODISCARD int ac_refiner_run(ac_refiner *ref);
/* Ask/tell, as at the top. The payload of ticket k is messages[k], a
 * message to score; labels[k] in [-1, 1] comes back for tickets[k]. Once
 * every label is in, the next ask computes the rewards (it returns that
 * computation's error, as run does) and the run is done.
 * ask returns: AC_OK (count 0: done, or waiting for tells); AC_E_STATE (the
 * run cannot start: authors or credits missing; the handle stays idle);
 * AC_E_INFEASIBLE, AC_E_CANCELLED, AC_E_NO_MEMORY, or the failed run's
 * error. tell returns: AC_OK; AC_E_INVALID_ARG (a bad ticket or a label out
 * of range: nothing taken); AC_E_STATE (no run waiting); AC_E_ORACLE when
 * a label failed past its retries (the run has failed). */
AC_API AC_NODISCARD int ac_refiner_ask(ac_refiner *ref, uint32_t max_count,
                                       uint64_t *tickets, uint32_t *messages,
                                       uint32_t *count);
AC_API AC_NODISCARD int ac_refiner_tell(ac_refiner *ref, uint32_t count,
                                        const uint64_t *tickets,
                                        const double *labels,
                                        const int32_t *status);
/* Where the run stands, as at the top: *done 1 once the run has ended
 * (done or failed), *outstanding the tickets it still waits for. Either
 * may be NULL. */
AC_API AC_NODISCARD int ac_refiner_progress(const ac_refiner *ref,
                                            int32_t *done,
                                            uint64_t *outstanding);
/* Asks the run to stop: the next ask, or ac_refiner_run between scorer
 * calls, ends it failed with AC_E_CANCELLED (a finished or failed run keeps
 * its result or its error). Safe from any thread; a no-op on NULL. Cleared
 * by AC_RESET_SESSION. */
AC_API void ac_refiner_cancel(ac_refiner *ref);

/* Copies the rewards (n_messages long); AC_E_STATE until the run is done. */
AC_API AC_NODISCARD int ac_refiner_rewards(const ac_refiner *ref,
                                           double *rewards,
                                           uint32_t n_messages);
/* The labels the projection used (after redundancy and fixing); AC_E_STATE
 * until the run is done. */
AC_API AC_NODISCARD int ac_refiner_labels(const ac_refiner *ref, double *labels,
                                          uint32_t n_messages);
/* AC_MESSAGE_FLAG_* per message. Unlike the result, readable at any time:
 * the flags follow from the inputs (texts, fixed labels). */
AC_API AC_NODISCARD int ac_refiner_message_flags(const ac_refiner *ref,
                                                 uint32_t *flags,
                                                 uint32_t n_messages);
/* AC_AGENT_FLAG_* per agent, from the run. */
AC_API AC_NODISCARD int ac_refiner_agent_flags(const ac_refiner *ref,
                                               uint32_t *flags,
                                               uint32_t n_agents);
/* One figure of the audit record; an unknown key is AC_E_INVALID_ARG. */
AC_API AC_NODISCARD int ac_refiner_audit(const ac_refiner *ref,
                                         ac_refiner_audit_key key,
                                         int64_t *value);
/* The detailed message of the last failure ("" if none); owned by the
 * refiner, valid until the next call on it. */
AC_API const char *ac_refiner_last_error(const ac_refiner *ref);

/* ===================================================================== */
/* First-error localizer, failure blame and repair-aware preference pairs */
/* ===================================================================== */

/* A failed episode of T messages: where did it first go wrong? The host's
 * verifier judges prefixes: prefix t is messages 0..t, "on track" or not.
 * The first error is the smallest t whose prefix is off track; T (reported
 * as step -1) means the verifier accepts every prefix. The localizer asks
 * the verifier about as few prefixes as the strategy and the verifier's
 * noise allow, keeps a posterior over the first error's position, and
 * reports the first error with its probability. docs/localizer.md gives the
 * strategies, the noise models and the calibration argument. */
typedef struct ac_localizer ac_localizer;

/* The verifier: for each of `count` prefixes (prefixes[k] = t: messages
 * 0..t) writes p_on_track[k] in [0, 1]: 1 on track, 0 off track, a value
 * between for a verifier that gives a probability. Pre-filled with NaN and
 * status with 0. The answer rule at the top holds: a NaN, an infinity or
 * status[k] != 0 is a failed answer, asked again within the budget
 * (AC_LOCALIZER_PARAM_MAX_RETRIES); a finite value outside [0, 1] is
 * AC_E_INVALID_ARG. Return non-zero to abort with AC_E_CALLBACK. Runs on
 * the thread that called ac_localizer_run(); must not drive this localizer
 * (AC_E_BUSY). */
typedef int (*ac_verifier_fn)(void *user, const uint32_t *prefixes,
                              uint32_t count, double *p_on_track,
                              int32_t *status);

/* Strategies (AC_LOCALIZER_PARAM_STRATEGY). */
typedef enum ac_strategy {
    AC_STRATEGY_AUTO = 0,      /* scores given and no verifier: SCORES; an
                                  exact monotone verifier: BINARY; an exact
                                  verifier that may accept again after an error
                                  (AC_LOCALIZER_PARAM_MONOTONE 0): LINEAR; a
                                  noisy one: BISECTION */
    AC_STRATEGY_LINEAR = 1,    /* prefixes 0, 1, 2, ... until the first
                                  rejected one: exact for any exact verifier,
                                  monotone or not; T calls at worst */
    AC_STRATEGY_BINARY = 2,    /* bisection on (last accepted, first rejected],
                                  W + 1 parts per round: ceil(log2(T+1)) calls
                                  for W = 1; needs a monotone verifier */
    AC_STRATEGY_BISECTION = 3, /* probabilistic bisection: the posterior over
                                  the first error updated by Bayes' rule after
                                  every answer; asks where it splits the mass
                                  best; stops at AC_LOCALIZER_PARAM_TARGET or
                                  the budget */
    AC_STRATEGY_SCORES = 4     /* per-message error probabilities from one
                                  batched scorer call
                                  (ac_localizer_set_scores): the first above
                                  AC_LOCALIZER_PARAM_THRESHOLD; no verifier */
} ac_strategy;

/* What the verifier's mistakes look like (AC_LOCALIZER_PARAM_NOISE). */
typedef enum ac_noise {
    AC_NOISE_NONE = 0,        /* never wrong: a test suite, an exact check */
    AC_NOISE_INDEPENDENT = 1, /* right with probability
                                 AC_LOCALIZER_PARAM_ACCURACY, independently at
                                 every call (sampling at a temperature): asking
                                 again adds evidence */
    AC_NOISE_REPEATABLE = 2   /* right with probability
                                 AC_LOCALIZER_PARAM_ACCURACY per prefix, but
                                 the same answer every time the same prefix is
                                 asked (a judge at temperature 0): a prefix is
                                 never asked twice */
} ac_noise;

typedef enum ac_localizer_param {
    /* int: an ac_strategy. Default AC_STRATEGY_AUTO. */
    AC_LOCALIZER_PARAM_STRATEGY = 300,
    /* int: an ac_noise. Default AC_NOISE_NONE. */
    AC_LOCALIZER_PARAM_NOISE = 301,
    /* f64: p, the probability that a noisy verifier's answer is right.
     * (0.5, 0.999999999], default 0.8; ignored with AC_NOISE_NONE (p = 1:
     * a verifier that is never wrong is declared AC_NOISE_NONE). */
    AC_LOCALIZER_PARAM_ACCURACY = 302,
    /* int: hard cap on verifier evaluations: the search's, the corrective
     * scan's and ac_localizer_make_pair's candidate checks, each retry
     * counting one. A round is charged when it is planned, whole: asking
     * one ticket of a planned round of W already counts W, and a round
     * that a cancel or a failure drops stays charged. A round the budget
     * cannot pay in full is planned smaller. [0, 2^31], default 1024. */
    AC_LOCALIZER_PARAM_BUDGET = 303,
    /* int: W, prefixes per verifier call (one round). [1, 4096], default 1. */
    AC_LOCALIZER_PARAM_BATCH = 304,
    /* f64: stop once the first error's posterior probability reaches this.
     * (0.5, 0.999999], default 0.95. Noisy verifiers only. */
    AC_LOCALIZER_PARAM_TARGET = 305,
    /* int: how often one failed answer is asked again. [0, 1000], 2. */
    AC_LOCALIZER_PARAM_MAX_RETRIES = 306,
    /* int: 1 (default) if a rejected prefix stays rejected when it grows;
     * 0 if later messages can repair the error (AUTO then scans linearly). */
    AC_LOCALIZER_PARAM_MONOTONE = 307,
    /* int: 1 (default): after localizing, ask the prefixes after the first
     * error to find the corrective messages (AC_STEP_FLAG_CORRECTIVE);
     * 0: skip. */
    AC_LOCALIZER_PARAM_SCAN_AFTER = 308,
    /* f64: AC_STRATEGY_SCORES: a message is the first error when its score is
     * at least this. [0, 1], default 0.5. */
    AC_LOCALIZER_PARAM_THRESHOLD = 309,
    /* f64: blame labels (ac_localizer_blame_labels): the first error
     * [-1, 0] (-1), a message after it that propagates it [-1, 0] (-0.25),
     * a corrective message [0, 1] (1), a message before it or back on
     * track [-1, 1] (0.1). */
    AC_LOCALIZER_PARAM_LABEL_ERROR = 310,
    AC_LOCALIZER_PARAM_LABEL_PROPAGATE = 311,
    AC_LOCALIZER_PARAM_LABEL_CORRECTIVE = 312,
    AC_LOCALIZER_PARAM_LABEL_BEFORE = 313,
    /* int: K, candidate repairs asked of the repair callback. [1, 1024], 4. */
    AC_LOCALIZER_PARAM_CANDIDATES = 314,
    /* f64: a candidate repair is verified when the verifier's p_on_track
     * for it is at least this. (0, 1], default 0.5. */
    AC_LOCALIZER_PARAM_ACCEPT = 315
} ac_localizer_param;

/* How a localization ended (AC_LOCALIZER_AUDIT_OUTCOME). */
typedef enum ac_localizer_outcome {
    /* not finished */
    AC_LOCALIZER_OUTCOME_PENDING = 0,
    /* the first error: exactly (exact verifier), with probability >=
     * AC_LOCALIZER_PARAM_TARGET (bisection), or by the strategy's own rule
     * (LINEAR and BINARY under noise: the first rejected prefix; SCORES: the
     * first score above the threshold), whose posterior probability is
     * reported and may be low */
    AC_LOCALIZER_OUTCOME_FOUND = 1,
    /* the verifier accepts every prefix (or that has probability >=
     * AC_LOCALIZER_PARAM_TARGET): step -1 */
    AC_LOCALIZER_OUTCOME_NO_ERROR = 2,
    /* the budget ran out first: the best guess, with its (lower)
     * probability */
    AC_LOCALIZER_OUTCOME_OUT_OF_BUDGET = 3,
    /* repeatable verifier: no prefix left whose answer would matter; the best
     * guess, with its calibrated probability */
    AC_LOCALIZER_OUTCOME_EXHAUSTED = 4,
    /* cancelled during the search: the run failed (AC_E_CANCELLED), no
     * result (a cancel during the corrective scan keeps the outcome) */
    AC_LOCALIZER_OUTCOME_CANCELLED = 5,
    /* the run failed; see last_error */
    AC_LOCALIZER_OUTCOME_ERROR = 6
} ac_localizer_outcome;

/* Audit record keys (ac_localizer_audit): valid during and after a run. */
typedef enum ac_localizer_audit_key {
    AC_LOCALIZER_AUDIT_EVALUATIONS = 1,        /* verifier evaluations, all
                                                  phases (the budget used),
                                                  counted when a round is
                                                  planned (see
                                                  AC_LOCALIZER_PARAM_BUDGET)
                                                                           */
    AC_LOCALIZER_AUDIT_ROUNDS = 2,             /* asks that handed out work
                                                  (verifier calls)         */
    AC_LOCALIZER_AUDIT_SEARCH_EVALUATIONS = 3, /* evaluations spent
                                                  localizing               */
    AC_LOCALIZER_AUDIT_SEARCH_ROUNDS = 4,
    AC_LOCALIZER_AUDIT_SCAN_EVALUATIONS = 5,   /* evaluations of the
                                                  corrective scan          */
    AC_LOCALIZER_AUDIT_FAILURES = 6,           /* failed answers (status,
                                                  NaN, infinity), candidate
                                                  checks' included         */
    AC_LOCALIZER_AUDIT_RETRIES = 7,            /* prefixes (and candidates)
                                                  asked again after a
                                                  failure                  */
    AC_LOCALIZER_AUDIT_OUTCOME = 8,            /* an ac_localizer_outcome  */
    AC_LOCALIZER_AUDIT_STRATEGY = 9,           /* the ac_strategy used     */
    AC_LOCALIZER_AUDIT_BUDGET = 10,
    AC_LOCALIZER_AUDIT_SCAN_COMPLETE = 11,     /* 1: every prefix after the
                                                  first error was judged   */
    AC_LOCALIZER_AUDIT_REPAIR_CANDIDATES = 12, /* candidates the repair
                                                  proposed                 */
    AC_LOCALIZER_AUDIT_REPAIR_CHECKS = 13,     /* candidate checks asked,
                                                  retries included         */
    AC_LOCALIZER_AUDIT_SCAN_STOPPED = 14       /* 0, or the ac_status that
                                                  ended the corrective scan
                                                  early (AC_E_CANCELLED,
                                                  AC_E_ORACLE,
                                                  AC_E_CALLBACK,
                                                  AC_E_INVALID_ARG): the
                                                  run succeeded, the scan
                                                  is incomplete            */
} ac_localizer_audit_key;

/* Per-message flags (ac_localizer_step_flags); 0: before the first error. */
typedef enum ac_step_flag {
    AC_STEP_FLAG_FIRST_ERROR = 1, /* the first error                      */
    AC_STEP_FLAG_PROPAGATES = 2,  /* after it, rejected (or not judged)   */
    AC_STEP_FLAG_CORRECTIVE = 4,  /* after it, accepted right after a
                                     rejected prefix: this message
                                     repaired the run                     */
    AC_STEP_FLAG_RECOVERED = 8    /* accepted, after a corrective message */
} ac_step_flag;

/* Creates a localizer for an episode of n_messages (1..2^24) messages.
 * alloc may be NULL. */
AC_API AC_NODISCARD int ac_localizer_create(ac_localizer **out,
                                            uint32_t n_messages,
                                            const ac_allocator *alloc);
AC_API void ac_localizer_free(ac_localizer *loc); /* NULL ok */

AC_API AC_NODISCARD int ac_localizer_set_int(ac_localizer *loc,
                                             ac_localizer_param param,
                                             int64_t value);
AC_API AC_NODISCARD int ac_localizer_get_int(const ac_localizer *loc,
                                             ac_localizer_param param,
                                             int64_t *value);
AC_API AC_NODISCARD int ac_localizer_set_f64(ac_localizer *loc,
                                             ac_localizer_param param,
                                             double value);
AC_API AC_NODISCARD int ac_localizer_get_f64(const ac_localizer *loc,
                                             ac_localizer_param param,
                                             double *value);
AC_API AC_NODISCARD int ac_localizer_param_bounds_int(ac_localizer_param param,
                                                      int64_t *lower,
                                                      int64_t *upper);
AC_API AC_NODISCARD int ac_localizer_param_bounds_f64(ac_localizer_param param,
                                                      double *lower,
                                                      double *upper);
/* The reset rule at the top: AC_RESET_SESSION forgets the run (tickets,
 * answers, posterior, result, pair, audit, error, a cancellation);
 * AC_RESET_KNOWN forgets the inputs (authors, prior, scores). */
AC_API AC_NODISCARD int ac_localizer_reset(ac_localizer *loc, uint32_t what);

/* Who wrote each message (agent_of[t]); optional: without it the first
 * error's agent is reported as UINT32_MAX and no corrective message can
 * stand in for a repair. Copied. An input: while idle only. */
AC_API AC_NODISCARD int ac_localizer_set_authors(ac_localizer *loc,
                                                 const uint32_t *agent_of,
                                                 uint32_t n_messages);
/* The prior over the first error: prior[t] for t < T, prior[T] for "no
 * error"; len = n_messages + 1, finite, >= 0, not all 0; normalised by the
 * library. Default uniform. Copied. An input: while idle only. */
AC_API AC_NODISCARD int ac_localizer_set_prior(ac_localizer *loc,
                                               const double *prior,
                                               uint32_t len);
/* For AC_STRATEGY_SCORES: p_error[t] in [0, 1], the scorer's probability that
 * message t is an error, from one batched call of the host's scorer.
 * Copied. An input: while idle only. */
AC_API AC_NODISCARD int ac_localizer_set_scores(ac_localizer *loc,
                                                const double *p_error,
                                                uint32_t n_messages);
/* Registers the verifier used by ac_localizer_run(); fn NULL unregisters.
 * Allowed at any time but from inside a callback (AC_E_BUSY). */
AC_API AC_NODISCARD int ac_localizer_set_verifier(ac_localizer *loc,
                                                  ac_verifier_fn fn,
                                                  void *user);

/* Runs to the end with the registered verifier, AC_LOCALIZER_PARAM_BATCH
 * prefixes per call: the search, then the corrective scan
 * (AC_LOCALIZER_PARAM_SCAN_AFTER). A loop over ask/tell; the result equals
 * the ask/tell path. Running out of budget is not an error
 * (AC_LOCALIZER_OUTCOME_OUT_OF_BUDGET). Once the search has localized the
 * error, whatever stops the corrective scan (a cancel, a verifier failing
 * past its retries, a callback returning non-zero, a callback's answer
 * outside [0, 1]) ends the scan, not the run: the run succeeds with
 * AC_LOCALIZER_AUDIT_SCAN_COMPLETE 0 and AC_LOCALIZER_AUDIT_SCAN_STOPPED
 * naming the cause. (Through ask/tell an answer out of range is refused
 * and the run goes on, as everywhere.)
 * Returns: AC_OK (done); AC_E_STATE (no verifier and a strategy that needs
 * one; tickets asked outside run still outstanding); AC_E_ORACLE,
 * AC_E_CALLBACK, AC_E_CANCELLED (during the search), AC_E_INVALID_ARG (the
 * verifier answered outside [0, 1]), AC_E_NO_MEMORY. */
AC_API AC_NODISCARD int ac_localizer_run(ac_localizer *loc);
/* Ask/tell, as at the top. The payload of ticket k is prefixes[k], a prefix
 * to judge; p_on_track[k] in [0, 1] comes back for tickets[k]. Each ask
 * hands out (part of) one round; with AC_NOISE_INDEPENDENT a round may hold
 * the same prefix more than once (independent answers add evidence), each
 * under its own ticket. A round's answers are applied in prefix order once
 * all are in, so the order of the tells never changes the result.
 * ask returns: AC_OK (count 0: done, or waiting for tells); AC_E_STATE (the
 * run cannot start: AC_STRATEGY_SCORES without scores; the handle stays
 * idle); AC_E_CANCELLED, AC_E_NO_MEMORY, or the failed run's error. tell
 * returns: AC_OK; AC_E_INVALID_ARG (a bad ticket or an answer out of
 * range: nothing taken); AC_E_STATE (no run waiting); AC_E_ORACLE when an
 * answer failed past its retries during the search (the run has failed). */
AC_API AC_NODISCARD int ac_localizer_ask(ac_localizer *loc, uint32_t max_count,
                                         uint64_t *tickets, uint32_t *prefixes,
                                         uint32_t *count);
AC_API AC_NODISCARD int ac_localizer_tell(ac_localizer *loc, uint32_t count,
                                          const uint64_t *tickets,
                                          const double *p_on_track,
                                          const int32_t *status);
/* Where the run stands, as at the top: *done 1 once the run has ended
 * (done or failed: AC_LOCALIZER_AUDIT_OUTCOME says which), *outstanding
 * the tickets it still waits for. Either may be NULL. */
AC_API AC_NODISCARD int ac_localizer_progress(const ac_localizer *loc,
                                              int32_t *done,
                                              uint64_t *outstanding);

/* The first error: *step in 0..T-1, or -1 when no error was found; *agent
 * its author (UINT32_MAX without authors or without an error);
 * *probability its posterior probability (1 for an exact verifier). Any
 * pointer may be NULL. AC_E_STATE before the run is done. */
AC_API AC_NODISCARD int ac_localizer_result(const ac_localizer *loc,
                                            int64_t *step, uint32_t *agent,
                                            double *probability);
/* The posterior probability that the first error lies within radius steps
 * of the reported one (radius 0: the reported probability). */
AC_API AC_NODISCARD int ac_localizer_probability_within(const ac_localizer *loc,
                                                        uint32_t radius,
                                                        double *p);
/* The whole posterior: post[t] for t < T, post[T] for "no error";
 * len = n_messages + 1. */
AC_API AC_NODISCARD int ac_localizer_posterior(const ac_localizer *loc,
                                               double *post, uint32_t len);
/* One figure of the audit record; an unknown key is AC_E_INVALID_ARG. */
AC_API AC_NODISCARD int ac_localizer_audit(const ac_localizer *loc,
                                           ac_localizer_audit_key key,
                                           int64_t *value);
/* AC_STEP_FLAG_* per message. */
AC_API AC_NODISCARD int ac_localizer_step_flags(const ac_localizer *loc,
                                                uint32_t *flags,
                                                uint32_t n_messages);
/* Failure blame as refiner labels in [-1, 1]: with the posterior P over the
 * first error h, label_t = P(h > t) before + P(h = t) error + P(h < t)
 * propagate (the AC_LOCALIZER_PARAM_LABEL_* weights), then corrective
 * messages get AC_LOCALIZER_PARAM_LABEL_CORRECTIVE and recovered ones
 * AC_LOCALIZER_PARAM_LABEL_BEFORE. Give them to ac_refiner_set_labels with
 * the agents' credit: failure rewards then conserve credit exactly like
 * success rewards. */
AC_API AC_NODISCARD int ac_localizer_blame_labels(const ac_localizer *loc,
                                                  double *labels,
                                                  uint32_t n_messages);
/* Asks the run to stop: during the search the next ask, or
 * ac_localizer_run between verifier calls, ends the run failed with
 * AC_E_CANCELLED; during the corrective scan it ends the scan and the run
 * succeeds (AC_LOCALIZER_AUDIT_SCAN_STOPPED = AC_E_CANCELLED). A finished
 * run keeps its result. Safe from any thread; a no-op on NULL. */
AC_API void ac_localizer_cancel(ac_localizer *loc);
/* The detailed message of the last failure ("" if none); owned by the
 * localizer, valid until the next call on it. */
AC_API const char *ac_localizer_last_error(const ac_localizer *loc);

/* Repair-aware preference pairs. The repair callback proposes up to
 * max_count replacements of message `step` (same agent, same context) as
 * host ids in candidates[], *count how many; the check callback judges
 * prefix 0..step-1 followed by each candidate, like a verifier: answers
 * pre-filled with NaN and status 0, and the answer rule at the top (a
 * failed answer is asked again, up to AC_LOCALIZER_PARAM_MAX_RETRIES times
 * within the budget, then AC_E_ORACLE; a finite value outside [0, 1] is
 * AC_E_INVALID_ARG). Both return non-zero to abort (AC_E_CALLBACK). */
typedef int (*ac_repair_fn)(void *user, uint32_t step, uint32_t max_count,
                            uint64_t *candidates, uint32_t *count);
typedef int (*ac_candidate_fn)(void *user, uint32_t step,
                               const uint64_t *candidates, uint32_t count,
                               double *p_on_track, int32_t *status);

/* What a preference pair is (ac_preference_pair.kind). */
typedef enum ac_pair_kind {
    AC_PAIR_KIND_NONE = 0,       /* no pair: see the reason               */
    AC_PAIR_KIND_REPAIR = 1,     /* chosen: a verified candidate (its host
                                    id)                                   */
    AC_PAIR_KIND_CORRECTIVE = 2  /* chosen: a later corrective message of
                                    the same agent (its index)            */
} ac_pair_kind;

/* Why there is no pair (ac_preference_pair.reason). */
typedef enum ac_pair_reason {
    AC_PAIR_REASON_NONE = 0,          /* a pair was made                  */
    AC_PAIR_REASON_NOT_LOCALIZED = 1, /* no first error was found         */
    AC_PAIR_REASON_NO_CANDIDATE = 2,  /* no repair callback, or no
                                         candidate, and no corrective
                                         message                          */
    AC_PAIR_REASON_NOT_VERIFIED = 3,  /* candidates, none verified, and no
                                         corrective message               */
    AC_PAIR_REASON_NO_BUDGET = 4      /* candidates, but no budget left to
                                         check any (or to ask a failed
                                         check again), and no corrective
                                         message                          */
} ac_pair_reason;

/* One preference pair, prompt / chosen / rejected. The caller sets
 * struct_size = sizeof(ac_preference_pair); a larger struct of a later
 * header is accepted and only this version's fields are written. */
typedef struct ac_preference_pair {
    uint32_t struct_size;
    int32_t kind;          /* AC_PAIR_KIND_*                               */
    int32_t reason;        /* AC_PAIR_REASON_* when kind is
                              AC_PAIR_KIND_NONE                           */
    uint32_t agent;        /* the erring agent (UINT32_MAX: unknown)       */
    uint32_t step;         /* rejected: message `step`, the first error    */
    uint32_t prompt_end;   /* prompt: messages [0, prompt_end) = [0, step) */
    uint32_t candidates;   /* candidates proposed                          */
    uint32_t checked;      /* candidates judged (the budget may stop it)   */
    uint32_t verified;     /* candidates verified                          */
    uint32_t reserved;     /* 0                                            */
    uint64_t episode;      /* the host's episode id                        */
    uint64_t chosen;       /* candidate id (REPAIR) or message (CORRECTIVE) */
    double confidence;     /* the verifier's p_on_track for the chosen one */
    double localization;   /* posterior probability of `step`              */
    double weight;         /* confidence x localization: the pair's weight
                              for a preference loss                       */
} ac_preference_pair;

AC_API AC_NODISCARD int ac_localizer_set_repair(ac_localizer *loc,
                                                ac_repair_fn repair,
                                                ac_candidate_fn check,
                                                void *user);
/* Builds the pair for the finished localization: asks the repair callback
 * for up to AC_LOCALIZER_PARAM_CANDIDATES candidates, checks them in one
 * call (and the candidates whose answer failed again, in one call per
 * retry), chooses the verified one of highest p_on_track (the first on
 * ties); failing that, the first corrective message of the same agent
 * after the error. No verified repair, no pair: kind AC_PAIR_KIND_NONE and
 * the reason. Candidate checks count against AC_LOCALIZER_PARAM_BUDGET:
 * candidates and retries it cannot pay for go unchecked, which is no
 * error; when a repair and a check callback are set before the run, the
 * corrective scan leaves AC_LOCALIZER_PARAM_CANDIDATES evaluations for
 * them. The callbacks are asked once per localization and set of
 * callbacks: later calls return the same pair (with the episode id given)
 * until ac_localizer_set_repair is called again.
 * Returns: AC_OK; AC_E_STATE (the run is not done); AC_E_INVALID_ARG (pair
 * NULL or its struct_size too small, more candidates than asked for, a
 * check answering outside [0, 1]); AC_E_CALLBACK (a callback returned
 * non-zero); AC_E_ORACLE (a candidate's check failed past its retries);
 * AC_E_BUSY (from inside a callback); AC_E_NO_MEMORY. A non-OK return
 * changes nothing (budget, audit, pair are as before the call), so a call
 * again with working callbacks does what the first would have done. */
AC_API AC_NODISCARD int ac_localizer_make_pair(ac_localizer *loc,
                                               uint64_t episode,
                                               ac_preference_pair *pair);

/* ===================================================================== */
/* Reference games (benchmarks, tests, the demo)                         */
/* ===================================================================== */

/* A cooperative game read from JSON, one of:
 *   {"n": N, "values": [v(S) for S = 0 .. 2^N - 1]}
 *   {"n": N, "terms": [{"coef": c, "members": [i, ...]}, ...]}
 *   {"n": N, "type": "airport", "costs": [c_0, ..., c_{N-1}]}
 *   {"n": N, "type": "voting", "weights": [...], "quota": q}
 * each optionally with "exact": [phi_0, ...] and "noise":
 * {"kind": "gaussian", "sd": s} or {"kind": "bernoulli"} (values are success
 * probabilities; each evaluation returns 0 or 1), and the free-text keys
 * "name" and "description". An unknown key is a warning, as in every JSON
 * format of the library ("game.seed: unknown key, ignored",
 * "terms[2].colour: ..."), and an error under AC_JSON_STRICT. A key of
 * another kind of game ("weights" in an airport game), or "sd" in
 * bernoulli noise, is always an error: it is no extension the reader may
 * skip but a sign that the writer meant another game.
 * docs/estimators.md describes the format. */
typedef struct ac_game ac_game;

/* What a game may cost its host. A game file may come from someone else:
 * every size it can ask for is bounded, and a bound it passes is refused
 * with AC_E_TOO_LARGE and a message naming the limit and what it would
 * have taken, before that is allocated or begun.
 *   max_bytes       the text (ac_game_load_json's len, the file's size)
 *   max_memory      what the game may hold at once: the file's text, the
 *                   parse (estimated from the text before it is parsed),
 *                   the game, and ac_game_exact's work space
 *   max_exact_work  the elementary steps ac_game_exact may take (one step:
 *                   one cell of a table or of a dynamic programme)
 * The defaults (ac_game_limits_default) are 16 MiB, 64 MiB and 2^27 steps
 * (about half a second): every game of the test and benchmark suites, value
 * tables up to about 19 players. A field of 0 keeps its default, so a host
 * raises one and keeps the others. The load copies the limits; they hold
 * for the game's life. docs/estimators.md has the figures. */
typedef struct ac_game_limits {
    uint32_t struct_size;    /* sizeof(ac_game_limits)                  */
    uint32_t reserved;       /* 0                                       */
    uint64_t max_bytes;      /* bytes of input text                     */
    uint64_t max_memory;     /* bytes the game may allocate             */
    uint64_t max_exact_work; /* elementary steps of ac_game_exact       */
} ac_game_limits;

/* Fills *limits with the defaults (struct_size set, reserved 0). */
AC_API void ac_game_limits_default(ac_game_limits *limits);

/* Parses text (len bytes, need not be NUL-terminated). *out is set on
 * success only. An unknown key is an error here (AC_E_PARSE, as in
 * AC_JSON_STRICT): this function has no place for a warning, and a key
 * dropped unsaid (a misspelt "noise") is what the error guards against;
 * ac_game_load_json2 reports it as a warning. On failure (AC_E_PARSE, AC_E_TOO_LARGE, AC_E_NO_MEMORY,
 * AC_E_INVALID_ARG for a malformed alloc or limits) a message saying what
 * was wrong and where is written to err_buf (NUL-terminated, truncated to
 * err_cap bytes) when err_buf is not NULL; on success err_buf receives "".
 * alloc may be NULL (malloc); limits may be NULL (the defaults); a limits
 * whose struct_size is not sizeof(ac_game_limits) or whose reserved is not
 * 0 is AC_E_INVALID_ARG. Thread-safe (no shared state). */
AC_API AC_NODISCARD int ac_game_load_json(ac_game **out, const char *text,
                                          size_t len,
                                          const ac_allocator *alloc,
                                          const ac_game_limits *limits,
                                          char *err_buf, size_t err_cap);
/* Reads and parses a file, as above: AC_E_IO when it cannot be read (the
 * message names the path and the system's reason: a directory, no such
 * file, ...). A file longer than max_bytes is refused from its size, a
 * stream (a pipe, a device) once max_bytes have been read; a byte that no
 * JSON text holds (a control character such as NUL) ends the read at once
 * with AC_E_PARSE. */
AC_API AC_NODISCARD int ac_game_load_file(ac_game **out, const char *path,
                                          const ac_allocator *alloc,
                                          const ac_game_limits *limits,
                                          char *err_buf, size_t err_cap);
/* ac_game_load_json and ac_game_load_file with the flags and warnings of
 * ac_episode_load_json (since ABI 1.1): unknown keys are warnings, one
 * line each ("game.seed: unknown key, ignored", lines joined by '\n', no
 * final newline) written to warn_buf (truncated to warn_cap; "" with none,
 * and "" on failure) when it is not NULL; with AC_JSON_STRICT (the only
 * flag; another is AC_E_INVALID_ARG) the first is an AC_E_PARSE error,
 * "game: unknown key "seed" (AC_JSON_STRICT)". Otherwise as above. */
AC_API AC_NODISCARD int ac_game_load_json2(ac_game **out, const char *text,
                                           size_t len,
                                           const ac_allocator *alloc,
                                           const ac_game_limits *limits,
                                           uint32_t flags, char *err_buf,
                                           size_t err_cap, char *warn_buf,
                                           size_t warn_cap);
AC_API AC_NODISCARD int ac_game_load_file2(ac_game **out, const char *path,
                                           const ac_allocator *alloc,
                                           const ac_game_limits *limits,
                                           uint32_t flags, char *err_buf,
                                           size_t err_cap, char *warn_buf,
                                           size_t warn_cap);
AC_API void ac_game_free(ac_game *game);
/* The message of the game's last failed call ("" if none); owned by the
 * game, valid until its next call. "" for NULL. */
AC_API const char *ac_game_last_error(const ac_game *game);
AC_API AC_NODISCARD int ac_game_players(const ac_game *game,
                                        uint32_t *n_players);
/* The game's expected value v(S), without noise; AC_E_TOO_LARGE when it is
 * beyond a double (a sum of terms can be, each of them finite). */
AC_API AC_NODISCARD int ac_game_value(const ac_game *game,
                                      const uint64_t *coalition, uint32_t words,
                                      double *value);
/* Seeds the game's own noise generator (default seed 0). */
AC_API AC_NODISCARD int ac_game_seed(ac_game *game, uint64_t seed);
/* The Shapley values: the file's "exact" when given, else computed in closed
 * form (terms, airport), by dynamic programming (voting with integer
 * weights) or from the table of 2^n values (n <= 24), whichever takes
 * fewer steps. AC_E_TOO_LARGE when none applies or the cheapest passes the
 * game's max_exact_work or max_memory (the message names the limit and
 * what the computation needs); nothing is computed then. */
AC_API AC_NODISCARD int ac_game_exact(const ac_game *game, double *phi,
                                      uint32_t n);
/* An ac_oracle_fn with user = an ac_game: one noisy draw per coalition
 * (the expected value when the game has no noise); a draw that is not
 * finite fails its evaluation (status AC_E_TOO_LARGE). Not thread-safe for
 * one game: give each thread its own ac_game. */
AC_API AC_NODISCARD int ac_game_oracle(void *game, const uint64_t *coalitions,
                                       uint32_t words, uint32_t count,
                                       double *values, int32_t *status);

/* ===================================================================== */
/* Episodes                                                              */
/* ===================================================================== */

/* An episode: who took part, the messages in order, and how it ended.
 * Participants are the agents (the players of the credit game, numbered
 * 0, 1, ... in the order they were added) and non-players (tools, the user
 * or a user simulator, the environment, the system): their messages are
 * part of the transcript (a verifier reads them in its prefixes) but are
 * never rewarded, never blamed and never players. An episode is data: it
 * owns copies of every string, computes nothing, and is read (never
 * changed) by ac_pipeline_run. Not thread-safe for one episode while it
 * is being changed; any number of threads may read one episode at once. */
typedef struct ac_episode ac_episode;

/* Kinds of participant (ac_episode_add_participant). */
typedef enum ac_participant_kind {
    AC_PARTICIPANT_KIND_AGENT = 0,       /* a player: rewarded, blamed          */
    AC_PARTICIPANT_KIND_TOOL = 1,        /* a tool's output                      */
    AC_PARTICIPANT_KIND_USER = 2,        /* the user, or a user simulator        */
    AC_PARTICIPANT_KIND_ENVIRONMENT = 3, /* the environment's observations       */
    AC_PARTICIPANT_KIND_SYSTEM = 4       /* a system prompt or instructions      */
} ac_participant_kind;

/* Largest participants and messages of an episode. */
#define AC_EPISODE_MAX_PARTICIPANTS 4096u
#define AC_EPISODE_MAX_MESSAGES (1u << 24)

/* Creates an empty episode: no participant, no message, no outcome.
 * alloc may be NULL. *out is set on success only. */
AC_API AC_NODISCARD int ac_episode_create(ac_episode **out,
                                          const ac_allocator *alloc);
/* Releases the episode and every string it copied. Accepts NULL. */
AC_API void ac_episode_free(ac_episode *ep);
/* The message of the episode's last failed call ("" if none); owned by the
 * episode, valid until its next call. "" for NULL. */
AC_API const char *ac_episode_last_error(const ac_episode *ep);

/* Adds a participant; *index (may be NULL) receives its participant
 * index. name: non-empty, NUL-terminated UTF-8, unique within the
 * episode (copied). An agent also gets the next agent index
 * (ac_episode_agent_of). Returns AC_OK; AC_E_INVALID_ARG (an empty,
 * duplicate or non-UTF-8 name, an unknown kind); AC_E_TOO_LARGE (past
 * AC_EPISODE_MAX_PARTICIPANTS); AC_E_STATE (an agent after known
 * coalition values, whose width it would change); AC_E_NO_MEMORY. A
 * failed call changes nothing. Every string an episode takes (names,
 * roles, texts, the id) must be UTF-8, as JSON is. */
AC_API AC_NODISCARD int ac_episode_add_participant(ac_episode *ep,
                                                   const char *name,
                                                   int32_t kind,
                                                   uint32_t *index);
/* Appends a message by `participant`; *index (may be NULL) receives its
 * position. role (as the transcript names it: "assistant", "tool", ...)
 * and text may be NULL (no role; a message without content, such as a
 * tool call): both are copied. Returns AC_OK; AC_E_INVALID_ARG (no such
 * participant); AC_E_TOO_LARGE (past AC_EPISODE_MAX_MESSAGES);
 * AC_E_NO_MEMORY. A failed call changes nothing. */
AC_API AC_NODISCARD int ac_episode_add_message(ac_episode *ep,
                                               uint32_t participant,
                                               const char *role,
                                               const char *text,
                                               uint32_t *index);
/* The host's id of the episode (a file name, a task id; NUL-terminated,
 * copied; NULL: none, the default), carried into the signals. */
AC_API AC_NODISCARD int ac_episode_set_id(ac_episode *ep, const char *id);
/* The id, or NULL; owned by the episode. NULL for NULL. */
AC_API const char *ac_episode_id(const ac_episode *ep);

/* Optional relations of a message: the earlier message it replies to or
 * depends on (parent < message; UINT32_MAX: none, the default), and its
 * token span [begin, end) in the trained model's tokenization of the
 * transcript (begin <= end <= INT64_MAX; both UINT64_MAX: none, the
 * default). Carried
 * to the signals for the trainer; the pipeline computes nothing from them.
 * AC_E_INVALID_ARG otherwise. */
AC_API AC_NODISCARD int ac_episode_set_parent(ac_episode *ep,
                                              uint32_t message,
                                              uint32_t parent);
AC_API AC_NODISCARD int ac_episode_set_token_span(ac_episode *ep,
                                                  uint32_t message,
                                                  uint64_t begin,
                                                  uint64_t end);
/* Tool calls, as the OpenAI Chat Completions and TRL chat formats carry
 * them (since ABI 1.1; docs/format.md): carried to the exports for the
 * trainer, never read by the pipeline (a verifier reads the calls in the
 * text, where the importers also write them).
 *
 * ac_episode_set_tool_calls: the calls message `message` made, a JSON
 * array of len bytes (UTF-8, need not be NUL-terminated; parsed with
 * jansson, which allocates with its own allocator) of
 *   {"id": "call_1", "type": "function",
 *    "function": {"name": "lookup", "arguments": "{\"q\": 1}"}}
 * "id" may be absent (logs without ids), "type" must be "function" and may
 * be absent, "name" is a non-empty string, "arguments" a string (JSON text
 * as the model wrote it; kept as given, character for character) or an
 * object. The episode keeps the calls in a canonical text: compact, keys
 * in that order, "type" always written, an object's numbers as the
 * episode writer writes them. An empty array, or json NULL, removes them.
 * A key the format does not have, any other value, or a text that is not
 * JSON: AC_E_INVALID_ARG, naming the field ("tool_calls[0].function.name:
 * a string is needed"), and nothing changes.
 *
 * ac_episode_set_tool_call_id: the tool call a tool's message answers
 * (its "id"); ac_episode_set_message_name: the message's "name" (on a
 * tool's message the function's name; on another the speaker's name in
 * the chat format, which need not be the participant's). Both: a
 * non-empty UTF-8 string, copied, or NULL to remove it (the default);
 * AC_E_INVALID_ARG for an empty or non-UTF-8 string or a message out of
 * range. AC_E_NO_MEMORY from any of the three changes nothing. */
AC_API AC_NODISCARD int ac_episode_set_tool_calls(ac_episode *ep,
                                                  uint32_t message,
                                                  const char *json,
                                                  size_t len);
AC_API AC_NODISCARD int ac_episode_set_tool_call_id(ac_episode *ep,
                                                    uint32_t message,
                                                    const char *tool_call_id);
AC_API AC_NODISCARD int ac_episode_set_message_name(ac_episode *ep,
                                                    uint32_t message,
                                                    const char *name);

/* How the episode ended and what it is judged against (docs/signals.md,
 * "Episodes: success, failure and the reference"):
 *   outcome    R, the evaluator's score (finite; required by the pipeline)
 *   threshold  success is R >= threshold (finite; default 0.5)
 *   reference  what R is judged against: the group's mean outcome, an
 *              expected success rate (finite; default: unset, and the
 *              threshold serves). The agents' credits add up to
 *              R - reference: a failure below the reference is penalised,
 *              a success above it rewarded.
 *   baseline   v(empty), the outcome with no agent acting (finite;
 *              default: unset, and the oracle is asked for it)
 * AC_E_INVALID_ARG for a value that is not finite. Any of them may be set
 * again; ac_episode_clear_reference / _baseline unset them. */
AC_API AC_NODISCARD int ac_episode_set_outcome(ac_episode *ep, double outcome);
AC_API AC_NODISCARD int ac_episode_set_threshold(ac_episode *ep,
                                                 double threshold);
AC_API AC_NODISCARD int ac_episode_set_reference(ac_episode *ep,
                                                 double reference);
AC_API AC_NODISCARD int ac_episode_set_baseline(ac_episode *ep,
                                                double baseline);
AC_API void ac_episode_clear_reference(ac_episode *ep);
AC_API void ac_episode_clear_baseline(ac_episode *ep);
/* A coalition value the host knows (over the agent indices: bit a of the
 * coalition is agent a; words = ac_coalition_words(agents) for the agents
 * added so far, so add every agent first). v(all) is the outcome unless
 * given here. Giving a coalition again replaces its value. Known values
 * cost the oracle nothing. AC_E_INVALID_ARG: no agent yet, wrong words, a
 * bit past the agents, a value that is not finite. */
AC_API AC_NODISCARD int ac_episode_set_value(ac_episode *ep,
                                             const uint64_t *coalition,
                                             uint32_t words, double value);
/* A label the host gives a message in [-1, 1] (helpful > 0 > harmful):
 * taken as given by the pipeline (fixed), instead of the scorer's, unless
 * a localized failure's blame labels replace every label. A non-player
 * message takes no label (AC_E_INVALID_ARG). */
AC_API AC_NODISCARD int ac_episode_set_label(ac_episode *ep, uint32_t message,
                                             double label);
/* An annotation: the first erroneous message as a human labelled it
 * (UINT32_MAX: the episode has none; the default). It must be an agent's
 * message. The pipeline can use it as an exact verifier
 * (AC_VERIFIER_SOURCE_ANNOTATION) and reports it beside its own result. */
AC_API AC_NODISCARD int ac_episode_set_first_error_label(ac_episode *ep,
                                                         uint32_t message);

/* Reading an episode back. Counts: participants, agents, messages. A
 * participant: its name (owned by the episode, valid until it is freed)
 * and kind; ac_episode_agent_of gives the agent index of a participant
 * (AC_E_INVALID_ARG for a non-player). A message: its participant, role
 * and text (NULL when not given; owned by the episode), parent and token
 * span (UINT32_MAX, UINT64_MAX: none). Any output pointer may be NULL.
 * AC_E_INVALID_ARG for an index out of range. Thread-safe for readers. */
AC_API AC_NODISCARD int ac_episode_counts(const ac_episode *ep,
                                          uint32_t *participants,
                                          uint32_t *agents,
                                          uint32_t *messages);
AC_API AC_NODISCARD int ac_episode_participant(const ac_episode *ep,
                                               uint32_t index,
                                               const char **name,
                                               int32_t *kind);
AC_API AC_NODISCARD int ac_episode_agent_of(const ac_episode *ep,
                                            uint32_t participant,
                                            uint32_t *agent);
AC_API AC_NODISCARD int ac_episode_message(const ac_episode *ep,
                                           uint32_t index,
                                           uint32_t *participant,
                                           const char **role,
                                           const char **text);
AC_API AC_NODISCARD int ac_episode_message_links(const ac_episode *ep,
                                                 uint32_t index,
                                                 uint32_t *parent,
                                                 uint64_t *token_begin,
                                                 uint64_t *token_end);
/* A message's tool keys (since ABI 1.1): its tool calls as their
 * canonical JSON text (a NUL-terminated array, see
 * ac_episode_set_tool_calls), its tool_call_id and its name; NULL when
 * not given. Owned by the episode, valid until that key of the message is
 * set again or the episode is freed. */
AC_API AC_NODISCARD int ac_episode_message_tools(const ac_episode *ep,
                                                 uint32_t index,
                                                 const char **tool_calls,
                                                 const char **tool_call_id,
                                                 const char **name);
/* The outcome fields: *is_set (may be NULL) says whether the field was
 * given (the threshold always is: 0.5 by default). AC_E_INVALID_ARG for an
 * unknown field. */
typedef enum ac_episode_field {
    AC_EPISODE_FIELD_OUTCOME = 1,
    AC_EPISODE_FIELD_THRESHOLD = 2,
    AC_EPISODE_FIELD_REFERENCE = 3,
    AC_EPISODE_FIELD_BASELINE = 4
} ac_episode_field;
AC_API AC_NODISCARD int ac_episode_get_f64(const ac_episode *ep,
                                           int32_t field, double *value,
                                           int *is_set);
/* Labels given (NaN for a message without one) and the first-error
 * annotation (UINT32_MAX: none). n must equal the message count. */
AC_API AC_NODISCARD int ac_episode_labels(const ac_episode *ep,
                                          double *labels, uint32_t n);
AC_API AC_NODISCARD int ac_episode_first_error_label(const ac_episode *ep,
                                                     uint32_t *message);
/* The known coalition values: count, then the k-th (coalition in
 * `words` = ac_coalition_words(agents) words). */
AC_API AC_NODISCARD int ac_episode_known_count(const ac_episode *ep,
                                               uint32_t *count);
AC_API AC_NODISCARD int ac_episode_known_value(const ac_episode *ep,
                                               uint32_t k, uint64_t *coalition,
                                               uint32_t words, double *value);

/* ===================================================================== */
/* The pipeline: an episode in, every signal out                         */
/* ===================================================================== */

/* ac_pipeline_run(p, ep) computes every training signal of one episode,
 * wiring the three objects above as docs/signals.md ("The pipeline")
 * describes; the result equals the same objects driven by hand:
 *   1. Credit. The estimator over the episode's agents with the oracle
 *      (known values cost nothing; v(all) = R unless given; v(empty) = the
 *      baseline when given). The Shapley values phi_i of that game add up
 *      to v(all) - v(empty); the credits are
 *        c_i = phi_i + (R - reference - sum_j phi_j) / n,
 *      the Shapley values of the same game with v(empty) replaced by the
 *      reference (when v(all) = R), so that they add up to R - reference
 *      exactly: a failure below the reference is penalised and a success
 *      above it rewarded. No reference given: the success threshold.
 *   2. Failure (R < threshold) with a verifier (AC_PIPELINE_PARAM_VERIFIER):
 *      the localizer over the agents' messages: the prefix of agent
 *      message k ends where the next agent message begins (the tools'
 *      outputs and the user's replies after it are its consequences), so
 *      the verifier is asked about those transcript prefixes and the first
 *      error is always an agent's message; then blame labels and the
 *      repair-aware preference pair (the repair callback is told the
 *      erroneous message's transcript position).
 *   3. Labels of the agents' messages: the blame labels of a localized
 *      failure; else the labels the episode gives; else the scorer's; else
 *      0 (neutral: an equal split within the bound).
 *   4. Rewards: the refiner over the agents' messages, conserving each
 *      agent's credit; a non-player's message gets 0, always.
 * One pipeline serves any number of episodes, one at a time; its
 * callbacks and parameters stay set. The episode must not change while a
 * run reads it. Not thread-safe for one pipeline;
 * give each thread its own. Inside a callback of its run, the setters and
 * ac_pipeline_run return AC_E_BUSY, the result getters AC_E_STATE, and
 * the pipeline and the episode must not be freed; ac_pipeline_cancel is
 * allowed. The callbacks run on the thread that called ac_pipeline_run. */
typedef struct ac_pipeline ac_pipeline;

/* Where a failed episode's verdicts come from (AC_PIPELINE_PARAM_VERIFIER). */
typedef enum ac_verifier_source {
    AC_VERIFIER_SOURCE_CALLBACK = 0,   /* the verifier callback; none set:
                                          no localization                 */
    AC_VERIFIER_SOURCE_ANNOTATION = 1, /* the episode's first-error label,
                                          as an exact verifier: prefix 0..t
                                          is on track iff t < the label   */
    AC_VERIFIER_SOURCE_NONE = 2        /* no localization                 */
} ac_verifier_source;

/* The pipeline's own parameters. ac_pipeline_set_int/_f64 also take every
 * AC_ESTIMATOR_PARAM_*, AC_REFINER_PARAM_* and AC_LOCALIZER_PARAM_*: they
 * are checked against that object's bounds when set and given to it on
 * every run. */
typedef enum ac_pipeline_param {
    /* int: an ac_verifier_source. Default AC_VERIFIER_SOURCE_CALLBACK. */
    AC_PIPELINE_PARAM_VERIFIER = 400,
    /* int: the host's id of the next episode, carried into its preference
     * pair. [0, INT64_MAX], default 0. */
    AC_PIPELINE_PARAM_EPISODE_ID = 401
} ac_pipeline_param;

/* Flags of a message in the pipeline's result (ac_pipeline_message_flags):
 * the refiner's AC_MESSAGE_FLAG_* and these. */
#define AC_MESSAGE_FLAG_NON_PLAYER 4u /* a non-player's: never rewarded  */

typedef enum ac_pipeline_audit_key {
    AC_PIPELINE_AUDIT_SUCCESS = 1,      /* 1: R >= threshold               */
    AC_PIPELINE_AUDIT_LOCALIZED = 2,    /* 1: the localizer ran            */
    AC_PIPELINE_AUDIT_LABELS = 3,       /* an ac_label_source: where the
                                           refiner's labels came from      */
    AC_PIPELINE_AUDIT_REFERENCE_GIVEN = 4, /* 1: the episode's reference;
                                              0: the threshold served     */
    AC_PIPELINE_AUDIT_METHOD = 5,       /* the estimator's method used     */
    AC_PIPELINE_AUDIT_ORACLE_EVALUATIONS = 6,   /* estimator evaluations  */
    AC_PIPELINE_AUDIT_VERIFIER_EVALUATIONS = 7, /* localizer evaluations,
                                                   search and scan        */
    AC_PIPELINE_AUDIT_SCORER_EVALUATIONS = 8,   /* refiner evaluations    */
    AC_PIPELINE_AUDIT_RELAXED_AGENTS = 9        /* agents the refiner
                                                   relaxed                */
} ac_pipeline_audit_key;

/* Where the refiner's labels came from (AC_PIPELINE_AUDIT_LABELS). */
typedef enum ac_label_source {
    AC_LABEL_SOURCE_NEUTRAL = 0, /* none: every label 0                   */
    AC_LABEL_SOURCE_GIVEN = 1,   /* the episode's labels (0 where absent) */
    AC_LABEL_SOURCE_SCORER = 2,  /* the scorer, for every message the
                                    episode gives no label                */
    AC_LABEL_SOURCE_BLAME = 3    /* the localizer's blame labels          */
} ac_label_source;

/* Creates a pipeline: no callbacks, every parameter at its default.
 * alloc may be NULL; the objects of each run use it too. */
AC_API AC_NODISCARD int ac_pipeline_create(ac_pipeline **out,
                                           const ac_allocator *alloc);
AC_API void ac_pipeline_free(ac_pipeline *p); /* NULL ok */
/* Typed parameters: the pipeline's own and the three objects' (above).
 * AC_E_PARAM_UNSUPPORTED, AC_E_INVALID_ARG (wrong type),
 * AC_E_PARAM_OUT_OF_BOUND as for each object. Sticky across runs. */
AC_API AC_NODISCARD int ac_pipeline_set_int(ac_pipeline *p, int32_t param,
                                            int64_t value);
AC_API AC_NODISCARD int ac_pipeline_get_int(const ac_pipeline *p,
                                            int32_t param, int64_t *value);
AC_API AC_NODISCARD int ac_pipeline_set_f64(ac_pipeline *p, int32_t param,
                                            double value);
AC_API AC_NODISCARD int ac_pipeline_get_f64(const ac_pipeline *p,
                                            int32_t param, double *value);
/* The callbacks, as each object defines them, over the whole episode: the
 * oracle's coalitions are over the agent indices, the verifier's prefixes
 * and the scorer's and repair's messages are positions in the transcript.
 * fn NULL unregisters. user is the caller's. */
AC_API AC_NODISCARD int ac_pipeline_set_oracle(ac_pipeline *p,
                                               ac_oracle_fn fn, void *user);
AC_API AC_NODISCARD int ac_pipeline_set_verifier(ac_pipeline *p,
                                                 ac_verifier_fn fn,
                                                 void *user);
AC_API AC_NODISCARD int ac_pipeline_set_scorer(ac_pipeline *p,
                                               ac_scorer_fn fn, void *user);
AC_API AC_NODISCARD int ac_pipeline_set_repair(ac_pipeline *p,
                                               ac_repair_fn repair,
                                               ac_candidate_fn check,
                                               void *user);
/* Computes every signal of the episode (read only; the caller keeps it
 * alive and unchanged during the call) with the callbacks: it is
 * ac_pipeline_start(p, ep, the AC_SERVES_* of the callbacks set) and a
 * loop over ac_pipeline_ask/_tell that gives each batch of work to its
 * callback (the batch sizes the objects' AC_*_PARAM_BATCH), so its result
 * equals the ask/tell path's. A callback returning non-zero fails the run
 * with AC_E_CALLBACK, except the verifier's during the corrective scan,
 * which ends the scan (as ac_localizer_run). The result replaces the
 * previous run's. Returns AC_OK; AC_E_INVALID_ARG (p or ep NULL: nothing
 * changes); AC_E_BUSY (from inside a callback); AC_E_STATE (no outcome, no
 * agent, no message of an agent, or values the estimator needs and no
 * oracle); the error of the stage that failed (AC_E_BUDGET, AC_E_ORACLE,
 * AC_E_CALLBACK, AC_E_CANCELLED, AC_E_INFEASIBLE, AC_E_TOO_LARGE,
 * AC_E_NO_MEMORY...), last_error naming the stage. A failed run leaves no
 * result (the getters: AC_E_STATE). */
AC_API AC_NODISCARD int ac_pipeline_run(ac_pipeline *p, const ac_episode *ep);
/* Stops the run: the next ask (or the next batch of ac_pipeline_run)
 * fails it with AC_E_CANCELLED. Safe from any thread; a no-op on NULL or
 * between runs (a new start forgets it). */
AC_API void ac_pipeline_cancel(ac_pipeline *p);

/* Ask/tell: the same run as work for a host that serves it elsewhere (a
 * cluster, an async pool, another process), through one loop:
 *   ac_pipeline_start(p, ep, serves)   begins the run of one episode;
 *   ac_pipeline_ask(p, max, work, ...) hands out up to max pieces of work
 *       of one kind (one stage at a time: the credit's coalitions, then a
 *       failure's prefixes, its repair and candidate checks, then the
 *       scores), or count 0 when the run is done (see progress) or waits
 *       for outstanding tells; an ask moves the run to its next stage
 *       once the last one's answers are in;
 *   ac_pipeline_tell(p, ...)           takes the answers back by ticket;
 *   ac_pipeline_tell_repair(p, ...)    takes a repair's candidates.
 * Tickets are never reused over the pipeline's life; a tell is checked
 * whole before any of it is taken, and the answers follow the answer
 * rule at the top of this file: a status != 0 or a value that is not
 * finite is a failed answer, asked again under a new ticket up to the
 * stage's retries; a finite probability outside [0, 1] or label outside
 * [-1, 1] refuses the tell (AC_E_INVALID_ARG, nothing taken). Where a
 * stage's answers come from without the host (the episode's values, the
 * annotation verifier, the episode's labels), no work is handed out for
 * them. The result is read with the getters above once progress says
 * done; it equals ac_pipeline_run's with the same answers, whatever the
 * ask sizes and the order of the tells. Setters return AC_E_STATE while
 * a run is under way (started, not ended); starting again abandons it. */

/* What a piece of work is (ac_work.kind) and what answers it. */
typedef enum ac_work_kind {
    AC_WORK_KIND_VALUE = 1,  /* v(S) of the coalition of agents handed out with
                           it: a finite value (ac_pipeline_tell)          */
    AC_WORK_KIND_PREFIX = 2, /* is the transcript [0, message] on track: a
                           probability in [0, 1] (ac_pipeline_tell)       */
    AC_WORK_KIND_SCORE = 3,  /* a label in [-1, 1] for message `message`
                           (ac_pipeline_tell)                             */
    AC_WORK_KIND_REPAIR = 4, /* up to max_count replacements of message
                           `message`, the first error, as host ids
                           (ac_pipeline_tell_repair)                      */
    AC_WORK_KIND_CHECK = 5   /* is [0, message) followed by candidate
                           `candidate` on track: a probability in [0, 1]
                           (ac_pipeline_tell)                             */
} ac_work_kind;

/* The work a host serves (ac_pipeline_start's serves). Coalition values
 * the episode does not give are always asked (VALUE work): no run ends
 * without them. */
#define AC_SERVES_VERIFIER 1u /* PREFIX work: verdicts of a failure, when
                                 AC_PIPELINE_PARAM_VERIFIER is
                                 AC_VERIFIER_SOURCE_CALLBACK (the default) */
#define AC_SERVES_SCORER 2u   /* SCORE work: labels of the messages the
                                 episode gives none, on an episode that is
                                 not localized                          */
#define AC_SERVES_REPAIR 4u   /* REPAIR and CHECK work: the candidates of
                                 a repair-aware preference pair          */

/* One piece of work. Positions are in the transcript (0 .. messages-1). */
typedef struct ac_work {
    uint64_t ticket;     /* what the answer is told back with            */
    int32_t kind;        /* AC_WORK_KIND_*                                    */
    uint32_t message;    /* PREFIX: the prefix's last message; SCORE: the
                            message; REPAIR, CHECK: the first error       */
    uint32_t max_count;  /* REPAIR: candidates at most; 0 otherwise       */
    uint32_t reserved;   /* 0                                             */
    uint64_t candidate;  /* CHECK: the host's id of the candidate; 0
                            otherwise                                     */
} ac_work;

/* Begins the run of ep (read only: the caller keeps it alive and
 * unchanged until the run ends) for a host that serves `serves`
 * (AC_SERVES_* flags), abandoning any run under way and the previous
 * result. Returns AC_OK; AC_E_INVALID_ARG (p or ep NULL, an unknown flag:
 * nothing changes); AC_E_BUSY (from inside a callback); AC_E_STATE (no
 * outcome, no agent, an agent without a message), AC_E_NO_MEMORY, or the
 * credit stage's setup error (the run has then failed). */
AC_API AC_NODISCARD int ac_pipeline_start(ac_pipeline *p, const ac_episode *ep,
                                          uint32_t serves);
/* Hands out up to max_count pieces of work into work[0 .. *count), all of
 * one kind. VALUE work k's coalition (over the agent indices, as
 * ac_coalition_words) is written to coalitions + k * words: coalitions
 * must have room for max_count coalitions of words >=
 * ac_coalition_words(agents) words whenever the run may still ask values
 * (the credit stage). Returns AC_OK (*count 0: done, or waiting for
 * tells); AC_E_INVALID_ARG (count NULL, work NULL with max_count > 0, no
 * room for coalitions: nothing handed out); AC_E_STATE (no run started);
 * AC_E_BUSY; or the run's error when it has failed (AC_E_CANCELLED after
 * ac_pipeline_cancel, and every error of ac_pipeline_run). */
AC_API AC_NODISCARD int ac_pipeline_ask(ac_pipeline *p, uint32_t max_count,
                                        ac_work *work, uint64_t *coalitions,
                                        uint32_t words, uint32_t *count);
/* answers[k] answers tickets[k] (VALUE, PREFIX, SCORE or CHECK work; any
 * mix handed out and not yet told); status may be NULL (all 0). Returns
 * AC_OK; AC_E_INVALID_ARG (a ticket not outstanding or a REPAIR, an
 * answer out of range: nothing taken, last_error names it); AC_E_STATE
 * (no run waiting); the run's error when this tell ended it (AC_E_ORACLE:
 * an answer failed past its retries). */
AC_API AC_NODISCARD int ac_pipeline_tell(ac_pipeline *p, uint32_t count,
                                         const uint64_t *tickets,
                                         const double *answers,
                                         const int32_t *status);
/* The candidates of a REPAIR ticket: count <= its max_count host ids (0:
 * none). Returns AC_OK; AC_E_INVALID_ARG (not an outstanding REPAIR
 * ticket, too many candidates, candidates NULL with count > 0: nothing
 * taken); AC_E_STATE (no run waiting). */
AC_API AC_NODISCARD int ac_pipeline_tell_repair(ac_pipeline *p,
                                                uint64_t ticket,
                                                const uint64_t *candidates,
                                                uint32_t count);
/* Where the run stands: *done 1 once it has ended (done: the getters
 * answer; failed: ask returns its error) or when none was started,
 * *outstanding the tickets it waits for. Either may be NULL. */
AC_API AC_NODISCARD int ac_pipeline_progress(const ac_pipeline *p,
                                             int32_t *done,
                                             uint64_t *outstanding);

/* The result of the last successful run; AC_E_STATE before one, and
 * AC_E_INVALID_ARG when n is not the episode's count. Credits and their
 * standard errors per agent; the total they add up to (R - reference) and
 * the reference; rewards, labels (NaN for non-players) and flags per
 * message; the first error (*step -1 when the run did not localize or
 * found none; *agent the agent index, UINT32_MAX without an error); the
 * preference pair (kind AC_PAIR_KIND_NONE, reason NOT_LOCALIZED, when no
 * localization ran); the localizer's step flags per message (0 when it did
 * not run); the refiner's agent flags. */
AC_API AC_NODISCARD int ac_pipeline_credits(const ac_pipeline *p, double *phi,
                                            double *se, uint32_t n_agents);
AC_API AC_NODISCARD int ac_pipeline_total(const ac_pipeline *p, double *total,
                                          double *reference);
/* The interactions of the agent pairs and their standard errors, as
 * ac_estimator_interactions gives them (len = n(n-1)/2, condensed order,
 * se may be NULL), when the run's estimator had
 * AC_ESTIMATOR_PARAM_INTERACTIONS set (a pipeline parameter like the
 * estimator's others) and its method ended with them; AC_E_STATE when the
 * run has none. They are those of the game the estimator evaluated
 * (v(empty) the baseline or the oracle's, v(all) R unless given), not
 * moved to the reference as the credits are: that would add the same
 * constant to every pair. */
AC_API AC_NODISCARD int ac_pipeline_interactions(const ac_pipeline *p,
                                                 double *index, double *se,
                                                 size_t len);
AC_API AC_NODISCARD int ac_pipeline_rewards(const ac_pipeline *p,
                                            double *rewards,
                                            uint32_t n_messages);
AC_API AC_NODISCARD int ac_pipeline_labels(const ac_pipeline *p,
                                           double *labels,
                                           uint32_t n_messages);
AC_API AC_NODISCARD int ac_pipeline_message_flags(const ac_pipeline *p,
                                                  uint32_t *flags,
                                                  uint32_t n_messages);
AC_API AC_NODISCARD int ac_pipeline_step_flags(const ac_pipeline *p,
                                               uint32_t *flags,
                                               uint32_t n_messages);
AC_API AC_NODISCARD int ac_pipeline_agent_flags(const ac_pipeline *p,
                                                uint32_t *flags,
                                                uint32_t n_agents);
AC_API AC_NODISCARD int ac_pipeline_first_error(const ac_pipeline *p,
                                                int64_t *step,
                                                uint32_t *agent,
                                                double *probability);
AC_API AC_NODISCARD int ac_pipeline_pair(const ac_pipeline *p,
                                         ac_preference_pair *pair);
/* One figure of the last run's audit (AC_PIPELINE_AUDIT_*). */
AC_API AC_NODISCARD int ac_pipeline_audit(const ac_pipeline *p, int32_t key,
                                          int64_t *value);
/* The message of the last failed call ("" if none); owned by the
 * pipeline, valid until its next call. "" for NULL. */
AC_API const char *ac_pipeline_last_error(const ac_pipeline *p);

/* ===================================================================== */
/* Episodes and signals as JSON (docs/format.md)                         */
/* ===================================================================== */

/* What one JSON text may cost: its bytes, and the memory of its parse
 * (estimated from a scan of the text before jansson builds its tree) and
 * of the episode. Defaults (ac_json_limits_default): 64 MiB and 512 MiB. A
 * field of 0 keeps its default. Past a limit: AC_E_TOO_LARGE naming it,
 * before the memory is taken. */
typedef struct ac_json_limits {
    uint32_t struct_size; /* sizeof(ac_json_limits)                     */
    uint32_t reserved;    /* 0                                          */
    uint64_t max_bytes;   /* bytes of the text                          */
    uint64_t max_memory;  /* bytes the parse and the episode may take   */
} ac_json_limits;
AC_API void ac_json_limits_default(ac_json_limits *limits);

/* Flags of ac_episode_load_json and ac_game_load_json2/_file2. */
#define AC_JSON_STRICT 1u /* an unknown key is an error, not a warning */

/* Parses one episode, an "agentcredit.episode/1" object (docs/format.md;
 * the outcome may be absent, as in an episode written before it was set,
 * and ac_pipeline_run then refuses it),
 * from text (len bytes, need not be NUL-terminated). *out is set on success
 * only. Every number must be finite (JSON has no NaN; a number beyond a
 * double is refused), every index in range, every name known and every
 * participant's name unique. Returns AC_OK; AC_E_PARSE (the message gives
 * the line and column of a syntax error, or the field of any other, as
 * `messages[3].from: no participant "judge"`); AC_E_TOO_LARGE (a limit, or
 * past AC_EPISODE_MAX_* or AC_MAX_PLAYERS agents); AC_E_NO_MEMORY;
 * AC_E_INVALID_ARG (out or text NULL, a malformed alloc or limits, an
 * unknown flag). The message goes to err_buf (NUL-terminated, truncated to
 * err_cap; "" on success) when it is not NULL. Unknown keys are warnings:
 * one line each ("participants[1].colour: unknown key, ignored") written
 * to warn_buf (truncated to warn_cap; "" with none) when it is not NULL;
 * with AC_JSON_STRICT the first is an AC_E_PARSE error instead.
 * Thread-safe (no shared state). */
AC_API AC_NODISCARD int ac_episode_load_json(ac_episode **out,
                                             const char *text, size_t len,
                                             const ac_allocator *alloc,
                                             const ac_json_limits *limits,
                                             uint32_t flags, char *err_buf,
                                             size_t err_cap, char *warn_buf,
                                             size_t warn_cap);
/* Writes the episode as one line of JSON (no newline), the same format,
 * into buf as snprintf does: at most cap - 1 bytes and a NUL when cap > 0;
 * *len (required) receives the length of the whole text, so a *len >= cap
 * means buf was too small (call again with *len + 1 bytes). Loading what
 * it writes gives the same episode. Returns AC_OK; AC_E_INVALID_ARG;
 * AC_E_NO_MEMORY. */
AC_API AC_NODISCARD int ac_episode_write_json(const ac_episode *ep, char *buf,
                                              size_t cap, size_t *len);
/* Writes the last run's signals of `ep` (the episode that run took) as one
 * line of JSON, an "agentcredit.signals/1" object (docs/format.md): the
 * credits with their standard errors, the total and the reference, per
 * message the reward, label and flags (by name), the first error, the
 * preference pair, the audit. The pair's "chosen" is a JSON integer, but
 * a candidate id past INT64_MAX (the uint64 ids are the host's) is its
 * decimal digits as a string, which every JSON reader reads exactly. As
 * ac_episode_write_json for buf, cap and len. It is
 * ac_signals_write_json of ac_pipeline_signals(p, ep): the same text.
 * AC_E_STATE before a successful run; AC_E_INVALID_ARG when ep is not
 * the size of the last run's episode. */
AC_API AC_NODISCARD int ac_pipeline_write_json(const ac_pipeline *p,
                                               const ac_episode *ep,
                                               char *buf, size_t cap,
                                               size_t *len);

/* ===================================================================== */
/* The signals of one episode as data (docs/format.md)                   */
/* ===================================================================== */

/* ac_signals holds the signals of one episode without the pipeline that
 * computed them: a snapshot of a run (ac_pipeline_signals), or a line of
 * a signals file read back (ac_signals_load_json), as the trainer
 * exports do before joining it with its episode. It holds what the
 * "agentcredit.signals/1" format holds: the episode's id, outcome,
 * threshold and names, and the run's figures as the pipeline's getters
 * give them (the pair's `checked` and `episode` are not in the format:
 * 0 after a load). Read only once made, so thread-safe for readers; no
 * call leaves a message behind (the loader and ac_signals_matches write
 * theirs to the caller's buffer). Free with ac_signals_free. */
typedef struct ac_signals ac_signals;

/* A snapshot of the last successful run of p, whose episode was ep (for
 * its id, outcome, threshold and names), in memory from alloc (NULL:
 * malloc): it stays valid after p is freed or runs again. *out is set on
 * success only. Returns AC_OK; AC_E_INVALID_ARG (a NULL argument, a
 * malformed alloc, ep not the size of the run's episode); AC_E_STATE (no
 * successful run, or from inside a callback of one); AC_E_NO_MEMORY. */
AC_API AC_NODISCARD int ac_pipeline_signals(const ac_pipeline *p,
                                            const ac_episode *ep,
                                            const ac_allocator *alloc,
                                            ac_signals **out);
/* Parses one "agentcredit.signals/1" object, as ac_episode_load_json
 * parses an episode: the same arguments, limits, flags, warnings and
 * messages (`messages[3].reward: a number is needed`). Every figure must
 * be finite (null only where the format has it: an infinite standard
 * error, a non-player's label), every name of a flag or an enumeration
 * known, every index in range, and the figures must hold together as a
 * run's do: agent names unique; a message flagged non_player exactly
 * when its sender is no agent, and then with reward 0, label null and
 * no step flag; labels in [-1, 1], probabilities in [0, 1]; total =
 * outcome - reference and the credits adding up to it within a relative
 * 1e-12; audit.success = (outcome >= threshold); the first error an
 * agent's message. The pair's chosen id past INT64_MAX is read from its
 * decimal string. Returns AC_OK; AC_E_PARSE; AC_E_TOO_LARGE;
 * AC_E_NO_MEMORY; AC_E_INVALID_ARG. Thread-safe (no shared state). */
AC_API AC_NODISCARD int ac_signals_load_json(ac_signals **out,
                                             const char *text, size_t len,
                                             const ac_allocator *alloc,
                                             const ac_json_limits *limits,
                                             uint32_t flags, char *err_buf,
                                             size_t err_cap, char *warn_buf,
                                             size_t warn_cap);
/* Writes the signals as one line of JSON, as ac_pipeline_write_json
 * writes the run they were taken from (the same bytes; of a loaded line,
 * the line as the pipeline would have written it). As
 * ac_episode_write_json for buf, cap and len. Returns AC_OK;
 * AC_E_INVALID_ARG; AC_E_NO_MEMORY. */
AC_API AC_NODISCARD int ac_signals_write_json(const ac_signals *s, char *buf,
                                              size_t cap, size_t *len);
AC_API void ac_signals_free(ac_signals *s); /* NULL ok */
/* AC_OK when s are the signals of ep: the same id (or none on both), the
 * same agents by name in order, messages and their senders, and the same
 * outcome when ep has one. Otherwise AC_E_INVALID_ARG, and what differs
 * (`messages[4]: from "critic" in the signals, "coder" in the episode`)
 * in err_buf (NUL-terminated, truncated to err_cap; "" on success) when
 * it is not NULL. */
AC_API AC_NODISCARD int ac_signals_matches(const ac_signals *s,
                                           const ac_episode *ep,
                                           char *err_buf, size_t err_cap);
/* The getters, as the pipeline's (ac_pipeline_credits and the rest):
 * AC_E_INVALID_ARG when n is not the count, or a key unknown. Counts of
 * agents and messages (either pointer may be NULL). */
AC_API AC_NODISCARD int ac_signals_counts(const ac_signals *s,
                                          uint32_t *agents,
                                          uint32_t *messages);
/* The episode's id (NULL: none); agent `agent`'s name (NULL out of
 * range); owned by s, valid until it is freed. */
AC_API const char *ac_signals_id(const ac_signals *s);
AC_API const char *ac_signals_agent_name(const ac_signals *s,
                                         uint32_t agent);
/* Who sent message `message`: the name (owned by s) and the agent index
 * (UINT32_MAX: a non-player); either may be NULL. */
AC_API AC_NODISCARD int ac_signals_message_from(const ac_signals *s,
                                                uint32_t message,
                                                const char **name,
                                                uint32_t *agent);
/* The episode's outcome and success threshold. */
AC_API AC_NODISCARD int ac_signals_outcome(const ac_signals *s,
                                           double *outcome,
                                           double *threshold);
AC_API AC_NODISCARD int ac_signals_credits(const ac_signals *s, double *phi,
                                           double *se, uint32_t n_agents);
/* As ac_pipeline_interactions: AC_E_STATE when the signals have none. */
AC_API AC_NODISCARD int ac_signals_interactions(const ac_signals *s,
                                                double *index, double *se,
                                                size_t len);
AC_API AC_NODISCARD int ac_signals_total(const ac_signals *s, double *total,
                                         double *reference);
AC_API AC_NODISCARD int ac_signals_rewards(const ac_signals *s,
                                           double *rewards,
                                           uint32_t n_messages);
AC_API AC_NODISCARD int ac_signals_labels(const ac_signals *s,
                                          double *labels,
                                          uint32_t n_messages);
AC_API AC_NODISCARD int ac_signals_message_flags(const ac_signals *s,
                                                 uint32_t *flags,
                                                 uint32_t n_messages);
AC_API AC_NODISCARD int ac_signals_step_flags(const ac_signals *s,
                                              uint32_t *flags,
                                              uint32_t n_messages);
AC_API AC_NODISCARD int ac_signals_agent_flags(const ac_signals *s,
                                               uint32_t *flags,
                                               uint32_t n_agents);
AC_API AC_NODISCARD int ac_signals_first_error(const ac_signals *s,
                                               int64_t *step,
                                               uint32_t *agent,
                                               double *probability);
AC_API AC_NODISCARD int ac_signals_pair(const ac_signals *s,
                                        ac_preference_pair *pair);
/* One figure of the audit (AC_PIPELINE_AUDIT_*). */
AC_API AC_NODISCARD int ac_signals_audit(const ac_signals *s, int32_t key,
                                         int64_t *value);

/* ===================================================================== */
/* Trainer exports (docs/trainers.md)                                    */
/* ===================================================================== */

/* ac_export turns one episode and its signals into the records a trainer
 * loads (one JSON object a line): TRL's preference, KTO, reward and
 * stepwise-PRM datasets, verl's rows and per-token rewards, OpenRLHF's
 * prompts, AReaL's per-completion rewards, prime-rl's traces, rLLM's
 * episodes and SkyRL's per-token rewards. Each format, and what the
 * trainer then does with the figures (sums, discounts, masks), is in
 * docs/trainers.md. A record is written only where the trainer can load
 * it; what cannot be written is a skip with its reason (an empty prompt,
 * no pair, a zero reward...), never an error. One handle converts any
 * number of episodes, one at a time; its parameters stay set. Not
 * thread-safe for one handle; handles are independent. The handle owns
 * what it hands out (text, skips, names), valid until its next call. New
 * formats are additions: a format's number never changes meaning. */
typedef struct ac_export ac_export;

typedef enum ac_export_format {
    AC_EXPORT_FORMAT_TRL_DPO = 1,          /* "trl-dpo": conversational DPO pairs */
    AC_EXPORT_FORMAT_TRL_DPO_STANDARD = 2, /* "trl-dpo-standard": string DPO pairs*/
    AC_EXPORT_FORMAT_TRL_REWARD = 3,       /* "trl-reward": reward-model pairs,
                                       with margin                        */
    AC_EXPORT_FORMAT_TRL_KTO = 4,          /* "trl-kto": one message, a label    */
    AC_EXPORT_FORMAT_TRL_PRM = 5,          /* "trl-prm": stepwise labels         */
    AC_EXPORT_FORMAT_VERL = 6,             /* "verl": rows with the keys verl
                                       reads                              */
    AC_EXPORT_FORMAT_VERL_TOKENS = 7,      /* "verl-tokens": per-token rewards   */
    AC_EXPORT_FORMAT_OPENRLHF = 8,         /* "openrlhf": input and label rows   */
    AC_EXPORT_FORMAT_AREAL = 9,            /* "areal": per-completion rewards
                                       undoing AReaL's discount pass      */
    AC_EXPORT_FORMAT_PRIME_RL = 10,        /* "prime-rl": one trace per agent    */
    AC_EXPORT_FORMAT_RLLM = 11,            /* "rllm": one episode, a trajectory
                                       per agent                          */
    AC_EXPORT_FORMAT_SKYRL = 12            /* "skyrl": per-token rewards and loss
                                       mask                               */
} ac_export_format;

/* The format named `name` ("trl-dpo"...), 0 for none; the name of a
 * format (static), NULL for an unknown one. */
AC_API int32_t ac_export_format_from_name(const char *name);
AC_API const char *ac_export_format_name(int32_t format);

/* Where a message's reward goes among its tokens (AC_EXPORT_PARAM_PLACEMENT). */
typedef enum ac_token_placement {
    AC_TOKEN_PLACEMENT_LAST = 0,  /* all of it on the message's last token */
    AC_TOKEN_PLACEMENT_SPREAD = 1 /* an equal share on each of its tokens  */
} ac_token_placement;

typedef enum ac_export_param {
    /* int: an ac_token_placement (verl-tokens, skyrl). Default LAST. */
    AC_EXPORT_PARAM_PLACEMENT = 500,
    /* f64: AReaL's agent.turn_discount, which the exported rewards undo.
     * [0, 1], default 1. */
    AC_EXPORT_PARAM_TURN_DISCOUNT = 501,
    /* int: 1 writes another agent's or a tool's message as "NAME: text"
     * (the trained agent's own never). {0, 1}, default 1. */
    AC_EXPORT_PARAM_SPEAKER_PREFIX = 502,
    /* int: the most tokens a per-token record may have (a response past
     * it is AC_E_TOO_LARGE). [1, 2^26], default 2^20. */
    AC_EXPORT_PARAM_MAX_TOKENS = 503,
    /* string: the system message that stands for an empty conversational
     * prompt; NULL (the default) skips the record (AC_EXPORT_SKIP_REASON_EMPTY_PROMPT):
     * the exporter never invents what the agent was given. */
    AC_EXPORT_PARAM_EMPTY_PROMPT = 510,
    /* string: an episode's group is its id up to the last occurrence of
     * this separator (the id itself without one). "" : the id. Default ":". */
    AC_EXPORT_PARAM_GROUP_SEP = 511,
    /* string: a JSON array of tool schemas written as the "tools" column
     * of every record whose prompt is chat turns read with a chat
     * template's tools (trl-dpo, trl-reward, trl-kto, verl); NULL
     * (default): no column. */
    AC_EXPORT_PARAM_TOOLS = 512,
    /* string: verl's data_source. Default "agentcredit". */
    AC_EXPORT_PARAM_DATA_SOURCE = 513
} ac_export_param;

/* Why a record was not written (ac_export_skip). */
typedef enum ac_export_skip_reason {
    AC_EXPORT_SKIP_REASON_EMPTY_PROMPT = 1,      /* nothing before the message     */
    AC_EXPORT_SKIP_REASON_NO_PAIR = 2,           /* the signals have no pair       */
    AC_EXPORT_SKIP_REASON_NO_CANDIDATE_TEXT = 3, /* a repair pair whose candidate's
                                             text was not loaded            */
    AC_EXPORT_SKIP_REASON_ZERO_REWARD = 4,       /* reward 0: no preference        */
    AC_EXPORT_SKIP_REASON_NO_TOKENS = 5,         /* a message without a token
                                                    span, or no token at all */
    AC_EXPORT_SKIP_REASON_ARGUMENTS_NOT_JSON = 6,/* tool-call arguments that are not
                                             a JSON object                  */
    AC_EXPORT_SKIP_REASON_NOT_TRAINED_AGENT = 7  /* no trained agent in the episode */
} ac_export_skip_reason;

/* The name of a skip reason ("empty_prompt"...; static), NULL unknown. */
AC_API const char *ac_export_skip_name(int32_t reason);

/* Creates an exporter of `format` with every parameter at its default,
 * every agent trained and no candidate loaded; alloc may be NULL
 * (malloc). Returns AC_OK; AC_E_INVALID_ARG (out NULL, an unknown
 * format, a malformed alloc); AC_E_NO_MEMORY. */
AC_API AC_NODISCARD int ac_export_create(ac_export **out, int32_t format,
                                         const ac_allocator *alloc);
AC_API void ac_export_free(ac_export *x); /* NULL ok */
/* The message of the last failed call ("" if none); owned by x, valid
 * until its next call. "" for NULL. */
AC_API const char *ac_export_last_error(const ac_export *x);
AC_API int32_t ac_export_format_of(const ac_export *x); /* 0 for NULL */
/* Typed parameters (AC_EXPORT_PARAM_*), as every object's: AC_OK;
 * AC_E_PARAM_UNSUPPORTED; AC_E_INVALID_ARG (wrong type, NULL, a TOOLS
 * text that is not a JSON array); AC_E_PARAM_OUT_OF_BOUND; AC_E_NO_MEMORY
 * (set_str; nothing changed). set_str copies value (NULL: the default);
 * get_str gives the handle's copy (NULL when unset), valid until the
 * parameter is set again or x is freed. */
AC_API AC_NODISCARD int ac_export_set_int(ac_export *x, int32_t param,
                                          int64_t value);
AC_API AC_NODISCARD int ac_export_get_int(const ac_export *x, int32_t param,
                                          int64_t *value);
AC_API AC_NODISCARD int ac_export_set_f64(ac_export *x, int32_t param,
                                          double value);
AC_API AC_NODISCARD int ac_export_get_f64(const ac_export *x, int32_t param,
                                          double *value);
AC_API AC_NODISCARD int ac_export_set_str(ac_export *x, int32_t param,
                                          const char *value);
AC_API AC_NODISCARD int ac_export_get_str(const ac_export *x, int32_t param,
                                          const char **value);
/* The trained agents, by name (copied): records are written for them
 * only, from their point of view. count 0: every agent (the default). A
 * name an episode does not have is ignored in that episode. Returns
 * AC_OK; AC_E_INVALID_ARG (names NULL with count > 0, a NULL or empty
 * name); AC_E_NO_MEMORY (nothing changed). */
AC_API AC_NODISCARD int ac_export_set_agents(ac_export *x,
                                             const char *const *names,
                                             uint32_t count);
/* The chosen side of repair pairs: a JSON object {"<episode id>":
 * {"<candidate id>": CANDIDATE}} where CANDIDATE is the text (a string)
 * or an assistant message {"role": "assistant", "content": string or
 * null, "tool_calls": [...]} (role optional; no other key). Replaces what
 * was loaded. Limits as ac_episode_load_json (NULL: the defaults).
 * Returns AC_OK; AC_E_PARSE (last_error names the place:
 * `"tau:0"."7": tool_calls: an array is needed`); AC_E_TOO_LARGE;
 * AC_E_NO_MEMORY; AC_E_INVALID_ARG. Nothing changes on failure. */
AC_API AC_NODISCARD int ac_export_load_candidates(ac_export *x,
                                                  const char *text,
                                                  size_t len,
                                                  const ac_json_limits *limits);

/* Converts one episode (read only) with its signals: the records, one
 * JSON object a line each ending in "\n", replace the previous call's
 * (ac_export_text), and so do the skips (ac_export_skip). The signals
 * must be ep's (ac_signals_matches). Returns AC_OK (possibly with no
 * record); AC_E_INVALID_ARG (a NULL argument, signals of another episode,
 * a pair the episode contradicts (its step not its agent's message,
 * prompt_end not the step, a corrective message not the agent's later
 * one), a zero-length token span with a reward, a group or agent name
 * that rLLM would split: last_error names it); AC_E_TOO_LARGE (a record
 * past AC_EXPORT_PARAM_MAX_TOKENS, a figure beyond a double);
 * AC_E_NO_MEMORY. A failed call leaves no record and no skip. */
AC_API AC_NODISCARD int ac_export_episode(ac_export *x, const ac_episode *ep,
                                          const ac_signals *s);
/* The last call's records: *text (owned by x, NUL-terminated; "" with
 * none), its length and the number of records; any pointer may be NULL. */
AC_API AC_NODISCARD int ac_export_text(const ac_export *x, const char **text,
                                       size_t *len, uint32_t *records);
/* The last call's skips: their count, then skip k: its reason
 * (AC_EXPORT_SKIP_REASON_*), the message it concerns (-1: the episode) and the
 * agent's name (NULL: none; owned by x). AC_E_INVALID_ARG past the
 * count. Pointers may be NULL. */
AC_API AC_NODISCARD int ac_export_skip_count(const ac_export *x,
                                             uint32_t *count);
AC_API AC_NODISCARD int ac_export_skip(const ac_export *x, uint32_t k,
                                       int32_t *reason, int64_t *message,
                                       const char **agent);

#ifdef __cplusplus
}
#endif

#endif /* AGENTCREDIT_H */
