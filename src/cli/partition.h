/* SPDX-License-Identifier: MIT */
/*
 * add --partition N: where partition N of a disk image's table (GPT or
 * MBR) lies, read with libblkid as the user.  The server only ever gets
 * the resulting offset and length (and checks every I/O against them).
 */
#ifndef UBLK_USER_PARTITION_H
#define UBLK_USER_PARTITION_H

#include <stdint.h>

#include "base/err.h"

/* Bytes from the start of path, and bytes long; -errno with err */
int partition_find(const char *path, unsigned int number, uint64_t *offset,
		   uint64_t *size, struct uerr *err);

#endif
