#!/bin/bash
# The nbd target when the NBD server goes away, as alice: killed and
# restarted during fio (I/O resumes, verify passes, an fsync'd marker
# survives); down longer than --nbd-timeout (EIO well before the kernel's
# 30 s I/O timeout, our server lives on and recovers, and the next fsync
# says that acknowledged writes were lost); our own server
# killed with SIGKILL (fio ends, del cleans up, the NBD server is fine).
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/nbd.sh"

at_exit run_as alice ublk-user del -a
home=/home/alice
log() { cat "/run/user/$(uid_of alice)/ublk-user/dev-$1.log"; }

add_nbd() { # add_nbd URI [ARGS...] -> DEV, SPID
	local uri=$1
	shift
	uu alice add -t nbd --uri "$uri" "$@" --json
	is "$RUN_RC" 0 "add -t nbd --uri $uri $*"
	[[ $RUN_RC == 0 ]] || BAIL_OUT "cannot add an nbd device: $RUN_ERR"
	DEV=$(jget "$RUN_OUT" .dev_id)
	SPID=$(jget "$RUN_OUT" .server_pid)
}

note "the NBD server killed and restarted while fio writes"
img=$home/disk.img
sock=$home/disk.sock
run_as alice truncate -s 64M "$img"
nbd_kit alice "$sock" file "$img"
add_nbd "nbd+unix:///?socket=$sock"
dev=$DEV
run_as alice sh -c "head -c 4096 /dev/urandom > $home/marker"
ok "an fsync'd marker at 48 MiB" run_as alice dd if="$home/marker" \
	of="/dev/ublkb$dev" bs=4k seek=12288 oflag=direct conv=fsync status=none
# 8192 writes at 1000 a second, then the verify: the kill lands in the writes
run_as alice fio --name=restart --filename="/dev/ublkb$dev" \
	--ioengine=io_uring --direct=1 --rw=randwrite --bs=4k --size=32M \
	--iodepth=16 --rate_iops=1000 --verify=crc32c --verify_fatal=1 \
	--do_verify=1 --output=/tmp/fio-restart.out >/dev/null 2>&1 &
fio_pid=$!
sleep 2
ok "fio is writing" kill -0 "$fio_pid"
ok "kill -9 nbdkit" kill -KILL "$NBD_PID"
sleep 2
ok "  fio waits meanwhile" kill -0 "$fio_pid"
nbd_kit alice "$sock" file "$img"
rc=0
wait "$fio_pid" || rc=$?
is "$rc" 0 "fio ends well: I/O resumed, the data verifies"
[[ $rc == 0 ]] || diag "$(cat /tmp/fio-restart.out)"
uu alice list -n "$dev" --json
is "$(jget "$RUN_OUT" '.[0] | "\(.connected) \(.reconnects >= 1) \(.state)"')" \
	"true true live" "list --json: connected again, reconnects counted"
like "$(log "$dev")" "queue 0: connection to the NBD server lost: " \
	"the log says the connection was lost"
like "$(log "$dev")" "queue 0: reconnected to the NBD server" "  and made again"
run run_as alice sh -c "dd if=/dev/ublkb$dev bs=4k skip=12288 count=1 iflag=direct status=none | cmp - $home/marker"
is "$RUN_RC" 0 "the marker is there"
uu alice del -n "$dev"
is "$RUN_RC" 0 "del"

note "the NBD server down longer than --nbd-timeout"
sock=$home/mem.sock
nbd_kit alice "$sock" memory 16M
add_nbd "nbd+unix:///?socket=$sock" --nbd-timeout 5
dev=$DEV
spid=$SPID
ok "the device works" run_as alice dd if=/dev/zero of="/dev/ublkb$dev" \
	bs=4k count=16 oflag=direct status=none
nbd_stop "$NBD_PID"
start=$SECONDS
run run_as alice dd if="/dev/ublkb$dev" of=/dev/null bs=4k count=1 \
	skip=100 iflag=direct
elapsed=$((SECONDS - start))
isnt "$RUN_RC" 0 "a read fails"
like "$RUN_ERR" "Input/output error" "  with EIO"
ok "  after the timeout (5 s), well before the kernel's 30 s ($elapsed s)" \
	test "$elapsed" -ge 4 -a "$elapsed" -le 20
ok "our server is alive" kill -0 "$spid"
like "$(log "$dev")" "reconnecting: NBD server $sock: connect: " \
	"the log says why it cannot reconnect"
run run_as alice dd if=/dev/zero of="/dev/ublkb$dev" bs=4k count=1 oflag=direct
isnt "$RUN_RC" 0 "a write fails too"
# The requests failed in time: the kernel's timeout never kills us.
sleep $((start + 32 - SECONDS > 0 ? start + 32 - SECONDS : 0))
ok "still alive 32 s after the first failed request" kill -0 "$spid"
nbd_kit alice "$sock" memory 16M
ok "the server back: I/O works again" timeout 30 sh -c \
	"until setpriv --reuid=$(uid_of alice) --regid=$(uid_of alice) --clear-groups dd if=/dev/ublkb$dev of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null; do sleep 1; done"
# The 16 writes above were acknowledged and never flushed, and the new
# server (memory, again) does not have them: the next flush must not say
# they are safe.
run run_as alice dd if=/dev/zero of="/dev/ublkb$dev" bs=4k count=1 \
	oflag=direct conv=fsync status=none
isnt "$RUN_RC" 0 "the next fsync fails: writes were acknowledged, not flushed, and the server went"
like "$RUN_ERR" "Input/output error" "  with EIO"
like "$(log "$dev")" "queue 0: it had acknowledged writes that no flush covered: the next flush fails \(EIO\)" \
	"  the log says why"
ok "the fsync after it succeeds" run_as alice dd if=/dev/zero \
	of="/dev/ublkb$dev" bs=4k count=1 oflag=direct conv=fsync status=none
uu alice del -n "$dev"
is "$RUN_RC" 0 "del"

note "our server killed with SIGKILL during I/O"
add_nbd "nbd+unix:///?socket=$sock"
dev=$DEV
kit=$NBD_PID
run_as alice fio --name=crash --filename="/dev/ublkb$dev" --ioengine=io_uring \
	--direct=1 --rw=randrw --bs=4k --iodepth=32 --time_based --runtime=60 \
	--size=16M --output=/tmp/fio-crash.out >/dev/null 2>&1 &
fio_pid=$!
sleep 3
ok "fio is running" kill -0 "$fio_pid"
start=$SECONDS
ok "kill -9 our server" kill -KILL "$SPID"
fio_rc=0
timeout 30 tail --pid="$fio_pid" -f /dev/null || fio_rc=timeout
wait "$fio_pid" || fio_rc=$?
elapsed=$((SECONDS - start))
isnt "$fio_rc" timeout "fio ended after the kill, in ${elapsed}s"
isnt "$fio_rc" 0 "  with errors (exit status $fio_rc)"
ok "  within 20 s" test "$elapsed" -le 20
uu alice del -n "$dev"
is "$RUN_RC" 0 "del of the dead device"
no_leftovers alice "after del (no reconnect helper left either)"
ok "nbdkit is unharmed" kill -0 "$kit"
add_nbd "nbd+unix:///?socket=$sock"
ok "  and serves a new device" run_as alice dd if="/dev/ublkb$DEV" \
	of=/dev/null bs=4k count=1 iflag=direct status=none
uu alice del -a
no_leftovers alice "at the end"
done_testing
