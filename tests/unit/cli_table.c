// SPDX-License-Identifier: MIT
/*
 * The command table of ublk-user (src/cli/commands.c) and the parser that
 * runs it (src/cli/parse.c): every command has a summary and a --help that
 * documents each of its options; help lists exactly the visible commands;
 * usage errors have one format and exit status 2.  Commands that would
 * touch the system are never run: only their usage errors are.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "cli/cli.h"

/* What a call printed and returned */
struct captured {
	int ret;
	char out[8192];
	char err[8192];
};

static void slurp(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Run fn(arg) with stdout and stderr going to files of their own */
static void capture(int (*fn)(void *), void *arg, struct captured *c)
{
	FILE *out = tmpfile(), *err = tmpfile();
	int saved_out, saved_err;

	if (!out || !err)
		bail_out("tmpfile failed");
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fileno(out), 1);
	dup2(fileno(err), 2);
	c->ret = fn(arg);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	slurp(out, c->out, sizeof(c->out));
	slurp(err, c->err, sizeof(c->err));
}

/* --- the table ------------------------------------------------------------ */

/* Each option of the command is named in its --help text */
static void check_options_documented(const struct cli_cmd *cmd,
				     const char *name)
{
	const struct cli_opts *o = cmd->opts;
	const struct option *lo;
	const char *s;
	char want[64];

	for (lo = o->longopts; lo && lo->name; lo++)
		;
	ok(!o->longopts || lo - o->longopts <= CLI_MAX_LONGOPTS,
	   "%s has at most CLI_MAX_LONGOPTS long options", name);
	for (lo = o->longopts; lo && lo->name; lo++) {
		snprintf(want, sizeof(want), "--%s", lo->name);
		contains(o->usage, want, "%s --help documents %s", name, want);
		ok(lo->val != 'h' && lo->val > 0 && !lo->flag,
		   "%s: %s has a letter of its own", name, want);
	}
	for (s = o->shortopts; s && *s; s++) {
		if (*s == ':')
			continue;
		snprintf(want, sizeof(want), "-%c,", *s);
		contains(o->usage, want, "%s --help documents -%c", name, *s);
		ok(*s != 'h', "%s: -%c is not -h (help's)", name, *s);
	}
}

static void check_rows(const struct cli_cmd *cmds, const char *parent)
{
	const struct cli_cmd *cmd, *other;
	char name[64], usage[96];

	for (cmd = cmds; cmd->name; cmd++) {
		snprintf(name, sizeof(name), "%s%s%s", parent ? parent : "",
			 parent ? " " : "", cmd->name);
		ok(cmd->opts && cmd->opts->usage, "%s has a --help text", name);
		if (!cmd->opts || !cmd->opts->usage)
			continue;
		ok(!cmd->run != !cmd->subcmds,
		   "%s runs, or has subcommands (not both)", name);
		ok(cmd->min_args <= cmd->max_args, "%s: min_args <= max_args",
		   name);
		for (other = cmds; other < cmd; other++)
			ok(strcmp(other->name, cmd->name),
			   "%s is in the table once", name);
		check_options_documented(cmd, name);
		if (cmd->subcmds)
			check_rows(cmd->subcmds, cmd->name);
		if (cmd->flags & CLI_HIDDEN)
			continue;
		ok(cmd->summary && cmd->summary[0] &&
			   !strchr(cmd->summary, '\n') &&
			   strlen(cmd->summary) <= 64,
		   "%s has a one-line summary for help", name);
		ok(strlen(cmd->name) <= 9, "%s fits help's column", name);
		snprintf(usage, sizeof(usage), "ublk-user %s", name);
		ok(!strncmp(cmd->opts->usage, "Usage: ", 7) &&
			   strstr(cmd->opts->usage, usage),
		   "%s --help starts with 'Usage:' and shows '%s'", name,
		   usage);
	}
}

static int print_help(void *arg)
{
	cli_print_help(stdout, arg);
	return 0;
}

static void check_help(void)
{
	const struct cli_cmd *cmd;
	struct captured c;
	char line[96];

	capture(print_help, (void *)cli_cmds, &c);
	like(c.out, "^Usage: ublk-user COMMAND", "help starts with the usage");
	for (cmd = cli_cmds; cmd->name; cmd++) {
		snprintf(line, sizeof(line), "\n  %-9s %s\n", cmd->name,
			 cmd->summary ? cmd->summary : "");
		if (cmd->flags & CLI_HIDDEN)
			lacks(c.out, line, "help does not list %s", cmd->name);
		else
			contains(c.out, line, "help lists %s with its summary",
				 cmd->name);
	}
	ok(cli_find(cli_cmds, "add") == &cli_cmds[0], "cli_find finds add");
	ok(!cli_find(cli_cmds, "ad"), "cli_find wants the whole name");
}

/* --- cli_main: finding the command ---------------------------------------- */

struct main_call {
	int argc;
	char *argv[12];
};

static int call_main(void *arg)
{
	struct main_call *m = arg;

	return cli_main(cli_cmds, m->argc, m->argv);
}

/* ublk-user ARGS... (at most 10): what it printed and its exit status */
static void run_main(struct captured *c, const char *const *args)
{
	struct main_call m = { .argv = { "ublk-user" } };

	for (m.argc = 1; args[m.argc - 1] && m.argc < 11; m.argc++)
		m.argv[m.argc] = (char *)args[m.argc - 1];
	m.argv[m.argc] = NULL;
	capture(call_main, &m, c);
}

#define RUN(c, ...) run_main(c, (const char *const[]){ __VA_ARGS__, NULL })

/* What --help prints: the usage, then what usage_more() adds (add: the
 * targets, which target-names.sh.t checks) */
static const char *help_text(const struct cli_opts *o)
{
	static char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	if (!f)
		bail_out("fmemopen failed");
	fputs(o->usage, f);
	if (o->usage_more)
		o->usage_more(f);
	fclose(f);
	return buf;
}

/* policy check|show: their --help and their usage errors */
static void check_subcmds(const struct cli_cmd *cmd)
{
	const struct cli_cmd *sub;
	struct captured c;
	char want[256];

	for (sub = cmd->subcmds; sub->name; sub++) {
		RUN(&c, cmd->name, sub->name, "--help");
		is_int(c.ret, EXIT_OK, "%s %s --help: exit 0", cmd->name,
		       sub->name);
		is_str(c.out, sub->opts->usage, "%s %s --help: its usage",
		       cmd->name, sub->name);
		RUN(&c, cmd->name, sub->name, "--no-such-option");
		snprintf(want, sizeof(want),
			 "ublk-user %s %s: unknown option --no-such-option\n"
			 "Try 'ublk-user %s %s --help'.\n",
			 cmd->name, sub->name, cmd->name, sub->name);
		is_str(c.err, want, "%s %s --no-such-option: named with both",
		       cmd->name, sub->name);
		is_int(c.ret, EXIT_USAGE, "%s %s --no-such-option: exit 2",
		       cmd->name, sub->name);
	}
}

static void check_main(void)
{
	const struct cli_cmd *cmd;
	struct captured c;
	char want[256];

	run_main(&c, (const char *const[]){ NULL });
	is_int(c.ret, EXIT_USAGE, "no command: exit 2");
	like(c.err, "^Usage: ublk-user COMMAND", "no command: help on stderr");
	is_str(c.out, "", "no command: nothing on stdout");

	RUN(&c, "frobnicate");
	is_int(c.ret, EXIT_USAGE, "an unknown command: exit 2");
	like(c.err, "^ublk-user: unknown command 'frobnicate'\n\nUsage: ",
	     "an unknown command: named, then the help, on stderr");
	is_str(c.out, "", "an unknown command: nothing on stdout");

	RUN(&c, "policy", "frob");
	is_int(c.ret, EXIT_USAGE, "an unknown subcommand: exit 2");
	is_str(c.err,
	       "ublk-user policy: unknown subcommand 'frob' (check, show)\n"
	       "Try 'ublk-user policy --help'.\n",
	       "an unknown subcommand: the ones there are, from the table");

	RUN(&c, "policy");
	is_int(c.ret, EXIT_USAGE, "policy alone: exit 2");
	like(c.err, "^Usage: ublk-user policy", "policy alone: its usage");

	for (cmd = cli_cmds; cmd->name; cmd++) {
		if (cmd->flags & CLI_HIDDEN)
			continue;
		RUN(&c, cmd->name, "--help");
		is_int(c.ret, EXIT_OK, "%s --help: exit 0", cmd->name);
		is_str(c.out, help_text(cmd->opts), "%s --help: its usage",
		       cmd->name);
		RUN(&c, "help", cmd->name);
		is_str(c.out, help_text(cmd->opts), "help %s: the same",
		       cmd->name);
		if (cmd->subcmds) {
			check_subcmds(cmd);
			continue;
		}
		/* Usage errors come before a command does anything. */
		RUN(&c, cmd->name, "--no-such-option");
		snprintf(want, sizeof(want),
			 "ublk-user %s: unknown option --no-such-option\n"
			 "Try 'ublk-user %s --help'.\n",
			 cmd->name, cmd->name);
		is_str(c.err, want, "%s --no-such-option: one line and a hint",
		       cmd->name);
		is_int(c.ret, EXIT_USAGE, "%s --no-such-option: exit 2",
		       cmd->name);
	}
	RUN(&c, "help", "frob");
	is_int(c.ret, EXIT_USAGE, "help frob: exit 2");
	like(c.err, "^ublk-user help: unknown command 'frob'\n",
	     "help frob: says so");
}

/* --- cli_next_opt: options and operands of a made-up command -------------- */

static const struct option fake_longopts[] = {
	{ "all", no_argument, NULL, 'a' },
	{ "name", required_argument, NULL, 'n' },
	{ 0 },
};

static const struct cli_opts fake_opts = {
	.usage = "Usage: ublk-user fake [-a] [-n NAME] ARG\n",
	.shortopts = "an:",
	.longopts = fake_longopts,
};

static char seen[256];

/* Records the options it gets: "a,n=x," and then the operands "|y|z" */
static int fake_run(struct cli_args *a)
{
	size_t n = 0;
	int c, i;

	seen[0] = '\0';
	while ((c = cli_next_opt(a)) > 0)
		n += snprintf(seen + n, sizeof(seen) - n, "%c%s%s,", c,
			      optarg && c == 'n' ? "=" : "",
			      optarg && c == 'n' ? optarg : "");
	if (c == CLI_EXIT)
		return a->status;
	for (i = 0; i < a->nargs; i++)
		n += snprintf(seen + n, sizeof(seen) - n, "|%s", a->args[i]);
	return 42;
}

static const struct cli_cmd fake_cmds[] = {
	{ .name = "fake",
	  .summary = "test",
	  .opts = &fake_opts,
	  .min_args = 1,
	  .max_args = 2,
	  .run = fake_run },
	{ .name = "first",
	  .summary = "test",
	  .opts = &fake_opts,
	  .max_args = CLI_ANY,
	  .flags = CLI_OPTIONS_FIRST,
	  .run = fake_run },
	{ 0 },
};

static int call_fake(void *arg)
{
	struct main_call *m = arg;

	return cli_main(fake_cmds, m->argc, m->argv);
}

static void run_fake(struct captured *c, const char *const *args)
{
	struct main_call m = { .argv = { "ublk-user" } };

	for (m.argc = 1; args[m.argc - 1] && m.argc < 11; m.argc++)
		m.argv[m.argc] = (char *)args[m.argc - 1];
	m.argv[m.argc] = NULL;
	capture(call_fake, &m, c);
}

#define FAKE(c, ...) run_fake(c, (const char *const[]){ __VA_ARGS__, NULL })

static void usage_error(const struct captured *c, const char *cmd,
			const char *msg, const char *what)
{
	char want[256];

	is_int(c->ret, EXIT_USAGE, "%s: exit 2", what);
	snprintf(want, sizeof(want),
		 "ublk-user %s: %s\nTry 'ublk-user %s "
		 "--help'.\n",
		 cmd, msg, cmd);
	is_str(c->err, want, "%s: the message and the hint", what);
	is_str(c->out, "", "%s: nothing on stdout", what);
}

static void check_parser(void)
{
	struct captured c;

	FAKE(&c, "fake", "-a", "x", "--name=n1", "-nn2", "--name", "n3");
	is_int(c.ret, 42, "options and an operand: the command runs");
	is_str(seen, "a,n=n1,n=n2,n=n3,|x",
	       "options in order with their values, operands after");

	FAKE(&c, "fake", "x", "y");
	is_int(c.ret, 42, "two operands: fine (max_args 2)");
	FAKE(&c, "fake", "x", "y", "z");
	usage_error(&c, "fake", "unexpected argument 'z'", "max_args + 1");
	FAKE(&c, "fake", "-a");
	usage_error(&c, "fake", "needs 1 argument, got 0", "min_args - 1");
	FAKE(&c, "fake", "-x", "y");
	usage_error(&c, "fake", "unknown option -x", "an unknown letter");
	FAKE(&c, "fake", "-ax", "y");
	usage_error(&c, "fake", "unknown option -x", "in a group");
	FAKE(&c, "fake", "--bogus=1", "y");
	usage_error(&c, "fake", "unknown option --bogus=1", "a long one");
	FAKE(&c, "fake", "y", "-n");
	usage_error(&c, "fake", "option -n needs a value", "-n without value");
	FAKE(&c, "fake", "y", "--name");
	usage_error(&c, "fake", "option --name needs a value",
		    "--name without value");

	FAKE(&c, "fake", "--help", "-x");
	is_int(c.ret, EXIT_OK, "--help first: exit 0");
	is_str(c.out, fake_opts.usage, "--help: the usage on stdout");
	is_str(c.err, "", "--help: nothing on stderr");
	FAKE(&c, "fake", "-h");
	is_str(c.out, fake_opts.usage, "-h: the same");

	FAKE(&c, "fake", "x", "-a");
	is_str(seen, "a,|x", "options may follow operands");
	FAKE(&c, "first", "-a", "x", "-a", "--", "-n");
	is_int(c.ret, 42, "CLI_OPTIONS_FIRST: runs");
	is_str(seen, "a,|x|-a|--|-n",
	       "CLI_OPTIONS_FIRST: options end at the first operand");
	FAKE(&c, "first", "--", "-a");
	is_str(seen, "|-a", "CLI_OPTIONS_FIRST: a leading -- ends them too");
}

int main(void)
{
	check_rows(cli_cmds, NULL);
	check_help();
	check_main();
	check_parser();
	return done_testing();
}
