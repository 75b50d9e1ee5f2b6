// SPDX-License-Identifier: MIT
/*
 * Subordinate id files (src/policy/subid.c) and the accounts of device
 * owners (src/policy/account.c): parsing, the files' security checks, and
 * mapping a subordinate uid to its range's owner.  Owners are "root"
 * (every system has it) and names or uids that no system has.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "policy/account.h"
#include "policy/subid.h"

#define NOBODY_UID 3999999 /* no passwd entry, as in policy_files.c */

static char base[64];

static int parse(struct subid_map *m, const char *text, struct uerr *err)
{
	return subid_parse(m, "/etc/subuid", text, strlen(text), err);
}

static void test_parse(void)
{
	const struct subid_range *r;
	struct subid_map m;
	struct uerr err;

	note("parsing");
	is_int(parse(&m,
		     "alice:100000:65536\n\n# comment\n2002:200000:10\n"
		     "root:4000000000:294967296",
		     &err),
	       0, "names, uids, a comment, a blank line, no final newline");
	is_int(m.nr, 3, "  three ranges");
	is_str(m.r[1].owner, "2002", "  a numeric owner as written");
	is_int(m.r[2].line, 5, "  lines are counted");
	is_int(subid_find(&m, 165535, &r, &err), 1, "the last id of a range");
	is_str(r->owner, "alice", "  is alice's");
	is_int(subid_find(&m, 165536, &r, &err), 0, "the one after: none");
	is_int(subid_find(&m, 99999, &r, &err), 0, "the one before: none");
	is_int(subid_find(&m, UINT32_MAX, &r, &err), 1,
	       "a range up to 2^32 - 1");
	subid_free(&m);

	static const char *const bad[] = {
		"alice:100000\n",	 "alice:100000:65536:1\n",
		":100000:65536\n",	 "alice::65536\n",
		"alice:100000:\n",	 "alice:-1:65536\n",
		"alice:+1:65536\n",	 "alice: 1:65536\n",
		"al ice:1:65536\n",	 "alice:1:0\n",
		"alice:4294967295:2\n",	 "alice:4294967296:1\n",
		"alice:0x10:1\n",	 "alice:1:65536 \n",
		"alice:1:99999999999\n",
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "'%.*s' is refused",
			 (int)strcspn(bad[i], "\n"), bad[i]);
		is_int(parse(&m, bad[i], &err), -EINVAL, "%s", what);
	}
	parse(&m, "ok:1:1\nalice:1:65536 \n", &err);
	like(err.msg, "^/etc/subuid:2: not owner:start:count",
	     "  naming the line");
	is_int(subid_parse(&m, "/etc/subuid", "a:1:1\0b:2:2\n", 12, &err),
	       -EINVAL, "a NUL byte is refused");

	is_int(parse(&m, "alice:100:10\nbob:105:10\n", &err), 0,
	       "overlapping ranges of two owners parse");
	is_int(subid_find(&m, 106, &r, &err), -EACCES, "  but an id in both");
	is_str(err.msg,
	       "id 106 is in ranges of both alice (/etc/subuid:1) and bob "
	       "(/etc/subuid:2)",
	       "  is refused, naming both");
	is_int(subid_find(&m, 101, &r, &err), 1, "  an id in one is fine");
	subid_free(&m);
	is_int(parse(&m, "alice:100:10\nalice:105:10\n", &err), 0,
	       "overlapping ranges of one owner");
	is_int(subid_find(&m, 106, &r, &err), 1, "  are hers");
	subid_free(&m);
}

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) < 0 || chmod(path, mode) < 0)
		bail_out("cannot write %s", path);
}

static void test_load(void)
{
	char path[128], link[128];
	struct subid_map m;
	struct uerr err;

	note("reading the file");
	snprintf(path, sizeof(path), "%s/subuid", base);
	snprintf(link, sizeof(link), "%s/link", base);
	is_int(subid_load(&m, path, &err), 0, "a missing file");
	is_int(m.nr, 0, "  has no ranges");
	put(path, "root:4000000000:65536\n", 0644);
	if (geteuid() == 0) {
		is_int(subid_load(&m, path, &err), 0, "root's 0644 file");
		is_int(m.nr, 1, "  is read");
		subid_free(&m);
	} else {
		is_int(subid_load(&m, path, &err), -EPERM,
		       "a file not owned by root");
		like(err.msg,
		     "/subuid is not a regular file of root that only root may "
		     "write \\(owner [0-9]+, mode 0644\\): refused$",
		     "  is refused");
	}
	chmod(path, 0664);
	is_int(subid_load(&m, path, &err), -EPERM, "a group-writable file");
	like(err.msg, "\\(owner [0-9]+, mode 0664\\): refused$",
	     "  is refused, naming its mode");
	chmod(path, 0644);
	if (symlink(path, link) < 0)
		bail_out("symlink");
	is_int(subid_load(&m, link, &err), -ELOOP, "a symbolic link");
	like(err.msg, "/link is a symbolic link: refused$", "  is refused");
}

static void test_accounts(void)
{
	char uid_path[128], gid_path[128], how[512];
	const char *text;
	struct policy_user u;
	struct accounts a;
	struct policy p;
	struct uerr err;
	uid_t acct;

	note("accounts");
	snprintf(uid_path, sizeof(uid_path), "%s/acct-subuid", base);
	snprintf(gid_path, sizeof(gid_path), "%s/acct-subgid", base);
	accounts_load(&a, uid_path, gid_path); /* missing: no ranges */
	/* As read from /etc: the parsed ranges stand in for the files. */
	subid_free(&a.uid);
	parse(&a.uid,
	      "root:4000000000:65536\nno-such-user-ublk:4000100000:10\n"
	      "3999998:4000200000:10\n",
	      &err);
	subid_free(&a.gid);
	subid_parse(&a.gid, "/etc/subgid", "root:4000000000:65536\n", 22, &err);

	is_int(account_uid(&a, 0, &acct, &err), 0, "uid 0 (a passwd entry)");
	is_int(acct, 0, "  is its own account");
	is_int(account_uid(&a, 4000000005U, &acct, &err), 0,
	       "a subordinate uid of root");
	is_int(acct, 0, "  counts as root");
	is_int(account_uid(&a, NOBODY_UID, &acct, &err), 0,
	       "a uid in no range, without passwd entry");
	is_int(acct, NOBODY_UID, "  stands alone");
	is_int(account_uid(&a, 4000100001U, &acct, &err), -EACCES,
	       "a subordinate uid of a name that is no user");
	is_str(err.msg,
	       "uid 4000100001 is a subordinate uid of no-such-user-ublk "
	       "(/etc/subuid:2), which is no user here",
	       "  is refused");
	is_int(account_uid(&a, 4000200003U, &acct, &err), 0,
	       "a subordinate uid of a numeric owner");
	is_int(acct, 3999998, "  counts as that uid");

	policy_init(&p);
	text = "[user:3999998]\nmax_devices = 1\n";
	policy_parse(&p, "/p.conf", text, strlen(text));
	policy_resolve(&p);
	is_int(account_user(&a, &p, 4000000005U, 4000000005U, &u, how,
			    sizeof(how), &err),
	       0, "the user of root's subordinate uid");
	is_int(u.uid, 0, "  is root");
	ok(u.known, "  with a passwd entry");
	is_int(u.gid, 0, "  its subordinate gid is no group: root's own");
	is_str(how,
	       "uid 4000000005 is a subordinate uid of root (/etc/subuid:1)",
	       "  and how it was mapped");
	policy_user_free(&u);
	is_int(account_user(&a, &p, 0, 4000200000U, &u, how, sizeof(how), &err),
	       0, "root with a gid in no range");
	is_int(u.gid, 4000200000U, "  keeps that gid as a group");
	is_str(how, "", "  no mapping");
	policy_user_free(&u);
	is_int(account_user(&a, &p, NOBODY_UID, 5, &u, how, sizeof(how), &err),
	       -EACCES, "a uid without passwd entry and without a section");
	is_str(err.msg,
	       "uid 3999999 has no passwd entry, and the policy has no "
	       "[user:3999999] section",
	       "  is refused");
	is_int(account_user(&a, &p, 4000200001U, 5, &u, how, sizeof(how), &err),
	       0, "a subordinate uid of uid 3999998, which has a section");
	is_int(u.uid, 3999998, "  is decided as 3999998");
	ok(!u.known, "  without a passwd entry");
	policy_user_free(&u);

	/* Untrusted files refuse only what needs them. */
	a.uid_ret = -EPERM;
	snprintf(a.uid_err.msg, sizeof(a.uid_err.msg), "/etc/subuid is bad");
	is_int(account_uid(&a, 0, &acct, &err), 0,
	       "a bad /etc/subuid: a passwd entry needs none");
	is_int(account_uid(&a, 4000000005U, &acct, &err), -EACCES,
	       "  a uid without one is refused");
	is_str(err.msg,
	       "uid 4000000005 has no passwd entry, and /etc/subuid is bad",
	       "  naming it");
	a.gid_ret = -EPERM;
	snprintf(a.gid_err.msg, sizeof(a.gid_err.msg), "/etc/subgid is bad");
	is_int(account_user(&a, &p, 0, 0, &u, how, sizeof(how), &err), 0,
	       "a bad /etc/subgid: root with its own gid needs none");
	policy_user_free(&u);
	is_int(account_user(&a, &p, 0, 4000200000U, &u, how, sizeof(how), &err),
	       -EACCES, "  a gid that is none of root's groups is refused");
	is_str(err.msg, "gid 4000200000: /etc/subgid is bad", "  naming it");
	policy_free(&p);
	accounts_free(&a);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char cmd[128];

	snprintf(base, sizeof(base), "%s/subid.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base))
		bail_out("mkdtemp");
	test_parse();
	test_load();
	test_accounts();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		diag("cannot remove %s", base);
	return done_testing();
}
