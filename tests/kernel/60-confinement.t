#!/bin/bash
# Confinement of the servers: capabilities, no_new_privs, seccomp on the
# process and on each queue thread, io_uring restrictions, locked and
# registered I/O buffers, root acting for a user, and the kernel's path
# check fooled by a forged node on a FUSE mount.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
tools=$UBLK_USER_TEST_ROOT/build/tests

at_exit run_as alice ublk-user del -a
at_exit run_as bob ublk-user del -a

# Every task of a server: no capability left once it runs, no ambient
# ones, no_new_privs, seccomp filter mode; queue threads have one more
# filter than the main thread.
check_confined() { # check_confined PID WHAT NR_QUEUES
	local pid=$1 what=$2 nq=$3 t tid main_filters nthreads=0
	main_filters=$(status_field "/proc/$pid" Seccomp_filters)
	for t in /proc/"$pid"/task/*; do
		tid=${t##*/}
		# io_uring's workers (iou-wrk-*) are tasks of the server too:
		# the same checks hold for them, but they are not queues.
		local comm
		comm=$(<"$t/comm")
		is "$(status_field "$t" CapEff)" 0000000000000000 "$what: task $tid CapEff empty"
		is "$(status_field "$t" CapPrm)" 0000000000000000 "$what: task $tid CapPrm empty"
		is "$(status_field "$t" CapAmb)" 0000000000000000 "$what: task $tid CapAmb empty"
		is "$(status_field "$t" NoNewPrivs)" 1 "$what: task $tid NoNewPrivs"
		is "$(status_field "$t" Seccomp)" 2 "$what: task $tid Seccomp filter mode"
		if [[ $tid != "$pid" && $comm != iou-* ]]; then
			nthreads=$((nthreads + 1))
			is "$(status_field "$t" Seccomp_filters)" $((main_filters + 1)) \
				"$what: queue thread $tid has its own filter too"
		fi
	done
	is "$nthreads" "$nq" "$what: one thread per queue"
}

# A copy with CAP_IPC_LOCK as a file capability (make install SETCAP=1).
cp /usr/bin/ublk-user /usr/local/bin/ublk-user-cap
ok "setcap cap_ipc_lock+ep" setcap cap_ipc_lock+ep /usr/local/bin/ublk-user-cap

# --- an ordinary user's server ------------------------------------------------
uu alice add -t null -q 2 --json
is "$RUN_RC" 0 "alice adds a null device with 2 queues"
pid=$(jget "$RUN_OUT" .server_pid)
check_confined "$pid" "alice's server" 2
is "$(status_field /proc/"$pid" Uid | cut -f1)" 2001 "the server runs as alice"

# --- root acting for a user keeps CAP_IPC_LOCK only until setup -----------------
run ublk-user add --user alice -t mem --size 16M --json
is "$RUN_RC" 0 "root: add --user alice"
is "$(jget "$RUN_OUT" .owner_uid):$(jget "$RUN_OUT" .owner_gid)" 2001:2001 \
	"the device is alice's"
is "$(jget "$RUN_OUT" '.flags | index("UBLK_F_UNPRIVILEGED_DEV") != null')" true \
	"and unprivileged, although root asked"
rpid=$(jget "$RUN_OUT" .server_pid)
check_confined "$rpid" "root-for-alice server" 1
is "$(status_field /proc/"$rpid" Groups | xargs)" "2000 2001" "with alice's groups"
uu alice del -n "$(jget "$RUN_OUT" .dev_id)"
is "$RUN_RC" 0 "alice deletes it"
run ublk-user add --user nobody-such -t null
like "$RUN_ERR" "no user 'nobody-such'" "--user names an unknown user"
uu alice add --user bob -t null
like "$RUN_ERR" "only root may act for another user" "--user is for root only"

# --- a forbidden syscall in a queue thread kills the server ------------------------
uu alice del -a
run run_as alice "$tools/ublk-user-testhooks" add -t fault --json
is "$RUN_RC" 0 "alice adds a fault device (test build)"
fid=$(jget "$RUN_OUT" .dev_id)
fpid=$(jget "$RUN_OUT" .server_pid)
log=/run/user/2001/ublk-user/dev-$fid.log

# A ring operation outside the ring's allow list: EACCES, server lives on.
run run_as alice dd if="/dev/ublkb$fid" of=/dev/null bs=512 skip=4096 count=1 iflag=direct
isnt "$RUN_RC" 0 "a read that makes the target put OPENAT on its ring fails"
like "$(<"$log")" "ring OPENAT completed with -13 \(Permission denied\)" \
	"the ring refused OPENAT with EACCES"
ok "the server is still alive" kill -0 "$fpid"

fio_out=$(mktemp)
at_exit rm -f "$fio_out"
reads_before=$(awk '{print $1}' "/sys/block/ublkb$fid/stat")
run_as alice fio --name=victim --filename="/dev/ublkb$fid" --ioengine=io_uring \
	--direct=1 --rw=randread --bs=4k --offset=8M --size=32M --iodepth=8 \
	--time_based --runtime=60 >"$fio_out" 2>&1 &
fio_pid=$!
# The server is to die under fio's load: wait until fio's reads flow (a
# loaded guest can take seconds to start it).
ok "fio's reads flow before the server is made to die" timeout 30 sh -c \
	"until [ \"\$(awk '{print \$1}' /sys/block/ublkb$fid/stat)\" -gt $((reads_before + 64)) ]; do sleep 0.1; done"
start=$SECONDS
run run_as alice dd if="/dev/ublkb$fid" of=/dev/null bs=512 skip=2048 count=1 iflag=direct
isnt "$RUN_RC" 0 "the read that makes the queue thread call socket(2) fails"
ok "the server was killed" timeout 20 sh -c "while kill -0 $fpid 2>/dev/null; do sleep 0.1; done"
like "$(dmesg)" "audit.*pid=$fpid .*sig=31 .*syscall=41 " \
	"by seccomp (SIGSYS for socket, syscall 41)"
unlike "$(<"$log")" "socket\(2\) was allowed" "socket(2) never returned"
fio_rc=0
if ! timeout 30 tail --pid="$fio_pid" -f /dev/null; then
	fio_rc=timeout
	fio_stuck=$(for p in $(pgrep -x fio); do
		echo "fio $p: $(grep State "/proc/$p/status")"
		cat "/proc/$p/stack" 2>/dev/null
	done; echo "in flight: $(cat "/sys/block/ublkb$fid/inflight" 2>&1)")
fi
isnt "$fio_rc" timeout "fio on the device ended within $((SECONDS - start)) s (no hang)"
[[ $TAP_OK == 1 ]] || diag "$fio_stuck"
wait "$fio_pid" || fio_rc=$?
isnt "$fio_rc" 0 "fio got I/O errors"
[[ $TAP_OK == 1 ]] || diag "fio ended with $fio_rc: $(tail -20 "$fio_out")"
uu alice del -n "$fid"
is "$RUN_RC" 0 "del cleans up after the killed server"
no_leftovers alice "after the seccomp kill"

# --- io_uring task restrictions, and seccomp's log mode for development -------------
task_restrictions=yes
lacks io_uring_task_restrictions && task_restrictions=no
uu alice add -t null --json
if [[ $task_restrictions == yes ]]; then
	like "$(<"/run/user/2001/ublk-user/dev-$(jget "$RUN_OUT" .dev_id).log")" \
		"io_uring task restrictions: on" "the server restricts rings it might still make"
else
	like "$(<"/run/user/2001/ublk-user/dev-$(jget "$RUN_OUT" .dev_id).log")" \
		"io_uring task restrictions: not in this kernel" \
		"the server's log says the kernel has no io_uring task restrictions"
fi
uu alice del -a
run run_as alice env UBLK_USER_SECCOMP=log "$tools/ublk-user-testhooks" add -t fault --json
is "$RUN_RC" 0 "a fault device with UBLK_USER_SECCOMP=log"
fid=$(jget "$RUN_OUT" .dev_id)
fpid=$(jget "$RUN_OUT" .server_pid)
log=/run/user/2001/ublk-user/dev-$fid.log
run run_as alice dd if="/dev/ublkb$fid" of=/dev/null bs=512 skip=6144 count=1 iflag=direct
if [[ $task_restrictions == yes ]]; then
	like "$(<"$log")" "new ring: NOP completed with -13 " \
		"a ring set up after confinement can do nothing (task restrictions)"
else
	skip "$LACKS"
fi
run run_as alice dd if="/dev/ublkb$fid" of=/dev/null bs=512 skip=2048 count=1 iflag=direct
like "$(<"$log")" "socket\(2\) was allowed" "log mode lets the forbidden call through"
ok "and the server lives" kill -0 "$fpid"
like "$(dmesg)" "audit.*pid=$fpid .*syscall=41 .*code=0x7ffc0000" \
	"the violation is in the audit log (action log)"
uu alice del -n "$fid"
is "$RUN_RC" 0 "del"

# --- what a server inherits: no fds; stdio closed is no problem ---------------------
run run_as alice env SECRET_TOKEN=x ublk-user add -t null --json 7</etc/hostname
ipid=$(jget "$RUN_OUT" .server_pid)
unlike "$(ls -l /proc/"$ipid"/fd)" "/etc/hostname" "an inherited fd is closed"
run run_as alice sh -c 'exec ublk-user add -t null <&- >&- 2>/dev/null'
is "$RUN_RC" 0 "it works with stdin and stdout closed"
uu alice del -a
no_leftovers alice "after the inheritance checks"

# --- locked I/O buffers ----------------------------------------------------------
# The default RLIMIT_MEMLOCK (8 MiB) cannot hold 128 x 512K of buffers.
run run_as alice prlimit --memlock=1048576:1048576 ublk-user add -t null --mlock
is "$RUN_RC" 1 "--mlock without CAP_IPC_LOCK and with a 1M limit is refused"
like "$RUN_ERR" "needs 64M of locked memory .*RLIMIT_MEMLOCK is 1M.*CAP_IPC_LOCK" \
	"saying how much is needed and how to grant it"
is "$(all_ublk_nodes)" "" "nothing was created"
uu alice add -t null --mlock -d 8 --json
is "$RUN_RC" 0 "--mlock within the limit works without the capability"
lpid=$(jget "$RUN_OUT" .server_pid)
is "$(jget "$RUN_OUT" .mlock)" true "list says mlock"
vmlck=$(status_field /proc/"$lpid" VmLck | awk '{print $1}')
ok "VmLck ($vmlck kB) covers 8 x 512K of buffers" test "$vmlck" -ge 4096
uu alice del -a

# With CAP_IPC_LOCK as a file capability (make install SETCAP=1).
run run_as alice ublk-user-cap add -t null --mlock -q 2 --json
is "$RUN_RC" 0 "with the capability --mlock locks 2 x 128 x 512K"
cpid=$(jget "$RUN_OUT" .server_pid)
vmlck=$(status_field /proc/"$cpid" VmLck | awk '{print $1}')
ok "VmLck ($vmlck kB) covers 128 MiB of buffers" test "$vmlck" -ge 131072
check_confined "$cpid" "server started with CAP_IPC_LOCK" 2
run run_as alice ublk-user-cap list --json
is "$RUN_RC" 0 "the capable binary lists too"
uu alice del -a

# --- fixed (registered) buffers for loop ---------------------------------------------
img=/home/alice/fixed.img
run_as alice truncate -s 64M "$img"
uu alice add -t loop -f "$img" -d 8 --json
fix=$(jget "$RUN_OUT" .dev_id)
if rings_charged; then
	is "$(jget "$RUN_OUT" .fixed_buffers)" false \
		"loop pins no buffers where rings are charged to memlock (Linux 6.18), even at depth 8"
	like "$(<"/run/user/2001/ublk-user/dev-$fix.log")" "this kernel counts io_uring rings against RLIMIT_MEMLOCK" \
		"  and its log says why"
else
	is "$(jget "$RUN_OUT" .fixed_buffers)" true "loop registers its buffers when memlock allows (depth 8)"
fi
run run_as alice fio --name=fixed --filename="/dev/ublkb$fix" --ioengine=io_uring \
	--direct=1 --rw=randwrite --bs=4k --size=16M --iodepth=8 --verify=crc32c \
	--verify_fatal=1 --do_verify=1
is "$RUN_RC" 0 "fio verify on loop with fixed buffers"
uu alice add -t loop -f "$img" --json
is "$(jget "$RUN_OUT" .fixed_buffers)" false "128 x 512K exceeds memlock: plain read/write"
nofix=$(jget "$RUN_OUT" .dev_id)
like "$(<"/run/user/2001/ublk-user/dev-$nofix.log")" "fixed buffers not registered" \
	"and its log says so"
run run_as alice fio --name=plain --filename="/dev/ublkb$nofix" --ioengine=io_uring \
	--direct=1 --rw=randwrite --bs=4k --size=16M --iodepth=8 --verify=crc32c \
	--verify_fatal=1 --do_verify=1
is "$RUN_RC" 0 "fio verify on loop without fixed buffers"
uu alice del -a
# Rings are made once the capability is gone: RLIMIT_MEMLOCK, not
# CAP_IPC_LOCK, pays for fixed buffers (61-server-hygiene.t).
run run_as alice ublk-user-cap add -t loop -f "$img" --json
is "$(jget "$RUN_OUT" .fixed_buffers)" false "with CAP_IPC_LOCK too, depth 128 exceeds memlock"
uu alice del -a

# --- the kernel's path check and a forged node on a nodev (FUSE) mount -------------
# Debian's ublk_drv takes the forged node; the one with contrib/kernel's fix
# (UBLK_USER_VM_UBLK_KO) refuses it, by either mark of a nodev mount.
refused=$(nodev_refused)
note "ublk_drv from UBLK_USER_VM_UBLK_KO=${UBLK_USER_VM_UBLK_KO:-(unset: Debian ublk_drv)}, taint [$(</sys/module/ublk_drv/taint)]; should refuse nodes on nodev mounts: $refused"
uu alice add -t null --json
aid=$(jget "$RUN_OUT" .dev_id)
majmin=$(stat -c '%t %T' "/dev/ublkc$aid")
read -r maj min <<<"$majmin"
maj=$((16#$maj)) min=$((16#$min))
run run_as bob "$tools/ublk-raw" info "$aid"
is "$RUN_OUT" EACCES "bob through the real node: EACCES"
mnt=/home/bob/fake
run_as bob mkdir -p "$mnt"
run_as bob "$tools/fakenode" "$maj" "$min" "$mnt" &
# Only bob may look into his FUSE mount (no allow_other), not even root.
ok "bob mounts a FUSE file system with a forged node" \
	run_as bob timeout 10 sh -c "until [ -c $mnt/node ]; do sleep 0.2; done"
is "$(findmnt -no OPTIONS "$mnt" | grep -o nodev)" nodev "the FUSE mount is nodev"
run run_as bob "$tools/ublk-raw" info "$aid" "$mnt/node"
if [[ $RUN_OUT == ok ]]; then
	note "this kernel ($(uname -r)) IS affected: a forged node on a nodev mount passes the check (SECURITY.md)"
	affected=yes
else
	note "this kernel ($(uname -r)) is not affected: $RUN_OUT"
	affected=no
fi
is "$affected" "$([[ $refused == yes ]] && echo no || echo yes)" \
	"the kernel is affected exactly as SECURITY.md says for its ublk_drv (Debian's up to 7.3: yes; contrib/kernel's: no)"
if [[ $refused == yes ]]; then
	is "$RUN_OUT" EACCES "the forged node on fusermount3's nodev mount: EACCES"
fi

# The same node on a FUSE mount bob makes in a user namespace of his own,
# without nodev: the mount flag is missing, the superblock is still nodev.
userns_fuse=$(
	chmod 0666 /dev/fuse
	run_as bob unshare -Urm sh -c '
		mkdir -p "$1" || exit
		"$2" "$3" "$4" "$1" dev >/dev/null 2>&1 &
		pid=$!
		i=0
		until [ -c "$1/node" ]; do
			i=$((i + 1)); [ $i -lt 50 ] || { echo "no FUSE mount"; exit; }
			sleep 0.2
		done
		case ",$(findmnt -no VFS-OPTIONS "$1")," in
		*,nodev,*) echo "mount flag nodev" ;;
		*) "$5" info "$6" "$1/node" ;;
		esac
		kill $pid' sh /home/bob/fake-userns "$tools/fakenode" "$maj" "$min" \
		"$tools/ublk-raw" "$aid" 2>&1
)
is "$userns_fuse" "$([[ $refused == yes ]] && echo EACCES || echo ok)" \
	"a forged node on bob's own FUSE mount without the nodev flag: $([[ $refused == yes ]] && echo refused || echo accepted)"

if [[ $affected == yes ]]; then
	run run_as bob "$tools/ublk-raw" stop "$aid" "$mnt/node"
	is "$RUN_OUT" ok "and bob can stop alice's device with it"
else
	run run_as bob "$tools/ublk-raw" stop "$aid" "$mnt/node"
	is "$RUN_OUT" EACCES "bob cannot stop alice's device through the forged node"
	ok "alice's device still serves I/O" run_as alice dd if="/dev/ublkb$aid" \
		of=/dev/null bs=4k count=1 iflag=direct status=none
	run run_as alice "$tools/ublk-raw" stop "$aid"
	is "$RUN_OUT" ok "alice still stops her device through the real node"
fi
fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt"
uu alice del -a
no_leftovers alice "at the end"
done_testing
