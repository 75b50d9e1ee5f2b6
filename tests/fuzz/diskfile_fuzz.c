// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the disk file parser: any bytes as a user's disk
 * file and as an /etc one (root reads those).  ASan and UBSan judge; the
 * invariants abort on an error without a code or message, or an
 * accepted file that breaks what the parser promises.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "disks/diskfile.h"
#include "server/targets/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct disk_file d;
	struct uerr err;
	int sys, ret;

	for (sys = 0; sys < 2; sys++) {
		uerr_clear(&err);
		ret = disk_parse(&d, "fuzz", "fuzz.disk", (const char *)data,
				 size, sys, &err);
		if (ret < 0 && (ret != -err.code || !err.msg[0]))
			abort();
		if (ret < 0)
			continue;
		if (ret || !target_name_known(d.target))
			abort();
		if (!strcmp(d.target, "loop") != (d.file[0] == '/'))
			abort();
		if ((d.user[0] != '\0') != sys)
			abort();
	}
	return 0;
}
