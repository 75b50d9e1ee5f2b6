// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <uuid/uuid.h>

#include "base/dirids.h"
#include "base/json.h"
#include "host/state.h"

/* A record is a few hundred bytes; anything far larger is not ours. */
#define RECORD_MAX_BYTES 65536

static int check_dir(const char *dir, struct uerr *err)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return uerr_sys(err, errno, "state directory %s", dir);
	if (!S_ISDIR(st.st_mode))
		return uerr_set(err, ENOTDIR,
				"state directory %s is not a directory", dir);
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return uerr_set(err, EPERM,
				"state directory %s must be owned by uid %u "
				"with mode 0700",
				dir, (unsigned int)geteuid());
	return 0;
}

void state_runtime_base(char *buf, size_t len, uid_t uid)
{
	struct stat st;

	snprintf(buf, len, "/run/user/%u", (unsigned int)uid);
	if (lstat(buf, &st) == 0 && S_ISDIR(st.st_mode))
		return;
	snprintf(buf, len, "%s/%u", STATE_FALLBACK_DIR, (unsigned int)uid);
}

/* mkdir, then insist on a real directory with this owner and mode. */
static int make_dir(const char *path, uid_t uid, gid_t gid, mode_t mode,
		    struct uerr *err)
{
	struct stat st;
	int fd;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return uerr_sys(err, errno, "cannot create %s", path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return uerr_sys(err, errno, "cannot open %s", path);
	if (fstat(fd, &st) < 0 ||
	    ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid)) ||
	    ((st.st_mode & 07777) != mode && fchmod(fd, mode))) {
		uerr_sys(err, errno, "cannot set up %s", path);
		close(fd);
		return -err->code;
	}
	close(fd);
	return 0;
}

int state_runtime_prepare(char *buf, size_t len, uid_t uid, gid_t gid,
			  struct uerr *err)
{
	int ret;

	state_runtime_base(buf, len, uid);
	if (strncmp(buf, STATE_FALLBACK_DIR "/",
		    strlen(STATE_FALLBACK_DIR) + 1))
		return 0;
	ret = make_dir("/run/ublk-user", 0, 0, 0755, err);
	if (ret == 0)
		ret = make_dir(STATE_FALLBACK_DIR, 0, 0, 0711, err);
	if (ret == 0)
		ret = make_dir(buf, uid, gid, 0700, err);
	return ret;
}

int state_dir(char *buf, size_t len, int create, struct uerr *err)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	char fallback[64];
	int n;

	if (!base || base[0] != '/') {
		state_runtime_base(fallback, sizeof(fallback), geteuid());
		base = fallback;
	}
	n = snprintf(buf, len, "%s/ublk-user", base);
	if (n < 0 || (size_t)n >= len)
		return uerr_set(err, ENAMETOOLONG,
				"runtime directory path is too long");
	if (create && mkdir(buf, 0700) < 0 && errno != EEXIST) {
		if (errno == ENOENT)
			return uerr_set(err, ENOENT,
					"no runtime directory %s: set "
					"XDG_RUNTIME_DIR to a directory of "
					"yours",
					base);
		return uerr_sys(err, errno, "cannot create %s", buf);
	}
	return check_dir(buf, err);
}

int state_path(char *buf, size_t len, uint32_t dev_id, const char *ext,
	       struct uerr *err)
{
	char dir[PATH_MAX - 32];
	int ret;

	ret = state_dir(dir, sizeof(dir), 1, err);
	if (ret < 0)
		return ret;
	snprintf(buf, len, "%s/dev-%u.%s", dir, dev_id, ext);
	return 0;
}

void record_new_identity(struct dev_record *r)
{
	uuid_t u;

	uuid_generate(u);
	uuid_unparse_lower(u, r->uuid);
	memcpy(&r->tag, u, sizeof(r->tag));
	r->created = time(NULL);
}

/* The tag as written since the first version: 16 lowercase hex digits */
static int read_tag(json_object *o, const struct ujson_field *f, void *rec,
		    const struct ujson_where *w, struct uerr *err)
{
	struct dev_record *r = rec;
	char hex[24];
	int ret;

	ret = ujson_str(o, f->name, f->flags, hex, sizeof(hex), w, err);
	if (ret)
		return ret;
	if (strlen(hex) != 16 || strspn(hex, "0123456789abcdef") != 16)
		return ujson_bad(w, f->name, err, "is not 16 hex digits");
	r->tag = strtoull(hex, NULL, 16);
	return 0;
}

static int write_tag(json_object *o, const struct ujson_field *f,
		     const void *rec)
{
	const struct dev_record *r = rec;
	json_object *v;
	char hex[24];

	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)r->tag);
	v = json_object_new_string(hex);
	if (!v || json_object_object_add(o, f->name, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/*
 * A record is the user's own file, read by the user's own commands; root
 * reads only root's.  Every field may be missing (the kernel is the truth,
 * a record only adds to it, and older records lack the newer fields), but
 * a field that is there must have its type and range: a pid is never
 * negative (del signals it), a name never longer than its buffer.
 */
#define R struct dev_record
static const struct ujson_field record_fields[] = {
	UJSON_F_UINT(R, dev_id, "dev_id", 0, UINT32_MAX),
	UJSON_F_STR(R, uuid, "uuid", 0),
	UJSON_F_CUSTOM("tag", 0, read_tag, write_tag),
	UJSON_F_STR(R, target, "target", 0),
	UJSON_F_STR(R, backing, "backing", 0),
	UJSON_F_UINT(R, size, "size", 0, UINT64_MAX),
	UJSON_F_UINT(R, nr_queues, "nr_queues", 0, UINT32_MAX),
	UJSON_F_UINT(R, queue_depth, "queue_depth", 0, UINT32_MAX),
	UJSON_F_INT(R, server_pid, "server_pid", 0, 0, INT32_MAX),
	UJSON_F_INT(R, created, "created", 0, INT64_MIN, INT64_MAX),
	UJSON_F_BOOL(R, fixed_buffers, "fixed_buffers", 0),
	UJSON_F_BOOL(R, mlock, "mlock", 0),
	UJSON_F_STR(R, container, "container", UJSON_OMITEMPTY),
	UJSON_F_STR(R, cdi, "cdi", UJSON_OMITEMPTY),
};
#undef R

json_object *record_json(const struct dev_record *r)
{
	return ujson_new_object(record_fields, UJSON_NR(record_fields), r);
}

int record_parse(json_object *o, uint32_t dev_id, struct dev_record *r,
		 const char *src, struct uerr *err)
{
	const struct ujson_where w = { .src = src };
	int ret;

	memset(r, 0, sizeof(*r));
	r->dev_id = dev_id;
	ret = ujson_read_fields(o, record_fields, UJSON_NR(record_fields), r,
				&w, err);
	if (ret < 0)
		return ret;
	if (r->dev_id != dev_id)
		return ujson_bad(&w, "dev_id", err, "is %u, not %u", r->dev_id,
				 dev_id);
	return 0;
}

int record_write(const struct dev_record *r, struct uerr *err)
{
	char path[PATH_MAX];
	int ret;

	ret = state_path(path, sizeof(path), r->dev_id, "json", err);
	if (ret < 0)
		return ret;
	return ujson_write_record(path, record_fields, UJSON_NR(record_fields),
				  r, err);
}

int record_read(uint32_t dev_id, struct dev_record *r, struct uerr *err)
{
	char path[PATH_MAX];
	json_object *o;
	int ret;

	memset(r, 0, sizeof(*r));
	if (state_path(path, sizeof(path), dev_id, "json", err) < 0)
		return -err->code;
	if (access(path, F_OK) < 0)
		return uerr_sys(err, errno, "record %s", path);
	if (ujson_read_file(path, RECORD_MAX_BYTES, &o, err) < 0)
		return -EINVAL;
	ret = record_parse(o, dev_id, r, path, err);
	json_object_put(o);
	return ret;
}

void record_remove_json(uint32_t dev_id)
{
	char path[PATH_MAX];
	struct uerr err;

	if (state_path(path, sizeof(path), dev_id, "json", &err) == 0)
		unlink(path);
}

void record_remove(uint32_t dev_id)
{
	static const char *const ext[] = { "json", "log", "stats", "sock" };
	char path[PATH_MAX];
	struct uerr err;
	unsigned int i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (state_path(path, sizeof(path), dev_id, ext[i], &err) == 0)
			unlink(path);
}

void record_remove_at(int dir_fd, uint32_t dev_id)
{
	char name[32];

	if (dir_fd < 0) {
		record_remove(dev_id);
		return;
	}
	static const char *const ext[] = { "json", "log", "stats", "sock" };
	unsigned int i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(name, sizeof(name), "dev-%u.%s", dev_id, ext[i]);
		unlinkat(dir_fd, name, 0);
	}
}

static bool match_record(const char *name, uint32_t *id)
{
	unsigned int v;
	char tail[8];

	if (sscanf(name, "dev-%u.%5s", &v, tail) != 2 || strcmp(tail, "json"))
		return false;
	*id = v;
	return true;
}

int record_ids(uint32_t **ids, unsigned int *nr, struct uerr *err)
{
	char dir[PATH_MAX];
	int ret;

	*ids = NULL;
	*nr = 0;
	ret = state_dir(dir, sizeof(dir), 1, err);
	if (ret < 0)
		return ret;
	return dir_ids(dir, match_record, ids, nr, err);
}
