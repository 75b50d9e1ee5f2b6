// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/privdir.h"

/* What the rule asks for, in words */
static void rule_words(const struct privdir_rule *rule, char *buf, size_t len)
{
	if ((rule->deny & 077) == 077)
		snprintf(buf, len, "with mode %04o",
			 (unsigned int)(0777 & ~rule->deny));
	else if (rule->deny & 022)
		snprintf(buf, len, "that only it may write");
	else
		snprintf(buf, len, "with no mode bits of %04o",
			 (unsigned int)rule->deny);
}

/* The one format of a refusal: what is wrong, where, and the way out */
static int refuse(struct uerr *err, int code, const char *path,
		  const struct privdir_rule *rule, const char *found,
		  const char *fix)
{
	char want[48];

	rule_words(rule, want, sizeof(want));
	return uerr_set(err, code,
			"%s is not a directory of uid %u %s (%s): %s%s%s", path,
			(unsigned int)rule->uid, want, found, fix,
			rule->hint ? ", or " : "",
			rule->hint ? rule->hint : "");
}

/* A parent others may write lets them swap what we checked, unless sticky */
static int check_parent(int parent, const char *path,
			const struct privdir_rule *rule, struct uerr *err)
{
	struct stat st;
	char found[96];

	if (fstatat(parent, "", &st, AT_EMPTY_PATH) < 0)
		return uerr_sys(err, errno, "cannot stat the parent of %s",
				path);
	if (!(st.st_mode & 022) || (st.st_mode & S_ISVTX))
		return 0;
	snprintf(found, sizeof(found),
		 "its parent, mode %04o, lets others replace it",
		 (unsigned int)(st.st_mode & 07777));
	return refuse(err, EPERM, path, rule, found,
		      "make the parent sticky (chmod +t) or use another one");
}

/* Owner and mode as the rule says */
static int check_fd(const struct stat *st, const char *path,
		    const struct privdir_rule *rule, struct uerr *err)
{
	char found[64], fix[PATH_MAX + 64];

	snprintf(found, sizeof(found), "owner %u, mode %04o",
		 (unsigned int)st->st_uid, (unsigned int)(st->st_mode & 07777));
	if (st->st_uid != rule->uid) {
		snprintf(fix, sizeof(fix), "remove it (uid %u or root can)",
			 (unsigned int)st->st_uid);
		return refuse(err, EPERM, path, rule, found, fix);
	}
	if (st->st_mode & rule->deny) {
		snprintf(fix, sizeof(fix), "chmod %04o %s",
			 (unsigned int)(st->st_mode & 07777 & ~rule->deny),
			 path);
		return refuse(err, EPERM, path, rule, found, fix);
	}
	return 0;
}

/* Open failed: say what is there instead of our directory */
static int refuse_open(int parent, const char *name, const char *path,
		       const struct privdir_rule *rule, int code,
		       struct uerr *err)
{
	struct stat st;

	if (code == ENOENT || fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW))
		return uerr_sys(err, code, "cannot open %s", path);
	if (S_ISLNK(st.st_mode))
		return refuse(err, ENOTDIR, path, rule, "a symbolic link",
			      "remove it");
	if (S_ISREG(st.st_mode))
		return refuse(err, ENOTDIR, path, rule, "a regular file",
			      "remove it");
	if (!S_ISDIR(st.st_mode))
		return refuse(err, ENOTDIR, path, rule, "not a directory",
			      "remove it");
	/* Somebody else's directory that we may not open (EACCES) */
	if (check_fd(&st, path, rule, err) < 0)
		return -err->code;
	return uerr_sys(err, code, "cannot open %s", path);
}

/* Give a directory we just made its owner and mode */
static int set_up_new(int fd, const char *path, const struct privdir_rule *rule,
		      struct stat *st, struct uerr *err)
{
	gid_t gid = rule->gid == (gid_t)-1 ? st->st_gid : rule->gid;

	/* Not ours: somebody replaced it between mkdirat and openat. */
	if (st->st_uid != geteuid())
		return 0;
	if ((st->st_uid != rule->uid || st->st_gid != gid) &&
	    fchown(fd, rule->uid, gid) < 0)
		return uerr_sys(err, errno, "cannot give %s to %u:%u", path,
				(unsigned int)rule->uid, (unsigned int)gid);
	if (fchmod(fd, rule->mode) < 0 || fstat(fd, st) < 0)
		return uerr_sys(err, errno, "cannot set the mode of %s", path);
	return 0;
}

int privdir_openat(int parent, const char *name, const char *path,
		   const struct privdir_rule *rule, int flags, struct uerr *err)
{
	bool created = false;
	struct stat st;
	int fd, ret;

	ret = check_parent(parent, path, rule, err);
	if (ret < 0)
		return ret;
	if (flags & PRIVDIR_CREATE) {
		if (mkdirat(parent, name, 0700) == 0)
			created = true;
		else if (errno != EEXIST || (flags & PRIVDIR_EXCL))
			return uerr_sys(err, errno, "cannot create %s", path);
	}
	fd = openat(parent, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return refuse_open(parent, name, path, rule, errno, err);
	if (fstat(fd, &st) < 0)
		ret = uerr_sys(err, errno, "cannot stat %s", path);
	else if (created)
		ret = set_up_new(fd, path, rule, &st, err);
	if (ret == 0)
		ret = check_fd(&st, path, rule, err);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * "/a/b/c" -> dir "/a/b", name "c"; "c" -> ".", "c".  Both point into buf
 * (PATH_MAX bytes) or are literals; NULL for a name that cannot be one.
 */
static const char *split(const char *path, char *buf, const char **name)
{
	size_t len = strlen(path);
	char *slash;

	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len == 0 || len >= PATH_MAX)
		return NULL;
	memcpy(buf, path, len);
	buf[len] = '\0';
	slash = memrchr(buf, '/', len);
	if (!slash) {
		*name = buf;
		return ".";
	}
	if (!slash[1] || strlen(slash + 1) > NAME_MAX)
		return NULL;
	*name = slash + 1;
	if (slash == buf)
		return "/";
	*slash = '\0';
	return buf;
}

int privdir_open(const char *path, const struct privdir_rule *rule, int flags,
		 struct uerr *err)
{
	char buf[PATH_MAX];
	const char *dir, *name;
	int pfd, fd;

	dir = split(path, buf, &name);
	if (!dir)
		return uerr_set(err, EINVAL, "bad directory name '%s'", path);
	pfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return uerr_sys(err, errno, "%s", dir);
	fd = privdir_openat(pfd, name, path, rule, flags, err);
	close(pfd);
	return fd;
}

int privdir_check(const char *path, const struct privdir_rule *rule, int flags,
		  struct uerr *err)
{
	int fd = privdir_open(path, rule, flags, err);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* One level of privdir_make_parents: the fd of dir/name, made if missing */
static int make_one(int dir, const char *name, const char *path, mode_t mode,
		    struct uerr *err)
{
	struct stat st;
	int fd;

	if (mkdirat(dir, name, 0700) < 0) {
		if (errno != EEXIST)
			return uerr_sys(err, errno, "cannot create %s", path);
		fd = openat(dir, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return uerr_sys(err, errno, "%s", path);
		return fd;
	}
	fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return uerr_sys(err, errno, "cannot open %s", path);
	if (fstat(fd, &st) < 0 || fchmod(fd, mode) < 0)
		uerr_sys(err, errno, "cannot set up %s", path);
	else if (st.st_uid != geteuid())
		uerr_set(err, EPERM, "%s was replaced while it was made", path);
	else
		return fd;
	close(fd);
	return -err->code;
}

int privdir_make_parents(const char *path, mode_t mode, struct uerr *err)
{
	char buf[PATH_MAX], *p, *next;
	int dir, fd;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return uerr_set(err, ENAMETOOLONG, "%s: name too long", path);
	dir = open(buf[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return uerr_sys(err, errno, "cannot open /");
	for (p = buf; *p == '/'; p++)
		;
	while ((next = strchr(p, '/'))) {
		*next = '\0';
		if (*p && strcmp(p, ".")) {
			fd = make_one(dir, p, buf, mode, err);
			close(dir);
			if (fd < 0)
				return fd;
			dir = fd;
		}
		*next = '/';
		for (p = next + 1; *p == '/'; p++)
			;
	}
	close(dir);
	return 0;
}
