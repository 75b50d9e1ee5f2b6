#!/bin/bash
# Bad input and a broken system: a one-line reason, a non-zero exit, and
# nothing left behind.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"

at_exit run_as alice ublk-user del -a

refused() { # refused STATUS REGEX NAME ARGS...: add fails, nothing left
	local status=$1 re=$2 name=$3
	shift 3
	uu alice add "$@"
	is "$RUN_RC" "$status" "$name: exit status $status"
	like "$RUN_ERR" "$re" "$name: says why"
	# One line; a usage error adds the conventional "Try ... --help".
	like "$RUN_ERR" $'^[^\n]+(\nTry \'ublk-user add --help\'.)?$' \
		"$name: in one line"
	is "$(all_ublk_nodes)" "" "$name: no device left"
	is "$(ls -A /run/user/2001/ublk-user 2>/dev/null)" "" "$name: no record left"
	is "$(server_pids alice)" "" "$name: no server left"
}

run_as alice mkdir -p /home/alice/d
run_as alice truncate -s 4M /home/alice/secret.img
chmod 000 /home/alice/secret.img
run_as alice truncate -s 1M /home/alice/small.img
run_as alice touch /home/alice/empty.img

refused 1 "backing file /home/alice/nope.img: No such file" "missing file" \
	-t loop -f /home/alice/nope.img
refused 1 "cannot open backing file /home/alice/secret.img: Permission denied" \
	"unreadable file" -t loop -f /home/alice/secret.img
refused 1 "neither a regular file nor a block device" "a directory" \
	-t loop -f /home/alice/d
refused 1 "larger than /home/alice/small.img" "--size beyond the file" \
	-t loop -f /home/alice/small.img --size 2M
refused 1 "smaller than one" "an empty file" -t loop -f /home/alice/empty.img
refused 2 "the loop target needs a backing file" "loop without -f" -t loop
refused 2 "the mem target needs --size" "mem without --size" -t mem
refused 1 "--size must be a multiple of 512" "unaligned size" -t mem --size 1000
refused 2 "unknown target 'disk'" "unknown target" -t disk
refused 2 "--queues: 0 is out of range" "zero queues" -t null -q 0
refused 2 "--depth: 5000 is out of range" "too deep" -t null -d 5000

# The kernel's global limit of unprivileged devices.
max=/sys/module/ublk_drv/parameters/ublks_max
old=$(<"$max")
echo 1 >"$max"
uu alice add -t null
is "$RUN_RC" 0 "one device under ublks_max=1"
first=$(sed -n 's/^dev_id //p' <<<"$RUN_OUT")
uu alice add -t null
is "$RUN_RC" 1 "a second one is refused"
like "$RUN_ERR" "limit on unprivileged ublk devices.*ublks_max" "and the limit is named"
uu alice del -n "$first"
# Only unprivileged devices count (so the message above is right): root's
# own devices do not use up the users' pool.  Older kernels counted every
# device; Debian's 6.12 has the change.
run "$UBLK_RAW" add 0
priv=$RUN_OUT
like "$priv" '^[0-9]+$' "root adds a privileged device under ublks_max=1"
uu alice add -t null
is "$RUN_RC" 0 "alice still gets her one device: root's does not count"
run "$UBLK_RAW" del "$priv"
is "$RUN_OUT" ok "root deletes its device"
echo "$old" >"$max"
uu alice del -a
no_leftovers alice "after ublks_max"

# io_uring switched off by the administrator.
sysctl -qw kernel.io_uring_disabled=2
refused 1 "io_uring is not available.*kernel.io_uring_disabled" \
	"io_uring disabled" -t null
sysctl -qw kernel.io_uring_disabled=0

# No udev rule: the node is never handed over.  The message names the
# rule; the device cannot be deleted by its owner (the kernel checks the
# node), so root removes it.
rules=/usr/lib/udev/rules.d/70-ublk-user.rules
mv "$rules" /tmp/rules.off
udev_ctl --reload
run run_as alice env UBLK_USER_UDEV_TIMEOUT=3 ublk-user add -t null
is "$RUN_RC" 1 "without the udev rule add fails"
like "$RUN_ERR" "not handed to uid 2001 within 3 s.*70-ublk-user.rules" \
	"and names the missing rule"
is "$(server_pids alice)" "" "no server was started"
left=$(all_ublk_nodes | sed -n 's|^/dev/ublkc||p')
run ublk-user del -n "$left"
is "$RUN_RC" 0 "root deletes the device left behind"
mv /tmp/rules.off "$rules"
udev_ctl --reload
is "$(all_ublk_nodes)" "" "nothing left"

# A device id that is not a number, del of a device that does not exist.
uu alice del -n 42
is "$RUN_RC" 1 "del of a missing device fails"
like "$RUN_ERR" "no device 42" "and says so"
# alice's server runs under a high RLIMIT_MEMLOCK (a unit's LimitMEMLOCK,
# say) with 64 x 512 KiB of buffers; her shell has 8 MiB.  Linux 6.18
# charges every io_uring ring to RLIMIT_MEMLOCK, as it does pinned
# buffers: there the server pins none, so that her shell's ublk-user and
# fio still have room for a ring.
run_as alice truncate -s 64M /home/alice/pin.img
rc=0
out=$(ulimit -l unlimited &&
	run_as alice ublk-user add -t loop -f /home/alice/pin.img -d 64 --json) || rc=$?
is "$rc" 0 "a server with 64 x 512 KiB of buffers under an unlimited RLIMIT_MEMLOCK"
pin=$(jget "$out" .dev_id)
if rings_charged; then
	is "$(jget "$out" .fixed_buffers)" false \
		"  pins none of them: this kernel charges rings to RLIMIT_MEMLOCK (Linux 6.18)"
	like "$(<"/run/user/2001/ublk-user/dev-$pin.log")" \
		"fixed buffers not registered: this kernel counts io_uring rings against RLIMIT_MEMLOCK" \
		"  and its log says why"
else
	is "$(jget "$out" .fixed_buffers)" true "  registers them: this kernel does not charge rings"
fi
run run_as alice bash -c 'ulimit -l 8192 && exec ublk-user list'
is "$RUN_RC" 0 "list with 8 MiB of RLIMIT_MEMLOCK works beside it"
like "$RUN_OUT" "loop" "  and shows the disk"
run run_as alice bash -c "ulimit -l 8192 && exec fio --name=beside --filename=/dev/ublkb$pin \
	--ioengine=io_uring --direct=1 --rw=randread --bs=4k --size=1M --output-format=terse"
is "$RUN_RC" 0 "fio with 8 MiB of RLIMIT_MEMLOCK makes its ring and reads the disk"
if rings_charged; then
	run run_as alice bash -c 'ulimit -l 0 && exec ublk-user list'
	like "$RUN_ERR" "^ublk-user: cannot set up the control ring: out of locked memory \(this kernel counts io_uring rings against RLIMIT_MEMLOCK, 0 KiB here, which your servers' buffers count against too\): raise it \(ulimit -l, LimitMEMLOCK=\)" \
		"list with no RLIMIT_MEMLOCK fails, saying why and what to do (Linux 6.18)"
fi
rc=0
(ulimit -l unlimited && run_as alice ublk-user del -a) || rc=$?
is "$rc" 0 "with the limit raised, del works"
rm -f /home/alice/pin.img

no_leftovers alice "at the end"
done_testing
