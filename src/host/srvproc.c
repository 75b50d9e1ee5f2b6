// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "host/srvproc.h"

#define SRVPROC_TITLE_MAX 48

void srvproc_title(char *buf, size_t len, uint32_t dev_id)
{
	snprintf(buf, len, "ublk-user-server %u", dev_id);
}

/* Up to len - 1 bytes of /proc/PID/name, NUL-terminated; -1 on error */
static ssize_t read_proc(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static bool owned_by(pid_t pid, uid_t owner)
{
	char buf[2048], *line;
	unsigned int r, e, s;

	if (read_proc(pid, "status", buf, sizeof(buf)) < 0)
		return false;
	line = strstr(buf, "\nUid:");
	return line && sscanf(line, "\nUid: %u %u %u", &r, &e, &s) == 3 &&
	       r == owner && e == owner && s == owner;
}

/* The command line is exactly the server's title (with or without NUL). */
static bool titled(pid_t pid, uint32_t dev_id)
{
	char want[SRVPROC_TITLE_MAX], got[SRVPROC_TITLE_MAX + 2];
	size_t len;
	ssize_t n;

	srvproc_title(want, sizeof(want), dev_id);
	len = strlen(want);
	n = read_proc(pid, "cmdline", got, sizeof(got));
	if (n < 0 || ((size_t)n != len && (size_t)n != len + 1))
		return false;
	return !memcmp(got, want, len + 1);
}

int srvproc_signal(int pidfd, int sig)
{
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return -errno;
	return 0;
}

int srvproc_open(pid_t pid, uint32_t dev_id, uid_t owner)
{
	int fd;

	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	fd = syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -1;
	/*
	 * Read about pid, then make sure the pidfd's process still lives:
	 * only then was what we read about that process, not a successor.
	 */
	if (!owned_by(pid, owner) || !titled(pid, dev_id) ||
	    srvproc_signal(fd, 0) < 0) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

bool srvproc_is_server(pid_t pid, uint32_t dev_id, uid_t owner)
{
	int fd = srvproc_open(pid, dev_id, owner);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool srvproc_wait_exit(int pidfd, long timeout_ms)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	long deadline = mono_ms() + timeout_ms, left;
	int ret;

	for (;;) {
		left = deadline - mono_ms();
		ret = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (ret > 0)
			return true;
		if (ret == 0 || errno != EINTR)
			return false;
	}
}
