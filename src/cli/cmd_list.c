// SPDX-License-Identifier: MIT
/* ublk-user list: the devices this caller can see, and stale records. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "base/size.h"

static const char list_usage[] = "Usage: ublk-user list [-n ID] [--json]\n"
				 "\n"
				 "Show the ublk devices you may use (the "
				 "kernel checks your access\n"
				 "to each /dev/ublkcN), merged with "
				 "ublk-user's own records.\n"
				 "\n"
				 "  -n, --id ID   only this device\n"
				 "      --json    print a JSON array\n"
				 "  -h, --help    show this text\n";

static const struct option list_longopts[] = {
	{ "id", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, 'j' },
	{ 0 },
};

const struct cli_opts list_opts = {
	.usage = list_usage,
	.shortopts = "n:",
	.longopts = list_longopts,
};

static void print_row(const struct dev_view *v)
{
	char size[24];

	printf("%-4u %-6s %-8s %-8s %-8d %s\n", v->info.dev_id,
	       v->has_record ? v->rec.target : "-",
	       format_size(v->size, size, sizeof(size)), v->state,
	       v->server_pid,
	       v->has_record && v->rec.backing[0] ? v->rec.backing : "-");
}

static bool id_in(uint32_t id, const uint32_t *ids, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

int cmd_list(struct cli_args *a)
{
	uint32_t *kids = NULL, *rids = NULL, *shown = NULL;
	unsigned int nk = 0, nr = 0, ns = 0, i;
	unsigned long only = 0;
	bool json = false, have_only = false;
	json_object *arr = NULL;
	struct ublk_ctrl ctrl;
	struct dev_record rec;
	struct dev_view v;
	struct uerr err;
	int c, ret, status = EXIT_OK;

	while ((c = cli_next_opt(a)) > 0) {
		switch (c) {
		case 'n':
			if (parse_uint(optarg, "--id", 0, UINT32_MAX, &only,
				       &err))
				return cli_usage_error(a, "%s", err.msg);
			have_only = true;
			break;
		case 'j':
			json = true;
			break;
		}
	}
	if (c == CLI_EXIT)
		return a->status;

	if (ublk_ctrl_open(&ctrl, &err) < 0 ||
	    dev_ids_in_dev(&kids, &nk, &err) < 0 ||
	    record_ids(&rids, &nr, &err) < 0) {
		cli_error(&err);
		ublk_ctrl_close(&ctrl);
		free(kids);
		return EXIT_FAIL;
	}
	shown = calloc(nk + nr + 1, sizeof(*shown));
	if (json)
		arr = json_object_new_array();
	else
		printf("%-4s %-6s %-8s %-8s %-8s %s\n", "ID", "TARGET", "SIZE",
		       "STATE", "SERVER", "BACKING");

	for (i = 0; i < nk; i++) {
		if (have_only && kids[i] != only)
			continue;
		ret = dev_view_get(&ctrl, kids[i], &v, &err);
		if (ret < 0)
			continue; /* not ours (EACCES), or gone meanwhile */
		shown[ns++] = kids[i];
		if (json)
			json_object_array_add(arr, dev_view_json(&v));
		else
			print_row(&v);
	}
	/* Records whose device is gone, or whose id now names another. */
	for (i = 0; i < nr; i++) {
		if (have_only && rids[i] != only)
			continue;
		if (id_in(rids[i], shown, ns) ||
		    record_read(rids[i], &rec, &err) < 0)
			continue;
		dev_view_stale(&v, &rec);
		shown[ns++] = rids[i];
		if (json)
			json_object_array_add(arr, dev_view_json(&v));
		else
			print_row(&v);
	}
	if (have_only && !ns) {
		fprintf(stderr, "%s: no device %lu visible to this user\n",
			prog_name, only);
		status = EXIT_FAIL;
	}
	if (json)
		printf("%s\n",
		       json_object_to_json_string_ext(
			       arr, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	free(kids);
	free(rids);
	free(shown);
	ublk_ctrl_close(&ctrl);
	return status;
}
