# shellcheck shell=bash
# nbd.sh: NBD servers for the nbd target's kernel tests (sourced after
# tap.sh and ublk.sh).  Each server runs as a user, in the foreground of
# a background job, and is stopped at exit.
#
#   nbd_kit USER SOCKET|PORT PLUGIN ARGS...   nbdkit; sets NBD_PID
#   nbd_evil USER SOCKET ARGS...              build/tests/nbd-evil; NBD_PID
#   nbd_qemu USER SOCKET IMAGE ARGS...        qemu-nbd (qcow2); NBD_PID
#   nbd_stop PID                              SIGTERM, wait until gone
#   nbd_free_port                             a free TCP port on 127.0.0.1
#   wait_listen SOCKET|PORT                   until it accepts (10 s)

NBD_EVIL=$UBLK_USER_TEST_ROOT/build/tests/nbd-evil
NBD_PID=

# unix_listening PATH: a socket is there and listens (between a server's
# bind() and listen() the path exists, and a connect is refused)
unix_listening() {
	local all _netid state _recvq _sendq local_rest
	[[ -S $1 ]] || return 1
	# Without ss(8), or a kernel without unix_diag: the path alone
	all=$(ss -Hxl 2>/dev/null) && [[ -n $all ]] || return 0
	# One ss for both questions: its lines are "u_str LISTEN 0 N PATH INODE
	# ...", and -l also lists bound sockets that do not listen (UNCONN)
	while read -r _netid state _recvq _sendq local_rest; do
		[[ $state == LISTEN && $local_rest == "$1 "* ]] && return 0
	done <<<"$all"
	return 1
}

wait_listen() {
	local i
	for ((i = 0; i < 200; i++)); do
		if [[ $1 == /* ]]; then
			unix_listening "$1" && return 0
		elif (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

nbd_free_port() {
	local p
	for p in $(shuf -i 20000-40000 -n 50); do
		(echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || {
			echo "$p"
			return
		}
	done
	echo 29999
}

# The server just started (run_as forks: $! is not its pid)
_nbd_pid() {
	NBD_PID=$(pgrep -n -u "$(uid_of "$1")" -x "$2")
	[[ -n $NBD_PID ]] || BAIL_OUT "no $2 process of $1"
	at_exit nbd_stop "$NBD_PID"
}

# Where the endpoint argument goes: -U SOCKET or -i 127.0.0.1 -p PORT
_nbd_kit_where() {
	if [[ $1 == /* ]]; then
		echo "-U $1"
	else
		echo "-i 127.0.0.1 -p $1"
	fi
}

nbd_kit() {
	local user=$1 where=$2
	shift 2
	[[ $where == /* ]] && rm -f "$where"
	# shellcheck disable=SC2046 # the endpoint options, split on purpose
	run_as "$user" nbdkit -f $(_nbd_kit_where "$where") "$@" \
		>>/tmp/nbdkit.log 2>&1 &
	wait_listen "$where" || BAIL_OUT "nbdkit $* did not start"
	_nbd_pid "$user" nbdkit
}

nbd_evil() {
	local user=$1 sock=$2
	shift 2
	rm -f "$sock"
	run_as "$user" "$NBD_EVIL" --socket "$sock" "$@" \
		>>/tmp/nbd-evil.log 2>&1 &
	wait_listen "$sock" || BAIL_OUT "nbd-evil $* did not start"
	_nbd_pid "$user" nbd-evil
}

nbd_qemu() {
	local user=$1 sock=$2 image=$3
	shift 3
	rm -f "$sock"
	run_as "$user" qemu-nbd -t -k "$sock" -f qcow2 "$@" "$image" \
		>>/tmp/qemu-nbd.log 2>&1 &
	wait_listen "$sock" || BAIL_OUT "qemu-nbd $* did not start"
	_nbd_pid "$user" qemu-nbd
}

nbd_stop() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || :
}
