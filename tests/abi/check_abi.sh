#!/usr/bin/env bash
# The ABI of the built library against the committed baseline (docs/abi.md):
# anything but additions fails, naming what changed.
#
#   check_abi.sh [options] LIBRARY.so|BUILD_DIR           check
#   check_abi.sh --update [options] LIBRARY.so|BUILD_DIR  rewrite the baseline
#
# options:
#   --baseline-dir DIR  where agentcredit.abi and agentcredit-types.abi are
#                       (default: this script's directory)
#   --headers-dir DIR   the public header's directory (default: include/ of
#                       the source tree holding this script)
#
# Exit status: 0 compatible (additions are), 1 an incompatible change or an
# error, 77 skipped (no abidw/abidiff, a library without debug info, or a
# baseline made for another architecture).
#
# It builds nothing: give it a library built with debug info (meson's
# default buildtype, debugoptimized, has it), or a build directory holding
# one. --update is for a release (docs/abi.md, "A release").
#
# Two files, because abidw cannot give both in one:
#   agentcredit.abi        every exported function and the types it reaches
#                          (abidw --exported-interfaces-only; the library's
#                          own types dropped, so the handles stay opaque)
#   agentcredit-types.abi  every type of the public header that the library's
#                          debug info describes, for the enums no function
#                          names (ac_status, ac_method, the flags...): their
#                          values are ABI too
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
update=0
baseline_dir=$here
headers_dir=$(cd "$here/../.." && pwd)/include
target=

usage() {
    sed -n '5,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 1
}
while [ $# -gt 0 ]; do
    case $1 in
        --update) update=1 ;;
        --baseline-dir) baseline_dir=${2:?--baseline-dir needs a directory}; shift ;;
        --headers-dir) headers_dir=${2:?--headers-dir needs a directory}; shift ;;
        -h|--help) usage ;;
        -*) echo "check_abi.sh: unknown option $1" >&2; usage ;;
        *) [ -z "$target" ] || usage; target=$1 ;;
    esac
    shift
done
[ -n "$target" ] || usage

fail() { echo "FAIL: $*" >&2; exit 1; }
# What a check may skip, --update may not: it would write an empty baseline.
skip() { [ $update = 1 ] && fail "$*"; echo "SKIP: $*"; exit 77; }

for tool in abidw abidiff; do
    command -v "$tool" >/dev/null 2>&1 ||
        skip "no $tool (Debian: apt-get install abigail-tools)"
done

headers=$(cd "$headers_dir" 2>/dev/null && ls -- *.h 2>/dev/null | paste -sd ',' -) || true
[ -n "$headers" ] || fail "no public header in $headers_dir"

# A build directory: its lib/libagentcredit.so, followed to the real file.
lib=$target
if [ -d "$target" ]; then
    if [ -e "$target/lib/libagentcredit.so" ]; then
        lib=$target/lib/libagentcredit.so
    else
        lib=$(find "$target" -name 'libagentcredit.so*' \( -type f -o -type l \) 2>/dev/null |
              sort | head -n 1)
    fi
    [ -n "$lib" ] || fail "no libagentcredit.so under $target (build it first)"
fi
[ -e "$lib" ] || fail "no library at $lib"
lib=$(readlink -f "$lib")

base_fns=$baseline_dir/agentcredit.abi
base_types=$baseline_dir/agentcredit-types.abi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# What makes both files the same on every machine and build directory: no
# paths (corpus, compilation directory), no source locations (a comment
# added to the header moves no line of the baseline), no DT_NEEDED (a
# sanitizer build adds its runtime), type ids from hashes (an added type
# renumbers no other).
common=(--no-corpus-path --no-comp-dir-path --no-show-locs --no-elf-needed
        --drop-undefined-syms --type-id-style hash)
# abidw names each translation unit by its path from the build directory
# ('../lib/common/alloc.c'); the baseline names it from the source tree.
source_paths() { # source_paths FILE: rewritten in place
    sed -E "s#(<abi-instr [^>]*path=')([^']*/)?(lib/[^']*')#\1\3#" "$1" > "$1.tmp"
    mv "$1.tmp" "$1"
}
abidw "${common[@]}" --exported-interfaces-only \
    --drop-private-types --headers-dir "$headers_dir" \
    --out-file "$tmp/agentcredit.abi" "$lib" ||
    fail "abidw could not read $lib"
source_paths "$tmp/agentcredit.abi"

# Without DWARF abidw still lists the symbols, and the comparison would pass
# having compared no signature at all.
count() { grep -c -- "$1" "$2" || true; }
n_fns=$(count '<function-decl ' "$tmp/agentcredit.abi")
n_syms=$(count '<elf-symbol ' "$tmp/agentcredit.abi")
if [ "$n_fns" -eq 0 ]; then
    skip "$lib has no debug info: build it with -g (meson's default buildtype, debugoptimized, has it)"
fi
[ "$n_fns" -eq "$n_syms" ] ||
    fail "$lib exports $n_syms functions, its debug info describes $n_fns (partly stripped?)"

# The types: every type the debug info holds (--load-all-types), less those
# not defined in the public headers (dropped by a suppression, which would
# also strip them from function signatures: so no functions here, but the one
# a symbol list must name).
grep -q "<elf-symbol name='ac_abi_version'" "$tmp/agentcredit.abi" ||
    fail "$lib does not export ac_abi_version (docs/abi.md: every ABI has it)"
printf '[abi_whitelist]\n  ac_abi_version\n' > "$tmp/symbols"
printf '[suppress_type]\n  source_location_not_in = %s\n  drop = yes\n' "$headers" \
    > "$tmp/private.suppr"
abidw "${common[@]}" --load-all-types -w "$tmp/symbols" --suppressions "$tmp/private.suppr" \
    --out-file "$tmp/agentcredit-types.abi" "$lib" ||
    fail "abidw could not read the types of $lib"
source_paths "$tmp/agentcredit-types.abi"

attr() { # attr NAME FILE: an attribute of the abi-corpus element
    sed -n "1,3s/.*<abi-corpus [^>]*$1='\\([^']*\\)'.*/\\1/p" "$2" | head -n 1
}
type_names() { # type_names FILE: the public structs, unions and enums it defines
    { grep -E "<(enum|class|union)-decl name='ac_[^']*'" "$1" || true; } |
        grep -v "is-declaration-only='yes'" |
        sed -E "s/.*<(enum|class|union)-decl name='([^']+)'.*/\\2/" | sort -u
}

if [ $update = 1 ]; then
    mkdir -p "$baseline_dir"
    cp "$tmp/agentcredit.abi" "$base_fns"
    cp "$tmp/agentcredit-types.abi" "$base_types"
    echo "baseline written from $lib ($(attr soname "$base_fns"), $(attr architecture "$base_fns")):"
    echo "  $base_fns: $n_fns functions"
    echo "  $base_types: $(type_names "$base_types" | wc -l) types of $headers"
    echo "review it with git diff, and commit it with the release"
    exit 0
fi

for f in "$base_fns" "$base_types"; do
    [ -f "$f" ] || fail "no baseline $f (make one: $0 --update BUILD_DIR)"
done
base_arch=$(attr architecture "$base_fns")
arch=$(attr architecture "$tmp/agentcredit.abi")
[ "$base_arch" = "$arch" ] || skip "the baseline describes $base_arch, this library is $arch"
base_soname=$(attr soname "$base_fns")
soname=$(attr soname "$tmp/agentcredit.abi")
if [ "$base_soname" != "$soname" ]; then
    cat >&2 <<EOF
FAIL: the baseline describes $base_soname, this library is $soname.
A new AC_ABI_VERSION starts a new ABI: its release records it with
    tests/abi/check_abi.sh --update BUILD_DIR
(docs/abi.md, "A release").
EOF
    exit 1
fi

# A struct whose first member is struct_size may grow at its end within a
# soversion (docs/abi.md): the caller says which version it was built with.
# Which structs, and their size, the baseline says (so adding struct_size
# later is a layout change like any other). The growth is cut off the new
# description before the comparison, which then sees any other change of
# such a struct: a member moved, retyped or inserted before the old end.
# (abidiff's has_data_member_inserted_at suppression is not used: it also
# hides a retyped member of a struct that grew, and any change of one that
# did not.)
awk '
    /<class-decl name=/ {
        name = $0; sub(/.*<class-decl name=\x27/, "", name); sub(/\x27.*/, "", name)
        size = $0; sub(/.*size-in-bits=\x27/, "", size); sub(/\x27.*/, "", size)
        first = ($0 !~ /\/>[[:space:]]*$/); next
    }
    first && /<var-decl name=/ {
        if ($0 ~ /<var-decl name=\x27struct_size\x27/ && prev ~ /layout-offset-in-bits=\x270\x27/)
            print name, size
        first = 0
    }
    { prev = $0 }
' "$base_fns" "$base_types" | sort -u > "$tmp/growable"
[ -z "$(awk '{ print $1 }' "$tmp/growable" | uniq -d)" ] ||
    fail "the baseline gives one struct two sizes: $(tr '\n' ' ' < "$tmp/growable")"

cut_growth() { # cut_growth IN OUT: members past each growable struct's old end dropped
    awk -v list="$tmp/growable" '
        BEGIN { while ((getline line < list) > 0) { split(line, f, " "); old[f[1]] = f[2] } }
        !inside && /<class-decl name=/ && !/\/>[[:space:]]*$/ {
            name = $0; sub(/.*<class-decl name=\x27/, "", name); sub(/\x27.*/, "", name)
            if (name in old && $0 ~ /size-in-bits=/) {
                size = $0; sub(/.*size-in-bits=\x27/, "", size); sub(/\x27.*/, "", size)
                limit = old[name] + 0
                if (size + 0 > limit)
                    sub(/size-in-bits=\x27[0-9]+\x27/, "size-in-bits=\x27" limit "\x27")
                inside = 1; depth = 0; print; next
            }
        }
        inside {
            if (/<class-decl/ && !/\/>[[:space:]]*$/) depth++
            if (/<\/class-decl>/) { if (depth == 0) { inside = 0; print; next } depth-- }
            if (depth == 0 && /<data-member .*layout-offset-in-bits=/) {
                off = $0; sub(/.*layout-offset-in-bits=\x27/, "", off); sub(/\x27.*/, "", off)
                if (off + 0 >= limit) { skipping = 1; next }
            }
            if (skipping) { if (/<\/data-member>/) skipping = 0; next }
        }
        { print }
    ' "$1" > "$2"
}
cut_growth "$tmp/agentcredit.abi" "$tmp/cut.abi"
cut_growth "$tmp/agentcredit-types.abi" "$tmp/cut-types.abi"

# The types pass looks at the public types no function reaches: the first
# pass compares the others, each change once. No functions there either.
type_names "$base_types" > "$tmp/public"
type_names "$base_fns" > "$tmp/reached"
[ -s "$tmp/public" ] || fail "$base_types holds no public type (made without debug info?)"
unreached=$(comm -23 "$tmp/public" "$tmp/reached" | paste -sd '|' -)
cat > "$tmp/types.suppr" <<EOF
[suppress_type]
  label = the types agentcredit.abi holds, and C's own
  name_not_regexp = ^(${unreached:--none-})\$

[suppress_function]
  label = functions are compared against agentcredit.abi
  name_regexp = .*

[suppress_variable]
  label = variables are compared against agentcredit.abi
  name_regexp = .*
EOF
types_args=(--non-reachable-types --suppressions "$tmp/types.suppr")

# abidiff's status is a bit field: 1 error, 2 usage error, 4 ABI change,
# 8 incompatible change. An added function sets 4 too, so the verdict comes
# from runs that leave additions (and growth) out, and a third run lists
# them.
st_fns=0
abidiff --no-added-syms "$base_fns" "$tmp/cut.abi" > "$tmp/fns.report" 2>&1 || st_fns=$?
st_types=0
abidiff --no-added-syms "${types_args[@]}" "$base_types" "$tmp/cut-types.abi" \
    > "$tmp/types.report" 2>&1 || st_types=$?
st_all=0
abidiff "$base_fns" "$tmp/agentcredit.abi" > "$tmp/all.report" 2>&1 || st_all=$?
if [ $((st_fns & 1)) -ne 0 ] || [ $((st_types & 1)) -ne 0 ] || [ $((st_all & 1)) -ne 0 ]; then
    cat "$tmp/fns.report" "$tmp/types.report" "$tmp/all.report" >&2
    fail "abidiff could not compare (status $st_fns/$st_types/$st_all)"
fi

# Of the unreachable types a changed one fails, a removed one does not: no
# binary holds an enum type, only its values, and a compiler may stop
# describing an enum the library no longer uses.
types_changed=0
if [ $st_types -ne 0 ]; then
    types_changed=$(sed -n 's/^Unreachable types summary:.*, \([0-9][0-9]*\) changed.*/\1/p' \
                    "$tmp/types.report" | head -n 1)
    if [ -z "$types_changed" ]; then
        cat "$tmp/types.report" >&2
        fail "cannot read abidiff's report on the types (status $st_types)"
    fi
fi

# A failure is shown on the descriptions as they are (growth not cut off),
# so that a member inserted in the middle reads as an insertion.
status=0
if [ $st_fns -ne 0 ]; then
    status=1
    echo "FAIL: the exported functions changed incompatibly against $base_fns" >&2
    [ $((st_fns & 8)) -eq 0 ] || echo "(abidiff: incompatible change, e.g. a removed function)" >&2
    abidiff --no-added-syms "$base_fns" "$tmp/agentcredit.abi" 2>&1 | sed 's/^/  /' >&2 || true
fi
if [ "$types_changed" -ne 0 ]; then
    status=1
    echo "FAIL: the public header's types changed incompatibly against $base_types" >&2
    abidiff --no-added-syms "${types_args[@]}" "$base_types" "$tmp/agentcredit-types.abi" 2>&1 |
        sed 's/^/  /' >&2 || true
fi
if [ $status -ne 0 ]; then
    cat >&2 <<EOF
Within a soversion only additions are allowed: new functions (in a new
version node of lib/agentcredit.map), new enumerators with new values, new
fields at the end of a struct that starts with struct_size (docs/abi.md).
Anything else needs AC_ABI_VERSION + 1 in include/agentcredit.h, and its
release a new baseline:
    tests/abi/check_abi.sh --update BUILD_DIR
EOF
    exit 1
fi

if [ $st_all -ne 0 ]; then
    echo "compatible changes (the baseline records them at the next release):"
    sed 's/^/  /' "$tmp/all.report"
fi
if [ $st_types -ne 0 ]; then
    echo "public types the debug info no longer describes (compatible):"
    sed 's/^/  /' "$tmp/types.report"
fi
growable=$(awk '{ printf "%s%s", sep, $1; sep = " " }' "$tmp/growable")
echo "ok: $n_fns functions and $(wc -l < "$tmp/public") public types keep the ABI of the baseline" \
     "(may grow at their end: ${growable:-none})"
