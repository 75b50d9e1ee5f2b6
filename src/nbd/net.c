// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "nbd/net.h"

static int wait_fd(int fd, short events, int64_t deadline, struct uerr *err)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int ret;

	for (;;) {
		left = deadline - mono_ms();
		if (left <= 0)
			return uerr_set(err, ETIMEDOUT,
					"the server did not answer in time");
		ret = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (ret > 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return uerr_sys(err, errno, "poll");
	}
}

static int read_full(int fd, uint8_t *buf, size_t n, int64_t deadline,
		     struct uerr *err)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = recv(fd, buf + got, n - got, MSG_DONTWAIT);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r == 0)
			return uerr_set(err, ECONNRESET,
					"the server closed the connection");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return uerr_sys(err, errno, "receiving");
		if (wait_fd(fd, POLLIN, deadline, err) < 0)
			return -ETIMEDOUT;
	}
	return 0;
}

static int write_full(int fd, const uint8_t *buf, size_t n, int64_t deadline,
		      struct uerr *err)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = send(fd, buf + done, n - done, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r >= 0) {
			done += (size_t)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return uerr_sys(err, errno, "sending");
		if (wait_fd(fd, POLLOUT, deadline, err) < 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* A non-blocking connect that ends by the deadline; blocking after */
static int connect_by(int fd, const struct sockaddr *sa, socklen_t len,
		      int64_t deadline, struct uerr *err)
{
	socklen_t elen = sizeof(int);
	int e = 0;

	if (connect(fd, sa, len) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN)
			return uerr_sys(err, errno, "connect");
		if (wait_fd(fd, POLLOUT, deadline, err) < 0)
			return -ETIMEDOUT;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
			e = errno;
		if (e)
			return uerr_sys(err, e, "connect");
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		return uerr_sys(err, errno, "fcntl");
	return 0;
}

static int connect_unix(const struct nbd_uri *u, int64_t deadline,
			struct uerr *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	/* The parser checked that the path fits, with its NUL. */
	memcpy(sa.sun_path, u->socket, strlen(u->socket) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return uerr_sys(err, errno, "socket");
	if (connect_by(fd, (struct sockaddr *)&sa, sizeof(sa), deadline, err) <
	    0) {
		close(fd);
		return -err->code;
	}
	return fd;
}

static int connect_tcp(const struct nbd_uri *u, int64_t deadline,
		       struct uerr *err)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV | (u->ipv6 ? AI_NUMERICHOST : 0),
	};
	struct addrinfo *res, *ai;
	char port[8];
	int fd = -1, one = 1, ret;

	snprintf(port, sizeof(port), "%u", u->port);
	ret = getaddrinfo(u->host, port, &hints, &res);
	if (ret)
		return uerr_set(err, ret == EAI_SYSTEM ? errno : EHOSTUNREACH,
				"resolving '%s': %s", u->host,
				gai_strerror(ret));
	uerr_set(err, EHOSTUNREACH, "'%s' has no address", u->host);
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
			    SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			uerr_sys(err, errno, "socket");
			continue;
		}
		if (connect_by(fd, ai->ai_addr, ai->ai_addrlen, deadline,
			       err) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -err->code;
	/* Requests are small and latency matters: no Nagle delay. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int nbd_connect(const struct nbd_uri *u, int timeout_ms, struct uerr *err)
{
	int64_t deadline = mono_ms() + timeout_ms;

	if (u->transport == NBD_TRANSPORT_UNIX)
		return connect_unix(u, deadline, err);
	return connect_tcp(u, deadline, err);
}

int nbd_handshake(int fd, const char *export_name, int timeout_ms,
		  struct nbd_export *exp, struct uerr *err)
{
	int64_t deadline = mono_ms() + timeout_ms;
	uint8_t in[NBD_HS_MAX_WANT];
	struct nbd_hs hs;
	struct uerr ignored;
	int ret, flags;

	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return uerr_sys(err, errno, "fcntl");
	ret = nbd_hs_init(&hs, export_name, err);
	while (ret == 0) {
		ret = read_full(fd, in, nbd_hs_want(&hs), deadline, err);
		if (ret < 0)
			break;
		ret = nbd_hs_feed(&hs, in, nbd_hs_want(&hs), err);
		/* After a failure, out may hold NBD_OPT_ABORT: best effort */
		if (hs.out_len &&
		    write_full(fd, hs.out, hs.out_len,
			       ret < 0 ? mono_ms() + 100 : deadline,
			       ret < 0 ? &ignored : err) < 0 &&
		    ret >= 0)
			ret = -err->code;
	}
	if (ret < 0)
		return uerr_prefix(err, "handshake");
	if (fcntl(fd, F_SETFL, flags) < 0)
		return uerr_sys(err, errno, "fcntl");
	*exp = hs.exp;
	return 0;
}

int nbd_open(const struct nbd_uri *u, int timeout_ms, struct nbd_export *exp,
	     struct uerr *err)
{
	char where[NBD_URI_HOST_MAX + 16];
	int fd;

	fd = nbd_connect(u, timeout_ms, err);
	if (fd >= 0 &&
	    nbd_handshake(fd, u->export_name, timeout_ms, exp, err) < 0) {
		close(fd);
		fd = -err->code;
	}
	if (fd < 0)
		return uerr_prefix(err, "NBD server %s",
				   nbd_uri_endpoint(u, where, sizeof(where)));
	return fd;
}
