#!/bin/bash
# Volumes (issue 15), as an unprivileged user: online resize of loop and
# mem disks under I/O and under a mounted ext4, with the policy's
# max_size.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/policy.sh"

at_exit policy_reset
at_exit run_as alice ublk-user del -a
at_exit sh -c 'umount /mnt/vol 2>/dev/null || :'

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
	mkdir -p /mnt/vol
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

no_leftovers alice "at the end"
done_testing
