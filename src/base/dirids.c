// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>

#include "base/dirids.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int dir_ids(const char *dir, dir_id_match_fn match, uint32_t **ids,
	    unsigned int *nr, struct uerr *err)
{
	unsigned int n = 0, cap = 0;
	uint32_t *v = NULL, *nv, id;
	struct dirent *de;
	DIR *d;

	*ids = NULL;
	*nr = 0;
	d = opendir(dir);
	if (!d)
		return uerr_sys(err, errno, "cannot read %s", dir);
	while ((de = readdir(d))) {
		if (!match(de->d_name, &id))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return uerr_sys(err, ENOMEM, "reading %s", dir);
			}
			v = nv;
		}
		v[n++] = id;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_u32);
	*ids = v;
	*nr = n;
	return 0;
}
