/* SPDX-License-Identifier: MIT
 *
 * What the importers' fuzz targets (fuzz_import_whowhen, fuzz_import_tau,
 * fuzz_import_openai, fuzz_import_ag2) share: a sink (bindings/cli/import.h) that checks every episode an
 * importer hands it and every problem it reports, and counts them.
 */
#ifndef AC_FUZZ_IMPORT_H
#define AC_FUZZ_IMPORT_H

#include "fuzz_common.h"
#include "import.h"

typedef struct fz_import {
    imp_sink sink;
    uint64_t episodes, errors, warnings;
    int outcome_optional; /* the format may give no outcome */
} fz_import;

/* A sink whose episode callback checks that the episode is whole (an id,
 * messages, a finite outcome, the threshold 0.5, a first-error annotation
 * only on an agent's message of a failed run), that what
 * ac_episode_write_json writes loads back under AC_JSON_STRICT with no
 * warning and writes the same text again; and whose report callback checks
 * that every problem names where and what. */
void fz_import_init(fz_import *f);

/* The invariants of a file of conversations (imp_records): the import
 * returns the errors it reported, and a file that is one JSON object, or
 * a JSON array of objects holding `list_key`, gives one episode or one
 * error per record. */
void fz_import_check_records(const fz_import *f, int rc, const uint8_t *data,
                             size_t size, const char *list_key);

#endif
