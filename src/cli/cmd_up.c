// SPDX-License-Identifier: MIT
/* ublk-user up NAME: bring up the disk of ~/.config/ublk-user/disks. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "disks/diskfile.h"

static const char up_usage[] =
	"Usage: ublk-user up NAME [--json]\n"
	"\n"
	"Create the disk that ~/.config/ublk-user/disks/NAME.disk describes\n"
	"(see ublk-user.disk(5)), as 'add --name NAME' would, policy and\n"
	"all. Its stable path is $XDG_RUNTIME_DIR/ublk-user/disks/NAME.\n"
	"\n"
	"      --json    print the device as one JSON object\n"
	"  -h, --help    show this text\n";

const struct cli_opts up_opts = {
	.usage = up_usage,
	.longopts = cli_json_longopts,
};

int cmd_up(struct cli_args *a)
{
	char dir[PATH_MAX];
	struct disk_file d;
	bool json = false;
	struct uerr err;
	int c;

	while ((c = cli_next_opt(a)) > 0)
		if (c == 'j')
			json = true;
	if (c == CLI_EXIT)
		return a->status;
	uerr_clear(&err);
	if (disk_name_check(a->args[0], &err) < 0)
		return cli_usage_error(a, "%s", err.msg);
	if (disk_user_dir(dir, sizeof(dir), &err) < 0 ||
	    disk_load(&d, dir, a->args[0], geteuid(), false, &err) < 0) {
		cli_error(&err);
		return EXIT_FAIL;
	}
	return add_disk(&d, json);
}
