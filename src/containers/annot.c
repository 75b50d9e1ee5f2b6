// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers/cdi.h"
#include "containers/annot.h"
#include "base/size.h"

static const char *const keys = "size, target, path, file, persist, uri, ro";

bool annot_name_ok(const char *name)
{
	/* One rule for every disk name: it may become a CDI name too. */
	return cdi_name_ok(name);
}

bool annot_is_disk_key(const char *key)
{
	size_t n = strlen(ANNOT_PREFIX);

	if (strncmp(key, ANNOT_PREFIX, n))
		return false;
	return key[n] == '\0' || key[n] == '.';
}

/* A path in the container's /dev: /dev/NAME[/NAME...], plain names. */
static bool path_ok(const char *p)
{
	const char *c;
	size_t n = strlen(p);

	if (strncmp(p, "/dev/", 5) || n >= ANNOT_PATH_MAX || n == 5 ||
	    p[n - 1] == '/')
		return false;
	for (c = p + 5; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' ||
		      *c == '.' || *c == '/'))
			return false;
	/* No empty, "." or ".." component. */
	return !strstr(p, "//") && !strstr(p, "/./") && !strstr(p, "/../") &&
	       strcmp(p + n - 2, "/.") && strcmp(p + n - 3, "/..");
}

static bool file_ok(const char *f)
{
	const char *c;

	if (!*f || strlen(f) >= ANNOT_FILE_MAX || !strcmp(f, ".") ||
	    !strcmp(f, ".."))
		return false;
	for (c = f; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' ||
		      *c == '.'))
			return false;
	return true;
}

static bool uri_chars_ok(const char *u)
{
	for (; *u; u++)
		if (*u <= ' ' || *u >= 0x7f)
			return false;
	return true;
}

/* One "key=value" item of the list; item is changed in place. */
static int parse_item(const char *ann, char *item, struct disk_spec *d,
		      unsigned int *seen, struct uerr *err)
{
	static const char *const names[] = { "size", "target",	"path",
					     "file", "persist", "uri",
					     "ro" };
	const unsigned int nr = sizeof(names) / sizeof(names[0]);
	char *val = strchr(item, '=');
	unsigned int k;
	struct uerr e;

	if (!val)
		return uerr_set(err, EINVAL,
				"annotation %s: '%s' is not key=value", ann,
				item);
	*val++ = '\0';
	for (k = 0; k < nr; k++)
		if (!strcmp(item, names[k]))
			break;
	if (k == nr)
		return uerr_set(err, EINVAL,
				"annotation %s: unknown key '%s' (known: %s)",
				ann, item, keys);
	if (*seen & (1U << k))
		return uerr_set(err, EINVAL, "annotation %s: %s given twice",
				ann, item);
	*seen |= 1U << k;
	if (!*val)
		return uerr_set(err, EINVAL, "annotation %s: %s is empty", ann,
				item);
	switch (k) {
	case 0:
		if (parse_size(val, "size", &d->size, &e) < 0)
			return uerr_set(err, EINVAL, "annotation %s: %s", ann,
					e.msg);
		if (!d->size || d->size % 4096)
			return uerr_set(err, EINVAL,
					"annotation %s: size must be a "
					"non-zero multiple of 4K",
					ann);
		break;
	case 1:
		if (strcmp(val, "loop") && strcmp(val, "mem") &&
		    strcmp(val, "nbd"))
			return uerr_set(err, EINVAL,
					"annotation %s: target '%s' is not "
					"loop, mem or nbd",
					ann, val);
		snprintf(d->target, sizeof(d->target), "%s", val);
		break;
	case 2:
		if (!path_ok(val))
			return uerr_set(err, EINVAL,
					"annotation %s: path '%s' is not a "
					"plain path under /dev/",
					ann, val);
		snprintf(d->path, sizeof(d->path), "%s", val);
		break;
	case 3:
		if (!file_ok(val))
			return uerr_set(err, EINVAL,
					"annotation %s: file '%s' is not a "
					"plain file name (letters, digits, "
					"'.', '_', '-'; at most %d)",
					ann, val, ANNOT_FILE_MAX - 1);
		snprintf(d->file, sizeof(d->file), "%s", val);
		break;
	case 5:
		/* Only its size and characters here: add parses it. */
		if (strlen(val) >= ANNOT_URI_MAX || !uri_chars_ok(val))
			return uerr_set(err, EINVAL,
					"annotation %s: uri is not a URI of at "
					"most %d printable characters",
					ann, ANNOT_URI_MAX - 1);
		snprintf(d->uri, sizeof(d->uri), "%s", val);
		break;
	default:
		if (!strcmp(val, "yes") || !strcmp(val, "no"))
			*(k == 4 ? &d->persist : &d->read_only) =
				!strcmp(val, "yes");
		else
			return uerr_set(err, EINVAL,
					"annotation %s: %s must be yes or no, "
					"not '%s'",
					ann, item, val);
	}
	return 0;
}

int annot_parse_disk(const char *key, const char *value, struct disk_spec *d,
		     struct uerr *err)
{
	size_t n = strlen(ANNOT_PREFIX);
	char buf[1024], *item, *save;
	unsigned int seen = 0;
	int ret;

	memset(d, 0, sizeof(*d));
	if (!annot_is_disk_key(key))
		return uerr_set(err, EINVAL, "annotation %s is not a disk",
				key);
	if (key[n] == '.') {
		if (!annot_name_ok(key + n + 1))
			return uerr_set(err, EINVAL,
					"annotation %s: the disk name '%s' is "
					"not 1-32 of a-z, 0-9, '_', '-' "
					"starting with a letter or digit",
					key, key + n + 1);
		snprintf(d->name, sizeof(d->name), "%s", key + n + 1);
	} else {
		snprintf(d->name, sizeof(d->name), "disk");
	}
	if (strlen(value) >= sizeof(buf))
		return uerr_set(err, EINVAL, "annotation %s is too long", key);
	snprintf(buf, sizeof(buf), "%s", value);
	if (!buf[0])
		return uerr_set(err, EINVAL,
				"annotation %s is empty (it needs size=...)",
				key);
	if (buf[strlen(buf) - 1] == ',' || buf[0] == ',' || strstr(buf, ",,"))
		return uerr_set(err, EINVAL,
				"annotation %s: empty item in '%s'", key,
				value);
	for (item = strtok_r(buf, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		ret = parse_item(key, item, d, &seen, err);
		if (ret < 0)
			return ret;
	}
	if (!d->target[0])
		snprintf(d->target, sizeof(d->target), "loop");
	/* An nbd disk's size comes from the server (at most size=) */
	if (!(seen & 1) && strcmp(d->target, "nbd"))
		return uerr_set(err, EINVAL, "annotation %s: size is required",
				key);
	if (!strcmp(d->target, "nbd") != !!d->uri[0])
		return uerr_set(err, EINVAL, "annotation %s: %s", key,
				d->uri[0] ? "uri is for target=nbd" :
					    "target=nbd needs uri=URI");
	if (!strcmp(d->target, "nbd") && (d->file[0] || d->persist))
		return uerr_set(err, EINVAL,
				"annotation %s: an nbd disk has no file and "
				"does not persist (its data is the NBD "
				"server's)",
				key);
	if (!strcmp(d->target, "mem") && d->file[0])
		return uerr_set(err, EINVAL,
				"annotation %s: a mem disk has no file", key);
	if (!strcmp(d->target, "mem") && d->persist)
		return uerr_set(err, EINVAL,
				"annotation %s: a mem disk cannot persist",
				key);
	if (!strcmp(d->target, "mem") && d->read_only)
		return uerr_set(err, EINVAL,
				"annotation %s: a read-only mem disk would "
				"only ever read zeroes",
				key);
	if (!d->path[0])
		snprintf(d->path, sizeof(d->path), "/dev/ublk-%s", d->name);
	if (!strcmp(d->target, "loop") && !d->file[0])
		snprintf(d->file, sizeof(d->file), "%s.img", d->name);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct disk_spec *)a)->name,
		      ((const struct disk_spec *)b)->name);
}

int annot_check_disks(struct disk_spec *d, unsigned int nr, struct uerr *err)
{
	unsigned int i, j;

	if (nr > 1)
		qsort(d, nr, sizeof(*d), cmp_name);
	for (i = 0; i < nr; i++)
		for (j = i + 1; j < nr; j++) {
			if (!strcmp(d[i].name, d[j].name))
				return uerr_set(err, EINVAL,
						"two disks are called '%s' "
						"(io.ublk-user.disk is "
						"\"disk\")",
						d[i].name);
			if (!strcmp(d[i].path, d[j].path))
				return uerr_set(err, EINVAL,
						"disks %s and %s have the same "
						"path %s",
						d[i].name, d[j].name,
						d[i].path);
			if (d[i].file[0] && !strcmp(d[i].file, d[j].file))
				return uerr_set(err, EINVAL,
						"disks %s and %s have the same "
						"file %s",
						d[i].name, d[j].name,
						d[i].file);
		}
	return 0;
}
