// SPDX-License-Identifier: MIT
/*
 * jget: `jq -r PATH` for the simple paths the kernel tests ask most, at a
 * fraction of jq's cost: jq 1.6 compiles its builtins at every start,
 * about 0.5 s in the TCG guest, and the tests ask a few hundred times a
 * run.  tests/lib/ublk.sh's jget() calls it and falls back to jq.
 *
 *   jget PATH <JSON      PATH: .NAME or .[N], then any of .NAME, [N]
 *
 * Prints what jq -r prints for a string, an integer, a boolean or null
 * (a missing key or index is null, as in jq).  Exit 3, having printed
 * nothing, for whatever else (another PATH, a number with a fraction, an
 * object or array, JSON that does not parse, indexing what is not an
 * object or array): jq then answers, with its own output or error.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

enum { JGET_OTHER = 3 };

/* One step of PATH at *p: a key (name, its length) or an index */
struct step {
	const char *name;
	size_t len;
	long index; /* -1: a key */
};

/* jq 1.6 takes .[N] only at the start of a path, [N] only after a step */
static int next_step(const char **p, bool first, struct step *s)
{
	const char *q = *p;
	char *end;

	s->name = NULL;
	s->len = 0;
	if (*q == '.' && (isalpha((unsigned char)q[1]) || q[1] == '_')) {
		s->name = ++q;
		while (isalnum((unsigned char)*q) || *q == '_')
			q++;
		s->len = (size_t)(q - s->name);
		s->index = -1;
	} else {
		if (first && *q++ != '.')
			return -1;
		if (*q != '[' || !isdigit((unsigned char)q[1]))
			return -1;
		errno = 0;
		s->index = strtol(q + 1, &end, 10);
		if (errno || *end != ']')
			return -1;
		q = end + 1;
	}
	*p = q;
	return 0;
}

static int print_scalar(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		puts("null");
		return 0;
	case json_type_boolean:
		puts(json_object_get_boolean(o) ? "true" : "false");
		return 0;
	case json_type_int:
		/* jq holds numbers as doubles: past 2^53 it prints otherwise */
		if (json_object_get_int64(o) > (1LL << 53) ||
		    json_object_get_int64(o) < -(1LL << 53))
			return JGET_OTHER;
		printf("%" PRId64 "\n", json_object_get_int64(o));
		return 0;
	case json_type_string:
		fwrite(json_object_get_string(o), 1,
		       (size_t)json_object_get_string_len(o), stdout);
		putchar('\n');
		return 0;
	default:
		return JGET_OTHER;
	}
}

/* The one JSON value of buf, with nothing but blanks after it */
static json_object *parse_one(const char *buf, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;
	size_t used;

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, buf, (int)len);
	used = json_tokener_get_parse_end(tok);
	if (o && json_tokener_get_error(tok) == json_tokener_success) {
		while (used < len && isspace((unsigned char)buf[used]))
			used++;
	}
	if (o && used != len) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

int main(int argc, char **argv)
{
	json_object *root, *o, *child;
	const char *p;
	struct step s;
	char buf[1 << 16];
	size_t len = 0, n;
	int ret;

	if (argc != 2 || !argv[1][0])
		return JGET_OTHER;
	while ((n = fread(buf + len, 1, sizeof(buf) - 1 - len, stdin)) > 0)
		len += n;
	if (!feof(stdin))
		return JGET_OTHER; /* too long for us */
	buf[len] = '\0';
	root = parse_one(buf, len);
	if (!root)
		return JGET_OTHER; /* also "null" itself: jq says it */
	o = root;
	for (p = argv[1]; *p;) {
		if (next_step(&p, p == argv[1], &s) < 0) {
			json_object_put(root);
			return JGET_OTHER;
		}
		if (!o) /* null indexed: null */
			continue;
		if (s.index < 0 && json_object_is_type(o, json_type_object)) {
			char key[256];

			if (s.len >= sizeof(key)) {
				json_object_put(root);
				return JGET_OTHER;
			}
			memcpy(key, s.name, s.len);
			key[s.len] = '\0';
			o = json_object_object_get_ex(o, key, &child) ? child :
									NULL;
		} else if (s.index >= 0 &&
			   json_object_is_type(o, json_type_array)) {
			o = (size_t)s.index < json_object_array_length(o) ?
				    json_object_array_get_idx(o, s.index) :
				    NULL;
		} else {
			json_object_put(root);
			return JGET_OTHER; /* jq's error */
		}
	}
	ret = print_scalar(o);
	json_object_put(root);
	if (ret == 0 && (fflush(stdout) || ferror(stdout)))
		return 1;
	return ret;
}
