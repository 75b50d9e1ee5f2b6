// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <blkid.h>

#include "cli/partition.h"

/* "1, 2, 5" of the table, for a message */
static void list_numbers(blkid_partlist ls, char *buf, size_t len)
{
	int i, n = blkid_partlist_numof_partitions(ls);
	size_t used = 0;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%d", i ? ", " : "",
				 blkid_partition_get_partno(
					 blkid_partlist_get_partition(ls, i)));
}

static int find(blkid_probe pr, const char *path, unsigned int number,
		uint64_t *offset, uint64_t *size, struct uerr *err)
{
	blkid_partlist ls;
	blkid_partition par;
	blkid_parttable tab;
	const char *type;
	char nums[256];

	if (blkid_probe_enable_superblocks(pr, 0) < 0 ||
	    blkid_probe_enable_partitions(pr, 1) < 0)
		return uerr_set(err, ENOMEM, "--partition: libblkid");
	ls = blkid_probe_get_partitions(pr);
	tab = ls ? blkid_partlist_get_table(ls) : NULL;
	if (!tab)
		return uerr_set(err, EINVAL,
				"--partition %u: %s has no partition table "
				"(GPT or MBR)",
				number, path);
	type = blkid_parttable_get_type(tab);
	par = blkid_partlist_get_partition_by_partno(ls, (int)number);
	if (!par) {
		list_numbers(ls, nums, sizeof(nums));
		return uerr_set(err, ENOENT,
				"--partition %u: %s has no partition %u (its "
				"%s table has %s%s)",
				number, path, number, type ? type : "",
				nums[0] ? "partitions " : "none", nums);
	}
	if (blkid_partition_is_extended(par))
		return uerr_set(err, EINVAL,
				"--partition %u: partition %u of %s is an "
				"extended partition, which only holds others",
				number, number, path);
	if (blkid_partition_get_start(par) <= 0 ||
	    blkid_partition_get_size(par) <= 0)
		return uerr_set(err, EINVAL,
				"--partition %u: partition %u of %s is empty",
				number, number, path);
	/* libblkid counts partitions in 512-byte sectors */
	*offset = (uint64_t)blkid_partition_get_start(par) << 9;
	*size = (uint64_t)blkid_partition_get_size(par) << 9;
	return 0;
}

int partition_find(const char *path, unsigned int number, uint64_t *offset,
		   uint64_t *size, struct uerr *err)
{
	blkid_probe pr;
	int ret;

	errno = 0;
	pr = blkid_new_probe_from_filename(path);
	if (!pr)
		return uerr_sys(err, errno ? errno : EINVAL,
				"--partition %u: cannot read %s", number, path);
	ret = find(pr, path, number, offset, size, err);
	blkid_free_probe(pr);
	return ret;
}
