// SPDX-License-Identifier: MIT
/*
 * mem: a RAM disk in a memfd.  Reads and writes are memcpy; discard and
 * write-zeroes punch holes, which gives the memory back.  The memfd and
 * its mapping are made MEM_GROW_ROOM long at once (address space only:
 * memory is used where written), so that the disk can grow without
 * moving the mapping under the queues.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "server/queue.h"
#include "server/target.h"

/* What a mem disk may grow to, unless it starts larger */
#define MEM_GROW_ROOM (1ULL << 40)

struct mem {
	int fd;		   /* the memfd: fallocate through the ring */
	char *map;	   /* the whole disk, and room to grow */
	uint64_t reserved; /* bytes of the memfd and of map */
};

static int mem_open(struct target *t, const struct target_opts *o,
		    struct uerr *err)
{
	struct mem *m = t->priv;
	uint64_t bs = 1ULL << t->lbs_shift;
	struct rlimit rl;
	void *map;

	m->fd = -1;
	if (o->size % bs)
		return uerr_set(err, EINVAL,
				"--size must be a multiple of %llu bytes",
				(unsigned long long)bs);
	t->size = o->size;
	m->fd = memfd_create("ublk-user-mem", MFD_CLOEXEC);
	if (m->fd < 0)
		return uerr_sys(err, errno, "memfd_create");
	/*
	 * Room to grow where the address space allows (ulimit -v), and
	 * within RLIMIT_FSIZE (ulimit -f), past which ftruncate() would
	 * raise SIGXFSZ.
	 */
	m->reserved = t->size > MEM_GROW_ROOM ? t->size : MEM_GROW_ROOM;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    m->reserved > rl.rlim_cur)
		m->reserved = rl.rlim_cur > t->size ? rl.rlim_cur : t->size;
	map = MAP_FAILED;
	if (ftruncate(m->fd, m->reserved) == 0)
		map = mmap(NULL, m->reserved, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_NORESERVE, m->fd, 0);
	if (map == MAP_FAILED) {
		m->reserved = t->size;
		if (ftruncate(m->fd, t->size) < 0)
			return uerr_sys(err, errno,
					"sizing the memfd to %llu bytes",
					(unsigned long long)t->size);
		map = mmap(NULL, t->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   m->fd, 0);
	}
	if (map == MAP_FAILED)
		return uerr_sys(err, errno, "mapping %llu bytes",
				(unsigned long long)t->size);
	m->map = map;
	t->discard = true;
	return 0;
}

static void mem_close(struct target *t)
{
	struct mem *m = t->priv;

	if (m->map)
		munmap(m->map, m->reserved);
	if (m->fd >= 0)
		close(m->fd);
	m->map = NULL;
	m->fd = -1;
}

static uint64_t page_up(uint64_t v)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	return (v + page - 1) & ~(page - 1);
}

/* Give [from, to) of the disk back: it reads as zeroes from now on. */
static int mem_zero(struct mem *m, uint64_t from, uint64_t to, struct uerr *err)
{
	uint64_t start = page_up(from), end = page_up(to);

	if (start > to)
		start = to;
	memset(m->map + from, 0, start - from); /* a page's tail: in place */
	if (end > start && madvise(m->map + start, end - start, MADV_REMOVE))
		return uerr_sys(err, errno, "freeing %llu bytes of memory",
				(unsigned long long)(end - start));
	return 0;
}

/*
 * In the confined server: madvise() only.  Growing zeroes what becomes
 * the disk's (a late write of before a shrink may have left data there);
 * shrinking gives the memory back.
 */
static int mem_resize(struct target *t, uint64_t size, struct uerr *err)
{
	struct mem *m = t->priv;

	if (size > m->reserved)
		return uerr_set(err, EINVAL,
				"a mem disk grows to at most %llu bytes (the "
				"room reserved when it was added)",
				(unsigned long long)m->reserved);
	if (size > t->size)
		return mem_zero(m, t->size, size, err);
	return mem_zero(m, size, t->size, err);
}

static int mem_queue_setup(struct ublk_queue *q, int *files, struct uerr *err)
{
	const struct mem *m = q->tgt->priv;

	(void)err;
	files[0] = m->fd;
	return 1;
}

static int mem_queue_io(struct ublk_queue *q, unsigned int tag,
			const struct ublksrv_io_desc *iod)
{
	const struct mem *m = q->tgt->priv;
	uint64_t size = target_size(q->tgt);
	uint64_t off = iod->start_sector << 9;
	uint64_t len = (uint64_t)iod->nr_sectors << 9;
	struct io_uring_sqe *sqe;

	if (off > size || len > size - off)
		return -EIO;

	switch (ublk_iod_op(iod)) {
	case UBLK_IO_OP_READ:
		memcpy(q->ios[tag].data, m->map + off, len);
		return len;
	case UBLK_IO_OP_WRITE:
		memcpy(m->map + off, q->ios[tag].data, len);
		return len;
	case UBLK_IO_OP_FLUSH:
		return 0;
	case UBLK_IO_OP_DISCARD:
	case UBLK_IO_OP_WRITE_ZEROES:
		/* Through the ring: no syscall of our own per I/O. */
		sqe = queue_tgt_sqe(q, tag, 0);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_fallocate(
			sqe, QUEUE_FILE_TARGET,
			FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
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

static unsigned int mem_ring_ops(const struct ublk_queue *q, uint8_t *ops)
{
	(void)q;
	ops[0] = IORING_OP_FALLOCATE; /* discard, write zeroes */
	return 1;
}

const struct target_ops target_mem_ops = {
	.name = "mem",
	.help = "a RAM disk of --size bytes (needed), lost when deleted",
	.priv_size = sizeof(struct mem),
	.open = mem_open,
	.close = mem_close,
	.queue_setup = mem_queue_setup,
	.ring_ops = mem_ring_ops,
	.queue_io = mem_queue_io,
	.io_done = mem_io_done,
	.resize = mem_resize,
	.needs_size = true,
};
