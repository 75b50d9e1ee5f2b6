// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "server/ctlsock.h"

int ctl_sock_listen(struct ctl_sock *s, const char *path, uid_t owner,
		    struct uerr *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	s->owner_uid = owner;
	if (strlen(path) >= sizeof(addr.sun_path))
		return uerr_set(err, ENAMETOOLONG, "socket path %s is too long",
				path);
	strcpy(addr.sun_path, path);
	s->listen_fd = socket(AF_UNIX,
			      SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		return uerr_sys(err, errno, "socket");
	unlink(path); /* a stale socket of an earlier server of this id */
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(s->listen_fd, 4) < 0) {
		close(s->listen_fd);
		s->listen_fd = -1;
		return uerr_sys(err, errno, "cannot listen on %s", path);
	}
	return 0;
}

int ctl_sock_fd(const struct ctl_sock *s)
{
	return s->listen_fd;
}

static void ctl_reply(int fd, struct ctl_reply *r, int status,
		      const struct uerr *err)
{
	r->status = status < 0 ? status : 0;
	if (status < 0)
		snprintf(r->msg, sizeof(r->msg), "%.255s", err->msg);
	if (write(fd, r, sizeof(*r)) != sizeof(*r))
		fprintf(stderr, "control: cannot answer a client\n");
}

/*
 * Grow: the target first (a file must be long enough), then the kernel.
 * Shrink: the kernel first, so that no new I/O goes past the end, then
 * the target.  t->size, which the queues check every I/O against, is set
 * in between.
 */
static int ctl_resize(struct ctl_sock *s, uint64_t size, struct ctl_reply *r,
		      struct uerr *err)
{
	struct target *t = s->tgt;
	uint64_t old = t->size, bs = 1ULL << t->lbs_shift;
	struct uerr e;
	int ret;

	if (!t->ops->resize)
		return uerr_set(err, EOPNOTSUPP,
				"the %s target cannot be resized",
				t->ops->name);
	if (!size || size % bs)
		return uerr_set(err, EINVAL,
				"the size must be a non-zero multiple of %llu "
				"bytes",
				(unsigned long long)bs);
	if (size >= old) {
		ret = t->ops->resize(t, size, err);
		if (ret < 0)
			return ret;
		__atomic_store_n(&t->size, size, __ATOMIC_RELEASE);
		ret = ublk_ctrl_update_size(s->ctrl, s->ref, size >> 9, err);
		if (ret < 0) {
			__atomic_store_n(&t->size, old, __ATOMIC_RELEASE);
			return ret;
		}
	} else {
		ret = ublk_ctrl_update_size(s->ctrl, s->ref, size >> 9, err);
		if (ret < 0)
			return ret;
		uerr_clear(&e);
		if (t->ops->resize(t, size, &e) < 0)
			fprintf(stderr, "resize: %s\n", e.msg);
		__atomic_store_n(&t->size, size, __ATOMIC_RELEASE);
	}
	fprintf(stderr, "resized from %llu to %llu bytes\n",
		(unsigned long long)old, (unsigned long long)size);
	r->size = size;
	return 0;
}

/* Wait until fd is readable; false after timeout_ms or on a signal. */
static bool ctl_wait(const struct ctl_sock *s, int fd, int timeout_ms,
		     bool *signalled)
{
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = s->signal_fd, .events = POLLIN },
	};
	int ret;

	do
		ret = poll(pfd, 2, timeout_ms < 0 ? 0 : timeout_ms);
	while (ret < 0 && errno == EINTR);
	*signalled = ret > 0 && pfd[1].revents;
	return ret > 0 && !*signalled;
}

static void ctl_resume(struct ctl_sock *s)
{
	struct uerr e;

	if (s->pause->paused && pause_queues(s->pause, false, &e) < 0)
		fprintf(stderr, "control: %s\n", e.msg);
}

/* Hold new requests until every queue has finished what it has. */
static int ctl_pause(struct ctl_sock *s, struct ctl_reply *r, struct uerr *err)
{
	uint64_t start = mono_us(), v;
	bool signalled = false;
	struct stat st;
	int left, ret;

	if (s->backing_fd >= 0) {
		if (fstat(s->backing_fd, &st) < 0)
			return uerr_sys(err, errno, "stat of the backing");
		r->dev = st.st_dev;
		r->ino = st.st_ino;
	}
	while (read(s->event_fd, &v, sizeof(v)) == sizeof(v))
		; /* what earlier pauses said */
	ret = pause_queues(s->pause, true, err);
	while (ret == 0 && !pause_drained(s->pause)) {
		left = CTL_DRAIN_MAX_MS - (int)((mono_us() - start) / 1000);
		if (left <= 0)
			ret = uerr_set(err, ETIMEDOUT,
				       "in-flight I/O did not finish within "
				       "%d ms: not paused",
				       CTL_DRAIN_MAX_MS);
		else if (ctl_wait(s, s->event_fd, left, &signalled))
			while (read(s->event_fd, &v, sizeof(v)) == sizeof(v))
				;
		else if (signalled)
			ret = uerr_set(err, EINTR, "the server is stopping");
	}
	if (ret < 0) {
		ctl_resume(s);
		return ret;
	}
	r->usec = mono_us() - start;
	fprintf(stderr, "paused: drained in %llu us\n",
		(unsigned long long)r->usec);
	return 0;
}

/*
 * Paused: wait for RESUME on the client's connection, at most until
 * CTL_PAUSE_MAX_MS after the pause began; resume in every case.
 */
static void ctl_hold(struct ctl_sock *s, int fd, uint64_t start)
{
	struct ctl_reply r = { 0 };
	struct ctl_req req;
	bool signalled = false;
	struct uerr e;
	int left, ret = 0;
	ssize_t n;

	left = CTL_PAUSE_MAX_MS - (int)((mono_us() - start) / 1000);
	if (!ctl_wait(s, fd, left, &signalled)) {
		ctl_resume(s);
		if (signalled)
			ret = uerr_set(&e, EINTR,
				       "the server is stopping: the pause "
				       "ended early");
		else
			ret = uerr_set(&e, ETIMEDOUT,
				       "the pause reached %d ms: I/O "
				       "resumed",
				       CTL_PAUSE_MAX_MS);
		ctl_reply(fd, &r, ret, &e);
		return;
	}
	n = read(fd, &req, sizeof(req));
	ctl_resume(s);
	r.usec = mono_us() - start;
	fprintf(stderr, "resumed after %llu us\n", (unsigned long long)r.usec);
	if (n != sizeof(req))
		return; /* the client went away */
	if (req.magic != CTL_MAGIC || req.op != CTL_RESUME)
		ret = uerr_set(&e, EINVAL, "a paused device takes RESUME only");
	ctl_reply(fd, &r, ret, &e);
}

static bool ctl_peer_ok(const struct ctl_sock *s, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	    cred.uid == s->owner_uid)
		return true;
	fprintf(stderr, "control: refused a peer with uid %d (pid %d)\n",
		(int)cred.uid, (int)cred.pid);
	return false;
}

void ctl_sock_serve(struct ctl_sock *s)
{
	struct ctl_reply r = { 0 };
	bool signalled = false;
	struct ctl_req req;
	uint64_t start;
	struct uerr e;
	int fd, ret;
	ssize_t n;

	fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* The request first, also from a peer refused: a close with it
	 * unread would reset the connection before the refusal is read. */
	if (!ctl_wait(s, fd, CTL_REQUEST_MS, &signalled)) {
		close(fd);
		return;
	}
	uerr_clear(&e);
	n = read(fd, &req, sizeof(req));
	if (!ctl_peer_ok(s, fd))
		ret = uerr_set(&e, EPERM, "only the device's owner may ask");
	else if (n != sizeof(req) || req.magic != CTL_MAGIC)
		ret = uerr_set(&e, EINVAL, "not a control request");
	else if (req.op == CTL_RESIZE)
		ret = ctl_resize(s, req.arg, &r, &e);
	else if (req.op == CTL_PAUSE)
		ret = ctl_pause(s, &r, &e);
	else if (req.op == CTL_RESUME)
		ret = uerr_set(&e, EINVAL, "the device is not paused");
	else
		ret = uerr_set(&e, EINVAL, "unknown control request %u",
			       req.op);
	start = mono_us() - r.usec;
	ctl_reply(fd, &r, ret, &e);
	if (ret == 0 && req.op == CTL_PAUSE)
		ctl_hold(s, fd, start);
	close(fd);
}

void ctl_sock_close(struct ctl_sock *s)
{
	if (s->pause)
		ctl_resume(s);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
}

int ctl_connect(const char *path, struct uerr *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return uerr_set(err, ENAMETOOLONG, "socket path %s is too long",
				path);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return uerr_sys(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		uerr_sys(err, errno, "cannot reach the server at %s", path);
		close(fd);
		return -err->code;
	}
	return fd;
}

int ctl_call(int fd, enum ctl_op op, uint64_t arg, struct ctl_reply *rep,
	     int timeout_ms, struct uerr *err)
{
	struct ctl_req req = { .magic = CTL_MAGIC, .op = op, .arg = arg };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int ret;

	memset(rep, 0, sizeof(*rep));
	if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req)) {
		/* A refusal may be waiting: the server said it and closed. */
		ret = errno;
		n = recv(fd, rep, sizeof(*rep), MSG_DONTWAIT);
		if (n != sizeof(*rep))
			return uerr_sys(err, ret, "sending to the server");
	} else {
		do
			ret = poll(&pfd, 1, timeout_ms);
		while (ret < 0 && errno == EINTR);
		if (ret == 0)
			return uerr_set(err, ETIMEDOUT,
					"the server did not answer within "
					"%d ms",
					timeout_ms);
		n = recv(fd, rep, sizeof(*rep), 0);
	}
	if (n != sizeof(*rep))
		return uerr_set(err, EPROTO, "the server ended the connection");
	rep->msg[sizeof(rep->msg) - 1] = '\0';
	if (rep->status < 0)
		return uerr_set(err, -rep->status, "%s", rep->msg);
	return 0;
}
