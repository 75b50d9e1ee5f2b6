/* SPDX-License-Identifier: MIT */
/*
 * A target serves the I/O of one device.  Each lives in one file,
 * src/server/targets/<name>.c, with one row in targets/names.h, and keeps
 * its state behind t->priv (per device) and q->tgt_priv (per queue).
 *
 * Where each hook runs:
 *  open()        in the CLI, as the user, before the device exists: checks
 *                the options, opens what it serves from, sets the size and
 *                block sizes.  A bad backing file is reported with nothing
 *                to clean up.  The server is forked from there: t->priv is
 *                its copy.
 *  queue_setup() in the server's main thread, once per queue, when it no
 *                longer holds any capability and before the process is
 *                confined (it may still open files or sockets): the files
 *                the queue ring registers.
 *  ring_ops()    right after: the SQE opcodes the ring is restricted to.
 *  queue_io(), io_done()  in the queue's thread, confined: no syscall of
 *                their own per I/O, everything goes on the ring.
 *  resize()      in the server's main thread, confined, when its owner asks
 *                (`ublk-user resize`): no file to open, only the fds it has.
 *  close()       in the CLI once the server runs, and in the server at exit.
 *
 * The queue does the bookkeeping (server/queue.h): queue_tgt_sqe() gives
 * a target an SQE for a tag, counted, and sets IOSQE_FIXED_FILE and
 * user_data after the target's prep; a tag is committed when the target
 * has given its result and none of its SQEs is still in flight.
 */
#ifndef UBLK_USER_TARGET_H
#define UBLK_USER_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <liburing.h>

#include "base/err.h"
#include "server/targets/names.h"
#include "uapi/ublk_abi.h"

struct ublk_queue;

struct target_opts {
	const char *backing;	/* -f: the file (loop) */
	uint64_t size;		/* bytes; 0 = from the backing or the default */
	const char *uri;	/* --uri: the NBD server (nbd) */
	unsigned int timeout_s; /* --nbd-timeout; 0: the default (nbd) */
	unsigned int nr_queues; /* -q, for targets that open per queue */
	unsigned int max_io;	/* bytes: the largest request (buffer size) */
	/* bytes into the backing where the disk starts (ops->offsets) */
	uint64_t offset;
	/*
	 * Nothing is written: open the backing read-only.  target_open()
	 * sets UBLK_ATTR_READ_ONLY and turns discard off; the queue refuses
	 * writes and keeps write opcodes off the ring.
	 */
	bool read_only;
};

/* What the server and the CLI need of every target; the rest is priv. */
struct target {
	const struct target_ops *ops;
	void *priv;    /* ops->priv_size zeroed bytes, the target's own */
	uint64_t size; /* bytes, a multiple of the logical block size */
	unsigned int lbs_shift; /* logical block size */
	unsigned int pbs_shift; /* physical block size */
	uint32_t attrs;		/* UBLK_ATTR_* */
	bool discard;		/* DISCARD and WRITE_ZEROES are served */
};

/* queue_io()/io_done() return this while the I/O is not finished */
#define TARGET_IO_QUEUED (-1000000)

/* Files a target may register on a queue ring (slots QUEUE_FILE_TARGET+) */
#define TARGET_MAX_FILES 4
#define TARGET_MAX_RING_OPS 8

struct target_ops {
	const char *name;
	/* One line for `add --help`: what it serves, which options it takes */
	const char *help;
	size_t priv_size; /* t->priv, allocated before open(), freed after close() */
	int (*open)(struct target *t, const struct target_opts *o,
		    struct uerr *err);
	/* Also after a failed open(): what open() did not get to is zero. */
	void (*close)(struct target *t);
	/*
	 * Fill files[] with the fds the queue ring registers as slots
	 * QUEUE_FILE_TARGET + i and return how many (at most
	 * TARGET_MAX_FILES), or -errno with err set.  q->tgt_priv may take
	 * per-queue state (a network target's socket of this queue).
	 * NULL: no files.
	 */
	int (*queue_setup)(struct ublk_queue *q, int *files, struct uerr *err);
	/*
	 * The SQE opcodes this target puts on a queue ring, besides
	 * URING_CMD: the ring is restricted to them.  Fills ops, returns
	 * how many (at most TARGET_MAX_RING_OPS).  q->fixed_bufs and
	 * q->shmem are set.
	 */
	unsigned int (*ring_ops)(const struct ublk_queue *q, uint8_t *ops);
	/*
	 * A request arrived for tag: its result (>= 0 bytes, or -errno) now,
	 * or TARGET_IO_QUEUED when it queued SQEs with queue_tgt_sqe() (or
	 * will finish it later with queue_complete_io()).
	 */
	int (*queue_io)(struct ublk_queue *q, unsigned int tag,
			const struct ublksrv_io_desc *iod);
	/*
	 * A CQE for an SQE this target queued for tag (or QUEUE_NO_TAG;
	 * queue_ud_tgt_data(cqe->user_data) is what it passed).  Returns
	 * like queue_io(); the result of a QUEUE_NO_TAG CQE is ignored.
	 */
	int (*io_done)(struct ublk_queue *q, unsigned int tag,
		       const struct io_uring_cqe *cqe);
	/*
	 * The queue has ended (no request left, the ring still there): a
	 * last word to the backend, such as a network target's goodbye.
	 * In the queue thread; it may submit on q->ring and wait there
	 * briefly itself.  NULL: nothing.
	 */
	void (*queue_exit)(struct ublk_queue *q);
	/*
	 * The local file or block device the device is served from, an
	 * absolute path: the policy checks it against backing_dirs, list
	 * shows it.  NULL: none.
	 */
	const char *(*backing)(const struct target *t);
	/*
	 * Make the disk size bytes (a multiple of the logical block size):
	 * called before the kernel's UPDATE_SIZE when it grows, where it may
	 * refuse (-errno, err set: past the end of a file), and after it
	 * when it shrinks (memory may be given back; a failure is logged).
	 * The server stores t->size, which the queues read per I/O, between
	 * the two.  NULL: the target cannot be resized.
	 */
	int (*resize)(struct target *t, uint64_t size, struct uerr *err);
	/* Register the I/O buffers with the ring and use *_FIXED ops */
	bool fixed_buffers;
	/* Serves a part of its backing: takes target_opts.offset */
	bool offsets;
	/*
	 * What it must be given, checked by target_opts_check(): before
	 * open(), and on `add`'s command line (a usage error there).
	 */
	enum target_source {
		TARGET_SOURCE_NONE,
		TARGET_SOURCE_FILE, /* -f */
		TARGET_SOURCE_URI,  /* --uri */
	} source;
	bool needs_size; /* --size */
};

#define TARGET_OPS_DECL(t) extern const struct target_ops target_##t##_ops;
UBLK_USER_TARGETS(TARGET_OPS_DECL)
#undef TARGET_OPS_DECL
#ifdef UBLK_USER_TEST_HOOKS
extern const struct target_ops target_fault_ops;
#endif

const struct target_ops *target_find(const char *name);
/* "null, loop, mem" for messages */
const char *target_names(void);
/* "Targets:" and one line per target, for `add --help` */
void target_print_help(FILE *f);

/*
 * The options ops takes and needs (.source, .needs_size, .offsets): 0, or
 * -EINVAL with err naming the option.  target_open() checks them first,
 * so that open() gets only what its target serves from.
 */
int target_opts_check(const struct target_ops *ops, const struct target_opts *o,
		      struct uerr *err);
int target_open(struct target *t, const char *name, const struct target_opts *o,
		struct uerr *err);
void target_close(struct target *t);
/* t->size as a queue thread reads it while the server may resize */
static inline uint64_t target_size(const struct target *t)
{
	return __atomic_load_n(&t->size, __ATOMIC_RELAXED);
}
/* ops->backing(), or NULL */
const char *target_backing(const struct target *t);
/*
 * The null target's answer to a request (targets/null.c): also the bench's
 * floor server's (tests/tools/ublk-floor.c), which must answer the same.
 */
int null_answer(const struct ublksrv_io_desc *iod);

#endif
