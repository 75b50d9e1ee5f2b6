// SPDX-License-Identifier: MIT
/* null: completes every I/O at once; reads return whatever is in the buffer */
#include <errno.h>

#include "server/queue.h"
#include "server/target.h"

#define NULL_DEFAULT_SIZE (250ULL << 30)

static int null_open(struct target *t, const struct target_opts *o,
		     struct uerr *err)
{
	uint64_t bs = 1ULL << t->lbs_shift;

	t->size = o->size ? o->size : NULL_DEFAULT_SIZE;
	if (t->size % bs)
		return uerr_set(err, EINVAL,
				"--size must be a multiple of %llu bytes",
				(unsigned long long)bs);
	t->discard = true;
	return 0;
}

/* Any size: there is nothing behind it */
static int null_resize(struct target *t, uint64_t size, struct uerr *err)
{
	(void)t;
	(void)size;
	(void)err;
	return 0;
}

int null_answer(const struct ublksrv_io_desc *iod)
{
	switch (ublk_iod_op(iod)) {
	case UBLK_IO_OP_READ:
	case UBLK_IO_OP_WRITE:
		return iod->nr_sectors << 9;
	case UBLK_IO_OP_FLUSH:
	case UBLK_IO_OP_DISCARD:
	case UBLK_IO_OP_WRITE_ZEROES:
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int null_queue_io(struct ublk_queue *q, unsigned int tag,
			 const struct ublksrv_io_desc *iod)
{
	(void)q;
	(void)tag;
	return null_answer(iod);
}

static int null_io_done(struct ublk_queue *q, unsigned int tag,
			const struct io_uring_cqe *cqe)
{
	(void)q;
	(void)tag;
	(void)cqe;
	return -EIO; /* null queues no SQEs */
}

const struct target_ops target_null_ops = {
	.name = "null",
	.help = "completes every I/O at once; --size: 250G unless given",
	.open = null_open,
	.queue_io = null_queue_io,
	.io_done = null_io_done,
	.resize = null_resize,
};
