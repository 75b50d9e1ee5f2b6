// SPDX-License-Identifier: MIT
/*
 * ublk-user up NAME: bring up the disk of ~/.config/ublk-user/disks, or
 * (--system) an administrator's of /etc/ublk-user/disks for the user it
 * names; --foreground stays with its server, for systemd's units.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "disks/diskfile.h"

static const char up_usage[] =
	"Usage: ublk-user up NAME [--foreground] [--system] [--json]\n"
	"\n"
	"Create the disk that ~/.config/ublk-user/disks/NAME.disk describes\n"
	"(see ublk-user.disk(5)), as 'add --name NAME' would, policy and\n"
	"all. Its stable path is $XDG_RUNTIME_DIR/ublk-user/disks/NAME.\n"
	"A dead device of the same name (its server crashed) is deleted\n"
	"first. Exit status 4: no such disk file, or it is invalid.\n"
	"\n"
	"      --foreground  stay until the disk goes: tell systemd when it\n"
	"                    is ready (sd_notify), pass the server's log on,\n"
	"                    stop it on SIGTERM or ^C (exit 0); exit 1 when\n"
	"                    the disk dies (ublk-user@.service uses this)\n"
	"      --system      (root) the administrator's disk file\n"
	"                    " DISK_SYSTEM_DIR "/NAME.disk, created as the\n"
	"                    user it names (add --user), keeping only\n"
	"                    CAP_IPC_LOCK (ublk-user-system@.service)\n"
	"      --json        print the device as one JSON object\n"
	"  -h, --help        show this text\n";

static const struct option up_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "foreground", no_argument, NULL, 'F' },
	{ "system", no_argument, NULL, 'S' },
	{ 0 },
};

const struct cli_opts up_opts = {
	.usage = up_usage,
	.longopts = up_longopts,
};

/*
 * The disk file is missing or wrong: a status of its own, so that a unit
 * does not start again what cannot work (RestartPreventExitStatus=).
 */
static int up_failed(const struct uerr *err, bool foreground)
{
	cli_error(err);
	if (foreground)
		foreground_failed(err);
	return EXIT_DISK_FILE;
}

int cmd_up(struct cli_args *a)
{
	bool json = false, foreground = false, system = false;
	char dir[PATH_MAX];
	struct disk_file d;
	struct uerr err;
	int c;

	while ((c = cli_next_opt(a)) > 0) {
		if (c == 'j')
			json = true;
		else if (c == 'F')
			foreground = true;
		else if (c == 'S')
			system = true;
	}
	if (c == CLI_EXIT)
		return a->status;
	uerr_clear(&err);
	if (disk_name_check(a->args[0], &err) < 0)
		return cli_usage_error(a, "%s", err.msg);
	if (system) {
		/*
		 * Root's file, read by root and again, after add --user's
		 * re-exec, by the user it names (who may not change it).
		 */
		snprintf(dir, sizeof(dir), "%s", DISK_SYSTEM_DIR);
		if (disk_load(&d, dir, a->args[0], 0, true, &err) < 0)
			return up_failed(&err, foreground);
		return add_disk(&d, json, foreground);
	}
	if (disk_user_dir(dir, sizeof(dir), &err) < 0 ||
	    disk_load(&d, dir, a->args[0], geteuid(), false, &err) < 0)
		return up_failed(&err, foreground);
	return add_disk(&d, json, foreground);
}
