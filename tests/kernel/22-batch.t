#!/bin/bash
# Batched ublk commands (UBLK_F_BATCH_IO, Linux >= 7.0): add --batch asks
# for them (a command per request otherwise), and data is intact either
# way: several queues, a depth of 2, more requests in flight than one
# fetch CQE carries (128), nbd, a disk file, a del while requests are in
# flight.  Where the
# kernel lacks the flag, --batch is refused and nothing is left.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/nbd.sh"

at_exit run_as alice ublk-user del -a

logdir=/run/user/$(uid_of alice)/ublk-user
batch=yes
lacks UBLK_F_BATCH_IO && batch=no

# The kernel's flags of the device add or up printed (--json), one a line
flags_of_out() { jq -r '.flags[]' <<<"$RUN_OUT"; }

add_dev() { # add_dev ARGS... -> DEV (id), FLAGS
	uu alice add "$@" --json
	is "$RUN_RC" 0 "add $*"
	[[ $RUN_RC == 0 ]] || BAIL_OUT "cannot add a device: $RUN_ERR"
	DEV=$(jget "$RUN_OUT" .dev_id)
	FLAGS=$(flags_of_out)
}

# commands_are DEV MODE WHAT: the kernel's flag and the server's log agree
commands_are() {
	local dev=$1 mode=$2 what=$3
	if [[ $mode == batched ]]; then
		ok "$what: the device has UBLK_F_BATCH_IO" grep -qx UBLK_F_BATCH_IO <<<"$FLAGS"
		like "$(<"$logdir/dev-$dev.log")" "ublk commands: batched \\(UBLK_F_BATCH_IO\\)" \
			"  and its server batches its commands"
	else
		nok "$what: the device has no UBLK_F_BATCH_IO" grep -qx UBLK_F_BATCH_IO <<<"$FLAGS"
		like "$(<"$logdir/dev-$dev.log")" "ublk commands: one per request" \
			"  and its server sends a command per request"
	fi
}

# --- the default: a command per request --------------------------------------------------
add_dev -t mem -s 64M -q 2
commands_are "$DEV" one "the default"
fio_verify mem-single "$DEV" --iodepth=32 --numjobs=2 --offset_increment=32M --size=32M \
	--cpus_allowed_policy=split --cpus_allowed=0-1
single=$DEV

# --- --batch needs depth 2, and a kernel that batches --------------------------------------
uu alice add -t mem -s 16M -d 1 --batch
is "$RUN_RC" 2 "add --batch -d 1: a usage error"
like "$RUN_ERR" "--batch needs a depth of at least 2" "  saying why"
if [[ $batch == no ]]; then
	uu alice add -t mem -s 16M --batch
	isnt "$RUN_RC" 0 "add --batch on a kernel without UBLK_F_BATCH_IO: refused"
	like "$RUN_ERR" "this kernel has no UBLK_F_BATCH_IO \\(Linux >= 7.0\\)" "  naming the kernel it needs"
	is "$(all_ublk_nodes alice)" "$(printf '/dev/ublkb%s\n/dev/ublkc%s' "$single" "$single")" \
		"  and nothing is left of it"
	uu alice del -n "$single"
	no_leftovers alice "at the end"
	skip "$LACKS"
	done_testing
	exit 0
fi

# --- two queues, batched -------------------------------------------------------------------
img=/home/alice/batch.img
run_as alice truncate -s 64M "$img"
add_dev -t loop -f "$img" -q 2 -d 64 --batch
loop=$DEV
commands_are "$loop" batched "loop, 2 queues, --batch"
# Both queues: two jobs, one on each CPU.
fio_verify loop-2q "$loop" --iodepth=64 --numjobs=2 --offset_increment=32M --size=32M \
	--cpus_allowed_policy=split --cpus_allowed=0-1
written_lands "$loop" "$img"

# --- depth 2: two tags, two fetch buffers ------------------------------------------------
add_dev -t mem -s 16M -d 2 --batch
commands_are "$DEV" batched "depth 2"
fio_verify mem-depth2 "$DEV" --iodepth=8
two=$DEV

# --- depth 256: a request burst takes more than one fetch CQE ----------------------------
add_dev -t mem -s 64M -d 256 --batch
commands_are "$DEV" batched "depth 256"
fio_verify mem-depth256 "$DEV" --iodepth=256 --iodepth_batch_submit=64 --size=64M
deep=$DEV

# --- nbd: replies committed from the receive, outside the request's hooks ------------------
sock=/home/alice/batch-nbd.sock
nbd_kit alice "$sock" memory 64M
add_dev -t nbd --uri "nbd+unix:///?socket=$sock" -q 2 --batch
commands_are "$DEV" batched "nbd, 2 queues"
fio_verify nbd-2q "$DEV" --bsrange=512-128k --rw=randrw --iodepth=32 --numjobs=2 \
	--size=16M --offset_increment=32M --fsync=16
nbd=$DEV

# --- a disk file's batch = yes is add --batch -----------------------------------------------
run_as alice mkdir -p /home/alice/.config/ublk-user/disks
printf 'target = mem\nsize = 16M\nbatch = yes\n' |
	run_as alice tee /home/alice/.config/ublk-user/disks/fast.disk >/dev/null
uu alice up fast --json
is "$RUN_RC" 0 "up a disk file with batch = yes"
FLAGS=$(flags_of_out)
ok "  its device has UBLK_F_BATCH_IO" grep -qx UBLK_F_BATCH_IO <<<"$FLAGS"
uu alice down fast
is "$RUN_RC" 0 "  down"
rm -f /home/alice/.config/ublk-user/disks/fast.disk

for d in "$single" "$two" "$deep" "$nbd"; do
	uu alice del -n "$d"
	is "$RUN_RC" 0 "del device $d"
done

# --- del while requests are in flight ----------------------------------------------------
del_while_busy "$loop" 64
no_leftovers alice "at the end"
rm -f "$img"

done_testing
