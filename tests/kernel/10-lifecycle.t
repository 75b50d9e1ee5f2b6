#!/bin/bash
# add, list and del of null, loop and mem devices by an unprivileged user,
# with the --json contract scripts rely on.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"

uu alice features
is "$RUN_RC" 0 "features exits 0"
like "$RUN_OUT" $'\nUBLK_F_UNPRIVILEGED_DEV\n' "features names UBLK_F_UNPRIVILEGED_DEV"
uu alice features --json
is "$(jget "$RUN_OUT" .flags)" "$("$UBLK_RAW" features)" \
	"features --json: the flags GET_FEATURES returns"
if lacks UBLK_F_SHMEM_ZC; then
	is "$(jget "$RUN_OUT" '.features | index("UBLK_F_SHMEM_ZC") != null')" false \
		"features --json does not list UBLK_F_SHMEM_ZC, which this kernel lacks"
else
	is "$(jget "$RUN_OUT" '.features | index("UBLK_F_SHMEM_ZC") != null')" true \
		"features --json lists UBLK_F_SHMEM_ZC"
fi
is "$(jget "$RUN_OUT" .kernel)" "$(uname -r)" "features --json names the kernel"

nl=$'\n'
img=/home/alice/disk.img
run_as alice truncate -s 64M "$img"

# One device of each target, checked the same way.
check_add() { # check_add TARGET EXPECTED_SIZE ARGS...
	local target=$1 size=$2 id
	shift 2
	uu alice add -t "$target" "$@" --json
	is "$RUN_RC" 0 "add -t $target exits 0"
	[[ $RUN_RC == 0 ]] || { diag "$RUN_ERR"; return 1; }
	local j=$RUN_OUT
	id=$(jget "$j" .dev_id)
	like "$id" '^[0-9]+$' "$target: dev_id is a number"
	is "$(jget "$j" .block)" "/dev/ublkb$id" "$target: block node path"
	is "$(jget "$j" .char)" "/dev/ublkc$id" "$target: char node path"
	is "$(jget "$j" .target)" "$target" "$target: target"
	is "$(jget "$j" .size)" "$size" "$target: size"
	is "$(jget "$j" .owner_uid):$(jget "$j" .owner_gid)" 2001:2001 "$target: owner is alice"
	is "$(jget "$j" .state)" live "$target: state live"
	is "$(jget "$j" '.flags | index("UBLK_F_UNPRIVILEGED_DEV") != null')" true \
		"$target: the kernel made it unprivileged"
	local pid
	pid=$(jget "$j" .server_pid)
	is "$(stat -c %U /proc/"$pid")" alice "$target: server runs as alice"
	is "$(stat -c '%U:%G %a' "/dev/ublkb$id")" "alice:alice 600" "$target: block node handed over"
	is "$(stat -c '%U:%G %a' "/dev/ublkc$id")" "alice:alice 600" "$target: char node handed over"
	is "$(blockdev --getsize64 "/dev/ublkb$id")" "$size" "$target: kernel size"
	like "$(cat "/sys/block/ublkb$id/queue/scheduler")" '\[none\]' \
		"$target: no I/O scheduler in front of the server (the udev rule)"
	ok "$target: alice reads the disk" run_as alice dd if="/dev/ublkb$id" of=/dev/null bs=4k count=16 iflag=direct status=none
	ok "$target: record exists" test -f "/run/user/2001/ublk-user/dev-$id.json"
	LAST_ID=$id
}

check_add null 1073741824 --size 1G -q 2 -d 64
null_id=$LAST_ID
check_add loop 67108864 -f "$img"
loop_id=$LAST_ID
check_add mem 33554432 --size 32M
mem_id=$LAST_ID

uu alice list --json
is "$RUN_RC" 0 "list --json exits 0"
is "$(jget "$RUN_OUT" length)" 3 "list shows alice's three devices"
is "$(jget "$RUN_OUT" "map(select(.dev_id == $loop_id))[0].backing")" "$img" \
	"list --json: backing of the loop device"
is "$(jget "$RUN_OUT" "map(select(.dev_id == $null_id))[0].nr_queues")" 2 \
	"list --json: nr_queues"
is "$(jget "$RUN_OUT" "map(select(.dev_id == $null_id))[0].queue_depth")" 64 \
	"list --json: queue_depth"
is "$(jget "$RUN_OUT" '[.[].uuid | test("^[0-9a-f-]{36}$")] | all')" true \
	"list --json: every device has a uuid"
uu alice list
like "$RUN_OUT" "(^|$nl)$mem_id +mem +32M +live" "list text row of the mem device"
uu alice list -n "$loop_id" --json
is "$(jget "$RUN_OUT" '.[0].target')" loop "list -n shows that device"

uu alice del -n "$mem_id"
is "$RUN_RC" 0 "del -n exits 0"
nok "mem: block node gone" test -e "/dev/ublkb$mem_id"
nok "mem: char node gone" test -e "/dev/ublkc$mem_id"
nok "mem: record gone" test -e "/run/user/2001/ublk-user/dev-$mem_id.json"
uu alice list -n "$mem_id"
is "$RUN_RC" 1 "list -n of a deleted device exits 1"
like "$RUN_ERR" "no device $mem_id visible" "and says so"

# SIGTERM to a server deletes its device too.
uu alice list -n "$null_id" --json
pid=$(jget "$RUN_OUT" '.[0].server_pid')
ok "SIGTERM the null server" kill -TERM "$pid"
ok "null: char node goes away" timeout 20 sh -c "while [ -e /dev/ublkc$null_id ]; do sleep 0.1; done"
ok "null: server exited" timeout 20 sh -c "while kill -0 $pid 2>/dev/null; do sleep 0.1; done"
nok "null: record gone" test -e "/run/user/2001/ublk-user/dev-$null_id.json"

uu alice del -a
is "$RUN_RC" 0 "del -a exits 0"
no_leftovers alice "after del -a"

# Two deletions of one device at once (del beside del, or gc beside the
# server's own deletion as it stops): the later one finds the node gone,
# which the kernel says as ENOENT.  That is "being deleted", not an error.
rm -f /tmp/del-race.err
for round in 1 2 3 4 5 6; do
	uu alice add -t null -s 1M --json
	id=$(jget "$RUN_OUT" .dev_id)
	run_as alice ublk-user del -n "$id" 2>/tmp/del-a.err &
	run_as alice ublk-user del -n "$id" 2>/tmp/del-b.err &
	wait
	grep -hv "no device $id\$" /tmp/del-a.err /tmp/del-b.err >>/tmp/del-race.err || :
	ok "  round $round: device $id goes away" timeout 20 sh -c \
		"while [ -e /dev/ublkc$id ]; do sleep 0.1; done"
done
is "$(cat /tmp/del-race.err 2>/dev/null)" "" "two dels of one device at once: neither fails but with 'no device'"
no_leftovers alice "after the racing dels"

# devtmpfs makes a node root:root 0000 just before it unlinks it, so a
# command racing the deletion gets EACCES; that too means "being deleted",
# but only if the device then leaves.  A live device's node in that state
# keeps its refusal.
uu alice add -t null -s 1M --json
id=$(jget "$RUN_OUT" .dev_id)
owner=$(stat -c %u:%g "/dev/ublkc$id")
run chown root:root "/dev/ublkc$id"
run chmod 0000 "/dev/ublkc$id"
uu alice del -n "$id"
is "$RUN_RC" 1 "del of a live device whose node is root:root 0000 fails"
like "$RUN_ERR" "may not use /dev/ublkc$id \\(owner uid 0, mode 0000; the device did not leave within 5 s\\): Permission denied" \
	"and says the node refused it, how the node was, and that the device stayed"
ok "  the device stays" test -e "/sys/class/ublk-char/ublkc$id"
run chown "$owner" "/dev/ublkc$id"
run chmod 0600 "/dev/ublkc$id"
uu alice del -n "$id"
is "$RUN_RC" 0 "  once the node is alice's again, del deletes it"
no_leftovers alice "after the refused del"

# Device ids on request
uu alice add -t null -n 7
is "$RUN_RC" 0 "add -n 7"
like "$RUN_OUT" $'^dev_id 7\nblock /dev/ublkb7\nchar /dev/ublkc7$' "add prints id and nodes"
uu alice add -t null -n 7
is "$RUN_RC" 1 "add -n 7 again fails"
like "$RUN_ERR" "ublk device 7 already exists" "and says the id is taken"
uu alice del -n 7
no_leftovers alice "at the end"
done_testing
