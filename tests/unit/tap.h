/* SPDX-License-Identifier: MIT */
/*
 * A small TAP producer for the unit tests (Test Anything Protocol, as
 * prove reads it).  Every check prints one "ok N - description" or
 * "not ok N - description" line; a failing check adds "#" diagnostics with
 * the file, the line and what was expected.
 *
 *	int main(void)
 *	{
 *		plan(2);		(optional: done_testing() prints it)
 *		ok(1 + 1 == 2, "arithmetic");
 *		is_str(name, "null", "target name");
 *		return done_testing();
 *	}
 *
 * done_testing() returns 0 only if every check passed and the number run
 * matches the plan: the number of failures (at most 254), or 255 when
 * the plan was wrong.
 */
#ifndef UBLK_USER_TAP_H
#define UBLK_USER_TAP_H

#include <stdint.h>

#define TAP_PRINTF(f, a) __attribute__((format(printf, f, a)))

void plan(int n);
/* The checks return their verdict (1 pass, 0 fail), so a test can stop. */
#define ok(cond, ...) tap_ok(__FILE__, __LINE__, !!(cond), __VA_ARGS__)
#define pass(...) tap_ok(__FILE__, __LINE__, 1, __VA_ARGS__)
#define fail(...) tap_ok(__FILE__, __LINE__, 0, __VA_ARGS__)
#define is_int(got, want, ...)                                              \
	tap_is_int(__FILE__, __LINE__, (long long)(got), (long long)(want), \
		   __VA_ARGS__)
#define is_u64(got, want, ...)                                            \
	tap_is_u64(__FILE__, __LINE__, (uint64_t)(got), (uint64_t)(want), \
		   __VA_ARGS__)
#define is_str(got, want, ...) \
	tap_is_str(__FILE__, __LINE__, (got), (want), __VA_ARGS__)
/* got contains the substring want */
#define contains(got, want, ...) \
	tap_contains(__FILE__, __LINE__, (got), (want), 1, __VA_ARGS__)
#define lacks(got, want, ...) \
	tap_contains(__FILE__, __LINE__, (got), (want), 0, __VA_ARGS__)
/* got matches the POSIX extended regular expression re */
#define like(got, re, ...) \
	tap_like(__FILE__, __LINE__, (got), (re), 1, __VA_ARGS__)
#define unlike(got, re, ...) \
	tap_like(__FILE__, __LINE__, (got), (re), 0, __VA_ARGS__)

/* "# ..." on stderr (diag) or stdout (note); one "#" per line */
void diag(const char *fmt, ...) TAP_PRINTF(1, 2);
void note(const char *fmt, ...) TAP_PRINTF(1, 2);
/* Stop the whole run: prove reports "Bail out!" and the reason. */
void bail_out(const char *fmt, ...) TAP_PRINTF(1, 2) __attribute__((noreturn));

/* Prints the plan if plan() was not called; the exit status for main. */
int done_testing(void);

int tap_ok(const char *file, int line, int pass, const char *fmt, ...)
	TAP_PRINTF(4, 5);
int tap_is_int(const char *file, int line, long long got, long long want,
	       const char *fmt, ...) TAP_PRINTF(5, 6);
int tap_is_u64(const char *file, int line, uint64_t got, uint64_t want,
	       const char *fmt, ...) TAP_PRINTF(5, 6);
int tap_is_str(const char *file, int line, const char *got, const char *want,
	       const char *fmt, ...) TAP_PRINTF(5, 6);
int tap_contains(const char *file, int line, const char *got, const char *want,
		 int expect, const char *fmt, ...) TAP_PRINTF(6, 7);
int tap_like(const char *file, int line, const char *got, const char *re,
	     int expect, const char *fmt, ...) TAP_PRINTF(6, 7);

#endif
