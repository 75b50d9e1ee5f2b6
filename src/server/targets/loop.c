// SPDX-License-Identifier: MIT
/*
 * loop: a regular file or a block device.  All backing I/O goes through
 * the queue's io_uring on the registered backing fd: O_DIRECT where the
 * backing allows it, FLUSH = fsync, FUA = RWF_DSYNC, DISCARD and
 * WRITE_ZEROES = fallocate(PUNCH_HOLE).  The disk may be a window of the
 * backing (--offset, --partition): every I/O is checked against its
 * length and moved by its offset, so nothing outside it is ever reached.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/queue.h"
#include "server/target.h"

struct loop {
	int fd;		     /* the backing, QUEUE_FILE_TARGET on the rings */
	bool direct;	     /* opened with O_DIRECT */
	bool regular;	     /* a regular file (may grow), not a device */
	bool window;	     /* from an offset (a partition): a fixed end */
	uint64_t offset;     /* where the disk starts in the backing */
	uint64_t limit;	     /* bytes a device or a window may grow to */
	char path[PATH_MAX]; /* absolute */
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

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/*
 * The smallest block O_DIRECT accepts on this file, 0 when the file
 * system cannot do direct I/O at all.
 */
static uint32_t dio_align(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN))
		return stx.stx_dio_offset_align;
	/* Kernel too old to say: a 4096 block is safe everywhere. */
	return 4096;
}

static int loop_open_backing(struct loop *l, int mode, struct uerr *err)
{
	int fd;

	fd = open(l->path, mode | O_CLOEXEC | O_DIRECT);
	if (fd >= 0) {
		l->direct = true;
	} else if (errno == EINVAL) {
		/* This file system has no O_DIRECT: use the page cache. */
		fd = open(l->path, mode | O_CLOEXEC);
	}
	if (fd < 0)
		return uerr_sys(err, errno, "cannot open backing file %s",
				l->path);
	l->fd = fd;
	return 0;
}

/* A block device's size and logical block size */
static int loop_blockdev_geometry(struct target *t, const struct loop *l,
				  uint64_t *bytes, struct uerr *err)
{
	int lbs;

	if (ioctl(l->fd, BLKGETSIZE64, bytes) < 0)
		return uerr_sys(err, errno, "size of %s", l->path);
	if (ioctl(l->fd, BLKSSZGET, &lbs) < 0)
		return uerr_sys(err, errno, "block size of %s", l->path);
	t->lbs_shift = ilog2_u32(lbs);
	return 0;
}

/* A regular file's logical block size is the smallest direct I/O. */
static int loop_file_geometry(struct target *t, struct loop *l, int mode,
			      struct uerr *err)
{
	uint32_t align;

	if (!l->direct)
		return 0;
	align = dio_align(l->fd);
	if (!align || align > 4096 || !is_pow2(align)) {
		/* No usable direct I/O: go buffered. */
		close(l->fd);
		l->fd = open(l->path, mode | O_CLOEXEC);
		if (l->fd < 0)
			return uerr_sys(err, errno, "cannot open %s", l->path);
		l->direct = false;
	} else if (align > 512) {
		t->lbs_shift = ilog2_u32(align);
	}
	return 0;
}

/*
 * --size, or all of the backing's bytes after --offset, in whole logical
 * blocks
 */
static int loop_set_size(struct target *t, struct loop *l, uint64_t bytes,
			 uint64_t size, struct uerr *err)
{
	uint64_t bs = 1ULL << t->lbs_shift;

	if (l->offset % bs)
		return uerr_set(err, EINVAL,
				"--offset must be a multiple of %llu bytes "
				"(the block size of %s)",
				(unsigned long long)bs, l->path);
	if (l->offset && l->offset >= bytes)
		return uerr_set(err, EINVAL,
				"--offset %llu is not before the end of %s "
				"(%llu bytes)",
				(unsigned long long)l->offset, l->path,
				(unsigned long long)bytes);
	bytes -= l->offset;
	/* A part of the file ends where it was given, a device at its end */
	l->limit = (l->window && size ? size : bytes) & ~(bs - 1);
	if (size) {
		if (size > bytes)
			return uerr_set(err, EINVAL,
					"--size %llu is larger than %s (%llu "
					"bytes%s)",
					(unsigned long long)size, l->path,
					(unsigned long long)bytes,
					l->offset ? " after --offset" : "");
		if (size % bs)
			return uerr_set(err, EINVAL,
					"--size must be a multiple of %llu "
					"bytes",
					(unsigned long long)bs);
		bytes = size;
	}
	t->size = bytes & ~(bs - 1);
	if (!t->size)
		return uerr_set(err, EINVAL,
				"backing file %s is smaller than one %llu-byte "
				"block",
				l->path, (unsigned long long)bs);
	return 0;
}

static int loop_open(struct target *t, const struct target_opts *o,
		     struct uerr *err)
{
	int mode = o->read_only ? O_RDONLY : O_RDWR;
	struct loop *l = t->priv;
	uint64_t bytes = 0;
	struct stat st;
	int ret;

	l->fd = -1;
	l->offset = o->offset;
	/* A part of the file (a partition) ends where it was given. */
	l->window = o->offset != 0;
	if (!realpath(o->backing, l->path))
		return uerr_sys(err, errno, "backing file %s", o->backing);
	if (stat(l->path, &st) < 0)
		return uerr_sys(err, errno, "backing file %s", l->path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return uerr_set(err, EINVAL,
				"backing %s is neither a regular file nor a "
				"block device",
				l->path);
	ret = loop_open_backing(l, mode, err);
	if (ret < 0)
		return ret;
	if (fstat(l->fd, &st) < 0)
		return uerr_sys(err, errno, "stat %s", l->path);

	if (S_ISBLK(st.st_mode)) {
		ret = loop_blockdev_geometry(t, l, &bytes, err);
	} else if (S_ISREG(st.st_mode)) {
		bytes = st.st_size;
		l->regular = true;
		ret = loop_file_geometry(t, l, mode, err);
	} else {
		ret = uerr_set(err, EINVAL,
			       "backing %s is neither a regular file nor a "
			       "block device",
			       l->path);
	}
	if (ret < 0)
		return ret;
	if (t->pbs_shift < t->lbs_shift)
		t->pbs_shift = t->lbs_shift;
	ret = loop_set_size(t, l, bytes, o->size, err);
	if (ret < 0)
		return ret;
	/* Writes may sit in a cache below us: ask the kernel for FLUSH. */
	t->attrs = UBLK_ATTR_VOLATILE_CACHE | UBLK_ATTR_FUA;
	t->discard = !o->read_only;
	return 0;
}

/*
 * In the confined server.  A regular file may grow to its end (the CLI
 * grows it first for --grow-file); a block device or a part of a file
 * (--offset, --partition) to where it ended when the disk was added.
 */
static int loop_resize(struct target *t, uint64_t size, struct uerr *err)
{
	struct loop *l = t->priv;
	struct stat st;

	if (size <= t->size)
		return 0; /* shrinking: the file keeps its bytes */
	if (!l->regular || l->window) {
		if (size <= l->limit)
			return 0;
		return uerr_set(err, EINVAL,
				"%s: the disk can grow to %llu bytes, where "
				"its %s ends",
				l->path, (unsigned long long)l->limit,
				l->regular ? "part of the file" :
					     "block device");
	}
	if (fstat(l->fd, &st) < 0)
		return uerr_sys(err, errno, "stat %s", l->path);
	if ((uint64_t)st.st_size < size)
		return uerr_set(err, EINVAL,
				"%s is %llu bytes, less than %llu: grow the "
				"file first (resize --grow-file)",
				l->path, (unsigned long long)st.st_size,
				(unsigned long long)size);
	return 0;
}

static void loop_close(struct target *t)
{
	struct loop *l = t->priv;

	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

static const char *loop_backing(const struct target *t)
{
	const struct loop *l = t->priv;

	return l->path;
}

static int loop_queue_setup(struct ublk_queue *q, int *files, struct uerr *err)
{
	const struct loop *l = q->tgt->priv;

	(void)err;
	files[0] = l->fd;
	return 1;
}

/* Queue the rest of a read or write that is q->ios[tag].done bytes in. */
static inline __attribute__((always_inline)) void
loop_queue_rw(struct ublk_queue *q, unsigned int tag,
	      const struct ublksrv_io_desc *iod, struct io_uring_sqe *sqe)
{
	uint32_t done = q->ios[tag].done;
	uint32_t len = (iod->nr_sectors << 9) - done;
	char *buf = (char *)q->ios[tag].data + done;
	const struct loop *l = q->tgt->priv;
	uint64_t off = l->offset + (iod->start_sector << 9) + done;
	bool read = ublk_iod_op(iod) == UBLK_IO_OP_READ;
	/* Shared memory (zero copy) is not among the registered buffers. */
	bool fixed = q->fixed_bufs && q->ios[tag].data == q->ios[tag].buf;

	/* Registered buffers save pinning the pages on every I/O. */
	if (fixed && read)
		io_uring_prep_read_fixed(sqe, QUEUE_FILE_TARGET, buf, len, off,
					 tag);
	else if (fixed)
		io_uring_prep_write_fixed(sqe, QUEUE_FILE_TARGET, buf, len, off,
					  tag);
	else if (read)
		io_uring_prep_read(sqe, QUEUE_FILE_TARGET, buf, len, off);
	else
		io_uring_prep_write(sqe, QUEUE_FILE_TARGET, buf, len, off);
	if (!read && (ublk_iod_flags(iod) & UBLK_IO_F_FUA))
		sqe->rw_flags = RWF_DSYNC;
}

/* FLUSH, DISCARD, WRITE_ZEROES, or an op we do not serve */
static __attribute__((noinline)) int
loop_queue_other(struct ublk_queue *q, unsigned int tag,
		 const struct ublksrv_io_desc *iod)
{
	const struct loop *l = q->tgt->priv;
	uint64_t size = target_size(q->tgt);
	uint64_t off = iod->start_sector << 9;
	uint64_t len = (uint64_t)iod->nr_sectors << 9;
	uint8_t op = ublk_iod_op(iod);
	struct io_uring_sqe *sqe;

	if (op != UBLK_IO_OP_FLUSH && op != UBLK_IO_OP_DISCARD &&
	    op != UBLK_IO_OP_WRITE_ZEROES)
		return -EOPNOTSUPP;
	if (op != UBLK_IO_OP_FLUSH && (off > size || len > size - off))
		return -EIO;
	sqe = queue_tgt_sqe(q, tag, 0);
	if (!sqe)
		return -EBUSY;
	if (op == UBLK_IO_OP_FLUSH)
		io_uring_prep_fsync(sqe, QUEUE_FILE_TARGET, 0);
	else
		io_uring_prep_fallocate(sqe, QUEUE_FILE_TARGET,
					FALLOC_FL_PUNCH_HOLE |
						FALLOC_FL_KEEP_SIZE,
					l->offset + off, len);
	return TARGET_IO_QUEUED;
}

static int loop_queue_io(struct ublk_queue *q, unsigned int tag,
			 const struct ublksrv_io_desc *iod)
{
	uint64_t size = target_size(q->tgt);
	uint64_t off = iod->start_sector << 9;
	uint64_t len = (uint64_t)iod->nr_sectors << 9;
	uint8_t op = ublk_iod_op(iod);
	struct io_uring_sqe *sqe;

	if (op != UBLK_IO_OP_READ && op != UBLK_IO_OP_WRITE)
		return loop_queue_other(q, tag, iod);
	if (off > size || len > size - off)
		return -EIO;
	sqe = queue_tgt_sqe(q, tag, 0);
	if (!sqe)
		return -EBUSY;
	loop_queue_rw(q, tag, iod, sqe);
	return TARGET_IO_QUEUED;
}

/* A short transfer: queue the rest (rare, out of the way) */
static __attribute__((noinline)) int
loop_queue_rest(struct ublk_queue *q, unsigned int tag,
		const struct ublksrv_io_desc *iod)
{
	struct io_uring_sqe *sqe = queue_tgt_sqe(q, tag, 0);

	if (!sqe)
		return -EIO;
	loop_queue_rw(q, tag, iod, sqe);
	return TARGET_IO_QUEUED;
}

static int loop_io_done(struct ublk_queue *q, unsigned int tag,
			const struct io_uring_cqe *cqe)
{
	const struct ublksrv_io_desc *iod = &q->iods[tag];
	uint32_t len = iod->nr_sectors << 9;
	uint8_t op = ublk_iod_op(iod);

	if (cqe->res < 0)
		return cqe->res;
	if (op != UBLK_IO_OP_READ && op != UBLK_IO_OP_WRITE)
		return 0;

	if (cqe->res == 0) {
		/* A write that moves nothing, or a read past the end. */
		if (op == UBLK_IO_OP_WRITE)
			return -EIO;
		memset((char *)q->ios[tag].data + q->ios[tag].done, 0,
		       len - q->ios[tag].done);
		return len;
	}
	q->ios[tag].done += cqe->res;
	if (q->ios[tag].done >= len)
		return len;
	return loop_queue_rest(q, tag, iod); /* short: the rest */
}

static unsigned int loop_ring_ops(const struct ublk_queue *q, uint8_t *ops)
{
	unsigned int n = 0;

	if (q->fixed_bufs) {
		ops[n++] = IORING_OP_READ_FIXED;
		ops[n++] = IORING_OP_WRITE_FIXED;
	}
	/* Plain reads and writes: without fixed buffers, or zero copy. */
	if (!q->fixed_bufs || q->shmem) {
		ops[n++] = IORING_OP_READ;
		ops[n++] = IORING_OP_WRITE;
	}
	ops[n++] = IORING_OP_FSYNC;
	ops[n++] = IORING_OP_FALLOCATE;
	return n;
}

const struct target_ops target_loop_ops = {
	.name = "loop",
	.help = "a file or block device (-f FILE), or a part of it "
		"(--partition, --offset, --size)",
	.priv_size = sizeof(struct loop),
	.open = loop_open,
	.close = loop_close,
	.queue_setup = loop_queue_setup,
	.ring_ops = loop_ring_ops,
	.queue_io = loop_queue_io,
	.io_done = loop_io_done,
	.backing = loop_backing,
	.resize = loop_resize,
	.fixed_buffers = true,
	.offsets = true,
	.source = TARGET_SOURCE_FILE,
};
