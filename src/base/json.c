// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"

int json_parse_strict(const char *text, size_t len, const char *what,
		      json_object **out, struct uerr *err)
{
	struct json_tokener *tok;
	json_object *o;
	size_t end;

	*out = NULL;
	if (len > INT32_MAX)
		return uerr_set(err, EFBIG, "%s is too large", what);
	tok = json_tokener_new();
	if (!tok)
		return uerr_sys(err, ENOMEM, "%s", what);
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (!o) {
		uerr_set(err, EINVAL, "%s is not valid JSON (%s at byte %zu)",
			 what,
			 json_tokener_error_desc(json_tokener_get_error(tok)),
			 json_tokener_get_parse_end(tok));
		json_tokener_free(tok);
		return -EINVAL;
	}
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	for (; end < len; end++) {
		if (!isspace((unsigned char)text[end])) {
			json_object_put(o);
			return uerr_set(err, EINVAL,
					"%s has data after its JSON value "
					"(byte "
					"%zu)",
					what, end);
		}
	}
	*out = o;
	return 0;
}

int json_read_file(const char *path, size_t max_len, json_object **out,
		   struct uerr *err)
{
	char *buf;
	size_t got = 0;
	ssize_t n;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return uerr_sys(err, errno, "cannot open %s", path);
	buf = malloc(max_len + 1);
	if (!buf) {
		close(fd);
		return uerr_sys(err, ENOMEM, "%s", path);
	}
	while (got <= max_len) {
		n = read(fd, buf + got, max_len + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = uerr_sys(err, errno, "cannot read %s", path);
			goto out;
		}
		if (n == 0)
			break;
		got += n;
	}
	if (got > max_len) {
		ret = uerr_set(err, EFBIG, "%s is larger than %zu bytes", path,
			       max_len);
		goto out;
	}
	ret = json_parse_strict(buf, got, path, out, err);
out:
	free(buf);
	close(fd);
	return ret;
}

int json_write_file(const char *path, json_object *o, struct uerr *err)
{
	char tmp[PATH_MAX + 8];
	const char *text;
	size_t len;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	text = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return uerr_sys(err, errno, "cannot write %s", tmp);
	errno = 0;
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) < 0) {
		uerr_sys(err, errno ? errno : EIO, "cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		return -err->code;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		uerr_sys(err, errno, "cannot rename %s", tmp);
		unlink(tmp);
		return -err->code;
	}
	return 0;
}
