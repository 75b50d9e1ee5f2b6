#!/bin/bash
# Checks the test guest itself: the kernel, ublk_drv, udev, users, mounts
# and tools the other tests in tests/kernel rely on.
#   prove -v --exec tests/vm/vm-exec tests/kernel/00-harness.t
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
# shellcheck source=../lib/tap.sh
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"

[[ ${UBLK_USER_VM:-} == 1 ]] || plan skip_all "not in the test VM (use tests/vm/vm-exec)"

# --- kernel -------------------------------------------------------------------
# The harness boots the series asked for (UBLK_USER_VM_KERNEL: 7, 6.18,
# 6.12); what the tests may rely on comes from the kernel's features.
kver=$(uname -r)
series=${UBLK_USER_VM_KERNEL:-}
like "$series" '^[0-9]+(\.[0-9]+)?$' "UBLK_USER_VM_KERNEL names a series ($series)"
like "$kver" "^${series//./\\.}\\.[0-9]+" "kernel $kver is of series $series"
is "$kver" "${UBLK_USER_VM_KVER:-}" "UBLK_USER_VM_KVER is the running kernel"
is "$kver" "$(<"$UBLK_USER_VM_KDIR/version")" "kernel is the cached one ($UBLK_USER_VM_KDIR)"
ok "modules of the running kernel are available" test -f "/lib/modules/$kver/modules.dep"
like "$(</proc/modules)" '(^|'$'\n'')ublk_drv ' "ublk_drv is loaded"
ok "/dev/ublk-control is a character device" test -c /dev/ublk-control
ok "/sys/module/ublk_drv/parameters/ublks_max exists" test -e /sys/module/ublk_drv/parameters/ublks_max
# Debian's init_on_alloc=1 is turned off for speed (tests/vm/README.md)
like "$(</proc/cmdline)" '(^| )init_on_alloc=0( |$)' "the kernel does not zero what it allocates (init_on_alloc=0)"
# and so is address space randomization, which made TCG translate every
# program's code again at each exec (tests/vm/README.md)
is "$(</proc/sys/kernel/randomize_va_space)" 0 "no address space randomization (norandmaps)"

# --- clock ----------------------------------------------------------------------
# The system clock keeps the host's time (the RTC's): guest-init makes it
# so when the kernel calibrated the TSC wrong (01-clock.t).
rtc_drift=$((EPOCHSECONDS - $(</sys/class/rtc/rtc0/since_epoch)))
ok "the system clock is within 2 s of the RTC (apart by $rtc_drift s)" test "${rtc_drift#-}" -le 2

# --- udev -----------------------------------------------------------------------
run pgrep -x systemd-udevd
is "$RUN_RC" 0 "systemd-udevd is running"
ok "udevd answers on its control socket" udevadm control --ping
# A module loaded now exercises modprobe (bind-mounted modules) and udev
# (it must record the new block device in its database).
ok "modprobe null_blk" modprobe null_blk nr_devices=1
ok "udevadm settle" udevadm settle --timeout=60
ok "/dev/nullb0 is a block device" test -b /dev/nullb0
run udevadm info --query=property --name=/dev/nullb0
like "$RUN_OUT" $'(^|\n)DEVNAME=/dev/nullb0(\n|$)' "udev knows /dev/nullb0"
ok "rmmod null_blk" rmmod null_blk

# --- users and groups ------------------------------------------------------------
is "$(getent group ublk | cut -d: -f3)" 2000 "group ublk has gid 2000"
for spec in alice:2001:yes bob:2002:yes carol:2003:no; do
	IFS=: read -r user uid member <<<"$spec"
	is "$(id -u "$user")" "$uid" "$user has uid $uid"
	is "$(id -g "$user")" "$uid" "$user has a personal group with gid $uid"
	if [[ $member == yes ]]; then
		like " $(id -nG "$user") " ' ublk ' "$user is in group ublk"
	else
		unlike " $(id -nG "$user") " ' ublk ' "$user is not in group ublk"
	fi
	is "$(stat -c '%U:%G %a' "/home/$user")" "$user:$user 700" "/home/$user: owner and mode"
	is "$(stat -c '%U:%G %a' "/run/user/$uid")" "$user:$user 700" "/run/user/$uid: owner and mode"
done

# run_as, as the other tests use it.
run run_as alice sh -c 'id -u; id -nG; echo "$HOME $USER $XDG_RUNTIME_DIR"; echo "${UBLK_USER_VM:-unset}"; pwd'
is "$RUN_RC" 0 "run_as alice runs"
mapfile -t lines <<<"$RUN_OUT"
is "${lines[0]:-}" 2001 "run_as alice: uid"
like " ${lines[1]:-} " ' ublk ' "run_as alice: has group ublk"
is "${lines[2]:-}" "/home/alice alice /run/user/2001" "run_as alice: HOME USER XDG_RUNTIME_DIR"
is "${lines[3]:-}" unset "run_as alice: environment is clean"
is "${lines[4]:-}" "$PWD" "run_as alice: keeps the working directory"
run run_as carol sh -c 'grep ^CapEff /proc/self/status; touch "$XDG_RUNTIME_DIR/x" && echo w'
like "$RUN_OUT" $'CapEff:\t0+\nw' "run_as carol: no capabilities, own runtime dir writable"
nok "carol cannot write to alice's runtime dir" run_as carol touch /run/user/2001/x

# --- file systems -----------------------------------------------------------------
is "$(findmnt -no FSTYPE /)" overlay "/ is an overlay"
ok "/ is writable" touch /.harness-probe
ok "/usr is writable (copy-up)" touch /usr/.harness-probe
is "$(findmnt -no PROPAGATION /)" shared "/ has shared propagation"
for m in /tmp:tmpfs /run:tmpfs /dev:devtmpfs /dev/pts:devpts /dev/shm:tmpfs \
	/sys/fs/cgroup:cgroup2 /proc:proc /sys:sysfs; do
	is "$(findmnt -no FSTYPE "${m%%:*}")" "${m#*:}" "${m%%:*} is ${m#*:}"
done
is "$(stat -c %a /tmp)" 1777 "/tmp mode 1777"
is "$(cat <(echo via-dev-fd))" via-dev-fd "process substitution works (/dev/fd)"

# --- the staged install ('make stage') -----------------------------------------
stage=$UBLK_USER_VM_STAGE
ok "stage dir $stage is visible" test -d "$stage"
bad=()
while IFS= read -r -d '' f; do
	rel=${f#"$stage"}
	if ! cmp -s "$f" "$rel" ||
		[[ $(stat -c '%a %u %g' "$f") != "$(stat -c '%a %u %g' "$rel")" ]]; then
		bad+=("$rel")
	fi
done < <(find "$stage" -type f -print0)
is "${bad[*]}" "" "every staged file is installed in / with its mode and owner"
# File capabilities are read on the host (9p hides them) and re-applied.
bad=()
while read -r f want; do
	got=$(getcap "$f" | cut -d' ' -f2-)
	[[ ${got#= } == "$want" ]] || bad+=("$f: '$got' (want '$want')")
done </run/ublk-user-vm/stage-caps
is "${bad[*]}" "" "file capabilities of staged files are applied ($(wc -l </run/ublk-user-vm/stage-caps) files)"
# The project's rule gives /dev/ublk-control to group ublk; coldplug must
# have applied it although ublk_drv was loaded before udevd started.
rule=$(grep -ls 'KERNEL=="ublk-control".*GROUP="ublk"' /usr/lib/udev/rules.d/*.rules /etc/udev/rules.d/*.rules || :)
if [[ -n $rule ]]; then
	is "$(stat -c '%G %a' /dev/ublk-control)" "ublk 660" "udev applied $rule to /dev/ublk-control"
else
	skip "no udev rule for ublk-control staged"
fi

# --- project, identity and tools ------------------------------------------------------
is "$PWD" "$UBLK_USER_TEST_ROOT" "cwd is the project dir"
ok "project dir is visible" test -f "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
is "$(id -u)" 0 "tests run as root"
is "$(hostname)" ublk-vm "hostname"
like ":$PATH:" ':/usr/sbin:' "PATH has /usr/sbin"
for t in fio mkfs.ext4 udevadm modprobe setpriv; do
	ok "$t is installed" command -v "$t"
done

done_testing
