/* SPDX-License-Identifier: MIT */
/*
 * Container records: what the OCI hook made for one container, so that
 * poststop and `ublk-user gc` can take it away again.  One JSON file per
 * container, named by the key precreate puts in the container's
 * annotations (io.ublk-user.key), in the records directory of whoever runs
 * the hook:
 *
 *   root (rootful podman)         /run/ublk-user/containers
 *   a user (rootless podman)      /run/user/UID/ublk-user/containers,
 *                                 or /tmp/ublk-user-UID/containers
 *                                 without /run/user/UID (host/state.h)
 *
 * (UID: the user's id on the host, also from inside podman's user
 * namespace.)  The directory is 0700.  createRuntime binds the record
 * to the container's id and pid, once.  A container is alive while that
 * pid runs (same start time); before it has one, while the podman process
 * that ran precreate runs.  The key is a secret: it is in these records
 * and in the container's config, never on a command line.
 */
#ifndef UBLK_USER_CTRREC_H
#define UBLK_USER_CTRREC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "containers/annot.h"
#include "base/err.h"

#define CTRREC_KEY_LEN 32 /* hex digits */

struct ctr_disk {
	char name[ANNOT_NAME_MAX];
	int64_t dev_id;		   /* -1 until add said which it made */
	char uuid[37];		   /* of the device's record: its tag */
	char file[ANNOT_FILE_MAX]; /* backing file in data_dir, or "" */
	bool persist;
};

struct ctr_record {
	char key[CTRREC_KEY_LEN + 1];
	char id[128]; /* container id, "" until createRuntime */
	int pid;      /* container's process, 0 until createRuntime */
	uint64_t pid_start;
	int creator_pid; /* the podman process that ran precreate */
	uint64_t creator_start;
	uint32_t owner_uid, owner_gid; /* on the host */
	char runtime_dir[PATH_MAX];    /* the owner's XDG_RUNTIME_DIR, or "" */
	char data_dir[PATH_MAX];       /* per-container directory, or "" */
	unsigned int nr_disks;
	struct ctr_disk disks[ANNOT_MAX_DISKS];
};

/* The records directory (created 0700 when create is set) */
int ctrrec_dir(char *buf, size_t len, bool create, struct uerr *err);
/* A new random key (also the name of a per-container directory) */
int ctrrec_new_key(char *key, struct uerr *err);
/*
 * A new uuid for a disk, chosen before `ublk-user add` makes it: the
 * device's tag in the kernel, by which gc finds a disk that add made but
 * never named (it was killed).
 */
void ctrrec_new_uuid(char uuid[37]);
bool ctrrec_key_ok(const char *key);
/* Write atomically; read strictly (-ENOENT when there is none) */
int ctrrec_write(const char *dir, const struct ctr_record *r, struct uerr *err);
int ctrrec_read(const char *dir, const char *key, struct ctr_record *r,
		struct uerr *err);
/* The record as JSON (NULL when out of memory), and back; src names it */
json_object *ctrrec_json(const struct ctr_record *r);
int ctrrec_parse(json_object *o, const char *key, struct ctr_record *r,
		 const char *src, struct uerr *err);
/*
 * The dev_id and uuid that `ublk-user add --json` printed into d.  The
 * hook runs add as the disk's owner: its output is the owner's to shape.
 */
int ctrrec_parse_added(const char *text, size_t len, struct ctr_disk *d,
		       struct uerr *err);
int ctrrec_remove(const char *dir, const char *key, struct uerr *err);
/* Keys of all records, sorted; caller frees *keys */
int ctrrec_keys(const char *dir, char (**keys)[CTRREC_KEY_LEN + 1],
		unsigned int *nr, struct uerr *err);

/* Start time of pid (clock ticks since boot), 0 when it does not run */
uint64_t proc_start_time(int pid);
/* Does the container (or its creator, before it has a pid) still run? */
bool ctrrec_alive(const struct ctr_record *r);

#endif
