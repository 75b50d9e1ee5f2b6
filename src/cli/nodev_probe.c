// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/ctrl.h"
#include "nodev_probe.h"

/* What the child tells its parent through a pipe. */
struct verdict_msg {
	enum nodev_verdict verdict;
	char why[256];
};

static void probe_child(uint32_t id, struct verdict_msg *m)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_NODEV };
	struct ublksrv_ctrl_dev_info info;
	struct ublk_dev_ref ref;
	struct ublk_ctrl ctrl;
	const char *step;
	struct uerr err;
	int ret;

	ublk_dev_ref_init(&ref, id, true);
	m->verdict = NODEV_UNTESTED;
	step = "user and mount namespaces";
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		goto fail;
	step = "private mounts";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		goto fail;
	step = "a bind mount of the node";
	if (mount(ref.path, ref.path, NULL, MS_BIND, NULL) < 0)
		goto fail;
	step = "nodev on it";
	if (mount_setattr(AT_FDCWD, ref.path, 0, &attr, sizeof(attr)) < 0)
		goto fail;
	if (ublk_ctrl_open(&ctrl, &err) < 0) {
		snprintf(m->why, sizeof(m->why), "%.200s", err.msg);
		return;
	}
	ret = ublk_ctrl_get_info(&ctrl, &ref, &info, &err);
	ublk_ctrl_close(&ctrl);
	if (ret == 0) {
		m->verdict = NODEV_ACCEPTED;
		snprintf(m->why, sizeof(m->why),
			 "GET_DEV_INFO2 through %.64s on a nodev mount "
			 "succeeded",
			 ref.path);
	} else if (ret == -EACCES || ret == -EPERM) {
		m->verdict = NODEV_REFUSED;
		snprintf(m->why, sizeof(m->why),
			 "GET_DEV_INFO2 through %.64s on a nodev mount: %s",
			 ref.path, strerror(-ret));
	} else {
		snprintf(m->why, sizeof(m->why), "%.200s", err.msg);
	}
	return;
fail:
	snprintf(m->why, sizeof(m->why), "cannot set up %s: %s", step,
		 strerror(errno));
}

enum nodev_verdict nodev_probe(uint32_t id, char *why, size_t len)
{
	struct verdict_msg m = { .verdict = NODEV_UNTESTED };
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		return NODEV_UNTESTED;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return NODEV_UNTESTED;
	}
	if (pid == 0) {
		close(fds[0]);
		probe_child(id, &m);
		_exit(write(fds[1], &m, sizeof(m)) == sizeof(m) ? 0 : 1);
	}
	close(fds[1]);
	do
		n = read(fds[0], &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != sizeof(m)) {
		snprintf(why, len, "the probe process died");
		return NODEV_UNTESTED;
	}
	m.why[sizeof(m.why) - 1] = '\0';
	snprintf(why, len, "%s", m.why);
	return m.verdict;
}
