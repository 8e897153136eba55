#!/usr/bin/env bash
# The README's C example compiled before `meson install`: pkg-config reads
# the build's uninstalled agentcredit-uninstalled.pc (meson writes it into
# BUILDDIR/meson-uninstalled) when PKG_CONFIG_PATH names that directory;
# the program runs with LD_LIBRARY_PATH=BUILDDIR/lib and must print
# EXPECTED (README.md, "Building against it").
#
#   pkgconfig_uninstalled.sh BUILDDIR EXAMPLE.c EXPECTED [SANITIZE]
# The C compiler comes from $CC (a command line, may hold several words).
set -euo pipefail

usage="usage: pkgconfig_uninstalled.sh BUILDDIR EXAMPLE.c EXPECTED [SANITIZE]"
builddir=${1:?$usage}
src=${2:?$usage}
expected=${3:?$usage}
sanitize=${4:-none}
cc=${CC:-cc}

command -v pkg-config >/dev/null 2>&1 || { echo "SKIP: no pkg-config"; exit 77; }
[ -f "$builddir/meson-uninstalled/agentcredit-uninstalled.pc" ] || {
    echo "FAIL: meson wrote no $builddir/meson-uninstalled/agentcredit-uninstalled.pc" >&2
    exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

export PKG_CONFIG_PATH=$builddir/meson-uninstalled
unset PKG_CONFIG_DISABLE_UNINSTALLED
cflags=$(pkg-config --cflags agentcredit)
libs=$(pkg-config --libs agentcredit)
echo "pkg-config --cflags: $cflags"
echo "pkg-config --libs:   $libs"
case "$libs" in
    *"-L$builddir/lib"*) ;;
    *) echo "FAIL: --libs does not point at $builddir/lib" >&2; exit 1 ;;
esac

sanflags=()
if [ -n "$sanitize" ] && [ "$sanitize" != none ]; then
    sanflags=(-fsanitize="$sanitize" -fno-omit-frame-pointer)
fi
# shellcheck disable=SC2086 # $cc, $cflags and $libs are command lines
$cc -std=c11 -Wall -Wextra -Wpedantic -Werror "${sanflags[@]}" $cflags \
    "$src" -o "$tmp/readme_example" $libs

LD_LIBRARY_PATH=$builddir/lib "$tmp/readme_example" > "$tmp/out"
diff -u "$expected" "$tmp/out" || {
    echo "FAIL: the example built through the uninstalled .pc printed something else" >&2
    exit 1
}
if command -v ldd >/dev/null 2>&1; then
    loaded=$(LD_LIBRARY_PATH=$builddir/lib ldd "$tmp/readme_example" | grep libagentcredit || true)
    echo "ldd: $loaded"
    case "$loaded" in
        *"=> $builddir/lib/"*) ;;
        *) echo "FAIL: the example does not load libagentcredit from $builddir/lib" >&2; exit 1 ;;
    esac
fi
echo "ok: the README's example builds and runs against the uninstalled build"
