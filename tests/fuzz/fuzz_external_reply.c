/* SPDX-License-Identifier: MIT
 *
 * The reply lines of the external programs of 'agentcredit signals'
 * (bindings/cli/external_reply.c, linked in): the first byte picks the
 * request's kind, the second how many answers it asked for (at most that
 * many candidates for a repair), the rest is the reply. The parser either
 * gives exactly what was asked, every answer in its kind's range or a
 * failed one (NaN, status 1), or a refusal or an error with a message,
 * always NUL-terminated within its buffer; and it agrees with jansson on
 * what is JSON.
 */
#include <jansson.h>

#include <math.h>
#include <string.h>

#include "external_reply.h"
#include "fuzz_common.h"

#define WHY_CAP 96 /* small: messages are cut, never overrun */

static void check_answers(ext_kind kind, const double *answers,
                          const int32_t *status, uint32_t count)
{
    double lo = kind == EXT_LABELS ? -1.0 : 0.0;
    for (uint32_t k = 0; k < count; k++) {
        FZ_CHECK(status[k] == 0 || status[k] == 1, "status[%u] = %d", k,
                 (int)status[k]);
        if (status[k] == 1) {
            FZ_CHECK(isnan(answers[k]), "failed answer %u is %g", k,
                     answers[k]);
        } else {
            FZ_CHECK(isfinite(answers[k]), "answer %u is %g", k, answers[k]);
            FZ_CHECK(kind == EXT_VALUES || (answers[k] >= lo &&
                                            answers[k] <= 1.0),
                     "answer %u = %g out of range for %s", k, answers[k],
                     ext_kind_name(kind));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    ext_kind kind = (ext_kind)(data[0] % EXT_KINDS);
    uint32_t count = data[1];
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    double answers[256];
    int32_t status[256];
    uint64_t ids[256];
    uint32_t n_ids = UINT32_MAX;
    char why[WHY_CAP + 8];
    memset(why, 'x', sizeof why);
    ext_reply_status rc = ext_reply_parse(kind, text, len, count, answers,
                                          status, ids, &n_ids, why, WHY_CAP);
    FZ_CHECK(memchr(why, '\0', WHY_CAP) != NULL, "why is not terminated");
    FZ_CHECK(why[WHY_CAP] == 'x', "why written past its capacity");
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    switch (rc) {
    case EXT_REPLY_OK:
        FZ_CHECK(json_is_object(root), "a reply that is not a JSON object");
        FZ_CHECK(why[0] == '\0', "a message with a good reply: %s", why);
        if (kind == EXT_REPAIR) {
            FZ_CHECK(n_ids <= count, "%u candidates, %u asked", n_ids, count);
            FZ_CHECK(json_array_size(json_object_get(root, "candidates")) ==
                         n_ids,
                     "%u candidates read", n_ids);
            for (uint32_t k = 0; k < n_ids; k++)
                FZ_CHECK(ids[k] <= (uint64_t)INT64_MAX, "id %u too big", k);
        } else {
            FZ_CHECK(json_array_size(json_object_get(root, "answers")) ==
                         count,
                     "the answers are not the %u asked", count);
            check_answers(kind, answers, status, count);
        }
        break;
    case EXT_REPLY_REFUSED:
        FZ_CHECK(json_is_string(json_object_get(root, "error")),
                 "a refusal without an error string");
        break;
    case EXT_REPLY_BAD:
        FZ_CHECK(why[0] != '\0', "an error without a message");
        break;
    default:
        FZ_CHECK(0, "ext_reply_parse returned %d", (int)rc);
    }
    json_decref(root);
    return 0;
}
