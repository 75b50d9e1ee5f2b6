#!/bin/bash
# SPDX-License-Identifier: MIT
# The root udev helper runs on every ublk device event: it must contain
# only the policy, the kernel queries and the node hand-over, never the
# I/O server, and link only the libraries those need (liburing for the
# control commands).  Run by prove from the top of the tree.
set -u
source "$(dirname "$0")/../lib/tap.sh"

HELPER=${UBLK_USER_UDEV_BIN:-${BUILD:-build}/ublk-user-udev}
[[ -x $HELPER ]] || BAIL_OUT "no $HELPER: run make first"

syms=$(nm --defined-only "$HELPER" | awk '{print $3}')
for prefix in queue_ sandbox_ server_ target_open target_find shmem_ \
	stats_ caps_ state_ cdi_ ctrrec_ annot_ ocicfg_ seccomp_ capng_; do
	bad=$(grep -E "^${prefix}" <<<"$syms" | head -3 | tr '\n' ' ')
	is "$bad" "" "the helper defines no ${prefix}* symbol"
done
undef=$(nm --undefined-only "$HELPER" | awk '{print $2}')
# (grep: [[ =~ ^ ]] would look at the first symbol only)
is "$(grep -E '^(seccomp_|capng_|uuid_|json_|sd_)' <<<"$undef" | head -3 | tr '\n' ' ')" "" \
	"the helper calls no libseccomp, libcap-ng, libuuid, json-c or libsystemd function"

# (an ASan/UBSan build adds the sanitizers' runtimes)
needed=$(readelf -d "$HELPER" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' |
	grep -Ev '^lib(asan|ubsan|m|gcc_s|stdc\+\+)\.so' | sort | tr '\n' ' ')
is "$needed" "libc.so.6 liburing.so.2 " \
	"the helper needs only libc and liburing (control commands)"

done_testing
