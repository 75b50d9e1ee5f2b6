// SPDX-License-Identifier: MIT
/*
 * Container records (src/containers/ctrrec.c), which root reads for
 * rootful podman (the hook, gc), what the hook takes from the output of
 * `ublk-user add`, and the CDI specs gc lists as root (src/containers/
 * cdi.c): records written before still read, every field is required and
 * checked, and what gc acts on is checked for what it may name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "base/json.h"
#include "containers/cdi.h"
#include "containers/ctrrec.h"

#define KEY "0123456789abcdef0123456789abcdef"

static char dir[64];

/* 15 empty disks: with the record's own 2, more than ANNOT_MAX_DISKS */
#define MANY_EMPTY "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},"

/* As every version so far has written it */
static const char old_record[] = "{\n"
				 "  \"key\":\"" KEY "\",\n"
				 "  \"id\":\"c0ffee\",\n"
				 "  \"pid\":1234,\n"
				 "  \"pid_start\":987654,\n"
				 "  \"creator_pid\":99,\n"
				 "  \"creator_start\":12345,\n"
				 "  \"owner_uid\":2001,\n"
				 "  \"owner_gid\":2001,\n"
				 "  \"runtime_dir\":\"/run/user/2001\",\n"
				 "  "
				 "\"data_dir\":\"/home/alice/.local/share/"
				 "ublk-user/containers/" KEY "\",\n"
				 "  \"disks\":[\n"
				 "    {\n"
				 "      \"name\":\"data\",\n"
				 "      \"dev_id\":3,\n"
				 "      "
				 "\"uuid\":\"0123abcd-0000-4000-8000-"
				 "00000000beef\",\n"
				 "      \"file\":\"data.img\",\n"
				 "      \"persist\":true\n"
				 "    },\n"
				 "    {\n"
				 "      \"name\":\"scratch\",\n"
				 "      \"dev_id\":-1,\n"
				 "      \"uuid\":\"\",\n"
				 "      \"file\":\"\",\n"
				 "      \"persist\":false\n"
				 "    }\n"
				 "  ]\n"
				 "}\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		bail_out("cannot write %s", path);
}

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

/* old_record with the first occurrence of from replaced by to */
static int read_edited(const char *from, const char *to, struct ctr_record *r,
		       struct uerr *err)
{
	char path[128], text[4096], *p;

	snprintf(text, sizeof(text), "%s", old_record);
	p = strstr(text, from);
	if (!p)
		bail_out("no %s in the record", from);
	memmove(p + strlen(to), p + strlen(from), strlen(p + strlen(from)) + 1);
	memcpy(p, to, strlen(to));
	snprintf(path, sizeof(path), "%s/" KEY ".json", dir);
	write_file(path, text);
	return ctrrec_read(dir, KEY, r, err);
}

static void test_format(void)
{
	char path[128], text[4096];
	struct ctr_record *r = calloc(1, sizeof(*r));
	struct uerr err;

	note("records written before still read, and are written the same");
	snprintf(path, sizeof(path), "%s/" KEY ".json", dir);
	write_file(path, old_record);
	uerr_clear(&err);
	if (!is_int(ctrrec_read(dir, KEY, r, &err), 0, "an existing record"))
		diag("%s", err.msg);
	ok(!strcmp(r->key, KEY) && !strcmp(r->id, "c0ffee") && r->pid == 1234 &&
		   r->pid_start == 987654 && r->creator_pid == 99 &&
		   r->creator_start == 12345 && r->owner_uid == 2001 &&
		   r->owner_gid == 2001 &&
		   !strcmp(r->runtime_dir, "/run/user/2001"),
	   "  its fields");
	ok(r->nr_disks == 2 && !strcmp(r->disks[0].name, "data") &&
		   r->disks[0].dev_id == 3 && r->disks[0].persist &&
		   !strcmp(r->disks[0].file, "data.img") &&
		   r->disks[1].dev_id == -1 && !r->disks[1].persist &&
		   !r->disks[1].uuid[0],
	   "  its disks");
	unlink(path);
	is_int(ctrrec_write(dir, r, &err), 0, "write it again");
	read_text(path, text, sizeof(text));
	is_str(text, old_record, "  byte for byte the same file");
	free(r);
}

static void test_hostile(void)
{
	static const struct {
		const char *from, *to, *msg;
	} bad[] = {
		{ "\"pid\":1234", "\"pid\":-1", "pid is out of range" },
		{ "\"pid\":1234", "\"pid\":2147483648", "pid is out of range" },
		{ "\"pid\":1234", "\"pid\":\"1234\"", "pid is not an integer" },
		{ "\"pid_start\":987654", "\"pid_start\":9223372036854775808",
		  "pid_start is out of range" },
		{ "\"owner_uid\":2001", "\"owner_uid\":4294967295",
		  "owner_uid is out of range" },
		{ "\"owner_gid\":2001", "\"owner_gid\":-2001",
		  "owner_gid is out of range" },
		{ "\"id\":\"c0ffee\"", "\"id\":\"c0\\u0000ffee\"",
		  "id holds a NUL character" },
		{ "\"key\":\"0", "\"key\":\"f", "key does not match the name" },
		{ "\"runtime_dir\":\"/run", "\"runtime_dir\":\"run",
		  "runtime_dir is not absolute" },
		{ "\"data_dir\":\"/home", "\"data_dir\":\"home",
		  "data_dir is not absolute" },
		{ "\"file\":\"data.img\"", "\"file\":\"../../etc/shadow\"",
		  "disks[0].file is not a file name" },
		{ "\"file\":\"data.img\"", "\"file\":\"..\"",
		  "disks[0].file is not a file name" },
		{ "\"dev_id\":-1", "\"dev_id\":-2",
		  "disks[1].dev_id is out of range" },
		{ "\"dev_id\":3", "\"dev_id\":4294967296",
		  "disks[0].dev_id is out of range" },
		{ "\"persist\":false", "\"persist\":0",
		  "disks[1].persist is not true or false" },
		{ "\"name\":\"data\"",
		  "\"name\":\"01234567890123456789012345678"
		  "901234567890\"",
		  "disks[0].name is longer than" },
		{ "\"disks\":[", "\"disks\":[1,",
		  "disks[0] is not a JSON object" },
		{ "\"disks\":[", "\"disks\":[" MANY_EMPTY,
		  "disks has more than 16 elements" },
		{ "\"disks\":[", "\"disks\":\"x\",\"y\":[",
		  "disks is not an array" },
	};
	static const char *const required[] = {
		"\"key\"",	 "\"id\"",	    "\"pid\"",
		"\"pid_start\"", "\"creator_pid\"", "\"creator_start\"",
		"\"owner_uid\"", "\"owner_gid\"",   "\"runtime_dir\"",
		"\"data_dir\"",	 "\"disks\"",	    "\"name\"",
		"\"dev_id\"",	 "\"uuid\"",	    "\"file\"",
		"\"persist\"",
	};
	struct ctr_record *r = calloc(1, sizeof(*r));
	char renamed[64];
	struct uerr err;
	unsigned int i;

	note("every field has its type and range");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uerr_clear(&err);
		is_int(read_edited(bad[i].from, bad[i].to, r, &err), -EINVAL,
		       "%s", bad[i].to);
		contains(err.msg, bad[i].msg, "  %s", err.msg);
	}
	note("every field is required");
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		snprintf(renamed, sizeof(renamed), "\"_%s", required[i] + 1);
		uerr_clear(&err);
		is_int(read_edited(required[i], renamed, r, &err), -EINVAL,
		       "without %s", required[i]);
		contains(err.msg, "is missing", "  %s", err.msg);
	}
	ok(read_edited("\"id\":", "\"more\":[null],\"id\":", r, &err) == 0,
	   "a field we do not know is passed over");
	ok(read_edited("\"runtime_dir\":\"/run/user/2001\"",
		       "\"runtime_dir\":\"\"", r, &err) == 0 &&
		   !r->runtime_dir[0],
	   "an empty runtime_dir: an owner without /run/user/UID");
	free(r);
}

static void test_added(void)
{
	static const char *const bad[] = {
		"{\"uuid\":\"u\"}",
		"{\"dev_id\":3}",
		"{\"dev_id\":3,\"uuid\":null}",
		"{\"dev_id\":3,\"uuid\":\"\"}",
		"{\"dev_id\":-1,\"uuid\":\"u\"}",
		"{\"dev_id\":4294967296,\"uuid\":\"u\"}",
		"{\"dev_id\":\"3\",\"uuid\":\"u\"}",
		"{\"dev_id\":3,\"uuid\":\"0123abcd-0000-4000-8000-"
		"00000000beefX\"}",
		"{\"dev_id\":3,\"uuid\":\"u\"} and more",
		"[3]",
	};
	struct ctr_disk d = { .dev_id = -1 };
	struct uerr err;
	unsigned int i;
	const char *good = "{\"dev_id\":3,\"block\":\"/dev/ublkb3\","
			   "\"uuid\":\"0123abcd-0000-4000-8000-00000000beef\"}";

	note("what the hook keeps of `ublk-user add --json`");
	ok(ctrrec_parse_added(good, strlen(good), &d, &err) == 0 &&
		   d.dev_id == 3 &&
		   !strcmp(d.uuid, "0123abcd-0000-4000-8000-00000000beef"),
	   "dev_id and uuid");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d.dev_id = -1;
		d.uuid[0] = '\0';
		uerr_clear(&err);
		ok(ctrrec_parse_added(bad[i], strlen(bad[i]), &d, &err) ==
				   -EINVAL &&
			   d.dev_id == -1 && !d.uuid[0],
		   "refused, the disk untouched: %s", bad[i]);
		contains(err.msg, "the output of ublk-user add", "  %s",
			 err.msg);
	}
}

static void test_keys(void)
{
	static const char *const junk[] = {
		KEY ".json.tmp",
		"0123456789ABCDEF0123456789ABCDEF.json",
		"0123456789abcdef0123456789abcde.json",
		"0123456789abcdef0123456789abcdef0.json",
		"x123456789abcdef0123456789abcdef.json",
	};
	char(*keys)[CTRREC_KEY_LEN + 1] = NULL;
	char path[256];
	unsigned int nr, i;
	struct uerr err;

	note("ctrrec_keys");
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, junk[i]);
		write_file(path, "{}");
	}
	snprintf(path, sizeof(path), "%s/ffffffffffffffffffffffffffffffff.json",
		 dir);
	write_file(path, "{}");
	snprintf(path, sizeof(path), "%s/00000000000000000000000000000000.json",
		 dir);
	write_file(path, "{}");
	is_int(ctrrec_keys(dir, &keys, &nr, &err), 0, "lists the records");
	if (is_int(nr, 3, "  three of them, other files passed over")) {
		is_str(keys[0], "00000000000000000000000000000000", "  sorted");
		is_str(keys[1], KEY, "  sorted");
		is_str(keys[2], "ffffffffffffffffffffffffffffffff", "  sorted");
	}
	free(keys);
	snprintf(path, sizeof(path), "%s/none", dir);
	is_int(ctrrec_keys(path, &keys, &nr, &err), -ENOENT,
	       "a missing directory: -ENOENT");
	ok(!keys && nr == 0, "  and nothing");
}

static void write_spec(const char *name, const char *spec_name, uint32_t id,
		       const char *uuid)
{
	char path[256];
	json_object *o = cdi_spec_json(spec_name, id, uuid, 0, 0);

	snprintf(path, sizeof(path), "%s/cdi/%s", dir, name);
	write_file(path, json_object_to_json_string(o));
	json_object_put(o);
}

static void test_cdi_list(void)
{
	static const char uuid[] = "0123abcd-0000-4000-8000-00000000beef";
	struct cdi_spec *specs;
	char path[256];
	unsigned int nr;
	struct uerr err;

	note("cdi_list");
	snprintf(path, sizeof(path), "%s/cdi", dir);
	is_int(cdi_list(path, &specs, &nr, &err), 0, "no directory: none");
	is_int(nr, 0, "  nothing");
	mkdir(path, 0755);
	write_spec("ublk-user-data.json", "data", 3, uuid);
	write_spec("ublk-user-two.json", "two", 4, uuid);
	write_spec("ublk-user-other.json", "data", 5, uuid);
	write_spec("ublk-user-bad.json", "bad", 6, "not a uuid");
	write_spec("vendor-gpu.json", "gpu", 7, uuid);
	snprintf(path, sizeof(path), "%s/cdi/ublk-user-junk.json", dir);
	write_file(path, "{\"kind\":\"ublk-user.io/disk\",\"devices\":1}");
	snprintf(path, sizeof(path), "%s/cdi/ublk-user-fifo.json", dir);
	mkfifo(path, 0644);
	snprintf(path, sizeof(path), "%s/cdi", dir);
	is_int(cdi_list(path, &specs, &nr, &err), 0, "lists the specs");
	if (is_int(nr, 2, "  ours, named for their name, only")) {
		if (specs[0].dev_id == 4) {
			struct cdi_spec t = specs[0];

			specs[0] = specs[1];
			specs[1] = t;
		}
		ok(!strcmp(specs[0].name, "data") && specs[0].dev_id == 3 &&
			   !strcmp(specs[0].uuid, uuid),
		   "  data: /dev/ublkb3 and its uuid");
		ok(!strcmp(specs[1].name, "two") && specs[1].dev_id == 4, "  "
									  "two:"
									  " /"
									  "dev/"
									  "ublk"
									  "b4");
	}
	free(specs);
}

static void test_cdi_parse(void)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "{\"kind\":\"ublk-user.io/disk\",\"devices\":[]}", "devices "
								     "is "
								     "empty" },
		{ "{\"kind\":\"ublk-user.io/disk\",\"devices\":[{\"name\":"
		  "\"Data\",\"containerEdits\":{}}]}",
		  "devices[0].name is not a CDI name" },
		{ "{\"kind\":\"ublk-user.io/disk\",\"devices\":[{\"name\":"
		  "\"d\",\"containerEdits\":{\"deviceNodes\":[{\"path\":"
		  "\"/dev/sda\"}],\"env\":[\"x\"]}}]}",
		  "devices[0].containerEdits.deviceNodes[0].path is not "
		  "/dev/ublkbN" },
		{ "{\"kind\":\"ublk-user.io/disk\",\"devices\":[{\"name\":"
		  "\"d\",\"containerEdits\":{\"deviceNodes\":[{\"path\":"
		  "\"/dev/ublkb1\"}]}}]}",
		  "devices[0].containerEdits.env is missing" },
		{ "{\"kind\":\"ublk-user.io/disk\",\"devices\":[{\"name\":"
		  "\"d\",\"containerEdits\":{\"deviceNodes\":[{\"path\":"
		  "\"/dev/ublkb1\"}],\"env\":[\"UBLK_USER_DISK_UUID_D="
		  "0123abcd-0000-4000-8000-00000000bee\\u0000\"]}}]}",
		  "spec d has no disk uuid" },
	};
	struct cdi_spec s;
	struct uerr err;
	json_object *o;
	unsigned int i;

	note("cdi_spec_parse names what is wrong");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ujson_parse(bad[i].text, strlen(bad[i].text), "t", &o,
				&err) < 0)
			bail_out("bad test JSON: %s", err.msg);
		uerr_clear(&err);
		is_int(cdi_spec_parse(o, &s, &err), -EINVAL, "refused: %s",
		       bad[i].msg);
		contains(err.msg, bad[i].msg, "  %s", err.msg);
		json_object_put(o);
	}
}

int main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/ublk-user-ctrrec.XXXXXX");
	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));
	test_format();
	test_hostile();
	test_added();
	test_keys();
	test_cdi_list();
	test_cdi_parse();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cannot remove %s", dir);
	return done_testing();
}
