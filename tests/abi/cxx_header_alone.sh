#!/usr/bin/env bash
# The public header compiles on its own as C++, first in its translation
# unit, with every warning an error: C++11, 14, 17 and 20 (each the compiler
# knows), -Wall -Wextra -Wpedantic, and the warnings a strict C++ code base
# turns on that a C header most often trips: old-style casts, 0 or NULL as a
# null pointer, implicit conversions, shadowing, casting away const,
# undefined macros in #if. Twice in a row (include guard), and used.
#
#   cxx_header_alone.sh INCLUDE_DIR      (compiler from $CXX, a command line)
set -euo pipefail

incdir=${1:?usage: cxx_header_alone.sh INCLUDE_DIR}
cxx=${CXX:-c++}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/use.cpp" <<'CPP'
#include <agentcredit.h>
#include <agentcredit.h>
int main()
{
    ac_estimator *est = nullptr;
    ac_estimator_free(est);
    ac_preference_pair pair{};
    pair.struct_size = sizeof pair;
    static_assert(AC_VERSION_NUMBER >= 100, "version macro usable in C++");
    return ac_coalition_words(64) == 1 && pair.kind == AC_PAIR_KIND_NONE ? AC_OK : 1;
}
CPP
: > "$tmp/empty.cpp"

# Keep the strict warnings this compiler knows (an unknown -W option is an
# error under -Werror with clang, a silent no-op with gcc).
strict=()
for w in -Wold-style-cast -Wzero-as-null-pointer-constant -Wconversion \
         -Wsign-conversion -Wshadow -Wcast-qual -Wundef -Wredundant-decls; do
    # shellcheck disable=SC2086
    if $cxx -Werror "$w" -fsyntax-only "$tmp/empty.cpp" 2>/dev/null; then
        strict+=("$w")
    fi
done

checked=0
for std in c++11 c++14 c++17 c++20; do
    # shellcheck disable=SC2086
    if ! $cxx -std=$std -fsyntax-only "$tmp/empty.cpp" 2>/dev/null; then
        echo "skip: $std (not supported by $cxx)"
        continue
    fi
    flags=(-std=$std -Wall -Wextra -Wpedantic -Werror "${strict[@]}")
    # shellcheck disable=SC2086
    $cxx "${flags[@]}" -fsyntax-only -x c++ "$incdir/agentcredit.h"
    # shellcheck disable=SC2086
    $cxx "${flags[@]}" -I"$incdir" -c "$tmp/use.cpp" -o "$tmp/use.o"
    echo "ok: agentcredit.h as $std (${flags[*]})"
    checked=$((checked + 1))
done
# C++17 is what the abi suite promises; it must not be skipped.
# shellcheck disable=SC2086
$cxx -std=c++17 -fsyntax-only "$tmp/empty.cpp"
[ "$checked" -gt 0 ]
