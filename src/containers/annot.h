/* SPDX-License-Identifier: MIT */
/*
 * The disks a container asks for, by annotation (ublk-user-oci-hook(1)):
 *
 *   io.ublk-user.disk=size=1G[,target=loop|mem][,path=/dev/xvda]
 *                    [,file=NAME][,persist=yes|no][,ro=yes|no]
 *   io.ublk-user.disk=target=nbd,uri=URI[,size=1G][,path=/dev/xvda]
 *                    [,ro=yes|no]
 *   io.ublk-user.disk.NAME=...      more disks, one annotation each
 *
 * The disk of io.ublk-user.disk is called "disk"; NAME is 1-32 of
 * [a-z0-9_-], starting with a letter or digit.  Pure parsing, no I/O.
 */
#ifndef UBLK_USER_ANNOT_H
#define UBLK_USER_ANNOT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

#define ANNOT_PREFIX "io.ublk-user.disk"
#define ANNOT_KEY "io.ublk-user.key" /* added by precreate */
#define ANNOT_MAX_DISKS 16
#define ANNOT_NAME_MAX 33 /* = CDI_NAME_MAX: the same names */
#define ANNOT_PATH_MAX 128
#define ANNOT_FILE_MAX 65
#define ANNOT_URI_MAX 512

struct disk_spec {
	char name[ANNOT_NAME_MAX];
	uint64_t size;
	char target[8];		   /* "loop", "mem" or "nbd" */
	char path[ANNOT_PATH_MAX]; /* in the container */
	char file[ANNOT_FILE_MAX]; /* loop: backing file name */
	bool persist;
	char uri[ANNOT_URI_MAX]; /* nbd: the NBD server, checked by add */
	bool read_only;		 /* ro=yes: add --read-only */
};

/* Is key one of ours (io.ublk-user.disk or io.ublk-user.disk.NAME)? */
bool annot_is_disk_key(const char *key);
/* A disk or CDI name: 1-32 of [a-z0-9_-], first a letter or digit */
bool annot_name_ok(const char *name);
/* Parse one annotation into d; messages name the annotation. */
int annot_parse_disk(const char *key, const char *value, struct disk_spec *d,
		     struct uerr *err);
/*
 * After every disk is parsed: no two with the same name or path.
 * Sorted by name, so the order of the config does not matter.
 */
int annot_check_disks(struct disk_spec *d, unsigned int nr, struct uerr *err);

#endif
