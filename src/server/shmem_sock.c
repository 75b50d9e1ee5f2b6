// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "server/shmem_sock.h"

/* Room for a few fds: more than one is refused, too many truncates. */
#define MAX_FDS_SEEN 4

int shmem_sock_listen(struct shmem_sock *s, const char *path, uid_t owner,
		      struct uerr *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	unsigned int i;

	memset(s->clients, 0, sizeof(s->clients));
	for (i = 0; i < SHMEM_SOCK_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	s->owner_uid = owner;
	s->next_id = 1;
	if (strlen(path) >= sizeof(addr.sun_path))
		return uerr_set(err, ENAMETOOLONG, "socket path %s is too long",
				path);
	strcpy(addr.sun_path, path);
	s->listen_fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		return uerr_sys(err, errno, "socket");
	unlink(path); /* a stale socket of an earlier server of this id */
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(s->listen_fd, SHMEM_SOCK_MAX_CLIENTS) < 0) {
		close(s->listen_fd);
		s->listen_fd = -1;
		return uerr_sys(err, errno, "cannot listen on %s", path);
	}
	return 0;
}

unsigned int shmem_sock_pollfds(const struct shmem_sock *s, struct pollfd *pfd,
				unsigned int max)
{
	unsigned int i, n = 0;

	if (s->listen_fd < 0 || !max)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
	for (i = 0; i < SHMEM_SOCK_MAX_CLIENTS && n < max; i++)
		if (s->clients[i].fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = s->clients[i].fd,
						    .events = POLLIN };
	return n;
}

static void reply(int fd, int32_t value)
{
	if (send(fd, &value, sizeof(value), MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    sizeof(value))
		fprintf(stderr, "shmem: cannot answer a client\n");
}

static void accept_client(struct shmem_sock *s)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	unsigned int i;
	int fd;

	fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* Only the device's owner (in a container too: same host uid). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.uid != s->owner_uid) {
		fprintf(stderr, "shmem: refused a peer with uid %d (pid %d)\n",
			(int)cred.uid, (int)cred.pid);
		reply(fd, -EPERM);
		close(fd);
		return;
	}
	for (i = 0; i < SHMEM_SOCK_MAX_CLIENTS; i++) {
		if (s->clients[i].fd < 0) {
			s->clients[i].fd = fd;
			s->clients[i].id = s->next_id++;
			return;
		}
	}
	fprintf(stderr, "shmem: too many clients\n");
	reply(fd, -EMFILE);
	close(fd);
}

static void drop_client(struct shmem_sock *s, struct shmem_client *c)
{
	/* Its buffers go with it: nothing stays pinned for a dead client. */
	shmem_unregister_owner(s->table, s->ctrl, s->ref, c->id);
	close(c->fd);
	c->fd = -1;
}

/* Collect the fds of every SCM_RIGHTS message into fds[]. */
static unsigned int take_fds(struct msghdr *msg, int *fds, unsigned int max)
{
	struct cmsghdr *cm;
	unsigned int n = 0, i, k;

	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(fd));
			if (n < max)
				fds[n] = fd;
			else
				close(fd);
			n++;
		}
	}
	return n;
}

static int32_t handle_register(struct shmem_sock *s, struct shmem_client *c,
			       int fd)
{
	struct shmem_fd_info info;
	struct uerr err;
	int ret;

	uerr_clear(&err);
	ret = shmem_check_fd(fd, SHMEM_FROM_CLIENT,
			     s->table->budget - s->table->total, &info, &err);
	if (ret == 0)
		ret = shmem_register(s->table, s->ctrl, s->ref, fd, &info,
				     c->id, &err);
	if (ret < 0) {
		fprintf(stderr, "shmem: client %llu: refused: %s\n",
			(unsigned long long)c->id, err.msg);
		return err.code ? -err.code : -EINVAL;
	}
	fprintf(stderr, "shmem: client %llu: buffer %d, %llu bytes%s\n",
		(unsigned long long)c->id, ret, (unsigned long long)info.len,
		info.read_only ? ", read-only" : "");
	return ret;
}

static void serve_client(struct shmem_sock *s, struct shmem_client *c)
{
	union {
		char buf[CMSG_SPACE(MAX_FDS_SEEN * sizeof(int))];
		struct cmsghdr align;
	} u;
	unsigned char data[8];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	int fds[MAX_FDS_SEEN];
	unsigned int nfds, i;
	struct uerr err;
	int32_t index, ret;
	ssize_t n;

	n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop_client(s, c);
		return;
	}
	nfds = take_fds(&msg, fds, MAX_FDS_SEEN);

	if (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
		fprintf(stderr,
			"shmem: client %llu: truncated control "
			"message\n",
			(unsigned long long)c->id);
		ret = -EMSGSIZE;
	} else if (data[0] == SHMEM_MSG_UNREGISTER) {
		ret = -EINVAL;
		if (n == 5 && !nfds) {
			memcpy(&index, data + 1, sizeof(index));
			ret = shmem_unregister(s->table, s->ctrl, s->ref, index,
					       c->id, &err);
			if (ret < 0)
				fprintf(stderr, "shmem: client %llu: %s\n",
					(unsigned long long)c->id, err.msg);
			ret = ret < 0 ? -err.code : 0;
		}
	} else if (nfds != 1) {
		fprintf(stderr, "shmem: client %llu: %u fds, 1 expected\n",
			(unsigned long long)c->id, nfds);
		ret = -EINVAL;
	} else {
		ret = handle_register(s, c, fds[0]);
	}
	/* The mapping keeps what it needs; no received fd stays open. */
	for (i = 0; i < nfds && i < MAX_FDS_SEEN; i++)
		close(fds[i]);
	reply(c->fd, ret);
}

void shmem_sock_serve(struct shmem_sock *s, const struct pollfd *pfd,
		      unsigned int n)
{
	unsigned int i, k;

	for (i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == s->listen_fd) {
			accept_client(s);
			continue;
		}
		for (k = 0; k < SHMEM_SOCK_MAX_CLIENTS; k++)
			if (s->clients[k].fd == pfd[i].fd)
				serve_client(s, &s->clients[k]);
	}
}

void shmem_sock_close(struct shmem_sock *s)
{
	unsigned int i;

	for (i = 0; i < SHMEM_SOCK_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0) {
			close(s->clients[i].fd);
			s->clients[i].fd = -1;
		}
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
}
