/* SPDX-License-Identifier: MIT */
/*
 * New ublk nodes appear as root:root 0600; the udev rule's helper hands
 * them to the device's owner.  We wait for that by inotify on /dev.
 */
#ifndef UBLK_USER_DEVNODE_H
#define UBLK_USER_DEVNODE_H

#include <sys/types.h>

#include "base/err.h"

#define DEVNODE_DEFAULT_TIMEOUT_S 15

/* Seconds to wait: $UBLK_USER_UDEV_TIMEOUT or the default */
unsigned int devnode_timeout(void);

/* Wait until path exists, is owned by uid and we may read and write it. */
int devnode_wait_owned(const char *path, uid_t uid, unsigned int timeout_s,
		       struct uerr *err);

/*
 * The same, but -ENODEV early when alive (the device's char node) is gone:
 * the device was deleted, e.g. by the udev helper refusing it.
 */
int devnode_wait_handover(const char *path, const char *alive, uid_t uid,
			  unsigned int timeout_s, struct uerr *err);

/* Wait until path no longer exists (0) or the timeout passes (-ETIME). */
int devnode_wait_gone(const char *path, unsigned int timeout_s);

#endif
