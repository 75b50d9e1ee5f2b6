// SPDX-License-Identifier: MIT
/*
 * The nbd target's queue side (src/server/targets/nbd.c) against a
 * server that answers too early: a reply may complete a request only
 * once all of its bytes have left, or a tag is committed while the send
 * still reads its buffer, or twice.  The queue runs on a plain io_uring
 * and the CQEs are made up (as in queue_tgt.c), so no ublk device and no
 * NBD server are needed.  The target's file is included for its statics.
 */
#include "server/targets/nbd.c"

#include "queue_sq.h"
#include "tap.h"

#define DEPTH 4

static struct ublk_queue q;
static struct target tgt;
static struct ublksrv_io_desc iods[DEPTH];
static char bufs[DEPTH][4096];
static struct nbd_dev dev;
static struct nbd_queue *nq;

static void setup(void)
{
	unsigned int tag;
	struct uerr err;

	memset(&q, 0, sizeof(q));
	memset(&dev, 0, sizeof(dev));
	tgt.ops = &target_nbd_ops;
	tgt.priv = &dev;
	tgt.size = 1 << 20;
	q.depth = DEPTH;
	q.tgt = &tgt;
	q.iods = iods;
	q.stats = &q.own_stats;
	q.ios = calloc(DEPTH, sizeof(*q.ios));
	if (!q.ios || io_uring_queue_init(64, &q.ring, 0))
		bail_out("a ring");
	for (tag = 0; tag < DEPTH; tag++)
		q.ios[tag].buf = bufs[tag];
	q.ring_ready = true;
	dev.exp.flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH;
	dev.exp.size = 1 << 20;
	dev.timeout_ms = 20000;
	dev.hang_ms = 10000;
	nq = queue_alloc(&dev, &q);
	if (!nq || nbd_rx_init(&nq->rx, nq->slots, DEPTH, nq->stage,
			       NBD_STAGE_SIZE, &err) < 0)
		bail_out("an nbd queue");
	q.tgt_priv = nq;
	nq->conn = CONN_UP;
	mark_sq(&q);
}

static void teardown(void)
{
	nbd_queue_free(nq);
	io_uring_queue_exit(&q.ring);
	free(q.ios);
}

static void cqe_in(uint64_t user_data, int res)
{
	struct io_uring_cqe cqe = { .user_data = user_data, .res = res };

	queue_handle_cqe(&q, &cqe);
	queue_sqes_ready(&q);
}

/* The kernel hands tag a 4 KiB write, or a FLUSH */
static void io_arrives(unsigned int tag, unsigned int op)
{
	iods[tag].op_flags = op;
	iods[tag].nr_sectors = 8;
	iods[tag].start_sector = 8 * tag;
	q.cmd_inflight++;
	cqe_in(queue_ud(tag, QUEUE_UD_CMD, 0), UBLK_IO_RES_OK);
}

static void write_arrives(unsigned int tag)
{
	io_arrives(tag, UBLK_IO_OP_WRITE);
}

static void target_cqe(enum nbd_ev ev, int res)
{
	cqe_in(queue_ud(QUEUE_NO_TAG, QUEUE_UD_TGT, ev_data(ev, nq->gen)), res);
}

/* The server's simple reply (success) to cookie arrives */
static void reply_arrives(uint64_t cookie)
{
	uint8_t r[NBD_SIMPLE_REPLY_SIZE];
	size_t n;
	void *p;

	nbd_put32(r, NBD_SIMPLE_REPLY_MAGIC);
	nbd_put32(r + 4, 0);
	nbd_put64(r + 8, cookie);
	nbd_rx_space(&nq->rx, &p, &n);
	memcpy(p, r, sizeof(r));
	target_cqe(EV_RECV, sizeof(r));
}

static int last_result; /* of the last COMMIT_AND_FETCH commits() saw */

/* COMMIT_AND_FETCHes queued since the last call, and the last's tag */
static unsigned int commits(int *tag)
{
	unsigned int i, n = 0;

	for (i = sq_mark; i != q.ring.sq.sqe_tail; i++) {
		const struct io_uring_sqe *s = sq_at(&q, i);
		const struct ublksrv_io_cmd *cmd = (const void *)s->cmd;

		if (s->opcode == IORING_OP_URING_CMD &&
		    s->cmd_op == UBLK_U_IO_COMMIT_AND_FETCH_REQ) {
			n++;
			last_result = cmd->result;
			if (tag)
				*tag = cmd->tag;
		}
	}
	mark_sq(&q);
	return n;
}

static void reply_while_sending(void)
{
	uint64_t cookie;

	note("a reply to a write whose data is still being sent");
	setup();
	write_arrives(2);
	ok(nq->send_busy && nq->reqs[2].state == REQ_SENT, "the write is in "
							   "the send in "
							   "flight");
	cookie = nbd_rx_cookie(&nq->rx, 2);
	commits(NULL);
	reply_arrives(cookie);
	is_int(commits(NULL), 0,
	       "  a reply to it (after its header) "
	       "commits nothing");
	is_int(nq->conn, CONN_DRAINING, "  the connection is dropped");
	is_int(nq->reqs[2].state, REQ_QUEUED,
	       "  the write waits to be sent "
	       "again");
	is_int(nq->busy, 1, "  and is still the target's");
	teardown();
}

static void reply_before_send(void)
{
	uint64_t cookie;

	note("a reply to a write not sent at all (a guessed cookie)");
	setup();
	write_arrives(0);
	write_arrives(1);
	is_int(nq->reqs[1].state, REQ_QUEUED,
	       "the second write waits for "
	       "the first's send");
	cookie = nbd_rx_cookie(&nq->rx, 1);
	ok(cookie != 0, "  it has a cookie");
	commits(NULL);
	reply_arrives(cookie);
	is_int(commits(NULL), 0, "  a reply to it commits nothing");
	is_int(nq->conn, CONN_DRAINING, "  the connection is dropped");
	is_int(nq->tx_count, 2, "  both writes wait to be sent again");
	is_int(nq->busy, 2, "  and are still the target's");
	teardown();
}

static void partial_send(void)
{
	int tag = -1;

	note("a send taken in part");
	setup();
	write_arrives(0);
	write_arrives(1);
	target_cqe(EV_SEND, NBD_REQUEST_SIZE + 4096);
	ok(nq->send_busy && nq->send_nr == 1, "the first write is sent; "
					      "the second goes in the next "
					      "send");
	commits(NULL);
	target_cqe(EV_SEND, NBD_REQUEST_SIZE + 100);
	is_int(nq->slots[1].state, NBD_SLOT_QUEUED,
	       "  100 of its 4096 bytes out: not sent yet");
	reply_arrives(nbd_rx_cookie(&nq->rx, 0));
	ok(commits(&tag) == 1 && tag == 0, "  the first write's reply "
					   "commits it");
	is_int(nq->conn, CONN_UP, "  the connection stays");
	target_cqe(EV_SEND, 4096 - 100);
	is_int(nq->slots[1].state, NBD_SLOT_SENT, "  the rest out: sent");
	ok(!nq->send_busy, "  and the send is over");
	reply_arrives(nbd_rx_cookie(&nq->rx, 1));
	ok(commits(&tag) == 1 && tag == 1, "  its reply commits it");
	is_int(nq->busy, 0, "  nothing is left");
	teardown();
}

/* Tag's request sent whole and answered: its result to the kernel */
static int served(unsigned int tag, unsigned int op)
{
	int got = -1;

	commits(NULL);
	io_arrives(tag, op);
	target_cqe(EV_SEND, (int)nq->reqs[tag].send_end);
	reply_arrives(nbd_rx_cookie(&nq->rx, tag));
	if (commits(&got) != 1 || got != (int)tag)
		return -1000;
	return last_result;
}

/* The connection breaks and a new one comes, as the helper brings it */
static void reconnect(void)
{
	uint32_t old;

	lost(nq, "the test drops it");
	old = (nq->gen - 1) & GEN_MASK;
	cqe_in(queue_ud(QUEUE_NO_TAG, QUEUE_UD_TGT, ev_data(EV_RECV, old)),
	       -ECANCELED);
	target_cqe(EV_SHUT, 0);
	nq->retry_at = 0;
	target_cqe(EV_TIMER, -ETIME);
	if (nq->conn != CONN_ASKING)
		bail_out("no reconnect asked for (state %d)", nq->conn);
	target_cqe(EV_UP, 0);
}

static void flush_after_loss(void)
{
	note("writes acknowledged, not flushed, and the connection lost");
	setup();
	is_int(served(0, UBLK_IO_OP_WRITE), 4096, "a write is acknowledged");
	reconnect();
	is_int(nq->conn, CONN_UP, "the connection is made again");
	is_int(served(1, UBLK_IO_OP_FLUSH), -EIO,
	       "  the next flush fails: the server may have lost the write");
	is_int(served(2, UBLK_IO_OP_FLUSH), 0,
	       "  once: the one after succeeds");
	teardown();

	note("a flush in flight when the connection is lost");
	setup();
	is_int(served(0, UBLK_IO_OP_WRITE), 4096, "a write is acknowledged");
	commits(NULL);
	io_arrives(1, UBLK_IO_OP_FLUSH);
	target_cqe(EV_SEND, NBD_REQUEST_SIZE);
	reconnect();
	ok(nq->send_busy && nq->send_nr == 1 && nq->sending[0] == 1,
	   "  the flush is sent again on the new connection");
	target_cqe(EV_SEND, NBD_REQUEST_SIZE);
	reply_arrives(nbd_rx_cookie(&nq->rx, 1));
	ok(commits(NULL) == 1 && last_result == -EIO, "  and fails, though the "
						      "new server did it");
	teardown();

	note("the same, with a flush before the loss");
	setup();
	is_int(served(0, UBLK_IO_OP_WRITE), 4096, "a write is acknowledged");
	is_int(served(1, UBLK_IO_OP_FLUSH), 0, "  and flushed");
	reconnect();
	is_int(served(1, UBLK_IO_OP_FLUSH), 0,
	       "  the flush after the new connection succeeds");
	teardown();
}

int main(void)
{
	reply_while_sending();
	reply_before_send();
	partial_send();
	flush_after_loss();
	return done_testing();
}
