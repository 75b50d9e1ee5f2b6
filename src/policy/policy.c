// SPDX-License-Identifier: MIT
/* The policy: parse the files' text, evaluate it for a user, check. */
#include <ctype.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "base/ini.h"
#include "base/size.h"
#include "uapi/ublk_abi.h"

enum policy_type {
	PT_BOOL,
	PT_COUNT,
	PT_SIZE,
	PT_TARGETS,
	PT_DIRS,
	PT_ENDPOINTS,
};

struct key_info {
	const char *name;
	enum policy_type type;
	uint64_t min, max;   /* counts */
	bool unlimited;	     /* "unlimited" is a value */
	bool zero;	     /* sizes: 0 is a value */
	size_t off;	     /* of the value in struct policy_limits */
	const char *builtin; /* the built-in default, as a file would say */
};

#define LIM(field) offsetof(struct policy_limits, field)

/* Keep in step with policy/policy.conf (a unit test compares them). */
static const struct key_info keys[POLICY_NR_KEYS] = {
	[POLICY_ALLOW] = { "allow", PT_BOOL, 0, 1, false, false, LIM(allow),
			   "yes" },
	[POLICY_MAX_DEVICES] = { "max_devices", PT_COUNT, 0, 1U << 20, true,
				 false, LIM(max_devices), "16" },
	[POLICY_MAX_SIZE] = { "max_size", PT_SIZE, 0, 0, true, false,
			      LIM(max_size), "unlimited" },
	[POLICY_MAX_QUEUES] = { "max_queues", PT_COUNT, 1, UBLK_MAX_NR_QUEUES,
				false, false, LIM(max_queues), "16" },
	[POLICY_MAX_QUEUE_DEPTH] = { "max_queue_depth", PT_COUNT, 1,
				     UBLK_MAX_QUEUE_DEPTH, false, false,
				     LIM(max_queue_depth), "1024" },
	[POLICY_TARGETS] = { "targets", PT_TARGETS, 0, 0, false, false,
			     LIM(targets), "any" },
	[POLICY_BACKING_DIRS] = { "backing_dirs", PT_DIRS, 0, 0, false, false,
				  LIM(backing_dirs), "any" },
	[POLICY_NBD_ENDPOINTS] = { "nbd_endpoints", PT_ENDPOINTS, 0, 0, false,
				   false, LIM(nbd_endpoints), "any" },
	[POLICY_SHMEM_ZC] = { "shmem_zc", PT_BOOL, 0, 1, false, false,
			      LIM(shmem_zc), "no" },
	[POLICY_MAX_SHMEM] = { "max_shmem", PT_SIZE, 0, 0, true, true,
			       LIM(max_shmem), "256M" },
	[POLICY_MLOCK] = { "mlock", PT_BOOL, 0, 1, false, false, LIM(mlock),
			   "yes" },
	[POLICY_MAX_LOCKED] = { "max_locked", PT_SIZE, 0, 0, true, true,
				LIM(max_locked), "256M" },
	[POLICY_CONTAINERS] = { "containers", PT_BOOL, 0, 1, false, false,
				LIM(containers), "yes" },
	[POLICY_READ_ONLY] = { "read_only", PT_BOOL, 0, 1, false, false,
			       LIM(read_only), "no" },
	[POLICY_READ_ONLY_DIRS] = { "read_only_dirs", PT_DIRS, 0, 0, false,
				    false, LIM(read_only_dirs), "none" },
};

const char *policy_key_name(enum policy_key key)
{
	return (unsigned int)key < POLICY_NR_KEYS ? keys[key].name : "?";
}

int policy_key_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < POLICY_NR_KEYS; i++)
		if (!strcmp(keys[i].name, name))
			return i;
	return -1;
}

bool policy_key_is_size(enum policy_key key)
{
	return keys[key].type == PT_SIZE;
}

bool policy_key_is_bool(enum policy_key key)
{
	return keys[key].type == PT_BOOL;
}

bool policy_key_is_list(enum policy_key key)
{
	return keys[key].type == PT_TARGETS || keys[key].type == PT_DIRS ||
	       keys[key].type == PT_ENDPOINTS;
}

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
}

static void section_free(struct policy_section *s)
{
	unsigned int k;

	for (k = 0; k < POLICY_NR_KEYS; k++) {
		free(s->set[k].text);
		s->set[k].text = NULL;
	}
}

void policy_free(struct policy *p)
{
	unsigned int i;

	for (i = 0; i < p->nr_sections; i++)
		section_free(&p->sections[i]);
	for (i = 0; i < p->nr_files; i++)
		free(p->files[i]);
	for (i = 0; i < p->nr_errors && i < POLICY_MAX_ERRORS; i++)
		free(p->errors[i]);
	free(p->sections);
	free(p->files);
	free(p->errors);
	policy_init(p);
}

static void add_error_str(struct policy *p, char *msg)
{
	char **e;

	if (p->nr_errors >= POLICY_MAX_ERRORS) {
		p->nr_errors++;
		free(msg);
		return;
	}
	e = realloc(p->errors, (p->nr_errors + 1) * sizeof(*e));
	if (!e) {
		/* Still counted: the policy stays invalid. */
		p->nr_errors++;
		free(msg);
		return;
	}
	p->errors = e;
	p->errors[p->nr_errors++] = msg;
}

void policy_error(struct policy *p, const char *file, unsigned int line,
		  const char *fmt, ...)
{
	char what[POLICY_VALUE_MAX + 256];
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line)
		n = asprintf(&msg, "%s:%u: %s", file, line, what);
	else
		n = asprintf(&msg, "%s: %s", file, what);
	add_error_str(p, n < 0 ? NULL : msg);
}

int policy_invalid_error(const struct policy *p, struct uerr *err)
{
	const char *first = p->nr_errors && p->errors && p->errors[0] ?
				    p->errors[0] :
				    "out of memory";

	if (p->nr_errors > 1)
		return uerr_set(err, EACCES,
				"the ublk-user policy is invalid, so every "
				"request is refused: %s (and %u more; see "
				"'ublk-user policy check')",
				first, p->nr_errors - 1);
	return uerr_set(err, EACCES,
			"the ublk-user policy is invalid, so every request is "
			"refused: %s",
			first);
}

/* --- values --------------------------------------------------------------- */

static bool is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.';
}

const char *policy_list_next(const char *list, char *item, size_t len)
{
	const char *comma;
	size_t n;

	if (!list || !*list)
		return NULL;
	comma = strchr(list, ',');
	n = comma ? (size_t)(comma - list) : strlen(list);
	if (n >= len)
		n = len - 1;
	memcpy(item, list, n);
	item[n] = '\0';
	return comma ? comma + 1 : list + strlen(list);
}

static bool list_has(const char *list, const char *name)
{
	char item[POLICY_VALUE_MAX];

	while ((list = policy_list_next(list, item, sizeof(item))))
		if (!strcmp(item, name))
			return true;
	return false;
}

/*
 * Split a comma-separated value into trimmed items, check each with
 * check_item and join them as "a,b" into out.
 */
static int parse_list(const char *key, const char *v, char *out, size_t len,
		      int (*check_item)(const char *key, const char *item,
					struct uerr *err),
		      struct uerr *err)
{
	char item[POLICY_VALUE_MAX];
	const char *p = v, *comma;
	size_t used = 0, n;

	out[0] = '\0';
	for (;;) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (!ini_trim_copy(p, n, item, sizeof(item)))
			return uerr_set(err, EINVAL, "%s: item too long", key);
		if (!item[0])
			return uerr_set(err, EINVAL, "%s: empty item in '%s'",
					key, v);
		if (check_item(key, item, err) < 0)
			return -1;
		if (list_has(out, item))
			return uerr_set(err, EINVAL, "%s: '%s' is listed twice",
					key, item);
		n = strlen(item);
		if (used + n + 2 > len)
			return uerr_set(err, EINVAL, "%s: value too long", key);
		if (used)
			out[used++] = ',';
		memcpy(out + used, item, n + 1);
		used += n;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int check_target_item(const char *key, const char *item,
			     struct uerr *err)
{
	const char *c;

	if (!strcmp(item, "any"))
		return uerr_set(err, EINVAL,
				"%s: 'any' must stand alone, not in a list",
				key);
	if (!strcmp(item, "none"))
		return uerr_set(err, EINVAL,
				"%s: 'none' is not a target (to allow no "
				"device at all, say allow = no)",
				key);
	if (strlen(item) > 15)
		return uerr_set(err, EINVAL, "%s: '%s' is not a target name",
				key, item);
	for (c = item; *c; c++)
		if (!islower((unsigned char)*c) &&
		    !isdigit((unsigned char)*c) && *c != '_' && *c != '-')
			return uerr_set(err, EINVAL,
					"%s: '%s' is not a target name", key,
					item);
	return 0;
}

static int check_dir_item(const char *key, const char *item, struct uerr *err)
{
	const char *c;

	if (!strcmp(item, "any") || !strcmp(item, "none"))
		return uerr_set(err, EINVAL,
				"%s: '%s' must stand alone, not in a list", key,
				item);
	if (item[0] != '/' && strncmp(item, "%h", 2))
		return uerr_set(err, EINVAL,
				"%s: '%s' is not an absolute directory (start "
				"with / or %%h)",
				key, item);
	for (c = item; *c; c++) {
		if (*c != '%')
			continue;
		c++;
		if (*c != 'u' && *c != 'U' && *c != 'h' && *c != '%')
			return uerr_set(err, EINVAL,
					"%s: unknown '%%%.1s' in '%s' (use "
					"%%u, %%U, %%h or %%%%)",
					key, *c ? c : "", item);
	}
	return 0;
}

/* A port in an endpoint pattern: '*' or 1-65535 */
static bool port_pattern_ok(const char *p)
{
	unsigned long v = 0;

	if (!strcmp(p, "*"))
		return true;
	if (!*p || *p == '0')
		return false;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p) || v > 65535)
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v <= 65535;
}

/*
 * An item of nbd_endpoints: a socket path pattern (like a backing_dirs
 * template, with * ? [..] globs), or HOST:PORT with a host name pattern
 * or [IPV6] address and a port or '*'.
 */
static int check_endpoint_item(const char *key, const char *item,
			       struct uerr *err)
{
	char host[POLICY_VALUE_MAX];
	const char *colon, *c;
	struct in6_addr a6;
	size_t n;

	if (!strcmp(item, "any") || !strcmp(item, "none"))
		return uerr_set(err, EINVAL,
				"%s: '%s' must stand alone, not in a list", key,
				item);
	if (item[0] == '/' || item[0] == '%')
		return check_dir_item(key, item, err);
	colon = strrchr(item, ':');
	if (!colon || !port_pattern_ok(colon + 1))
		return uerr_set(err, EINVAL,
				"%s: '%s' is neither a socket path (start with "
				"/ or %%h) nor HOST:PORT (PORT a number or *)",
				key, item);
	n = (size_t)(colon - item);
	memcpy(host, item, n);
	host[n] = '\0';
	if (host[0] == '[') {
		if (n < 3 || host[n - 1] != ']')
			return uerr_set(err, EINVAL,
					"%s: '%s': an IPv6 address goes in "
					"[brackets]",
					key, item);
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6) != 1)
			return uerr_set(err, EINVAL,
					"%s: '%s' is not an IPv6 address "
					"(no patterns in brackets)",
					key, host + 1);
		return 0;
	}
	if (!n)
		return uerr_set(err, EINVAL, "%s: '%s' has no host", key, item);
	for (c = host; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-._*?", *c))
			return uerr_set(err, EINVAL,
					"%s: '%s' is not a host name pattern "
					"(letters, digits, - . _ * ?)",
					key, host);
	return 0;
}

static bool is_word(const char *v, const char *word)
{
	return !strcmp(v, word);
}

/* Parse the value v of key into num/text; -1 with err on a bad value. */
static int parse_value(enum policy_key key, const char *v, uint64_t *num,
		       char *text, size_t len, struct uerr *err)
{
	const struct key_info *k = &keys[key];
	unsigned long n;

	*num = 0;
	text[0] = '\0';
	switch (k->type) {
	case PT_BOOL:
		if (is_word(v, "yes") || is_word(v, "true"))
			*num = 1;
		else if (is_word(v, "no") || is_word(v, "false"))
			*num = 0;
		else
			return uerr_set(err, EINVAL,
					"%s: '%s' is not yes or no", k->name,
					v);
		return 0;
	case PT_COUNT:
		if (k->unlimited && is_word(v, "unlimited")) {
			*num = POLICY_UNLIMITED;
			return 0;
		}
		if (parse_uint(v, k->name, k->min, k->max, &n, err) < 0)
			return -1;
		*num = n;
		return 0;
	case PT_SIZE:
		if (k->unlimited && is_word(v, "unlimited")) {
			*num = POLICY_UNLIMITED;
			return 0;
		}
		if (k->zero && is_word(v, "0")) {
			*num = 0;
			return 0;
		}
		return parse_size(v, k->name, num, err) < 0 ? -1 : 0;
	case PT_TARGETS:
		if (is_word(v, "any")) {
			snprintf(text, len, "%s", v);
			return 0;
		}
		return parse_list(k->name, v, text, len, check_target_item,
				  err);
	case PT_DIRS:
		if (is_word(v, "any") || is_word(v, "none")) {
			snprintf(text, len, "%s", v);
			return 0;
		}
		return parse_list(k->name, v, text, len, check_dir_item, err);
	case PT_ENDPOINTS:
		if (is_word(v, "any") || is_word(v, "none")) {
			snprintf(text, len, "%s", v);
			return 0;
		}
		return parse_list(k->name, v, text, len, check_endpoint_item,
				  err);
	}
	return uerr_set(err, EINVAL, "%s: unknown type", k->name);
}

/* --- parsing -------------------------------------------------------------- */

static const char *scope_word(enum policy_scope scope)
{
	switch (scope) {
	case POLICY_SCOPE_DEFAULT:
		return "default";
	case POLICY_SCOPE_GROUP:
		return "group";
	case POLICY_SCOPE_USER:
		return "user";
	default:
		return "built-in";
	}
}

const char *policy_section_str(enum policy_scope scope, const char *name,
			       char *buf, size_t len)
{
	if (scope == POLICY_SCOPE_GROUP || scope == POLICY_SCOPE_USER)
		snprintf(buf, len, "[%s:%s]", scope_word(scope), name);
	else if (scope == POLICY_SCOPE_DEFAULT)
		snprintf(buf, len, "[default]");
	else
		snprintf(buf, len, "built-in");
	return buf;
}

/* "[default]", "[group:NAME]", "[user:NAME]" (inner: between the brackets) */
static int parse_header(const char *inner, struct policy_section *s,
			struct uerr *err)
{
	const char *name;
	unsigned long id;
	size_t n;
	bool digits = true;

	memset(s, 0, sizeof(*s));
	if (!strcmp(inner, "default")) {
		s->scope = POLICY_SCOPE_DEFAULT;
		return 0;
	}
	if (!strncmp(inner, "group:", 6)) {
		s->scope = POLICY_SCOPE_GROUP;
		name = inner + 6;
	} else if (!strncmp(inner, "user:", 5)) {
		s->scope = POLICY_SCOPE_USER;
		name = inner + 5;
	} else {
		return uerr_set(err, EINVAL,
				"unknown section [%s] (use [default], "
				"[group:NAME] or [user:NAME])",
				inner);
	}
	n = strlen(name);
	if (!n || n >= sizeof(s->name) || name[0] == '-')
		return uerr_set(err, EINVAL, "'%s' in [%s] is not a %s name",
				name, inner, scope_word(s->scope));
	for (const char *c = name; *c; c++) {
		if (!is_name_char((unsigned char)*c))
			return uerr_set(err, EINVAL,
					"'%s' in [%s] is not a %s name", name,
					inner, scope_word(s->scope));
		if (!isdigit((unsigned char)*c))
			digits = false;
	}
	memcpy(s->name, name, n + 1);
	if (digits) {
		/* (uid_t)-1 means "no id" to the kernel's syscalls */
		if (parse_uint(name, "id", 0, UINT32_MAX - 1, &id, err) < 0)
			return uerr_set(err, ERANGE,
					"%s id %s in [%s] is out of range",
					scope_word(s->scope), name, inner);
		s->has_id = true;
		s->id = id;
	}
	return 0;
}

static int add_file(struct policy *p, const char *file)
{
	char **f, *copy;

	copy = strdup(file);
	if (!copy)
		return -1;
	f = realloc(p->files, (p->nr_files + 1) * sizeof(*f));
	if (!f) {
		free(copy);
		return -1;
	}
	p->files = f;
	p->files[p->nr_files] = copy;
	return p->nr_files++;
}

/* The earlier section of this file with the same header, or NULL */
static const struct policy_section *same_header(const struct policy *p,
						unsigned int file,
						const struct policy_section *s)
{
	unsigned int i;

	for (i = 0; i < p->nr_sections; i++) {
		const struct policy_section *o = &p->sections[i];

		if (o->file == file && o->scope == s->scope &&
		    !strcmp(o->name, s->name))
			return o;
	}
	return NULL;
}

static struct policy_section *add_section(struct policy *p,
					  const struct policy_section *s)
{
	struct policy_section *v;

	v = realloc(p->sections, (p->nr_sections + 1) * sizeof(*v));
	if (!v)
		return NULL;
	p->sections = v;
	v[p->nr_sections] = *s;
	return &v[p->nr_sections++];
}

struct parse_ctx {
	struct policy *p;
	const char *file;
	unsigned int fidx;
	unsigned int errors;
	int cur; /* index of the current section; -1 none; -2 the scratch */
	struct policy_section scratch; /* after a bad header: checked, dropped */
};

static void perr(struct parse_ctx *c, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void perr(struct parse_ctx *c, unsigned int line, const char *fmt, ...)
{
	char msg[sizeof(((struct uerr *)0)->msg) + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	policy_error(c->p, c->file, line, "%s", msg);
	c->errors++;
}

static struct policy_section *cur_section(struct parse_ctx *c)
{
	if (c->cur == -2)
		return &c->scratch;
	if (c->cur < 0)
		return NULL;
	return &c->p->sections[c->cur];
}

static void parse_header_line(struct parse_ctx *c, const char *line,
			      unsigned int lineno)
{
	char inner[POLICY_LINE_MAX], sec[POLICY_NAME_MAX + 16];
	const struct policy_section *dup;
	struct policy_section s;
	size_t n = strlen(line);
	struct uerr err;

	section_free(&c->scratch);
	memset(&c->scratch, 0, sizeof(c->scratch));
	c->cur = -2;
	if (line[n - 1] != ']') {
		perr(c, lineno, "a section header must end with ']'");
		return;
	}
	memcpy(inner, line + 1, n - 2);
	inner[n - 2] = '\0';
	if (parse_header(inner, &s, &err) < 0) {
		perr(c, lineno, "%s", err.msg);
		return;
	}
	s.file = c->fidx;
	s.line = lineno;
	dup = same_header(c->p, c->fidx, &s);
	if (dup) {
		perr(c, lineno,
		     "section %s is already at line %u (one section per "
		     "file)",
		     policy_section_str(s.scope, s.name, sec, sizeof(sec)),
		     dup->line);
		return;
	}
	if (c->p->nr_sections >= POLICY_MAX_SECTIONS) {
		perr(c, lineno, "too many sections");
		return;
	}
	if (!add_section(c->p, &s)) {
		perr(c, lineno, "out of memory");
		return;
	}
	c->cur = c->p->nr_sections - 1;
}

static void known_keys(char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < POLICY_NR_KEYS && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 keys[i].name);
}

static void parse_key_line(struct parse_ctx *c, const char *line,
			   unsigned int lineno)
{
	char key[POLICY_LINE_MAX], value[POLICY_LINE_MAX];
	char known[256], text[POLICY_VALUE_MAX], sec[POLICY_NAME_MAX + 16];
	const char *eq = strchr(line, '='), *name;
	struct policy_section *s;
	struct uerr err;
	uint64_t num;
	int k;

	if (!eq) {
		perr(c, lineno,
		     "expected 'key = value', a [section] or a # comment");
		return;
	}
	ini_trim_copy(line, eq - line, key, sizeof(key));
	ini_trim_copy(eq + 1, strlen(eq + 1), value, sizeof(value));
	k = policy_key_find(key);
	if (k < 0) {
		known_keys(known, sizeof(known));
		perr(c, lineno, "unknown key '%.64s' (known: %s)", key, known);
		return;
	}
	name = keys[k].name;
	s = cur_section(c);
	if (!s) {
		perr(c, lineno,
		     "'%s' is outside a section (start with [default], "
		     "[group:NAME] or [user:NAME])",
		     name);
		return;
	}
	if (s->set[k].line) {
		if (s == &c->scratch)
			snprintf(sec, sizeof(sec), "this section");
		else
			policy_section_str(s->scope, s->name, sec, sizeof(sec));
		perr(c, lineno, "duplicate key '%s' in %s (first at line %u)",
		     name, sec, s->set[k].line);
		return;
	}
	if (!value[0]) {
		perr(c, lineno, "%s: a value is required", name);
		return;
	}
	if (strlen(value) >= POLICY_VALUE_MAX) {
		perr(c, lineno, "%s: value longer than %d bytes", name,
		     POLICY_VALUE_MAX - 1);
		return;
	}
	if (parse_value(k, value, &num, text, sizeof(text), &err) < 0) {
		perr(c, lineno, "%s", err.msg);
		return;
	}
	s->set[k].line = lineno;
	s->set[k].num = num;
	if (policy_key_is_list(k)) {
		s->set[k].text = strdup(text);
		if (!s->set[k].text)
			perr(c, lineno, "out of memory");
	}
}

unsigned int policy_parse(struct policy *p, const char *file, const char *buf,
			  size_t len)
{
	struct parse_ctx c = { .p = p, .file = file, .cur = -1 };
	struct ini_line line = { 0 };
	size_t pos = 0;
	int fidx;

	fidx = add_file(p, file);
	if (fidx < 0) {
		policy_error(p, file, 0, "out of memory");
		return 1;
	}
	c.fidx = fidx;
	while (ini_next(buf, len, &pos, &line)) {
		if (line.kind == INI_BAD)
			perr(&c, line.lineno, "%s", line.bad);
		else if (line.kind == INI_SECTION)
			parse_header_line(&c, line.text, line.lineno);
		else
			parse_key_line(&c, line.text, line.lineno);
	}
	section_free(&c.scratch);
	return c.errors;
}

/* --- evaluation ----------------------------------------------------------- */

static void set_limit(struct policy_limits *lim, enum policy_key key,
		      uint64_t num, const char *text)
{
	char *at = (char *)lim + keys[key].off;

	switch (keys[key].type) {
	case PT_BOOL:
		*(bool *)at = num != 0;
		break;
	case PT_COUNT:
	case PT_SIZE:
		*(uint64_t *)at = num;
		break;
	case PT_TARGETS:
	case PT_DIRS:
	case PT_ENDPOINTS:
		snprintf(at, POLICY_VALUE_MAX, "%s", text ? text : "");
		break;
	}
}

void policy_defaults(struct policy_limits *lim)
{
	char text[POLICY_VALUE_MAX];
	unsigned int k;
	struct uerr err;
	uint64_t num;

	memset(lim, 0, sizeof(*lim));
	for (k = 0; k < POLICY_NR_KEYS; k++) {
		/* The built-in texts are valid (tests/unit/policy.c). */
		if (parse_value(k, keys[k].builtin, &num, text, sizeof(text),
				&err) < 0)
			abort();
		set_limit(lim, k, num, text);
		lim->origin[k].scope = POLICY_SCOPE_BUILTIN;
	}
}

static bool in_groups(const struct policy_user *u, uint32_t gid)
{
	unsigned int i;

	if (u->gid == gid)
		return true;
	for (i = 0; i < u->nr_groups; i++)
		if (u->groups[i] == gid)
			return true;
	return false;
}

static bool section_applies(const struct policy_section *s,
			    const struct policy_user *u)
{
	switch (s->scope) {
	case POLICY_SCOPE_DEFAULT:
		return true;
	case POLICY_SCOPE_GROUP:
		return s->has_id && in_groups(u, s->id);
	case POLICY_SCOPE_USER:
		return s->has_id && s->id == u->uid;
	default:
		return false;
	}
}

int policy_eval(const struct policy *p, const struct policy_user *u,
		struct policy_limits *lim, struct uerr *err)
{
	static const enum policy_scope order[] = {
		POLICY_SCOPE_DEFAULT,
		POLICY_SCOPE_GROUP,
		POLICY_SCOPE_USER,
	};
	unsigned int o, i, k;

	policy_defaults(lim);
	if (p->nr_errors) {
		/* Nothing is allowed under an invalid policy. */
		lim->allow = false;
		return policy_invalid_error(p, err);
	}
	for (o = 0; o < sizeof(order) / sizeof(order[0]); o++) {
		for (i = 0; i < p->nr_sections; i++) {
			const struct policy_section *s = &p->sections[i];

			if (s->scope != order[o] || !section_applies(s, u))
				continue;
			for (k = 0; k < POLICY_NR_KEYS; k++) {
				if (!s->set[k].line)
					continue;
				set_limit(lim, k, s->set[k].num,
					  s->set[k].text);
				lim->origin[k].scope = s->scope;
				lim->origin[k].file = p->files[s->file];
				lim->origin[k].line = s->set[k].line;
				snprintf(lim->origin[k].name,
					 sizeof(lim->origin[k].name), "%s",
					 s->name);
			}
		}
	}
	return 0;
}

/* --- presenting ----------------------------------------------------------- */

uint64_t policy_limit_num(const struct policy_limits *lim, enum policy_key key)
{
	const char *at = (const char *)lim + keys[key].off;

	switch (keys[key].type) {
	case PT_BOOL:
		return *(const bool *)at;
	case PT_COUNT:
	case PT_SIZE:
		return *(const uint64_t *)at;
	default:
		return 0;
	}
}

const char *policy_limit_text(const struct policy_limits *lim,
			      enum policy_key key)
{
	if (!policy_key_is_list(key))
		return NULL;
	return (const char *)lim + keys[key].off;
}

const char *policy_value_str(const struct policy_limits *lim,
			     enum policy_key key, char *buf, size_t len)
{
	const char *at = (const char *)lim + keys[key].off;
	uint64_t v = policy_limit_num(lim, key);
	char size[32];

	switch (keys[key].type) {
	case PT_BOOL:
		snprintf(buf, len, "%s", v ? "yes" : "no");
		break;
	case PT_COUNT:
	case PT_SIZE:
		if (v == POLICY_UNLIMITED)
			snprintf(buf, len, "unlimited");
		else if (keys[key].type == PT_SIZE)
			snprintf(buf, len, "%s",
				 format_size(v, size, sizeof(size)));
		else
			snprintf(buf, len, "%llu", (unsigned long long)v);
		break;
	default:
		snprintf(buf, len, "%s", at);
		break;
	}
	return buf;
}

const char *policy_origin_str(const struct policy_origin *o, char *buf,
			      size_t len)
{
	switch (o->scope) {
	case POLICY_SCOPE_DEFAULT:
		snprintf(buf, len, "for everyone (%s:%u)", o->file, o->line);
		break;
	case POLICY_SCOPE_GROUP:
	case POLICY_SCOPE_USER:
		snprintf(buf, len, "for %s %s (%s:%u)", scope_word(o->scope),
			 o->name, o->file, o->line);
		break;
	default:
		snprintf(buf, len, "(built-in default)");
		break;
	}
	return buf;
}

const char *policy_rule_str(const struct policy_limits *lim,
			    enum policy_key key, char *buf, size_t len)
{
	char value[POLICY_VALUE_MAX], origin[PATH_MAX + 128];

	snprintf(buf, len, "%s=%s %s", keys[key].name,
		 policy_value_str(lim, key, value, sizeof(value)),
		 policy_origin_str(&lim->origin[key], origin, sizeof(origin)));
	return buf;
}

const char *policy_user_str(const struct policy_user *u, char *buf, size_t len)
{
	if (u->known)
		snprintf(buf, len, "%s", u->name);
	else
		snprintf(buf, len, "uid %u", (unsigned int)u->uid);
	return buf;
}

/* --- checking ------------------------------------------------------------- */

/*
 * Expand the escapes of tmpl for u; glob: the values put in (a home, a
 * name) are escaped so that fnmatch() takes them literally.
 */
static int expand(const char *tmpl, const struct policy_user *u, char *out,
		  size_t len, bool glob, struct uerr *err)
{
	size_t used = 0;
	char num[16];
	const char *add;
	size_t n;

	for (; *tmpl; tmpl++) {
		char one[2] = { *tmpl, 0 };

		add = one;
		if (*tmpl == '%') {
			tmpl++;
			switch (*tmpl) {
			case 'u':
				if (!u->known)
					return uerr_set(err, ENOENT,
							"%%u: uid %u has no "
							"user name",
							(unsigned int)u->uid);
				add = u->name;
				break;
			case 'U':
				snprintf(num, sizeof(num), "%u",
					 (unsigned int)u->uid);
				add = num;
				break;
			case 'h':
				if (!u->known || u->home[0] != '/')
					return uerr_set(err, ENOENT,
							"%%h: uid %u has no "
							"home directory",
							(unsigned int)u->uid);
				add = u->home;
				break;
			case '%':
				add = "%";
				break;
			default:
				return uerr_set(err, EINVAL,
						"bad %% escape in '%s'", tmpl);
			}
		}
		for (n = 0; add[n]; n++) {
			bool esc = glob && add != one &&
				   strchr("*?[\\", add[n]);

			if (used + 1 + esc >= len)
				return uerr_set(err, ENAMETOOLONG,
						"expanded directory too long");
			if (esc)
				out[used++] = '\\';
			out[used++] = add[n];
		}
	}
	out[used] = '\0';
	return 0;
}

int policy_expand(const char *tmpl, const struct policy_user *u, char *out,
		  size_t len, struct uerr *err)
{
	return expand(tmpl, u, out, len, false, err);
}

bool policy_target_allowed(const struct policy_limits *lim, const char *target)
{
	return !strcmp(lim->targets, "any") || list_has(lim->targets, target);
}

/* Is path (canonical) in a directory of list (backing_dirs' syntax)? */
static bool path_in_dirs(const char *list, const struct policy_user *u,
			 const char *path)
{
	char item[POLICY_VALUE_MAX], dir[PATH_MAX], real[PATH_MAX];
	struct uerr err;
	size_t n;

	if (!strcmp(list, "any"))
		return true;
	if (!strcmp(list, "none"))
		return false;
	while ((list = policy_list_next(list, item, sizeof(item)))) {
		if (policy_expand(item, u, dir, sizeof(dir), &err) < 0)
			continue;
		/* A directory that does not exist holds nothing. */
		if (!realpath(dir, real))
			continue;
		n = strlen(real);
		if (!strcmp(real, "/"))
			return path[0] == '/';
		if (!strncmp(path, real, n) && path[n] == '/')
			return true;
	}
	return false;
}

/* HOST:PORT endpoint against a HOST:PORT item (no DNS: as written) */
static bool tcp_endpoint_match(const char *item, const char *endpoint)
{
	const char *ic = strrchr(item, ':'), *ec = strrchr(endpoint, ':');
	char ih[POLICY_VALUE_MAX], eh[POLICY_VALUE_MAX];
	struct in6_addr ia, ea;
	size_t in, en;

	if (!ic || !ec)
		return false;
	if (strcmp(ic + 1, "*") && strcmp(ic + 1, ec + 1))
		return false;
	in = (size_t)(ic - item);
	en = (size_t)(ec - endpoint);
	if (in >= sizeof(ih) || en >= sizeof(eh))
		return false;
	memcpy(ih, item, in);
	ih[in] = '\0';
	memcpy(eh, endpoint, en);
	eh[en] = '\0';
	if (ih[0] == '[' || eh[0] == '[') {
		/* IPv6: the same address, however it is spelt */
		if (ih[0] != '[' || eh[0] != '[' || in < 3 || en < 3)
			return false;
		ih[in - 1] = eh[en - 1] = '\0';
		return inet_pton(AF_INET6, ih + 1, &ia) == 1 &&
		       inet_pton(AF_INET6, eh + 1, &ea) == 1 &&
		       !memcmp(&ia, &ea, sizeof(ia));
	}
	return fnmatch(ih, eh, FNM_CASEFOLD) == 0;
}

bool policy_nbd_endpoint_allowed(const struct policy_limits *lim,
				 const struct policy_user *u,
				 const char *endpoint)
{
	char item[POLICY_VALUE_MAX], pat[PATH_MAX];
	const char *list = lim->nbd_endpoints;
	struct uerr err;

	if (!strcmp(list, "any"))
		return true;
	if (!strcmp(list, "none"))
		return false;
	while ((list = policy_list_next(list, item, sizeof(item)))) {
		bool path_item = item[0] == '/' || item[0] == '%';

		if (path_item != (endpoint[0] == '/'))
			continue;
		if (!path_item) {
			if (tcp_endpoint_match(item, endpoint))
				return true;
			continue;
		}
		/* '*' does not cross '/' */
		if (expand(item, u, pat, sizeof(pat), true, &err) == 0 &&
		    fnmatch(pat, endpoint, FNM_PATHNAME) == 0)
			return true;
	}
	return false;
}

static int refuse(const struct policy_limits *lim, enum policy_key key,
		  struct uerr *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "<what>: <rule>" */
static int refuse(const struct policy_limits *lim, enum policy_key key,
		  struct uerr *err, const char *fmt, ...)
{
	char what[PATH_MAX + 128], rule[POLICY_VALUE_MAX + PATH_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return uerr_set(err, EACCES, "%s: %s", what,
			policy_rule_str(lim, key, rule, sizeof(rule)));
}

int policy_check(const struct policy_limits *lim, const struct policy_user *u,
		 const struct policy_request *r, struct uerr *err)
{
	char who[300], size[32];

	policy_user_str(u, who, sizeof(who));
	if (!lim->allow)
		return refuse(lim, POLICY_ALLOW, err,
			      "%s may not create ublk devices", who);
	if (r->container && !lim->containers)
		return refuse(lim, POLICY_CONTAINERS, err,
			      "%s may not have per-container disks", who);
	if (r->target && !policy_target_allowed(lim, r->target))
		return refuse(lim, POLICY_TARGETS, err,
			      "target %s is not allowed", r->target);
	if ((r->flags & UBLK_F_SHMEM_ZC) && !lim->shmem_zc)
		return refuse(lim, POLICY_SHMEM_ZC, err,
			      "UBLK_F_SHMEM_ZC is not allowed");
	if (r->shmem && !lim->shmem_zc)
		return refuse(lim, POLICY_SHMEM_ZC, err,
			      "shared-memory zero copy is not allowed");
	if (r->shmem > lim->max_shmem)
		return refuse(lim, POLICY_MAX_SHMEM, err,
			      "%s of shared memory is more than allowed",
			      format_size(r->shmem, size, sizeof(size)));
	if (r->locked && !lim->mlock)
		return refuse(lim, POLICY_MLOCK, err,
			      "locking I/O memory is not allowed");
	if (r->locked > lim->max_locked)
		return refuse(lim, POLICY_MAX_LOCKED, err,
			      "locking %s is more than allowed",
			      format_size(r->locked, size, sizeof(size)));
	if (r->nr_queues > lim->max_queues)
		return refuse(lim, POLICY_MAX_QUEUES, err,
			      "%u queues are more than allowed", r->nr_queues);
	if (r->queue_depth > lim->max_queue_depth)
		return refuse(lim, POLICY_MAX_QUEUE_DEPTH, err,
			      "queue depth %u is more than allowed",
			      r->queue_depth);
	if (r->size > lim->max_size)
		return refuse(lim, POLICY_MAX_SIZE, err,
			      "size %s is more than allowed",
			      format_size(r->size, size, sizeof(size)));
	if (r->backing && !path_in_dirs(lim->backing_dirs, u, r->backing))
		return refuse(lim, POLICY_BACKING_DIRS, err,
			      "backing file %s is not in an allowed directory",
			      r->backing);
	if (r->nbd_endpoint &&
	    !policy_nbd_endpoint_allowed(lim, u, r->nbd_endpoint))
		return refuse(lim, POLICY_NBD_ENDPOINTS, err,
			      "NBD server %s is not an allowed endpoint",
			      r->nbd_endpoint);
	if (r->writable && lim->read_only)
		return refuse(lim, POLICY_READ_ONLY, err,
			      "%s may have read-only disks only (add "
			      "--read-only)",
			      who);
	if (r->writable && r->backing &&
	    path_in_dirs(lim->read_only_dirs, u, r->backing))
		return refuse(lim, POLICY_READ_ONLY_DIRS, err,
			      "backing file %s may be served read-only only "
			      "(add --read-only)",
			      r->backing);
	if (r->nr_devices > 0 && (uint64_t)r->nr_devices > lim->max_devices)
		return refuse(lim, POLICY_MAX_DEVICES, err,
			      "%s already has %ld device%s", who,
			      r->nr_devices - 1, r->nr_devices == 2 ? "" : "s");
	return 0;
}
