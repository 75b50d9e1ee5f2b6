#!/bin/bash
# SPDX-License-Identifier: MIT
# The NBD client layer (src/nbd) against real NBD servers and hostile
# ones, without a kernel: build/tests/nbd-probe connects, handshakes and
# runs requests over plain sockets; nbdkit (memory, file, blocksize
# policy), qemu-nbd serving a qcow2 image, and build/tests/nbd-evil in
# each of its modes are the servers.  Run by prove from the top of the
# tree (make check-unit).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd -P)
source "$root/tests/lib/tap.sh"

build=${BUILD:-build}
[[ $build == /* ]] || build=$root/$build
PROBE=$build/tests/nbd-probe
EVIL=$build/tests/nbd-evil
[[ -x $PROBE && -x $EVIL ]] || BAIL_OUT "no $PROBE or $EVIL: make check-unit builds them"

tmp=$(mktemp -d)
at_exit rm -rf "$tmp"
pids=()
stop_servers() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
}
at_exit stop_servers

# wait_listen (until a server listens), as the kernel tests wait
UBLK_USER_TEST_ROOT=$root
source "$root/tests/lib/nbd.sh"

# evil SOCKET ARGS...: start nbd-evil on SOCKET in the background
evil() {
	local sock=$1
	shift
	rm -f "$sock"
	"$EVIL" --socket "$sock" --log "$tmp/evil.log" "$@" &
	pids+=($!)
	wait_listen "$sock"
}

probe() { run "$PROBE" --timeout 3000 "$@"; }

# A free TCP port on 127.0.0.1 (from the kernel's ephemeral range)
free_port() {
	local p
	for p in $(shuf -i 20000-40000 -n 20); do
		if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	echo 29999
}

note "nbd-evil, honest: the requests and replies of every kind"
sock=$tmp/good.sock
evil "$sock" --size 4194304
uri="nbd+unix:///?socket=$sock"
probe "$uri" write 0 65536 0x41 write 65536 4096 0x42 fua-write 69632 512 0x43 \
	sync read 0 65536 0x41 read 65536 4096 0x42 read 69632 512 0x43 \
	sync flush trim 0 4096 zero 4096 4096 sync read 0 8192 0 read 8192 4096 0x41
is "$RUN_RC" 0 "writes, reads, FUA, flush, trim, write zeroes"
like "$RUN_OUT" "^size=4194304 flags='flush fua trim write-zeroes' block_size=512 " \
	"size and flags from NBD_INFO_EXPORT"
like "$RUN_OUT" 'ok$' "every reply checked"
probe "$uri" read 0 512 0x41
is "$RUN_RC" 1 "a read of data that is not there: exit 1"
like "$RUN_ERR" "byte 0 is 0x00, not 0x41" "  the check says what it found"
probe "$uri" write 4194304 512 1
is "$RUN_RC" 1 "a write past the end: exit 1"
like "$RUN_ERR" "No space left on device" "  the server's NBD_ENOSPC"
probe "nbd+unix:///other?socket=$sock"
is "$RUN_RC" 1 "an export the server does not have"
like "$RUN_ERR" "^nbd-probe: NBD server $sock: handshake: the server refused export 'other': no such export \(0x80000006\): 'no such export, \?\[1mreally\?\[0m'$" \
	"  refused, with the server's message made printable"
probe --max-size 4194303 "$uri"
is "$RUN_RC" 1 "an export one byte over max_size"
like "$RUN_ERR" "the export's size, 4194304 bytes, is above the policy's max_size" \
	"  refused, naming both sizes"
stop_servers

note "nbd-evil, old but honest servers"
evil "$sock" --mode no-fixed
probe "nbd+unix:///?socket=$sock" write 0 512 7 sync read 0 512 7
is "$RUN_RC" 0 "no fixed newstyle: NBD_OPT_EXPORT_NAME works"
like "$RUN_OUT" " export_name" "  and was used"
stop_servers
evil "$sock" --mode no-go
probe "nbd+unix:///?socket=$sock" write 0 512 7 sync read 0 512 7
is "$RUN_RC" 0 "NBD_OPT_GO unknown: falls back to NBD_OPT_EXPORT_NAME"
like "$RUN_OUT" " export_name" "  and was used"
stop_servers

note "nbd-evil, hostile in the handshake: refused, one line, exit 1"
hostile_hs() { # MODE MESSAGE-ERE
	evil "$sock" --mode "$1"
	probe "nbd+unix:///?socket=$sock"
	is "$RUN_RC" 1 "$1: refused"
	like "$RUN_ERR" "$2" "  says why"
	is "$(wc -l <<<"$RUN_ERR")" 1 "  on one line"
	is "$RUN_OUT" "" "  no export"
	stop_servers
}
hostile_hs greeting-magic "not an NBD server: its greeting starts with 0x4e42444d41474944"
hostile_hs oldstyle "oldstyle handshake, which has no export names: not supported"
hostile_hs opt-magic "bad magic 0x0000000000001234 in an option reply"
hostile_hs opt-huge "an option reply of 4294967295 bytes \(at most 4104\)"
hostile_hs info-short "NBD_INFO_EXPORT of 10 bytes \(12 expected\)"
hostile_hs no-export-info "accepted the export without giving its size"
hostile_hs refuse "no such export"
hostile_hs tls-required "requires TLS, which is not supported"
hostile_hs info-flood "more than 32 replies to NBD_OPT_GO"
hostile_hs block-size-bad "size constraints are invalid: minimum 3"
hostile_hs block-size-big "minimum block size 8192 is above 4096"
hostile_hs no-has-flags "lack NBD_FLAG_HAS_FLAGS"
hostile_hs close-handshake "the server closed the connection"
start=$SECONDS
evil "$sock" --mode hang-handshake
run "$PROBE" --timeout 1000 "nbd+unix:///?socket=$sock"
is "$RUN_RC" 1 "hang-handshake: refused"
like "$RUN_ERR" "handshake: the server did not answer in time" "  says why"
ok "  within the deadline (1 s), not forever" test $((SECONDS - start)) -le 4
stop_servers
grep -q "option 2, 0 bytes" "$tmp/evil.log"
is "$?" 0 "after a bad option reply the client sent NBD_OPT_ABORT"

note "nbd-evil, hostile in the transmission: the client stops at once"
hostile_tx() { # MODE MESSAGE-ERE [REQUESTS...]
	local mode=$1 want=$2
	shift 2
	evil "$sock" --mode "$mode"
	probe "nbd+unix:///?socket=$sock" "$@"
	is "$RUN_RC" 1 "$mode: exit 1"
	like "$RUN_ERR" "$want" "  says why"
	stop_servers
}
hostile_tx reply-magic "protocol error: bad magic 0x67446699 in a reply" read 0 512 0
hostile_tx reply-structured "protocol error: a structured reply, which we never asked for" read 0 512 0
hostile_tx reply-cookie "protocol error: a reply to cookie 0x5a5a5a5b00000000, which is not in flight" read 0 512 0
hostile_tx reply-duplicate "protocol error: a reply to cookie 0x0000000100000000, which is not in flight" write 0 512 1 sync flush sync
hostile_tx reply-error "request 0 \(type 0\): Input/output error" read 0 512 0
hostile_tx reply-shutdown "request 0 \(type 1\): Cannot send after transport endpoint shutdown" write 0 512 1
hostile_tx read-long "protocol error: bad magic 0x5a5a5a5a in a reply" read 0 4096 0 sync flush
hostile_tx close "the server closed the connection" read 0 512 0

note "nbdkit"
if command -v nbdkit >/dev/null; then
	ksock=$tmp/kit.sock
	nbdkit -f -U "$ksock" memory 64M 2>>"$tmp/nbdkit.log" &
	pids+=($!)
	wait_listen "$ksock"
	probe "nbd+unix:///?socket=$ksock" write 0 1048576 0x5a write 1048576 4096 0x5b \
		sync read 0 1048576 0x5a read 1048576 4096 0x5b \
		sync zero 0 4096 flush sync read 0 4096 0 read 4096 4096 0x5a
	is "$RUN_RC" 0 "nbdkit memory over a Unix socket: 1 MiB written and read back"
	like "$RUN_OUT" "^size=67108864 flags='flush fua trim write-zeroes multi-conn'" \
		"  size and flags, multi-conn among them"
	stop_servers
	port=$(free_port)
	truncate -s 8M "$tmp/file.img"
	nbdkit -f -i 127.0.0.1 -p "$port" file "$tmp/file.img" \
		2>>"$tmp/nbdkit.log" &
	pids+=($!)
	for ((i = 0; i < 100; i++)); do
		(echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.05
	done
	probe "nbd://127.0.0.1:$port/" write 4096 8192 0x61 fua-write 0 4096 0x62 sync \
		read 4096 8192 0x61 read 0 4096 0x62
	is "$RUN_RC" 0 "nbdkit file over TCP 127.0.0.1"
	stop_servers
	is "$(od -An -tx1 -j 4096 -N 1 "$tmp/file.img" | tr -d ' ')" 61 \
		"  the data is in the file"
	rm -f "$ksock"
	nbdkit -f -U "$ksock" --filter=blocksize-policy memory 16M \
		blocksize-minimum=4096 blocksize-preferred=65536 \
		blocksize-maximum=1M 2>>"$tmp/nbdkit.log" &
	pids+=($!)
	wait_listen "$ksock"
	probe "nbd+unix:///?socket=$ksock"
	like "$RUN_OUT" "block_size=4096 min_block=4096 pref_block=65536 max_payload=1048576" \
		"nbdkit's block size constraints are read (4096, 64K, 1M)"
	stop_servers
else
	skip "nbdkit is not installed (tests/deps.sh)" 5
fi

note "qemu-nbd serving a qcow2 image"
if command -v qemu-nbd >/dev/null && command -v qemu-img >/dev/null; then
	qemu-img create -q -f qcow2 "$tmp/disk.qcow2" 64M
	qsock=$tmp/qemu.sock
	qemu-nbd -t -k "$qsock" -f qcow2 -x vm "$tmp/disk.qcow2" &
	pids+=($!)
	wait_listen "$qsock"
	probe "nbd+unix:///vm?socket=$qsock" write 0 131072 0x71 write 33554432 65536 0x72 flush
	is "$RUN_RC" 0 "written through qemu-nbd"
	probe "nbd+unix:///vm?socket=$qsock" read 0 131072 0x71 read 33554432 65536 0x72 read 131072 4096 0
	is "$RUN_RC" 0 "read back on a second connection"
	probe "nbd+unix:///nope?socket=$qsock"
	like "$RUN_ERR" "the server refused export 'nope': no such export" \
		"an unknown export: qemu-nbd's refusal is passed on"
	stop_servers
	run qemu-img check "$tmp/disk.qcow2"
	is "$RUN_RC" 0 "qemu-img check: the image is clean"
else
	skip "qemu-nbd or qemu-img is not installed (tests/deps.sh)" 4
fi

note "URIs the client refuses"
probe "nbds://127.0.0.1/x"
like "$RUN_ERR" "^nbd-probe: --uri: TLS \(nbds://\) is not supported" "nbds:// refused"
probe "nbd+unix:///x?socket=$tmp/none.sock"
like "$RUN_ERR" "NBD server $tmp/none.sock: connect: No such file or directory" \
	"a socket that is not there: the path and why"

done_testing
