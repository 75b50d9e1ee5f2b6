// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/privdir.h"
#include "containers/cdi.h"
#include "base/dirids.h"
#include "base/json.h"

#define CDI_PREFIX "ublk-user-"
#define CDI_SPEC_MAX (64 << 10)

bool cdi_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= CDI_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '_' || c == '-'))
			continue;
		return false;
	}
	return true;
}

static void env_name(char *buf, size_t len, const char *name)
{
	size_t i, n;

	n = snprintf(buf, len, "UBLK_USER_DISK_UUID_");
	for (i = 0; name[i] && n + 1 < len; i++, n++)
		buf[n] = name[i] == '-'			    ? '_' :
			 (name[i] >= 'a' && name[i] <= 'z') ? name[i] - 32 :
							      name[i];
	buf[n] = '\0';
}

json_object *cdi_spec_json(const char *name, uint32_t dev_id, const char *uuid,
			   uint32_t uid, uint32_t gid)
{
	json_object *spec = json_object_new_object();
	json_object *devs = json_object_new_array();
	json_object *dev = json_object_new_object();
	json_object *edits = json_object_new_object();
	json_object *nodes = json_object_new_array();
	json_object *node = json_object_new_object();
	json_object *env = json_object_new_array();
	char path[64], var[128];

	snprintf(path, sizeof(path), "/dev/ublkb%u", dev_id);
	json_object_object_add(node, "path", json_object_new_string(path));
	json_object_object_add(node, "type", json_object_new_string("b"));
	json_object_object_add(node, "fileMode", json_object_new_int(0600));
	json_object_object_add(node, "permissions",
			       json_object_new_string("rw"));
	json_object_object_add(node, "uid", json_object_new_int64(uid));
	json_object_object_add(node, "gid", json_object_new_int64(gid));
	json_object_array_add(nodes, node);
	env_name(var, sizeof(var) - 40, name);
	snprintf(var + strlen(var), 40, "=%s", uuid);
	json_object_array_add(env, json_object_new_string(var));
	json_object_object_add(edits, "deviceNodes", nodes);
	json_object_object_add(edits, "env", env);
	json_object_object_add(dev, "name", json_object_new_string(name));
	json_object_object_add(dev, "containerEdits", edits);
	json_object_array_add(devs, dev);
	json_object_object_add(spec, "cdiVersion",
			       json_object_new_string(CDI_VERSION));
	json_object_object_add(spec, "kind", json_object_new_string(CDI_KIND));
	json_object_object_add(spec, "devices", devs);
	return spec;
}

/* The one element of o.key, an array that must have exactly one */
static int only(json_object *o, const char *key, json_object **out,
		const struct ujson_where *w, struct uerr *err)
{
	json_object *arr;
	int ret;

	ret = ujson_array(o, key, UJSON_REQUIRED, 1, &arr, w, err);
	if (ret)
		return ret;
	if (json_object_array_length(arr) != 1)
		return ujson_bad(w, key, err, "is empty");
	*out = json_object_array_get_idx(arr, 0);
	return 0;
}

/* Ours: one device, one node /dev/ublkbN, one env entry with the uuid. */
int cdi_spec_parse(json_object *o, struct cdi_spec *s, struct uerr *err)
{
	struct ujson_where w = { .src = "CDI spec" };
	json_object *dev, *edits, *node, *env;
	char kind[sizeof(CDI_KIND)], path[32], want[128], at[64];
	unsigned int id;
	const char *e;
	char extra;

	memset(s, 0, sizeof(*s));
	if (ujson_str(o, "kind", UJSON_REQUIRED, kind, sizeof(kind), &w, err) <
		    0 ||
	    strcmp(kind, CDI_KIND))
		return uerr_set(err, EINVAL, "not a CDI spec of ublk-user");
	if (only(o, "devices", &dev, &w, err) < 0)
		return -EINVAL;
	w.at = "devices[0]";
	if (ujson_str(dev, "name", UJSON_REQUIRED, s->name, sizeof(s->name), &w,
		      err) < 0 ||
	    ujson_child(dev, "containerEdits", UJSON_REQUIRED, json_type_object,
			&edits, &w, err) < 0)
		return -EINVAL;
	if (!cdi_name_ok(s->name))
		return ujson_bad(&w, "name", err, "is not a CDI name");
	w.at = ujson_at(at, sizeof(at), &w, "containerEdits", -1);
	if (only(edits, "deviceNodes", &node, &w, err) < 0 ||
	    only(edits, "env", &env, &w, err) < 0)
		return -EINVAL;
	w.at = "devices[0].containerEdits.deviceNodes[0]";
	if (ujson_str(node, "path", UJSON_REQUIRED, path, sizeof(path), &w,
		      err) < 0)
		return -EINVAL;
	if (sscanf(path, "/dev/ublkb%u%c", &id, &extra) != 1)
		return ujson_bad(&w, "path", err, "is not /dev/ublkbN");
	s->dev_id = id;
	/* NAME=UUID, with no NUL in it that would hide a longer value */
	env_name(want, sizeof(want), s->name);
	e = json_object_get_string(env);
	if (!json_object_is_type(env, json_type_string) ||
	    strlen(e) != (size_t)json_object_get_string_len(env) ||
	    strncmp(e, want, strlen(want)) || e[strlen(want)] != '=' ||
	    strlen(e + strlen(want) + 1) != 36)
		return uerr_set(err, EINVAL, "spec %s has no disk uuid",
				s->name);
	snprintf(s->uuid, sizeof(s->uuid), "%s", e + strlen(want) + 1);
	return 0;
}

int cdi_check_dir(const char *dir, struct uerr *err)
{
	/* podman trusts every spec in it: root's, and nobody else may write */
	static const struct privdir_rule rule = {
		.uid = 0, .gid = 0, .mode = 0755, .deny = 022
	};
	int fd, e = ENOENT;

	fd = privdir_open(dir, &rule, geteuid() == 0 ? PRIVDIR_CREATE : 0, err);
	if (fd < 0 && fd != -ENOENT)
		return fd;
	if (fd >= 0 && faccessat(fd, ".", W_OK, AT_EACCESS) == 0) {
		close(fd);
		return 0;
	}
	if (fd >= 0) {
		e = errno;
		close(fd);
	}
	return uerr_sys(err, e,
			"--cdi: cannot write CDI specs into %s (podman "
			"reads them there and in /etc/cdi, which only "
			"root may write: run add --cdi as root, with "
			"--user root:root or without --user)",
			dir);
}

int cdi_write(const char *dir, const char *name, uint32_t dev_id,
	      const char *uuid, struct uerr *err)
{
	char node[64], path[PATH_MAX], tmp[PATH_MAX + 16];
	struct stat st;
	json_object *o;
	const char *text;
	size_t len;
	int fd, ret = 0;

	snprintf(node, sizeof(node), "/dev/ublkb%u", dev_id);
	if (stat(node, &st) < 0 || !S_ISBLK(st.st_mode))
		return uerr_sys(err, errno ? errno : ENOTBLK,
				"--cdi: no block node %s", node);
	snprintf(path, sizeof(path), "%s/" CDI_PREFIX "%s.json", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s%s.%d", dir, CDI_PREFIX, name,
		 (int)getpid());
	o = cdi_spec_json(name, dev_id, uuid, st.st_uid, st.st_gid);
	text = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0) {
		ret = uerr_sys(err, errno, "--cdi: cannot write %s", tmp);
		goto out;
	}
	if (fchmod(fd, 0644) < 0 || write(fd, text, len) != (ssize_t)len ||
	    fsync(fd) < 0) {
		ret = uerr_sys(err, errno ? errno : EIO,
			       "--cdi: cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	/* link(2), not rename(2): another disk's spec is never replaced. */
	if (link(tmp, path) < 0)
		ret = errno == EEXIST ?
			      uerr_set(err, EEXIST,
				       "--cdi: a CDI spec called %s exists "
				       "already (%s)",
				       name, path) :
			      uerr_sys(err, errno, "--cdi: cannot create %s",
				       path);
	unlink(tmp);
out:
	json_object_put(o);
	return ret;
}

struct spec_pick {
	const char *dir;
};

/* ublk-user-NAME.json holding the spec of NAME; other files are not ours */
static int pick_spec(const char *name, void *elem, void *ctx, struct uerr *err)
{
	const struct spec_pick *p = ctx;
	size_t len = strlen(name), pre = strlen(CDI_PREFIX);
	struct cdi_spec *s = elem;
	char path[PATH_MAX];
	json_object *o;
	struct uerr e;
	bool ours;

	(void)err;
	if (strncmp(name, CDI_PREFIX, pre) || len < pre + 5 ||
	    strcmp(name + len - 5, ".json"))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", p->dir, name);
	if (ujson_read_file(path, CDI_SPEC_MAX, &o, &e) < 0)
		return 0;
	ours = cdi_spec_parse(o, s, &e) == 0 &&
	       len == pre + strlen(s->name) + 5 &&
	       !strncmp(name + pre, s->name, strlen(s->name));
	json_object_put(o);
	return ours;
}

int cdi_list(const char *dir, struct cdi_spec **specs, unsigned int *nr,
	     struct uerr *err)
{
	struct spec_pick p = { dir };
	void *v;
	int ret;

	ret = dir_collect(dir, sizeof(**specs), pick_spec, &p, NULL, &v, nr,
			  err);
	*specs = v;
	return ret == -ENOENT ? 0 : ret;
}

int cdi_remove(const char *dir, const char *name, struct uerr *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/" CDI_PREFIX "%s.json", dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		return uerr_sys(err, errno, "cannot remove the CDI spec %s",
				path);
	return 0;
}
