// SPDX-License-Identifier: MIT
/*
 * The probe makes a one-entry ring in a child whose RLIMIT_MEMLOCK is 0: a
 * kernel that charges rings refuses it with ENOMEM.  A child, because the
 * limit is per process and our other threads must not see it change; the
 * child makes only raw system calls, as it is forked from a process that
 * may have threads.  The kernel has no other way to ask this.
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/io_uring.h>

#include "kernel/ringcharge.h"

enum { PROBE_MADE = 0, PROBE_CHARGED = 1, PROBE_FAILED = 2 };

static int probe_child(void)
{
	struct rlimit none = { 0, 0 };
	struct io_uring_params p;
	long fd;

	memset(&p, 0, sizeof(p));
	if (setrlimit(RLIMIT_MEMLOCK, &none) < 0)
		return PROBE_FAILED;
	fd = syscall(__NR_io_uring_setup, 1, &p);
	if (fd >= 0)
		return PROBE_MADE;
	return errno == ENOMEM ? PROBE_CHARGED : PROBE_FAILED;
}

int uring_rings_charged(void)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(probe_child());
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == PROBE_FAILED)
		return -EIO;
	return WEXITSTATUS(status) == PROBE_CHARGED;
}
