/* SPDX-License-Identifier: MIT */
/*
 * CDI (Container Device Interface) specs for disks made in advance:
 * `ublk-user add --cdi NAME` writes CDI_DIR/ublk-user-NAME.json, so that
 * `podman run --device ublk-user.io/disk=NAME` gets the disk's block
 * node; `del` and `gc` remove it.  The spec names the device's node and
 * carries the uuid of its record (env UBLK_USER_DISK_UUID_<NAME>), so a
 * spec left over from a deleted device is recognised as stale.
 */
#ifndef UBLK_USER_CDI_H
#define UBLK_USER_CDI_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "base/err.h"

#define CDI_DIR "/var/run/cdi"
#define CDI_KIND "ublk-user.io/disk"
#define CDI_VERSION "0.5.0"
#define CDI_NAME_MAX 33

struct cdi_spec {
	char name[CDI_NAME_MAX];
	uint32_t dev_id;
	char uuid[37];
};

/* 1-32 of [a-z0-9_-], starting with a letter or digit */
bool cdi_name_ok(const char *name);
/*
 * The spec's JSON for a block node (pure; for the tests too).  No major
 * or minor: podman takes them from the host's /dev/ublkbN when a container
 * is made, so a spec left behind never names a number that another
 * driver's disk took since (a loop or NVMe partition, which no owner
 * check guards); a ublk disk of another owner refuses the open.
 */
json_object *cdi_spec_json(const char *name, uint32_t dev_id, const char *uuid,
			   uint32_t uid, uint32_t gid);
/* Parse a spec of ours; -EINVAL when it is not one */
int cdi_spec_parse(json_object *o, struct cdi_spec *s, struct uerr *err);
/* May we write specs in dir?  Said before a device exists. */
int cdi_check_dir(const char *dir, struct uerr *err);
/* Write dir/ublk-user-NAME.json for /dev/ublkbDEV_ID; never replaces one */
int cdi_write(const char *dir, const char *name, uint32_t dev_id,
	      const char *uuid, struct uerr *err);
/* Our specs in dir (a missing dir has none); caller frees *specs */
int cdi_list(const char *dir, struct cdi_spec **specs, unsigned int *nr,
	     struct uerr *err);
/* Remove the spec called name */
int cdi_remove(const char *dir, const char *name, struct uerr *err);

#endif
