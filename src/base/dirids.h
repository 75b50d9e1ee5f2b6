/* SPDX-License-Identifier: MIT */
/*
 * The entries of a directory that a caller picks, collected into a sorted
 * array: /dev/ublkcN nodes, dev-N.json records, container records, CDI
 * specs, policy drop-ins.
 */
#ifndef UBLK_USER_DIRIDS_H
#define UBLK_USER_DIRIDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/*
 * Called for each entry name (not . or ..): 1 to keep the entry as the
 * elem_size bytes it wrote to elem, 0 to pass over it, <0 to stop with
 * that error (in err).
 */
typedef int (*dir_pick_fn)(const char *name, void *elem, void *ctx,
			   struct uerr *err);

/*
 * The picked entries of the directory open as dir_fd (which stays open and
 * is not moved), sorted by cmp unless it is NULL; what names the
 * directory in messages.  The caller frees *out, also when nothing was
 * picked (it may be NULL then).
 */
int dir_collect_fd(int dir_fd, const char *what, size_t elem_size,
		   dir_pick_fn pick, void *ctx,
		   int (*cmp)(const void *, const void *), void **out,
		   unsigned int *nr, struct uerr *err);
/* The same for the directory at path (-ENOENT when there is none) */
int dir_collect(const char *path, size_t elem_size, dir_pick_fn pick, void *ctx,
		int (*cmp)(const void *, const void *), void **out,
		unsigned int *nr, struct uerr *err);

/* true and *id set when name is an entry of interest */
typedef bool (*dir_id_match_fn)(const char *name, uint32_t *id);

/* The ids of dir's matching entries, sorted; the caller frees *ids. */
int dir_ids(const char *dir, dir_id_match_fn match, uint32_t **ids,
	    unsigned int *nr, struct uerr *err);

#endif
