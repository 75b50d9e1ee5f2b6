// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "kernel/devnode.h"

unsigned int devnode_timeout(void)
{
	const char *s = getenv("UBLK_USER_UDEV_TIMEOUT");
	char *end;
	unsigned long v;

	if (!s || !*s)
		return DEVNODE_DEFAULT_TIMEOUT_S;
	v = strtoul(s, &end, 10);
	if (*end || !v || v > 3600)
		return DEVNODE_DEFAULT_TIMEOUT_S;
	return v;
}

static int node_ready(const char *path, uid_t uid)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 0;
	return st.st_uid == uid && access(path, R_OK | W_OK) == 0;
}

/*
 * Wait for cond(path) with inotify on /dev; 0, or -ETIME.  With alive
 * set: -ENODEV as soon as that node (the device's char node), once seen,
 * is gone.  (A /dev where it never appears, as in a container, times out
 * as before.)
 */
static int wait_dev(const char *path, uid_t uid, int want_ready,
		    const char *alive, unsigned int timeout_s)
{
	long deadline = mono_ms() + timeout_s * 1000L;
	char evbuf[4096];
	struct pollfd pfd;
	bool seen = false;
	int ret = -ETIME;
	int fd;

	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd >= 0 && inotify_add_watch(fd, "/dev",
					 IN_CREATE | IN_ATTRIB | IN_DELETE |
						 IN_MOVED_TO) < 0) {
		close(fd);
		fd = -1;
	}
	for (;;) {
		int ready = want_ready ? node_ready(path, uid) :
					 access(path, F_OK) < 0;
		long left;

		if (ready) {
			ret = 0;
			break;
		}
		if (alive && access(alive, F_OK) == 0) {
			seen = true;
		} else if (alive && seen && errno == ENOENT) {
			ret = -ENODEV;
			break;
		}
		left = deadline - mono_ms();
		if (left <= 0)
			break;
		/* Without inotify, poll the node every 50 ms. */
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, fd >= 0 ? 1 : 0,
			 left < 50 || fd < 0 ? 50 : left) > 0 &&
		    fd >= 0)
			while (read(fd, evbuf, sizeof(evbuf)) > 0)
				;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

int devnode_wait_owned(const char *path, uid_t uid, unsigned int timeout_s,
		       struct uerr *err)
{
	return devnode_wait_handover(path, NULL, uid, timeout_s, err);
}

int devnode_wait_handover(const char *path, const char *alive, uid_t uid,
			  unsigned int timeout_s, struct uerr *err)
{
	int ret = wait_dev(path, uid, 1, alive, timeout_s);

	if (ret == 0)
		return 0;
	if (ret == -ENODEV)
		return uerr_set(err, ENODEV,
				"%s disappeared while waiting for it to be "
				"handed to uid %u: the device was deleted",
				path, (unsigned int)uid);
	return uerr_set(err, ETIME,
			"%s was not handed to uid %u within %u s: is the "
			"ublk-user udev rule (70-ublk-user.rules) installed "
			"and systemd-udevd running?",
			path, (unsigned int)uid, timeout_s);
}

int devnode_wait_gone(const char *path, unsigned int timeout_s)
{
	return wait_dev(path, 0, 0, NULL, timeout_s);
}
