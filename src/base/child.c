// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/child.h"

int child_pidfd(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/* Kill and reap a child that is out of time */
static int kill_and_reap(pid_t pid, int *status)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return -ETIMEDOUT;
}

int child_wait(pid_t pid, long deadline_ms, int *status)
{
	struct pollfd p = { .events = POLLIN };
	long left;
	pid_t r;

	p.fd = child_pidfd(pid);
	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			r = -errno;
			goto out;
		}
		left = deadline_ms - mono_ms();
		if (left <= 0) {
			r = kill_and_reap(pid, status);
			goto out;
		}
		if (p.fd >= 0)
			poll(&p, 1, left); /* readable once it has exited */
		else
			usleep(20000);
	}
	r = 0;
out:
	if (p.fd >= 0)
		close(p.fd);
	return r;
}

bool child_die_with_parent(pid_t parent_pid)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return false;
	return getppid() == parent_pid;
}
