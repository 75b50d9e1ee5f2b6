/* SPDX-License-Identifier: MIT */
/*
 * The one way to open or make a directory that a security decision rests
 * on: the state directory of a user, root's /run/ublk-user and its
 * subdirectories, the OCI hook's per-container directories, the CDI
 * directory.
 *
 * The last component is opened relative to its parent with O_NOFOLLOW |
 * O_DIRECTORY, and owner and mode are checked with fstat on that fd, so a
 * symlink or a file in its place is refused and what was checked is what
 * the caller gets.  A new directory is made with mkdirat and then gets
 * its owner and mode with fchown/fchmod on the opened fd, whatever the
 * umask.  A parent that others may write must be sticky (as /tmp is):
 * otherwise they could rename the directory away after the check.
 * Refusals read "PATH is not a directory of uid U ... (what it is): FIX".
 */
#ifndef UBLK_USER_PRIVDIR_H
#define UBLK_USER_PRIVDIR_H

#include <sys/types.h>

#include "base/err.h"

struct privdir_rule {
	uid_t uid;	  /* the owner it must have */
	gid_t gid;	  /* the group a new one gets; (gid_t)-1: ours */
	mode_t mode;	  /* the mode a new one gets */
	mode_t deny;	  /* bits it must not have: 077 private, 022 shared */
	const char *hint; /* another way out, for refusals, or NULL */
};

#define PRIVDIR_CREATE 1 /* make it when it does not exist */
#define PRIVDIR_EXCL 2	 /* with PRIVDIR_CREATE: it must not exist yet */

/*
 * Open directory name in the directory parent (an fd, or AT_FDCWD) as the
 * rule says, making it first with PRIVDIR_CREATE; path names it in
 * messages.  Returns an O_RDONLY | O_DIRECTORY fd, or -errno: -ENOENT
 * when it does not exist (and was not to be made), -ENOTDIR for a symlink
 * or anything else that is not a directory, -EPERM for a wrong owner or
 * mode, -EEXIST with PRIVDIR_EXCL.
 */
int privdir_openat(int parent, const char *name, const char *path,
		   const struct privdir_rule *rule, int flags,
		   struct uerr *err);
/* The same for a path: its parent is opened as it is (symlinks followed) */
int privdir_open(const char *path, const struct privdir_rule *rule, int flags,
		 struct uerr *err);
/* privdir_open without the fd: 0 or -errno */
int privdir_check(const char *path, const struct privdir_rule *rule, int flags,
		  struct uerr *err);
/*
 * mkdir -p of the directories above path (not path itself): those it
 * makes get mode, whatever the umask; those that exist stay as they are.
 */
int privdir_make_parents(const char *path, mode_t mode, struct uerr *err);

#endif
