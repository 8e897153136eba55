#!/usr/bin/env bash
# ThreadSanitizer over the tests that use threads: test_storm (16 threads,
# their own handles, cancels from one another), test_threads (N handles in
# N threads, cancel from another thread, the handle-free functions) and
# test_protocol (ask/tell and cancel of all three objects). Only the library
# and these three programs are built (-fsanitize=thread): the rest of the
# suite has no threads, and Python cannot load a TSan library unless the
# interpreter is built with TSan too.
#
# Any report fails the script (halt_on_error=1: the first report ends the
# program with TSan's exit code 66).
#
#   bash .ci/tsan.sh                     # from the repository root, or anywhere
#   AC_TSAN_BUILD=dir bash .ci/tsan.sh   # another build directory
#   AC_STORM_RUNS=N bash .ci/tsan.sh     # the storm's runs (default below)
#   CC=clang bash .ci/tsan.sh            # the compiler (default: gcc, else clang)
#
# Installs nothing: it needs gcc with its TSan runtime (Debian's libtsan2,
# which gcc-12 depends on) or clang with libclang-rt-dev, meson, ninja, and
# the build dependencies of .ci/deps.sh.
set -euo pipefail
exec </dev/null

cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$SECONDS
build=${AC_TSAN_BUILD:-build-tsan}
# The storm's default: 4800 runs, about 10 s of CPU under TSan.
storm_runs=${AC_STORM_RUNS:-4800}
tests=(storm threads protocol)

say() { printf 'tsan: %s (%ss)\n' "$*" "$((SECONDS - start))"; }

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
cat >"$probe/p.c" <<'EOF'
#include <pthread.h>
static void *f(void *a) { return a; }
int main(void)
{
    pthread_t t;
    return pthread_create(&t, 0, f, 0) || pthread_join(t, 0);
}
EOF

# A TSan runtime older than the kernel's address-space randomisation
# (vm.mmap_rnd_bits > 28, e.g. Ubuntu 24.04) dies with "unexpected memory
# mapping"; without randomisation (setarch -R) it works.
launcher=()
works() { # works CC: compiles and runs a threaded program under TSan
    "$1" -fsanitize=thread -pthread "$probe/p.c" -o "$probe/p" 2>"$probe/log" ||
        return 1
    "$probe/p" 2>"$probe/log" && return 0
    if grep -q 'unexpected memory mapping' "$probe/log" &&
       command -v setarch >/dev/null 2>&1 &&
       setarch "$(uname -m)" -R "$probe/p" 2>>"$probe/log"; then
        launcher=(setarch "$(uname -m)" -R)
        return 0
    fi
    return 1
}

cc=""
for c in ${CC:-gcc clang}; do
    if command -v "$c" >/dev/null 2>&1 && works "$c"; then
        cc=$c
        break
    fi
done
if [ -z "$cc" ]; then
    echo "tsan: no compiler here builds and runs a -fsanitize=thread program" >&2
    echo "tsan: (gcc needs libtsan2; clang needs libclang-rt-dev). Last try:" >&2
    cat "$probe/log" >&2 || true
    exit 1
fi
say "compiler $cc ($("$cc" --version | head -n1))${launcher[*]:+, run with ${launcher[*]}}"

# b_lundef=false: clang does not link its sanitizer runtime into shared
# libraries, so the library's TSan symbols resolve in the test program.
if [ ! -f "$build/build.ninja" ]; then
    CC=$cc meson setup "$build" -Db_sanitize=thread -Db_lundef=false \
        -Dwerror=true >"$probe/setup.log" 2>&1 || {
        cat "$probe/setup.log" >&2
        exit 1
    }
fi
ninja -C "$build" "${tests[@]/#/tests/unit/test_}"
say "built"

# CK_FORK=no: each program runs in one process, so TSan's exit code is the
# program's. The storm prints its figures on stderr.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
export CK_FORK=no
export AC_STORM_RUNS=$storm_runs
export AC_TEST_DATA="$PWD/tests/data"
status=0
for t in "${tests[@]}"; do
    t0=$SECONDS
    rc=0
    "${launcher[@]}" "./$build/tests/unit/test_$t" || rc=$?
    printf 'tsan: test_%s exit %d in %ss\n' "$t" "$rc" "$((SECONDS - t0))"
    [ "$rc" -eq 0 ] || status=1
done

if [ "$status" -ne 0 ]; then
    say "FAILED (a ThreadSanitizer report or a failed test above)"
    exit 1
fi
say "passed: ${tests[*]} under ThreadSanitizer, storm of $storm_runs runs, in $((SECONDS - start)) s"
