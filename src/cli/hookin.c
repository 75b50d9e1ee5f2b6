// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "base/json.h"
#include "cli/hookin.h"

#define HOOKIN_MAX (PATH_MAX + ANNOT_URI_MAX + 1024)

/* All of stdin (at most HOOKIN_MAX bytes), then /dev/null in its place */
static int read_stdin(char *buf, size_t cap, size_t *len, struct uerr *err)
{
	size_t got = 0;
	ssize_t n;
	char more;
	int fd;

	for (;;) {
		/* Full: only the end of stdin may follow. */
		if (got == cap)
			n = read(0, &more, 1);
		else
			n = read(0, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return uerr_sys(err, errno, "cannot read stdin");
		if (n == 0)
			break;
		if (got == cap)
			return uerr_set(err, EFBIG,
					"stdin: more than %zu bytes", cap);
		got += n;
	}
	*len = got;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0)
		return uerr_sys(err, errno, "/dev/null");
	close(fd);
	return 0;
}

int hookin_read_add(struct hookin_add *req, struct uerr *err)
{
	const struct ujson_where w = { .src = "stdin" };
	char text[HOOKIN_MAX], canon[37];
	json_object *o = NULL;
	size_t len;
	uuid_t u;
	int ret;

	req->file[0] = '\0';
	req->uri[0] = '\0';
	ret = read_stdin(text, sizeof(text), &len, err);
	if (ret == 0)
		ret = ujson_parse(text, len, "stdin", &o, err);
	if (ret < 0)
		return ret;
	if (!json_object_is_type(o, json_type_object))
		ret = uerr_set(err, EINVAL, "stdin: not a JSON object");
	if (ret == 0)
		ret = ujson_str(o, "uuid", UJSON_REQUIRED, req->uuid,
				sizeof(req->uuid), &w, err);
	/* Both optional: absent is 1 */
	if (ret == 0)
		ret = ujson_str(o, "file", UJSON_NONEMPTY, req->file,
				sizeof(req->file), &w, err);
	if (ret >= 0)
		ret = ujson_str(o, "uri", UJSON_NONEMPTY, req->uri,
				sizeof(req->uri), &w, err);
	json_object_put(o);
	if (ret < 0)
		return ret;
	/* Canonical: it is compared as text, and as the kernel's tag. */
	if (uuid_parse(req->uuid, u) < 0 || uuid_is_null(u) ||
	    (uuid_unparse_lower(u, canon), strcmp(canon, req->uuid)))
		return uerr_set(err, EINVAL, "stdin: uuid \"%s\" is not a uuid",
				req->uuid);
	if (req->file[0] && req->file[0] != '/')
		return uerr_set(err, EINVAL,
				"stdin: file is not an absolute path");
	if (req->file[0] && req->uri[0])
		return uerr_set(err, EINVAL,
				"stdin: a disk has a file or a uri, not both");
	return 0;
}

int hookin_read_key(char key[CTRREC_KEY_LEN + 1], struct uerr *err)
{
	char text[CTRREC_KEY_LEN + 2]; /* the key, a newline, a NUL */
	size_t len;
	int ret;

	ret = read_stdin(text, sizeof(text) - 1, &len, err);
	if (ret < 0)
		return ret;
	if (len && text[len - 1] == '\n')
		len--;
	text[len] = '\0';
	if (!ctrrec_key_ok(text))
		return uerr_set(err, EINVAL,
				"stdin: not a container record key");
	memcpy(key, text, CTRREC_KEY_LEN + 1);
	return 0;
}
