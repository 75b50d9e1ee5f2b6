// SPDX-License-Identifier: MIT
/*
 * What `resize` and `snapshot` share: the user's device by id or disk
 * name, live and with its record, and a connection to its server's
 * control socket (server/ctlsock.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "disks/diskfile.h"
#include "kernel/features.h"
#include "server/ctlsock.h"

int devctl_find(struct ublk_ctrl *ctrl, const char *name, uint32_t id,
		struct dev_view *v, struct uerr *err)
{
	int ret;

	if (name) {
		ret = disk_name_check(name, err);
		if (ret == 0)
			ret = named_find(ctrl, name, v, err);
	} else {
		ret = dev_view_get(ctrl, id, v, err);
	}
	if (ret < 0)
		return ret;
	if (!v->has_record)
		return uerr_set(err, ENOENT,
				"device %u has no record of yours: it is not "
				"served by your ublk-user",
				v->info.dev_id);
	if (strcmp(v->state, "live"))
		return uerr_set(err, EAGAIN, "device %u is %s, not live",
				v->info.dev_id, v->state);
	return 0;
}

int devctl_require(struct ublk_ctrl *ctrl, uint64_t feature, struct uerr *err)
{
	uint64_t have;
	int ret;

	ret = ublk_ctrl_get_features(ctrl, &have, err);
	if (ret == 0)
		ret = ublk_features_require(have, feature, err);
	return ret;
}

int devctl_connect(const struct dev_view *v, struct uerr *err)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = record_path(&v->rec, "ctl", path, sizeof(path), err);
	if (ret < 0)
		return ret;
	if (access(path, F_OK) < 0)
		return uerr_set(err, ENOENT,
				"the server of device %u has no control "
				"socket %s (it was started by an older "
				"ublk-user: re-create the disk)",
				v->info.dev_id, path);
	fd = ctl_connect(path, err);
	if (fd < 0)
		return uerr_prefix(err, "device %u", v->info.dev_id);
	return fd;
}
