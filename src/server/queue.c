// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/clock.h"
#include "host/caps.h"
#include "server/queue.h"
#include "server/sandbox.h"

static size_t page_round(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (len + page - 1) & ~(page - 1);
}

/* Where the kernel puts queue q_id's descriptors in /dev/ublkcN */
static off_t iods_offset(unsigned int q_id)
{
	return UBLKSRV_CMD_BUF_OFFSET +
	       (off_t)q_id * page_round(UBLK_MAX_QUEUE_DEPTH *
					sizeof(struct ublksrv_io_desc));
}

void queue_prep_uring_cmd(struct io_uring_sqe *sqe, uint32_t cmd_op,
			  uint64_t user_data)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = QUEUE_FILE_CHAR;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->cmd_op = cmd_op;
	sqe->user_data = user_data;
}

void queue_prep_io_cmd(struct io_uring_sqe *sqe, uint32_t cmd_op,
		       unsigned int q_id, unsigned int tag, int32_t result,
		       uint64_t buf_addr)
{
	struct ublksrv_io_cmd *cmd = (struct ublksrv_io_cmd *)sqe->cmd;

	queue_prep_uring_cmd(sqe, cmd_op, queue_ud(tag, QUEUE_UD_CMD, 0));
	cmd->q_id = q_id;
	cmd->tag = tag;
	cmd->result = result;
	cmd->addr = buf_addr;
}

/*
 * The target has filled the SQE queue_tgt_sqe() gave it: make it valid.
 * After the target's prep, as io_uring_prep_*() clear the flags; at the
 * latest before the ring is submitted.
 */
static inline void queue_tgt_sqe_finish(struct ublk_queue *q)
{
	if (q->tgt_sqe) {
		q->tgt_sqe->flags |= IOSQE_FIXED_FILE;
		q->tgt_sqe->user_data = q->tgt_sqe_ud;
		q->tgt_sqe = NULL;
	}
}

void queue_sqes_ready(struct ublk_queue *q)
{
	queue_tgt_sqe_finish(q);
	if (q->batch)
		batch_flush(q);
}

/*
 * The ring is full (it has 2 SQEs a tag: a safety net): submit what is
 * there.  Out of line, so that the usual path needs no stack frame.
 */
static __attribute__((noinline, cold)) struct io_uring_sqe *
queue_get_sqe_full(struct ublk_queue *q)
{
	queue_tgt_sqe_finish(q); /* it is submitted now */
	io_uring_submit(&q->ring);
	return io_uring_get_sqe(&q->ring);
}

struct io_uring_sqe *queue_get_sqe(struct ublk_queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	return sqe ? sqe : queue_get_sqe_full(q);
}

static inline struct io_uring_sqe *queue_tgt_sqe_count(struct ublk_queue *q,
						       struct io_uring_sqe *sqe,
						       unsigned int tag,
						       uint32_t tgt_data)
{
	q->tgt_sqe = sqe;
	q->tgt_sqe_ud = queue_ud(tag, QUEUE_UD_TGT, tgt_data);
	if (tag != QUEUE_NO_TAG) {
		q->ios[tag].tgt_sqes++;
		q->tgt_inflight++;
	}
	return sqe;
}

static __attribute__((noinline, cold)) struct io_uring_sqe *
queue_tgt_sqe_full(struct ublk_queue *q, unsigned int tag, uint32_t tgt_data)
{
	struct io_uring_sqe *sqe = queue_get_sqe_full(q);

	return sqe ? queue_tgt_sqe_count(q, sqe, tag, tgt_data) : NULL;
}

struct io_uring_sqe *queue_tgt_sqe(struct ublk_queue *q, unsigned int tag,
				   uint32_t tgt_data)
{
	struct io_uring_sqe *sqe;

	queue_tgt_sqe_finish(q); /* the one before, if any */
	sqe = io_uring_get_sqe(&q->ring);
	if (!sqe)
		return queue_tgt_sqe_full(q, tag, tgt_data);
	return queue_tgt_sqe_count(q, sqe, tag, tgt_data);
}

static inline int queue_fill_cmd(struct ublk_queue *q, struct io_uring_sqe *sqe,
				 unsigned int tag, uint32_t op, int32_t result)
{
	queue_prep_io_cmd(sqe, op, q->q_id, tag, result,
			  (uint64_t)(uintptr_t)q->ios[tag].buf);
	q->cmd_inflight++;
	return 0;
}

static __attribute__((noinline, cold)) int
queue_issue_cmd_full(struct ublk_queue *q, unsigned int tag, uint32_t op,
		     int32_t result)
{
	struct io_uring_sqe *sqe = queue_get_sqe_full(q);

	return sqe ? queue_fill_cmd(q, sqe, tag, op, result) : -EBUSY;
}

static int queue_issue_cmd(struct ublk_queue *q, unsigned int tag, uint32_t op,
			   int32_t result)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	if (!sqe)
		return queue_issue_cmd_full(q, tag, op, result);
	return queue_fill_cmd(q, sqe, tag, op, result);
}

/* The result of a request handed to the target (or refused before) */
static void queue_commit(struct ublk_queue *q, unsigned int tag, int result)
{
	q->tgt_owned--;
	if (q->batch)
		batch_commit(q, tag, result);
	else if (queue_issue_cmd(q, tag, UBLK_U_IO_COMMIT_AND_FETCH_REQ,
				 result))
		fprintf(stderr, "queue %u: no SQE to commit tag %u\n", q->q_id,
			tag);
}

/*
 * Where the data of a read or write is: in shared memory for a zero-copy
 * I/O (checked against what is registered), else in our own buffer.
 */
static bool queue_locate_data(struct ublk_queue *q, unsigned int tag,
			      const struct ublksrv_io_desc *iod)
{
	struct ublk_io *io = &q->ios[tag];
	uint8_t op = ublk_iod_op(iod);

	io->data = io->buf;
	if (op != UBLK_IO_OP_READ && op != UBLK_IO_OP_WRITE)
		return true;
	if (!(iod->op_flags & UBLK_IO_F_SHMEM_ZC)) {
		stats_add(&q->stats->copied_ios);
		return true;
	}
	/* A read fills the client's pages: we write into the buffer. */
	io->data = shmem_data(q->shmem, iod->addr,
			      (uint64_t)iod->nr_sectors << 9,
			      op == UBLK_IO_OP_READ);
	if (!io->data)
		return false;
	stats_add(&q->stats->zc_ios);
	return true;
}

/*
 * The target's result for tag: commit it, or keep it until the last of
 * tag's SQEs has completed (its buffer is in use until then).
 */
static inline void queue_result(struct ublk_queue *q, unsigned int tag, int res)
{
	struct ublk_io *io = &q->ios[tag];

	if (io->tgt_sqes) {
		io->result = res;
		io->kept = true;
		return;
	}
	io->kept = false; /* a result kept before is replaced */
	queue_commit(q, tag, res);
}

void queue_complete_io(struct ublk_queue *q, unsigned int tag, int res)
{
	queue_result(q, tag, res);
}

/* Would this request change the disk? */
static inline bool queue_writes(const struct ublksrv_io_desc *iod)
{
	uint8_t op = ublk_iod_op(iod);

	return op == UBLK_IO_OP_WRITE || op == UBLK_IO_OP_DISCARD ||
	       op == UBLK_IO_OP_WRITE_ZEROES;
}

static void queue_handle_io(struct ublk_queue *q, unsigned int tag)
{
	const struct ublksrv_io_desc *iod = &q->iods[tag];
	struct ublk_io *io = &q->ios[tag];
	int ret;

	io->done = 0;
	q->tgt_owned++;
	stats_add(&q->stats->ios);
	if (!queue_locate_data(q, tag, iod)) {
		queue_commit(q, tag, -EIO);
		return;
	}
	if (q->read_only && queue_writes(iod)) {
		queue_commit(q, tag, -EROFS);
		return;
	}
	ret = q->tgt->ops->queue_io(q, tag, iod);
	if (ret == TARGET_IO_QUEUED)
		return;
	/* Nothing is kept for a new request: no need to clear io->kept. */
	if (io->tgt_sqes) {
		io->result = ret;
		io->kept = true;
	} else {
		queue_commit(q, tag, ret);
	}
}

static void queue_handle_tgt_cqe(struct ublk_queue *q, unsigned int tag,
				 const struct io_uring_cqe *cqe)
{
	struct ublk_io *io;
	int ret;

	if (tag == QUEUE_NO_TAG) {
		q->tgt->ops->io_done(q, tag, cqe);
		return;
	}
	io = &q->ios[tag];
	io->tgt_sqes--;
	q->tgt_inflight--;
	ret = q->tgt->ops->io_done(q, tag, cqe);
	if (ret != TARGET_IO_QUEUED) {
		queue_result(q, tag, ret);
	} else if (!io->tgt_sqes && io->kept) {
		/* The last SQE is done: the result given earlier goes now. */
		io->kept = false;
		queue_commit(q, tag, io->result);
	}
}

static __attribute__((noinline, cold)) void
queue_cmd_failed(const struct ublk_queue *q, unsigned int tag, int res)
{
	fprintf(stderr, "queue %u: ublk command for tag %u failed: %s\n",
		q->q_id, tag, strerror(-res));
}

/* The server pauses (data: gen << 1 | 1) or resumes (0) the queue. */
static __attribute__((noinline, cold)) void queue_ctl(struct ublk_queue *q,
						      uint32_t data)
{
	unsigned int tag;

	if (data & QUEUE_CTL_PAUSE) {
		q->paused = true;
		q->pause_gen = data >> 1;
		return;
	}
	q->paused = false;
	for (tag = 0; tag < q->depth && q->nr_held; tag++) {
		if (!q->ios[tag].held)
			continue;
		q->ios[tag].held = false;
		q->nr_held--;
		queue_handle_io(q, tag);
	}
}

/* A request that arrives while paused waits for the resume. */
static __attribute__((noinline, cold)) void queue_hold(struct ublk_queue *q,
						       unsigned int tag)
{
	q->ios[tag].held = true;
	q->nr_held++;
}

/* Paused, and nothing the target has left: say so, once per pause. */
static inline void queue_check_drained(struct ublk_queue *q)
{
	if (__builtin_expect(q->paused, 0) && !q->tgt_owned &&
	    q->drained_gen != q->pause_gen) {
		__atomic_store_n(&q->drained_gen, q->pause_gen,
				 __ATOMIC_RELEASE);
		if (q->on_drained)
			q->on_drained(q);
	}
}

void queue_new_request(struct ublk_queue *q, unsigned int tag)
{
	if (__builtin_expect(q->paused, 0))
		queue_hold(q, tag);
	else /* Even while stopping: a dropped request never ends. */
		queue_handle_io(q, tag);
}

static inline void queue_dispatch_cqe(struct ublk_queue *q,
				      const struct io_uring_cqe *cqe)
{
	unsigned int tag = queue_ud_tag(cqe->user_data);
	unsigned int kind = queue_ud_kind(cqe->user_data);

	if (kind == QUEUE_UD_TGT) {
		queue_handle_tgt_cqe(q, tag, cqe);
		return;
	}
	if (kind >= QUEUE_UD_FETCH) {
		batch_handle_cqe(q, cqe);
		return;
	}
	if (__builtin_expect(kind == QUEUE_UD_CTL, 0)) {
		queue_ctl(q, queue_ud_tgt_data(cqe->user_data));
		return;
	}

	q->cmd_inflight--;
	if (cqe->res == UBLK_IO_RES_OK) {
		queue_new_request(q, tag);
		return;
	}
	if (cqe->res != UBLK_IO_RES_ABORT)
		queue_cmd_failed(q, tag, cqe->res);
	/* The device is stopping: this tag is done for good. */
	q->aborting = true;
}

void queue_handle_cqe(struct ublk_queue *q, const struct io_uring_cqe *cqe)
{
	queue_dispatch_cqe(q, cqe);
	queue_check_drained(q);
}

void queue_reap(struct ublk_queue *q)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&q->ring, head, cqe)
	{
		queue_handle_cqe(q, cqe);
		n++;
	}
	io_uring_cq_advance(&q->ring, n);
}

static int queue_ring_init(struct ublk_queue *q)
{
	/* Disabled until the queue thread enables it: that thread becomes
	 * the ring's single issuer, and restrictions are in place first. */
	unsigned int flags[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			IORING_SETUP_COOP_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	struct io_uring_params p;
	unsigned int i;
	int ret = -EINVAL;

	/* Newer setup flags first; older kernels say EINVAL. */
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = flags[i] | IORING_SETUP_R_DISABLED;
		/* A polling queue sees pending task work (COOP or DEFER) */
		if (q->poll_us && flags[i])
			p.flags |= IORING_SETUP_TASKRUN_FLAG;
		ret = io_uring_queue_init_params(2 * q->depth, &q->ring, &p);
		if (ret != -EINVAL)
			break;
	}
	return ret;
}

/* Register the I/O buffers; false (and plain read/write) if not allowed. */
static bool queue_register_buffers(struct ublk_queue *q)
{
	struct iovec *iov;
	unsigned int tag;
	int ret;

	iov = calloc(q->depth, sizeof(*iov));
	if (!iov)
		return false;
	for (tag = 0; tag < q->depth; tag++) {
		iov[tag].iov_base = q->ios[tag].buf;
		iov[tag].iov_len = q->buf_size;
	}
	/* Pinned pages count against RLIMIT_MEMLOCK without CAP_IPC_LOCK. */
	ret = io_uring_register_buffers(&q->ring, iov, q->depth);
	free(iov);
	if (ret < 0)
		fprintf(stderr,
			"queue %u: fixed buffers not registered (%s): using "
			"plain read/write\n",
			q->q_id, strerror(-ret));
	return ret == 0;
}

/* The char device, then the files the target asks for */
static int queue_register_files(struct ublk_queue *q, struct uerr *err)
{
	int files[1 + TARGET_MAX_FILES] = { q->char_fd };
	int ret, nr = 0;

	if (q->tgt->ops->queue_setup) {
		nr = q->tgt->ops->queue_setup(q, files + 1, err);
		if (nr < 0)
			return uerr_prefix(err, "queue %u", q->q_id);
	}
	q->tgt_file = nr ? files[1] : -1;
	ret = io_uring_register_files(&q->ring, files, 1 + nr);
	if (ret < 0)
		return uerr_sys(err, -ret, "queue %u: registering files",
				q->q_id);
	return 0;
}

/*
 * A read-only disk: the ring cannot write to a file whatever the target
 * puts on it.  Sending on a socket (a network target's requests) stays.
 */
static unsigned int queue_drop_write_ops(uint8_t *ops, unsigned int n)
{
	unsigned int i, kept = 0;

	for (i = 0; i < n; i++) {
		switch (ops[i]) {
		case IORING_OP_WRITE:
		case IORING_OP_WRITE_FIXED:
		case IORING_OP_WRITEV:
		case IORING_OP_FALLOCATE:
		case IORING_OP_SPLICE:
		case IORING_OP_TEE:
			continue;
		default:
			ops[kept++] = ops[i];
		}
	}
	return kept;
}

int queue_setup_ring(struct ublk_queue *q, struct uerr *err)
{
	uint8_t ops[TARGET_MAX_RING_OPS + 1];
	unsigned int nr_ops = 0;
	int ret;

	ret = queue_ring_init(q);
	if (ret < 0)
		return uerr_sys(err, -ret, "queue %u: io_uring setup", q->q_id);
	q->ring_ready = true;
	ret = queue_register_files(q, err);
	if (ret < 0)
		return ret;
	if (q->batch) {
		ret = batch_register(q, err);
		if (ret < 0)
			return ret;
	}
	if (q->tgt->ops->fixed_buffers && q->rings_charged)
		fprintf(stderr,
			"queue %u: fixed buffers not registered: this kernel "
			"counts io_uring rings against RLIMIT_MEMLOCK, and "
			"pinned buffers would leave your other programs "
			"(ublk-user itself) no room to make one: using plain "
			"read/write\n",
			q->q_id);
	else if (q->tgt->ops->fixed_buffers)
		q->fixed_bufs = queue_register_buffers(q);

	ops[nr_ops++] = IORING_OP_URING_CMD;
	if (q->tgt->ops->ring_ops)
		nr_ops += q->tgt->ops->ring_ops(q, ops + nr_ops);
	if (q->read_only)
		nr_ops = queue_drop_write_ops(ops, nr_ops);
	ret = sandbox_restrict_ring(&q->ring, ops, nr_ops, q->batch != NULL,
				    err);
	if (ret < 0)
		return uerr_prefix(err, "queue %u", q->q_id);
	return 0;
}

/* In the thread, once the process is confined: start fetching. */
static int queue_start_fetching(struct ublk_queue *q)
{
	unsigned int tag;
	int ret;

	/* liburing 2.3 declares io_uring_enable_rings() but lacks it. */
	ret = io_uring_register(q->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
				NULL, 0);
	if (ret < 0) {
		snprintf(q->setup_msg, sizeof(q->setup_msg),
			 "queue %u: enabling the ring: %s", q->q_id,
			 strerror(-ret));
		return ret;
	}
	if (q->batch)
		return batch_start(q, q->setup_msg, sizeof(q->setup_msg));
	for (tag = 0; tag < q->depth; tag++)
		queue_issue_cmd(q, tag, UBLK_U_IO_FETCH_REQ, -1);
	ret = io_uring_submit(&q->ring);
	if (ret < 0) {
		snprintf(q->setup_msg, sizeof(q->setup_msg),
			 "queue %u: submitting FETCH_REQ: %s", q->q_id,
			 strerror(-ret));
		return ret;
	}
	return 0;
}

/*
 * Drop capabilities (a root server's main thread may keep its own), wait
 * for the server's filter, add our own.
 */
static int queue_confine(struct ublk_queue *q)
{
	struct uerr err;
	int dropped;

	uerr_clear(&err);
	dropped = caps_drop_thread(&err);
	/*
	 * Each io_uring_enter then finds the ring by its index here rather
	 * than looking its fd up (61 fewer instructions, seccomp-cost).
	 * Only this thread's enters use it, and only now, before the
	 * filters, may it be registered; without it (Linux < 5.18) the ring
	 * works as well.
	 */
	io_uring_register_ring_fd(&q->ring);
	pthread_barrier_wait(&q->gate->barrier); /* server: all parked */
	pthread_barrier_wait(&q->gate->barrier); /* server: filter loaded */
	if (dropped < 0 || q->gate->abort) {
		snprintf(q->setup_msg, sizeof(q->setup_msg), "queue %u: %.200s",
			 q->q_id, dropped < 0 ? err.msg : "setup aborted");
		return -EPERM;
	}
	if (sandbox_queue_thread(&err) < 0) {
		snprintf(q->setup_msg, sizeof(q->setup_msg), "queue %u: %.200s",
			 q->q_id, err.msg);
		return -EPERM;
	}
	return 0;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/*
 * --poll-us: spin up to poll_us for a CQE rather than sleep in the
 * kernel, which costs a wake-up (often an idle CPU's too) per request.
 * The ring's pending task work (a new request) is run as soon as
 * IORING_SQ_TASKRUN shows it.  True when there are CQEs.
 */
static bool queue_poll(struct ublk_queue *q)
{
	uint64_t end = 0, now;
	unsigned int spins;

	for (spins = 0;; spins++) {
		if (IO_URING_READ_ONCE(*q->ring.sq.kflags) & IORING_SQ_TASKRUN)
			io_uring_get_events(&q->ring);
		if (io_uring_cq_ready(&q->ring))
			return true;
		if (spins % 32 == 0) { /* a clock read costs more than a spin */
			now = mono_us();
			if (!end)
				end = now + q->poll_us;
			else if (now >= end)
				return false;
		}
		cpu_relax();
	}
}

/* Submit what is queued, and wait for at least one CQE: 0 or -errno */
static int queue_submit_and_wait(struct ublk_queue *q)
{
	unsigned int wait_nr = 1 + (q->batch ? batch_wait_extra(q) : 0);
	int ret;

	/*
	 * Only for the next request: the target's own I/O may need a
	 * worker thread on this very CPU (io-wq), which a spin would keep
	 * waiting.
	 */
	if (q->poll_us && !q->tgt_inflight) {
		ret = io_uring_submit(&q->ring);
		if (ret >= 0 && queue_poll(q))
			return 0;
	}
	ret = io_uring_submit_and_wait(&q->ring, wait_nr);
	return ret < 0 ? ret : 0;
}

static void *queue_thread(void *arg)
{
	struct ublk_queue *q = arg;
	int ret;

	q->setup_status = queue_confine(q);
	if (!q->setup_status)
		q->setup_status = queue_start_fetching(q);
	q->on_event(q);
	if (q->setup_status)
		return NULL;

	/* Held requests are the kernel's too: they must end. */
	while (q->cmd_inflight || q->tgt_inflight || q->tgt_owned ||
	       q->nr_held || batch_pending(q->batch)) {
		queue_sqes_ready(q);
		ret = queue_submit_and_wait(q);
		if (ret < 0 && ret != -EINTR && ret != -EBUSY) {
			fprintf(stderr, "queue %u: io_uring_enter: %s\n",
				q->q_id, strerror(-ret));
			break;
		}
		queue_reap(q);
	}
	if (q->tgt->ops->queue_exit)
		q->tgt->ops->queue_exit(q);
	q->on_event(q);
	return NULL;
}

int queue_init(struct ublk_queue *q, unsigned int q_id, unsigned int depth,
	       unsigned int buf_size, int char_fd, struct target *tgt,
	       const struct queue_opts *opts, struct uerr *err)
{
	unsigned int tag;
	void *p;

	memset(q, 0, sizeof(*q));
	q->q_id = q_id;
	q->depth = depth;
	q->buf_size = buf_size;
	q->char_fd = char_fd;
	q->tgt = tgt;
	q->read_only = tgt->attrs & UBLK_ATTR_READ_ONLY;
	q->shmem = opts->shmem;
	q->poll_us = opts->poll_us;
	q->setup_status = -EINPROGRESS;
	q->tgt_file = -1;
	q->stats = &q->own_stats;

	q->iods_len = page_round(depth * sizeof(struct ublksrv_io_desc));
	p = mmap(NULL, q->iods_len, PROT_READ, MAP_SHARED | MAP_POPULATE,
		 char_fd, iods_offset(q_id));
	if (p == MAP_FAILED)
		return uerr_sys(err, errno, "queue %u: mapping I/O descriptors",
				q_id);
	q->iods = p;

	q->ios = calloc(depth, sizeof(*q->ios));
	if (!q->ios)
		return uerr_sys(err, ENOMEM, "queue %u", q_id);

	/* Untouched pages cost nothing until an I/O of that size arrives. */
	q->bufs_len = (size_t)depth * buf_size;
	p = mmap(NULL, q->bufs_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return uerr_sys(err, errno, "queue %u: I/O buffers", q_id);
	q->bufs = p;
	/*
	 * With transparent huge pages a 4 KiB I/O would keep 2 MiB: 4 KiB
	 * writes at depth 64 left a queue of depth 128 with 64 MiB where
	 * 512 KiB was touched.  EINVAL: a kernel without THP.
	 */
	if (madvise(p, q->bufs_len, MADV_NOHUGEPAGE) && errno != EINVAL)
		return uerr_sys(err, errno, "queue %u: I/O buffers", q_id);
	for (tag = 0; tag < depth; tag++)
		q->ios[tag].buf = (char *)q->bufs + (size_t)tag * buf_size;

	if (opts->batch) {
		q->batch = calloc(1, sizeof(*q->batch));
		if (!q->batch)
			return uerr_sys(err, ENOMEM, "queue %u", q_id);
		if (batch_init(q, err) < 0)
			return uerr_prefix(err, "queue %u", q_id);
	}

	if (opts->mlock) {
		/* Locked pages are never discarded; we never MADV_DONTNEED. */
		if (mlock(q->bufs, q->bufs_len) < 0)
			return uerr_sys(err, errno,
					"queue %u: locking %zu bytes of I/O "
					"buffers",
					q_id, q->bufs_len);
		q->mlocked = true;
	}
	return 0;
}

int queue_start(struct ublk_queue *q, struct queue_gate *gate, struct uerr *err)
{
	int ret;

	q->gate = gate;
	ret = pthread_create(&q->thread, NULL, queue_thread, q);
	if (ret)
		return uerr_sys(err, ret, "queue %u: starting thread", q->q_id);
	return 0;
}

void queue_join(struct ublk_queue *q)
{
	pthread_join(q->thread, NULL);
}

void queue_free(struct ublk_queue *q)
{
	if (q->ring_ready)
		io_uring_queue_exit(&q->ring);
	q->ring_ready = false;
	if (q->batch) /* after the ring: it no longer uses the buffers */
		batch_free(q);
	free(q->batch);
	q->batch = NULL;
	if (q->bufs)
		munmap(q->bufs, q->bufs_len);
	if (q->iods)
		munmap(q->iods, q->iods_len);
	free(q->ios);
	q->bufs = NULL;
	q->iods = NULL;
	q->ios = NULL;
}
