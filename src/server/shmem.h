/* SPDX-License-Identifier: MIT */
/*
 * Shared-memory zero copy (UBLK_F_SHMEM_ZC).  A server maps memory it
 * shares with a client (a memfd sent over the device's socket, or a
 * hugetlbfs/tmpfs file given with --shmem) and registers the mapping with
 * UBLK_U_CMD_REG_BUF.  When a client's O_DIRECT I/O uses pages of it, the
 * descriptor carries UBLK_IO_F_SHMEM_ZC and index + offset, and the
 * server reads or writes its own mapping instead of a bounce buffer.
 *
 * Every fd is checked before it is mapped (shmem_check_fd): only a sealed
 * memfd (or, for --shmem, a hugetlbfs or tmpfs file), page-aligned,
 * non-empty, at most 4 GiB, within the device's budget.  Seals against
 * shrinking are required so that a client cannot make the server SIGBUS.
 */
#ifndef UBLK_USER_SHMEM_H
#define UBLK_USER_SHMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/ctrl.h"
#include "base/err.h"

#define SHMEM_MAX_BUFS 256		  /* per device */
#define SHMEM_BUF_MAX (1ULL << 32)	  /* the kernel's limit per buffer */
#define SHMEM_DEFAULT_BUDGET (1ULL << 30) /* without a policy */

/* What shmem_check_fd found out about an fd */
struct shmem_fd_info {
	uint64_t len;
	bool read_only; /* write-sealed: registered read-only */
	bool hugetlb;
};

/* How strict to be: a client's memfd, or a file named by the owner */
enum shmem_source {
	SHMEM_FROM_CLIENT, /* sealed memfd only */
	SHMEM_FROM_FILE,   /* hugetlbfs or tmpfs file, no seals needed */
};

int shmem_check_fd(int fd, enum shmem_source src, uint64_t budget_left,
		   struct shmem_fd_info *info, struct uerr *err);

struct shmem_buf {
	void *base;   /* the server's mapping */
	uint64_t len; /* 0: slot free; published last, read with acquire */
	bool read_only;
	uint64_t owner; /* client connection id, 0 for --shmem files */
};

struct shmem_table {
	struct shmem_buf bufs[SHMEM_MAX_BUFS]; /* by the kernel's index */
	uint64_t budget; /* max bytes registered at once (max_shmem) */
	uint64_t total;
	unsigned int count;
};

/* Map fd and register it; returns the kernel's index or -errno. */
int shmem_register(struct shmem_table *t, struct ublk_ctrl *ctrl,
		   const struct ublk_dev_ref *ref, int fd,
		   const struct shmem_fd_info *info, uint64_t owner,
		   struct uerr *err);
/* Unregister one buffer of owner (or any owner if owner is 0). */
int shmem_unregister(struct shmem_table *t, struct ublk_ctrl *ctrl,
		     const struct ublk_dev_ref *ref, int index, uint64_t owner,
		     struct uerr *err);
/* Everything owner registered, e.g. when its connection closes. */
void shmem_unregister_owner(struct shmem_table *t, struct ublk_ctrl *ctrl,
			    const struct ublk_dev_ref *ref, uint64_t owner);

/*
 * For a queue thread: the server's address of len bytes at a descriptor's
 * zero-copy addr, or NULL when that is not inside a registered buffer (or
 * the buffer is read-only and the I/O would write into it).
 */
static inline void *shmem_data(const struct shmem_table *t, uint64_t zc_addr,
			       uint64_t len, bool writes_buffer)
{
	uint64_t idx = (zc_addr >> 32) & 0xffff, off = zc_addr & 0xffffffff;
	const struct shmem_buf *b;
	uint64_t blen;

	if (!t || idx >= SHMEM_MAX_BUFS || (zc_addr >> 48))
		return NULL;
	b = &t->bufs[idx];
	blen = __atomic_load_n(&b->len, __ATOMIC_ACQUIRE);
	if (!blen || off > blen || len > blen - off)
		return NULL;
	if (writes_buffer && b->read_only)
		return NULL;
	return (char *)b->base + off;
}

#endif
