/* SPDX-License-Identifier: MIT */
/* Names of the kernel's ublk feature flags, and checks that name them. */
#ifndef UBLK_USER_FEATURES_H
#define UBLK_USER_FEATURES_H

#include <stdint.h>

#include "base/err.h"

struct ublk_feature {
	uint64_t flag;
	const char *name;  /* as in linux/ublk_cmd.h */
	const char *since; /* first Linux release, where we rely on it */
};

extern const struct ublk_feature ublk_features[];
extern const unsigned int ublk_nr_features;

/* "UBLK_F_SHMEM_ZC", or NULL for a bit we do not know */
const char *ublk_feature_name(uint64_t flag);

/*
 * 0 if every bit of want is in have; otherwise an error naming the first
 * missing feature: "this kernel has no UBLK_F_X (Linux >= a.b)".
 */
int ublk_features_require(uint64_t have, uint64_t want, struct uerr *err);

#endif
