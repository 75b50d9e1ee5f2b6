# shellcheck shell=bash
# ublk.sh: helpers for the kernel tests (sourced after tap.sh).
#
#   uu USER ARGS...        run ublk-user as USER (sets RUN_OUT/ERR/RC)
#   sbin_as USER CMD...    run_as with /usr/sbin in PATH
#   jget JSON FILTER       jq -r FILTER on JSON
#   nodev_refused          yes/no: should ublk_drv refuse nodes on nodev mounts
#   nodes_of ID            "owner:group mode" of /dev/ublkcID
#   no_leftovers USER      asserts: no ublk device, record or server of USER
#   server_pids USER       pids of USER's ublk-user processes
#   status_field DIR FIELD [VAR]
#                          the value of FIELD in DIR/status (DIR: /proc/PID
#                          or /proc/PID/task/TID), printed or put in VAR
#   lacks FEATURE          true if the running kernel lacks FEATURE; sets
#                          LACKS, the reason a skip gives (see below)

# The CLI gives udev 15 s to hand a new node over: ample on a real host,
# not in a TCG guest that shares 2 cores with another guest and a build
# (its boot alone has taken minutes).  Tests that check the bound itself
# set their own (50-errors.t).  run_as passes it on.
export UBLK_USER_UDEV_TIMEOUT=${UBLK_USER_UDEV_TIMEOUT:-90}

uu() {
	local user=$1
	shift
	run run_as "$user" ublk-user "$@"
}

# run_as with the sbin directories in PATH (mkfs, fsck, blkdiscard)
sbin_as() {
	local user=$1
	shift
	run_as "$user" env PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# jget JSON PATH: jq -r PATH; build/tests/jget answers the simple paths
# (.a.b, .[0].c) at a fraction of jq's start-up cost, and jq the rest
JGET=$UBLK_USER_TEST_ROOT/build/tests/jget
jget() {
	local rc=0
	if [[ $2 =~ ^(\.[A-Za-z_][A-Za-z0-9_]*|\.\[[0-9]+\])(\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\])*$ ]]; then
		"$JGET" "$2" <<<"$1" && return 0 || rc=$?
		((rc == 3)) || return "$rc"
	fi
	jq -r "$2" <<<"$1"
}

# uid_of USER: from /etc/passwd, read by bash (in the TCG guest an exec of
# id costs 65 ms of CPU, and the helpers below ask for every check)
uid_of() {
	local name _x uid _rest
	while IFS=: read -r name _x uid _rest; do
		[[ $name == "$1" ]] && echo "$uid" && return 0
	done </etc/passwd
	id -u "$1"
}

# The ublk_drv with contrib/kernel's fix (the harness loads it from
# UBLK_USER_VM_UBLK_KO; built out of tree, so tainted O) refuses a device's
# node on a nodev mount; Debian's, up to 7.3, take it (SECURITY.md).
nodev_refused() {
	if [[ -n ${UBLK_USER_VM_UBLK_KO:-} ]]; then
		[[ $(</sys/module/ublk_drv/taint) == *O* ]] ||
			BAIL_OUT "UBLK_USER_VM_UBLK_KO is set, but the loaded ublk_drv is the kernel's own"
		echo yes
	else
		uname -r | awk -F. '{ print ($1 < 7 || ($1 == 7 && $2 <= 3)) ? "no" : "yes" }'
	fi
}

# status_field DIR FIELD [VAR]: what follows "FIELD:" and its blanks in
# DIR/status, printed, or put in VAR (no command substitution: no fork, for
# loops such as server_pids').  Read by bash: in the TCG guest an exec of
# sed or awk costs more.  Whole, with mapfile: a read per line seeks back
# after each line, and the kernel then writes the file out again each time.
status_field() {
	local line status_lines=()
	mapfile -t status_lines 2>/dev/null <"$1/status" || return 1
	for line in "${status_lines[@]}"; do
		[[ $line == "$2":* ]] || continue
		line=${line#"$2":}
		line=${line#"${line%%[![:space:]]*}"}
		if [[ -n ${3:-} ]]; then
			printf -v "$3" '%s' "$line"
		else
			printf '%s\n' "$line"
		fi
		return 0
	done
	return 1
}

# server_pids [USER]: the ublk-user processes (of USER) that still run.  A
# zombie is left out: it has closed its rings and fds already, and only
# waits for PID 1 to reap it (del waits for a server's exit, not that).
# (Read from /proc by bash: ps and awk cost 0.25 s of CPU in the TCG guest.)
server_pids() {
	local uid='' p comm stat ids euid pids=()
	[[ -z ${1:-} ]] || uid=$(uid_of "$1")
	for p in /proc/[0-9]*; do
		read -r comm 2>/dev/null <"$p/comm" && [[ $comm == ublk-user ]] || continue
		read -r stat 2>/dev/null <"$p/stat" || continue
		stat=${stat##*) }
		[[ $stat != Z* ]] || continue
		if [[ -n $uid ]]; then
			# Uid: real, effective, saved, fs
			status_field "$p" Uid ids || continue
			euid=${ids#*[[:space:]]}
			[[ ${euid%%[[:space:]]*} == "$uid" ]] || continue
		fi
		pids+=("${p#/proc/}")
	done
	# In the order of their ids, as ps gives them (the glob sorts by name)
	((${#pids[@]} < 2)) || mapfile -t pids < <(printf '%s\n' "${pids[@]}" | sort -n)
	((${#pids[@]} == 0)) || printf '%s\n' "${pids[@]}"
}

# server_ps [USER]: how those servers are, for a diagnostic
server_ps() {
	local p
	for p in $(server_pids "$@"); do
		ps -o pid=,ppid=,stat=,etime=,wchan:24=,args= -p "$p" || :
	done
}

# Every device of USER is gone, with its records, logs and servers.
no_leftovers() {
	local user=$1 what=$2 uid devs recs
	uid=$(uid_of "$user")
	devs=$(all_ublk_nodes "$user")
	is "$devs" "" "$what: no ublk node of $user is left"
	recs=$(
		shopt -s dotglob nullglob
		cd "/run/user/$uid/ublk-user" 2>/dev/null && printf '%s\n' *
	) || :
	is "$recs" "" "$what: no record or log of $user is left"
	is "$(server_pids "$user")" "" "$what: no server of $user is left"
	[[ $TAP_OK == 1 ]] || diag "$(server_ps "$user")"
	[[ -z $devs$recs ]] || diag "$(leftovers_said "$user")"
}

# leftovers_said USER: what USER's devices and records that are left say,
# for a diagnostic (the last lines of each log)
leftovers_said() {
	local dir f
	dir=/run/user/$(uid_of "$1")/ublk-user
	run_as "$1" ublk-user list 2>&1 || :
	for f in "$dir"/*; do
		[[ -f $f ]] || continue
		echo "== $f"
		tail -n 15 "$f"
	done
}

# Wait for udev's events; udevadm may lose its control connection while
# udevd recycles a worker ("Failed to wait for daemon to reply"): again.
udev_settle() {
	udevadm settle --timeout=120 2>/dev/null ||
		{ sleep 1 && udevadm settle --timeout=120; }
}

# udev_ctl ARGS...: udevadm control, again after the same lost connection
# (a message like --start-exec-queue does the same when sent twice).
udev_ctl() {
	local i
	for ((i = 0; i < 5; i++)); do
		udevadm control "$@" && return 0
		sleep 1
	done
	udevadm control "$@"
}

# udev_run_queue: let udevd run the events it was told to hold, and see
# that it does.  udevd 252 in a loaded guest has answered a START_EXEC_QUEUE
# and still held its queue: no worker, /run/udev/queue left, a node never
# handed over (CI; 2 runs in 20 with four guests on two cores);
# sending it again ran the queue.  So: again, until udev settles (bounded).
udev_run_queue() {
	local i
	for ((i = 0; i < 12; i++)); do
		udev_ctl --start-exec-queue || return
		udevadm settle --timeout=10 2>/dev/null && return 0
	done
	echo "udev_run_queue: udev's queue did not empty in 2 minutes" >&2
	return 1
}

# all_ublk_nodes [USER]: the ublk nodes, of USER or of anyone (root sees
# every node).
all_ublk_nodes() {
	local who=()
	# Most often there is none: then no find and sort (0.25 s of CPU under TCG)
	compgen -G '/dev/ublk[bc][0-9]*' >/dev/null || return 0
	[[ -z ${1:-} ]] || who=(-user "$(uid_of "$1")")
	find /dev -maxdepth 1 -name 'ublk[bc][0-9]*' "${who[@]}" | sort
}

# --- what the running kernel can do ------------------------------------------
# Asked from the kernel (GET_FEATURES, a probe of io_uring), never from its
# version string.  A test that needs a missing feature checks what
# ublk-user does without it, and skips the rest with $LACKS: the feature,
# the first Linux that has it, what it means for users.  tests/vm/matrix
# makes README's "Tested kernels" table from these reasons.
#   FEATURE: UBLK_F_USER_RECOVERY_FAIL_IO | UBLK_F_UPDATE_SIZE |
#            UBLK_F_BATCH_IO | UBLK_F_SHMEM_ZC | io_uring_task_restrictions
# (A flag ADD_DEV does not know, it drops: such a device is made without
# it, so there is nothing for the udev helper to refuse.)
UBLK_RAW=$UBLK_USER_TEST_ROOT/build/tests/ublk-raw
LACKS=''

# shellcheck disable=SC2034 # LACKS: for the caller
lacks() {
	local bit have
	case $1 in # bits as in linux/ublk_cmd.h
	UBLK_F_USER_RECOVERY_FAIL_IO)
		bit=9
		LACKS="this kernel has no UBLK_F_USER_RECOVERY_FAIL_IO (Linux >= 6.13): ADD_DEV drops the flag, no device has it"
		;;
	UBLK_F_UPDATE_SIZE)
		bit=10
		LACKS="this kernel has no UBLK_F_UPDATE_SIZE (Linux >= 6.16): ublk-user resize is refused, and a disk's size is checked only when it appears"
		;;
	UBLK_F_BATCH_IO)
		bit=15
		LACKS="this kernel has no UBLK_F_BATCH_IO (Linux >= 7.0): add --batch is refused, a server sends a ublk command per request"
		;;
	UBLK_F_SHMEM_ZC)
		bit=19
		LACKS="this kernel has no UBLK_F_SHMEM_ZC (Linux >= 7.1): add --shmem-zc and --shmem are refused"
		;;
	io_uring_task_restrictions)
		have=0
		[[ $("$UBLK_RAW" task-restrictions) != ok ]] || have=1
		LACKS="this kernel has no io_uring task restrictions (Linux >= 7.0): a server's queue rings are restricted, rings it could make later are not"
		;;
	*) BAIL_OUT "lacks: unknown feature '$1'" ;;
	esac
	[[ -n ${have:-} ]] || have=$(($("$UBLK_RAW" features) >> bit & 1))
	[[ $have == 0 ]]
}

# rings_charged: whether this kernel charges an io_uring ring itself to a
# plain user's RLIMIT_MEMLOCK, as Linux 6.18 does (6.12 and 7.x do not).
# Asked of fio with no locked memory at all, not of ublk-user; once per
# test file (RINGS_CHARGED: yes or no).
RINGS_CHARGED=''
rings_charged() {
	local out
	if [[ -z $RINGS_CHARGED ]]; then
		RINGS_CHARGED=no
		out=$(run_as alice bash -c 'ulimit -l 0 && exec fio \
			--name=ringcharge --ioengine=io_uring --filename=/dev/zero \
			--rw=read --bs=4k --size=4k --output-format=terse' 2>&1) ||
			RINGS_CHARGED=yes
		[[ $RINGS_CHARGED == no || $out == *"Cannot allocate memory"* ]] ||
			BAIL_OUT "rings_charged: fio failed otherwise: $out"
	fi
	[[ $RINGS_CHARGED == yes ]]
}

# fio_verify NAME DEV EXTRA...: alice's fio writes 16 MiB of /dev/ublkbDEV
# at random (4 KiB, depth 16 unless EXTRA says otherwise), reads it back
# and checks every block's crc32c; on failure the server's log too
fio_verify() {
	local name=$1 dev=$2
	shift 2
	run run_as alice fio --name="$name" --filename="/dev/ublkb$dev" \
		--ioengine=io_uring --direct=1 --rw=randwrite --bs=4k \
		--size=16M --iodepth=16 --verify=crc32c --verify_fatal=1 \
		--do_verify=1 --output-format=terse "$@"
	is "$RUN_RC" 0 "$name: fio writes and verifies with crc32c"
	[[ $RUN_RC == 0 ]] || diag "$RUN_OUT" "$RUN_ERR" \
		"$(cat "/run/user/$(uid_of alice)/ublk-user/dev-$dev.log" 2>&1)"
}

# del_while_busy DEV DEPTH: alice's fio keeps 2 x DEPTH requests in flight
# on her device DEV while she deletes it: del succeeds, and fio ends, with
# errors
del_while_busy() {
	local dev=$1 depth=$2 fio_pid fio_rc=0
	run_as alice fio --name=busy --filename="/dev/ublkb$dev" --ioengine=io_uring \
		--direct=1 --rw=randrw --bs=4k --iodepth="$depth" --numjobs=2 --time_based \
		--runtime=60 --output=/tmp/del-busy.out >/dev/null 2>&1 &
	fio_pid=$!
	ok "fio's requests flow" timeout 30 sh -c \
		"until [ \"\$(awk '{print \$1 + \$5}' /sys/block/ublkb$dev/stat)\" -gt 256 ]; do sleep 0.2; done"
	uu alice del -n "$dev"
	is "$RUN_RC" 0 "del while fio has $((2 * depth)) requests in flight"
	if timeout 30 tail --pid="$fio_pid" -f /dev/null; then
		wait "$fio_pid" || fio_rc=$?
	else
		fio_rc=timeout
		kill "$fio_pid" 2>/dev/null || :
		wait "$fio_pid" || :
	fi
	isnt "$fio_rc" timeout "  fio ends (its device is gone)"
	isnt "$fio_rc" 0 "  with errors"
	rm -f /tmp/del-busy.out
}

# written_lands DEV FILE: alice writes 4 MiB of random data through her
# device DEV at 10 MiB with fsync; then FILE, its backing, holds them
# there (what the kernel was told is complete and flushed is on disk)
written_lands() {
	local dev=$1 file=$2
	run_as alice head -c 4M /dev/urandom >/tmp/lands.pat
	chmod 644 /tmp/lands.pat
	run run_as alice dd if=/tmp/lands.pat of="/dev/ublkb$dev" bs=64k seek=160 \
		oflag=direct conv=fsync status=none
	is "$RUN_RC" 0 "dd 4 MiB through the device, fsync"
	ok "  the backing file holds them" \
		cmp -s /tmp/lands.pat <(dd if="$file" bs=64k skip=160 count=64 status=none)
	rm -f /tmp/lands.pat
}
