// SPDX-License-Identifier: MIT
/* The notify protocol of the service manager (svcnotify.h says why here) */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/svcnotify.h"

/*
 * $NOTIFY_SOCKET as a socket address: "/path", or "@name" for the
 * abstract name "\0name".  0 with its length in *len, or -errno.
 */
static int notify_addr(const char *name, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(name);

	if (name[0] != '/' && name[0] != '@')
		return strchr(name, ':') ? -EAFNOSUPPORT : -EINVAL;
	if (n < 2 || n >= sizeof(sa->sun_path))
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, name, n);
	if (name[0] == '@')
		sa->sun_path[0] = '\0';
	/* A path ends with its NUL; an abstract name is exactly n bytes. */
	*len = offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/');
	return 0;
}

int svc_notify(const char *fmt, ...)
{
	const char *name = getenv("NOTIFY_SOCKET");
	cleanup_free char *msg = NULL;
	struct sockaddr_un sa;
	socklen_t len;
	va_list ap;
	int fd, n, ret;

	if (!name)
		return 0;
	ret = notify_addr(name, &sa, &len);
	if (ret < 0)
		return ret;
	/* Whole, however long: a STATUS= names paths */
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		msg = NULL;
		return -ENOMEM;
	}

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/*
	 * The manager takes the sender's pid from the kernel (SO_PASSCRED
	 * on its end), so nothing but the text goes with it.
	 */
	ret = 1;
	if (sendto(fd, msg, n, MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		ret = -errno;
	close(fd);
	return ret;
}
