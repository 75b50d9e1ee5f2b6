// SPDX-License-Identifier: MIT
/*
 * Per-user records (src/host/state.c) in a fresh $XDG_RUNTIME_DIR: the
 * directory's checks, the JSON round trip, listing and removal.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "host/state.h"

static char base[64];
static char dir[128];

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	if (base[0])
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		bail_out("cannot write %s", path);
}

static void test_dir(void)
{
	char buf[PATH_MAX], moved[PATH_MAX + 8], small[16];
	struct uerr err;
	struct stat st;

	note("state_dir");
	uerr_clear(&err);
	is_int(state_dir(buf, sizeof(buf), 0, &err), -ENOENT,
	       "without create, a missing directory is -ENOENT");
	ok(!exists(dir), "and it is not created");

	uerr_clear(&err);
	if (!is_int(state_dir(buf, sizeof(buf), 1, &err), 0,
		    "with create, state_dir succeeds"))
		diag("%s", err.msg);
	is_str(buf, dir, "the directory is $XDG_RUNTIME_DIR/ublk-user");
	ok(lstat(dir, &st) == 0 && S_ISDIR(st.st_mode), "it is a directory");
	is_int(st.st_mode & 07777, 0700, "with mode 0700");
	is_int(st.st_uid, geteuid(), "owned by us");
	is_int(state_dir(buf, sizeof(buf), 1, &err), 0,
	       "a second call accepts it as it is");
	is_int(state_dir(buf, sizeof(buf), 0, &err), 0,
	       "and so does one without create");

	note("state_dir refuses a directory others may use");
	chmod(dir, 0755);
	uerr_clear(&err);
	is_int(state_dir(buf, sizeof(buf), 1, &err), -EPERM,
	       "mode 0755: -EPERM");
	contains(err.msg, dir, "the message names the directory");
	contains(err.msg, "mode 0700", "and the mode it wants");
	chmod(dir, 0701);
	is_int(state_dir(buf, sizeof(buf), 1, &err), -EPERM,
	       "mode 0701: -EPERM");
	chmod(dir, 0700);
	is_int(state_dir(buf, sizeof(buf), 1, &err), 0, "back to 0700: fine");

	note("state_dir refuses a symlink or a file in its place");
	snprintf(moved, sizeof(moved), "%s/real", base);
	if (rename(dir, moved) || symlink(moved, dir))
		bail_out("cannot set up the symlink");
	uerr_clear(&err);
	is_int(state_dir(buf, sizeof(buf), 1, &err), -ENOTDIR,
	       "a symlink to a 0700 directory: -ENOTDIR");
	contains(err.msg, "not a directory", "the message says why");
	is_int(state_dir(buf, sizeof(buf), 0, &err), -ENOTDIR,
	       "also without create");
	unlink(dir);
	write_file(dir, "");
	is_int(state_dir(buf, sizeof(buf), 1, &err), -ENOTDIR,
	       "a regular file: -ENOTDIR");
	unlink(dir);
	if (rename(moved, dir))
		bail_out("cannot move %s back", moved);
	is_int(state_dir(buf, sizeof(buf), 1, &err), 0, "restored: fine");

	note("state_dir: odd environments");
	is_int(state_dir(small, sizeof(small), 1, &err), -ENAMETOOLONG,
	       "a buffer too small for the path: -ENAMETOOLONG");
	setenv("XDG_RUNTIME_DIR", "/nonexistent/ublk-user-test", 1);
	uerr_clear(&err);
	is_int(state_dir(buf, sizeof(buf), 1, &err), -ENOENT,
	       "a runtime dir that does not exist: -ENOENT");
	contains(err.msg, "XDG_RUNTIME_DIR", "the message says what to set");
	/* /run/user/UID/ublk-user, or the fallback where there is none */
	snprintf(moved, sizeof(moved), "/run/user/%u", (unsigned int)geteuid());
	state_runtime_of(buf, sizeof(buf), geteuid());
	if (exists(moved)) {
		is_str(buf, moved, "root gives a user /run/user/UID");
		strcat(moved, "/ublk-user");
	} else {
		is_str(buf, "", "no /run/user/UID: root gives no runtime dir");
		snprintf(moved, sizeof(moved), "/tmp/ublk-user-%u",
			 (unsigned int)geteuid());
	}
	state_runtime_of(buf, sizeof(buf), 4000000000U);
	is_str(buf, "", "nor to a uid without /run/user/UID");
	setenv("XDG_RUNTIME_DIR", "relative/dir", 1);
	state_dir(buf, sizeof(buf), 0, &err);
	is_str(buf, moved, "a relative XDG_RUNTIME_DIR is ignored");
	unsetenv("XDG_RUNTIME_DIR");
	state_dir(buf, sizeof(buf), 0, &err);
	is_str(buf, moved,
	       "no XDG_RUNTIME_DIR: /run/user/UID/ublk-user or "
	       "/tmp/ublk-user-UID");
	setenv("XDG_RUNTIME_DIR", base, 1);
	state_default_dir(buf, sizeof(buf), 0, &err);
	is_str(buf, moved,
	       "state_default_dir does not look at XDG_RUNTIME_DIR");

	note("state_path");
	is_int(state_path(buf, sizeof(buf), 42, "json", &err), 0,
	       "state_path succeeds");
	snprintf(moved, sizeof(moved), "%s/dev-42.json", dir);
	is_str(buf, moved, "dir/dev-<id>.<ext>");
}

static void fill(struct dev_record *r, uint32_t id)
{
	memset(r, 0, sizeof(*r));
	r->dev_id = id;
	snprintf(r->uuid, sizeof(r->uuid), "0123abcd-4567-89ef-0123-%012u", id);
	r->tag = 0xfedcba9876543210ULL ^ id;
	snprintf(r->target, sizeof(r->target), "loop");
	snprintf(r->backing, sizeof(r->backing),
		 "/home/some user/VM images/disk %u.img", id);
	r->size = (1ULL << 40) + 4096 * (uint64_t)id;
	r->nr_queues = 4;
	r->queue_depth = 4096;
	r->server_pid = 4194304;
	r->created = 4102444800LL; /* 2100-01-01: past 2^32 */
}

static void same_record(const struct dev_record *a, const struct dev_record *b,
			const char *what)
{
	is_int(a->dev_id, b->dev_id, "%s: dev_id", what);
	is_str(a->uuid, b->uuid, "%s: uuid", what);
	is_u64(a->tag, b->tag, "%s: tag (all 64 bits)", what);
	is_str(a->target, b->target, "%s: target", what);
	is_str(a->backing, b->backing, "%s: backing", what);
	is_u64(a->size, b->size, "%s: size", what);
	is_int(a->nr_queues, b->nr_queues, "%s: nr_queues", what);
	is_int(a->queue_depth, b->queue_depth, "%s: queue_depth", what);
	is_int(a->server_pid, b->server_pid, "%s: server_pid", what);
	is_int(a->created, b->created, "%s: created", what);
}

static void test_records(void)
{
	char path[PATH_MAX + 16], moved[PATH_MAX + 16];
	struct dev_record w, r;
	struct uerr err;
	struct stat st;
	time_t now;

	note("record_write / record_read");
	fill(&w, 7);
	uerr_clear(&err);
	if (!is_int(record_write(&w, &err), 0, "record_write succeeds"))
		diag("%s", err.msg);
	snprintf(path, sizeof(path), "%s/dev-7.json", dir);
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode), "dev-7.json exists");
	is_int(st.st_mode & 07777, 0600, "with mode 0600");
	snprintf(path, sizeof(path), "%s/dev-7.json.tmp", dir);
	ok(!exists(path), "no temporary file is left");
	memset(&r, 0xa5, sizeof(r));
	if (!is_int(record_read(7, &r, &err), 0, "record_read succeeds"))
		diag("%s", err.msg);
	same_record(&r, &w, "round trip");
	is_str(r.dir, dir, "record_read says where it found the record");
	record_path(&r, "stats", path, sizeof(path), &err);
	snprintf(moved, sizeof(moved), "%s/dev-7.stats", dir);
	is_str(path, moved, "record_path: the device's files next to it");

	note("odd values survive too");
	fill(&w, 8);
	w.tag = UINT64_MAX;
	snprintf(w.backing, sizeof(w.backing),
		 "/tmp/a \"quoted\" name\\with\\backslashes/\t\xc3\xa9t\xc3\xa9"
		 "/x.img");
	snprintf(w.target, sizeof(w.target), "mem");
	w.server_pid = 0;
	w.size = 512;
	w.created = 0;
	is_int(record_write(&w, &err), 0, "record_write succeeds");
	is_int(record_read(8, &r, &err), 0, "record_read succeeds");
	same_record(&r, &w, "odd values");
	w.tag = 1;
	w.backing[0] = '\0';
	is_int(record_write(&w, &err), 0, "overwrite the record");
	is_int(record_read(8, &r, &err), 0, "read it again");
	same_record(&r, &w, "overwritten");

	note("record_new_identity");
	memset(&w, 0, sizeof(w));
	now = time(NULL);
	record_new_identity(&w);
	like(w.uuid,
	     "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
	     "[0-9a-f]{12}$",
	     "uuid is a lowercase UUID: %s", w.uuid);
	ok(w.tag != 0, "tag is set: 0x%016llx", (unsigned long long)w.tag);
	ok(w.created >= now && w.created <= now + 5, "created is now");
	r = w;
	record_new_identity(&r);
	ok(strcmp(r.uuid, w.uuid) && r.tag != w.tag, "two identities differ");

	note("record_read of what is not a good record");
	uerr_clear(&err);
	is_int(record_read(1234, &r, &err), -ENOENT,
	       "a missing record: -ENOENT");
	is_int(err.code, ENOENT, "err.code ENOENT");
	contains(err.msg, "dev-1234.json", "the message names the file");

	snprintf(path, sizeof(path), "%s/dev-20.json", dir);
	write_file(path, "{ \"dev_id\": 20, \"uuid\": \"ab");
	uerr_clear(&err);
	is_int(record_read(20, &r, &err), -EINVAL, "truncated JSON: -EINVAL");
	contains(err.msg, "not valid JSON", "the message says so");
	contains(err.msg, "dev-20.json", "and names the file");
	write_file(path, "this is not json at all\n");
	is_int(record_read(20, &r, &err), -EINVAL, "garbage: -EINVAL");
	write_file(path, "");
	is_int(record_read(20, &r, &err), -EINVAL, "an empty file: -EINVAL");
	write_file(path, "[1, 2, 3]\n");
	is_int(record_read(20, &r, &err), -EINVAL,
	       "a JSON array, not an object: -EINVAL");
	write_file(path, "\"dev-20\"\n");
	is_int(record_read(20, &r, &err), -EINVAL, "a JSON string: -EINVAL");
	/* A JSON text is one value: what follows it makes the file corrupt */
	write_file(path, "{ \"dev_id\": 20, \"size\": 4096 } trailing junk\n");
	is_int(record_read(20, &r, &err), -EINVAL,
	       "an object followed by junk: -EINVAL");
	write_file(path, "{ \"size\": 4096 }{ \"size\": 8192 }\n");
	is_int(record_read(20, &r, &err), -EINVAL,
	       "two objects one after the other: -EINVAL");
	write_file(path, "{ \"dev_id\": 20, \"size\": 4096 }\n\n  \n");
	is_int(record_read(20, &r, &err), 0,
	       "an object followed by white space is fine");
	record_remove(20);

	note("record_write into a directory that is not ours");
	chmod(dir, 0755);
	fill(&w, 9);
	uerr_clear(&err);
	is_int(record_write(&w, &err), -EPERM, "mode 0755: -EPERM");
	is_int(record_read(7, &r, &err), -EPERM, "record_read too");
	chmod(dir, 0700);
	snprintf(path, sizeof(path), "%s/dev-9.json", dir);
	ok(!exists(path), "nothing was written");
}

static void test_ids_remove(void)
{
	static const uint32_t ids[] = { 33, 1, 4294967295U, 10, 2, 100000 };
	static const char *const junk[] = {
		"dev-5.log",  "dev-6.json.tmp", "other.json",
		"dev-x.json", "dev-11.jsonx",	"dev-12.jso",
		"dev-.json",  "xdev-13.json",	"dev-14.JSON",
	};
	char path[PATH_MAX + 32];
	struct dev_record w, r;
	uint32_t *got = NULL;
	unsigned int nr = 0, i;
	struct uerr err;

	note("record_ids");
	/* only 7 and 8 from before */
	record_remove(7);
	record_remove(8);
	is_int(record_ids(&got, &nr, &err), 0, "record_ids of an empty dir");
	is_int(nr, 0, "no ids");
	free(got);

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		fill(&w, ids[i]);
		record_write(&w, &err);
	}
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, junk[i]);
		write_file(path, "{}");
	}
	got = NULL;
	is_int(record_ids(&got, &nr, &err), 0, "record_ids succeeds");
	if (is_int(nr, 6, "6 records, other files ignored")) {
		is_int(got[0], 1, "sorted: 1");
		is_int(got[1], 2, "sorted: 2");
		is_int(got[2], 10, "sorted: 10 (numerically, not as text)");
		is_int(got[3], 33, "sorted: 33");
		is_int(got[4], 100000, "sorted: 100000");
		is_u64(got[5], 4294967295U, "sorted: 4294967295 last");
	} else {
		for (i = 0; i < nr; i++)
			diag("id %u", got[i]);
	}
	free(got);

	note("record_remove");
	snprintf(path, sizeof(path), "%s/dev-10.log", dir);
	write_file(path, "server log\n");
	record_remove(10);
	snprintf(path, sizeof(path), "%s/dev-10.json", dir);
	ok(!exists(path), "dev-10.json is gone");
	snprintf(path, sizeof(path), "%s/dev-10.log", dir);
	ok(!exists(path), "dev-10.log is gone");
	is_int(record_read(10, &r, &err), -ENOENT,
	       "record_read says -ENOENT now");
	record_remove(10);
	pass("removing it again is harmless");
	snprintf(path, sizeof(path), "%s/dev-5.log", dir);
	ok(exists(path), "another device's log is untouched");
	got = NULL;
	record_ids(&got, &nr, &err);
	is_int(nr, 5, "5 records remain");
	free(got);
}

/* dev-7.json as every version so far has written it */
static const char old_record[] =
	"{\n"
	"  \"dev_id\":77,\n"
	"  \"uuid\":\"0123abcd-0000-4000-8000-00000000beef\",\n"
	"  \"tag\":\"00ff00ff12345678\",\n"
	"  \"target\":\"loop\",\n"
	"  \"backing\":\"/home/alice/a \\\"b\\\"\\\\c/\xc3\xa9.img\",\n"
	"  \"size\":1099511627776,\n"
	"  \"nr_queues\":2,\n"
	"  \"queue_depth\":128,\n"
	"  \"server_pid\":4242,\n"
	"  \"created\":1700000000,\n"
	"  \"fixed_buffers\":true,\n"
	"  \"mlock\":false,\n"
	"  \"container\":\"0123456789abcdef0123456789abcdef\",\n"
	"  \"cdi\":\"data\"\n"
	"}\n";

static void read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		bail_out("cannot read %s", path);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* dev-77.json with the field of field's name set to field, or added */
static int read_with(const char *field, struct dev_record *r, struct uerr *err)
{
	char path[PATH_MAX + 16], text[2048], key[64];
	char *start, *end;

	snprintf(path, sizeof(path), "%s/dev-77.json", dir);
	snprintf(text, sizeof(text), "%s", old_record);
	snprintf(key, sizeof(key), "%.*s", (int)strcspn(field, ":") + 1, field);
	start = strstr(text, key);
	if (start) {
		/* replace the value, keep the comma after it */
		end = strchr(start, '\n');
		if (end[-1] == ',')
			end--;
		memmove(start + strlen(field), end, strlen(end) + 1);
		memcpy(start, field, strlen(field));
	} else {
		/* add it first */
		start = strchr(text, '{') + 1;
		memmove(start + strlen(field) + 1, start, strlen(start) + 1);
		memcpy(start, field, strlen(field));
		start[strlen(field)] = ',';
	}
	write_file(path, text);
	return record_read(77, r, err);
}

static void test_record_format(void)
{
	static const struct {
		const char *field, *msg;
	} bad[] = {
		{ "\"server_pid\":-1", "server_pid is out of range" },
		{ "\"server_pid\":\"4242\"", "server_pid is not an integer" },
		{ "\"server_pid\":4242.0", "server_pid is not an integer" },
		{ "\"server_pid\":2147483648", "server_pid is out of range" },
		{ "\"nr_queues\":4294967296", "nr_queues is out of range" },
		{ "\"size\":-4096", "size is out of range" },
		{ "\"size\":99999999999999999999999", "size is out of range" },
		{ "\"tag\":\"00ff00ff1234567\"", "tag is not 16 hex digits" },
		{ "\"tag\":\"00FF00FF12345678\"", "tag is not 16 hex digits" },
		{ "\"tag\":\"-0ff00ff12345678\"", "tag is not 16 hex digits" },
		{ "\"tag\":12345678", "tag is not a string" },
		{ "\"target\":\"a target name too long\"", "target is longer "
							   "than 15 bytes" },
		{ "\"uuid\":\"a\\u0000b\"", "uuid holds a NUL character" },
		{ "\"mlock\":1", "mlock is not true or false" },
		{ "\"cdi\":null", "cdi is not a string" },
		{ "\"name\":7", "name is not a string" },
		{ "\"dev_id\":78", "dev_id is 78, not 77" },
	};
	char path[PATH_MAX + 16], text[2048];
	struct dev_record r, w;
	struct uerr err;
	unsigned int i;

	note("records written before still read, and are written the same");
	snprintf(path, sizeof(path), "%s/dev-77.json", dir);
	write_file(path, old_record);
	uerr_clear(&err);
	if (!is_int(record_read(77, &r, &err), 0, "an existing record reads"))
		diag("%s", err.msg);
	ok(r.dev_id == 77 && r.tag == 0x00ff00ff12345678ULL &&
		   !strcmp(r.backing, "/home/alice/a \"b\"\\c/\xc3\xa9.img") &&
		   r.size == 1ULL << 40 && r.nr_queues == 2 &&
		   r.queue_depth == 128 && r.server_pid == 4242 &&
		   r.created == 1700000000 && r.fixed_buffers && !r.mlock &&
		   !strcmp(r.container, "0123456789abcdef0123456789abcdef") &&
		   !strcmp(r.cdi, "data") && !r.name[0],
	   "  with every value (no name: records before disk names)");
	w = r;
	unlink(path);
	is_int(record_write(&w, &err), 0, "write it again");
	read_text(path, text, sizeof(text));
	is_str(text, old_record, "  byte for byte the same file");

	note("a field that is there has its type and range");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uerr_clear(&err);
		is_int(read_with(bad[i].field, &r, &err), -EINVAL, "%s",
		       bad[i].field);
		contains(err.msg, bad[i].msg, "  %s", err.msg);
		contains(err.msg, "dev-77.json: ", "  names the file");
	}
	ok(read_with("\"name\":\"data\"", &r, &err) == 0 &&
		   !strcmp(r.name, "data"),
	   "a disk name reads");
	ok(read_with("\"server_pid\":0", &r, &err) == 0 && r.server_pid == 0,
	   "server_pid 0 (no server) is fine");
	ok(read_with("\"offset\":1048576,\"partition\":2,\"read_only\":true",
		     &r, &err) == 0 &&
		   r.offset == 1048576 && r.partition == 2 && r.read_only,
	   "offset, partition and read_only read (add --partition, "
	   "--read-only)");
	w = r;
	is_int(record_write(&w, &err), 0, "  written again");
	read_text(path, text, sizeof(text));
	ok(strstr(text, "\"offset\":1048576,\n  \"partition\":2,\n  "
			"\"read_only\":true") != NULL,
	   "  with them in the file");
	ok(read_with("\"poll_us\":500", &r, &err) == 0 && r.poll_us == 500,
	   "poll_us reads (add --poll-us)");
	w = r;
	is_int(record_write(&w, &err), 0, "  written again");
	read_text(path, text, sizeof(text));
	ok(strstr(text, "\"poll_us\":500") != NULL, "  with it in the file");
	ok(read_with("\"poll_us\":-1", &r, &err) == -EINVAL, "poll_us must not "
							     "be negative");
	ok(read_with("\"read_only\":1", &r, &err) == -EINVAL, "read_only must "
							      "be true or "
							      "false");
	ok(read_with("\"extra\":{\"x\":[1]}", &r, &err) == 0 &&
		   r.server_pid == 4242,
	   "a field we do not know is passed over");
	record_remove(77);
}

int main(void)
{
	snprintf(base, sizeof(base), "/tmp/ublk-user-state.XXXXXX");
	if (!mkdtemp(base))
		bail_out("mkdtemp: %s", strerror(errno));
	snprintf(dir, sizeof(dir), "%s/ublk-user", base);
	setenv("XDG_RUNTIME_DIR", base, 1);
	umask(022);
	note("XDG_RUNTIME_DIR=%s", base);

	test_dir();
	test_records();
	test_ids_remove();
	test_record_format();
	cleanup();
	ok(!exists(base), "the test's directory is cleaned up");
	return done_testing();
}
