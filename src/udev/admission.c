// SPDX-License-Identifier: MIT
/*
 * The policy as the root udev helper enforces it.  What the kernel tells
 * us about a device (owner, flags, queues, depth; the size once the disk
 * exists) is checked against the owner's limits, and the owner's other
 * devices are counted.  Only devices already handed over count: helpers
 * run one at a time (admission_lock), so of two devices created at once
 * the first one decided is the one that is kept.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/privdir.h"
#include "udev/admission.h"
#include "host/denial.h"
#include "policy/policy.h"

#define UBLK_CHAR_CLASS "/sys/class/ublk-char"

int admission_lock(struct uerr *err)
{
	static const struct privdir_rule run_dir = {
		.uid = 0, .gid = 0, .mode = 0755, .deny = 022
	};
	int dfd, fd;

	dfd = privdir_open(UBLK_USER_RUN_DIR, &run_dir, PRIVDIR_CREATE, err);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, "udev.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	close(dfd);
	if (fd < 0)
		return uerr_sys(err, errno, "cannot open %s/udev.lock",
				UBLK_USER_RUN_DIR);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			uerr_sys(err, errno, "cannot lock %s/udev.lock",
				 UBLK_USER_RUN_DIR);
			close(fd);
			return -err->code;
		}
	}
	return fd;
}

/* Has the node of device id been handed to uid? */
static bool handed_over(uint32_t id, uid_t uid)
{
	char node[64];
	struct stat st;

	snprintf(node, sizeof(node), "/dev/ublkc%u", id);
	return lstat(node, &st) == 0 && S_ISCHR(st.st_mode) && st.st_uid == uid;
}

/* Devices of uid, other than self, that were handed over to it. */
static long count_admitted(struct ublk_ctrl *ctrl, uid_t uid, uint32_t self,
			   struct uerr *err)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_dev_ref ref;
	struct dirent *de;
	struct uerr e;
	unsigned int id;
	long n = 0;
	char extra;
	DIR *d;

	d = opendir(UBLK_CHAR_CLASS);
	if (!d)
		return uerr_sys(err, errno, "cannot count devices in %s",
				UBLK_CHAR_CLASS);
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "ublkc%u%c", &id, &extra) != 1 ||
		    id == self)
			continue;
		ublk_dev_ref_init(&ref, id, true);
		/* A device deleted meanwhile (ENODEV) does not count. */
		if (ublk_ctrl_get_info(ctrl, &ref, &info, &e) < 0)
			continue;
		if ((info.flags & UBLK_F_UNPRIVILEGED_DEV) &&
		    info.owner_uid == uid && handed_over(id, uid))
			n++;
	}
	closedir(d);
	return n;
}

int admission_decide(struct ublk_ctrl *ctrl, const struct admission *a,
		     struct uerr *err)
{
	const struct ublksrv_ctrl_dev_info *info = a->info;
	struct policy_who who = { .uid = info->owner_uid,
				  .gid = info->owner_gid };
	struct policy_request req = { 0 };
	struct policy_answer ans;
	long others;
	int ret;

	ret = policy_ask(&ans, POLICY_DIR, 0, &who, err);
	if (ret < 0) {
		if (!ans.have_user)
			uerr_prefix(err, "cannot decide");
		goto out;
	}

	req.flags = info->flags;
	req.nr_queues = info->nr_hw_queues;
	req.queue_depth = info->queue_depth;
	if (a->kind == 'b' && (a->params->types & UBLK_PARAM_TYPE_BASIC))
		req.size = a->params->basic.dev_sectors << 9;
	if (a->kind == 'c') {
		others = count_admitted(ctrl, info->owner_uid, info->dev_id,
					err);
		if (others < 0) {
			ret = -EACCES;
			goto out;
		}
		req.nr_devices = others + 1;
	}
	ret = policy_check(&ans.lim, &ans.user, &req, err);
out:
	policy_answer_free(&ans);
	return ret < 0 ? -EACCES : 0;
}
