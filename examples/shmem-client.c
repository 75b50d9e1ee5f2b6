// SPDX-License-Identifier: MIT
/*
 * shmem-client: zero-copy I/O to a ublk-user device from shared memory.
 *
 *   ublk-user add -t mem --size 64M --shmem-zc      (prints dev_id N)
 *   shmem-client N [SIZE_MB]
 *
 * It makes a sealed memfd, registers it over the device's socket, writes
 * a pattern from it to /dev/ublkbN with O_DIRECT, reads it back into
 * another part of the same memory and compares.  Both I/Os are served
 * from the shared pages: `ublk-user list --json` counts them as zc_ios.
 * Build: cc shmem-client.c $(pkg-config --cflags --libs ublk-user-shmem)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ublk-user-shmem.h>

static int die(const char *what, int err)
{
	fprintf(stderr, "shmem-client: %s: %s\n", what, strerror(-err));
	return 1;
}

int main(int argc, char **argv)
{
	size_t size, half;
	char path[256], dev[64];
	int sock, memfd, index, fd, ret;
	unsigned int id;
	unsigned char *mem;
	ssize_t n;
	size_t i;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: shmem-client DEV_ID [SIZE_MB]\n");
		return 2;
	}
	id = strtoul(argv[1], NULL, 10);
	size = (argc > 2 ? strtoul(argv[2], NULL, 10) : 4) << 20;
	half = size / 2;

	ret = ublk_shmem_socket_path(id, path, sizeof(path));
	if (ret < 0)
		return die("socket path", ret);
	sock = ublk_shmem_connect(path);
	if (sock < 0)
		return die(path, sock);
	ret = ublk_shmem_alloc(size, 0, &memfd, (void **)&mem);
	if (ret < 0)
		return die("memfd", ret);
	index = ublk_shmem_register(sock, memfd);
	if (index < 0)
		return die("register", index);
	printf("registered buffer %d, %zu bytes\n", index, size);

	snprintf(dev, sizeof(dev), "/dev/ublkb%u", id);
	fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0)
		return die(dev, -errno);
	for (i = 0; i < half; i++)
		mem[i] = (unsigned char)(i * 7 + i / 4096);
	n = pwrite(fd, mem, half, 0);
	if (n != (ssize_t)half)
		return die("write", n < 0 ? -errno : -EIO);
	memset(mem + half, 0, half);
	n = pread(fd, mem + half, half, 0);
	if (n != (ssize_t)half)
		return die("read", n < 0 ? -errno : -EIO);
	if (memcmp(mem, mem + half, half)) {
		fprintf(stderr, "shmem-client: data read back differs\n");
		return 1;
	}
	printf("wrote and read back %zu bytes: ok\n", half);

	ret = ublk_shmem_unregister(sock, index);
	if (ret < 0)
		return die("unregister", ret);
	printf("unregistered buffer %d\n", index);
	close(fd);
	close(sock);
	ublk_shmem_free(memfd, mem, size);
	return 0;
}
