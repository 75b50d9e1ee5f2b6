#!/bin/bash
# ublk-user doctor: on a healthy guest every check passes (warnings for
# the kernel's known weaknesses allowed) and the udev helper is seen at
# work; with the udev rule removed, a user without access, io_uring off,
# an invalid or strict policy, a helper others may write, each finding
# names the problem and the fix.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/policy.sh"

rules=/usr/lib/udev/rules.d/70-ublk-user.rules
helper=/usr/libexec/ublk-user/ublk-user-udev
at_exit policy_reset
at_exit sysctl -qw kernel.io_uring_disabled=0
at_exit chmod 0755 "$helper"

# doctor_json USER|root: run doctor --json (RUN_*) and keep its findings,
# one jq for all (each jq costs 0.4 s of CPU in the TCG guest)
declare -A FINDINGS=()
FINDINGS_OF=
doctor_json() {
	local name finding
	if [[ $1 == root ]]; then
		run ublk-user doctor --json
	else
		uu "$1" doctor --json
	fi
	FINDINGS=() FINDINGS_OF=$RUN_OUT
	while IFS=$'\t' read -r name finding; do
		FINDINGS[$name]=$finding
	done < <(jq -r '.checks[] | "\(.name)\t\(.status)|\(.message)|\(.fix)"' <<<"$RUN_OUT" 2>/dev/null)
}
# check JSON NAME: "status|message|fix" of one finding
check() {
	if [[ $1 == "$FINDINGS_OF" && -n ${FINDINGS[$2]+x} ]]; then
		echo "${FINDINGS[$2]}"
	else
		jget "$1" ".checks[] | select(.name == \"$2\") | \"\\(.status)|\\(.message)|\\(.fix)\""
	fi
}
status() { local f; f=$(check "$@") && echo "${f%%|*}"; }

# --- healthy -----------------------------------------------------------------------
doctor_json alice
is "$RUN_RC" 0 "healthy: doctor exits 0"
j=$RUN_OUT
is "$(jget "$j" .ok)" true "healthy: ok is true"
is "$(jget "$j" '[.checks[].name] | join(" ")')" \
	"kernel module control io_uring features udev-rule io-scheduler helper udevd control-rule policy handover memlock disks units weakness-nodev weakness-regbuf weakness-ublks-max" \
	"every check is reported, in order"
for c in kernel module control io_uring features udev-rule io-scheduler helper udevd \
	control-rule policy handover disks units weakness-regbuf; do
	is "$(status "$j" "$c")" ok "healthy: $c is ok"
done
is "$(jget "$j" '[.checks[] | select(.status == "fail")] | length')" 0 \
	"healthy: nothing fails"
is "$(jget "$j" '[.checks[] | select(.status != "ok" and .fix == null)] | length')" \
	"$(jget "$j" '[.checks[] | select(.status == "info" or .status == "skip")] | length')" \
	"every warning has a fix"
is "$(check "$j" kernel)" "ok|Linux $(uname -r)|null" "kernel: the release"
like "$(check "$j" module)" '^ok\|ublk_drv is loaded \(ublks_max=[0-9]+\)' "module: loaded, ublks_max"
like "$(check "$j" control)" '^ok\|you may open /dev/ublk-control \(mode 0660, group ublk\)' \
	"control: alice may open it"
if lacks UBLK_F_SHMEM_ZC; then
	like "$(check "$j" features)" "^ok\\|$("$UBLK_RAW" features): .*UNPRIVILEGED_DEV.* \\(no SHMEM_ZC: Linux >= 7\\.1\\)\\|null\$" \
		"features: from the kernel, SHMEM_ZC missing (Linux >= 7.1)"
else
	like "$(check "$j" features)" "^ok\\|$("$UBLK_RAW" features): .*UNPRIVILEGED_DEV.*SHMEM_ZC" \
		"features: from the kernel"
fi
is "$(check "$j" udev-rule)" "ok|$rules runs $helper|null" "udev-rule: the installed rule"
is "$(check "$j" io-scheduler)" "ok|$rules leaves ublk disks without an I/O scheduler|null" \
	"io-scheduler: the installed rule sets none"
is "$(check "$j" control-rule)" "ok|udev gave /dev/ublk-control to group ublk as the rule says|null" \
	"control-rule: applied by udev"
like "$(check "$j" handover)" '^ok\|the udev helper handed test device [0-9]+ to you \(deleted again\)\|null$' \
	"handover: seen working"
is "$(all_ublk_nodes)" "" "the test device is gone again"
# The nodev weakness is tested with the hand-over's device (a nodev bind
# mount of its node); whether users can mount FUSE decides ok or warn.
probe="GET_DEV_INFO2 through /dev/ublkc[0-9]+ on a nodev mount"
refused=$(nodev_refused)
if [[ $refused == yes ]]; then
	is "$(check "$j" weakness-nodev | sed -E 's/ublkc[0-9]+/ublkcN/')" \
		"ok|the kernel refuses device nodes on nodev mounts (GET_DEV_INFO2 through /dev/ublkcN on a nodev mount: Permission denied), so nodes forged on FUSE file systems do not pass its check|null" \
		"weakness-nodev: tested, the kernel refuses such nodes"
else
	like "$(check "$j" weakness-nodev)" "^(ok|warn)\\|.*\\($probe succeeded\\)" \
		"weakness-nodev: tested, the kernel accepts such nodes"
fi
is "$(check "$j" weakness-ublks-max)" "info|ublks_max=$(</sys/module/ublk_drv/parameters/ublks_max) is one pool for all users; max_devices=16 for everyone ($POLICY_DIR/policy.conf:$(line_of "$POLICY_DIR/policy.conf" '^max_devices'))|null" \
	"weakness-ublks-max: the pool and the per-user limit"

uu alice doctor
is "$RUN_RC" 0 "text: exit 0"
like "$RUN_OUT" $'(^|\n)ok +handover +the udev helper handed test device' "text: one line per check"
unlike "$RUN_OUT" $'(^|\n)fail ' "text: no failure"

doctor_json root
is "$RUN_RC" 0 "root: doctor exits 0"
like "$(check "$RUN_OUT" handover)" "^skip\\|root's devices are privileged" \
	"root: the hand-over is not tried"
like "$(check "$RUN_OUT" policy)" "^ok\\|valid \\(1 file\\); it binds users, not root" \
	"root: the policy binds users"
# (tests/kernel/12-units.t: the units check with systemd running)
is "$(check "$RUN_OUT" units)" "ok|ublk-user-system@.service is installed (/usr/lib/systemd/system); 0 disk files in /etc/ublk-user/disks read well; enabled: none ('systemctl enable --now ublk-user-system@NAME')|null" \
	"root: units: the system template, no system disk"
is "$(check "$j" units)" "ok|ublk-user@.service is installed (/usr/lib/systemd/user); no disk of yours is enabled ('systemctl --user enable --now ublk-user@NAME' keeps NAME up)|null" \
	"alice: units: the user template, none enabled"

# --- a user who may not open /dev/ublk-control -------------------------------------------
doctor_json carol
is "$RUN_RC" 1 "carol: doctor exits 1"
is "$(check "$RUN_OUT" control)" \
	"fail|you may not open /dev/ublk-control (mode 0660, group ublk)|an administrator adds you to group ublk (usermod -aG ublk carol, then log in again), or sets MODE=\"0666\" in the udev rule" \
	"carol: control fails, with the fix"
is "$(status "$RUN_OUT" handover)" skip "carol: no hand-over tried"
uu carol doctor
like "$RUN_OUT" $'\n +fix: an administrator adds you to group ublk' "text: the fix under it"
like "$RUN_OUT" $'\n1 check failed$' "text: the count of failures"

# --- the udev rule removed -------------------------------------------------------------
mv "$rules" /root/rules.off
udev_ctl --reload
doctor_json alice
is "$RUN_RC" 1 "no rule: doctor exits 1"
j=$RUN_OUT
is "$(check "$j" udev-rule)" \
	"fail|no 70-ublk-user.rules in /etc/udev/rules.d, /run/udev/rules.d or /usr/lib/udev/rules.d: new devices are never handed to their owners|install it (make install, as root) into /usr/lib/udev/rules.d, then udevadm control --reload" \
	"no rule: named, with the fix"
is "$(status "$j" helper)" skip "no rule: the helper is not looked for"
is "$(status "$j" io-scheduler)" skip "no rule: no scheduler line looked for"
is "$(status "$j" handover)" skip "no rule: no test device"
is "$(all_ublk_nodes)" "" "no rule: nothing left behind"
mv /root/rules.off "$rules"
udev_ctl --reload

# A rule that does not run the helper, masked by /etc.
mkdir -p /etc/udev/rules.d
printf 'KERNEL=="ublk-control", GROUP="ublk", MODE="0660"\n' >/etc/udev/rules.d/70-ublk-user.rules
at_exit rm -f /etc/udev/rules.d/70-ublk-user.rules
doctor_json alice
like "$(check "$RUN_OUT" udev-rule)" \
	'^fail\|/etc/udev/rules.d/70-ublk-user.rules does not run ublk-user-udev\|' \
	"a rule in /etc without the helper overrides the installed one"
rm /etc/udev/rules.d/70-ublk-user.rules

# A copy in /etc made before the rule set the I/O scheduler: it works,
# with a warning that says what to add.
grep -v 'queue/scheduler' "$rules" >/etc/udev/rules.d/70-ublk-user.rules
doctor_json alice
is "$RUN_RC" 0 "an /etc copy without the scheduler line: doctor exits 0"
is "$(status "$RUN_OUT" udev-rule)" ok "  the rule runs the helper"
is "$(check "$RUN_OUT" io-scheduler)" \
	"warn|/etc/udev/rules.d/70-ublk-user.rules does not set ublk disks' I/O scheduler: the kernel gives a disk with one queue mq-deadline, which hands every request to a kernel worker before it reaches the server|add the line ACTION==\"add\", SUBSYSTEM==\"block\", ENV{DEVTYPE}==\"disk\", KERNEL==\"ublkb[0-9]*\", ATTR{queue/scheduler}=\"none\" of the installed rule to it, then udevadm control --reload" \
	"  io-scheduler: a warning naming the line to add"
rm /etc/udev/rules.d/70-ublk-user.rules

# Masked by a link to /dev/null in /etc.
ln -s /dev/null /etc/udev/rules.d/70-ublk-user.rules
doctor_json alice
is "$(check "$RUN_OUT" udev-rule)" \
	"fail|/etc/udev/rules.d/70-ublk-user.rules is masked (a link to /dev/null)|remove the link to /dev/null that masks it" \
	"a rule masked in /etc"
rm /etc/udev/rules.d/70-ublk-user.rules

# udev has not applied the rule to /dev/ublk-control.
chgrp root /dev/ublk-control
doctor_json root
is "$(check "$RUN_OUT" control-rule)" \
	"warn|/dev/ublk-control is group root mode 0660, the rule says group ublk mode 0660: udev has not applied it|udevadm control --reload && udevadm trigger --action=add /dev/ublk-control" \
	"the control node's group differs from the rule's"
chgrp ublk /dev/ublk-control

# --- the helper writable by others ----------------------------------------------------------
chmod 0777 "$helper"
doctor_json alice
like "$(check "$RUN_OUT" helper)" \
	"^fail\\|$helper is owned by uid 0 with mode 0777: whoever may change it runs code as root from udev\\|reinstall" \
	"a helper others may write fails"
chmod 0755 "$helper"

# --- io_uring off -------------------------------------------------------------------------
sysctl -qw kernel.io_uring_disabled=2
doctor_json alice
is "$RUN_RC" 1 "io_uring off: doctor exits 1"
like "$(check "$RUN_OUT" io_uring)" \
	'^fail\|kernel.io_uring_disabled=2: io_uring is off for everyone\|sysctl -w kernel.io_uring_disabled=0' \
	"io_uring off: named, with the sysctl"
like "$(check "$RUN_OUT" features)" '^fail\|io_uring is not available' \
	"io_uring off: the driver cannot be asked"
sysctl -qw kernel.io_uring_disabled=0

# --- the module not loaded -------------------------------------------------------------------
run rmmod ublk_drv
is "$RUN_RC" 0 "rmmod ublk_drv"
doctor_json alice
is "$(check "$RUN_OUT" module)" \
	"fail|ublk_drv is not loaded|modprobe ublk_drv, and load it at boot: echo ublk_drv > /etc/modules-load.d/ublk.conf" \
	"no module: named, with the fix"
is "$(check "$RUN_OUT" control)" "fail|/dev/ublk-control does not exist|modprobe ublk_drv" \
	"no module: no control node"
modprobe ublk_drv
settle
is "$(stat -c '%G %a' /dev/ublk-control)" "ublk 660" "the module back, udev applies the rule"

# --- memory locking ------------------------------------------------------------------------
doctor_json alice
like "$(check "$RUN_OUT" memlock)" \
	"^warn\\|no CAP_IPC_LOCK, and RLIMIT_MEMLOCK \\($(ulimit -l | awk '{ printf "%dM", $1 / 1024 }'), hard [^)]*\\) is below the policy's max_locked=256M: add --mlock is limited to [0-9]+M\\|install ublk-user with CAP_IPC_LOCK" \
	"alice: no CAP_IPC_LOCK, memlock below max_locked"
soft=$(ulimit -l) hard=$(ulimit -Hl)
prlimit --pid $$ --memlock=unlimited:unlimited
doctor_json alice
prlimit --pid $$ --memlock=$((soft * 1024)):$((hard * 1024))
like "$(check "$RUN_OUT" memlock)" \
	"^info\\|no CAP_IPC_LOCK: locked memory is bounded by RLIMIT_MEMLOCK \\(unlimited, hard unlimited\\); the policy says mlock=yes\\|null" \
	"alice with an unlimited memlock: only information"
doctor_json root
like "$(check "$RUN_OUT" memlock)" "^ok\\|ublk-user holds CAP_IPC_LOCK" "root holds CAP_IPC_LOCK"

# --- FUSE and the nodev weakness -------------------------------------------------------------
modprobe fuse
settle
chmod 0666 /dev/fuse
refuses="^ok\\|the kernel refuses device nodes on nodev mounts \\($probe: Permission denied\\)"
doctor_json alice
if [[ $refused == yes ]]; then
	like "$(check "$RUN_OUT" weakness-nodev)" "$refuses" \
		"FUSE open to users, the kernel refuses such nodes: ok"
else
	like "$(check "$RUN_OUT" weakness-nodev)" \
		"^warn\\|users can mount FUSE file systems \\(.*\\), and the kernel's check of a device's node path does not reject nodes on nodev mounts \\($probe succeeded\\): .*\\|.*see SECURITY.md$" \
		"FUSE open to users, the kernel accepts such nodes: the nodev weakness"
fi
chmod 0600 /dev/fuse
doctor_json alice
if [[ $refused == yes ]]; then
	like "$(check "$RUN_OUT" weakness-nodev)" "$refuses" "FUSE closed to users: ok"
else
	like "$(check "$RUN_OUT" weakness-nodev)" \
		"^ok\\|users cannot mount FUSE file systems, so they cannot forge device nodes on nodev mounts \\(which the kernel accepts: $probe succeeded\\)\\|null$" \
		"FUSE closed to users: ok, and the kernel accepts such nodes"
fi
chmod 0666 /dev/fuse
# Without user namespaces the test cannot be made: warn as long as FUSE
# is open, and say why it was not tested.
nsmax=$(</proc/sys/user/max_user_namespaces)
sysctl -qw user.max_user_namespaces=0
doctor_json alice
sysctl -qw user.max_user_namespaces="$nsmax"
like "$(check "$RUN_OUT" weakness-nodev)" \
	"^warn\\|users can mount FUSE file systems \\(/usr/bin/fusermount3\\), and the kernel's check of a device's node path does not reject nodes on nodev mounts \\(not tested: cannot set up user and mount namespaces: No space left on device\\)" \
	"no user namespaces: not tested, FUSE open: the nodev weakness"
doctor_json root
like "$(check "$RUN_OUT" weakness-nodev)" \
	"^warn\\|.*nodes on nodev mounts \\(not tested: as root: run 'ublk-user doctor' as a user to test\\)" \
	"root: not tested, says how to test"

# --- the policy -----------------------------------------------------------------------------
f=$DROPIN/10-site.conf
policy_put 10-site.conf '[default]
max_devices = lots
'
doctor_json alice
is "$RUN_RC" 1 "invalid policy: doctor exits 1"
is "$(check "$RUN_OUT" policy)" \
	"fail|the ublk-user policy is invalid, so every request is refused: $f:2: max_devices: 'lots' is not a number|run 'ublk-user policy check' and fix what it names" \
	"invalid policy: the first error and the fix"
like "$(check "$RUN_OUT" handover)" \
	"^warn\\|the udev helper works, and refused a test device: the ublk-user policy is invalid" \
	"invalid policy: the helper refuses the test device"

policy_put 10-site.conf '[user:alice]
max_devices = 0
'
doctor_json alice
is "$RUN_RC" 0 "alice may have no device: doctor still exits 0"
is "$(check "$RUN_OUT" handover)" \
	"warn|the udev helper works, and refused a test device: alice already has 0 devices: max_devices=0 for user alice ($f:2)|this is the policy at work: see 'ublk-user policy show'" \
	"the helper's refusal is shown"
is "$(all_ublk_nodes)" "" "nothing left behind"

policy_put 10-site.conf '[user:alice]
allow = no
'
doctor_json alice
is "$(check "$RUN_OUT" policy)" \
	"warn|valid, and you may not create devices: allow=no for user alice ($f:2)|an administrator grants it in /etc/ublk-user/policy.d" \
	"allow = no: a warning naming the rule"

policy_put 10-site.conf '[user:bob]
shmem_zc = yes

[default]
max_devices = unlimited
'
doctor_json alice
if lacks UBLK_F_SHMEM_ZC; then
	is "$(check "$RUN_OUT" weakness-regbuf)" \
		"ok|the kernel has no UBLK_F_SHMEM_ZC (REG_BUF)|null" \
		"shmem_zc granted, but the kernel has no REG_BUF: no weakness"
else
	is "$(check "$RUN_OUT" weakness-regbuf)" \
		"warn|shmem_zc=yes is granted ($f:2): the kernel does not charge REG_BUF pins to RLIMIT_MEMLOCK, only max_shmem per device bounds them|grant shmem_zc only to trusted users, and keep max_shmem small; see SECURITY.md" \
		"shmem_zc granted: the REG_BUF weakness, naming where"
fi
like "$(check "$RUN_OUT" weakness-ublks-max)" \
	"^warn\\|ublks_max=[0-9]+ is one pool for all users, and max_devices=unlimited for everyone \\($f:5\\) lets one user take all of it\\|set max_devices" \
	"max_devices unlimited: the ublks_max weakness"
policy_reset

no_leftovers alice "at the end"
done_testing
