#!/bin/bash
# A server killed with SIGKILL: pending and new I/O fails within seconds,
# nothing hangs, list shows the device dead and del cleans it all up.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"

at_exit run_as alice ublk-user del -a

img=/home/alice/crash.img
run_as alice truncate -s 64M "$img"
uu alice add -t loop -f "$img" --json
is "$RUN_RC" 0 "add a loop device"
id=$(jget "$RUN_OUT" .dev_id)
pid=$(jget "$RUN_OUT" .server_pid)

# fio runs for up to 60 s; the server dies after 3.
run_as alice fio --name=crash --filename="/dev/ublkb$id" --ioengine=io_uring \
	--direct=1 --rw=randrw --bs=4k --iodepth=32 --time_based --runtime=60 \
	--output=/tmp/fio-crash.out >/dev/null 2>&1 &
fio_pid=$!
sleep 3
ok "fio is running" kill -0 "$fio_pid"
start=$SECONDS
ok "kill -9 the server" kill -KILL "$pid"
fio_rc=0
timeout 30 tail --pid="$fio_pid" -f /dev/null || fio_rc=timeout
wait "$fio_pid" || fio_rc=$?
elapsed=$((SECONDS - start))
isnt "$fio_rc" timeout "fio ended after the kill, in ${elapsed}s (no hang)"
isnt "$fio_rc" 0 "fio reports the I/O errors (exit status $fio_rc)"
ok "fio ended within 20 s of the kill" test "$elapsed" -le 20

run run_as alice dd if="/dev/ublkb$id" of=/dev/null bs=4k count=1 iflag=direct
isnt "$RUN_RC" 0 "new I/O fails"

uu alice list -n "$id" --json
is "$(jget "$RUN_OUT" '.[0].state')" dead "list shows the device dead"
uu alice del -n "$id"
is "$RUN_RC" 0 "del of the dead device"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
nok "its char node is gone" test -e "/dev/ublkc$id"
no_leftovers alice "after del"

# An idle server killed: same clean-up.
uu alice add -t mem --size 8M --json
id=$(jget "$RUN_OUT" .dev_id)
ok "kill -9 an idle server" kill -KILL "$(jget "$RUN_OUT" .server_pid)"
ok "its block node goes away" timeout 20 sh -c "while [ -e /dev/ublkb$id ]; do sleep 0.2; done"
uu alice list --json
is "$(jget "$RUN_OUT" '.[0].state')" dead "list: dead"
uu alice del -a
is "$RUN_RC" 0 "del -a removes it"
no_leftovers alice "at the end"
done_testing
