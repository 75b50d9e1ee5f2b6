// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/subid.h"

void subid_free(struct subid_map *m)
{
	free(m->r);
	m->r = NULL;
	m->nr = 0;
}

/* A decimal number of at most 32 bits, digits only */
static bool parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 10)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool owner_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= SUBID_OWNER_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (isspace((unsigned char)s[i]) ||
		    iscntrl((unsigned char)s[i]))
			return false;
	return true;
}

static int parse_line(struct subid_range *r, const char *s, size_t len)
{
	const char *c1, *c2;

	c1 = memchr(s, ':', len);
	c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - s)) : NULL;
	if (!c2 || memchr(c2 + 1, ':', len - (size_t)(c2 + 1 - s)))
		return -1;
	if (!owner_ok(s, (size_t)(c1 - s)) ||
	    !parse_u32(c1 + 1, (size_t)(c2 - c1 - 1), &r->start) ||
	    !parse_u32(c2 + 1, len - (size_t)(c2 + 1 - s), &r->count))
		return -1;
	if (r->count == 0 || (uint64_t)r->start + r->count > (1ULL << 32))
		return -1;
	memcpy(r->owner, s, (size_t)(c1 - s));
	r->owner[c1 - s] = '\0';
	return 0;
}

int subid_parse(struct subid_map *m, const char *path, const char *text,
		size_t len, struct uerr *err)
{
	unsigned int line = 0, cap = 0;
	const char *p = text, *end = text + len, *nl;
	struct subid_range *nr;
	size_t n;

	memset(m, 0, sizeof(*m));
	snprintf(m->path, sizeof(m->path), "%s", path);
	if (memchr(text, '\0', len))
		return uerr_set(err, EINVAL, "%s: has a NUL byte: refused",
				path);
	while (p < end) {
		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n && p[0] != '#') {
			if (m->nr == cap) {
				cap = cap ? 2 * cap : 16;
				nr = realloc(m->r, cap * sizeof(*nr));
				if (!nr) {
					subid_free(m);
					return uerr_sys(err, ENOMEM, "%s",
							path);
				}
				m->r = nr;
			}
			if (parse_line(&m->r[m->nr], p, n) < 0) {
				subid_free(m);
				return uerr_set(err, EINVAL,
						"%s:%u: not owner:start:count "
						"(a name or uid, then two "
						"numbers, the count not 0, "
						"the range within 32 bits)",
						path, line);
			}
			m->r[m->nr++].line = line;
		}
		p += n + 1;
	}
	return 0;
}

int subid_load(struct subid_map *m, const char *path, struct uerr *err)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd, ret;

	memset(m, 0, sizeof(*m));
	snprintf(m->path, sizeof(m->path), "%s", path);
	fd = open(path,
		  O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP)
		return uerr_set(err, ELOOP, "%s is a symbolic link: refused",
				path);
	if (fd < 0)
		return uerr_sys(err, errno, "cannot open %s", path);
	if (fstat(fd, &st) < 0) {
		ret = uerr_sys(err, errno, "cannot stat %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
		ret = uerr_set(err, EPERM,
			       "%s is not a regular file of root that only "
			       "root may write (owner %u, mode %04o): refused",
			       path, (unsigned int)st.st_uid,
			       (unsigned int)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size > SUBID_FILE_MAX) {
		ret = uerr_set(err, EFBIG,
			       "%s is larger than %d bytes: refused", path,
			       SUBID_FILE_MAX);
		goto out;
	}
	buf = malloc(SUBID_FILE_MAX + 1);
	if (!buf) {
		ret = uerr_sys(err, ENOMEM, "%s", path);
		goto out;
	}
	for (;;) {
		n = read(fd, buf + len, SUBID_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > SUBID_FILE_MAX)
			break;
	}
	if (n < 0)
		ret = uerr_sys(err, errno, "cannot read %s", path);
	else if (len > SUBID_FILE_MAX)
		ret = uerr_set(err, EFBIG,
			       "%s is larger than %d bytes: refused", path,
			       SUBID_FILE_MAX);
	else
		ret = subid_parse(m, path, buf, len, err);
	free(buf);
out:
	close(fd);
	return ret;
}

int subid_find(const struct subid_map *m, uint32_t id,
	       const struct subid_range **out, struct uerr *err)
{
	const struct subid_range *found = NULL;
	unsigned int i;

	for (i = 0; i < m->nr; i++) {
		const struct subid_range *r = &m->r[i];

		if (id < r->start ||
		    (uint64_t)id >= (uint64_t)r->start + r->count)
			continue;
		if (found && strcmp(found->owner, r->owner))
			return uerr_set(err, EACCES,
					"id %u is in ranges of both %s "
					"(%s:%u) and %s (%s:%u)",
					id, found->owner, m->path, found->line,
					r->owner, m->path, r->line);
		if (!found)
			found = r;
	}
	*out = found;
	return found ? 1 : 0;
}
