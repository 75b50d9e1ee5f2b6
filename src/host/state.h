/* SPDX-License-Identifier: MIT */
/*
 * Per-user records of the devices we serve, one JSON file per device in
 * $XDG_RUNTIME_DIR/ublk-user, mode 0700.  Without XDG_RUNTIME_DIR the
 * runtime directory is /run/user/UID, or, where that does not exist (a
 * user without a login session, e.g. the owner of a container's disk),
 * the fallback STATE_FALLBACK_DIR/UID that root creates for the user
 * (state_runtime_prepare) before it acts for them.
 * The kernel is the truth; a record only adds what the kernel does not
 * know (target, backing, uuid) and is matched to its device by the tag
 * we store in the kernel's ublksrv_flags at ADD_DEV.
 */
#ifndef UBLK_USER_STATE_H
#define UBLK_USER_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "base/err.h"

struct dev_record {
	uint32_t dev_id;
	char uuid[37];
	uint64_t tag; /* == kernel dev_info.ublksrv_flags for our device */
	char target[16];
	char backing[PATH_MAX];
	uint64_t size;
	unsigned int nr_queues;
	unsigned int queue_depth;
	pid_t server_pid;
	int64_t created;    /* seconds since the epoch */
	bool fixed_buffers; /* the server's I/O buffers are registered */
	bool mlock;	    /* the server's I/O buffers are locked */
	char container[64]; /* key of the container it was made for, or "" */
	char cdi[40];	    /* name of its CDI spec, or "" */
};

/* Runtime directories of users who have no /run/user/UID */
#define STATE_FALLBACK_DIR "/run/ublk-user/runtime"

/*
 * The runtime directory of uid as seen without XDG_RUNTIME_DIR:
 * /run/user/UID when it exists, else STATE_FALLBACK_DIR/UID.
 */
void state_runtime_base(char *buf, size_t len, uid_t uid);
/*
 * Root, before it acts for uid:gid: the runtime directory to use for
 * them in buf, creating the fallback (0700, owned by uid:gid, in a
 * root-owned 0711 parent) when /run/user/UID does not exist.
 */
int state_runtime_prepare(char *buf, size_t len, uid_t uid, gid_t gid,
			  struct uerr *err);

/* The directory, created 0700 when create is set and checked either way */
int state_dir(char *buf, size_t len, int create, struct uerr *err);
/* dir/dev-<id>.<ext> */
int state_path(char *buf, size_t len, uint32_t dev_id, const char *ext,
	       struct uerr *err);

/* Fill uuid and tag of a new record */
void record_new_identity(struct dev_record *r);
int record_write(const struct dev_record *r, struct uerr *err);
/* -ENOENT without a record */
int record_read(uint32_t dev_id, struct dev_record *r, struct uerr *err);
/* The record as JSON (NULL when out of memory), and back; src names it */
json_object *record_json(const struct dev_record *r);
int record_parse(json_object *o, uint32_t dev_id, struct dev_record *r,
		 const char *src, struct uerr *err);
/* Also removes the device's server log */
void record_remove(uint32_t dev_id);
/* Only the record: the log stays for the user to read */
void record_remove_json(uint32_t dev_id);
/* The same, relative to an open state directory (for a confined server) */
void record_remove_at(int dir_fd, uint32_t dev_id);
/* Ids of all records, sorted; caller frees *ids */
int record_ids(uint32_t **ids, unsigned int *nr, struct uerr *err);

#endif
