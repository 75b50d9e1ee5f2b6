/* SPDX-License-Identifier: MIT */
/*
 * Subordinate ids: /etc/subuid and /etc/subgid ("owner:start:count" lines,
 * subuid(5)) say which user may act as which other ids in a user namespace
 * (newuidmap, newgidmap).  The root udev helper maps a device's owner back
 * to the range's owner with them, so that a user cannot step out of her
 * policy by becoming one of her subordinate uids.
 *
 * The files are read as the policy files are: regular, owned by root, not
 * writable by group or others, not a symbolic link, at most
 * SUBID_FILE_MAX bytes, every line well formed; anything else is an
 * error (the caller fails closed).  A missing file has no ranges.
 */
#ifndef UBLK_USER_SUBID_H
#define UBLK_USER_SUBID_H

#include <stdint.h>
#include <stddef.h>

#include "base/err.h"

#define SUBUID_FILE "/etc/subuid"
#define SUBGID_FILE "/etc/subgid"
#define SUBID_FILE_MAX (1 << 20)
#define SUBID_OWNER_MAX 256 /* bytes of an owner's name, with the NUL */

struct subid_range {
	char owner[SUBID_OWNER_MAX]; /* a user name or a numeric uid */
	uint32_t start;
	uint32_t count;
	unsigned int line;
};

struct subid_map {
	char path[64];
	struct subid_range *r;
	unsigned int nr;
};

/* Read path into m (empty if it does not exist); -errno with err. */
int subid_load(struct subid_map *m, const char *path, struct uerr *err);
/* Parse len bytes of text as path (for subid_load and the unit tests). */
int subid_parse(struct subid_map *m, const char *path, const char *text,
		size_t len, struct uerr *err);
void subid_free(struct subid_map *m);

/*
 * The range that holds id: 1 and *out, 0 when none does, -EACCES with err
 * when ranges of two different owners hold it.
 */
int subid_find(const struct subid_map *m, uint32_t id,
	       const struct subid_range **out, struct uerr *err);

#endif
