// SPDX-License-Identifier: MIT
/*
 * The JSON layer (src/base/json.c): strict parsing, the typed getters and
 * field tables, against what a hostile writer can put in a record: wrong
 * types, missing fields, numbers out of range or beyond 64 bits, strings
 * too long or with a NUL, extra fields, and files that are not files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "base/json.h"

static const struct ujson_where top = { .src = "t.json" };
static const struct ujson_where nested = { .src = "t.json", .at = "a.b[2]" };

static json_object *parse(const char *text)
{
	json_object *o;
	struct uerr err;

	if (ujson_parse(text, strlen(text), "test", &o, &err) < 0)
		bail_out("bad test JSON %s: %s", text, err.msg);
	return o;
}

static void test_parse(void)
{
	static const char *const bad[] = {
		"{\"a\":1,}",	"[1,]",	       "['a']",
		"{\"a\":01}",	"{\"a\":nan}", "{a:1}",
		"{\"a\":1} x",	"{}{}",	       "",
		"{\"a\":\"x\"", "tru",	       "{\"a\":1}\n\x01",
	};
	json_object *o;
	struct uerr err;
	unsigned int i;

	note("ujson_parse: strict JSON, one value");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uerr_clear(&err);
		ok(ujson_parse(bad[i], strlen(bad[i]), "in", &o, &err) ==
				   -EINVAL &&
			   !o,
		   "refused: %s", bad[i]);
		contains(err.msg, "in ", "  the message names the input: %s",
			 err.msg);
	}
	ok(ujson_parse("{\"a\":1} \n\t\n", 11, "in", &o, &err) == 0 && o,
	   "white space after the value is fine");
	json_object_put(o);
	/* len, not the NUL, ends the text */
	ok(ujson_parse("{\"a\":1}\0junk", 12, "in", &o, &err) < 0, "a NUL and "
								   "more after "
								   "the value "
								   "is "
								   "refused");
	contains(err.msg, "in has data after its JSON value (byte 7)",
		 "  at byte 7");
}

static void test_str(void)
{
	json_object *o = parse("{\"s\":\"abc\",\"n\":1,\"z\":null,\"e\":\"\","
			       "\"nul\":\"a\\u0000b\",\"raw\":\"\xff\xfe\","
			       "\"o\":{}}");
	char buf[4], big[16];
	struct uerr err;

	note("ujson_str");
	ok(ujson_str(o, "s", UJSON_REQUIRED, buf, sizeof(buf), &top, &err) ==
			   0 &&
		   !strcmp(buf, "abc"),
	   "a string that just fits (3 bytes in 4)");
	ok(ujson_str(o, "s", 0, buf, 3, &top, &err) == -EINVAL, "one byte more "
								"than fits");
	is_str(err.msg, "t.json: s is longer than 2 bytes", "  says so");
	strcpy(big, "keep");
	is_int(ujson_str(o, "x", 0, big, sizeof(big), &top, &err), 1,
	       "missing and optional: 1");
	is_str(big, "keep", "  the buffer is left alone");
	is_int(ujson_str(o, "x", UJSON_REQUIRED, big, sizeof(big), &top, &err),
	       -EINVAL, "missing and required");
	is_str(err.msg, "t.json: x is missing", "  names the field");
	is_int(ujson_str(o, "x", UJSON_REQUIRED, big, sizeof(big), &nested,
			 &err),
	       -EINVAL, "missing in a nested object");
	is_str(err.msg, "t.json: a.b[2].x is missing", "  names its place");
	is_int(ujson_str(o, "n", 0, big, sizeof(big), &top, &err), -EINVAL,
	       "a number is not a string");
	is_str(err.msg, "t.json: n is not a string", "  says so");
	is_int(ujson_str(o, "z", 0, big, sizeof(big), &top, &err), -EINVAL,
	       "null is not a string (nor missing)");
	is_int(ujson_str(o, "o", 0, big, sizeof(big), &top, &err), -EINVAL,
	       "an object is not a string");
	is_int(ujson_str(o, "nul", 0, big, sizeof(big), &top, &err), -EINVAL,
	       "a string with an embedded NUL (\\u0000)");
	is_str(err.msg, "t.json: nul holds a NUL character", "  says so");
	ok(ujson_str(o, "raw", 0, big, sizeof(big), &top, &err) == 0 &&
		   !strcmp(big, "\xff\xfe"),
	   "bytes that are not UTF-8 are kept as they are (file names)");
	ok(ujson_str(o, "e", 0, big, sizeof(big), &top, &err) == 0 && !big[0],
	   "an empty string");
	is_int(ujson_str(o, "e", UJSON_NONEMPTY, big, sizeof(big), &top, &err),
	       -EINVAL, "  refused with UJSON_NONEMPTY");
	is_str(err.msg, "t.json: e is empty", "  says so");
	json_object_put(o);

	o = parse("[\"s\"]");
	is_int(ujson_str(o, "s", 0, big, sizeof(big), &top, &err), -EINVAL,
	       "a field of something that is not an object");
	json_object_put(o);
}

static void test_int(void)
{
	json_object *o = parse("{\"zero\":0,\"neg\":-5,\"d\":1.0,\"e\":1e3,"
			       "\"s\":\"1\","
			       "\"t\":true,\"i64max\":9223372036854775807,"
			       "\"i64over\":9223372036854775808,"
			       "\"i64min\":-9223372036854775808,"
			       "\"u64max1\":18446744073709551614,"
			       "\"u64max\":18446744073709551615,"
			       "\"huge\":99999999999999999999999,"
			       "\"hugeneg\":-99999999999999999999999}");
	struct uerr err;
	uint64_t u;
	int64_t i;

	note("ujson_int");
	ok(ujson_int(o, "neg", UJSON_REQUIRED, -5, 5, &i, &top, &err) == 0 &&
		   i == -5,
	   "-5 in -5..5");
	is_int(ujson_int(o, "neg", 0, -4, 5, &i, &top, &err), -EINVAL,
	       "-5 not in -4..5");
	is_str(err.msg, "t.json: neg is out of range (-5, not -4..5)",
	       "  says so, with the value and the range");
	is_int(ujson_int(o, "zero", 0, 1, 5, &i, &top, &err), -EINVAL,
	       "0 not in 1..5");
	i = 42;
	is_int(ujson_int(o, "x", 0, 0, 5, &i, &top, &err), 1,
	       "missing and optional: 1");
	is_int(i, 42, "  the value is left alone");
	is_int(ujson_int(o, "x", UJSON_REQUIRED, 0, 5, &i, &top, &err), -EINVAL,
	       "missing and required");
	is_str(err.msg, "t.json: x is missing", "  names the field");
	is_int(ujson_int(o, "d", 0, 0, 5, &i, &top, &err), -EINVAL,
	       "1.0 is not an integer");
	is_str(err.msg, "t.json: d is not an integer", "  says so");
	is_int(ujson_int(o, "e", 0, 0, 5000, &i, &top, &err), -EINVAL,
	       "1e3 is not an integer");
	is_int(ujson_int(o, "s", 0, 0, 5, &i, &top, &err), -EINVAL,
	       "\"1\" is not an integer");
	is_int(ujson_int(o, "t", 0, 0, 5, &i, &top, &err), -EINVAL,
	       "true is not an integer");

	note("numbers at and beyond 64 bits");
	ok(ujson_int(o, "i64max", 0, 0, INT64_MAX, &i, &top, &err) == 0 &&
		   i == INT64_MAX,
	   "INT64_MAX itself");
	is_int(ujson_int(o, "i64over", 0, 0, INT64_MAX, &i, &top, &err),
	       -EINVAL, "INT64_MAX + 1 (json-c: a uint64) is out of range");
	contains(err.msg, "9223372036854775808", "  the message has the value");
	is_int(ujson_int(o, "i64min", 0, INT64_MIN, INT64_MAX, &i, &top, &err),
	       -EINVAL, "INT64_MIN: what json-c saturates to, refused");
	is_int(ujson_int(o, "hugeneg", 0, INT64_MIN, INT64_MAX, &i, &top, &err),
	       -EINVAL, "-10^23 is out of range");
	is_int(ujson_int(o, "huge", 0, INT64_MIN, INT64_MAX, &i, &top, &err),
	       -EINVAL, "10^23 is out of range");

	note("ujson_u64");
	ok(ujson_u64(o, "u64max1", 0, UINT64_MAX, &u, &top, &err) == 0 &&
		   u == UINT64_MAX - 1,
	   "UINT64_MAX - 1");
	is_int(ujson_u64(o, "u64max", 0, UINT64_MAX, &u, &top, &err), -EINVAL,
	       "UINT64_MAX: what json-c saturates to, refused");
	is_int(ujson_u64(o, "huge", 0, UINT64_MAX, &u, &top, &err), -EINVAL,
	       "10^23 is out of range, not UINT64_MAX");
	is_str(err.msg,
	       "t.json: huge is out of range (18446744073709551615, not "
	       "0..18446744073709551615)",
	       "  says so");
	is_int(ujson_u64(o, "neg", 0, UINT64_MAX, &u, &top, &err), -EINVAL,
	       "-5 is out of range");
	ok(ujson_u64(o, "i64over", 0, UINT64_MAX, &u, &top, &err) == 0 &&
		   u == (uint64_t)INT64_MAX + 1,
	   "INT64_MAX + 1 is fine");
	is_int(ujson_u64(o, "i64over", 0, INT64_MAX, &u, &top, &err), -EINVAL,
	       "  but not with a maximum of INT64_MAX");
	is_int(ujson_u64(o, "d", 0, 5, &u, &top, &err), -EINVAL,
	       "1.0 is not an integer");
	json_object_put(o);
}

static void test_bool_child(void)
{
	json_object *o = parse("{\"t\":true,\"f\":false,\"one\":1,"
			       "\"s\":\"true\",\"arr\":[1,2,3],\"obj\":{}}");
	json_object *c;
	struct uerr err;
	bool b = false;

	note("ujson_bool");
	ok(ujson_bool(o, "t", 0, &b, &top, &err) == 0 && b, "true");
	ok(ujson_bool(o, "f", 0, &b, &top, &err) == 0 && !b, "false");
	is_int(ujson_bool(o, "one", 0, &b, &top, &err), -EINVAL,
	       "1 is not a boolean");
	is_str(err.msg, "t.json: one is not true or false", "  says so");
	is_int(ujson_bool(o, "s", 0, &b, &top, &err), -EINVAL,
	       "\"true\" is not a boolean");
	is_int(ujson_bool(o, "x", UJSON_REQUIRED, &b, &top, &err), -EINVAL,
	       "missing and required");

	note("ujson_child, ujson_array");
	ok(ujson_child(o, "obj", 0, json_type_object, &c, &top, &err) == 0 &&
		   json_object_is_type(c, json_type_object),
	   "an object");
	is_int(ujson_child(o, "arr", 0, json_type_object, &c, &top, &err),
	       -EINVAL, "an array is not an object");
	is_str(err.msg, "t.json: arr is not an object", "  says so");
	is_int(ujson_child(o, "obj", 0, json_type_array, &c, &top, &err),
	       -EINVAL, "an object is not an array");
	is_int(ujson_child(o, "x", 0, json_type_array, &c, &top, &err), 1,
	       "missing and optional: 1");
	ok(ujson_array(o, "arr", 0, 3, &c, &top, &err) == 0, "3 of at most 3");
	is_int(ujson_array(o, "arr", 0, 2, &c, &top, &err), -EINVAL,
	       "3 of at most 2");
	is_str(err.msg, "t.json: arr has more than 2 elements", "  says so");
	json_object_put(o);
}

/* A record with a field of every kind */
struct rec {
	char name[8];
	int32_t small;
	uint8_t byte;
	uint64_t big;
	bool flag;
	char note[8];
	unsigned int custom; /* written as "0x..." */
};

static int read_custom(json_object *o, const struct ujson_field *f, void *rec,
		       const struct ujson_where *w, struct uerr *err)
{
	char buf[16];
	int ret;

	ret = ujson_str(o, f->name, f->flags, buf, sizeof(buf), w, err);
	if (ret)
		return ret;
	if (sscanf(buf, "0x%x", &((struct rec *)rec)->custom) != 1)
		return ujson_bad(w, f->name, err, "is not 0x...");
	return 0;
}

static int write_custom(json_object *o, const struct ujson_field *f,
			const void *rec)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "0x%x", ((const struct rec *)rec)->custom);
	return json_object_object_add(o, f->name, json_object_new_string(buf));
}

static const struct ujson_field rec_fields[] = {
	UJSON_F_STR(struct rec, name, "name", UJSON_REQUIRED),
	/* a range wider than the member: the member's own range wins */
	UJSON_F_INT(struct rec, small, "small", 0, INT64_MIN + 1, INT64_MAX),
	UJSON_F_UINT(struct rec, byte, "byte", 0, 1000),
	UJSON_F_UINT(struct rec, big, "big", UJSON_REQUIRED, UINT64_MAX),
	UJSON_F_BOOL(struct rec, flag, "flag", 0),
	UJSON_F_STR(struct rec, note, "note", UJSON_OMITEMPTY),
	UJSON_F_CUSTOM("custom", 0, read_custom, write_custom),
};

static int read_rec(const char *text, struct rec *r, struct uerr *err)
{
	json_object *o = parse(text);
	int ret;

	memset(r, 0, sizeof(*r));
	r->byte = 7; /* a default */
	ret = ujson_read_fields(o, rec_fields, UJSON_NR(rec_fields), r, &top,
				err);
	json_object_put(o);
	return ret;
}

static void test_fields(void)
{
	struct rec r, back;
	struct uerr err;
	json_object *o;
	const char *s;

	note("field tables: reading");
	ok(read_rec("{\"name\":\"n\",\"small\":-2147483648,\"byte\":255,"
		    "\"big\":18446744073709551614,\"flag\":true,"
		    "\"note\":\"hi\",\"custom\":\"0x2a\"}",
		    &r, &err) == 0,
	   "every field");
	ok(!strcmp(r.name, "n") && r.small == INT32_MIN && r.byte == 255 &&
		   r.big == UINT64_MAX - 1 && r.flag && !strcmp(r.note, "hi") &&
		   r.custom == 42,
	   "  every value");
	ok(read_rec("{\"name\":\"n\",\"big\":1}", &r, &err) == 0, "only the "
								  "required "
								  "fields");
	ok(r.byte == 7 && r.small == 0 && !r.flag && !r.custom, "  the others "
								"keep their "
								"defaults");
	ok(read_rec("{\"name\":\"n\",\"big\":1,\"other\":[1,{\"x\":null}],"
		    "\"Name\":5}",
		    &r, &err) == 0 &&
		   !strcmp(r.name, "n"),
	   "extra fields are ignored");
	is_int(read_rec("{\"big\":1}", &r, &err), -EINVAL,
	       "a required string missing");
	is_str(err.msg, "t.json: name is missing", "  names it");
	is_int(read_rec("{\"name\":\"n\"}", &r, &err), -EINVAL,
	       "a required number missing");
	is_str(err.msg, "t.json: big is missing", "  names it");
	is_int(read_rec("{\"name\":\"n\",\"big\":1,\"flag\":0}", &r, &err),
	       -EINVAL, "a field of the wrong type");
	is_str(err.msg, "t.json: flag is not true or false", "  names it");
	is_int(read_rec("{\"name\":\"n\",\"big\":1,\"small\":2147483648}", &r,
			&err),
	       -EINVAL,
	       "beyond the member's int32_t, within the table's range");
	is_str(err.msg,
	       "t.json: small is out of range (2147483648, not "
	       "-2147483648..2147483647)",
	       "  the member's own range is checked");
	is_int(read_rec("{\"name\":\"n\",\"big\":1,\"byte\":256}", &r, &err),
	       -EINVAL, "256 in a uint8_t declared up to 1000");
	is_int(read_rec("{\"name\":\"n\",\"big\":1,\"byte\":-1}", &r, &err),
	       -EINVAL, "-1 in a uint8_t");
	is_int(read_rec("{\"name\":\"longer than 7\",\"big\":1}", &r, &err),
	       -EINVAL, "a string longer than its member");
	is_int(read_rec("{\"name\":\"n\",\"big\":1,\"custom\":\"42\"}", &r,
			&err),
	       -EINVAL, "a custom field's own check");
	is_str(err.msg, "t.json: custom is not 0x...", "  in the same form");
	is_int(read_rec("[]", &r, &err), -EINVAL, "an array, not an object");
	is_str(err.msg, "t.json is not a JSON object", "  says so");

	note("field tables: writing");
	memset(&r, 0, sizeof(r));
	strcpy(r.name, "a\"b");
	r.small = -3;
	r.byte = 200;
	r.big = UINT64_MAX - 1;
	r.custom = 255;
	o = json_object_new_object();
	is_int(ujson_write_fields(o, rec_fields, UJSON_NR(rec_fields), &r), 0,
	       "ujson_write_fields");
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	is_str(s,
	       "{\"name\":\"a\\\"b\",\"small\":-3,\"byte\":200,\"big\":"
	       "18446744073709551614,\"flag\":false,\"custom\":\"0xff\"}",
	       "in table order; an empty UJSON_OMITEMPTY string left out");
	memset(&back, 0, sizeof(back));
	back.byte = 7;
	is_int(ujson_read_fields(o, rec_fields, UJSON_NR(rec_fields), &back,
				 &top, &err),
	       0, "read back");
	ok(!memcmp(&r, &back, sizeof(r)), "  the same record");
	json_object_put(o);
}

static void test_files(const char *dir)
{
	char path[256], link[256 + 8];
	json_object *o;
	struct uerr err;
	struct stat st;

	note("ujson_write_file, ujson_read_file");
	snprintf(path, sizeof(path), "%s/r.json", dir);
	o = parse("{\"a\":\"b/c\"}");
	is_int(ujson_write_file(path, o, &err), 0, "write");
	json_object_put(o);
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "  mode 0600");
	ok(ujson_read_file(path, 100, &o, &err) == 0 &&
		   !strcmp(json_object_to_json_string_ext(
				   o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE),
			   "{\"a\":\"b/c\"}"),
	   "read it back");
	json_object_put(o);
	is_int(ujson_read_file(path, 5, &o, &err), -EFBIG,
	       "larger than allowed");
	snprintf(link, sizeof(link), "%s/l.json", dir);
	if (symlink(path, link) < 0)
		bail_out("symlink");
	is_int(ujson_read_file(link, 100, &o, &err), -ELOOP,
	       "not through a symlink");
	snprintf(path, sizeof(path), "%s/fifo.json", dir);
	if (mkfifo(path, 0600) < 0)
		bail_out("mkfifo");
	/* a blocking open would hang here: the test would time out */
	is_int(ujson_read_file(path, 100, &o, &err), -EINVAL,
	       "a FIFO: refused at once");
	contains(err.msg, "is not a regular file", "  says so");
	snprintf(path, sizeof(path), "%s/d.json", dir);
	mkdir(path, 0700);
	is_int(ujson_read_file(path, 100, &o, &err), -EINVAL, "a directory");
}

int main(void)
{
	char dir[] = "/tmp/ublk-user-json.XXXXXX";
	char cmd[64];

	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	test_parse();
	test_str();
	test_int();
	test_bool_child();
	test_fields();
	test_files(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cannot remove %s", dir);
	return done_testing();
}
