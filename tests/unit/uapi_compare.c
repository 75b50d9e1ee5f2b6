// SPDX-License-Identifier: MIT
/*
 * src/uapi/ublk_abi.h against the kernel's linux/ublk_cmd.h (Linux 7.x):
 * every constant's value, every struct's size and alignment, every field's
 * offset, size and signedness.  The tables come from uapi_ours.c and
 * uapi_kernel.c; this file includes neither header.  It also reads our
 * header's text to check that uapi_names.h lists everything in it.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "uapi_names.h"

#ifndef UAPI_OURS_HEADER
#define UAPI_OURS_HEADER "src/uapi/ublk_abi.h"
#endif

static void const_text(char *buf, size_t len, const struct uapi_const *c)
{
	if (c->is_signed && c->s < 0)
		snprintf(buf, len, "%lld", c->s);
	else
		snprintf(buf, len, "%llu (0x%llx)", c->u, c->u);
}

static const struct uapi_const *find_const(const struct uapi_const *t,
					   const char *name)
{
	int i;

	for (i = 0; i < UAPI_NR_CONSTS; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

static void compare_consts(void)
{
	char a[64], b[64];
	const struct uapi_const *o, *k;
	int i;

	for (i = 0; i < UAPI_NR_CONSTS; i++) {
		o = &ours_consts[i];
		k = find_const(kernel_consts, o->name);
		if (!k) {
			fail("%s is in the kernel's table", o->name);
			continue;
		}
		const_text(a, sizeof(a), o);
		const_text(b, sizeof(b), k);
		is_str(a, b, "%s is %s", o->name, b);
		/* Same value, other type: worth knowing, not an ABI change */
		if (o->width != k->width || o->is_signed != k->is_signed)
			note("%s: type differs (ours %s%zu bytes, kernel %s%zu "
			     "bytes)",
			     o->name, o->is_signed ? "signed " : "unsigned ",
			     o->width, k->is_signed ? "signed " : "unsigned ",
			     k->width);
	}
}

static void compare_structs(void)
{
	char a[64], b[64];
	int i, j;

	for (i = 0; i < UAPI_NR_STRUCTS; i++) {
		const struct uapi_struct *o = &ours_structs[i], *k = NULL;

		for (j = 0; j < UAPI_NR_STRUCTS; j++)
			if (!strcmp(kernel_structs[j].name, o->name))
				k = &kernel_structs[j];
		if (!k) {
			fail("struct %s is in the kernel's table", o->name);
			continue;
		}
		snprintf(a, sizeof(a), "size %zu, align %zu", o->size,
			 o->align);
		snprintf(b, sizeof(b), "size %zu, align %zu", k->size,
			 k->align);
		is_str(a, b, "struct %s: %s", o->name, b);
	}
}

static void field_text(char *buf, size_t len, const struct uapi_field *f)
{
	if (f->is_array)
		snprintf(buf, len, "offset %zu, size %zu, %zu x %s%zu",
			 f->offset, f->size, f->size / f->elem,
			 f->is_signed ? "s" : "u", f->elem * 8);
	else
		snprintf(buf, len, "offset %zu, size %zu, %s", f->offset,
			 f->size, f->is_signed ? "signed" : "unsigned");
}

static void compare_fields(void)
{
	char a[96], b[96];
	int i, j;

	for (i = 0; i < UAPI_NR_FIELDS; i++) {
		const struct uapi_field *o = &ours_fields[i], *k = NULL;

		for (j = 0; j < UAPI_NR_FIELDS; j++)
			if (!strcmp(kernel_fields[j].name, o->name))
				k = &kernel_fields[j];
		if (!k) {
			fail("%s is in the kernel's table", o->name);
			continue;
		}
		field_text(a, sizeof(a), o);
		field_text(b, sizeof(b), k);
		is_str(a, b, "%s: %s", o->name, b);
	}
}

/* --- uapi_names.h must list all that our header defines ------------- */

struct names {
	char **v;
	int n;
};

static void names_add(struct names *s, const char *name)
{
	s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	if (!s->v)
		bail_out("out of memory");
	s->v[s->n++] = strdup(name);
}

static void names_free(struct names *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static void match_copy(char *buf, size_t len, const char *line,
		       const regmatch_t *m)
{
	snprintf(buf, len, "%.*s", (int)(m->rm_eo - m->rm_so), line + m->rm_so);
}

/*
 * The object-like UBLK* macros (not the include guard), the structs, and
 * each struct's fields as "struct.field", of a header in our style.
 */
static int scan_header(const char *path, struct names *defs,
		       struct names *structs, struct names *fields)
{
	regex_t re_def, re_guard, re_struct, re_field;
	char line[512], name[128], guard[128] = "", cur[128] = "";
	regmatch_t m[3];
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	if (regcomp(&re_def,
		    "^#[[:space:]]*define[[:space:]]+(UBLK[A-Za-z0-9_]*)"
		    "([[:space:]]|$)",
		    REG_EXTENDED) ||
	    regcomp(&re_guard,
		    "^#[[:space:]]*ifndef[[:space:]]+([A-Za-z0-9_]+)",
		    REG_EXTENDED) ||
	    regcomp(&re_struct,
		    "^struct[[:space:]]+([a-z_0-9]+)[[:space:]]*\\{",
		    REG_EXTENDED) ||
	    regcomp(&re_field,
		    "^[[:space:]]+[A-Za-z_][A-Za-z_0-9 ]*[[:space:]]+"
		    "([A-Za-z_][A-Za-z_0-9]*)(\\[[0-9]+\\])?;",
		    REG_EXTENDED))
		bail_out("regcomp");
	while (fgets(line, sizeof(line), f)) {
		if (!regexec(&re_guard, line, 2, m, 0)) {
			match_copy(guard, sizeof(guard), line, &m[1]);
		} else if (!regexec(&re_def, line, 2, m, 0)) {
			match_copy(name, sizeof(name), line, &m[1]);
			if (strcmp(name, guard))
				names_add(defs, name);
		} else if (!cur[0] && !regexec(&re_struct, line, 2, m, 0)) {
			match_copy(cur, sizeof(cur), line, &m[1]);
			names_add(structs, cur);
		} else if (cur[0] && !strncmp(line, "};", 2)) {
			cur[0] = '\0';
		} else if (cur[0] && !regexec(&re_field, line, 3, m, 0)) {
			match_copy(name, sizeof(name), line, &m[1]);
			snprintf(line, sizeof(line), "%s.%s", cur, name);
			names_add(fields, line);
		}
	}
	fclose(f);
	regfree(&re_def);
	regfree(&re_guard);
	regfree(&re_struct);
	regfree(&re_field);
	return 0;
}

static int in_list(const char *name, const struct names *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return 1;
	return 0;
}

static void check_listed(const struct names *found, const struct names *list,
			 const char *what)
{
	int i, missing = 0;

	for (i = 0; i < found->n; i++) {
		if (in_list(found->v[i], list))
			continue;
		diag("%s %s is not in tests/unit/uapi_names.h", what,
		     found->v[i]);
		missing++;
	}
	is_int(missing, 0, "every %s of our header is in uapi_names.h", what);
	is_int(list->n, found->n,
	       "uapi_names.h lists as many %ss as our header has", what);
}

static void check_unique(const struct names *list, const char *what)
{
	int i, j, dup = 0;

	for (i = 0; i < list->n; i++)
		for (j = i + 1; j < list->n; j++)
			if (!strcmp(list->v[i], list->v[j])) {
				diag("%s %s is listed twice", what, list->v[i]);
				dup++;
			}
	is_int(dup, 0, "no %s is listed twice", what);
}

static void check_complete(void)
{
	struct names defs = { 0 }, structs = { 0 }, fields = { 0 };
	struct names ldefs = { 0 }, lstructs = { 0 }, lfields = { 0 };
	int i;

	if (!ok(!scan_header(UAPI_OURS_HEADER, &defs, &structs, &fields),
		"read %s", UAPI_OURS_HEADER))
		return;
	ok(defs.n > 90 && structs.n > 10 && fields.n > 70,
	   "the scan found %d constants, %d structs, %d fields", defs.n,
	   structs.n, fields.n);
	for (i = 0; i < UAPI_NR_CONSTS; i++)
		names_add(&ldefs, ours_consts[i].name);
	for (i = 0; i < UAPI_NR_STRUCTS; i++)
		names_add(&lstructs, ours_structs[i].name);
	for (i = 0; i < UAPI_NR_FIELDS; i++)
		names_add(&lfields, ours_fields[i].name);
	check_unique(&ldefs, "constant");
	check_unique(&lstructs, "struct");
	check_unique(&lfields, "field");
	check_listed(&defs, &ldefs, "constant");
	check_listed(&structs, &lstructs, "struct");
	check_listed(&fields, &lfields, "field");
	names_free(&defs);
	names_free(&structs);
	names_free(&fields);
	names_free(&ldefs);
	names_free(&lstructs);
	names_free(&lfields);
}

/* What the kernel has and we do not define: for the reader, not a test. */
static void note_kernel_only(void)
{
#ifdef UAPI_KERNEL_HEADER
	struct names defs = { 0 }, structs = { 0 }, fields = { 0 };
	char line[4096] = "";
	size_t n = 0;
	int i;

	if (scan_header(UAPI_KERNEL_HEADER, &defs, &structs, &fields))
		return;
	for (i = 0; i < defs.n; i++)
		if (!find_const(ours_consts, defs.v[i]))
			n += snprintf(line + n,
				      n < sizeof(line) ? sizeof(line) - n : 0,
				      " %s", defs.v[i]);
	if (n)
		note("kernel constants we do not define:%s", line);
	names_free(&defs);
	names_free(&structs);
	names_free(&fields);
#endif
}

int main(void)
{
	note("ours: %s; kernel: %s", ours_header, kernel_header);
	compare_consts();
	compare_structs();
	compare_fields();
	check_complete();
	note_kernel_only();
	return done_testing();
}
