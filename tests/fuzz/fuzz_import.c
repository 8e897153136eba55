/* SPDX-License-Identifier: MIT
 *
 * The importers' sink for the fuzz targets (fuzz_import.h): every episode
 * an importer writes must read back strictly and write the same text. */
#include "fuzz_import.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *write_episode(const ac_episode *ep)
{
    size_t len = 0;
    FZ_CHECK(ac_episode_write_json(ep, NULL, 0, &len) == AC_OK, "write");
    char *buf = malloc(len + 1);
    FZ_CHECK(buf != NULL, "memory");
    size_t again = 0;
    FZ_CHECK(ac_episode_write_json(ep, buf, len + 1, &again) == AC_OK &&
                 again == len && strlen(buf) == len,
             "write");
    return buf;
}

static void check_whole(const ac_episode *ep, int outcome_optional)
{
    uint32_t parts = 0, agents = 0, messages = 0, first = 0;
    FZ_CHECK(ac_episode_counts(ep, &parts, &agents, &messages) == AC_OK,
             "counts");
    FZ_CHECK(parts > 0 && messages > 0, "an episode of %u participants and "
             "%u messages", parts, messages);
    FZ_CHECK(ac_episode_id(ep) != NULL && ac_episode_id(ep)[0] != '\0',
             "an episode without an id");
    double outcome = NAN, threshold = NAN;
    int set = 0;
    FZ_CHECK(ac_episode_get_f64(ep, AC_EPISODE_FIELD_OUTCOME, &outcome,
                                &set) == AC_OK &&
                 (set ? isfinite(outcome) : outcome_optional),
             "outcome");
    FZ_CHECK(ac_episode_get_f64(ep, AC_EPISODE_FIELD_THRESHOLD, &threshold,
                                NULL) == AC_OK && threshold == 0.5,
             "threshold %g", threshold);
    FZ_CHECK(ac_episode_first_error_label(ep, &first) == AC_OK, "label");
    if (first != UINT32_MAX) {
        uint32_t who = 0, agent = 0;
        FZ_CHECK(first < messages &&
                     ac_episode_message(ep, first, &who, NULL, NULL) ==
                         AC_OK &&
                     ac_episode_agent_of(ep, who, &agent) == AC_OK,
                 "the first error %u is not an agent's message", first);
        FZ_CHECK(set && outcome < threshold, "a first error in a success "
                 "(%g) or without an outcome", outcome);
    }
}

static int on_episode(void *user, const ac_episode *ep)
{
    fz_import *f = user;
    FZ_CHECK(ep != NULL, "no episode");
    check_whole(ep, f->outcome_optional);
    char *text = write_episode(ep);
    ac_episode *back = NULL;
    char err[512], warn[256];
    int rc = ac_episode_load_json(&back, text, strlen(text), NULL, NULL,
                                  AC_JSON_STRICT, err, sizeof err, warn,
                                  sizeof warn);
    FZ_CHECK(rc == AC_OK && warn[0] == '\0',
             "what the importer wrote does not load strictly: %s %s\n%s",
             err, warn, text);
    char *again = write_episode(back);
    FZ_CHECK(strcmp(text, again) == 0, "round trip:\n%s\n%s", text, again);
    free(again);
    free(text);
    ac_episode_free(back);
    f->episodes++;
    return 0;
}

static void on_report(void *user, imp_level level, const char *where,
                      const char *what)
{
    fz_import *f = user;
    FZ_CHECK(level == IMP_ERROR || level == IMP_WARNING, "level %d",
             (int)level);
    FZ_CHECK(where != NULL && where[0] != '\0' && what != NULL &&
                 what[0] != '\0',
             "a report without where or what");
    if (level == IMP_ERROR)
        f->errors++;
    else
        f->warnings++;
}

void fz_import_init(fz_import *f)
{
    memset(f, 0, sizeof *f);
    f->sink.episode = on_episode;
    f->sink.report = on_report;
    f->sink.user = f;
}

void fz_import_check_records(const fz_import *f, int rc, const uint8_t *data,
                             size_t size, const char *list_key)
{
    FZ_CHECK(rc >= 0, "import = %d", rc);
    FZ_CHECK((uint64_t)rc == f->errors, "returned %d, %llu errors reported",
             rc, (unsigned long long)f->errors);
    json_t *root = json_loadb((const char *)data, size,
                              JSON_REJECT_DUPLICATES, NULL);
    size_t records = 0;
    if (json_is_object(root))
        records = 1;
    else if (json_is_array(root) &&
             json_object_get(json_array_get(root, 0), list_key) != NULL &&
             json_object_get(json_array_get(root, 0), "role") == NULL &&
             json_object_get(json_array_get(root, 0), "content") == NULL)
        records = json_array_size(root);
    json_decref(root);
    if (records > 0)
        FZ_CHECK(f->episodes + f->errors == records, "%zu records: %llu "
                 "episodes, %llu errors", records,
                 (unsigned long long)f->episodes,
                 (unsigned long long)f->errors);
}
