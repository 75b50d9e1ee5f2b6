// SPDX-License-Identifier: MIT
/*
 * The TAP helper itself: each scenario runs in a fresh copy of this
 * program (argv[1] names it), and the parent checks what it printed and
 * its exit status.  A test suite whose failures do not fail is worse than
 * none, so this checks exactly that.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

/* --- the scenarios, run in the child ---------------------------------- */

static int scenario(const char *name)
{
	if (!strcmp(name, "pass")) {
		plan(4);
		ok(1, "one");
		is_int(-2, -2, "two");
		is_u64(1ULL << 63, 1ULL << 63, "three");
		is_str("x", "x", "four");
	} else if (!strcmp(name, "fail")) {
		plan(3);
		ok(0, "bad");
		is_int(1, 2, "number");
		ok(1, "good");
	} else if (!strcmp(name, "plan-short")) {
		plan(2);
		ok(1, "only one");
	} else if (!strcmp(name, "plan-long")) {
		plan(1);
		ok(1, "one");
		ok(1, "two");
	} else if (!strcmp(name, "no-plan")) {
		ok(1, "a");
		ok(1, "b");
	} else if (!strcmp(name, "escape")) {
		ok(1, "a # TODO b\nc");
	} else if (!strcmp(name, "strings")) {
		/* the even ones and the last one fail: 6 failures */
		is_str(NULL, NULL, "null null");
		is_str(NULL, "x", "null x");
		contains("hello world", "o w", "contains");
		contains("hello", "xyz", "does not contain");
		lacks("hello", "xyz", "lacks");
		lacks("hello", "ell", "does not lack");
		like("size 64K", "^size [0-9]+K$", "like");
		like("size 64K", "^[0-9]", "not like");
		unlike("abc", "^b", "unlike");
		contains(NULL, "x", "NULL contains nothing");
		is_u64(0x10, 0x20, "u64");
	} else if (!strcmp(name, "bail")) {
		ok(1, "before");
		bail_out("giving up: %d", 42);
	} else if (!strcmp(name, "diag")) {
		note("to stdout\nsecond");
		diag("to stderr");
	} else {
		return 99;
	}
	return done_testing();
}

/* --- the parent ------------------------------------------------------- */

struct run {
	int status; /* exit status, or -1 */
	char out[8192];
	char err[8192];
};

static void slurp(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	close(fd);
}

static void run_scenario(const char *self, const char *name, struct run *r)
{
	int out[2], err[2], st;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (pipe(out) || pipe(err))
		bail_out("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		bail_out("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		execl(self, self, name, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	/* stderr is small: read stdout first, then stderr */
	slurp(out[0], r->out, sizeof(r->out));
	slurp(err[0], r->err, sizeof(r->err));
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st))
		r->status = WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
	const char *self = "/proc/self/exe";
	char path[4096];
	struct run r;
	ssize_t n;

	if (argc > 1)
		return scenario(argv[1]);

	/* /proc/self/exe would name the child itself after exec: resolve */
	n = readlink(self, path, sizeof(path) - 1);
	if (n < 0)
		bail_out("readlink %s: %s", self, strerror(errno));
	path[n] = '\0';

	run_scenario(path, "pass", &r);
	is_int(r.status, 0, "all passing: exit 0");
	is_str(r.out,
	       "1..4\nok 1 - one\nok 2 - two\nok 3 - three\nok 4 - four\n",
	       "all passing: the plan, then one line per test");
	is_str(r.err, "", "all passing: nothing on stderr");

	run_scenario(path, "fail", &r);
	is_int(r.status, 2, "two failures: exit 2");
	contains(r.out,
		 "1..3\nnot ok 1 - bad\nnot ok 2 - number\nok 3 - good\n",
		 "failures are 'not ok', the rest 'ok'");
	contains(r.err, "# ", "diagnostics are comments");
	like(r.err, "Failed test 'bad'\n#[^\n]*tap_self.c line [0-9]+",
	     "a failure names its file and line");
	contains(r.err, "#          got: 1\n#     expected: 2",
		 "is_int shows both numbers");
	contains(r.err, "failed 2 tests of 3", "the summary counts failures");

	run_scenario(path, "plan-short", &r);
	is_int(r.status, 255, "fewer tests than planned: exit 255");
	contains(r.err, "planned 2 tests but ran 1", "and says so");

	run_scenario(path, "plan-long", &r);
	is_int(r.status, 255, "more tests than planned: exit 255");
	contains(r.err, "planned 1 test but ran 2", "and says so");

	run_scenario(path, "no-plan", &r);
	is_int(r.status, 0, "without plan(): exit 0");
	is_str(r.out, "ok 1 - a\nok 2 - b\n1..2\n",
	       "done_testing() prints the plan at the end");

	run_scenario(path, "escape", &r);
	is_str(r.out, "ok 1 - a \\# TODO b c\n1..1\n",
	       "'#' is escaped and a newline cannot split the line");

	run_scenario(path, "strings", &r);
	is_int(r.status, 6, "strings: exactly the 6 wrong ones fail");
	like(r.out,
	     "^ok 1 [^\n]*\nnot ok 2 [^\n]*\nok 3 [^\n]*\nnot ok 4 [^\n]*\n"
	     "ok 5 [^\n]*\nnot ok 6 [^\n]*\nok 7 [^\n]*\nnot ok 8 [^\n]*\n"
	     "ok 9 [^\n]*\nnot ok 10 [^\n]*\nnot ok 11 ",
	     "strings: pass and fail where they should");
	contains(r.err, "got: NULL\n#     expected: 'x'", "NULL is shown");
	contains(r.err, "'hello'\n#     does not contain 'xyz'",
		 "contains shows the text");
	contains(r.err, "does not match /^[0-9]/", "like shows the pattern");
	contains(r.err, "got: 16 (0x10)\n#     expected: 32 (0x20)",
		 "is_u64 shows decimal and hex");

	run_scenario(path, "bail", &r);
	is_int(r.status, 255, "bail_out: exit 255");
	is_str(r.out, "ok 1 - before\nBail out! giving up: 42\n",
	       "bail_out prints 'Bail out!' and the reason");

	run_scenario(path, "diag", &r);
	is_str(r.out, "# to stdout\n# second\n1..0\n",
	       "note: one '#' per line, on stdout");
	is_str(r.err, "# to stderr\n", "diag: on stderr");

	return done_testing();
}
