/* SPDX-License-Identifier: MIT */
/*
 * What doctor says about systemd's units for disk files: installed,
 * enabled for disks that exist, and, for a user, whether the user manager
 * that keeps them up runs and outlives a logout (lingering).
 */
#ifndef UBLK_USER_CLI_UNITS_H
#define UBLK_USER_CLI_UNITS_H

#include <stddef.h>

#ifndef UBLK_USER_SYSTEMDUNITDIR
#define UBLK_USER_SYSTEMDUNITDIR "/usr/lib/systemd/system"
#endif
#ifndef UBLK_USER_SYSTEMDUSERUNITDIR
#define UBLK_USER_SYSTEMDUSERUNITDIR "/usr/lib/systemd/user"
#endif
#define UNITS_USER_TEMPLATE "ublk-user@.service"
#define UNITS_SYSTEM_TEMPLATE "ublk-user-system@.service"
#define UNITS_LINGER_DIR "/var/lib/systemd/linger"

enum units_status { UNITS_OK, UNITS_WARN, UNITS_FAIL };

struct units_finding {
	enum units_status st;
	char msg[1024];
	char fix[512];
};

/* The caller's ublk-user@NAME units (~/.config/systemd/user) */
void units_check_user(struct units_finding *f);
/* Root: ublk-user-system@NAME units and DISK_SYSTEM_DIR's disk files */
void units_check_system(struct units_finding *f);

#endif
