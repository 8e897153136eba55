/* SPDX-License-Identifier: MIT
 *
 * agentcredit import --from tau-bench (bindings/cli/import_tau.c) on any
 * bytes: the runs file's content up to the first NUL byte, the labels
 * file's content after it (no NUL: no labels). Labels either load or
 * report an error; then every run either gives one episode, whole, that
 * ac_episode_load_json reads back strictly and that writes the same text
 * again (fuzz_import.c), or one error naming its record; a text that is
 * not JSON, or JSON that holds no runs, is one error.
 */
#include <jansson.h>
#include <string.h>

#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t len = nul ? (size_t)(nul - text) : size;
    fz_import f;
    fz_import_init(&f);
    imp_tau_labels *labels = NULL;
    if (nul != NULL) {
        int lrc = imp_tau_labels_load("labels.json", nul + 1,
                                      size - len - 1, &f.sink, &labels);
        FZ_CHECK(lrc == 0 || lrc == -1, "labels = %d", lrc);
        FZ_CHECK((lrc == 0) == (labels != NULL) &&
                     (lrc == 0 ? f.errors == 0 : f.errors == 1),
                 "labels = %d, %llu errors", lrc,
                 (unsigned long long)f.errors);
        f.errors = 0;
    }
    int rc = imp_tau_buffer("runs.json", text, len, labels, &f.sink);
    imp_tau_labels_finish(labels, "labels.json", &f.sink);
    imp_tau_labels_free(labels);
    FZ_CHECK(rc >= 0, "import = %d", rc);
    FZ_CHECK((uint64_t)rc == f.errors, "returned %d, %llu errors reported",
             rc, (unsigned long long)f.errors);
    /* one episode or one error per run */
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    int array = json_is_array(root), object = json_is_object(root);
    size_t runs = array ? json_array_size(root) : object ? 1 : 0;
    json_decref(root);
    if (runs > 0)
        FZ_CHECK(f.episodes + f.errors == runs, "%zu runs: %llu episodes, "
                 "%llu errors", runs, (unsigned long long)f.episodes,
                 (unsigned long long)f.errors);
    else
        FZ_CHECK(f.episodes == 0 && f.errors == (array ? 0u : 1u),
                 "no run: %llu episodes, %llu errors",
                 (unsigned long long)f.episodes,
                 (unsigned long long)f.errors);
    return 0;
}
