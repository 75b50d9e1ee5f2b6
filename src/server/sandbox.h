/* SPDX-License-Identifier: MIT */
/*
 * Confinement of a server once it is set up: seccomp allow lists (one for
 * the whole process, a tighter one for each queue thread) and io_uring
 * restrictions on each queue ring, because seccomp does not see what goes
 * through a ring.  Violations kill the whole server; the kernel then fails
 * the device's I/O instead of hanging.
 *
 * UBLK_USER_SECCOMP=log makes violations logged instead of fatal, for
 * development.  Building with -DUBLK_USER_NO_SANDBOX turns all of this off
 * for measuring its cost; never ship such a build.
 */
#ifndef UBLK_USER_SANDBOX_H
#define UBLK_USER_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

#include "base/err.h"

/*
 * Process-wide filter, synchronised to every thread (TSYNC).  state_dir_fd:
 * the one directory the server may still unlink in; shmem_socket: it
 * serves the zero-copy socket (accept, receive fds, check and map them).
 */
int sandbox_server(int state_dir_fd, bool shmem_socket, struct uerr *err);
/* The calling queue thread's own, tighter filter. */
int sandbox_queue_thread(struct uerr *err);
/*
 * Restrict a ring created with IORING_SETUP_R_DISABLED: only these SQE
 * opcodes, always on registered files, and no register operations.
 * buffer_select: SQEs may also pick a provided buffer (batch fetch).
 */
int sandbox_restrict_ring(struct io_uring *ring, const uint8_t *ops,
			  unsigned int nr_ops, bool buffer_select,
			  struct uerr *err);
/*
 * The same for the server's pause ring: IORING_OP_MSG_RING only (a
 * message to a queue ring), on plain fds, as rings cannot be registered.
 */
int sandbox_restrict_msg_ring(struct io_uring *ring, struct uerr *err);
/*
 * Newer kernels (7.x): restrict the calling task, and the threads it
 * creates from now on, so that any ring they might still set up can do
 * nothing at all.  1 when in place, 0 when the kernel lacks it.
 */
int sandbox_restrict_task(struct uerr *err);
/* false in a -DUBLK_USER_NO_SANDBOX build */
bool sandbox_enabled(void);

#endif
