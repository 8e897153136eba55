#include "common/json_scan.h"

/* Bytes jansson 2.13/2.14 takes at most per value, malloc's overhead
 * included (measured with a counting json_set_alloc_funcs: an empty
 * object 238, an empty array 142, a string 94 + its length, a member of
 * an object 126, a number 49, each with its slot in its container; true,
 * false and null are shared, only their slot: 8 to 21 as arrays grow). */
#define SCAN_OBJECT 256u
#define SCAN_ARRAY 160u
#define SCAN_STRING 112u
#define SCAN_NUMBER 56u
#define SCAN_LITERAL 24u

void ac__json_scan_feed(ac__json_scan *s, const char *text, size_t len)
{
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)text[k];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && !s->bad) {
            s->bad = c + 1;
            s->bad_at = s->bytes + k;
        }
        if (s->in_string) {
            if (s->escape)
                s->escape = 0;
            else if (c == '\\')
                s->escape = 1;
            else if (c == '"')
                s->in_string = 0;
            continue;
        }
        int scalar = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                     (c >= 'A' && c <= 'Z') || c == '-' || c == '+' ||
                     c == '.';
        if (scalar && !s->in_scalar) {
            if (c == 't' || c == 'f' || c == 'n')
                s->literals++;
            else
                s->numbers++;
        }
        s->in_scalar = scalar;
        if (c == '"') {
            s->in_string = 1;
            s->strings++;
        } else if (c == '{') {
            s->objects++;
        } else if (c == '[') {
            s->arrays++;
        }
    }
    s->bytes += len;
}

uint64_t ac__json_scan_tree_bytes(const ac__json_scan *s)
{
    return SCAN_OBJECT * s->objects + SCAN_ARRAY * s->arrays +
           SCAN_STRING * s->strings + SCAN_NUMBER * s->numbers +
           SCAN_LITERAL * s->literals + s->bytes;
}

uint64_t ac__json_scan_values(const ac__json_scan *s)
{
    return s->objects + s->arrays + s->strings + s->numbers + s->literals;
}

