/* SPDX-License-Identifier: MIT
 *
 * agentcredit import --from openai-chat (bindings/cli/import_chat.c) on
 * any bytes as a file's content: one conversation object, an array of
 * them, a bare list of messages or JSON Lines. The import returns the
 * errors it reported, each with where and what; a file that is one object
 * or an array of conversations gives one episode or one error per record;
 * every episode is whole and reads back strictly (fuzz_import.c).
 */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_import f;
    fz_import_init(&f);
    f.outcome_optional = 1;
    int rc = imp_openai_buffer("corpus/chats.jsonl", (const char *)data,
                               size, &f.sink);
    fz_import_check_records(&f, rc, data, size, "messages");
    return 0;
}
