// SPDX-License-Identifier: MIT
/*
 * Reading the policy files.  Every file and directory is reached with
 * O_NOFOLLOW and checked on the open descriptor (no race with a rename):
 * owned by root, not writable by group or others, readable by everyone
 * (so a user's `add` sees the policy the root udev helper enforces).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dirids.h"
#include "policy/policy.h"

static int check_stat(struct policy *p, const char *path, const struct stat *st,
		      bool dir, uid_t owner)
{
	mode_t readable = dir ? 0555 : 0444;

	if (dir && !S_ISDIR(st->st_mode)) {
		policy_error(p, path, 0, "not a directory");
		return -1;
	}
	if (!dir && !S_ISREG(st->st_mode)) {
		policy_error(p, path, 0, "not a regular file");
		return -1;
	}
	if (st->st_uid != owner) {
		if (owner == 0)
			policy_error(p, path, 0,
				     "owned by uid %u, not by root: refused",
				     (unsigned int)st->st_uid);
		else
			policy_error(p, path, 0,
				     "owned by uid %u, not by uid %u: refused",
				     (unsigned int)st->st_uid,
				     (unsigned int)owner);
		return -1;
	}
	if (st->st_mode & 022) {
		policy_error(p, path, 0,
			     "mode %04o is writable by group or others: "
			     "refused (use %s)",
			     (unsigned int)(st->st_mode & 07777),
			     dir ? "0755" : "0644");
		return -1;
	}
	if ((st->st_mode & readable) != readable) {
		policy_error(p, path, 0,
			     "mode %04o is not readable by everyone, and "
			     "ublk-user checks requests as the user: refused "
			     "(use %s)",
			     (unsigned int)(st->st_mode & 07777),
			     dir ? "0755" : "0644");
		return -1;
	}
	return 0;
}

/*
 * Open name in dirfd (path for messages) without following a symbolic
 * link, and check it.  -ENOENT quietly when it does not exist; other
 * failures are recorded in p.
 */
static int open_checked(struct policy *p, int dirfd, const char *name,
			const char *path, bool dir, uid_t owner)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
	struct stat st;
	int fd, e;

	if (dir)
		flags |= O_DIRECTORY;
	fd = openat(dirfd, name, flags);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT)
			return -ENOENT;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			policy_error(p, path, 0,
				     "is a symbolic link: refused (policy "
				     "files and directories must not be)");
		else
			policy_error(p, path, 0, "cannot open: %s",
				     strerror(e));
		return -EACCES;
	}
	if (fstat(fd, &st) < 0) {
		policy_error(p, path, 0, "cannot stat: %s", strerror(errno));
		close(fd);
		return -EACCES;
	}
	if (check_stat(p, path, &st, dir, owner) < 0) {
		close(fd);
		return -EACCES;
	}
	return fd;
}

/* Read all of fd (at most POLICY_FILE_MAX bytes) and parse it. */
static void read_and_parse(struct policy *p, int fd, const char *path)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nb;
	ssize_t n;

	if (!buf) {
		policy_error(p, path, 0, "out of memory");
		return;
	}
	for (;;) {
		if (len == cap) {
			if (cap > POLICY_FILE_MAX) {
				policy_error(p, path, 0,
					     "larger than %d bytes: refused",
					     POLICY_FILE_MAX);
				free(buf);
				return;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				policy_error(p, path, 0, "out of memory");
				free(buf);
				return;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			policy_error(p, path, 0, "cannot read: %s",
				     strerror(errno));
			free(buf);
			return;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (len > POLICY_FILE_MAX)
		policy_error(p, path, 0, "larger than %d bytes: refused",
			     POLICY_FILE_MAX);
	else
		policy_parse(p, path, buf, len);
	free(buf);
}

typedef char conf_name[NAME_MAX + 1];

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* *.conf, not hidden */
static int pick_conf(const char *name, void *elem, void *ctx, struct uerr *err)
{
	size_t n = strlen(name);

	(void)ctx;
	(void)err;
	if (name[0] == '.' || n <= 5 || strcmp(name + n - 5, ".conf") ||
	    n > NAME_MAX)
		return 0;
	memcpy(elem, name, n + 1);
	return 1;
}

/* The *.conf names in dirfd, sorted; NULL and *nr = 0 when none. */
static conf_name *conf_names(struct policy *p, int dirfd, const char *path,
			     unsigned int *nr)
{
	struct uerr err;
	void *names;

	if (dir_collect_fd(dirfd, "the directory", sizeof(conf_name), pick_conf,
			   NULL, cmp_names, &names, nr, &err) < 0)
		policy_error(p, path, 0, "%s", err.msg);
	return names;
}

/* One file in dirfd, if it exists. */
static void load_one(struct policy *p, int dirfd, const char *name,
		     const char *path, uid_t owner)
{
	int fd = open_checked(p, dirfd, name, path, false, owner);

	if (fd < 0)
		return;
	read_and_parse(p, fd, path);
	close(fd);
}

static void load_dropins(struct policy *p, int dirfd, const char *dir,
			 uid_t owner)
{
	char path[PATH_MAX];
	conf_name *names;
	unsigned int n, i;
	int dfd;

	snprintf(path, sizeof(path), "%s/policy.d", dir);
	dfd = open_checked(p, dirfd, "policy.d", path, true, owner);
	if (dfd < 0)
		return;
	names = conf_names(p, dfd, path, &n);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/policy.d/%s", dir, names[i]);
		load_one(p, dfd, names[i], path, owner);
	}
	free(names);
	close(dfd);
}

int policy_load(struct policy *p, const char *dir, uid_t owner)
{
	char path[PATH_MAX];
	int dfd;

	policy_init(p);
	dfd = open_checked(p, AT_FDCWD, dir, dir, true, owner);
	if (dfd >= 0) {
		snprintf(path, sizeof(path), "%s/policy.conf", dir);
		load_one(p, dfd, "policy.conf", path, owner);
		load_dropins(p, dfd, dir, owner);
		close(dfd);
	}
	policy_resolve(p);
	return p->nr_errors ? -1 : 0;
}

int policy_load_files(struct policy *p, char *const *paths, unsigned int n)
{
	struct stat st;
	unsigned int i;
	int fd;

	policy_init(p);
	for (i = 0; i < n; i++) {
		fd = open(paths[i],
			  O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0) {
			policy_error(p, paths[i], 0, "cannot open: %s",
				     strerror(errno));
			continue;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			policy_error(p, paths[i], 0, "not a regular file");
		else
			read_and_parse(p, fd, paths[i]);
		close(fd);
	}
	policy_resolve(p);
	return p->nr_errors ? -1 : 0;
}
