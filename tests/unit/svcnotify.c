// SPDX-License-Identifier: MIT
/*
 * svc_notify (src/base/svcnotify.c): what a service manager receives on
 * the socket $NOTIFY_SOCKET names, a path or an abstract name, with the
 * sender's credentials as systemd checks them (NotifyAccess=main); and
 * the addresses it refuses without sending anything.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tap.h"
#include "base/svcnotify.h"

/* A manager's end: a datagram socket at name that asks for credentials */
static int manager_socket(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd, on = 1;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		bail_out("socket: %s", strerror(errno));
	strncpy(sa.sun_path, name, sizeof(sa.sun_path) - 1);
	len = offsetof(struct sockaddr_un, sun_path) + strlen(name);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		len++;
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0)
		bail_out("bind %s: %s", name, strerror(errno));
	return fd;
}

/* The next datagram on fd (none: ""), and the pid that sent it */
static void receive(int fd, char *buf, size_t len, pid_t *pid)
{
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { .iov_base = buf, .iov_len = len - 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n;

	*pid = 0;
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	for (c = CMSG_FIRSTHDR(&mh); n > 0 && c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			*pid = uc.pid;
		}
}

static void test_sent(const char *name)
{
	char buf[2048];
	pid_t pid;
	int fd = manager_socket(name);

	setenv("NOTIFY_SOCKET", name, 1);
	is_int(svc_notify("READY=1\nSTATUS=%s: /dev/ublkb%u", "data", 7), 1,
	       "%s: svc_notify says it sent", name);
	receive(fd, buf, sizeof(buf), &pid);
	is_str(buf, "READY=1\nSTATUS=data: /dev/ublkb7",
	       "  the manager gets the formatted state");
	is_int(pid, getpid(), "  with the sender's pid (NotifyAccess=main)");
	is_int(svc_notify("STOPPING=1"), 1, "  a second one is sent too");
	receive(fd, buf, sizeof(buf), &pid);
	is_str(buf, "STOPPING=1", "  and received as it was sent");
	close(fd);
}

static void test_refused(const char *name, int code)
{
	is_int(svc_notify("READY=1"), -code, "NOTIFY_SOCKET='%s': %s", name,
	       strerror(code));
}

int main(void)
{
	char dir[] = "/tmp/svcnotify.XXXXXX", path[256], name[128];
	char longname[200], big[6001], bigger[8192];
	pid_t pid;
	int fd;

	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/notify", dir);
	snprintf(name, sizeof(name), "@ublk-user-test/%d", (int)getpid());

	unsetenv("NOTIFY_SOCKET");
	is_int(svc_notify("READY=1"), 0, "no NOTIFY_SOCKET: nobody to tell");

	test_sent(path);
	test_sent(name);

	/* Nothing listens there any more: the error, not a hang */
	unlink(path);
	setenv("NOTIFY_SOCKET", path, 1);
	is_int(svc_notify("READY=1"), -ENOENT,
	       "a socket path that is gone: ENOENT");

	setenv("NOTIFY_SOCKET", "relative/notify", 1);
	test_refused("relative/notify", EINVAL);
	setenv("NOTIFY_SOCKET", "", 1);
	test_refused("", EINVAL);
	setenv("NOTIFY_SOCKET", "@", 1);
	test_refused("@", EINVAL);
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	test_refused("vsock:2:1234", EAFNOSUPPORT);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	test_refused("/xxx... (199 bytes)", EINVAL);

	/* A long state (a STATUS= with paths) goes whole */
	fd = manager_socket(path);
	setenv("NOTIFY_SOCKET", path, 1);
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(svc_notify("STATUS=%s", big), 1,
	       "a state of 6007 bytes is sent");
	receive(fd, bigger, sizeof(bigger), &pid);
	is_int(strlen(bigger), 6007, "  and received whole");
	close(fd);

	unlink(path);
	rmdir(dir);
	return done_testing();
}
