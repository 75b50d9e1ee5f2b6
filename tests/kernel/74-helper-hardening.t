#!/bin/bash
# The root udev helper against a hostile device owner (issue 12): strict
# names; only reviewed device flags; subordinate uids and owners without
# a passwd entry; sizes that wrap and resizes; a server that holds its
# char device does not hold up others; a helper paused mid-decision does
# not hand a new node to the old owner; root's udev does not probe or
# name disks that users serve, and the rule does not run for partitions.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/policy.sh"

HELPER=/usr/libexec/ublk-user/ublk-user-udev
USAGE="ublk-user-udev: usage: ublk-user-udev ublkcN|ublkbN, or --classify ublkbN"
site=$DROPIN/10-site.conf
records=/run/ublk-user/denied
at_exit policy_reset
at_exit run_as alice ublk-user del -a
at_exit run_as bob ublk-user del -a
syslog_start

gone() { timeout 20 sh -c "while [ -e '$1' ]; do sleep 0.2; done"; }
exited() { timeout 20 sh -c "while kill -0 $1 2>/dev/null; do sleep 0.2; done"; }

# --- names: exactly the kernel's, or nothing happens ---------------------------------
uu alice add -t null --json
a=$(jget "$RUN_OUT" .dev_id)
policy_put 10-site.conf '[user:alice]
allow = no
'
for name in "ublkc+$a" "ublkc-$a" "ublkc $a" " ublkc$a" "ublkc$a " "ublkc0$a" \
	"ublkc$a"$'\n' "ublkc${a}x" "ublkc${a}p1" "ublkb${a}p1" "ublkc" "ublk$a" \
	"ublkc0x$a" "ublkc$((a + 4294967296))" "ublkc1048576" "../ublkc$a" \
	"ublkc$a/" "--classify"; do
	run "$HELPER" "$name"
	is "$RUN_RC:$RUN_ERR" "2:$USAGE" "helper for '${name//$'\n'/\\n}': usage, exit 2"
done
run "$HELPER" ublkc"$a" extra
is "$RUN_RC" 2 "helper with two names: exit 2"
run "$HELPER" --classify "ublkc$a"
is "$RUN_RC:$RUN_ERR" "2:ublk-user-udev: --classify: not a ublk disk: ublkc$a" \
	"--classify of a char node: exit 2"
run "$HELPER" --classify "ublkb+$a"
is "$RUN_RC" 2 "--classify of a malformed name: exit 2"
is "$(stat -c '%U %a' "/dev/ublkc$a")" "alice 600" \
	"after them alice's device is still hers (allow = no would delete it)"
nok "  and nothing was recorded" test -e "$records/dev-$a"
uu alice list --json
is "$(jget "$RUN_OUT" '.[0].state')" live "  and it is live"
policy_reset
uu alice del -a

# --- device flags: only those reviewed -------------------------------------------------
# dropped FLAG NAME: a kernel without the flag makes the device without
# it, and the helper hands it over (there is nothing to refuse).
dropped() {
	run run_as alice "$RAW" flags "$RAW_ID"
	is "$((RUN_OUT & $1))" 0 "  made without $2: this kernel drops it"
	is "$(stat -c %U "/dev/ublkc$RAW_ID" 2>&1)" alice "  and the helper hands it to alice"
	run run_as alice "$RAW" del "$RAW_ID"
	is "$RUN_OUT" ok "  alice deletes it"
	skip "$LACKS"
}
raw_add alice 0x268
like "$RAW_ID" '^[0-9]+$' "raw ADD_DEV with USER_RECOVERY|USER_RECOVERY_FAIL_IO: the kernel makes it"
if lacks UBLK_F_USER_RECOVERY_FAIL_IO; then
	dropped 0x200 UBLK_F_USER_RECOVERY_FAIL_IO
else
	nok "  the helper deletes it" test -e "/dev/ublkc$RAW_ID"
	denial alice "$RAW_ID"
	is "$REASON" "device flags UBLK_F_USER_RECOVERY_FAIL_IO (0x200) are not among those ublk-user-udev allows for unprivileged devices" \
		"  naming the flag it does not allow"
fi
raw_add alice 0x8060
like "$RAW_ID" '^[0-9]+$' "raw ADD_DEV with UBLK_F_BATCH_IO: the kernel makes it"
if lacks UBLK_F_BATCH_IO; then
	dropped 0x8000 UBLK_F_BATCH_IO
else
	run run_as alice "$RAW" flags "$RAW_ID"
	is "$((RUN_OUT & 0x8000))" $((0x8000)) "  with the flag"
	is "$(stat -c %U "/dev/ublkc$RAW_ID" 2>&1)" alice "  and the helper hands it to alice (reviewed)"
	run run_as alice "$RAW" del "$RAW_ID"
	is "$RUN_OUT" ok "  alice deletes it"
fi
raw_add alice 0x40060
is "$(stat -c %U "/dev/ublkc$RAW_ID" 2>&1)" alice \
	"raw ADD_DEV with UBLK_F_NO_AUTO_PART_SCAN (reviewed): handed to alice"
run run_as alice "$RAW" del "$RAW_ID"
is "$RUN_OUT" ok "  alice deletes it"

# --- subordinate uids count as their range's owner -----------------------------------
ustart=$(awk -F: '$1 == "alice" { print $2; exit }' /etc/subuid)
uline=$(line_of /etc/subuid '^alice:')
like "$ustart" '^[0-9]+$' "alice has a /etc/subuid range (from $ustart)"
policy_put 10-site.conf '[user:alice]
max_devices = 1
'
run in_subuids alice 1 "$RAW" add
s1=$RUN_OUT
like "$s1" '^[0-9]+$' "alice as uid 1 of her user namespace: raw ADD_DEV"
settle
is "$(stat -c %u "/dev/ublkc$s1" 2>&1)" "$ustart" \
	"  her first device is handed to that uid ($ustart on the host)"
uu alice add -t null
is "$RUN_RC" 1 "alice herself may have no second device"
like "$RUN_ERR" "the udev helper deleted device [0-9]+, refused by the policy: alice already has 1 device: max_devices=1 for user alice \\($site:2\\)$" \
	"  the device of her subordinate uid counts as hers"
run in_subuids alice 2 "$RAW" add
s2=$RUN_OUT
settle
nok "another subordinate uid of alice: deleted" test -e "/dev/ublkc$s2"
run cat "$records/dev-$s2"
like "$RUN_OUT" $'\nreason=uid '"$((ustart + 1))"" is a subordinate uid of alice \\(/etc/subuid:$uline\\): alice already has 1 device: max_devices=1 for user alice \\($site:2\\)" \
	"  the reason says whose uid it is and which rule"
like "$RUN_OUT" $'^dev_id='"$s2"$'\nuid='"$((ustart + 1))"$'\ntag=0x0\naccount=2001\n' \
	"  the record is the subordinate uid's, counted for alice"
is "$(stat -c %u "$records/dev-$s2")" "$((ustart + 1))" "  and that uid may read it"
run "$RAW" del "$s1"
is "$RUN_OUT" ok "root deletes the first one"
policy_put 10-site.conf '[user:alice]
allow = no
'
run in_subuids alice 5 "$RAW" add
s3=$RUN_OUT
settle
nok "allow = no for alice binds her subordinate uids" test -e "/dev/ublkc$s3"
run cat "$records/dev-$s3"
like "$RUN_OUT" $'\nreason=uid '"$((ustart + 4))"" is a subordinate uid of alice \\(/etc/subuid:$uline\\): alice may not create ublk devices: allow=no for user alice \\($site:2\\)" \
	"  and names her rule"
policy_reset

# A uid with no passwd entry and in no range: only an explicit section.
run as_ids 3000 3000 2000 "$RAW" add
u1=$RUN_OUT
settle
nok "uid 3000 (no passwd entry, no range): its device is deleted" test -e "/dev/ublkc$u1"
run cat "$records/dev-$u1"
like "$RUN_OUT" $'\nreason=uid 3000 has no passwd entry, and the policy has no \\[user:3000\\] section$' \
	"  the policy has no section for it"
policy_put 20-uid.conf '[user:3000]
max_devices = 1
'
run as_ids 3000 3000 2000 "$RAW" add
u2=$RUN_OUT
settle
is "$(stat -c %u "/dev/ublkc$u2" 2>&1)" 3000 "with a [user:3000] section it is handed over"
run as_ids 3000 3000 2000 "$RAW" add
u3=$RUN_OUT
settle
nok "  and that section's max_devices holds" test -e "/dev/ublkc$u3"
run "$RAW" del "$u2"

# A range whose owner is no user here (rootful podman's "containers",
# without that user): refused.
cp -p /etc/subuid /etc/subuid.orig
at_exit sh -c '[ ! -e /etc/subuid.orig ] || mv -f /etc/subuid.orig /etc/subuid'
echo "ghost:3000000:65536" >>/etc/subuid
gline=$(line_of /etc/subuid '^ghost:')
run as_ids 3000005 3000005 2000 "$RAW" add
g1=$RUN_OUT
settle
nok "a subordinate uid of a range owner without passwd entry: deleted" test -e "/dev/ublkc$g1"
run cat "$records/dev-$g1"
like "$RUN_OUT" $'\nreason=uid 3000005 is a subordinate uid of ghost \\(/etc/subuid:'"$gline"$'\\), which is no user here$' \
	"  and says so"

# /etc/subuid is read like a policy file: root's, written by root only.
chmod 0664 /etc/subuid
run as_ids 3000 3000 2000 "$RAW" add
u4=$RUN_OUT
settle
nok "a group-writable /etc/subuid: a device of a uid without passwd entry is deleted" \
	test -e "/dev/ublkc$u4"
run cat "$records/dev-$u4"
like "$RUN_OUT" $'\nreason=uid 3000 has no passwd entry, and /etc/subuid is not a regular file of root that only root may write \\(owner 0, mode 0664\\): refused$' \
	"  naming the file"
uu alice add -t null
is "$RUN_RC" 0 "  alice (a passwd entry) still may"
uu alice del -a
chmod 0644 /etc/subuid
mv -f /etc/subuid.orig /etc/subuid
rm -f "$DROPIN/20-uid.conf"

# --- sizes: no wrapping; resizes -----------------------------------------------------
policy_put 10-site.conf '[user:alice]
max_size = 64M
'
if lacks UBLK_F_UPDATE_SIZE; then
	uu alice add -t null --size 64M -d 64 --json
	id=$(jget "$RUN_OUT" .dev_id)
	run run_as alice "$RAW" resize "$id" 262144
	isnt "$RUN_OUT" ok "alice cannot resize her disk: the kernel refuses UPDATE_SIZE"
	is "$(cat "/sys/block/ublkb$id/size")" 131072 "  it stays 64M"
	skip "$LACKS"
else
	uu alice add -t null --size 64M -d 64 --json
	id=$(jget "$RUN_OUT" .dev_id)
	pid=$(jget "$RUN_OUT" .server_pid)
	run run_as alice "$RAW" resize "$id" 36028797018963976
	is "$RUN_OUT" ok "alice resizes her disk to 2^55 + 8 sectors (bytes: 2^64 + 4096)"
	ok "  the helper deletes it at the change event" gone "/dev/ublkc$id"
	denial alice "$id"
	is "$REASON" "size of 36028797018963976 sectors is more than 2^64 bytes" \
		"  the size did not wrap to 4 KiB"
	ok "  its server exits" exited "$pid"
	uu alice add -t null --size 64M -d 64 --json
	id=$(jget "$RUN_OUT" .dev_id)
	run run_as alice "$RAW" resize "$id" 262144
	ok "a resize from 64M to 128M: deleted at the change event" gone "/dev/ublkc$id"
	denial alice "$id"
	is "$REASON" "size 128M is more than allowed: max_size=64M for user alice ($site:2)" \
		"  naming max_size"
	uu alice add -t null --size 64M -d 64 --json
	id=$(jget "$RUN_OUT" .dev_id)
	run run_as alice "$RAW" resize "$id" 0
	run run_as alice "$RAW" resize "$id" 262144
	settle
	is "$(cat "/sys/block/ublkb$id/size")" 262144 "a resize through 0 makes the disk 128M"
	TODO="the kernel sends no uevent for a resize to or from 0 (ublk-user-udev(8), BUGS)"
	nok "  and the helper deletes it" test -e "/dev/ublkc$id"
	TODO=
fi
uu alice del -a
policy_reset

# --- a server that holds its char device holds up nobody -----------------------------
uu bob add -t null
is "$RUN_RC" 0 "bob adds a device (warm-up)"
uu bob del -a
t=$(date +%s%N)
uu bob add -t null
base=$((($(date +%s%N) - t) / 1000000))
is "$RUN_RC" 0 "bob adds a device alone in ${base} ms"
uu bob del -a
policy_put 10-site.conf '[user:alice]
max_size = 64M
'
uu alice add -t null --size 64M -d 64 --json
id=$(jget "$RUN_OUT" .dev_id)
pid=$(jget "$RUN_OUT" .server_pid)
kill -STOP "$pid"
at_exit sh -c "kill -CONT $pid 2>/dev/null || :"
policy_put 10-site.conf '[user:alice]
max_size = 32M
'
udevadm trigger --action=change "/dev/ublkb$id"
ok "alice's disk over the lowered max_size is stopped (her server is stopped too)" \
	gone "/dev/ublkb$id"
ok "  the helper that deletes it does not hold the helpers' lock" \
	flock -w 1 /run/ublk-user/udev.lock true
t=$(date +%s%N)
uu bob add -t null
took=$((($(date +%s%N) - t) / 1000000))
is "$RUN_RC" 0 "meanwhile bob adds a device"
ok "  in ${took} ms: not held up by alice's server, which keeps its char device (alone: ${base} ms)" \
	test "$took" -lt $((base + 3000))
ok "alice's device is deleted although her server still holds it" gone "/dev/ublkc$id"
denial alice "$id"
is "$REASON" "size 64M is more than allowed: max_size=32M for user alice ($site:2)" \
	"  and she reads why"
kill -CONT "$pid"
ok "  her server exits once it runs again" exited "$pid"
uu bob del -a
policy_reset

# --- a helper paused in its decision does not give a new node to the old owner --------
# The pause: /etc/group as a FIFO, which the helper reads to decide (the
# owner's groups), after it asked the kernel who owns the device.  Nothing
# below looks up a name until /etc/group is back.
go=/var/tmp/ublk-go
rm -f "$go" /var/tmp/ublk-raw.out
mkfifo -m 0666 "$go"
as_ids 2001 2001 2000,2001 bash -c 'read -r _ <"$1"; exec "$2" add 0x60 1 16 77' \
	- "$go" "$RAW" >/var/tmp/ublk-raw.out 2>&1 &
# (setpriv reads /etc/group: wait until alice's shell waits for "go")
waiting() {
	local p
	for p in $(pgrep -u 2001 -x bash || :); do
		[[ $(cat "/proc/$p/wchan" 2>/dev/null) == wait_for_partner ]] && return 0
	done
	return 1
}
for ((i = 0; i < 300; i++)); do waiting && break || sleep 0.1; done
ok "alice's ADD_DEV waits for its turn" waiting
mv /etc/group /etc/group.real
at_exit sh -c '[ ! -e /etc/group.real ] || mv -f /etc/group.real /etc/group'
mkfifo -m 0644 /etc/group
echo go >"$go"
paused=
for ((i = 0; i < 300; i++)); do
	for p in $(pgrep -x ublk-user-udev || :); do
		[[ $(cat "/proc/$p/wchan" 2>/dev/null) == wait_for_partner ]] && paused=$p
	done
	[[ -n $paused ]] && break
	sleep 0.1
done
ok "the helper for alice's new device 77 is paused in its decision" test -n "$paused"
is "$(cat /var/tmp/ublk-raw.out)" 77 "  alice's ADD_DEV made device 77"
run "$RAW" del 77
is "$RUN_OUT" ok "root deletes alice's device 77 meanwhile"
run "$RAW" add 0x40 1 16 77
is "$RUN_OUT" 77 "and makes its own (privileged) device 77: a new node, the same number"
(
	exec 7>/etc/group
	mv -f /etc/group.real /etc/group
	cat /etc/group >&7
) 2>/dev/null || :
settle
is "$(stat -c '%u:%g %a' /dev/ublkc77)" "0:0 600" \
	"the helper, let go, did not give root's new node to alice"
run "$RAW" flags 77
is "$(((RUN_OUT & 0x20) != 0))" 0 "  device 77 is root's privileged device"
run "$RAW" del 77
is "$RUN_OUT" ok "  root deletes it"

# --- root's udev does not probe or name users' disks ------------------------------------
# Debian 12's udev (252) leaves ublkb* alone; systemd >= 254 probes it
# (blkid, by-uuid and by-label links) and watches it.  Those rules, as
# newer systemd has them, go to /etc/udev/rules.d for this test.
for f in 60-persistent-storage.rules 60-block.rules; do
	sed -E '/ublkb\*/! s/\|zd\*"/|zd*|ublkb*"/' "/usr/lib/udev/rules.d/$f" >"/etc/udev/rules.d/$f"
	at_exit rm -f "/etc/udev/rules.d/$f"
done
udev_ctl --reload
at_exit udev_ctl --reload
[[ -d /run/user/0 ]] || mkdir -m 0700 /run/user/0
uu alice add -t mem --size 16M --json
id=$(jget "$RUN_OUT" .dev_id)
dev=$(stat -c '%Hr:%Lr' "/dev/ublkb$id")
uuid=5f0e9a63-6d2b-4c1e-9b1f-0a1b2c3d4e5f
run sbin_as alice mkfs.ext4 -q -F -U "$uuid" -L alice-disk "/dev/ublkb$id"
is "$RUN_RC" 0 "alice makes an ext4 with a chosen UUID and label on her disk"
udevadm trigger --action=change "/dev/ublkb$id"
settle
nok "  no /dev/disk/by-uuid link for it" test -e "/dev/disk/by-uuid/$uuid"
nok "  no /dev/disk/by-label link for it" test -e /dev/disk/by-label/alice-disk
run udevadm info -q property -n "/dev/ublkb$id"
like "$RUN_OUT" $'(^|\n)UBLK_USER_SERVED=1\n' "  udev knows a user serves it"
like "$RUN_OUT" $'(^|\n)UDISKS_IGNORE=1(\n|$)' "  udisks is told to ignore it"
unlike "$RUN_OUT" 'ID_FS_TYPE=' "  blkid did not probe it"
nok "  udev does not watch it" test -L "/run/udev/watch/b$dev"
uu alice del -a

out=$(XDG_RUNTIME_DIR=/run/user/0 ublk-user add -t mem --size 16M --json)
rid=$(jget "$out" .dev_id)
rdev=$(stat -c '%Hr:%Lr' "/dev/ublkb$rid")
at_exit env XDG_RUNTIME_DIR=/run/user/0 ublk-user del -a
ruuid=0b6c1f2e-3a4d-4e5f-8a9b-c0d1e2f3a4b5
mkfs.ext4 -q -F -U "$ruuid" -L root-disk "/dev/ublkb$rid"
udevadm trigger --action=change "/dev/ublkb$rid"
settle
ok "root's own ublk disk is probed as before: by-uuid" test -L "/dev/disk/by-uuid/$ruuid"
ok "  by-label" test -L /dev/disk/by-label/root-disk
ok "  and watched" test -L "/run/udev/watch/b$rdev"
# A partition of root's disk: the helper's rule is for disks only.
printf '\x00\x20\x21\x00\x83\x00\x00\x00\x00\x08\x00\x00\x00\x20\x00\x00' |
	dd of="/dev/ublkb$rid" bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of="/dev/ublkb$rid" bs=1 seek=510 conv=notrunc status=none
lines=$(wc -l <"$SYSLOG")
partx -a "/dev/ublkb$rid"
settle
ok "root adds a partition to its disk" test -b "/dev/ublkb${rid}p1"
is "$(tail -n +$((lines + 1)) "$SYSLOG" | grep -c 'ublk-user-udev' || :)" 0 \
	"  the helper is not run for it (nothing in syslog)"
run udevadm info -q property -n "/dev/ublkb${rid}p1"
like "$RUN_OUT" $'(^|\n)UBLK_USER_SERVED=0\n' "  it inherits its disk's UBLK_USER_SERVED=0"
XDG_RUNTIME_DIR=/run/user/0 ublk-user del -a

no_leftovers alice "at the end"
no_leftovers bob "at the end"
done_testing
