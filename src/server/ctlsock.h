/* SPDX-License-Identifier: MIT */
/*
 * A server's control socket, dev-N.ctl in its owner's state directory:
 * how `ublk-user resize` and `snapshot` ask the running, confined server.
 * SOCK_SEQPACKET, one fixed-size message each way, from the device's
 * owner only (SO_PEERCRED), one connection at a time:
 *
 *   RESIZE size  the target's resize hook and the kernel's UPDATE_SIZE,
 *                in the order that keeps every I/O inside the backing
 *   PAUSE        hold new requests, let in-flight ones finish (at most
 *                CTL_DRAIN_MAX_MS); the reply names the backing file
 *                (st_dev, st_ino) so that the client checks it has the
 *                same file before it copies it
 *   RESUME       on the same connection: the held requests go on.  A
 *                pause also ends when the client closes, when the server
 *                is signalled, and after CTL_PAUSE_MAX_MS (the reply to
 *                RESUME then says so).
 *
 * The server's main thread serves it between polls; its seccomp filter
 * allows accept4 and getsockopt(SOL_SOCKET, SO_PEERCRED) for it, and
 * read and write, which it had.  Nothing of it runs in a queue thread.
 */
#ifndef UBLK_USER_CTLSOCK_H
#define UBLK_USER_CTLSOCK_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"
#include "kernel/ctrl.h"
#include "server/pause.h"
#include "server/target.h"

#define CTL_MAGIC 0x75636c31 /* "ucl1" */
#define CTL_DRAIN_MAX_MS 5000
/* Well below the block layer's 30 s, after which the kernel kills us */
#define CTL_PAUSE_MAX_MS 10000
#define CTL_REQUEST_MS 2000 /* for a request once connected */

enum ctl_op {
	CTL_RESIZE = 1,
	CTL_PAUSE = 2,
	CTL_RESUME = 3,
};

struct ctl_req {
	uint32_t magic;
	uint32_t op;
	uint64_t arg; /* RESIZE: bytes */
};

struct ctl_reply {
	int32_t status; /* 0 or -errno, with msg */
	uint32_t pad;
	uint64_t size; /* RESIZE: the disk's size now */
	uint64_t dev;  /* PAUSE: the backing's st_dev and st_ino */
	uint64_t ino;  /* (0 for a target without a backing file) */
	uint64_t usec; /* PAUSE: the drain; RESUME: the whole pause */
	char msg[256];
};

/* The server's end */
struct ctl_sock {
	int listen_fd;
	uid_t owner_uid;
	int signal_fd; /* the server's: a signal ends a pause at once */
	int event_fd;  /* written by a queue that is drained */
	struct ublk_ctrl *ctrl;
	const struct ublk_dev_ref *ref;
	struct target *tgt;
	int backing_fd; /* the file target_backing() names, or -1 */
	struct pause_ring *pause;
};

/* Bind and listen on path (mode 0600 by umask 077); before confinement */
int ctl_sock_listen(struct ctl_sock *s, const char *path, uid_t owner,
		    struct uerr *err);
/* The listening fd for the server's poll(), or -1 */
int ctl_sock_fd(const struct ctl_sock *s);
/* A connection is waiting: serve it to its end (a pause included). */
void ctl_sock_serve(struct ctl_sock *s);
/* End a pause that is still on (the server is stopping) */
void ctl_sock_close(struct ctl_sock *s);

/* The client's end: connect to a device's socket */
int ctl_connect(const char *path, struct uerr *err);
/*
 * Send one request and wait up to timeout_ms for the reply.  0 with
 * *rep filled; the server's refusal (rep->status) as -errno with its
 * message in err; or a failure to talk to it.
 */
int ctl_call(int fd, enum ctl_op op, uint64_t arg, struct ctl_reply *rep,
	     int timeout_ms, struct uerr *err);

#endif
