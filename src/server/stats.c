// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/stats.h"

int stats_create(int dir_fd, const char *name, unsigned int nr_queues,
		 struct stats_file **out, struct uerr *err)
{
	struct stats_file *s;
	int fd;

	*out = NULL;
	if (nr_queues > STATS_MAX_QUEUES)
		nr_queues = STATS_MAX_QUEUES;
	fd = openat(dir_fd, name,
		    O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return uerr_sys(err, errno, "cannot create %s", name);
	if (ftruncate(fd, sizeof(*s)) < 0) {
		close(fd);
		return uerr_sys(err, errno, "cannot size %s", name);
	}
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (s == MAP_FAILED)
		return uerr_sys(err, errno, "cannot map %s", name);
	s->nr_queues = nr_queues;
	memcpy(s->magic, STATS_MAGIC, sizeof(s->magic));
	*out = s;
	return 0;
}

void stats_unmap(struct stats_file *s)
{
	if (s)
		munmap(s, sizeof(*s));
}

int stats_read(const char *path, struct stats_sum *sum, struct uerr *err)
{
	struct stats_file s;
	unsigned int i;
	ssize_t n;
	int fd;

	memset(sum, 0, sizeof(*sum));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return uerr_sys(err, errno, "%s", path);
	n = read(fd, &s, sizeof(s));
	close(fd);
	if (n != (ssize_t)sizeof(s) || memcmp(s.magic, STATS_MAGIC, 8) ||
	    s.nr_queues > STATS_MAX_QUEUES)
		return uerr_set(err, EINVAL, "%s is not a statistics file",
				path);
	for (i = 0; i < s.nr_queues; i++) {
		sum->ios += s.q[i].ios;
		sum->zc_ios += s.q[i].zc_ios;
		sum->copied_ios += s.q[i].copied_ios;
		sum->nbd_connected += s.q[i].nbd_connected;
		sum->nbd_reconnects += s.q[i].nbd_reconnects;
	}
	sum->shmem_bufs = s.shmem_bufs;
	sum->shmem_bytes = s.shmem_bytes;
	return 0;
}
