// SPDX-License-Identifier: MIT
/*
 * Collecting a directory's entries (src/base/dirids.c), the one loop
 * behind record, container record, CDI spec and device node listings.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "base/dirids.h"

#define NR_FILES 1000

static unsigned int dots;

/* n-N: N, in a uint32_t */
static int pick_n(const char *name, void *elem, void *ctx, struct uerr *err)
{
	unsigned int v;
	char extra;

	(void)ctx;
	(void)err;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		dots++;
	if (sscanf(name, "n-%u%c", &v, &extra) != 1)
		return 0;
	*(uint32_t *)elem = v;
	return 1;
}

static int pick_fail(const char *name, void *elem, void *ctx, struct uerr *err)
{
	unsigned int *seen = ctx;

	(void)elem;
	if (++*seen == 20)
		return uerr_set(err, EIO, "cannot use %s", name);
	return 1;
}

static bool match_n(const char *name, uint32_t *id)
{
	unsigned int v;
	char extra;

	if (sscanf(name, "n-%u%c", &v, &extra) != 1)
		return false;
	*id = v;
	return true;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool sorted_all(const uint32_t *v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (v[i] != i * 7)
			return false;
	return n == NR_FILES;
}

int main(void)
{
	char dir[] = "/tmp/ublk-user-dirids.XXXXXX";
	char path[128], cmd[128];
	unsigned int nr, i, seen = 0;
	struct uerr err;
	uint32_t *ids;
	void *v;
	int fd;

	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));
	/* in an order that is not the sorted one */
	for (i = NR_FILES; i-- > 0;) {
		snprintf(path, sizeof(path), "%s/n-%u", dir, i * 7);
		fd = open(path, O_WRONLY | O_CREAT, 0600);
		if (fd < 0)
			bail_out("cannot create %s", path);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/other", dir);
	mkdir(path, 0700);

	is_int(dir_collect(dir, sizeof(uint32_t), pick_n, NULL, cmp_u32, &v,
			   &nr, &err),
	       0, "dir_collect");
	ok(sorted_all(v, nr), "  all %d picked entries, sorted", NR_FILES);
	is_int(dots, 0, "  . and .. are not offered");
	free(v);

	fd = open(dir, O_RDONLY | O_DIRECTORY);
	is_int(dir_collect_fd(fd, "the dir", sizeof(uint32_t), pick_n, NULL,
			      cmp_u32, &v, &nr, &err),
	       0, "dir_collect_fd");
	ok(sorted_all(v, nr), "  the same entries");
	free(v);
	is_int(dir_collect_fd(fd, "the dir", sizeof(uint32_t), pick_n, NULL,
			      cmp_u32, &v, &nr, &err),
	       0, "again on the same descriptor");
	ok(sorted_all(v, nr), "  the same entries: it was not moved");
	free(v);
	ok(fcntl(fd, F_GETFD) >= 0, "  and it is still open");
	close(fd);

	is_int(dir_collect(dir, sizeof(uint32_t), pick_fail, &seen, NULL, &v,
			   &nr, &err),
	       -EIO, "a pick that fails stops the listing with its error");
	ok(!v && nr == 0, "  and nothing is returned");
	contains(err.msg, "cannot use ", "  with its message");

	ok(dir_ids(dir, match_n, &ids, &nr, &err) == 0 && sorted_all(ids, nr),
	   "dir_ids: the ids, sorted");
	free(ids);

	snprintf(path, sizeof(path), "%s/none", dir);
	is_int(dir_collect(path, sizeof(uint32_t), pick_n, NULL, NULL, &v, &nr,
			   &err),
	       -ENOENT, "a missing directory: -ENOENT");
	ok(!v && nr == 0, "  and nothing");
	contains(err.msg, path, "  the message names it");
	is_int(dir_collect_fd(-1, "fd -1", sizeof(uint32_t), pick_n, NULL, NULL,
			      &v, &nr, &err),
	       -EBADF, "a bad descriptor: -EBADF");
	contains(err.msg, "fd -1", "  the message names it");

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cannot remove %s", dir);
	return done_testing();
}
