#!/bin/bash
# The udev helper's records of refused devices are bounded (issue 12):
# ADD_DEV lets a caller pick any id, and each refused one used to leave a
# root-owned file in /run for ever.  Now at most 16 per account (a user
# with her subordinate uids) and 256 in all are kept, the oldest going
# first, so refusals cannot fill /run, nor push out another user's reason;
# and admitting a device of that id removes only its owner's record.
#
# UBLK_USER_TEST_DENIALS sets how many refused ADD_DEVs alice sends (40,
# two and a half times her bound; each costs about 0.25 s in the TCG
# guest, 10000 take about 45 minutes).
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/policy.sh"

records=/run/ublk-user/denied
n=${UBLK_USER_TEST_DENIALS:-40}
at_exit policy_reset

# records_of ACCOUNT: how many records count for that account
records_of() { grep -lx "account=$1" "$records"/* 2>/dev/null | wc -l; }
nr_records() { find "$records" -mindepth 1 -maxdepth 1 | wc -l; }

policy_put 10-site.conf '[user:alice]
allow = no

[user:bob]
allow = no
'
# Ids are chosen (ADD_DEV takes any): a record is per id.
raw_add bob 0x60 1 16 5
b=$RAW_ID
denial bob "$b"
like "$REASON" "^bob may not create ublk devices" "bob's raw device is refused, with a record"

# A device admitted with that id removes its owner's record only: bob's
# reason stays until he has read it (it used to go with alice's device).
policy_put 10-site.conf '[user:alice]
allow = yes

[user:bob]
allow = no
'
raw_add alice 0x60 1 16 "$b"
is "$RAW_ID" "$b" "alice's raw device takes id $b"
is "$(stat -c %U "/dev/ublkc$b" 2>&1)" alice "  and is admitted: its node is hers"
denial bob "$b"
is "$RUN_RC" 0 "  bob's record of id $b is still there"
like "$REASON" "^bob may not create ublk devices" "  with his reason"
run run_as alice "$RAW" del "$b"
is "$RUN_OUT" ok "  alice deletes her device"
policy_put 10-site.conf '[user:alice]
allow = no

[user:bob]
allow = no
'

# Her subordinate uids are alice's account: 20 of them, 20 refusals.
run in_subuids alice 0 bash -c 'for i in $(seq 1 20); do
	setpriv --reuid=$i --regid=$i --keep-groups "$1" add 0x60 1 16 $((200 + i)) \
		>/dev/null; done' - "$RAW"
is "$RUN_RC" 0 "alice sends ADD_DEV as 20 of her subordinate uids"
settle
is "$(records_of 2001)" 16 "  16 records are kept for alice"
denial bob "$b"
is "$RUN_RC" 0 "  bob's record is still there"

used0=$(df -k --output=used /run | tail -1)
t=$(date +%s)
run run_as alice "$RAW" add-many "$n" 100000
is "$RUN_OUT" "$n" "alice sends $n raw ADD_DEVs with distinct ids"
settle
note "$n refusals took $(($(date +%s) - t)) s"
is "$(records_of 2001)" 16 "  16 records are kept for alice"
is "$(nr_records)" 17 "  17 records in all (hers and bob's)"
denial alice $((100000 + n - 1))
like "$REASON" "^alice may not create ublk devices" "  alice reads why her last one was refused"
denial bob "$b"
is "$RUN_RC" 0 "  bob's record is still there"
is "$(all_ublk_nodes)" "" "  no device is left"
used=$(df -k --output=used /run | tail -1)
ok "  /run grew by $((used - used0)) KiB" test $((used - used0)) -le 256

# Many accounts: uids without a passwd entry are each their own.
t=$(date +%s)
run "$RAW" add-uids 3000 250 303000 2000
is "$RUN_OUT" 250 "uids 3000-3249, without passwd entries, send an ADD_DEV each"
settle
note "250 more refusals took $(($(date +%s) - t)) s"
is "$(nr_records)" 256 "250 uids without passwd entry: 256 records are kept in all"
# (udev may hand the helpers the last few events out of order: the newest
# record is not always the last file written, but it is kept)
run grep -l -x uid=3249 -r "$records"
is "$RUN_RC" 0 "  the newest is kept"
denial bob "$b"
is "$RUN_RC" 1 "  bob's, the oldest, went first"
du=$(du -sk "$records" | cut -f1)
ok "  they take $du KiB" test "$du" -le 1100
done_testing
