#!/usr/bin/env bash
# Checks the Debian build dependencies of agentcredit and installs the missing
# ones when it can (root, or passwordless sudo); otherwise prints what to
# install and fails. Used by the Makefile and by .ci/run.
#
#   bash .ci/deps.sh          # check, install what is missing
#   bash .ci/deps.sh --check  # check only: exit 1 and list what is missing
set -euo pipefail

check_only=0
[ "${1:-}" = "--check" ] && check_only=1

missing=()
need_cmd() { # need_cmd COMMAND DEBIAN_PACKAGE
    command -v "$1" >/dev/null 2>&1 || missing+=("$2")
}
need_pc() { # need_pc PKG_CONFIG_MODULE DEBIAN_PACKAGE
    if ! command -v pkg-config >/dev/null 2>&1 ||
       ! pkg-config --exists "$1" 2>/dev/null; then
        missing+=("$2")
    fi
}
meson_too_old() { # meson.build asks for >= 1.0.1
    local v
    v=$(meson --version 2>/dev/null) || return 0
    [ "$(printf '%s\n%s\n' 1.0.1 "$v" | sort -V | head -n1)" != 1.0.1 ]
}

need_cmd cc gcc
need_cmd c++ g++          # the C++ consumer test (tests/abi)
need_cmd make make
need_cmd meson meson
need_cmd ninja ninja-build
need_cmd pkg-config pkg-config
need_cmd nm binutils
need_pc 'jansson >= 2.13' libjansson-dev
need_pc 'check >= 0.13' check
if command -v meson >/dev/null 2>&1 && meson_too_old; then
    echo "deps: meson $(meson --version) is older than 1.0.1" >&2
    missing+=(meson)
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
# unique, stable order
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')

if [ "$check_only" = 1 ]; then
    echo "deps: missing: ${missing[*]}" >&2
    exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        {
            echo "agentcredit needs these Debian packages, which are not installed:"
            echo "    ${missing[*]}"
            echo "Install them (as root), then run make again:"
            echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
        } >&2
        exit 1
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: missing ${missing[*]} and there is no apt-get here: install them with your package manager" >&2
    exit 1
fi

echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q </dev/null
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null

# What apt gave must now be enough.
exec bash "$0" --check
