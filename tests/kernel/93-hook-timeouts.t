#!/bin/bash
# The OCI hook against disk owners who stop what acts for them (issue 12,
# F10): `ublk-user add` stopped after ADD_DEV fails the container at the
# hook's deadline and leaves nothing behind (the device is found by the
# uuid the hook chose), with no record key on a command line meanwhile; a
# stopped gc child costs a later container a bounded sweep, and gc by hand
# a wait bounded by its --timeout, and dies with gc.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/podman.sh"

podman_setup
run_opts=(--network none)
records=/run/ublk-user/containers
tmp=$(mktemp -d)
at_exit rm -rf "$tmp"

# Time in the guest can run many times faster than on the host (a TSC
# calibrated under load), so bounds here are generous and the tests check
# that podman and gc end and say why, not how fast.
#
# The installed hooks, through podman --hooks-dir, with --timeout 30 (the
# part that must wait for it is idle, and the sweep still gets 7.5 s) and
# add's wait for udev longer than that (udev is held below)
hooks=$tmp/hooks
mkdir "$hooks"
for f in /usr/share/containers/oci/hooks.d/ublk-user-*.json; do
	jq '.hook.args |= map(if . == "60" then "30" else . end) |
		.hook.timeout = 1200 | .hook.env = ["UBLK_USER_UDEV_TIMEOUT=1200"]' \
		"$f" >"$hooks/${f##*/}"
done
is "$(jq -c .hook.args "$hooks/ublk-user-precreate.json")" \
	'["ublk-user-oci-hook","--cli","/usr/bin/ublk-user","--timeout","30","precreate"]' \
	"the test's hooks have --timeout 30"
# The guard for what must end: far beyond every bound
guard=1800

rw() { # the shell commands that write, read back and compare disk $1
	echo "dd if=/dev/urandom of=/tmp/x bs=4k count=16 2>/dev/null &&
dd if=/tmp/x of=$1 bs=4k count=16 oflag=direct 2>/dev/null &&
dd if=$1 of=/tmp/y bs=4k count=16 iflag=direct 2>/dev/null &&
cmp /tmp/x /tmp/y && echo verified $1"
}

# --- the disk's owner stops `ublk-user add` ----------------------------------
# udev holds its events, so add waits after ADD_DEV for the node: alice's
# device exists, add has not said which it is; alice stops add.
udev_ctl --stop-exec-queue
at_exit udev_ctl --start-exec-queue
scan_start "$tmp/b"
t0=$SECONDS
(
	rc=0
	podman --hooks-dir "$hooks" run --rm "${run_opts[@]}" --user 2001:2001 \
		--annotation "$(disk_ann io.ublk-user.disk=size=16M,target=mem)" \
		"$IMAGE" true >"$tmp/b.out" 2>"$tmp/b.err" || rc=$?
	echo "$rc" >"$tmp/b.rc"
) &
bg=$!
addpid=
for _ in $(seq 600); do
	if compgen -G '/dev/ublkc*' >/dev/null; then
		addpid=$(pgrep -u 2001 -f '^ublk-user add' || :)
		[[ -n $addpid ]] && break
	fi
	sleep 0.1
done
like "$addpid" '^[0-9]+$' "alice's add made a device and waits for its node"
run run_as alice kill -STOP "$addpid"
is "$RUN_RC" 0 "alice stops her add"
ok "udev runs the events it held" udev_run_queue
# gc finds the device by its tag only once its node is alice's
owner=
for _ in $(seq 300); do
	owner=$(stat -c %u /dev/ublkc* 2>/dev/null) || :
	[[ $owner == 2001 ]] && break
	sleep 0.1
done
is "$owner" 2001 "udev hands the device to alice while her add is stopped"
while [[ ! -e $tmp/b.rc ]] && ((SECONDS - t0 < guard)); do
	sleep 1
done
elapsed=$((SECONDS - t0))
ok "podman run ends while add is stopped" test -e "$tmp/b.rc"
if [[ ! -e $tmp/b.rc ]]; then
	kill -CONT "$addpid" 2>/dev/null || :
	wait "$bg" || :
fi
scan_stop "$tmp/b"
isnt "$(cat "$tmp/b.rc" 2>/dev/null || echo none)" 0 "the container does not start"
like "$(cat "$tmp/b.err")" "ublk-user add' was still running after [0-9]+ s and was killed" \
	"the error says add was killed at the hook's deadline"
note "podman run took ${elapsed}s (guest time)"
nok "the stopped add is gone" kill -0 "$addpid"
no_disks_left "after the stopped add"
compgen -G "/dev/ublk[bc]*" >/dev/null && diag "podman said: $(cat "$tmp/b.err")" "$(ls -l /dev/ublk[bc]*)"
is "$(ls -A $records)" "" "no container record is left"
is "$(find /run/user/2001/ublk-user -mindepth 1 -maxdepth 1 ! -name containers 2>/dev/null || :)" "" \
	"no device record or log of alice is left"
ok "the scan ran while the device existed" grep -qx DISK "$tmp/b.log"
is "$(key_words "$tmp/b.log")" "" "no record key on a command line (add, gc --key)"

# --- the disk's owner stops gc's child ----------------------------------------
# A container of alice gone without poststop leaves a record for gc.
pm root run -d "${run_opts[@]}" --user 2001:2001 \
	--annotation "$(disk_ann io.ublk-user.disk=size=8M,target=mem)" "$IMAGE" sleep 600
cs=$RUN_OUT
is "$RUN_RC" 0 "a container of alice starts"
[[ $TAP_OK == 1 ]] || diag "$RUN_ERR"
read -r cpid ppid < <(podman inspect -f '{{.State.ConmonPid}} {{.State.Pid}}' "$cs")
kill -9 "$cpid" "$ppid"
sleep 1
ok "its record stays for gc" compgen -G "$records/*.json"
# alice stops her server, so that removing the disk takes gc's child 10 s
# (DEL_DEV waits for the server), and stops every gc child in that time.
# gc forks its children: a process is looked at once, when it is new (or
# until it can be stopped), so that looking every 20 ms is cheap.
spid=$(server_pids alice)
like "$spid" '^[0-9]+$' "alice's server runs"
run_as alice kill -STOP "$spid"
run_as alice perl -e '$| = 1;
print "$$\n";
my %done;
while (1) {
	opendir(my $proc, "/proc") or die;
	for my $pid (grep { /^[0-9]+$/ && !$done{$_} } readdir $proc) {
		open(my $f, "<", "/proc/$pid/cmdline") or next;
		local $/;
		my $c = <$f>;
		$done{$pid} = 1
			if !defined $c || $c !~ /^ublk-user\0gc(\0|$)/ || kill("STOP", $pid);
	}
	select(undef, undef, undef, 0.02);
}' >"$tmp/stopper.pid" 2>/dev/null &
stopper=
while [[ -z $stopper ]]; do
	sleep 0.1
	stopper=$(cat "$tmp/stopper.pid")
done
stop_stopper() { kill "$stopper" 2>/dev/null || :; }
at_exit stop_stopper
t0=$SECONDS
run timeout "$guard" podman --hooks-dir "$hooks" run --rm "${run_opts[@]}" \
	--annotation "$(disk_ann io.ublk-user.disk=size=8M,target=mem)" "$IMAGE" sh -c "$(rw /dev/ublk-disk)"
elapsed=$((SECONDS - t0))
is "$RUN_RC" 0 "another container starts while alice stops gc (its sweep is bounded)"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
like "$RUN_OUT" "verified /dev/ublk-disk" "and uses its disk"
note "podman run took ${elapsed}s (guest time)"
is "$(pgrep -u 2001 -f '^ublk-user gc' || :)" "" "no gc child is left (it dies with gc)"
# (gc's own bound is 45 s; --timeout 10 spares the test 35 s of waiting,
# and tests/unit/hookin.sh.t checks the default)
t0=$SECONDS
run timeout "$guard" ublk-user gc --timeout 10
elapsed=$((SECONDS - t0))
is "$RUN_RC" 1 "gc --timeout 10 by hand ends, failing, while alice stops its child"
like "$RUN_ERR" "not removed within 10 s \(stopped by its owner, or stuck\): its record stays" \
	"saying the child was killed after its bound"
ok "after that bound (took ${elapsed}s)" test "$elapsed" -ge 10
ok "the record stays" compgen -G "$records/*.json"
stop_stopper
for _ in $(seq 100); do
	kill -0 "$stopper" 2>/dev/null || break
	sleep 0.1
done
nok "alice's stopper is gone" kill -0 "$stopper"
kill -CONT "$spid"
run ublk-user gc
is "$RUN_RC" 0 "once alice lets it, gc removes her disk"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
pm root rm -f "$cs"
no_disks_left "at the end"
is "$(ls -A $records)" "" "no container record is left at the end"
done_testing
