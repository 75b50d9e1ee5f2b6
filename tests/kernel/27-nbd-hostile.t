#!/bin/bash
# The nbd target against a hostile NBD server (build/tests/nbd-evil), as
# alice.  A bad handshake: add refuses, saying why, and leaves nothing.
# A bad reply: the connection is dropped and made again (NBD_ESHUTDOWN:
# after our NBD_CMD_DISC), backing off while no request is answered; a
# request still unanswered at --nbd-timeout fails with EIO; our server
# lives on, its log says what the NBD server did, and del cleans up.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/nbd.sh"

at_exit run_as alice ublk-user del -a
sock=/home/alice/evil.sock
uri="nbd+unix:///?socket=$sock"
log() { cat "/run/user/$(uid_of alice)/ublk-user/dev-$1.log"; }

note "hostile handshakes: refused, nothing left"
handshake() { # MODE MESSAGE-ERE
	nbd_evil alice "$sock" --mode "$1"
	uu alice add -t nbd --uri "$uri"
	is "$RUN_RC" 1 "$1: add refuses"
	like "$RUN_ERR" "^ublk-user: NBD server $sock: .*$2" "  and says why"
	is "$(wc -l <<<"$RUN_ERR")" 1 "  on one line"
	nbd_stop "$NBD_PID"
	no_leftovers alice "$1"
}
# Every hostile handshake of nbd-evil is refused by the NBD client in
# tests/unit/nbd-servers.sh.t, on the host (add checks the server before
# it asks the kernel for anything); here a few, through add, end to end.
handshake greeting-magic "not an NBD server"
handshake refuse "the server refused export '': no such export"
handshake block-size-big "minimum block size 8192 is above 4096"
handshake close-handshake "the server closed the connection"
start=$SECONDS
handshake hang-handshake "the server did not answer in time"
ok "  hang-handshake: given up after 10 s, not later" \
	test $((SECONDS - start)) -le 30

note "hostile replies"
# reply MODE READ-OK(0|1) LOG-ERE: a 4k read at 1 MiB, then the checks
# (the connection is watched while idle too: junk after a good reply is
# seen without another request)
reply() {
	local mode=$1 want=$2 msg=$3 dev spid
	nbd_evil alice "$sock" --mode "$mode"
	uu alice add -t nbd --uri "$uri" --nbd-timeout 3 --json
	is "$RUN_RC" 0 "$mode: add (the handshake is fine)"
	dev=$(jget "$RUN_OUT" .dev_id)
	spid=$(jget "$RUN_OUT" .server_pid)
	start=$SECONDS
	run run_as alice dd if="/dev/ublkb$dev" of=/dev/null bs=4k count=1 \
		skip=256 iflag=direct
	if [[ $want == 1 ]]; then
		is "$RUN_RC" 0 "  the read succeeds"
	else
		isnt "$RUN_RC" 0 "  the read fails"
		like "$RUN_ERR" "Input/output error" "  with EIO"
	fi
	ok "  within the timeout ($((SECONDS - start)) s)" \
		test $((SECONDS - start)) -le 15
	ok "  our server is alive" kill -0 "$spid"
	like "$(log "$dev")" "$msg" "  its log says what happened"
	uu alice del -n "$dev"
	is "$RUN_RC" 0 "  del"
	[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"$'\n'"$(log "$dev")"
	nbd_stop "$NBD_PID"
	no_leftovers alice "$mode"
}
reply reply-magic 0 "protocol|bad magic 0x67446699 in a reply"
reply reply-structured 0 "a structured reply, which we never asked for"
reply reply-cookie 0 "a reply to cookie 0x5a5a5a5b[0-9a-f]{8}, which is not in flight"
reply reply-duplicate 1 "which is not in flight"
reply reply-error 0 "device live"
reply reply-shutdown 0 "the server is shutting down \\(NBD_ESHUTDOWN\\)"
reply read-short 0 "no reply for 1 s"
reply read-long 1 "bad magic 0x5a5a5a5a in a reply"
reply hang 0 "no reply for 1 s"
reply close 0 "the server closed the connection"

note "NBD_ESHUTDOWN: a soft disconnect, as the protocol asks"
# Every reply is NBD_ESHUTDOWN.  Each connection that had one must end
# with our NBD_CMD_DISC (nbd-evil logs "exit: NBD_CMD_DISC"), not with a
# closed socket ("exit: client closed"); the next one is made after a
# wait that doubles from 100 ms, since none answered anything.
evil_log=/tmp/nbd-evil-shutdown.log
rm -f "$evil_log"
nbd_evil alice "$sock" --mode reply-shutdown --log "$evil_log"
uu alice add -t nbd --uri "$uri" --nbd-timeout 3 --json
is "$RUN_RC" 0 "reply-shutdown, logged: add"
dev=$(jget "$RUN_OUT" .dev_id)
run run_as alice dd if="/dev/ublkb$dev" of=/dev/null bs=4k count=1 \
	skip=256 iflag=direct
like "$RUN_ERR" "Input/output error" "  the read fails at --nbd-timeout"
like "$(log "$dev")" "NBD_ESHUTDOWN\); NBD_CMD_DISC sent" \
	"  the log says it said goodbye"
uu alice del -n "$dev"
is "$RUN_RC" 0 "  del"
nbd_stop "$NBD_PID"
run awk '/ error 108$/ { told[$2] = 1 } / exit: / { end[$2] = $0 }
	END { for (c in told) { n++; if (end[c] !~ /exit: NBD_CMD_DISC$/) {
		print "conn " c " ended: " end[c]; bad = 1 } }
	      if (n < 2) { print n + 0 " connections were told"; bad = 1 }
	      exit bad }' "$evil_log"
is "$RUN_RC" 0 "  every connection told NBD_ESHUTDOWN ended with NBD_CMD_DISC"
[[ $RUN_RC == 0 ]] || diag "$RUN_OUT"$'\n'"$(cat "$evil_log")"
# Backing off from 100 ms: about 6 in the 3 s (it was hundreds)
conns=$(grep -c ': connected$' "$evil_log")
ok "  a server that answers nothing is not asked again at once ($conns connections)" \
	test "$conns" -le 20
no_leftovers alice "reply-shutdown, logged"

note "del: a soft disconnect on every connection"
# Nothing is in flight when del stops the queues: each says goodbye with
# NBD_CMD_DISC rather than closing its socket ("exit: client closed").
rm -f "$evil_log"
nbd_evil alice "$sock" --multi-conn --log "$evil_log"
uu alice add -t nbd --uri "$uri" --queues 2 --json
is "$RUN_RC" 0 "two queues, two connections: add"
dev=$(jget "$RUN_OUT" .dev_id)
run run_as alice dd if="/dev/ublkb$dev" of=/dev/null bs=4k count=64 \
	iflag=direct
is "$RUN_RC" 0 "  reads"
uu alice del -n "$dev"
is "$RUN_RC" 0 "  del"
for ((i = 0; i < 50; i++)); do
	(($(grep -c ' exit: ' "$evil_log") >= $(grep -c ': connected$' "$evil_log"))) && break
	sleep 0.1
done
nbd_stop "$NBD_PID"
run awk '/: connected$/ { n++ } / exit: NBD_CMD_DISC$/ { disc++ }
	/ exit: / && !/NBD_CMD_DISC$/ { print; bad = 1 }
	END { if (n < 2 || disc != n) { print n + 0 " connections, " disc + 0 " NBD_CMD_DISC"; bad = 1 }
	      exit bad }' "$evil_log"
is "$RUN_RC" 0 "  every connection ended with NBD_CMD_DISC"
[[ $RUN_RC == 0 ]] || diag "$RUN_OUT"$'\n'"$(cat "$evil_log")"
no_leftovers alice "del's goodbye"

note "the NBD server comes back as another disk"
change() { # WHAT ARGS... (for the second nbd-evil): then MESSAGE-ERE
	local what=$1 msg=$2 dev spid
	shift 2
	nbd_evil alice "$sock" --size 16777216
	uu alice add -t nbd --uri "$uri" --nbd-timeout 3 --json
	dev=$(jget "$RUN_OUT" .dev_id)
	spid=$(jget "$RUN_OUT" .server_pid)
	nbd_stop "$NBD_PID"
	nbd_evil alice "$sock" "$@"
	run run_as alice dd if="/dev/ublkb$dev" of=/dev/null bs=4k count=1 \
		iflag=direct
	isnt "$RUN_RC" 0 "$what: I/O fails rather than go to another disk"
	like "$(log "$dev")" "$msg" "  the log says why"
	ok "  our server is alive" kill -0 "$spid"
	uu alice del -n "$dev"
	is "$RUN_RC" 0 "  del"
	[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"$'\n'"$(log "$dev")"
	nbd_stop "$NBD_PID"
}
change "a size change" \
	"the export's size changed from 16777216 to 33554432 bytes" \
	--size 33554432
change "now read-only" "the export's flags changed from '.*' to 'read-only " \
	--size 16777216 --read-only
no_leftovers alice "at the end"
done_testing
