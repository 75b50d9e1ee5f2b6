/* SPDX-License-Identifier: MIT */
/*
 * Per-user records of the devices we serve, one JSON file per device in
 * $XDG_RUNTIME_DIR/ublk-user (else /run/user/UID/ublk-user), mode 0700.
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

#include "err.h"

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
	int64_t created; /* seconds since the epoch */
	bool fixed_buffers; /* the server's I/O buffers are registered */
	bool mlock; /* the server's I/O buffers are locked */
};

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
/* Also removes the device's server log */
void record_remove(uint32_t dev_id);
/* Only the record: the log stays for the user to read */
void record_remove_json(uint32_t dev_id);
/* The same, relative to an open state directory (for a confined server) */
void record_remove_at(int dir_fd, uint32_t dev_id);
/* Ids of all records, sorted; caller frees *ids */
int record_ids(uint32_t **ids, unsigned int *nr, struct uerr *err);

#endif
