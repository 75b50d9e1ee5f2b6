// SPDX-License-Identifier: MIT
/*
 * ublk-user-udev: run by udev, as root, for every new /dev/ublkcN and
 * /dev/ublkbN.  It asks the kernel who owns the device, checks the device
 * against the administrator's policy (admission.c) and either hands the
 * node to that uid:gid with mode 0600, or deletes the device and leaves
 * the reason in /run/ublk-user/denied/dev-N and syslog.  Privileged
 * devices are left alone.
 *
 * The node is reached with O_PATH before the kernel is asked, and only
 * that descriptor is changed: a device deleted and made again meanwhile
 * (the same device number, a new node) is never handed to the old owner.
 * It never open(2)s the char node for I/O (that would make it the server).
 *
 * Helpers decide one at a time under a lock; a refused device is deleted
 * after the lock is released, by a child with bounded waits, so that a
 * server that holds its char device cannot hold up anyone else's device.
 *
 * With --classify ublkbN it only prints UBLK_USER_SERVED=1 (a disk served
 * by a user, or one it cannot tell) or =0 (a privileged device), for the
 * rule that keeps root's udev from probing users' disks.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "udev/admission.h"
#include "kernel/ctrl.h"
#include "host/denial.h"
#include "policy/account.h"
#include "policy/policy.h"

/* Every control command waits at most this long (a stuck device) */
#define COMMAND_TIMEOUT_MS 5000
/* The parent waits this long for the child that deletes a device */
#define DELETE_DEADLINE_MS (2 * COMMAND_TIMEOUT_MS + 2000)
/* The kernel's limit on device ids (UBLK_MAX_UBLKS, 1 << MINORBITS) */
#define UBLK_ID_LIMIT (1U << 20)

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

/*
 * "ublkc3" -> 'c', 3; "ublkb3" -> 'b', 3.  Exactly the kernel's names:
 * decimal digits only, no sign, space or leading zero, below the id limit.
 */
static int parse_name(const char *name, char *kind, uint32_t *id)
{
	const char *d = name + 5;
	uint32_t v = 0;

	if (strncmp(name, "ublk", 4) || (name[4] != 'c' && name[4] != 'b'))
		return -1;
	if (!*d || (d[0] == '0' && d[1]))
		return -1;
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return -1;
		v = v * 10 + (uint32_t)(*d - '0');
		if (v >= UBLK_ID_LIMIT)
			return -1;
	}
	*kind = name[4];
	*id = v;
	return 0;
}

static int open_ctrl(struct ublk_ctrl *ctrl)
{
	struct uerr err;

	if (ublk_ctrl_open(ctrl, &err) < 0) {
		say(LOG_ERR, "%s", err.msg);
		return -1;
	}
	ctrl->timeout_ms = COMMAND_TIMEOUT_MS;
	return 0;
}

/*
 * Hand the node open as fd over: it must still be the node of the device
 * the kernel described (type and number) and still be linked; a node
 * removed meanwhile belongs to a device that is gone, and its successor's
 * own event hands that one over.
 */
static int hand_over(int fd, const char *node, char kind, dev_t want, uid_t uid,
		     gid_t gid)
{
	char proc[64];
	struct stat st;

	if (fstat(fd, &st) < 0) {
		say(LOG_ERR, "%s: stat: %s", node, strerror(errno));
		return -1;
	}
	if ((kind == 'c' && !S_ISCHR(st.st_mode)) ||
	    (kind == 'b' && !S_ISBLK(st.st_mode)) || st.st_rdev != want) {
		say(LOG_ERR, "%s is not the node of this ublk device", node);
		return -1;
	}
	if (st.st_nlink == 0) {
		say(LOG_NOTICE,
		    "%s was removed while it was decided on: nothing to "
		    "hand over",
		    node);
		return 0;
	}
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) {
		say(LOG_ERR, "%s: chown %u:%u: %s", node, (unsigned int)uid,
		    (unsigned int)gid, strerror(errno));
		return -1;
	}
	/* fchmod() refuses O_PATH fds; the magic link reaches the inode. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (chmod(proc, 0600) < 0) {
		say(LOG_ERR, "%s: chmod: %s", node, strerror(errno));
		return -1;
	}
	return 0;
}

/* In the child: STOP_DEV and DEL_DEV, each bounded; gone already is fine */
static int delete_now(uint32_t id)
{
	struct ublk_dev_ref ref;
	struct ublk_ctrl ctrl;
	struct uerr err;
	int ret;

	if (open_ctrl(&ctrl) < 0)
		return -1;
	ublk_dev_ref_init(&ref, id, true);
	ret = ublk_ctrl_stop_dev(&ctrl, &ref, &err);
	if (ret == 0)
		ret = ublk_ctrl_del_dev_async(&ctrl, &ref, COMMAND_TIMEOUT_MS,
					      &err);
	if (ret < 0 && ret != -ENODEV && ret != -ENOENT) {
		say(LOG_ERR, "device %u: cannot delete it: %s", id, err.msg);
		ublk_ctrl_close(&ctrl);
		return -1;
	}
	ublk_ctrl_close(&ctrl);
	return 0;
}

/*
 * Delete device id in a child and wait at most DELETE_DEADLINE_MS for it:
 * a command the kernel cannot finish (a stuck device) keeps only that
 * child, not the udev worker, and never the lock (already released).
 */
static int delete_device(uint32_t id)
{
	int status, pidfd, left;
	long deadline;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		say(LOG_ERR, "device %u: fork: %s", id, strerror(errno));
		return delete_now(id);
	}
	if (pid == 0) {
		/* udev may close our pipes once the parent has given up */
		signal(SIGPIPE, SIG_IGN);
		_exit(delete_now(id) < 0 ? 1 : 0);
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	deadline = mono_ms() + DELETE_DEADLINE_MS;
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		left = (int)(deadline - mono_ms());
		if (left <= 0) {
			say(LOG_ERR,
			    "device %u: its deletion (pid %d) is still "
			    "running after %d ms; leaving it",
			    id, (int)pid, DELETE_DEADLINE_MS);
			if (pidfd >= 0)
				close(pidfd);
			return -1;
		}
		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };

			poll(&p, 1, left);
		} else {
			usleep(20000);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Record why (under the lock): `add` looks for the record once it is gone. */
static void record_refusal(const struct ublksrv_ctrl_dev_info *info,
			   const char *reason)
{
	struct accounts accts;
	struct denial d = { 0 };
	struct uerr err;

	say(LOG_WARNING, "device %u of uid %u refused by the policy: %s",
	    info->dev_id, (unsigned int)info->owner_uid, reason);
	d.dev_id = info->dev_id;
	d.uid = info->owner_uid;
	d.tag = info->ublksrv_flags;
	/* Bounded per account; an owner we cannot map stands alone. */
	accounts_load(&accts, SUBUID_FILE, SUBGID_FILE);
	if (account_uid(&accts, info->owner_uid, &d.account, &err) < 0)
		d.account = info->owner_uid;
	accounts_free(&accts);
	snprintf(d.reason, sizeof(d.reason), "%s", reason);
	if (denial_write(DENIAL_DIR, &d, &err) < 0)
		say(LOG_ERR, "device %u: cannot record why: %s", info->dev_id,
		    err.msg);
}

/* --classify: is ublkbN a disk served by a user?  Unsure means yes. */
static int classify(const char *name)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_dev_ref ref;
	struct ublk_ctrl ctrl;
	bool served = true;
	struct uerr err;
	uint32_t id;
	char kind;

	if (parse_name(name, &kind, &id) < 0 || kind != 'b') {
		say(LOG_ERR, "--classify: not a ublk disk: %s", name);
		return 2;
	}
	if (open_ctrl(&ctrl) == 0) {
		ublk_dev_ref_init(&ref, id, true);
		if (ublk_ctrl_get_info(&ctrl, &ref, &info, &err) == 0)
			served = info.flags & UBLK_F_UNPRIVILEGED_DEV;
		ublk_ctrl_close(&ctrl);
	}
	printf("UBLK_USER_SERVED=%d\n", served ? 1 : 0);
	return 0;
}

static int handle(char kind, uint32_t id)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_params params;
	struct ublk_dev_ref ref;
	struct admission adm;
	struct ublk_ctrl ctrl;
	int ret, lock = -1, nfd;
	char node[64];
	struct uerr err;
	dev_t want;

	/* The node first: what we change is what existed before we asked. */
	snprintf(node, sizeof(node), "/dev/ublk%c%u", kind, id);
	nfd = open(node, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (nfd < 0) {
		say(LOG_ERR, "device %u: %s: %s", id, node, strerror(errno));
		return 1;
	}
	if (open_ctrl(&ctrl) < 0) {
		close(nfd);
		return 1;
	}
	ublk_dev_ref_init(&ref, id, true);
	ret = ublk_ctrl_get_info(&ctrl, &ref, &info, &err);
	if (ret == 0 && !(info.flags & UBLK_F_UNPRIVILEGED_DEV)) {
		ret = 0; /* root's device: root keeps it */
		goto out;
	}
	if (ret == 0)
		ret = ublk_ctrl_get_params(&ctrl, &ref, &params, &err);
	if (ret < 0) {
		say(LOG_ERR, "device %u: %s", id, err.msg);
		ret = 1;
		goto out;
	}
	if (!(params.types & UBLK_PARAM_TYPE_DEVT)) {
		say(LOG_ERR, "device %u: the kernel gave no device numbers",
		    id);
		ret = 1;
		goto out;
	}
	/*
	 * One helper at a time decides, and hands over before the next; the
	 * lock covers only that (the device's own facts were asked above, a
	 * refused device is deleted after it).
	 */
	lock = admission_lock(&err);
	if (lock < 0) {
		say(LOG_ERR, "device %u: %s", id, err.msg);
		ret = 1;
		goto out;
	}
	adm.kind = kind;
	adm.info = &info;
	adm.params = &params;
	if (admission_decide(&ctrl, &adm, &err) < 0) {
		record_refusal(&info, err.msg);
		close(lock);
		lock = -1;
		ublk_ctrl_close(&ctrl);
		ret = delete_device(id) < 0 ? 1 : 0;
		goto out;
	}
	if (kind == 'c') {
		denial_clear(DENIAL_DIR, id, info.owner_uid);
		want = makedev(params.devt.char_major, params.devt.char_minor);
	} else {
		want = makedev(params.devt.disk_major, params.devt.disk_minor);
	}
	ret = 0;
	if (hand_over(nfd, node, kind, want, info.owner_uid, info.owner_gid) <
	    0)
		ret = 1;
out:
	if (lock >= 0)
		close(lock);
	ublk_ctrl_close(&ctrl);
	close(nfd);
	return ret;
}

int main(int argc, char **argv)
{
	uint32_t id;
	char kind;

	openlog("ublk-user-udev", LOG_PID, LOG_DAEMON);
	if (argc == 3 && !strcmp(argv[1], "--classify"))
		return classify(argv[2]);
	if (argc != 2 || parse_name(argv[1], &kind, &id) < 0) {
		say(LOG_ERR, "usage: ublk-user-udev ublkcN|ublkbN, or "
			     "--classify ublkbN");
		return 2;
	}
	return handle(kind, id);
}
