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
#include "base/privdir.h"
#include "host/idmap.h"
#include "host/state.h"

/* A record is a few hundred bytes; anything far larger is not ours. */
#define RECORD_MAX_BYTES 65536

/* Where a user's records go without XDG_RUNTIME_DIR and /run/user/UID */
#define STATE_FALLBACK_FMT "/tmp/ublk-user-%u"

static const struct privdir_rule *own_rule(void)
{
	static struct privdir_rule rule = {
		.gid = (gid_t)-1,
		.mode = 0700,
		.deny = 077,
		.hint = "set XDG_RUNTIME_DIR to a directory of yours",
	};

	rule.uid = geteuid();
	return &rule;
}

/* 0 when path is ours and private; made (0700) when create is set */
static int check_dir(const char *path, int create, struct uerr *err)
{
	return privdir_check(path, own_rule(), create ? PRIVDIR_CREATE : 0,
			     err);
}

static int too_long(struct uerr *err)
{
	return uerr_set(err, ENAMETOOLONG,
			"runtime directory path is too long");
}

void state_runtime_of(char *buf, size_t len, uid_t uid)
{
	struct stat st;

	snprintf(buf, len, "/run/user/%u", (unsigned int)uid);
	if (lstat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
		buf[0] = '\0';
}

/* Our uid on the host names the places, also inside a user namespace */
static int fallback_dir(char *buf, size_t len, struct uerr *err)
{
	uint32_t uid;
	int n, ret;

	ret = idmap_host_euid(&uid, err);
	if (ret < 0)
		return ret;
	n = snprintf(buf, len, STATE_FALLBACK_FMT, (unsigned int)uid);
	return n < 0 || (size_t)n >= len ? too_long(err) : 0;
}

int state_default_dir(char *buf, size_t len, int create, struct uerr *err)
{
	char run[64];
	uint32_t uid;
	int n, ret;

	ret = idmap_host_euid(&uid, err);
	if (ret < 0)
		return ret;
	state_runtime_of(run, sizeof(run), uid);
	if (!run[0])
		ret = fallback_dir(buf, len, err);
	else if ((n = snprintf(buf, len, "%s/ublk-user", run)) < 0 ||
		 (size_t)n >= len)
		ret = too_long(err);
	return ret < 0 ? ret : check_dir(buf, create, err);
}

int state_dir(char *buf, size_t len, int create, struct uerr *err)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int n;

	if (!base || base[0] != '/')
		return state_default_dir(buf, len, create, err);
	n = snprintf(buf, len, "%s/ublk-user", base);
	if (n < 0 || (size_t)n >= len)
		return too_long(err);
	if (create && stat(base, &st) < 0 && errno == ENOENT)
		return uerr_set(err, ENOENT,
				"no runtime directory %s: set "
				"XDG_RUNTIME_DIR to a directory of yours",
				base);
	return check_dir(buf, create, err);
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

/*
 * Where records are looked for: the state directory, and the fallback
 * too unless XDG_RUNTIME_DIR names a place of its own (not
 * /run/user/UID), so that a user finds the devices made without a
 * session from one, and the other way round.  Only directories that
 * exist and pass the checks; an error only for a bad state directory.
 */
struct state_dirs {
	unsigned int nr;
	char path[2][PATH_MAX - 32];
	char first[PATH_MAX - 32]; /* the state directory, even if missing */
};

static int search_dirs(struct state_dirs *d, struct uerr *err)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char run[64], fb[PATH_MAX - 32];
	struct uerr e;
	uint32_t uid;
	int ret;

	d->nr = 0;
	ret = state_dir(d->first, sizeof(d->first), 0, err);
	if (ret < 0 && ret != -ENOENT)
		return ret;
	if (ret == 0)
		snprintf(d->path[d->nr++], sizeof(d->path[0]), "%s", d->first);
	if (idmap_host_euid(&uid, &e) < 0)
		return 0;
	snprintf(run, sizeof(run), "/run/user/%u", (unsigned int)uid);
	if (xdg && xdg[0] == '/' && strcmp(xdg, run))
		return 0;
	if (fallback_dir(fb, sizeof(fb), &e) == 0 && strcmp(fb, d->first) &&
	    check_dir(fb, 0, &e) == 0)
		snprintf(d->path[d->nr++], sizeof(d->path[0]), "%s", fb);
	return 0;
}

void state_tidy(void)
{
	char fb[PATH_MAX - 32];
	struct uerr err;
	int fd;

	if (fallback_dir(fb, sizeof(fb), &err) < 0)
		return;
	fd = privdir_open(fb, own_rule(), 0, &err);
	if (fd < 0)
		return;
	/* Both fail while something is left in them. */
	unlinkat(fd, "containers", AT_REMOVEDIR);
	close(fd);
	rmdir(fb);
}

int record_path(const struct dev_record *r, const char *ext, char *buf,
		size_t len, struct uerr *err)
{
	if (!r->dir[0])
		return state_path(buf, len, r->dev_id, ext, err);
	snprintf(buf, len, "%s/dev-%u.%s", r->dir, r->dev_id, ext);
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
	UJSON_F_STR(R, name, "name", UJSON_OMITEMPTY),
	UJSON_F_UINT(R, offset, "offset", UJSON_OMITEMPTY, UINT64_MAX),
	UJSON_F_UINT(R, partition, "partition", UJSON_OMITEMPTY, UINT32_MAX),
	UJSON_F_BOOL(R, read_only, "read_only", UJSON_OMITEMPTY),
	UJSON_F_UINT(R, poll_us, "poll_us", UJSON_OMITEMPTY, UINT32_MAX),
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

/* The first of the search directories that has dev_id's record */
static int record_find(uint32_t dev_id, char *path, size_t len,
		       struct uerr *err)
{
	struct state_dirs d;
	unsigned int i;

	if (search_dirs(&d, err) < 0)
		return -err->code;
	for (i = 0; i < d.nr; i++) {
		snprintf(path, len, "%s/dev-%u.json", d.path[i], dev_id);
		if (access(path, F_OK) == 0)
			return 0;
	}
	snprintf(path, len, "%s/dev-%u.json", d.first, dev_id);
	return uerr_sys(err, ENOENT, "record %s", path);
}

int record_read(uint32_t dev_id, struct dev_record *r, struct uerr *err)
{
	char path[PATH_MAX];
	json_object *o;
	int ret;

	memset(r, 0, sizeof(*r));
	if (record_find(dev_id, path, sizeof(path), err) < 0)
		return -err->code;
	if (ujson_read_file(path, RECORD_MAX_BYTES, &o, err) < 0)
		return -EINVAL;
	ret = record_parse(o, dev_id, r, path, err);
	json_object_put(o);
	if (ret == 0)
		snprintf(r->dir, sizeof(r->dir), "%.*s",
			 (int)(strrchr(path, '/') - path), path);
	return ret;
}

static void remove_files(uint32_t dev_id, bool log)
{
	static const char *const ext[] = { "json", "stats", "sock", "ctl",
					   "log" };
	char path[PATH_MAX];
	struct state_dirs d;
	unsigned int i, j;
	struct uerr err;

	if (search_dirs(&d, &err) < 0)
		return;
	for (i = 0; i < d.nr; i++)
		for (j = 0; j < sizeof(ext) / sizeof(ext[0]) - !log; j++) {
			snprintf(path, sizeof(path), "%s/dev-%u.%s", d.path[i],
				 dev_id, ext[j]);
			unlink(path);
		}
	state_tidy();
}

void record_remove_json(uint32_t dev_id)
{
	remove_files(dev_id, false);
}

void record_remove(uint32_t dev_id)
{
	remove_files(dev_id, true);
}

void record_remove_at(int dir_fd, uint32_t dev_id)
{
	char name[32];

	if (dir_fd < 0) {
		record_remove(dev_id);
		return;
	}
	static const char *const ext[] = { "json", "log", "stats", "sock",
					   "ctl" };
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

/* a and b sorted; the union, sorted, without repeats, replaces a */
static int merge_ids(uint32_t **a, unsigned int *na, uint32_t *b,
		     unsigned int nb)
{
	unsigned int i = 0, j = 0, n = 0;
	uint32_t *v;

	v = malloc((*na + nb + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (i < *na || j < nb) {
		if (j == nb || (i < *na && (*a)[i] < b[j]))
			v[n++] = (*a)[i++];
		else if (i == *na || b[j] < (*a)[i])
			v[n++] = b[j++];
		else {
			v[n++] = (*a)[i++];
			j++;
		}
	}
	free(*a);
	*a = v;
	*na = n;
	return 0;
}

int record_ids(uint32_t **ids, unsigned int *nr, struct uerr *err)
{
	struct state_dirs d;
	unsigned int i, n;
	uint32_t *more;
	int ret;

	*ids = NULL;
	*nr = 0;
	ret = search_dirs(&d, err);
	for (i = 0; ret == 0 && i < d.nr; i++) {
		ret = dir_ids(d.path[i], match_record, &more, &n, err);
		if (ret == 0 && merge_ids(ids, nr, more, n) < 0)
			ret = uerr_sys(err, ENOMEM, "reading %s", d.path[i]);
		free(more);
	}
	if (ret < 0) {
		free(*ids);
		*ids = NULL;
		*nr = 0;
	}
	return ret;
}
