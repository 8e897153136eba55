/* SPDX-License-Identifier: MIT
 *
 * agentcredit import --from ag2 (bindings/cli/import_chat.c) on any bytes
 * as a file's content, twice: with the default rule for non-players and
 * with names given as --non-player gives them. Each time the import
 * returns the errors it reported, each with where and what; a file that is
 * one object or an array of chat results gives one episode or one error
 * per record; every episode is whole and reads back strictly
 * (fuzz_import.c).
 */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const imp_non_player given[] = {
        {"user_proxy", AC_PARTICIPANT_KIND_USER},
        {"Executor", AC_PARTICIPANT_KIND_TOOL},
        {"Planner", AC_PARTICIPANT_KIND_SYSTEM}};
    for (size_t count = 0; count <= 3; count += 3) {
        fz_import f;
        fz_import_init(&f);
        f.outcome_optional = 1;
        int rc = imp_ag2_buffer("corpus/chat_result.json",
                                (const char *)data, size, given, count,
                                &f.sink);
        fz_import_check_records(&f, rc, data, size, "chat_history");
    }
    return 0;
}
