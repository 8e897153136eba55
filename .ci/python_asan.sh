#!/usr/bin/env bash
# The Python binding's tests against the AddressSanitizer + UBSan build of
# the library, with the library's leaks counted.
#
# CPython is not instrumented, so the ASan runtime must be in the process
# before the library: LD_PRELOAD of the compiler's libasan.so. make asan's
# suite 'python' does that much, but must turn leak detection off
# (detect_leaks=0), because CPython does not free everything at exit: its
# interned strings, code objects and type caches live until the process dies,
# and LeakSanitizer reports them. This script keeps leak detection on and
# sorts the reports instead:
#   - PYTHONMALLOC=malloc, so Python objects are malloc blocks that
#     LeakSanitizer scans: a handle a live Python object still holds is
#     reachable, not a leak (with pymalloc's arenas, which LSan does not
#     scan, every such handle would look leaked);
#   - LSAN_OPTIONS=exitcode=0 and log_path: a leak does not fail the
#     interpreter; the reports are read afterwards;
#   - a leak whose allocation stack passes through the library (a frame
#     "in ac_..." or libagentcredit) fails this script; the interpreter's own
#     leaks (stacks in python3 only) are counted and ignored.
# Any ASan or UBSan error fails the test at once (halt_on_error).
# Not run here: the Dask example (docs/examples/dask_oracle.py), whose
# worker processes would each need the preload; meson runs it without
# sanitizers.
#
#   bash .ci/python_asan.sh                     # from anywhere in the clone
#   AC_ASAN_BUILD=dir bash .ci/python_asan.sh   # default build-asan
#
# Installs nothing: it needs gcc (libasan8, libubsan1 come with it),
# Debian's python3 (python3-numpy for the numpy paths, optional), meson and
# ninja. The build directory is the Makefile's ASan build (make asan), set up
# with the same options when it does not exist.
set -euo pipefail
exec </dev/null

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
start=$SECONDS
build=${AC_ASAN_BUILD:-build-asan}
case $build in /*) ;; *) build=$root/$build ;; esac
say() { printf 'python-asan: %s (%ss)\n' "$*" "$((SECONDS - start))"; }

# Debian's interpreter first, as bindings/python/meson.build does:
# python3-numpy installs there.
py=""
for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1; then
        py=$(command -v "$p")
        break
    fi
done
[ -n "$py" ] || { echo "python-asan: no python3" >&2; exit 1; }

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false \
        -Dwerror=true >"$build.setup.log" 2>&1 || {
        cat "$build.setup.log" >&2
        exit 1
    }
    rm -f "$build.setup.log"
fi
# The library, and the CLI that test_games compares against.
ninja -C "$build" bindings/cli/agentcredit
say "built ${build#"$root"/}"

# The runtime the library was linked against: that of the compiler that
# configured the build (gcc: libasan.so; clang: libclang_rt.asan-<arch>.so).
cc_exe=$("$py" -c 'import json, sys
for t in json.load(open(sys.argv[1])):
    for s in t.get("target_sources", []):
        if s.get("language") == "c":
            print(s["compiler"][0]); sys.exit(0)
sys.exit(1)' "$build/meson-info/intro-targets.json")
if "$cc_exe" --version 2>/dev/null | grep -qi clang; then
    rt_name=libclang_rt.asan-$(uname -m).so
else
    rt_name=libasan.so
fi
rt=$("$cc_exe" -print-file-name="$rt_name")
if [ ! -f "$rt" ]; then
    echo "python-asan: $cc_exe has no $rt_name to preload (got '$rt')" >&2
    exit 1
fi
libdir=$build/lib
[ -e "$libdir/libagentcredit.so.1" ] || {
    echo "python-asan: no $libdir/libagentcredit.so.1" >&2
    exit 1
}
say "preloading $rt"

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

tests=()
for f in bindings/python/tests/test_*.py; do
    tests+=("$f")
done
# The trainer example, as docs/examples/meson.build runs it.
tests+=("bindings/python/tests/check_trainer.py docs/examples/trainer.py")

status=0
ours=0
theirs=0
for t in "${tests[@]}"; do
    name=$(basename "${t%% *}" .py)
    mkdir -p "$logs/$name"
    t0=$SECONDS
    rc=0
    # shellcheck disable=SC2086 # $t is a script and its arguments
    env LD_PRELOAD="$rt" \
        ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:print_summary=1:log_path=$logs/$name/asan" \
        LSAN_OPTIONS="exitcode=0" \
        UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:print_summary=1" \
        PYTHONMALLOC=malloc PYTHONDONTWRITEBYTECODE=1 \
        PYTHONPATH="$root/bindings/python" \
        AGENTCREDIT_LIB="$libdir" \
        AGENTCREDIT_CLI="$build/bindings/cli/agentcredit" \
        "$py" $t >"$logs/$name/out" 2>&1 || rc=$?
    # One report per leak: a blank line, then "Direct leak of ..." or
    # "Indirect leak of ...", its stack, a blank line.
    read -r n_ours n_theirs < <(cat "$logs/$name"/asan.* 2>/dev/null |
        awk '/^(Direct|Indirect) leak of/ { if (inrep) count(); inrep = 1; lib = 0; next }
             inrep && (/ in ac_/ || /libagentcredit/) { lib = 1 }
             inrep && /^$/ { count(); inrep = 0 }
             function count() { if (lib) o++; else t++ }
             END { if (inrep) count(); print o + 0, t + 0 }')
    ours=$((ours + n_ours))
    theirs=$((theirs + n_theirs))
    errors=$(cat "$logs/$name"/asan.* 2>/dev/null |
             grep -cE 'ERROR: AddressSanitizer|runtime error:' || true)
    verdict=ok
    if [ "$rc" -ne 0 ] || [ "$n_ours" -ne 0 ] || [ "$errors" -ne 0 ]; then
        verdict=FAILED
        status=1
        echo "---- $name: exit $rc, $errors sanitizer errors, $n_ours library leaks"
        tail -n 40 "$logs/$name/out"
        for f in "$logs/$name"/asan.*; do
            [ -f "$f" ] || continue
            if [ "$errors" -ne 0 ] || [ "$n_ours" -ne 0 ]; then
                echo "---- $f"
                cat "$f"
            fi
        done
    fi
    printf 'python-asan: %-16s %-6s exit %d, %d library leaks, %d interpreter leaks ignored, %ss\n' \
        "$name" "$verdict" "$rc" "$n_ours" "$n_theirs" "$((SECONDS - t0))"
done

if [ "$status" -ne 0 ]; then
    say "FAILED"
    exit 1
fi
say "passed: ${#tests[@]} Python test programs under ASan + UBSan, $ours library leaks ($theirs of the interpreter's ignored), in $((SECONDS - start)) s"
