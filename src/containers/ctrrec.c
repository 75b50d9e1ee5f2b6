// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <uuid/uuid.h>

#include "containers/ctrrec.h"
#include "host/idmap.h"
#include "base/dirids.h"
#include "base/json.h"
#include "base/privdir.h"
#include "host/state.h"

#define CTRREC_MAX_BYTES (256 << 10)

int ctrrec_dir(char *buf, size_t len, bool create, struct uerr *err)
{
	static const struct privdir_rule run_dir = {
		.uid = 0, .gid = 0, .mode = 0755, .deny = 022
	};
	const struct privdir_rule own = {
		.uid = geteuid(), .gid = (gid_t)-1, .mode = 0700, .deny = 077
	};
	int flags = create ? PRIVDIR_CREATE : 0;
	char parent[PATH_MAX - 16];
	uint32_t host;
	int ret;

	ret = idmap_host_euid(&host, err);
	if (ret < 0)
		return ret;
	if (host == 0) {
		ret = privdir_check("/run/ublk-user", &run_dir, flags, err);
		snprintf(parent, sizeof(parent), "/run/ublk-user");
	} else {
		/* A user's: next to their device records */
		ret = state_default_dir(parent, sizeof(parent), create, err);
	}
	if (ret < 0)
		return ret;
	snprintf(buf, len, "%s/containers", parent);
	return privdir_check(buf, &own, flags, err);
}

int ctrrec_new_key(char *key, struct uerr *err)
{
	unsigned char b[CTRREC_KEY_LEN / 2];
	unsigned int i;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return uerr_sys(err, errno ? errno : EIO, "getrandom");
	for (i = 0; i < sizeof(b); i++)
		sprintf(key + 2 * i, "%02x", b[i]);
	return 0;
}

void ctrrec_new_uuid(char uuid[37])
{
	uuid_t u;

	uuid_generate(u);
	uuid_unparse_lower(u, uuid);
}

bool ctrrec_key_ok(const char *key)
{
	size_t i;

	for (i = 0; key[i]; i++)
		if (!((key[i] >= '0' && key[i] <= '9') ||
		      (key[i] >= 'a' && key[i] <= 'f')))
			return false;
	return i == CTRREC_KEY_LEN;
}

/* A file name only: gc unlinks it in data_dir, as root for rootful podman */
static bool file_name_ok(const char *name)
{
	return !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

/*
 * Records are written by the hook and read by the hook and gc, as root
 * for rootful podman: every field is required and checked, and what gc
 * acts on (file names, directories) is checked for what it may name.
 */
#define D struct ctr_disk
static const struct ujson_field disk_fields[] = {
	UJSON_F_STR(D, name, "name", UJSON_REQUIRED),
	UJSON_F_INT(D, dev_id, "dev_id", UJSON_REQUIRED, -1, UINT32_MAX),
	UJSON_F_STR(D, uuid, "uuid", UJSON_REQUIRED),
	UJSON_F_STR(D, file, "file", UJSON_REQUIRED),
	UJSON_F_BOOL(D, persist, "persist", UJSON_REQUIRED),
};

/* What `ublk-user add --json` prints that the hook keeps */
static const struct ujson_field added_fields[] = {
	UJSON_F_INT(D, dev_id, "dev_id", UJSON_REQUIRED, 0, UINT32_MAX),
	UJSON_F_STR(D, uuid, "uuid", UJSON_REQUIRED | UJSON_NONEMPTY),
};
#undef D

static int read_disks(json_object *o, const struct ujson_field *f, void *rec,
		      const struct ujson_where *w, struct uerr *err)
{
	struct ctr_record *r = rec;
	struct ujson_where dw = { .src = w->src };
	json_object *arr;
	char at[64];
	size_t i;
	int ret;

	ret = ujson_array(o, f->name, f->flags, ANNOT_MAX_DISKS, &arr, w, err);
	if (ret)
		return ret;
	for (i = 0; i < json_object_array_length(arr); i++) {
		dw.at = ujson_at(at, sizeof(at), w, f->name, i);
		ret = ujson_read_fields(json_object_array_get_idx(arr, i),
					disk_fields, UJSON_NR(disk_fields),
					&r->disks[i], &dw, err);
		if (ret < 0)
			return ret;
		if (!file_name_ok(r->disks[i].file))
			return ujson_bad(&dw, "file", err,
					 "is not a file name");
		r->nr_disks = i + 1;
	}
	return 0;
}

static int write_disks(json_object *o, const struct ujson_field *f,
		       const void *rec)
{
	const struct ctr_record *r = rec;
	json_object *disks, *d;
	unsigned int i;

	disks = json_object_new_array();
	if (!disks || json_object_object_add(o, f->name, disks) < 0) {
		json_object_put(disks);
		return -ENOMEM;
	}
	for (i = 0; i < r->nr_disks; i++) {
		d = json_object_new_object();
		if (!d || json_object_array_add(disks, d) < 0) {
			json_object_put(d);
			return -ENOMEM;
		}
		if (ujson_write_fields(d, disk_fields, UJSON_NR(disk_fields),
				       &r->disks[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

#define R struct ctr_record
static const struct ujson_field record_fields[] = {
	UJSON_F_STR(R, key, "key", UJSON_REQUIRED),
	UJSON_F_STR(R, id, "id", UJSON_REQUIRED),
	UJSON_F_INT(R, pid, "pid", UJSON_REQUIRED, 0, INT32_MAX),
	UJSON_F_UINT(R, pid_start, "pid_start", UJSON_REQUIRED, INT64_MAX),
	UJSON_F_INT(R, creator_pid, "creator_pid", UJSON_REQUIRED, 0,
		    INT32_MAX),
	UJSON_F_UINT(R, creator_start, "creator_start", UJSON_REQUIRED,
		     INT64_MAX),
	UJSON_F_UINT(R, owner_uid, "owner_uid", UJSON_REQUIRED, UINT32_MAX - 1),
	UJSON_F_UINT(R, owner_gid, "owner_gid", UJSON_REQUIRED, UINT32_MAX - 1),
	UJSON_F_STR(R, runtime_dir, "runtime_dir", UJSON_REQUIRED),
	UJSON_F_STR(R, data_dir, "data_dir", UJSON_REQUIRED),
	UJSON_F_CUSTOM("disks", UJSON_REQUIRED, read_disks, write_disks),
};
#undef R

json_object *ctrrec_json(const struct ctr_record *r)
{
	return ujson_new_object(record_fields, UJSON_NR(record_fields), r);
}

int ctrrec_parse(json_object *o, const char *key, struct ctr_record *r,
		 const char *src, struct uerr *err)
{
	const struct ujson_where w = { .src = src };
	int ret;

	memset(r, 0, sizeof(*r));
	ret = ujson_read_fields(o, record_fields, UJSON_NR(record_fields), r,
				&w, err);
	if (ret < 0)
		return ret;
	if (strcmp(r->key, key))
		return ujson_bad(&w, "key", err, "does not match the name");
	/* "": the owner has no /run/user/UID and uses /tmp/ublk-user-UID */
	if (r->runtime_dir[0] && r->runtime_dir[0] != '/')
		return ujson_bad(&w, "runtime_dir", err, "is not absolute");
	if (r->data_dir[0] && r->data_dir[0] != '/')
		return ujson_bad(&w, "data_dir", err, "is not absolute");
	return 0;
}

int ctrrec_parse_added(const char *text, size_t len, struct ctr_disk *d,
		       struct uerr *err)
{
	const struct ujson_where w = { .src = "the output of ublk-user add" };
	struct ctr_disk got = { 0 };
	json_object *o;
	int ret;

	ret = ujson_parse(text, len, w.src, &o, err);
	if (ret < 0)
		return ret;
	ret = ujson_read_fields(o, added_fields, UJSON_NR(added_fields), &got,
				&w, err);
	json_object_put(o);
	if (ret < 0)
		return ret;
	d->dev_id = got.dev_id;
	memcpy(d->uuid, got.uuid, sizeof(d->uuid));
	return 0;
}

int ctrrec_write(const char *dir, const struct ctr_record *r, struct uerr *err)
{
	char path[PATH_MAX];

	if (!ctrrec_key_ok(r->key))
		return uerr_set(err, EINVAL, "bad record key '%s'", r->key);
	snprintf(path, sizeof(path), "%s/%s.json", dir, r->key);
	return ujson_write_record(path, record_fields, UJSON_NR(record_fields),
				  r, err);
}

int ctrrec_read(const char *dir, const char *key, struct ctr_record *r,
		struct uerr *err)
{
	char path[PATH_MAX];
	json_object *o;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!ctrrec_key_ok(key))
		return uerr_set(err, EINVAL, "bad record key '%s'", key);
	snprintf(path, sizeof(path), "%s/%s.json", dir, key);
	if (access(path, F_OK) < 0)
		return uerr_sys(err, errno, "container record %s", path);
	ret = ujson_read_file(path, CTRREC_MAX_BYTES, &o, err);
	if (ret < 0)
		return ret;
	ret = ctrrec_parse(o, key, r, path, err);
	json_object_put(o);
	return ret;
}

int ctrrec_remove(const char *dir, const char *key, struct uerr *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.json", dir, key);
	if (unlink(path) < 0 && errno != ENOENT)
		return uerr_sys(err, errno, "cannot remove %s", path);
	return 0;
}

/* KEY.json, KEY well formed */
static int pick_key(const char *name, void *elem, void *ctx, struct uerr *err)
{
	char *key = elem;

	(void)ctx;
	(void)err;
	if (strlen(name) != CTRREC_KEY_LEN + 5 ||
	    strcmp(name + CTRREC_KEY_LEN, ".json"))
		return 0;
	memcpy(key, name, CTRREC_KEY_LEN);
	key[CTRREC_KEY_LEN] = '\0';
	return ctrrec_key_ok(key);
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(a, b);
}

int ctrrec_keys(const char *dir, char (**keys)[CTRREC_KEY_LEN + 1],
		unsigned int *nr, struct uerr *err)
{
	void *v;
	int ret;

	ret = dir_collect(dir, sizeof(**keys), pick_key, NULL, cmp_key, &v, nr,
			  err);
	*keys = v;
	return ret;
}

uint64_t proc_start_time(int pid)
{
	char path[64], buf[1024], *p, state;
	unsigned long long start;
	ssize_t n;
	int fd, i;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command may hold anything: fields start after its last ')'. */
	p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return 0;
	p++;
	state = p[1];
	/* state is field 3, starttime field 22 */
	for (i = 3; i < 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &start) != 1)
		return 0;
	/* A zombie has exited: it does not count as running. */
	if (state == 'Z' || state == 'X')
		return 0;
	return start;
}

bool ctrrec_alive(const struct ctr_record *r)
{
	if (r->pid > 0)
		return proc_start_time(r->pid) == r->pid_start &&
		       r->pid_start != 0;
	return r->creator_pid > 0 && r->creator_start != 0 &&
	       proc_start_time(r->creator_pid) == r->creator_start;
}
