#!/bin/bash
# One user's device is out of reach of another, through the CLI and through
# the real nodes and raw control commands; del -a only touches one's own.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
raw=$UBLK_USER_TEST_ROOT/build/tests/ublk-raw

at_exit run_as alice ublk-user del -a
at_exit run_as bob ublk-user del -a

uu alice add -t mem --size 16M --json
is "$RUN_RC" 0 "alice adds a device"
a=$(jget "$RUN_OUT" .dev_id)
apid=$(jget "$RUN_OUT" .server_pid)

uu bob list --json
is "$RUN_OUT" "[
]" "bob's list is empty"
uu bob list -n "$a"
is "$RUN_RC" 1 "bob: list -n of alice's device fails"
uu bob del -n "$a"
is "$RUN_RC" 1 "bob: del of alice's device fails"
like "$RUN_ERR" "refused: this user may not use /dev/ublkc$a \\(owner uid $(id -u alice), mode 0600\\): Permission denied" \
	"bob: del says it was refused, and whose the node is"

# The kernel's own answers, without the CLI in between.
run run_as bob "$raw" info "$a"
is "$RUN_OUT" EACCES "bob: GET_DEV_INFO2 on alice's node: EACCES"
run run_as bob "$raw" stop "$a"
is "$RUN_OUT" EACCES "bob: STOP_DEV: EACCES"
run run_as bob "$raw" del "$a"
is "$RUN_OUT" EACCES "bob: DEL_DEV: EACCES"
run run_as bob dd if="/dev/ublkb$a" of=/dev/null bs=4k count=1 iflag=direct
like "$RUN_ERR" "Permission denied" "bob cannot open alice's block node"
run run_as bob dd if="/dev/ublkc$a" of=/dev/null bs=4k count=1
like "$RUN_ERR" "Permission denied" "bob cannot open alice's char node"
run run_as alice "$raw" info "$a"
is "$RUN_OUT" ok "alice: GET_DEV_INFO2 on her node: ok"

# Even a node bob makes himself does not name alice's device, unless it is
# the same device numbers: covered in the confinement tests.
uu alice list -n "$a" --json
is "$(jget "$RUN_OUT" '.[0].state')" live "alice's device is still live"
ok "alice's server is still running" kill -0 "$apid"

# carol is not allowed to create devices at all.
uu carol add -t null
is "$RUN_RC" 1 "carol: add fails"
like "$RUN_ERR" "no permission to open /dev/ublk-control .*group ublk" \
	"carol: the message names the control node and its group"
is "$(all_ublk_nodes | wc -l)" 2 "carol's attempt left no device"

# del -a removes only the caller's devices.
uu bob add -t null --json
is "$RUN_RC" 0 "bob adds a device"
b=$(jget "$RUN_OUT" .dev_id)
uu bob del -a
is "$RUN_RC" 0 "bob: del -a"
nok "bob's device is gone" test -e "/dev/ublkc$b"
ok "alice's device is still there" test -b "/dev/ublkb$a"
run ublk-user del -a
is "$RUN_RC" 0 "root: del -a (root has no devices)"
ok "alice's device survives root's del -a" test -b "/dev/ublkb$a"
uu alice del -a
no_leftovers alice "at the end"
no_leftovers bob "at the end"
done_testing
