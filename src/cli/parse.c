// SPDX-License-Identifier: MIT
/*
 * From the command line to a command's run(): find the row in the table,
 * then hand the command its options one by one.  Everything a user can
 * get wrong about options and operands is said here, in one format.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

const char *prog_name = "ublk-user";

const struct option cli_json_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ 0 },
};

static const char help_head[] = "Usage: ublk-user COMMAND [OPTIONS]\n"
				"\n"
				"Userspace block devices (ublk) for "
				"unprivileged users.\n"
				"\n"
				"Commands:\n";

static const char help_tail[] = "\n"
				"Run 'ublk-user COMMAND --help' for a "
				"command's options, and see\n"
				"ublk-user(1).  Exit status: 0 success, 1 "
				"failure, 2 usage error,\n"
				"3 status: the disk is not up, 4 up: no such "
				"disk file, or it is invalid.\n";

void cli_error(const struct uerr *err)
{
	fprintf(stderr, "%s: %s\n", prog_name,
		err->msg[0] ? err->msg : "unknown error");
}

static int usage_error_v(const char *name, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s %s: ", prog_name, name);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry '%s %s --help'.\n", prog_name, name);
	return EXIT_USAGE;
}

static int usage_error(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int usage_error(const char *name, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = usage_error_v(name, fmt, ap);
	va_end(ap);
	return ret;
}

int cli_usage_error(const struct cli_args *a, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = usage_error_v(a->name, fmt, ap);
	va_end(ap);
	return ret;
}

const struct cli_cmd *cli_find(const struct cli_cmd *cmds, const char *name)
{
	for (; cmds->name; cmds++)
		if (!strcmp(cmds->name, name))
			return cmds;
	return NULL;
}

void cli_print_usage(FILE *f, const struct cli_opts *opts)
{
	fputs(opts->usage, f);
	if (opts->usage_more)
		opts->usage_more(f);
}

void cli_print_help(FILE *f, const struct cli_cmd *cmds)
{
	fputs(help_head, f);
	for (; cmds->name; cmds++)
		if (!(cmds->flags & CLI_HIDDEN))
			fprintf(f, "  %-9s %s\n", cmds->name, cmds->summary);
	fputs(help_tail, f);
}

/* "check, show" */
static const char *names_of(const struct cli_cmd *cmds, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; cmds->name && n < len; cmds++)
		if (!(cmds->flags & CLI_HIDDEN))
			n += snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
				      cmds->name);
	return buf;
}

/* getopt's strings for a command: its own options, -h and --help */
static void args_init(struct cli_args *a, const struct cli_cmd *cmd,
		      const char *parent, int argc, char **argv)
{
	const struct option *lo = cmd->opts->longopts;
	unsigned int n = 0;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	if (parent)
		snprintf(a->name, sizeof(a->name), "%s %s", parent, cmd->name);
	else
		snprintf(a->name, sizeof(a->name), "%s", cmd->name);
	a->argc = argc;
	a->argv = argv;
	/* ':' first: a missing value is ':', not '?' */
	snprintf(a->shortopts, sizeof(a->shortopts), "%s:%sh",
		 cmd->flags & CLI_OPTIONS_FIRST ? "+" : "",
		 cmd->opts->shortopts ? cmd->opts->shortopts : "");
	for (; lo && lo->name && n < CLI_MAX_LONGOPTS; lo++)
		a->longopts[n++] = *lo;
	a->longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	a->longopts[n] = (struct option){ 0 };
	/* optind 0: getopt starts again, also within a group ("-xa") */
	optind = 0;
	opterr = 0;
}

/* The option getopt just complained about, as the user wrote it */
static const char *bad_opt_name(const struct cli_args *a, char *buf, size_t len)
{
	const char *word = a->argv[optind - 1];

	/*
	 * getopt leaves optind on a group ("-xa") until its last letter, so
	 * the word is only the option itself for long options.
	 */
	if (!optopt || !strncmp(word, "--", 2))
		return word;
	snprintf(buf, len, "-%c", optopt);
	return buf;
}

/* After the options: as many operands as the table says */
static int check_operands(struct cli_args *a)
{
	const struct cli_cmd *cmd = a->cmd;
	unsigned int n;

	a->args = a->argv + optind;
	a->nargs = a->argc - optind;
	n = a->nargs;
	if (n > cmd->max_args)
		return usage_error(a->name, "unexpected argument '%s'",
				   a->args[cmd->max_args]);
	if (n < cmd->min_args)
		return usage_error(a->name, "needs %u argument%s, got %u",
				   cmd->min_args, cmd->min_args == 1 ? "" : "s",
				   n);
	return 0;
}

int cli_next_opt(struct cli_args *a)
{
	char name[8];
	int c;

	c = getopt_long(a->argc, a->argv, a->shortopts, a->longopts, NULL);
	switch (c) {
	case -1:
		a->status = check_operands(a);
		return a->status ? CLI_EXIT : CLI_DONE;
	case 'h':
		cli_print_usage(stdout, a->cmd->opts);
		a->status = EXIT_OK;
		return CLI_EXIT;
	case ':':
		a->status = usage_error(a->name, "option %s needs a value",
					bad_opt_name(a, name, sizeof(name)));
		return CLI_EXIT;
	case '?':
		a->status = usage_error(a->name, "unknown option %s",
					bad_opt_name(a, name, sizeof(name)));
		return CLI_EXIT;
	default:
		return c;
	}
}

/* NAME [SUBCOMMAND] ...: the row to run, or an exit status */
static int run_cmd(const struct cli_cmd *cmd, const char *parent, int argc,
		   char **argv)
{
	const struct cli_cmd *sub;
	struct cli_args a;
	char names[128];

	if (!cmd->subcmds) {
		args_init(&a, cmd, parent, argc, argv);
		return cmd->run(&a);
	}
	if (argc < 2) {
		cli_print_usage(stderr, cmd->opts);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		cli_print_usage(stdout, cmd->opts);
		return EXIT_OK;
	}
	sub = cli_find(cmd->subcmds, argv[1]);
	if (!sub)
		return usage_error(
			cmd->name, "unknown subcommand '%s' (%s)", argv[1],
			names_of(cmd->subcmds, names, sizeof(names)));
	return run_cmd(sub, cmd->name, argc - 1, argv + 1);
}

int cli_main(const struct cli_cmd *cmds, int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2) {
		cli_print_help(stderr, cmds);
		return EXIT_USAGE;
	}
	cmd = cli_find(cmds, argv[1]);
	if (!cmd) {
		fprintf(stderr, "%s: unknown command '%s'\n\n", prog_name,
			argv[1]);
		cli_print_help(stderr, cmds);
		return EXIT_USAGE;
	}
	return run_cmd(cmd, NULL, argc - 1, argv + 1);
}
