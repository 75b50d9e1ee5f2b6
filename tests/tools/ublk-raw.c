// SPDX-License-Identifier: MIT
/*
 * ublk-raw: send one ublk control command straight to the kernel, without
 * the CLI's checks, so tests can see what the kernel itself allows.
 *
 *   ublk-raw info|stop|del|params ID [PATH]   PATH: node to name (default
 *                                             /dev/ublkcID); always sent
 *   ublk-raw add [FLAGS [QUEUES [DEPTH [ID]]]] ADD_DEV, prints the new id;
 *                                             FLAGS in hex, default
 *                                             UNPRIVILEGED_DEV|IOCTL_ENCODE;
 *                                             1 queue of depth 16 by default;
 *                                             ID: ask for this id
 *   ublk-raw resize ID SECTORS [PATH]         UPDATE_SIZE to SECTORS
 *   ublk-raw add-many COUNT FIRST [FLAGS]     ADD_DEV with ids FIRST ..
 *                                             FIRST+COUNT-1, waiting while
 *                                             the kernel's pool is full
 *                                             (EACCES); prints how many the
 *                                             kernel made
 *   ublk-raw add-uids FIRST_UID COUNT FIRST_ID GROUP
 *                                             as root: one ADD_DEV as each
 *                                             of COUNT uids (gid alike, in
 *                                             GROUP), ids FIRST_ID ..;
 *                                             prints how many were made
 *   ublk-raw flags ID [PATH]                  the device's flags, in hex
 *   ublk-raw features                         GET_FEATURES, in hex
 *   ublk-raw task-restrictions                whether io_uring takes
 *                                             restrictions for a task (a
 *                                             "blind" registration, fd -1)
 *
 * Prints "ok" or the errno name (EACCES, ...); exit 0 on success, 1 on a
 * refusal, 2 on a bad command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <liburing.h>

#include "kernel/ctrl.h"

static int usage(void)
{
	fprintf(stderr, "usage: ublk-raw info|stop|del|params|flags ID [PATH]\n"
			"       ublk-raw add [FLAGS [QUEUES [DEPTH [ID]]]]\n"
			"       ublk-raw resize ID SECTORS [PATH]\n"
			"       ublk-raw add-many COUNT FIRST [FLAGS]\n"
			"       ublk-raw add-uids FIRST_UID COUNT FIRST_ID "
			"GROUP\n"
			"       ublk-raw features | task-restrictions\n");
	return 2;
}

static int result(int ret)
{
	if (ret >= 0) {
		printf("ok\n");
		return 0;
	}
	printf("%s\n", strerrorname_np(-ret) ? strerrorname_np(-ret) : "?");
	return 1;
}

/*
 * One ADD_DEV of a small device with this id, as fast as the udev helper
 * deletes others: the kernel refuses more than ublks_max unprivileged
 * devices at once (EACCES), so wait a little then.  Gives up after 60 s.
 */
static int add_one(struct ublk_ctrl *ctrl, uint32_t id, uint64_t flags)
{
	const struct timespec pause = { 0, 10 * 1000 * 1000 };
	struct ublksrv_ctrl_dev_info info;
	struct ublk_ctrl_msg msg;
	unsigned int tries;
	struct uerr err;
	int ret = -EACCES;

	for (tries = 0; tries < 6000; tries++) {
		memset(&info, 0, sizeof(info));
		info.nr_hw_queues = 1;
		info.queue_depth = 16;
		info.max_io_buf_bytes = 64 << 10;
		info.dev_id = id;
		info.flags = flags;
		ret = ublk_ctrl_encode(&msg, NULL, info.dev_id, &info,
				       sizeof(info), 0, &err);
		if (ret == 0)
			ret = ublk_ctrl_send(ctrl, UBLK_U_CMD_ADD_DEV, &msg, 0);
		if (ret != -EACCES)
			break;
		nanosleep(&pause, NULL);
	}
	if (ret < 0 && ret != -EEXIST)
		fprintf(stderr, "ublk-raw: id %u: %s\n", id,
			strerrorname_np(-ret) ? strerrorname_np(-ret) : "?");
	return ret;
}

/* ADD_DEVs with ids FIRST .. FIRST+COUNT-1 */
static int add_many(struct ublk_ctrl *ctrl, unsigned long count,
		    unsigned long first, uint64_t flags)
{
	unsigned long i, made = 0;

	for (i = 0; i < count; i++)
		if (add_one(ctrl, (uint32_t)(first + i), flags) >= 0)
			made++;
	printf("%lu\n", made);
	return made == count ? 0 : 1;
}

/*
 * As root: one ADD_DEV as each of the uids FIRST_UID .. +COUNT-1 (gid the
 * same, supplementary group GROUP), with ids FIRST_ID ..; one process for
 * all, since a setpriv and an exec per uid cost more than the ADD_DEV in
 * the TCG guest.
 */
static int add_uids(unsigned long first_uid, unsigned long count,
		    unsigned long first_id, gid_t group)
{
	unsigned long i, made = 0;
	struct ublk_ctrl ctrl;
	struct uerr err;
	int status;
	pid_t pid;

	for (i = 0; i < count; i++) {
		uid_t uid = (uid_t)(first_uid + i);

		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			perror("ublk-raw: fork");
			break;
		}
		if (pid == 0) {
			if (setgroups(1, &group) < 0 ||
			    setresgid(uid, uid, uid) < 0 ||
			    setresuid(uid, uid, uid) < 0) {
				perror("ublk-raw: changing ids");
				_exit(2);
			}
			if (ublk_ctrl_open(&ctrl, &err) < 0) {
				fprintf(stderr, "ublk-raw: %s\n", err.msg);
				_exit(1);
			}
			_exit(add_one(&ctrl, (uint32_t)(first_id + i),
				      UBLK_F_UNPRIVILEGED_DEV |
					      UBLK_F_CMD_IOCTL_ENCODE) < 0);
		}
		if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			made++;
	}
	printf("%lu\n", made);
	return made == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct ublksrv_ctrl_dev_info info = { 0 };
	struct ublk_params params;
	struct ublk_ctrl_msg msg;
	struct ublk_dev_ref ref;
	struct ublk_ctrl ctrl;
	uint64_t data0 = 0;
	struct uerr err;
	uint64_t features;
	uint32_t op;
	int ret;

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "task-restrictions")) {
		/* struct io_uring_task_restriction (Linux 7.0), no entries */
		struct {
			uint16_t flags, nr_res;
			uint32_t resv[3];
		} tres = { 0 };

		return result(io_uring_register((unsigned int)-1,
						IORING_REGISTER_RESTRICTIONS,
						&tres, 1));
	}
	if (!strcmp(argv[1], "add-uids")) {
		if (argc != 6)
			return usage();
		return add_uids(strtoul(argv[2], NULL, 10),
				strtoul(argv[3], NULL, 10),
				strtoul(argv[4], NULL, 10),
				(gid_t)strtoul(argv[5], NULL, 10));
	}
	if (ublk_ctrl_open(&ctrl, &err) < 0) {
		fprintf(stderr, "ublk-raw: %s\n", err.msg);
		return 1;
	}
	if (!strcmp(argv[1], "add-many")) {
		if (argc < 4 || argc > 5)
			return usage();
		return add_many(&ctrl, strtoul(argv[2], NULL, 10),
				strtoul(argv[3], NULL, 10),
				argc > 4 ? strtoull(argv[4], NULL, 16) :
					   UBLK_F_UNPRIVILEGED_DEV |
						   UBLK_F_CMD_IOCTL_ENCODE);
	}
	if (!strcmp(argv[1], "features")) {
		if (ublk_ctrl_get_features(&ctrl, &features, &err) < 0) {
			fprintf(stderr, "ublk-raw: %s\n", err.msg);
			return 1;
		}
		printf("0x%llx\n", (unsigned long long)features);
		return 0;
	}
	if (!strcmp(argv[1], "add")) {
		if (argc > 6)
			return usage();
		info.nr_hw_queues = argc > 3 ? strtoul(argv[3], NULL, 10) : 1;
		info.queue_depth = argc > 4 ? strtoul(argv[4], NULL, 10) : 16;
		info.max_io_buf_bytes = 64 << 10;
		info.dev_id = argc > 5 ? strtoul(argv[5], NULL, 10) :
					 (uint32_t)-1;
		info.flags = argc > 2 ? strtoull(argv[2], NULL, 16) :
					UBLK_F_UNPRIVILEGED_DEV |
						UBLK_F_CMD_IOCTL_ENCODE;
		ret = ublk_ctrl_encode(&msg, NULL, info.dev_id, &info,
				       sizeof(info), 0, &err);
		if (ret == 0)
			ret = ublk_ctrl_send(&ctrl, UBLK_U_CMD_ADD_DEV, &msg,
					     0);
		if (ret >= 0) {
			memcpy(&info, msg.buf, sizeof(info));
			printf("%u\n", info.dev_id);
			return 0;
		}
		return result(ret);
	}
	if (!strcmp(argv[1], "resize")) {
		if (argc < 4 || argc > 5)
			return usage();
		data0 = strtoull(argv[3], NULL, 0);
		/* the rest as the other commands: ID [PATH] */
		argv[3] = argc == 5 ? argv[4] : NULL;
		argc--;
	}
	if (argc < 3 || argc > 4)
		return usage();
	ublk_dev_ref_init(&ref, strtoul(argv[2], NULL, 10), true);
	if (argc == 4)
		snprintf(ref.path, sizeof(ref.path), "%s", argv[3]);

	if (!strcmp(argv[1], "info") || !strcmp(argv[1], "flags")) {
		op = UBLK_U_CMD_GET_DEV_INFO2;
		ret = ublk_ctrl_encode(&msg, &ref, 0, &info, sizeof(info), 0,
				       &err);
	} else if (!strcmp(argv[1], "params")) {
		memset(&params, 0, sizeof(params));
		params.len = sizeof(params);
		op = UBLK_U_CMD_GET_PARAMS;
		ret = ublk_ctrl_encode(&msg, &ref, 0, &params, sizeof(params),
				       0, &err);
	} else if (!strcmp(argv[1], "stop")) {
		op = UBLK_U_CMD_STOP_DEV;
		ret = ublk_ctrl_encode(&msg, &ref, 0, NULL, 0, 0, &err);
	} else if (!strcmp(argv[1], "del")) {
		op = UBLK_U_CMD_DEL_DEV;
		ret = ublk_ctrl_encode(&msg, &ref, 0, NULL, 0, 0, &err);
	} else if (!strcmp(argv[1], "resize")) {
		op = UBLK_U_CMD_UPDATE_SIZE;
		ret = ublk_ctrl_encode(&msg, &ref, 0, NULL, 0, data0, &err);
	} else {
		return usage();
	}
	if (ret < 0)
		return usage();
	ret = ublk_ctrl_send(&ctrl, op, &msg, 10000);
	if (ret >= 0 && !strcmp(argv[1], "flags")) {
		/* What ADD_DEV kept of the flags asked for. */
		memcpy(&info, msg.buf + msg.path_len, sizeof(info));
		printf("0x%llx\n", (unsigned long long)info.flags);
		return 0;
	}
	return result(ret);
}
