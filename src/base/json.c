// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"

int ujson_parse(const char *text, size_t len, const char *what,
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
	/* Strict: no trailing commas, single-quoted values, leading zeros, NaN */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_ALLOW_TRAILING_CHARS);
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
					"(byte %zu)",
					what, end);
		}
	}
	*out = o;
	return 0;
}

int ujson_read_file(const char *path, size_t max_len, json_object **out,
		    struct uerr *err)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t n;
	int fd, ret;

	*out = NULL;
	/* O_NONBLOCK: a FIFO in the file's place must not hang the reader */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return uerr_sys(err, errno, "cannot open %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return uerr_set(err, EINVAL, "%s is not a regular file", path);
	}
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
	ret = ujson_parse(buf, got, path, out, err);
out:
	free(buf);
	close(fd);
	return ret;
}

int ujson_write_file(const char *path, json_object *o, struct uerr *err)
{
	char tmp[PATH_MAX + 8];
	const char *text;
	size_t len;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	text = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		return uerr_sys(err, ENOMEM, "cannot write %s", path);
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

const char *ujson_at(char *buf, size_t len, const struct ujson_where *w,
		     const char *key, long idx)
{
	const char *at = w->at ? w->at : "";

	if (idx < 0)
		snprintf(buf, len, "%s%s%s", at, at[0] ? "." : "", key);
	else
		snprintf(buf, len, "%s%s%s[%ld]", at, at[0] ? "." : "", key,
			 idx);
	return buf;
}

int ujson_bad(const struct ujson_where *w, const char *key, struct uerr *err,
	      const char *fmt, ...)
{
	char field[256], what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return uerr_set(err, EINVAL, "%s: %s %s", w->src,
			ujson_at(field, sizeof(field), w, key, -1), what);
}

static const char *type_said(json_type type)
{
	switch (type) {
	case json_type_string:
		return "a string";
	case json_type_int:
		return "an integer";
	case json_type_boolean:
		return "true or false";
	case json_type_array:
		return "an array";
	default:
		return "an object";
	}
}

/* o.key of this type in *v: 0; missing and optional: 1; else <0 */
static int lookup(json_object *o, const char *key, unsigned int flags,
		  json_type type, json_object **v, const struct ujson_where *w,
		  struct uerr *err)
{
	if (!json_object_is_type(o, json_type_object))
		return ujson_bad(w, key, err,
				 "is in something that is not an object");
	if (!json_object_object_get_ex(o, key, v))
		return flags & UJSON_REQUIRED ?
			       ujson_bad(w, key, err, "is missing") :
			       1;
	if (!json_object_is_type(*v, type))
		return ujson_bad(w, key, err, "is not %s", type_said(type));
	return 0;
}

int ujson_str(json_object *o, const char *key, unsigned int flags, char *buf,
	      size_t size, const struct ujson_where *w, struct uerr *err)
{
	json_object *v;
	const char *s;
	size_t len;
	int ret;

	ret = lookup(o, key, flags, json_type_string, &v, w, err);
	if (ret)
		return ret;
	s = json_object_get_string(v);
	len = json_object_get_string_len(v);
	if (strlen(s) != len)
		return ujson_bad(w, key, err, "holds a NUL character");
	if (len >= size)
		return ujson_bad(w, key, err, "is longer than %zu bytes",
				 size - 1);
	if (!len && (flags & UJSON_NONEMPTY))
		return ujson_bad(w, key, err, "is empty");
	memcpy(buf, s, len + 1);
	return 0;
}

/*
 * An integer as json-c keeps it: an int64 or, above INT64_MAX, a uint64;
 * what does not fit 64 bits saturates.  Its two readings (each clamped to
 * its type) and how it is written.
 */
struct integer {
	int64_t i;
	uint64_t u;
	const char *text;
};

static int get_integer(json_object *o, const char *key, unsigned int flags,
		       struct integer *n, const struct ujson_where *w,
		       struct uerr *err)
{
	json_object *v;
	int ret;

	ret = lookup(o, key, flags, json_type_int, &v, w, err);
	if (ret == 0) {
		n->i = json_object_get_int64(v);
		n->u = json_object_get_uint64(v);
		n->text = json_object_to_json_string(v);
	}
	return ret;
}

int ujson_int(json_object *o, const char *key, unsigned int flags, int64_t min,
	      int64_t max, int64_t *out, const struct ujson_where *w,
	      struct uerr *err)
{
	struct integer n;
	int ret;

	ret = get_integer(o, key, flags, &n, w, err);
	if (ret)
		return ret;
	if (n.i == INT64_MIN || n.i < min || n.i > max ||
	    (n.i >= 0 && n.u > INT64_MAX))
		return ujson_bad(w, key, err,
				 "is out of range (%s, not %" PRId64
				 "..%" PRId64 ")",
				 n.text, min, max);
	*out = n.i;
	return 0;
}

int ujson_u64(json_object *o, const char *key, unsigned int flags, uint64_t max,
	      uint64_t *out, const struct ujson_where *w, struct uerr *err)
{
	struct integer n;
	int ret;

	ret = get_integer(o, key, flags, &n, w, err);
	if (ret)
		return ret;
	if (n.i < 0 || n.u == UINT64_MAX || n.u > max)
		return ujson_bad(w, key, err,
				 "is out of range (%s, not 0..%" PRIu64 ")",
				 n.text, max);
	*out = n.u;
	return 0;
}

int ujson_bool(json_object *o, const char *key, unsigned int flags, bool *out,
	       const struct ujson_where *w, struct uerr *err)
{
	json_object *v;
	int ret;

	ret = lookup(o, key, flags, json_type_boolean, &v, w, err);
	if (ret == 0)
		*out = json_object_get_boolean(v);
	return ret;
}

int ujson_child(json_object *o, const char *key, unsigned int flags,
		json_type type, json_object **out, const struct ujson_where *w,
		struct uerr *err)
{
	return lookup(o, key, flags, type, out, w, err);
}

int ujson_array(json_object *o, const char *key, unsigned int flags, size_t max,
		json_object **out, const struct ujson_where *w,
		struct uerr *err)
{
	json_object *v = NULL;
	int ret;

	ret = ujson_child(o, key, flags, json_type_array, &v, w, err);
	if (ret)
		return ret;
	if (json_object_array_length(v) > max)
		return ujson_bad(w, key, err, "has more than %zu elements",
				 max);
	*out = v;
	return 0;
}

/*
 * Integers of the member's size, in and out.  Each member of the union
 * starts at its first byte, so this holds on either byte order.
 */
union int_bits {
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
};

static void store_int(void *p, size_t size, uint64_t v)
{
	union int_bits b;

	if (size == 1)
		b.u8 = v;
	else if (size == 2)
		b.u16 = v;
	else if (size == 4)
		b.u32 = v;
	else
		b.u64 = v;
	memcpy(p, &b, size);
}

/* The member's bits, zero-extended (or sign-extended when is_signed) */
static uint64_t load_int(const void *p, size_t size, bool is_signed)
{
	union int_bits b;
	uint64_t v;

	memcpy(&b, p, size);
	v = size == 1 ? b.u8 : size == 2 ? b.u16 : size == 4 ? b.u32 : b.u64;
	if (is_signed && size < 8 && (v >> (8 * size - 1)))
		v |= UINT64_MAX << (8 * size);
	return v;
}

/* The member's own range, so that a table can never truncate a value */
static void int_range(size_t size, int64_t *min, int64_t *max)
{
	int64_t hi = size >= 8 ? INT64_MAX : (INT64_C(1) << (8 * size - 1)) - 1;

	if (*max > hi)
		*max = hi;
	if (*min < -hi - 1)
		*min = -hi - 1;
}

static uint64_t uint_max(size_t size, uint64_t max)
{
	uint64_t hi = size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;

	return max < hi ? max : hi;
}

static int read_field(json_object *o, const struct ujson_field *f, void *rec,
		      const struct ujson_where *w, struct uerr *err)
{
	char *p = (char *)rec + f->offset;
	int64_t min = f->min, max = f->max, i;
	uint64_t u;
	bool b;
	int ret;

	switch (f->kind) {
	case UJSON_K_STR:
		return ujson_str(o, f->name, f->flags, p, f->size, w, err);
	case UJSON_K_INT:
		int_range(f->size, &min, &max);
		ret = ujson_int(o, f->name, f->flags, min, max, &i, w, err);
		if (ret == 0)
			store_int(p, f->size, (uint64_t)i);
		return ret;
	case UJSON_K_UINT:
		ret = ujson_u64(o, f->name, f->flags,
				uint_max(f->size, f->umax), &u, w, err);
		if (ret == 0)
			store_int(p, f->size, u);
		return ret;
	case UJSON_K_BOOL:
		ret = ujson_bool(o, f->name, f->flags, &b, w, err);
		if (ret == 0)
			memcpy(p, &b, sizeof(b));
		return ret;
	case UJSON_K_CUSTOM:
		return f->read(o, f, rec, w, err);
	}
	return ujson_bad(w, f->name, err, "has no known kind");
}

int ujson_read_fields(json_object *o, const struct ujson_field *f, size_t n,
		      void *rec, const struct ujson_where *w, struct uerr *err)
{
	size_t i;
	int ret;

	if (!json_object_is_type(o, json_type_object)) {
		if (w->at && w->at[0])
			return uerr_set(err, EINVAL,
					"%s: %s is not a JSON object", w->src,
					w->at);
		return uerr_set(err, EINVAL, "%s is not a JSON object", w->src);
	}
	for (i = 0; i < n; i++) {
		ret = read_field(o, &f[i], rec, w, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static json_object *field_value(const struct ujson_field *f, const void *rec)
{
	const char *p = (const char *)rec + f->offset;
	bool b;

	switch (f->kind) {
	case UJSON_K_STR:
		return json_object_new_string(p);
	case UJSON_K_INT:
		return json_object_new_int64(
			(int64_t)load_int(p, f->size, true));
	case UJSON_K_UINT:
		return json_object_new_uint64(load_int(p, f->size, false));
	case UJSON_K_BOOL:
		memcpy(&b, p, sizeof(b));
		return json_object_new_boolean(b);
	default:
		return NULL;
	}
}

/* "", 0 or false: what UJSON_OMITEMPTY leaves out */
static bool field_empty(const struct ujson_field *f, const char *p)
{
	bool b;

	switch (f->kind) {
	case UJSON_K_STR:
		return !p[0];
	case UJSON_K_INT:
	case UJSON_K_UINT:
		return !load_int(p, f->size, false);
	case UJSON_K_BOOL:
		memcpy(&b, p, sizeof(b));
		return !b;
	default:
		return false;
	}
}

json_object *ujson_new_object(const struct ujson_field *f, size_t n,
			      const void *rec)
{
	json_object *o = json_object_new_object();

	if (o && ujson_write_fields(o, f, n, rec) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int ujson_write_record(const char *path, const struct ujson_field *f, size_t n,
		       const void *rec, struct uerr *err)
{
	json_object *o = ujson_new_object(f, n, rec);
	int ret;

	if (!o)
		return uerr_sys(err, ENOMEM, "cannot write %s", path);
	ret = ujson_write_file(path, o, err);
	json_object_put(o);
	return ret;
}

int ujson_write_fields(json_object *o, const struct ujson_field *f, size_t n,
		       const void *rec)
{
	const char *p;
	json_object *v;
	size_t i;

	for (i = 0; i < n; i++) {
		if (f[i].kind == UJSON_K_CUSTOM) {
			if (f[i].write(o, &f[i], rec) < 0)
				return -ENOMEM;
			continue;
		}
		p = (const char *)rec + f[i].offset;
		if ((f[i].flags & UJSON_OMITEMPTY) && field_empty(&f[i], p))
			continue;
		v = field_value(&f[i], rec);
		if (!v || json_object_object_add(o, f[i].name, v) < 0) {
			json_object_put(v);
			return -ENOMEM;
		}
	}
	return 0;
}
