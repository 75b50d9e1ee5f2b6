// SPDX-License-Identifier: MIT
/*
 * ublk-user-udev: run by udev, as root, for every new /dev/ublkcN and
 * /dev/ublkbN.  It asks the kernel who owns the device, checks the device
 * against the administrator's policy (admission.c) and either hands the
 * node to that uid:gid with mode 0600, or deletes the device and leaves
 * the reason in /run/ublk-user/denied/dev-N and syslog.  Privileged
 * devices are left alone.
 *
 * It never open(2)s the char node for I/O (that would make it the
 * server); it reaches the node with O_PATH and checks that the node is the
 * one the kernel reports before changing it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include "udev/admission.h"
#include "kernel/ctrl.h"
#include "host/denial.h"
#include "policy/policy.h"

#define DELETE_TIMEOUT_MS 5000

static void say(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	fprintf(stderr, "ublk-user-udev: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* "ublkc3" -> 'c', 3; "ublkb3" -> 'b', 3 */
static int parse_name(const char *name, char *kind, uint32_t *id)
{
	unsigned int v;
	char extra;

	if (strncmp(name, "ublk", 4) || (name[4] != 'c' && name[4] != 'b'))
		return -1;
	if (sscanf(name + 5, "%u%c", &v, &extra) != 1)
		return -1;
	*kind = name[4];
	*id = v;
	return 0;
}

static int hand_over(const char *node, char kind, dev_t want, uid_t uid,
		     gid_t gid)
{
	char proc[64];
	struct stat st;
	int fd, ret = -1;

	fd = open(node, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		say(LOG_ERR, "%s: %s", node, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		say(LOG_ERR, "%s: stat: %s", node, strerror(errno));
		goto out;
	}
	if ((kind == 'c' && !S_ISCHR(st.st_mode)) ||
	    (kind == 'b' && !S_ISBLK(st.st_mode)) || st.st_rdev != want) {
		say(LOG_ERR, "%s is not the node of this ublk device", node);
		goto out;
	}
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) {
		say(LOG_ERR, "%s: chown %u:%u: %s", node, (unsigned int)uid,
		    (unsigned int)gid, strerror(errno));
		goto out;
	}
	/* fchmod() refuses O_PATH fds; the magic link reaches the inode. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (chmod(proc, 0600) < 0) {
		say(LOG_ERR, "%s: chmod: %s", node, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* STOP_DEV and DEL_DEV, as root; a device already gone is fine. */
static int delete_device(struct ublk_ctrl *ctrl, uint32_t id)
{
	struct ublk_dev_ref ref;
	struct uerr err;
	int ret;

	ublk_dev_ref_init(&ref, id, true);
	ret = ublk_ctrl_stop_dev(ctrl, &ref, &err);
	if (ret == 0)
		ret = ublk_ctrl_del_dev(ctrl, &ref, DELETE_TIMEOUT_MS, &err);
	if (ret < 0 && ret != -ENODEV) {
		say(LOG_ERR, "device %u: cannot delete it: %s", id, err.msg);
		return -1;
	}
	return 0;
}

/* Record why, then delete: `add` looks for the record once it is gone. */
static int refuse(struct ublk_ctrl *ctrl,
		  const struct ublksrv_ctrl_dev_info *info, const char *reason)
{
	struct denial d = { 0 };
	struct uerr err;

	say(LOG_WARNING, "device %u of uid %u refused by the policy: %s",
	    info->dev_id, (unsigned int)info->owner_uid, reason);
	d.dev_id = info->dev_id;
	d.uid = info->owner_uid;
	d.tag = info->ublksrv_flags;
	snprintf(d.reason, sizeof(d.reason), "%s", reason);
	if (denial_write(DENIAL_DIR, &d, &err) < 0)
		say(LOG_ERR, "device %u: cannot record why: %s", info->dev_id,
		    err.msg);
	return delete_device(ctrl, info->dev_id);
}

int main(int argc, char **argv)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_params params;
	struct ublk_dev_ref ref;
	struct admission adm;
	struct ublk_ctrl ctrl;
	char node[64], kind;
	struct uerr err;
	int ret, lock = -1;
	dev_t want;
	uint32_t id;

	openlog("ublk-user-udev", LOG_PID, LOG_DAEMON);
	if (argc != 2 || parse_name(argv[1], &kind, &id) < 0) {
		say(LOG_ERR, "usage: ublk-user-udev ublkcN|ublkbN");
		return 2;
	}
	if (ublk_ctrl_open(&ctrl, &err) < 0) {
		say(LOG_ERR, "%s", err.msg);
		return 1;
	}
	ublk_dev_ref_init(&ref, id, true);
	ret = ublk_ctrl_get_info(&ctrl, &ref, &info, &err);
	if (ret == 0 && !(info.flags & UBLK_F_UNPRIVILEGED_DEV)) {
		ublk_ctrl_close(&ctrl);
		return 0; /* root's device: root keeps it */
	}
	if (ret == 0)
		ret = ublk_ctrl_get_params(&ctrl, &ref, &params, &err);
	if (ret < 0) {
		say(LOG_ERR, "device %u: %s", id, err.msg);
		goto fail;
	}
	if (!(params.types & UBLK_PARAM_TYPE_DEVT)) {
		say(LOG_ERR, "device %u: the kernel gave no device numbers",
		    id);
		goto fail;
	}

	/* One helper at a time decides, and hands over before the next. */
	lock = admission_lock(&err);
	if (lock < 0) {
		say(LOG_ERR, "device %u: %s", id, err.msg);
		goto fail;
	}
	adm.kind = kind;
	adm.info = &info;
	adm.params = &params;
	if (admission_decide(&ctrl, &adm, &err) < 0) {
		ret = refuse(&ctrl, &info, err.msg);
		ublk_ctrl_close(&ctrl);
		close(lock);
		return ret < 0 ? 1 : 0;
	}
	ublk_ctrl_close(&ctrl);

	if (kind == 'c') {
		denial_clear(DENIAL_DIR, id);
		want = makedev(params.devt.char_major, params.devt.char_minor);
	} else {
		want = makedev(params.devt.disk_major, params.devt.disk_minor);
	}
	snprintf(node, sizeof(node), "/dev/%s", argv[1]);
	ret = hand_over(node, kind, want, info.owner_uid, info.owner_gid);
	close(lock);
	return ret < 0 ? 1 : 0;

fail:
	ublk_ctrl_close(&ctrl);
	return 1;
}
