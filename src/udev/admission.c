// SPDX-License-Identifier: MIT
/*
 * The policy as the root udev helper enforces it.  What the kernel tells
 * us about a device (owner, flags, queues, depth; the size once the disk
 * exists) is checked against the limits of the owner's account
 * (policy/account.h: a subordinate uid counts as its range's owner), and
 * the account's other devices are counted.  Only devices already handed
 * over count: helpers run one at a time (admission_lock), so of two
 * devices created at once the first one decided is the one that is kept.
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
#include "kernel/features.h"
#include "policy/account.h"
#include "policy/policy.h"

#define UBLK_CHAR_CLASS "/sys/class/ublk-char"

/*
 * The flags of an unprivileged device whose effect was reviewed
 * (SECURITY.md).  The kernel sets COMP_IN_TASK, IOCTL_ENCODE, PER_IO_DAEMON,
 * BUF_REG_OFF_DAEMON and SAFE_STOP_DEV itself; NEED_GET_DATA,
 * UPDATE_SIZE, NO_AUTO_PART_SCAN and BATCH_IO (how the server's commands
 * are grouped, SECURITY.md) change nothing the policy or the host relies
 * on; SHMEM_ZC is the policy's (shmem_zc).  A device with any other
 * flag (a new kernel's, or one that is harmless only for privileged
 * devices) is refused until someone has looked at it.
 */
#define REVIEWED_FLAGS                                          \
	(UBLK_F_UNPRIVILEGED_DEV | UBLK_F_CMD_IOCTL_ENCODE |    \
	 UBLK_F_URING_CMD_COMP_IN_TASK | UBLK_F_PER_IO_DAEMON | \
	 UBLK_F_BUF_REG_OFF_DAEMON | UBLK_F_SAFE_STOP_DEV |     \
	 UBLK_F_NEED_GET_DATA | UBLK_F_UPDATE_SIZE |            \
	 UBLK_F_NO_AUTO_PART_SCAN | UBLK_F_SHMEM_ZC | UBLK_F_BATCH_IO)

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

/*
 * Devices of account acct, other than self, that were handed over to
 * their owner.  Fails (and so refuses) when a device cannot be asked
 * about or its owner cannot be mapped: a device left out would be free.
 */
static long count_admitted(struct ublk_ctrl *ctrl, struct accounts *accts,
			   uid_t acct, uint32_t self, struct uerr *err)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_dev_ref ref;
	struct dirent *de;
	unsigned int id;
	long n = 0;
	char extra;
	uid_t a;
	int ret;
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
		ret = ublk_ctrl_get_info(ctrl, &ref, &info, err);
		/* Deleted meanwhile, or its node is gone: not handed over. */
		if (ret == -ENODEV || ret == -ENOENT)
			continue;
		if (ret < 0) {
			n = -EACCES;
			uerr_prefix(err, "cannot count devices");
			break;
		}
		if (!(info.flags & UBLK_F_UNPRIVILEGED_DEV) ||
		    !handed_over(id, info.owner_uid))
			continue;
		if (account_uid(accts, info.owner_uid, &a, err) < 0) {
			n = -EACCES;
			uerr_prefix(err,
				    "cannot count the devices of device "
				    "%u's owner",
				    id);
			break;
		}
		n += a == acct;
	}
	closedir(d);
	return n;
}

/* Unknown or unreviewed flags: -EACCES naming them */
static int check_flags(uint64_t flags, struct uerr *err)
{
	uint64_t bad = flags & ~(uint64_t)REVIEWED_FLAGS, bit;
	char names[512] = "", num[32];
	const char *name;
	size_t used = 0;
	int i;

	if (!bad)
		return 0;
	for (i = 0; i < 64 && used < sizeof(names) - 1; i++) {
		bit = 1ULL << i;
		if (!(bad & bit))
			continue;
		name = ublk_feature_name(bit);
		if (!name) {
			snprintf(num, sizeof(num), "bit %d", i);
			name = num;
		}
		used += snprintf(names + used, sizeof(names) - used, "%s%s",
				 used ? ", " : "", name);
	}
	return uerr_set(err, EACCES,
			"device flags %s (0x%llx) are not among those "
			"ublk-user-udev allows for unprivileged devices",
			names, (unsigned long long)bad);
}

int admission_decide(struct ublk_ctrl *ctrl, const struct admission *a,
		     struct uerr *err)
{
	const struct ublksrv_ctrl_dev_info *info = a->info;
	struct policy_request req = { 0 };
	struct policy_answer ans;
	struct accounts accts;
	struct policy_who who = { .uid = info->owner_uid,
				  .gid = info->owner_gid,
				  .owner_of = &accts };
	uint64_t sectors;
	long others;
	int ret;

	if (check_flags(info->flags, err) < 0)
		return -EACCES;
	if (a->kind == 'b' && (a->params->types & UBLK_PARAM_TYPE_BASIC)) {
		sectors = a->params->basic.dev_sectors;
		/* bytes must not wrap: 2^55 + 8 sectors is not 4 KiB */
		if (sectors > UINT64_MAX >> 9)
			return uerr_set(err, EACCES,
					"size of %llu sectors is more than "
					"2^64 bytes",
					(unsigned long long)sectors);
		req.size = sectors << 9;
		/* read_only = yes: the kernel must refuse writes to it */
		req.writable = !(a->params->basic.attrs & UBLK_ATTR_READ_ONLY);
	}
	accounts_load(&accts, SUBUID_FILE, SUBGID_FILE);
	/* The owner's account (a subordinate uid is its range's owner) */
	ret = policy_ask(&ans, POLICY_DIR, 0, &who, err);
	if (ret < 0)
		goto out;

	req.flags = info->flags;
	req.nr_queues = info->nr_hw_queues;
	req.queue_depth = info->queue_depth;
	if (a->kind == 'c') {
		others = count_admitted(ctrl, &accts, ans.user.uid,
					info->dev_id, err);
		if (others < 0) {
			ret = -EACCES;
			goto out;
		}
		req.nr_devices = others + 1;
	}
	ret = policy_check(&ans.lim, &ans.user, &req, err);
	if (ret < 0 && ans.how[0])
		uerr_prefix(err, "%s", ans.how);
out:
	policy_answer_free(&ans);
	accounts_free(&accts);
	return ret < 0 ? -EACCES : 0;
}
