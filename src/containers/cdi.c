// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "containers/cdi.h"
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
			   uint32_t major, uint32_t minor, uint32_t uid,
			   uint32_t gid)
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
	json_object_object_add(node, "major", json_object_new_int64(major));
	json_object_object_add(node, "minor", json_object_new_int64(minor));
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

static json_object *get(json_object *o, const char *key, json_type t)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

static json_object *first(json_object *arr)
{
	if (!arr || json_object_array_length(arr) != 1)
		return NULL;
	return json_object_array_get_idx(arr, 0);
}

int cdi_spec_parse(json_object *o, struct cdi_spec *s, struct uerr *err)
{
	json_object *kind, *dev, *name, *edits, *node, *path, *env;
	char want[128];
	unsigned int id;
	const char *e;
	char extra;

	memset(s, 0, sizeof(*s));
	kind = get(o, "kind", json_type_string);
	dev = first(get(o, "devices", json_type_array));
	name = get(dev, "name", json_type_string);
	edits = get(dev, "containerEdits", json_type_object);
	node = first(get(edits, "deviceNodes", json_type_array));
	path = get(node, "path", json_type_string);
	env = first(get(edits, "env", json_type_array));
	if (!kind || strcmp(json_object_get_string(kind), CDI_KIND) || !name ||
	    !cdi_name_ok(json_object_get_string(name)) || !path || !env ||
	    !json_object_is_type(env, json_type_string) ||
	    sscanf(json_object_get_string(path), "/dev/ublkb%u%c", &id,
		   &extra) != 1)
		return uerr_set(err, EINVAL, "not a CDI spec of ublk-user");
	snprintf(s->name, sizeof(s->name), "%s", json_object_get_string(name));
	s->dev_id = id;
	env_name(want, sizeof(want), s->name);
	e = json_object_get_string(env);
	if (strncmp(e, want, strlen(want)) || e[strlen(want)] != '=' ||
	    strlen(e + strlen(want) + 1) != 36)
		return uerr_set(err, EINVAL, "spec %s has no disk uuid",
				s->name);
	snprintf(s->uuid, sizeof(s->uuid), "%s", e + strlen(want) + 1);
	return 0;
}

int cdi_check_dir(const char *dir, struct uerr *err)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST && errno != EACCES)
		return uerr_sys(err, errno, "cannot create %s", dir);
	if (access(dir, W_OK) < 0)
		return uerr_sys(err, errno,
				"--cdi: cannot write CDI specs into %s (podman "
				"reads them there and in /etc/cdi, which only "
				"root may write: run add --cdi as root, with "
				"--user root:root or without --user)",
				dir);
	return 0;
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
	o = cdi_spec_json(name, dev_id, uuid, major(st.st_rdev),
			  minor(st.st_rdev), st.st_uid, st.st_gid);
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

int cdi_list(const char *dir, struct cdi_spec **specs, unsigned int *nr,
	     struct uerr *err)
{
	struct cdi_spec *v = NULL, *nv, s;
	unsigned int n = 0, cap = 0;
	char path[PATH_MAX];
	struct dirent *de;
	json_object *o;
	struct uerr e;
	size_t len;
	DIR *d;

	*specs = NULL;
	*nr = 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ?
			       0 :
			       uerr_sys(err, errno, "cannot read %s", dir);
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (strncmp(de->d_name, CDI_PREFIX, strlen(CDI_PREFIX)) ||
		    len < 5 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (json_read_file(path, CDI_SPEC_MAX, &o, &e) < 0)
			continue;
		if (cdi_spec_parse(o, &s, &e) == 0 &&
		    !strncmp(de->d_name + strlen(CDI_PREFIX), s.name,
			     strlen(s.name)) &&
		    len == strlen(CDI_PREFIX) + strlen(s.name) + 5) {
			if (n == cap) {
				cap = cap ? 2 * cap : 8;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					json_object_put(o);
					free(v);
					closedir(d);
					return uerr_sys(err, ENOMEM, "specs");
				}
				v = nv;
			}
			v[n++] = s;
		}
		json_object_put(o);
	}
	closedir(d);
	*specs = v;
	*nr = n;
	return 0;
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
