/* SPDX-License-Identifier: MIT */
/*
 * A target serves the I/O of one device: null, loop, mem.  Each lives in
 * src/server/targets/<name>.c behind this ops table.  open() runs in the CLI
 * before the device exists, so a bad backing file is reported with
 * nothing to clean up; the rest runs in the server's queue threads.
 */
#ifndef UBLK_USER_TARGET_H
#define UBLK_USER_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

#include "base/err.h"
#include "server/targets/names.h"
#include "uapi/ublk_abi.h"

struct ublk_queue;

struct target_opts {
	const char *backing; /* loop: file or block device */
	uint64_t size;	     /* bytes; 0 = from the backing or the default */
};

struct target {
	const struct target_ops *ops;
	uint64_t size; /* bytes, a multiple of the logical block size */
	unsigned int lbs_shift; /* logical block size */
	unsigned int pbs_shift; /* physical block size */
	uint32_t attrs;		/* UBLK_ATTR_* */
	bool discard;		/* DISCARD and WRITE_ZEROES are served */
	int fd;			/* backing (loop), memfd (mem), or -1 */
	void *map;		/* mem: the whole disk */
	bool direct;		/* loop: backing opened with O_DIRECT */
	bool is_blockdev;	/* loop: backing is a block device */
	bool shmem_zc;		/* the device serves zero-copy I/O too */
	char backing[PATH_MAX]; /* absolute path, "" when none */
};

/* queue_io()/io_done() return this when SQEs are still in flight */
#define TARGET_IO_QUEUED (-1000000)

struct target_ops {
	const char *name;
	int (*open)(struct target *t, const struct target_opts *o,
		    struct uerr *err);
	void (*close)(struct target *t);
	/* >= 0: complete now with that result; -errno: fail; or QUEUED */
	int (*queue_io)(struct ublk_queue *q, unsigned int tag,
			const struct ublksrv_io_desc *iod);
	/* A CQE for an SQE this target queued for tag. Same returns. */
	int (*io_done)(struct ublk_queue *q, unsigned int tag,
		       const struct io_uring_cqe *cqe);
	/*
	 * The SQE opcodes this target puts on a queue ring, besides
	 * URING_CMD: the ring is restricted to them.  Fills ops, returns
	 * how many (at most TARGET_MAX_RING_OPS).
	 */
	unsigned int (*ring_ops)(const struct target *t, bool fixed_bufs,
				 uint8_t *ops);
	/* Register the I/O buffers with the ring and use *_FIXED ops */
	bool fixed_buffers;
};

#define TARGET_MAX_RING_OPS 8

#define TARGET_OPS_DECL(t) extern const struct target_ops target_##t##_ops;
UBLK_USER_TARGETS(TARGET_OPS_DECL)
#undef TARGET_OPS_DECL
#ifdef UBLK_USER_TEST_HOOKS
extern const struct target_ops target_fault_ops;
#endif

const struct target_ops *target_find(const char *name);
/* "null, loop, mem" for messages */
const char *target_names(void);

int target_open(struct target *t, const char *name, const struct target_opts *o,
		struct uerr *err);
void target_close(struct target *t);

#endif
