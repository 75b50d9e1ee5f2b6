#!/bin/bash
# SPDX-License-Identifier: MIT
# Command-line handling of ublk-user that needs no kernel: help texts,
# usage errors and their exit status (0 ok, 1 failure, 2 usage error).
# Run by prove with UBLK_USER_BIN pointing at the binary under test.
set -u

BIN=${UBLK_USER_BIN:-build/ublk-user}

# --- a tiny TAP producer ------------------------------------------------
tap_n=0
tap_failed=0

tap_result() { # pass desc
	tap_n=$((tap_n + 1))
	local desc=${2//#/\\#}
	if [[ $1 == 1 ]]; then
		echo "ok $tap_n - $desc"
	else
		echo "not ok $tap_n - $desc"
		tap_failed=$((tap_failed + 1))
		echo "#   Failed test '$2'" >&2
		# the line in the script's body that led here
		echo "#   at ${BASH_SOURCE[0]} line" \
			"${BASH_LINENO[${#BASH_LINENO[@]} - 2]}." >&2
	fi
}

diag() { printf '%s\n' "$@" | sed 's/^/# /' >&2; }
note() { printf '%s\n' "$@" | sed 's/^/# /'; }

ok() { # cond-status desc: ok "$([[ ... ]]; echo $?)" desc
	if [[ $1 == 0 ]]; then tap_result 1 "$2"; else tap_result 0 "$2"; fi
}

is() { # got want desc
	if [[ $1 == "$2" ]]; then
		tap_result 1 "$3"
	else
		tap_result 0 "$3"
		diag "         got: '$1'" "    expected: '$2'"
	fi
}

contains() { # got substring desc
	if [[ $1 == *"$2"* ]]; then
		tap_result 1 "$3"
	else
		tap_result 0 "$3"
		diag "    '$1'" "    does not contain '$2'"
	fi
}

like() { # got ERE desc
	if [[ $1 =~ $2 ]]; then
		tap_result 1 "$3"
	else
		tap_result 0 "$3"
		diag "    '$1'" "    does not match /$2/"
	fi
}

done_testing() {
	echo "1..$tap_n"
	if ((tap_failed)); then
		diag "Looks like you failed $tap_failed test(s) of $tap_n."
		exit $((tap_failed < 254 ? tap_failed : 254))
	fi
	exit 0
}

# --- running the binary -------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Nothing here may reach the kernel or a real runtime directory.
export XDG_RUNTIME_DIR=$tmp

# run ARGS...: sets $rc, $out, $err (whole) and $err1 (first line)
run() {
	"$BIN" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	err1=${err%%$'\n'*}
	err_lines=$(wc -l <"$tmp/err")
}

[[ -x $BIN ]] || { echo "Bail out! no binary at $BIN (set UBLK_USER_BIN)"; exit 255; }
note "binary: $BIN"

# A usage error: exit 2, nothing on stdout, one line of message and
# one line pointing at --help.  Then: substrings of that message.
usage_error() { # cmd "args" substrings...
	local cmd=$1 args=$2 s
	shift 2
	# args is shell words: quotes in it keep spaces and empty values
	eval "run $cmd $args"
	is "$rc" 2 "$cmd $args: exit 2"
	is "$out" "" "$cmd $args: nothing on stdout"
	like "$err1" "^ublk-user $cmd: " "$cmd $args: message names the command"
	for s in "$@"; do
		contains "$err1" "$s" "$cmd $args: message has \"$s\""
	done
	is "$err_lines" 2 "$cmd $args: a one-line message and a hint"
	contains "$err" "Try 'ublk-user $cmd --help'." "$cmd $args: the hint"
}

# --- help and version ---------------------------------------------------
note "help and version"
for h in help --help -h; do
	run $h
	is "$rc" 0 "$h: exit 0"
	like "$out" "^Usage: ublk-user COMMAND" "$h: usage on stdout"
	for c in add list del features; do
		like "$out" $'\n'"  $c " "$h: lists the $c command"
	done
	contains "$out" "0 success, 1 failure, 2 usage error" \
		"$h: documents the exit statuses"
	contains "$out" "3 status: the disk is not up, 4 up: no such disk file" \
		"$h:   all of them"
	is "$err" "" "$h: nothing on stderr"
done

for v in --version version; do
	run $v
	is "$rc" 0 "$v: exit 0"
	like "$out" '^ublk-user [0-9]+\.[0-9]+\.[0-9]+$' "$v: 'ublk-user X.Y.Z'"
	is "$err" "" "$v: nothing on stderr"
done

run
is "$rc" 2 "no command: exit 2"
is "$out" "" "no command: nothing on stdout"
like "$err" "^Usage: ublk-user COMMAND" "no command: usage on stderr"

run frobnicate
is "$rc" 2 "unknown command: exit 2"
is "$out" "" "unknown command: nothing on stdout"
is "$err1" "ublk-user: unknown command 'frobnicate'" \
	"unknown command: named on stderr"
contains "$err" "Usage: ublk-user COMMAND" "unknown command: with the usage"

# --- each command's help ------------------------------------------------
note "subcommand help"
declare -A opts=(
	[add]="--target --file --size --queues --depth --id --json --help"
	[list]="--id --json --help"
	[del]="--id --all --help"
	[features]="--json --help"
)
for c in add list del features; do
	for h in --help -h; do
		run $c $h
		is "$rc" 0 "$c $h: exit 0"
		like "$out" "^Usage: ublk-user $c" "$c $h: its usage on stdout"
		is "$err" "" "$c $h: nothing on stderr"
	done
	for o in ${opts[$c]}; do
		contains "$out" "$o" "$c --help documents $o"
	done
done
run add --help -t bogus -q 0
is "$rc" 0 "add --help before bad options: help wins, exit 0"

# Every command help lists has a --help of its own, which `help CMD` shows
run help
listed=$(sed -n 's/^  \([a-z]\+\) .*/\1/p' <<<"$out")
like "$(echo $listed)" "^add list del up down resize snapshot status features policy doctor gc help version$" \
	"help lists the commands of the table, in its order"
for c in $listed; do
	run $c --help
	is "$rc" 0 "$c --help: exit 0"
	like "$out" "^Usage: ublk-user $c" "$c --help: its usage"
	help_text=$out
	run help $c
	is "$out" "$help_text" "help $c: the same text"
done
run help frobnicate
is "$rc" 2 "help of an unknown command: exit 2"
is "$err1" "ublk-user help: unknown command 'frobnicate'" \
	"help of an unknown command: says so"

# --- unknown options, missing values, extra arguments -------------------
note "unknown options"
usage_error add "--frob" "unknown option --frob"
usage_error add "-x" "unknown option -x"
usage_error add "-t null --frob=1" "unknown option --frob=1"
usage_error list "--frob" "unknown option --frob"
usage_error list "-x" "unknown option -x"
usage_error del "-x" "unknown option -x"
usage_error features "--frob" "unknown option --frob"
usage_error features "-x" "unknown option -x"
# An unknown letter in a group of short options must be the one named
usage_error del "-ax" "unknown option -x"
usage_error del "-xa" "unknown option -x"
usage_error add "-xt null" "unknown option -x"
usage_error list "-xn 1" "unknown option -x"
usage_error features "-xh" "unknown option -x"

note "missing option values"
usage_error add "-t" "option -t needs a value"
usage_error add "--target" "option --target needs a value"
usage_error add "-t null -f" "option -f needs a value"
usage_error add "-t null -s" "option -s needs a value"
usage_error add "-t null --size" "option --size needs a value"
usage_error add "-t null -q" "option -q needs a value"
usage_error add "-t null --queues" "option --queues needs a value"
usage_error add "-t null -d" "option -d needs a value"
usage_error add "-t null --depth" "option --depth needs a value"
usage_error add "-t null -n" "option -n needs a value"
usage_error add "-t null --id" "option --id needs a value"
usage_error del "-n" "option -n needs a value"
usage_error del "--id" "option --id needs a value"
usage_error list "-n" "option -n needs a value"
usage_error list "--id" "option --id needs a value"

note "extra arguments"
usage_error add "-t null extra" "unexpected argument 'extra'"
usage_error add "extra -t null" "unexpected argument 'extra'"
usage_error list "extra" "unexpected argument 'extra'"
usage_error del "-a extra" "unexpected argument 'extra'"
usage_error del "-n 1 extra" "unexpected argument 'extra'"
usage_error features "extra" "unexpected argument 'extra'"

# --- add ----------------------------------------------------------------
note "add: target"
usage_error add "" "a target is required" "-t null, loop, mem"
usage_error add "-s 1G" "a target is required"
usage_error add "-t bogus" "unknown target 'bogus'" "known: null, loop, mem"
usage_error add "--target=NULL" "unknown target 'NULL'"
usage_error add "-t ''" "unknown target"

note "add: bad values, each named with its option"
for v in abc -1 1.5G 1X 1KB 16E 18446744073709551616 99999999999T; do
	usage_error add "-t null -s $v" "--size" "'$v'"
	usage_error add "-t null --size=$v" "--size" "'$v'"
done
usage_error add "-t null -s 0" "--size" "zero"
usage_error add "-t null --size=" "--size" "''"
for v in 0 65 1000 x -1 2.0 99999999999999999999999; do
	usage_error add "-t null -q $v" "--queues" "$v"
done
for v in 0 4097 65536 1k -5 ' 1'; do
	usage_error add "-t null -d '$v'" "--depth" "$v"
done
for v in 1048576 4294967296 -1 abc 0x10; do
	usage_error add "-t null -n $v" "--id" "$v"
done
usage_error add "-t null -q 64 -d 4096 -n 1048576" "--id" "1048576" \
	"out of range (0..1048575)"
usage_error add "-t null -q 65" "out of range (1..64)"

note "add: what each target needs and takes, before anything is made"
usage_error add "-t loop" "the loop target needs a backing file (-f FILE)"
usage_error add "-t mem" "the mem target needs --size"
usage_error add "-t nbd" "the nbd target needs --uri nbd://HOST[:PORT]/EXPORT"
usage_error add "-t null -f /x" "the null target takes no backing file (-f)"
usage_error add "-t mem -s 1M -f /x" "the mem target takes no backing file (-f)"
usage_error add "-t nbd --uri x -f /x" "the nbd target takes no backing file (-f)"
usage_error add "-t nbd --uri bogus" "--uri: not a URI"
usage_error add "-t nbd --uri nbds://h/x" "--uri: TLS (nbds://) is not supported"
usage_error add "-t loop -f /x --uri nbd://h/x" "--uri and --nbd-timeout are for the nbd target"
usage_error add "-t null -d 4097" "out of range (1..4096)"
usage_error add "-t null --poll-us 100001" "--poll-us: 100001 is out of range (0..100000)"
usage_error add "-t null --poll-us=1ms" "--poll-us: '1ms' is not a number"

# --- del and list -------------------------------------------------------
note "del: -n or -a"
usage_error del "" "give either -n ID or -a"
usage_error del "-n 1 -a" "give either -n ID or -a"
usage_error del "-a -n 1" "give either -n ID or -a"
usage_error del "--all --id=3" "give either -n ID or -a"
for v in abc -1 4294967296 1.5; do
	usage_error del "-n $v" "--id" "$v"
done
for v in abc -1 4294967296; do
	usage_error list "-n $v" "--id" "$v"
done

# --- the OCI hook ---------------------------------------------------------
note "ublk-user-oci-hook: a wrong command line exits 2 and says what"
HOOK=${BIN%/*}/ublk-user-oci-hook
out=$("$HOOK" bogus </dev/null 2>&1)
is "$?" 2 "an unknown stage: exit 2"
is "$(head -n 1 <<<"$out")" "ublk-user-oci-hook: unknown stage 'bogus'" \
	"  naming it"
out=$("$HOOK" </dev/null 2>&1)
is "$?:$(head -n 1 <<<"$out")" "2:ublk-user-oci-hook: no stage given" \
	"no stage: exit 2"
out=$("$HOOK" --timeout 0 poststop </dev/null 2>&1)
is "$?:$out" "2:ublk-user-oci-hook: --timeout: '0' is not 1 to 3600 seconds" \
	"--timeout 0: exit 2"

done_testing
