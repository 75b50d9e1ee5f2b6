/* SPDX-License-Identifier: MIT */
/*
 * The udev helper's decision: may this new device (or its block node)
 * be handed to its owner under the administrator's policy?
 */
#ifndef UBLK_USER_ADMISSION_H
#define UBLK_USER_ADMISSION_H

#include <stdint.h>

#include "kernel/ctrl.h"
#include "base/err.h"

struct admission {
	char kind; /* 'c': the char node (ADD_DEV), 'b': the disk (START_DEV) */
	const struct ublksrv_ctrl_dev_info *info;
	const struct ublk_params *params;
};

/*
 * 0: allowed.  Otherwise the device must go: -EACCES with the reason in
 * err ("user alice already has 2 devices: max_devices=2 for group ublk
 * (/etc/ublk-user/policy.d/10-site.conf:7)").  Anything that keeps the
 * helper from deciding (an invalid policy, a failed lookup) refuses too.
 */
int admission_decide(struct ublk_ctrl *ctrl, const struct admission *a,
		     struct uerr *err);

/* Serialise helpers: one decides and hands over at a time.  The fd. */
int admission_lock(struct uerr *err);

#endif
