/* SPDX-License-Identifier: MIT */
/* Numbered entries of a directory: /dev/ublkcN, dev-N.json records, ... */
#ifndef UBLK_USER_DIRIDS_H
#define UBLK_USER_DIRIDS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

/* true and *id set when name is an entry of interest */
typedef bool (*dir_id_match_fn)(const char *name, uint32_t *id);

/* The ids of dir's matching entries, sorted; the caller frees *ids. */
int dir_ids(const char *dir, dir_id_match_fn match, uint32_t **ids,
	    unsigned int *nr, struct uerr *err);

#endif
