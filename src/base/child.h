/* SPDX-License-Identifier: MIT */
/*
 * Children waited for within a bound.  Whoever owns a device can stop
 * (SIGSTOP) the processes that act on it as its owner; a parent that
 * waits for one without a bound hangs with it, and so does everything that
 * waits for the parent.
 */
#ifndef UBLK_USER_CHILD_H
#define UBLK_USER_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/clock.h"

/*
 * A pidfd for pid, our child that is not reaped yet (so its pid cannot be
 * another process's); -1 with errno when the kernel has none.
 */
int child_pidfd(pid_t pid);

/*
 * Reap our child pid, waiting until deadline_ms (mono_ms() time).
 * At the deadline it is killed with SIGKILL (which ends a stopped process
 * too) and reaped.  *status as waitpid(2) gives it.  Returns 0 when it
 * ended by itself, -ETIMEDOUT when it was killed, -errno when waiting
 * failed.
 */
int child_wait(pid_t pid, long deadline_ms, int *status);

/*
 * In a child, after its last change of credentials (which clears it):
 * SIGKILL when the parent dies, and false when the parent parent_pid is
 * gone already.
 */
bool child_die_with_parent(pid_t parent_pid);

#endif
