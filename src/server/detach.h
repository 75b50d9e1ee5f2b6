/* SPDX-License-Identifier: MIT */
/*
 * What a new server keeps of whoever started it: nothing that can reach
 * back.  Root's `add --user` and the OCI hook start servers for users
 * from a terminal or a pipe of theirs, so right after the fork the server
 *  - puts /dev/null on 0 and 1, and its log on 2 if that is a regular
 *    file of its own in its state directory (never through a link; a log
 *    it cannot open that way means /dev/null), so it never keeps a
 *    terminal or a pipe it inherited; a foreground server (`up
 *    --foreground`) gets instead, as stderr_fd, a pipe that its starter
 *    reads and passes on (to the journal);
 *  - keeps from the environment only what it uses (XDG_RUNTIME_DIR, TZ,
 *    UBLK_USER_SECCOMP) and wipes the arguments and environment the
 *    kernel shows in /proc/PID/cmdline and environ, writing its title
 *    "ublk-user-server N" there instead (host/srvproc.h);
 *  - moves to "/" and, if it runs as root or holds a capability, stays
 *    out of reach of ptrace and core dumps (not dumpable) for its life.
 */
#ifndef UBLK_USER_DETACH_H
#define UBLK_USER_DETACH_H

#include <stdint.h>

#include "base/err.h"

/* stderr_fd: the foreground server's log pipe, or -1 (the log file) */
int server_detach(uint32_t dev_id, int stderr_fd, struct uerr *err);

#endif
