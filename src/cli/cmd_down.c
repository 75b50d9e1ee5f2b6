// SPDX-License-Identifier: MIT
/* ublk-user down NAME: stop and delete a named disk, end its server. */
#include <errno.h>
#include <stdio.h>

#include "base/cleanup.h"
#include "cli.h"
#include "disks/diskfile.h"

static const char down_usage[] = "Usage: ublk-user down NAME\n"
				 "\n"
				 "Stop and delete your disk NAME (up, add "
				 "--name), end its server\n"
				 "and remove its records and stable path. The "
				 "disk's backing file\n"
				 "stays. A disk that a unit keeps up "
				 "(ublk-user@NAME) comes back:\n"
				 "stop the unit instead.\n"
				 "\n"
				 "  -h, --help    show this text\n";

const struct cli_opts down_opts = {
	.usage = down_usage,
};

int cmd_down(struct cli_args *a)
{
	struct ublk_ctrl ctrl cleanup_with(ublk_ctrl_close) = { .fd = -1 };
	const char *name;
	struct dev_view v;
	struct uerr err;
	int c, ret;

	while ((c = cli_next_opt(a)) > 0)
		;
	if (c == CLI_EXIT)
		return a->status;
	name = a->args[0];
	uerr_clear(&err);
	if (disk_name_check(name, &err) < 0)
		return cli_usage_error(a, "%s", err.msg);
	ret = ublk_ctrl_open(&ctrl, &err);
	if (ret == 0)
		ret = named_find(&ctrl, name, &v, &err);
	if (ret == 0)
		ret = dev_remove(&ctrl, v.info.dev_id, v.server_pid, false,
				 &err);
	if (ret == 0 || ret == -ENOENT)
		named_link_remove(name);
	if (ret < 0) {
		cli_error(&err);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
