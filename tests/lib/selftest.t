#!/bin/bash
# Self-test of tests/lib/tap.sh, run on the host: prove tests/lib/selftest.t
# Each case runs a tiny script using tap.sh and checks its exact TAP output
# and exit status, in particular that every assertion can fail. The checks
# here use plain bash, not tap.sh, so a broken tap.sh cannot hide itself.
set -euo pipefail

lib=$(cd "$(dirname "$0")" && pwd -P)/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

# check NAME EXPECTED_STATUS EXPECTED_STDOUT SCRIPT_BODY [STDERR_REGEX]
check() {
	local name=$1 want_rc=$2 want_out=$3 body=$4 err_re=${5:-} rc=0 out err
	n=$((n + 1))
	printf 'source %q\n%s\n' "$lib" "$body" >"$tmp/t.sh"
	bash "$tmp/t.sh" >"$tmp/out" 2>"$tmp/err" || rc=$?
	out=$(<"$tmp/out") err=$(<"$tmp/err")
	if [[ $rc == "$want_rc" && $out == "$want_out" && $err =~ $err_re ]]; then
		echo "ok $n - $name"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name"
		printf '# status %s (want %s)\n# stdout:\n%s\n# want:\n%s\n# stderr:\n%s\n' \
			"$rc" "$want_rc" "$out" "$want_out" "$err" | sed 's/^/#   /'
	fi
}

echo "1..25"

check "passing assertions" 0 $'1..8\nok 1 - a\nok 2 - b\nok 3 - c\nok 4 - d\nok 5 - e\nok 6 - f\nok 7 - g\nok 8 - h' '
plan 8
ok a true
nok b false
is x x c
isnt x y d
like abc "^a.c$" e
unlike abc "^b" f
pass g
ok h test -d /'

check "ok fails" 1 $'1..1\nnot ok 1 - a' 'plan 1; ok a false' \
	"Failed test 'a'.*at .*t.sh line 2.*exit status: 1"
check "ok shows command output" 1 $'1..1\nnot ok 1 - a' \
	'plan 1; ok a sh -c "echo OUT; echo ERR >&2; exit 3"' 'exit status: 3.*OUT.*ERR'
check "nok fails" 1 $'1..1\nnot ok 1 - a' 'plan 1; nok a true' 'expected a non-zero'
check "is fails" 1 $'1..1\nnot ok 1 - a' 'plan 1; is x y a' "got: 'x'.*expected: 'y'"
check "isnt fails" 1 $'1..1\nnot ok 1 - a' 'plan 1; isnt x x a' "got: 'x'"
check "like fails" 1 $'1..1\nnot ok 1 - a' 'plan 1; like abc "^b" a' "doesn't match"
check "unlike fails" 1 $'1..1\nnot ok 1 - a' 'plan 1; unlike abc "^a" a' 'matches'
check "fail fails" 1 $'1..1\nnot ok 1 - a' 'plan 1; fail a'
check "is needs 3 arguments" 255 $'1..1\nBail out! is: needs GOT EXPECTED NAME, got 2 arguments' \
	'plan 1; is x x'
check "failures counted, script goes on under set -e" 2 \
	$'not ok 1 - a\nok 2 - b\nnot ok 3 - c\n1..3' \
	'set -euo pipefail; is 1 2 a; ok b true; ok c false; done_testing' \
	'failed 2 test'
# Diagnostics of TODO failures go to stdout (as with Test::More), hence the
# extra '#' lines.
todo_diag=$'#   Failed (TODO) test \'a\''
check "TAP_OK" 0 $'not ok 1 - a # TODO later\n'"$todo_diag"$'\n#   at '"$tmp"$'/t.sh line 2.\n#          got: \'1\'\n#     expected: \'2\'\nok 2 - TAP_OK=0\n1..2' \
	'TODO=later; is 1 2 a; TODO=; is "$TAP_OK" 0 "TAP_OK=$TAP_OK"; done_testing'
check "TODO failure does not count" 0 $'1..1\nnot ok 1 - a # TODO not yet\n'"$todo_diag"$'\n#   at '"$tmp"$'/t.sh line 2.\n#   command: false \n#   exit status: 1' \
	'plan 1; TODO="not yet" ok a false' '^$'
check "wrong plan" 255 $'1..2\nok 1 - a' 'plan 2; ok a true' 'planned 2 tests but ran 1'
check "no plan" 255 $'ok 1 - a' 'ok a true' 'No plan'
check "died" 255 $'1..2\nok 1 - a' 'set -e; plan 2; ok a true; false; ok b true' \
	'died with exit status 1'
check "skip_all" 0 $'1..0 # SKIP no ublk' 'plan skip_all no ublk; fail never'
check "skip" 0 $'1..3\nok 1 - a\nok 2 # skip nope\nok 3 # skip nope' \
	'plan 3; pass a; skip nope 2'
check "BAIL_OUT" 255 $'1..2\nBail out! broken' 'plan 2; BAIL_OUT broken; pass a'
check "run captures" 0 $'1..3\nok 1 - rc\nok 2 - out\nok 3 - err' '
plan 3
run sh -c "printf \"a\nb\n\n\"; echo e >&2; exit 4"
is "$RUN_RC" 4 rc
is "$RUN_OUT" $'"'"'a\nb'"'"' out
is "$RUN_ERR" e err'
check "names with # and newlines" 0 $'1..1\nok 1 - a \\# b c' $'plan 1; pass "a # b\nc"'
check "diag and note" 0 $'# to stdout\n1..0 # SKIP x' 'note to stdout; diag to stderr; plan skip_all x' \
	'^# to stderr$'
# Cleanup output goes to stderr, away from the TAP stream.
check "at_exit runs in reverse order" 0 $'1..1\nok 1 - a' \
	'plan 1; at_exit echo first; at_exit echo second; pass a' $'^second\nfirst$'
# sleep: as long as asked, in this shell (no sleep(1): PATH finds none),
# sleep(1) for what is not a plain number of seconds and in a subshell
check "sleep waits in the shell" 0 $'1..4\nok 1 - long enough, without sleep(1)\nok 2 - 1s goes to sleep(1)\nok 3 - so does a bad argument\nok 4 - and a subshell' '
plan 4
path=$PATH PATH=/nonexistent
t=${EPOCHREALTIME/./}; sleep 0.3; rc=$?; d=$((${EPOCHREALTIME/./} - t))
sleep 1s; rc_s=$?
(sleep 0.1); rc_sub=$?
PATH=$path
ok "long enough, without sleep(1)" test "$rc:$((d >= 300000))" = 0:1
is "$rc_s" 127 "1s goes to sleep(1)"
nok "so does a bad argument" sleep -5
is "$rc_sub" 127 "and a subshell"'
# run_as needs root and a user; 'nobody' exists on Debian.
if [[ $(id -u) == 0 ]] && id nobody >/dev/null 2>&1; then
	check "run_as drops to the user with a clean environment" 0 \
		$'1..6\nok 1 - uid\nok 2 - HOME\nok 3 - no leaked env\nok 4 - no caps\nok 5 - XDG_RUNTIME_DIR\nok 6 - no XDG_RUNTIME_DIR' '
plan 6
export LEAK=1
run run_as nobody id -u;                 is "$RUN_OUT" "$(id -u nobody)" uid
run run_as nobody sh -c "echo \$HOME";   is "$RUN_OUT" "$(getent passwd nobody | cut -d: -f6)" HOME
run run_as nobody sh -c "echo \${LEAK:-none}"; is "$RUN_OUT" none "no leaked env"
run run_as nobody grep CapEff /proc/self/status; like "$RUN_OUT" "0000000000000000$" "no caps"
run run_as nobody sh -c "echo \$XDG_RUNTIME_DIR"; is "$RUN_OUT" "/run/user/$(id -u nobody)" XDG_RUNTIME_DIR
run run_as_nosession nobody sh -c "echo \${XDG_RUNTIME_DIR-unset}"; is "$RUN_OUT" unset "no XDG_RUNTIME_DIR"'
else
	n=$((n + 1))
	echo "ok $n # skip run_as needs root and user nobody"
fi

((failed == 0)) || echo "# failed $failed of $n" >&2
exit $((failed > 0))
