// SPDX-License-Identifier: MIT
/* ublk-user: unprivileged ublk block devices for users and containers. */
#include "cli.h"
#include "host/caps.h"

int main(int argc, char **argv)
{
	struct uerr err;

	uerr_clear(&err);
	if (caps_startup(&err) < 0) {
		cli_error(&err);
		return EXIT_FAIL;
	}
	return cli_main(cli_cmds, argc, argv);
}
