/* SPDX-License-Identifier: MIT */
/*
 * Disk files (see ublk-user.disk(5)): a disk declared once, brought up by
 * `ublk-user up NAME` or a systemd unit.  A user's own are
 * ~/.config/ublk-user/disks/NAME.disk ($XDG_CONFIG_HOME); an
 * administrator's are /etc/ublk-user/disks/NAME.disk and name the user
 * whose disk it is (`user =`).  "key = value" lines as in the policy, no
 * sections.  Strict: the first error (syntax, unknown or duplicate key,
 * bad value, a feature this build lacks) refuses the file, as FILE:LINE.
 * The policy is applied afterwards, exactly as to `add`.
 */
#ifndef UBLK_USER_DISKFILE_H
#define UBLK_USER_DISKFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

/* As `add --queues`: the server's shared counters hold 64 queues */
#define DISK_MAX_QUEUES 64

#ifndef UBLK_USER_SYSCONFDIR
#define UBLK_USER_SYSCONFDIR "/etc"
#endif
#define DISK_SYSTEM_DIR UBLK_USER_SYSCONFDIR "/ublk-user/disks"
#define DISK_NAME_MAX 64	 /* bytes of a disk name, without the NUL */
#define DISK_FILE_MAX (64 << 10) /* bytes of one disk file */
#define DISK_SUFFIX ".disk"
#define DISK_MAX_POLL_US 100000 /* as add --poll-us */

/* One disk, as its file says; unset numbers are 0 (the add defaults) */
struct disk_file {
	char name[DISK_NAME_MAX + 1];
	char user[33];	     /* an /etc disk's owner; "" in a user's own */
	char target[16];     /* a name from server/targets/names.h */
	char file[PATH_MAX]; /* the loop target's backing file, absolute */
	char uri[PATH_MAX];  /* the nbd target's NBD server (add checks it) */
	uint64_t size;	     /* bytes */
	unsigned long nr_queues;
	unsigned long queue_depth;
	bool mlock;
	bool shmem_zc;
	bool batch; /* add --batch */
	bool read_only;
	unsigned long poll_us; /* add --poll-us, or 0 */
};

/*
 * 0 if name is a valid disk name: 1 to DISK_NAME_MAX bytes of
 * [A-Za-z0-9_.-], not starting with '.' or '-' (no slash, no hidden file,
 * no option).  Else -EINVAL and why.
 */
int disk_name_check(const char *name, struct uerr *err);

/*
 * Parse buf (len bytes) as the disk file path for disk name.  system: an
 * /etc disk file, which must name its user; a user's own must not.
 * -EINVAL and "path:line: what" on the first error.
 */
int disk_parse(struct disk_file *d, const char *name, const char *path,
	       const char *buf, size_t len, bool system, struct uerr *err);

/*
 * Read and parse dir/NAME.disk.  The file and dir are reached without
 * following a symbolic link (for the file) and must be owned by owner and
 * not writable by group or others.  -ENOENT when there is no such file.
 */
int disk_load(struct disk_file *d, const char *dir, const char *name,
	      uid_t owner, bool system, struct uerr *err);

/* The user's disk file folder: $XDG_CONFIG_HOME or $HOME/.config */
int disk_user_dir(char *out, size_t len, struct uerr *err);

#endif
