/* SPDX-License-Identifier: MIT */
/* What privilege this process holds (libcap-ng). */
#ifndef UBLK_USER_CAPS_H
#define UBLK_USER_CAPS_H

#include <stdbool.h>

/* With CAP_SYS_ADMIN the kernel makes privileged devices instead. */
bool caps_have_sys_admin(void);

#endif
