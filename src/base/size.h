/* SPDX-License-Identifier: MIT */
/* Sizes and counts given on command lines and in files. */
#ifndef UBLK_USER_SIZE_H
#define UBLK_USER_SIZE_H

#include <stdint.h>

#include "base/err.h"

/*
 * "4096", "64K", "1M", "2G", "1T" (also "64KiB", "1GiB"): binary units.
 * what names the value in messages ("--size").  Rejects empty, signs,
 * fractions, unknown suffixes, zero and overflow.
 */
int parse_size(const char *s, const char *what, uint64_t *out,
	       struct uerr *err);

/* A decimal unsigned number in [min, max]. */
int parse_uint(const char *s, const char *what, unsigned long min,
	       unsigned long max, unsigned long *out, struct uerr *err);

/* "1.5G"-style text for people; buf of at least 16 bytes */
const char *format_size(uint64_t bytes, char *buf, unsigned int len);

#endif
