// SPDX-License-Identifier: MIT
/*
 * nbd: a disk served by an NBD server (qemu-nbd, qemu-storage-daemon,
 * nbdkit, nbd-server...).  src/nbd speaks the protocol; this file glues it
 * to the queues.
 *
 * Connections.  open() (in `add`, as the user) connects and runs the
 * handshake, so that a wrong URI, a refused export or a size above the
 * policy is reported before any device exists.  Each queue has its own
 * connection (more than one queue only if the server says
 * NBD_FLAG_CAN_MULTI_CONN), made before the server is confined and
 * registered as a fixed file of the queue ring; everything after goes
 * through the ring: SENDMSG for requests (batched: one send in flight,
 * the requests that arrive meanwhile go in the next), RECV for replies
 * (one in flight, into a staging buffer or straight into a READ's
 * buffer), TIMEOUT for deadlines, SHUTDOWN to drop a connection.
 *
 * Reconnecting.  A confined queue cannot connect: its helper process
 * does (nbd/reconnect.h) and puts the new socket into the ring's fixed
 * file slot.  When a connection breaks (closed, an error, a protocol
 * violation, or no reply for hang_ms while requests wait), the queue
 * shuts it down, waits for its send and receive to end, asks the helper,
 * and on success sends every request not yet answered again, with new
 * cookies: unacknowledged writes are written again, a FLUSH or FUA write
 * completes only once the new connection's server has done it.  Requests
 * wait at most timeout_ms in all (20 s by default), then fail with EIO:
 * well before the kernel's 30 s I/O timeout, which kills an unprivileged
 * server.
 *
 * Writes acknowledged but not flushed.  A server with a volatile cache
 * that crashed has lost them, and the next one cannot tell: its FLUSH
 * succeeds.  So where a lost connection had acknowledged writes that no
 * FLUSH covered since, the next FLUSH to complete fails with EIO (once),
 * and fsync() says so, rather than that data it cannot vouch for is safe.
 * Writes are counted for the whole device: with more than one queue
 * (NBD_FLAG_CAN_MULTI_CONN) a FLUSH on any connection covers writes
 * acknowledged on all of them.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "host/caps.h"
#include "nbd/handshake.h"
#include "nbd/net.h"
#include "nbd/reconnect.h"
#include "nbd/uri.h"
#include "nbd/xmit.h"
#include "server/queue.h"
#include "server/target.h"

#define NBD_SLOT_SOCK (QUEUE_FILE_TARGET + 0) /* the NBD connection */
#define NBD_SLOT_CHAN (QUEUE_FILE_TARGET + 1) /* to the helper */

#define NBD_DEFAULT_TIMEOUT_S 20
#define NBD_MAX_QUEUES 64
#define NBD_STAGE_SIZE (64U << 10)
#define NBD_TICK_MS 250
#define NBD_MAX_IOV 1024
#ifdef UBLK_USER_TEST_HOOKS
/* ublk-user-testhooks: a read here calls socket(2) in the queue thread */
#define NBD_TEST_SOCKET_SECTOR 2048
#endif

/* tgt_data of our SQEs: an event in the top 4 bits, a generation below */
enum nbd_ev {
	EV_SEND = 1, /* requests sent */
	EV_RECV,     /* replies received */
	EV_TIMER,
	EV_SHUT, /* an old connection shut down */
	EV_ASK,	 /* asked the helper */
	EV_UP,	 /* the helper's new socket is in place */
	EV_FAIL, /* the helper could not connect */
	EV_DISC, /* NBD_CMD_DISC sent */
};
#define GEN_BITS 28
#define GEN_MASK ((1U << GEN_BITS) - 1)

static inline uint32_t ev_data(enum nbd_ev ev, uint32_t gen)
{
	return (uint32_t)ev << GEN_BITS | (gen & GEN_MASK);
}

enum req_state { REQ_FREE, REQ_QUEUED, REQ_SENT };

enum conn_state {
	CONN_UP,
	CONN_CLOSING,  /* NBD_ESHUTDOWN: NBD_CMD_DISC, then as if broken */
	CONN_DRAINING, /* broken: waiting for its send and receive to end */
	CONN_DOWN,     /* none: ask the helper when retry_at comes */
	CONN_ASKING,   /* the helper is connecting */
};

struct nbd_req {
	uint8_t state;
	uint16_t type, flags;
	uint64_t offset;
	uint32_t len;
	int64_t deadline; /* ms, CLOCK_MONOTONIC */
	size_t send_end;  /* where its bytes end in the send in flight */
	uint64_t covers;  /* a FLUSH: the device's writes_acked when it came */
	void *data;
};

struct nbd_queue {
	struct nbd_dev *dev;
	struct ublk_queue *q;
	unsigned int depth;
	struct nbd_req *reqs;
	uint8_t (*hdr)[NBD_REQUEST_SIZE]; /* each tag's request header */
	struct nbd_slot *slots;
	struct nbd_rx rx;
	uint8_t *stage;
	uint16_t *txq; /* tags waiting to be sent, FIFO */
	unsigned int tx_head, tx_count;
	struct iovec *iov; /* the send in flight */
	struct msghdr msg;
	uint16_t *sending;		 /* its requests, in order */
	unsigned int send_nr, send_next; /* sent whole: sending[0, next) */
	size_t send_done;		 /* bytes of it sent so far */
	struct msghdr ask_msg;
	struct iovec ask_iov;
	uint8_t disc_hdr[NBD_REQUEST_SIZE]; /* NBD_CMD_DISC */
	struct msghdr disc_msg;
	struct iovec disc_iov;
	struct nbd_reconnect_req ask;
	struct __kernel_timespec tick;
	bool send_busy, recv_busy, shut_busy, timer_busy;
	bool shutdown_seen; /* a reply said NBD_ESHUTDOWN */
	enum conn_state conn;
	int64_t closing_at; /* ms: CONN_CLOSING since */
	uint32_t gen;
	unsigned int busy; /* requests not free */
	int64_t progress_at, retry_at;
	unsigned int backoff_ms;
	bool answered;	     /* this connection has answered a request */
	uint64_t last_write; /* writes_acked at this queue's last write */
	int sock_fd;	     /* the first connection's fd, until it breaks */
	int chan_fd;
	pid_t helper;
};

struct nbd_dev {
	struct nbd_uri uri;
	struct nbd_export exp;
	unsigned int timeout_ms; /* a request's whole wait */
	unsigned int hang_ms;	 /* no reply for this long: reconnect */
	unsigned int connect_ms; /* one connection attempt */
	int first_fd;		 /* connected by open(), for queue 0 */
	long gmtoff;		 /* of local time, for the log */
	struct nbd_queue *queues[NBD_MAX_QUEUES];
	/* Shared by the queue threads (see "Writes acknowledged ...") */
	_Atomic uint64_t writes_acked; /* writes (not FUA) acknowledged */
	_Atomic uint64_t flushed;      /* writes_acked a FLUSH covered */
	atomic_bool flush_fails;       /* the next FLUSH reports EIO */
};

static unsigned int ilog2_u32(uint32_t v)
{
	unsigned int s = 0;

	while (v > 1) {
		v >>= 1;
		s++;
	}
	return s;
}

/* --- in `add`: the first connection, the device's parameters ----------- */

static int nbdt_open(struct target *t, const struct target_opts *o,
		     struct uerr *err)
{
	struct nbd_dev *d = t->priv;
	const struct nbd_export *e = &d->exp;
	char where[NBD_URI_HOST_MAX + 16];
	unsigned int lbs;
	int fd;

	d->first_fd = -1;
	if (strlen(o->uri) >= PATH_MAX)
		return uerr_set(err, EINVAL, "--uri: longer than %d characters",
				PATH_MAX - 1);
	if (nbd_uri_parse(&d->uri, o->uri, err) < 0)
		return uerr_prefix(err, "--uri");
	d->timeout_ms =
		1000 * (o->timeout_s ? o->timeout_s : NBD_DEFAULT_TIMEOUT_S);
	d->hang_ms = d->timeout_ms / 2 < 10000 ? d->timeout_ms / 2 : 10000;
	d->connect_ms = d->timeout_ms / 2 < 5000 ? d->timeout_ms / 2 : 5000;

	fd = nbd_open(&d->uri, 10000, &d->exp, err);
	if (fd < 0)
		return fd;
	d->first_fd = fd;
	if (nbd_export_check(e, 0, err) < 0)
		return uerr_prefix(err, "NBD server %s",
				   nbd_uri_endpoint(&d->uri, where,
						    sizeof(where)));
	if (o->nr_queues > 1 && !(e->flags & NBD_FLAG_CAN_MULTI_CONN))
		return uerr_set(err, EINVAL,
				"the NBD server does not allow more than one "
				"connection (no NBD_FLAG_CAN_MULTI_CONN): use "
				"--queues 1");
	if (o->max_io && e->max_payload < o->max_io)
		return uerr_set(err, EINVAL,
				"the NBD server takes requests of at most %u "
				"bytes, smaller than ublk-user's %u",
				e->max_payload, o->max_io);
	lbs = nbd_export_block_size(e);
	if (o->size && o->size > e->size)
		return uerr_set(err, EINVAL,
				"--size %llu is more than the export's %llu "
				"bytes",
				(unsigned long long)o->size,
				(unsigned long long)e->size);
	t->size = (o->size ? o->size : e->size) / lbs * lbs;
	if (!t->size)
		return uerr_set(err, EINVAL,
				"--size is less than one %u-byte block", lbs);
	t->lbs_shift = ilog2_u32(lbs);
	/* The preferred block, within what a ublk device takes */
	t->pbs_shift = ilog2_u32(e->pref_block < lbs  ? lbs :
				 e->pref_block > 4096 ? 4096 :
							e->pref_block);
	if (t->pbs_shift < t->lbs_shift)
		t->pbs_shift = t->lbs_shift;
	t->attrs = 0;
	if (e->flags & NBD_FLAG_READ_ONLY)
		t->attrs |= UBLK_ATTR_READ_ONLY;
	if (e->flags & NBD_FLAG_ROTATIONAL)
		t->attrs |= UBLK_ATTR_ROTATIONAL;
	if (e->flags & NBD_FLAG_SEND_FLUSH)
		t->attrs |= UBLK_ATTR_VOLATILE_CACHE;
	if ((e->flags & NBD_FLAG_SEND_FLUSH) && (e->flags & NBD_FLAG_SEND_FUA))
		t->attrs |= UBLK_ATTR_FUA;
	/* The kernel sends both or neither */
	t->discard = (e->flags & NBD_FLAG_SEND_TRIM) &&
		     (e->flags & NBD_FLAG_SEND_WRITE_ZEROES) &&
		     !(e->flags & NBD_FLAG_READ_ONLY);
	return 0;
}

/*
 * The helper holds the queue's ring, and so the device: closing its
 * channel ends it (the confined server may not kill or wait).
 */
static void nbd_queue_free(struct nbd_queue *nq)
{
	if (nq->sock_fd >= 0)
		close(nq->sock_fd);
	if (nq->chan_fd >= 0)
		close(nq->chan_fd);
	free(nq->reqs);
	free(nq->hdr);
	free(nq->slots);
	free(nq->stage);
	free(nq->txq);
	free(nq->iov);
	free(nq->sending);
	free(nq);
}

static void nbdt_close(struct target *t)
{
	struct nbd_dev *d = t->priv;
	unsigned int i;

	for (i = 0; i < NBD_MAX_QUEUES; i++)
		if (d->queues[i])
			nbd_queue_free(d->queues[i]);
	memset(d->queues, 0, sizeof(d->queues));
	if (d->first_fd >= 0)
		close(d->first_fd);
	d->first_fd = -1;
}

/* --- in the server, before confinement: connections and helpers --------- */

/* In the helper: nothing but the channel, the ring and stderr (the log) */
static __attribute__((noreturn)) void
helper_main(struct nbd_dev *d, struct ublk_queue *q, int chan)
{
	char name[32];
	struct nbd_reconnector r = {
		.uri = &d->uri,
		.want = &d->exp,
		.chan_fd = chan,
		.ring_fd = q->ring.ring_fd,
		.slot = NBD_SLOT_SOCK,
		.timeout_ms = (int)d->connect_ms,
		.ud_ok =
			queue_ud(QUEUE_NO_TAG, QUEUE_UD_TGT, ev_data(EV_UP, 0)),
		.ud_fail = queue_ud(QUEUE_NO_TAG, QUEUE_UD_TGT,
				    ev_data(EV_FAIL, 0)),
		.gen_shift = 24,
		.name = name,
	};
	int keep[2] = { chan < r.ring_fd ? chan : r.ring_fd,
			chan < r.ring_fd ? r.ring_fd : chan };
	struct uerr err;
	sigset_t none;

	snprintf(name, sizeof(name), "queue %u", q->q_id);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	if (caps_drop_thread(&err) < 0) {
		fprintf(stderr, "%s: reconnect helper: %s\n", name, err.msg);
		_exit(1);
	}
	/* Not the device, not the other queues' sockets: only ours. */
	if (keep[0] > 3)
		close_range(3, (unsigned int)keep[0] - 1, 0);
	if (keep[1] > keep[0] + 1)
		close_range((unsigned int)keep[0] + 1,
			    (unsigned int)keep[1] - 1, 0);
	close_range((unsigned int)keep[1] + 1, ~0U, 0);
	nbd_reconnector_run(&r);
}

static int start_helper(struct nbd_queue *nq, struct ublk_queue *q,
			struct uerr *err)
{
	pid_t parent = getpid();
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return uerr_sys(err, errno, "socketpair");
	fflush(NULL);
	nq->helper = fork();
	if (nq->helper < 0) {
		close(sp[0]);
		close(sp[1]);
		return uerr_sys(err, errno, "starting the reconnect helper");
	}
	if (nq->helper == 0) {
		/* It dies with the server, even by SIGKILL. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		close(sp[0]);
		helper_main(nq->dev, q, sp[1]);
	}
	close(sp[1]);
	nq->chan_fd = sp[0];
	return 0;
}

static struct nbd_queue *queue_alloc(struct nbd_dev *d, struct ublk_queue *q)
{
	struct nbd_queue *nq = calloc(1, sizeof(*nq));
	unsigned int n = q->depth;

	if (!nq)
		return NULL;
	nq->dev = d;
	nq->q = q;
	nq->depth = n;
	nq->sock_fd = -1;
	nq->chan_fd = -1;
	nq->reqs = calloc(n, sizeof(*nq->reqs));
	nq->hdr = calloc(n, sizeof(*nq->hdr));
	nq->slots = calloc(n, sizeof(*nq->slots));
	nq->stage = malloc(NBD_STAGE_SIZE);
	nq->txq = calloc(n, sizeof(*nq->txq));
	nq->iov = calloc(NBD_MAX_IOV, sizeof(*nq->iov));
	nq->sending = calloc(n, sizeof(*nq->sending));
	if (!nq->reqs || !nq->hdr || !nq->slots || !nq->stage || !nq->txq ||
	    !nq->iov || !nq->sending) {
		nbd_queue_free(nq);
		return NULL;
	}
	nq->tick.tv_nsec = NBD_TICK_MS * 1000000L;
	nq->backoff_ms = 100;
	nq->ask.magic = NBD_RECONNECT_MAGIC;
	nq->ask_iov.iov_base = &nq->ask;
	nq->ask_iov.iov_len = sizeof(nq->ask);
	nq->ask_msg.msg_iov = &nq->ask_iov;
	nq->ask_msg.msg_iovlen = 1;
	return nq;
}

static int nbdt_queue_setup(struct ublk_queue *q, int *files, struct uerr *err)
{
	struct nbd_dev *d = q->tgt->priv;
	struct nbd_export e;
	struct nbd_queue *nq;
	int ret;

	time_t now = time(NULL);
	struct tm tm;

	if (q->q_id >= NBD_MAX_QUEUES)
		return uerr_set(err, EINVAL, "nbd: at most %u queues",
				NBD_MAX_QUEUES);
	if (localtime_r(&now, &tm))
		d->gmtoff = tm.tm_gmtoff;
	nq = queue_alloc(d, q);
	if (!nq)
		return uerr_sys(err, ENOMEM, "queue %u", q->q_id);
	d->queues[q->q_id] = nq;
	q->tgt_priv = nq;
	if (nbd_rx_init(&nq->rx, nq->slots, nq->depth, nq->stage,
			NBD_STAGE_SIZE, err) < 0)
		return -EINVAL;
	if (d->first_fd >= 0) {
		nq->sock_fd = d->first_fd;
		d->first_fd = -1;
	} else {
		/* Multi-conn: a connection of its own, to the same disk */
		nq->sock_fd = nbd_open(&d->uri, (int)d->connect_ms, &e, err);
		if (nq->sock_fd < 0)
			return nq->sock_fd;
		if (nbd_export_same(&d->exp, &e, err) < 0)
			return uerr_prefix(err, "queue %u", q->q_id);
	}
	ret = start_helper(nq, q, err);
	if (ret < 0)
		return ret;
	nq->conn = CONN_UP;
	/* Carried over to the shared counters (server_open_state_files) */
	stats_set(&q->stats->nbd_connected, 1);
	files[0] = nq->sock_fd;
	files[1] = nq->chan_fd;
	return 2;
}

static unsigned int nbdt_ring_ops(const struct ublk_queue *q, uint8_t *ops)
{
	(void)q;
	ops[0] = IORING_OP_SENDMSG;  /* requests, and asking the helper */
	ops[1] = IORING_OP_RECV;     /* replies */
	ops[2] = IORING_OP_TIMEOUT;  /* deadlines */
	ops[3] = IORING_OP_SHUTDOWN; /* dropping a broken connection */
	return 4;
}

/* --- in the queue thread: the data path ----------------------------------- */

static struct io_uring_sqe *nq_sqe(struct nbd_queue *nq, enum nbd_ev ev)
{
	return queue_tgt_sqe(nq->q, QUEUE_NO_TAG, ev_data(ev, nq->gen));
}

static void txq_push(struct nbd_queue *nq, unsigned int tag)
{
	nq->txq[(nq->tx_head + nq->tx_count++) % nq->depth] = (uint16_t)tag;
}

static unsigned int txq_pop(struct nbd_queue *nq)
{
	unsigned int tag = nq->txq[nq->tx_head];

	nq->tx_head = (nq->tx_head + 1) % nq->depth;
	nq->tx_count--;
	return tag;
}

/* Every request not answered, in tag order: to be sent (again). */
static void txq_rebuild(struct nbd_queue *nq)
{
	unsigned int tag;

	nq->tx_head = nq->tx_count = 0;
	for (tag = 0; tag < nq->depth; tag++)
		if (nq->reqs[tag].state != REQ_FREE) {
			nq->reqs[tag].state = REQ_QUEUED;
			txq_push(nq, tag);
		}
}

/* msg goes out on the connection: the one send it may have at a time */
static bool post_sendmsg(struct nbd_queue *nq, enum nbd_ev ev,
			 const struct msghdr *msg)
{
	struct io_uring_sqe *sqe = nq_sqe(nq, ev);

	if (!sqe)
		return false;
	io_uring_prep_sendmsg(sqe, NBD_SLOT_SOCK, msg, MSG_NOSIGNAL);
	nq->send_busy = true;
	return true;
}

static void post_send(struct nbd_queue *nq)
{
	unsigned int n = 0;
	size_t end = 0;

	nq->send_nr = nq->send_next = 0;
	nq->send_done = 0;
	while (nq->tx_count && n + 2 <= NBD_MAX_IOV) {
		unsigned int tag = txq_pop(nq);
		struct nbd_req *r = &nq->reqs[tag];
		struct nbd_request h = {
			.flags = r->flags,
			.type = r->type,
			.cookie = nbd_rx_cookie(&nq->rx, tag),
			.offset = r->offset,
			.len = r->len,
		};

		nbd_request_encode(nq->hdr[tag], &h);
		nq->iov[n].iov_base = nq->hdr[tag];
		nq->iov[n++].iov_len = NBD_REQUEST_SIZE;
		end += NBD_REQUEST_SIZE;
		if (r->type == NBD_CMD_WRITE && r->len) {
			nq->iov[n].iov_base = r->data;
			nq->iov[n++].iov_len = r->len;
			end += r->len;
		}
		/* Not to be failed from here: the send reads its buffer. */
		r->state = REQ_SENT;
		r->send_end = end;
		nq->sending[nq->send_nr++] = (uint16_t)tag;
	}
	nq->msg.msg_iov = nq->iov;
	nq->msg.msg_iovlen = n;
	/* Never fails: the ring has room for 2 SQEs a tag. */
	post_sendmsg(nq, EV_SEND, &nq->msg);
}

/* The part of a send the socket did not take: send the rest. */
static bool send_rest(struct nbd_queue *nq, size_t sent)
{
	while (nq->msg.msg_iovlen && sent >= nq->msg.msg_iov->iov_len) {
		sent -= nq->msg.msg_iov->iov_len;
		nq->msg.msg_iov++;
		nq->msg.msg_iovlen--;
	}
	if (!nq->msg.msg_iovlen)
		return false;
	nq->msg.msg_iov->iov_base = (char *)nq->msg.msg_iov->iov_base + sent;
	nq->msg.msg_iov->iov_len -= sent;
	return post_sendmsg(nq, EV_SEND, &nq->msg);
}

static void post_recv(struct nbd_queue *nq)
{
	struct io_uring_sqe *sqe;
	void *p;
	size_t n;

	nbd_rx_space(&nq->rx, &p, &n);
	sqe = nq_sqe(nq, EV_RECV);
	if (!sqe)
		return;
	io_uring_prep_recv(sqe, NBD_SLOT_SOCK, p, n, 0);
	nq->recv_busy = true;
}

static void post_timer(struct nbd_queue *nq)
{
	struct io_uring_sqe *sqe = nq_sqe(nq, EV_TIMER);

	if (!sqe)
		return;
	io_uring_prep_timeout(sqe, &nq->tick, 0, 0);
	nq->timer_busy = true;
}

static void ask_helper(struct nbd_queue *nq)
{
	struct io_uring_sqe *sqe = nq_sqe(nq, EV_ASK);

	if (!sqe)
		return;
	nq->ask.gen = nq->gen;
	io_uring_prep_sendmsg(sqe, NBD_SLOT_CHAN, &nq->ask_msg, MSG_NOSIGNAL);
	nq->conn = CONN_ASKING;
}

/* Local time without localtime(), which may stat the time zone file */
static void nq_log(const struct nbd_queue *nq, const char *fmt, const char *a)
{
	time_t t = time(NULL) + nq->dev->gmtoff;
	char when[32];
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime_r(&t, &tm));
	fprintf(stderr, "%s queue %u: ", when, nq->q->q_id);
	fprintf(stderr, fmt, a);
	fputc('\n', stderr);
}

/* Whatever can go on now, goes. */
static void kick(struct nbd_queue *nq)
{
	if (nq->conn == CONN_UP) {
		/* Also when idle: a server that closes or talks is noticed. */
		if (!nq->recv_busy)
			post_recv(nq);
		if (!nq->send_busy && nq->tx_count)
			post_send(nq);
	} else if (nq->conn == CONN_DOWN && mono_ms() >= nq->retry_at) {
		ask_helper(nq);
	}
	if (!nq->timer_busy && (nq->busy || nq->conn != CONN_UP))
		post_timer(nq);
}

static void expire(struct nbd_queue *nq, int64_t now);

/* Its send and receive are over: the connection can be replaced. */
static void drained(struct nbd_queue *nq)
{
	int64_t now;

	if (nq->conn != CONN_DRAINING || nq->send_busy || nq->recv_busy ||
	    nq->shut_busy)
		return;
	now = mono_ms();
	nq->conn = CONN_DOWN;
	nq->retry_at = now;
	/*
	 * A server that takes connections and drops them (or says
	 * NBD_ESHUTDOWN) before it answers anything is not asked again at
	 * once, or we would connect hundreds of times a second.
	 */
	if (nq->answered) {
		nq->backoff_ms = 100;
	} else {
		nq->retry_at += nq->backoff_ms;
		if (nq->backoff_ms < 2000)
			nq->backoff_ms *= 2;
	}
	/*
	 * Nothing can touch a request now: fail those past their deadline
	 * here, or a helper that reconnects before the next tick sends them
	 * again, and a server that never answers holds them until the
	 * kernel's timeout kills us.
	 */
	expire(nq, now);
}

static void lost(struct nbd_queue *nq, const char *why)
{
	struct io_uring_sqe *sqe;

	if (nq->conn != CONN_UP && nq->conn != CONN_CLOSING)
		return;
	nq_log(nq, "connection to the NBD server lost: %s", why);
	if (nq->last_write > atomic_load(&nq->dev->flushed)) {
		atomic_store(&nq->dev->flush_fails, true);
		nq_log(nq, "%s",
		       "it had acknowledged writes that no flush covered: the "
		       "next flush fails (EIO)");
	}
	stats_set(&nq->q->stats->nbd_connected, 0);
	/* Its late CQEs carry the old generation: they only count down. */
	nq->gen = (nq->gen + 1) & GEN_MASK;
	nq->conn = CONN_DRAINING;
	sqe = nq_sqe(nq, EV_SHUT);
	if (sqe) {
		io_uring_prep_shutdown(sqe, NBD_SLOT_SOCK, SHUT_RDWR);
		nq->shut_busy = true;
	}
	if (nq->sock_fd >= 0) {
		close(nq->sock_fd); /* the fixed-file slot keeps it until */
		nq->sock_fd = -1;
	}
	nbd_rx_reset(&nq->rx);
	txq_rebuild(nq);
	drained(nq);
}

/*
 * A soft disconnect: NBD_CMD_DISC, after the send in flight (its bytes
 * may not be cut; on_send comes back here).  False: no SQE for it.
 */
static bool send_disc(struct nbd_queue *nq)
{
	static const struct nbd_request disc = { .type = NBD_CMD_DISC };

	if (nq->send_busy)
		return true;
	nbd_request_encode(nq->disc_hdr, &disc);
	nq->disc_iov.iov_base = nq->disc_hdr;
	nq->disc_iov.iov_len = sizeof(nq->disc_hdr);
	nq->disc_msg.msg_iov = &nq->disc_iov;
	nq->disc_msg.msg_iovlen = 1;
	return post_sendmsg(nq, EV_DISC, &nq->disc_msg);
}

/*
 * The server said NBD_ESHUTDOWN, and the protocol then wants a soft
 * disconnect; after it the connection is made again as if broken, and
 * the requests not answered go on the next one.
 */
static void say_goodbye(struct nbd_queue *nq)
{
	if (nq->conn != CONN_UP)
		return;
	nq->conn = CONN_CLOSING;
	nq->closing_at = mono_ms();
	if (!send_disc(nq))
		lost(nq, "the server is shutting down (NBD_ESHUTDOWN)");
}

static void on_disc(struct nbd_queue *nq, const struct io_uring_cqe *cqe)
{
	char why[128];

	if (nq->conn != CONN_CLOSING)
		return;
	if (cqe->res == NBD_REQUEST_SIZE)
		snprintf(why, sizeof(why), "%s",
			 "the server is shutting down (NBD_ESHUTDOWN); "
			 "NBD_CMD_DISC sent");
	else
		snprintf(why, sizeof(why),
			 "the server is shutting down (NBD_ESHUTDOWN); "
			 "NBD_CMD_DISC not sent: %s",
			 cqe->res < 0 ? strerror(-cqe->res) : "short send");
	lost(nq, why);
}

static void connected(struct nbd_queue *nq)
{
	unsigned int i;

	nq->conn = CONN_UP;
	nq->answered = false;
	nq->progress_at = mono_ms();
	stats_set(&nq->q->stats->nbd_connected, 1);
	stats_add(&nq->q->stats->nbd_reconnects);
	nbd_rx_reset(&nq->rx);
	/* Replies to the old cookies would be refused: new ones. */
	for (i = 0; i < nq->tx_count; i++)
		nbd_rx_restart(&nq->rx, nq->txq[(nq->tx_head + i) % nq->depth]);
}

static int result_of(const struct nbd_req *r, int result)
{
	if (result < 0)
		return result;
	return r->type == NBD_CMD_READ || r->type == NBD_CMD_WRITE ?
		       (int)r->len :
		       0;
}

static void finish(struct nbd_queue *nq, unsigned int tag, int res)
{
	nq->reqs[tag].state = REQ_FREE;
	nq->busy--;
	queue_complete_io(nq->q, tag, res);
}

/* Count an acknowledged write, or what an acknowledged FLUSH covers */
static int durability(struct nbd_queue *nq, const struct nbd_req *r, int result)
{
	struct nbd_dev *d = nq->dev;
	uint64_t done;

	if (result < 0)
		return result;
	if (r->type == NBD_CMD_FLUSH) {
		done = atomic_load(&d->flushed);
		while (done < r->covers &&
		       !atomic_compare_exchange_weak(&d->flushed, &done,
						     r->covers))
			;
		return atomic_exchange(&d->flush_fails, false) ? -EIO : 0;
	}
	if (r->type != NBD_CMD_READ && !(r->flags & NBD_CMD_FLAG_FUA))
		nq->last_write = atomic_fetch_add(&d->writes_acked, 1) + 1;
	return result;
}

/* A reply (nbd_rx_received): the rx slot is free again */
static void replied(void *arg, unsigned int tag, int result)
{
	struct nbd_queue *nq = arg;
	struct nbd_req *r = &nq->reqs[tag];

	if (result == -ESHUTDOWN) {
		/* The server is going away: this one goes on the next. */
		nbd_rx_start(&nq->rx, tag, r->type, r->len, r->data);
		r->state = REQ_QUEUED;
		txq_push(nq, tag);
		nq->shutdown_seen = true;
		return;
	}
	nq->answered = true;
	finish(nq, tag, result_of(r, durability(nq, r, result)));
}

/* Fail requests past their deadline, where no I/O can still touch them */
static void expire(struct nbd_queue *nq, int64_t now)
{
	bool sent_late = false, changed = false;
	unsigned int tag;

	for (tag = 0; tag < nq->depth; tag++) {
		struct nbd_req *r = &nq->reqs[tag];

		if (r->state == REQ_FREE || now < r->deadline)
			continue;
		if (r->state == REQ_SENT) {
			sent_late = true;
			continue;
		}
		nbd_rx_cancel(&nq->rx, tag);
		finish(nq, tag, -EIO);
		changed = true;
	}
	if (changed) {
		/* The ones left, in tag order */
		nq->tx_head = nq->tx_count = 0;
		for (tag = 0; tag < nq->depth; tag++)
			if (nq->reqs[tag].state == REQ_QUEUED)
				txq_push(nq, tag);
	}
	/*
	 * A sent request cannot be failed while the server may answer.
	 * (While closing, NBD_CMD_DISC is on its way and ends it anyway.)
	 */
	if (sent_late && nq->conn == CONN_UP)
		lost(nq, "a request went unanswered until its deadline");
}

static void tick(struct nbd_queue *nq)
{
	int64_t now = mono_ms();
	char s[48];

	if (nq->conn == CONN_UP && nq->busy &&
	    now - nq->progress_at > nq->dev->hang_ms) {
		snprintf(s, sizeof(s), "no reply for %u s",
			 nq->dev->hang_ms / 1000);
		lost(nq, s);
	}
	/* A send the server does not take would hold NBD_CMD_DISC back */
	if (nq->conn == CONN_CLOSING && now - nq->closing_at > nq->dev->hang_ms)
		lost(nq, "the server is shutting down (NBD_ESHUTDOWN) and "
			 "takes no more bytes");
	if (nq->conn != CONN_DRAINING)
		expire(nq, now);
}

static void on_send(struct nbd_queue *nq, const struct io_uring_cqe *cqe)
{
	char why[64];

	if (cqe->res < 0) {
		snprintf(why, sizeof(why), "sending: %s", strerror(-cqe->res));
		lost(nq, why);
		return;
	}
	/*
	 * A request may be answered only once all its bytes are out: a
	 * reply before that would free its tag (and its buffer) while the
	 * send still holds them.  The send's CQE comes before the CQE of
	 * a receive of anything the server sent after reading them.
	 */
	nq->send_done += (size_t)cqe->res;
	while (nq->send_next < nq->send_nr &&
	       nq->reqs[nq->sending[nq->send_next]].send_end <= nq->send_done)
		nbd_rx_sent(&nq->rx, nq->sending[nq->send_next++]);
	if (!send_rest(nq, (size_t)cqe->res) && nq->conn == CONN_CLOSING &&
	    !send_disc(nq))
		lost(nq, "the server is shutting down (NBD_ESHUTDOWN)");
}

static void on_recv(struct nbd_queue *nq, const struct io_uring_cqe *cqe)
{
	struct uerr err;
	char why[64];

	if (cqe->res <= 0) {
		snprintf(why, sizeof(why), "%s",
			 cqe->res ? strerror(-cqe->res) :
				    "the server closed the connection");
		lost(nq, why);
		return;
	}
	nq->progress_at = mono_ms();
	if (nbd_rx_received(&nq->rx, (size_t)cqe->res, replied, nq, &err) < 0) {
		lost(nq, err.msg);
		return;
	}
	/* A reply of NBD_ESHUTDOWN: the server asks us to go. */
	if (nq->shutdown_seen) {
		nq->shutdown_seen = false;
		say_goodbye(nq);
	}
}

static int nbdt_io_done(struct ublk_queue *q, unsigned int tag,
			const struct io_uring_cqe *cqe)
{
	struct nbd_queue *nq = q->tgt_priv;
	uint32_t data = queue_ud_tgt_data(cqe->user_data);
	enum nbd_ev ev = (enum nbd_ev)(data >> GEN_BITS);
	bool current = (data & GEN_MASK) == nq->gen;

	(void)tag;
	switch (ev) {
	case EV_SEND:
		nq->send_busy = false;
		if (current)
			on_send(nq, cqe);
		break;
	case EV_RECV:
		nq->recv_busy = false;
		if (current)
			on_recv(nq, cqe);
		break;
	case EV_DISC:
		nq->send_busy = false;
		if (current)
			on_disc(nq, cqe);
		break;
	case EV_SHUT:
		nq->shut_busy = false;
		break;
	case EV_TIMER:
		nq->timer_busy = false;
		tick(nq);
		break;
	case EV_ASK:
		if (cqe->res < 0 && current && nq->conn == CONN_ASKING) {
			nq_log(nq, "cannot reach the reconnect helper: %s",
			       strerror(-cqe->res));
			nq->conn = CONN_DOWN;
			nq->retry_at = mono_ms() + 1000;
		}
		break;
	case EV_UP:
		if (current && nq->conn == CONN_ASKING)
			connected(nq);
		break;
	case EV_FAIL:
		if (current && nq->conn == CONN_ASKING) {
			nq->conn = CONN_DOWN;
			nq->retry_at = mono_ms() + nq->backoff_ms;
			if (nq->backoff_ms < 2000)
				nq->backoff_ms *= 2;
		}
		break;
	}
	drained(nq);
	kick(nq);
	return TARGET_IO_QUEUED;
}

/*
 * The device is going away and no request is left: leave with a soft
 * disconnect (NBD_CMD_DISC), as the protocol asks of a client, rather
 * than a closed socket.  A second at most for the send.
 */
static void nbdt_queue_exit(struct ublk_queue *q)
{
	struct nbd_queue *nq = q->tgt_priv;
	struct __kernel_timespec wait = { .tv_sec = 1 };
	struct io_uring_cqe *cqe;

	if (!nq || nq->conn != CONN_UP || nq->send_busy || nq->busy)
		return;
	if (!send_disc(nq))
		return;
	queue_sqes_ready(q);
	io_uring_submit(&q->ring);
	while (nq->send_busy &&
	       io_uring_wait_cqe_timeout(&q->ring, &cqe, &wait) == 0) {
		uint64_t ud = cqe->user_data;

		if (queue_ud_kind(ud) == QUEUE_UD_TGT &&
		    queue_ud_tgt_data(ud) >> GEN_BITS == EV_DISC) {
			nq->send_busy = false;
			if (cqe->res != NBD_REQUEST_SIZE)
				nq_log(nq, "%s",
				       "NBD_CMD_DISC not sent at the end");
		}
		io_uring_cqe_seen(&q->ring, cqe);
	}
}

static int nbdt_queue_io(struct ublk_queue *q, unsigned int tag,
			 const struct ublksrv_io_desc *iod)
{
	struct nbd_queue *nq = q->tgt_priv;
	const struct nbd_export *e = &nq->dev->exp;
	struct nbd_req *r = &nq->reqs[tag];
	uint32_t flags = iod->op_flags;

	r->offset = iod->start_sector << 9;
	r->len = iod->nr_sectors << 9;
	r->flags = 0;
	r->data = q->ios[tag].data;
	switch (ublk_iod_op(iod)) {
	case UBLK_IO_OP_READ:
#ifdef UBLK_USER_TEST_HOOKS
		/* Test builds only: the queue thread's filter still kills */
		if (iod->start_sector == NBD_TEST_SOCKET_SECTOR) {
			fprintf(stderr, "nbd test hook: calling socket(2)\n");
			socket(AF_INET, SOCK_STREAM, 0);
			fprintf(stderr, "nbd test hook: socket(2) allowed\n");
			return -EIO;
		}
#endif
		r->type = NBD_CMD_READ;
		break;
	case UBLK_IO_OP_WRITE:
		r->type = NBD_CMD_WRITE;
		if ((flags & UBLK_IO_F_FUA) && (e->flags & NBD_FLAG_SEND_FUA))
			r->flags = NBD_CMD_FLAG_FUA;
		break;
	case UBLK_IO_OP_FLUSH:
		if (!(e->flags & NBD_FLAG_SEND_FLUSH))
			return 0; /* a server without a cache */
		r->type = NBD_CMD_FLUSH;
		r->offset = 0;
		r->len = 0;
		r->covers = atomic_load(&nq->dev->writes_acked);
		break;
	case UBLK_IO_OP_DISCARD:
		if (!(e->flags & NBD_FLAG_SEND_TRIM))
			return -EOPNOTSUPP;
		r->type = NBD_CMD_TRIM;
		break;
	case UBLK_IO_OP_WRITE_ZEROES:
		if (!(e->flags & NBD_FLAG_SEND_WRITE_ZEROES))
			return -EOPNOTSUPP;
		r->type = NBD_CMD_WRITE_ZEROES;
		if (flags & UBLK_IO_F_NOUNMAP)
			r->flags = NBD_CMD_FLAG_NO_HOLE;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (r->type != NBD_CMD_READ && r->type != NBD_CMD_FLUSH &&
	    (e->flags & NBD_FLAG_READ_ONLY))
		return -EROFS;
	r->deadline = mono_ms() + nq->dev->timeout_ms;
	nbd_rx_start(&nq->rx, tag, r->type, r->len, r->data);
	r->state = REQ_QUEUED;
	txq_push(nq, tag);
	if (!nq->busy++)
		nq->progress_at = mono_ms();
	kick(nq);
	return TARGET_IO_QUEUED;
}

const struct target_ops target_nbd_ops = {
	.name = "nbd",
	.help = "an NBD server (--uri URI); size from the server",
	.priv_size = sizeof(struct nbd_dev),
	.open = nbdt_open,
	.close = nbdt_close,
	.queue_setup = nbdt_queue_setup,
	.ring_ops = nbdt_ring_ops,
	.queue_io = nbdt_queue_io,
	.io_done = nbdt_io_done,
	.queue_exit = nbdt_queue_exit,
	.source = TARGET_SOURCE_URI,
};
