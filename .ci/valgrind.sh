#!/usr/bin/env bash
# The unit suite (tests/unit, one Check program per file) under valgrind
# memcheck: an invalid read or write, a use of uninitialised memory, or a
# definite leak fails the test (--error-exitcode=1 --leak-check=full
# --errors-for-leak-kinds=definite). CK_FORK=no keeps each program in one
# process, so valgrind sees every test and its exit code is the program's.
#
# The subset. Memcheck runs a program about 40 times slower than -O2, and CI
# has minutes for it, so CI leaves out the programs that alone would take
# minutes (CPU seconds at -O2 on CI's 2-core machine; under memcheck):
#   sampled   ~3 s  (statistical checks over thousands of sampled runs;
#                    over 4 min)
#   threads   ~3 s  (the OddSHAP fits of its N-handle test; over 4 min; the
#                    same ground is covered here by test_storm, and by
#                    .ci/tsan.sh under ThreadSanitizer)
#   longevity ~6 s  (2^24 resets of each handle, tells of 2^20 and 2^21
#                    tickets; over 2 min, AC_TEST_RESETS shortens only the
#                    resets)
# Everything else runs, test_storm with AC_STORM_RUNS=480 (16 threads, all
# three objects, cancels), test_export's out-of-memory loops at every 13th
# allocation (AC_TEST_OOM_STRIDE). AC_VALGRIND_ALL=1 runs the whole suite (the long
# run of docs/reliability.md); docs/reliability.md states the subset too.
#
#   bash .ci/valgrind.sh                        # from anywhere in the clone
#   AC_VALGRIND_ALL=1 bash .ci/valgrind.sh      # every unit test
#   AC_VALGRIND_BUILD=dir bash .ci/valgrind.sh  # default: build (make test's)
#
# Installs nothing: it needs valgrind (Debian package valgrind) and the build
# dependencies of .ci/deps.sh. The build directory is make test's, set up
# the same way when it does not exist.
set -euo pipefail
exec </dev/null

cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$SECONDS
build=${AC_VALGRIND_BUILD:-build}
skip=(sampled threads longevity)
[ "${AC_VALGRIND_ALL:-0}" = 1 ] && skip=()
say() { printf 'valgrind: %s (%ss)\n' "$*" "$((SECONDS - start))"; }

command -v valgrind >/dev/null 2>&1 || {
    echo "valgrind: valgrind is not installed (Debian: apt-get install valgrind)" >&2
    exit 1
}

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" -Dwerror=true >"$build.setup.log" 2>&1 || {
        cat "$build.setup.log" >&2
        exit 1
    }
    rm -f "$build.setup.log"
fi

# The unit tests meson knows, minus the subset's exclusions.
mapfile -t all < <(meson test -C "$build" --list --suite unit --no-rebuild 2>/dev/null |
                   sed -n 's|^.*:unit / ||p')
[ ${#all[@]} -gt 0 ] || { echo "valgrind: meson lists no unit tests in $build" >&2; exit 1; }
run=()
for t in "${all[@]}"; do
    keep=1
    for s in "${skip[@]}"; do
        [ "$t" = "$s" ] && keep=0
    done
    [ $keep = 1 ] && run+=("$t")
done
ninja -C "$build" "${run[@]/#/tests/unit/test_}"
say "built ${#run[@]} of ${#all[@]} unit tests${skip[*]:+ (left out: ${skip[*]})}"

export CK_FORK=no
export AC_STORM_RUNS=${AC_STORM_RUNS:-480}
# test_export's out-of-memory loops fail every 13th allocation only
# (all of them take 150 s under memcheck; make asan runs them all)
[ "${AC_VALGRIND_ALL:-0}" = 1 ] || export AC_TEST_OOM_STRIDE=${AC_TEST_OOM_STRIDE:-13}
# meson's 120 s per program, times this: memcheck is slow.
status=0
meson test -C "$build" --no-rebuild --print-errorlogs \
    --timeout-multiplier "${AC_VALGRIND_TIMEOUT_MULTIPLIER:-10}" \
    --wrapper "valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --num-callers=30" \
    "${run[@]}" || status=$?

if [ "$status" -ne 0 ]; then
    say "FAILED (a memcheck error, a definite leak or a failed test above)"
    exit 1
fi
say "passed: ${run[*]} under memcheck in $((SECONDS - start)) s"
