// SPDX-License-Identifier: MIT
/*
 * Named disks: a device whose record carries a disk name (`up NAME`,
 * `add --name NAME`), unique per user, and its stable path, a symbolic
 * link $XDG_RUNTIME_DIR/ublk-user/disks/NAME -> /dev/ublkbN that the
 * next `up` of the same name points at the new device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/privdir.h"
#include "cli.h"

int named_link_path(const char *name, char *buf, size_t len, bool create,
		    struct uerr *err)
{
	char dir[PATH_MAX - 80];
	int ret;

	ret = state_dir(dir, sizeof(dir), create, err);
	if (ret < 0)
		return ret;
	if (create) {
		struct privdir_rule rule = { .uid = geteuid(),
					     .gid = (gid_t)-1,
					     .mode = 0700,
					     .deny = 077 };

		snprintf(buf, len, "%s/disks", dir);
		ret = privdir_check(buf, &rule, PRIVDIR_CREATE, err);
		if (ret < 0)
			return ret;
	}
	snprintf(buf, len, "%s/disks/%s", dir, name);
	return 0;
}

int named_link_set(const char *name, uint32_t dev_id, struct uerr *err)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16], node[32];
	int ret;

	ret = named_link_path(name, path, sizeof(path), true, err);
	if (ret < 0)
		return ret;
	snprintf(node, sizeof(node), "/dev/ublkb%u", dev_id);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	unlink(tmp);
	if (symlink(node, tmp) < 0)
		return uerr_sys(err, errno, "cannot create %s", tmp);
	/* rename(): whoever follows the path sees the old or the new one */
	if (rename(tmp, path) < 0) {
		ret = uerr_sys(err, errno, "cannot create %s", path);
		unlink(tmp);
		return ret;
	}
	return 0;
}

void named_link_remove(const char *name)
{
	char path[PATH_MAX];
	struct uerr err;

	char *slash;

	if (named_link_path(name, path, sizeof(path), false, &err) < 0)
		return;
	unlink(path);
	/* The folder goes with the last name: nothing left behind */
	slash = strrchr(path, '/');
	*slash = '\0';
	rmdir(path);
}

int named_find(struct ublk_ctrl *ctrl, const char *name, struct dev_view *v,
	       struct uerr *err)
{
	cleanup_free uint32_t *ids = NULL;
	struct dev_record rec;
	unsigned int nr, i;
	struct uerr e;
	int ret;

	ret = record_ids(&ids, &nr, err);
	if (ret < 0)
		return ret;
	for (i = 0; i < nr; i++) {
		if (record_read(ids[i], &rec, &e) < 0 || strcmp(rec.name, name))
			continue;
		ret = dev_view_get(ctrl, ids[i], v, &e);
		if (ret == -ENODEV) {
			/* Its device is gone (a crash): the name is free. */
			record_remove_json(ids[i]);
			continue;
		}
		if (ret < 0) {
			*err = e;
			return ret;
		}
		return 0;
	}
	return uerr_set(err, ENOENT, "no disk named %s is up", name);
}
