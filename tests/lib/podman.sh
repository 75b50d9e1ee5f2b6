# shellcheck shell=bash
# podman.sh: helpers for the podman tests (sourced after tap.sh, ublk.sh).
#
#   podman_setup                root's storage on a tmpfs, image localhost/bb
#   podman_setup_user USER      the same for USER's rootless podman
#   make_rootfs DIR             a busybox-static root file system
#   pm USER ARGS...             podman as USER (root: plain), sets RUN_*
#   disk_ann VALUE              a disk annotation, quoted for podman's CSV
#   hooks_done [USER]           wait for the poststop hooks' del to end
#   scan_start P, scan_stop P   what process's command lines and environments
#                               hold of keys and paths into P.log, in between
#   key_words FILE              record keys (32 hex digits) in FILE
#
# In the guest / is an overlay, which podman's overlay driver cannot sit
# on: storage goes to a tmpfs.  The image is imported from a tar of
# busybox-static; containers run with --network none.

IMAGE=localhost/bb

make_rootfs() {
	local dir=$1 a
	mkdir -p "$dir/bin" "$dir/tmp" "$dir/dev"
	chmod 1777 "$dir/tmp"
	cp /bin/busybox "$dir/bin/busybox"
	for a in sh ls cat dd id stat cmp mknod sleep head echo true test \
		md5sum; do
		ln -sf busybox "$dir/bin/$a"
	done
}

podman_setup() {
	mkdir -p /var/lib/containers /var/tmp/ublk-podman
	mount -t tmpfs -o mode=0700 tmpfs /var/lib/containers
	make_rootfs /var/tmp/ublk-podman/rootfs
	tar -C /var/tmp/ublk-podman/rootfs -cf /var/tmp/ublk-podman/rootfs.tar .
	chmod 0755 /var/tmp/ublk-podman
	chmod 0644 /var/tmp/ublk-podman/rootfs.tar
	podman import -q /var/tmp/ublk-podman/rootfs.tar "$IMAGE" >/dev/null
}

podman_setup_user() {
	local user=$1 home
	home=$(getent passwd "$user" | cut -d: -f6)
	mkdir -p "$home/.local/share/containers" /var/tmp/ublk-podman
	mount -t tmpfs -o mode=0700 tmpfs "$home/.local/share/containers"
	chown -R "$user:$user" "$home/.local"
	if [[ ! -e /var/tmp/ublk-podman/rootfs.tar ]]; then
		make_rootfs /var/tmp/ublk-podman/rootfs
		tar -C /var/tmp/ublk-podman/rootfs -cf /var/tmp/ublk-podman/rootfs.tar .
		chmod 0755 /var/tmp/ublk-podman
		chmod 0644 /var/tmp/ublk-podman/rootfs.tar
	fi
	(cd /tmp && run_as "$user" podman import -q \
		/var/tmp/ublk-podman/rootfs.tar "$IMAGE" >/dev/null)
}

pm() {
	local user=$1
	shift
	if [[ $user == root ]]; then
		run podman "$@"
	else
		# cwd /tmp: podman must be able to stat it as the user
		pushd /tmp >/dev/null || return
		run run_as "$user" podman "$@"
		popd >/dev/null || return
	fi
}

# podman's --annotation splits at commas unless the whole is quoted (CSV)
disk_ann() { printf '"%s"' "$1"; }

# hooks_done [USER]: wait (30 s at most) until no OCI hook runs and no
# ublk node and no ublk-user process (of USER) is left.  `podman run` or
# `podman rm` can return before the poststop hook has deleted the disk and
# removed its record and files: conmon's `podman container cleanup` may be
# the one that runs the hooks, beside it.  The checks after this then say
# what is left, if anything.
# shellcheck disable=SC2120 # USER is given by the tests, not here
hooks_done() {
	local i
	for ((i = 0; i < 300; i++)); do
		[[ -n $(all_ublk_nodes "$@") || -n $(server_pids "$@") ]] ||
			pgrep '^ublk-user-oci' >/dev/null || return 0
		sleep 0.1
	done
}

# Every ublk node, server and container record is gone.
no_disks_left() {
	local what=$1
	hooks_done
	is "$(all_ublk_nodes | tr '\n' ' ')" "" "$what: no ublk device is left"
	is "$(server_pids | tr '\n' ' ')" "" "$what: no server is left"
	[[ $TAP_OK == 1 ]] || diag "$(server_ps)"
}

# Every process's command line and environment that holds a record key
# (32 hex digits as a word of its own), a per-container path or the words
# `ublk-user add`, again and again, into $2, until $1 exists; a line DISK
# for each round in which a ublk disk existed.  (The patterns do not
# match this scanner's own command line.)  One perl, 20 ms between rounds:
# a grep and a tr per round made 3 rounds a second in the TCG guest and
# took all of a CPU from the test.
scan_procs() {
	perl -e '
	my ($stop, $log) = @ARGV;
	open(my $out, ">>", $log) or die "$log: $!\n";
	$out->autoflush(1);
	my $pat = qr/(^|[^0-9a-f])[0-9a-f]{32}([^0-9a-f]|$)|ublk-user\/container[s]|ublk-user[^a-z]add/m;
	until (-e $stop) {
		for my $f (glob("/proc/[0-9]*/cmdline /proc/[0-9]*/environ")) {
			open(my $in, "<", $f) or next;
			local $/ = "\n";
			while (my $line = <$in>) {
				next unless $line =~ $pat;
				$line =~ tr/\0/ /;
				chomp $line;
				print $out "$line\n";
			}
		}
		my @disks = glob("/dev/ublkb* /dev/ublkc*");
		print $out "DISK\n" if @disks;
		select(undef, undef, undef, 0.02);
	}' "$1" "$2"
}
scan_start() {
	rm -f "$1.stop"
	: >"$1.log"
	scan_procs "$1.stop" "$1.log" &
	scan_pid=$!
}
scan_stop() {
	touch "$1.stop"
	wait "$scan_pid" || :
}
# A record key (32 hex digits) as a word of its own: container and layer
# ids are 64.
key_words() { grep -a -o -E '(^|[^0-9a-f])[0-9a-f]{32}([^0-9a-f]|$)' "$1" | head -3 || :; }
