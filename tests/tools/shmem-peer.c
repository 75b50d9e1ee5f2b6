// SPDX-License-Identifier: MIT
/*
 * shmem-peer: a client of a device's zero-copy socket that sends what a
 * careless or hostile peer would, for the tests.  Prints the server's
 * reply ("reply N") and, where it matters, what happened next.
 *
 *   shmem-peer SOCKET MODE [ARG]
 *   modes: good SIZE | unsealed | pipe | file PATH | opath PATH |
 *          devshm | size0 | unaligned | over4g | big SIZE | manyfds N |
 *          nofd | twofds | shrink | readonly | unregister INDEX |
 *          hold SECONDS (register 1M, keep the connection, then leave)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/client/ublk-user-shmem.h"

#define MB (1UL << 20)

static int sealed_memfd(size_t size, unsigned int extra_seals)
{
	int fd = memfd_create("peer", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, size) < 0 ||
	    fcntl(fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | extra_seals | F_SEAL_SEAL) <
		    0) {
		perror("memfd");
		exit(1);
	}
	return fd;
}

/* Send one byte and n fds in one message; print the reply. */
static int send_fds(int sock, const int *fds, unsigned int n)
{
	size_t space = CMSG_SPACE(n * sizeof(int));
	char byte = 0, *cbuf = calloc(1, space ? space : 1);
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	int32_t reply;

	if (n) {
		msg.msg_control = cbuf;
		msg.msg_controllen = space;
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	}
	/* A refused peer may find the server's answer waiting instead. */
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != 1)
		perror("sendmsg");
	free(cbuf);
	if (recv(sock, &reply, sizeof(reply), MSG_WAITALL) != sizeof(reply)) {
		printf("reply none\n");
		return -ECONNRESET;
	}
	printf("reply %d\n", reply);
	return reply;
}

static int send_one(int sock, int fd)
{
	return send_fds(sock, &fd, 1);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[2] : "";
	const char *arg = argc > 3 ? argv[3] : "0";
	int sock, fd, p[2], *fds, ret;
	unsigned int i, n;

	if (argc < 3) {
		fprintf(stderr, "usage: shmem-peer SOCKET MODE [ARG]\n");
		return 2;
	}
	sock = ublk_shmem_connect(argv[1]);
	if (sock < 0) {
		printf("connect %s\n", strerror(-sock));
		return 1;
	}
	if (!strcmp(mode, "good")) {
		ret = send_one(sock, sealed_memfd(strtoul(arg, NULL, 0), 0));
	} else if (!strcmp(mode, "hold")) {
		ret = send_one(sock, sealed_memfd(MB, 0));
		fflush(stdout);
		sleep(strtoul(arg, NULL, 10));
	} else if (!strcmp(mode, "unsealed")) {
		fd = memfd_create("peer", MFD_CLOEXEC);
		if (ftruncate(fd, MB) < 0)
			return 1;
		ret = send_one(sock, fd);
	} else if (!strcmp(mode, "pipe")) {
		if (pipe(p) < 0)
			return 1;
		ret = send_one(sock, p[0]);
	} else if (!strcmp(mode, "file")) {
		ret = send_one(sock, open(arg, O_RDWR));
	} else if (!strcmp(mode, "opath")) {
		ret = send_one(sock, open(arg, O_PATH));
	} else if (!strcmp(mode, "devshm")) {
		fd = open("/dev/shm/ublk-peer", O_RDWR | O_CREAT, 0600);
		unlink("/dev/shm/ublk-peer");
		if (ftruncate(fd, MB) < 0)
			return 1;
		ret = send_one(sock, fd);
	} else if (!strcmp(mode, "size0")) {
		ret = send_one(sock, sealed_memfd(0, 0));
	} else if (!strcmp(mode, "unaligned")) {
		ret = send_one(sock, sealed_memfd(MB + 100, 0));
	} else if (!strcmp(mode, "over4g")) {
		/* sparse: costs no memory unless touched */
		ret = send_one(sock, sealed_memfd((4UL << 30) + 4096, 0));
	} else if (!strcmp(mode, "big")) {
		ret = send_one(sock, sealed_memfd(strtoul(arg, NULL, 0), 0));
	} else if (!strcmp(mode, "manyfds") || !strcmp(mode, "twofds")) {
		n = !strcmp(mode, "twofds") ? 2 : strtoul(arg, NULL, 10);
		fds = calloc(n, sizeof(int));
		for (i = 0; i < n; i++)
			fds[i] = sealed_memfd(4096, 0);
		ret = send_fds(sock, fds, n);
	} else if (!strcmp(mode, "nofd")) {
		ret = send_fds(sock, NULL, 0);
	} else if (!strcmp(mode, "readonly")) {
		fd = sealed_memfd(MB, F_SEAL_WRITE);
		ret = send_one(sock, fd);
	} else if (!strcmp(mode, "shrink")) {
		fd = sealed_memfd(MB, 0);
		ret = send_one(sock, fd);
		printf("shrink %s\n",
		       ftruncate(fd, 4096) < 0 ? strerrorname_np(errno) : "ok");
	} else if (!strcmp(mode, "unregister")) {
		ret = ublk_shmem_unregister(sock, atoi(arg));
		printf("reply %d\n", ret);
	} else {
		fprintf(stderr, "shmem-peer: unknown mode %s\n", mode);
		return 2;
	}
	close(sock);
	return ret < 0;
}
