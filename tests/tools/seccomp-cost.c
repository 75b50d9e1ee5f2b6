// SPDX-License-Identifier: MIT
/*
 * seccomp-cost: what confinement adds to each io_uring_enter, the one
 * syscall a queue makes per request at depth 1.  Times, in one process:
 *  - an io_uring_enter that does nothing, and a NOP submitted and reaped,
 *    with no filter, with the server's filter, and with the queue
 *    thread's filter stacked on it (the filters of src/server/sandbox.c);
 *  - the NOP on a ring restricted as queue rings are (NOP its one opcode);
 *  - the NOP with an idle second thread sharing the file table, as a
 *    server's queue threads do, on a plain ring and on one whose fd is
 *    registered (IORING_REGISTER_RING_FDS), which spares io_uring_enter
 *    looking the fd up.
 * Run it in the bench's guest, whose clock counts instructions:
 *   BENCH_ICOUNT=4 UBLK_USER_VM_QEMU=tests/bench/qemu-icount \
 *     UBLK_USER_VM_PASSENV=BENCH_ICOUNT tests/vm/vm-exec \
 *     build/tests/seccomp-cost [ROUNDS]
 * With BENCH_ICOUNT=N set, times are also given in instructions (2^N ns
 * each).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "base/err.h"
#include "server/sandbox.h"

static long rounds = 100000;
static double ns_per_insn; /* 0: the clock is not an instruction count */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* An io_uring_enter with nothing to submit and nothing to wait for */
static double empty_enter_ns(struct io_uring *ring)
{
	double start = now_ns();
	long i;

	for (i = 0; i < rounds; i++)
		syscall(__NR_io_uring_enter, ring->ring_fd, 0, 0, 0, NULL, 0);
	return (now_ns() - start) / (double)rounds;
}

/* One NOP submitted and waited for in one io_uring_enter, then reaped */
static double nop_ns(struct io_uring *ring)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	double start = now_ns();
	long i;

	for (i = 0; i < rounds; i++) {
		sqe = io_uring_get_sqe(ring);
		io_uring_prep_nop(sqe);
		/* As every queue SQE; a NOP looks no file up */
		sqe->flags |= IOSQE_FIXED_FILE;
		if (io_uring_submit_and_wait(ring, 1) != 1 ||
		    io_uring_peek_cqe(ring, &cqe) || cqe->res != 0) {
			fprintf(stderr, "seccomp-cost: a NOP failed\n");
			syscall(SYS_exit, 1);
		}
		io_uring_cqe_seen(ring, cqe);
	}
	return (now_ns() - start) / (double)rounds;
}

/* The least of three runs: the first may pay for cold caches */
static double least(double (*measure)(struct io_uring *), struct io_uring *ring)
{
	double best = measure(ring), ns;
	int i;

	for (i = 1; i < 3; i++) {
		ns = measure(ring);
		if (ns < best)
			best = ns;
	}
	return best;
}

static void report(const char *what, double ns, double base)
{
	printf("%-44s %8.0f ns", what, ns);
	if (ns_per_insn > 0)
		printf(" %6.0f insns", ns / ns_per_insn);
	if (base > 0) {
		printf("  %+7.0f ns", ns - base);
		if (ns_per_insn > 0)
			printf(" %+5.0f insns", (ns - base) / ns_per_insn);
	}
	printf("\n");
}

/*
 * A ring restricted as queue rings are (sandbox_restrict_ring), with NOP
 * as its one opcode.
 */
static int restricted_ring(struct io_uring *ring, struct uerr *err)
{
	static const uint8_t nop = IORING_OP_NOP;
	int ret;

	ret = io_uring_queue_init(8, ring, IORING_SETUP_R_DISABLED);
	if (ret)
		return uerr_sys(err, -ret, "io_uring_queue_init");
	ret = sandbox_restrict_ring(ring, &nop, 1, false, err);
	if (ret < 0)
		return ret;
	ret = io_uring_register(ring->ring_fd, IORING_REGISTER_ENABLE_RINGS,
				NULL, 0);
	if (ret < 0)
		return uerr_sys(err, -ret, "enabling the ring");
	return 0;
}

/* Shares the file table for as long as the process runs */
static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *shift = getenv("BENCH_ICOUNT");
	struct io_uring plain, restricted, registered;
	pthread_t idle;
	struct uerr err = { 0 };
	double empty, nop, shared;
	int ret;

	/* No buffer to flush at exit: exit_group is not in the filters. */
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1)
		rounds = atol(argv[1]);
	if (rounds <= 0) {
		fprintf(stderr, "usage: seccomp-cost [ROUNDS > 0]\n");
		return 2;
	}
	if (shift && *shift && strcmp(shift, "off"))
		ns_per_insn = (double)(1L << atoi(shift));
	ret = io_uring_queue_init(8, &plain, 0);
	if (ret) {
		fprintf(stderr, "seccomp-cost: io_uring: %s\n", strerror(-ret));
		return 1;
	}
	if (restricted_ring(&restricted, &err) < 0) {
		fprintf(stderr, "seccomp-cost: %s\n", err.msg);
		return 1;
	}
	ret = io_uring_queue_init(8, &registered, 0);
	if (ret) {
		fprintf(stderr, "seccomp-cost: io_uring: %s\n", strerror(-ret));
		return 1;
	}
	ret = io_uring_register_ring_fd(&registered);
	if (ret != 1) {
		fprintf(stderr, "seccomp-cost: registering a ring fd: %s\n",
			strerror(ret < 0 ? -ret : EINVAL));
		return 1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		perror("seccomp-cost: PR_SET_NO_NEW_PRIVS");
		return 1;
	}
	printf("%ld rounds each\n", rounds);
	empty = least(empty_enter_ns, &plain);
	report("empty io_uring_enter, no filter", empty, 0);
	nop = least(nop_ns, &plain);
	report("NOP, no filter", nop, 0);
	report("NOP, restricted ring", least(nop_ns, &restricted), nop);

	/* A queue thread's case: another thread shares the file table. */
	ret = pthread_create(&idle, NULL, idle_thread, NULL);
	if (ret) {
		fprintf(stderr, "seccomp-cost: a thread: %s\n", strerror(ret));
		return 1;
	}
	shared = least(nop_ns, &plain);
	report("NOP, two threads", shared, nop);
	report("NOP, two threads, registered ring fd",
	       least(nop_ns, &registered), shared);
	/* Gone before the filters: they have no exit_group for it. */
	pthread_cancel(idle);
	pthread_join(idle, NULL);

	if (sandbox_server(-1, false, &err) < 0) {
		fprintf(stderr, "seccomp-cost: %s\n", err.msg);
		return 1;
	}
	report("empty io_uring_enter, server filter",
	       least(empty_enter_ns, &plain), empty);
	report("NOP, server filter", least(nop_ns, &plain), nop);

	if (sandbox_queue_thread(&err) < 0) {
		fprintf(stderr, "seccomp-cost: %s\n", err.msg);
		syscall(SYS_exit, 1);
	}
	report("empty io_uring_enter, server + queue filters",
	       least(empty_enter_ns, &plain), empty);
	report("NOP, server + queue filters", least(nop_ns, &plain), nop);
	report("NOP, restricted ring, both filters", least(nop_ns, &restricted),
	       nop);
	syscall(SYS_exit, 0); /* the queue filter allows exit, not exit_group */
	return 0;
}
