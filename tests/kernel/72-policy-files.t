#!/bin/bash
# Malformed and insecure policies: each refuses everything (policy check,
# add, and the udev helper for a raw ADD_DEV), naming FILE:LINE.  A missing
# policy is the built-in default.  The output of policy check and of
# policy show (text and --json).
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/policy.sh"

at_exit policy_reset
at_exit run_as alice ublk-user del -a
invalid="the ublk-user policy is invalid, so every request is refused"

# bad NAME ERROR [ALICE_ERROR]: the installed policy is refused with ERROR
# (FILE:LINE: what), by policy check, by add and by the udev helper.
# ALICE_ERROR: what alice sees where it differs (she cannot read a file).
bad() {
	local name=$1 want=$2 alice_want=${3:-$2}
	run ublk-user policy check
	is "$RUN_RC" 1 "$name: policy check fails"
	is "${RUN_ERR%%$'\n'*}" "$want" "$name: policy check names it"
	like "$RUN_ERR" $'\nublk-user: 1 error: the policy is invalid, so every request is refused until it is fixed$' \
		"$name: policy check counts it"
	uu alice add -t null
	is "$RUN_RC" 1 "$name: add is refused"
	is "$RUN_ERR" "ublk-user: $invalid: $alice_want" "$name: add says why"
	raw_add alice
	like "$RAW_ID" '^[0-9]+$' "$name: raw ADD_DEV: the kernel makes it"
	nok "$name: the helper deletes it" test -e "/dev/ublkc$RAW_ID"
	denial alice "$RAW_ID"
	is "$REASON" "$invalid: $want" "$name: the helper says why"
	is "$(all_ublk_nodes)" "" "$name: no device is left"
	policy_reset
}

f=$DROPIN/10-site.conf
known="allow, max_devices, max_size, max_queues, max_queue_depth, targets, backing_dirs, nbd_endpoints, shmem_zc, max_shmem, mlock, max_locked, containers, read_only, read_only_dirs"

# --- malformed -------------------------------------------------------------------
policy_put 10-site.conf '[default]
max_devices = 2
max_device = 3
'
bad "unknown key" "$f:3: unknown key 'max_device' (known: $known)"
policy_put 10-site.conf '# sizes
[group:ublk]
max_size = 10X
'
bad "bad value" "$f:3: max_size: unknown unit 'X' in '10X' (use K, M, G or T)"
policy_put 10-site.conf '[user:alice]
allow = yes
allow = no
'
bad "duplicate key" "$f:3: duplicate key 'allow' in [user:alice] (first at line 2)"
policy_put 10-site.conf '[default]
max_devices 2
'
bad "no '='" "$f:2: expected 'key = value', a [section] or a # comment"
policy_put 10-site.conf '[group:nosuchgroup]
allow = no
'
bad "unknown group" "$f:1: unknown group 'nosuchgroup'"
policy_put 10-site.conf '[users:alice]
'
bad "unknown section" "$f:1: unknown section [users:alice] (use [default], [group:NAME] or [user:NAME])"
policy_put 10-site.conf '[default]
targets = null, floppy
'
bad "unknown target" "$f:2: targets: unknown target 'floppy' (known: null, loop, mem, nbd)"
printf 'allow = yes\n[default]\n' >"$POLICY_DIR/policy.conf"
bad "a key before any section in policy.conf" \
	"$POLICY_DIR/policy.conf:1: 'allow' is outside a section (start with [default], [group:NAME] or [user:NAME])"

# --- insecure or unreadable ---------------------------------------------------------
good='[default]
max_devices = 4
'
policy_put 10-site.conf "$good"
chown alice "$f"
bad "not owned by root" "$f: owned by uid 2001, not by root: refused"
policy_put 10-site.conf "$good"
chmod 0664 "$f"
bad "group-writable" "$f: mode 0664 is writable by group or others: refused (use 0644)"
policy_put 10-site.conf "$good"
chmod 0646 "$f"
bad "world-writable" "$f: mode 0646 is writable by group or others: refused (use 0644)"
printf '%s' "$good" >/root/real.conf
ln -s /root/real.conf "$f"
bad "a symbolic link" "$f: is a symbolic link: refused (policy files and directories must not be)"
policy_put 10-site.conf "$good"
chmod 0600 "$f"
bad "unreadable by users" \
	"$f: mode 0600 is not readable by everyone, and ublk-user checks requests as the user: refused (use 0644)" \
	"$f: cannot open: Permission denied"
mkdir "$f"
bad "a directory named .conf" "$f: not a regular file"
chmod 0775 "$DROPIN"
bad "policy.d group-writable" "$DROPIN: mode 0775 is writable by group or others: refused (use 0755)"
chown alice "$POLICY_DIR"
bad "/etc/ublk-user not owned by root" "$POLICY_DIR: owned by uid 2001, not by root: refused"
mv "$POLICY_DIR" /etc/ublk-user.real
ln -s /etc/ublk-user.real "$POLICY_DIR"
at_exit rm -rf /etc/ublk-user.real
bad "/etc/ublk-user a symbolic link" "$POLICY_DIR: is a symbolic link: refused (policy files and directories must not be)"

# Files that are not *.conf are not read: not even a broken one.
printf 'junk\n' >"$DROPIN/README"
printf 'junk\n' >"$DROPIN/10-site.conf~"
printf 'junk\n' >"$DROPIN/.hidden.conf"
run ublk-user policy check
is "$RUN_RC" 0 "README, backups and hidden files in policy.d are ignored"
policy_reset

# --- no policy at all: the built-in default ----------------------------------------
rm -rf "$POLICY_DIR"
run ublk-user policy check
is "$RUN_RC" 0 "no /etc/ublk-user: policy check passes"
is "$RUN_OUT" "no policy files in /etc/ublk-user: the built-in default applies" \
	"  and says the built-in default applies"
uu alice policy show
like "$RUN_OUT" $'\nmax_devices +16 +\\(built-in default\\)\n' "  show: the built-in default"
uu alice add -t null
is "$RUN_RC" 0 "  add works"
uu alice del -a
uu alice doctor --json
is "$(jget "$RUN_OUT" '.checks[] | select(.name == "policy") | .message')" \
	"no policy files: the built-in default; for you: max_devices=16 (built-in default)" \
	"  doctor: the built-in default"
policy_reset

# --- policy check and policy show ----------------------------------------------------
cp /usr/share/doc/ublk-user/examples/10-site.conf "$f"
ex=$f
run ublk-user policy check
is "$RUN_RC" 0 "the example policy is valid"
is "$RUN_OUT" "$POLICY_DIR/policy.conf: ok
$f: ok" "policy check lists the files it read"
is "$RUN_ERR" "" "  and nothing on stderr"
run ublk-user policy check /usr/share/doc/ublk-user/examples/10-site.conf
is "$RUN_RC" 0 "policy check FILE"

uu alice policy show --json
is "$RUN_RC" 0 "alice: policy show --json"
j=$RUN_OUT
is "$(jget "$j" '[.user, .uid, .valid, (.groups | index("ublk") != null)] | join(" ")')" \
	"alice 2001 true true" "  user, uid, valid, groups"
is "$(jget "$j" '.files | join(" ")')" "$POLICY_DIR/policy.conf $f" "  files"
is "$(jget "$j" '.errors | length')" 0 "  no errors"
is "$(jget "$j" '.limits.max_devices | "\(.value) \(.section) \(.file):\(.line)"')" \
	"8 [user:alice] $f:$(line_of "$ex" '^max_devices = 8')" "  max_devices: alice's own"
is "$(jget "$j" '.limits.targets | "\(.value | join(",")) \(.section) \(.line)"')" \
	"null,loop,mem,nbd [group:ublk] $(line_of "$ex" '^targets = null, loop')" "  targets: group ublk's"
is "$(jget "$j" '.limits.max_size.value')" 1099511627776 "  max_size in bytes"
is "$(jget "$j" '.limits.backing_dirs | "\(.value | join(",")) \(.expanded | join(","))"')" \
	"%h,/srv/images/%u,/srv/images/common /home/alice,/srv/images/alice,/srv/images/common" \
	"  backing_dirs, expanded for alice"
is "$(jget "$j" '.limits.read_only_dirs | "\(.value | join(",")) \(.expanded | join(",")) \(.section)"')" \
	"/srv/images/common /srv/images/common [group:ublk]" "  read_only_dirs: group ublk's, expanded"
is "$(jget "$j" '.limits.allow | "\(.value) \(.section) \(.file):\(.line)"')" \
	"true [default] $POLICY_DIR/policy.conf:$(line_of "$POLICY_DIR/policy.conf" '^allow')" \
	"  allow: from policy.conf"
is "$(jget "$j" '.limits.mlock.value, .limits.shmem_zc.value' | tr '\n' ' ')" "true true " \
	"  mlock and shmem_zc granted to alice"
is "$(jget "$j" '.limits.nbd_endpoints.value | join(",")')" \
	"/run/user/%U/*.sock,*.storage.example:10809" "  nbd_endpoints: group ublk's"
is "$(jget "$j" '.limits | keys | length')" 15 "  every key"

uu alice policy show --user bob --json
is "$(jget "$RUN_OUT" '[.user, .limits.max_devices.value, .limits.max_devices.section, .limits.shmem_zc.value] | join(" ")')" \
	"bob 4 [group:ublk] false" "--user bob: bob's limits"
uu alice policy show --user carol
is "$RUN_RC" 0 "--user carol, as text"
like "$RUN_OUT" "^policy for carol \\(uid 2003; groups carol\\)" "  the user"
like "$RUN_OUT" $'\nmax_devices +2 +for everyone \\('"$f:$(line_of "$ex" '^max_devices = 2')"$'\\)\n' \
	"  max_devices from [default] of the example"
like "$RUN_OUT" $'\nbacking_dirs +none +for everyone ' "  no backing files"
like "$RUN_OUT" $'\ncontainers +no +for everyone ' "  no containers"
uu alice policy show --user 2002
like "$RUN_OUT" "^policy for bob " "--user takes a uid"
uu alice policy show --user nobody-such
is "$RUN_RC" 1 "--user of an unknown user fails"
is "$RUN_ERR" "ublk-user: no user 'nobody-such'" "  and says so"

policy_put 10-site.conf '[default]
max_devices = two
'
uu alice policy show --json
is "$RUN_RC" 1 "an invalid policy: show --json exits 1"
is "$(jget "$RUN_OUT" '[.valid, .limits, .errors[0]] | map(tostring) | join("|")')" \
	"false|null|$f:2: max_devices: 'two' is not a number" "  valid false, the error, no limits"
uu alice policy show
is "$RUN_RC" 1 "an invalid policy: show exits 1"
is "$RUN_ERR" "$f:2: max_devices: 'two' is not a number
ublk-user: $invalid: $f:2: max_devices: 'two' is not a number" "  with the error"

no_leftovers alice "at the end"
done_testing
