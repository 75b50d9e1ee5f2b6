// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/dirids.h"

/* Grow v (cap elements of size) to hold one more; false when it cannot */
static bool grow(void **v, unsigned int *cap, unsigned int n, size_t size)
{
	unsigned int ncap;
	void *nv;

	if (n < *cap)
		return true;
	ncap = *cap ? 2 * *cap : 16;
	if (ncap <= *cap || ncap > SIZE_MAX / size)
		return false;
	nv = realloc(*v, (size_t)ncap * size);
	if (!nv)
		return false;
	*v = nv;
	*cap = ncap;
	return true;
}

/* Reads d to its end and closes it */
static int collect(DIR *d, const char *what, size_t elem_size, dir_pick_fn pick,
		   void *ctx, int (*cmp)(const void *, const void *),
		   void **out, unsigned int *nr, struct uerr *err)
{
	unsigned int n = 0, cap = 0;
	struct dirent *de;
	char *v = NULL;
	void *vp;
	int ret = 0;

	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				ret = uerr_sys(err, errno, "cannot read %s",
					       what);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		vp = v;
		if (!grow(&vp, &cap, n, elem_size)) {
			ret = uerr_sys(err, ENOMEM, "reading %s", what);
			break;
		}
		v = vp;
		ret = pick(de->d_name, v + (size_t)n * elem_size, ctx, err);
		if (ret < 0)
			break;
		if (ret > 0)
			n++;
		ret = 0;
	}
	closedir(d);
	if (ret < 0) {
		free(v);
		return ret;
	}
	if (n && cmp)
		qsort(v, n, elem_size, cmp);
	*out = v;
	*nr = n;
	return 0;
}

int dir_collect_fd(int dir_fd, const char *what, size_t elem_size,
		   dir_pick_fn pick, void *ctx,
		   int (*cmp)(const void *, const void *), void **out,
		   unsigned int *nr, struct uerr *err)
{
	DIR *d;
	int fd;

	*out = NULL;
	*nr = 0;
	/* A descriptor of our own: readdir moves its offset */
	fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return uerr_sys(err, errno, "cannot read %s", what);
	d = fdopendir(fd);
	if (!d) {
		uerr_sys(err, errno, "cannot read %s", what);
		close(fd);
		return -err->code;
	}
	return collect(d, what, elem_size, pick, ctx, cmp, out, nr, err);
}

int dir_collect(const char *path, size_t elem_size, dir_pick_fn pick, void *ctx,
		int (*cmp)(const void *, const void *), void **out,
		unsigned int *nr, struct uerr *err)
{
	DIR *d;

	*out = NULL;
	*nr = 0;
	d = opendir(path);
	if (!d)
		return uerr_sys(err, errno, "cannot read %s", path);
	return collect(d, path, elem_size, pick, ctx, cmp, out, nr, err);
}

struct id_pick {
	dir_id_match_fn match;
};

static int pick_id(const char *name, void *elem, void *ctx, struct uerr *err)
{
	const struct id_pick *p = ctx;

	(void)err;
	return p->match(name, elem);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int dir_ids(const char *dir, dir_id_match_fn match, uint32_t **ids,
	    unsigned int *nr, struct uerr *err)
{
	struct id_pick p = { match };
	void *v;
	int ret;

	ret = dir_collect(dir, sizeof(**ids), pick_id, &p, cmp_u32, &v, nr,
			  err);
	*ids = v;
	return ret;
}
