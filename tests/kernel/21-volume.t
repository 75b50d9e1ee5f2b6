#!/bin/bash
# Volumes (issue 15), as an unprivileged user: online resize of loop and
# mem disks under I/O and under a mounted ext4, with the policy's
# max_size; read-only disks (add --read-only, the policy's read_only and
# read_only_dirs), down to the server's ring; one partition of a GPT image
# (add --partition), whose neighbours stay untouched; snapshots by reflink
# of a disk in use (xfs), clones, and the refusal where there are no
# reflinks (ext4).
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/policy.sh"

at_exit policy_reset
at_exit run_as alice ublk-user del -a
at_exit sh -c 'umount /mnt/vol 2>/dev/null || :'
at_exit sh -c 'umount /mnt/xfs /mnt/e4 2>/dev/null || :'

add_dev() { # add_dev ARGS... -> DEV (id)
	uu alice add "$@" --json
	is "$RUN_RC" 0 "add $*"
	[[ $RUN_RC == 0 ]] || BAIL_OUT "cannot add a device: $RUN_ERR"
	DEV=$(jget "$RUN_OUT" .dev_id)
}

size_of() { blockdev --getsize64 "/dev/ublkb$1"; }

# fio_bg NAME FILE SIZE EXTRA...: random writes verified with crc32c, in
# the background as alice; fio_wait NAME checks how it ended.
fio_bg() {
	local name=$1 file=$2 size=$3
	shift 3
	run_as alice fio --name="$name" --filename="$file" --ioengine=io_uring \
		--direct=1 --rw=randwrite --bs=4k --size="$size" --iodepth=16 \
		--verify=crc32c --verify_fatal=1 --do_verify=1 \
		--output-format=terse "$@" >"/tmp/$name.out" 2>&1 &
	FIO_PID=$!
}
fio_wait() {
	local rc=0
	wait "$FIO_PID" || rc=$?
	is "$rc" 0 "$1: fio wrote and verified with crc32c meanwhile"
	[[ $rc == 0 ]] || diag "$(cat "/tmp/$1.out")"
}

policy_put 10-volume.conf '[user:alice]
max_size = 256M
'
site=$DROPIN/10-volume.conf
mkdir -p /mnt/vol
img=/home/alice/vol.img
run_as alice truncate -s 64M "$img"

# --- resize ------------------------------------------------------------------
if lacks UBLK_F_UPDATE_SIZE; then
	add_dev -t loop -f "$img" --name vol
	uu alice resize vol 128M --grow-file
	is "$RUN_RC:$RUN_ERR" "1:ublk-user: resize: this kernel has no UBLK_F_UPDATE_SIZE (Linux >= 6.16)" \
		"resize is refused, naming the kernel feature"
	is "$(size_of "$DEV")" 67108864 "  the disk stays 64M"
	is "$(stat -c %s "$img")" 67108864 "  and its file too"
	uu alice down vol
	skip "$LACKS" 39
else
	# A loop disk under fio: grown (with its file) and shrunk.
	add_dev -t loop -f "$img" -q 2
	loop=$DEV
	fio_bg resize-raw "/dev/ublkb$loop" 32M
	uu alice resize -n "$loop" 128M
	is "$RUN_RC" 1 "resize past the file's end: refused"
	like "$RUN_ERR" "^ublk-user: resizing device $loop: $img is 67108864 bytes, less than 134217728: grow the file first \\(resize --grow-file\\)$" \
		"  saying why"
	is "$(size_of "$loop")" 67108864 "  the disk stays 64M"
	uu alice resize -n "$loop" 128M --grow-file
	is "$RUN_RC:$RUN_OUT" "0:/dev/ublkb$loop: 128M (was 64M)" "resize --grow-file to 128M"
	is "$(size_of "$loop")" 134217728 "  blockdev --getsize64 follows"
	is "$(stat -c %s "$img")" 134217728 "  the file grew"
	uu alice resize -n "$loop" 40M
	is "$RUN_RC" 0 "resize down to 40M"
	is "$(size_of "$loop")" 41943040 "  blockdev --getsize64 follows"
	is "$(stat -c %s "$img")" 134217728 "  the file keeps its bytes"
	run run_as alice sh -c "dd if=/dev/ublkb$loop bs=4k skip=10239 count=2 iflag=direct status=none | wc -c"
	is "$RUN_OUT" 4096 "  a read across the new end stops there"
	uu alice resize -n "$loop" 64M
	is "$RUN_RC" 0 "resize up to 64M again"
	fio_wait resize-raw
	uu alice resize -n "$loop" 512M --grow-file
	is "$RUN_RC:$RUN_ERR" "1:ublk-user: resizing device $loop: refused by the policy: size 512M is more than allowed: max_size=256M for user alice ($site:2)" \
		"over max_size: refused by the CLI, naming the rule"
	is "$(size_of "$loop"):$(stat -c %s "$img")" 67108864:134217728 \
		"  nothing changed, the file was not grown"
	uu alice del -n "$loop"

	# A mounted ext4, grown online by resize2fs while fio runs in it.
	run_as alice truncate -s 64M "$img"
	add_dev -t loop -f "$img" --name vol
	vol=$DEV
	ok "mkfs.ext4" mkfs.ext4 -q -F "/dev/ublkb$vol"
	ok "mount it" mount "/dev/ublkb$vol" /mnt/vol
	mkdir /mnt/vol/a && chown alice: /mnt/vol/a
	ok "files in it" sh -c 'for i in 1 2 3 4; do head -c 2M /dev/urandom >/mnt/vol/f$i; done; sha256sum /mnt/vol/f? >/tmp/vol.sums'
	fio_bg resize-ext4 /mnt/vol/a/fio 24M
	uu alice resize vol 192M --grow-file
	is "$RUN_RC:$RUN_OUT" "0:/dev/ublkb$vol: 192M (was 64M)" "resize vol 192M --grow-file, mounted"
	ok "  resize2fs grows ext4 online" resize2fs "/dev/ublkb$vol"
	blocks=$(stat -f -c '%b*%S' /mnt/vol)
	ok "  the mounted file system is larger ($((blocks)) bytes)" test $((blocks)) -gt $((150 << 20))
	fio_wait resize-ext4
	ok "umount" umount /mnt/vol
	ok "e2fsck -f: clean after the online grow" e2fsck -f -n "/dev/ublkb$vol"
	ok "resize2fs shrinks it to 96M (offline)" resize2fs -f "/dev/ublkb$vol" 96M
	uu alice resize vol 96M
	is "$RUN_RC:$RUN_OUT" "0:/dev/ublkb$vol: 96M (was 192M)" "resize vol 96M"
	is "$(size_of "$vol")" 100663296 "  blockdev --getsize64 follows"
	ok "  e2fsck -f: clean" e2fsck -f -n "/dev/ublkb$vol"
	ok "  mount" mount -o ro "/dev/ublkb$vol" /mnt/vol
	ok "  the files read back intact" sha256sum -c --quiet /tmp/vol.sums
	ok "  umount" umount /mnt/vol
	uu alice resize vol 512M
	like "$RUN_ERR" "max_size=256M for user alice" "over max_size by name: refused"
	uu alice down vol

	# mem: grows with its contents, shrinking gives the tail back as zeroes
	add_dev -t mem --size 16M
	mem=$DEV
	run_as alice sh -c "head -c 16M /dev/urandom >/home/alice/pat"
	ok "write 16M to a mem disk" run_as alice dd if=/home/alice/pat of="/dev/ublkb$mem" bs=1M oflag=direct status=none
	uu alice resize -n "$mem" 32M
	is "$RUN_RC:$(size_of "$mem")" 0:33554432 "resize the mem disk to 32M"
	ok "  what was written is there" run_as alice cmp -n 16777216 /home/alice/pat "/dev/ublkb$mem"
	ok "  the new half takes data" run_as alice dd if=/home/alice/pat of="/dev/ublkb$mem" bs=1M seek=16 oflag=direct status=none
	uu alice resize -n "$mem" 8M
	is "$RUN_RC:$(size_of "$mem")" 0:8388608 "shrink it to 8M"
	uu alice resize -n "$mem" 32M
	is "$RUN_RC" 0 "grow it to 32M again"
	ok "  the first 8M kept" run_as alice cmp -n 8388608 /home/alice/pat "/dev/ublkb$mem"
	run run_as alice sh -c "dd if=/dev/ublkb$mem bs=1M skip=8 iflag=direct status=none | tr -d '\\0' | wc -c"
	is "$RUN_OUT" 0 "  the rest reads as zeroes"
	uu alice resize -n "$mem" 2T
	like "$RUN_ERR" "max_size=256M" "a mem disk over max_size: refused"
	uu alice del -n "$mem"
fi

# --- read-only ---------------------------------------------------------------
ro=/home/alice/ro.img
run_as alice sh -c "head -c 16M /dev/urandom >$ro"
sum=$(sha256sum <"$ro")
add_dev -t loop -f "$ro" --read-only
rod=$DEV
is "$(blockdev --getro "/dev/ublkb$rod")" 1 "add --read-only: the kernel marks the disk read-only"
uu alice list -n "$rod" --json
is "$(jget "$RUN_OUT" '.[0].read_only')" true "  list --json says read_only"
pid=$(jget "$RUN_OUT" '.[0].server_pid')
run run_as alice dd if=/dev/zero of="/dev/ublkb$rod" bs=4k count=1 oflag=direct status=none
like "$RUN_RC:$RUN_ERR" "^1:.*(Read-only file system|Operation not permitted)" 	"  a write fails with EROFS or EPERM"
ok "  reads verify: the disk is the file" run_as alice cmp "$ro" "/dev/ublkb$rod"
fdflags=
for fd in /proc/"$pid"/fd/*; do
	[[ $(readlink "$fd") != "$ro" ]] || fdflags=$(sed -n 's/^flags:	*//p' "/proc/$pid/fdinfo/${fd##*/}")
done
is "$((8#${fdflags:-2} & 3))" 0 "  the server has the file open O_RDONLY"
ok "root clears the kernel's read-only flag" blockdev --setrw "/dev/ublkb$rod"
run dd if=/dev/zero of="/dev/ublkb$rod" bs=4k count=1 oflag=direct status=none
isnt "$RUN_RC" 0 "  then a write still fails: the server refuses it"
is "$(sha256sum <"$ro")" "$sum" "  the file is unchanged"
uu alice del -n "$rod"

# A disk file says read_only = yes (ublk-user.disk(5))
run_as alice mkdir -p /home/alice/.config/ublk-user/disks
run_as alice sh -c "printf 'target = loop\nfile = $ro\nread_only = yes\n' >/home/alice/.config/ublk-user/disks/rodisk.disk"
uu alice up rodisk --json
is "$RUN_RC" 0 "up a disk file with read_only = yes"
is "$(blockdev --getro "/dev/ublkb$(jget "$RUN_OUT" .dev_id)")" 1 "  the disk is read-only"
uu alice down rodisk
run_as alice rm -r /home/alice/.config/ublk-user

# The ring: fault puts a WRITE on it when asked; a read-only disk's ring
# has no write opcode, whatever the target lists.
hooks=$UBLK_USER_TEST_ROOT/build/tests/ublk-user-testhooks
for mode in rw ro; do
	ro_opt=()
	[[ $mode == rw ]] || ro_opt=(--read-only)
	run run_as alice "$hooks" add -t fault --json "${ro_opt[@]}"
	is "$RUN_RC" 0 "fault disk, $mode (test build)"
	fid=$(jget "$RUN_OUT" .dev_id)
	run run_as alice dd if="/dev/ublkb$fid" of=/dev/null bs=512 skip=8192 count=1 iflag=direct
	isnt "$RUN_RC" 0 "  a read that makes the target put a WRITE on its ring fails"
	log=$(<"/run/user/2001/ublk-user/dev-$fid.log")
	if [[ $mode == ro ]]; then
		like "$log" "ring WRITE completed with -13 \(Permission denied\)" \
			"  read-only: the ring refused the WRITE (EACCES)"
	else
		like "$log" "ring WRITE completed with -[0-9]+ " "  writable: the ring took the WRITE"
		unlike "$log" "ring WRITE completed with -13 " "  and did not refuse it"
	fi
	uu alice del -n "$fid"
done

# The policy: read_only for a user, read_only_dirs for shared images
policy_put 10-volume.conf '[user:alice]
read_only = yes
'
uu alice add -t loop -f "$ro"
is "$RUN_RC:$RUN_ERR" "1:ublk-user: refused by the policy: alice may have read-only disks only (add --read-only): read_only=yes for user alice ($site:2)" \
	"read_only = yes: a writable disk is refused, naming the rule"
add_dev -t loop -f "$ro" --read-only
ok "  a read-only one is fine" test -b "/dev/ublkb$DEV"
uu alice del -n "$DEV"
# The udev helper enforces it too, from the disk's parameters: a writable
# disk made before the rule is deleted at its next change event.
policy_reset
add_dev -t null --size 64M
policy_put 10-volume.conf '[user:alice]
read_only = yes
'
udevadm trigger --action=change "/dev/ublkb$DEV"
ok "read_only = yes: the helper deletes a writable disk at a change event" \
	timeout 20 sh -c "while [ -e /dev/ublkc$DEV ]; do sleep 0.2; done"
denial alice "$DEV"
is "$REASON" "alice may have read-only disks only (add --read-only): read_only=yes for user alice ($site:2)" \
	"  and records why"
add_dev -t null --size 64M --read-only
udevadm trigger --action=change "/dev/ublkb$DEV"
settle
ok "  a read-only disk stays" test -b "/dev/ublkb$DEV"
uu alice del -a
mkdir -p /srv/images
cp "$ro" /srv/images/shared.img
# A shared image alice may write: the policy, not the mode, keeps it intact
chmod 0666 /srv/images/shared.img
policy_put 10-volume.conf '[user:alice]
read_only_dirs = /srv/images
'
uu alice add -t loop -f /srv/images/shared.img
like "$RUN_ERR" "backing file /srv/images/shared.img may be served read-only only \(add --read-only\): read_only_dirs=/srv/images for user alice \($site:2\)" \
	"read_only_dirs: a writable disk on a shared image is refused"
add_dev -t loop -f /srv/images/shared.img --read-only
ok "  read-only, it reads" run_as alice cmp /srv/images/shared.img "/dev/ublkb$DEV"
uu alice del -n "$DEV"
is "$(sha256sum </srv/images/shared.img)" "$sum" "  and the image is unchanged"
add_dev -t loop -f "$ro"
uu alice del -n "$DEV"
rm -rf /srv/images
policy_put 10-volume.conf '[user:alice]
max_size = 256M
'

# --- partitions of an image file ----------------------------------------------
gpt=/home/alice/gpt.img
run_as alice truncate -s 64M "$gpt"
# 1: 20M at 1M; 2: 30M at 21M; the rest is free up to the backup table
ok "alice makes a GPT with two partitions (sfdisk)" run_as alice sh -c \
	"printf 'label: gpt\nstart=2048, size=40960, name=one\nstart=43008, size=61440, name=two\n' | /usr/sbin/sfdisk -q $gpt"
run_as alice sh -c "head -c 30M /dev/urandom | dd of=$gpt bs=1M seek=21 conv=notrunc status=none"
# Everything but partition 1: the tables, partition 2 and the free space
outside1() { { head -c 1M "$gpt"; tail -c +$(((21 << 20) + 1)) "$gpt"; } | sha256sum; }
before=$(outside1)
add_dev -t loop -f "$gpt" --partition 1
p1=$DEV
is "$(size_of "$p1")" 20971520 "--partition 1: the disk is the partition's 20M"
uu alice list -n "$p1" --json
is "$(jget "$RUN_OUT" '.[0] | "\(.partition) \(.offset) \(.backing)"')" "1 1048576 $gpt" \
	"  list --json: partition, offset, backing"
ok "  mkfs.ext4 on it" sbin_as alice mkfs.ext4 -q -F "/dev/ublkb$p1"
ok "  fsck.ext4: clean" sbin_as alice fsck.ext4 -f -n "/dev/ublkb$p1"
run run_as alice dd if=/dev/zero of="/dev/ublkb$p1" bs=4k seek=5120 count=1 oflag=direct status=none
isnt "$RUN_RC" 0 "  a write past its end fails"
is "$(outside1)" "$before" "  the tables, partition 2 and the free space are untouched"
add_dev -t loop -f "$gpt" --partition 2
p2=$DEV
is "$(size_of "$p2")" 31457280 "--partition 2 at the same time: its 30M"
ok "  it holds partition 2's bytes" run_as alice cmp -n 31457280 "/dev/ublkb$p2" "$gpt" 0 22020096
# Everything but partition 2: partition 1 (an ext4 now), tables, free space
outside2() { { head -c 21M "$gpt"; tail -c +$(((51 << 20) + 1)) "$gpt"; } | sha256sum; }
before2=$(outside2)
run run_as alice fio --name=edges --filename="/dev/ublkb$p2" --ioengine=io_uring \
	--direct=1 --rw=randwrite --bsrange=4k-64k --size=1M --offset=0 \
	--verify=crc32c --verify_fatal=1 --do_verify=1 --output-format=terse
is "$RUN_RC" 0 "  fio with verify at its first MiB"
[[ $RUN_RC == 0 ]] || diag "$RUN_OUT" "$RUN_ERR"
run run_as alice fio --name=edges --filename="/dev/ublkb$p2" --ioengine=io_uring \
	--direct=1 --rw=randwrite --bsrange=4k-64k --size=1M --offset=29M \
	--verify=crc32c --verify_fatal=1 --do_verify=1 --output-format=terse
is "$RUN_RC" 0 "  and at its last"
[[ $RUN_RC == 0 ]] || diag "$RUN_OUT" "$RUN_ERR"
ok "  partition 1 is still a clean ext4" sbin_as alice fsck.ext4 -f -n "/dev/ublkb$p1"
is "$(outside2)" "$before2" "  the bytes around partition 2 are untouched"
ok "  the GPT is intact" sh -c "/usr/sbin/sfdisk -d $gpt | grep -c 'name=' | grep -qx 2"
if lacks UBLK_F_UPDATE_SIZE; then
	skip "$LACKS"
else
	uu alice resize -n "$p2" 40M
	like "$RUN_ERR" "the disk can grow to 31457280 bytes, where its part of the file ends" \
		"  it cannot grow past the partition"
fi
uu alice del -n "$p1"
uu alice del -n "$p2"
uu alice add -t loop -f "$gpt" --partition 3
is "$RUN_RC:$RUN_ERR" "1:ublk-user: --partition 3: $gpt has no partition 3 (its gpt table has partitions 1, 2)" \
	"a partition that does not exist: refused"
uu alice add -t loop -f "$ro" --partition 1
is "$RUN_ERR" "ublk-user: --partition 1: $ro has no partition table (GPT or MBR)" \
	"a file without a table: refused"
uu alice add -t mem --size 16M --partition 1
is "$RUN_RC" 2 "--partition of a mem disk: a usage error"
# --offset and --size: any window
add_dev -t loop -f "$gpt" --offset 21M --size 30M
ok "--offset 21M --size 30M is partition 2" run_as alice cmp -n 31457280 "/dev/ublkb$DEV" "$gpt" 0 22020096
uu alice del -n "$DEV"
uu alice add -t loop -f "$gpt" --offset 1000
like "$RUN_ERR" "--offset must be a multiple of" "an unaligned --offset: refused"

# --- a pause, and clients of the control socket that misbehave ------------------
cp_tool=$UBLK_USER_TEST_ROOT/build/tests/ctl-pause
add_dev -t mem --size 16M
pd=$DEV
sock=/run/user/2001/ublk-user/dev-$pd.ctl
run "$cp_tool" "$sock" 0 close
is "$RUN_OUT" "refused: only the device's owner may ask" \
	"root (not the disk's owner) asks for a pause: refused (SO_PEERCRED)"
run_as alice "$cp_tool" "$sock" 2000 close >/tmp/cp.out 2>&1 &
cp_pid=$!
timeout 20 sh -c 'until grep -q paused /tmp/cp.out; do sleep 0.1; done'
t0=$(date +%s%N)
run run_as alice dd if="/dev/ublkb$pd" of=/dev/null bs=4k count=1 iflag=direct status=none
took=$((($(date +%s%N) - t0) / 1000000))
is "$RUN_RC" 0 "a read during a pause completes once the pausing client goes away"
ok "  it was held meanwhile (${took} ms)" test "$took" -ge 1000
wait "$cp_pid" || :
run run_as alice "$cp_tool" "$sock" 0 stay
is "$RUN_OUT" $'paused\nthe server said: -110 the pause reached 10000 ms: I/O resumed' \
	"a client that never resumes: the server ends the pause after 10 s and says so"
ok "  the disk serves I/O" run_as alice dd if="/dev/ublkb$pd" of=/dev/null bs=4k count=1 iflag=direct status=none
run run_as alice "$cp_tool" "$sock" 100 resume
like "$RUN_OUT" $'^paused\nresumed after [0-9]+ us$' "PAUSE then RESUME: the server says how long"
uu alice del -n "$pd"

# --- snapshots and clones --------------------------------------------------------
# File systems for alice's files, made by root: xfs has reflinks, ext4 not
modprobe -q loop
modprobe -q xfs
mkdir -p /mnt/xfs /mnt/e4
truncate -s 320M /var/tmp/xfs.img
truncate -s 64M /var/tmp/e4.img
ok "root makes an xfs (reflink=1) and an ext4 for alice" sh -c \
	'mkfs.xfs -q -m reflink=1 /var/tmp/xfs.img && mkfs.ext4 -q /var/tmp/e4.img &&
	mount -o loop /var/tmp/xfs.img /mnt/xfs && mount -o loop /var/tmp/e4.img /mnt/e4 &&
	install -d -o alice -g alice /mnt/xfs/alice /mnt/e4/alice'
x=/mnt/xfs/alice
run_as alice truncate -s 64M "$x/disk.img"
add_dev -t loop -f "$x/disk.img" --name snap
sd=$DEV
# 4 KiB blocks: xfs (of Linux 7) takes direct I/O to a file that shares
# blocks (the clone below) in whole blocks, so a disk on it has 4 KiB
# sectors.
ok "an ext4 on it, mounted" sh -c "mkfs.ext4 -q -b 4096 /dev/ublkb$sd && mount /dev/ublkb$sd /mnt/vol"
mkdir /mnt/vol/a && chown alice: /mnt/vol/a
ok "files in it" sh -c 'for i in 1 2 3 4; do head -c 1M /dev/urandom >/mnt/vol/f$i; done; sync; sha256sum /mnt/vol/f? >/tmp/snap.sums'
fio_bg snap /mnt/vol/a/fio 24M
sleep 1
ok "fio runs in it" kill -0 "$FIO_PID"
uu alice snapshot snap "$x/snap.img"
is "$RUN_RC" 0 "snapshot of the disk while fio writes to it"
like "$RUN_OUT" "^$x/snap.img: a snapshot of /dev/ublkb$sd \\($x/disk.img\\); I/O held for [0-9]+\\.[0-9]{3} ms" \
	"  it says how long I/O was held"
note "snapshot under fio: ${RUN_OUT#*; }"
ok "  fio was still running" kill -0 "$FIO_PID"
fio_wait snap
ok "umount" umount /mnt/vol
ok "the live disk's ext4 is clean" e2fsck -f -n "/dev/ublkb$sd"
is "$(stat -c %s "$x/snap.img")" 67108864 "the snapshot has the disk's size"
# A crash-consistent ext4: a disk started from a clone of it replays the
# journal at mount, then is clean, with the files of before.
add_dev -t loop -f "$x/clone.img" --clone-of "$x/snap.img"
cd=$DEV
ok "add --clone-of the snapshot, mount it (journal replayed)" mount "/dev/ublkb$cd" /mnt/vol
ok "  the files of before the snapshot are there" sha256sum -c --quiet /tmp/snap.sums
ok "  umount" umount /mnt/vol
ok "  e2fsck -f: the snapshot was a consistent file system" e2fsck -f -n "/dev/ublkb$cd"
note "the clone's sectors: $(blockdev --getss "/dev/ublkb$cd") bytes (xfs of Linux 7: 4096 on a file that shares blocks)"
uu alice del -n "$cd"
uu alice snapshot -n "$sd" "$x/snap.img"
like "$RUN_RC:$RUN_ERR" "^1:ublk-user: cannot create $x/snap.img: File exists" \
	"a snapshot never overwrites a file"
# No reflinks: refused before any pause, and nothing is left.
uu alice snapshot snap /mnt/e4/alice/snap.img
is "$RUN_RC:$RUN_ERR" "1:ublk-user: $x/disk.img and /mnt/e4/alice/snap.img are on two file systems: a reflink needs one (nothing was copied)" \
	"a snapshot onto another file system: refused"
run_as alice truncate -s 16M /mnt/e4/alice/disk.img
add_dev -t loop -f /mnt/e4/alice/disk.img
uu alice snapshot -n "$DEV" /mnt/e4/alice/snap.img
like "$RUN_RC:$RUN_ERR" "^1:ublk-user: the file system of /mnt/e4/alice/disk.img has no reflinks \\(FICLONE: .*; xfs and btrfs have them\\): nothing was copied$" \
	"a snapshot on ext4: refused, saying why"
nok "  no file is left" test -e /mnt/e4/alice/snap.img
uu alice add -t loop -f /mnt/e4/alice/clone.img --clone-of /mnt/e4/alice/disk.img
like "$RUN_RC:$RUN_ERR" "^1:ublk-user: --clone-of: the file system of /mnt/e4/alice/disk.img has no reflinks" \
	"add --clone-of on ext4: refused"
nok "  no file is left" test -e /mnt/e4/alice/clone.img
uu alice del -n "$DEV"
uu alice down snap
umount /mnt/xfs /mnt/e4
rm -f /var/tmp/xfs.img /var/tmp/e4.img

no_leftovers alice "at the end"
done_testing
