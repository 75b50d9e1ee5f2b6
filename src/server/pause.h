/* SPDX-License-Identifier: MIT */
/*
 * Pausing a device's queues, for a snapshot of its backing (`ublk-user
 * snapshot`).  The kernel's QUIESCE_DEV is not for unprivileged devices,
 * so the server holds requests itself.  Its main thread posts a message
 * (IORING_OP_MSG_RING, from a ring of its own restricted to that one
 * opcode) to each queue ring; a queue thread wakes on it without any
 * syscall of its own beyond the ring's, holds every new request, lets
 * what the target has finish and says when nothing is left.  Held
 * requests stay the kernel's in-flight requests: a pause must end well
 * within the block layer's 30 s timeout, after which the kernel kills
 * the server of an unprivileged device.
 */
#ifndef UBLK_USER_PAUSE_H
#define UBLK_USER_PAUSE_H

#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

#include "base/err.h"
#include "server/queue.h"

struct pause_ring {
	struct io_uring ring;
	bool ready;
	struct ublk_queue *queues;
	unsigned int nr_queues;
	uint32_t gen; /* the last pause's number */
	bool paused;
};

/*
 * Made with the queue rings, before the process is restricted: io_uring
 * setup is not allowed after.
 */
int pause_ring_setup(struct pause_ring *p, struct ublk_queue *queues,
		     unsigned int nr_queues, struct uerr *err);
void pause_ring_exit(struct pause_ring *p);

/* Tell every queue to pause (a new number) or to resume. */
int pause_queues(struct pause_ring *p, bool pause, struct uerr *err);
/* Has every queue said it is drained for the current pause? */
bool pause_drained(const struct pause_ring *p);

#endif
