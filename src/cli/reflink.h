/* SPDX-License-Identifier: MIT */
/*
 * Copies by reflink (FICLONE): the new file shares the old one's blocks
 * until either is written, so a copy of any size takes a moment and no
 * space.  Only file systems with reflinks can (xfs, btrfs, bcachefs);
 * elsewhere this refuses, and never falls back to copying the bytes.
 */
#ifndef UBLK_USER_REFLINK_H
#define UBLK_USER_REFLINK_H

#include <sys/types.h>

#include "base/err.h"

/* dst, created (it must not exist) with mode; its fd */
int reflink_create(const char *dst, mode_t mode, struct uerr *err);
/*
 * Can dst_fd take src_fd's blocks?  Tries one block, then empties dst
 * again; the refusal says why (a file system without reflinks, two file
 * systems).
 */
int reflink_check(int dst_fd, int src_fd, const char *dst, const char *src,
		  struct uerr *err);
/* dst_fd becomes a copy of all of src_fd (FICLONE) */
int reflink_clone(int dst_fd, int src_fd, const char *dst, const char *src,
		  struct uerr *err);

#endif
