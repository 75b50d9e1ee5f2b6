// SPDX-License-Identifier: MIT
/* ublk-user: unprivileged ublk block devices for users and containers. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "host/caps.h"

#ifndef UBLK_USER_VERSION
#define UBLK_USER_VERSION "0.0.0"
#endif

const char *prog_name = "ublk-user";

static const char usage[] =
	"Usage: ublk-user COMMAND [OPTIONS]\n"
	"\n"
	"Userspace block devices (ublk) for unprivileged users.\n"
	"\n"
	"Commands:\n"
	"  add       create a device and start its server\n"
	"  list      show the devices you can see\n"
	"  del       stop and delete devices\n"
	"  features  show what the kernel's ublk driver supports\n"
	"  policy    check the administrator's policy, show your limits\n"
	"  doctor    check this system and say how to fix what is wrong\n"
	"  gc        remove the disks of containers that are gone\n"
	"  help      show this text\n"
	"\n"
	"Run 'ublk-user COMMAND --help' for a command's options, and see\n"
	"ublk-user(1).  Exit status: 0 success, 1 failure, 2 usage error.\n";

void cli_error(const struct uerr *err)
{
	fprintf(stderr, "%s: %s\n", prog_name,
		err->msg[0] ? err->msg : "unknown error");
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", prog_name, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help'.\n", prog_name, cmd);
	return EXIT_USAGE;
}

const char *cli_opt_name(char **argv)
{
	static char name[64];
	const char *word = argv[optind - 1];

	/*
	 * getopt leaves optind on a group ("-xa") until its last letter, so
	 * the word is only the option itself for long options.
	 */
	if (!optopt || !strncmp(word, "--", 2))
		return word;
	snprintf(name, sizeof(name), "-%c", optopt);
	return name;
}

int cli_json_opts(int argc, char **argv, const char *cmd, const char *help,
		  bool *json)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*json = false;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error(cmd, "unknown option %s",
					       cli_opt_name(argv));
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	return -1;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "add", cmd_add },	  { "list", cmd_list },
		{ "del", cmd_del },	  { "features", cmd_features },
		{ "policy", cmd_policy }, { "doctor", cmd_doctor },
		{ "gc", cmd_gc },
	};
	struct uerr err;
	unsigned int i;

	uerr_clear(&err);
	if (caps_startup(&err) < 0) {
		cli_error(&err);
		return EXIT_FAIL;
	}
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("ublk-user %s\n", UBLK_USER_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'\n\n%s", prog_name, argv[1],
		usage);
	return EXIT_USAGE;
}
