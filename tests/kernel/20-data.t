#!/bin/bash
# Data integrity on loop and mem devices: fio with crc32c verification,
# a file system, flush, discard, and the backing file after del.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"

at_exit run_as alice ublk-user del -a

add_dev() { # add_dev ARGS... -> DEV (id)
	uu alice add "$@" --json
	is "$RUN_RC" 0 "add $*"
	[[ $RUN_RC == 0 ]] || BAIL_OUT "cannot add a device: $RUN_ERR"
	DEV=$(jget "$RUN_OUT" .dev_id)
}

# queue_threads PID: the server's queue threads, in queue order (they are
# started in that order, after the main thread).
queue_threads() {
	local t
	for t in "/proc/$1/task/"*; do
		[[ ${t##*/} != "$1" && $(cat "$t/comm" 2>/dev/null) != iou-* ]] || continue
		echo "${t##*/}"
	done | sort -n
}
# (empty for a task that has ended: an idle io_uring worker may end at any time)
allowed_cpus() { status_field "/proc/$1" Cpus_allowed_list || :; }

# check_pinned DEV: each queue thread on one CPU among those the kernel
# sends that queue's requests from (mq/N/cpu_list), so that a request
# needs no other CPU woken; and its io_uring workers on that CPU too.
check_pinned() {
	local dev=$1 spid q=0 tid cpu w wcpu bad=
	uu alice list -n "$dev" --json
	spid=$(jget "$RUN_OUT" '.[0].server_pid')
	for tid in $(queue_threads "$spid"); do
		cpu=$(allowed_cpus "$tid")
		if [[ ! $cpu =~ ^[0-9]+$ ]]; then
			bad+=" queue $q thread $tid may run on CPUs $cpu;"
		elif ! tr -d ' ' <"/sys/block/ublkb$dev/mq/$q/cpu_list" |
			tr ',' '\n' | grep -qx "$cpu"; then
			bad+=" queue $q thread $tid on CPU $cpu, not among $(cat "/sys/block/ublkb$dev/mq/$q/cpu_list");"
		fi
		for w in "/proc/$spid/task/"*; do
			[[ $(cat "$w/comm" 2>/dev/null) == "iou-wrk-$tid" ]] || continue
			w=${w##*/}
			wcpu=$(allowed_cpus "$w")
			# (an idle worker may end at any time: then it has none)
			[[ -z $wcpu || $wcpu == "$cpu" ]] ||
				bad+=" worker $w of queue $q may run on $wcpu, its queue on $cpu;"
		done
		q=$((q + 1))
	done
	is "$q" "$(ls -d "/sys/block/ublkb$dev/mq/"*/ | wc -l)" "device $dev: one thread per queue"
	is "${bad:-none}" none "device $dev: each queue thread and its io_uring workers on one CPU of its queue's"
}

img=/home/alice/loop.img
run_as alice truncate -s 128M "$img"

add_dev -t loop -f "$img" -q 2
loop=$DEV
fio_verify loop-4k "$loop"
# After I/O: a tmpfs file's reads go to io_uring workers, which must exist.
uu alice list -n "$loop" --json
lpid=$(jget "$RUN_OUT" '.[0].server_pid')
ok "the loop server has io_uring workers" grep -qx 'iou-wrk-[0-9]*' "/proc/$lpid/task/"*/comm
check_pinned "$loop"
# The loop device has the backing file system's direct-I/O block (4k on
# tmpfs); two jobs, each in its own half, so neither overwrites the other.
fio_verify loop-mixed "$loop" --bsrange=4k-128k --rw=randrw --fsync=8 \
	--numjobs=2 --size=8M --offset_increment=8M
fio_verify loop-seq "$loop" --rw=write --bs=1M --iodepth=4

# A server that may not run where a queue's requests come from (taskset,
# a cpuset) keeps that queue's thread on the CPUs it may use, and says so.
if (($(nproc) >= 2)); then
	run run_as alice taskset -c 0 ublk-user add -t null -q 2 --json
	is "$RUN_RC" 0 "add -q 2 under taskset -c 0"
	tdev=$(jget "$RUN_OUT" .dev_id)
	spid=$(jget "$RUN_OUT" .server_pid)
	got=
	for tid in $(queue_threads "$spid"); do got+="$(allowed_cpus "$tid") "; done
	is "$got" "0 0 " "both queue threads on CPU 0, the one allowed"
	like "$(<"/run/user/$(uid_of alice)/ublk-user/dev-$tdev.log")" \
		"queue [01]: none of the CPUs that submit to it is allowed to this server" \
		"  the log says which queue could not go where its requests come from"
	uu alice del -n "$tdev"
	is "$RUN_RC" 0 "  del it"
else
	pass "# SKIP one CPU: no CPU a queue's requests come from can be forbidden"
fi

# One queue: every CPU sends to it, and its thread takes one of them.
add_dev -t mem --size 64M -q 1
mem=$DEV
check_pinned "$mem"
fio_verify mem-4k "$mem"
fio_verify mem-mixed "$mem" --bsrange=512-256k --rw=randrw --numjobs=2 \
	--size=8M --offset_increment=8M

# A file system on the loop device, checked after unmount.
ok "mkfs.ext4 on loop" sbin_as alice mkfs.ext4 -q -F "/dev/ublkb$loop"
ok "fsck.ext4 finds it clean" sbin_as alice fsck.ext4 -n -f "/dev/ublkb$loop"
mkdir -p /mnt/t
ok "mount it" mount "/dev/ublkb$loop" /mnt/t
ok "write files" sh -c 'mountpoint -q /mnt/t && for i in 1 2 3 4 5 6 7 8; do head -c 1M /dev/urandom > /mnt/t/f$i; done; sha256sum /mnt/t/f* > /tmp/sums; sync'
ok "umount" umount /mnt/t
ok "fsck.ext4 clean after use" fsck.ext4 -n -f "/dev/ublkb$loop"
ok "mount again" mount -o ro "/dev/ublkb$loop" /mnt/t
ok "files read back intact" sh -c 'mountpoint -q /mnt/t && sha256sum -c --quiet /tmp/sums'
ok "umount again" umount /mnt/t

# Discard punches holes in the backing file.
before=$(du -k "$img" | cut -f1)
ok "blkdiscard the loop device" sbin_as alice blkdiscard "/dev/ublkb$loop"
after=$(du -k "$img" | cut -f1)
ok "the backing file shrank ($before KiB -> $after KiB)" test "$after" -lt "$before"
run run_as alice dd if="/dev/ublkb$loop" bs=1M count=4 iflag=direct status=none
is "$(printf '%s' "$RUN_OUT" | tr -d '\0' | wc -c)" 0 "discarded range reads as zeros"

# What was written through the device is in the file after del.
ok "write a pattern" run_as alice sh -c "head -c 4M /dev/urandom > /home/alice/pat && dd if=/home/alice/pat of=/dev/ublkb$loop bs=1M seek=8 oflag=direct conv=fsync status=none"
uu alice del -n "$loop"
is "$RUN_RC" 0 "del the loop device"
ok "the backing file holds the data" cmp -n 4194304 -i 0:8388608 /home/alice/pat "$img"

# The backing file of a mem device is memory: del frees it.
uu alice del -n "$mem"
is "$RUN_RC" 0 "del the mem device"
no_leftovers alice "at the end"

# The bench's floor server (tests/tools/ublk-floor.c, root): it answers
# every request, and with -f its reads and writes are the file's.
floor=$UBLK_USER_TEST_ROOT/build/tests/ublk-floor
floor_id() { sed -n 's/^dev id \([0-9]*\): .*/\1/p' <<<"$RUN_OUT"; }
run "$floor" add -q 2 -d 16
is "$RUN_RC" 0 "ublk-floor add"
fid=$(floor_id)
ok "  floor: 4k direct reads are answered" dd if="/dev/ublkb$fid" of=/dev/null bs=4k count=256 iflag=direct status=none
run "$floor" del -n "$fid"
is "$RUN_RC" 0 "  ublk-floor del"
fimg=/tmp/floor.img
head -c 8M /dev/urandom >"$fimg"
run "$floor" add -f "$fimg" -d 16
is "$RUN_RC" 0 "ublk-floor add -f FILE (the loop floor)"
fid=$(floor_id)
is "$(blockdev --getsize64 "/dev/ublkb$fid")" 8388608 "  its disk is the file's size"
ok "  it reads as the file" sh -c "dd if=/dev/ublkb$fid bs=1M iflag=direct status=none | cmp - $fimg"
head -c 1M /dev/urandom >/tmp/floor.pat
ok "  a write through it" dd if=/tmp/floor.pat of="/dev/ublkb$fid" bs=64k seek=32 oflag=direct conv=fsync status=none
ok "  is in the file" cmp -n 1048576 -i 0:2097152 /tmp/floor.pat "$fimg"
run "$floor" del -n "$fid"
is "$RUN_RC" 0 "  ublk-floor del"
rm -f "$fimg" /tmp/floor.pat
done_testing
