/* SPDX-License-Identifier: MIT */
/*
 * Errors travel up with context, in the style of libcrun: a function that
 * fails fills a struct uerr and returns a negative value; callers may add
 * context in front; only main() prints and picks the exit status.
 */
#ifndef UBLK_USER_ERR_H
#define UBLK_USER_ERR_H

#include <stdarg.h>

struct uerr {
	int code; /* errno-style, 0 when none */
	char msg[1024];
};

/* Set the error; returns -1 (or -code when code > 0) for "return uerr_set" */
int uerr_set(struct uerr *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like uerr_set, and append ": strerror(code)" */
int uerr_sys(struct uerr *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Put "context: " in front of the message already there */
int uerr_prefix(struct uerr *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void uerr_clear(struct uerr *err);

#endif
