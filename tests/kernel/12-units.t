#!/bin/bash
# vm: systemd boot
# Disks that last, under systemd as PID 1 (the harness's systemd mode):
# an administrator's disk for a service account enabled at boot
# (ublk-user-system@.service: owned by the account, no capability kept);
# alice's disk kept up by her user manager (ublk-user@.service, lingering):
# ready, fio verify, a kill -9 of the server made good by a restart under
# the same stable path with the data intact (the time it takes is noted),
# stop leaving nothing; logout with and without lingering; a bad disk file
# and a missing backing file failing with the reason in systemctl status;
# bob's disk of the same name beside alice's.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"

SVC=ublksvc
SVC_HOME=/var/lib/$SVC

# --- before systemd starts: what must be there at boot --------------------------
if [[ ${UBLK_USER_VM_PHASE:-} == boot ]]; then
	useradd --system --create-home --home-dir "$SVC_HOME" \
		--shell /usr/sbin/nologin --groups ublk "$SVC"
	runuser -u "$SVC" -- truncate -s 32M "$SVC_HOME/sys.img"
	printf '# the service account'\''s disk\nuser = %s\ntarget = loop\nfile = %s\n' \
		"$SVC" "$SVC_HOME/sys.img" >/etc/ublk-user/disks/sysdata.disk
	chmod 0644 /etc/ublk-user/disks/sysdata.disk
	systemctl enable ublk-user-system@sysdata.service
	# The user manager stops 2 s after the last session ends, not 10
	mkdir -p /etc/systemd/logind.conf.d
	printf '[Login]\nUserStopDelaySec=2\n' >/etc/systemd/logind.conf.d/ublk-test.conf
	exit 0
fi

source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"

at_exit rm -rf /home/alice/.config/ublk-user /home/alice/.config/systemd \
	/home/bob/.config/ublk-user /home/bob/.config/systemd
at_exit loginctl disable-linger bob
at_exit loginctl disable-linger alice
end_sessions() { pkill -u alice -x sleep || :; }
at_exit end_sessions

# wait_for SECONDS CMD...: until CMD succeeds (tried every WAIT_STEP s,
# 0.2 unless set); its status
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < end)) || return 1
		sleep "${WAIT_STEP:-0.2}"
	done
}
# prop USER|system UNIT PROPERTY: one property of a unit
prop() {
	if [[ $1 == system ]]; then
		systemctl show -P "$3" "$2"
	else
		run_as "$1" systemctl --user show -P "$3" "$2"
	fi
}
user_active() { [[ $(systemctl is-active "user@$(uid_of "$1").service") == active ]]; }
unit_active() { [[ $(prop "$1" "$2" ActiveState) == active ]]; }
# caps PID: "CapEff CapBnd NoNewPrivs" of a process
caps() {
	local eff='' bnd='' nnp=''
	status_field "/proc/$1" CapEff eff
	status_field "/proc/$1" CapBnd bnd
	status_field "/proc/$1" NoNewPrivs nnp
	echo "$eff $bnd $nnp"
}
# session USER: start a logind session of USER (runuser -l: pam_systemd);
# prints its id
session() {
	local id
	setsid runuser -l "$1" -c 'exec sleep 600' </dev/null >/dev/null 2>&1 &
	wait_for 60 eval "loginctl list-sessions --no-legend | awk '\$3 == \"$1\"' | grep -q ." ||
		return 1
	id=$(loginctl list-sessions --no-legend | awk -v u="$1" '$3 == u { print $1; exit }')
	echo "$id"
}
# put USER NAME TEXT: USER's disk file NAME.disk
put() {
	local dir=/home/$1/.config/ublk-user/disks
	run_as "$1" mkdir -p "$dir"
	printf '%s' "$3" | run_as "$1" tee "$dir/$2.disk" >/dev/null
}
# read_marker USER PATH: the first 4 KiB behind PATH, read directly
read_marker() {
	run_as "$1" dd if="$2" bs=4096 count=1 iflag=direct status=none
}
fio_verify_path() { # fio_verify_path NAME USER PATH
	run run_as "$2" fio --name="$1" --filename="$3" --ioengine=io_uring \
		--direct=1 --rw=randwrite --bs=4k --offset=8M --size=16M \
		--iodepth=16 --verify=crc32c --verify_fatal=1 --do_verify=1 \
		--output-format=terse
	is "$RUN_RC" 0 "$1: fio writes and verifies with crc32c"
	[[ $RUN_RC == 0 ]] || diag "$RUN_OUT" "$RUN_ERR"
}

# --- the harness -----------------------------------------------------------------
is "$(</proc/1/comm)" systemd "PID 1 is systemd"
like "$(</proc/self/cgroup)" 'ublk-vm-test\.service' "the test runs as ublk-vm-test.service"
is "${UBLK_USER_VM_MODE:-}" systemd "UBLK_USER_VM_MODE says so"
ok "the boot phase ran before systemd" test -f /etc/ublk-user/disks/sysdata.disk
ok "logind runs" systemctl is-active --quiet systemd-logind.service

# --- the administrator's disk, enabled at boot --------------------------------------
unit=ublk-user-system@sysdata.service
svc_uid=$(uid_of "$SVC")
svc_link=/tmp/ublk-user-$svc_uid/disks/sysdata # no runtime directory: /tmp
ok "$unit is active" wait_for 60 unit_active system "$unit"
booted=$(prop system "$unit" ActiveEnterTimestampMonotonic)
mu=$(prop system multi-user.target ActiveEnterTimestampMonotonic)
ok "it came up at boot, before multi-user.target ($booted <= $mu)" test "$booted" -le "$mu"
run run_as_nosession "$SVC" ublk-user status sysdata --json
is "$RUN_RC" 0 "$SVC: status sysdata"
sys_id=$(jget "$RUN_OUT" .dev_id)
sys_srv=$(jget "$RUN_OUT" .server_pid)
is "$(jget "$RUN_OUT" .state)" live "the system disk is live"
is "$(jget "$RUN_OUT" .link)" "$svc_link" "its stable path is $SVC's"
is "$(stat -c %U:%G "/dev/ublkb$sys_id" "/dev/ublkc$sys_id" | sort -u)" "$SVC:$SVC" \
	"its nodes are owned by $SVC"
like "$(prop system "$unit" StatusText)" "^sysdata: /dev/ublkb$sys_id \\($svc_link\\)$" \
	"systemctl status names the node and the stable path"
main=$(prop system "$unit" MainPID)
is "$(stat -c %U "/proc/$sys_srv" "/proc/$main" | sort -u)" "$SVC" \
	"server and ublk-user run as $SVC"
is "$(caps "$sys_srv")" "0000000000000000 0000000000004000 1" \
	"the server holds no capability (CapEff 0; bounding set CAP_IPC_LOCK; no_new_privs)"
is "$(caps "$main")" "0000000000000000 0000000000004000 1" \
	"nor does ublk-user, waiting for it"
head -c 4096 /dev/urandom >/tmp/sysmarker
chmod 0644 /tmp/sysmarker
at_exit rm -f /tmp/sysmarker /tmp/marker
ok "$SVC writes through the stable path" run_as_nosession "$SVC" dd \
	if=/tmp/sysmarker of="$svc_link" bs=4096 oflag=direct,dsync status=none
is "$(read_marker "$SVC" "$svc_link" | md5sum)" "$(md5sum </tmp/sysmarker)" "and reads it back"
run ublk-user doctor --json
is "$(jget "$RUN_OUT" '.checks[] | select(.name == "units") | "\(.status)|\(.message)|\(.fix)"')" \
	"warn|/etc/ublk-user/disks/sysdata.disk runs as $SVC, who has no lingering: without /run/user/UID its state goes to /tmp/ublk-user-UID, which any local user can make first, and so keep the disk down|loginctl enable-linger $SVC" \
	"root's doctor: the system disk's user has no lingering (SECURITY.md), and the fix"
mkdir -p /var/lib/systemd/linger
touch "/var/lib/systemd/linger/$SVC"
run ublk-user doctor --json
rm "/var/lib/systemd/linger/$SVC"
is "$(jget "$RUN_OUT" '.checks[] | select(.name == "units") | "\(.status)|\(.message)"')" \
	"ok|ublk-user-system@.service is installed (/usr/lib/systemd/system); 1 disk file in /etc/ublk-user/disks read well; enabled: sysdata" \
	"  with lingering: the system disk file reads well, its unit is enabled"
ok "systemctl stop $unit" systemctl stop "$unit"
ok "its nodes are gone" test ! -e "/dev/ublkb$sys_id" -a ! -e "/dev/ublkc$sys_id"
is "$(ls -A "/tmp/ublk-user-$svc_uid" 2>/dev/null)" "" "its records and stable path are gone"
is "$(server_pids "$SVC")" "" "and its server"

# --- alice's disk, kept up by her user manager --------------------------------------------
img=/home/alice/data.img
run_as alice truncate -s 64M "$img"
put alice data "target = loop
file = $img
"
link=/run/user/2001/ublk-user/disks/data
ok "loginctl enable-linger alice" loginctl enable-linger alice
ok "alice's user manager starts" wait_for 90 user_active alice
run run_as alice systemctl --user enable --now ublk-user@data
is "$RUN_RC" 0 "systemctl --user enable --now ublk-user@data"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
is "$(prop alice ublk-user@data ActiveState)" active "the unit is active (READY=1)"
run run_as alice ublk-user status data --json
id=$(jget "$RUN_OUT" .dev_id)
pid=$(jget "$RUN_OUT" .server_pid)
is "$(jget "$RUN_OUT" .state)" live "the disk is live"
is "$(readlink "$link")" "/dev/ublkb$id" "the stable path points at it"
run run_as alice systemctl --user status ublk-user@data
like "$RUN_OUT" "Status: \"data: /dev/ublkb$id \\($link\\)\"" \
	"systemctl --user status shows it ready, with node and stable path"
uu alice doctor --json
is "$(jget "$RUN_OUT" '.checks[] | select(.name == "units") | "\(.status)|\(.message)"')" \
	"ok|your disks data are enabled, your user manager runs and lingering is on: they stay up after you log out and come up at boot" \
	"doctor: units ok, lingering on"
fio_verify_path data-first alice "$link"
head -c 4096 /dev/urandom >/tmp/marker
chmod 0644 /tmp/marker
ok "an fsync'd marker written through the stable path" run_as alice dd \
	if=/tmp/marker of="$link" bs=4096 conv=fsync oflag=direct status=none

# kill -9 of the server: systemd runs up again, which makes a new device.
# The time is taken from the journal (monotonic, = uptime here): polling
# from here would take the CPU the restart needs.
read -r up0 _ </proc/uptime
ok "kill -9 the server" kill -KILL "$pid"
# journal_until PATTERN COMMAND...: COMMAND's output (a journalctl), once
# a line matches PATTERN or after 15 s: journald stores a unit's output a
# moment after the unit has ended, and under load that moment grows.
journal_until() {
	local pat=$1
	shift
	wait_for 15 output_matches "$pat" "$@" || :
	"$@" 2>&1
}
output_matches() { # output_matches PATTERN COMMAND...
	local pat=$1
	shift
	[[ $("$@" 2>&1) =~ $pat ]]
}
restarted() {
	[[ $(prop alice ublk-user@data NRestarts):$(prop alice ublk-user@data ActiveState) == 1:active ]]
}
WAIT_STEP=1 ok "systemd brings the unit back" wait_for 120 restarted
since() { # since PATTERN: seconds from the kill to the first line after it
	journalctl -b -q --no-pager -o short-monotonic \
		_SYSTEMD_USER_UNIT=ublk-user@data.service + USER_UNIT=ublk-user@data.service |
		awk -v t0="$up0" -v pat="$1" '{ s = $0; sub(/^\[ */, "", s); t = s + 0 }
			t >= t0 && index($0, pat) { printf "%.2f", t - t0; exit }'
}
usable=$(since 'disk data is up')
like "$usable" '^[0-9]+\.[0-9]+$' "the journal says when it was up again"
note "crash to usable (kill -9 of the server to 'disk data is up', READY=1): $usable s;" \
	"the dead device deleted after $(since 'was killed by signal 9') s," \
	"restart scheduled after $(since 'Scheduled restart job') s (RestartSec=1s)"
usable() {
	[[ $(read_marker alice "$link" | md5sum) == "$(md5sum </tmp/marker)" ]]
}
ok "the fsync'd marker is there, under the same stable path" usable
run run_as alice ublk-user status data --json
is "$(jget "$RUN_OUT" .state)" live "the disk is live again"
isnt "$(jget "$RUN_OUT" .server_pid)" "$pid" "with a new server"
is "$(readlink "$link")" "/dev/ublkb$(jget "$RUN_OUT" .dev_id)" "the stable path follows it"
is "$(find /dev -maxdepth 1 -name 'ublkb*' -user alice | wc -l)" 1 \
	"the dead device is gone: alice has one"
pat="its server \\(pid $pid\\) was killed by signal 9"
like "$(journal_until "$pat" journalctl -b -q --no-pager _SYSTEMD_USER_UNIT=ublk-user@data.service)" \
	"$pat" "the journal says what happened"
fio_verify_path data-again alice "$link"
ok "the marker is still there" usable

ok "systemctl --user stop ublk-user@data" run_as alice systemctl --user stop ublk-user@data
is "$(prop alice ublk-user@data Result)" success "the unit stopped cleanly"
nok "the stable path is gone" test -e "$link" -o -L "$link"
no_leftovers alice "after systemctl --user stop"

# --- what cannot come up fails, saying why -------------------------------------------
ok "loginctl enable-linger bob (his manager starts meanwhile)" loginctl enable-linger bob
dir=/home/alice/.config/ublk-user/disks
put alice bad "target = null
size 1G
"
nok "a disk file with a syntax error: the unit fails" \
	run_as alice systemctl --user start ublk-user@bad
is "$(prop alice ublk-user@bad ActiveState):$(prop alice ublk-user@bad NRestarts)" \
	failed:0 "at once, not started again (exit status 4)"
run run_as alice systemctl --user status ublk-user@bad
like "$RUN_OUT" "Status: \"$dir/bad.disk:2: expected 'key = value'" \
	"systemctl --user status says where and why"
pat="$dir/bad.disk:2: expected 'key = value'"
like "$(journal_until "$pat" journalctl -b -q --no-pager _SYSTEMD_USER_UNIT=ublk-user@bad.service)" \
	"$pat" "and so does the journal"
ok "systemctl --user reset-failed ublk-user@bad" run_as alice systemctl --user reset-failed ublk-user@bad
put alice gone "target = loop
file = /home/alice/gone.img
"
nok "a disk whose backing file is gone: the unit fails" \
	run_as alice systemctl --user start ublk-user@gone
ok "after its restarts it is left failed" wait_for 120 eval \
	'[[ $(prop alice ublk-user@gone ActiveState) == failed ]]'
pat="Start request repeated too quickly"
like "$(journal_until "$pat" journalctl -b -q --no-pager USER_UNIT=ublk-user@gone.service)" \
	"$pat" "(the start limit)"
run run_as alice systemctl --user status ublk-user@gone
like "$RUN_OUT" "Status: \"[^\"]*/home/alice/gone.img: No such file or directory" \
	"systemctl --user status says why"
pat="/home/alice/gone.img: No such file or directory"
like "$(journal_until "$pat" run_as alice journalctl --user -b -q --no-pager -u ublk-user@gone)" \
	"$pat" "and so does alice's journal"
run_as alice systemctl --user reset-failed ublk-user@gone
rm -f "$dir/bad.disk" "$dir/gone.disk"
no_leftovers alice "after the disks that failed"

# --- two users, one disk name -------------------------------------------------------------
put bob data "target = null
size = 16M
"
ok "bob's user manager starts" wait_for 90 user_active bob
ok "alice: systemctl --user start ublk-user@data" run_as alice systemctl --user start ublk-user@data
ok "bob: systemctl --user start ublk-user@data" run_as bob systemctl --user start ublk-user@data
a_id=$(jget "$(run_as alice ublk-user status data --json)" .dev_id)
b_id=$(jget "$(run_as bob ublk-user status data --json)" .dev_id)
isnt "$a_id" "$b_id" "two devices ($a_id, $b_id)"
is "$(readlink /run/user/2001/ublk-user/disks/data)" "/dev/ublkb$a_id" "alice's stable path is hers"
is "$(readlink /run/user/2002/ublk-user/disks/data)" "/dev/ublkb$b_id" "bob's is his"
is "$(stat -c %U "/dev/ublkb$a_id"):$(stat -c %U "/dev/ublkb$b_id")" alice:bob \
	"each owns their node"
ok "bob: stop" run_as bob systemctl --user stop ublk-user@data
is "$(jget "$(run_as alice ublk-user status data --json)" .state)" live "alice's disk is untouched"
no_leftovers bob "after bob's disk"

# --- logout ----------------------------------------------------------------------------------
# Lingering: the user manager, and the disk, outlive alice's sessions.
sid=$(session alice)
ok "alice has a session ($sid)" test -n "$sid"
ok "loginctl terminate-session (linger on)" loginctl terminate-session "$sid"
ok "her session is gone" wait_for 30 eval "! loginctl show-session '$sid' >/dev/null 2>&1"
sleep 4 # longer than UserStopDelaySec
ok "the disk stays: the unit is active" unit_active alice ublk-user@data
is "$(jget "$(run_as alice ublk-user status data --json)" .state)" live "and the disk live"
# terminate-user ends the user manager, linger or not: the disk goes, cleanly.
ok "loginctl terminate-user alice (linger on)" loginctl terminate-user alice
ok "her user manager stops" wait_for 60 eval '! user_active alice'
ok "her runtime directory is gone" wait_for 30 test ! -e /run/user/2001
no_leftovers alice "after terminate-user"
run run_as_nosession alice ublk-user doctor --json
like "$(jget "$RUN_OUT" '.checks[] | select(.name == "units") | "\(.status)|\(.message)"')" \
	"^warn\\|your disks data are enabled, but your user manager does not answer \\(/run/user/2001/systemd/private: No such file or directory\\): they are not up" \
	"doctor: an enabled disk without a user manager"

# No lingering: the disk lives as long as alice has a session.
ok "loginctl disable-linger alice" loginctl disable-linger alice
sid=$(session alice)
ok "alice logs in again ($sid): her manager starts" wait_for 90 user_active alice
ok "and brings up her enabled disk" wait_for 60 unit_active alice ublk-user@data
uu alice doctor --json
is "$(jget "$RUN_OUT" '.checks[] | select(.name == "units") | "\(.status)|\(.fix)"')" \
	"warn|'loginctl enable-linger' keeps them up after you log out, and brings them up at boot" \
	"doctor: lingering off for an enabled disk, and the fix"
ok "systemctl --user disable ublk-user@data (it stays up)" \
	run_as alice systemctl --user disable ublk-user@data
ok "loginctl terminate-session (linger off)" loginctl terminate-session "$sid"
ok "the last session gone, her user manager stops" wait_for 60 eval '! user_active alice'
ok "and her runtime directory goes" wait_for 30 test ! -e /run/user/2001
no_leftovers alice "after logout without linger"

done_testing
