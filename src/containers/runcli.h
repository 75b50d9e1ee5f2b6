/* SPDX-License-Identifier: MIT */
/* The hook runs `ublk-user` for the work on devices: add and gc. */
#ifndef UBLK_USER_RUNCLI_H
#define UBLK_USER_RUNCLI_H

#include <stddef.h>

#include "base/err.h"

#define RUNCLI_OUT_MAX (64 << 10)

struct runcli_job {
	const char *prog;
	char *const *argv;	 /* NULL-terminated; nothing secret */
	const char *runtime_dir; /* its XDG_RUNTIME_DIR, or NULL */
	/*
	 * Its stdin (NULL: /dev/null).  What others must not learn (a record
	 * key, a backing path) goes here: every local user can read a
	 * process's command line.
	 */
	const char *input;
	long deadline_ms; /* mono_ms() time at which it is killed */
};

struct runcli_out {
	int status; /* exit status; 128+N when killed by signal N */
	char out[RUNCLI_OUT_MAX]; /* stdout, NUL-terminated, cut if longer */
	char err[4096];		  /* stderr, likewise */
};

/*
 * Run job->prog with a fixed environment: PATH, and XDG_RUNTIME_DIR when
 * given, UBLK_USER_UDEV_TIMEOUT and UBLK_USER_SECCOMP when we have them.
 * 0 when it ran and ended by itself (whatever its status); -ETIMEDOUT
 * when it was still running at the deadline (it was killed: it runs as
 * the disk's owner, who can stop it); < 0 when it could not be started.
 */
int runcli(const struct runcli_job *job, struct runcli_out *o,
	   struct uerr *err);

/* The last line of what a failed ublk-user said, without "ublk-user: " */
const char *runcli_reason(struct runcli_out *o);

#endif
