/* SPDX-License-Identifier: MIT */
/*
 * Does the kernel take a device's node on a nodev mount as proof of access
 * to the device?  If it does, a user who can mount FUSE can forge the node
 * of another user's device (SECURITY.md, contrib/kernel).
 */
#ifndef UBLK_USER_NODEV_PROBE_H
#define UBLK_USER_NODEV_PROBE_H

#include <stddef.h>
#include <stdint.h>

enum nodev_verdict {
	NODEV_UNTESTED, /* why says what stopped the test */
	NODEV_ACCEPTED, /* the weakness is there */
	NODEV_REFUSED,	/* the kernel refuses such nodes */
};

/*
 * Ask with device id, whose node /dev/ublkcN the caller may read: a child
 * in user and mount namespaces of its own bind-mounts the node over
 * itself, makes that mount nodev and sends GET_DEV_INFO2 with the node's
 * path.  The host's mounts are not touched.
 */
enum nodev_verdict nodev_probe(uint32_t id, char *why, size_t len);

#endif
