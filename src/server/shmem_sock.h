/* SPDX-License-Identifier: MIT */
/*
 * The per-device socket through which clients (in containers too) share
 * memory with a server: dev-N.sock in the owner's state directory.  Wire
 * format, as the kernel's ublk selftest server speaks it: one byte plus a
 * memfd by SCM_RIGHTS; the reply is an int32, the buffer index the kernel
 * assigned, or a negative errno.  Our own addition: 'U' plus an int32
 * index (5 bytes, no fd) unregisters; the reply is 0 or a negative errno.
 * A client's buffers live as long as its connection.
 */
#ifndef UBLK_USER_SHMEM_SOCK_H
#define UBLK_USER_SHMEM_SOCK_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

#include "server/shmem.h"

#define SHMEM_SOCK_MAX_CLIENTS 16
#define SHMEM_MSG_UNREGISTER 'U'

struct shmem_client {
	int fd;	     /* -1: free */
	uint64_t id; /* owner of its buffers in the table */
};

struct shmem_sock {
	int listen_fd;
	uid_t owner_uid;
	uint64_t next_id;
	struct shmem_client clients[SHMEM_SOCK_MAX_CLIENTS];
	/* what the server registers with */
	struct shmem_table *table;
	struct ublk_ctrl *ctrl;
	const struct ublk_dev_ref *ref;
};

/* Create, bind (mode 0600 by umask 077) and listen; before confinement. */
int shmem_sock_listen(struct shmem_sock *s, const char *path, uid_t owner,
		      struct uerr *err);
/* Fill pfd with the listening and client fds; returns how many. */
unsigned int shmem_sock_pollfds(const struct shmem_sock *s, struct pollfd *pfd,
				unsigned int max);
/* Serve whatever poll() reported on the fds shmem_sock_pollfds gave. */
void shmem_sock_serve(struct shmem_sock *s, const struct pollfd *pfd,
		      unsigned int n);
void shmem_sock_close(struct shmem_sock *s);

#endif
