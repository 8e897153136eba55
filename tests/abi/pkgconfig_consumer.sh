#!/usr/bin/env bash
# Installs the built project into a temporary DESTDIR, then compiles and runs
# pkgconfig_consumer.c with nothing but `pkg-config --cflags --libs agentcredit`
# (PKG_CONFIG_PATH into the temporary tree) and LD_LIBRARY_PATH.
#
#   pkgconfig_consumer.sh BUILDDIR CONSUMER.c [SANITIZE]
# The C compiler comes from $CC (a command line, may hold several words).
# SANITIZE is meson's b_sanitize ("none", "address,undefined", ...): a library
# built with sanitizers needs a consumer built with them too.
set -euo pipefail

builddir=${1:?usage: pkgconfig_consumer.sh BUILDDIR CONSUMER.c [SANITIZE]}
src=${2:?usage: pkgconfig_consumer.sh BUILDDIR CONSUMER.c [SANITIZE]}
sanitize=${3:-none}
cc=${CC:-cc}
meson=${MESON:-meson}

command -v pkg-config >/dev/null 2>&1 || { echo "SKIP: no pkg-config"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

$meson install -C "$builddir" --no-rebuild --quiet --destdir "$dest" >"$tmp/install.log" 2>&1 || {
    echo "FAIL: meson install into $dest failed:" >&2
    cat "$tmp/install.log" >&2
    exit 1
}

pc=$(find "$dest" -name agentcredit.pc -print -quit)
[ -n "$pc" ] || { echo "FAIL: agentcredit.pc was not installed" >&2; exit 1; }
hdr=$(find "$dest" -name agentcredit.h -print -quit)
[ -n "$hdr" ] || { echo "FAIL: agentcredit.h was not installed" >&2; exit 1; }
so=$(find "$dest" -name 'libagentcredit.so' -print -quit)
[ -n "$so" ] || { echo "FAIL: libagentcredit.so was not installed" >&2; exit 1; }

# The .pc names the configured prefix (say /usr/local); the files sit under
# DESTDIR + prefix. Relocate the copy in the temporary tree, nothing else.
sed -i "s|^prefix=|prefix=$dest|" "$pc"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}

pkg-config --exists agentcredit || { echo "FAIL: pkg-config cannot find agentcredit" >&2; exit 1; }
cflags=$(pkg-config --cflags agentcredit)
libs=$(pkg-config --libs agentcredit)
echo "pkg-config --cflags: $cflags"
echo "pkg-config --libs:   $libs"
case "$libs" in
    *"-L$dest"*) ;;
    *) echo "FAIL: --libs does not point into the installed tree $dest" >&2; exit 1 ;;
esac
case "$cflags " in
    *"-I$dest"*) ;;
    *"-I"*) echo "FAIL: --cflags points outside the installed tree $dest" >&2; exit 1 ;;
    *) # the header went to a default include dir, which pkg-config drops
       echo "FAIL: --cflags has no -I for $(dirname "$hdr")" >&2; exit 1 ;;
esac

sanflags=()
if [ -n "$sanitize" ] && [ "$sanitize" != none ]; then
    sanflags=(-fsanitize="$sanitize" -fno-omit-frame-pointer)
fi

# shellcheck disable=SC2086 # $cc, $cflags and $libs are command lines
$cc -std=c11 -Wall -Wextra -Wpedantic -Werror "${sanflags[@]}" $cflags \
    "$src" -o "$tmp/consumer" $libs -lm

libdir=$(dirname "$so")
LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$tmp/consumer"

# The consumer really loaded the installed copy, not one from the build tree.
if command -v ldd >/dev/null 2>&1; then
    loaded=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/consumer" | grep libagentcredit || true)
    echo "ldd: $loaded"
    case "$loaded" in
        *"=> $dest"*) ;;
        *) echo "FAIL: the consumer does not load libagentcredit from $dest" >&2; exit 1 ;;
    esac
fi
