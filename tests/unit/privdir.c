// SPDX-License-Identifier: MIT
/*
 * The private-directory helper (src/base/privdir.c): what it makes, and
 * what it refuses: a symlink, a file, a wrong owner, a wrong mode, a
 * parent others may write; and that the fd it returns stays the directory
 * it checked when the path is swapped afterwards.  The owner cases need
 * root (chown to another uid); without it they are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "base/privdir.h"

#define OTHER_UID 54321 /* somebody else */

static char base[64];

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static const char *at(const char *name)
{
	static char buf[4][PATH_MAX];
	static unsigned int n;
	char *p = buf[n++ % 4];

	snprintf(p, PATH_MAX, "%s/%s", base, name);
	return p;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static void make_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

	if (fd < 0 || close(fd) < 0)
		bail_out("cannot create %s", path);
}

/* Does fd name the directory at path? */
static bool same_dir(int fd, const char *path)
{
	struct stat a, b;

	return fd >= 0 && fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static const struct privdir_rule private_rule = {
	.uid = 0, /* set in main */
	.gid = (gid_t)-1,
	.mode = 0700,
	.deny = 077,
	.hint = "set XDG_RUNTIME_DIR to a directory of yours",
};

static struct privdir_rule mine;

static void test_create(void)
{
	struct privdir_rule shared = mine;
	struct uerr err;
	struct stat st;
	int fd;

	note("creating, whatever the umask");
	umask(0777);
	uerr_clear(&err);
	fd = privdir_open(at("new"), &mine, PRIVDIR_CREATE, &err);
	if (!ok(fd >= 0, "a new private directory is made"))
		diag("%s", err.msg);
	ok(same_dir(fd, at("new")), "the fd is that directory");
	ok(fstat(fd, &st) == 0 && S_ISDIR(st.st_mode), "a directory");
	is_int(st.st_mode & 07777, 0700, "mode 0700 under umask 0777");
	is_int(st.st_uid, geteuid(), "owned by us");
	close(fd);

	shared.mode = 0755;
	shared.deny = 022;
	umask(077);
	fd = privdir_open(at("shared"), &shared, PRIVDIR_CREATE, &err);
	ok(fd >= 0, "a new shared directory is made");
	is_int(mode_of(at("shared")), 0755, "mode 0755 under umask 077");
	close(fd);
	umask(022);

	fd = privdir_open(at("new"), &mine, PRIVDIR_CREATE, &err);
	ok(same_dir(fd, at("new")), "an existing one is opened as it is");
	close(fd);
	fd = privdir_open(at("new"), &mine, 0, &err);
	ok(same_dir(fd, at("new")), "also without PRIVDIR_CREATE");
	close(fd);
	fd = privdir_open(at("new/"), &mine, 0, &err);
	ok(same_dir(fd, at("new")), "a trailing slash is fine");
	close(fd);

	uerr_clear(&err);
	is_int(privdir_open(at("missing"), &mine, 0, &err), -ENOENT,
	       "a missing one without PRIVDIR_CREATE: -ENOENT");
	contains(err.msg, at("missing"), "  the message names it");
	ok(!exists(at("missing")), "  and it is not made");
	is_int(privdir_open(at("nodir/sub"), &mine, PRIVDIR_CREATE, &err),
	       -ENOENT, "a missing parent: -ENOENT");
	contains(err.msg, at("nodir"), "  the message names the parent");

	is_int(privdir_open(at("new"), &mine, PRIVDIR_CREATE | PRIVDIR_EXCL,
			    &err),
	       -EEXIST, "PRIVDIR_EXCL: an existing one is -EEXIST");
	fd = privdir_open(at("excl"), &mine, PRIVDIR_CREATE | PRIVDIR_EXCL,
			  &err);
	ok(fd >= 0, "PRIVDIR_EXCL makes a new one");
	close(fd);
	is_int(privdir_open("", &mine, 0, &err), -EINVAL,
	       "an empty name: -EINVAL");
	is_int(privdir_open("/", &mine, 0, &err), -EINVAL, "/: -EINVAL");
}

static void test_symlink_file(void)
{
	struct uerr err;
	int fd;

	note("a symlink in its place");
	if (symlink(at("new"), at("link")) < 0)
		bail_out("symlink");
	uerr_clear(&err);
	is_int(privdir_open(at("link"), &mine, 0, &err), -ENOTDIR,
	       "a symlink to a good directory: -ENOTDIR");
	like(err.msg,
	     "^/tmp/.*/link is not a directory of uid [0-9]+ with mode 0700 "
	     "\\(a symbolic link\\): remove it, or set XDG_RUNTIME_DIR to a "
	     "directory of yours$",
	     "  the message names it, what it is and the fix: %s", err.msg);
	is_int(privdir_open(at("link"), &mine, PRIVDIR_CREATE, &err), -ENOTDIR,
	       "  also with PRIVDIR_CREATE");
	if (symlink(at("target"), at("dangling")) < 0)
		bail_out("symlink");
	is_int(privdir_open(at("dangling"), &mine, PRIVDIR_CREATE, &err),
	       -ENOTDIR, "a symlink to nothing, with PRIVDIR_CREATE: -ENOTDIR");
	ok(!exists(at("target")), "  nothing is made where it points");

	note("a file in its place");
	make_file(at("file"));
	is_int(privdir_open(at("file"), &mine, PRIVDIR_CREATE, &err), -ENOTDIR,
	       "a regular file: -ENOTDIR");
	contains(err.msg, "(a regular file): remove it",
		 "  the message says so");
	if (mkfifo(at("fifo"), 0600) < 0)
		bail_out("mkfifo");
	is_int(privdir_open(at("fifo"), &mine, 0, &err), -ENOTDIR,
	       "a fifo: -ENOTDIR");
	contains(err.msg, "(not a directory)", "  the message says so");

	note("a symlink above the last component is followed");
	fd = privdir_open(at("link/sub"), &mine, PRIVDIR_CREATE, &err);
	ok(fd >= 0 && exists(at("new/sub")), "link/sub is new/sub");
	close(fd);
}

static void test_mode(void)
{
	static const mode_t bad[] = { 0770, 0707, 0750, 0705, 0720,
				      0702, 0701, 0710, 0777, 01777 };
	struct privdir_rule shared = mine;
	struct uerr err;
	unsigned int i;
	int fd;

	note("a mode that lets others in");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		chmod(at("new"), bad[i]);
		uerr_clear(&err);
		is_int(privdir_open(at("new"), &mine, PRIVDIR_CREATE, &err),
		       -EPERM, "mode %04o: -EPERM", (unsigned int)bad[i]);
	}
	chmod(at("new"), 0750);
	privdir_open(at("new"), &mine, 0, &err);
	like(err.msg,
	     "^/tmp/.*/new is not a directory of uid [0-9]+ with mode 0700 "
	     "\\(owner [0-9]+, mode 0750\\): chmod 0700 /tmp/.*/new, or set "
	     "XDG_RUNTIME_DIR to a directory of yours$",
	     "  the message names it, its mode and the fix: %s", err.msg);
	is_int(mode_of(at("new")), 0750, "  the mode is not changed");
	chmod(at("new"), 0500);
	fd = privdir_open(at("new"), &mine, 0, &err);
	ok(fd >= 0, "mode 0500 is private too");
	close(fd);
	chmod(at("new"), 0700);

	shared.deny = 022;
	shared.hint = NULL;
	chmod(at("shared"), 0775);
	is_int(privdir_open(at("shared"), &shared, 0, &err), -EPERM,
	       "a shared one, group-writable: -EPERM");
	like(err.msg,
	     "^/tmp/.*/shared is not a directory of uid [0-9]+ that only it "
	     "may write \\(owner [0-9]+, mode 0775\\): chmod 0755 "
	     "/tmp/.*/shared$",
	     "  the message: %s", err.msg);
	chmod(at("shared"), 0711);
	fd = privdir_open(at("shared"), &shared, 0, &err);
	ok(fd >= 0, "mode 0711 is fine for a shared one");
	close(fd);
}

static void test_parent(void)
{
	struct uerr err;
	int fd;

	note("a parent others may write");
	if (mkdir(at("open"), 0700) < 0 || chmod(at("open"), 0777) < 0)
		bail_out("mkdir open");
	uerr_clear(&err);
	is_int(privdir_open(at("open/d"), &mine, PRIVDIR_CREATE, &err), -EPERM,
	       "in a 0777 parent: -EPERM");
	contains(err.msg, "its parent, mode 0777, lets others replace it",
		 "  the message says why");
	ok(!exists(at("open/d")), "  and nothing is made");
	chmod(at("open"), 01777);
	fd = privdir_open(at("open/d"), &mine, PRIVDIR_CREATE, &err);
	ok(fd >= 0, "in a sticky 01777 parent (as /tmp): fine");
	close(fd);
	chmod(at("open"), 0775);
	is_int(privdir_open(at("open/d"), &mine, 0, &err), -EPERM,
	       "a group-writable parent: -EPERM");
	chmod(at("open"), 0755);
}

/*
 * As a third uid, who may not even open the other uid's 0700 directory:
 * the refusal still names its owner (as bob's add does with alice's).
 */
static void as_third_user(void)
{
	struct privdir_rule third = mine;
	char msg[sizeof(((struct uerr *)0)->msg)] = "";
	struct uerr err;
	int p[2], status, ret;
	ssize_t n;
	pid_t pid;

	third.uid = OTHER_UID + 7;
	if (pipe(p) < 0 || chmod(base, 0711) < 0)
		bail_out("pipe");
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (setgid(OTHER_UID + 7) || setuid(OTHER_UID + 7))
			_exit(99);
		ret = privdir_open(at("alien"), &third, PRIVDIR_CREATE, &err);
		if (write(p[1], err.msg, strlen(err.msg)) < 0)
			_exit(98);
		_exit(-ret);
	}
	close(p[1]);
	n = read(p[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	chmod(base, 0700);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, EPERM,
	       "a third uid, who cannot open it: -EPERM");
	like(msg,
	     "^/tmp/.*/alien is not a directory of uid 54328 with mode 0700 "
	     "\\(owner 54321, mode 0700\\): remove it \\(uid 54321 or root "
	     "can\\), or set XDG_RUNTIME_DIR to a directory of yours$",
	     "  the message names its owner all the same: %s", msg);
}

static void test_owner(void)
{
	struct privdir_rule theirs = mine;
	struct uerr err;
	struct stat st;
	int fd;

	note("owners (as root)");
	if (geteuid() != 0) {
		pass("# SKIP not root: cannot chown to another uid");
		return;
	}
	if (mkdir(at("alien"), 0700) < 0 ||
	    chown(at("alien"), OTHER_UID, OTHER_UID) < 0)
		bail_out("mkdir alien");
	uerr_clear(&err);
	is_int(privdir_open(at("alien"), &mine, PRIVDIR_CREATE, &err), -EPERM,
	       "a 0700 directory of another uid: -EPERM");
	like(err.msg,
	     "^/tmp/.*/alien is not a directory of uid 0 with mode 0700 "
	     "\\(owner 54321, mode 0700\\): remove it \\(uid 54321 or root "
	     "can\\), or set XDG_RUNTIME_DIR to a directory of yours$",
	     "  the message names it, its owner and the fix: %s", err.msg);
	lstat(at("alien"), &st);
	is_int(st.st_uid, OTHER_UID, "  its owner is not changed");

	theirs.uid = OTHER_UID;
	theirs.gid = OTHER_UID + 1;
	umask(077);
	fd = privdir_open(at("made"), &theirs, PRIVDIR_CREATE, &err);
	if (!ok(fd >= 0, "root makes one for another uid"))
		diag("%s", err.msg);
	ok(fstat(fd, &st) == 0 && st.st_uid == OTHER_UID &&
		   st.st_gid == OTHER_UID + 1 && (st.st_mode & 07777) == 0700,
	   "  owned by uid:gid with mode 0700");
	close(fd);
	umask(022);
	fd = privdir_open(at("alien"), &theirs, 0, &err);
	ok(fd >= 0, "the other uid's directory is fine for a rule of that uid");
	close(fd);
	is_int(privdir_open(at("new"), &theirs, PRIVDIR_CREATE, &err), -EPERM,
	       "and ours is not");

	as_third_user();

	if (mkdir(at("alien/sub"), 0700) < 0 || chmod(at("alien"), 01777) < 0)
		bail_out("alien/sub");
	fd = privdir_open(at("alien/sub"), &mine, 0, &err);
	ok(fd >= 0, "ours in another uid's sticky directory: fine");
	close(fd);
}

static void test_swap(void)
{
	struct uerr err;
	int fd, pfd, f;

	note("a swap between check and use");
	fd = privdir_open(at("new"), &mine, 0, &err);
	if (rename(at("new"), at("moved")) < 0 || mkdir(at("new"), 0777) < 0 ||
	    chmod(at("new"), 0777) < 0)
		bail_out("swap");
	f = openat(fd, "x", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ok(f >= 0, "a file made through the fd after the swap");
	close(f);
	ok(exists(at("moved/x")) && !exists(at("new/x")), "  is in the "
							  "directory that was "
							  "checked, not the "
							  "new one");
	close(fd);
	is_int(privdir_open(at("new"), &mine, 0, &err), -EPERM,
	       "the directory swapped in (mode 0777) is refused");
	rmdir(at("new"));
	if (symlink(at("moved"), at("new")) < 0)
		bail_out("symlink");
	is_int(privdir_open(at("new"), &mine, 0, &err), -ENOTDIR,
	       "so is a symlink swapped in");
	unlink(at("new"));

	note("openat: relative to the parent's fd, not its path");
	pfd = open(at("moved"), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rename(at("moved"), at("moved2")) < 0 ||
	    symlink(at("open"), at("moved")) < 0)
		bail_out("swap the parent");
	fd = privdir_openat(pfd, "child", at("moved/child"), &mine,
			    PRIVDIR_CREATE, &err);
	ok(fd >= 0, "privdir_openat makes child in the parent it was given");
	ok(exists(at("moved2/child")) && !exists(at("open/child")),
	   "  which was renamed: the symlink in its place is not used");
	close(fd);
	close(pfd);
}

static void test_parents(void)
{
	struct uerr err;

	note("privdir_make_parents");
	umask(077);
	if (!is_int(privdir_make_parents(at("p/q/r/last"), 0755, &err), 0,
		    "mkdir -p of p/q/r"))
		diag("%s", err.msg);
	is_int(mode_of(at("p")), 0755, "p is 0755 under umask 077");
	is_int(mode_of(at("p/q/r")), 0755, "p/q/r is 0755");
	ok(!exists(at("p/q/r/last")), "the last component is not made");
	chmod(at("p/q"), 0700);
	is_int(privdir_make_parents(at("p/q/r/s/t"), 0755, &err), 0,
	       "again, one level deeper");
	is_int(mode_of(at("p/q")), 0700, "an existing level is left as it is");
	is_int(mode_of(at("p/q/r/s")), 0755, "the new level is 0755");
	umask(022);
	make_file(at("p/f"));
	is_int(privdir_make_parents(at("p/f/x/y"), 0755, &err), -ENOTDIR,
	       "a file on the way: -ENOTDIR");
}

int main(void)
{
	snprintf(base, sizeof(base), "/tmp/ublk-user-privdir.XXXXXX");
	if (!mkdtemp(base))
		bail_out("mkdtemp: %s", strerror(errno));
	mine = private_rule;
	mine.uid = geteuid();
	note("in %s", base);

	test_create();
	test_symlink_file();
	test_mode();
	test_parent();
	test_owner();
	test_swap();
	test_parents();
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	ok(!exists(base), "the test's directory is cleaned up");
	return done_testing();
}
