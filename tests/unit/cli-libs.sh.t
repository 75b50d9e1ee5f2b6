#!/bin/bash
# SPDX-License-Identifier: MIT
# What ublk-user loads: every command, and every server it forks, maps
# the libraries the CLI links, and runs their constructors (root's
# `up --system` before it drops to the user).  It links the libraries
# Makefile's CLI_PKGS names and nothing that they do not need; in
# particular no libsystemd, which would bring libgcrypt, liblzma, libzstd
# and more for the notify protocol (src/base/svcnotify.h).  Run by prove
# from the top of the tree.
set -u
source "$(dirname "$0")/../lib/tap.sh"

CLI=${UBLK_USER_BIN:-${BUILD:-build}/ublk-user}
[[ -x $CLI ]] || BAIL_OUT "no $CLI: run make first"

# (an ASan/UBSan build adds the sanitizers' runtimes)
needed=$(readelf -d "$CLI" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' |
	grep -Ev '^lib(asan|ubsan|m|gcc_s|stdc\+\+)\.so' | sort | tr '\n' ' ')
is "$needed" "libblkid.so.1 libc.so.6 libcap-ng.so.0 libjson-c.so.5 libseccomp.so.2 liburing.so.2 libuuid.so.1 " \
	"ublk-user needs liburing, libcap-ng, libseccomp, libuuid, json-c, libblkid and libc"
undef=$(nm --undefined-only "$CLI" | awk '{print $2}')
is "$(grep -E '^sd_' <<<"$undef" | head -3 | tr '\n' ' ')" "" \
	"ublk-user calls no libsystemd function"

# What the dynamic loader maps, the libraries' own needs included
loaded=$(ldd "$CLI" | awk '{print $1}' | sed 's|.*/||' | sort | tr '\n' ' ')
for lib in libsystemd libgcrypt liblzma libzstd liblz4; do
	unlike " $loaded" " $lib\\." "ublk-user does not load $lib"
done

done_testing
