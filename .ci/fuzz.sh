#!/usr/bin/env bash
# CI: the libFuzzer targets of tests/fuzz (issue 13), each for a fixed
# number of executions from its committed seed corpus, with AddressSanitizer
# and UndefinedBehaviorSanitizer. Exits non-zero on any crash, sanitizer
# report, broken invariant, leak or timeout, and leaves the input that did
# it in build-fuzz/fuzz-artifacts/. Skips (exit 0) with a message when
# there is no clang or no libFuzzer runtime (Debian: libclang-rt-<v>-dev).
#
#   bash .ci/fuzz.sh                    the CI run (about 4 minutes)
#   AC_FUZZ_SCALE=10 bash .ci/fuzz.sh   ten times the executions
#
# The executions are fixed rather than the time, so that a run does the
# same work on every machine; -seed fixes the mutations too. The counts
# below take 5 to 50 s each on one core of a 2-core machine (eleven
# targets, measured at twice these counts: 100 s for game JSON and the
# API at 1,000,000 and 80,000): the targets run one after the other, so
# the whole part stays within about 5 minutes with the build, and CI
# within its 20 (fuzz_export, added later: 80,000 in 21 s while another
# fuzz run shared the machine). tests/fuzz/README.md has the long runs.
set -euo pipefail
exec </dev/null
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CC_FUZZ=${AC_FUZZ_CC:-clang}
BUILD=${AC_FUZZ_BUILD:-build-fuzz}
SCALE=${AC_FUZZ_SCALE:-1}
start=$SECONDS

skip() {
    echo "fuzz: SKIPPED: $*"
    exit 0
}

command -v "$CC_FUZZ" >/dev/null 2>&1 || skip "no $CC_FUZZ (the fuzz targets need clang)"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
cat >"$probe/probe.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return (int)(n > 0 && d[0] == 0); }
EOF
if ! "$CC_FUZZ" -fsanitize=fuzzer,address,undefined "$probe/probe.c" \
        -o "$probe/probe" >/dev/null 2>&1; then
    if "$CC_FUZZ" --version 2>/dev/null | grep -q clang; then
        skip "$CC_FUZZ has no libFuzzer runtime (Debian: libclang-rt-$("$CC_FUZZ" -dumpversion | cut -d. -f1)-dev)"
    fi
    skip "$CC_FUZZ cannot link -fsanitize=fuzzer (the fuzz targets need clang)"
fi

echo "fuzz: $("$CC_FUZZ" --version | head -n1)"
if [ ! -f "$BUILD/build.ninja" ]; then
    CC="$CC_FUZZ" meson setup "$BUILD" -Dfuzz=enabled -Dwerror=true \
        -Dtests=false -Dbench=false >/dev/null
fi
targets=(fuzz_game_json fuzz_api fuzz_asktell fuzz_episode_json
         fuzz_import_whowhen fuzz_import_tau fuzz_import_openai
         fuzz_import_ag2 fuzz_external_reply fuzz_pipeline
         fuzz_signals_json fuzz_export)
ninja -C "$BUILD" "${targets[@]/#/tests/fuzz/}" >/dev/null
echo "fuzz: built in $((SECONDS - start)) s"

# Executions per target at SCALE 1, and the longest input each may grow.
# fuzz_api and fuzz_asktell run AUTO's surrogate method (its cross-fitted
# trees under ASan): about 90 and 1,100 executions a second on this
# machine, hence their counts (CI's 20 minutes).
declare -A runs=([fuzz_game_json]=400000 [fuzz_api]=10000 [fuzz_asktell]=50000
                 [fuzz_episode_json]=400000 [fuzz_import_whowhen]=150000
                 [fuzz_import_tau]=80000 [fuzz_import_openai]=40000
                 [fuzz_import_ag2]=25000 [fuzz_external_reply]=200000
                 [fuzz_pipeline]=5000 [fuzz_signals_json]=150000
                 [fuzz_export]=80000)
declare -A max_len=([fuzz_game_json]=8192 [fuzz_api]=512 [fuzz_asktell]=2048
                    [fuzz_episode_json]=4096 [fuzz_import_whowhen]=8192
                    [fuzz_import_tau]=8192 [fuzz_import_openai]=8192
                    [fuzz_import_ag2]=8192 [fuzz_external_reply]=1024
                    [fuzz_pipeline]=2048 [fuzz_signals_json]=4096
                    [fuzz_export]=4096)

artifacts="$BUILD/fuzz-artifacts"
mkdir -p "$artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
status=0
for t in "${targets[@]}"; do
    n=$((runs[$t] * SCALE))
    work="$probe/$t"
    mkdir -p "$work"
    args=(-runs="$n" -seed=1 -max_len="${max_len[$t]}" -timeout=60
          -print_final_stats=1 -artifact_prefix="$artifacts/$t-")
    [ "$t" = fuzz_game_json ] && args+=(-dict=tests/fuzz/game_json.dict)
    [ "$t" = fuzz_episode_json ] && args+=(-dict=tests/fuzz/episode_json.dict)
    [ "$t" = fuzz_signals_json ] && args+=(-dict=tests/fuzz/signals_json.dict)
    [ "$t" = fuzz_export ] && args+=(-dict=tests/fuzz/export.dict)
    t0=$SECONDS
    # New inputs go to the scratch directory, the first one; the committed
    # corpus is only read.
    rc=0
    "$BUILD/tests/fuzz/$t" "${args[@]}" "$work" "tests/fuzz/corpus/$t" \
        >"$probe/$t.log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$probe/$t.log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$probe/$t.log")
    if [ $rc -ne 0 ]; then
        echo "fuzz: $t FAILED (exit $rc) after ${execs:-?} executions:"
        grep -E -A12 'invariant broken|ERROR: |SUMMARY|Test unit written' \
            "$probe/$t.log" | head -n 60
        status=1
    else
        printf 'fuzz: %-15s %9s executions in %3d s (%s exec/s), no crash\n' \
            "$t" "$execs" "$((SECONDS - t0))" "$rate"
    fi
done
echo "fuzz: done in $((SECONDS - start)) s"
exit $status
