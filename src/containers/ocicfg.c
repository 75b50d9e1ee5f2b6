// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "containers/ocicfg.h"
#include "base/json.h"
#include "host/idmap.h"

/* o.key as an object (created when create is set); NULL if not one */
static json_object *child(json_object *o, const char *key, json_type type,
			  bool create)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v))
		return json_object_is_type(v, type) ? v : NULL;
	if (!create)
		return NULL;
	v = type == json_type_array ? json_object_new_array() :
				      json_object_new_object();
	if (v)
		json_object_object_add(o, key, v);
	return v;
}

const char *ocicfg_annotation(json_object *cfg, const char *key)
{
	json_object *a = child(cfg, "annotations", json_type_object, false);
	json_object *v;

	if (!a || !json_object_object_get_ex(a, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* "path=..." of a disk annotation that podman's --annotation split off */
static bool is_split_item(const char *key)
{
	return !strcmp(key, "size") || !strcmp(key, "target") ||
	       !strcmp(key, "path") || !strcmp(key, "file") ||
	       !strcmp(key, "persist") || !strcmp(key, "ro");
}

int ocicfg_disks(json_object *cfg, struct disk_spec *disks, unsigned int *nr,
		 struct uerr *err)
{
	json_object *a, *v;
	int ret;

	*nr = 0;
	if (!json_object_is_type(cfg, json_type_object))
		return uerr_set(err, EINVAL,
				"config.json is not a JSON object");
	if (!json_object_object_get_ex(cfg, "annotations", &a))
		return 0;
	if (!json_object_is_type(a, json_type_object))
		return uerr_set(err, EINVAL,
				"config.json: annotations is not an object");
	json_object_object_foreach(a, key, val)
	{
		v = val;
		if (is_split_item(key))
			return uerr_set(err, EINVAL,
					"config.json has an annotation '%s': "
					"podman split io.ublk-user.disk at its "
					"commas; quote the whole annotation: "
					"--annotation "
					"'\"io.ublk-user.disk=size=1G,%s=..."
					"\"'",
					key, key);
		if (!annot_is_disk_key(key))
			continue;
		if (!json_object_is_type(v, json_type_string))
			return uerr_set(err, EINVAL,
					"config.json: annotation %s is not a "
					"string",
					key);
		if (*nr == ANNOT_MAX_DISKS)
			return uerr_set(err, E2BIG,
					"more than %d disks asked for",
					ANNOT_MAX_DISKS);
		ret = annot_parse_disk(key, json_object_get_string(v),
				       &disks[*nr], err);
		if (ret < 0)
			return ret;
		(*nr)++;
	}
	return annot_check_disks(disks, *nr, err);
}

/* config.json comes from whoever runs the container, read by root. */
static const struct ujson_where cfg_top = { .src = "config.json" };

/* An id field: an integer 0..2^32-2 */
static int get_id(json_object *o, const char *key, const char *where,
		  uint32_t *out, struct uerr *err)
{
	const struct ujson_where w = { .src = "config.json", .at = where };
	uint64_t v;
	int ret;

	ret = ujson_u64(o, key, UJSON_REQUIRED, UINT32_MAX - 1, &v, &w, err);
	if (ret == 0)
		*out = v;
	return ret;
}

/* linux.<key> as a map; identity when the config has none. */
static int read_mappings(json_object *cfg, const char *key, struct idmap *m,
			 struct uerr *err)
{
	const struct ujson_where lw = { .src = "config.json", .at = "linux" };
	json_object *linux_o = NULL, *arr = NULL, *e;
	uint32_t c = 0, h = 0, n = 0;
	char where[64];
	size_t i;
	int ret;

	ret = ujson_child(cfg, "linux", 0, json_type_object, &linux_o, &cfg_top,
			  err);
	if (ret == 0)
		ret = ujson_child(linux_o, key, 0, json_type_array, &arr, &lw,
				  err);
	if (ret < 0)
		return ret;
	if (ret > 0) {
		idmap_identity(m);
		return 0;
	}
	m->nr = 0;
	for (i = 0; i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		ujson_at(where, sizeof(where), &lw, key, i);
		if (!json_object_is_type(e, json_type_object))
			return uerr_set(err, EINVAL,
					"config.json: %s is not an object",
					where);
		ret = get_id(e, "containerID", where, &c, err);
		if (ret == 0)
			ret = get_id(e, "hostID", where, &h, err);
		if (ret == 0)
			ret = get_id(e, "size", where, &n, err);
		if (ret < 0)
			return ret;
		if (idmap_add(m, c, h, n, where, err) < 0)
			return uerr_prefix(err, "config.json");
	}
	if (!m->nr)
		idmap_identity(m);
	return 0;
}

int ocicfg_user(json_object *cfg, struct oci_user *u, struct uerr *err)
{
	const struct ujson_where pw = { .src = "config.json", .at = "process" };
	json_object *proc, *user;
	struct idmap m;
	int ret;

	ret = ujson_child(cfg, "process", UJSON_REQUIRED, json_type_object,
			  &proc, &cfg_top, err);
	if (ret == 0)
		ret = ujson_child(proc, "user", UJSON_REQUIRED,
				  json_type_object, &user, &pw, err);
	if (ret == 0)
		ret = get_id(user, "uid", "process.user", &u->uid, err);
	if (ret == 0)
		ret = get_id(user, "gid", "process.user", &u->gid, err);
	if (ret < 0)
		return ret;
	ret = read_mappings(cfg, "uidMappings", &m, err);
	if (ret < 0)
		return ret;
	if (!idmap_to_outside(&m, u->uid, &u->out_uid))
		return uerr_set(err, EINVAL,
				"config.json: process.user.uid %u is not in "
				"linux.uidMappings",
				u->uid);
	ret = read_mappings(cfg, "gidMappings", &m, err);
	if (ret < 0)
		return ret;
	if (!idmap_to_outside(&m, u->gid, &u->out_gid))
		return uerr_set(err, EINVAL,
				"config.json: process.user.gid %u is not in "
				"linux.gidMappings",
				u->gid);
	return 0;
}

static bool array_has(json_object *arr, const char *field, const char *value)
{
	json_object *e, *v;
	size_t i;

	if (!arr)
		return false;
	for (i = 0; i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		if (json_object_is_type(e, json_type_object) &&
		    json_object_object_get_ex(e, field, &v) &&
		    json_object_is_type(v, json_type_string) &&
		    !strcmp(json_object_get_string(v), value))
			return true;
	}
	return false;
}

bool ocicfg_path_taken(json_object *cfg, const char *path)
{
	json_object *linux_o = child(cfg, "linux", json_type_object, false);

	return array_has(child(cfg, "mounts", json_type_array, false),
			 "destination", path) ||
	       (linux_o &&
		array_has(child(linux_o, "devices", json_type_array, false),
			  "path", path));
}

static int no_memory(struct uerr *err)
{
	return uerr_set(err, ENOMEM, "out of memory editing config.json");
}

int ocicfg_allow_device(json_object *cfg, uint32_t major, uint32_t minor,
			struct uerr *err)
{
	json_object *linux_o, *res, *rules, *r;

	linux_o = child(cfg, "linux", json_type_object, true);
	res = linux_o ? child(linux_o, "resources", json_type_object, true) :
			NULL;
	rules = res ? child(res, "devices", json_type_array, true) : NULL;
	if (!linux_o || !res || !rules)
		return uerr_set(err, EINVAL,
				"config.json: linux, linux.resources or "
				"linux.resources.devices has the wrong type");
	r = json_object_new_object();
	if (!r)
		return no_memory(err);
	json_object_object_add(r, "allow", json_object_new_boolean(1));
	json_object_object_add(r, "type", json_object_new_string("b"));
	json_object_object_add(r, "major", json_object_new_int64(major));
	json_object_object_add(r, "minor", json_object_new_int64(minor));
	json_object_object_add(r, "access", json_object_new_string("rw"));
	json_object_array_add(rules, r);
	return 0;
}

static int add_mount(json_object *cfg, const char *dest, const char *src,
		     struct uerr *err)
{
	json_object *mounts, *m, *opts;

	mounts = child(cfg, "mounts", json_type_array, true);
	if (!mounts)
		return uerr_set(err, EINVAL,
				"config.json: mounts is not an array");
	m = json_object_new_object();
	opts = json_object_new_array();
	if (!m || !opts) {
		json_object_put(m);
		json_object_put(opts);
		return no_memory(err);
	}
	json_object_object_add(m, "destination", json_object_new_string(dest));
	json_object_object_add(m, "type", json_object_new_string("bind"));
	json_object_object_add(m, "source", json_object_new_string(src));
	json_object_array_add(opts, json_object_new_string("bind"));
	json_object_array_add(opts, json_object_new_string("nosuid"));
	json_object_array_add(opts, json_object_new_string("noexec"));
	json_object_object_add(m, "options", opts);
	json_object_array_add(mounts, m);
	return 0;
}

int ocicfg_add_bind(json_object *cfg, const char *path, const char *host_node,
		    struct uerr *err)
{
	return add_mount(cfg, path, host_node, err);
}

int ocicfg_set_annotation(json_object *cfg, const char *key, const char *value,
			  struct uerr *err)
{
	json_object *a = child(cfg, "annotations", json_type_object, true);

	if (!a)
		return uerr_set(err, EINVAL,
				"config.json: annotations is not an object");
	json_object_object_add(a, key, json_object_new_string(value));
	return 0;
}

int ocicfg_add_failure(json_object *cfg, const char *msg, struct uerr *err)
{
	char src[1200];
	size_t i;

	/* One line, and no NUL: the runtime prints it as a path. */
	snprintf(src, sizeof(src), "/ublk-user-oci-hook: %s", msg);
	for (i = 0; src[i]; i++)
		if (src[i] == '\n' || src[i] == '\r' || src[i] == '\t')
			src[i] = ' ';
	return add_mount(cfg, "/.ublk-user-oci-hook-failed", src, err);
}

/* The OCI state comes from the runtime; its annotations from the user. */
int ocistate_parse(json_object *st, struct oci_state *s, struct uerr *err)
{
	const struct ujson_where w = { .src = "the OCI state" };
	const struct ujson_where aw = { .src = "the OCI state",
					.at = "annotations" };
	json_object *a = NULL;
	int64_t pid = 0;
	int ret;

	memset(s, 0, sizeof(*s));
	if (!json_object_is_type(st, json_type_object))
		return uerr_set(err, EINVAL,
				"the OCI state is not a JSON object");
	if (!json_object_object_get_ex(st, "id", NULL))
		return uerr_set(err, EINVAL, "the OCI state has no id");
	if (ujson_str(st, "id", UJSON_NONEMPTY, s->id, sizeof(s->id), &w, err) <
	    0)
		return -EINVAL;
	ret = ujson_int(st, "pid", 0, 0, INT32_MAX, &pid, &w, err);
	if (ret == 0)
		ret = ujson_child(st, "annotations", 0, json_type_object, &a,
				  &w, err);
	if (ret == 0)
		ret = ujson_str(a, ANNOT_KEY, 0, s->key, sizeof(s->key), &aw,
				err);
	if (ret < 0)
		return ret;
	s->pid = pid;
	return 0;
}
