#!/usr/bin/env bash
# The shared library exports exactly the global: symbols of the version
# script, each one with its version node (name@@NODE), and nothing else.
#
#   check_exports.sh LIBRARY.so MAPFILE [NM]
set -euo pipefail

lib=${1:?usage: check_exports.sh LIBRARY.so MAPFILE [NM]}
map=${2:?usage: check_exports.sh LIBRARY.so MAPFILE [NM]}
nm=${3:-nm}

command -v "$nm" >/dev/null 2>&1 || { echo "SKIP: no nm"; exit 77; }
[ -f "$lib" ] || { echo "FAIL: no library at $lib" >&2; exit 1; }
[ -f "$map" ] || { echo "FAIL: no map file at $map" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "symbol node" for every global: entry of the map, comments stripped.
awk '
    { text = text $0 "\n" }
    END {
        while ((i = index(text, "/*")) > 0) {           # strip /* ... */
            rest = substr(text, i + 2); j = index(rest, "*/")
            if (j == 0) { text = substr(text, 1, i - 1); break }
            text = substr(text, 1, i - 1) " " substr(rest, j + 2)
        }
        gsub(/#[^\n]*/, "", text)                       # strip # comments
        gsub(/[{};]/, " & ", text)
        n = split(text, tok, /[ \t\n]+/)
        node = ""; depth = 0; scope = ""
        for (k = 1; k <= n; k++) {
            t = tok[k]
            if (t == "") continue
            if (t == "{") { depth++; continue }
            if (t == "}") { depth--; if (depth == 0) { node = ""; scope = "" } continue }
            if (t == ";") continue
            if (depth == 0) { node = t; continue }      # node name (or parent after })
            if (t == "global:") { scope = "global"; continue }
            if (t == "local:")  { scope = "local";  continue }
            if (scope == "global") print t, node
        }
    }' "$map" | sort > "$tmp/expected"

if [ ! -s "$tmp/expected" ]; then
    echo "FAIL: no global: symbols found in $map" >&2
    exit 1
fi
if grep -q '[*?[]' "$tmp/expected"; then
    echo "FAIL: $map uses wildcards in global:; list every symbol explicitly" >&2
    exit 1
fi
nodes=$(awk '{ print $2 }' "$tmp/expected" | sort -u)

# Every defined dynamic symbol, as "name version". The version definitions
# themselves show up as absolute symbols named after the node: drop those.
"$nm" -D --defined-only --with-symbol-versions "$lib" > "$tmp/nm.raw"
awk -v nodes="$nodes" '
    BEGIN { split(nodes, a, "\n"); for (k in a) isnode[a[k]] = 1 }
    NF >= 2 {
        sym = $NF; type = $(NF - 1)
        name = sym; ver = ""
        if ((p = index(sym, "@@")) > 0) { name = substr(sym, 1, p - 1); ver = substr(sym, p + 2) }
        else if ((p = index(sym, "@")) > 0) { name = substr(sym, 1, p - 1); ver = "@" substr(sym, p + 1) }
        if (type == "A" && name in isnode) next
        print name, (ver == "" ? "(unversioned)" : ver)
    }' "$tmp/nm.raw" | sort > "$tmp/actual"

status=0
if ! diff -u "$tmp/expected" "$tmp/actual" > "$tmp/diff"; then
    status=1
    echo "FAIL: exported symbols of $lib differ from $map" >&2
    echo "(- in the map, + exported; each line: symbol version-node)" >&2
    cat "$tmp/diff" >&2
fi
count=$(wc -l < "$tmp/expected")
if [ $status -eq 0 ]; then
    echo "ok: $count symbols exported, each with its version node ($(echo $nodes))"
fi
exit $status
