/* SPDX-License-Identifier: MIT */
/* The hook runs `ublk-user` for the work on devices: add and gc. */
#ifndef UBLK_USER_RUNCLI_H
#define UBLK_USER_RUNCLI_H

#include <stddef.h>

#include "base/err.h"

#define RUNCLI_OUT_MAX (64 << 10)

struct runcli_out {
	int status; /* exit status; 128+N when killed by signal N */
	char out[RUNCLI_OUT_MAX]; /* stdout, NUL-terminated, cut if longer */
	char err[4096];		  /* stderr, likewise */
};

/*
 * Run prog with argv (NULL-terminated) and a fixed environment: PATH,
 * and XDG_RUNTIME_DIR=runtime_dir when given, UBLK_USER_UDEV_TIMEOUT and
 * UBLK_USER_SECCOMP when we have them.  0 when it ran (whatever its
 * status); < 0 when it could not be started.
 */
int runcli(const char *prog, char *const argv[], const char *runtime_dir,
	   struct runcli_out *o, struct uerr *err);

/* The last line of what a failed ublk-user said, without "ublk-user: " */
const char *runcli_reason(struct runcli_out *o);

#endif
