/* SPDX-License-Identifier: MIT
 * A program for `agentcredit signals --oracle-cmd` and the other program
 * options, for the tests (test_cli.sh, signals_external*): it serves every
 * request of protocol "agentcredit.work/1" from a table, and can be told
 * to misbehave on one episode.
 *
 *   test_external_program TABLE.jsonl [MODE ID]
 *   test_external_program --strip KEY,... < TABLE.jsonl
 *
 * TABLE.jsonl holds the episodes as given inline (by "id"): the requests'
 * episodes are the same without their values, labels and annotations.
 *   values    the table's "values" (agents as a set), "outcome" for every
 *             agent, "baseline" for none; null for a coalition the table
 *             lacks (a failed answer)
 *   verdicts  prefix t on track (1) iff t < the table's first_error (an
 *             exact verifier: what --verifier annotations does)
 *   labels    the table's label of the message (0 when it has none)
 *   repair    candidates 10 m + 1 .. 10 m + min(max, 3) for message m
 *   check     candidate c on track with 0.9 when c % 10 == 2, else 0.1
 * Every request is checked against the protocol (its keys and their types);
 * a request that breaks it ends the program with status 4 and a message.
 * MODE ID: on every request about the episode whose id is ID,
 *   die      exit with status 3            garbage  a line that is not JSON
 *   count    one answer too many           nan      NaN as the first answer
 *   range    2.5 as the first answer       hang     sleep, never answer
 *   close    close stdout, keep running    error    refuse: {"error": ...}
 *   null     every answer null (failed)    twice    the reply twice
 * --strip writes the episodes of stdin without the keys named ("label"
 * takes the messages' labels), as the requests' episodes are.
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_EPISODES 256

typedef struct table {
    json_t *episodes[MAX_EPISODES];
    size_t count;
} table;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "test_external_program: %s%s%s\n", what,
            detail ? ": " : "", detail ? detail : "");
    exit(4);
}

static void load_table(const char *path, table *t)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die("cannot open the table", path);
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *ep = json_loads(line, 0, NULL);
        if (ep == NULL || t->count == MAX_EPISODES)
            die("a table line that is not JSON, or too many", path);
        t->episodes[t->count++] = ep;
    }
    free(line);
    fclose(f);
}

static json_t *find(const table *t, const char *id)
{
    for (size_t k = 0; id != NULL && k < t->count; k++) {
        const char *its = json_string_value(
            json_object_get(t->episodes[k], "id"));
        if (its != NULL && strcmp(its, id) == 0)
            return t->episodes[k];
    }
    return NULL;
}

/* 1 when the array of names holds `name`. */
static int holds(json_t *names, const char *name)
{
    size_t k;
    json_t *n;
    json_array_foreach(names, k, n)
    {
        if (json_is_string(n) && strcmp(json_string_value(n), name) == 0)
            return 1;
    }
    return 0;
}

static int same_set(json_t *a, json_t *b)
{
    size_t k;
    json_t *n;
    if (json_array_size(a) != json_array_size(b))
        return 0;
    json_array_foreach(a, k, n)
    {
        if (!holds(b, json_string_value(n)))
            return 0;
    }
    return 1;
}

static size_t agent_count(json_t *ep)
{
    size_t k, agents = 0;
    json_t *p;
    json_array_foreach(json_object_get(ep, "participants"), k, p)
    {
        const char *kind = json_string_value(json_object_get(p, "kind"));
        agents += kind == NULL || strcmp(kind, "agent") == 0;
    }
    return agents;
}

static json_t *value_of(json_t *ep, json_t *coalition)
{
    size_t k;
    json_t *v;
    json_array_foreach(json_object_get(ep, "values"), k, v)
    {
        if (same_set(json_object_get(v, "agents"), coalition))
            return json_copy(json_object_get(v, "value"));
    }
    if (json_array_size(coalition) == 0 && json_object_get(ep, "baseline"))
        return json_copy(json_object_get(ep, "baseline"));
    if (json_array_size(coalition) == agent_count(ep))
        return json_copy(json_object_get(ep, "outcome"));
    return json_null();
}

/* The request's array `key` (every entry checked with `ok`). */
static json_t *array_of(json_t *req, const char *key, int (*ok)(json_t *))
{
    json_t *a = json_object_get(req, key);
    size_t k;
    json_t *e;
    if (!json_is_array(a))
        die("a request without its array", key);
    json_array_foreach(a, k, e)
    {
        if (!ok(e))
            die("a request's array holds a wrong entry", key);
    }
    return a;
}

static int is_index(json_t *e)
{
    return json_is_integer(e) && json_integer_value(e) >= 0;
}

static int is_names(json_t *e)
{
    size_t k;
    json_t *n;
    if (!json_is_array(e))
        return 0;
    json_array_foreach(e, k, n)
    {
        if (!json_is_string(n))
            return 0;
    }
    return 1;
}

static json_int_t index_of(json_t *req, const char *key)
{
    json_t *v = json_object_get(req, key);
    if (!is_index(v))
        die("a request without its index", key);
    return json_integer_value(v);
}

static json_t *serve(json_t *req, const char *kind, json_t *ep)
{
    json_t *out = json_array();
    size_t k;
    json_t *e;
    if (strcmp(kind, "values") == 0) {
        json_array_foreach(array_of(req, "coalitions", is_names), k, e)
            json_array_append_new(out, value_of(ep, e));
    } else if (strcmp(kind, "verdicts") == 0) {
        json_t *fe = json_object_get(json_object_get(ep, "annotations"),
                                     "first_error");
        json_array_foreach(array_of(req, "prefixes", is_index), k, e)
            json_array_append_new(
                out, json_real(!json_is_integer(fe) ||
                               json_integer_value(e) < json_integer_value(fe)));
    } else if (strcmp(kind, "labels") == 0) {
        json_t *msgs = json_object_get(ep, "messages");
        json_array_foreach(array_of(req, "messages", is_index), k, e)
        {
            json_t *m = json_array_get(msgs, (size_t)json_integer_value(e));
            json_t *label = json_object_get(m, "label");
            json_array_append_new(out, label ? json_copy(label) : json_real(0));
        }
    } else if (strcmp(kind, "repair") == 0) {
        json_int_t m = index_of(req, "message"), max = index_of(req, "max");
        for (json_int_t c = 1; c <= max && c <= 3; c++)
            json_array_append_new(out, json_integer(10 * m + c));
    } else if (strcmp(kind, "check") == 0) {
        (void)index_of(req, "message");
        json_array_foreach(array_of(req, "candidates", is_index), k, e)
            json_array_append_new(
                out, json_real(json_integer_value(e) % 10 == 2 ? 0.9 : 0.1));
    } else {
        die("an unknown request", kind);
    }
    return out;
}

static void reply(json_t *answers, const char *kind)
{
    json_t *r = json_object();
    json_object_set_new(r, strcmp(kind, "repair") == 0 ? "candidates"
                                                       : "answers",
                        answers);
    char *text = json_dumps(r, JSON_COMPACT);
    printf("%s\n", text);
    fflush(stdout);
    free(text);
    json_decref(r);
}

/* The reply, spoilt as `mode` says. */
static void misbehave(const char *mode, json_t *answers, const char *kind)
{
    if (strcmp(mode, "die") == 0) {
        exit(3);
    } else if (strcmp(mode, "garbage") == 0) {
        printf("this is not JSON\n");
    } else if (strcmp(mode, "count") == 0) {
        json_array_append_new(answers, json_real(0.5));
        reply(answers, kind);
        return;
    } else if (strcmp(mode, "nan") == 0 || strcmp(mode, "range") == 0) {
        char *rest = json_dumps(answers, JSON_COMPACT);
        const char *tail = strchr(rest, ',');
        printf("{\"answers\":[%s%s}\n", mode[0] == 'n' ? "NaN" : "2.5",
               tail ? tail : "]");
        free(rest);
    } else if (strcmp(mode, "hang") == 0) {
        sleep(1000);
    } else if (strcmp(mode, "close") == 0) {
        fclose(stdout);
        sleep(1000);
    } else if (strcmp(mode, "error") == 0) {
        printf("{\"error\":\"no rollouts for this task\"}\n");
    } else if (strcmp(mode, "null") == 0) {
        size_t n = json_array_size(answers);
        json_array_clear(answers);
        for (size_t k = 0; k < n; k++)
            json_array_append_new(answers, json_null());
        reply(answers, kind);
        return;
    } else if (strcmp(mode, "twice") == 0) {
        /* one write: the tool reads both lines at once */
        char *text = json_dumps(answers, JSON_COMPACT);
        printf("{\"answers\":%s}\n{\"answers\":%s}\n", text, text);
        free(text);
    } else {
        die("an unknown mode", mode);
    }
    json_decref(answers);
    fflush(stdout);
}

/* Each episode of stdin without the keys in the comma-separated list. */
static int strip(const char *keys)
{
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) > 0) {
        json_t *ep = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
        if (ep == NULL)
            die("--strip: a line that is not JSON", line);
        char *list = strdup(keys), *save = NULL;
        for (char *key = strtok_r(list, ",", &save); key != NULL;
             key = strtok_r(NULL, ",", &save)) {
            size_t k;
            json_t *m;
            json_object_del(ep, key);
            json_array_foreach(json_object_get(ep, "messages"), k, m)
                json_object_del(m, key);
        }
        free(list);
        char *text = json_dumps(ep, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", text);
        free(text);
        json_decref(ep);
    }
    free(line);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--strip") == 0)
        return strip(argv[2]);
    if (argc != 2 && argc != 4)
        die("usage: test_external_program TABLE.jsonl [MODE ID]", NULL);
    table t = {{0}, 0};
    load_table(argv[1], &t);
    const char *mode = argc == 4 ? argv[2] : NULL, *bad_id = argv[3];
    char *line = NULL;
    size_t cap = 0;
    json_t *episode = NULL; /* the last one sent */
    while (getline(&line, &cap, stdin) > 0) {
        json_t *req = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
        const char *proto = json_string_value(json_object_get(req, "protocol"));
        const char *kind = json_string_value(json_object_get(req, "request"));
        if (req == NULL || proto == NULL ||
            strcmp(proto, "agentcredit.work/1") != 0 || kind == NULL ||
            !json_is_string(json_object_get(req, "ref")))
            die("not a request", line);
        if (json_object_get(req, "episode") != NULL) {
            json_decref(episode);
            episode = json_incref(json_object_get(req, "episode"));
        }
        if (episode == NULL)
            die("a request before any episode", line);
        const char *id = json_string_value(json_object_get(episode, "id"));
        json_t *ep = find(&t, id);
        if (ep == NULL)
            die("an episode the table lacks", id);
        json_t *answers = serve(req, kind, ep);
        if (mode != NULL && strcmp(id, bad_id) == 0)
            misbehave(mode, answers, kind);
        else
            reply(answers, kind);
        json_decref(req);
    }
    json_decref(episode);
    free(line);
    for (size_t k = 0; k < t.count; k++)
        json_decref(t.episodes[k]);
    return 0;
}
