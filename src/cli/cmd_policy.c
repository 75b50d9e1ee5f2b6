// SPDX-License-Identifier: MIT
/* ublk-user policy check|show: the administrator's policy, read as is. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "policy/policy.h"

static const char policy_usage[] =
	"Usage: ublk-user policy check [FILE...]\n"
	"       ublk-user policy show [--user USER] [--json]\n"
	"\n"
	"check  read the installed policy (" POLICY_DIR "/policy.conf and\n"
	"       policy.d/*.conf), or only the FILEs given, and report every\n"
	"       error as FILE:LINE; exit status 1 when there is one\n"
	"show   the limits that apply to you (or USER: a name or uid), and\n"
	"       the file and line that set each\n"
	"\n"
	"  -u, --user USER  whose limits to show\n"
	"      --json       print a JSON object\n"
	"  -h, --help       show this text\n";

const struct cli_opts policy_opts = { .usage = policy_usage };
const struct cli_opts policy_check_opts = { .usage = policy_usage };
static const struct option policy_show_longopts[] = {
	{ "user", required_argument, NULL, 'u' },
	{ "json", no_argument, NULL, 'j' },
	{ 0 },
};

const struct cli_opts policy_show_opts = {
	.usage = policy_usage,
	.shortopts = "u:",
	.longopts = policy_show_longopts,
};

static void print_errors(const struct policy *p)
{
	unsigned int i;

	for (i = 0; i < p->nr_errors && i < POLICY_MAX_ERRORS; i++)
		fprintf(stderr, "%s\n", p->errors[i]);
	if (p->nr_errors > POLICY_MAX_ERRORS)
		fprintf(stderr, "(%u more errors)\n",
			p->nr_errors - POLICY_MAX_ERRORS);
}

int cmd_policy_check(struct cli_args *a)
{
	struct policy p;
	unsigned int i;
	int c, ret;

	while ((c = cli_next_opt(a)) > 0)
		;
	if (c == CLI_EXIT)
		return a->status;
	if (a->nargs > 0)
		ret = policy_load_files(&p, a->args, a->nargs);
	else
		ret = policy_load(&p, POLICY_DIR, 0);
	if (ret < 0) {
		print_errors(&p);
		fprintf(stderr, "%s: %u error%s: %s\n", prog_name, p.nr_errors,
			p.nr_errors == 1 ? "" : "s",
			a->nargs > 0 ? "not a valid policy" :
				       "the policy is invalid, so every "
				       "request "
				       "is refused until it is fixed");
		policy_free(&p);
		return EXIT_FAIL;
	}
	if (!p.nr_files)
		printf("no policy files in %s: the built-in default "
		       "applies\n",
		       POLICY_DIR);
	for (i = 0; i < p.nr_files; i++)
		printf("%s: ok\n", p.files[i]);
	policy_free(&p);
	return EXIT_OK;
}

/* The value of key as JSON: bool, number, "unlimited", "any" or a list */
static json_object *value_json(const struct policy_limits *lim,
			       enum policy_key key)
{
	char item[POLICY_VALUE_MAX], value[POLICY_VALUE_MAX];
	const char *text, *l;
	json_object *arr;
	uint64_t v;

	if (policy_key_is_bool(key))
		return json_object_new_boolean(policy_limit_num(lim, key));
	if (!policy_key_is_list(key)) {
		v = policy_limit_num(lim, key);
		if (v == POLICY_UNLIMITED)
			return json_object_new_string("unlimited");
		return json_object_new_int64((int64_t)v);
	}
	text = policy_value_str(lim, key, value, sizeof(value));
	if (!strcmp(text, "any") || !strcmp(text, "none"))
		return json_object_new_string(text);
	arr = json_object_new_array();
	for (l = text; (l = policy_list_next(l, item, sizeof(item)));)
		json_object_array_add(arr, json_object_new_string(item));
	return arr;
}

/* backing_dirs or read_only_dirs as they are for u: expanded */
static json_object *expanded_json(const struct policy_limits *lim,
				  enum policy_key key,
				  const struct policy_user *u)
{
	char item[POLICY_VALUE_MAX], dir[PATH_MAX];
	json_object *arr = json_object_new_array();
	const char *l = policy_limit_text(lim, key);
	struct uerr err;

	if (!strcmp(l, "any") || !strcmp(l, "none"))
		return arr;
	while ((l = policy_list_next(l, item, sizeof(item))))
		if (policy_expand(item, u, dir, sizeof(dir), &err) == 0)
			json_object_array_add(arr, json_object_new_string(dir));
	return arr;
}

static json_object *user_json(json_object *o, const struct policy_user *u)
{
	json_object *groups = json_object_new_array();
	char name[64];
	unsigned int i;

	json_object_object_add(
		o, "user", u->known ? json_object_new_string(u->name) : NULL);
	json_object_object_add(o, "uid", json_object_new_int64(u->uid));
	for (i = 0; i < u->nr_groups; i++)
		json_object_array_add(
			groups, json_object_new_string(policy_group_name(
					u->groups[i], name, sizeof(name))));
	json_object_object_add(o, "groups", groups);
	return o;
}

static void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(
			       o, JSON_C_TO_STRING_PRETTY |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int show_json(const struct policy *p, const struct policy_user *u,
		     const struct policy_limits *lim, bool valid)
{
	json_object *o = json_object_new_object(), *files, *errors, *limits;
	char sec[POLICY_NAME_MAX + 16];
	unsigned int i, k;

	user_json(o, u);
	json_object_object_add(o, "valid", json_object_new_boolean(valid));
	files = json_object_new_array();
	for (i = 0; i < p->nr_files; i++)
		json_object_array_add(files,
				      json_object_new_string(p->files[i]));
	json_object_object_add(o, "files", files);
	errors = json_object_new_array();
	for (i = 0; i < p->nr_errors && i < POLICY_MAX_ERRORS; i++)
		json_object_array_add(errors,
				      json_object_new_string(p->errors[i]));
	json_object_object_add(o, "errors", errors);
	if (!valid) {
		json_object_object_add(o, "limits", NULL);
		print_json(o);
		return EXIT_FAIL;
	}
	limits = json_object_new_object();
	for (k = 0; k < POLICY_NR_KEYS; k++) {
		const struct policy_origin *org = &lim->origin[k];
		json_object *l = json_object_new_object();

		json_object_object_add(l, "value", value_json(lim, k));
		if (k == POLICY_BACKING_DIRS || k == POLICY_READ_ONLY_DIRS)
			json_object_object_add(l, "expanded",
					       expanded_json(lim, k, u));
		json_object_object_add(
			l, "section",
			json_object_new_string(policy_section_str(
				org->scope, org->name, sec, sizeof(sec))));
		json_object_object_add(
			l, "file",
			org->file ? json_object_new_string(org->file) : NULL);
		json_object_object_add(
			l, "line",
			org->file ? json_object_new_int(org->line) : NULL);
		json_object_object_add(limits, policy_key_name(k), l);
	}
	json_object_object_add(o, "limits", limits);
	print_json(o);
	return EXIT_OK;
}

static void show_text(const struct policy *p, const struct policy_user *u,
		      const struct policy_limits *lim)
{
	char value[POLICY_VALUE_MAX], origin[PATH_MAX + 128], name[64];
	char item[POLICY_VALUE_MAX], dir[PATH_MAX];
	const char *l;
	unsigned int i, k;
	struct uerr err;

	printf("policy for %s (uid %u; groups", u->known ? u->name : "?",
	       (unsigned int)u->uid);
	for (i = 0; i < u->nr_groups; i++)
		printf(" %s",
		       policy_group_name(u->groups[i], name, sizeof(name)));
	printf(")\n");
	if (!p->nr_files)
		printf("no policy files in %s: the built-in default "
		       "applies\n",
		       POLICY_DIR);
	for (i = 0; i < p->nr_files; i++)
		printf("file %s\n", p->files[i]);
	for (k = 0; k < POLICY_NR_KEYS; k++) {
		printf("%-16s %-12s %s\n", policy_key_name(k),
		       policy_value_str(lim, k, value, sizeof(value)),
		       policy_origin_str(&lim->origin[k], origin,
					 sizeof(origin)));
		if ((k != POLICY_BACKING_DIRS && k != POLICY_READ_ONLY_DIRS) ||
		    !strcmp(value, "any") || !strcmp(value, "none"))
			continue;
		for (l = value; (l = policy_list_next(l, item, sizeof(item)));)
			if (policy_expand(item, u, dir, sizeof(dir), &err) == 0)
				printf("%-16s   %s\n", "", dir);
	}
}

int cmd_policy_show(struct cli_args *a)
{
	struct policy_who who = { .uid = geteuid(), .gid = getegid() };
	struct policy_answer ans;
	bool json = false;
	struct uerr err;
	int c, ret;

	while ((c = cli_next_opt(a)) > 0) {
		switch (c) {
		case 'u':
			who.name = optarg;
			break;
		case 'j':
			json = true;
			break;
		}
	}
	if (c == CLI_EXIT)
		return a->status;

	uerr_clear(&err);
	/* An invalid policy is shown with its errors, not just refused. */
	if (policy_ask(&ans, POLICY_DIR, 0, &who, &err) < 0 && !ans.have_user) {
		cli_error(&err);
		ret = EXIT_FAIL;
	} else if (json) {
		ret = show_json(&ans.policy, &ans.user, &ans.lim, ans.valid);
	} else if (!ans.valid) {
		print_errors(&ans.policy);
		cli_error(&err);
		ret = EXIT_FAIL;
	} else {
		show_text(&ans.policy, &ans.user, &ans.lim);
		ret = EXIT_OK;
	}
	policy_answer_free(&ans);
	return ret;
}
