// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/reflink.h"

int reflink_create(const char *dst, mode_t mode, struct uerr *err)
{
	int fd;

	fd = open(dst, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0)
		return uerr_sys(err, errno, "cannot create %s", dst);
	return fd;
}

static int clone_error(int e, const char *dst, const char *src,
		       struct uerr *err)
{
	if (e == EXDEV)
		return uerr_set(err, EXDEV,
				"%s and %s are on two file systems: a reflink "
				"needs one (nothing was copied)",
				src, dst);
	if (e == EOPNOTSUPP || e == ENOTTY || e == EINVAL)
		return uerr_set(err, EOPNOTSUPP,
				"the file system of %s has no reflinks "
				"(FICLONE: %s; xfs and btrfs have them): "
				"nothing was copied",
				src, strerror(e));
	return uerr_sys(err, e, "cloning %s to %s", src, dst);
}

int reflink_check(int dst_fd, int src_fd, const char *dst, const char *src,
		  struct uerr *err)
{
	struct file_clone_range r = { .src_fd = src_fd };
	struct stat st;

	if (fstat(src_fd, &st) < 0)
		return uerr_sys(err, errno, "stat %s", src);
	/* One block (or to the end of a smaller file: length 0) */
	if (st.st_size >= st.st_blksize)
		r.src_length = st.st_blksize;
	if (ioctl(dst_fd, FICLONERANGE, &r) < 0)
		return clone_error(errno, dst, src, err);
	if (ftruncate(dst_fd, 0) < 0)
		return uerr_sys(err, errno, "emptying %s", dst);
	return 0;
}

int reflink_clone(int dst_fd, int src_fd, const char *dst, const char *src,
		  struct uerr *err)
{
	if (ioctl(dst_fd, FICLONE, src_fd) < 0)
		return clone_error(errno, dst, src, err);
	return 0;
}
