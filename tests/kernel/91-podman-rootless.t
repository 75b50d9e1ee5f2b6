#!/bin/bash
# Rootless podman (alice) with crun and the OCI hook: the disk is bind
# mounted from the host, owned by alice, for that container only, and
# gone when it stops; what rootless cannot do is refused with the reason;
# gc as alice after podman kill.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/podman.sh"

podman_setup_user alice
run_opts=(--network none)
records=/run/user/2001/ublk-user/containers
data=/home/alice/.local/share/ublk-user/containers

# alice's devices, servers and device records are gone (her records
# directory also holds the hook's containers/ directory).
alice_clean() {
	local what=$1
	hooks_done alice
	is "$(all_ublk_nodes alice)" "" "$what: no ublk node of alice is left"
	is "$(find /run/user/2001/ublk-user -mindepth 1 -maxdepth 1 ! -name containers -printf '%f\n')" "" "$what: no device record or log of alice is left"
	is "$(server_pids alice)" "" "$what: no server of alice is left"
	[[ $TAP_OK == 1 ]] || diag "$(server_ps alice)"
}

rw() { # the shell commands that write, read back and compare disk $1
	echo "dd if=/dev/urandom of=/tmp/x bs=4k count=16 2>/dev/null &&
dd if=/tmp/x of=$1 bs=4k count=16 oflag=direct 2>/dev/null &&
dd if=$1 of=/tmp/y bs=4k count=16 iflag=direct 2>/dev/null &&
cmp /tmp/x /tmp/y && echo verified $1"
}

pm alice run --rm "${run_opts[@]}" \
	--annotation "$(disk_ann io.ublk-user.disk=size=32M,path=/dev/xvda)" \
	--annotation "$(disk_ann io.ublk-user.disk.m=size=8M,target=mem)" \
	"$IMAGE" sh -c "stat -c '%F %u' /dev/xvda; $(rw /dev/xvda); $(rw /dev/ublk-m)"
is "$RUN_RC" 0 "alice's rootless container with two disks runs"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
like "$RUN_OUT" $'^block special file 0\n' "the disk is at /dev/xvda, owned by the container's root"
like "$RUN_OUT" "verified /dev/xvda" "it writes and reads the loop disk"
like "$RUN_OUT" "verified /dev/ublk-m" "it writes and reads the mem disk"
alice_clean "after the rootless container"
is "$(ls -A $records 2>/dev/null)" "" "no container record is left"
is "$(ls -A $data 2>/dev/null)" "" "no backing file is left"

pm alice run -d "${run_opts[@]}" --annotation "$(disk_ann io.ublk-user.disk=size=16M,target=mem)" "$IMAGE" sleep 600
is "$RUN_RC" 0 "a rootless container starts in the background"
c1=$RUN_OUT
dev=$(all_ublk_nodes | grep ublkb || :)
is "$(stat -c %U:%G "$dev")" alice:alice "its disk on the host belongs to alice"
pm alice run --rm "${run_opts[@]}" "$IMAGE" sh -c 'ls /dev | grep -c ublk'
is "$RUN_OUT" 0 "a second container of alice has no ublk node"
pm alice run --rm "${run_opts[@]}" --userns=keep-id \
	--annotation "$(disk_ann io.ublk-user.disk=size=8M,target=mem)" "$IMAGE" sh -c "id -u; $(rw /dev/ublk-disk)"
is "$RUN_RC" 0 "with --userns=keep-id the container runs as alice with a disk"
like "$RUN_OUT" $'^2001\n.*verified /dev/ublk-disk' "and uses it"
pm alice run --rm "${run_opts[@]}" --user 1000 \
	--annotation "$(disk_ann io.ublk-user.disk=size=8M,target=mem)" "$IMAGE" true
isnt "$RUN_RC" 0 "a rootless container running as another uid gets no disk"
like "$RUN_ERR" "rootless podman can give a disk only to a process that runs as the user who runs podman" \
	"and is told why"
# A named disk (ublk-user.disk(5)) handed to a container by its stable path
mkdir -p /home/alice/.config/ublk-user/disks
printf 'target = mem\nsize = 8M\n' >/home/alice/.config/ublk-user/disks/pm.disk
chown -R alice:alice /home/alice/.config
at_exit rm -rf /home/alice/.config/ublk-user
uu alice up pm
is "$RUN_RC" 0 "alice brings up her named disk pm"
pm alice run --rm "${run_opts[@]}" --device /run/user/2001/ublk-user/disks/pm:/dev/xvdb \
	"$IMAGE" sh -c "$(rw /dev/xvdb)"
is "$RUN_RC" 0 "podman --device of its stable path gives it to a container"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
like "$RUN_OUT" "verified /dev/xvdb" "which writes and reads it"
uu alice down pm
is "$RUN_RC" 0 "alice takes it down"
pm alice kill "$c1"
pm alice wait "$c1"
run run_as alice ublk-user gc
is "$RUN_RC" 0 "alice's gc exits 0"
pm alice rm -f "$c1"
alice_clean "after podman kill and gc"
is "$(ls -A $records 2>/dev/null)" "" "no container record is left at the end"
done_testing
