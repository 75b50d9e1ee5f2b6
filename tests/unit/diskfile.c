// SPDX-License-Identifier: MIT
/*
 * Disk files (src/disks/diskfile.c): names, every key, strict errors as
 * FILE:LINE, reading with the ownership checks, the user's folder.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "disks/diskfile.h"

static struct disk_file d;
static struct uerr err;

static int parse(const char *text, bool system)
{
	uerr_clear(&err);
	return disk_parse(&d, "data", "data.disk", text, strlen(text), system,
			  &err);
}

/* text is refused with exactly msg */
static void refused(const char *text, bool system, const char *msg)
{
	int ret = parse(text, system);

	ok(ret < 0 && ret == -err.code, "refused with an error code: %s", msg);
	is_str(err.msg, msg, "message names file and line");
}

static void names(void)
{
	char long_name[DISK_NAME_MAX + 2];
	static const char *const bad[] = {
		"",	"a/b", "..",  ".hidden", "-o", "a b",
		"a\\b", "é",   "a:b", "a\nb",	 "a*", "../x",
	};
	unsigned int i;

	ok(disk_name_check("data", &err) == 0, "data is a name");
	ok(disk_name_check("db_1.backup-2", &err) == 0, "letters, digits, _ . "
							"- are allowed");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(disk_name_check(bad[i], &err), -EINVAL,
		       "'%s' is not a disk name", bad[i]);
	is_str(err.msg,
	       "disk name '../x': only letters, digits and _ . - are "
	       "allowed",
	       "the message says what is allowed");
	memset(long_name, 'a', DISK_NAME_MAX);
	long_name[DISK_NAME_MAX] = '\0';
	ok(disk_name_check(long_name, &err) == 0, "%d bytes is a name",
	   DISK_NAME_MAX);
	long_name[DISK_NAME_MAX] = 'a';
	long_name[DISK_NAME_MAX + 1] = '\0';
	is_int(disk_name_check(long_name, &err), -EINVAL,
	       "%d bytes is too long", DISK_NAME_MAX + 1);
	contains(err.msg, "longer than 64 bytes", "and says so");
}

static void good(void)
{
	is_int(parse("# my disk\n"
		     "target = loop\n"
		     "; a comment\n"
		     "\n"
		     "  file =  /home/alice/data.img  \n"
		     "size = 1G\n"
		     "queues = 2\n"
		     "depth = 64\n"
		     "mlock = yes\n"
		     "shmem_zc = true\n"
		     "batch = yes\n"
		     "read_only = no\n"
		     "poll_us = 250\n",
		     false),
	       0, "a full loop disk parses");
	is_str(d.name, "data", "name");
	is_str(d.target, "loop", "target");
	is_str(d.file, "/home/alice/data.img", "file, trimmed");
	is_u64(d.size, 1ULL << 30, "size");
	is_int(d.nr_queues, 2, "queues");
	is_int(d.queue_depth, 64, "depth");
	ok(d.mlock && d.shmem_zc, "mlock and shmem_zc");
	ok(d.batch, "batch");
	is_int(d.poll_us, 250, "poll_us");
	is_str(d.user, "", "no user in a user's own file");

	is_int(parse("target = null\nsize = 64M", false), 0,
	       "null with a size, no final newline");
	is_u64(d.size, 64ULL << 20, "size");
	ok(!d.mlock && !d.shmem_zc && !d.batch && !d.nr_queues &&
		   !d.queue_depth && !d.poll_us,
	   "unset keys are 0/no (the add defaults)");
	is_int(parse("target = loop\r\nfile = /srv/x\r\n", false), 0,
	       "CRLF lines");
	is_str(d.file, "/srv/x", "CR trimmed");
	is_int(parse("user = svc\ntarget = mem\nsize = 16M\n", true), 0,
	       "an /etc disk names its user");
	is_str(d.user, "svc", "user");
	is_int(parse("user = 2001\ntarget = mem\nsize = 16M\n", true), 0,
	       "a numeric user");
}

static void bad(void)
{
	refused("target = loop\nfile = /x\nsize = 1G\nsizes = 2G\n", false,
		"data.disk:4: unknown key 'sizes' (known: target, file, uri, "
		"size, queues, depth, mlock, shmem_zc, batch, read_only, "
		"poll_us, user)");
	refused("target = mem\nsize = 1M\npoll_us = 100001\n", false,
		"data.disk:3: poll_us: 100001 is out of range (0..100000)");
	refused("target = mem\nsize = 1M\npoll_us = -1\n", false,
		"data.disk:3: poll_us: '-1' is not a number");
	refused("target = loop\n\nfile = /x\nfile = /y\n", false,
		"data.disk:4: duplicate key 'file' (first at line 3)");
	refused("[disk]\ntarget = null\n", false,
		"data.disk:1: disk files have no sections, only 'key = value' "
		"lines");
	refused("target loop\n", false,
		"data.disk:1: expected 'key = value' or a # comment");
	refused("target =\n", false,
		"data.disk:1: target: a value is required");
	refused("target = nbd2\n", false,
		"data.disk:1: target: 'nbd2' is not a target (known: null, "
		"loop, mem, nbd)");
	refused("target = loop\nfile = data.img\n", false,
		"data.disk:2: file: 'data.img' is not an absolute path");
	refused("target = null\nsize = 1X\n", false,
		"data.disk:2: size: unknown unit 'X' in '1X' (use K, M, G or "
		"T)");
	refused("target = null\nsize = 1G\nqueues = 0\n", false,
		"data.disk:3: queues: 0 is out of range (1..64)");
	refused("target = null\nsize = 1G\nqueues = 65\n", false,
		"data.disk:3: queues: 65 is out of range (1..64)");
	refused("target = null\nsize = 1G\ndepth = 5000\n", false,
		"data.disk:3: depth: 5000 is out of range (1..4096)");
	refused("target = null\nsize = 1G\nmlock = maybe\n", false,
		"data.disk:3: mlock: 'maybe' is not yes or no (or true or "
		"false)");
	refused("target = null\nsize = 1G\nshmem_zc = 1\n", false,
		"data.disk:3: shmem_zc: '1' is not yes or no (or true or "
		"false)");
	refused("target = loop\nuser = bob\nfile = /x\n", false,
		"data.disk:2: user: only disk files in /etc/ublk-user/disks "
		"name their user (this one is yours)");
	refused("target = null\nsize = 1G\nuser = ../bob\n", true,
		"data.disk:3: user: '../bob' is not a user name or id");
	refused("target = null\nsize = 1G\nuser = -x\n", true,
		"data.disk:3: user: '-x' is not a user name or id");
	refused("size = 1G\n", false,
		"data.disk: 'target' is required (one of: null, loop, mem, "
		"nbd)");
	refused("target = loop\nsize = 1G\n", false,
		"data.disk: 'file' is required for target loop");
	refused("target = null\nfile = /x\nsize = 1G\n", false,
		"data.disk:2: file: target null has no backing file");
	refused("target = mem\n", false,
		"data.disk: 'size' is required for target mem");
	refused("target = mem\nsize = 1M\n", true,
		"data.disk: 'user' is required in /etc/ublk-user/disks (whose "
		"disk it is)");
	uerr_clear(&err);
	is_int(disk_parse(&d, "data", "data.disk", "target = null\nx\0y\n", 19,
			  false, &err),
	       -EINVAL, "a NUL byte is refused");
	is_str(err.msg, "data.disk:2: a NUL byte (not a text file?)",
	       "naming the line");

	refused("target = loop\nfile = /srv/data.img # mine\n", false,
		"data.disk:2: a comment after a value: put it on a line of "
		"its own");

	refused("target = nbd\nsize = 1G\n", false,
		"data.disk: 'uri' is required for target nbd");
	refused("target = loop\nfile = /x\nuri = nbd://h/e\n", false,
		"data.disk:3: uri: target loop has no NBD server");
	is_int(parse("target = nbd\nuri = nbd+unix:///e?socket=/run/s\n",
		     false),
	       0, "an nbd disk: a uri, no size (the server's)");
	is_str(d.uri, "nbd+unix:///e?socket=/run/s", "  the uri, as written");
	is_u64(d.size, 0, "  no size");
	is_int(parse("target = loop\nfile = /x\nread_only = yes\n", false), 0,
	       "read_only = yes");
	ok(d.read_only, "  a read-only disk");
	is_int(parse("target = loop\nfile = /x\nread_only = no\n", false), 0,
	       "read_only = no");
	ok(!d.read_only, "  a writable one");
	is_int(parse("target = loop\nfile = /x\nread_only = 1\n", false),
	       -EINVAL, "read_only = 1 is refused");
	is_str(err.msg,
	       "data.disk:3: read_only: '1' is not yes or no (or true or "
	       "false)",
	       "  naming the line");
	uerr_clear(&err);
	is_int(disk_parse(&d, "a/b", "a/b.disk", "target = null\n", 14, false,
			  &err),
	       -EINVAL, "a bad name is refused before the text is read");
	contains(err.msg, "a/b.disk: disk name 'a/b'", "naming the file");
}

static char dir[64];

static void put(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) || chmod(path, mode) < 0)
		bail_out("cannot write %s", path);
}

static void load(void)
{
	char path[256], big[DISK_FILE_MAX + 2];
	uid_t me = getuid();

	snprintf(dir, sizeof(dir), "/tmp/diskfile-t.XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0755) < 0)
		bail_out("mkdtemp");
	put("data.disk", "target = null\nsize = 1M\n", 0644);
	is_int(disk_load(&d, dir, "data", me, false, &err), 0,
	       "a good file loads");
	is_u64(d.size, 1 << 20, "with its size");
	is_int(disk_load(&d, dir, "none", me, false, &err), -ENOENT,
	       "a missing disk is ENOENT");
	snprintf(path, sizeof(path), "%s/none.disk: no such disk file", dir);
	is_str(err.msg, path, "naming the file");
	is_int(disk_load(&d, dir, "../x", me, false, &err), -EINVAL,
	       "a bad name is refused before any lookup");
	is_int(disk_load(&d, dir, "data", me + 1, false, &err), -EACCES,
	       "the folder of another owner is refused");
	contains(err.msg, "not by uid", "saying whose it is");
	chmod(dir, 0775);
	is_int(disk_load(&d, dir, "data", me, false, &err), -EACCES,
	       "a group-writable folder is refused");
	chmod(dir, 0755);
	put("data.disk", "target = null\nsize = 1M\n", 0664);
	is_int(disk_load(&d, dir, "data", me, false, &err), -EACCES,
	       "a group-writable file is refused");
	contains(err.msg, "mode 0664 is writable by group or others",
		 "saying why");
	put("real.disk", "target = null\nsize = 1M\n", 0644);
	snprintf(path, sizeof(path), "%s/link.disk", dir);
	if (symlink("real.disk", path) < 0)
		bail_out("symlink");
	is_int(disk_load(&d, dir, "link", me, false, &err), -EACCES,
	       "a symbolic link is refused");
	contains(err.msg, "is a symbolic link: refused", "saying why");
	snprintf(path, sizeof(path), "%s/sub.disk", dir);
	mkdir(path, 0755);
	is_int(disk_load(&d, dir, "sub", me, false, &err), -EACCES,
	       "a directory is refused");
	memset(big, '#', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put("big.disk", big, 0644);
	is_int(disk_load(&d, dir, "big", me, false, &err), -EFBIG,
	       "a file over %d bytes is refused", DISK_FILE_MAX);
	put("bad.disk", "target = null\nsize = 1M\nwhat = 1\n", 0644);
	is_int(disk_load(&d, dir, "bad", me, false, &err), -EINVAL,
	       "a bad file is refused");
	snprintf(path, sizeof(path), "%s/bad.disk:3: unknown key 'what'", dir);
	contains(err.msg, path, "with the full path and line");
	rmdir(path);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path))
		diag("cannot remove %s", dir);
}

static void user_dir(void)
{
	char out[256];

	setenv("XDG_CONFIG_HOME", "/x/conf", 1);
	setenv("HOME", "/home/a", 1);
	is_int(disk_user_dir(out, sizeof(out), &err), 0, "XDG_CONFIG_HOME");
	is_str(out, "/x/conf/ublk-user/disks", "is used");
	setenv("XDG_CONFIG_HOME", "relative", 1);
	disk_user_dir(out, sizeof(out), &err);
	is_str(out, "/home/a/.config/ublk-user/disks",
	       "a relative XDG_CONFIG_HOME is ignored (XDG spec)");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	is_int(disk_user_dir(out, sizeof(out), &err), -ENOENT,
	       "neither: an error");
}

int main(void)
{
	names();
	good();
	bad();
	load();
	user_dir();
	return done_testing();
}
