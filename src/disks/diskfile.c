// SPDX-License-Identifier: MIT
/* Disk files: names, parsing, reading with ownership checks. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disks/diskfile.h"
#include "base/ini.h"
#include "base/size.h"
#include "server/targets/names.h"
#include "uapi/ublk_abi.h"

enum disk_key {
	DK_TARGET,
	DK_FILE,
	DK_URI,
	DK_SIZE,
	DK_QUEUES,
	DK_DEPTH,
	DK_MLOCK,
	DK_SHMEM_ZC,
	DK_BATCH,
	DK_READ_ONLY,
	DK_POLL_US,
	DK_USER,
	DK_NR
};

/* One a line: past ten entries clang-format would set them in columns. */
// clang-format off
static const char *const key_names[DK_NR] = {
	[DK_TARGET] = "target",
	[DK_FILE] = "file",
	[DK_URI] = "uri",
	[DK_SIZE] = "size",
	[DK_QUEUES] = "queues",
	[DK_DEPTH] = "depth",
	[DK_MLOCK] = "mlock",
	[DK_SHMEM_ZC] = "shmem_zc",
	[DK_BATCH] = "batch",
	[DK_READ_ONLY] = "read_only",
	[DK_POLL_US] = "poll_us",
	[DK_USER] = "user",
};
// clang-format on

#define KNOWN_KEYS                                                         \
	"target, file, uri, size, queues, depth, mlock, shmem_zc, batch, " \
	"read_only, poll_us, user"

static bool is_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

int disk_name_check(const char *name, struct uerr *err)
{
	size_t n = strnlen(name, DISK_NAME_MAX + 1), i;

	if (!n)
		return uerr_set(err, EINVAL, "a disk name must not be empty");
	if (n > DISK_NAME_MAX)
		return uerr_set(err, EINVAL,
				"disk name '%.64s...' is longer than %d bytes",
				name, DISK_NAME_MAX);
	for (i = 0; i < n; i++)
		if (!is_name_char((unsigned char)name[i]))
			return uerr_set(err, EINVAL,
					"disk name '%s': only letters, digits "
					"and _ . - are allowed",
					name);
	if (name[0] == '.' || name[0] == '-')
		return uerr_set(err, EINVAL,
				"disk name '%s' must not start with '.' or "
				"'-'",
				name);
	return 0;
}

static int user_name_check(const char *v, struct uerr *err)
{
	size_t n = strlen(v), i;

	if (n > 32)
		return uerr_set(err, EINVAL,
				"user: '%.32s...' is longer than 32 bytes", v);
	for (i = 0; i < n; i++)
		if (!is_name_char((unsigned char)v[i]))
			return uerr_set(err, EINVAL,
					"user: '%s' is not a user name or id",
					v);
	if (v[0] == '-' || v[0] == '.')
		return uerr_set(err, EINVAL,
				"user: '%s' is not a user name or id", v);
	return 0;
}

static int parse_bool(const char *key, const char *v, bool *out,
		      struct uerr *err)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false"))
		*out = false;
	else
		return uerr_set(err, EINVAL,
				"%s: '%s' is not yes or no (or true or false)",
				key, v);
	return 0;
}

static int parse_one(struct disk_file *d, enum disk_key k, const char *v,
		     bool system, struct uerr *err)
{
	const char *key = key_names[k];

	switch (k) {
	case DK_TARGET:
		if (!target_name_known(v))
			return uerr_set(err, EINVAL,
					"target: '%.32s' is not a target "
					"(known: %s)",
					v, TARGET_NAMES_TEXT);
		/* known names are short; the check keeps gcc -O1 quiet */
		if (snprintf(d->target, sizeof(d->target), "%s", v) >=
		    (int)sizeof(d->target))
			return uerr_set(err, EINVAL,
					"target: '%.32s' is too long", v);
		return 0;
	case DK_FILE:
		if (v[0] != '/')
			return uerr_set(err, EINVAL,
					"file: '%.256s' is not an absolute "
					"path",
					v);
		if (strlen(v) >= sizeof(d->file))
			return uerr_set(err, EINVAL, "file: path too long");
		strcpy(d->file, v);
		return 0;
	case DK_URI:
		/* Its syntax is checked where it is used (add --uri) */
		if (strlen(v) >= sizeof(d->uri))
			return uerr_set(err, EINVAL, "uri: too long");
		strcpy(d->uri, v);
		return 0;
	case DK_SIZE:
		return parse_size(v, key, &d->size, err);
	case DK_QUEUES:
		return parse_uint(v, key, 1, DISK_MAX_QUEUES, &d->nr_queues,
				  err);
	case DK_DEPTH:
		return parse_uint(v, key, 1, UBLK_MAX_QUEUE_DEPTH,
				  &d->queue_depth, err);
	case DK_MLOCK:
		return parse_bool(key, v, &d->mlock, err);
	case DK_SHMEM_ZC:
		return parse_bool(key, v, &d->shmem_zc, err);
	case DK_BATCH:
		return parse_bool(key, v, &d->batch, err);
	case DK_READ_ONLY:
		return parse_bool(key, v, &d->read_only, err);
	case DK_POLL_US:
		return parse_uint(v, key, 0, DISK_MAX_POLL_US, &d->poll_us,
				  err);
	case DK_USER:
		if (!system)
			return uerr_set(err, EINVAL,
					"user: only disk files in %s name "
					"their user (this one is yours)",
					DISK_SYSTEM_DIR);
		if (user_name_check(v, err) < 0)
			return -EINVAL;
		strcpy(d->user, v);
		return 0;
	case DK_NR:
		break;
	}
	return uerr_set(err, EINVAL, "unknown key");
}

/* What the keys need of each other, once the file is read */
static int check_whole(const struct disk_file *d, const unsigned int *at,
		       const char *path, bool system, struct uerr *err)
{
	bool loop = !strcmp(d->target, "loop");
	bool nbd = !strcmp(d->target, "nbd");

	if (!at[DK_TARGET])
		return uerr_set(err, EINVAL,
				"%s: 'target' is required (one of: %s)", path,
				TARGET_NAMES_TEXT);
	if (loop && !at[DK_FILE])
		return uerr_set(err, EINVAL,
				"%s: 'file' is required for target loop", path);
	if (!loop && at[DK_FILE])
		return uerr_set(err, EINVAL,
				"%s:%u: file: target %s has no backing file",
				path, at[DK_FILE], d->target);
	if (nbd && !at[DK_URI])
		return uerr_set(err, EINVAL,
				"%s: 'uri' is required for target nbd", path);
	if (!nbd && at[DK_URI])
		return uerr_set(err, EINVAL,
				"%s:%u: uri: target %s has no NBD server", path,
				at[DK_URI], d->target);
	/* nbd: the size is the server's */
	if (!loop && !nbd && !at[DK_SIZE])
		return uerr_set(err, EINVAL,
				"%s: 'size' is required for target %s", path,
				d->target);
	if (system && !at[DK_USER])
		return uerr_set(err, EINVAL,
				"%s: 'user' is required in %s (whose disk it "
				"is)",
				path, DISK_SYSTEM_DIR);
	return 0;
}

int disk_parse(struct disk_file *d, const char *name, const char *path,
	       const char *buf, size_t len, bool system, struct uerr *err)
{
	char key[INI_LINE_MAX], value[INI_LINE_MAX];
	unsigned int at[DK_NR] = { 0 };
	struct ini_line line = { 0 };
	size_t pos = 0;
	int k;

	memset(d, 0, sizeof(*d));
	if (disk_name_check(name, err) < 0)
		return uerr_prefix(err, "%s", path);
	strcpy(d->name, name);
	while (ini_next(buf, len, &pos, &line)) {
		if (line.kind == INI_BAD)
			return uerr_set(err, EINVAL, "%s:%u: %s", path,
					line.lineno, line.bad);
		if (line.kind == INI_SECTION)
			return uerr_set(err, EINVAL,
					"%s:%u: disk files have no sections, "
					"only 'key = value' lines",
					path, line.lineno);
		if (!ini_split(line.text, key, sizeof(key), value,
			       sizeof(value)))
			return uerr_set(err, EINVAL,
					"%s:%u: expected 'key = value' or a # "
					"comment",
					path, line.lineno);
		for (k = 0; k < DK_NR; k++)
			if (!strcmp(key, key_names[k]))
				break;
		if (k == DK_NR)
			return uerr_set(err, EINVAL,
					"%s:%u: unknown key '%.64s' (known: "
					"%s)",
					path, line.lineno, key, KNOWN_KEYS);
		if (at[k])
			return uerr_set(err, EINVAL,
					"%s:%u: duplicate key '%s' (first at "
					"line %u)",
					path, line.lineno, key, at[k]);
		if (!value[0])
			return uerr_set(err, EINVAL,
					"%s:%u: %s: a value is required", path,
					line.lineno, key);
		if (parse_one(d, k, value, system, err) < 0)
			return uerr_prefix(err, "%s:%u", path, line.lineno);
		at[k] = line.lineno;
	}
	return check_whole(d, at, path, system, err);
}

static int check_owner(const char *path, const struct stat *st, uid_t owner,
		       struct uerr *err)
{
	if (st->st_uid != owner)
		return uerr_set(err, EACCES,
				"%s: owned by uid %u, not by uid %u: refused",
				path, (unsigned int)st->st_uid,
				(unsigned int)owner);
	if (st->st_mode & 022)
		return uerr_set(err, EACCES,
				"%s: mode %04o is writable by group or "
				"others: refused",
				path, (unsigned int)(st->st_mode & 07777));
	return 0;
}

int disk_load(struct disk_file *d, const char *dir, const char *name,
	      uid_t owner, bool system, struct uerr *err)
{
	char path[PATH_MAX + DISK_NAME_MAX + 8], file[DISK_NAME_MAX + 8];
	size_t len = 0;
	struct stat st;
	int dfd, fd, ret;
	char *buf = NULL;

	if (disk_name_check(name, err) < 0)
		return -EINVAL;
	snprintf(file, sizeof(file), "%s" DISK_SUFFIX, name);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT)
			return uerr_set(err, ENOENT, "%s: no such disk file",
					path);
		return uerr_sys(err, errno, "%s", dir);
	}
	if (fstat(dfd, &st) < 0)
		ret = uerr_sys(err, errno, "%s", dir);
	else
		ret = check_owner(dir, &st, owner, err);
	if (ret < 0) {
		close(dfd);
		return ret;
	}
	fd = openat(dfd, file,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	close(dfd);
	if (fd < 0) {
		if (errno == ENOENT)
			return uerr_set(err, ENOENT, "%s: no such disk file",
					path);
		if (errno == ELOOP)
			return uerr_set(err, EACCES,
					"%s: is a symbolic link: refused",
					path);
		return uerr_sys(err, errno, "%s", path);
	}
	if (fstat(fd, &st) < 0) {
		ret = uerr_sys(err, errno, "%s", path);
	} else if (!S_ISREG(st.st_mode)) {
		ret = uerr_set(err, EACCES, "%s: not a regular file", path);
	} else {
		ret = check_owner(path, &st, owner, err);
		if (!ret)
			ret = ini_read_fd(fd, path, DISK_FILE_MAX, &buf, &len,
					  err);
	}
	close(fd);
	if (ret < 0)
		return ret;
	ret = disk_parse(d, name, path, buf, len, system, err);
	free(buf);
	return ret;
}

int disk_user_dir(char *out, size_t len, struct uerr *err)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(out, len, "%s/ublk-user/disks", xdg);
	else if (home && home[0] == '/')
		n = snprintf(out, len, "%s/.config/ublk-user/disks", home);
	else
		return uerr_set(err, ENOENT,
				"neither XDG_CONFIG_HOME nor HOME is set: "
				"cannot find your disk files");
	if (n < 0 || (size_t)n >= len)
		return uerr_set(err, ENAMETOOLONG,
				"the disk file folder's path is too long");
	return 0;
}
