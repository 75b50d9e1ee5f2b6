// SPDX-License-Identifier: MIT
/*
 * mem: a RAM disk in a memfd.  Reads and writes are memcpy; discard and
 * write-zeroes punch holes, which gives the memory back.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "server/queue.h"
#include "server/target.h"

static int mem_open(struct target *t, const struct target_opts *o,
		    struct uerr *err)
{
	uint64_t bs = 1ULL << t->lbs_shift;
	void *map;

	if (o->backing)
		return uerr_set(err, EINVAL,
				"the mem target takes no backing file");
	if (!o->size)
		return uerr_set(err, EINVAL, "the mem target needs --size");
	if (o->size % bs)
		return uerr_set(err, EINVAL,
				"--size must be a multiple of %llu bytes",
				(unsigned long long)bs);
	t->size = o->size;
	t->fd = memfd_create("ublk-user-mem", MFD_CLOEXEC);
	if (t->fd < 0)
		return uerr_sys(err, errno, "memfd_create");
	if (ftruncate(t->fd, t->size) < 0)
		return uerr_sys(err, errno, "sizing the memfd to %llu bytes",
				(unsigned long long)t->size);
	map = mmap(NULL, t->size, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (map == MAP_FAILED)
		return uerr_sys(err, errno, "mapping %llu bytes",
				(unsigned long long)t->size);
	t->map = map;
	t->discard = true;
	return 0;
}

static void mem_close(struct target *t)
{
	if (t->map)
		munmap(t->map, t->size);
	t->map = NULL;
}

static int mem_queue_io(struct ublk_queue *q, unsigned int tag,
			const struct ublksrv_io_desc *iod)
{
	uint64_t off = iod->start_sector << 9;
	uint64_t len = (uint64_t)iod->nr_sectors << 9;
	char *disk = q->tgt->map;
	struct io_uring_sqe *sqe;

	if (off > q->tgt->size || len > q->tgt->size - off)
		return -EIO;

	switch (ublk_iod_op(iod)) {
	case UBLK_IO_OP_READ:
		memcpy(q->ios[tag].data, disk + off, len);
		return len;
	case UBLK_IO_OP_WRITE:
		memcpy(disk + off, q->ios[tag].data, len);
		return len;
	case UBLK_IO_OP_FLUSH:
		return 0;
	case UBLK_IO_OP_DISCARD:
	case UBLK_IO_OP_WRITE_ZEROES:
		/* Through the ring: no syscall of our own per I/O. */
		sqe = queue_get_sqe(q);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_fallocate(
			sqe, QUEUE_FILE_BACKING,
			FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
		sqe->flags |= IOSQE_FIXED_FILE;
		sqe->user_data = queue_ud(tag, QUEUE_UD_TGT, 0);
		q->tgt_inflight++;
		return TARGET_IO_QUEUED;
	default:
		return -EOPNOTSUPP;
	}
}

static int mem_io_done(struct ublk_queue *q, unsigned int tag,
		       const struct io_uring_cqe *cqe)
{
	(void)q;
	(void)tag;
	return cqe->res < 0 ? cqe->res : 0;
}

static unsigned int mem_ring_ops(const struct target *t, bool fixed_bufs,
				 uint8_t *ops)
{
	(void)t;
	(void)fixed_bufs;
	ops[0] = IORING_OP_FALLOCATE; /* discard, write zeroes */
	return 1;
}

const struct target_ops target_mem_ops = {
	.name = "mem",
	.ring_ops = mem_ring_ops,
	.open = mem_open,
	.close = mem_close,
	.queue_io = mem_queue_io,
	.io_done = mem_io_done,
};
