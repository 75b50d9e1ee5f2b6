// SPDX-License-Identifier: MIT
/* ublk-user del: stop and delete devices, end their servers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "base/size.h"

static const char del_usage[] = "Usage: ublk-user del -n ID | -a\n"
				"\n"
				"Stop a device, end its server and delete it.\n"
				"\n"
				"  -n, --id ID   this device\n"
				"  -a, --all     all of your devices (and "
				"stale records)\n"
				"  -h, --help    show this text\n";

static const struct option del_longopts[] = {
	{ "id", required_argument, NULL, 'n' },
	{ "all", no_argument, NULL, 'a' },
	{ 0 },
};

const struct cli_opts del_opts = {
	.usage = del_usage,
	.shortopts = "n:a",
	.longopts = del_longopts,
};

/* Delete one device by id; a stale record alone is removed too. */
static int del_one(struct ublk_ctrl *ctrl, uint32_t id, struct uerr *err)
{
	struct dev_record rec;
	struct dev_view v;
	struct uerr rerr;
	int ret;

	ret = dev_view_get(ctrl, id, &v, err);
	if (ret == -ENODEV) {
		if (record_read(id, &rec, &rerr) == 0) {
			record_remove(id);
			return 0;
		}
		return uerr_set(err, ENODEV, "no device %u", id);
	}
	if (ret < 0)
		return ret;
	return dev_remove(ctrl, id, v.server_pid, false, err);
}

static int del_all(struct ublk_ctrl *ctrl, struct uerr *err)
{
	uint32_t *kids = NULL, *rids = NULL;
	unsigned int nk = 0, nr = 0, i;
	struct dev_view v;
	struct uerr e;
	int ret = 0;

	if (dev_ids_in_dev(&kids, &nk, err) < 0)
		return -err->code;
	for (i = 0; i < nk; i++) {
		/* Root sees every device; -a still means only its own. */
		if (dev_view_get(ctrl, kids[i], &v, &e) < 0 ||
		    v.info.owner_uid != geteuid())
			continue;
		if (dev_remove(ctrl, kids[i], v.server_pid, false, &e) < 0) {
			cli_error(&e);
			*err = e;
			ret = -1;
		}
	}
	if (record_ids(&rids, &nr, &e) == 0)
		for (i = 0; i < nr; i++)
			if (dev_view_get(ctrl, rids[i], &v, &e) == -ENODEV)
				record_remove(rids[i]);
	free(kids);
	free(rids);
	return ret;
}

int cmd_del(struct cli_args *a)
{
	unsigned long id = 0;
	bool have_id = false, all = false;
	struct ublk_ctrl ctrl;
	struct uerr err;
	int c, ret;

	while ((c = cli_next_opt(a)) > 0) {
		switch (c) {
		case 'n':
			if (parse_uint(optarg, "--id", 0, UINT32_MAX, &id,
				       &err))
				return cli_usage_error(a, "%s", err.msg);
			have_id = true;
			break;
		case 'a':
			all = true;
			break;
		}
	}
	if (c == CLI_EXIT)
		return a->status;
	if (have_id == all)
		return cli_usage_error(a, "give either -n ID or -a");

	uerr_clear(&err);
	if (ublk_ctrl_open(&ctrl, &err) < 0) {
		cli_error(&err);
		return EXIT_FAIL;
	}
	if (all) {
		ret = del_all(&ctrl, &err);
	} else {
		ret = del_one(&ctrl, id, &err);
		if (ret < 0)
			cli_error(&err);
	}
	ublk_ctrl_close(&ctrl);
	return ret < 0 ? EXIT_FAIL : EXIT_OK;
}
