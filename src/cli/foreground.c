// SPDX-License-Identifier: MIT
/*
 * up --foreground: the CLI stays with the disk's server, its child, until
 * the disk goes, for a supervisor (systemd's Type=notify units, or a
 * terminal).  It tells the service manager when the block device is
 * usable (READY=1, STATUS= naming the node and the stable path), passes
 * the server's log on to its own stderr (the journal), asks the server to
 * stop on SIGTERM, SIGINT or SIGHUP, and exits 0 once it did.  When the
 * server dies, or ends without being asked (someone deleted the device),
 * it deletes what is left (the dead device, its record, the stable path)
 * and exits 1, so that Restart=on-failure makes the disk again.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/svcnotify.h"
#include "cli.h"
#include "host/caps.h"

/* The server's log, line by line as it comes, to our stderr */
static void pass_log(int fd, bool *open)
{
	char buf[4096];
	ssize_t n;

	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		*open = false;
		return;
	}
	if (fwrite(buf, 1, n, stderr) != (size_t)n)
		*open = false;
	fflush(stderr);
}

/* What happened to the server, for messages: "exited with status 1" */
static void describe_exit(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status) == 0)
		snprintf(buf, len, "stopped");
	else
		snprintf(buf, len, "exited with status %d",
			 WEXITSTATUS(status));
}

/*
 * The server is gone and did not delete its device: delete it if it is
 * still ours (the tag we gave it), with its record.
 */
static void delete_leftovers(const struct fg_disk *d)
{
	struct ublk_ctrl ctrl cleanup_with(ublk_ctrl_close) = { .fd = -1 };
	struct ublksrv_ctrl_dev_info info;
	struct ublk_dev_ref ref;
	struct uerr err;

	uerr_clear(&err);
	if (ublk_ctrl_open(&ctrl, &err) < 0) {
		fprintf(stderr, "%s: disk %s: %s\n", prog_name, d->name,
			err.msg);
		return;
	}
	ublk_dev_ref_init(&ref, d->dev_id, true);
	if (ublk_ctrl_get_info(&ctrl, &ref, &info, &err) == 0 &&
	    info.ublksrv_flags == d->tag &&
	    dev_remove(&ctrl, d->dev_id, 0, false, &err) < 0)
		fprintf(stderr,
			"%s: disk %s: cannot delete the dead device %u: %s\n",
			prog_name, d->name, d->dev_id, err.msg);
	record_remove(d->dev_id);
}

/* Block until the server exits; its wait status, or -1 */
static int serve(const struct fg_disk *d, bool *stopping)
{
	struct pollfd pfd[3];
	struct signalfd_siginfo si;
	bool log_open = d->log_fd >= 0;
	int pidfd, sigfd, status;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	pidfd = syscall(SYS_pidfd_open, d->server_pid, 0);
	if (sigfd < 0 || pidfd < 0) {
		fprintf(stderr, "%s: disk %s: %s\n", prog_name, d->name,
			strerror(errno));
		kill(d->server_pid, SIGTERM);
		*stopping = true;
	}
	while (pidfd >= 0) {
		pfd[0] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = log_open ? d->log_fd : -1,
					  .events = POLLIN };
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[2].revents)
			pass_log(d->log_fd, &log_open);
		if (pfd[1].revents &&
		    read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			/* Once more if asked twice: the server decides. */
			if (!*stopping)
				svc_notify("STOPPING=1\nSTATUS=Stopping");
			*stopping = true;
			kill(d->server_pid, SIGTERM);
		}
		if (pfd[0].revents)
			break;
	}
	while (log_open) /* what it said last */
		pass_log(d->log_fd, &log_open);
	if (pidfd >= 0)
		close(pidfd);
	if (sigfd >= 0)
		close(sigfd);
	while (waitpid(d->server_pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

void foreground_failed(const struct uerr *err)
{
	svc_notify("STATUS=%s", err->msg);
}

int foreground_serve(const struct fg_disk *d)
{
	char link[PATH_MAX], what[96];
	bool stopping = false;
	struct uerr err;
	int status;

	/* Nothing left to lock: no capability while we wait */
	if (caps_drop_thread(&err) < 0) {
		cli_error(&err);
		kill(d->server_pid, SIGTERM);
	}
	if (named_link_path(d->name, link, sizeof(link), false, &err) < 0)
		snprintf(link, sizeof(link), "-");
	fprintf(stderr, "%s: disk %s is up: /dev/ublkb%u (%s)\n", prog_name,
		d->name, d->dev_id, link);
	svc_notify("READY=1\nSTATUS=%s: /dev/ublkb%u (%s)", d->name, d->dev_id,
		   link);

	status = serve(d, &stopping);
	if (status >= 0 && stopping && WIFEXITED(status) &&
	    !WEXITSTATUS(status)) {
		named_link_remove(d->name);
		fprintf(stderr, "%s: disk %s is down\n", prog_name, d->name);
		return EXIT_OK;
	}
	if (status >= 0)
		describe_exit(status, what, sizeof(what));
	else
		snprintf(what, sizeof(what), "is lost (%s)", strerror(errno));
	delete_leftovers(d);
	named_link_remove(d->name);
	fprintf(stderr,
		"%s: disk %s: its server (pid %d) %s%s; /dev/ublkb%u is "
		"gone\n",
		prog_name, d->name, (int)d->server_pid, what,
		stopping ? " while stopping" : "", d->dev_id);
	svc_notify("STATUS=%s: the server %s; /dev/ublkb%u is gone", d->name,
		   what, d->dev_id);
	return EXIT_FAIL;
}
