#!/bin/bash
# The policy and the nbd target: targets decides who may use nbd;
# nbd_endpoints which NBD servers (socket path patterns, symlinks resolved;
# HOST:PORT patterns), checked by add before it connects; max_size applies
# to the size the server claims.  Each refusal names the rule and where it
# was set; nothing is left behind, and the NBD server never sees a refused
# connection.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/policy.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/nbd.sh"

at_exit policy_reset
at_exit run_as alice ublk-user del -a
at_exit run_as bob ublk-user del -a

site=$DROPIN/10-site.conf
policy_put 10-site.conf '[user:alice]
nbd_endpoints = %h/nbd/*.sock, 127.0.0.1:10809
max_size = 64M
[user:bob]
targets = null, loop, mem
'
run_as alice mkdir -p /home/alice/nbd
good=/home/alice/nbd/disk.sock
other=/home/alice/other.sock
evil_log=/tmp/nbd-evil-policy.log

refused() { # refused USER MESSAGE NAME ARGS...: add fails, nothing left
	local user=$1 want=$2 name=$3
	shift 3
	uu "$user" add "$@"
	is "$RUN_RC" 1 "$name: refused"
	is "$RUN_ERR" "ublk-user: refused by the policy: $want" "$name: says why"
	is "$(all_ublk_nodes)" "" "$name: no device was made"
	is "$(server_pids "$user")" "" "$name: no server"
}

nbd_evil alice "$other" --size 16777216 --log "$evil_log"
refused alice "NBD server $other is not an allowed endpoint: nbd_endpoints=%h/nbd/*.sock,127.0.0.1:10809 for user alice ($site:2)" \
	"a socket outside the list" -t nbd --uri "nbd+unix:///?socket=$other"
run_as alice ln -sf "$other" /home/alice/nbd/link.sock
refused alice "NBD server $other is not an allowed endpoint: nbd_endpoints=%h/nbd/*.sock,127.0.0.1:10809 for user alice ($site:2)" \
	"a link in the allowed directory to a socket outside" \
	-t nbd --uri "nbd+unix:///?socket=/home/alice/nbd/link.sock"
refused alice "NBD server 127.0.0.1:10810 is not an allowed endpoint: nbd_endpoints=%h/nbd/*.sock,127.0.0.1:10809 for user alice ($site:2)" \
	"a TCP port not listed" -t nbd --uri "nbd://127.0.0.1:10810/"
refused alice "NBD server localhost:10809 is not an allowed endpoint: nbd_endpoints=%h/nbd/*.sock,127.0.0.1:10809 for user alice ($site:2)" \
	"a host name is not its address" -t nbd --uri "nbd://localhost/"
run grep -c connected "$evil_log"
is "$RUN_OUT" 0 "the NBD server never saw a connection from a refused add"

nbd_evil alice "$good" --size 134217728
refused alice "size 128M is more than allowed: max_size=64M for user alice ($site:3)" \
	"the size the server claims, above max_size" \
	-t nbd --uri "nbd+unix:///?socket=$good"
nbd_stop "$NBD_PID"
nbd_evil alice "$good" --size 67108864
uu alice add -t nbd --uri "nbd+unix:///?socket=$good" --json
is "$RUN_RC" 0 "an allowed socket, at max_size: allowed"
uu alice del -a

refused bob "target nbd is not allowed: targets=null,loop,mem for user bob ($site:5)" \
	"nbd for a user whose targets lack it" \
	-t nbd --uri "nbd+unix:///?socket=/home/bob/x.sock"

run ublk-user policy show -u alice --json
is "$(jget "$RUN_OUT" '.limits.nbd_endpoints.value | join(",")')" \
	"%h/nbd/*.sock,127.0.0.1:10809" "policy show --json: nbd_endpoints"
no_leftovers alice "at the end"
no_leftovers bob "bob at the end"
done_testing
