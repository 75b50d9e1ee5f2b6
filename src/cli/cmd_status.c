// SPDX-License-Identifier: MIT
/* ublk-user status [NAME]: your named disks, their nodes and stable paths */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "cli.h"
#include "disks/diskfile.h"

#define EXIT_DOWN 3 /* status NAME: the disk is not up */

static const char status_usage[] =
	"Usage: ublk-user status [NAME] [--json]\n"
	"\n"
	"Show your named disks (up, add --name) that are up: the device\n"
	"node now and the stable path that follows it across re-creation.\n"
	"With NAME, only that disk; the exit status is 3 when it is not up.\n"
	"\n"
	"      --json    print JSON (an object for NAME, else an array)\n"
	"  -h, --help    show this text\n";

const struct cli_opts status_opts = {
	.usage = status_usage,
	.longopts = cli_json_longopts,
};

static void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(
			       o, JSON_C_TO_STRING_PRETTY |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_text(const struct dev_view *v)
{
	char link[PATH_MAX];
	struct uerr err;

	if (named_link_path(v->rec.name, link, sizeof(link), false, &err) < 0)
		snprintf(link, sizeof(link), "-");
	printf("%-16s %-8s /dev/ublkb%-6u %s\n", v->rec.name, v->state,
	       v->info.dev_id, link);
}

static int status_one(struct ublk_ctrl *ctrl, const char *name, bool json)
{
	struct dev_view v;
	struct uerr err;
	json_object *o;
	int ret;

	ret = named_find(ctrl, name, &v, &err);
	if (ret == -ENOENT) {
		if (json) {
			o = json_object_new_object();
			json_object_object_add(o, "name",
					       json_object_new_string(name));
			json_object_object_add(o, "state",
					       json_object_new_string("down"));
			print_json(o);
		} else {
			printf("%-16s down\n", name);
		}
		return EXIT_DOWN;
	}
	if (ret < 0) {
		cli_error(&err);
		return EXIT_FAIL;
	}
	if (json)
		print_json(dev_view_json(&v));
	else
		print_text(&v);
	return EXIT_OK;
}

static int status_all(struct ublk_ctrl *ctrl, bool json)
{
	cleanup_free uint32_t *ids = NULL;
	json_object *arr = json_object_new_array();
	struct dev_record rec;
	struct dev_view v;
	unsigned int nr, i;
	struct uerr err;

	if (record_ids(&ids, &nr, &err) < 0) {
		json_object_put(arr);
		cli_error(&err);
		return EXIT_FAIL;
	}
	for (i = 0; i < nr; i++) {
		if (record_read(ids[i], &rec, &err) < 0 || !rec.name[0] ||
		    dev_view_get(ctrl, ids[i], &v, &err) < 0)
			continue;
		if (json)
			json_object_array_add(arr, dev_view_json(&v));
		else
			print_text(&v);
	}
	if (json)
		print_json(arr);
	else
		json_object_put(arr);
	return EXIT_OK;
}

int cmd_status(struct cli_args *a)
{
	struct ublk_ctrl ctrl cleanup_with(ublk_ctrl_close) = { .fd = -1 };
	bool json = false;
	struct uerr err;
	int c;

	while ((c = cli_next_opt(a)) > 0)
		if (c == 'j')
			json = true;
	if (c == CLI_EXIT)
		return a->status;
	uerr_clear(&err);
	if (a->nargs && disk_name_check(a->args[0], &err) < 0)
		return cli_usage_error(a, "%s", err.msg);
	if (ublk_ctrl_open(&ctrl, &err) < 0) {
		cli_error(&err);
		return EXIT_FAIL;
	}
	if (a->nargs)
		return status_one(&ctrl, a->args[0], json);
	return status_all(&ctrl, json);
}
