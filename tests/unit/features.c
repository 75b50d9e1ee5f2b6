// SPDX-License-Identifier: MIT
/* The feature table and the messages that name missing features. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "kernel/features.h"
#include "uapi/ublk_abi.h"

#define FLAG(f)       \
	{             \
		f, #f \
	}

static const struct {
	uint64_t flag;
	const char *name;
} flags[] = {
	FLAG(UBLK_F_SUPPORT_ZERO_COPY),
	FLAG(UBLK_F_URING_CMD_COMP_IN_TASK),
	FLAG(UBLK_F_NEED_GET_DATA),
	FLAG(UBLK_F_USER_RECOVERY),
	FLAG(UBLK_F_USER_RECOVERY_REISSUE),
	FLAG(UBLK_F_UNPRIVILEGED_DEV),
	FLAG(UBLK_F_CMD_IOCTL_ENCODE),
	FLAG(UBLK_F_USER_COPY),
	FLAG(UBLK_F_ZONED),
	FLAG(UBLK_F_USER_RECOVERY_FAIL_IO),
	FLAG(UBLK_F_UPDATE_SIZE),
	FLAG(UBLK_F_AUTO_BUF_REG),
	FLAG(UBLK_F_QUIESCE),
	FLAG(UBLK_F_PER_IO_DAEMON),
	FLAG(UBLK_F_BUF_REG_OFF_DAEMON),
	FLAG(UBLK_F_BATCH_IO),
	FLAG(UBLK_F_INTEGRITY),
	FLAG(UBLK_F_SAFE_STOP_DEV),
	FLAG(UBLK_F_NO_AUTO_PART_SCAN),
	FLAG(UBLK_F_SHMEM_ZC),
	FLAG(UBLK_F_IO_DESC_SIZE),
};

#define NR_FLAGS (sizeof(flags) / sizeof(flags[0]))
#define ALL_KNOWN ((1ULL << 21) - 1)

static void test_table(void)
{
	unsigned int i, bit, seen, bad;

	note("the table");
	is_int(ublk_nr_features, 21, "the table has 21 entries (bits 0..20)");
	for (bit = 0; bit <= 20; bit++) {
		seen = 0;
		for (i = 0; i < ublk_nr_features; i++)
			seen += ublk_features[i].flag == 1ULL << bit;
		is_int(seen, 1, "bit %u is in the table exactly once", bit);
	}
	bad = 0;
	for (i = 0; i < ublk_nr_features; i++) {
		uint64_t f = ublk_features[i].flag;

		if (!f || (f & (f - 1)) || f > 1ULL << 20 ||
		    !ublk_features[i].name ||
		    strncmp(ublk_features[i].name, "UBLK_F_", 7)) {
			diag("entry %u: flag 0x%llx name %s", i,
			     (unsigned long long)f,
			     ublk_features[i].name ? ublk_features[i].name :
						     "NULL");
			bad++;
		}
	}
	is_int(bad, 0, "each entry is one bit of 0..20 with a UBLK_F_ name");
	for (i = 0; i + 1 < ublk_nr_features; i++)
		if (ublk_features[i].flag > ublk_features[i + 1].flag)
			break;
	is_int(i + 1, ublk_nr_features, "the table is in bit order");
}

static void test_names(void)
{
	unsigned int i;

	note("ublk_feature_name");
	for (i = 0; i < NR_FLAGS; i++)
		is_str(ublk_feature_name(flags[i].flag), flags[i].name,
		       "ublk_feature_name(1 << %u) = %s", i, flags[i].name);
	is_str(ublk_feature_name(1ULL << 21), NULL,
	       "bit 21 (unknown) has no name");
	is_str(ublk_feature_name(1ULL << 63), NULL,
	       "bit 63 (unknown) has no name");
	is_str(ublk_feature_name(0), NULL, "0 has no name");
	is_str(ublk_feature_name(UBLK_F_UNPRIVILEGED_DEV |
				 UBLK_F_CMD_IOCTL_ENCODE),
	       NULL, "two bits together have no name");
}

static void require_msg(uint64_t have, uint64_t want, const char *msg,
			const char *what)
{
	struct uerr err;
	int ret;

	uerr_clear(&err);
	ret = ublk_features_require(have, want, &err);
	is_int(ret, -EOPNOTSUPP, "%s: refused with -EOPNOTSUPP", what);
	is_int(err.code, EOPNOTSUPP, "%s: err.code is EOPNOTSUPP", what);
	is_str(err.msg, msg, "%s: the message", what);
}

static void test_require(void)
{
	struct uerr err;
	char want[128];
	unsigned int i;
	size_t n;

	note("ublk_features_require");
	uerr_clear(&err);
	is_int(ublk_features_require(0, 0, &err), 0, "nothing wanted: fine");
	is_int(ublk_features_require(ALL_KNOWN, UBLK_F_UNPRIVILEGED_DEV, &err),
	       0, "a kernel with everything: fine");
	is_int(ublk_features_require(
		       UBLK_F_UNPRIVILEGED_DEV | UBLK_F_CMD_IOCTL_ENCODE,
		       UBLK_F_UNPRIVILEGED_DEV | UBLK_F_CMD_IOCTL_ENCODE, &err),
	       0, "exactly what is wanted: fine");
	is_int(err.code, 0, "and no error was set");
	is_str(err.msg, "", "and no message either");

	require_msg(0, UBLK_F_UNPRIVILEGED_DEV,
		    "this kernel has no UBLK_F_UNPRIVILEGED_DEV (Linux >= 6.5)",
		    "no UNPRIVILEGED_DEV");
	require_msg(ALL_KNOWN & ~UBLK_F_UNPRIVILEGED_DEV,
		    UBLK_F_UNPRIVILEGED_DEV | UBLK_F_CMD_IOCTL_ENCODE,
		    "this kernel has no UBLK_F_UNPRIVILEGED_DEV (Linux >= 6.5)",
		    "everything but UNPRIVILEGED_DEV");
	require_msg(UBLK_F_UNPRIVILEGED_DEV | UBLK_F_CMD_IOCTL_ENCODE,
		    UBLK_F_UNPRIVILEGED_DEV | UBLK_F_SHMEM_ZC,
		    "this kernel has no UBLK_F_SHMEM_ZC (Linux >= 7.1)",
		    "no SHMEM_ZC");
	require_msg(0, UBLK_F_SHMEM_ZC | UBLK_F_UNPRIVILEGED_DEV,
		    "this kernel has no UBLK_F_UNPRIVILEGED_DEV (Linux >= 6.5)",
		    "both missing: the lowest bit is named");
	require_msg(UBLK_F_UNPRIVILEGED_DEV, UBLK_F_USER_COPY,
		    "this kernel has no UBLK_F_USER_COPY",
		    "a feature with no release noted");
	require_msg(ALL_KNOWN, 1ULL << 40,
		    "this kernel lacks ublk feature bit 0x10000000000",
		    "an unknown bit");
	require_msg(ALL_KNOWN & ~UBLK_F_IO_DESC_SIZE, ALL_KNOWN,
		    "this kernel has no UBLK_F_IO_DESC_SIZE",
		    "the highest known bit");
	require_msg(0, 1ULL << 63,
		    "this kernel lacks ublk feature bit 0x8000000000000000",
		    "bit 63");

	/* Each feature, missing alone, is the one named */
	for (i = 0; i < NR_FLAGS; i++) {
		uerr_clear(&err);
		ublk_features_require(ALL_KNOWN & ~flags[i].flag, ALL_KNOWN,
				      &err);
		snprintf(want, sizeof(want), "this kernel has no %s",
			 flags[i].name);
		like(err.msg,
		     "^this kernel has no UBLK_F_[A-Z_]+( \\(Linux >= "
		     "[0-9]+\\.[0-9]+\\))?$",
		     "%s missing: the message has the expected form",
		     flags[i].name);
		n = strlen(want);
		ok(!strncmp(err.msg, want, n) &&
			   (!err.msg[n] || err.msg[n] == ' '),
		   "%s missing: it is the one named", flags[i].name);
	}
}

int main(void)
{
	test_table();
	test_names();
	test_require();
	return done_testing();
}
