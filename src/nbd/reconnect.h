/* SPDX-License-Identifier: MIT */
/*
 * Reconnecting without connect() in the confined server.
 *
 * A confined process cannot make sockets.  So each queue of an nbd device
 * has a helper: a process of the same user, forked before confinement,
 * that holds nothing but a channel to the queue (a SOCK_SEQPACKET
 * socketpair) and the queue's io_uring fd.  Asked for a connection (a
 * struct nbd_reconnect_req on the channel), it connects to the URI, runs
 * the handshake, checks that the export is still the same disk
 * (nbd_export_same()), and puts the new socket straight into the queue
 * ring's fixed-file table with IORING_OP_MSG_RING (IORING_MSG_SEND_FD),
 * which also posts a CQE there: user_data ud_ok | gen << gen_shift.  A
 * failure posts an IORING_MSG_DATA CQE instead: user_data ud_fail | gen
 * << gen_shift, res -errno, and the reason goes to stderr (the server's
 * log).  The queue thread needs no new system call and no new ring
 * opcode for it: the helper's ring does the sending.
 *
 * The helper ends when the channel closes (the server is gone) and, via
 * PR_SET_PDEATHSIG, when the server dies.
 */
#ifndef UBLK_USER_NBD_RECONNECT_H
#define UBLK_USER_NBD_RECONNECT_H

#include <stdint.h>

#include "nbd/handshake.h"
#include "nbd/uri.h"

#define NBD_RECONNECT_MAGIC 0x4e424443U /* "NBDC" */

/* What the queue sends on the channel: one message per attempt */
struct nbd_reconnect_req {
	uint32_t magic;
	uint32_t gen; /* echoed in the CQE */
};

struct nbd_reconnector {
	const struct nbd_uri *uri;
	const struct nbd_export *want; /* the export as first seen */
	int chan_fd;		       /* our end of the channel */
	int ring_fd;		       /* the queue's ring */
	unsigned int slot;	       /* its fixed-file slot for the socket */
	int timeout_ms;		       /* for one attempt */
	uint64_t ud_ok, ud_fail;       /* user_data of the CQEs we post */
	unsigned int gen_shift;
	const char *name; /* "queue 0", for the log */
};

/* In the helper process: serve requests until the channel closes. */
__attribute__((noreturn)) void
nbd_reconnector_run(const struct nbd_reconnector *r);

#endif
