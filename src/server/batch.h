/* SPDX-License-Identifier: MIT */
/*
 * A queue's ublk commands with UBLK_F_BATCH_IO (Linux >= 7.0): one
 * PREP_IO_CMDS gives the kernel every tag at start, one multishot
 * FETCH_IO_CMDS delivers the tags of new requests in buffers of a
 * provided-buffer ring, and the results a loop turn collects go back in
 * one COMMIT_IO_CMDS before the next submit.  Without the flag a queue
 * sends one FETCH_REQ per tag and one COMMIT_AND_FETCH_REQ per request
 * (queue.c).
 *
 * All of it runs in the queue's thread, but for batch_init() (the main
 * thread, with queue_init()) and batch_register() (queue_setup_ring(),
 * before the ring is restricted).
 */
#ifndef UBLK_USER_BATCH_H
#define UBLK_USER_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <liburing.h>

#include "base/err.h"
#include "uapi/ublk_abi.h"

struct ublk_queue;

/* Commit buffers a queue cycles through (a bit each in commit_busy). */
#define BATCH_COMMIT_BUFS 4

/* What PREP and COMMIT carry per tag: UBLK_BATCH_F_HAS_BUF_ADDR */
struct batch_elem {
	struct ublk_elem_header hdr;
	uint64_t buf_addr;
};

struct queue_batch {
	/* fetch: a provided-buffer ring of nr_fetch buffers of fetch_len */
	struct io_uring_buf_ring *br;
	size_t br_len;
	uint16_t *fetch_bufs;
	size_t fetch_bufs_len;
	unsigned int nr_fetch;
	unsigned int fetch_len;
	/* commit: results wait in pending until a commit buffer is free */
	struct batch_elem *pending;
	unsigned int nr_pending;
	struct batch_elem *commit_bufs; /* BATCH_COMMIT_BUFS x depth */
	size_t commit_bufs_len;
	unsigned int commit_busy;
	unsigned int commits_new; /* COMMITs since the last submit */
	bool prep_done;		  /* PREP's CQE came, with prep_res */
	int prep_res;
};

/* Provided-buffer group of the fetch ring */
#define BATCH_FETCH_BGID 0

int batch_init(struct ublk_queue *q, struct uerr *err);
int batch_register(struct ublk_queue *q, struct uerr *err);
/* In the thread, the ring enabled: PREP (waited for), then FETCH. */
int batch_start(struct ublk_queue *q, char *msg, size_t msg_len);
/* tag's result, sent with the next batch_flush() */
void batch_commit(struct ublk_queue *q, unsigned int tag, int result);
/* Before a submit: the results collected so far, in one COMMIT. */
void batch_flush(struct ublk_queue *q);
/*
 * How many more CQEs the next submit should wait for than the one event
 * it waits for: a COMMIT completes as it is submitted, and waking for its
 * CQE alone would cost an io_uring_enter per request.
 */
unsigned int batch_wait_extra(struct ublk_queue *q);
/* A CQE of kind QUEUE_UD_FETCH, QUEUE_UD_COMMIT or QUEUE_UD_PREP */
void batch_handle_cqe(struct ublk_queue *q, const struct io_uring_cqe *cqe);
void batch_free(struct ublk_queue *q);

static inline bool batch_pending(const struct queue_batch *b)
{
	return b && b->nr_pending;
}

#endif
