// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ublk-user-shmem.h"

/*
 * The fallback state directory of a user without a runtime directory, if
 * it is ours and private: a socket in somebody else's directory would get
 * our memory.
 */
static int fallback_sock(unsigned int dev_id, char *buf, size_t len)
{
	char dir[64];
	struct stat st;
	int n;

	snprintf(dir, sizeof(dir), "/tmp/ublk-user-%u",
		 (unsigned int)geteuid());
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		return -EPERM;
	n = snprintf(buf, len, "%s/dev-%u.sock", dir, dev_id);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int ublk_shmem_socket_path(unsigned int dev_id, char *buf, size_t len)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	char run[64], alt[128];
	struct stat st;
	int n;

	snprintf(run, sizeof(run), "/run/user/%u", (unsigned int)geteuid());
	if (base && base[0] == '/')
		n = snprintf(buf, len, "%s/ublk-user/dev-%u.sock", base,
			     dev_id);
	else if (lstat(run, &st) == 0 && S_ISDIR(st.st_mode))
		n = snprintf(buf, len, "%s/ublk-user/dev-%u.sock", run, dev_id);
	else
		return fallback_sock(dev_id, buf, len);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	/* As `ublk-user list`: a device made without a session */
	if (access(buf, F_OK) < 0 &&
	    (!base || base[0] != '/' || !strcmp(base, run)) &&
	    fallback_sock(dev_id, alt, sizeof(alt)) == 0 &&
	    access(alt, F_OK) == 0 && strlen(alt) < len)
		strcpy(buf, alt);
	return 0;
}

int ublk_shmem_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int ublk_shmem_alloc(size_t size, unsigned int flags, int *memfd, void **addr)
{
	unsigned int mfd = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	void *p;
	int fd, e;

	if (flags & UBLK_SHMEM_HUGETLB)
		mfd |= MFD_HUGETLB;
	fd = memfd_create("ublk-user-shmem", mfd);
	if (fd < 0)
		return -errno;
	/* Sealed: the server's mapping can never lose its pages (SIGBUS). */
	if (ftruncate(fd, size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) <
		    0)
		goto fail;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	*memfd = fd;
	*addr = p;
	return 0;
fail:
	e = errno;
	close(fd);
	return -e;
}

void ublk_shmem_free(int memfd, void *addr, size_t size)
{
	if (addr)
		munmap(addr, size);
	if (memfd >= 0)
		close(memfd);
}

static int read_reply(int sock)
{
	int32_t reply;
	ssize_t n;

	do
		n = recv(sock, &reply, sizeof(reply), MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n != sizeof(reply))
		return -ECONNRESET;
	return reply;
}

int ublk_shmem_register(int sock, int memfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &memfd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != 1)
		return -errno;
	return read_reply(sock);
}

int ublk_shmem_unregister(int sock, int index)
{
	unsigned char msg[5] = { 'U' };
	int32_t i = index;

	memcpy(msg + 1, &i, sizeof(i));
	if (send(sock, msg, sizeof(msg), MSG_NOSIGNAL) != sizeof(msg))
		return -errno;
	return read_reply(sock);
}
