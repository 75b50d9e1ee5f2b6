// SPDX-License-Identifier: MIT
/* ublk-user features: what the running kernel's ublk driver offers. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "cli.h"
#include "kernel/features.h"

static const char features_usage[] = "Usage: ublk-user features [--json]\n"
				     "\n"
				     "Ask the kernel (UBLK_U_CMD_GET_FEATURES) "
				     "which ublk features it has.\n"
				     "\n"
				     "      --json    print a JSON object\n"
				     "  -h, --help    show this text\n";

const struct cli_opts features_opts = {
	.usage = features_usage,
	.longopts = cli_json_longopts,
};

int cmd_features(struct cli_args *a)
{
	json_object *o, *names;
	struct ublk_ctrl ctrl;
	struct utsname uts;
	uint64_t features;
	bool json = false;
	struct uerr err;
	unsigned int i;
	char hex[24];
	int c, ret;

	while ((c = cli_next_opt(a)) > 0)
		json = true; /* --json, the only option */
	if (c == CLI_EXIT)
		return a->status;

	uerr_clear(&err);
	ret = ublk_ctrl_open(&ctrl, &err);
	if (ret == 0)
		ret = ublk_ctrl_get_features(&ctrl, &features, &err);
	ublk_ctrl_close(&ctrl);
	if (ret < 0) {
		cli_error(&err);
		return EXIT_FAIL;
	}
	uname(&uts);
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)features);
	if (!json) {
		printf("kernel %s, ublk features %s\n", uts.release, hex);
		for (i = 0; i < ublk_nr_features; i++)
			if (features & ublk_features[i].flag)
				printf("%s\n", ublk_features[i].name);
		return EXIT_OK;
	}
	o = json_object_new_object();
	names = json_object_new_array();
	for (i = 0; i < ublk_nr_features; i++)
		if (features & ublk_features[i].flag)
			json_object_array_add(
				names,
				json_object_new_string(ublk_features[i].name));
	json_object_object_add(o, "kernel",
			       json_object_new_string(uts.release));
	json_object_object_add(o, "flags", json_object_new_string(hex));
	json_object_object_add(o, "features", names);
	printf("%s\n",
	       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
	return EXIT_OK;
}
