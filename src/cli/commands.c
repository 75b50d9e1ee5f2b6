// SPDX-License-Identifier: MIT
/*
 * The commands of ublk-user, one row each: `ublk-user help` lists them
 * from here and cli_main() runs them from here.  A command's options and
 * --help text live in its own file (cmd_NAME.c); see HACKING.md, "Add a
 * command".
 */
#include <stdio.h>

#include "cli.h"

#ifndef UBLK_USER_VERSION
#define UBLK_USER_VERSION "0.0.0"
#endif

static const struct cli_opts help_opts = {
	.usage = "Usage: ublk-user help [COMMAND]\n"
		 "\n"
		 "Show the commands, or the options of COMMAND (as 'ublk-user\n"
		 "COMMAND --help' does).\n"
		 "\n"
		 "  -h, --help    show this text\n",
};

static const struct cli_opts version_opts = {
	.usage = "Usage: ublk-user version\n"
		 "\n"
		 "Print the version of ublk-user.\n"
		 "\n"
		 "  -h, --help    show this text\n",
};

static int cmd_help(struct cli_args *a)
{
	const struct cli_cmd *cmd;
	int c;

	while ((c = cli_next_opt(a)) > 0)
		;
	if (c == CLI_EXIT)
		return a->status;
	if (!a->nargs) {
		cli_print_help(stdout, cli_cmds);
		return EXIT_OK;
	}
	cmd = cli_find(cli_cmds, a->args[0]);
	if (!cmd)
		return cli_usage_error(a, "unknown command '%s'", a->args[0]);
	cli_print_usage(stdout, cmd->opts);
	return EXIT_OK;
}

static int cmd_version(struct cli_args *a)
{
	int c;

	while ((c = cli_next_opt(a)) > 0)
		;
	if (c == CLI_EXIT)
		return a->status;
	printf("ublk-user %s\n", UBLK_USER_VERSION);
	return EXIT_OK;
}

static const struct cli_cmd policy_cmds[] = {
	{
		.name = "check",
		.summary = "report every error of the policy files",
		.opts = &policy_check_opts,
		.max_args = CLI_ANY,
		.flags = CLI_OPTIONS_FIRST,
		.run = cmd_policy_check,
	},
	{
		.name = "show",
		.summary = "the limits that apply to you, and where each is "
			   "set",
		.opts = &policy_show_opts,
		.run = cmd_policy_show,
	},
	{ 0 },
};

const struct cli_cmd cli_cmds[] = {
	{
		.name = "add",
		.summary = "create a device and start its server",
		.opts = &add_opts,
		.run = cmd_add,
	},
	{
		.name = "list",
		.summary = "show the devices you can see",
		.opts = &list_opts,
		.run = cmd_list,
	},
	{
		.name = "del",
		.summary = "stop and delete devices",
		.opts = &del_opts,
		.run = cmd_del,
	},
	{
		.name = "up",
		.summary = "create the disk of your disk file NAME",
		.opts = &up_opts,
		.min_args = 1,
		.max_args = 1,
		.run = cmd_up,
	},
	{
		.name = "down",
		.summary = "stop and delete your named disk NAME",
		.opts = &down_opts,
		.min_args = 1,
		.max_args = 1,
		.run = cmd_down,
	},
	{
		.name = "resize",
		.summary = "make a disk larger or smaller while it is in use",
		.opts = &resize_opts,
		.min_args = 1,
		.max_args = 2,
		.run = cmd_resize,
	},
	{
		.name = "snapshot",
		.summary = "copy a live loop disk's file at one instant",
		.opts = &snapshot_opts,
		.min_args = 1,
		.max_args = 2,
		.run = cmd_snapshot,
	},
	{
		.name = "status",
		.summary = "your named disks: device node and stable path",
		.opts = &status_opts,
		.max_args = 1,
		.run = cmd_status,
	},
	{
		.name = "features",
		.summary = "show what the kernel's ublk driver supports",
		.opts = &features_opts,
		.run = cmd_features,
	},
	{
		.name = "policy",
		.summary = "check the administrator's policy, show your limits",
		.opts = &policy_opts,
		.subcmds = policy_cmds,
	},
	{
		.name = "doctor",
		.summary = "check this system and say how to fix what is wrong",
		.opts = &doctor_opts,
		.run = cmd_doctor,
	},
	{
		.name = "gc",
		.summary = "remove the disks of containers that are gone",
		.opts = &gc_opts,
		.run = cmd_gc,
	},
	{
		.name = "help",
		.summary = "show this text, or a command's options",
		.opts = &help_opts,
		.max_args = 1,
		.run = cmd_help,
	},
	{
		.name = "version",
		.summary = "print the version",
		.opts = &version_opts,
		.run = cmd_version,
	},
	{ .name = "--help",
	  .opts = &help_opts,
	  .max_args = 1,
	  .flags = CLI_HIDDEN,
	  .run = cmd_help },
	{ .name = "-h",
	  .opts = &help_opts,
	  .max_args = 1,
	  .flags = CLI_HIDDEN,
	  .run = cmd_help },
	{ .name = "--version",
	  .opts = &version_opts,
	  .flags = CLI_HIDDEN,
	  .run = cmd_version },
	{ 0 },
};
