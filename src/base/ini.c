// SPDX-License-Identifier: MIT
/* Lines of INI-style files, and reading a file whole with a size limit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/ini.h"

bool ini_trim_copy(const char *s, size_t n, char *out, size_t len)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n >= len)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

/*
 * A '#' or ';' after a blank, past the line's start: a comment after a
 * value or a header.  Refused rather than taken as part of the value:
 * "dirs = /srv # shared" would otherwise name a directory that does
 * not exist, and a policy would allow nothing without saying why.
 */
static bool has_trailing_comment(const char *text)
{
	const char *p;

	for (p = text + 1; *p; p++)
		if ((*p == '#' || *p == ';') && (p[-1] == ' ' || p[-1] == '\t'))
			return true;
	return false;
}

bool ini_next(const char *buf, size_t len, size_t *pos, struct ini_line *l)
{
	const char *p, *nl;
	size_t n;

	while (*pos < len) {
		p = buf + *pos;
		l->lineno++;
		nl = memchr(p, '\n', len - *pos);
		n = nl ? (size_t)(nl - p) : len - *pos;
		*pos += n + (nl ? 1 : 0);
		l->bad = NULL;
		l->text[0] = '\0';
		if (memchr(p, '\0', n)) {
			l->kind = INI_BAD;
			l->bad = "a NUL byte (not a text file?)";
			return true;
		}
		if (!ini_trim_copy(p, n, l->text, sizeof(l->text))) {
			l->kind = INI_BAD;
			l->bad = "line longer than 4095 bytes";
			return true;
		}
		if (!l->text[0] || l->text[0] == '#' || l->text[0] == ';')
			continue;
		if (has_trailing_comment(l->text)) {
			l->kind = INI_BAD;
			l->bad = "a comment after a value: put it on a line of "
				 "its own";
			return true;
		}
		l->kind = l->text[0] == '[' ? INI_SECTION : INI_KEY;
		return true;
	}
	return false;
}

bool ini_split(const char *line, char *key, size_t klen, char *value,
	       size_t vlen)
{
	const char *eq = strchr(line, '=');

	if (!eq)
		return false;
	return ini_trim_copy(line, eq - line, key, klen) &&
	       ini_trim_copy(eq + 1, strlen(eq + 1), value, vlen);
}

int ini_read_fd(int fd, const char *what, size_t max, char **out,
		size_t *out_len, struct uerr *err)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nb;
	ssize_t n;

	if (!buf)
		return uerr_sys(err, ENOMEM, "%s", what);
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max + 1) {
				free(buf);
				return uerr_set(err, EFBIG,
						"%s: larger than %zu bytes: "
						"refused",
						what, max);
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return uerr_sys(err, ENOMEM, "%s", what);
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			return uerr_sys(err, e, "%s: cannot read", what);
		}
		if (n == 0)
			break;
		len += n;
	}
	if (len > max) {
		free(buf);
		return uerr_set(err, EFBIG,
				"%s: larger than %zu bytes: refused", what,
				max);
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}
