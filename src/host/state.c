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

int record_write(const struct dev_record *r, struct uerr *err)
{
	char path[PATH_MAX], tag[24];
	json_object *o;
	int ret;

	ret = state_path(path, sizeof(path), r->dev_id, "json", err);
	if (ret < 0)
		return ret;
	snprintf(tag, sizeof(tag), "%016llx", (unsigned long long)r->tag);

	o = json_object_new_object();
	json_object_object_add(o, "dev_id", json_object_new_int64(r->dev_id));
	json_object_object_add(o, "uuid", json_object_new_string(r->uuid));
	json_object_object_add(o, "tag", json_object_new_string(tag));
	json_object_object_add(o, "target", json_object_new_string(r->target));
	json_object_object_add(o, "backing",
			       json_object_new_string(r->backing));
	json_object_object_add(o, "size", json_object_new_int64(r->size));
	json_object_object_add(o, "nr_queues",
			       json_object_new_int(r->nr_queues));
	json_object_object_add(o, "queue_depth",
			       json_object_new_int(r->queue_depth));
	json_object_object_add(o, "server_pid",
			       json_object_new_int(r->server_pid));
	json_object_object_add(o, "created", json_object_new_int64(r->created));
	json_object_object_add(o, "fixed_buffers",
			       json_object_new_boolean(r->fixed_buffers));
	json_object_object_add(o, "mlock", json_object_new_boolean(r->mlock));
	if (r->container[0])
		json_object_object_add(o, "container",
				       json_object_new_string(r->container));
	if (r->cdi[0])
		json_object_object_add(o, "cdi",
				       json_object_new_string(r->cdi));
	ret = json_write_file(path, o, err);
	json_object_put(o);
	return ret;
}

static int64_t get_int(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return -1;
	return json_object_get_int64(v);
}

static void get_str(json_object *o, const char *key, char *buf, size_t len)
{
	json_object *v;

	buf[0] = '\0';
	if (json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(buf, len, "%s", json_object_get_string(v));
}

int record_read(uint32_t dev_id, struct dev_record *r, struct uerr *err)
{
	char path[PATH_MAX], tag[24];
	json_object *o;

	memset(r, 0, sizeof(*r));
	if (state_path(path, sizeof(path), dev_id, "json", err) < 0)
		return -err->code;
	if (access(path, F_OK) < 0)
		return uerr_sys(err, errno, "record %s", path);
	if (json_read_file(path, RECORD_MAX_BYTES, &o, err) < 0)
		return -EINVAL;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return uerr_set(err, EINVAL, "record %s is not a JSON object",
				path);
	}
	r->dev_id = dev_id;
	get_str(o, "uuid", r->uuid, sizeof(r->uuid));
	get_str(o, "tag", tag, sizeof(tag));
	r->tag = strtoull(tag, NULL, 16);
	get_str(o, "target", r->target, sizeof(r->target));
	get_str(o, "backing", r->backing, sizeof(r->backing));
	r->size = get_int(o, "size");
	r->nr_queues = get_int(o, "nr_queues");
	r->queue_depth = get_int(o, "queue_depth");
	r->server_pid = get_int(o, "server_pid");
	r->created = get_int(o, "created");
	r->fixed_buffers = get_int(o, "fixed_buffers") == 1;
	r->mlock = get_int(o, "mlock") == 1;
	get_str(o, "container", r->container, sizeof(r->container));
	get_str(o, "cdi", r->cdi, sizeof(r->cdi));
	json_object_put(o);
	return 0;
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
