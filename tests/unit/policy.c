// SPDX-License-Identifier: MIT
/*
 * The policy parser and evaluator (src/policy/policy.c): syntax, values,
 * every error with its file:line, precedence and origins, the checks
 * and their messages, and the built-in defaults against the shipped
 * policy/policy.conf.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "policy/policy.h"
#include "uapi/ublk_abi.h"

#define G 1073741824ULL

/* A user with uid 1000, primary group 1000, member of 2000 and 3000. */
static gid_t groups[] = { 1000, 2000, 3000 };
static struct policy_user alice = {
	.uid = 1000,
	.gid = 1000,
	.known = true,
	.name = "alice",
	.home = "/home/alice",
	.groups = groups,
	.nr_groups = 3,
};
static struct policy_user nobody = {
	.uid = 4242,
	.gid = 4242,
};

static unsigned int parse(struct policy *p, const char *text)
{
	policy_init(p);
	return policy_parse(p, "t.conf", text, strlen(text));
}

/* text has exactly one error, and it is want (with file:line) */
static void one_error(const char *text, const char *want, const char *name)
{
	struct policy p;
	unsigned int n = parse(&p, text);

	if (!is_int(n, 1, "%s: one error", name)) {
		for (unsigned int i = 0; i < p.nr_errors && i < 5; i++)
			diag("error: %s", p.errors[i]);
	}
	is_str(p.nr_errors ? p.errors[0] : "", want, "%s: message", name);
	policy_free(&p);
}

static void eval_ok(const char *text, const struct policy_user *u,
		    struct policy_limits *lim, const char *name)
{
	struct policy p;
	struct uerr err;

	if (!is_int(parse(&p, text), 0, "%s: parses", name))
		diag("first error: %s", p.nr_errors ? p.errors[0] : "");
	uerr_clear(&err);
	if (!is_int(policy_eval(&p, u, lim, &err), 0, "%s: evaluates", name))
		diag("%s", err.msg);
	/* Origins point into p: keep what the tests look at. */
	for (unsigned int k = 0; k < POLICY_NR_KEYS; k++)
		if (lim->origin[k].file)
			lim->origin[k].file = "t.conf";
	policy_free(&p);
}

static void test_syntax(void)
{
	struct policy_limits lim;
	struct policy p;

	note("syntax");
	is_int(parse(&p, ""), 0, "an empty file is fine");
	is_int(p.nr_sections, 0, "  and has no sections");
	policy_free(&p);
	is_int(parse(&p, "# comment\n; another\n\n   \t\n[default]\n"), 0,
	       "comments, blank lines and an empty section");
	is_int(p.nr_sections, 1, "  one section");
	policy_free(&p);
	is_int(parse(&p, "[default]\r\nmax_devices = 3\r\n"), 0,
	       "CRLF line ends");
	policy_free(&p);
	is_int(parse(&p, "  [default]  \n\tmax_devices=3   \nallow =yes"), 0,
	       "blanks around everything, no newline at the end");
	policy_free(&p);

	eval_ok("[default]\nmax_devices = 3\n[group:2000]\nmax_devices = 4\n"
		"[user:1000]\nmax_size = 2G\n[group:alice]\n",
		&nobody, &lim, "numeric sections");
	is_u64(lim.max_devices, 3, "  [group:2000] does not apply to others");

	one_error("max_devices = 2\n",
		  "t.conf:1: 'max_devices' is outside a section (start with "
		  "[default], [group:NAME] or [user:NAME])",
		  "a key before any section");
	one_error("[default]\nmax_device = 2\n",
		  "t.conf:2: unknown key 'max_device' (known: allow, "
		  "max_devices, max_size, max_queues, max_queue_depth, "
		  "targets, backing_dirs, nbd_endpoints, shmem_zc, max_shmem, "
		  "mlock, "
		  "max_locked, containers, read_only, read_only_dirs)",
		  "an unknown key");
	one_error("[default]\nMax_Devices = 2\n",
		  "t.conf:2: unknown key 'Max_Devices' (known: allow, "
		  "max_devices, max_size, max_queues, max_queue_depth, "
		  "targets, backing_dirs, nbd_endpoints, shmem_zc, max_shmem, "
		  "mlock, "
		  "max_locked, containers, read_only, read_only_dirs)",
		  "keys are case-sensitive");
	one_error("[default]\n\n# c\nmax_devices = 2\nmax_devices = 3\n",
		  "t.conf:5: duplicate key 'max_devices' in [default] (first "
		  "at line 4)",
		  "a duplicate key");
	one_error("[group:ublk]\nallow = yes\nallow = no\n",
		  "t.conf:3: duplicate key 'allow' in [group:ublk] (first at "
		  "line 2)",
		  "a duplicate key in a group section");
	one_error("[default]\nallow = yes\n[default]\nmax_size = 1G\n",
		  "t.conf:3: section [default] is already at line 1 (one "
		  "section per file)",
		  "a section twice in one file");
	one_error("[user:bob]\n[user:alice]\n[user:bob]\n",
		  "t.conf:3: section [user:bob] is already at line 1 (one "
		  "section per file)",
		  "a user section twice in one file");
	one_error("[defaults]\n",
		  "t.conf:1: unknown section [defaults] (use [default], "
		  "[group:NAME] or [user:NAME])",
		  "an unknown section");
	one_error("[default\n", "t.conf:1: a section header must end with ']'",
		  "an unclosed header");
	one_error("[]\n",
		  "t.conf:1: unknown section [] (use [default], "
		  "[group:NAME] or [user:NAME])",
		  "an empty header");
	one_error("[group:]\n", "t.conf:1: '' in [group:] is not a group name",
		  "a group without a name");
	one_error("[user:a b]\n",
		  "t.conf:1: 'a b' in [user:a b] is not a user name",
		  "a blank in a name");
	one_error("[user:-x]\n",
		  "t.conf:1: '-x' in [user:-x] is not a user name",
		  "a name starting with '-'");
	one_error("[user:abcdefghijabcdefghijabcdefghijabc]\n",
		  "t.conf:1: 'abcdefghijabcdefghijabcdefghijabc' in "
		  "[user:abcdefghijabcdefghijabcdefghijabc] is not a user name",
		  "a name of 33 characters");
	one_error("[user:4294967295]\n",
		  "t.conf:1: user id 4294967295 in [user:4294967295] is out "
		  "of range",
		  "uid -1");
	one_error("[ default ]\n",
		  "t.conf:1: unknown section [ default ] (use [default], "
		  "[group:NAME] or [user:NAME])",
		  "blanks inside the brackets");
	one_error("[default]\nallow\n",
		  "t.conf:2: expected 'key = value', a [section] or a # "
		  "comment",
		  "a line without '='");
	one_error("[default]\nallow =\n",
		  "t.conf:2: allow: a value is required", "an empty value");
	one_error("[default]\nmax_devices = 2 # two\n",
		  "t.conf:2: a comment after a value: put it on a line of its "
		  "own",
		  "no comments after a value");
	one_error("[default]\nbacking_dirs = /srv/images\t; shared\n",
		  "t.conf:2: a comment after a value: put it on a line of its "
		  "own",
		  "  nor after a blank and ';' (a directory would be named "
		  "'/srv/images ; shared')");
	one_error("[default] # everyone\n",
		  "t.conf:1: a comment after a value: put it on a line of its "
		  "own",
		  "  nor after a section header");
	one_error("[default]\nmax_devices = 2#two\n",
		  "t.conf:2: max_devices: '2#two' is not a number",
		  "  a '#' with no blank before it is the value's");
	is_int(parse(&p, "[x\nallow = yes\nallow = no\nmlock = maybe\n"
			 "[default]\n"),
	       3, "keys after a bad header are still checked");
	is_str(p.errors[1],
	       "t.conf:3: duplicate key 'allow' in this section (first at "
	       "line 2)",
	       "  for duplicates");
	is_str(p.errors[2], "t.conf:4: mlock: 'maybe' is not yes or no",
	       "  and values");
	is_int(p.nr_sections, 1, "  but go into no section");
	policy_free(&p);

	/* Errors go on: every one is reported, each with its line. */
	is_int(parse(&p, "[default]\nfoo = 1\nbar = 2\nallow = maybe\n"), 3,
	       "three errors in one file");
	is_int(p.nr_errors, 3, "  all counted");
	like(p.errors[2], "^t.conf:4: allow: 'maybe' is not yes or no$",
	     "  the third names line 4");
	policy_free(&p);

	{
		char buf[64] = "[default]\nallow = yes\n";
		struct policy q;

		buf[12] = '\0';
		policy_init(&q);
		is_int(policy_parse(&q, "t.conf", buf, 22), 1,
		       "a NUL byte is an error");
		is_str(q.errors[0], "t.conf:2: a NUL byte (not a text file?)",
		       "  naming its line");
		policy_free(&q);
	}
	{
		char *big = malloc(POLICY_LINE_MAX + 32);

		strcpy(big, "[default]\n# ");
		memset(big + 12, 'x', POLICY_LINE_MAX);
		big[12 + POLICY_LINE_MAX] = '\0';
		is_int(parse(&p, big), 1, "an over-long line is an error");
		is_str(p.errors[0], "t.conf:2: line longer than 4095 bytes",
		       "  naming its line");
		policy_free(&p);
		free(big);
	}
	{
		char *many = malloc(200 * 16);
		size_t used = 0;

		for (int i = 0; i < 200; i++)
			used += sprintf(many + used, "bad line %d\n", i);
		is_int(parse(&p, many), 200, "200 errors are all counted");
		is_int(p.nr_errors, 200, "  in nr_errors");
		is_str(p.errors[POLICY_MAX_ERRORS - 1],
		       "t.conf:64: expected 'key = value', a [section] or a # "
		       "comment",
		       "  the first 64 are kept");
		policy_free(&p);
		free(many);
	}
}

static void test_values(void)
{
	struct policy_limits lim;

	note("values");
	eval_ok("[default]\nallow = no\nshmem_zc = true\nmlock = yes\n"
		"containers = false\n",
		&alice, &lim, "booleans");
	ok(!lim.allow && lim.shmem_zc && lim.mlock && !lim.containers, "  "
								       "yes/no/"
								       "true/"
								       "false");
	one_error("[default]\nallow = Yes\n",
		  "t.conf:2: allow: 'Yes' is not yes or no",
		  "booleans are lower case");
	one_error("[default]\nmlock = 1\n",
		  "t.conf:2: mlock: '1' is not yes or no",
		  "1 is not a boolean");

	eval_ok("[default]\nmax_devices = 0\nmax_queues = 4096\n"
		"max_queue_depth = 1\n",
		&alice, &lim, "counts at their bounds");
	is_u64(lim.max_devices, 0, "  max_devices 0");
	is_u64(lim.max_queues, 4096, "  max_queues 4096");
	is_u64(lim.max_queue_depth, 1, "  max_queue_depth 1");
	eval_ok("[default]\nmax_devices = unlimited\n", &alice, &lim,
		"unlimited devices");
	is_u64(lim.max_devices, POLICY_UNLIMITED, "  is POLICY_UNLIMITED");
	one_error("[default]\nmax_queues = 0\n",
		  "t.conf:2: max_queues: 0 is out of range (1..4096)",
		  "zero queues");
	one_error("[default]\nmax_queue_depth = 4097\n",
		  "t.conf:2: max_queue_depth: 4097 is out of range (1..4096)",
		  "a depth above the kernel's");
	one_error("[default]\nmax_queues = unlimited\n",
		  "t.conf:2: max_queues: 'unlimited' is not a number",
		  "queues cannot be unlimited");
	one_error("[default]\nmax_devices = 1048577\n",
		  "t.conf:2: max_devices: 1048577 is out of range (0..1048576)",
		  "more devices than ids");
	one_error("[default]\nmax_devices = -1\n",
		  "t.conf:2: max_devices: '-1' is not a number",
		  "a negative count");
	one_error("[default]\nmax_devices = 2K\n",
		  "t.conf:2: max_devices: '2K' is not a number",
		  "a count with a unit");

	eval_ok("[default]\nmax_size = 2G\nmax_shmem = 0\nmax_locked = 512K\n",
		&alice, &lim, "sizes");
	is_u64(lim.max_size, 2 * G, "  max_size 2G");
	is_u64(lim.max_shmem, 0, "  max_shmem 0");
	is_u64(lim.max_locked, 512 << 10, "  max_locked 512K");
	eval_ok("[default]\nmax_size = 1T\nmax_locked = unlimited\n", &alice,
		&lim, "more sizes");
	is_u64(lim.max_size, 1024 * G, "  1T");
	is_u64(lim.max_locked, POLICY_UNLIMITED, "  unlimited");
	one_error("[default]\nmax_size = 0\n",
		  "t.conf:2: max_size: size must not be zero", "max_size 0");
	one_error("[default]\nmax_size = 1.5G\n",
		  "t.conf:2: max_size: '1.5G': whole numbers only (1536M, "
		  "not 1.5G)",
		  "a fraction");
	one_error("[default]\nmax_size = 2P\n",
		  "t.conf:2: max_size: unknown unit 'P' in '2P' (use K, M, G "
		  "or T)",
		  "an unknown unit");
	one_error("[default]\nmax_size = 99999999999T\n",
		  "t.conf:2: max_size: '99999999999T' is too large",
		  "an overflow");

	eval_ok("[default]\ntargets = null , loop\n", &alice, &lim, "targets");
	is_str(lim.targets, "null,loop", "  normalised");
	ok(policy_target_allowed(&lim, "loop") &&
		   !policy_target_allowed(&lim, "mem") &&
		   !policy_target_allowed(&lim, "nul"),
	   "  loop is in, mem and nul are not");
	eval_ok("[default]\ntargets = any\n", &alice, &lim, "targets any");
	ok(policy_target_allowed(&lim, "mem"), "  any target");
	one_error("[default]\ntargets = null,,loop\n",
		  "t.conf:2: targets: empty item in 'null,,loop'",
		  "an empty item");
	one_error("[default]\ntargets = null, null\n",
		  "t.conf:2: targets: 'null' is listed twice",
		  "a target twice");
	one_error("[default]\ntargets = null, any\n",
		  "t.conf:2: targets: 'any' must stand alone, not in a list",
		  "any in a list");
	one_error("[default]\ntargets = none\n",
		  "t.conf:2: targets: 'none' is not a target (to allow no "
		  "device at all, say allow = no)",
		  "targets none");
	one_error("[default]\ntargets = Loop\n",
		  "t.conf:2: targets: 'Loop' is not a target name",
		  "an upper-case target");

	eval_ok("[default]\nbacking_dirs = %h/img, /srv/%u , /var/%U/%%\n",
		&alice, &lim, "backing_dirs");
	is_str(lim.backing_dirs, "%h/img,/srv/%u,/var/%U/%%", "  normalised");
	eval_ok("[default]\nbacking_dirs = none\n", &alice, &lim,
		"backing_dirs none");
	is_str(lim.backing_dirs, "none", "  none");
	one_error("[default]\nbacking_dirs = img\n",
		  "t.conf:2: backing_dirs: 'img' is not an absolute directory "
		  "(start with / or %h)",
		  "a relative directory");
	one_error("[default]\nbacking_dirs = /srv/%x\n",
		  "t.conf:2: backing_dirs: unknown '%x' in '/srv/%x' (use %u, "
		  "%U, %h or %%)",
		  "an unknown escape");
	one_error("[default]\nbacking_dirs = /srv/%\n",
		  "t.conf:2: backing_dirs: unknown '%' in '/srv/%' (use %u, "
		  "%U, %h or %%)",
		  "a lone %");
	one_error("[default]\nbacking_dirs = /srv, none\n",
		  "t.conf:2: backing_dirs: 'none' must stand alone, not in a "
		  "list",
		  "none in a list");
	{
		char v[POLICY_VALUE_MAX + 32];

		strcpy(v, "[default]\nbacking_dirs = /");
		memset(v + strlen(v), 'a', POLICY_VALUE_MAX);
		v[POLICY_VALUE_MAX + 26] = '\0';
		one_error(v,
			  "t.conf:2: backing_dirs: value longer than 1023 "
			  "bytes",
			  "a value that is too long");
	}
}

static void test_precedence(void)
{
	struct policy_limits lim;
	char buf[512];

	note("precedence: default, then groups, then the user; later wins");
	eval_ok("[user:1000]\nmax_devices = 1\n"
		"[group:3000]\nmax_devices = 3\nmax_size = 3G\n"
		"[group:2000]\nmax_devices = 2\n"
		"[default]\nmax_devices = 9\nmax_size = 9G\nmax_queues = 9\n",
		&alice, &lim, "all sections in one file");
	is_u64(lim.max_devices, 1, "  the user section wins, though first");
	is_u64(lim.max_size, 3 * G, "  a group beats [default]");
	is_u64(lim.max_queues, 9, "  [default] beats the built-in");
	is_u64(lim.max_queue_depth, 1024, "  built-in where nothing is set");
	is_int(lim.origin[POLICY_MAX_DEVICES].line, 2, "  origin line");
	is_int(lim.origin[POLICY_MAX_DEVICES].scope, POLICY_SCOPE_USER,
	       "  origin scope");
	is_str(policy_rule_str(&lim, POLICY_MAX_DEVICES, buf, sizeof(buf)),
	       "max_devices=1 for user 1000 (t.conf:2)", "  rule of the user");
	is_str(policy_rule_str(&lim, POLICY_MAX_SIZE, buf, sizeof(buf)),
	       "max_size=3G for group 3000 (t.conf:5)", "  rule of a group");
	is_str(policy_rule_str(&lim, POLICY_MAX_QUEUES, buf, sizeof(buf)),
	       "max_queues=9 for everyone (t.conf:11)", "  rule of [default]");
	is_str(policy_rule_str(&lim, POLICY_MAX_QUEUE_DEPTH, buf, sizeof(buf)),
	       "max_queue_depth=1024 (built-in default)", "  built-in rule");

	eval_ok("[group:2000]\nmax_devices = 2\n[group:3000]\nmax_devices = "
		"3\n",
		&alice, &lim, "two groups");
	is_u64(lim.max_devices, 3, "  the later group section wins");
	eval_ok("[group:3000]\nmax_devices = 3\n[group:2000]\nmax_devices = "
		"2\n",
		&alice, &lim, "two groups, other order");
	is_u64(lim.max_devices, 2, "  the later group section wins again");
	eval_ok("[group:1000]\nallow = no\n", &alice, &lim, "primary group");
	ok(!lim.allow, "  a section of the primary group applies");
	eval_ok("[group:5000]\nallow = no\n[user:1001]\nallow = no\n", &alice,
		&lim, "other group and user");
	ok(lim.allow, "  sections of others do not apply");

	{
		struct policy p;
		struct uerr err;

		policy_init(&p);
		policy_parse(&p, "a.conf", "[default]\nmax_devices = 4\n", 26);
		policy_parse(&p, "b.conf", "[default]\nmax_devices = 5\n", 26);
		is_int(p.nr_errors, 0, "[default] in two files is fine");
		policy_eval(&p, &alice, &lim, &err);
		is_u64(lim.max_devices, 5, "  the later file wins");
		is_str(lim.origin[POLICY_MAX_DEVICES].file, "b.conf",
		       "  and is the origin");
		policy_free(&p);

		policy_init(&p);
		policy_parse(&p, "a.conf", "[default]\nfoo = 4\n", 18);
		policy_parse(&p, "b.conf", "[default]\nmax_devices = 5\n", 26);
		uerr_clear(&err);
		is_int(policy_eval(&p, &alice, &lim, &err), -EACCES,
		       "an invalid policy does not evaluate");
		ok(!lim.allow, "  and allows nothing");
		like(err.msg,
		     "^the ublk-user policy is invalid, so every request is "
		     "refused: a.conf:2: unknown key 'foo'",
		     "  the error names the first problem");
		policy_error(&p, "c.conf", 0, "not owned by root");
		policy_invalid_error(&p, &err);
		like(err.msg, "\\(and 1 more; see 'ublk-user policy check'\\)$",
		     "  and counts the others");
		policy_free(&p);
	}
}

static void check_refused(const struct policy_limits *lim,
			  const struct policy_request *r, const char *want,
			  const char *name)
{
	struct uerr err;

	uerr_clear(&err);
	is_int(policy_check(lim, &alice, r, &err), -EACCES, "%s: refused",
	       name);
	is_str(err.msg, want, "%s: reason", name);
}

static void test_check(void)
{
	struct policy_request r = { 0 };
	struct policy_limits lim;
	struct uerr err;

	note("policy_check");
	eval_ok("[default]\nmax_devices = 2\nmax_size = 1G\nmax_queues = 2\n"
		"max_queue_depth = 64\ntargets = null,loop\n"
		"backing_dirs = %h, /tmp\nmax_locked = 1M\nmax_shmem = 2M\n"
		"mlock = no\n[group:2000]\nmax_devices = 3\n",
		&alice, &lim, "a strict policy");
	r.target = "loop";
	r.backing = "/tmp/x.img";
	r.size = G;
	r.nr_queues = 2;
	r.queue_depth = 64;
	r.flags = UBLK_F_UNPRIVILEGED_DEV;
	r.nr_devices = 3;
	is_int(policy_check(&lim, &alice, &r, &err), 0,
	       "a request at every limit is allowed");

	r.nr_devices = 4;
	check_refused(&lim, &r,
		      "alice already has 3 devices: max_devices=3 for group "
		      "2000 (t.conf:12)",
		      "one device too many");
	r.nr_devices = 2;
	r.size = G + 512;
	check_refused(&lim, &r,
		      "size 1073742336 is more than allowed: max_size=1G for "
		      "everyone (t.conf:3)",
		      "too large");
	r.size = 0;
	r.nr_queues = 3;
	check_refused(&lim, &r,
		      "3 queues are more than allowed: max_queues=2 for "
		      "everyone (t.conf:4)",
		      "too many queues");
	r.nr_queues = 1;
	r.queue_depth = 65;
	check_refused(&lim, &r,
		      "queue depth 65 is more than allowed: max_queue_depth=64 "
		      "for everyone (t.conf:5)",
		      "too deep");
	r.queue_depth = 0;
	r.target = "mem";
	check_refused(&lim, &r,
		      "target mem is not allowed: targets=null,loop for "
		      "everyone (t.conf:6)",
		      "a target not listed");
	r.target = NULL;
	r.backing = "/srv/x.img";
	check_refused(&lim, &r,
		      "backing file /srv/x.img is not in an allowed directory: "
		      "backing_dirs=%h,/tmp for everyone (t.conf:7)",
		      "a backing file elsewhere");
	r.backing = "/tmpfoo/x.img";
	check_refused(&lim, &r,
		      "backing file /tmpfoo/x.img is not in an allowed "
		      "directory: backing_dirs=%h,/tmp for everyone (t.conf:7)",
		      "a directory that only starts like one allowed");
	r.backing = "/tmp";
	check_refused(&lim, &r,
		      "backing file /tmp is not in an allowed directory: "
		      "backing_dirs=%h,/tmp for everyone (t.conf:7)",
		      "the directory itself");
	r.backing = "/tmp/a/b/c.img";
	is_int(policy_check(&lim, &alice, &r, &err), 0,
	       "a file deeper in an allowed directory");
	r.backing = NULL;
	r.flags |= UBLK_F_SHMEM_ZC;
	check_refused(&lim, &r,
		      "UBLK_F_SHMEM_ZC is not allowed: shmem_zc=no (built-in "
		      "default)",
		      "SHMEM_ZC");
	r.flags = 0;
	r.locked = 4096;
	check_refused(&lim, &r,
		      "locking I/O memory is not allowed: mlock=no for "
		      "everyone (t.conf:10)",
		      "mlock not granted");
	lim.mlock = true;
	r.locked = 2 << 20;
	check_refused(&lim, &r,
		      "locking 2M is more than allowed: max_locked=1M for "
		      "everyone (t.conf:8)",
		      "locking too much");
	r.locked = 1 << 20;
	is_int(policy_check(&lim, &alice, &r, &err), 0,
	       "locking max_locked is allowed");
	r.locked = 0;
	r.shmem = 4096;
	check_refused(&lim, &r,
		      "shared-memory zero copy is not allowed: shmem_zc=no "
		      "(built-in default)",
		      "shared memory not granted");
	lim.shmem_zc = true;
	r.shmem = 3 << 20;
	check_refused(&lim, &r,
		      "3M of shared memory is more than allowed: max_shmem=2M "
		      "for everyone (t.conf:9)",
		      "too much shared memory");
	r.shmem = 0;
	r.container = true;
	is_int(policy_check(&lim, &alice, &r, &err), 0,
	       "containers are allowed by default");
	lim.containers = false;
	check_refused(&lim, &r,
		      "alice may not have per-container disks: containers=no "
		      "(built-in default)",
		      "containers refused");
	lim.containers = true;
	lim.allow = false;
	check_refused(&lim, &r,
		      "alice may not create ublk devices: allow=no (built-in "
		      "default)",
		      "allow = no comes first");

	eval_ok("[default]\nmax_devices = 1\n", &alice, &lim, "one device");
	memset(&r, 0, sizeof(r));
	r.nr_devices = 2;
	check_refused(&lim, &r,
		      "alice already has 1 device: max_devices=1 for everyone "
		      "(t.conf:2)",
		      "singular");
	{
		struct uerr e2;

		memset(&r, 0, sizeof(r));
		r.nr_devices = 2;
		policy_check(&lim, &nobody, &r, &e2);
		is_str(e2.msg,
		       "uid 4242 already has 1 device: max_devices=1 for "
		       "everyone (t.conf:2)",
		       "a user without a name is named by uid");
	}
	eval_ok("[default]\nbacking_dirs = none\n", &alice, &lim, "no backing");
	memset(&r, 0, sizeof(r));
	r.backing = "/tmp/x";
	check_refused(&lim, &r,
		      "backing file /tmp/x is not in an allowed directory: "
		      "backing_dirs=none for everyone (t.conf:2)",
		      "backing_dirs = none");
	eval_ok("[default]\nbacking_dirs = /\n", &alice, &lim, "root dir");
	is_int(policy_check(&lim, &alice, &r, &err), 0,
	       "backing_dirs = / allows everything");
	eval_ok("[default]\nbacking_dirs = /srv/%u\n", &nobody, &lim,
		"a template needing a name");
	r.backing = "/srv/x";
	check_refused(&lim, &r,
		      "backing file /srv/x is not in an allowed directory: "
		      "backing_dirs=/srv/%u for everyone (t.conf:2)",
		      "%%u of a user without a name matches nothing");

	eval_ok("[user:1000]\nread_only = yes\n", &alice, &lim,
		"read_only = yes");
	memset(&r, 0, sizeof(r));
	r.writable = true;
	check_refused(&lim, &r,
		      "alice may have read-only disks only (add --read-only): "
		      "read_only=yes for user 1000 (t.conf:2)",
		      "read_only = yes: a writable disk is refused");
	r.writable = false;
	is_int(policy_check(&lim, &alice, &r, &err), 0,
	       "  a read-only one is fine");
	eval_ok("[default]\nread_only_dirs = /tmp/ro\n", &alice, &lim,
		"read_only_dirs");
	ok(!lim.read_only, "  read_only is no by default");
	r.backing = "/tmp/ro/x";
	r.writable = true;
	/* A directory that does not exist holds nothing: make it. */
	mkdir("/tmp/ro", 0700);
	check_refused(&lim, &r,
		      "backing file /tmp/ro/x may be served read-only only "
		      "(add --read-only): read_only_dirs=/tmp/ro for "
		      "everyone (t.conf:2)",
		      "a writable disk on a file in read_only_dirs: refused");
	r.writable = false;
	is_int(policy_check(&lim, &alice, &r, &err), 0, "  read-only: fine");
	r.writable = true;
	r.backing = "/tmp/rox";
	is_int(policy_check(&lim, &alice, &r, &err), 0,
	       "  a writable one next to it: fine");
	rmdir("/tmp/ro");
	eval_ok("[default]\n", &alice, &lim, "the defaults");
	r.backing = "/tmp/ro/x";
	is_int(policy_check(&lim, &alice, &r, &err), 0,
	       "read_only_dirs = none (default): writable anywhere");
	one_error("[default]\nread_only = maybe\n",
		  "t.conf:2: read_only: 'maybe' is not yes or no",
		  "read_only: yes or no");
	one_error("[default]\nread_only_dirs = img\n",
		  "t.conf:2: read_only_dirs: 'img' is not an absolute "
		  "directory (start with / or %h)",
		  "read_only_dirs: absolute directories");
}

static void test_expand(void)
{
	char out[64];
	struct uerr err;

	note("policy_expand");
	is_int(policy_expand("%h/img/%u-%U%%", &alice, out, sizeof(out), &err),
	       0, "expands");
	is_str(out, "/home/alice/img/alice-1000%", "  every escape");
	is_int(policy_expand("/srv/%U", &nobody, out, sizeof(out), &err), 0,
	       "%%U without a name");
	is_str(out, "/srv/4242", "  the uid");
	is_int(policy_expand("%h", &nobody, out, sizeof(out), &err), -ENOENT,
	       "%%h without a passwd entry fails");
	is_str(err.msg, "%h: uid 4242 has no home directory", "  and says so");
	is_int(policy_expand("/%u", &nobody, out, sizeof(out), &err), -ENOENT,
	       "%%u without a passwd entry fails");
	is_int(policy_expand("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			     "aaa"
			     "/%h",
			     &alice, out, sizeof(out), &err),
	       -ENAMETOOLONG, "too long for the buffer");
}

static void test_presenting(void)
{
	struct policy_limits lim;
	char buf[256], item[16];
	const char *l;
	int n = 0;

	note("names and values");
	is_int(policy_key_find("max_locked"), POLICY_MAX_LOCKED, "key_find");
	is_int(policy_key_find("nope"), -1, "key_find of a non-key");
	is_str(policy_key_name(POLICY_SHMEM_ZC), "shmem_zc", "key_name");
	ok(policy_key_is_size(POLICY_MAX_SIZE) &&
		   !policy_key_is_size(POLICY_MAX_DEVICES),
	   "key_is_size");
	ok(policy_key_is_bool(POLICY_MLOCK) &&
		   !policy_key_is_bool(POLICY_MAX_SIZE),
	   "key_is_bool");
	ok(policy_key_is_list(POLICY_TARGETS) &&
		   policy_key_is_list(POLICY_BACKING_DIRS) &&
		   !policy_key_is_list(POLICY_ALLOW),
	   "key_is_list");
	policy_defaults(&lim);
	is_str(policy_value_str(&lim, POLICY_MAX_SIZE, buf, sizeof(buf)),
	       "unlimited", "unlimited size");
	is_str(policy_value_str(&lim, POLICY_MAX_SHMEM, buf, sizeof(buf)),
	       "256M", "a size");
	is_str(policy_value_str(&lim, POLICY_SHMEM_ZC, buf, sizeof(buf)), "no",
	       "a boolean");
	is_str(policy_value_str(&lim, POLICY_TARGETS, buf, sizeof(buf)), "any",
	       "a list");
	is_u64(policy_limit_num(&lim, POLICY_ALLOW), 1, "limit_num of a bool");
	is_u64(policy_limit_num(&lim, POLICY_MAX_DEVICES), 16,
	       "limit_num of a count");
	is_str(policy_section_str(POLICY_SCOPE_GROUP, "ublk", buf, sizeof(buf)),
	       "[group:ublk]", "section_str of a group");
	is_str(policy_section_str(POLICY_SCOPE_DEFAULT, "", buf, sizeof(buf)),
	       "[default]", "section_str of [default]");
	is_str(policy_section_str(POLICY_SCOPE_BUILTIN, "", buf, sizeof(buf)),
	       "built-in", "section_str of the built-in");
	for (l = "a,bb,ccc"; (l = policy_list_next(l, item, sizeof(item)));)
		n++;
	is_int(n, 3, "list_next walks three items");
	ok(!policy_list_next("", item, sizeof(item)), "an empty list has none");
}

/* The built-in defaults are what the shipped policy/policy.conf says. */
static void test_shipped(void)
{
	char *paths[] = { "policy/policy.conf" };
	struct policy_limits builtin, shipped;
	char a[256], b[256];
	struct policy p;
	struct uerr err;
	unsigned int k, set = 0;

	note("policy/policy.conf is the built-in default");
	if (!is_int(policy_load_files(&p, paths, 1), 0,
		    "policy/policy.conf is valid"))
		diag("%s", p.nr_errors ? p.errors[0] : "");
	for (unsigned int i = 0; i < p.nr_sections; i++)
		for (k = 0; k < POLICY_NR_KEYS; k++)
			set += p.sections[i].set[k].line != 0;
	is_int(set, POLICY_NR_KEYS, "it sets every key once");
	policy_defaults(&builtin);
	policy_eval(&p, &alice, &shipped, &err);
	for (k = 0; k < POLICY_NR_KEYS; k++)
		is_str(policy_value_str(&shipped, k, a, sizeof(a)),
		       policy_value_str(&builtin, k, b, sizeof(b)),
		       "%s: as built in", policy_key_name(k));
	policy_free(&p);
}

static void endpoint(const struct policy_limits *lim,
		     const struct policy_user *u, const char *ep, bool want)
{
	ok(policy_nbd_endpoint_allowed(lim, u, ep) == want, "%s %s", ep,
	   want ? "is allowed" : "is not allowed");
}

static void test_nbd_endpoints(void)
{
	struct policy_request r = { 0 };
	struct policy_limits lim;
	struct policy_user odd = alice;
	struct uerr err;

	note("nbd_endpoints: values");
	eval_ok("[default]\n", &alice, &lim, "the default");
	is_str(lim.nbd_endpoints, "any", "  is any");
	endpoint(&lim, &alice, "/anywhere/s.sock", true);
	endpoint(&lim, &alice, "nbd.example.com:10809", true);
	eval_ok("[default]\nnbd_endpoints = %h/nbd/*.sock , /run/nbd/%u/* ,"
		"127.0.0.1:10809, *.storage.example:*, [::1]:10809\n",
		&alice, &lim, "a list");
	is_str(lim.nbd_endpoints,
	       "%h/nbd/*.sock,/run/nbd/%u/*,127.0.0.1:10809,"
	       "*.storage.example:*,[::1]:10809",
	       "  normalised");
	one_error("[default]\nnbd_endpoints = nbd.example.com\n",
		  "t.conf:2: nbd_endpoints: 'nbd.example.com' is neither a "
		  "socket path (start with / or %h) nor HOST:PORT (PORT a "
		  "number or *)",
		  "a host without a port");
	one_error("[default]\nnbd_endpoints = h:0\n",
		  "t.conf:2: nbd_endpoints: 'h:0' is neither a socket path "
		  "(start with / or %h) nor HOST:PORT (PORT a number or *)",
		  "port 0");
	one_error("[default]\nnbd_endpoints = h:65536\n",
		  "t.conf:2: nbd_endpoints: 'h:65536' is neither a socket "
		  "path (start with / or %h) nor HOST:PORT (PORT a number or "
		  "*)",
		  "port 65536");
	one_error("[default]\nnbd_endpoints = :10809\n",
		  "t.conf:2: nbd_endpoints: ':10809' has no host", "no host");
	one_error("[default]\nnbd_endpoints = a/b:1\n",
		  "t.conf:2: nbd_endpoints: 'a/b' is not a host name pattern "
		  "(letters, digits, - . _ * ?)",
		  "a slash in a host");
	one_error("[default]\nnbd_endpoints = [::1:1\n",
		  "t.conf:2: nbd_endpoints: '[::1:1': an IPv6 address goes "
		  "in [brackets]",
		  "IPv6 without its bracket");
	one_error("[default]\nnbd_endpoints = [fd00::*]:1\n",
		  "t.conf:2: nbd_endpoints: 'fd00::*' is not an IPv6 address "
		  "(no patterns in brackets)",
		  "an IPv6 pattern");
	one_error("[default]\nnbd_endpoints = %x/s\n",
		  "t.conf:2: nbd_endpoints: '%x/s' is not an absolute "
		  "directory (start with / or %h)",
		  "a path with an unknown escape");
	one_error("[default]\nnbd_endpoints = /s, any\n",
		  "t.conf:2: nbd_endpoints: 'any' must stand alone, not in a "
		  "list",
		  "any in a list");

	note("nbd_endpoints: matching");
	endpoint(&lim, &alice, "/home/alice/nbd/disk.sock", true);
	endpoint(&lim, &alice, "/home/alice/nbd/disk.socket", false);
	endpoint(&lim, &alice, "/home/alice/nbd/sub/disk.sock", false);
	endpoint(&lim, &alice, "/home/bob/nbd/disk.sock", false);
	endpoint(&lim, &alice, "/run/nbd/alice/x", true);
	endpoint(&lim, &alice, "/run/nbd/bob/x", false);
	endpoint(&lim, &nobody, "/run/nbd/alice/x", false);
	endpoint(&lim, &alice, "127.0.0.1:10809", true);
	endpoint(&lim, &alice, "127.0.0.1:10810", false);
	endpoint(&lim, &alice, "127.0.0.10:10809", false);
	endpoint(&lim, &alice, "a.storage.example:1", true);
	endpoint(&lim, &alice, "A.Storage.Example:1", true);
	endpoint(&lim, &alice, "storage.example:1", false);
	endpoint(&lim, &alice, "[::1]:10809", true);
	endpoint(&lim, &alice, "[0:0::1]:10809", true);
	endpoint(&lim, &alice, "[::2]:10809", false);
	endpoint(&lim, &alice, "::1:10809", false);
	endpoint(&lim, &alice, "/127.0.0.1:10809", false);
	/* A home with glob characters is matched literally */
	snprintf(odd.home, sizeof(odd.home), "/home/a*");
	endpoint(&lim, &odd, "/home/a*/nbd/s.sock", true);
	endpoint(&lim, &odd, "/home/abc/nbd/s.sock", false);
	eval_ok("[default]\nnbd_endpoints = none\n", &alice, &lim, "none");
	endpoint(&lim, &alice, "/home/alice/nbd/disk.sock", false);
	endpoint(&lim, &alice, "127.0.0.1:10809", false);

	note("nbd_endpoints: policy_check");
	eval_ok("[default]\nnbd_endpoints = %h/*.sock\n[user:1000]\n"
		"nbd_endpoints = localhost:*\n",
		&alice, &lim, "per user");
	r.target = "nbd";
	r.nbd_endpoint = "localhost:10809";
	is_int(policy_check(&lim, &alice, &r, &err), 0, "an allowed endpoint");
	r.nbd_endpoint = "/home/alice/a.sock";
	check_refused(&lim, &r,
		      "NBD server /home/alice/a.sock is not an allowed "
		      "endpoint: nbd_endpoints=localhost:* for user 1000 "
		      "(t.conf:4)",
		      "an endpoint outside the list, with file:line");
}

int main(void)
{
	test_syntax();
	test_values();
	test_precedence();
	test_check();
	test_expand();
	test_nbd_endpoints();
	test_presenting();
	test_shipped();
	return done_testing();
}
