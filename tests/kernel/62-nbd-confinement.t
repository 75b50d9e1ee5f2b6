#!/bin/bash
# Confinement of an nbd device's server: its tasks like every server's
# (no capability, no_new_privs, seccomp, one more filter per queue
# thread); its reconnect helpers hold no capability and no descriptor but
# their channel, their queue's ring, their own ring and stdio; and a
# queue thread that calls socket(2) is killed (a test-only hook of
# ublk-user-testhooks): the NBD data path needs no system call the queue
# filter lacks.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/nbd.sh"
tools=$UBLK_USER_TEST_ROOT/build/tests

at_exit run_as alice ublk-user del -a

field() { sed -n "s/^$2:[[:space:]]*//p" "$1"; }

sock=/home/alice/conf.sock
nbd_kit alice "$sock" memory 64M
kit=$NBD_PID

note "the server's tasks and the helpers"
uu alice add -t nbd --uri "nbd+unix:///?socket=$sock" -q 2 --json
is "$RUN_RC" 0 "an nbd device with 2 queues (nbdkit allows multi-conn)"
id=$(jget "$RUN_OUT" .dev_id)
pid=$(jget "$RUN_OUT" .server_pid)
run_as alice dd if="/dev/ublkb$id" of=/dev/null bs=1M count=4 iflag=direct status=none
main_filters=$(field "/proc/$pid/status" Seccomp_filters)
threads=0
for t in /proc/"$pid"/task/*; do
	comm=$(<"$t/comm")
	[[ $comm == iou-* || ${t##*/} == "$pid" ]] && continue
	threads=$((threads + 1))
	is "$(field "$t/status" Seccomp):$(field "$t/status" Seccomp_filters):$(field "$t/status" CapEff)" \
		"2:$((main_filters + 1)):0000000000000000" \
		"queue thread ${t##*/}: seccomp with its own filter, no capability"
done
is "$threads" 2 "two queue threads"
helpers=$(pgrep -P "$pid" -x ublk-user | xargs)
is "$(wc -w <<<"$helpers")" 2 "one reconnect helper per queue, children of the server"
for h in $helpers; do
	is "$(field "/proc/$h/status" CapEff):$(field "/proc/$h/status" CapPrm):$(field "/proc/$h/status" NoNewPrivs)" \
		"0000000000000000:0000000000000000:1" "helper $h: no capability, no_new_privs"
	# stdio, the channel, the queue's ring, the helper's own ring
	fds=$(ls "/proc/$h/fd" | sort -n | xargs)
	is "$(wc -w <<<"$fds")" 6 "helper $h: stdio and three descriptors ($fds)"
	kinds=$(for f in ${fds#0 1 2 }; do readlink "/proc/$h/fd/$f"; done |
		sort | xargs)
	is "$kinds" "anon_inode:[io_uring] anon_inode:[io_uring] socket:${kinds##*socket:}" \
		"helper $h: its channel (a socket) and two rings, the queue's and its own"
done
uu alice del -n "$id"
is "$RUN_RC" 0 "del"
no_leftovers alice "after del (helpers included)"

note "socket(2) in an nbd queue thread kills the server"
run run_as alice "$tools/ublk-user-testhooks" add -t nbd \
	--uri "nbd+unix:///?socket=$sock" --json
is "$RUN_RC" 0 "an nbd device of the test build"
id=$(jget "$RUN_OUT" .dev_id)
pid=$(jget "$RUN_OUT" .server_pid)
log=/run/user/2001/ublk-user/dev-$id.log
ok "it serves I/O" run_as alice dd if="/dev/ublkb$id" of=/dev/null bs=4k \
	count=16 iflag=direct status=none
run run_as alice dd if="/dev/ublkb$id" of=/dev/null bs=512 skip=2048 count=1 iflag=direct
isnt "$RUN_RC" 0 "the read that makes the queue thread call socket(2) fails"
ok "the server was killed" timeout 20 sh -c "while kill -0 $pid 2>/dev/null; do sleep 0.1; done"
like "$(dmesg)" "audit.*pid=$pid .*sig=31 .*syscall=41 " \
	"by seccomp (SIGSYS for socket, syscall 41)"
unlike "$(<"$log")" "socket\\(2\\) allowed" "socket(2) never returned"
uu alice del -n "$id"
is "$RUN_RC" 0 "del cleans up after the killed server"
no_leftovers alice "after the seccomp kill (helpers included)"
ok "nbdkit is unharmed" kill -0 "$kit"
done_testing
