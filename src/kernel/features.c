// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stddef.h>

#include "kernel/features.h"
#include "uapi/ublk_abi.h"

#define F(flag, since)             \
	{                          \
		flag, #flag, since \
	}

const struct ublk_feature ublk_features[] = {
	F(UBLK_F_SUPPORT_ZERO_COPY, NULL),
	F(UBLK_F_URING_CMD_COMP_IN_TASK, NULL),
	F(UBLK_F_NEED_GET_DATA, NULL),
	F(UBLK_F_USER_RECOVERY, NULL),
	F(UBLK_F_USER_RECOVERY_REISSUE, NULL),
	F(UBLK_F_UNPRIVILEGED_DEV, "6.5"),
	F(UBLK_F_CMD_IOCTL_ENCODE, NULL),
	F(UBLK_F_USER_COPY, NULL),
	F(UBLK_F_ZONED, NULL),
	F(UBLK_F_USER_RECOVERY_FAIL_IO, NULL),
	F(UBLK_F_UPDATE_SIZE, "6.16"),
	F(UBLK_F_AUTO_BUF_REG, NULL),
	F(UBLK_F_QUIESCE, NULL),
	F(UBLK_F_PER_IO_DAEMON, NULL),
	F(UBLK_F_BUF_REG_OFF_DAEMON, NULL),
	F(UBLK_F_BATCH_IO, "7.0"),
	F(UBLK_F_INTEGRITY, NULL),
	F(UBLK_F_SAFE_STOP_DEV, NULL),
	F(UBLK_F_NO_AUTO_PART_SCAN, NULL),
	F(UBLK_F_SHMEM_ZC, "7.1"),
	F(UBLK_F_IO_DESC_SIZE, NULL),
};

const unsigned int ublk_nr_features =
	sizeof(ublk_features) / sizeof(ublk_features[0]);

static const struct ublk_feature *feature_find(uint64_t flag)
{
	unsigned int i;

	for (i = 0; i < ublk_nr_features; i++)
		if (ublk_features[i].flag == flag)
			return &ublk_features[i];
	return NULL;
}

const char *ublk_feature_name(uint64_t flag)
{
	const struct ublk_feature *f = feature_find(flag);

	return f ? f->name : NULL;
}

int ublk_features_require(uint64_t have, uint64_t want, struct uerr *err)
{
	uint64_t missing = want & ~have;
	const struct ublk_feature *f;
	uint64_t bit;

	if (!missing)
		return 0;
	bit = missing & -missing;
	f = feature_find(bit);
	if (!f)
		return uerr_set(err, EOPNOTSUPP,
				"this kernel lacks ublk feature bit 0x%llx",
				(unsigned long long)bit);
	if (f->since)
		return uerr_set(err, EOPNOTSUPP,
				"this kernel has no %s (Linux >= %s)", f->name,
				f->since);
	return uerr_set(err, EOPNOTSUPP, "this kernel has no %s", f->name);
}
