// SPDX-License-Identifier: MIT
/*
 * ring-pin PID: take every io_uring of process PID (pidfd_getfd, which
 * needs ptrace access to it) and try to register 1 GiB of fixed buffers
 * on each.  The buffers are 512 views of the same 2 MiB, so the kernel
 * charges 1 GiB (if it charges the ring's creator at all) while only
 * 2 MiB are pinned.  Prints one line per ring, then
 *   rings=N pinned=M getfd_errno=NAME|-
 * where pinned counts the rings that took the whole GiB.
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define VIEW_BYTES (2UL << 20)
#define NR_VIEWS 512 /* x 2 MiB = 1 GiB */
#define MAX_FD 1024

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM:
		return "EPERM";
	case EACCES:
		return "EACCES";
	case ENOMEM:
		return "ENOMEM";
	case ESRCH:
		return "ESRCH";
	default:
		return strerror(e);
	}
}

static int is_ring(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return !strcmp(target, "anon_inode:[io_uring]");
}

int main(int argc, char **argv)
{
	static struct iovec iov[NR_VIEWS];
	int pidfd, fd, rfd, rings = 0, pinned = 0, getfd_errno = 0, i;
	void *buf;
	long ret;

	if (argc != 2) {
		fprintf(stderr, "usage: ring-pin PID\n");
		return 2;
	}
	buf = mmap(NULL, VIEW_BYTES, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("ring-pin: mmap");
		return 1;
	}
	/* Small pages: the kernel charges a huge page only once. */
	madvise(buf, VIEW_BYTES, MADV_NOHUGEPAGE);
	memset(buf, 0, VIEW_BYTES);
	for (i = 0; i < NR_VIEWS; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = VIEW_BYTES;
	}
	pidfd = syscall(SYS_pidfd_open, atoi(argv[1]), 0);
	if (pidfd < 0) {
		perror("ring-pin: pidfd_open");
		return 1;
	}
	for (fd = 0; fd < MAX_FD; fd++) {
		rfd = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
		if (rfd < 0) {
			if (errno != EBADF && !getfd_errno)
				getfd_errno = errno;
			continue;
		}
		if (!is_ring(rfd)) {
			close(rfd);
			continue;
		}
		rings++;
		ret = syscall(SYS_io_uring_register, rfd,
			      IORING_REGISTER_BUFFERS, iov, NR_VIEWS);
		if (ret == 0) {
			pinned++;
			printf("fd %d: registered 1 GiB\n", fd);
			syscall(SYS_io_uring_register, rfd,
				IORING_UNREGISTER_BUFFERS, NULL, 0);
		} else {
			printf("fd %d: %s\n", fd, errno_name(errno));
		}
		close(rfd);
	}
	printf("rings=%d pinned=%d getfd_errno=%s\n", rings, pinned,
	       getfd_errno ? errno_name(getfd_errno) : "-");
	return 0;
}
