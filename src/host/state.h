/* SPDX-License-Identifier: MIT */
/*
 * Per-user records of the devices we serve, one JSON file per device, with
 * the server's log, counters and socket, in the user's state directory
 * (mode 0700, the user's):
 *
 *   $XDG_RUNTIME_DIR/ublk-user   when XDG_RUNTIME_DIR is set
 *   /run/user/UID/ublk-user      else, when logind made /run/user/UID
 *   /tmp/ublk-user-UID           else (su -, sudo -u, cron, ssh without
 *                                pam_systemd): made by the user, as tmux
 *                                does, and removed with the last record
 *
 * UID is the user's uid on the host, also inside a user namespace.  A
 * directory that is not the user's, not a directory, or open to others is
 * refused, naming it and the fix (base/privdir.h).  Records are looked for
 * in the state directory and in /tmp/ublk-user-UID, unless XDG_RUNTIME_DIR
 * names a place of its own (not /run/user/UID): the same devices with and
 * without a session.  The fallback holds a few small files per device,
 * and a user has as many devices as the kernel and the policy allow; it
 * is on /tmp, where the user may write anyway, not on the shared /run.
 *
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
	char dir[PATH_MAX]; /* where record_read found it (not stored) */
	char name[65];	    /* its disk name (up, add --name), or "" */
	uint64_t offset;    /* where the disk starts in backing (bytes) */
	unsigned int partition; /* the number of that partition, or 0 */
	bool read_only;		/* add --read-only */
	unsigned int poll_us;	/* add --poll-us, or 0 */
};

/*
 * The runtime directory root hands to a user it acts for: /run/user/UID
 * when logind made it, else "" (the user's commands use the fallback).
 */
void state_runtime_of(char *buf, size_t len, uid_t uid);
/* The state directory, created 0700 when create is set, checked either way */
int state_dir(char *buf, size_t len, int create, struct uerr *err);
/* The same as without XDG_RUNTIME_DIR */
int state_default_dir(char *buf, size_t len, int create, struct uerr *err);
/* Remove the fallback directory when nothing is left in it */
void state_tidy(void);
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
/* dir/dev-<id>.<ext> next to a record read (else in the state directory) */
int record_path(const struct dev_record *r, const char *ext, char *buf,
		size_t len, struct uerr *err);
/* From every search directory; also the device's server log */
void record_remove(uint32_t dev_id);
/* Only the record: the log stays for the user to read */
void record_remove_json(uint32_t dev_id);
/* The same, relative to an open state directory (for a confined server) */
void record_remove_at(int dir_fd, uint32_t dev_id);
/* Ids of all records, sorted; caller frees *ids */
int record_ids(uint32_t **ids, unsigned int *nr, struct uerr *err);

#endif
