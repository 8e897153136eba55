/* A lexical pass over a JSON text, before jansson builds its tree (which
 * does not go through the host's allocator, and can take 80 bytes for each
 * byte of text: "[{},{},...]"). It counts the values of each kind, from
 * which the tree's size is bounded, and finds the first byte no JSON text
 * may hold. Fed in pieces, so that a file is judged while it is read. Every
 * JSON parser of the library (games, episodes) checks its limits with it. */
#ifndef AC_JSON_SCAN_H
#define AC_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

typedef struct ac__json_scan {
    uint64_t bytes, objects, arrays, strings, numbers, literals;
    uint64_t bad_at; /* offset of the first control byte, if bad */
    int bad;         /* that byte + 1, or 0                      */
    int in_string, escape, in_scalar;
} ac__json_scan;

void ac__json_scan_feed(ac__json_scan *s, const char *text, size_t len);
/* An upper bound of what jansson allocates for the scanned text. */
uint64_t ac__json_scan_tree_bytes(const ac__json_scan *s);
/* The values scanned, of every kind. */
uint64_t ac__json_scan_values(const ac__json_scan *s);

#endif
