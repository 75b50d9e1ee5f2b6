/* SPDX-License-Identifier: MIT */
/*
 * The server of one device: a detached process with one thread per queue.
 * server_spawn() forks it from `add` and returns once the device is live
 * or the server has failed; the server then lives on its own until
 * SIGTERM, a STOP_DEV from `del`, or a fatal error, and always deletes
 * its device and record on the way out.  Its exit status is 0 after a
 * signal asked it to stop, 1 when the device went without one (someone
 * deleted it) or setup failed: only a foreground server's starter, whose
 * child it stays, sees it.
 */
#ifndef UBLK_USER_SERVER_H
#define UBLK_USER_SERVER_H

#include <sched.h>
#include <sys/types.h>

#include "base/err.h"
#include "server/queue.h"
#include "host/state.h"
#include "server/target.h"
#include "uapi/ublk_abi.h"

struct server_cfg {
	struct ublksrv_ctrl_dev_info info; /* as ADD_DEV returned it */
	struct target *tgt;
	struct dev_record *rec;
	struct queue_opts qopts;
	/* zero copy (info.flags has UBLK_F_SHMEM_ZC): a listening socket */
	uint64_t shmem_budget; /* bytes registered at once (max_shmem) */
	int shmem_file_fd;     /* --shmem FILE, checked by add; or -1 */
	/*
	 * up --foreground: the server stays the caller's child (forked once,
	 * in a session of its own), and its stderr is a pipe whose read end
	 * server_spawn() puts in log_fd (close-on-exec).
	 */
	bool foreground;
	int log_fd;
	/* per queue, the CPUs that submit to it (server_get_affinity) */
	cpu_set_t *affinity;
};

/*
 * Ask the kernel which CPUs submit to each queue, for the server to run
 * each queue's thread there (no wakeup across CPUs); cfg->affinity stays
 * NULL if it cannot tell.  In `add`, before server_spawn: the server
 * cannot send control commands before it is confined, nor set its
 * threads' affinity after.
 */
void server_get_affinity(struct server_cfg *cfg);
void server_free_affinity(struct server_cfg *cfg);

/* Start the server; on success *pid is its pid and the device is live. */
int server_spawn(struct server_cfg *cfg, pid_t *pid, struct uerr *err);

/* Block parameters for a target (exposed for unit tests). */
void server_fill_params(struct ublk_params *p, const struct target *tgt,
			const struct ublksrv_ctrl_dev_info *info);

#endif
