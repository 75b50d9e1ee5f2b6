// SPDX-License-Identifier: MIT
/*
 * ublk-raw: send one ublk control command straight to the kernel, without
 * the CLI's checks, so tests can see what the kernel itself allows.
 *
 *   ublk-raw info|stop|del|params ID [PATH]   PATH: node to name (default
 *                                             /dev/ublkcID); always sent
 *   ublk-raw flags ID [PATH]                  the device's flags as the
 *                                             kernel keeps them, in hex
 *   ublk-raw add [FLAGS [QUEUES [DEPTH]]]     ADD_DEV, prints the new id;
 *                                             FLAGS in hex, default
 *                                             UNPRIVILEGED_DEV|IOCTL_ENCODE;
 *                                             1 queue of depth 16 by default
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

#include <liburing.h>

#include "kernel/ctrl.h"

static int usage(void)
{
	fprintf(stderr, "usage: ublk-raw info|stop|del|params|flags ID [PATH]\n"
			"       ublk-raw add [FLAGS [QUEUES [DEPTH]]]\n"
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

int main(int argc, char **argv)
{
	struct ublksrv_ctrl_dev_info info = { 0 };
	struct ublk_params params;
	struct ublk_ctrl_msg msg;
	struct ublk_dev_ref ref;
	struct ublk_ctrl ctrl;
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
	if (ublk_ctrl_open(&ctrl, &err) < 0) {
		fprintf(stderr, "ublk-raw: %s\n", err.msg);
		return 1;
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
		if (argc > 5)
			return usage();
		info.nr_hw_queues = argc > 3 ? strtoul(argv[3], NULL, 10) : 1;
		info.queue_depth = argc > 4 ? strtoul(argv[4], NULL, 10) : 16;
		info.max_io_buf_bytes = 64 << 10;
		info.dev_id = (uint32_t)-1;
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
