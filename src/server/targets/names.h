/* SPDX-License-Identifier: MIT */
/*
 * The targets ublk-user serves, in the order messages list them: one row
 * per file in this folder.  Header only, so that the policy (and the root
 * udev helper that links it) can check target names without linking any
 * server code; target.c builds the ops table from the same list.
 */
#ifndef UBLK_USER_TARGET_NAMES_H
#define UBLK_USER_TARGET_NAMES_H

#include <stdbool.h>
#include <string.h>

#define UBLK_USER_TARGETS(X) X(null) X(loop) X(mem) X(nbd)

#define UBLK_USER_TARGET_NAME_(t) #t,
#define UBLK_USER_TARGET_LIST_(t) ", " #t

/* "null, loop, mem, nbd" for messages */
#define TARGET_NAMES_TEXT (&UBLK_USER_TARGETS(UBLK_USER_TARGET_LIST_)[2])

static inline bool target_name_known(const char *name)
{
	static const char *const names[] = { UBLK_USER_TARGETS(
		UBLK_USER_TARGET_NAME_) };
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

#endif
