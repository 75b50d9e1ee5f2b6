// SPDX-License-Identifier: MIT
/*
 * fault: a null target with two traps, built only into the test binary
 * (-DUBLK_USER_TEST_HOOKS), never into ublk-user itself.  It shows that
 * the confinement holds when a target goes wrong:
 *  - a read of sector FAULT_SYSCALL_SECTOR makes the queue thread call
 *    socket(2), which its seccomp filter does not allow;
 *  - a read of sector FAULT_RINGOP_SECTOR puts an OPENAT on the ring, which
 *    the ring's restrictions do not allow; the CQE's result (-EACCES) is
 *    logged and returned as the I/O's result;
 *  - a read of sector FAULT_WRITE_SECTOR puts a WRITE (to the char
 *    device's slot) on the ring: fault lists WRITE among its ring opcodes,
 *    so a writable disk's ring takes it (the char device refuses the write
 *    itself), and a read-only disk's ring refuses it (-EACCES): the queue
 *    keeps write opcodes off a read-only disk's ring whatever the target
 *    asks for;
 *  - a read of sector FAULT_NEWRING_SECTOR sets up a new ring (seccomp
 *    forbids that, so only under UBLK_USER_SECCOMP=log) and submits a NOP,
 *    which the kernel's task restrictions refuse; the result is logged.
 */
#ifdef UBLK_USER_TEST_HOOKS

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "server/queue.h"
#include "server/target.h"

#define FAULT_SYSCALL_SECTOR 2048
#define FAULT_RINGOP_SECTOR 4096
#define FAULT_NEWRING_SECTOR 6144
#define FAULT_WRITE_SECTOR 8192

/* What a target SQE was, in its user_data */
#define FAULT_OPENAT 0
#define FAULT_WRITE 1

static int fault_open(struct target *t, const struct target_opts *o,
		      struct uerr *err)
{
	(void)err; /* no file, no URI: target_opts_check() saw to that */
	t->size = o->size ? o->size : 64ULL << 20;
	return 0;
}

static int fault_new_ring(void)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	int ret;

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret < 0) {
		fprintf(stderr, "fault: new ring: setup %d\n", ret);
		return -EIO;
	}
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_nop(sqe);
	io_uring_submit_and_wait(&ring, 1);
	ret = io_uring_peek_cqe(&ring, &cqe) == 0 ? cqe->res : -EIO;
	fprintf(stderr, "fault: new ring: NOP completed with %d (%s)\n", ret,
		ret < 0 ? strerror(-ret) : "allowed");
	io_uring_queue_exit(&ring);
	return -EIO;
}

static int fault_queue_io(struct ublk_queue *q, unsigned int tag,
			  const struct ublksrv_io_desc *iod)
{
	struct io_uring_sqe *sqe;

	if (ublk_iod_op(iod) != UBLK_IO_OP_READ)
		return ublk_iod_op(iod) == UBLK_IO_OP_WRITE ?
			       (int)(iod->nr_sectors << 9) :
			       0;
	if (iod->start_sector == FAULT_SYSCALL_SECTOR) {
		fprintf(stderr, "fault: calling socket(2)\n");
		socket(AF_INET, SOCK_STREAM, 0); /* the filter kills us here */
		fprintf(stderr, "fault: socket(2) was allowed\n");
		return -EIO;
	}
	if (iod->start_sector == FAULT_NEWRING_SECTOR)
		return fault_new_ring();
	if (iod->start_sector == FAULT_WRITE_SECTOR) {
		sqe = queue_tgt_sqe(q, tag, FAULT_WRITE);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_write(sqe, QUEUE_FILE_CHAR, q->ios[tag].buf, 512,
				    0);
		return TARGET_IO_QUEUED;
	}
	if (iod->start_sector == FAULT_RINGOP_SECTOR) {
		sqe = queue_tgt_sqe(q, tag, FAULT_OPENAT);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
		return TARGET_IO_QUEUED;
	}
	return iod->nr_sectors << 9;
}

static int fault_io_done(struct ublk_queue *q, unsigned int tag,
			 const struct io_uring_cqe *cqe)
{
	bool write = queue_ud_tgt_data(cqe->user_data) == FAULT_WRITE;

	(void)q;
	(void)tag;
	fprintf(stderr, "fault: ring %s completed with %d (%s)\n",
		write ? "WRITE" : "OPENAT", cqe->res,
		cqe->res < 0 ? strerror(-cqe->res) : "done");
	return cqe->res < 0 ? cqe->res : -EIO;
}

/* WRITE for the trap: the queue drops it on a read-only disk */
static unsigned int fault_ring_ops(const struct ublk_queue *q, uint8_t *ops)
{
	(void)q;
	ops[0] = IORING_OP_WRITE;
	return 1;
}

const struct target_ops target_fault_ops = {
	.name = "fault",
	.help = "(test build) null with traps that break the confinement",
	.open = fault_open,
	.queue_io = fault_queue_io,
	.io_done = fault_io_done,
	.ring_ops = fault_ring_ops,
};

#endif
