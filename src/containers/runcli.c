// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child.h"
#include "containers/runcli.h"

static void env_add(char **env, unsigned int *n, char *buf, size_t len,
		    const char *name, const char *value)
{
	if (!value)
		return;
	snprintf(buf, len, "%s=%s", name, value);
	env[(*n)++] = buf;
}

/* The child's stdin: the input in a memfd (no pipe to fill), or /dev/null */
static int input_fd(const char *input, struct uerr *err)
{
	size_t len, done = 0;
	ssize_t n;
	int fd;

	if (!input) {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		return fd < 0 ? uerr_sys(err, errno, "/dev/null") : fd;
	}
	fd = memfd_create("ublk-user-input", MFD_CLOEXEC);
	if (fd < 0)
		return uerr_sys(err, errno, "memfd_create");
	len = strlen(input);
	while (done < len) {
		n = write(fd, input + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			uerr_sys(err, n < 0 ? errno : EIO, "memfd");
			close(fd);
			return -err->code;
		}
		done += n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		uerr_sys(err, errno, "memfd");
		close(fd);
		return -err->code;
	}
	return fd;
}

/*
 * Read both pipes until the child has exited and they are empty, both are
 * closed, or the deadline passes (false).  Something the child started
 * may keep them open after it exits: its exit ends the reading.
 */
static bool drain(int out_fd, int err_fd, int pidfd, long deadline,
		  struct runcli_out *o)
{
	struct pollfd p[3] = { { .fd = out_fd, .events = POLLIN },
			       { .fd = err_fd, .events = POLLIN },
			       { .fd = pidfd, .events = POLLIN } };
	size_t got[2] = { 0, 0 };
	size_t cap[2] = { sizeof(o->out) - 1, sizeof(o->err) - 1 };
	char *buf[2] = { o->out, o->err };
	bool exited = false, in_time = true;
	char junk[4096];
	long left;
	ssize_t n;
	int i, ready;

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		left = deadline - mono_ms();
		if (left <= 0 && !exited) {
			in_time = false;
			break;
		}
		ready = poll(p, 3, exited ? 0 : (int)left);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0 || (ready == 0 && exited))
			break;
		for (i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (got[i] < cap[i])
				n = read(p[i].fd, buf[i] + got[i],
					 cap[i] - got[i]);
			else
				n = read(p[i].fd, junk, sizeof(junk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				p[i].fd = -1;
				continue;
			}
			if (got[i] < cap[i])
				got[i] += n;
		}
		if (p[2].fd >= 0 && p[2].revents) {
			exited = true;
			p[2].fd = -1;
		}
	}
	o->out[got[0]] = '\0';
	o->err[got[1]] = '\0';
	return in_time;
}

int runcli(const struct runcli_job *job, struct runcli_out *o, struct uerr *err)
{
	char e_path[] = "PATH=/usr/bin:/bin";
	char e_run[4200], e_udev[128], e_sec[128];
	char *env[8];
	unsigned int n = 0;
	long start = mono_ms();
	int po[2], pe[2], in, pidfd, status, ret;
	pid_t pid;

	env[n++] = e_path;
	env_add(env, &n, e_run, sizeof(e_run), "XDG_RUNTIME_DIR",
		job->runtime_dir);
	env_add(env, &n, e_udev, sizeof(e_udev), "UBLK_USER_UDEV_TIMEOUT",
		getenv("UBLK_USER_UDEV_TIMEOUT"));
	env_add(env, &n, e_sec, sizeof(e_sec), "UBLK_USER_SECCOMP",
		getenv("UBLK_USER_SECCOMP"));
	env[n] = NULL;
	o->status = -1;
	o->out[0] = o->err[0] = '\0';
	in = input_fd(job->input, err);
	if (in < 0)
		return in;
	if (pipe2(po, O_CLOEXEC) < 0) {
		close(in);
		return uerr_sys(err, errno, "pipe");
	}
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(in);
		close(po[0]);
		close(po[1]);
		return uerr_sys(err, errno, "pipe");
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (dup2(in, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
			_exit(126);
		execve(job->prog, job->argv, env);
		dprintf(2, "ublk-user-oci-hook: cannot run %s: %s\n", job->prog,
			strerror(errno));
		_exit(127);
	}
	ret = pid < 0 ? -errno : 0;
	close(in);
	close(po[1]);
	close(pe[1]);
	if (ret < 0) {
		close(po[0]);
		close(pe[0]);
		return uerr_sys(err, -ret, "fork");
	}
	/* Not reaped before child_wait(): its pid stays its own. */
	pidfd = child_pidfd(pid);
	drain(po[0], pe[0], pidfd, job->deadline_ms, o);
	if (pidfd >= 0)
		close(pidfd);
	close(po[0]);
	close(pe[0]);
	ret = child_wait(pid, job->deadline_ms, &status);
	if (ret == -ETIMEDOUT)
		return uerr_set(err, ETIMEDOUT,
				"'%s %s' was still running after %ld s and "
				"was killed (stopped by the disk's owner, or "
				"stuck)",
				job->argv[0], job->argv[1] ? job->argv[1] : "",
				(mono_ms() - start) / 1000);
	if (ret < 0)
		return uerr_sys(err, -ret, "waitpid");
	o->status = WIFEXITED(status) ? WEXITSTATUS(status) :
					128 + WTERMSIG(status);
	return 0;
}

const char *runcli_reason(struct runcli_out *o)
{
	size_t n = strlen(o->err);
	char *line;

	while (n && o->err[n - 1] == '\n')
		o->err[--n] = '\0';
	if (!n) {
		snprintf(o->err, sizeof(o->err),
			 "ublk-user exited with status %d and said nothing",
			 o->status);
		return o->err;
	}
	line = strrchr(o->err, '\n');
	line = line ? line + 1 : o->err;
	if (!strncmp(line, "ublk-user: ", 11))
		line += 11;
	return line;
}
