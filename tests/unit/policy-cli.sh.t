#!/bin/bash
# SPDX-License-Identifier: MIT
# ublk-user policy and doctor without a kernel: usage errors (exit 2),
# `policy check FILE...` output and exit status, and what `make install`
# puts in place (the udev rule with UBLK_GROUP/UBLK_CONTROL_MODE, the
# default policy, kept on reinstall).  Run by prove with UBLK_USER_BIN.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd -P)
source "$root/tests/lib/tap.sh"

BIN=${UBLK_USER_BIN:-build/ublk-user}
[[ $BIN == /* ]] || BIN=$root/$BIN
[[ -x $BIN ]] || BAIL_OUT "no binary at $BIN (set UBLK_USER_BIN)"
build=$(dirname "$BIN")
tmp=$(mktemp -d)
at_exit rm -rf "$tmp"
export XDG_RUNTIME_DIR=$tmp

uu() { run "$BIN" "$@"; }

note "usage"
usage() { # usage EXPECTED_MSG ARGS...
	local want=$1
	shift
	uu "$@"
	is "$RUN_RC" 2 "$*: exit 2"
	like "$RUN_ERR" "$want" "$*: says why"
	is "$RUN_OUT" "" "$*: nothing on stdout"
}
usage '^Usage: ublk-user policy check' policy
usage "^ublk-user policy: unknown subcommand 'frob' \\(check, show\\)" \
	policy frob
usage "^ublk-user policy show: unknown option --bogus" policy show --bogus
usage "^ublk-user policy show: option --user needs a value" \
	policy show --user
usage "^ublk-user policy show: unexpected argument 'x'" policy show x
usage "^ublk-user policy check: unknown option -x" policy check -x
usage "^ublk-user doctor: unknown option --bogus" doctor --bogus
usage "^ublk-user doctor: unexpected argument 'x'" doctor x
for a in "policy --help" "policy check --help" "policy show -h" \
	"doctor --help"; do
	uu $a
	is "$RUN_RC" 0 "$a: exit 0"
	like "$RUN_OUT" '^Usage: ublk-user ' "$a: usage on stdout"
done
uu doctor --help
like "$RUN_OUT" "--json" "doctor --help names --json"
uu help
like "$RUN_OUT" $'\n  policy ' "help lists policy"
like "$RUN_OUT" $'\n  doctor ' "help lists doctor"

note "policy check FILE..."
cat >"$tmp/good.conf" <<'EOF'
# a site policy
[default]
max_devices = 2
targets = null, loop

[group:0]
max_size = 1T
EOF
cat >"$tmp/bad.conf" <<'EOF'
[default]
allow = yes
foo = 1
max_size = 12X
EOF
cat >"$tmp/bad2.conf" <<'EOF'
[user:root]
mlock = yes
mlock = no
EOF
uu policy check "$tmp/good.conf"
is "$RUN_RC" 0 "a good file: exit 0"
is "$RUN_OUT" "$tmp/good.conf: ok" "a good file: says ok"
is "$RUN_ERR" "" "a good file: nothing on stderr"

uu policy check "$tmp/bad.conf"
is "$RUN_RC" 1 "a bad file: exit 1"
is "$RUN_OUT" "" "a bad file: nothing on stdout"
is "$RUN_ERR" "$tmp/bad.conf:3: unknown key 'foo' (known: allow, max_devices, max_size, max_queues, max_queue_depth, targets, backing_dirs, nbd_endpoints, shmem_zc, max_shmem, mlock, max_locked, containers, read_only, read_only_dirs)
$tmp/bad.conf:4: max_size: unknown unit 'X' in '12X' (use K, M, G or T)
ublk-user: 2 errors: not a valid policy" "a bad file: every error as FILE:LINE, then a count"

uu policy check "$tmp/good.conf" "$tmp/bad2.conf" -- "$tmp/nope.conf"
is "$RUN_RC" 1 "three files: exit 1"
is "$RUN_ERR" "$tmp/bad2.conf:3: duplicate key 'mlock' in [user:root] (first at line 2)
--: cannot open: No such file or directory
$tmp/nope.conf: cannot open: No such file or directory
ublk-user: 3 errors: not a valid policy" \
	"three files: errors in order; only a leading -- ends the options"

uu policy check -- "$tmp/good.conf"
is "$RUN_RC" 0 "check -- FILE: exit 0"

printf '[group:no-such-group-ublk-test]\nallow = no\n' >"$tmp/names.conf"
uu policy check "$tmp/names.conf"
is "$RUN_RC" 1 "an unknown group: exit 1"
is "${RUN_ERR%%$'\n'*}" "$tmp/names.conf:1: unknown group 'no-such-group-ublk-test'" \
	"an unknown group: named with its line"

uu policy check "$root/policy/policy.conf"
is "$RUN_RC" 0 "the shipped policy.conf is valid"

note "make install"
dest=$tmp/dest
run make -s -C "$root" install BUILD="$build" DESTDIR="$dest" PREFIX=/usr \
	UBLK_GROUP=disk UBLK_CONTROL_MODE=0666
is "$RUN_RC" 0 "make install with UBLK_GROUP and UBLK_CONTROL_MODE"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
rule=$dest/usr/lib/udev/rules.d/70-ublk-user.rules
run grep -v '^#' "$rule"
is "$RUN_OUT" 'KERNEL=="ublk-control", GROUP="disk", MODE="0666"

ACTION=="add|change", SUBSYSTEM=="ublk-char", KERNEL=="ublkc[0-9]*", RUN+="/usr/libexec/ublk-user/ublk-user-udev %k"
ACTION=="add|change", SUBSYSTEM=="block", ENV{DEVTYPE}=="disk", KERNEL=="ublkb[0-9]*", RUN+="/usr/libexec/ublk-user/ublk-user-udev %k"

ACTION=="add", SUBSYSTEM=="block", ENV{DEVTYPE}=="disk", KERNEL=="ublkb[0-9]*", ATTR{queue/scheduler}="none"' \
	"the rule: ublk-control as chosen, the helper where it is installed, no I/O scheduler on ublk disks"
disks=$dest/usr/lib/udev/rules.d/10-ublk-user-disks.rules
run grep -c -F 'IMPORT{program}="/usr/libexec/ublk-user/ublk-user-udev --classify %k"' "$disks"
is "$RUN_OUT" 1 "10-ublk-user-disks.rules is installed, naming the helper where it is"
is "$(stat -c %a "$disks")" 644 "  mode 0644"
ok "the default policy is installed as is" \
	cmp "$root/policy/policy.conf" "$dest/etc/ublk-user/policy.conf"
is "$(stat -c %a "$dest/etc/ublk-user/policy.conf" \
	"$dest/etc/ublk-user" "$dest/etc/ublk-user/policy.d" | tr '\n' ' ')" \
	"644 755 755 " "policy.conf 0644, its directories 0755"
ok "the example policy is installed" \
	test -f "$dest/usr/share/doc/ublk-user/examples/10-site.conf"
ok "ublk-user.policy(5) is installed" \
	test -f "$dest/usr/share/man/man5/ublk-user.policy.5"
is "$(sed -n '/^\.SH EXAMPLE$/,/^\.fi$/p' "$root/man/ublk-user.policy.5" |
	sed '1,2d;$d')" "$(cat "$root/policy/examples/10-site.conf")" \
	"  its EXAMPLE is the example file, as it says"
echo "# mine" >>"$dest/etc/ublk-user/policy.conf"
run make -s -C "$root" install BUILD="$build" DESTDIR="$dest" PREFIX=/usr
is "$RUN_RC" 0 "make install again"
is "$(tail -n 1 "$dest/etc/ublk-user/policy.conf")" "# mine" \
	"an existing policy.conf is kept"
run grep -c 'GROUP="ublk", MODE="0660"' "$rule"
is "$RUN_OUT" 1 "by default: group ublk, mode 0660"

done_testing
