/* SPDX-License-Identifier: MIT */
/*
 * A device's server as a process that others may signal.  The server
 * names itself "ublk-user-server N" (its /proc/PID/cmdline, readable by
 * all); anyone who would signal it takes a pidfd and checks, through that
 * pidfd, that the process is alive, runs as the device's owner and bears
 * that name.  A pid that a dead server left and another process got is
 * never signalled, and root never signals a process of another user.
 */
#ifndef UBLK_USER_SRVPROC_H
#define UBLK_USER_SRVPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "ublk-user-server N" */
void srvproc_title(char *buf, size_t len, uint32_t dev_id);

/*
 * A pidfd (close-on-exec) for pid if it is the live server of device
 * dev_id, with real, effective and saved uid owner; else -1 and errno
 * ESRCH (no such process, or not that server) or what opening failed with.
 */
int srvproc_open(pid_t pid, uint32_t dev_id, uid_t owner);

/* Is pid the live server of dev_id, run by owner? */
bool srvproc_is_server(pid_t pid, uint32_t dev_id, uid_t owner);

/* pidfd_send_signal(2); 0 or -errno */
int srvproc_signal(int pidfd, int sig);

/* Wait up to timeout_ms for the process to exit; true once it has. */
bool srvproc_wait_exit(int pidfd, long timeout_ms);

#endif
