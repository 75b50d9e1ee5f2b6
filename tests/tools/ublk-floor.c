// SPDX-License-Identifier: MIT
/*
 * ublk-floor: a ublk server that does nothing, for `make bench` to measure
 * the floor: what the kernel's round trip costs with a server whose only
 * work is to answer.  Each queue's thread fetches every tag and answers
 * each request at once (reads and writes: done, their length; flush,
 * discard, write zeroes: done; anything else: EOPNOTSUPP) with the null
 * target's own null_answer() and the queue's queue_prep_io_cmd(), and
 * nothing else: no accounting, no confinement, no control socket.  Its
 * rings are set up and its threads placed as ublk-user's are, so that the
 * difference is the server's own work.
 *
 * With -f FILE it is the loop floor: reads and writes go to FILE at once,
 * one read or write SQE each on the queue's ring into the tag's buffer,
 * and flush is fsync, as ublk-user's loop target does them (O_DIRECT where
 * open() takes it, see open_backing(); plain buffers, as an unprivileged server on a
 * kernel that charges rings to RLIMIT_MEMLOCK has them, and as the peers
 * read); the answer is that SQE's result.  Its device has no discard
 * parameters, so no discard or write zeroes comes; anything else is
 * answered as the null target answers it.
 *
 *   ublk-floor add [-q QUEUES] [-d DEPTH] [-f FILE]
 *                                          a privileged device (root);
 *                                          prints "dev id N: ..." and
 *                                          "daemon pid P" (as kublk does)
 *                                          once it is live
 *   ublk-floor del -n ID                   STOP_DEV, then DEL_DEV
 *
 * Exit 0 on success, 1 on failure (with the reason), 2 on a bad command
 * line.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <liburing.h>

#include "kernel/ctrl.h"
#include "server/placement.h"
#include "server/queue.h"
#include "server/target.h"

#define FLOOR_IO_BUF_BYTES (512U << 10)
#define FLOOR_SECTORS ((250ULL << 30) >> 9)

struct floor_queue {
	unsigned int q_id, depth;
	int char_fd, cpu;
	int backing_fd; /* the loop floor's FILE, or -1 */
	const struct ublksrv_io_desc *iods;
	char *bufs;
	pthread_t thread;
	/* set by the thread: 0 once it has fetched every tag, or -errno */
	int status;
	pthread_mutex_t *lock;
	pthread_cond_t *cond;
};

static size_t page_round(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (n + page - 1) / page * page;
}

static int usage(void)
{
	fprintf(stderr, "usage: ublk-floor add [-q QUEUES] [-d DEPTH] [-f "
			"FILE]\n"
			"       ublk-floor del -n ID\n");
	return 2;
}

/* The ring has two SQEs a tag: it is full only if something is wrong. */
static struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	if (!sqe)
		abort();
	return sqe;
}

static uint64_t buf_addr(const struct floor_queue *q, unsigned int tag)
{
	return (uint64_t)(uintptr_t)(q->bufs +
				     (size_t)tag * FLOOR_IO_BUF_BYTES);
}

static void commit(struct floor_queue *q, struct io_uring *ring,
		   unsigned int tag, int result)
{
	queue_prep_io_cmd(get_sqe(ring), UBLK_U_IO_COMMIT_AND_FETCH_REQ,
			  q->q_id, tag, result, buf_addr(q, tag));
}

/*
 * The loop floor: a read, write or flush goes to FILE (true); anything
 * else is answered as the null target answers it (false).
 */
static bool loop_submit(struct floor_queue *q, struct io_uring *ring,
			unsigned int tag, const struct ublksrv_io_desc *iod)
{
	void *buf = (void *)(uintptr_t)buf_addr(q, tag);
	unsigned int len = iod->nr_sectors << 9;
	uint64_t off = iod->start_sector << 9;
	struct io_uring_sqe *sqe;

	switch (ublk_iod_op(iod)) {
	case UBLK_IO_OP_READ:
		sqe = get_sqe(ring);
		io_uring_prep_read(sqe, 1, buf, len, off);
		break;
	case UBLK_IO_OP_WRITE:
		sqe = get_sqe(ring);
		io_uring_prep_write(sqe, 1, buf, len, off);
		break;
	case UBLK_IO_OP_FLUSH:
		sqe = get_sqe(ring);
		io_uring_prep_fsync(sqe, 1, 0);
		break;
	default:
		return false;
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->user_data = queue_ud(tag, QUEUE_UD_TGT, 0);
	return true;
}

static void queue_report(struct floor_queue *q, int status)
{
	pthread_mutex_lock(q->lock);
	q->status = status;
	pthread_cond_broadcast(q->cond);
	pthread_mutex_unlock(q->lock);
}

static void *queue_thread(void *arg)
{
	struct floor_queue *q = arg;
	int files[2] = { q->char_fd, q->backing_fd };
	struct io_uring_params p = { 0 };
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	unsigned int tag, head, n, live;
	int ret;

	/* As ublk-user's queue rings are (src/server/queue.c). */
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		  IORING_SETUP_COOP_TASKRUN;
	ret = io_uring_queue_init_params(2 * q->depth, &ring, &p);
	if (ret == -EINVAL) {
		p.flags = IORING_SETUP_COOP_TASKRUN;
		ret = io_uring_queue_init_params(2 * q->depth, &ring, &p);
	}
	if (ret == 0)
		ret = io_uring_register_files(&ring, files,
					      q->backing_fd < 0 ? 1 : 2);
	/* Entered by its registered fd, as ublk-user's queues do */
	if (ret == 0)
		io_uring_register_ring_fd(&ring);
	if (ret < 0) {
		queue_report(q, ret);
		return NULL;
	}
	for (tag = 0; tag < q->depth; tag++)
		queue_prep_io_cmd(get_sqe(&ring), UBLK_U_IO_FETCH_REQ, q->q_id,
				  tag, -1, buf_addr(q, tag));
	ret = io_uring_submit(&ring);
	queue_report(q, ret < 0 ? ret : 0);
	if (ret < 0)
		return NULL;

	/* Until STOP_DEV aborts every fetch. */
	for (live = q->depth; live;) {
		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EBUSY)
			break;
		n = 0;
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			n++;
			tag = queue_ud_tag(cqe->user_data);
			if (tag >= q->depth)
				continue;
			if (queue_ud_kind(cqe->user_data) == QUEUE_UD_TGT) {
				commit(q, &ring, tag, cqe->res);
				continue;
			}
			if (cqe->res != UBLK_IO_RES_OK) {
				live--;
				continue;
			}
			if (q->backing_fd < 0 ||
			    !loop_submit(q, &ring, tag, &q->iods[tag]))
				commit(q, &ring, tag,
				       null_answer(&q->iods[tag]));
		}
		io_uring_cq_advance(&ring, n);
	}
	io_uring_queue_exit(&ring);
	return NULL;
}

/* One CPU of the queue's, picked as ublk-user's server picks it. */
static int queue_cpu(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
		     unsigned int q_id)
{
	cpu_set_t mask, allowed;
	struct uerr err;

	if (ublk_ctrl_get_queue_affinity(ctrl, ref, q_id, &mask, sizeof(mask),
					 &err) < 0 ||
	    sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return -1;
	return queue_cpu_pick(&mask, &allowed, ref->id, q_id);
}

/*
 * The daemon: serve the device until STOP_DEV; tell the parent on fd
 * `report` once it is live ("ok") or why not.
 */
static int serve(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
		 const struct ublksrv_ctrl_dev_info *info, int backing_fd,
		 int report)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	struct floor_queue *qs;
	char path[64], msg[300] = "ok";
	unsigned int i;
	struct uerr err;
	size_t iods_len;
	pthread_attr_t attr;
	cpu_set_t one;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/dev/ublkc%u", info->dev_id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	qs = calloc(info->nr_hw_queues, sizeof(*qs));
	if (fd < 0 || !qs) {
		snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
		goto out;
	}
	/* Queue i's descriptors are at i times the largest queue's size. */
	iods_len = page_round(UBLK_MAX_QUEUE_DEPTH *
			      sizeof(struct ublksrv_io_desc));
	for (i = 0; i < info->nr_hw_queues; i++) {
		struct floor_queue *q = &qs[i];
		void *p;

		q->q_id = i;
		q->depth = info->queue_depth;
		q->char_fd = fd;
		q->backing_fd = backing_fd;
		q->status = 1;
		q->lock = &lock;
		q->cond = &cond;
		p = mmap(NULL, page_round(q->depth * sizeof(*q->iods)),
			 PROT_READ, MAP_SHARED | MAP_POPULATE, fd,
			 UBLKSRV_CMD_BUF_OFFSET + (off_t)i * (off_t)iods_len);
		if (p == MAP_FAILED) {
			snprintf(msg, sizeof(msg), "queue %u descriptors: %s",
				 i, strerror(errno));
			goto out;
		}
		q->iods = p;
		p = mmap(NULL, (size_t)q->depth * FLOOR_IO_BUF_BYTES,
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (p == MAP_FAILED) {
			snprintf(msg, sizeof(msg), "queue %u buffers: %s", i,
				 strerror(errno));
			goto out;
		}
		q->bufs = p;
		/* Placed before it starts: its io_uring workers inherit it. */
		pthread_attr_init(&attr);
		q->cpu = queue_cpu(ctrl, ref, i);
		if (q->cpu >= 0) {
			CPU_ZERO(&one);
			CPU_SET(q->cpu, &one);
			pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
		}
		ret = pthread_create(&q->thread, &attr, queue_thread, q);
		pthread_attr_destroy(&attr);
		if (ret) {
			snprintf(msg, sizeof(msg), "queue %u thread: %s", i,
				 strerror(ret));
			goto out;
		}
	}
	pthread_mutex_lock(&lock);
	for (i = 0; i < info->nr_hw_queues; i++) {
		while (qs[i].status > 0)
			pthread_cond_wait(&cond, &lock);
		if (qs[i].status < 0 && !ret)
			ret = qs[i].status;
	}
	pthread_mutex_unlock(&lock);
	if (ret < 0) {
		snprintf(msg, sizeof(msg), "queue setup: %s", strerror(-ret));
		goto out;
	}
	if (ublk_ctrl_start_dev(ctrl, ref, getpid(), &err) < 0) {
		snprintf(msg, sizeof(msg), "%.290s", err.msg);
		goto out;
	}
	if (write(report, msg, strlen(msg)) < 0)
		return 1;
	close(report);
	for (i = 0; i < info->nr_hw_queues; i++)
		pthread_join(qs[i].thread, NULL);
	return 0;
out:
	if (write(report, msg, strlen(msg)) < 0)
		return 1;
	return 1;
}

/*
 * The loop floor's FILE: O_DIRECT where open() takes it, else the page
 * cache; its size in *sectors.  ublk-user's loop (targets/loop.c) also
 * goes to the page cache when the file's STATX_DIOALIGN is unusable; the
 * floor does not check that, so on such a file the two differ.
 */
static int open_backing(const char *path, uint64_t *sectors)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC | O_DIRECT);
	if (fd < 0 && errno == EINVAL)
		fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "ublk-floor: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*sectors = (uint64_t)st.st_size >> 9;
	if (!S_ISREG(st.st_mode) || !*sectors) {
		fprintf(stderr,
			"ublk-floor: %s: not a regular file of at "
			"least 512 bytes\n",
			path);
		close(fd);
		return -1;
	}
	return fd;
}

static int floor_add(unsigned int queues, unsigned int depth,
		     const char *backing)
{
	uint64_t sectors = FLOOR_SECTORS;
	int backing_fd = -1;
	struct ublksrv_ctrl_dev_info info = { 0 };
	struct ublk_ctrl ctrl = { .fd = -1 };
	struct ublk_params params = { 0 };
	struct ublk_dev_ref ref;
	struct uerr err;
	char msg[300];
	int pipefd[2];
	ssize_t len;
	pid_t pid;

	info.nr_hw_queues = (uint16_t)queues;
	info.queue_depth = (uint16_t)depth;
	info.max_io_buf_bytes = FLOOR_IO_BUF_BYTES;
	info.dev_id = (uint32_t)-1;
	info.flags = UBLK_F_CMD_IOCTL_ENCODE;
	if (backing) {
		backing_fd = open_backing(backing, &sectors);
		if (backing_fd < 0)
			return 1;
	}
	if (ublk_ctrl_open(&ctrl, &err) < 0 ||
	    ublk_ctrl_add_dev(&ctrl, &info, &err) < 0) {
		fprintf(stderr, "ublk-floor: %s\n", err.msg);
		return 1;
	}
	ublk_dev_ref_init(&ref, info.dev_id, false);
	params.len = sizeof(params);
	params.types = UBLK_PARAM_TYPE_BASIC;
	params.basic.logical_bs_shift = 9;
	params.basic.physical_bs_shift = 12;
	params.basic.io_min_shift = 9;
	params.basic.io_opt_shift = 12;
	params.basic.max_sectors = FLOOR_IO_BUF_BYTES >> 9;
	params.basic.dev_sectors = sectors;
	if (ublk_ctrl_set_params(&ctrl, &ref, &params, &err) < 0) {
		fprintf(stderr, "ublk-floor: %s\n", err.msg);
		goto fail;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		fprintf(stderr, "ublk-floor: pipe: %s\n", strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "ublk-floor: fork: %s\n", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		close(pipefd[0]);
		/*
		 * Nothing of the caller's stays open, or `$(ublk-floor add
		 * 2>&1)` would wait for the daemon; errors go up the pipe.
		 */
		if (setsid() < 0 || !freopen("/dev/null", "r", stdin) ||
		    !freopen("/dev/null", "w", stdout) ||
		    !freopen("/dev/null", "w", stderr))
			_exit(1);
		_exit(serve(&ctrl, &ref, &info, backing_fd, pipefd[1]));
	}
	close(pipefd[1]);
	len = read(pipefd[0], msg, sizeof(msg) - 1);
	msg[len > 0 ? len : 0] = '\0';
	if (strcmp(msg, "ok")) {
		fprintf(stderr, "ublk-floor: device %u: %s\n", info.dev_id,
			len > 0 ? msg : "the server died");
		waitpid(pid, NULL, 0);
		goto fail;
	}
	printf("dev id %u: queues %u depth %u\ndaemon pid %d\n", info.dev_id,
	       queues, depth, (int)pid);
	ublk_ctrl_close(&ctrl);
	return 0;
fail:
	ublk_ctrl_del_dev(&ctrl, &ref, 10000, &err);
	ublk_ctrl_close(&ctrl);
	return 1;
}

static int floor_del(unsigned int id)
{
	struct ublk_ctrl ctrl = { .fd = -1 };
	struct ublk_dev_ref ref;
	struct uerr err;
	int ret;

	ublk_dev_ref_init(&ref, id, false);
	ret = ublk_ctrl_open(&ctrl, &err);
	if (ret == 0)
		ret = ublk_ctrl_stop_dev(&ctrl, &ref, &err);
	if (ret == 0)
		ret = ublk_ctrl_del_dev(&ctrl, &ref, 10000, &err);
	ublk_ctrl_close(&ctrl);
	if (ret < 0) {
		fprintf(stderr, "ublk-floor: %s\n", err.msg);
		return 1;
	}
	return 0;
}

static int number(const char *s, unsigned int lo, unsigned int hi,
		  unsigned int *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || end == s || *end || n < lo || n > hi)
		return -1;
	*v = (unsigned int)n;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int queues = 1, depth = 128, id = 0;
	const char *backing = NULL;
	bool have_id = false;
	int opt;

	if (argc < 2)
		return usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "q:d:n:f:")) != -1) {
		if (opt == 'q' && !number(optarg, 1, 64, &queues))
			continue;
		if (opt == 'd' &&
		    !number(optarg, 1, UBLK_MAX_QUEUE_DEPTH, &depth))
			continue;
		if (opt == 'f') {
			backing = optarg;
			continue;
		}
		if (opt == 'n' && !number(optarg, 0, 1U << 20, &id)) {
			have_id = true;
			continue;
		}
		return usage();
	}
	if (optind != argc)
		return usage();
	if (!strcmp(argv[1], "add"))
		return floor_add(queues, depth, backing);
	if (!strcmp(argv[1], "del") && have_id)
		return floor_del(id);
	return usage();
}
