// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/idmap.h"

void idmap_identity(struct idmap *m)
{
	m->nr = 1;
	m->r[0].inside = 0;
	m->r[0].outside = 0;
	m->r[0].count = UINT32_MAX;
}

static bool overlaps(uint32_t a, uint32_t an, uint32_t b, uint32_t bn)
{
	return (uint64_t)a < (uint64_t)b + bn && (uint64_t)b < (uint64_t)a + an;
}

int idmap_add(struct idmap *m, uint32_t inside, uint32_t outside,
	      uint32_t count, const char *what, struct uerr *err)
{
	unsigned int i;

	if (!count)
		return uerr_set(err, EINVAL, "%s: a range of size 0", what);
	if ((uint64_t)inside + count > (uint64_t)UINT32_MAX + 1 ||
	    (uint64_t)outside + count > (uint64_t)UINT32_MAX + 1)
		return uerr_set(err, EINVAL,
				"%s: range %" PRIu32 " %" PRIu32 " %" PRIu32
				" goes past the largest id",
				what, inside, outside, count);
	for (i = 0; i < m->nr; i++)
		if (overlaps(inside, count, m->r[i].inside, m->r[i].count) ||
		    overlaps(outside, count, m->r[i].outside, m->r[i].count))
			return uerr_set(err, EINVAL,
					"%s: range %" PRIu32 " %" PRIu32
					" %" PRIu32 " overlaps another",
					what, inside, outside, count);
	if (m->nr == IDMAP_MAX)
		return uerr_set(err, E2BIG, "%s: more than %d ranges", what,
				IDMAP_MAX);
	m->r[m->nr].inside = inside;
	m->r[m->nr].outside = outside;
	m->r[m->nr].count = count;
	m->nr++;
	return 0;
}

static int parse_u32(const char **p, uint32_t *v)
{
	unsigned long long x;
	char *end;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	if (**p < '0' || **p > '9')
		return -1;
	errno = 0;
	x = strtoull(*p, &end, 10);
	if (errno || x > UINT32_MAX)
		return -1;
	*v = x;
	*p = end;
	return 0;
}

int idmap_parse_proc(struct idmap *m, const char *text, const char *what,
		     struct uerr *err)
{
	const char *p = text;
	unsigned int line = 0;
	uint32_t in, out, n;
	int ret;

	m->nr = 0;
	while (*p) {
		line++;
		if (parse_u32(&p, &in) < 0 || parse_u32(&p, &out) < 0 ||
		    parse_u32(&p, &n) < 0)
			return uerr_set(err, EINVAL,
					"%s line %u: not \"inside outside "
					"count\"",
					what, line);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '\n')
			return uerr_set(err, EINVAL,
					"%s line %u: unexpected text", what,
					line);
		if (*p)
			p++;
		ret = idmap_add(m, in, out, n, what, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int idmap_read_self(struct idmap *m, bool gid, struct uerr *err)
{
	const char *path = gid ? "/proc/self/gid_map" : "/proc/self/uid_map";
	char buf[IDMAP_MAX * 40];
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return uerr_sys(err, errno, "cannot open %s", path);
	while (got < sizeof(buf) - 1) {
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			uerr_sys(err, errno, "cannot read %s", path);
			close(fd);
			return -err->code;
		}
		if (n == 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return idmap_parse_proc(m, buf, path, err);
}

bool idmap_to_outside(const struct idmap *m, uint32_t id, uint32_t *out)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (id >= m->r[i].inside &&
		    (uint64_t)id < (uint64_t)m->r[i].inside + m->r[i].count) {
			*out = m->r[i].outside + (id - m->r[i].inside);
			return true;
		}
	return false;
}

bool idmap_to_inside(const struct idmap *m, uint32_t id, uint32_t *out)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (id >= m->r[i].outside &&
		    (uint64_t)id < (uint64_t)m->r[i].outside + m->r[i].count) {
			*out = m->r[i].inside + (id - m->r[i].outside);
			return true;
		}
	return false;
}

uid_t idmap_host_root_here(void)
{
	struct idmap m;
	struct uerr err;
	uint32_t inside;
	unsigned long v;
	char buf[32];
	FILE *f;

	if (idmap_read_self(&m, false, &err) < 0)
		return 0;
	if (idmap_to_inside(&m, 0, &inside))
		return inside;
	f = fopen("/proc/sys/kernel/overflowuid", "re");
	if (!f)
		return 65534;
	if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%lu", &v) != 1)
		v = 65534;
	fclose(f);
	return v;
}

static int host_id(bool gid, uint32_t id, uint32_t *out, struct uerr *err)
{
	struct idmap m;
	int ret;

	ret = idmap_read_self(&m, gid, err);
	if (ret < 0)
		return ret;
	if (!idmap_to_outside(&m, id, out))
		return uerr_set(
			err, EINVAL, "our %s %u has no id on the host (%s)",
			gid ? "gid" : "uid", (unsigned int)id,
			gid ? "/proc/self/gid_map" : "/proc/self/uid_map");
	return 0;
}

int idmap_host_euid(uint32_t *uid, struct uerr *err)
{
	return host_id(false, geteuid(), uid, err);
}

int idmap_host_egid(uint32_t *gid, struct uerr *err)
{
	return host_id(true, getegid(), gid, err);
}
