/* SPDX-License-Identifier: MIT */
/*
 * What a queue under test has put in its submission ring: the SQEs
 * queued since mark_sq() (the queue unit tests never submit them).
 */
#ifndef UBLK_USER_TEST_QUEUE_SQ_H
#define UBLK_USER_TEST_QUEUE_SQ_H

#include "server/queue.h"

static unsigned int sq_mark; /* sqe_tail at the last mark_sq() */

static inline struct io_uring_sqe *sq_at(const struct ublk_queue *qq,
					 unsigned int i)
{
	return &qq->ring.sq.sqes[i & qq->ring.sq.ring_mask];
}

static inline void mark_sq(const struct ublk_queue *qq)
{
	sq_mark = qq->ring.sq.sqe_tail;
}

/* SQEs queued since mark_sq() */
static inline unsigned int sq_new(const struct ublk_queue *qq)
{
	return qq->ring.sq.sqe_tail - sq_mark;
}

#endif
