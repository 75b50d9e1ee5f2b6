// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/caps.h"
#include "kernel/ctrl.h"
#include "kernel/ringcharge.h"
#include "server/ctlsock.h"
#include "server/detach.h"
#include "server/pause.h"
#include "server/placement.h"
#include "server/queue.h"
#include "server/sandbox.h"
#include "server/shmem_sock.h"
#include "server/stats.h"
#include "server/server.h"

#define SERVER_READY_TIMEOUT_MS 60000
/* DEL_DEV, where the kernel has no DEL_DEV_ASYNC (Linux < 6.9) */
#define SERVER_DEL_TIMEOUT_MS 10000
#define SERVER_MAX_POLL (3 + 1 + SHMEM_SOCK_MAX_CLIENTS)

/* What the server tells `add` through the pipe, once. */
struct server_ready {
	int32_t status; /* 0 or a positive errno */
	int32_t pid;
	char msg[1000];
};

struct server {
	struct server_cfg *cfg;
	struct ublk_ctrl ctrl;
	struct ublk_dev_ref ref;
	int char_fd;
	int event_fd;
	int signal_fd;
	struct ublk_queue *queues;
	unsigned int nr_started;
	struct queue_gate gate;
	int state_dir_fd; /* for removing our record once confined */
	struct stats_file *stats;
	bool shmem_zc;
	struct shmem_table shmem;
	struct shmem_sock sock;
	struct ctl_sock ctl; /* resize, pause: `ublk-user resize|snapshot` */
	struct pause_ring pause;
	int drained_fd; /* queues say they are drained for a pause */
};

void server_fill_params(struct ublk_params *p, const struct target *tgt,
			const struct ublksrv_ctrl_dev_info *info)
{
	memset(p, 0, sizeof(*p));
	p->len = sizeof(*p);
	p->types = UBLK_PARAM_TYPE_BASIC;
	p->basic.attrs = tgt->attrs;
	p->basic.logical_bs_shift = tgt->lbs_shift;
	p->basic.physical_bs_shift = tgt->pbs_shift;
	p->basic.io_min_shift = tgt->lbs_shift;
	p->basic.io_opt_shift = tgt->pbs_shift;
	p->basic.max_sectors = info->max_io_buf_bytes >> 9;
	p->basic.dev_sectors = tgt->size >> 9;
	if (tgt->discard) {
		p->types |= UBLK_PARAM_TYPE_DISCARD;
		p->discard.discard_granularity = 1U << tgt->pbs_shift;
		p->discard.max_discard_sectors = UINT32_MAX >> 9;
		p->discard.max_write_zeroes_sectors = UINT32_MAX >> 9;
		p->discard.max_discard_segments = 1;
	}
}

static void queue_event(struct ublk_queue *q)
{
	struct server *s = q->owner;
	uint64_t one = 1;

	if (write(s->event_fd, &one, sizeof(one)) != sizeof(one))
		fprintf(stderr, "queue %u: cannot signal the server\n",
			q->q_id);
}

static void queue_drained(struct ublk_queue *q)
{
	struct server *s = q->owner;
	uint64_t one = 1;

	if (write(s->drained_fd, &one, sizeof(one)) != sizeof(one))
		fprintf(stderr, "queue %u: cannot signal the server\n",
			q->q_id);
}

/* Wait for n more queue events; false on a signal or a poll error. */
static bool wait_queue_events(struct server *s, uint64_t n)
{
	struct pollfd pfd[2] = {
		{ .fd = s->event_fd, .events = POLLIN },
		{ .fd = s->signal_fd, .events = POLLIN },
	};
	uint64_t got = 0, v;

	while (got < n) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (pfd[1].revents)
			return false;
		if (read(s->event_fd, &v, sizeof(v)) == sizeof(v))
			got += v;
	}
	return true;
}

/*
 * The buffers are locked: the main thread needs no capability any more,
 * and threads started from now on inherit none.  The main thread of a
 * privileged (root's) device keeps its capabilities, as STOP_DEV and
 * DEL_DEV need CAP_SYS_ADMIN there.  A server that held a capability
 * stays not dumpable (server_detach): what it holds stays out of reach.
 */
static int server_drop_caps(struct server *s, struct uerr *err)
{
	if (!(s->cfg->info.flags & UBLK_F_UNPRIVILEGED_DEV))
		return 0;
	if (caps_drop_thread(err) < 0)
		return -EPERM;
	return 0;
}

/*
 * The control ring and the queue rings, made without any capability (on
 * an unprivileged device): the kernel charges every buffer registered on
 * them to RLIMIT_MEMLOCK.  The control ring takes URING_CMD only and no
 * register operation, whoever gets hold of it.  Where the kernel charges
 * the rings themselves too, no queue pins buffers (queue_setup_ring).
 */
static int server_make_rings(struct server *s, struct uerr *err)
{
	/* The probe forks: only for a target that would pin buffers. */
	bool charged = s->cfg->tgt->ops->fixed_buffers &&
		       uring_rings_charged() == 1;
	unsigned int i;
	int ret;

	ret = ublk_ctrl_open_restricted(&s->ctrl, err);
	for (i = 0; ret == 0 && i < s->cfg->info.nr_hw_queues; i++) {
		s->queues[i].rings_charged = charged;
		ret = queue_setup_ring(&s->queues[i], err);
	}
	if (ret == 0)
		ret = pause_ring_setup(&s->pause, s->queues,
				       s->cfg->info.nr_hw_queues, err);
	return ret;
}

void server_get_affinity(struct server_cfg *cfg)
{
	const struct ublksrv_ctrl_dev_info *info = &cfg->info;
	struct ublk_ctrl ctrl = { .fd = -1 };
	struct ublk_dev_ref ref;
	struct uerr err;
	cpu_set_t *sets;
	unsigned int i;
	int ret;

	cfg->affinity = NULL;
	sets = calloc(info->nr_hw_queues, sizeof(*sets));
	if (!sets)
		return;
	ublk_dev_ref_init(&ref, info->dev_id,
			  info->flags & UBLK_F_UNPRIVILEGED_DEV);
	ret = ublk_ctrl_open(&ctrl, &err);
	for (i = 0; ret == 0 && i < info->nr_hw_queues; i++)
		ret = ublk_ctrl_get_queue_affinity(&ctrl, &ref, i, &sets[i],
						   sizeof(sets[i]), &err);
	ublk_ctrl_close(&ctrl);
	if (ret < 0) {
		free(sets);
		return;
	}
	cfg->affinity = sets;
}

void server_free_affinity(struct server_cfg *cfg)
{
	free(cfg->affinity);
	cfg->affinity = NULL;
}

/*
 * Each queue's thread on one CPU among those that submit to its queue, as
 * kublk and ublksrv do.  The kernel hands a request to the thread by task
 * work, which then needs no other CPU woken; and the thread's io_uring
 * workers (a loop target's reads of a tmpfs file all go to them) inherit
 * that CPU, where a free CPU would take them otherwise: each request then
 * crossed between CPUs four times, not twice, with its p99 latency at a
 * scheduler tick.  Before confinement (no sched_setaffinity after); a
 * refusal (a cpuset without those CPUs) costs nothing but the gain.
 */
static void server_pin_queues(struct server *s)
{
	const cpu_set_t *sets = s->cfg->affinity;
	cpu_set_t allowed, one;
	unsigned int i;
	int cpu, ret;

	if (!sets || sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return;
	for (i = 0; i < s->nr_started; i++) {
		cpu = queue_cpu_pick(&sets[i], &allowed, s->cfg->info.dev_id,
				     i);
		if (cpu < 0) {
			fprintf(stderr,
				"queue %u: none of the CPUs that submit to it "
				"is allowed to this server: it runs on those "
				"that are\n",
				i);
			continue;
		}
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		ret = pthread_setaffinity_np(s->queues[i].thread, sizeof(one),
					     &one);
		if (ret)
			fprintf(stderr,
				"queue %u: staying on every CPU allowed: %s\n",
				i, strerror(ret));
	}
}

/* Load the process-wide filter, then let the queue threads go on. */
static int server_confine(struct server *s, struct uerr *err)
{
	int ret;

	pthread_barrier_wait(&s->gate.barrier); /* queues are parked */
	ret = sandbox_server(s->state_dir_fd, s->shmem_zc, err);
	s->gate.abort = ret < 0;
	pthread_barrier_wait(&s->gate.barrier); /* queues go on */
	return ret;
}

/* Counters for `list`, and the zero-copy socket, in the state directory. */
static int server_open_state_files(struct server *s, struct uerr *err)
{
	const struct ublksrv_ctrl_dev_info *info = &s->cfg->info;
	char name[32], path[PATH_MAX];
	unsigned int i;
	int ret;

	snprintf(name, sizeof(name), "dev-%u.stats", info->dev_id);
	ret = stats_create(s->state_dir_fd, name, info->nr_hw_queues, &s->stats,
			   err);
	if (ret < 0)
		return ret;
	/* What a queue counted during its setup carries over. */
	for (i = 0; i < info->nr_hw_queues && i < STATS_MAX_QUEUES; i++) {
		s->stats->q[i] = s->queues[i].own_stats;
		s->queues[i].stats = &s->stats->q[i];
	}
	s->ctl.signal_fd = s->signal_fd;
	s->ctl.event_fd = s->drained_fd;
	s->ctl.ctrl = &s->ctrl;
	s->ctl.ref = &s->ref;
	s->ctl.tgt = s->cfg->tgt;
	s->ctl.backing_fd =
		target_backing(s->cfg->tgt) ? s->queues[0].tgt_file : -1;
	s->ctl.pause = &s->pause;
	ret = state_path(path, sizeof(path), info->dev_id, "ctl", err);
	if (ret == 0)
		ret = ctl_sock_listen(&s->ctl, path, geteuid(), err);
	if (ret < 0 || !s->shmem_zc)
		return ret;
	s->sock.table = &s->shmem;
	s->sock.ctrl = &s->ctrl;
	s->sock.ref = &s->ref;
	ret = state_path(path, sizeof(path), info->dev_id, "sock", err);
	if (ret < 0)
		return ret;
	return shmem_sock_listen(&s->sock, path, geteuid(), err);
}

/* --shmem FILE: mapped and registered once confined (REG_BUF sleeps). */
static int server_register_shmem_file(struct server *s, struct uerr *err)
{
	struct shmem_fd_info info;
	int fd = s->cfg->shmem_file_fd;
	int ret;

	if (fd < 0)
		return 0;
	ret = shmem_check_fd(fd, SHMEM_FROM_FILE, s->shmem.budget, &info, err);
	if (ret == 0)
		ret = shmem_register(&s->shmem, &s->ctrl, &s->ref, fd, &info, 0,
				     err);
	close(fd);
	s->cfg->shmem_file_fd = -1;
	if (ret < 0)
		return uerr_prefix(err, "--shmem");
	fprintf(stderr, "shmem: file registered as buffer %d, %llu bytes\n",
		ret, (unsigned long long)info.len);
	stats_set(&s->stats->shmem_bufs, s->shmem.count);
	stats_set(&s->stats->shmem_bytes, s->shmem.total);
	return 0;
}

/*
 * Order matters.  Buffers are locked while CAP_IPC_LOCK is held (the
 * policy counts them); rings are created once it is gone (so that what is
 * registered on them is charged), and before confinement, as
 * io_uring_setup is not allowed after.  Control commands that may sleep
 * (SET_PARAMS, START_DEV, STOP_DEV, DEL_DEV) run in io_uring worker
 * threads of this process, which copy the credentials and seccomp filter
 * of the thread that first needs one: so the first such command is sent
 * only once the process is confined and holds no capability.
 */
static int server_setup(struct server *s, struct uerr *err)
{
	const struct ublksrv_ctrl_dev_info *info = &s->cfg->info;
	struct ublk_params params;
	char dir[PATH_MAX];
	unsigned int i;
	int ret;

	ublk_dev_ref_init(&s->ref, info->dev_id,
			  info->flags & UBLK_F_UNPRIVILEGED_DEV);

	s->char_fd = open(s->ref.path, O_RDWR | O_CLOEXEC);
	if (s->char_fd < 0)
		return uerr_sys(err, errno, "cannot open %s", s->ref.path);

	s->shmem_zc = info->flags & UBLK_F_SHMEM_ZC;
	s->shmem.budget = s->cfg->shmem_budget;
	s->cfg->qopts.shmem = s->shmem_zc ? &s->shmem : NULL;
	s->cfg->qopts.batch = info->flags & UBLK_F_BATCH_IO;
	fprintf(stderr, "ublk commands: %s\n",
		s->cfg->qopts.batch ? "batched (UBLK_F_BATCH_IO)" :
				      "one per request");
	if (s->cfg->qopts.poll_us)
		fprintf(stderr, "queues poll for up to %u us before sleeping\n",
			s->cfg->qopts.poll_us);

	s->queues = calloc(info->nr_hw_queues, sizeof(*s->queues));
	if (!s->queues)
		return uerr_sys(err, ENOMEM, "queues");
	for (i = 0; i < info->nr_hw_queues; i++) {
		ret = queue_init(&s->queues[i], i, info->queue_depth,
				 info->max_io_buf_bytes, s->char_fd,
				 s->cfg->tgt, &s->cfg->qopts, err);
		if (ret < 0)
			return ret;
		s->queues[i].owner = s;
		s->queues[i].on_event = queue_event;
		s->queues[i].on_drained = queue_drained;
	}
	ret = server_drop_caps(s, err);
	if (ret == 0)
		ret = server_make_rings(s, err);
	if (ret < 0)
		return ret;
	/* Rings made from now on, by us or our threads, can do nothing. */
	ret = sandbox_restrict_task(err);
	if (ret < 0)
		return ret;
	fprintf(stderr, "io_uring task restrictions: %s\n",
		ret ? "on" : "not in this kernel");

	/* Everything that needs a file system happens before confinement. */
	s->cfg->rec->server_pid = getpid();
	s->cfg->rec->fixed_buffers = s->queues[0].fixed_bufs;
	s->cfg->rec->mlock = s->queues[0].mlocked;
	ret = record_write(s->cfg->rec, err);
	if (ret < 0)
		return ret;
	ret = state_dir(dir, sizeof(dir), 0, err);
	if (ret < 0)
		return ret;
	s->state_dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->state_dir_fd < 0)
		return uerr_sys(err, errno, "cannot open %s", dir);
	/* systemd-tmpfiles ages /tmp but skips a locked directory */
	flock(s->state_dir_fd, LOCK_SH | LOCK_NB);
	tzset(); /* localtime() must not open files later */
	ret = server_open_state_files(s, err);
	if (ret < 0)
		return ret;

	ret = pthread_barrier_init(&s->gate.barrier, NULL,
				   info->nr_hw_queues + 1);
	if (ret)
		return uerr_sys(err, ret, "pthread_barrier_init");
	for (i = 0; i < info->nr_hw_queues; i++) {
		ret = queue_start(&s->queues[i], &s->gate, err);
		if (ret < 0)
			break;
		s->nr_started++;
	}
	if (s->nr_started < info->nr_hw_queues) {
		/* The barrier counts every queue: we cannot go on. */
		fprintf(stderr, "%s\n", err->msg);
		_exit(1);
	}
	server_pin_queues(s);
	ret = server_confine(s, err);
	if (ret < 0)
		return ret;

	server_fill_params(&params, s->cfg->tgt, info);
	ret = ublk_ctrl_set_params(&s->ctrl, &s->ref, &params, err);
	if (ret < 0)
		return ret;
	ret = server_register_shmem_file(s, err);
	if (ret < 0)
		return ret;
	if (!wait_queue_events(s, s->nr_started))
		return uerr_set(err, EINTR, "interrupted while starting");
	for (i = 0; i < s->nr_started; i++)
		if (s->queues[i].setup_status)
			return uerr_set(err, -s->queues[i].setup_status, "%s",
					s->queues[i].setup_msg);

	/* The kernel waits here until every queue has fetched. */
	return ublk_ctrl_start_dev(&s->ctrl, &s->ref, getpid(), err);
}

/* Stop, release everything the kernel waits for, delete the device. */
static void server_teardown(struct server *s)
{
	struct uerr err;
	unsigned int i;

	ctl_sock_close(&s->ctl); /* a pause ends: held requests go on */
	if (s->ctrl.fd >= 0 && s->char_fd >= 0 &&
	    ublk_ctrl_stop_dev(&s->ctrl, &s->ref, &err) < 0 &&
	    err.code != ENODEV)
		fprintf(stderr, "%s\n", err.msg);
	for (i = 0; i < s->nr_started; i++)
		queue_join(&s->queues[i]);
	pause_ring_exit(&s->pause);
	if (s->queues)
		for (i = 0; i < s->cfg->info.nr_hw_queues; i++)
			queue_free(&s->queues[i]);
	free(s->queues);
	s->queues = NULL;
	if (s->char_fd >= 0)
		close(s->char_fd);
	s->char_fd = -1;
	target_close(s->cfg->tgt);
	/*
	 * Not a DEL_DEV that waits for the device to be let go: nbd's
	 * reconnect helpers hold their queue's ring, and with it the device,
	 * until we have ended (they die with us), so it would wait for ever.
	 */
	if (s->ctrl.fd >= 0 &&
	    ublk_ctrl_del_dev_async(&s->ctrl, &s->ref, SERVER_DEL_TIMEOUT_MS,
				    &err) < 0 &&
	    err.code != ENODEV)
		fprintf(stderr, "%s\n", err.msg);
	shmem_sock_close(&s->sock);
	stats_unmap(s->stats);
	s->stats = NULL;
	ublk_ctrl_close(&s->ctrl);
	record_remove_at(s->state_dir_fd, s->cfg->info.dev_id);
}

static void report(int fd, int status, const char *msg)
{
	struct server_ready r = { .status = status, .pid = getpid() };

	snprintf(r.msg, sizeof(r.msg), "%s", msg ? msg : "");
	if (write(fd, &r, sizeof(r)) != sizeof(r))
		fprintf(stderr, "cannot report to ublk-user add\n");
	close(fd);
}

static void log_time(const char *what)
{
	char buf[32];
	time_t t = time(NULL);

	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", localtime(&t));
	fprintf(stderr, "%s %s\n", buf, what);
}

static __attribute__((noreturn)) void server_main(struct server_cfg *cfg,
						  int ready_fd)
{
	struct server s = {
		.cfg = cfg,
		.char_fd = -1,
		.ctrl.fd = -1,
		.state_dir_fd = -1,
		.sock.listen_fd = -1,
		.ctl.listen_fd = -1,
	};
	struct pollfd pfd[SERVER_MAX_POLL];
	struct signalfd_siginfo si;
	struct uerr err;
	unsigned int n;
	sigset_t set;

	/* Signals go to a signalfd; queue threads inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	s.signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
	s.event_fd = eventfd(0, EFD_CLOEXEC);
	s.drained_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s.signal_fd < 0 || s.event_fd < 0 || s.drained_fd < 0) {
		report(ready_fd, errno, "server: signalfd/eventfd failed");
		_exit(1);
	}

	uerr_clear(&err);
	if (server_setup(&s, &err) < 0) {
		fprintf(stderr, "setup failed: %s\n", err.msg);
		server_teardown(&s);
		report(ready_fd, err.code ? err.code : EIO, err.msg);
		_exit(1);
	}
	log_time("device live");
	report(ready_fd, 0, NULL);

	/*
	 * Until a signal, or a queue ends because someone stopped us;
	 * meanwhile serve the zero-copy socket.
	 */
	for (;;) {
		pfd[0] = (struct pollfd){ .fd = s.signal_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = s.event_fd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = ctl_sock_fd(&s.ctl),
					  .events = POLLIN };
		n = 3 + (s.shmem_zc ? shmem_sock_pollfds(&s.sock, pfd + 3,
							 SERVER_MAX_POLL - 3) :
				      0);
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "poll: %s\n", strerror(errno));
			break;
		}
		if (pfd[0].revents || pfd[1].revents)
			break;
		if (pfd[2].revents)
			ctl_sock_serve(&s.ctl);
		shmem_sock_serve(&s.sock, pfd + 3, n - 3);
		stats_set(&s.stats->shmem_bufs, s.shmem.count);
		stats_set(&s.stats->shmem_bytes, s.shmem.total);
	}
	if (pfd[0].revents && read(s.signal_fd, &si, sizeof(si)) == sizeof(si))
		fprintf(stderr, "signal %u: stopping\n", si.ssi_signo);
	else
		fprintf(stderr, "a queue ended: stopping\n");
	server_teardown(&s);
	log_time("device deleted");
	/* Not asked to stop: the device died (a foreground starter sees it) */
	_exit(pfd[0].revents ? 0 : 1);
}

static int read_ready(int fd, struct server_ready *r)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;
	int ret;

	while (got < sizeof(*r)) {
		ret = poll(&pfd, 1, SERVER_READY_TIMEOUT_MS);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			return -ETIME;
		n = read(fd, (char *)r + got, sizeof(*r) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		got += n;
	}
	return 0;
}

/* What a foreground server that failed said, to our stderr */
static void pass_log(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, n, stderr) != (size_t)n)
			break;
	fflush(stderr);
}

/* The server's side of the fork: never returns */
static __attribute__((noreturn)) void server_child(struct server_cfg *cfg,
						   int ready_fd, int log_fd)
{
	struct uerr serr;

	uerr_clear(&serr);
	if (server_detach(cfg->info.dev_id, log_fd, &serr) < 0) {
		report(ready_fd, serr.code ? serr.code : EIO, serr.msg);
		_exit(1);
	}
	server_main(cfg, ready_fd);
}

int server_spawn(struct server_cfg *cfg, pid_t *pid, struct uerr *err)
{
	int pipefd[2], logfd[2] = { -1, -1 };
	struct server_ready r;
	pid_t child;
	int status, ret;

	cfg->log_fd = -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return uerr_sys(err, errno, "pipe");
	if (cfg->foreground && pipe2(logfd, O_CLOEXEC) < 0) {
		ret = uerr_sys(err, errno, "pipe");
		close(pipefd[0]);
		close(pipefd[1]);
		return ret;
	}
	fflush(NULL);
	child = fork();
	if (child < 0) {
		ret = uerr_sys(err, errno, "fork");
		close(pipefd[0]);
		close(pipefd[1]);
		if (logfd[0] >= 0) {
			close(logfd[0]);
			close(logfd[1]);
		}
		return ret;
	}
	if (child == 0) {
		close(pipefd[0]);
		if (logfd[0] >= 0)
			close(logfd[0]);
		/* A session of its own: no terminal, no job control */
		if (setsid() < 0)
			_exit(1);
		if (cfg->foreground)
			server_child(cfg, pipefd[1], logfd[1]);
		/* Twice, so the server is nobody's child. */
		child = fork();
		if (child < 0)
			_exit(1);
		if (child > 0)
			_exit(0);
		server_child(cfg, pipefd[1], -1);
	}
	close(pipefd[1]);
	if (logfd[1] >= 0)
		close(logfd[1]);
	if (!cfg->foreground)
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
	ret = read_ready(pipefd[0], &r);
	close(pipefd[0]);
	if (ret == 0 && !r.status) {
		*pid = r.pid;
		cfg->log_fd = logfd[0];
		return 0;
	}
	if (cfg->foreground) {
		/* It failed: it exits (or is made to), and is reaped here. */
		if (ret == -ETIME)
			kill(child, SIGKILL);
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
		pass_log(logfd[0]);
		close(logfd[0]);
	}
	if (ret == -ETIME)
		return uerr_set(err, ETIME,
				"the server did not start within %d s",
				SERVER_READY_TIMEOUT_MS / 1000);
	if (ret < 0)
		return uerr_set(err, EIO, "the server exited during setup");
	*pid = r.pid;
	return uerr_set(err, r.status, "%s", r.msg);
}
