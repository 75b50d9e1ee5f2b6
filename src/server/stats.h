/* SPDX-License-Identifier: MIT */
/*
 * Live counters of a server, in a small file of its state directory
 * (dev-N.stats) that the server maps shared and `list` reads.  Each queue
 * thread writes only its own cache line, with relaxed atomic stores: no
 * lock and no syscall per I/O.
 */
#ifndef UBLK_USER_STATS_H
#define UBLK_USER_STATS_H

#include <stdint.h>

#include "base/err.h"

#define STATS_MAGIC "UBLKSTA1"
#define STATS_MAX_QUEUES 64

struct stats_queue {
	uint64_t ios;		/* every request served */
	uint64_t zc_ios;	/* reads and writes served from shared memory */
	uint64_t copied_ios;	/* reads and writes through our own buffers */
	uint64_t nbd_connected; /* nbd: 1 while connected */
	uint64_t nbd_reconnects; /* nbd: connections made again */
	uint64_t pad[3];
} __attribute__((aligned(64)));

struct stats_file {
	char magic[8];
	uint32_t nr_queues;
	uint32_t pad;
	uint64_t shmem_bufs; /* registered shared buffers now */
	uint64_t shmem_bytes;
	uint64_t pad2[4];
	struct stats_queue q[STATS_MAX_QUEUES];
};

struct stats_sum {
	uint64_t ios, zc_ios, copied_ios, shmem_bufs, shmem_bytes;
	uint64_t nbd_connected; /* queues connected */
	uint64_t nbd_reconnects;
};

/* Server: create and map dir_fd/name (before confinement). */
int stats_create(int dir_fd, const char *name, unsigned int nr_queues,
		 struct stats_file **out, struct uerr *err);
void stats_unmap(struct stats_file *s);
/* Reader: sum of the counters in path; -ENOENT without a file. */
int stats_read(const char *path, struct stats_sum *sum, struct uerr *err);

static inline void stats_add(uint64_t *counter)
{
	__atomic_store_n(counter, *counter + 1, __ATOMIC_RELAXED);
}

static inline void stats_set(uint64_t *counter, uint64_t v)
{
	__atomic_store_n(counter, v, __ATOMIC_RELAXED);
}

#endif
