/* SPDX-License-Identifier: MIT */
/*
 * The OCI runtime config (config.json) as the precreate hook reads and
 * edits it, and the OCI state the other stages get.  json-c objects; no
 * I/O.  Messages name the field, e.g. "config.json: process.user.uid is
 * missing".
 */
#ifndef UBLK_USER_OCICFG_H
#define UBLK_USER_OCICFG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "containers/annot.h"
#include "base/err.h"

/* The container's process user, and the ids it has outside the container. */
struct oci_user {
	uint32_t uid, gid;	   /* process.user, in the container */
	uint32_t out_uid, out_gid; /* mapped by linux.{u,g}idMappings */
};

/* The disks asked for (sorted by name); *nr = 0 when none. */
int ocicfg_disks(json_object *cfg, struct disk_spec *disks, unsigned int *nr,
		 struct uerr *err);
/* Value of annotation key, or NULL */
const char *ocicfg_annotation(json_object *cfg, const char *key);
/* process.user mapped through the config's id mappings, if any */
int ocicfg_user(json_object *cfg, struct oci_user *u, struct uerr *err);
/* Is path already a device or a mount destination of the container? */
bool ocicfg_path_taken(json_object *cfg, const char *path);

/* Rootful: a device cgroup rule allowing exactly b major:minor, rw. */
int ocicfg_allow_device(json_object *cfg, uint32_t major, uint32_t minor,
			struct uerr *err);
/* Bind-mount the host's node (nosuid, noexec) at path. */
int ocicfg_add_bind(json_object *cfg, const char *path, const char *host_node,
		    struct uerr *err);
int ocicfg_set_annotation(json_object *cfg, const char *key, const char *value,
			  struct uerr *err);
/*
 * Make the container fail to start with msg: a bind mount from a source
 * that does not exist and names the reason, so the runtime's error (all
 * podman shows of a precreate hook's trouble) carries it.
 */
int ocicfg_add_failure(json_object *cfg, const char *msg, struct uerr *err);

/* The OCI state a runtime hook or poststop gets on stdin */
struct oci_state {
	char id[128];
	int pid;      /* 0 when absent (poststop) */
	char key[64]; /* annotation io.ublk-user.key, or "" */
};

int ocistate_parse(json_object *st, struct oci_state *s, struct uerr *err);

#endif
