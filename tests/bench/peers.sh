# shellcheck shell=bash
# peers.sh: what build-kublk and build-ublksrv share (sourced). The peer
# servers are built in the VM cache from Debian packages fetched through a
# private apt tree of the bench's own: own sources.list (trixie and
# trixie-backports), lists, cache and an empty dpkg status, so the host's
# apt state is never touched. Nothing of a peer is kept in the project.
#
# Before sourcing: prog (for messages), CACHE, quiet (1: say nothing).
# Gives: die, say, have_pkg NAME [VERSION], download DIR PKG...,
# apt_refresh_for NAME [VERSION] (update the lists if they lack it),
# fetch_liburing (sets LIBURING: trixie's liburing-dev unpacked in the
# cache, the root of its usr/; Debian 12's 2.3 is too old for both peers).

: "${prog:?set prog before sourcing peers.sh}"
die() { echo "$prog: error: $*" >&2; exit 1; }
say() { [[ ${quiet:-0} == 1 ]] || echo "$prog: $*" >&2; }

for t in apt-get apt-cache dpkg-deb flock; do
	command -v "$t" >/dev/null || die "'$t' not found (run 'make deps')"
done

MIRROR=${UBLK_USER_VM_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $KEYRING ]] || die "$KEYRING missing (install debian-archive-keyring)"
# Not fetch-kernel's tree: a run of it with another UBLK_USER_VM_MIRROR
# rewrites its sources.list.
apt_dir=$CACHE/peers/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
apt_sources="deb [signed-by=$KEYRING] $MIRROR trixie-backports main
deb [signed-by=$KEYRING] $MIRROR trixie main"
apt_opts=(
	-o "Dir::Etc::SourceList=$apt_dir/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::Cache=$apt_dir/cache"
	-o Dir::State::status=/dev/null
	-o Dir::Etc::Preferences=/dev/null
	-o Dir::Etc::PreferencesParts=/dev/null
	-o APT::Architecture=amd64
	-o APT::Architectures::=amd64
	-o Debug::NoLocking=1
	# Download as root into our own dir; avoids the _apt sandbox warning.
	-o APT::Sandbox::User=root
)

# apt_lock: one user of the tree at a time (fd 8, held until exit)
apt_lock() {
	exec 8>"$apt_dir/.lock"
	flock -w 1800 8 || die "timed out waiting for $apt_dir/.lock"
	if [[ $(cat "$apt_dir/sources.list" 2>/dev/null) != "$apt_sources" ]]; then
		echo "$apt_sources" >"$apt_dir/sources.list"
		rm -f "$apt_dir/lists/"*_Packages* "$apt_dir/lists/"*Release*
	fi
}

have_pkg() { # have_pkg NAME [VERSION]: does the private apt tree know it?
	local versions
	versions=$(apt-cache "${apt_opts[@]}" show "$1" 2>/dev/null |
		sed -n 's/^Version: //p') || return 1
	[[ -n $versions ]] && { [[ -z ${2:-} ]] || grep -qxF -- "$2" <<<"$versions"; }
}

apt_refresh_for() { # apt_refresh_for NAME [VERSION]
	have_pkg "$@" && return 0
	# No lists yet, or lists older than the package: refresh.
	say "updating package lists from $MIRROR (trixie, trixie-backports)"
	if ! apt-get "${apt_opts[@]}" -qq update >"$apt_dir/update.log" 2>&1 ||
		grep -q '^[WE]:' "$apt_dir/update.log"; then
		cat "$apt_dir/update.log" >&2
		die "apt-get update failed"
	fi
	have_pkg "$@"
}

download() { # download DIR PKG...: apt-get download into DIR
	local dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && apt-get "${apt_opts[@]}" -q download "$@") >"$dir/download.log" 2>&1 || {
		cat "$dir/download.log" >&2
		die "apt-get download $* failed"
	}
}

fetch_liburing() { # sets LIBURING (…/usr) and LIBURING_VERSION
	local ver dir d
	apt_refresh_for liburing-dev || die "no liburing-dev in trixie"
	ver=$(apt-cache "${apt_opts[@]}" show liburing-dev | sed -n 's/^Version: //p' |
		sort -V | tail -n 1)
	dir=$CACHE/peers/liburing-$ver
	if [[ ! -e $dir/.complete ]]; then
		say "fetching trixie's liburing-dev $ver"
		rm -rf "$dir"
		download "$dir/debs" "liburing-dev=$ver"
		for d in "$dir"/debs/*.deb; do dpkg-deb -x "$d" "$dir/root"; done
		rm -rf "$dir/debs"
		[[ -n $(find "$dir/root/usr/lib" -name liburing.a) ]] ||
			die "no liburing.a in trixie's liburing-dev $ver"
		touch "$dir/.complete"
	fi
	# shellcheck disable=SC2034 # for the script that sources this
	LIBURING=$dir/root/usr LIBURING_VERSION=$ver
}
