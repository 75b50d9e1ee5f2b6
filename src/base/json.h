/* SPDX-License-Identifier: MIT */
/*
 * The one JSON layer over json-c: strict parsing (one value, nothing but
 * white space after it), files written atomically, typed getters and field
 * tables for records.  Every error names the input and the field:
 *
 *   /run/user/1000/ublk-user/dev-3.json: server_pid is not an integer
 *   config.json: linux.uidMappings[0].hostID is missing
 *
 * Rules the getters share, whoever wrote the input:
 * - a field of the wrong JSON type is an error, never a default;
 * - integers are JSON integers (1.0 is not one), checked against a range
 *   before they are stored; json-c saturates numbers beyond 64 bits to
 *   INT64_MIN and UINT64_MAX, so those two are always out of range;
 * - strings must fit their buffer (no silent truncation) and must not hold
 *   a NUL (\u0000): C would see a shorter string than the one checked.
 *   Other bytes, UTF-8 or not, are kept as they are (file names are bytes);
 * - fields a reader does not know are ignored, so that a newer writer's
 *   records still read.
 * A missing field is an error when the field is UJSON_REQUIRED; otherwise
 * the getter returns 1 and leaves its output alone.
 */
#ifndef UBLK_USER_JSON_H
#define UBLK_USER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "base/err.h"

/* Parse text (len bytes); what names the input in messages. */
int ujson_parse(const char *text, size_t len, const char *what,
		json_object **out, struct uerr *err);
/*
 * Write o to path, mode 0600, through path.tmp, fsync and rename: a reader
 * sees the old file or the new one, never half of one.
 */
int ujson_write_file(const char *path, json_object *o, struct uerr *err);
/* Read at most max_len bytes of path (not through a symlink), strictly. */
int ujson_read_file(const char *path, size_t max_len, json_object **out,
		    struct uerr *err);

/* Where an object is, for messages: "SRC: AT.KEY ..." */
struct ujson_where {
	const char *src; /* the input: a file's path, "config.json" */
	const char *at;	 /* the object's place in it, "" or NULL at the top */
};

/* "AT.KEY[idx]" (idx < 0: no index) into buf, for a nested object */
const char *ujson_at(char *buf, size_t len, const struct ujson_where *w,
		     const char *key, long idx);
/* Fail with "SRC: AT.KEY <what fmt says>"; returns -EINVAL */
int ujson_bad(const struct ujson_where *w, const char *key, struct uerr *err,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Flags of a getter or a field */
#define UJSON_REQUIRED 0x1  /* missing is an error */
#define UJSON_NONEMPTY 0x2  /* a string must not be "" */
#define UJSON_OMITEMPTY 0x4 /* written only when not "", 0 or false */

/*
 * o.key into *out: 0 when it is there and good, 1 when it is missing and
 * not required, -EINVAL (message in err) otherwise.  o must be an object.
 */
int ujson_str(json_object *o, const char *key, unsigned int flags, char *buf,
	      size_t size, const struct ujson_where *w, struct uerr *err);
int ujson_int(json_object *o, const char *key, unsigned int flags, int64_t min,
	      int64_t max, int64_t *out, const struct ujson_where *w,
	      struct uerr *err);
int ujson_u64(json_object *o, const char *key, unsigned int flags, uint64_t max,
	      uint64_t *out, const struct ujson_where *w, struct uerr *err);
int ujson_bool(json_object *o, const char *key, unsigned int flags, bool *out,
	       const struct ujson_where *w, struct uerr *err);
/* An object or array (type) inside o, borrowed from o */
int ujson_child(json_object *o, const char *key, unsigned int flags,
		json_type type, json_object **out, const struct ujson_where *w,
		struct uerr *err);
/* An array of at most max elements */
int ujson_array(json_object *o, const char *key, unsigned int flags, size_t max,
		json_object **out, const struct ujson_where *w,
		struct uerr *err);

/*
 * Field tables: a record type declares its fields once, and reading,
 * writing and the checks follow from the table.  Declare fields with the
 * UJSON_F_* macros below; they check at compile time that the member has
 * the type the field says.
 */
enum ujson_kind {
	UJSON_K_STR,	/* char array */
	UJSON_K_INT,	/* signed integer, min..max */
	UJSON_K_UINT,	/* unsigned integer, 0..umax */
	UJSON_K_BOOL,	/* bool */
	UJSON_K_CUSTOM, /* read and write below */
};

struct ujson_field;
/* A custom field: read o's field into rec; add it to o (0 or -ENOMEM) */
typedef int (*ujson_read_fn)(json_object *o, const struct ujson_field *f,
			     void *rec, const struct ujson_where *w,
			     struct uerr *err);
typedef int (*ujson_write_fn)(json_object *o, const struct ujson_field *f,
			      const void *rec);

struct ujson_field {
	const char *name;
	enum ujson_kind kind;
	unsigned int flags;
	size_t offset, size; /* of the member in the record */
	int64_t min, max;    /* UJSON_K_INT */
	uint64_t umax;	     /* UJSON_K_UINT */
	ujson_read_fn read;  /* UJSON_K_CUSTOM */
	ujson_write_fn write;
};

/*
 * The member's size, where the member has the type the field says;
 * anything else does not compile.
 */
// clang-format off
#define UJSON_MEMBER_(T, m) (((T *)0)->m)
#define UJSON_STR_SIZE_(T, m)						\
	_Generic(&UJSON_MEMBER_(T, m),					\
		 char (*)[sizeof(UJSON_MEMBER_(T, m))]:			\
			sizeof(UJSON_MEMBER_(T, m)))
#define UJSON_INT_SIZE_(T, m)						\
	_Generic(UJSON_MEMBER_(T, m),					\
		 signed char: 1, short: sizeof(short), int: sizeof(int), \
		 long: sizeof(long), long long: sizeof(long long))
#define UJSON_UINT_SIZE_(T, m)						\
	_Generic(UJSON_MEMBER_(T, m),					\
		 unsigned char: 1, unsigned short: sizeof(short),	\
		 unsigned int: sizeof(int), unsigned long: sizeof(long), \
		 unsigned long long: sizeof(long long))
#define UJSON_BOOL_SIZE_(T, m)						\
	_Generic(UJSON_MEMBER_(T, m), bool: sizeof(bool))

#define UJSON_F_STR(T, m, name_, flags_)				\
	{ .name = (name_), .kind = UJSON_K_STR, .flags = (flags_),	\
	  .offset = offsetof(T, m), .size = UJSON_STR_SIZE_(T, m) }
#define UJSON_F_INT(T, m, name_, flags_, min_, max_)			\
	{ .name = (name_), .kind = UJSON_K_INT, .flags = (flags_),	\
	  .offset = offsetof(T, m), .size = UJSON_INT_SIZE_(T, m),	\
	  .min = (min_), .max = (max_) }
#define UJSON_F_UINT(T, m, name_, flags_, max_)				\
	{ .name = (name_), .kind = UJSON_K_UINT, .flags = (flags_),	\
	  .offset = offsetof(T, m), .size = UJSON_UINT_SIZE_(T, m),	\
	  .umax = (max_) }
#define UJSON_F_BOOL(T, m, name_, flags_)				\
	{ .name = (name_), .kind = UJSON_K_BOOL, .flags = (flags_),	\
	  .offset = offsetof(T, m), .size = UJSON_BOOL_SIZE_(T, m) }
#define UJSON_F_CUSTOM(name_, flags_, read_, write_)			\
	{ .name = (name_), .kind = UJSON_K_CUSTOM, .flags = (flags_),	\
	  .read = (read_), .write = (write_) }
// clang-format on
#define UJSON_NR(table) (sizeof(table) / sizeof((table)[0]))

/*
 * Read the fields of object o into rec (which the caller has set to its
 * defaults: a missing optional field leaves its member alone).  -EINVAL
 * when o is not an object or a field is bad; the first bad field is named.
 */
int ujson_read_fields(json_object *o, const struct ujson_field *f, size_t n,
		      void *rec, const struct ujson_where *w, struct uerr *err);
/* Add rec's fields to object o in table order; 0 or -ENOMEM */
int ujson_write_fields(json_object *o, const struct ujson_field *f, size_t n,
		       const void *rec);
/* A new object of rec's fields, or NULL when out of memory */
json_object *ujson_new_object(const struct ujson_field *f, size_t n,
			      const void *rec);
/* rec's fields written to path as ujson_write_file does */
int ujson_write_record(const char *path, const struct ujson_field *f, size_t n,
		       const void *rec, struct uerr *err);

#endif
