/* SPDX-License-Identifier: MIT
 *
 * The game loader's limits (issue 13, defects 5 and 8): a game text or file
 * may come from someone else, so every size it can ask for is bounded by
 * ac_game_limits, and a bound it passes is refused with AC_E_TOO_LARGE and
 * a message naming the limit, before the memory is taken or the work begun.
 *
 * What each regression test did before the fix:
 *  - empty_terms_attack: 200,000 empty terms of a 65536-player game (4.8 MB)
 *    asked the allocator for 1.6 GB (a dense bitset of n bits per term).
 *  - empty_terms_in_memory: 20,000 such terms (480 KB) asked for 164 MB.
 *  - voting_exact_attack: 56 players, weights summing to 10^6: the exact
 *    values asked for two tables of 456 MB and 4.7e9 steps (23 s).
 *  - voting_prefers_the_table: a 20-player voting game with integer weights
 *    summing to 800,000 took the 269 MB programme where the 8 MB table does.
 *  - stream_past_max_bytes, dev_zero: a pipe or /dev/zero was read until
 *    16 GiB or the memory ran out (45 s and 2.1 GB for /dev/zero); they end
 *    in milliseconds now, holding about max_bytes (a pipe) or 64 KiB.
 *  - regular_file_past_max_bytes: a file was read whole whatever its size.
 *  - directory: "read error", not that the path is a directory.
 *  - non_finite_values: a sum of finite terms beyond a double came back as
 *    AC_OK and infinity from ac_game_value and ac_game_exact.
 *
 * The counting allocator below refuses any single request above
 * REFUSE_ABOVE, so that the old behaviour shows as a refused giant request
 * (and a test failure) instead of gigabytes actually taken.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define MIB ((uint64_t)1 << 20)
#define REFUSE_ABOVE (64 * MIB)

/* ===================================================================== */
/* A counting allocator: every request, the bytes live, their peak       */
/* ===================================================================== */

typedef struct counter {
    uint64_t live, peak, largest, calls;
} counter;

/* A header before each block keeps its size (16 bytes: max_align_t). */
static void *count_alloc(void *opaque, size_t size)
{
    counter *c = opaque;
    c->calls++;
    if (size > c->largest)
        c->largest = size;
    if (size > REFUSE_ABOVE)
        return NULL;
    size_t *p = malloc(size + 16);
    if (p == NULL)
        return NULL;
    p[0] = size;
    c->live += size;
    if (c->live > c->peak)
        c->peak = c->live;
    return (char *)p + 16;
}

static void count_free(void *opaque, void *ptr)
{
    if (ptr == NULL)
        return;
    counter *c = opaque;
    size_t *p = (size_t *)(void *)((char *)ptr - 16);
    c->live -= p[0];
    free(p);
}

static ac_allocator counting(counter *c)
{
    memset(c, 0, sizeof *c);
    ac_allocator a = {sizeof a, 0, count_alloc, count_free, c};
    return a;
}

static ac_game_limits limits_with(uint64_t bytes, uint64_t memory,
                                  uint64_t work)
{
    ac_game_limits lim;
    ac_game_limits_default(&lim);
    if (bytes)
        lim.max_bytes = bytes;
    if (memory)
        lim.max_memory = memory;
    if (work)
        lim.max_exact_work = work;
    return lim;
}

/* ===================================================================== */
/* Texts                                                                  */
/* ===================================================================== */

/* {"n": n, "terms": [{"coef":0,"members":[]}, ... count times]} */
static char *empty_terms(uint32_t n, size_t count, size_t *len)
{
    static const char term[] = "{\"coef\":0,\"members\":[]}";
    size_t cap = 64 + count * (sizeof term);
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    size_t k = (size_t)snprintf(s, cap, "{\"n\":%u,\"terms\":[", n);
    for (size_t t = 0; t < count; t++) {
        if (t > 0)
            s[k++] = ',';
        memcpy(s + k, term, sizeof term - 1);
        k += sizeof term - 1;
    }
    k += (size_t)snprintf(s + k, cap - k, "]}");
    *len = k;
    return s;
}

/* A voting game of 56 players, integer weights summing to total and a
 * quota of half of it. */
static size_t voting56(char *buf, size_t cap, long total)
{
    size_t k = (size_t)snprintf(buf, cap, "{\"n\":56,\"type\":\"voting\","
                                          "\"weights\":[");
    long sum = 0;
    for (int i = 0; i < 56; i++) {
        long w = i < 55 ? total / 56 : total - sum;
        sum += w;
        k += (size_t)snprintf(buf + k, cap - k, "%s%ld", i ? "," : "", w);
    }
    k += (size_t)snprintf(buf + k, cap - k, "],\"quota\":%ld}",
                          total / 2 + 1);
    ck_assert_uint_lt(k, cap);
    return k;
}

/* The game: weights summing to 10^6. */
static size_t voting_attack(char *buf, size_t cap)
{
    return voting56(buf, cap, 1000000);
}

static void assert_names(const char *msg, const char *what)
{
    ck_assert_msg(strstr(msg, what) != NULL, "the message does not name %s: "
                  "%s", what, msg);
}

/* ===================================================================== */
/* The struct                                                            */
/* ===================================================================== */

START_TEST(defaults_as_documented)
{
    ac_game_limits lim;
    memset(&lim, 0xAB, sizeof lim);
    ac_game_limits_default(&lim);
    ck_assert_uint_eq(lim.struct_size, sizeof lim);
    ck_assert_uint_eq(lim.reserved, 0);
    ck_assert_uint_eq(lim.max_bytes, 16 * MIB);
    ck_assert_uint_eq(lim.max_memory, 64 * MIB);
    ck_assert_uint_eq(lim.max_exact_work, (uint64_t)1 << 27);
    ac_game_limits_default(NULL); /* no crash */
}
END_TEST

START_TEST(malformed_limits)
{
    static const char text[] = "{\"n\": 2, \"values\": [0, 1, 1, 2]}";
    ac_game *g = NULL;
    char err[256];
    ac_game_limits lim;
    ac_game_limits_default(&lim);
    lim.struct_size -= 8;
    ck_assert_int_eq(ac_game_load_json(&g, text, strlen(text), NULL, &lim,
                                       err, sizeof err), AC_E_INVALID_ARG);
    assert_names(err, "ac_game_limits");
    ck_assert_int_eq(ac_game_load_file(&g, AC_TEST_DATA_DIR "/games/"
                                       "values3.json", NULL, &lim, err,
                                       sizeof err), AC_E_INVALID_ARG);
    ac_game_limits_default(&lim);
    lim.reserved = 1;
    ck_assert_int_eq(ac_game_load_json(&g, text, strlen(text), NULL, &lim,
                                       err, sizeof err), AC_E_INVALID_ARG);
    ck_assert_ptr_null(g);
}
END_TEST

/* A zeroed struct with one field set changes that limit only. */
START_TEST(zero_keeps_the_default)
{
    static const char text[] = "{\"n\": 2, \"values\": [0, 1, 1, 2]}";
    ac_game_limits lim;
    memset(&lim, 0, sizeof lim);
    lim.struct_size = sizeof lim;
    ac_game *g = NULL;
    ck_assert_int_eq(ac_game_load_json(&g, text, strlen(text), NULL, &lim,
                                       NULL, 0), AC_OK);
    double phi[2];
    ck_assert_int_eq(ac_game_exact(g, phi, 2), AC_OK);
    ck_assert(phi[0] == 1.0 && phi[1] == 1.0);
    ac_game_free(g);
    lim.max_bytes = 10;
    char err[256];
    ck_assert_int_eq(ac_game_load_json(&g, text, strlen(text), NULL, &lim,
                                       err, sizeof err), AC_E_TOO_LARGE);
    assert_names(err, "max_bytes");
}
END_TEST

/* ===================================================================== */
/* Defect 5: memory                                                      */
/* ===================================================================== */

START_TEST(empty_terms_attack)
{
    size_t len;
    char *text = empty_terms(65536, 200000, &len);
    ck_assert_uint_gt(len, 4800000); /* the 4.8 MB */
    counter c;
    ac_allocator a = counting(&c);
    ac_game *g = NULL;
    char err[512];
    int rc = ac_game_load_json(&g, text, len, &a, NULL, err, sizeof err);
    ck_assert_msg(rc == AC_E_TOO_LARGE, "status %s: %s", ac_status_name(rc),
                  err);
    assert_names(err, "max_memory");
    ck_assert_ptr_null(g);
    ck_assert_msg(c.largest <= MIB, "a request of %llu bytes",
                  (unsigned long long)c.largest);
    ck_assert_uint_eq(c.live, 0);
    free(text);
}
END_TEST

/* Within the limits the same shape loads, and costs what its text does. */
START_TEST(empty_terms_in_memory)
{
    size_t len;
    char *text = empty_terms(65536, 20000, &len);
    counter c;
    ac_allocator a = counting(&c);
    ac_game *g = NULL;
    char err[512];
    int rc = ac_game_load_json(&g, text, len, &a, NULL, err, sizeof err);
    ck_assert_msg(rc == AC_OK, "status %s: %s", ac_status_name(rc), err);
    ck_assert_msg(c.peak <= 2 * MIB, "the game of a %zu-byte text holds "
                  "%llu bytes", len, (unsigned long long)c.peak);
    uint32_t n = 0;
    ck_assert_int_eq(ac_game_players(g, &n), AC_OK);
    ck_assert_uint_eq(n, 65536);
    uint64_t *all = calloc(1024, sizeof *all);
    ck_assert_ptr_nonnull(all);
    memset(all, 0xFF, 1024 * sizeof *all);
    double v = -1.0;
    ck_assert_int_eq(ac_game_value(g, all, 1024, &v), AC_OK);
    ck_assert(v == 0.0);
    double *phi = malloc(65536 * sizeof *phi);
    ck_assert_ptr_nonnull(phi);
    ck_assert_int_eq(ac_game_exact(g, phi, 65536), AC_OK);
    ck_assert(th_max_abs(phi, 65536) == 0.0);
    free(phi);
    free(all);
    ac_game_free(g);
    ck_assert_uint_eq(c.live, 0);
    free(text);
}
END_TEST

/* Whatever the game, what goes through the host's allocator stays within
 * max_memory: a load and an exact computation either fit or are refused. */
START_TEST(max_memory_bounds_the_allocator)
{
    char voting[2048];
    size_t vlen = voting56(voting, sizeof voting, 5000); /* 4.5 MB of cells */
    size_t tlen;
    char *terms = empty_terms(4096, 3000, &tlen);
    char table[1 << 17];
    size_t k = (size_t)snprintf(table, sizeof table, "{\"n\":13,\"values\":[");
    for (uint32_t s = 0; s < (1u << 13); s++)
        k += (size_t)snprintf(table + k, sizeof table - k, "%s%u",
                              s ? "," : "", th_popcount64(s));
    k += (size_t)snprintf(table + k, sizeof table - k, "]}");
    const char *texts[] = {voting, terms, table};
    const size_t lens[] = {vlen, tlen, k};
    for (size_t t = 0; t < 3; t++) {
        int loaded = 0, computed = 0;
        for (uint64_t mem = 1024; mem <= 64 * MIB; mem *= 2) {
            counter c;
            ac_allocator a = counting(&c);
            ac_game_limits lim = limits_with(0, mem, (uint64_t)1 << 40);
            ac_game *g = NULL;
            char err[512] = "";
            int rc = ac_game_load_json(&g, texts[t], lens[t], &a, &lim, err,
                                       sizeof err);
            ck_assert_msg(rc == AC_OK || rc == AC_E_TOO_LARGE,
                          "text %zu, max_memory %llu: %s: %s", t,
                          (unsigned long long)mem, ac_status_name(rc), err);
            if (rc == AC_E_TOO_LARGE)
                assert_names(err, "max_memory");
            ck_assert_msg(c.peak <= mem, "text %zu: %llu bytes held at "
                          "max_memory %llu", t, (unsigned long long)c.peak,
                          (unsigned long long)mem);
            if (rc != AC_OK)
                continue;
            loaded = 1;
            uint32_t n = 0;
            ck_assert_int_eq(ac_game_players(g, &n), AC_OK);
            double *phi = malloc(n * sizeof *phi);
            rc = ac_game_exact(g, phi, n);
            ck_assert_msg(rc == AC_OK || rc == AC_E_TOO_LARGE, "%s",
                          ac_game_last_error(g));
            if (rc != AC_OK)
                assert_names(ac_game_last_error(g), "max_memory");
            computed |= rc == AC_OK;
            ck_assert_msg(c.peak <= mem, "text %zu: %llu bytes held at "
                          "max_memory %llu", t, (unsigned long long)c.peak,
                          (unsigned long long)mem);
            free(phi);
            ac_game_free(g);
            ck_assert_uint_eq(c.live, 0);
        }
        /* the range tried covers both answers */
        ck_assert_msg(loaded && computed, "text %zu never computed", t);
    }
    free(terms);
}
END_TEST

/* jansson's tree does not go through the host's allocator: it is bounded
 * by the estimate made before parsing. Measured here through jansson's own
 * allocator hooks (a test-only seam: the library never touches them). */
static uint64_t j_live, j_peak;

static void *j_alloc(size_t size)
{
    size_t *p = malloc(size + 16);
    if (p == NULL)
        return NULL;
    p[0] = size + 16; /* malloc's own overhead, roughly */
    j_live += p[0];
    if (j_live > j_peak)
        j_peak = j_live;
    return (char *)p + 16;
}

static void j_free(void *ptr)
{
    if (ptr == NULL)
        return;
    size_t *p = (size_t *)(void *)((char *)ptr - 16);
    j_live -= p[0];
    free(p);
}

/* The text of one shape: count copies of item in a top-level array. */
static char *repeated(const char *item, size_t count, size_t *len)
{
    size_t il = strlen(item), cap = 16 + count * (il + 1);
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    size_t k = 0;
    s[k++] = '[';
    for (size_t t = 0; t < count; t++) {
        if (t > 0)
            s[k++] = ',';
        memcpy(s + k, item, il);
        k += il;
    }
    s[k++] = ']';
    *len = k;
    return s;
}

START_TEST(parse_tree_within_max_memory)
{
    static const char *const items[] = {
        "[]", "{}", "0", "0.5", "\"\"", "\"abcdefghijklmnopqrstuvwxy\"",
        "{\"a\":0}", "{\"coef\":0,\"members\":[]}", "[[],[]]", "true",
        "{\"a\":0,\"b\":1,\"c\":2,\"d\":3,\"e\":4,\"f\":5,\"g\":6}",
    };
    json_set_alloc_funcs(j_alloc, j_free);
    for (size_t t = 0; t < sizeof items / sizeof items[0]; t++) {
        size_t len;
        char *text = repeated(items[t], 2000, &len);
        /* the smallest max_memory the parse is allowed under */
        uint64_t lo = 1, hi = 256 * MIB;
        while (lo < hi) {
            uint64_t mid = lo + (hi - lo) / 2;
            ac_game_limits lim = limits_with(0, mid, 0);
            ac_game *g = NULL;
            char err[512];
            int rc = ac_game_load_json(&g, text, len, NULL, &lim, err,
                                       sizeof err);
            int refused = rc == AC_E_TOO_LARGE && strstr(err, "parsing");
            if (refused)
                lo = mid + 1;
            else
                hi = mid;
        }
        ac_game_limits lim = limits_with(0, lo, 0);
        ac_game *g = NULL;
        j_live = j_peak = 0;
        int rc = ac_game_load_json(&g, text, len, NULL, &lim, NULL, 0);
        ck_assert_int_eq(rc, AC_E_PARSE); /* parsed, and not a game */
        ck_assert_msg(j_peak > 0, "the jansson seam saw nothing");
        ck_assert_msg(j_peak <= lo, "[%s, ...]: jansson took %llu bytes, "
                      "the estimate allowed %llu", items[t],
                      (unsigned long long)j_peak, (unsigned long long)lo);
        /* and the estimate is not wildly pessimistic */
        ck_assert_msg(lo <= 4 * j_peak + len, "[%s, ...]: estimate %llu for "
                      "%llu bytes", items[t], (unsigned long long)lo,
                      (unsigned long long)j_peak);
        free(text);
    }
    json_set_alloc_funcs(malloc, free);
}
END_TEST

/* ===================================================================== */
/* Defect 5: work                                                        */
/* ===================================================================== */

START_TEST(voting_exact_attack)
{
    char text[2048];
    size_t len = voting_attack(text, sizeof text);
    ck_assert_uint_lt(len, 450);
    counter c;
    ac_allocator a = counting(&c);
    ac_game *g = NULL;
    ck_assert_int_eq(ac_game_load_json(&g, text, len, &a, NULL, NULL, 0),
                     AC_OK);
    double phi[56];
    for (int i = 0; i < 56; i++)
        phi[i] = -7.0;
    int rc = ac_game_exact(g, phi, 56);
    ck_assert_msg(rc == AC_E_TOO_LARGE, "status %s",
                  ac_status_name(rc));
    assert_names(ac_game_last_error(g), "max_exact_work");
    ck_assert(phi[0] == -7.0); /* nothing written */
    ck_assert_msg(c.largest <= MIB, "a request of %llu bytes",
                  (unsigned long long)c.largest);
    ac_game_free(g);

    /* with the work allowed, the memory still is not */
    ac_game_limits lim = limits_with(0, 0, (uint64_t)1 << 40);
    ck_assert_int_eq(ac_game_load_json(&g, text, len, &a, &lim, NULL, 0),
                     AC_OK);
    ck_assert_int_eq(ac_game_exact(g, phi, 56), AC_E_TOO_LARGE);
    assert_names(ac_game_last_error(g), "max_memory");
    ck_assert_msg(c.largest <= MIB, "a request of %llu bytes",
                  (unsigned long long)c.largest);
    ac_game_free(g);
}
END_TEST

/* A voting game with integer weights either way: the cheaper of the
 * programme (cells ~ total weight) and the table (2^n) is taken. With
 * weights 20000 x k_i and quota 20000 x q it is the game of k_i and q, whose
 * programme is small: the two must agree. */
START_TEST(voting_prefers_the_table)
{
    static const int k[20] = {1, 2, 3, 1, 2, 3, 1, 2, 3, 1,
                              2, 3, 1, 2, 3, 1, 2, 3, 1, 2};
    char big[1024], small[1024];
    size_t bl = (size_t)snprintf(big, sizeof big,
                                 "{\"n\":20,\"type\":\"voting\",\"weights\":[");
    size_t sl = (size_t)snprintf(small, sizeof small,
                                 "{\"n\":20,\"type\":\"voting\",\"weights\":[");
    for (int i = 0; i < 20; i++) {
        bl += (size_t)snprintf(big + bl, sizeof big - bl, "%s%d",
                               i ? "," : "", 20000 * k[i]);
        sl += (size_t)snprintf(small + sl, sizeof small - sl, "%s%d",
                               i ? "," : "", k[i]);
    }
    bl += (size_t)snprintf(big + bl, sizeof big - bl, "],\"quota\":%d}",
                           20000 * 21);
    sl += (size_t)snprintf(small + sl, sizeof small - sl, "],\"quota\":21}");
    counter c;
    ac_allocator a = counting(&c);
    ac_game *gb = NULL, *gs = NULL;
    ck_assert_int_eq(ac_game_load_json(&gb, big, bl, &a, NULL, NULL, 0),
                     AC_OK);
    ck_assert_int_eq(ac_game_load_json(&gs, small, sl, NULL, NULL, NULL, 0),
                     AC_OK);
    double pb[20], ps[20];
    int rc = ac_game_exact(gb, pb, 20);
    ck_assert_msg(rc == AC_OK, "%s: %s", ac_status_name(rc),
                  ac_game_last_error(gb));
    ck_assert_int_eq(ac_game_exact(gs, ps, 20), AC_OK);
    th_assert_vec_near(pb, ps, 20, 1e-12, "table against programme");
    ck_assert_msg(c.largest <= 9 * MIB, "a request of %llu bytes",
                  (unsigned long long)c.largest);
    ac_game_free(gb);
    ac_game_free(gs);
}
END_TEST

/* ===================================================================== */
/* Defect 5: input size                                                  */
/* ===================================================================== */

START_TEST(json_text_past_max_bytes)
{
    static const char text[] = "{\"n\": 2, \"values\": [0, 1, 1, 2]}";
    counter c;
    ac_allocator a = counting(&c);
    ac_game_limits lim = limits_with(sizeof text - 2, 0, 0);
    ac_game *g = NULL;
    char err[512];
    ck_assert_int_eq(ac_game_load_json(&g, text, strlen(text), &a, &lim, err,
                                       sizeof err), AC_E_TOO_LARGE);
    assert_names(err, "max_bytes");
    ck_assert_uint_eq(c.calls, 0);
    lim.max_bytes = strlen(text);
    ck_assert_int_eq(ac_game_load_json(&g, text, strlen(text), &a, &lim, err,
                                       sizeof err), AC_OK);
    ac_game_free(g);
}
END_TEST

static char *temp_path(const char *name)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/ac_limits_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    return path;
}

/* A regular file is judged by its size, before a byte is read. */
START_TEST(regular_file_past_max_bytes)
{
    char *path = temp_path("big.json");
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)(2 * MIB)), 0);
    close(fd);
    counter c;
    ac_allocator a = counting(&c);
    ac_game_limits lim = limits_with(MIB, 0, 0);
    ac_game *g = NULL;
    char err[512];
    ck_assert_int_eq(ac_game_load_file(&g, path, &a, &lim, err, sizeof err),
                     AC_E_TOO_LARGE);
    assert_names(err, "max_bytes");
    assert_names(err, path);
    ck_assert_uint_eq(c.calls, 0);
    unlink(path);
    *strrchr(path, '/') = '\0'; /* and its directory */
    rmdir(path);
    free(path);
}
END_TEST

/* A child writes text into a pipe: forever (spaces), or the given text.
 * Returns the read end; *child the writer's pid. */
static int pipe_writer(const char *text, pid_t *child)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        signal(SIGPIPE, SIG_IGN);
        if (text != NULL) {
            size_t len = strlen(text), done = 0;
            while (done < len) {
                ssize_t w = write(fds[1], text + done, len - done);
                if (w <= 0)
                    _exit(1);
                done += (size_t)w;
            }
            _exit(0);
        }
        char spaces[4096];
        memset(spaces, ' ', sizeof spaces);
        while (write(fds[1], spaces, sizeof spaces) > 0)
            ;
        _exit(0);
    }
    close(fds[1]);
    *child = pid;
    return fds[0];
}

static void reap(int fd, pid_t child)
{
    close(fd);
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
}

/* An endless stream stops at max_bytes, holding about that much. Before
 * the fix it was read to 16 GiB or until the memory ran out. */
START_TEST(stream_past_max_bytes)
{
    pid_t child;
    int fd = pipe_writer(NULL, &child);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", fd);
    counter c;
    ac_allocator a = counting(&c);
    ac_game_limits lim = limits_with(MIB, 0, 0);
    ac_game *g = NULL;
    char err[512];
    int rc = ac_game_load_file(&g, path, &a, &lim, err, sizeof err);
    reap(fd, child);
    ck_assert_msg(rc == AC_E_TOO_LARGE, "%s: %s", ac_status_name(rc), err);
    assert_names(err, "max_bytes");
    ck_assert_msg(c.peak <= 2 * MIB + 1, "%llu bytes held",
                  (unsigned long long)c.peak);
    ck_assert_uint_eq(c.live, 0);
}
END_TEST

/* A stream within the limits loads as the same text does. */
START_TEST(stream_within_limits)
{
    pid_t child;
    int fd = pipe_writer("{\"n\": 3, \"type\": \"airport\", "
                         "\"costs\": [1, 2, 3]}", &child);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", fd);
    ac_game *g = NULL;
    char err[512];
    int rc = ac_game_load_file(&g, path, NULL, NULL, err, sizeof err);
    reap(fd, child);
    ck_assert_msg(rc == AC_OK, "%s: %s", ac_status_name(rc), err);
    double phi[3];
    ck_assert_int_eq(ac_game_exact(g, phi, 3), AC_OK);
    const double want[3] = {1.0 / 3, 1.0 / 3 + 0.5, 1.0 / 3 + 0.5 + 1.0};
    th_assert_vec_near(phi, want, 3, 1e-15, "airport from a pipe");
    ac_game_free(g);
}
END_TEST

/* /dev/zero: no JSON text holds a NUL byte, so the first one ends the
 * read. Before the fix: 45 s and 2.1 GB, then "out of memory". */
START_TEST(dev_zero)
{
    if (access("/dev/zero", R_OK) != 0)
        return;
    counter c;
    ac_allocator a = counting(&c);
    ac_game *g = NULL;
    char err[512];
    int rc = ac_game_load_file(&g, "/dev/zero", &a, NULL, err, sizeof err);
    ck_assert_msg(rc == AC_E_PARSE, "%s: %s", ac_status_name(rc), err);
    assert_names(err, "/dev/zero");
    assert_names(err, "0x00");
    ck_assert_msg(c.peak <= MIB, "%llu bytes held",
                  (unsigned long long)c.peak);
    /* and with a generous max_bytes the NUL still ends it at once */
    ac_game_limits lim = limits_with((uint64_t)1 << 40, (uint64_t)1 << 40, 0);
    rc = ac_game_load_file(&g, "/dev/zero", &a, &lim, err, sizeof err);
    ck_assert_int_eq(rc, AC_E_PARSE);
    ck_assert_msg(c.peak <= MIB, "%llu bytes held",
                  (unsigned long long)c.peak);
}
END_TEST

/* ===================================================================== */
/* Defect 8 and the I/O messages                                         */
/* ===================================================================== */

START_TEST(directory)
{
    char *path = temp_path("x");
    char *dir = strdup(path);
    *strrchr(dir, '/') = '\0';
    ac_game *g = NULL;
    char err[512];
    ck_assert_int_eq(ac_game_load_file(&g, dir, NULL, NULL, err, sizeof err),
                     AC_E_IO);
    assert_names(err, dir);
    assert_names(err, "directory");
    ck_assert_ptr_null(g);
    /* a missing file: the system's reason */
    ck_assert_int_eq(ac_game_load_file(&g, path, NULL, NULL, err, sizeof err),
                     AC_E_IO);
    assert_names(err, path);
    assert_names(err, strerror(ENOENT));
    rmdir(dir);
    free(dir);
    free(path);
}
END_TEST

/* ===================================================================== */
/* Finite results only                                                   */
/* ===================================================================== */

START_TEST(non_finite_values)
{
    /* each coefficient finite, their sums not */
    static const char text[] =
        "{\"n\": 2, \"terms\": [{\"coef\": 1e308, \"members\": [0]},"
        " {\"coef\": 1e308, \"members\": [0]}]}";
    ac_game *g = NULL;
    ck_assert_int_eq(ac_game_load_json(&g, text, strlen(text), NULL, NULL,
                                       NULL, 0), AC_OK);
    uint64_t all = 3, one = 2;
    double v = -7.0;
    ck_assert_int_eq(ac_game_value(g, &all, 1, &v), AC_E_TOO_LARGE);
    ck_assert(v == -7.0);
    ck_assert_int_eq(ac_game_value(g, &one, 1, &v), AC_OK);
    ck_assert(v == 0.0);
    double phi[2] = {-7.0, -7.0};
    ck_assert_int_eq(ac_game_exact(g, phi, 2), AC_E_TOO_LARGE);
    ck_assert(phi[0] == -7.0);
    assert_names(ac_game_last_error(g), "player 0");
    /* the oracle fails that evaluation, not the call */
    uint64_t cs[2] = {3, 2};
    double values[2];
    int32_t status[2];
    ck_assert_int_eq(ac_game_oracle(g, cs, 1, 2, values, status), 0);
    ck_assert_int_ne(status[0], 0);
    ck_assert_int_eq(status[1], 0);
    ck_assert(values[1] == 0.0);
    ac_game_free(g);
}
END_TEST

/* Every game of the test and benchmark suites loads and computes under the
 * defaults (the defaults were chosen for it). */
START_TEST(defaults_take_the_suites)
{
    static const char *const files[] = {
        "/games/airport5.json", "/games/bernoulli3.json",
        "/games/gaussian_soum4.json", "/games/glove4.json",
        "/games/soum6.json", "/games/team12_gauss.json",
        "/games/values2_exact.json", "/games/values3.json",
        "/games/voting5.json", "/../bench/games/airport_n50.json",
        "/../bench/games/soum_n50.json", "/../bench/games/team_n10.json",
        "/../bench/games/voting_n50.json",
    };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", AC_TEST_DATA_DIR, files[f]);
        ac_game *g = NULL;
        char err[512];
        int rc = ac_game_load_file(&g, path, NULL, NULL, err, sizeof err);
        ck_assert_msg(rc == AC_OK, "%s: %s", path, err);
        uint32_t n = 0;
        ck_assert_int_eq(ac_game_players(g, &n), AC_OK);
        /* without its "exact": computed */
        json_error_t jerr;
        json_t *doc = json_load_file(path, 0, &jerr);
        ck_assert_ptr_nonnull(doc);
        json_object_del(doc, "exact");
        char *bare = json_dumps(doc, JSON_COMPACT);
        ac_game *h = NULL;
        ck_assert_int_eq(ac_game_load_json(&h, bare, strlen(bare), NULL,
                                           NULL, err, sizeof err), AC_OK);
        double *phi = malloc(n * sizeof *phi), *want = malloc(n * sizeof *want);
        rc = ac_game_exact(h, phi, n);
        ck_assert_msg(rc == AC_OK, "%s: %s", path, ac_game_last_error(h));
        ck_assert_int_eq(ac_game_exact(g, want, n), AC_OK);
        th_assert_vec_near(phi, want, n, 1e-9, files[f]);
        free(phi);
        free(want);
        free(bare);
        json_decref(doc);
        ac_game_free(h);
        ac_game_free(g);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = th_tcase(s, "struct");
    tcase_add_test(tc, defaults_as_documented);
    tcase_add_test(tc, malformed_limits);
    tcase_add_test(tc, zero_keeps_the_default);
    tcase_add_test(tc, defaults_take_the_suites);
    tc = th_tcase(s, "memory");
    tcase_add_test(tc, empty_terms_attack);
    tcase_add_test(tc, empty_terms_in_memory);
    tcase_add_test(tc, max_memory_bounds_the_allocator);
    tcase_add_test(tc, parse_tree_within_max_memory);
    tc = th_tcase(s, "work");
    tcase_add_test(tc, voting_exact_attack);
    tcase_add_test(tc, voting_prefers_the_table);
    tc = th_tcase(s, "input");
    tcase_add_test(tc, json_text_past_max_bytes);
    tcase_add_test(tc, regular_file_past_max_bytes);
    tcase_add_test(tc, stream_past_max_bytes);
    tcase_add_test(tc, stream_within_limits);
    tcase_add_test(tc, dev_zero);
    tcase_add_test(tc, directory);
    tc = th_tcase(s, "finite");
    tcase_add_test(tc, non_finite_values);
    return th_run_suite(s);
}
