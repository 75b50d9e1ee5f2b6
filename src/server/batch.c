// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "server/batch.h"
#include "server/queue.h"

/* The kernel puts at most this many tags in one fetch CQE. */
#define BATCH_TAGS_PER_CQE 128

static unsigned int pow2_at_least(unsigned int n)
{
	unsigned int p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Each fetch CQE takes a whole buffer, and none comes back to the ring
 * before we have read its tags: with a buffer per tag the ring cannot run
 * dry (a request's tag is fetched once per commit).  If it still does,
 * the kernel ends the fetch with ENOBUFS and we fetch again.
 */
int batch_init(struct ublk_queue *q, struct uerr *err)
{
	struct queue_batch *b = q->batch;
	unsigned int per_cqe =
		q->depth < BATCH_TAGS_PER_CQE ? q->depth : BATCH_TAGS_PER_CQE;

	b->nr_fetch = pow2_at_least(q->depth);
	b->fetch_len = per_cqe * sizeof(uint16_t);
	b->br_len = (size_t)b->nr_fetch * sizeof(struct io_uring_buf);
	b->br = map_anon(b->br_len); /* page aligned, as the kernel wants */
	b->fetch_bufs_len = (size_t)b->nr_fetch * b->fetch_len;
	b->fetch_bufs = map_anon(b->fetch_bufs_len);
	b->commit_bufs_len = (size_t)(BATCH_COMMIT_BUFS + 1) * q->depth *
			     sizeof(*b->pending);
	b->commit_bufs = map_anon(b->commit_bufs_len);
	if (!b->br || !b->fetch_bufs || !b->commit_bufs)
		return uerr_sys(err, ENOMEM, "batch command buffers");
	b->pending = b->commit_bufs + (size_t)BATCH_COMMIT_BUFS * q->depth;
	return 0;
}

static uint16_t *fetch_buf(const struct queue_batch *b, unsigned int bid)
{
	return (uint16_t *)((char *)b->fetch_bufs + (size_t)bid * b->fetch_len);
}

/* Buffer bid goes back to the ring (the ring's tail is ours alone). */
static void fetch_buf_return(struct queue_batch *b, unsigned int bid)
{
	io_uring_buf_ring_add(b->br, fetch_buf(b, bid), b->fetch_len, bid,
			      io_uring_buf_ring_mask(b->nr_fetch), 0);
	io_uring_buf_ring_advance(b->br, 1);
}

int batch_register(struct ublk_queue *q, struct uerr *err)
{
	struct queue_batch *b = q->batch;
	struct io_uring_buf_reg reg;
	unsigned int bid;
	int ret;

	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)b->br;
	reg.ring_entries = b->nr_fetch;
	reg.bgid = BATCH_FETCH_BGID;
	ret = io_uring_register_buf_ring(&q->ring, &reg, 0);
	if (ret < 0)
		return uerr_sys(err, -ret,
				"queue %u: registering the fetch buffer ring",
				q->q_id);
	io_uring_buf_ring_init(b->br);
	for (bid = 0; bid < b->nr_fetch; bid++)
		fetch_buf_return(b, bid);
	return 0;
}

static void batch_prep_sqe(struct ublk_queue *q, struct io_uring_sqe *sqe,
			   uint32_t cmd_op, unsigned int kind, uint32_t data)
{
	struct ublk_batch_io *cmd = (struct ublk_batch_io *)sqe->cmd;

	queue_prep_uring_cmd(sqe, cmd_op, queue_ud(0, kind, data));
	cmd->q_id = q->q_id;
	q->cmd_inflight++;
}

/* A PREP or COMMIT of n elements at elems */
static void batch_elems_sqe(struct ublk_queue *q, struct io_uring_sqe *sqe,
			    uint32_t cmd_op, unsigned int kind, uint32_t data,
			    const struct batch_elem *elems, unsigned int n)
{
	struct ublk_batch_io *cmd = (struct ublk_batch_io *)sqe->cmd;

	batch_prep_sqe(q, sqe, cmd_op, kind, data);
	sqe->addr = (uint64_t)(uintptr_t)elems;
	sqe->len = n * sizeof(*elems);
	cmd->flags = UBLK_BATCH_F_HAS_BUF_ADDR;
	cmd->nr_elem = n;
	cmd->elem_bytes = sizeof(*elems);
}

/* IORING_URING_CMD_MULTISHOT of Linux >= 6.18, not in liburing 2.3 */
#define BATCH_URING_CMD_MULTISHOT (1U << 1)

static void batch_arm_fetch(struct ublk_queue *q)
{
	struct queue_batch *b = q->batch;
	struct io_uring_sqe *sqe = queue_get_sqe(q);
	struct ublk_batch_io *cmd;

	if (!sqe) {
		fprintf(stderr, "queue %u: no SQE to fetch requests\n",
			q->q_id);
		return;
	}
	batch_prep_sqe(q, sqe, UBLK_U_IO_FETCH_IO_CMDS, QUEUE_UD_FETCH, 0);
	cmd = (struct ublk_batch_io *)sqe->cmd;
	cmd->elem_bytes = sizeof(uint16_t);
	cmd->nr_elem = b->fetch_len / sizeof(uint16_t);
	sqe->uring_cmd_flags = BATCH_URING_CMD_MULTISHOT;
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BATCH_FETCH_BGID;
}

/* Submit and wait for PREP's CQE; others (a pause) go their way. */
static int batch_wait_prep(struct ublk_queue *q)
{
	int ret;

	q->batch->prep_done = false;
	while (!q->batch->prep_done) {
		ret = io_uring_submit_and_wait(&q->ring, 1);
		if (ret < 0 && ret != -EINTR)
			return ret;
		queue_reap(q);
	}
	return 0;
}

int batch_start(struct ublk_queue *q, char *msg, size_t msg_len)
{
	struct queue_batch *b = q->batch;
	unsigned int tag;
	int ret;

	/* Every tag, in commit buffer 0; done before the ring goes on. */
	for (tag = 0; tag < q->depth; tag++) {
		b->commit_bufs[tag].hdr.tag = tag;
		b->commit_bufs[tag].buf_addr =
			(uint64_t)(uintptr_t)q->ios[tag].buf;
	}
	batch_elems_sqe(q, queue_get_sqe(q), UBLK_U_IO_PREP_IO_CMDS,
			QUEUE_UD_PREP, 0, b->commit_bufs, q->depth);
	ret = batch_wait_prep(q);
	if (ret < 0) {
		snprintf(msg, msg_len, "queue %u: submitting PREP_IO_CMDS: %s",
			 q->q_id, strerror(-ret));
		return ret;
	}
	if (b->prep_res < 0) {
		snprintf(msg, msg_len, "queue %u: PREP_IO_CMDS: %s", q->q_id,
			 strerror(-b->prep_res));
		return b->prep_res;
	}
	batch_arm_fetch(q);
	ret = io_uring_submit(&q->ring);
	if (ret < 0) {
		snprintf(msg, msg_len, "queue %u: submitting FETCH_IO_CMDS: %s",
			 q->q_id, strerror(-ret));
		return ret;
	}
	return 0;
}

void batch_commit(struct ublk_queue *q, unsigned int tag, int result)
{
	struct queue_batch *b = q->batch;
	struct batch_elem *e = &b->pending[b->nr_pending++];

	/* A tag is committed once before it can be fetched again. */
	e->hdr.tag = tag;
	e->hdr.buf_index = 0;
	e->hdr.result = result;
	e->buf_addr = (uint64_t)(uintptr_t)q->ios[tag].buf;
}

void batch_flush(struct ublk_queue *q)
{
	struct queue_batch *b = q->batch;
	struct io_uring_sqe *sqe;
	struct batch_elem *buf;
	unsigned int i;

	if (!b->nr_pending)
		return;
	/* The kernel reads a buffer when the SQE is issued; we wait for
	 * the CQE before it is filled again.  None free: the next turn. */
	for (i = 0; i < BATCH_COMMIT_BUFS; i++)
		if (!(b->commit_busy & 1U << i))
			break;
	if (i == BATCH_COMMIT_BUFS)
		return;
	sqe = queue_get_sqe(q);
	if (!sqe)
		return;
	buf = b->commit_bufs + (size_t)i * q->depth;
	memcpy(buf, b->pending, b->nr_pending * sizeof(*buf));
	batch_elems_sqe(q, sqe, UBLK_U_IO_COMMIT_IO_CMDS, QUEUE_UD_COMMIT,
			i | b->nr_pending << 8, buf, b->nr_pending);
	b->commit_busy |= 1U << i;
	b->commits_new++;
	b->nr_pending = 0;
}

unsigned int batch_wait_extra(struct ublk_queue *q)
{
	unsigned int n = q->batch->commits_new;

	q->batch->commits_new = 0;
	/* Wait for one more only if something else can still complete. */
	return q->cmd_inflight > n || q->tgt_inflight ? n : 0;
}

static __attribute__((noinline, cold)) void
batch_commit_short(const struct ublk_queue *q, int res, unsigned int n)
{
	if (res < 0)
		fprintf(stderr, "queue %u: committing %u requests: %s\n",
			q->q_id, n, strerror(-res));
	else
		fprintf(stderr,
			"queue %u: the kernel took %zu of %u committed "
			"requests\n",
			q->q_id, res / sizeof(struct batch_elem), n);
}

static void batch_committed(struct ublk_queue *q,
			    const struct io_uring_cqe *cqe)
{
	uint32_t data = queue_ud_tgt_data(cqe->user_data);
	unsigned int n = data >> 8;

	q->batch->commit_busy &= ~(1U << (data & 0xff));
	if (cqe->res != (int)(n * sizeof(struct batch_elem)))
		batch_commit_short(q, cqe->res, n);
}

static __attribute__((noinline, cold)) void
batch_fetch_ended(struct ublk_queue *q, int res)
{
	/* ENOBUFS: the ring ran dry; the tags wait in the kernel. */
	if ((res >= 0 || res == -ENOBUFS) && !q->aborting) {
		batch_arm_fetch(q);
		return;
	}
	if (res != UBLK_IO_RES_ABORT)
		fprintf(stderr, "queue %u: fetching requests: %s\n", q->q_id,
			strerror(-res));
	/* The device is stopping: no request comes any more. */
	q->aborting = true;
}

static void batch_fetched(struct ublk_queue *q, const struct io_uring_cqe *cqe)
{
	struct queue_batch *b = q->batch;
	unsigned int bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	unsigned int i, n;
	uint16_t *tags;

	if (cqe->flags & IORING_CQE_F_BUFFER && bid < b->nr_fetch) {
		tags = fetch_buf(b, bid);
		n = cqe->res > 0 ? (unsigned int)cqe->res / sizeof(*tags) : 0;
		for (i = 0; i < n; i++) {
			if (tags[i] < q->depth)
				queue_new_request(q, tags[i]);
			else
				fprintf(stderr, "queue %u: fetched tag %u\n",
					q->q_id, tags[i]);
		}
		fetch_buf_return(b, bid);
	}
	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		q->cmd_inflight--;
		batch_fetch_ended(q, cqe->res);
	}
}

void batch_handle_cqe(struct ublk_queue *q, const struct io_uring_cqe *cqe)
{
	switch (queue_ud_kind(cqe->user_data)) {
	case QUEUE_UD_FETCH:
		batch_fetched(q, cqe);
		break;
	case QUEUE_UD_COMMIT:
		q->cmd_inflight--;
		batch_committed(q, cqe);
		break;
	case QUEUE_UD_PREP: /* batch_start() waits for it */
		q->cmd_inflight--;
		q->batch->prep_res = cqe->res;
		q->batch->prep_done = true;
		break;
	}
}

void batch_free(struct ublk_queue *q)
{
	struct queue_batch *b = q->batch;

	if (b->br)
		munmap(b->br, b->br_len);
	if (b->fetch_bufs)
		munmap(b->fetch_bufs, b->fetch_bufs_len);
	if (b->commit_bufs)
		munmap(b->commit_bufs, b->commit_bufs_len);
	memset(b, 0, sizeof(*b));
}
