/* SPDX-License-Identifier: MIT */
/*
 * Release on scope exit, in the style of crun's cleanup_free and
 * cleanup_close: a function with several exits declares what it holds once
 * and returns from anywhere.  Only for locals that are initialised where
 * they are declared (NULL, -1, or a value whose release is a no-op).
 *
 *	cleanup_free char *buf = NULL;
 *	cleanup_close int fd = -1;
 *	struct ublk_ctrl ctrl cleanup_with(ublk_ctrl_close) = { .fd = -1 };
 *
 * take_ptr()/take_fd() hand a value out of a cleanup variable.
 */
#ifndef UBLK_USER_CLEANUP_H
#define UBLK_USER_CLEANUP_H

#include <stdlib.h>
#include <unistd.h>

/* fn(&var) when var goes out of scope */
#define cleanup_with(fn) __attribute__((cleanup(fn)))

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}

static inline void cleanup_closep(const int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define cleanup_free cleanup_with(cleanup_freep)
#define cleanup_close cleanup_with(cleanup_closep)

/* The pointer in *p, leaving NULL behind for the cleanup */
static inline void *take_ptr_(void **p)
{
	void *v = *p;

	*p = NULL;
	return v;
}
#define take_ptr(p) take_ptr_((void **)(p))

/* The fd in *fd, leaving -1 behind for the cleanup */
static inline int take_fd(int *fd)
{
	int v = *fd;

	*fd = -1;
	return v;
}

#endif
