// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "base/json.h"
#include "cli/hookin.h"

#define HOOKIN_MAX (PATH_MAX + 1024)

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

static int get_string(json_object *o, const char *key, char *buf, size_t len,
		      bool needed, struct uerr *err)
{
	json_object *v;

	buf[0] = '\0';
	if (!json_object_object_get_ex(o, key, &v))
		return needed ? uerr_set(err, EINVAL, "stdin: no \"%s\"", key) :
				0;
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) >= len ||
	    strlen(json_object_get_string(v)) !=
		    (size_t)json_object_get_string_len(v))
		return uerr_set(err, EINVAL,
				"stdin: \"%s\" is not a string of at most %zu "
				"bytes",
				key, len - 1);
	snprintf(buf, len, "%s", json_object_get_string(v));
	return 0;
}

int hookin_read_add(struct hookin_add *req, struct uerr *err)
{
	char text[HOOKIN_MAX], canon[37];
	json_object *o = NULL;
	size_t len;
	uuid_t u;
	int ret;

	ret = read_stdin(text, sizeof(text), &len, err);
	if (ret == 0)
		ret = json_parse_strict(text, len, "stdin", &o, err);
	if (ret < 0)
		return ret;
	ret = -EINVAL;
	if (!json_object_is_type(o, json_type_object) ||
	    json_object_object_length(o) !=
		    1 + json_object_object_get_ex(o, "file", NULL)) {
		uerr_set(err, EINVAL,
			 "stdin: not an object of \"uuid\" and \"file\"");
		goto out;
	}
	if (get_string(o, "uuid", req->uuid, sizeof(req->uuid), true, err) <
		    0 ||
	    get_string(o, "file", req->file, sizeof(req->file), false, err) < 0)
		goto out;
	/* Canonical: it is compared as text, and as the kernel's tag. */
	if (uuid_parse(req->uuid, u) < 0 || uuid_is_null(u) ||
	    (uuid_unparse_lower(u, canon), strcmp(canon, req->uuid))) {
		uerr_set(err, EINVAL, "stdin: \"%s\" is not a uuid", req->uuid);
		goto out;
	}
	if (req->file[0] != '\0' && req->file[0] != '/') {
		uerr_set(err, EINVAL,
			 "stdin: \"file\" is not an absolute path");
		goto out;
	}
	ret = 0;
out:
	json_object_put(o);
	return ret;
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
