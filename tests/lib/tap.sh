# shellcheck shell=bash disable=SC2034 # TAP_OK, RUN_*: for the caller
# tap.sh: a small TAP producer for bash test scripts (tests/kernel/*.t).
#
#   source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
#   plan 3                      # or: done_testing at the end
#   ok  "control node exists"   test -c /dev/ublk-control
#   nok "carol cannot add"      run_as carol ublk-user add -t null
#   run run_as alice ublk-user list
#   is   "$RUN_RC" 0            "list exits 0"
#   like "$RUN_OUT" 'ublkb[0-9]+' "list shows a device"
#
# Functions
#   plan N | plan skip_all REASON   announce the number of tests (or skip all)
#   done_testing [N]                plan at the end instead
#   ok NAME CMD [ARGS...]           pass if CMD exits 0
#   nok NAME CMD [ARGS...]          pass if CMD exits non-zero
#   is GOT EXPECTED NAME            string equality
#   isnt GOT UNEXPECTED NAME        string inequality
#   like GOT REGEX NAME             bash ERE match ([[ =~ ]])
#   unlike GOT REGEX NAME           no ERE match
#   pass NAME / fail NAME           unconditional result
#   skip REASON [COUNT]             report COUNT (default 1) skipped tests
#   diag MSG... / note MSG...       comment on stderr / on stdout
#   BAIL_OUT REASON                 stop the whole test run
#   run CMD [ARGS...]               run CMD, set RUN_OUT, RUN_ERR (trailing
#                                   newlines stripped) and RUN_RC; returns 0
#   run_as USER CMD [ARGS...]       run CMD as a test user (see below)
#   at_exit CMD [ARGS...]           cleanup to run when the script exits
#                                   (do not set your own EXIT trap)
#   sleep SECONDS                   sleep without an exec (see below)
#   TODO=reason                     while set, results are marked TODO
#
# CMD is run in this shell (it may be a function, e.g. run_as); its output is
# captured, never mixed into the TAP stream, and shown as diagnostics when an
# ok/nok fails.
#
# Assertions always return 0, so a script under `set -e` goes on after a
# failed one; the result of the last one is in TAP_OK (1 passed, 0 failed):
#   ok "device appears" test -b /dev/ublkb0
#   [[ $TAP_OK == 1 ]] || BAIL_OUT "no device, nothing else can work"
# The exit status of the script is the number of failed tests (254 at most),
# 255 if the plan is wrong, the script died or bailed out.

[[ -n ${_TAP_LOADED:-} ]] && return 0
_TAP_LOADED=1

_tap_n=0          # tests run
_tap_failed=0     # failed, not counting TODO
_tap_plan=''      # planned count, once known
_tap_done=0       # done_testing called or skip_all
_tap_seq=0        # for unique capture files
_tap_at_exit=()   # cleanup commands (each a quoted string)
_tap_bailed=0
TAP_OK=''         # result of the last assertion
_tap_tmp=$(mktemp -d "${TMPDIR:-/tmp}/tap.XXXXXX") || {
	echo "Bail out! tap.sh: cannot create a temporary directory"
	exit 255
}

_tap_where() { # file and line of the first caller outside this library
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		if [[ ${BASH_SOURCE[i]} != "${BASH_SOURCE[0]}" ]]; then
			echo "${BASH_SOURCE[i]} line ${BASH_LINENO[i - 1]}"
			return
		fi
	done
	echo "unknown place"
}

_tap_comment() { # prefix every line with '# '
	local line
	while IFS= read -r line || [[ -n $line ]]; do
		printf '# %s\n' "$line"
	done <<<"$*"
}

diag() { _tap_comment "$*" >&2; }
note() { _tap_comment "$*"; }

# _tap_result PASSED(0|1) NAME [DIAG...]: print the result line.
_tap_result() {
	local passed=$1 name=$2 line directive=''
	shift 2
	_tap_n=$((_tap_n + 1))
	name=${name//\\/\\\\}
	name=${name//#/\\#} # '#' would start a directive
	name=${name//$'\n'/ }
	[[ -z ${TODO:-} ]] || directive=" # TODO $TODO"
	TAP_OK=$passed
	if [[ $passed == 1 ]]; then
		line="ok $_tap_n"
	else
		line="not ok $_tap_n"
		[[ -n ${TODO:-} ]] || _tap_failed=$((_tap_failed + 1))
	fi
	printf '%s%s%s\n' "$line" "${name:+ - $name}" "$directive"
	if [[ $passed != 1 ]]; then
		local out=diag
		[[ -z ${TODO:-} ]] || out=note # expected failure: keep stderr quiet
		$out "  Failed${TODO:+ (TODO)} test '$name'"
		$out "  at $(_tap_where)."
		local d
		for d in "$@"; do $out "$d"; done
	fi
	return 0
}

plan() {
	[[ -z $_tap_plan ]] || BAIL_OUT "plan called twice"
	if [[ ${1:-} == skip_all ]]; then
		shift
		printf '1..0 # SKIP %s\n' "$*"
		_tap_plan=0 _tap_done=1
		exit 0
	fi
	[[ ${1:-} =~ ^[0-9]+$ ]] || BAIL_OUT "plan: '${1:-}' is not a number"
	_tap_plan=$1
	printf '1..%d\n' "$1"
}

done_testing() {
	[[ $# == 0 || $1 == "$_tap_n" ]] ||
		diag "done_testing: expected $1 tests, ran $_tap_n"
	if [[ -z $_tap_plan ]]; then
		_tap_plan=${1:-$_tap_n}
		printf '1..%d\n' "$_tap_plan"
	fi
	_tap_done=1
}

# _tap_capture CMD...: run CMD with output in files; sets _tap_rc,
# _tap_outf, _tap_errf.
_tap_capture() {
	_tap_seq=$((_tap_seq + 1))
	_tap_outf=$_tap_tmp/$_tap_seq.out _tap_errf=$_tap_tmp/$_tap_seq.err
	_tap_rc=0
	"$@" >"$_tap_outf" 2>"$_tap_errf" || _tap_rc=$?
}

_tap_read() { # _tap_read FILE VAR: file content, trailing newlines stripped
	local _v=''
	IFS= read -r -d '' _v <"$1" || :
	while [[ $_v == *$'\n' ]]; do _v=${_v%$'\n'}; done
	printf -v "$2" '%s' "$_v"
}

_tap_cmd_diag() { # diagnostics for a failed ok/nok
	local out err
	_tap_read "$_tap_outf" out
	_tap_read "$_tap_errf" err
	printf '%s\n' "  command: $(printf '%q ' "${@:2}")" "  exit status: $1"
	[[ -z $out ]] || printf '%s\n' "  stdout:" "$(sed 's/^/    /' <<<"$out")"
	[[ -z $err ]] || printf '%s\n' "  stderr:" "$(sed 's/^/    /' <<<"$err")"
}

ok() {
	local name=$1
	shift
	(($# > 0)) || BAIL_OUT "ok '$name': no command given"
	_tap_capture "$@"
	if [[ $_tap_rc == 0 ]]; then
		_tap_result 1 "$name"
	else
		_tap_result 0 "$name" "$(_tap_cmd_diag "$_tap_rc" "$@")"
	fi
}

nok() {
	local name=$1
	shift
	(($# > 0)) || BAIL_OUT "nok '$name': no command given"
	_tap_capture "$@"
	if [[ $_tap_rc != 0 ]]; then
		_tap_result 1 "$name"
	else
		_tap_result 0 "$name" "  expected a non-zero exit status" \
			"$(_tap_cmd_diag "$_tap_rc" "$@")"
	fi
}

is() {
	(($# == 3)) || BAIL_OUT "is: needs GOT EXPECTED NAME, got $# arguments"
	if [[ $1 == "$2" ]]; then
		_tap_result 1 "$3"
	else
		_tap_result 0 "$3" "         got: '$1'" "    expected: '$2'"
	fi
}

isnt() {
	(($# == 3)) || BAIL_OUT "isnt: needs GOT UNEXPECTED NAME, got $# arguments"
	if [[ $1 != "$2" ]]; then
		_tap_result 1 "$3"
	else
		_tap_result 0 "$3" "         got: '$1'" "    expected: anything else"
	fi
}

like() {
	(($# == 3)) || BAIL_OUT "like: needs GOT REGEX NAME, got $# arguments"
	if [[ $1 =~ $2 ]]; then
		_tap_result 1 "$3"
	else
		_tap_result 0 "$3" "                  '$1'" "    doesn't match '$2'"
	fi
}

unlike() {
	(($# == 3)) || BAIL_OUT "unlike: needs GOT REGEX NAME, got $# arguments"
	if [[ ! $1 =~ $2 ]]; then
		_tap_result 1 "$3"
	else
		_tap_result 0 "$3" "                  '$1'" "          matches '$2'"
	fi
}

pass() { _tap_result 1 "$1"; }
fail() { _tap_result 0 "$1" "${@:2}"; }

skip() {
	local reason=$1 count=${2:-1} i
	for ((i = 0; i < count; i++)); do
		_tap_n=$((_tap_n + 1))
		printf 'ok %d # skip %s\n' "$_tap_n" "$reason"
	done
}

BAIL_OUT() {
	printf 'Bail out! %s\n' "$*"
	_tap_bailed=1
	exit 255
}

run() {
	(($# > 0)) || BAIL_OUT "run: no command given"
	_tap_capture "$@"
	RUN_RC=$_tap_rc
	_tap_read "$_tap_outf" RUN_OUT
	_tap_read "$_tap_errf" RUN_ERR
	return 0
}

# run_as USER CMD...: run CMD as USER with a clean, login-like environment
# (HOME, USER, LOGNAME, SHELL, PATH, LANG, XDG_RUNTIME_DIR=/run/user/UID,
# UBLK_USER_TEST_ROOT), the user's supplementary groups and no capabilities
# other than those granted by file capabilities of what it executes. The
# working directory is kept. Add variables with: run_as alice env X=1 CMD.
# run_as_nosession USER CMD...: the same without XDG_RUNTIME_DIR, as after
# su -, sudo -u, cron or ssh without pam_systemd.
run_as_nosession() { _TAP_NO_XDG=1 run_as "$@"; }
run_as() {
	(($# >= 2)) || BAIL_OUT "run_as: needs USER CMD..."
	local user=$1 name _x uid gid _gecos home shell xdg=${_TAP_NO_XDG:-}
	shift
	while IFS=: read -r name _x uid gid _gecos home shell; do
		[[ $name == "$user" ]] && break
	done </etc/passwd
	if [[ $name != "$user" ]]; then
		echo "run_as: no user '$user' in /etc/passwd" >&2
		return 127
	fi
	(
		# Like env -i, without paying for one more exec (slow under TCG).
		local v
		# shellcheck disable=SC2163 # unexport the variable named by $v
		for v in $(compgen -e); do export -n "$v"; done
		export HOME="$home" USER="$user" LOGNAME="$user" \
			SHELL="${shell:-/bin/sh}" PATH=/usr/local/bin:/usr/bin:/bin \
			LANG=C.UTF-8 TERM="${TERM:-dumb}" \
			UBLK_USER_TEST_ROOT="${UBLK_USER_TEST_ROOT:-}" \
			UBLK_USER_UDEV_TIMEOUT="${UBLK_USER_UDEV_TIMEOUT:-}"
		[[ -n $xdg ]] || export XDG_RUNTIME_DIR="/run/user/$uid"
		exec setpriv --reuid="$uid" --regid="$gid" --init-groups \
			--inh-caps=-all -- "$@"
	)
}

# sleep SECONDS: the shell's own sleep for a number of seconds (a read that
# times out on a pipe no one writes to), sleep(1) for anything else and in
# a subshell (one run with & would stay a copy of this shell, whose EXIT
# trap ran when it was killed at once).  The tests poll with sleep 0.1 in
# many places, and in the TCG guest each exec of sleep(1) cost 80 ms of
# CPU (342 of them in one run of tests/kernel).  The pipe is opened for
# each read, not kept: a kept fd would be inherited by every command the
# test runs, servers included.
sleep() {
	if [[ $# != 1 || ! $1 =~ ^([0-9]+)(\.([0-9]*))?$ || $BASHPID != "$$" ]]; then
		command sleep "$@"
		return
	fi
	local frac=${BASH_REMATCH[3]}000000 now left
	local end=$((${EPOCHREALTIME/./} + 10#${BASH_REMATCH[1]} * 1000000 + 10#${frac:0:6}))
	# Again until the time is up: a signal may end the read early.
	while now=${EPOCHREALTIME/./} && ((now < end)); do
		left=$((end - now))
		printf -v left '%d.%06d' $((left / 1000000)) $((left % 1000000))
		read -r -t "$left" _ <> <(:) || :
	done
}

at_exit() { _tap_at_exit+=("$(printf '%q ' "$@")"); }

_tap_end() {
	local rc=$? i
	# Cleanups in reverse order; their failures are reported, not fatal.
	for ((i = ${#_tap_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${_tap_at_exit[i]}" >&2 || diag "cleanup failed: ${_tap_at_exit[i]}"
	done
	rm -rf "$_tap_tmp"
	[[ $_tap_bailed == 0 ]] || exit 255
	if [[ $_tap_done != 1 && -z $_tap_plan ]]; then
		diag "No plan: the script stopped after $_tap_n tests (exit status $rc)" \
			"without calling done_testing."
		exit 255
	fi
	if [[ $rc != 0 && $_tap_done != 1 ]]; then
		diag "The script died with exit status $rc after $_tap_n tests."
		exit 255
	fi
	if [[ -n $_tap_plan && $_tap_plan != "$_tap_n" ]]; then
		diag "Looks like you planned $_tap_plan tests but ran $_tap_n."
		exit 255
	fi
	if ((_tap_failed > 0)); then
		diag "Looks like you failed $_tap_failed test(s) of $_tap_n."
		exit $((_tap_failed > 254 ? 254 : _tap_failed))
	fi
	exit "$rc"
}
trap _tap_end EXIT
