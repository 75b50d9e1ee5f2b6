#!/bin/bash
# What a server keeps of whoever started it, what its rings let anyone
# pin, and who may be signalled in its name (issue 12: F1, F2, F8):
#  - root's `add --user alice` from a terminal, with dev-N.log planted by
#    alice as a link or a FIFO: no terminal or pipe of root's among the
#    server's fds 0-2, and a pipe on stderr sees EOF when add exits;
#  - nothing of root's environment, arguments, memory, session keyring or
#    working directory in the server; servers started by root or with
#    CAP_IPC_LOCK are not dumpable;
#  - with CAP_IPC_LOCK (file capability, or root's --user) and mlock = no,
#    no fixed buffers beyond RLIMIT_MEMLOCK, and the server's rings taken
#    with pidfd_getfd cannot pin 1 GiB;
#  - a dead server's pid reused by another process survives del, and a
#    real server that does not let go is still ended;
#  - 4 KiB writes at depth 64 do not make a queue's buffers resident in
#    transparent huge pages.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/policy.sh"
tools=$UBLK_USER_TEST_ROOT/build/tests

at_exit run_as alice ublk-user del -a
at_exit policy_reset

sdir=/run/user/2001/ublk-user
img=/home/alice/hygiene.img
run_as alice truncate -s 64M "$img"
run_as alice mkdir -m 0700 "$sdir"

server_of() { # server_of ID: the server's pid, from alice's list
	uu alice list -n "$1" --json
	jget "$RUN_OUT" '.[0].server_pid'
}

stdio_of() { # stdio_of PID: where fds 0-2 point, one line each
	local f
	for f in 0 1 2; do readlink "/proc/$1/fd/$f"; done
}

# --- F1: root's terminal and pipes stay root's ----------------------------------
run_as alice ln -s /home/alice/planted "$sdir/dev-61.log"
run timeout 60 script -qec "ublk-user add --user alice -n 61 -t null --json" /dev/null
is "$RUN_RC" 0 "root: add --user alice from a terminal, dev-61.log a planted link"
pid=$(server_of 61)
stdio=$(stdio_of "$pid")
unlike "$stdio" /dev/pts "no terminal among the server's fds 0-2"
is "$stdio" $'/dev/null\n/dev/null\n/dev/null' "0-2 are /dev/null: a log behind a link is not opened"
unlike "$RUN_OUT" "device live" "the server's log lines did not reach root's terminal"
nok "nothing was created through the link" test -e /home/alice/planted

run_as alice mkfifo "$sdir/dev-62.log"
run timeout 30 script -qec "ublk-user add --user alice -n 62 -t null" /dev/null
is "$RUN_RC" 0 "a FIFO planted as dev-62.log does not hold the server up"
is "$(stdio_of "$(server_of 62)")" $'/dev/null\n/dev/null\n/dev/null' "and is not its log"

run_as alice ln -s /dev/tty "$sdir/dev-63.log"
# What the OCI hook does: stderr a pipe it reads until EOF.
run timeout 30 sh -c 'ublk-user add --user alice -n 63 -t null 2>&1 | cat'
is "$RUN_RC" 0 "a pipe on add's stderr sees EOF when add exits (the server keeps none)"
uu alice del -a

# --- F1: nothing of root's environment, arguments, memory, keyring, cwd -------------
secret=root-secret-$RANDOM$RANDOM$RANDOM
argmark=/home/alice/argmark-$RANDOM.img
run_as alice cp --sparse=always "$img" "$argmark"
mkdir -m 0700 /tmp/rootcwd
ses=ublk-test-ses-$$
# Join a fresh session keyring named $ses (keyctl 1 = JOIN_SESSION_KEYRING), run $@
with_session() {
	python3 -c 'import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.syscall(250, 1, sys.argv[1].encode()) < 0:
    sys.exit("keyctl: " + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[2], sys.argv[2:])' "$@"
}
cd /tmp/rootcwd
run with_session "$ses" env "ROOT_SECRET=$secret" \
	ublk-user add --user alice -t loop -f "$argmark" --json
cd /
is "$RUN_RC" 0 "root adds a loop device for alice (secret in its environment, own keyring, cwd)"
id=$(jget "$RUN_OUT" .dev_id)
pid=$(jget "$RUN_OUT" .server_pid)
is "$(tr '\0' '\n' <"/proc/$pid/cmdline")" "ublk-user-server $id" \
	"the server's command line is its title, not root's arguments"
run run_as alice cat "/proc/$pid/environ"
isnt "$RUN_RC" 0 "alice cannot read the server's environment"
unlike "$RUN_OUT" "$secret" "and sees no secret of root's"
unlike "$(tr '\0' '\n' <"/proc/$pid/environ")" "ROOT_SECRET" \
	"root's environment is not in /proc/PID/environ at all"
run python3 - "$pid" "$secret" <<'EOF'
import re, sys
pid, secret = sys.argv[1], sys.argv[2].encode()
found = 0
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) r", line)
        if not m or "[vvar" in line or "[vsyscall" in line:
            continue
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        try:
            mem.seek(start)
            if secret in mem.read(end - start):
                found += 1
                print("found in", line.strip())
        except OSError:
            pass
print("regions with the secret:", found)
EOF
like "$RUN_OUT" "regions with the secret: 0" "root's secret is nowhere in the server's memory"
is "$(readlink "/proc/$pid/cwd")" / "the server's working directory is /, not root's"
is "$(stat -c %u "/proc/$pid/environ")" 0 "the server is not dumpable (its /proc files are root's)"
ok "the keyring root ran add in is let go (no process of alice's holds it)" \
	timeout 20 sh -c "while grep -q '$ses' /proc/keys; do sleep 0.2; done"
uu alice del -n "$id"
is "$RUN_RC" 0 "alice deletes it"

# --- F1: dumpable only when started without privilege -------------------------------
cp /usr/bin/ublk-user /usr/local/bin/ublk-user-cap
ok "setcap cap_ipc_lock+ep" setcap cap_ipc_lock+ep /usr/local/bin/ublk-user-cap
run run_as alice ublk-user-cap add -t null --json
cpid=$(jget "$RUN_OUT" .server_pid)
is "$(stat -c %u "/proc/$cpid/environ")" 0 "a server started with CAP_IPC_LOCK is not dumpable"
is "$(status_field /proc/"$cpid" CapPrm)" 0000000000000000 "and holds no capability"
uu alice add -t null --json
ppid=$(jget "$RUN_OUT" .server_pid)
is "$(stat -c %u "/proc/$ppid/environ")" 2001 "a plain user's server stays dumpable (its owner may debug it)"

# --- F2: rings made without the capability; nobody pins memory through them ----------
run run_as alice "$tools/ring-pin" "$cpid"
like "$RUN_OUT" "rings=0 pinned=0 getfd_errno=EPERM" \
	"alice cannot take the rings of a server started with CAP_IPC_LOCK"
run prlimit --memlock=8388608:8388608 "$tools/ring-pin" "$cpid"
like "$RUN_OUT" "rings=[2-9][0-9]* pinned=0 " \
	"root (RLIMIT_MEMLOCK 8M) takes its rings but cannot pin 1 GiB on any"
like "$RUN_OUT" "EACCES" "the control ring refuses register operations (restricted)"
run run_as alice "$tools/ring-pin" "$ppid"
like "$RUN_OUT" "rings=[2-9][0-9]* pinned=0 " "alice takes her own server's rings, and pins nothing"
unlike "$RUN_OUT" "ENOMEM" "as every ring (the control ring too) refuses registration outright"
uu alice del -a

policy_put 50-nomlock.conf $'[default]\nmlock = no\n'
run run_as alice prlimit --memlock=8388608:8388608 \
	ublk-user-cap add -t loop -f "$img" -d 64 --json
is "$RUN_RC" 0 "mlock = no, CAP_IPC_LOCK as file capability: loop with 64 x 512K of buffers"
is "$(jget "$RUN_OUT" .fixed_buffers)" false "32M of fixed buffers exceed RLIMIT_MEMLOCK (8M): none"
like "$(<"$sdir/dev-$(jget "$RUN_OUT" .dev_id).log")" "fixed buffers not registered" \
	"the log says so"
run run_as alice prlimit --memlock=8388608:8388608 \
	ublk-user-cap add -t loop -f "$img" -d 8 --json
if rings_charged; then
	is "$(jget "$RUN_OUT" .fixed_buffers)" false \
		"4M of them fit in RLIMIT_MEMLOCK, but this kernel charges rings too (Linux 6.18): none"
else
	is "$(jget "$RUN_OUT" .fixed_buffers)" true "4M of them fit in RLIMIT_MEMLOCK: registered, and charged"
fi
uu alice del -a
run prlimit --memlock=8388608:8388608 \
	ublk-user add --user alice -t loop -f "$img" -d 64 --json
is "$RUN_RC" 0 "root's add --user alice (keeps CAP_IPC_LOCK), mlock = no"
is "$(jget "$RUN_OUT" .fixed_buffers)" false "no fixed buffers beyond RLIMIT_MEMLOCK either"
uu alice del -a
policy_reset

# --- F8: a reused pid is not the server ------------------------------------------------
# take_pid PID CMD...: run CMD in the background as process PID (ns_last_pid)
take_pid() {
	local want=$1 i
	shift
	for ((i = 0; i < 200; i++)); do
		echo $((want - 1)) >/proc/sys/kernel/ns_last_pid
		"$@" &
		if [[ $! == "$want" ]]; then
			TAKEN=$!
			return 0
		fi
		kill "$!" 2>/dev/null || :
		wait "$!" 2>/dev/null || :
	done
	return 1
}

dead_server() { # dead_server ID: add, then SIGKILL its server; sets DEAD_PID
	uu alice add -t null -n "$1" --json
	DEAD_PID=$(jget "$RUN_OUT" .server_pid)
	kill -KILL "$DEAD_PID"
	timeout 20 sh -c "while kill -0 $DEAD_PID 2>/dev/null; do sleep 0.1; done"
}

dead_server 64
ok "a process of alice's takes the dead server's pid $DEAD_PID" \
	take_pid "$DEAD_PID" setpriv --reuid=2001 --regid=2001 --clear-groups sleep 600
squatter=$TAKEN
uu alice list -n 64 --json
is "$(jget "$RUN_OUT" '.[0].state')" dead "list: the device is dead, whatever has its pid now"
start=$SECONDS
uu alice del -n 64
is "$RUN_RC" 0 "alice deletes the device"
ok "her process at the reused pid lives on" kill -0 "$squatter"
note "del took $((SECONDS - start)) s (before pidfds: 10 s of waiting, then SIGKILL)"
kill "$squatter"

dead_server 65
ok "a process of root's takes the dead server's pid $DEAD_PID" \
	take_pid "$DEAD_PID" sleep 600
squatter=$TAKEN
run ublk-user del -n 65
is "$RUN_RC" 0 "root deletes alice's device"
ok "root's process at the reused pid lives on" kill -0 "$squatter"
kill "$squatter"
uu alice del -a # root's del leaves alice's record; hers removes it

# A real server that does not let go is still ended, through its pidfd.
run ublk-user add --user alice -n 66 -t null --json
spid=$(jget "$RUN_OUT" .server_pid)
kill -STOP "$spid"
start=$SECONDS
uu alice del -n 66
is "$RUN_RC" 0 "del of a device whose (stopped) server holds it"
ok "the server was killed" timeout 20 sh -c "while kill -0 $spid 2>/dev/null; do sleep 0.1; done"
nok "the device is gone" test -e /dev/ublkc66
note "del took $((SECONDS - start)) s"

# --- what a server's I/O buffers keep ---------------------------------------------
# Each tag has a 512 KiB buffer; a 4 KiB I/O touches one page of it.  With
# transparent huge pages (Debian's kernels: always) that page would be
# 2 MiB: 4 KiB writes at depth 64 made a depth-128 queue keep 64 MiB.
uu alice add -n 67 -t null -s 1G --json
is "$RUN_RC" 0 "alice adds a null disk (one queue, depth 128)"
spid=$(jget "$RUN_OUT" .server_pid)
smaps_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/smaps_rollup"; }
before=$(smaps_kib "$spid" Rss)
run fio --name=w --filename=/dev/ublkb67 --direct=1 --ioengine=io_uring \
	--rw=randwrite --bs=4k --iodepth=64 --number_ios=20000 --output-format=terse
is "$RUN_RC" 0 "20000 random 4 KiB writes at depth 64"
after=$(smaps_kib "$spid" Rss)
huge=$(smaps_kib "$spid" AnonHugePages)
note "server resident: $before KiB before, $after KiB after ($huge KiB in huge pages); THP $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo absent)"
ok "the buffers keep less than 8 MiB more than before (all 128 at 2 MiB: 64 MiB)" \
	test $((after - before)) -lt 8192
is "$huge" 0 "none of it is in huge pages"
uu alice del -n 67

no_leftovers alice "at the end"
done_testing
