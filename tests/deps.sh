#!/bin/bash
# Install everything ublk-user needs to build and test on Debian 12.
# Idempotent: apt-get install skips what is there.  Needs root (or sudo).
set -euo pipefail

packages=(
	# build
	gcc make pkg-config
	liburing-dev libcap-ng-dev libseccomp-dev uuid-dev libjson-c-dev
	libblkid-dev
	# tests: TAP runner, I/O, file systems (xfs: reflinks for snapshots),
	# partition tables (sfdisk)
	perl fio e2fsprogs util-linux passwd procps xfsprogs fdisk
	# tracing a server's syscalls (23-poll.t)
	strace
	# make check-format: the C style and the shell scripts
	clang-format shellcheck
	# the fuzz targets (libFuzzer)
	clang libclang-rt-14-dev
	# the VM harness: QEMU (TCG), a tiny initramfs, the guest's udevd
	qemu-system-x86 busybox-static cpio kmod xz-utils udev jq
	# confinement tests: file capabilities, a FUSE file system
	libcap2-bin fuse3 libfuse3-dev
	# per-container disks: podman with crun, rootless (newuidmap)
	podman crun uidmap conmon
	# fetching the test kernel
	apt ca-certificates
	# make check-kpatch: a trixie root to build ublk_drv.ko in
	mmdebstrap
	# make bench: the plot; building ublksrv (a peer, in the VM cache);
	# the kernel's NBD client
	gnuplot-nox g++ autoconf automake libtool nbd-client
	# the nbd target's tests: NBD servers (nbdkit's plugins; qemu-nbd,
	# qemu-img and qemu-storage-daemon for qcow2 images)
	nbdkit qemu-utils qemu-system-common
)

sudo=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || {
		echo "deps.sh: run as root or install sudo" >&2
		exit 1
	}
	sudo=sudo
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" \
	>/dev/null
echo "deps.sh: ${#packages[@]} packages present"
