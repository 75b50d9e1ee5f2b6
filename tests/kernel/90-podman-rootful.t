#!/bin/bash
# Rootful podman with crun and the OCI hook: a container's disks at their
# annotated paths, for that container only, gone when it stops; the
# policy's refusal fails the start with the rule; gc after podman kill
# and after podman's own processes were killed; CDI specs of add --cdi.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/podman.sh"

podman_setup
ok "the hooks are installed where podman looks" \
	test -f /usr/share/containers/oci/hooks.d/ublk-user-precreate.json
run_opts=(--network none)
records=/run/ublk-user/containers
data=/var/lib/ublk-user/containers

# Write 64K of random data, read it back with O_DIRECT, compare.
rw() { # the shell commands that write, read back and compare disk $1
	echo "dd if=/dev/urandom of=/tmp/x bs=4k count=16 2>/dev/null &&
dd if=/tmp/x of=$1 bs=4k count=16 oflag=direct 2>/dev/null &&
dd if=$1 of=/tmp/y bs=4k count=16 iflag=direct 2>/dev/null &&
cmp /tmp/x /tmp/y && echo verified $1"
}

# end_server PID ID: SIGTERM to disk ID's server, which deletes the disk
# itself (no del, so nothing of ours removes its CDI spec); 10 s for it
end_server() {
	local i
	kill -TERM "$1"
	for ((i = 0; i < 100; i++)); do [[ -e /dev/ublkb$2 ]] || break; sleep 0.1; done
}

# loop_taking DEVT IMG: a loop device of root's whose first partition has
# block number DEVT (a ublk disk's, just deleted), in $loopdev.  The
# number is free once the disk's last reference is gone, which older
# kernels take a moment longer for: a partition made earlier gets the
# next number, and is made again.
loop_taking() {
	local want=$1 img=$2 i
	modprobe loop
	truncate -s 16M "$img"
	printf 'label: dos\n,\n' | sfdisk -q "$img"
	at_exit rm -f "$img"
	for ((i = 0; i < 50; i++)); do
		loopdev=$(losetup -P -f --show "$img")
		udev_settle
		[[ $(<"/sys/class/block/${loopdev#/dev/}p1/dev") != "$want" ]] || break
		losetup -d "$loopdev"
		sleep 0.2
	done
	at_exit sh -c "losetup -d $loopdev 2>/dev/null || :"
}

# --- a root container with a loop and a mem disk ---------------------------
pm root run --rm "${run_opts[@]}" \
	--annotation "$(disk_ann io.ublk-user.disk=size=64M,path=/dev/xvda)" \
	--annotation "$(disk_ann io.ublk-user.disk.scratch=size=16M,target=mem)" \
	"$IMAGE" sh -c "id -u; stat -c '%F %a' /dev/xvda; $(rw /dev/xvda); $(rw /dev/ublk-scratch)"
is "$RUN_RC" 0 "a container with two disks runs"
like "$RUN_OUT" $'^0\nblock special file 600\n' "its loop disk is a block node at /dev/xvda (0600)"
like "$RUN_OUT" "verified /dev/xvda" "it writes and reads the loop disk"
like "$RUN_OUT" "verified /dev/ublk-scratch" "it writes and reads the mem disk at the default path"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
no_disks_left "after the container stopped"
is "$(ls -A $records 2>/dev/null)" "" "no container record is left"
is "$(ls -A $data 2>/dev/null)" "" "the backing file and its directory are gone"

# --- while one runs: what the host sees, what another container sees -------
pm root run -d "${run_opts[@]}" \
	--annotation "$(disk_ann io.ublk-user.disk=size=32M,path=/dev/xvda)" \
	"$IMAGE" sleep 600
is "$RUN_RC" 0 "a container with a disk starts in the background"
c1=$RUN_OUT
dev=$(all_ublk_nodes | grep ublkb || :)
id=${dev#/dev/ublkb}
like "$id" '^[0-9]+$' "its disk exists on the host"
uu_json=$(ublk-user list --json -n "$id" 2>/dev/null || :)
is "$(jget "$uu_json" '.[0].owner_uid'):$(jget "$uu_json" '.[0].owner_gid')" "0:0" \
	"the disk belongs to the container's user, root"
is "$(jget "$uu_json" '.[0].flags | index("UBLK_F_UNPRIVILEGED_DEV") != null')" true \
	"and is an unprivileged device (created without CAP_SYS_ADMIN)"
spid=$(jget "$uu_json" '.[0].server_pid')
like "$(grep CapEff /proc/"$spid"/status)" 'CapEff:[[:space:]]+0+$' "its server holds no capability"
is "$(ls $data/*/)" "disk.img" "its backing file is in a per-container directory"
majmin=$(stat -c '%t %T' "$dev")
pm root run --rm "${run_opts[@]}" --cap-add CAP_MKNOD "$IMAGE" sh -c \
	"ls /dev | grep -c ublk; mknod /dev/x b $((16#${majmin% *})) $((16#${majmin#* })) && dd if=/dev/x of=/dev/null bs=4k count=1 iflag=direct"
like "$RUN_OUT" '^0' "a second container has no ublk node"
isnt "$RUN_RC" 0 "and cannot open the first one's disk through a node of its own"
pm root exec "$c1" sh -c "$(rw /dev/xvda)"
like "$RUN_OUT" "verified /dev/xvda" "the first container still uses its disk"
pm root stop -t 0 "$c1"
is "$RUN_RC" 0 "podman stop"
pm root rm "$c1"
no_disks_left "after podman stop"
is "$(ls -A $records 2>/dev/null)" "" "no container record is left after stop"
is "$(ls -A $data 2>/dev/null)" "" "no backing file is left after stop"

# --- persist=yes keeps the backing file -----------------------------------------
pm root run --rm "${run_opts[@]}" \
	--annotation "$(disk_ann io.ublk-user.disk=size=8M,file=keep.img,persist=yes)" \
	"$IMAGE" sh -c 'echo hello | dd of=/dev/ublk-disk conv=fsync 2>/dev/null'
is "$RUN_RC" 0 "a container with a persistent disk runs"
no_disks_left "after the persistent disk's container"
kept=$(ls $data/*/keep.img 2>/dev/null || :)
ok "persist=yes keeps the backing file" test -f "$kept"
is "$(head -c 5 "$kept")" hello "with what the container wrote"
rm -rf "${kept%/*}"

# --- ro=yes: the container's disk is read-only -----------------------------------
pm root run --rm "${run_opts[@]}" \
	--annotation "$(disk_ann io.ublk-user.disk=size=8M,ro=yes)" \
	"$IMAGE" sh -c 'if echo x | dd of=/dev/ublk-disk conv=fsync 2>/dev/null; then echo wrote; else echo refused; fi; dd if=/dev/ublk-disk bs=4k count=1 2>/dev/null | wc -c'
is "$RUN_RC" 0 "a container with an ro=yes disk runs"
like "$RUN_OUT" $'^refused\n *4096$' "  it reads its disk and cannot write it"
no_disks_left "after the read-only disk's container"

# --- a container that runs as alice gets a disk of alice -----------------------
pm root run --rm "${run_opts[@]}" --user 2001:2001 \
	--annotation "$(disk_ann io.ublk-user.disk=size=16M,target=mem)" \
	"$IMAGE" sh -c "id -u; $(rw /dev/ublk-disk)"
is "$RUN_RC" 0 "a container running as alice gets a disk"
like "$RUN_OUT" "verified /dev/ublk-disk" "and uses it (the disk is alice's: uid and gid match)"
no_disks_left "after alice's container"

# --- bob, without a session: a loop disk, with no root step for his records -----
# The hook's umask is 077: its directories still get 0755/0711 (fchmod), or
# bob could not reach his backing file.
rm -rf /run/user/2002
pm root run -d "${run_opts[@]}" --user 2002:2002 \
	--annotation "$(disk_ann io.ublk-user.disk=size=16M)" "$IMAGE" sleep 600
is "$RUN_RC" 0 "a container running as bob, who has no /run/user/2002, starts with a loop disk"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
c4=$RUN_OUT
pm root exec "$c4" sh -c "id -u; $(rw /dev/ublk-disk)"
like "$RUN_OUT" $'^2002\n.*verified /dev/ublk-disk' "bob uses it in the container"
is "$(stat -c '%a' /var/lib/ublk-user /var/lib/ublk-user/containers | paste -sd' ')" "755 711" \
	"the hook's data directories have their modes whatever its umask"
is "$(stat -c '%U:%G %a' /tmp/ublk-user-2002)" "bob:bob 700" \
	"the disk's record is in /tmp/ublk-user-2002, made by bob's add"
nok "root made no runtime directory for bob" test -e /run/ublk-user/runtime
pm root stop -t 0 "$c4"
pm root rm "$c4"
nok "after stop, gc as bob removed it with the disk" test -e /tmp/ublk-user-2002
no_disks_left "after bob's container"
is "$(ls -A $records 2>/dev/null) $(ls -A $data 2>/dev/null)" " " "no record or file is left"

# --- a disk's number, once its owner deleted it, is not the container's ---------
# The owner can delete her disk while her container runs.  Block numbers
# of ublk disks (259:N) are shared with other drivers' (partitions of
# loop and NVMe disks) and the lowest free one is taken next: here root's
# loop partition.  The container's node is the host's, bind-mounted, which
# the kernel gives back to root with mode 0 when the disk goes; a node the
# runtime made in the container would have stayed alice's and opened
# root's partition (with the old hook this container read root's secret).
pm root run -d "${run_opts[@]}" --user 2001:2001 \
	--annotation "$(disk_ann io.ublk-user.disk=size=16M,target=mem)" "$IMAGE" sleep 600
is "$RUN_RC" 0 "alice's container with a disk starts"
c5=$RUN_OUT
node=$(all_ublk_nodes alice | grep ublkb)
devt=$(<"/sys/block/${node#/dev/}/dev")
pm root exec "$c5" sh -c "$(rw /dev/ublk-disk)"
like "$RUN_OUT" "verified /dev/ublk-disk" "alice's container uses its disk ($node, $devt)"
uu alice del -n "${node#/dev/ublkb}"
is "$RUN_RC" 0 "alice deletes her disk while the container runs"
loop_taking "$devt" /tmp/root-secret.img
is "$(<"/sys/class/block/${loopdev#/dev/}p1/dev")" "$devt" \
	"root's loop partition took the disk's number"
echo "root's secret" | dd of="${loopdev}p1" conv=fsync status=none
pm root exec "$c5" sh -c 'stat -c "%u %a" /dev/ublk-disk; head -c 13 /dev/ublk-disk'
unlike "$RUN_OUT" "root's secret" "alice's container cannot read what now has the number"
is "$RUN_OUT" "0 0" "  its node went back to root with mode 0"
like "$RUN_ERR" "Permission denied" "  and opening it is refused"
pm root stop -t 0 "$c5"
pm root rm "$c5"
losetup -d "$loopdev"
no_disks_left "after alice deleted the disk of her running container"

# --- a container in a user namespace of its own (--userns=auto) ------------------
# Its uids are subordinate uids of the user `containers`, which has no
# passwd entry of theirs: add and gc, as such a uid, get the supplementary
# groups of `containers` (ublk, for /dev/ublk-control), as the uid's
# processes in a namespace of that user would have.
useradd --system --no-create-home --groups ublk containers
at_exit userdel containers
cp -p /etc/subuid /etc/subuid.before-test
cp -p /etc/subgid /etc/subgid.before-test
at_exit mv /etc/subuid.before-test /etc/subuid
at_exit mv /etc/subgid.before-test /etc/subgid
echo "containers:300000:200000" >>/etc/subuid
echo "containers:300000:200000" >>/etc/subgid
mkdir -p /etc/ublk-user/policy.d
printf '[user:containers]\ncontainers = yes\n' >/etc/ublk-user/policy.d/50-userns.conf
pm root run --rm "${run_opts[@]}" --userns=auto \
	--annotation "$(disk_ann io.ublk-user.disk=size=16M,target=mem)" \
	"$IMAGE" sh -c "id -u; stat -c '%u %a' /dev/ublk-disk; $(rw /dev/ublk-disk)"
is "$RUN_RC" 0 "a container with --userns=auto gets a disk"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
like "$RUN_OUT" $'^0\n0 600\n' "  its root owns the node (a subordinate uid of containers outside)"
like "$RUN_OUT" "verified /dev/ublk-disk" "  and uses the disk"
no_disks_left "after the --userns=auto container"
rm /etc/ublk-user/policy.d/50-userns.conf

# --- bad annotations and the policy fail the start, saying why -------------------
pm root run --rm "${run_opts[@]}" --annotation "$(disk_ann io.ublk-user.disk=size=1G,target=floppy)" "$IMAGE" true
isnt "$RUN_RC" 0 "a bad annotation fails the start"
like "$RUN_ERR" "annotation io.ublk-user.disk: target 'floppy' is not loop, mem or nbd" \
	"and the error names the annotation and what is wrong"
pm root run --rm "${run_opts[@]}" --annotation io.ublk-user.disk=size=1G,path=/dev/x "$IMAGE" true
like "$RUN_ERR" "podman split io.ublk-user.disk at its commas" \
	"an unquoted annotation that podman split is explained"
mkdir -p /etc/ublk-user/policy.d
printf '[user:root]\ncontainers = no\n' >/etc/ublk-user/policy.d/50-podman-test.conf
pm root run --rm "${run_opts[@]}" --annotation io.ublk-user.disk=size=16M "$IMAGE" true
isnt "$RUN_RC" 0 "with containers = no the container does not start"
like "$RUN_ERR" "containers=no for user root \(/etc/ublk-user/policy.d/50-podman-test.conf:2\)" \
	"and the error names the rule"
printf '[default]\nmax_size = 8M\n' >/etc/ublk-user/policy.d/50-podman-test.conf
pm root run --rm "${run_opts[@]}" \
	--annotation "$(disk_ann io.ublk-user.disk.a=size=4M,target=mem)" \
	--annotation io.ublk-user.disk.b=size=16M "$IMAGE" true
isnt "$RUN_RC" 0 "a disk over max_size fails the start"
like "$RUN_ERR" "disk b: .*max_size=8M" "naming the disk and the rule"
rm /etc/ublk-user/policy.d/50-podman-test.conf
no_disks_left "after the refusals (the first disk was taken away again)"
refused_err=$RUN_ERR
is "$(ls -A $records 2>/dev/null) $(ls -A $data 2>/dev/null)" " " "no record or file is left after the refusals"
# (seen once on 6.12 under load: a record and a data directory left)
[[ -z $(find "$records" "$data" -mindepth 1 -maxdepth 1 2>/dev/null) ]] ||
	diag "podman: $refused_err"$'\n'"$(cat "$records"/*.json 2>&1)"

# --- podman kill; podman's processes killed: gc cleans up -----------------------------
pm root run -d "${run_opts[@]}" --annotation io.ublk-user.disk=size=16M "$IMAGE" sleep 600
c2=$RUN_OUT
pm root kill "$c2"
is "$RUN_RC" 0 "podman kill"
pm root wait "$c2"
ublk-user gc >/dev/null 2>&1 || :
no_disks_left "after podman kill and gc"
pm root rm -f "$c2"

pm root run -d "${run_opts[@]}" --annotation io.ublk-user.disk=size=16M "$IMAGE" sleep 600
c3=$RUN_OUT
is "$(all_ublk_nodes | grep -c ublkb)" 1 "a third container has its disk"
# conmon and the container die without podman cleaning up: no poststop.
read -r cpid ppid < <(podman inspect -f '{{.State.ConmonPid}} {{.State.Pid}}' "$c3")
kill -9 "$cpid" "$ppid"
sleep 1
# The disk's owner leaves a file of theirs in its directory: gc leaves
# it, and still removes the record (or every gc would try again).
c3dir=$(jq -r .data_dir "$records"/*.json)
c3file=$(jq -r '.disks[0].file' "$records"/*.json)
touch "$c3dir/left-by-its-owner"
run ublk-user gc
is "$RUN_RC" 0 "gc exits 0"
like "$RUN_OUT" "container ${c3:0:12}: removed 1 disk" "gc says what it removed"
like "$RUN_ERR" "gc: $c3dir holds files its owner put there: left to its owner" \
	"and what it left"
ok "the owner's file stays" test -e "$c3dir/left-by-its-owner"
ok "the record named its backing file" test -n "$c3file"
nok "  which is gone" test -e "$c3dir/$c3file"
no_disks_left "after podman's processes were killed and gc"
is "$(ls -A $records 2>/dev/null)" "" "gc removed the container record"
rm -rf "$c3dir"
run ublk-user gc
is "$RUN_OUT" "" "a second gc has nothing to do"

# --- CDI: a disk made in advance --------------------------------------------------------
run ublk-user add --user 0:0 -t mem -s 16M --cdi data --json
is "$RUN_RC" 0 "add --cdi data (root's uid, unprivileged)"
cid=$(jget "$RUN_OUT" .dev_id)
ok "the CDI spec is written" test -f /var/run/cdi/ublk-user-data.json
is "$(jq -r '.devices[0].containerEdits.deviceNodes[0].path' /var/run/cdi/ublk-user-data.json)" \
	"/dev/ublkb$cid" "it names the disk's node"
pm root run --rm "${run_opts[@]}" --device ublk-user.io/disk=data "$IMAGE" sh -c "$(rw /dev/ublkb$cid)"
like "$RUN_OUT" "verified /dev/ublkb$cid" "podman run --device ublk-user.io/disk=data uses the disk"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
run ublk-user add --user 0:0 -t mem -s 16M --cdi data
like "$RUN_ERR" "a CDI spec called data exists already" "a second spec of the same name is refused"
is "$(all_ublk_nodes | grep -c ublkb)" 1 "and its device is gone again"
run ublk-user del -n "$cid"
is "$RUN_RC" 0 "del of the CDI disk"
nok "del removed the CDI spec" test -e /var/run/cdi/ublk-user-data.json

# --- a CDI spec left behind names no number, and no user's disk keeps it --------
# The disk goes without del (its server ends), so its spec stays.  Root's
# loop partition takes the disk's number: a container given the spec must
# not get that.  Alice makes a disk with the spec's id and uuid (the spec
# is world-readable): gc must not take it for the spec's disk.
spec=/var/run/cdi/ublk-user-data.json
run ublk-user add --user 0:0 -t mem -s 16M --cdi data --json
cid=$(jget "$RUN_OUT" .dev_id)
cpid=$(jget "$RUN_OUT" .server_pid)
cdevt=$(<"/sys/block/ublkb$cid/dev")
is "$(jq -c '.devices[0].containerEdits.deviceNodes[0] | [.major, .minor]' $spec)" "[null,null]" \
	"the spec names no major:minor (podman reads the host's node)"
end_server "$cpid" "$cid"
nok "the CDI disk is gone, its server ended" test -e "/dev/ublkb$cid"
ok "its spec is left behind" test -e $spec
loop_taking "$cdevt" /tmp/root-cdi.img
is "$(<"/sys/class/block/${loopdev#/dev/}p1/dev")" "$cdevt" "root's loop partition took the disk's number"
echo "root's secret" | dd of="${loopdev}p1" conv=fsync status=none
pm root run --rm "${run_opts[@]}" --device ublk-user.io/disk=data "$IMAGE" sh -c "head -c 13 /dev/ublkb$cid"
isnt "$RUN_RC" 0 "a container given the stale spec does not start"
unlike "$RUN_OUT" "root's secret" "  and reads nothing of what took the number"
losetup -d "$loopdev"
uuid=$(jq -r '.devices[0].containerEdits.env[0]' $spec)
uuid=${uuid#*=}
run run_as alice sh -c "echo '{\"uuid\":\"$uuid\"}' | ublk-user add --container -t mem -s 16M -n $cid --json"
is "$RUN_RC" 0 "alice makes a disk with the spec's id and uuid"
run ublk-user gc
is "$RUN_RC" 0 "gc as root"
like "$RUN_OUT" "CDI spec data: removed" "  removes the spec: alice's disk is not its disk"
nok "  the spec is gone" test -e $spec
uu alice del -n "$cid"
# Root's next disk with that id: the spec left for the old one goes.
run ublk-user add --user 0:0 -t mem -s 16M --cdi data --json
cid=$(jget "$RUN_OUT" .dev_id)
end_server "$(jget "$RUN_OUT" .server_pid)" "$cid"
ok "a spec is left behind again" test -e $spec
run ublk-user add -t mem -s 16M -n "$cid" --json
is "$RUN_RC" 0 "root adds a disk with the same id, without --cdi"
nok "  the spec left for the old disk is gone" test -e $spec
run ublk-user del -n "$cid"
uu alice add -t null --cdi mine
is "$RUN_RC" 1 "alice cannot write a CDI spec"
like "$RUN_ERR" "cannot write CDI specs into /var/run/cdi" "and is told why"
no_disks_left "at the end"
done_testing
