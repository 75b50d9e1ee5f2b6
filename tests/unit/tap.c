// SPDX-License-Identifier: MIT
/* The TAP producer behind tap.h. */
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static int planned = -1;
static int run;
static int failed;

void plan(int n)
{
	if (planned >= 0 || run)
		bail_out("plan() called twice, or after the first test");
	planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

/* Each line of text as a "# " comment on f. */
static void comment(FILE *f, const char *text)
{
	const char *nl;

	do {
		nl = strchr(text, '\n');
		fprintf(f, "# %.*s\n",
			nl ? (int)(nl - text) : (int)strlen(text), text);
		text = nl ? nl + 1 : NULL;
	} while (text && *text);
}

static void vcomment(FILE *f, const char *fmt, va_list ap)
{
	char buf[4096];

	fflush(stdout);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	comment(f, buf);
	fflush(f);
}

void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcomment(stderr, fmt, ap);
	va_end(ap);
}

void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcomment(stdout, fmt, ap);
	va_end(ap);
}

void bail_out(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("Bail out! %s\n", buf);
	fflush(stdout);
	exit(255);
}

/*
 * One result line.  A description must stay on its line and must not
 * start a directive, so newlines become spaces and '#' is escaped.
 */
static int result(const char *file, int line, int pass, const char *fmt,
		  va_list ap)
{
	char desc[1024];
	const char *p;

	vsnprintf(desc, sizeof(desc), fmt, ap);
	run++;
	if (!pass)
		failed++;
	printf("%sok %d", pass ? "" : "not ", run);
	if (desc[0]) {
		fputs(" - ", stdout);
		for (p = desc; *p; p++) {
			if (*p == '#')
				putchar('\\');
			putchar(*p == '\n' ? ' ' : *p);
		}
	}
	putchar('\n');
	fflush(stdout);
	if (!pass) {
		if (desc[0])
			diag("  Failed test '%s'\n  at %s line %d.", desc, file,
			     line);
		else
			diag("  Failed test at %s line %d.", file, line);
	}
	return pass;
}

int tap_ok(const char *file, int line, int pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pass = result(file, line, pass, fmt, ap);
	va_end(ap);
	return pass;
}

int tap_is_int(const char *file, int line, long long got, long long want,
	       const char *fmt, ...)
{
	va_list ap;
	int pass;

	va_start(ap, fmt);
	pass = result(file, line, got == want, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("         got: %lld\n    expected: %lld", got, want);
	return pass;
}

int tap_is_u64(const char *file, int line, uint64_t got, uint64_t want,
	       const char *fmt, ...)
{
	va_list ap;
	int pass;

	va_start(ap, fmt);
	pass = result(file, line, got == want, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("         got: %" PRIu64 " (0x%" PRIx64 ")\n"
		     "    expected: %" PRIu64 " (0x%" PRIx64 ")",
		     got, got, want, want);
	return pass;
}

/* A string for a diagnostic: quoted, or NULL */
static void show(char *buf, size_t len, const char *s)
{
	if (s)
		snprintf(buf, len, "'%s'", s);
	else
		snprintf(buf, len, "NULL");
}

int tap_is_str(const char *file, int line, const char *got, const char *want,
	       const char *fmt, ...)
{
	char g[2048], w[2048];
	va_list ap;
	int pass;

	va_start(ap, fmt);
	pass = result(file, line,
		      (!got && !want) || (got && want && !strcmp(got, want)),
		      fmt, ap);
	va_end(ap);
	if (!pass) {
		show(g, sizeof(g), got);
		show(w, sizeof(w), want);
		diag("         got: %s\n    expected: %s", g, w);
	}
	return pass;
}

int tap_contains(const char *file, int line, const char *got, const char *want,
		 int expect, const char *fmt, ...)
{
	char g[2048];
	va_list ap;
	int pass;

	va_start(ap, fmt);
	pass = result(file, line,
		      got && want && (strstr(got, want) != NULL) == !!expect,
		      fmt, ap);
	va_end(ap);
	if (!pass) {
		show(g, sizeof(g), got);
		diag("    %s\n    %s '%s'", g,
		     expect ? "does not contain" : "contains",
		     want ? want : "(NULL)");
	}
	return pass;
}

int tap_like(const char *file, int line, const char *got, const char *re,
	     int expect, const char *fmt, ...)
{
	char g[2048], why[256] = "";
	regex_t rx;
	va_list ap;
	int pass = 0, rc;

	rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		regerror(rc, &rx, why, sizeof(why));
	} else {
		if (got)
			pass = !regexec(&rx, got, 0, NULL, 0) == !!expect;
		regfree(&rx);
	}
	va_start(ap, fmt);
	pass = result(file, line, pass, fmt, ap);
	va_end(ap);
	if (!pass) {
		show(g, sizeof(g), got);
		if (why[0])
			diag("    bad regular expression /%s/: %s", re, why);
		else
			diag("    %s\n    %s /%s/", g,
			     expect ? "does not match" : "matches", re);
	}
	return pass;
}

int done_testing(void)
{
	if (planned < 0) {
		planned = run;
		printf("1..%d\n", run);
	}
	fflush(stdout);
	if (run != planned) {
		diag("Looks like you planned %d test%s but ran %d.", planned,
		     planned == 1 ? "" : "s", run);
		return 255;
	}
	if (failed) {
		diag("Looks like you failed %d test%s of %d.", failed,
		     failed == 1 ? "" : "s", run);
		return failed < 254 ? failed : 254;
	}
	return 0;
}
