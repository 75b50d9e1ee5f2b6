#!/bin/bash
# The OCI hook's record key (issue 12, F4): a container that carries
# another's key neither takes over that record nor deletes its disks, by
# podman or by calling the hook as crun would; no record key or backing
# path is on any process's command line (or in its environment) while a
# container starts and runs.  93-hook-timeouts.t: the rest of the key
# scan, while a container fails.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/podman.sh"

podman_setup
run_opts=(--network none)
records=/run/ublk-user/containers
data=/var/lib/ublk-user/containers
hook=/usr/libexec/ublk-user/ublk-user-oci-hook
tmp=$(mktemp -d)
at_exit rm -rf "$tmp"


rw() { # the shell commands that write, read back and compare disk $1
	echo "dd if=/dev/urandom of=/tmp/x bs=4k count=16 2>/dev/null &&
dd if=/tmp/x of=$1 bs=4k count=16 oflag=direct 2>/dev/null &&
dd if=$1 of=/tmp/y bs=4k count=16 iflag=direct 2>/dev/null &&
cmp /tmp/x /tmp/y && echo verified $1"
}

# --- container A: nothing secret on a command line --------------------------
# A runs as alice, and udev holds its events while A starts, so that
# `ublk-user add` waits for the node to be handed to alice until the scan
# has seen it.  That hold must not race add's own 15 s for udev, nor the
# hook's 60 s for add: guest time can run far ahead of the host's under
# load, so A's hooks (the installed ones, through --hooks-dir) give add
# 1200 s, the hook 1200 s (--timeout) and podman 2500 s for the hook.
hooks=$tmp/hooks
mkdir "$hooks"
for f in /usr/share/containers/oci/hooks.d/ublk-user-*.json; do
	jq '.hook.env = ["UBLK_USER_UDEV_TIMEOUT=1200"] | .hook.timeout = 2500
	    | .hook.args |= (. as $a | [range(length)]
		| map(if . > 0 and $a[. - 1] == "--timeout" then "1200" else $a[.] end))' \
		"$f" >"$hooks/${f##*/}"
done
udev_ctl --stop-exec-queue
at_exit udev_ctl --start-exec-queue
scan_start "$tmp/a"
(
	rc=0
	podman --hooks-dir "$hooks" run -d "${run_opts[@]}" --user 2001:2001 \
		--annotation "$(disk_ann io.ublk-user.disk=size=16M,path=/dev/xvda)" \
		"$IMAGE" sleep 600 >"$tmp/a.out" 2>"$tmp/a.err" || rc=$?
	echo "$rc" >"$tmp/a.rc"
) &
# (the pattern does not match the command line of the grep that uses it)
for _ in $(seq 600); do
	grep -a -q -E "ublk-user[ ]add " "$tmp/a.log" && break
	sleep 0.1
done
udev_run_queue
for _ in $(seq 600); do
	[[ -e $tmp/a.rc ]] && break
	sleep 1
done
ok "podman run -d of A ends" test -e "$tmp/a.rc"
is "$(cat "$tmp/a.rc" 2>/dev/null)" 0 "container A with a loop disk starts"
[[ $(cat "$tmp/a.rc" 2>/dev/null) == 0 ]] || diag "$(cat "$tmp/a.err")"
ca=$(cat "$tmp/a.out")
sleep 2 # its life: the server runs
scan_stop "$tmp/a"
ok "the scan saw ublk-user add's command line" grep -a -q -E "ublk-user[ ]add " "$tmp/a.log"
key=$(basename "$(ls $records/*.json)" .json)
like "$key" '^[0-9a-f]{32}$' "A has a container record"
deva=$(all_ublk_nodes | grep ublkb || :)
like "$deva" '^/dev/ublkb[0-9]+$' "A's disk exists"
ok "the scan ran while A's disk existed" grep -qx DISK "$tmp/a.log"
nok "A's key is on no command line and in no environment" grep -a -q "$key" "$tmp/a.log"
is "$(key_words "$tmp/a.log")" "" "nor is any other record key"
nok "no backing path is on a command line" grep -a -q "$data" "$tmp/a.log"
is "$(jq -r .id "$records/$key.json")" "$ca" "createRuntime bound A's record to A"

# --- container B carries A's key -------------------------------------------
pm root run --rm "${run_opts[@]}" --annotation "io.ublk-user.key=$key" \
	--annotation "$(disk_ann io.ublk-user.disk=size=8M,target=mem)" "$IMAGE" true
isnt "$RUN_RC" 0 "container B with A's key and a disk does not start"
like "$RUN_ERR" "already has the annotation io.ublk-user.key" "and is told why"
pm root run --rm "${run_opts[@]}" --annotation "io.ublk-user.key=$key" "$IMAGE" true
is "$RUN_RC" 0 "a container with A's key and no disk runs (the hook does not)"
is "$(all_ublk_nodes | grep ublkb || :)" "$deva" "A's disk is still there"
is "$(jq -r .id "$records/$key.json")" "$ca" "A's record is still bound to A"

# The later stages, called as crun would for a container that got past
# precreate with A's key
state() { # ID PID: an OCI state that carries A's key
	printf '{"ociVersion":"1.0.2","id":"%s","status":"created","pid":%s,"bundle":"/tmp","annotations":{"io.ublk-user.key":"%s"}}' \
		"$1" "$2" "$key"
}
capid=$(podman inspect -f '{{.State.Pid}}' "$ca")
sleep 600 &
intruder=$!
run "$hook" createRuntime <<<"$(state intruder "$intruder")"
is "$RUN_RC" 1 "createRuntime refuses a key whose record is bound to another container"
like "$RUN_ERR" "names the disks of container ${ca:0:12}: refused" "naming it"
is "$(jq -r '.id + " " + (.pid | tostring)' "$records/$key.json")" \
	"$ca $capid" "A's record still has A's id and pid"
run "$hook" poststop <<<"$(state intruder 0)"
is "$RUN_RC" 0 "poststop of the intruder"
is "$(all_ublk_nodes | grep ublkb || :)" "$deva" "did not delete A's disk"
ok "nor A's record" test -f "$records/$key.json"
kill "$intruder"
wait "$intruder" 2>/dev/null || :
run "$hook" createRuntime <<<"$(state "$ca" "$capid")"
is "$RUN_RC" 0 "createRuntime again for A itself is fine"
pm root exec "$ca" sh -c "$(rw /dev/xvda)"
like "$RUN_OUT" "verified /dev/xvda" "A still uses its disk"
pm root rm -f -t 0 "$ca"
is "$RUN_RC" 0 "A is removed"
no_disks_left "after A"
is "$(ls -A $records)" "" "A's record is gone"
is "$(ls -A $data 2>/dev/null)" "" "and its backing file"

done_testing
