#!/bin/bash
# The main job of ublk-user, end to end: a rootless user creates a disk
# backed by a file in their home, formats it, stores and reads back a file,
# checks the file system, and deletes the disk.  `make demo` runs it in the
# test VM (as root, which only sets up and then acts as user alice); on a
# real host run the part inside as_user yourself.
set -euo pipefail

user=${DEMO_USER:-alice}
as_user() {
	setpriv --reuid="$user" --regid="$user" --init-groups --inh-caps=-all \
		env -i HOME="/home/$user" USER="$user" \
		XDG_RUNTIME_DIR="/run/user/$(id -u "$user")" \
		PATH=/usr/bin:/bin:/usr/sbin:/sbin bash -euo pipefail -c "$1"
}

as_user '
say() { printf "\n\$ %s\n" "$*"; "$@"; }
echo "== as $(id -un) (uid $(id -u)), no sudo, no setuid, no capabilities:"
grep CapEff /proc/self/status
say truncate -s 256M ~/vm.img
say ublk-user add -t loop -f ~/vm.img --json | tee /tmp/demo-add.json
id=$(sed -n "s/.*\"dev_id\":\([0-9]*\).*/\1/p" /tmp/demo-add.json)
dev=/dev/ublkb$id
say ls -l "$dev" "/dev/ublkc$id"
say mkfs.ext4 -q -L demo "$dev"
echo "hello from a userspace block device" > ~/hello.txt
say debugfs -w -R "write $HOME/hello.txt hello.txt" "$dev"
say debugfs -R "cat hello.txt" "$dev"
say e2fsck -f -n "$dev"
say ublk-user list
say ublk-user del -n "$id"
say ublk-user list
say blkid -p ~/vm.img
'
echo
echo "demo: done"
