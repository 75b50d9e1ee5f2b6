#!/bin/bash
# The policy's max_size, max_queues, max_queue_depth, targets, backing_dirs
# and shmem_zc: add refuses naming the rule; what the kernel can tell
# (queues, depth, size, the SHMEM_ZC flag) the udev helper enforces also
# for a user who skips ublk-user's checks, and add prints its reason.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/policy.sh"

at_exit policy_reset
at_exit run_as alice ublk-user del -a
at_exit run_as bob ublk-user del -a

site=$DROPIN/10-site.conf
policy_put 10-site.conf '[user:alice]
max_size = 64M
max_queues = 1
max_queue_depth = 64
targets = null, loop
backing_dirs = %h/img
'
run_as alice mkdir -p /home/alice/img
run_as alice truncate -s 16M /home/alice/img/ok.img /home/alice/outside.img
run_as alice ln -s ../outside.img /home/alice/img/link.img

refused() { # refused MESSAGE NAME ARGS...: add fails, nothing is left
	local want=$1 name=$2
	shift 2
	uu alice add "$@"
	is "$RUN_RC" 1 "$name: refused"
	is "$RUN_ERR" "ublk-user: refused by the policy: $want" "$name: says why"
	is "$(all_ublk_nodes)" "" "$name: no device was made"
	is "$(server_pids alice)" "" "$name: no server"
}

# --- through ublk-user ------------------------------------------------------------
refused "target mem is not allowed: targets=null,loop for user alice ($site:5)" \
	"targets" -t mem --size 8M
refused "size 128M is more than allowed: max_size=64M for user alice ($site:2)" \
	"max_size" -t null --size 128M -d 64
refused "size 250G is more than allowed: max_size=64M for user alice ($site:2)" \
	"max_size: null's default size counts" -t null -d 64
refused "2 queues are more than allowed: max_queues=1 for user alice ($site:3)" \
	"max_queues" -t null --size 8M -q 2
refused "queue depth 65 is more than allowed: max_queue_depth=64 for user alice ($site:4)" \
	"max_queue_depth" -t null --size 8M -d 65
refused "queue depth 128 is more than allowed: max_queue_depth=64 for user alice ($site:4)" \
	"max_queue_depth: the default depth counts" -t null --size 8M
refused "backing file /home/alice/outside.img is not in an allowed directory: backing_dirs=%h/img for user alice ($site:6)" \
	"backing_dirs" -t loop -f /home/alice/outside.img -d 64
refused "backing file /home/alice/outside.img is not in an allowed directory: backing_dirs=%h/img for user alice ($site:6)" \
	"backing_dirs: a link inside to a file outside" \
	-t loop -f /home/alice/img/link.img -d 64

uu alice add -t null --size 64M -q 1 -d 64 --json
is "$RUN_RC" 0 "at every limit: allowed"
is "$(jget "$RUN_OUT" .size):$(jget "$RUN_OUT" .nr_queues):$(jget "$RUN_OUT" .queue_depth)" \
	67108864:1:64 "  64M, 1 queue of depth 64"
uu alice add -t loop -f /home/alice/img/ok.img -d 64 --json
is "$RUN_RC" 0 "a loop device on a file in %h/img"
is "$(jget "$RUN_OUT" .backing)" /home/alice/img/ok.img "  backed by it"
uu alice del -a
uu bob add -t mem --size 128M -q 2 -d 128
is "$RUN_RC" 0 "alice's section does not bind bob"
uu bob del -a

# --- skipping ublk-user's checks: the helper -----------------------------------------
raw_add alice 0x60 2 16
like "$RAW_ID" '^[0-9]+$' "raw ADD_DEV with 2 queues: the kernel makes it"
nok "  the helper deletes it" test -e "/dev/ublkc$RAW_ID"
denial alice "$RAW_ID"
is "$REASON" "2 queues are more than allowed: max_queues=1 for user alice ($site:3)" \
	"  and says why"
raw_add alice 0x60 1 128
nok "raw ADD_DEV of depth 128: the helper deletes it" test -e "/dev/ublkc$RAW_ID"
denial alice "$RAW_ID"
is "$REASON" "queue depth 128 is more than allowed: max_queue_depth=64 for user alice ($site:4)" \
	"  and says why"

# The size is known once the disk exists (START_DEV).  An ublk-user that
# sees a laxer policy (here: through a mount namespace) makes and starts
# the device; the helper deletes it when its disk appears, and add says why.
lax=/etc/ublk-user-lax
mkdir -m 0755 "$lax"
at_exit rm -rf "$lax"
printf '[default]\nmax_size = unlimited\n' >"$lax/policy.conf"
chmod 0644 "$lax/policy.conf"
run with_policy "$lax" alice ublk-user policy show
like "$RUN_OUT" $'\nmax_size +unlimited +for everyone \\(/etc/ublk-user/policy.conf:' \
	"in the namespace, ublk-user sees the lax policy"
run with_policy "$lax" alice ublk-user add -t null --size 128M -d 64
is "$RUN_RC" 1 "a 128M disk made past ublk-user's check fails"
like "$RUN_ERR" "^ublk-user: the udev helper deleted device [0-9]+, refused by the policy: size 128M is more than allowed: max_size=64M for user alice \\($site:2\\)" \
	"  with the helper's reason, not a timeout"
is "$(all_ublk_nodes)" "" "  no device is left"
is "$(server_pids alice)" "" "  no server is left (add waited for its exit)"
[[ $TAP_OK == 1 ]] || diag "$(server_ps alice)"
is "$(ls -A /run/user/2001/ublk-user)" "" "  no record or log is left"
run with_policy "$lax" alice ublk-user add -t null --size 64M -d 64
is "$RUN_RC" 0 "a 64M disk the same way is kept"
uu alice del -a

# The disk is checked again at each of its change events (a resize sends
# one; here udev replays one after the policy got stricter).
uu alice add -t null --size 64M -d 64 --json
is "$RUN_RC" 0 "a 64M disk under max_size=64M"
id=$(jget "$RUN_OUT" .dev_id)
pid=$(jget "$RUN_OUT" .server_pid)
policy_put 10-site.conf "$(sed 's/^max_size = 64M$/max_size = 32M/' "$site")
"
udevadm trigger --action=change "/dev/ublkb$id"
settle
ok "  max_size lowered to 32M, a change event: the helper deletes it" \
	timeout 20 sh -c "while [ -e /dev/ublkc$id ]; do sleep 0.2; done"
denial alice "$id"
is "$REASON" "size 64M is more than allowed: max_size=32M for user alice ($site:2)" \
	"  and says why"
ok "  its server exits" timeout 20 sh -c "while kill -0 $pid 2>/dev/null; do sleep 0.2; done"
uu alice del -a

# --- SHMEM_ZC ---------------------------------------------------------------------
zc=$(line_of "$POLICY_DIR/policy.conf" '^shmem_zc')
raw_add alice 0x80060
like "$RAW_ID" '^[0-9]+$' "raw ADD_DEV with UBLK_F_SHMEM_ZC: the kernel makes it"
if lacks UBLK_F_SHMEM_ZC; then
	# The kernel drops a flag it does not know: the device it made
	# cannot pin memory, so the helper has nothing to refuse.
	run run_as alice "$RAW" flags "$RAW_ID"
	is "$((RUN_OUT & 0x80000))" 0 "  without the flag: this kernel drops it"
	is "$(stat -c %U "/dev/ublkc$RAW_ID" 2>&1)" alice "  and the helper hands it to alice"
	run run_as alice "$RAW" del "$RAW_ID"
	is "$RUN_OUT" ok "  alice deletes it"
	skip "$LACKS"
else
	nok "  the helper deletes it" test -e "/dev/ublkc$RAW_ID"
	denial alice "$RAW_ID"
	is "$REASON" "UBLK_F_SHMEM_ZC is not allowed: shmem_zc=no for everyone ($POLICY_DIR/policy.conf:$zc)" \
		"  as shmem_zc is not granted"
	policy_put 20-bob.conf '[user:bob]
shmem_zc = yes
'
	raw_add bob 0x80060
	like "$RAW_ID" '^[0-9]+$' "bob (shmem_zc = yes): raw ADD_DEV with SHMEM_ZC"
	is "$(stat -c %U "/dev/ublkc$RAW_ID" 2>&1)" bob "  is handed to bob"
	run run_as bob "$RAW" flags "$RAW_ID"
	is "$((RUN_OUT & 0x80000))" $((0x80000)) "  with the flag"
	run run_as bob "$RAW" del "$RAW_ID"
	is "$RUN_OUT" ok "  bob deletes it"
	raw_add alice 0x80060
	nok "alice still may not" test -e "/dev/ublkc$RAW_ID"
fi

# A record is forgotten once a device with its id is handed over.
raw_add alice 0x60 1 128
nok "raw ADD_DEV of depth 128 again: refused" test -e "/dev/ublkc$RAW_ID"
ok "  a record says why" test -e "/run/ublk-user/denied/dev-$RAW_ID"
uu alice add -t null --size 8M -d 64 -n "$RAW_ID"
is "$RUN_RC" 0 "alice adds a device with the refused one's id"
nok "  the old record is gone" test -e "/run/ublk-user/denied/dev-$RAW_ID"
uu alice del -a

no_leftovers alice "at the end"
no_leftovers bob "at the end"
done_testing
