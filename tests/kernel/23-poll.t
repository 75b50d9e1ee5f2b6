#!/bin/bash
# add --poll-us: each queue spins for the next request before it sleeps.
# What it changes is the queue thread's sleeps, which the kernel counts
# (voluntary context switches): a request at depth 1 wakes a sleeping
# queue without it and finds a spinning one with it.  Data is intact
# either way (several queues, batched commands where the kernel has them,
# a flush); an idle disk stops spinning; del ends a spinning server; a
# disk file's poll_us is add --poll-us.  Each queue enters its ring by a
# registered fd.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"

at_exit run_as alice ublk-user del -a

logdir=/run/user/$(uid_of alice)/ublk-user

add_dev() { # add_dev ARGS... -> DEV (id), PID (its server)
	uu alice add "$@" --json
	is "$RUN_RC" 0 "add $*"
	[[ $RUN_RC == 0 ]] || BAIL_OUT "cannot add a device: $RUN_ERR"
	DEV=$(jget "$RUN_OUT" .dev_id)
	PID=$(jget "$RUN_OUT" .server_pid)
}

# sleeps PID: how often the server's threads went to sleep so far
sleeps() {
	cat /proc/"$1"/task/*/status | awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s }'
}

# cpu_ticks PID: the CPU time of the server's threads so far, in ticks
cpu_ticks() {
	cat /proc/"$1"/task/*/stat | awk '{ s += $14 + $15 } END { print s }'
}

# reads_one_at_a_time DEV PID: 2000 direct reads of 4 KiB, each after
# the last; SLEPT is how often the server slept meanwhile
reads_one_at_a_time() {
	local before
	before=$(sleeps "$2")
	run run_as alice dd if="/dev/ublkb$1" of=/dev/null bs=4k count=2000 \
		iflag=direct status=none
	is "$RUN_RC" 0 "  2000 reads of 4 KiB, one at a time"
	SLEPT=$(($(sleeps "$2") - before))
}

# --- the default: the queue sleeps between requests ------------------------------------------
add_dev -t mem -s 16M -d 16
is "$(jget "$RUN_OUT" .poll_us)" 0 "poll_us is 0 by default"
unlike "$(<"$logdir/dev-$DEV.log")" "poll" "  and the server's log says nothing of polling"
reads_one_at_a_time "$DEV" "$PID"
ok "  the server slept for most of them ($SLEPT times)" test "$SLEPT" -ge 1000
uu alice del -n "$DEV"

# --- each queue enters its ring by a registered fd --------------------------------------------
# A queue thread registers its ring's fd (IORING_REGISTER_RING_FDS, Linux
# >= 5.18) before confinement, so that io_uring_enter finds the ring
# without looking its fd up: its enters carry IORING_ENTER_REGISTERED_RING
# (0x10).
add_dev -t mem -s 16M -d 16 -q 2
trace=$(mktemp)
at_exit rm -f "$trace"
strace -f -qq -e trace=io_uring_enter -e raw=io_uring_enter -o "$trace" -p "$PID" &
tracer=$!
traced=0
for _ in $(seq 300); do # until strace has attached to every thread
	traced=1
	for t in /proc/"$PID"/task/*; do
		# (io_uring's own workers, if any, make no io_uring_enter)
		[[ $(<"$t/comm") != iou-* ]] || continue
		[[ $(status_field "$t" TracerPid) == "$tracer" ]] || traced=0
	done
	((traced)) && break
	sleep 0.1
done
is "$traced" 1 "  strace is attached to each of the server's threads (but io_uring's)"
run run_as alice dd if="/dev/ublkb$DEV" of=/dev/null bs=4k count=200 iflag=direct status=none
is "$RUN_RC" 0 "  200 reads of 4 KiB, one at a time"
kill -INT "$tracer"
wait "$tracer" || :
# "TID io_uring_enter(FD, TO_SUBMIT, MIN_COMPLETE, FLAGS, ...)": the queue
# threads' (not the main thread's), with FLAGS & 0x10 or without
with=0 without=0 unflagged=
while read -r tid call; do
	[[ $tid != "$PID" && $call =~ ^io_uring_enter\([^,]*,\ [^,]*,\ [^,]*,\ ([^,]*), ]] || continue
	if ((BASH_REMATCH[1] & 0x10)); then
		with=$((with + 1))
	else
		without=$((without + 1))
		unflagged+="$tid $call"$'\n'
	fi
done <"$trace"
ok "  the queues entered their rings $with times with IORING_ENTER_REGISTERED_RING" \
	test "$with" -ge 200
is "$without" 0 "  and never without it"
[[ $TAP_OK == 1 ]] || diag "$(head -n 5 <<<"$unflagged")"
uu alice del -n "$DEV"
is "$RUN_RC" 0 "  del"
# liburing unregisters the fd when the ring is freed, after the filters
unlike "$(dmesg)" "audit.*pid=$PID .*sig=31 " "  and seccomp did not kill the server as it freed its rings"

# --- --poll-us: the next request finds the queue awake ---------------------------------------
# 20 ms, so that a slow guest's gaps between two reads stay within it
add_dev -t mem -s 16M -d 16 --poll-us 20000
is "$(jget "$RUN_OUT" .poll_us)" 20000 "add --json says poll_us 20000"
like "$(<"$logdir/dev-$DEV.log")" "queues poll for up to 20000 us before sleeping" \
	"  and so does the server's log"
uu alice list --json
is "$(jq -r --argjson d "$DEV" '.[] | select(.dev_id == $d) | .poll_us' <<<"$RUN_OUT")" 20000 \
	"  and list --json"
reads_one_at_a_time "$DEV" "$PID"
ok "  the server slept for few of them ($SLEPT times)" test "$SLEPT" -lt 1000

# An idle disk: the queue sleeps once its 20 ms are over.
sleep 0.5
before=$(cpu_ticks "$PID")
sleep 2
idle=$(($(cpu_ticks "$PID") - before))
ok "  idle, its server uses no CPU ($idle ticks in 2 s)" test "$idle" -le 10
uu alice del -n "$DEV"
is "$RUN_RC" 0 "  del"

# --- data: two queues, a loop file, a flush ---------------------------------------------------
img=/home/alice/poll.img
run_as alice truncate -s 64M "$img"
add_dev -t loop -f "$img" -q 2 -d 64 --poll-us 200
loop=$DEV
fio_verify loop-qd1 "$loop" --iodepth=1 --size=8M
fio_verify loop-2q "$loop" --iodepth=32 --numjobs=2 --offset_increment=32M --size=32M \
	--cpus_allowed_policy=split --cpus_allowed=0-1
written_lands "$loop" "$img"

# --- with batched ublk commands ----------------------------------------------------------------
if lacks UBLK_F_BATCH_IO; then
	skip "$LACKS"
else
	add_dev -t mem -s 64M -q 2 -d 64 --batch --poll-us 200
	fio_verify mem-batch "$DEV" --iodepth=32 --numjobs=2 --offset_increment=32M --size=32M \
		--cpus_allowed_policy=split --cpus_allowed=0-1
	fio_verify mem-batch-qd1 "$DEV" --iodepth=1 --size=4M
	uu alice del -n "$DEV"
	is "$RUN_RC" 0 "  del"
fi

# --- a disk file's poll_us ----------------------------------------------------------------------
run_as alice mkdir -p /home/alice/.config/ublk-user/disks
printf 'target = mem\nsize = 16M\npoll_us = 300\n' |
	run_as alice tee /home/alice/.config/ublk-user/disks/quick.disk >/dev/null
uu alice up quick --json
is "$RUN_RC" 0 "up a disk file with poll_us = 300"
is "$(jget "$RUN_OUT" .poll_us)" 300 "  its device polls for 300 us"
uu alice down quick
is "$RUN_RC" 0 "  down"
printf 'target = mem\nsize = 16M\npoll_us = 1s\n' |
	run_as alice tee /home/alice/.config/ublk-user/disks/quick.disk >/dev/null
uu alice up quick
isnt "$RUN_RC" 0 "up with poll_us = 1s: refused"
like "$RUN_ERR" "quick.disk:3: poll_us: '1s' is not a number" "  naming the line"
rm -f /home/alice/.config/ublk-user/disks/quick.disk

# --- del while a spinning queue has requests in flight ------------------------------------------
del_while_busy "$loop" 16
no_leftovers alice "at the end"
rm -f "$img"

done_testing
