// SPDX-License-Identifier: MIT
#include <cap-ng.h>
#include <linux/capability.h>

#include "caps.h"

bool caps_have_sys_admin(void)
{
	if (capng_get_caps_process() < 0)
		return false;
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN);
}
