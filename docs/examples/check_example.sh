#!/usr/bin/env bash
# check_example.sh output PROGRAM EXPECTED   the program's stdout == EXPECTED
# check_example.sh readme README.md EXAMPLE.c the README's first ```c block
#                                             (after the marker line
#                                             "<!-- docs/examples/readme_example.c -->")
#                                             is EXAMPLE.c, byte for byte
set -euo pipefail

mode=${1:?}
case $mode in
output)
    prog=${2:?}; expected=${3:?}
    actual=$(mktemp)
    trap 'rm -f "$actual"' EXIT
    "$prog" > "$actual"
    if ! diff -u "$expected" "$actual"; then
        echo "FAIL: $(basename "$prog") printed something else than $(basename "$expected")" >&2
        exit 1
    fi
    cat "$actual"
    ;;
readme)
    readme=${2:?}; example=${3:?}
    block=$(mktemp)
    trap 'rm -f "$block"' EXIT
    awk '
        /<!-- docs\/examples\/readme_example.c -->/ { armed = 1; next }
        armed && !inside && /^```c[ \t]*$/ { inside = 1; next }
        inside && /^```[ \t]*$/ { exit }
        inside { print }
    ' "$readme" > "$block"
    if [ ! -s "$block" ]; then
        echo "FAIL: no \`\`\`c block after the readme_example.c marker in $readme" >&2
        exit 1
    fi
    if ! diff -u "$example" "$block"; then
        echo "FAIL: README.md's example differs from docs/examples/readme_example.c: keep them identical" >&2
        exit 1
    fi
    echo "ok: README.md shows docs/examples/readme_example.c"
    ;;
*)
    echo "usage: check_example.sh output|readme ..." >&2
    exit 2
    ;;
esac
