// SPDX-License-Identifier: MIT
/* Disk annotations of the OCI hook (src/containers/annot.c). */
#include <string.h>

#include "tap.h"
#include "containers/annot.h"

static int bad(const char *key, const char *value, const char *msg)
{
	struct disk_spec d;
	struct uerr err;

	uerr_clear(&err);
	if (!ok(annot_parse_disk(key, value, &d, &err) < 0, "refused: %s=%s",
		key, value))
		return 0;
	return contains(err.msg, msg, "  says: %s", msg);
}

static void test_good(void)
{
	struct disk_spec d;
	struct uerr err;

	ok(annot_parse_disk("io.ublk-user.disk", "size=1G", &d, &err) == 0,
	   "size alone");
	is_str(d.name, "disk", "io.ublk-user.disk is called disk");
	is_u64(d.size, 1ULL << 30, "size 1G");
	is_str(d.target, "loop", "loop by default");
	is_str(d.path, "/dev/ublk-disk", "default path /dev/ublk-NAME");
	is_str(d.file, "disk.img", "default file NAME.img");
	ok(!d.persist, "not persistent by default");
	ok(!d.read_only, "writable by default");

	ok(annot_parse_disk("io.ublk-user.disk.data",
			    "size=64M,target=loop,path=/dev/xvda,file=db.img,"
			    "persist=yes",
			    &d, &err) == 0,
	   "every key");
	is_str(d.name, "data", "the name after the prefix");
	is_str(d.path, "/dev/xvda", "path");
	is_str(d.file, "db.img", "file");
	ok(d.persist, "persist=yes");
	ok(annot_parse_disk("io.ublk-user.disk.img",
			    "size=64M,ro=yes,persist=yes", &d, &err) == 0 &&
		   d.read_only,
	   "ro=yes: a read-only disk");
	ok(annot_parse_disk("io.ublk-user.disk.img", "size=64M,ro=no", &d,
			    &err) == 0 &&
		   !d.read_only,
	   "ro=no: writable");

	ok(annot_parse_disk("io.ublk-user.disk.m", "target=mem,size=4M", &d,
			    &err) == 0,
	   "a mem disk, keys in any order");
	is_str(d.file, "", "a mem disk has no file");
	is_str(d.path, "/dev/ublk-m", "its default path");
	ok(annot_parse_disk("io.ublk-user.disk", "size=1G,path=/dev/a/b-1.x",
			    &d, &err) == 0,
	   "a path in a subdirectory of /dev");

	ok(annot_parse_disk("io.ublk-user.disk.vm",
			    "target=nbd,uri=nbd+unix:///vm?socket=/run/vm.sock",
			    &d, &err) == 0,
	   "an nbd disk: no size (the server's), a URI with '=' in it");
	is_str(d.uri, "nbd+unix:///vm?socket=/run/vm.sock", "  its uri");
	is_u64(d.size, 0, "  size 0: from the server");
	is_str(d.file, "", "  no file");
	is_str(d.path, "/dev/ublk-vm", "  the default path");
	ok(annot_parse_disk("io.ublk-user.disk",
			    "uri=nbd://h/,target=nbd,size=1G", &d, &err) == 0,
	   "an nbd disk with a size");
	is_u64(d.size, 1ULL << 30, "  size 1G");
}

static void test_bad(void)
{
	bad("io.ublk-user.disk", "", "is empty");
	bad("io.ublk-user.disk", "target=mem", "size is required");
	bad("io.ublk-user.disk", "size=1G,siz=2",
	    "unknown key 'siz' (known: size, target, path, file, persist, uri, "
	    "ro)");
	bad("io.ublk-user.disk", "size=1G,size=2G", "size given twice");
	bad("io.ublk-user.disk", "size=1G,,target=mem", "empty item");
	bad("io.ublk-user.disk", "size=1G,", "empty item");
	bad("io.ublk-user.disk", "size", "is not key=value");
	bad("io.ublk-user.disk", "size=", "size is empty");
	bad("io.ublk-user.disk", "size=lots", "size");
	bad("io.ublk-user.disk", "size=1000", "multiple of 4K");
	bad("io.ublk-user.disk", "size=1G,target=floppy",
	    "target 'floppy' is not loop, mem or nbd");
	bad("io.ublk-user.disk", "size=1G,target=nbd", "target=nbd needs uri");
	bad("io.ublk-user.disk", "target=nbd", "target=nbd needs uri");
	bad("io.ublk-user.disk", "size=1G,uri=nbd://h/",
	    "uri is for target=nbd");
	bad("io.ublk-user.disk", "target=nbd,uri=nbd://h/,file=x",
	    "an nbd disk has no file and does not persist");
	bad("io.ublk-user.disk", "target=nbd,uri=nbd://h/,persist=yes",
	    "an nbd disk has no file");
	bad("io.ublk-user.disk", "target=nbd,uri=nbd://h/\x01",
	    "uri is not a URI of at most 511 printable characters");
	bad("io.ublk-user.disk", "size=1G,path=/etc/passwd",
	    "not a plain path under /dev/");
	bad("io.ublk-user.disk", "size=1G,path=/dev/../etc",
	    "not a plain path under /dev/");
	bad("io.ublk-user.disk", "size=1G,path=/dev/", "plain path");
	bad("io.ublk-user.disk", "size=1G,path=/dev/a//b", "plain path");
	bad("io.ublk-user.disk", "size=1G,path=/dev/a b", "plain path");
	bad("io.ublk-user.disk", "size=1G,file=../x", "not a plain file name");
	bad("io.ublk-user.disk", "size=1G,file=..", "not a plain file name");
	bad("io.ublk-user.disk", "size=1G,persist=maybe",
	    "persist must be yes or no");
	bad("io.ublk-user.disk", "size=1G,ro=1", "ro must be yes or no");
	bad("io.ublk-user.disk", "size=1G,ro=yes,ro=no", "ro given twice");
	bad("io.ublk-user.disk", "size=1G,target=mem,ro=yes",
	    "a read-only mem disk would only ever read zeroes");
	bad("io.ublk-user.disk", "size=1G,target=mem,file=x",
	    "a mem disk has no file");
	bad("io.ublk-user.disk", "size=1G,target=mem,persist=yes",
	    "a mem disk cannot persist");
	bad("io.ublk-user.disk.", "size=1G", "the disk name '' is not");
	bad("io.ublk-user.disk.Data", "size=1G", "the disk name 'Data'");
	bad("io.ublk-user.disk._x", "size=1G", "the disk name '_x'");
	bad("io.ublk-user.diskette", "size=1G", "is not a disk");
}

static void test_keys_and_sets(void)
{
	struct disk_spec d[3];
	struct uerr err;

	ok(annot_is_disk_key("io.ublk-user.disk"), "the plain key is ours");
	ok(annot_is_disk_key("io.ublk-user.disk.x"), "a named one is ours");
	ok(!annot_is_disk_key("io.ublk-user.diskx"), "diskx is not");
	ok(!annot_is_disk_key("io.ublk-user.key"), "the key annotation is not");

	annot_parse_disk("io.ublk-user.disk.b", "size=1G", &d[0], &err);
	annot_parse_disk("io.ublk-user.disk.a", "size=1G", &d[1], &err);
	ok(annot_check_disks(d, 2, &err) == 0, "two different disks");
	is_str(d[0].name, "a", "sorted by name");
	annot_parse_disk("io.ublk-user.disk.c", "size=1G,path=/dev/ublk-a",
			 &d[2], &err);
	ok(annot_check_disks(d, 3, &err) < 0, "two disks at one path");
	contains(err.msg, "have the same path /dev/ublk-a", "  says so");
	annot_parse_disk("io.ublk-user.disk", "size=1G", &d[0], &err);
	annot_parse_disk("io.ublk-user.disk.disk", "size=1G,path=/dev/y", &d[1],
			 &err);
	ok(annot_check_disks(d, 2, &err) < 0, "two disks called disk");
	contains(err.msg, "two disks are called 'disk'", "  says so");
	annot_parse_disk("io.ublk-user.disk.x", "size=1G,file=f", &d[0], &err);
	annot_parse_disk("io.ublk-user.disk.y", "size=1G,file=f", &d[1], &err);
	ok(annot_check_disks(d, 2, &err) < 0, "two disks on one file");
	contains(err.msg, "the same file f", "  says so");
}

int main(void)
{
	test_good();
	test_bad();
	test_keys_and_sets();
	return done_testing();
}
