// SPDX-License-Identifier: MIT
/*
 * Batched ublk commands (src/server/batch.c): the tags of a fetch CQE go
 * to the target and the buffer back to the ring; the results of a turn
 * leave in one COMMIT_IO_CMDS before the submit, in a commit buffer the
 * kernel no longer reads; a fetch the kernel ends is armed again unless
 * the device is stopping.  The queue runs on a plain io_uring with the
 * fetch ring registered, and CQEs are made up, so no ublk device is
 * needed (22-batch.t runs it on the kernel).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/batch.h"
#include "server/queue.h"
#include "server/target.h"
#include "queue_sq.h"
#include "tap.h"

#define DEPTH 8

static struct ublk_queue q;
static struct target tgt;
static struct ublksrv_io_desc iods[DEPTH];
static char bufs[DEPTH][4096];
/* The null target's shape: a read is done at once */
static int done_queue_io(struct ublk_queue *qq, unsigned int tag,
			 const struct ublksrv_io_desc *iod)
{
	(void)qq;
	(void)tag;
	return iod->nr_sectors << 9;
}

static const struct target_ops done_ops = {
	.name = "done",
	.queue_io = done_queue_io,
};

static void setup(void)
{
	struct uerr err;
	unsigned int tag;

	memset(&q, 0, sizeof(q));
	tgt.ops = &done_ops;
	q.depth = DEPTH;
	q.tgt = &tgt;
	q.iods = iods;
	q.stats = &q.own_stats;
	q.ios = calloc(DEPTH, sizeof(*q.ios));
	q.batch = calloc(1, sizeof(*q.batch));
	if (!q.ios || !q.batch)
		bail_out("calloc");
	for (tag = 0; tag < DEPTH; tag++) {
		q.ios[tag].buf = bufs[tag];
		iods[tag].op_flags = UBLK_IO_OP_READ;
		iods[tag].nr_sectors = 8;
	}
	uerr_clear(&err);
	if (batch_init(&q, &err) < 0)
		bail_out("batch_init: %s", err.msg);
	if (io_uring_queue_init(4 * DEPTH, &q.ring, 0) < 0)
		bail_out("io_uring_queue_init");
	q.ring_ready = true;
	if (batch_register(&q, &err) < 0)
		bail_out("batch_register: %s", err.msg);
	mark_sq(&q);
}

static void teardown(void)
{
	io_uring_queue_exit(&q.ring);
	batch_free(&q);
	free(q.batch);
	free(q.ios);
	memset(&q, 0, sizeof(q));
}

static uint16_t br_tail(void)
{
	return __atomic_load_n(&q.batch->br->tail, __ATOMIC_ACQUIRE);
}

/* The kernel fills fetch buffer bid with tags and posts its CQE. */
static void fetch_cqe(unsigned int bid, const uint16_t *tags, unsigned int n,
		      int res, unsigned int more)
{
	struct io_uring_cqe cqe = { 0 };
	uint16_t *buf = (uint16_t *)((char *)q.batch->fetch_bufs +
				     (size_t)bid * q.batch->fetch_len);

	if (n)
		memcpy(buf, tags, n * sizeof(*tags));
	cqe.user_data = queue_ud(0, QUEUE_UD_FETCH, 0);
	cqe.res = res;
	cqe.flags = more |
		    (n || res >= 0 ? IORING_CQE_F_BUFFER |
					     bid << IORING_CQE_BUFFER_SHIFT :
				     0);
	queue_handle_cqe(&q, &cqe);
}

static void commit_cqe(const struct io_uring_sqe *sqe, int res)
{
	struct io_uring_cqe cqe = { 0 };

	cqe.user_data = sqe->user_data;
	cqe.res = res;
	queue_handle_cqe(&q, &cqe);
}

/* sqe is a COMMIT_IO_CMDS of tags[n], each with 4096 */
static void is_commit(const struct io_uring_sqe *sqe, const uint16_t *tags,
		      unsigned int n, const char *what)
{
	const struct ublk_batch_io *cmd = (const void *)sqe->cmd;
	const struct batch_elem *e = (const void *)(uintptr_t)sqe->addr;
	unsigned int i, bad = 0;

	is_u64(sqe->cmd_op, UBLK_U_IO_COMMIT_IO_CMDS, "%s: COMMIT_IO_CMDS",
	       what);
	is_int(sqe->flags, IOSQE_FIXED_FILE, "  on the char device's slot");
	is_int(cmd->nr_elem, n, "  of %u requests", n);
	is_int(cmd->elem_bytes, 16, "  16 bytes each");
	is_int(cmd->flags, UBLK_BATCH_F_HAS_BUF_ADDR,
	       "  with their buffers' addresses");
	is_int(sqe->len, n * 16, "  len: the elements' bytes");
	for (i = 0; i < n; i++)
		bad += e[i].hdr.tag != tags[i] || e[i].hdr.result != 4096 ||
		       e[i].buf_addr != (uintptr_t)bufs[tags[i]];
	is_int(bad, 0, "  each: its tag, result and buffer");
}

static void test_fetch_commit(void)
{
	static const uint16_t tags[] = { 1, 3, 6 };
	struct io_uring_sqe *sqe;
	uint16_t tail;

	note("a fetch CQE's tags, then one commit for all of them");
	setup();
	tail = br_tail();
	q.cmd_inflight = 1; /* the fetch */
	fetch_cqe(5, tags, 3, 6, IORING_CQE_F_MORE);
	is_int(q.own_stats.ios, 3, "three requests went to the target");
	is_int(br_tail() - tail, 1, "the buffer went back to the ring");
	is_int(q.batch->br->bufs[tail & (q.batch->nr_fetch - 1)].bid, 5,
	       "  buffer 5");
	is_int(q.cmd_inflight, 1, "the fetch goes on (IORING_CQE_F_MORE)");
	is_int(sq_new(&q), 0, "no SQE before the submit");
	ok(batch_pending(q.batch), "their results wait");

	queue_sqes_ready(&q); /* the queue's last step before it submits */
	if (!is_int(sq_new(&q), 1, "then one SQE"))
		return teardown();
	sqe = sq_at(&q, sq_mark);
	is_commit(sqe, tags, 3, "the commit");
	is_int(q.cmd_inflight, 2, "  the kernel's until its CQE");
	ok(!batch_pending(q.batch), "  nothing waits");
	is_int(batch_wait_extra(&q), 1,
	       "  the submit waits for its CQE and one more (the fetch's)");
	is_int(batch_wait_extra(&q), 0, "  once");

	commit_cqe(sqe, 3 * 16);
	is_int(q.cmd_inflight, 1, "its CQE: the fetch is left");
	is_int(q.batch->commit_busy, 0, "  and the commit buffer is free");
	teardown();
}

static void test_commit_buffers_busy(void)
{
	struct io_uring_sqe *sqes[BATCH_COMMIT_BUFS];
	uint16_t tag;
	unsigned int i;

	note("every commit buffer still with the kernel: the results wait");
	setup();
	q.cmd_inflight = 1;
	for (i = 0; i < BATCH_COMMIT_BUFS; i++) {
		tag = i;
		mark_sq(&q);
		fetch_cqe(i, &tag, 1, 2, IORING_CQE_F_MORE);
		queue_sqes_ready(&q);
		sqes[i] = sq_new(&q) == 1 ? sq_at(&q, sq_mark) : NULL;
		(void)batch_wait_extra(&q); /* the submit */
	}
	ok(sqes[BATCH_COMMIT_BUFS - 1] != NULL, "%d commits in flight",
	   BATCH_COMMIT_BUFS);
	tag = 7;
	mark_sq(&q);
	fetch_cqe(0, &tag, 1, 2, IORING_CQE_F_MORE);
	queue_sqes_ready(&q);
	is_int(sq_new(&q), 0, "a fifth result: no SQE while no buffer is free");
	ok(batch_pending(q.batch), "  it waits (and keeps the queue going)");
	if (!sqes[2])
		return teardown();
	commit_cqe(sqes[2], 16);
	queue_sqes_ready(&q);
	if (is_int(sq_new(&q), 1, "a commit's CQE frees its buffer: it goes"))
		is_commit(sq_at(&q, sq_mark), &tag, 1, "the waiting result");
	is_u64(sq_at(&q, sq_mark)->addr, sqes[2]->addr,
	       "  in the buffer just freed");
	fetch_cqe(0, NULL, 0, UBLK_IO_RES_ABORT, 0); /* the device stops */
	is_int(batch_wait_extra(&q), 1,
	       "  with 3 older commits in flight: wait for its CQE and one");
	q.cmd_inflight = 1;
	q.batch->commits_new = 1;
	is_int(batch_wait_extra(&q), 0,
	       "  with only it in flight: for its CQE alone");
	teardown();
}

static void test_fetch_ends(void)
{
	static const uint16_t bad = DEPTH + 5;
	const struct io_uring_sqe *sqe;
	const struct ublk_batch_io *cmd;

	note("a fetch the kernel ends");
	setup();
	q.cmd_inflight = 1;
	fetch_cqe(0, NULL, 0, -ENOBUFS, 0);
	if (!is_int(sq_new(&q), 1, "ENOBUFS (the ring ran dry): fetch again"))
		return teardown();
	sqe = sq_at(&q, sq_mark);
	cmd = (const void *)sqe->cmd;
	is_u64(sqe->cmd_op, UBLK_U_IO_FETCH_IO_CMDS, "  FETCH_IO_CMDS");
	is_int(sqe->flags, IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT,
	       "  picking a provided buffer");
	is_int(sqe->buf_group, BATCH_FETCH_BGID, "  from the fetch ring");
	is_int(sqe->uring_cmd_flags, 1U << 1, "  multishot");
	is_int(cmd->elem_bytes, 2, "  tags of 2 bytes");
	is_int(q.cmd_inflight, 1, "  one fetch in flight");
	ok(!q.aborting, "  not stopping");

	mark_sq(&q);
	fetch_cqe(1, &bad, 1, 2, IORING_CQE_F_MORE);
	is_int(q.own_stats.ios, 0, "a tag beyond the depth goes nowhere");

	mark_sq(&q);
	fetch_cqe(0, NULL, 0, UBLK_IO_RES_ABORT, 0);
	is_int(sq_new(&q), 0, "ABORT (the device stops): no new fetch");
	ok(q.aborting, "  the queue is stopping");
	is_int(q.cmd_inflight, 0, "  nothing in flight");
	teardown();
}

static void test_paused(void)
{
	static const uint16_t tags[] = { 2, 4 };
	struct io_uring_cqe ctl = { 0 };

	note("requests fetched while paused wait for the resume");
	setup();
	q.cmd_inflight = 1;
	ctl.user_data = queue_ud(0, QUEUE_UD_CTL, 7 << 1 | QUEUE_CTL_PAUSE);
	queue_handle_cqe(&q, &ctl);
	fetch_cqe(0, tags, 2, 4, IORING_CQE_F_MORE);
	is_int(q.nr_held, 2, "both held");
	is_int(q.own_stats.ios, 0, "  none given to the target");
	queue_sqes_ready(&q);
	is_int(sq_new(&q), 0, "  nothing to commit");
	ctl.user_data = queue_ud(0, QUEUE_UD_CTL, 0);
	queue_handle_cqe(&q, &ctl);
	queue_sqes_ready(&q);
	if (is_int(sq_new(&q), 1, "resumed: one commit"))
		is_commit(sq_at(&q, sq_mark), tags, 2, "their commit");
	teardown();
}

int main(void)
{
	test_fetch_commit();
	test_commit_buffers_busy();
	test_fetch_ends();
	test_paused();
	return done_testing();
}
