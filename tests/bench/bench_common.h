/* What the benchmark programs under tests/bench share, header-only: their
 * check counter and failure report, clocks, allocation that exits on
 * failure, the listing of a directory's JSON files, and their own random
 * numbers (splitmix64 for seeds and hashes,
 * xoshiro256** seeded through it). The library's generator is not used, on
 * purpose: a benchmark's noise must not depend on the library it measures.
 * Each program includes it once. */
#ifndef AC_BENCH_COMMON_H
#define AC_BENCH_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int g_failures; /* checks that failed: the exit status */

/* Reports a failed check ("FAIL: ...") and counts it. */
static inline void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
    g_failures++;
}

/* A check: on failure, reported and counted by fail(). */
#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond))                                                       \
            fail(__VA_ARGS__);                                             \
    } while (0)

static inline double now_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline double now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A whole decimal number in [lo, hi]: 0, or -1 for anything else. */
static inline int parse_int(const char *s, long long lo, long long hi,
                            long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* calloc that ends the program (exit 2) when memory runs out. */
static inline void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fputs("benchmark: out of memory\n", stderr);
        exit(2);
    }
    return p;
}

/* realloc that ends the program (exit 2) when memory runs out. */
static inline void *xrealloc(void *p, size_t count, size_t size)
{
    void *grown = realloc(p, (count ? count : 1) * (size ? size : 1));
    if (!grown) {
        fputs("benchmark: out of memory\n", stderr);
        exit(2);
    }
    return grown;
}

static inline int bench_strcmp_order(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The paths "DIR/NAME" of the files of dir whose names end in ".json",
 * sorted by `order` over the array's char * elements (strcmp's order, the
 * shell's glob's in the C locale, when NULL); *count of them. NULL when
 * dir cannot be opened (errno says why). The caller frees each path and
 * the array. */
static inline char **list_json_files(const char *dir,
                                     int (*order)(const void *, const void *),
                                     size_t *count)
{
    DIR *d = opendir(dir);
    *count = 0;
    if (!d)
        return NULL;
    size_t n = 0, cap = 16;
    char **paths = xcalloc(cap, sizeof *paths);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (n == cap)
            paths = xrealloc(paths, cap *= 2, sizeof *paths);
        size_t plen = strlen(dir) + len + 2;
        paths[n] = xcalloc(plen, 1);
        snprintf(paths[n++], plen, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(paths, n, sizeof *paths, order ? order : bench_strcmp_order);
    *count = n;
    return paths;
}

static inline uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct xoshiro256 {
    uint64_t s[4];
} xoshiro256;

static inline void xoshiro_seed(xoshiro256 *r, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&st);
}

static inline uint64_t xoshiro_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t xoshiro_next(xoshiro256 *r)
{
    uint64_t *s = r->s;
    uint64_t result = xoshiro_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = xoshiro_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1), 53 random bits. */
static inline double xoshiro_uniform(xoshiro256 *r)
{
    return (double)(xoshiro_next(r) >> 11) * 0x1.0p-53;
}

#endif /* AC_BENCH_COMMON_H */
