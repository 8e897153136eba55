/* lib/common/bits.h: the compiler's bit counting and the plain C fallback
 * (what a compiler without the builtins gets) agree on every kind of word. */
#include "helpers.h"

#include "common/bits.h"

#define AC_NO_BUILTIN_BITS 1
#undef AC_BITS_H
#undef AC__HAVE_BUILTIN_BITS
#define ac__popcount64 plain_popcount64
#define ac__ctz64 plain_ctz64
#include "common/bits.h"
#undef ac__popcount64
#undef ac__ctz64

static uint32_t slow_popcount(uint64_t x)
{
    uint32_t k = 0;
    for (; x != 0; x >>= 1)
        k += (uint32_t)(x & 1u);
    return k;
}

static uint32_t slow_ctz(uint64_t x)
{
    uint32_t k = 0;
    for (; (x & 1u) == 0; x >>= 1)
        k++;
    return k;
}

static void check_word(uint64_t x)
{
    uint32_t want = slow_popcount(x);
    ck_assert_uint_eq(ac__popcount64(x), want);
    ck_assert_uint_eq(plain_popcount64(x), want);
    if (x != 0) {
        ck_assert_uint_eq(ac__ctz64(x), slow_ctz(x));
        ck_assert_uint_eq(plain_ctz64(x), slow_ctz(x));
    }
}

START_TEST(bits_agree_with_a_plain_count)
{
    check_word(0);
    check_word(UINT64_MAX);
    for (uint32_t i = 0; i < 64; i++) {
        check_word((uint64_t)1 << i);
        check_word(~((uint64_t)1 << i));
        check_word(((uint64_t)1 << i) - 1);
    }
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int k = 0; k < 10000; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        check_word(x);
        check_word(x & (x >> 3));
    }
}
END_TEST

static Suite *bits_suite(void)
{
    Suite *s = suite_create("bits");
    TCase *tc = th_tcase(s, "bits");
    tcase_add_test(tc, bits_agree_with_a_plain_count);
    return s;
}

int main(void)
{
    return th_run_suite(bits_suite());
}
