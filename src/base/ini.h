/* SPDX-License-Identifier: MIT */
/*
 * The lines of the INI-style files ublk-user reads (the policy, disk
 * files): "key = value", "[section]", whole-line comments starting with
 * '#' or ';', blank lines.  Line splitting and trimming only: what the
 * keys mean is the caller's.
 */
#ifndef UBLK_USER_INI_H
#define UBLK_USER_INI_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define INI_LINE_MAX 4096 /* bytes of one line, with the NUL */

enum ini_kind {
	INI_KEY,     /* text holds "key = value" (or no '=': the caller says) */
	INI_SECTION, /* text starts with '[' */
	INI_BAD,     /* bad says why: a NUL byte, too long, a comment after
		      * a value */
};

struct ini_line {
	unsigned int lineno; /* from 1 */
	enum ini_kind kind;
	const char *bad;
	char text[INI_LINE_MAX]; /* trimmed */
};

/*
 * The next line of buf (len bytes, need not end in NUL) that is not blank
 * or a comment, from *pos on; l->lineno counts from 0 in a zeroed l.
 * false at the end.
 */
bool ini_next(const char *buf, size_t len, size_t *pos, struct ini_line *l);

/* Copy s[0..n) without blanks at either end; false when it does not fit */
bool ini_trim_copy(const char *s, size_t n, char *out, size_t len);

/* Split "key = value" into trimmed parts; false when there is no '=' */
bool ini_split(const char *line, char *key, size_t klen, char *value,
	       size_t vlen);

/*
 * Read all of fd, at most max bytes, into *buf (malloc'd, NUL added) and
 * *len; what names the file in messages.  -EFBIG when larger.
 */
int ini_read_fd(int fd, const char *what, size_t max, char **buf, size_t *len,
		struct uerr *err);

#endif
