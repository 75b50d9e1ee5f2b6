/* SPDX-License-Identifier: MIT */
/* Strict JSON input: one value, nothing but white space after it. */
#ifndef UBLK_USER_JSONUTIL_H
#define UBLK_USER_JSONUTIL_H

#include <stddef.h>

#include <json-c/json.h>

#include "base/err.h"

/* Parse text (len bytes); what names the input in messages. */
int json_parse_strict(const char *text, size_t len, const char *what,
		      json_object **out, struct uerr *err);
/*
 * Write o to path, mode 0600, through path.tmp, fsync and rename: a reader
 * sees the old file or the new one, never half of one.
 */
int json_write_file(const char *path, json_object *o, struct uerr *err);
/* Read at most max_len bytes of path and parse them strictly. */
int json_read_file(const char *path, size_t max_len, json_object **out,
		   struct uerr *err);

#endif
