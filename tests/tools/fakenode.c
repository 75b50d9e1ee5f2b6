// SPDX-License-Identifier: MIT
/*
 * fakenode: a FUSE file system, mountable by any user who may use
 * fusermount3, with one entry "node" that claims to be a character device
 * with the given major:minor and mode 0666.  It shows whether the kernel's
 * path check for unprivileged ublk devices trusts such a node (see
 * SECURITY.md): the node never opens anything, it only has attributes.
 *
 *   fakenode MAJOR MINOR MOUNTPOINT [OPTIONS]   (stays in the foreground)
 *
 * OPTIONS are more mount options, e.g. "dev" for a mount without nodev,
 * which a user may make in a user namespace of their own.
 */
#define FUSE_USE_VERSION 31

#include <errno.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static dev_t fake_rdev;

static int fake_getattr(const char *path, struct stat *st,
			struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (!strcmp(path, "/")) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (!strcmp(path, "/node")) {
		st->st_mode = S_IFCHR | 0666;
		st->st_nlink = 1;
		st->st_rdev = fake_rdev;
		return 0;
	}
	return -ENOENT;
}

static int fake_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
			off_t off, struct fuse_file_info *fi,
			enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/"))
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, "node", NULL, 0, 0);
	return 0;
}

static const struct fuse_operations fake_ops = {
	.getattr = fake_getattr,
	.readdir = fake_readdir,
};

int main(int argc, char **argv)
{
	char opts[256] = "default_permissions";
	char *fargv[] = { argv[0], "-f", "-o", opts, NULL, NULL };

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: fakenode MAJOR MINOR MOUNTPOINT "
				"[OPTIONS]\n");
		return 2;
	}
	if (argc == 5 && snprintf(opts, sizeof(opts), "default_permissions,%s",
				  argv[4]) >= (int)sizeof(opts)) {
		fprintf(stderr, "fakenode: options too long\n");
		return 2;
	}
	fake_rdev =
		makedev(strtoul(argv[1], NULL, 10), strtoul(argv[2], NULL, 10));
	fargv[4] = argv[3];
	return fuse_main(5, fargv, &fake_ops, NULL);
}
