// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "containers/ctrrec.h"
#include "host/idmap.h"
#include "base/json.h"

#define CTRREC_MAX_BYTES (256 << 10)

/* mkdir path 0700 unless there, then insist it is ours and 0700 */
static int own_dir(const char *path, bool create, struct uerr *err)
{
	struct stat st;

	if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
		return uerr_sys(err, errno, "cannot create %s", path);
	if (lstat(path, &st) < 0)
		return uerr_sys(err, errno, "%s", path);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		return uerr_set(err, EPERM,
				"%s must be a directory of uid %u with mode "
				"0700",
				path, (unsigned int)geteuid());
	return 0;
}

int ctrrec_dir(char *buf, size_t len, bool create, struct uerr *err)
{
	char parent[PATH_MAX];
	uint32_t host;
	struct stat st;
	int ret;

	ret = idmap_host_euid(&host, err);
	if (ret < 0)
		return ret;
	if (host == 0) {
		if (create && mkdir("/run/ublk-user", 0755) < 0 &&
		    errno != EEXIST)
			return uerr_sys(err, errno,
					"cannot create /run/ublk-user");
		if (lstat("/run/ublk-user", &st) < 0)
			return uerr_sys(err, errno, "/run/ublk-user");
		if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
		    (st.st_mode & 022))
			return uerr_set(err, EPERM,
					"/run/ublk-user must be a directory "
					"of root that only root may write");
		snprintf(buf, len, "/run/ublk-user/containers");
		return own_dir(buf, create, err);
	}
	snprintf(parent, sizeof(parent), "/run/user/%u", host);
	if (lstat(parent, &st) < 0)
		return uerr_sys(err, errno, "no runtime directory %s", parent);
	snprintf(parent, sizeof(parent), "/run/user/%u/ublk-user", host);
	ret = own_dir(parent, create, err);
	if (ret < 0)
		return ret;
	snprintf(buf, len, "%s/containers", parent);
	return own_dir(buf, create, err);
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

bool ctrrec_key_ok(const char *key)
{
	size_t i;

	for (i = 0; key[i]; i++)
		if (!((key[i] >= '0' && key[i] <= '9') ||
		      (key[i] >= 'a' && key[i] <= 'f')))
			return false;
	return i == CTRREC_KEY_LEN;
}

static json_object *disk_json(const struct ctr_disk *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "dev_id", json_object_new_int64(d->dev_id));
	json_object_object_add(o, "uuid", json_object_new_string(d->uuid));
	json_object_object_add(o, "file", json_object_new_string(d->file));
	json_object_object_add(o, "persist",
			       json_object_new_boolean(d->persist));
	return o;
}

int ctrrec_write(const char *dir, const struct ctr_record *r, struct uerr *err)
{
	char path[PATH_MAX];
	json_object *o, *disks;
	unsigned int i;
	int ret;

	if (!ctrrec_key_ok(r->key))
		return uerr_set(err, EINVAL, "bad record key '%s'", r->key);
	snprintf(path, sizeof(path), "%s/%s.json", dir, r->key);
	o = json_object_new_object();
	disks = json_object_new_array();
	json_object_object_add(o, "key", json_object_new_string(r->key));
	json_object_object_add(o, "id", json_object_new_string(r->id));
	json_object_object_add(o, "pid", json_object_new_int(r->pid));
	json_object_object_add(o, "pid_start",
			       json_object_new_int64((int64_t)r->pid_start));
	json_object_object_add(o, "creator_pid",
			       json_object_new_int(r->creator_pid));
	json_object_object_add(
		o, "creator_start",
		json_object_new_int64((int64_t)r->creator_start));
	json_object_object_add(o, "owner_uid",
			       json_object_new_int64(r->owner_uid));
	json_object_object_add(o, "owner_gid",
			       json_object_new_int64(r->owner_gid));
	json_object_object_add(o, "runtime_dir",
			       json_object_new_string(r->runtime_dir));
	json_object_object_add(o, "data_dir",
			       json_object_new_string(r->data_dir));
	for (i = 0; i < r->nr_disks; i++)
		json_object_array_add(disks, disk_json(&r->disks[i]));
	json_object_object_add(o, "disks", disks);
	ret = json_write_file(path, o, err);
	json_object_put(o);
	return ret;
}

static int get_str(json_object *o, const char *key, char *buf, size_t len,
		   const char *path, struct uerr *err)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) >= len)
		return uerr_set(err, EINVAL,
				"%s: %s is not a string of at most "
				"%zu bytes",
				path, key, len - 1);
	snprintf(buf, len, "%s", json_object_get_string(v));
	return 0;
}

static int get_num(json_object *o, const char *key, int64_t min, int64_t max,
		   int64_t *out, const char *path, struct uerr *err)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return uerr_set(err, EINVAL, "%s: %s is not an integer", path,
				key);
	*out = json_object_get_int64(v);
	if (*out < min || *out > max)
		return uerr_set(err, EINVAL, "%s: %s is out of range", path,
				key);
	return 0;
}

static int read_disk(json_object *o, struct ctr_disk *d, const char *path,
		     struct uerr *err)
{
	json_object *v;
	int ret;

	if (!json_object_is_type(o, json_type_object))
		return uerr_set(err, EINVAL, "%s: a disk is not an object",
				path);
	ret = get_str(o, "name", d->name, sizeof(d->name), path, err);
	if (ret == 0)
		ret = get_num(o, "dev_id", -1, UINT32_MAX, &d->dev_id, path,
			      err);
	if (ret == 0)
		ret = get_str(o, "uuid", d->uuid, sizeof(d->uuid), path, err);
	if (ret == 0)
		ret = get_str(o, "file", d->file, sizeof(d->file), path, err);
	if (ret < 0)
		return ret;
	if (!json_object_object_get_ex(o, "persist", &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return uerr_set(err, EINVAL, "%s: persist is not a boolean",
				path);
	d->persist = json_object_get_boolean(v);
	/* A file name only: it is unlinked in data_dir later. */
	if (strchr(d->file, '/') || !strcmp(d->file, ".") ||
	    !strcmp(d->file, ".."))
		return uerr_set(err, EINVAL, "%s: bad file name", path);
	return 0;
}

int ctrrec_read(const char *dir, const char *key, struct ctr_record *r,
		struct uerr *err)
{
	char path[PATH_MAX];
	json_object *o, *disks;
	int64_t v;
	size_t i;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!ctrrec_key_ok(key))
		return uerr_set(err, EINVAL, "bad record key '%s'", key);
	snprintf(path, sizeof(path), "%s/%s.json", dir, key);
	if (access(path, F_OK) < 0)
		return uerr_sys(err, errno, "container record %s", path);
	ret = json_read_file(path, CTRREC_MAX_BYTES, &o, err);
	if (ret < 0)
		return ret;
	ret = -EINVAL;
	if (!json_object_is_type(o, json_type_object)) {
		uerr_set(err, EINVAL, "%s is not a JSON object", path);
		goto out;
	}
	if (get_str(o, "key", r->key, sizeof(r->key), path, err) < 0 ||
	    get_str(o, "id", r->id, sizeof(r->id), path, err) < 0 ||
	    get_str(o, "runtime_dir", r->runtime_dir, sizeof(r->runtime_dir),
		    path, err) < 0 ||
	    get_str(o, "data_dir", r->data_dir, sizeof(r->data_dir), path,
		    err) < 0)
		goto out;
	if (strcmp(r->key, key)) {
		uerr_set(err, EINVAL, "%s: the key does not match the name",
			 path);
		goto out;
	}
	if (get_num(o, "pid", 0, INT32_MAX, &v, path, err) < 0)
		goto out;
	r->pid = v;
	if (get_num(o, "pid_start", 0, INT64_MAX, &v, path, err) < 0)
		goto out;
	r->pid_start = v;
	if (get_num(o, "creator_pid", 0, INT32_MAX, &v, path, err) < 0)
		goto out;
	r->creator_pid = v;
	if (get_num(o, "creator_start", 0, INT64_MAX, &v, path, err) < 0)
		goto out;
	r->creator_start = v;
	if (get_num(o, "owner_uid", 0, UINT32_MAX - 1, &v, path, err) < 0)
		goto out;
	r->owner_uid = v;
	if (get_num(o, "owner_gid", 0, UINT32_MAX - 1, &v, path, err) < 0)
		goto out;
	r->owner_gid = v;
	if (!json_object_object_get_ex(o, "disks", &disks) ||
	    !json_object_is_type(disks, json_type_array) ||
	    json_object_array_length(disks) > ANNOT_MAX_DISKS) {
		uerr_set(err, EINVAL, "%s: disks is not an array of at most %d",
			 path, ANNOT_MAX_DISKS);
		goto out;
	}
	for (i = 0; i < json_object_array_length(disks); i++)
		if (read_disk(json_object_array_get_idx(disks, i), &r->disks[i],
			      path, err) < 0)
			goto out;
	r->nr_disks = i;
	ret = 0;
out:
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

static int cmp_key(const void *a, const void *b)
{
	return strcmp(a, b);
}

int ctrrec_keys(const char *dir, char (**keys)[CTRREC_KEY_LEN + 1],
		unsigned int *nr, struct uerr *err)
{
	char(*v)[CTRREC_KEY_LEN + 1] = NULL, (*nv)[CTRREC_KEY_LEN + 1];
	unsigned int n = 0, cap = 0;
	char name[CTRREC_KEY_LEN + 1];
	struct dirent *de;
	size_t len;
	DIR *d;

	*keys = NULL;
	*nr = 0;
	d = opendir(dir);
	if (!d)
		return uerr_sys(err, errno, "cannot read %s", dir);
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (len != CTRREC_KEY_LEN + 5 ||
		    strcmp(de->d_name + CTRREC_KEY_LEN, ".json"))
			continue;
		memcpy(name, de->d_name, CTRREC_KEY_LEN);
		name[CTRREC_KEY_LEN] = '\0';
		if (!ctrrec_key_ok(name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return uerr_sys(err, ENOMEM, "records");
			}
			v = nv;
		}
		memcpy(v[n++], name, sizeof(name));
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_key);
	*keys = v;
	*nr = n;
	return 0;
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
