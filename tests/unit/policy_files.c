// SPDX-License-Identifier: MIT
/*
 * Reading the policy from a directory (src/policy/policy_file.c) with its
 * security checks, name resolution (policy_names.c), the one question
 * "what may this user do" (policy_ask.c) and the denial records of the
 * udev helper (denial.c), in a fresh temporary directory.
 * The files' required owner is our own uid here (root in production).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "host/denial.h"
#include "policy/policy.h"

static char base[64];
static char dir[128]; /* the policy directory */
static uid_t me;

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void reset(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (mkdir(dir, 0755) < 0 || chmod(dir, 0755) < 0)
		bail_out("cannot create %s", dir);
}

static void put(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) || chmod(path, mode) < 0)
		bail_out("cannot write %s", path);
}

static void sub(const char *name, mode_t mode)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (mkdir(path, mode) < 0 || chmod(path, mode) < 0)
		bail_out("cannot create %s", path);
}

/* Load dir as owner; the number of errors */
static unsigned int load(uid_t owner, struct policy *p)
{
	policy_load(p, dir, owner);
	return p->nr_errors;
}

static void load_error(const char *want_fmt, const char *name)
{
	char want[512], path[256];
	struct policy p;

	snprintf(path, sizeof(path), "%s", dir);
	snprintf(want, sizeof(want), want_fmt, path);
	if (!is_int(load(me, &p), 1, "%s: one error", name))
		for (unsigned int i = 0; i < p.nr_errors && i < 4; i++)
			diag("%s", p.errors[i]);
	is_str(p.nr_errors ? p.errors[0] : "", want, "%s: message", name);
	policy_free(&p);
}

static void test_dir(void)
{
	struct policy p;
	char path[256];

	note("reading a policy directory");
	rmdir(dir);
	is_int(policy_load(&p, dir, me), 0, "a missing directory is fine");
	is_int(p.nr_files, 0, "  and has no files");
	policy_free(&p);
	reset();
	is_int(load(me, &p), 0, "an empty directory is fine");
	policy_free(&p);

	put("policy.conf", "[default]\nmax_devices = 4\n", 0644);
	sub("policy.d", 0755);
	put("policy.d/20-b.conf", "[default]\nmax_devices = 6\n", 0644);
	put("policy.d/10-a.conf", "[default]\nmax_devices = 5\n", 0444);
	put("policy.d/README", "not a policy\n", 0644);
	put("policy.d/.hidden.conf", "junk\n", 0644);
	put("policy.d/20-b.conf~", "junk\n", 0644);
	put("policy.d/old.conf.dpkg-old", "junk\n", 0644);
	put("policy.d/.conf", "junk\n", 0644);
	is_int(load(me, &p), 0, "policy.conf and two drop-ins");
	is_int(p.nr_files, 3, "  three files read, others ignored");
	snprintf(path, sizeof(path), "%s/policy.conf", dir);
	is_str(p.nr_files > 0 ? p.files[0] : "", path, "  policy.conf first");
	snprintf(path, sizeof(path), "%s/policy.d/10-a.conf", dir);
	is_str(p.nr_files > 1 ? p.files[1] : "", path, "  then 10-a.conf");
	snprintf(path, sizeof(path), "%s/policy.d/20-b.conf", dir);
	is_str(p.nr_files > 2 ? p.files[2] : "", path, "  then 20-b.conf");
	policy_free(&p);

	put("policy.d/30-c.conf", "[default]\nmax_devices = 6\nx = 1\n", 0644);
	load_error("%s/policy.d/30-c.conf:3: unknown key 'x' (known: allow, "
		   "max_devices, max_size, max_queues, max_queue_depth, "
		   "targets, backing_dirs, nbd_endpoints, shmem_zc, max_shmem, "
		   "mlock, "
		   "max_locked, containers, read_only, read_only_dirs)",
		   "a syntax error names the file and line");

	reset();
	put("policy.conf", "[default]\n", 0664);
	load_error("%s/policy.conf: mode 0664 is writable by group or others: "
		   "refused (use 0644)",
		   "a group-writable file");
	reset();
	sub("policy.d", 0755);
	put("policy.d/a.conf", "[default]\n", 0646);
	load_error("%s/policy.d/a.conf: mode 0646 is writable by group or "
		   "others: refused (use 0644)",
		   "a world-writable drop-in");
	reset();
	put("policy.conf", "[default]\n", 0600);
	load_error("%s/policy.conf: mode 0600 is not readable by everyone, and "
		   "ublk-user checks requests as the user: refused (use 0644)",
		   "a file only its owner may read");
	reset();
	put("real.conf", "[default]\n", 0644);
	snprintf(path, sizeof(path), "%s/policy.conf", dir);
	if (symlink("real.conf", path) < 0)
		bail_out("symlink");
	load_error("%s/policy.conf: is a symbolic link: refused (policy files "
		   "and directories must not be)",
		   "a symbolic link");
	reset();
	sub("elsewhere", 0755);
	snprintf(path, sizeof(path), "%s/policy.d", dir);
	if (symlink("elsewhere", path) < 0)
		bail_out("symlink");
	load_error("%s/policy.d: is a symbolic link: refused (policy files "
		   "and directories must not be)",
		   "a symbolic link to a directory");
	reset();
	sub("policy.d", 0775);
	load_error("%s/policy.d: mode 0775 is writable by group or others: "
		   "refused (use 0755)",
		   "a group-writable policy.d");
	reset();
	sub("policy.d", 0755);
	sub("policy.d/x.conf", 0755);
	load_error("%s/policy.d/x.conf: not a regular file", "a directory "
							     "named .conf");
	reset();
	sub("policy.conf", 0755);
	load_error("%s/policy.conf: not a regular file", "policy.conf is a "
							 "directory");
	reset();
	snprintf(path, sizeof(path), "%s/policy.conf", dir);
	if (mkfifo(path, 0644) < 0)
		bail_out("mkfifo");
	load_error("%s/policy.conf: not a regular file", "a FIFO (opened "
							 "without blocking)");
	reset();
	chmod(dir, 0757);
	load_error("%s: mode 0757 is writable by group or others: refused "
		   "(use 0755)",
		   "the directory itself world-writable");
	reset();
	chmod(dir, 0750);
	load_error("%s: mode 0750 is not readable by everyone, and ublk-user "
		   "checks requests as the user: refused (use 0755)",
		   "the directory not readable by others");
	reset();
	{
		char *big = malloc(POLICY_FILE_MAX + 2);

		memset(big, '#', POLICY_FILE_MAX + 1);
		big[POLICY_FILE_MAX + 1] = '\0';
		put("policy.conf", big, 0644);
		free(big);
		load_error("%s/policy.conf: larger than 1048576 bytes: refused",
			   "a file over 1 MiB");
	}

	reset();
	put("policy.conf", "[default]\n", 0644);
	snprintf(path, sizeof(path),
		 "%s: owned by uid %u, not by uid %u: refused", dir,
		 (unsigned int)me, (unsigned int)me + 1);
	is_int(load(me + 1, &p), 1, "files of another owner");
	is_str(p.nr_errors ? p.errors[0] : "", path,
	       "  the directory is refused first");
	policy_free(&p);
	if (me == 0) {
		/* As root (in production) the message says "root". */
		snprintf(path, sizeof(path), "%s/policy.conf", dir);
		if (chown(path, 1, 1) < 0)
			bail_out("chown");
		load_error("%s/policy.conf: owned by uid 1, not by root: "
			   "refused",
			   "as root: a file not owned by root");
	}
}

static void test_names(void)
{
	struct policy_user u;
	struct policy p;
	struct uerr err;
	char path[256];

	note("names");
	reset();
	put("policy.conf",
	    "[user:root]\nallow = no\n[group:root]\nmax_devices = 1\n"
	    "[default]\ntargets = null, loop\n",
	    0644);
	is_int(load(me, &p), 0, "root and group root are known");
	ok(p.nr_sections == 3 && p.sections[0].has_id &&
		   p.sections[0].id == 0 && p.sections[1].has_id &&
		   p.sections[1].id == 0,
	   "  and resolved to id 0");
	policy_free(&p);

	put("policy.conf",
	    "[user:no-such-user-ublk]\n[group:no-such-group-ublk]\n"
	    "[default]\ntargets = null, floppy\n",
	    0644);
	is_int(load(me, &p), 3, "an unknown user, group and target");
	snprintf(path, sizeof(path),
		 "%s/policy.conf:1: unknown user 'no-such-user-ublk'", dir);
	is_str(p.nr_errors > 0 ? p.errors[0] : "", path, "  the user");
	snprintf(path, sizeof(path),
		 "%s/policy.conf:2: unknown group 'no-such-group-ublk'", dir);
	is_str(p.nr_errors > 1 ? p.errors[1] : "", path, "  the group");
	like(p.nr_errors > 2 ? p.errors[2] : "",
	     "/policy.conf:4: targets: unknown target 'floppy' \\(known: "
	     "null, loop, mem.*\\)$",
	     "  the target");
	policy_free(&p);

	{
		char *paths[] = { path, dir };

		snprintf(path, sizeof(path), "%s/nope.conf", dir);
		is_int(policy_load_files(&p, paths, 2), -1,
		       "load_files of a missing file and a directory");
		is_int(p.nr_errors, 2, "  two errors");
		like(p.errors[0], "/nope.conf: cannot open: No such file",
		     "  the missing file");
		like(p.errors[1], ": not a regular file$", "  the directory");
		policy_free(&p);
	}

	is_int(policy_user_get(&u, 0, 0, &err), 0, "user_get of uid 0");
	ok(u.known && !strcmp(u.name, "root") && u.home[0] == '/', "  root, "
								   "with a "
								   "home");
	ok(u.nr_groups >= 1, "  in at least one group");
	policy_user_free(&u);
	is_int(policy_user_by_name(&u, "root", &err), 0, "user_by_name root");
	is_int(u.uid, 0, "  uid 0");
	policy_user_free(&u);
	is_int(policy_user_by_name(&u, "0", &err), 0, "user_by_name 0");
	ok(u.known && !strcmp(u.name, "root"), "  is root");
	policy_user_free(&u);
	is_int(policy_user_by_name(&u, "3999999", &err), 0,
	       "a uid without a passwd entry");
	ok(!u.known && u.uid == 3999999, "  is known by number only");
	policy_user_free(&u);
	is_int(policy_user_by_name(&u, "no-such-user-ublk", &err), -ENOENT,
	       "an unknown name");
	is_str(err.msg, "no user 'no-such-user-ublk'", "  says so");
}

/* policy_ask: the user, the policy, the limits; nothing allowed on error */
static void test_ask(void)
{
	struct policy_who root = { .uid = 0, .gid = 0 };
	struct policy_who nobody = { .name = "no-such-user-ublk" };
	struct policy_answer a;
	struct uerr err;

	note("policy_ask");
	reset();
	put("policy.conf",
	    "[default]\nallow = no\n[user:root]\nallow = yes\n"
	    "max_devices = 3\n",
	    0644);
	uerr_clear(&err);
	is_int(policy_ask(&a, dir, me, &root, &err), 0, "a valid policy: 0");
	ok(a.have_user && a.valid, "  the user and the policy are there");
	ok(a.user.known && !strcmp(a.user.name, "root"), "  the user: root");
	ok(a.lim.allow && a.lim.max_devices == 3, "  root's limits");
	is_int(a.policy.nr_files, 1, "  the file it rests on");
	is_str(err.msg, "", "  no error");
	policy_answer_free(&a);

	put("policy.conf", "[user:root]\nallow = yes\nbogus = 1\n", 0644);
	is_int(policy_ask(&a, dir, me, &root, &err), -EACCES,
	       "an invalid policy: -EACCES");
	ok(a.have_user && !a.valid, "  the user found, the policy invalid");
	ok(!a.lim.allow, "  and nothing is allowed");
	like(err.msg,
	     "^the ublk-user policy is invalid, so every request is "
	     "refused: .*policy.conf:3: unknown key 'bogus'",
	     "  says so, naming the first error");
	is_int(a.policy.nr_errors, 1, "  the errors are kept for show");
	policy_answer_free(&a);

	put("policy.conf", "[default]\nallow = yes\n", 0644);
	is_int(policy_ask(&a, dir, me, &nobody, &err), -ENOENT,
	       "an unknown user: refused");
	ok(!a.have_user && !a.valid && !a.lim.allow, "  no user, no policy "
						     "read, nothing allowed");
	is_str(err.msg, "no user 'no-such-user-ublk'", "  says so");
	policy_answer_free(&a);

	is_int(policy_ask(&a, dir, me + 1, &root, &err), -EACCES,
	       "files of another owner: refused");
	ok(!a.valid && !a.lim.allow, "  the policy is invalid");
	policy_answer_free(&a);
}

static void test_denial(void)
{
	struct denial d = { .dev_id = 7, .tag = 0xabcdef0123456789ULL };
	char ddir[160], path[200];
	struct uerr err;
	struct denial r;
	struct stat st;

	note("denial records");
	snprintf(ddir, sizeof(ddir), "%s/denied", base);
	d.uid = me;
	snprintf(d.reason, sizeof(d.reason), "too many\ndevices");
	is_int(denial_read(ddir, me, 7, me, d.tag, &r), -ENOENT,
	       "no record before one is written");
	if (!is_int(denial_write(ddir, &d, &err), 0, "write a record"))
		diag("%s", err.msg);
	snprintf(path, sizeof(path), "%s/dev-7", ddir);
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0400 &&
		   st.st_uid == me,
	   "  dev-7, mode 0400, owned by the device's owner");
	ok(stat(ddir, &st) == 0 && (st.st_mode & 07777) == 0755, "  in a "
								 "directory of "
								 "mode 0755");
	is_int(denial_read(ddir, me, 7, me, d.tag, &r), 0, "read it back");
	is_str(r.reason, "too many devices", "  the reason, on one line");
	is_u64(r.tag, d.tag, "  the tag");
	is_int(denial_read(ddir, me, 7, me, d.tag + 1, &r), -ENOENT,
	       "another device's tag: not ours");
	is_int(denial_read(ddir, me, 7, me + 1, d.tag, &r), -ENOENT,
	       "a record owned by someone else: not ours");
	is_int(denial_read(ddir, me + 1, 7, me, d.tag, &r), -ENOENT,
	       "a directory of an unexpected owner: ignored");
	is_int(denial_read(ddir, me, 8, me, d.tag, &r), -ENOENT, "another id");
	snprintf(d.reason, sizeof(d.reason), "second");
	is_int(denial_write(ddir, &d, &err), 0, "write again");
	denial_read(ddir, me, 7, me, d.tag, &r);
	is_str(r.reason, "second", "  replaces the first");
	denial_clear(ddir, 7, me + 1);
	is_int(denial_read(ddir, me, 7, me, d.tag, &r), 0,
	       "denial_clear for another owner's device 7 leaves it");
	denial_clear(ddir, 7, me);
	is_int(denial_read(ddir, me, 7, me, d.tag, &r), -ENOENT,
	       "denial_clear for its owner's removes it");
	chmod(ddir, 0775);
	is_int(denial_write(ddir, &d, &err), -EPERM,
	       "a group-writable directory is refused");
	like(err.msg,
	     "^.*/denied is not a directory of uid [0-9]+ that only "
	     "it may write \\(owner [0-9]+, mode 0775\\): chmod 0755 "
	     ".*/denied$",
	     "  and says why");
	chmod(ddir, 0755);
}

static unsigned int count_files(const char *path)
{
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(path);

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The bounds: DENIAL_PER_ACCOUNT per account, DENIAL_TOTAL in all */
static void test_denial_bounds(void)
{
	struct denial d = { .tag = 1 };
	char ddir[160], path[200];
	struct denial r;
	struct uerr err;
	unsigned int i;
	int bad = 0;

	note("denial records are bounded");
	snprintf(ddir, sizeof(ddir), "%s/bounded", base);
	d.uid = me;
	snprintf(d.reason, sizeof(d.reason), "refused");
	d.account = 4000; /* another account's record, written first */
	d.dev_id = 1;
	is_int(denial_write(ddir, &d, &err), 0, "a record of account 4000");
	d.account = 4001;
	for (i = 0; i < 3 * DENIAL_PER_ACCOUNT; i++) {
		d.dev_id = 100 + i;
		bad += denial_write(ddir, &d, &err) < 0;
	}
	is_int(bad, 0, "%d records of account 4001", 3 * DENIAL_PER_ACCOUNT);
	is_int(count_files(ddir), DENIAL_PER_ACCOUNT + 1,
	       "  %d of them are kept, and account 4000's", DENIAL_PER_ACCOUNT);
	is_int(denial_read(ddir, me, 1, me, 1, &r), 0,
	       "  account 4000's record is untouched");
	is_int(denial_read(ddir, me, 100 + 3 * DENIAL_PER_ACCOUNT - 1, me, 1,
			   &r),
	       0, "  the newest is kept");
	snprintf(path, sizeof(path), "%s/dev-%u", ddir,
		 100 + 3 * DENIAL_PER_ACCOUNT - 1);
	{
		char text[DENIAL_FILE_MAX] = "";
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

		if (f)
			fclose(f);
		text[n] = '\0';
		contains(text, "\naccount=4001\n", "  it names its account");
	}
	bad = 0;
	for (i = 0; i < DENIAL_TOTAL + 40; i++) {
		d.account = 5000 + i;
		d.dev_id = 1000 + i;
		bad += denial_write(ddir, &d, &err) < 0;
	}
	is_int(bad, 0, "records of %d more accounts", DENIAL_TOTAL + 40);
	is_int(count_files(ddir), DENIAL_TOTAL, "  %d are kept in all",
	       DENIAL_TOTAL);
	is_int(denial_read(ddir, me, 1000 + DENIAL_TOTAL + 39, me, 1, &r), 0,
	       "  the newest is kept");
	/* An older version's leftovers are cut down at the next write. */
	for (i = 0; i < 100; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/dev-%u", ddir, 50000 + i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0400);
		if (fd >= 0)
			close(fd);
	}
	d.dev_id = 7;
	is_int(denial_write(ddir, &d, &err), 0, "after 100 more files");
	is_int(count_files(ddir), DENIAL_TOTAL, "  %d are kept in all",
	       DENIAL_TOTAL);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	me = geteuid();
	snprintf(base, sizeof(base), "%s/policy-files.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base))
		bail_out("mkdtemp");
	chmod(base, 0755);
	snprintf(dir, sizeof(dir), "%s/ublk-user", base);
	test_dir();
	test_names();
	test_ask();
	test_denial();
	test_denial_bounds();
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
