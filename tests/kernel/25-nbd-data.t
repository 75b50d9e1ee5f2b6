#!/bin/bash
# The nbd target's data path, as alice: nbdkit (memory, file) over a Unix
# socket and over TCP on 127.0.0.1 (two queues on two connections where
# the server allows multi-conn), qemu-nbd serving a qcow2 image alice made;
# fio with crc32c verification, a file system, the data where the server
# keeps it; the export's flags and block sizes as the device's parameters.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/nbd.sh"

at_exit run_as alice ublk-user del -a
home=/home/alice

add_nbd() { # add_nbd URI [ARGS...] -> DEV
	local uri=$1
	shift
	uu alice add -t nbd --uri "$uri" "$@" --json
	is "$RUN_RC" 0 "add -t nbd --uri $uri $*"
	[[ $RUN_RC == 0 ]] || BAIL_OUT "cannot add an nbd device: $RUN_ERR"
	DEV=$(jget "$RUN_OUT" .dev_id)
}

q() { cat "/sys/block/ublkb$1/queue/$2"; }

note "nbdkit memory over a Unix socket"
sock=$home/mem.sock
nbd_kit alice "$sock" memory 64M
add_nbd "nbd+unix:///?socket=$sock"
mem=$DEV
uu alice list -n "$mem" --json
is "$(jget "$RUN_OUT" '.[0] | "\(.target) \(.size) \(.uri) \(.connected) \(.reconnects)"')" \
	"nbd 67108864 nbd+unix:///?socket=$sock true 0" \
	"list --json: target, size from the server, uri, connected, reconnects"
is "$(q "$mem" write_cache) $(q "$mem" fua)" "write back 1" \
	"the server's flush and FUA: a volatile cache with FUA"
isnt "$(q "$mem" discard_max_bytes)" 0 "trim: discard is on"
isnt "$(q "$mem" write_zeroes_max_bytes)" 0 "write zeroes is on"
is "$(q "$mem" logical_block_size)" 512 "512-byte blocks (minimum 1 given)"
fio_verify mem-4k "$mem"
fio_verify mem-mixed "$mem" --bsrange=512-512k --rw=randrw --numjobs=2 \
	--size=8M --offset_increment=8M --fsync=16
fio_verify mem-seq "$mem" --rw=write --bs=512k --iodepth=4
ok "blkdiscard: trim and write zeroes reach the server" \
	sbin_as alice sh -c "blkdiscard -o 0 -l 1M /dev/ublkb$mem && blkdiscard -z -o 1M -l 1M /dev/ublkb$mem"
run run_as alice sh -c "dd if=/dev/ublkb$mem bs=1M count=2 iflag=direct 2>/dev/null | tr -d '\\0' | wc -c"
is "$RUN_OUT" 0 "  the discarded and zeroed 2 MiB read back as zeroes"
uu alice del -n "$mem"
is "$RUN_RC" 0 "del"

note "nbdkit file over TCP 127.0.0.1, two queues on two connections"
img=$home/file.img
run_as alice truncate -s 64M "$img"
port=$(nbd_free_port)
nbd_kit alice "$port" file "$img"
add_nbd "nbd://127.0.0.1:$port/" -q 2
tcp=$DEV
is "$(ss -Htn state established "( dport = :$port )" | wc -l)" 2 \
	"two TCP connections to the server"
fio_verify tcp-4k "$tcp" --numjobs=2 --size=8M --offset_increment=8M
run run_as alice sh -c "head -c 1M /dev/urandom > $home/pattern && dd if=$home/pattern of=/dev/ublkb$tcp bs=1M seek=5 oflag=direct conv=fsync 2>&1"
is "$RUN_RC" 0 "1 MiB of random data written at 5 MiB"
uu alice del -n "$tcp"
ok "  and it is in the file nbdkit serves" cmp -n 1048576 -i 0:5242880 \
	"$home/pattern" "$img"

note "qemu-nbd serving a qcow2 image, with a file system"
qimg=$home/vm.qcow2
ok "alice makes a qcow2 image" run_as alice qemu-img create -q -f qcow2 "$qimg" 128M
qsock=$home/qemu.sock
nbd_qemu alice "$qsock" "$qimg" -x vm
qpid=$NBD_PID
add_nbd "nbd+unix:///vm?socket=$qsock"
qd=$DEV
fio_verify qcow2-4k "$qd" --size=8M
ok "mkfs.ext4 by alice" sbin_as alice mkfs.ext4 -q -F "/dev/ublkb$qd"
mkdir -p /mnt/nbd
ok "mount by root" mount "/dev/ublkb$qd" /mnt/nbd
ok "files written" sh -c 'mountpoint -q /mnt/nbd && for i in 1 2 3 4; do head -c 1M /dev/urandom > /mnt/nbd/f$i; done; sha256sum /mnt/nbd/f* > /tmp/nbd-sums; sync'
ok "umount" umount /mnt/nbd
uu alice del -n "$qd"
is "$RUN_RC" 0 "del"
nbd_stop "$qpid"
run run_as alice qemu-img check "$qimg"
is "$RUN_RC" 0 "qemu-img check: the image is clean"
[[ $RUN_RC == 0 ]] || diag "$RUN_OUT"
nbd_qemu alice "$qsock" "$qimg" -x vm
add_nbd "nbd+unix:///vm?socket=$qsock"
ok "the image served again: mount it" mount -o ro "/dev/ublkb$DEV" /mnt/nbd
ok "the files read back intact" sh -c 'mountpoint -q /mnt/nbd && sha256sum -c --quiet /tmp/nbd-sums'
ok "umount" umount /mnt/nbd
uu alice del -n "$DEV"

note "the export's block sizes and flags become the device's"
sock=$home/bs.sock
nbd_kit alice "$sock" --filter=blocksize-policy memory 16M \
	blocksize-minimum=4096 blocksize-preferred=65536 blocksize-maximum=1M
add_nbd "nbd+unix:///?socket=$sock"
is "$(q "$DEV" logical_block_size) $(q "$DEV" physical_block_size)" \
	"4096 4096" "minimum block 4096: 4096-byte logical blocks"
fio_verify bs4k "$DEV" --size=8M
uu alice del -n "$DEV"
sock=$home/ro.sock
nbd_kit alice "$sock" --readonly memory 16M
add_nbd "nbd+unix:///?socket=$sock"
is "$(cat "/sys/block/ublkb$DEV/ro")" 1 "a read-only export: a read-only device"
run run_as alice dd if=/dev/zero of="/dev/ublkb$DEV" bs=4k count=1 oflag=direct
isnt "$RUN_RC" 0 "  writing fails"
uu alice del -n "$DEV"

# SIGTERM: the server deletes its device and ends.  Its reconnect helpers
# hold its queue rings, and with them the device, until it has ended: a
# deletion that waited for the device to be let go would wait for ever.
add_nbd "nbd+unix:///?socket=$sock"
uu alice list -n "$DEV" --json
spid=$(jget "$RUN_OUT" '.[0].server_pid')
ok "SIGTERM the nbd server" kill -TERM "$spid"
ok "  its device goes away" timeout 30 sh -c \
	"while [ -e /dev/ublkc$DEV ]; do sleep 0.1; done"
ok "  it ends, and its reconnect helper with it" timeout 30 sh -c \
	"while pgrep -u $(uid_of alice) -x ublk-user >/dev/null; do sleep 0.1; done"
[[ $TAP_OK == 1 ]] || diag "$(server_ps alice)"
no_leftovers alice "after SIGTERM"

note "a disk file for an nbd disk: up and down"
dir=$home/.config/ublk-user/disks
run_as alice mkdir -p "$dir"
printf 'target = nbd\nuri = nbd+unix:///?socket=%s\n' "$home/mem2.sock" |
	run_as alice tee "$dir/net.disk" >/dev/null
at_exit rm -rf "$home/.config/ublk-user"
nbd_kit alice "$home/mem2.sock" memory 8M
uu alice up net --json
is "$RUN_RC" 0 "up net (target = nbd, uri = ...)"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
is "$(jget "$RUN_OUT" '"\(.name) \(.size) \(.uri)"')" \
	"net 8388608 nbd+unix:///?socket=$home/mem2.sock" \
	"  named, the server's size, its uri"
fio_verify net-4k "$(jget "$RUN_OUT" .dev_id)" --size=4M
uu alice down net
is "$RUN_RC" 0 "down net"

note "refused before a device exists"
sock=$home/one.sock
nbd_evil alice "$sock"
uu alice add -t nbd --uri "nbd+unix:///?socket=$sock" -q 2
is "$RUN_RC" 1 "two queues on a server without multi-conn: refused"
like "$RUN_ERR" "does not allow more than one connection \\(no NBD_FLAG_CAN_MULTI_CONN\\): use --queues 1" \
	"  says why"
uu alice add -t nbd --uri "nbd+unix:///nope?socket=$sock"
is "$RUN_RC" 1 "an export the server does not have: refused"
like "$RUN_ERR" "NBD server $sock: handshake: the server refused export 'nope': no such export" \
	"  with the server's word"
uu alice add -t nbd --uri "nbd+unix:///?socket=$home/none.sock"
like "$RUN_ERR" "NBD server $home/none.sock: connect: No such file or directory" \
	"a socket that is not there: refused"
uu alice add -t nbd --uri "nbds://127.0.0.1/x"
like "$RUN_ERR" "--uri: TLS \\(nbds://\\) is not supported" "nbds:// refused"
is "$RUN_RC" 2 "  a usage error"
uu alice add -t nbd
like "$RUN_ERR" "the nbd target needs --uri" "no --uri: refused"
is "$RUN_RC" 2 "  a usage error"
uu alice add -t loop -f "$img" --uri "nbd+unix:///?socket=$sock"
is "$RUN_RC" 2 "--uri with another target: a usage error"
no_leftovers alice "at the end"
done_testing
