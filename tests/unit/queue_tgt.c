// SPDX-License-Identifier: MIT
/*
 * The queue's half of the target API (src/server/queue.c): SQEs a target
 * gets from queue_tgt_sqe() leave with IOSQE_FIXED_FILE and our user_data,
 * are counted per tag, and a tag is committed only once the target has
 * its result and none of its SQEs is in flight.  The targets here are
 * shaped like a network target (a send and a receive per request, a
 * receive of the next reply that belongs to no request, a re-send after a
 * reset); the queue runs on a plain io_uring, and CQEs are made up, so no
 * ublk device is needed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/queue.h"
#include "server/target.h"
#include "queue_sq.h"
#include "tap.h"

#define DEPTH 4
#define TAG 2

static struct ublk_queue q;
static struct target tgt;
static struct ublksrv_io_desc iods[DEPTH];
static char bufs[DEPTH][4096];
static int queue_setup_test(const struct target_ops *ops, unsigned int entries)
{
	unsigned int tag;
	int ret;

	if (q.ring_ready)
		io_uring_queue_exit(&q.ring);
	free(q.ios);
	memset(&q, 0, sizeof(q));
	memset(&tgt, 0, sizeof(tgt));
	tgt.ops = ops;
	q.depth = DEPTH;
	q.tgt = &tgt;
	q.iods = iods;
	q.stats = &q.own_stats;
	q.ios = calloc(DEPTH, sizeof(*q.ios));
	if (!q.ios)
		bail_out("calloc");
	for (tag = 0; tag < DEPTH; tag++)
		q.ios[tag].buf = bufs[tag];
	ret = io_uring_queue_init(entries, &q.ring, 0);
	if (ret == 0)
		q.ring_ready = true;
	mark_sq(&q);
	return ret;
}

static void queue_teardown_test(void)
{
	if (q.ring_ready)
		io_uring_queue_exit(&q.ring);
	free(q.ios);
	memset(&q, 0, sizeof(q));
}

/* The kernel hands us a read of 8 sectors for tag */
static void request(unsigned int tag)
{
	struct io_uring_cqe cqe = { 0 };

	iods[tag].op_flags = UBLK_IO_OP_READ;
	iods[tag].nr_sectors = 8;
	iods[tag].start_sector = 64;
	cqe.user_data = queue_ud(tag, QUEUE_UD_CMD, 0);
	cqe.res = UBLK_IO_RES_OK;
	q.cmd_inflight++; /* as FETCH_REQ did */
	queue_handle_cqe(&q, &cqe);
	queue_sqes_ready(&q); /* as the queue does before it submits */
}

static void target_cqe(unsigned int tag, uint32_t data, int res)
{
	struct io_uring_cqe cqe = { 0 };

	cqe.user_data = queue_ud(tag, QUEUE_UD_TGT, data);
	cqe.res = res;
	queue_handle_cqe(&q, &cqe);
	queue_sqes_ready(&q);
}

/* The one new SQE is a COMMIT_AND_FETCH of tag with result res */
static void is_commit(unsigned int tag, int res, const char *what)
{
	const struct io_uring_sqe *sqe = sq_at(&q, q.ring.sq.sqe_tail - 1);
	const struct ublksrv_io_cmd *cmd = (const void *)sqe->cmd;

	if (!is_int(sq_new(&q), 1, "%s: one SQE, the commit", what))
		return;
	is_int(sqe->opcode, IORING_OP_URING_CMD, "%s: a URING_CMD", what);
	is_u64(sqe->cmd_op, UBLK_U_IO_COMMIT_AND_FETCH_REQ,
	       "%s: COMMIT_AND_FETCH_REQ", what);
	is_int(cmd->tag, tag, "%s: of tag %u", what, tag);
	is_int(cmd->result, res, "%s: result %d", what, res);
}

/* --- one SQE per request, a result from its CQE (loop) ------------------ */

static int one_queue_io(struct ublk_queue *qq, unsigned int tag,
			const struct ublksrv_io_desc *iod)
{
	struct io_uring_sqe *sqe = queue_tgt_sqe(qq, tag, 0x1234567);

	if (!sqe)
		return -EBUSY;
	/* io_uring_prep_*() clear sqe->flags: the queue sets them later */
	io_uring_prep_read(sqe, QUEUE_FILE_TARGET, qq->ios[tag].data,
			   iod->nr_sectors << 9, iod->start_sector << 9);
	return TARGET_IO_QUEUED;
}

static int res_io_done(struct ublk_queue *qq, unsigned int tag,
		       const struct io_uring_cqe *cqe)
{
	(void)qq;
	(void)tag;
	return cqe->res;
}

static const struct target_ops one_ops = {
	.name = "one",
	.queue_io = one_queue_io,
	.io_done = res_io_done,
};

static void test_one_sqe(void)
{
	struct io_uring_sqe *sqe;

	note("one SQE per request");
	request(TAG);
	if (!is_int(sq_new(&q), 1, "the target queued one SQE"))
		return;
	sqe = sq_at(&q, sq_mark);
	is_int(sqe->opcode, IORING_OP_READ, "  the target's read");
	is_int(sqe->flags, IOSQE_FIXED_FILE,
	       "  IOSQE_FIXED_FILE, set after the target's prep");
	is_int(sqe->fd, QUEUE_FILE_TARGET, "  on the target's slot");
	is_u64(sqe->user_data, queue_ud(TAG, QUEUE_UD_TGT, 0x1234567),
	       "  user_data: tag, kind and 32 bits of target data");
	is_int(queue_ud_tgt_data(sqe->user_data), 0x1234567,
	       "  the target data round trips");
	is_u64(sqe->addr, (uintptr_t)bufs[TAG], "  into the tag's buffer");
	is_int(q.tgt_inflight, 1, "  counted in flight");
	is_int(q.ios[TAG].tgt_sqes, 1, "  for its tag");
	is_int(q.cmd_inflight, 0, "  the ublk command is ours now");

	mark_sq(&q);
	target_cqe(TAG, 0x1234567, 4096);
	is_commit(TAG, 4096, "its CQE");
	is_int(q.tgt_inflight, 0, "  nothing in flight");
	is_int(q.cmd_inflight, 1, "  the commit is the kernel's");
	is_u64(q.own_stats.ios, 1, "  one I/O counted");
}

/* --- a pause (snapshot) and a read-only disk ----------------------------- */

static unsigned int drained_calls;

static void on_drained(struct ublk_queue *qq)
{
	(void)qq;
	drained_calls++;
}

static void ctl_message(uint32_t data)
{
	struct io_uring_cqe cqe = { 0 };

	/* What the server's IORING_OP_MSG_RING posts */
	cqe.user_data = queue_ud(QUEUE_NO_TAG, QUEUE_UD_CTL, data);
	queue_handle_cqe(&q, &cqe);
	queue_sqes_ready(&q);
}

static void test_pause(void)
{
	note("a pause holds new requests and says when the target is done");
	q.on_drained = on_drained;
	request(0);
	mark_sq(&q);
	ctl_message(5 << 1 | QUEUE_CTL_PAUSE);
	ok(q.paused, "PAUSE 5: paused");
	is_int(q.drained_gen, 0, "  not drained: tag 0 is with the target");
	request(1);
	is_int(sq_new(&q), 0, "a request while paused: nothing queued");
	is_int(q.nr_held, 1, "  it is held");
	is_int(q.tgt_owned, 1, "  the target still has one");
	target_cqe(0, 0, 4096);
	is_commit(0, 4096, "tag 0 finishes");
	is_int(q.drained_gen, 5, "  drained: the queue says so for pause 5");
	is_int(drained_calls, 1, "  once");
	request(2);
	is_int(drained_calls, 1, "a request held after that: said once only");
	mark_sq(&q);
	ctl_message(0);
	ok(!q.paused, "RESUME");
	is_int(q.nr_held, 0, "  nothing held");
	is_int(sq_new(&q), 2, "  the held requests go to the target");
	is_int(q.tgt_owned, 2, "  which has two");
	mark_sq(&q);
	ctl_message(6 << 1 | QUEUE_CTL_PAUSE);
	is_int(q.drained_gen, 5, "PAUSE 6 while busy: not drained");
	target_cqe(1, 0, 4096);
	target_cqe(2, 0, 4096);
	is_int(q.drained_gen, 6, "  drained once both are done");
	ctl_message(0);
}

static void test_read_only(void)
{
	note("a read-only disk: no write reaches the target");
	q.read_only = true;
	iods[3].op_flags = UBLK_IO_OP_WRITE;
	iods[3].nr_sectors = 8;
	q.cmd_inflight++;
	mark_sq(&q);
	{
		struct io_uring_cqe cqe = {
			.user_data = queue_ud(3, QUEUE_UD_CMD, 0),
			.res = UBLK_IO_RES_OK,
		};
		queue_handle_cqe(&q, &cqe);
	}
	is_commit(3, -EROFS, "a write");
	is_int(q.tgt_inflight, 0, "  the target queued nothing");
	request(3);
	is_int(q.tgt_inflight, 1, "a read goes to the target");
}

/* --- a result at once (null) ------------------------------------------- */

static int now_queue_io(struct ublk_queue *qq, unsigned int tag,
			const struct ublksrv_io_desc *iod)
{
	(void)qq;
	(void)tag;
	return iod->nr_sectors << 9;
}

static const struct target_ops now_ops = {
	.name = "now",
	.queue_io = now_queue_io,
	.io_done = res_io_done,
};

static void test_now(void)
{
	note("a result at once");
	request(1);
	is_commit(1, 4096, "the request");
	is_int(q.tgt_inflight, 0, "  no target SQE");
}

/* --- a send and a receive per request ------------------------------------ */

#define NET_SEND 1
#define NET_RECV 2

/* Which CQE carries the result: the receive's, the send's, or neither */
static enum { ON_RECV, ON_SEND, LATER } net_result;

static int net_queue_io(struct ublk_queue *qq, unsigned int tag,
			const struct ublksrv_io_desc *iod)
{
	struct io_uring_sqe *send, *recv;

	(void)iod;
	send = queue_tgt_sqe(qq, tag, NET_SEND);
	if (!send)
		return -EBUSY;
	io_uring_prep_send(send, QUEUE_FILE_TARGET, "req", 3, 0);
	send->flags |= IOSQE_ASYNC; /* the target's own flag stays */
	recv = queue_tgt_sqe(qq, tag, NET_RECV);
	if (!recv)
		return -EBUSY;
	io_uring_prep_recv(recv, QUEUE_FILE_TARGET, qq->ios[tag].data, 4096, 0);
	return TARGET_IO_QUEUED;
}

static int net_io_done(struct ublk_queue *qq, unsigned int tag,
		       const struct io_uring_cqe *cqe)
{
	(void)qq;
	(void)tag;
	if (cqe->res < 0)
		return cqe->res;
	if (queue_ud_tgt_data(cqe->user_data) == NET_SEND)
		return net_result == ON_SEND ? 4096 : TARGET_IO_QUEUED;
	return net_result == ON_RECV ? cqe->res : TARGET_IO_QUEUED;
}

static const struct target_ops net_ops = {
	.name = "net",
	.queue_io = net_queue_io,
	.io_done = net_io_done,
};

static void test_send_recv(void)
{
	struct io_uring_sqe *send, *recv;

	note("a send and a receive per request");
	net_result = ON_RECV;
	request(TAG);
	if (!is_int(sq_new(&q), 2, "two SQEs"))
		return;
	send = sq_at(&q, sq_mark);
	recv = sq_at(&q, sq_mark + 1);
	is_int(send->opcode, IORING_OP_SEND, "  a send");
	is_int(send->flags, IOSQE_FIXED_FILE | IOSQE_ASYNC,
	       "  with FIXED_FILE and the target's own flag");
	is_u64(send->user_data, queue_ud(TAG, QUEUE_UD_TGT, NET_SEND),
	       "  and its user_data");
	is_int(recv->opcode, IORING_OP_RECV, "  a receive");
	is_int(recv->flags, IOSQE_FIXED_FILE, "  with FIXED_FILE");
	is_u64(recv->user_data, queue_ud(TAG, QUEUE_UD_TGT, NET_RECV),
	       "  and its user_data");
	is_int(q.ios[TAG].tgt_sqes, 2, "  both counted for the tag");

	mark_sq(&q);
	target_cqe(TAG, NET_SEND, 3);
	is_int(sq_new(&q), 0, "the send's CQE: no commit yet");
	target_cqe(TAG, NET_RECV, 4096);
	is_commit(TAG, 4096, "the receive's CQE");
	is_int(q.tgt_inflight, 0, "  nothing in flight");

	note("a result while the tag still has an SQE in flight");
	net_result = ON_SEND;
	mark_sq(&q);
	request(TAG);
	mark_sq(&q);
	target_cqe(TAG, NET_SEND, 3);
	is_int(sq_new(&q), 0, "the result waits for the receive");
	target_cqe(TAG, NET_RECV, 4096);
	is_commit(TAG, 4096, "then the tag is committed with it");

	note("two results: the last one given is committed");
	net_result = ON_RECV;
	mark_sq(&q);
	request(TAG);
	mark_sq(&q);
	target_cqe(TAG, NET_SEND, -EPIPE);
	is_int(sq_new(&q), 0, "a failed send waits for its receive");
	target_cqe(TAG, NET_RECV, -ECANCELED);
	is_commit(TAG, -ECANCELED, "the last result given is committed");

	note("no result from either CQE: the target finishes it later");
	net_result = LATER;
	mark_sq(&q);
	request(TAG);
	mark_sq(&q);
	target_cqe(TAG, NET_SEND, 3);
	target_cqe(TAG, NET_RECV, 4096);
	is_int(sq_new(&q), 0, "no commit, nothing kept from before is used");
	queue_complete_io(&q, TAG, 512);
	is_commit(TAG, 512, "queue_complete_io() commits it");
}

/* --- a receive of whichever reply comes next ------------------------------ */

/* The reply names its request in the CQE's result (a made-up protocol) */
static int reply_queue_io(struct ublk_queue *qq, unsigned int tag,
			  const struct ublksrv_io_desc *iod)
{
	struct io_uring_sqe *recv;

	(void)tag;
	(void)iod;
	recv = queue_tgt_sqe(qq, QUEUE_NO_TAG, 7);
	if (!recv)
		return -EBUSY;
	io_uring_prep_recv(recv, QUEUE_FILE_TARGET, bufs[0], 16, 0);
	return TARGET_IO_QUEUED;
}

static int reply_io_done(struct ublk_queue *qq, unsigned int tag,
			 const struct io_uring_cqe *cqe)
{
	if (tag == QUEUE_NO_TAG) {
		queue_complete_io(qq, cqe->res, 512);
		return 12345; /* ignored: no request to finish */
	}
	return -EIO;
}

static const struct target_ops reply_ops = {
	.name = "reply",
	.queue_io = reply_queue_io,
	.io_done = reply_io_done,
};

static void test_no_tag(void)
{
	struct io_uring_sqe *recv;

	note("an SQE of the queue's own (QUEUE_NO_TAG)");
	request(TAG);
	if (!is_int(sq_new(&q), 1, "one SQE"))
		return;
	recv = sq_at(&q, sq_mark);
	is_u64(recv->user_data, queue_ud(QUEUE_NO_TAG, QUEUE_UD_TGT, 7),
	       "  user_data with QUEUE_NO_TAG");
	is_int(recv->flags, IOSQE_FIXED_FILE, "  FIXED_FILE");
	is_int(q.tgt_inflight, 0,
	       "  not counted: it holds no request, a stopping queue exits");
	is_int(q.ios[TAG].tgt_sqes, 0, "  nor for the tag");
	is_int(q.cmd_inflight + q.tgt_inflight, 0,
	       "  no command and no target SQE of a tag in flight");
	is_int(q.tgt_owned, 1,
	       "  but the request the target holds keeps the queue going");

	mark_sq(&q);
	target_cqe(QUEUE_NO_TAG, 7, TAG);
	is_commit(TAG, 512, "its CQE completes the tag it names");
	is_int(q.tgt_owned, 0, "  the target holds no request now");
}

/* --- an SQE re-sent from io_done (a reset, a short read) ------------------ */

static int resend_io_done(struct ublk_queue *qq, unsigned int tag,
			  const struct io_uring_cqe *cqe)
{
	uint32_t gen = queue_ud_tgt_data(cqe->user_data);
	struct io_uring_sqe *sqe;

	if (cqe->res != -ECONNRESET)
		return cqe->res;
	sqe = queue_tgt_sqe(qq, tag, gen + 1);
	if (!sqe)
		return -EIO;
	io_uring_prep_send(sqe, QUEUE_FILE_TARGET, "req", 3, 0);
	return TARGET_IO_QUEUED;
}

static const struct target_ops resend_ops = {
	.name = "resend",
	.queue_io = one_queue_io,
	.io_done = resend_io_done,
};

static void test_resend(void)
{
	struct io_uring_sqe *sqe;

	note("a request sent again from io_done");
	request(TAG);
	mark_sq(&q);
	target_cqe(TAG, 0x1234567, -ECONNRESET);
	if (!is_int(sq_new(&q), 1, "the reset: one new SQE, no commit"))
		return;
	sqe = sq_at(&q, sq_mark);
	is_int(sqe->opcode, IORING_OP_SEND, "  the send again");
	is_int(sqe->flags, IOSQE_FIXED_FILE, "  FIXED_FILE");
	is_u64(sqe->user_data, queue_ud(TAG, QUEUE_UD_TGT, 0x1234568),
	       "  the target's new generation in user_data");
	is_int(q.tgt_inflight, 1, "  in flight");
	mark_sq(&q);
	target_cqe(TAG, 0x1234568, 4096);
	is_commit(TAG, 4096, "its CQE");
}

/* --- a full ring: what is submitted to make room is complete ------------- */

static int many_queue_io(struct ublk_queue *qq, unsigned int tag,
			 const struct ublksrv_io_desc *iod)
{
	struct io_uring_sqe *sqe;
	unsigned int i;

	(void)iod;
	for (i = 0; i < 5; i++) {
		sqe = queue_tgt_sqe(qq, tag, i);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_nop(sqe);
	}
	return TARGET_IO_QUEUED;
}

static const struct target_ops many_ops = {
	.name = "many",
	.queue_io = many_queue_io,
	.io_done = res_io_done,
};

static void test_full_ring(void)
{
	struct io_uring_cqe *cqe;
	unsigned int i, n = 0;
	uint64_t ud[4] = { 0 };

	note("five SQEs on a ring of four");
	request(TAG);
	is_int(q.tgt_inflight, 5, "all five counted");
	is_int(io_uring_sq_ready(&q.ring), 1, "one left unsubmitted");
	/* The four NOPs the queue had to submit have completed. */
	while (n < 4 && io_uring_wait_cqe(&q.ring, &cqe) == 0) {
		ud[n++] = cqe->user_data;
		io_uring_cqe_seen(&q.ring, cqe);
	}
	for (i = 0; i < 4; i++)
		is_u64(ud[i], queue_ud(TAG, QUEUE_UD_TGT, i),
		       "submitted NOP %u had its user_data, the last one too",
		       i);
	is_u64(sq_at(&q, q.ring.sq.sqe_tail - 1)->user_data,
	       queue_ud(TAG, QUEUE_UD_TGT, 4), "the fifth is finished too");
}

static void test_full_ring_commits(void)
{
	const struct io_uring_sqe *sqe;
	const struct ublksrv_io_cmd *cmd;
	unsigned int i;

	note("five commits on a ring of four");
	for (i = 0; i < 5; i++)
		request(i % DEPTH);
	is_int(q.cmd_inflight, 5, "all five committed");
	is_int(io_uring_sq_ready(&q.ring), 1, "the fifth after a submit");
	sqe = sq_at(&q, q.ring.sq.sqe_tail - 1);
	cmd = (const void *)sqe->cmd;
	ok(sqe->cmd_op == UBLK_U_IO_COMMIT_AND_FETCH_REQ && cmd->tag == 0 &&
		   cmd->result == 4096,
	   "  it commits tag 0 with 4096");
}

int main(void)
{
	int ret;

	ret = queue_setup_test(&one_ops, 64);
	if (ret < 0) {
		printf("1..0 # SKIP no io_uring here (Linux 5.1; "
		       "kernel.io_uring_disabled=0): %s\n",
		       strerror(-ret));
		return 0;
	}
	test_one_sqe();
	queue_setup_test(&one_ops, 64);
	test_pause();
	queue_setup_test(&one_ops, 64);
	test_read_only();
	queue_setup_test(&now_ops, 64);
	test_now();
	queue_setup_test(&net_ops, 64);
	test_send_recv();
	queue_setup_test(&reply_ops, 64);
	test_no_tag();
	queue_setup_test(&resend_ops, 64);
	test_resend();
	if (queue_setup_test(&many_ops, 4) == 0)
		test_full_ring();
	if (queue_setup_test(&now_ops, 4) == 0)
		test_full_ring_commits();
	queue_teardown_test();
	return done_testing();
}
