// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/privdir.h"
#include "host/denial.h"

/* A directory of root's under /run that users read: only owner writes */
static int shared_dir(const char *dir, uid_t owner, int flags, struct uerr *err)
{
	const struct privdir_rule rule = {
		.uid = owner, .gid = (gid_t)-1, .mode = 0755, .deny = 022
	};

	return privdir_open(dir, &rule, flags, err);
}

static void record_name(char *buf, size_t len, uint32_t dev_id,
			const char *suffix)
{
	snprintf(buf, len, "dev-%u%s", dev_id, suffix);
}

/* The reason on one line: newlines would end it early. */
static void one_line(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < len && src[i]; i++)
		dst[i] = src[i] == '\n' || src[i] == '\r' ? ' ' : src[i];
	dst[i] = '\0';
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

static bool field(const char *text, const char *key, char *out, size_t len);

/* One record found in the directory, for the bounds */
struct record {
	char name[64];
	uid_t account;
	struct timespec mtime;
};

static int record_older(const void *a, const void *b)
{
	const struct record *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The account a record counts with: its account= line, else its owner */
static uid_t record_account(int dfd, const char *name, const struct stat *st)
{
	char text[DENIAL_FILE_MAX + 1], v[32], *end;
	unsigned long a;
	ssize_t n;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return st->st_uid;
	do {
		n = read(fd, text, DENIAL_FILE_MAX);
	} while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return st->st_uid;
	text[n] = '\0';
	if (!field(text, "account", v, sizeof(v)))
		return st->st_uid;
	errno = 0;
	a = strtoul(v, &end, 10);
	if (errno || *end || end == v || a > UINT32_MAX)
		return st->st_uid;
	return (uid_t)a;
}

/*
 * Every file in the directory but skip (the record about to be replaced),
 * oldest first.  Only root writes here, so anything in it is ours: a
 * leftover .tmp counts too and goes when it is the oldest.
 */
static int records_list(int dfd, const char *skip, struct record **out,
			unsigned int *nr)
{
	struct record *r = NULL, *nr_r;
	unsigned int n = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	fd = dup(dfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, skip) ||
		    strlen(de->d_name) >= sizeof(r->name))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			nr_r = realloc(r, cap * sizeof(*r));
			if (!nr_r) {
				free(r);
				closedir(d);
				return -ENOMEM;
			}
			r = nr_r;
		}
		memcpy(r[n].name, de->d_name, strlen(de->d_name) + 1);
		r[n].account = S_ISREG(st.st_mode) ?
				       record_account(dfd, de->d_name, &st) :
				       st.st_uid;
		r[n].mtime = st.st_mtim;
		n++;
	}
	closedir(d);
	if (n)
		qsort(r, n, sizeof(*r), record_older);
	*out = r;
	*nr = n;
	return 0;
}

/* Make room for one more record of account: both bounds hold after it. */
static int records_bound(int dfd, const char *name, uid_t account)
{
	unsigned int i, n = 0, total, mine = 0;
	struct record *r = NULL;
	int ret;

	ret = records_list(dfd, name, &r, &n);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++)
		mine += r[i].account == account;
	total = n;
	for (i = 0; i < n && mine >= DENIAL_PER_ACCOUNT; i++) {
		if (r[i].account != account)
			continue;
		if (unlinkat(dfd, r[i].name, 0) < 0 && errno != ENOENT) {
			ret = -errno;
			goto out;
		}
		r[i].name[0] = '\0';
		mine--;
		total--;
	}
	for (i = 0; i < n && total >= DENIAL_TOTAL; i++) {
		if (!r[i].name[0])
			continue;
		if (unlinkat(dfd, r[i].name, 0) < 0 && errno != ENOENT) {
			ret = -errno;
			goto out;
		}
		total--;
	}
out:
	free(r);
	return ret;
}

int denial_write(const char *dir, const struct denial *d, struct uerr *err)
{
	char name[32], tmp[40], reason[sizeof(d->reason)];
	char text[sizeof(d->reason) + 160];
	int dfd, fd, ret, n;

	dfd = shared_dir(dir, geteuid(), PRIVDIR_CREATE, err);
	if (dfd < 0)
		return dfd;
	record_name(name, sizeof(name), d->dev_id, "");
	record_name(tmp, sizeof(tmp), d->dev_id, ".tmp");
	one_line(reason, sizeof(reason), d->reason);
	n = snprintf(text, sizeof(text),
		     "dev_id=%u\nuid=%u\ntag=0x%" PRIx64 "\naccount=%u\nreason="
		     "%s\n",
		     d->dev_id, (unsigned int)d->uid, d->tag,
		     (unsigned int)d->account, reason);

	if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT) {
		ret = uerr_sys(err, errno, "%s/%s", dir, tmp);
		goto out;
	}
	ret = records_bound(dfd, name, d->account);
	if (ret < 0) {
		uerr_sys(err, -ret, "cannot make room in %s", dir);
		goto out;
	}
	fd = openat(dfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
	if (fd < 0) {
		ret = uerr_sys(err, errno, "cannot create %s/%s", dir, tmp);
		goto out;
	}
	ret = write_all(fd, text, n);
	if (ret == 0 && fchown(fd, d->uid, 0) < 0)
		ret = -errno;
	if (ret == 0 && fchmod(fd, 0400) < 0)
		ret = -errno;
	close(fd);
	if (ret == 0 && renameat(dfd, tmp, dfd, name) < 0)
		ret = -errno;
	if (ret < 0) {
		uerr_sys(err, -ret, "cannot write %s/%s", dir, name);
		unlinkat(dfd, tmp, 0);
	}
out:
	close(dfd);
	return ret;
}

void denial_clear(const char *dir, uint32_t dev_id, uid_t owner)
{
	struct uerr err;
	struct stat st;
	char name[32];
	int dfd;

	dfd = shared_dir(dir, geteuid(), 0, &err);
	if (dfd < 0)
		return;
	record_name(name, sizeof(name), dev_id, "");
	/* Another user's reason stays until she has read it (or it ages). */
	if (!fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) && st.st_uid == owner)
		unlinkat(dfd, name, 0);
	close(dfd);
}

/* "key=value" lines: the value of key, copied into out */
static bool field(const char *text, const char *key, char *out, size_t len)
{
	size_t k = strlen(key);
	const char *p = text, *nl;
	size_t n;

	while (*p) {
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > k && !strncmp(p, key, k) && p[k] == '=') {
			n -= k + 1;
			if (n >= len)
				n = len - 1;
			memcpy(out, p + k + 1, n);
			out[n] = '\0';
			return true;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return false;
}

int denial_read(const char *dir, uid_t dir_owner, uint32_t dev_id, uid_t uid,
		uint64_t tag, struct denial *d)
{
	char name[32], text[DENIAL_FILE_MAX + 1], v[64];
	struct uerr err;
	struct stat st;
	ssize_t n;
	int dfd, fd;
	char *end;

	memset(d, 0, sizeof(*d));
	dfd = shared_dir(dir, dir_owner, 0, &err);
	if (dfd < 0)
		return -ENOENT;
	record_name(name, sizeof(name), dev_id, "");
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != uid) {
		close(fd);
		return -ENOENT;
	}
	do {
		n = read(fd, text, DENIAL_FILE_MAX);
	} while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	text[n] = '\0';
	if (!field(text, "tag", v, sizeof(v)))
		return -ENOENT;
	errno = 0;
	d->tag = strtoull(v, &end, 16);
	if (errno || *end || d->tag != tag)
		return -ENOENT;
	if (!field(text, "reason", d->reason, sizeof(d->reason)))
		return -ENOENT;
	d->dev_id = dev_id;
	d->uid = uid;
	return 0;
}
