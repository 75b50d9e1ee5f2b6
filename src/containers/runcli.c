// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containers/runcli.h"

static void env_add(char **env, unsigned int *n, char *buf, size_t len,
		    const char *name, const char *value)
{
	if (!value)
		return;
	snprintf(buf, len, "%s=%s", name, value);
	env[(*n)++] = buf;
}

/* Read both pipes to their end; what does not fit is dropped. */
static void drain(int out_fd, int err_fd, struct runcli_out *o)
{
	struct pollfd p[2] = { { .fd = out_fd, .events = POLLIN },
			       { .fd = err_fd, .events = POLLIN } };
	size_t got[2] = { 0, 0 };
	size_t cap[2] = { sizeof(o->out) - 1, sizeof(o->err) - 1 };
	char *buf[2] = { o->out, o->err };
	char junk[4096];
	ssize_t n;
	int i, open_fds = 2;

	while (open_fds > 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
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
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
				continue;
			}
			if (got[i] < cap[i])
				got[i] += n;
		}
	}
	o->out[got[0]] = '\0';
	o->err[got[1]] = '\0';
}

int runcli(const char *prog, char *const argv[], const char *runtime_dir,
	   struct runcli_out *o, struct uerr *err)
{
	char e_path[] = "PATH=/usr/bin:/bin";
	char e_run[4200], e_udev[128], e_sec[128];
	char *env[8];
	unsigned int n = 0;
	int po[2], pe[2], status;
	pid_t pid;

	env[n++] = e_path;
	env_add(env, &n, e_run, sizeof(e_run), "XDG_RUNTIME_DIR", runtime_dir);
	env_add(env, &n, e_udev, sizeof(e_udev), "UBLK_USER_UDEV_TIMEOUT",
		getenv("UBLK_USER_UDEV_TIMEOUT"));
	env_add(env, &n, e_sec, sizeof(e_sec), "UBLK_USER_SECCOMP",
		getenv("UBLK_USER_SECCOMP"));
	env[n] = NULL;
	o->status = -1;
	o->out[0] = o->err[0] = '\0';
	if (pipe2(po, O_CLOEXEC) < 0)
		return uerr_sys(err, errno, "pipe");
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]);
		close(po[1]);
		return uerr_sys(err, errno, "pipe");
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		return uerr_sys(err, errno, "fork");
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(po[1], 1) < 0 ||
		    dup2(pe[1], 2) < 0)
			_exit(126);
		execve(prog, argv, env);
		dprintf(2, "ublk-user-oci-hook: cannot run %s: %s\n", prog,
			strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	drain(po[0], pe[0], o);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return uerr_sys(err, errno, "waitpid");
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
