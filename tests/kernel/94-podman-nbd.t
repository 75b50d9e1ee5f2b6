#!/bin/bash
# Podman with crun and the OCI hook, a disk served by an NBD server
# (io.ublk-user.disk=target=nbd,uri=URI): rootful and rootless (alice),
# the container writes and reads it, the data is where the NBD server
# keeps it, and the disk goes when the container stops (the NBD server
# stays).  A bad or refused URI fails the start, saying why.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/podman.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/nbd.sh"

run_opts=(--network none)

rw() { # the shell commands that write, read back and compare disk $1
	echo "dd if=/dev/urandom of=/tmp/x bs=4k count=16 2>/dev/null &&
dd if=/tmp/x of=$1 bs=4k count=16 oflag=direct 2>/dev/null &&
dd if=$1 of=/tmp/y bs=4k count=16 iflag=direct 2>/dev/null &&
cmp /tmp/x /tmp/y && echo verified $1"
}
mark() { # write "hello nbd" at the start of disk $1, synchronously
	echo "echo hello nbd | dd of=$1 conv=fsync 2>/dev/null && echo marked"
}

note "rootful podman"
podman_setup
img=/var/tmp/nbd-root.img
truncate -s 64M "$img"
sock=/run/nbd-root.sock
nbd_kit root "$sock" file "$img"
kit=$NBD_PID
pm root run --rm "${run_opts[@]}" \
	--annotation "$(disk_ann "io.ublk-user.disk=target=nbd,uri=nbd+unix:///?socket=$sock,path=/dev/xvdb")" \
	"$IMAGE" sh -c "stat -c '%F' /dev/xvdb; $(rw /dev/xvdb); $(mark /dev/xvdb)"
is "$RUN_RC" 0 "a root container with an nbd disk runs"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
like "$RUN_OUT" $'^block special file\n' "the disk is a block node at /dev/xvdb"
like "$RUN_OUT" "verified /dev/xvdb" "the container writes and reads it"
like "$RUN_OUT" "marked" "and marks it"
no_disks_left "after the container stopped"
is "$(head -c 9 "$img")" "hello nbd" "the data is in the file nbdkit serves"
ok "nbdkit is still serving" kill -0 "$kit"
pm root run --rm "${run_opts[@]}" \
	--annotation "$(disk_ann "io.ublk-user.disk=target=nbd,uri=nbd+unix:///?socket=/run/none.sock")" \
	"$IMAGE" true
isnt "$RUN_RC" 0 "a URI with no server behind it: the container does not start"
like "$RUN_ERR" "NBD server /run/none.sock: connect: No such file or directory" \
	"  and podman says why"
no_disks_left "after the refused start"
nbd_stop "$kit"

note "rootless podman (alice)"
podman_setup_user alice
sock=/home/alice/nbd.sock
nbd_kit alice "$sock" memory 32M
pm alice run --rm "${run_opts[@]}" \
	--annotation "$(disk_ann "io.ublk-user.disk.vm=target=nbd,uri=nbd+unix:///?socket=$sock")" \
	"$IMAGE" sh -c "$(rw /dev/ublk-vm)"
is "$RUN_RC" 0 "alice's rootless container with an nbd disk runs"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
like "$RUN_OUT" "verified /dev/ublk-vm" "it writes and reads the disk at the default path"
hooks_done alice
is "$(all_ublk_nodes alice)" "" \
	"no ublk node of alice is left"
is "$(server_pids alice)" "" "no server of alice is left"
[[ $TAP_OK == 1 ]] || diag "$(server_ps alice)"
done_testing
