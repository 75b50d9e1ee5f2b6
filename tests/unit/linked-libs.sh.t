#!/bin/bash
# SPDX-License-Identifier: MIT
# What each program links (HACKING.md, "What each program links").  Run by
# prove from the top of the tree.
#
# ublk-user: every command, and every server it forks, maps the libraries
# the CLI links and runs their constructors (root's `up --system` before it
# drops to the user).  It links the libraries Makefile's CLI_PKGS names and
# nothing that they do not need; in particular no libsystemd, which would
# bring libgcrypt, liblzma, libzstd and more for the notify protocol
# (src/base/svcnotify.h).
#
# The root udev helper runs on every ublk device event: it must contain
# only the policy, the kernel queries and the node hand-over, never the
# I/O server, and link only the libraries those need (liburing for the
# control commands).
set -u
source "$(dirname "$0")/../lib/tap.sh"

CLI=${UBLK_USER_BIN:-${BUILD:-build}/ublk-user}
HELPER=${UBLK_USER_UDEV_BIN:-${BUILD:-build}/ublk-user-udev}
for p in "$CLI" "$HELPER"; do
	[[ -x $p ]] || BAIL_OUT "no $p: run make first"
done

# needed PROGRAM: its NEEDED libraries, sorted, on one line (an ASan/UBSan
# build adds the sanitizers' runtimes, left out)
needed() {
	readelf -d "$1" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' |
		grep -Ev '^lib(asan|ubsan|m|gcc_s|stdc\+\+)\.so' | sort | tr '\n' ' '
}
# calls PROGRAM REGEX: the first few functions it calls from other objects
# whose names match
calls() {
	nm --undefined-only "$1" | awk '{print $2}' | grep -E "$2" | head -3 |
		tr '\n' ' '
}

# --- ublk-user -----------------------------------------------------------------
is "$(needed "$CLI")" "libblkid.so.1 libc.so.6 libcap-ng.so.0 libjson-c.so.5 libseccomp.so.2 liburing.so.2 libuuid.so.1 " \
	"ublk-user needs liburing, libcap-ng, libseccomp, libuuid, json-c, libblkid and libc"
is "$(calls "$CLI" '^sd_')" "" "ublk-user calls no libsystemd function"
# What the dynamic loader maps, the libraries' own needs included
loaded=$(ldd "$CLI" | awk '{print $1}' | sed 's|.*/||' | sort | tr '\n' ' ')
for lib in libsystemd libgcrypt liblzma libzstd liblz4; do
	unlike " $loaded" " $lib\\." "ublk-user does not load $lib"
done

# --- the root helper -------------------------------------------------------------
syms=$(nm --defined-only "$HELPER" | awk '{print $3}')
for prefix in queue_ sandbox_ server_ target_open target_find shmem_ \
	stats_ caps_ state_ cdi_ ctrrec_ annot_ ocicfg_ seccomp_ capng_; do
	bad=$(grep -E "^${prefix}" <<<"$syms" | head -3 | tr '\n' ' ')
	is "$bad" "" "the helper defines no ${prefix}* symbol"
done
is "$(calls "$HELPER" '^(seccomp_|capng_|uuid_|json_|sd_)')" "" \
	"the helper calls no libseccomp, libcap-ng, libuuid, json-c or libsystemd function"
is "$(needed "$HELPER")" "libc.so.6 liburing.so.2 " \
	"the helper needs only libc and liburing (control commands)"

done_testing
