#!/bin/bash
# The policy's max_devices and allow: through the CLI (a clear refusal
# naming the rule) and through raw ADD_DEV (the udev helper deletes the
# extra device and leaves the reason for its owner only, and in syslog);
# per-user override; users in and out of an allowed group.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/policy.sh"

at_exit policy_reset
at_exit run_as alice ublk-user del -a
at_exit run_as bob ublk-user del -a
at_exit chmod 0660 /dev/ublk-control
syslog_start
nodes_of_user() { find /dev -maxdepth 1 -name 'ublkc[0-9]*' -user "$1" | wc -l; }

# --- the default policy -------------------------------------------------------
run ublk-user policy check
is "$RUN_RC" 0 "the installed default policy is valid"
is "$RUN_OUT" "/etc/ublk-user/policy.conf: ok" "policy check names the file"
for t in 1 2 3; do
	uu alice add -t null
	is "$RUN_RC" 0 "default policy: alice adds device $t"
done
uu alice del -a

# --- max_devices through the CLI ----------------------------------------------
site=$DROPIN/10-site.conf
policy_put 10-site.conf '# site rules
[group:ublk]
max_devices = 2

[user:bob]
max_devices = 3
'
uu alice add -t null --json
is "$RUN_RC" 0 "alice: first device"
a1=$(jget "$RUN_OUT" .dev_id)
uu alice add -t mem --size 8M
is "$RUN_RC" 0 "alice: second device"
uu alice add -t null
is "$RUN_RC" 1 "alice: a third device is refused"
is "$RUN_ERR" "ublk-user: refused by the policy: alice already has 2 devices: max_devices=2 for group ublk ($site:3)" \
	"the refusal names the rule, its file and line"
is "$(nodes_of_user alice)" 2 "no third device was made"
is "$(find /run/user/2001/ublk-user -maxdepth 1 -name "*json*" | wc -l)" 2 "no third record"
is "$(server_pids alice | wc -l)" 2 "no third server"

# --- max_devices skipping the CLI: the helper deletes the device --------------
raw_add alice
like "$RAW_ID" '^[0-9]+$' "alice: raw ADD_DEV succeeds in the kernel"
nok "the udev helper deleted it" test -e "/dev/ublkc$RAW_ID"
run "$RAW" info "$RAW_ID"
is "$RUN_OUT" ENODEV "the kernel has no such device any more"
denial alice "$RAW_ID"
is "$RUN_RC" 0 "alice reads why"
is "$REASON" "alice already has 2 devices: max_devices=2 for group ublk ($site:3)" \
	"the reason names the rule"
like "$RUN_OUT" $'^dev_id='"$RAW_ID"$'\nuid=2001\ntag=0x0\n' \
	"the record names the device, its owner and its tag"
is "$(stat -c '%U:%G %a' "/run/ublk-user/denied/dev-$RAW_ID")" "alice:root 400" \
	"the record is alice's, mode 0400"
is "$(stat -c '%U %a' /run/ublk-user/denied)" "root 755" \
	"in a directory only root may write"
denial bob "$RAW_ID"
is "$RUN_RC" 1 "bob cannot read it"
like "$RUN_ERR" "Permission denied" "  permission denied"
like "$(cat "$SYSLOG")" "ublk-user-udev.*device $RAW_ID of uid 2001 refused by the policy: alice already has 2 devices: max_devices=2 for group ublk \\($site:3\\)" \
	"the helper logged it to syslog"
uu alice list --json
is "$(jget "$RUN_OUT" '[.[].state] | join(",")')" "live,live" \
	"alice's two devices are untouched"

# Two at once: the helpers take turns, only one of two raw devices is kept.
uu alice del -n "$a1"
run run_as alice "$RAW" add
r1=$RUN_OUT
run run_as alice "$RAW" add
r2=$RUN_OUT
settle
is "$(nodes_of_user alice)" 2 "of two raw devices made at once, one is kept"
kept=
for r in "$r1" "$r2"; do [[ ! -e /dev/ublkc$r ]] || kept=$r; done
is "$(stat -c %U "/dev/ublkc$kept")" alice "the kept one is handed to alice"
run run_as alice "$RAW" del "$kept"
is "$RUN_OUT" ok "alice deletes the kept raw device"
uu alice del -a
is "$(nodes_of_user alice)" 0 "alice has no device left"

# --- per-user override ------------------------------------------------------------
for t in 1 2 3; do
	uu bob add -t null
	is "$RUN_RC" 0 "bob (max_devices=3 for user bob): device $t"
done
uu bob add -t null
is "$RUN_RC" 1 "bob: the fourth is refused"
is "$RUN_ERR" "ublk-user: refused by the policy: bob already has 3 devices: max_devices=3 for user bob ($site:6)" \
	"bob's own section wins over group ublk's"
raw_add bob
nok "bob: the helper deletes a raw fourth" test -e "/dev/ublkc$RAW_ID"
denial bob "$RAW_ID"
is "$REASON" "bob already has 3 devices: max_devices=3 for user bob ($site:6)" \
	"and names bob's rule"
uu bob del -a
uu alice add -t null
is "$RUN_RC" 0 "after bob's, alice's limit is still 2: first"
uu alice add -t null
is "$RUN_RC" 0 "  second"
uu alice del -a

# --- users in and out of an allowed group --------------------------------------------
# /dev/ublk-control for everybody (make install UBLK_CONTROL_MODE=0666);
# the policy lets only group ublk create devices.
chmod 0666 /dev/ublk-control
policy_put 10-site.conf '[default]
allow = no

[group:ublk]
allow = yes
'
uu carol add -t null
is "$RUN_RC" 1 "carol (not in group ublk) is refused"
is "$RUN_ERR" "ublk-user: refused by the policy: carol may not create ublk devices: allow=no for everyone ($site:2)" \
	"the refusal names allow=no"
is "$(all_ublk_nodes)" "" "nothing was made for carol"
raw_add carol
like "$RAW_ID" '^[0-9]+$' "carol: raw ADD_DEV succeeds in the kernel"
nok "the helper deletes carol's device" test -e "/dev/ublkc$RAW_ID"
denial carol "$RAW_ID"
is "$REASON" "carol may not create ublk devices: allow=no for everyone ($site:2)" \
	"carol reads why"
uu alice add -t null --json
is "$RUN_RC" 0 "alice (in group ublk) may"
is "$(jget "$RUN_OUT" .state)" live "  and her device is live"
uu bob add -t null
is "$RUN_RC" 0 "bob (in group ublk) may"
uu alice del -a
uu bob del -a
chmod 0660 /dev/ublk-control

# The helper's command line and exit status (udev runs it as root).
run /usr/libexec/ublk-user/ublk-user-udev
is "$RUN_RC:$RUN_ERR" "2:ublk-user-udev: usage: ublk-user-udev ublkcN|ublkbN, or --classify ublkbN" \
	"helper without an argument: exit 2"
run /usr/libexec/ublk-user/ublk-user-udev sda
is "$RUN_RC" 2 "helper for a device not ublk's: exit 2"
run /usr/libexec/ublk-user/ublk-user-udev ublkc999
is "$RUN_RC" 1 "helper for a device that does not exist: exit 1"
is "$RUN_ERR" "ublk-user-udev: device 999: /dev/ublkc999: No such file or directory" \
	"  and says so"

no_leftovers alice "at the end"
no_leftovers bob "at the end"
no_leftovers carol "at the end"
done_testing
