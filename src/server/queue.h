/* SPDX-License-Identifier: MIT */
/*
 * One queue of a device: one thread, one io_uring, depth tags.  Each tag
 * cycles FETCH_REQ -> I/O -> COMMIT_AND_FETCH_REQ, or with
 * UBLK_F_BATCH_IO a turn's requests come in one multishot CQE and go back
 * in one COMMIT (server/batch.h); targets queue their backing I/O on the
 * same ring, so a round trip costs one io_uring_enter.
 *
 * queue_init() runs in the server's main thread while it may still hold
 * CAP_IPC_LOCK: it maps and (with --mlock) locks the buffers, which the
 * policy counts (mlock, max_locked).  queue_setup_ring() runs once the
 * capability is gone, as the kernel decides when a ring is created
 * whether what is registered on it is charged to RLIMIT_MEMLOCK: it
 * creates the ring disabled, registers files and (if RLIMIT_MEMLOCK
 * allows) buffers and restricts the ring.  The thread then drops its
 * capabilities, waits at the gate until the server has confined the
 * process, confines itself further, enables the ring and fetches.
 */
#ifndef UBLK_USER_QUEUE_H
#define UBLK_USER_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

#include "server/batch.h"
#include "server/shmem.h"
#include "server/stats.h"
#include "server/target.h"
#include "uapi/ublk_abi.h"

/* Fixed-file slots of a queue ring: the char device, then the target's */
#define QUEUE_FILE_CHAR 0
#define QUEUE_FILE_TARGET 1

/* The tag of a target SQE that belongs to no request (queue_tgt_sqe) */
#define QUEUE_NO_TAG 0xffff

struct ublk_io {
	void *buf;     /* our own buffer, the kernel copies to and from it */
	void *data;    /* where this I/O's data is: buf, or shared memory */
	uint32_t done; /* bytes a target has moved so far (short I/O) */
	uint16_t tgt_sqes; /* this tag's target SQEs in flight */
	bool kept;	   /* result is given, waiting for tgt_sqes to be 0 */
	bool held;	   /* arrived while paused: handed on at resume */
	int result;
};

/* Where queue threads wait until the server has confined the process. */
struct queue_gate {
	pthread_barrier_t barrier; /* nr_queues + 1 */
	bool abort; /* set before the second wait if setup failed */
};

struct queue_opts {
	bool mlock;		   /* lock the I/O buffers in memory */
	struct shmem_table *shmem; /* zero-copy buffers, or NULL */
	bool batch;		   /* the device has UBLK_F_BATCH_IO */
	unsigned int poll_us;	   /* --poll-us: spin before sleeping */
};

struct ublk_queue {
	unsigned int q_id;
	unsigned int depth;
	unsigned int buf_size;
	int char_fd;
	struct target *tgt;
	struct ublksrv_io_desc *iods; /* mmapped from /dev/ublkcN */
	size_t iods_len;
	struct ublk_io *ios;
	struct queue_batch *batch; /* UBLK_F_BATCH_IO, else NULL */
	void *bufs;
	size_t bufs_len;
	bool ring_ready;    /* ring created (needs io_uring_queue_exit) */
	bool fixed_bufs;    /* buffers registered: targets use *_FIXED */
	bool rings_charged; /* the kernel charges rings to RLIMIT_MEMLOCK */
	bool mlocked;
	struct io_uring ring;
	unsigned int cmd_inflight; /* ublk commands the kernel holds */
	unsigned int tgt_inflight; /* target SQEs of a tag not yet completed */
	unsigned int tgt_owned;	   /* requests given to the target, not yet
				      committed (a network target's wait for
				      a reply holds no SQE of the tag's) */
	void *tgt_priv;		   /* the target's, per queue */
	int tgt_file; /* the first file the target registered, or -1 */
	/* the last SQE queue_tgt_sqe() gave, finished on the next call */
	struct io_uring_sqe *tgt_sqe;
	uint64_t tgt_sqe_ud;
	unsigned int poll_us; /* spin this long for a CQE before sleeping */
	bool aborting;
	bool read_only; /* the disk is: no write reaches the target */
	/*
	 * A pause (server/pause.h): new requests are held, not handed to
	 * the target; once it has none (tgt_owned == 0), the queue says
	 * so (drained_gen = pause_gen, on_drained()).
	 */
	bool paused;
	unsigned int nr_held;
	uint32_t pause_gen;
	uint32_t drained_gen; /* read by the server's main thread */
	void (*on_drained)(struct ublk_queue *q);
	struct shmem_table *shmem;    /* zero-copy buffers, or NULL */
	struct stats_queue *stats;    /* this queue's counters */
	struct stats_queue own_stats; /* until the server gives a shared one */
	pthread_t thread;
	struct queue_gate *gate;
	int setup_status; /* 0 once FETCH_REQs are submitted, else -errno */
	char setup_msg[256];
	void (*on_event)(struct ublk_queue *q); /* setup done, or exit */
	void *owner;
};

/* user_data: tag in bits 0-15, kind in 16-23, target data in 24-55 */
#define QUEUE_UD_CMD 0
#define QUEUE_UD_TGT 1
/* A message the server posts to the ring (IORING_OP_MSG_RING): pause */
#define QUEUE_UD_CTL 2
/* Its data: bit 0 pause (1) or resume (0), the pause's number above */
#define QUEUE_CTL_PAUSE 1U
/* Batch commands (server/batch.h); their data is batch.c's */
#define QUEUE_UD_FETCH 3
#define QUEUE_UD_COMMIT 4
#define QUEUE_UD_PREP 5

static inline uint64_t queue_ud(unsigned int tag, unsigned int kind,
				uint32_t tgt_data)
{
	return tag | (uint64_t)kind << 16 | (uint64_t)tgt_data << 24;
}

static inline unsigned int queue_ud_tag(uint64_t ud)
{
	return ud & 0xffff;
}

static inline unsigned int queue_ud_kind(uint64_t ud)
{
	return (ud >> 16) & 0xff;
}

static inline uint32_t queue_ud_tgt_data(uint64_t ud)
{
	return ud >> 24;
}

/*
 * The target API's half in the queue.
 *
 * An SQE for the target's I/O on behalf of tag, counted until its CQE
 * comes back to ops->io_done() with tgt_data (32 bits) in its user_data.
 * Fill it with an io_uring_prep_*() on a registered slot
 * (QUEUE_FILE_TARGET + i) and set any flags of your own; the queue adds
 * IOSQE_FIXED_FILE and user_data before the ring is submitted.  Several
 * per request are fine (a send and a receive).  Tag QUEUE_NO_TAG is for
 * SQEs of the queue's own, such as a receive of whichever reply comes
 * next: they hold no request and do not keep a stopping queue alive.
 * NULL if the ring has no room even after a submit.
 */
struct io_uring_sqe *queue_tgt_sqe(struct ublk_queue *q, unsigned int tag,
				   uint32_t tgt_data);

/*
 * Finish tag with res (bytes, or -errno) from outside its own hooks, e.g.
 * when a reply for it arrives on a QUEUE_NO_TAG CQE.  The commit waits
 * until none of tag's SQEs is in flight.  A request's result is given
 * once: returned by a hook, or passed here.
 */
void queue_complete_io(struct ublk_queue *q, unsigned int tag, int res);

/* For batch.c: an SQE even when the ring is full (it is submitted). */
struct io_uring_sqe *queue_get_sqe(struct ublk_queue *q);
/* For batch.c: the kernel gave us tag's request. */
void queue_new_request(struct ublk_queue *q, unsigned int tag);

/* A CQE of this queue's ring (exposed for unit tests). */
void queue_handle_cqe(struct ublk_queue *q, const struct io_uring_cqe *cqe);
/* Every CQE the ring has now, each through queue_handle_cqe(). */
void queue_reap(struct ublk_queue *q);
/* Before a submit: the last SQE a target got is complete (the same). */
void queue_sqes_ready(struct ublk_queue *q);

/* An SQE for a ublk command on the char device's slot, cmd zeroed */
void queue_prep_uring_cmd(struct io_uring_sqe *sqe, uint32_t cmd_op,
			  uint64_t user_data);
/* Fill an SQE with a ublk I/O command (exposed for unit tests). */
void queue_prep_io_cmd(struct io_uring_sqe *sqe, uint32_t cmd_op,
		       unsigned int q_id, unsigned int tag, int32_t result,
		       uint64_t buf_addr);

int queue_init(struct ublk_queue *q, unsigned int q_id, unsigned int depth,
	       unsigned int buf_size, int char_fd, struct target *tgt,
	       const struct queue_opts *opts, struct uerr *err);
/* Without any capability: the ring, its files and buffers, restricted */
int queue_setup_ring(struct ublk_queue *q, struct uerr *err);
int queue_start(struct ublk_queue *q, struct queue_gate *gate,
		struct uerr *err);
void queue_join(struct ublk_queue *q);
void queue_free(struct ublk_queue *q);

#endif
