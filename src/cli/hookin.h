/* SPDX-License-Identifier: MIT */
/*
 * What the OCI hook hands `ublk-user` on stdin rather than on the command
 * line, which every local user can read: the record key, which names a
 * container's disks to whoever holds it, and the backing path.
 *
 *   add --container   {"uuid": "UUID", "file": "/path"}   (file: loop)
 *                     {"uuid": "UUID", "uri": "nbd://..."} (uri: nbd)
 *   gc --key          KEY (one line)
 *
 * Once read, stdin is /dev/null, so that nothing we start inherits it.
 */
#ifndef UBLK_USER_HOOKIN_H
#define UBLK_USER_HOOKIN_H

#include <limits.h>

#include "base/err.h"
#include "containers/annot.h"
#include "containers/ctrrec.h"

struct hookin_add {
	char uuid[37];		 /* the device's uuid, chosen by the hook */
	char file[PATH_MAX];	 /* backing file, or "" */
	char uri[ANNOT_URI_MAX]; /* the NBD server, or "" */
};

int hookin_read_add(struct hookin_add *req, struct uerr *err);
int hookin_read_key(char key[CTRREC_KEY_LEN + 1], struct uerr *err);

#endif
