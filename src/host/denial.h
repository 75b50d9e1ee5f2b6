/* SPDX-License-Identifier: MIT */
/*
 * Why the udev helper refused a device.  The helper (root) deletes a
 * device the policy does not allow and leaves the reason in
 * /run/ublk-user/denied/dev-N: a file owned by the device's owner, mode
 * 0400, in a directory only root may write.  `add` reads it when its
 * device disappears while it waits for the hand-over, and prints it.
 * The record carries the tag `add` put in the device's ublksrv_flags, so
 * a record of an older device with the same id is never mistaken for it.
 *
 * Records are bounded: at most DENIAL_PER_ACCOUNT per account (the user
 * whose policy refused the device: its owner, or the owner of the
 * subordinate range the owner's uid is in) and DENIAL_TOTAL in all; the
 * oldest go first.  So refused ADD_DEVs, which may name any id, cannot
 * fill /run.
 */
#ifndef UBLK_USER_DENIAL_H
#define UBLK_USER_DENIAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

#define UBLK_USER_RUN_DIR "/run/ublk-user"
#define DENIAL_DIR UBLK_USER_RUN_DIR "/denied"
#define DENIAL_PER_ACCOUNT 16
#define DENIAL_TOTAL 256
#define DENIAL_FILE_MAX 4096 /* bytes of one record */

struct denial {
	uint32_t dev_id;
	uid_t uid;     /* the device's owner */
	uid_t account; /* whose records it counts with (see above) */
	uint64_t tag;  /* the device's ublksrv_flags */
	char reason[1024];
};

/*
 * As root: record d in dir (created when missing) as dev-<id>, first
 * removing the oldest records of d->account and then the oldest of all
 * until both bounds leave room for it.
 */
int denial_write(const char *dir, const struct denial *d, struct uerr *err);
/*
 * As root: forget the record of dev_id if it is owner's (her device of
 * that id was admitted); another user's record of the id stays.
 */
void denial_clear(const char *dir, uint32_t dev_id, uid_t owner);
/*
 * The record of dev_id, if dir is owned by dir_owner, the record by uid
 * and it carries tag: 0 and *d filled; -ENOENT when there is none.
 */
int denial_read(const char *dir, uid_t dir_owner, uint32_t dev_id, uid_t uid,
		uint64_t tag, struct denial *d);

#endif
