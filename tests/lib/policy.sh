# shellcheck shell=bash disable=SC2034 # RAW_ID, REASON: for the caller
# policy.sh: helpers for the policy tests (sourced after tap.sh, ublk.sh).
#
#   POLICY_DIR, DROPIN                 /etc/ublk-user and its policy.d
#   policy_reset                       the installed policy, as staged
#   policy_put NAME TEXT               policy.d/NAME, root 0644
#   line_of FILE ERE                   number of the first line matching
#   settle                             wait for udev to finish the events
#   raw_add USER [FLAGS [Q [DEPTH]]]   ADD_DEV as USER, skipping the CLI;
#                                      sets RAW_ID (empty on failure)
#   denial USER ID                     the helper's reason for device ID,
#                                      read as USER (sets RUN_*); REASON
#   syslog_start                       busybox syslogd into $SYSLOG
#   with_policy DIR USER CMD...        CMD as USER in a mount namespace
#                                      where /etc/ublk-user is DIR (an
#                                      old or modified ublk-user, say)
#   as_ids UID GID GROUPS CMD...       CMD as UID:GID with the supplementary
#                                      GROUPS (a,b,c), without looking up a
#                                      name (no passwd entry is needed)
#   in_subuids USER INNER CMD...       CMD as uid (and gid) INNER of a user
#                                      namespace of USER that maps 0 to
#                                      USER and 1.. to USER's /etc/subuid
#                                      and /etc/subgid ranges (newuidmap,
#                                      newgidmap); USER's groups are kept,
#                                      as no setgroups is done.  On the
#                                      host CMD runs as START + INNER - 1.

POLICY_DIR=/etc/ublk-user
DROPIN=$POLICY_DIR/policy.d
RAW=$UBLK_USER_TEST_ROOT/build/tests/ublk-raw
SYSLOG=/tmp/syslog

policy_reset() {
	local stage=${UBLK_USER_VM_STAGE:?}
	rm -rf "$POLICY_DIR"
	mkdir -m 0755 "$POLICY_DIR" "$DROPIN"
	install -m 0644 -o root -g root "$stage/etc/ublk-user/policy.conf" \
		"$POLICY_DIR/policy.conf"
}

policy_put() {
	printf '%s' "$2" >"$DROPIN/$1"
	chown root:root "$DROPIN/$1"
	chmod 0644 "$DROPIN/$1"
}

line_of() { grep -n -m1 -E "$2" "$1" | cut -d: -f1; }

# udevadm settle can lose its control connection while udevd recycles a
# worker ("Failed to wait for daemon to reply"): ask again, then give up.
settle() {
	udevadm settle --timeout=120 2>/dev/null ||
		{ sleep 1 && udevadm settle --timeout=120; }
}

raw_add() {
	local user=$1
	shift
	run run_as "$user" "$RAW" add "$@"
	RAW_ID=
	[[ $RUN_RC != 0 || ! $RUN_OUT =~ ^[0-9]+$ ]] || RAW_ID=$RUN_OUT
	settle
}

denial() {
	run run_as "$1" cat "/run/ublk-user/denied/dev-$2"
	REASON=$(sed -n 's/^reason=//p' <<<"$RUN_OUT")
}

syslog_start() {
	: >"$SYSLOG"
	busybox syslogd -n -O "$SYSLOG" &
	at_exit kill "$!"
	# /dev/log appears once it listens
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S /dev/log ]] && return 0
		sleep 0.1
	done
	BAIL_OUT "busybox syslogd did not start"
}

with_policy() {
	local dir=$1 user=$2 uid
	shift 2
	uid=$(id -u "$user")
	unshare -m -- bash -c 'mount --bind "$1" /etc/ublk-user && shift && exec "$@"' \
		- "$dir" setpriv --reuid="$uid" --regid="$uid" --init-groups \
		--inh-caps=-all env -i HOME="/home/$user" USER="$user" \
		LOGNAME="$user" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
		XDG_RUNTIME_DIR="/run/user/$uid" "$@"
}

as_ids() {
	local uid=$1 gid=$2 groups=$3
	shift 3
	setpriv --reuid="$uid" --regid="$gid" --groups="$groups" \
		--inh-caps=-all "$@"
}

in_subuids() {
	local user=$1 inner=$2 uid ustart gstart
	shift 2
	uid=$(id -u "$user")
	ustart=$(awk -F: -v u="$user" '$1 == u { print $2; exit }' /etc/subuid)
	gstart=$(awk -F: -v u="$user" '$1 == u { print $2; exit }' /etc/subgid)
	[[ -n $ustart && -n $gstart ]] || {
		echo "in_subuids: $user has no /etc/subuid or /etc/subgid range" >&2
		return 127
	}
	# shellcheck disable=SC2016 # expanded by the inner bash
	run_as "$user" bash -c '
		uid=$1 ustart=$2 gstart=$3 inner=$4
		shift 4
		unshare --user sleep 600 &
		ns=$!
		trap "kill $ns 2>/dev/null" EXIT
		for ((i = 0; i < 100; i++)); do
			[[ $(readlink /proc/$ns/ns/user) != "$(readlink /proc/self/ns/user)" ]] && break
			sleep 0.1
		done
		newuidmap "$ns" 0 "$uid" 1 1 "$ustart" 65536 &&
			newgidmap "$ns" 0 "$uid" 1 1 "$gstart" 65536 || exit 126
		nsenter -t "$ns" -U --preserve-credentials setpriv \
			--reuid="$inner" --regid="$inner" --keep-groups "$@"
	' - "$uid" "$ustart" "$gstart" "$inner" "$@"
}
