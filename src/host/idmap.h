/* SPDX-License-Identifier: MIT */
/*
 * User and group id mappings: the kernel's /proc/PID/uid_map and gid_map
 * ("inside outside count" lines) and the OCI config's linux.uidMappings
 * and gidMappings ({containerID, hostID, size}), which say the same thing.
 * The OCI hook maps a container's process user through both to find the
 * host ids that must own its disk.
 */
#ifndef UBLK_USER_IDMAP_H
#define UBLK_USER_IDMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

#define IDMAP_MAX 340 /* the kernel's limit of lines in a map */

struct idmap_range {
	uint32_t inside;  /* first id in the namespace (containerID) */
	uint32_t outside; /* first id in the parent (hostID) */
	uint32_t count;	  /* size */
};

struct idmap {
	unsigned int nr;
	struct idmap_range r[IDMAP_MAX];
};

/* An identity map of every id, as in the initial user namespace. */
void idmap_identity(struct idmap *m);
/* Add a range; refuses a zero count, an overflow and an overlap. */
int idmap_add(struct idmap *m, uint32_t inside, uint32_t outside,
	      uint32_t count, const char *what, struct uerr *err);
/* Parse the text of a /proc/PID/{u,g}id_map file; what names it. */
int idmap_parse_proc(struct idmap *m, const char *text, const char *what,
		     struct uerr *err);
/* Read /proc/self/uid_map (gid: false) or gid_map (gid: true). */
int idmap_read_self(struct idmap *m, bool gid, struct uerr *err);
/* inside -> outside; false when id is not mapped. */
bool idmap_to_outside(const struct idmap *m, uint32_t id, uint32_t *out);
/* outside -> inside; false when id is not mapped. */
bool idmap_to_inside(const struct idmap *m, uint32_t id, uint32_t *out);

/*
 * The uid that the host's root has here: 0 outside user namespaces; in a
 * user namespace that does not map it (rootless podman), the overflow uid
 * that the kernel shows for it (also for every other unmapped uid).
 */
uid_t idmap_host_root_here(void);
/*
 * Our effective uid and gid on the host, as the kernel records owners:
 * through /proc/self/uid_map (gid_map); an error when it cannot be read or
 * does not map ours.
 */
int idmap_host_euid(uint32_t *uid, struct uerr *err);
int idmap_host_egid(uint32_t *gid, struct uerr *err);

#endif
