/* SPDX-License-Identifier: MIT
 *
 * agentcredit import --from who-and-when (bindings/cli/import_whowhen.c) on
 * any bytes as a file's content. The import either reports errors, each
 * with where and what, and hands over no episode, or hands over exactly one
 * episode, whole, that ac_episode_load_json reads back strictly and that
 * writes the same text again (fuzz_import.c); warnings may come with it.
 */
#include <jansson.h>

#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_import f;
    fz_import_init(&f);
    int rc = imp_whowhen_buffer("corpus/who_and_when/7.json",
                                (const char *)data, size, &f.sink);
    FZ_CHECK(rc == 0 || rc == 1, "import = %d", rc);
    FZ_CHECK((uint64_t)rc == f.errors, "returned %d, %llu errors reported",
             rc, (unsigned long long)f.errors);
    FZ_CHECK(f.episodes == (rc == 0 ? 1u : 0u), "%llu episodes, import = %d",
             (unsigned long long)f.episodes, rc);
    if (rc == 0) {
        /* what gave an episode is a JSON object with a history */
        json_t *root = json_loadb((const char *)data, size, 0, NULL);
        FZ_CHECK(json_is_object(root) &&
                     json_array_size(json_object_get(root, "history")) > 0,
                 "an episode from what is not a Who&When file");
        json_decref(root);
    }
    return 0;
}
