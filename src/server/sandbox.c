// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <seccomp.h>

#include "server/sandbox.h"

#ifdef UBLK_USER_NO_SANDBOX

bool sandbox_enabled(void)
{
	return false;
}

int sandbox_server(int state_dir_fd, bool shmem_socket, struct uerr *err)
{
	(void)state_dir_fd;
	(void)shmem_socket;
	(void)err;
	return 0;
}

int sandbox_queue_thread(struct uerr *err)
{
	(void)err;
	return 0;
}

int sandbox_restrict_task(struct uerr *err)
{
	(void)err;
	return 0;
}

int sandbox_restrict_ring(struct io_uring *ring, const uint8_t *ops,
			  unsigned int nr_ops, bool buffer_select,
			  struct uerr *err)
{
	(void)ring;
	(void)ops;
	(void)nr_ops;
	(void)buffer_select;
	(void)err;
	return 0;
}

int sandbox_restrict_msg_ring(struct io_uring *ring, struct uerr *err)
{
	(void)ring;
	(void)err;
	return 0;
}

#else

bool sandbox_enabled(void)
{
	return true;
}

static uint32_t violation_action(void)
{
	const char *mode = getenv("UBLK_USER_SECCOMP");

	return mode && !strcmp(mode, "log") ? SCMP_ACT_LOG :
					      SCMP_ACT_KILL_PROCESS;
}

/* Plain allow rules: a syscall with any arguments. */
static int allow_all(scmp_filter_ctx ctx, const int *nrs, unsigned int n)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nrs[i], 0);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Rules both filters share: the ring, and enabling a disabled ring. */
static int allow_ring(scmp_filter_ctx ctx)
{
	int ret;

	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(io_uring_enter),
			       0);
	if (ret < 0)
		return ret;
	/*
	 * Only ENABLE_RINGS, and UNREGISTER_RING_FDS, which only forgets the
	 * calling thread's shortcut to a ring (a queue thread registers its
	 * ring's fd before the filters; liburing unregisters it when the
	 * ring is freed).  io_uring_setup and other registers are gone.
	 */
	ret = seccomp_rule_add(
		ctx, SCMP_ACT_ALLOW, SCMP_SYS(io_uring_register), 1,
		SCMP_A1(SCMP_CMP_EQ, IORING_REGISTER_ENABLE_RINGS));
	if (ret < 0)
		return ret;
	return seccomp_rule_add(
		ctx, SCMP_ACT_ALLOW, SCMP_SYS(io_uring_register), 1,
		SCMP_A1(SCMP_CMP_EQ, IORING_UNREGISTER_RING_FDS));
}

static int load(scmp_filter_ctx ctx, bool tsync, const char *what,
		struct uerr *err)
{
	int ret;

	/* PR_SET_NO_NEW_PRIVS is set at startup: no prctl() needed here. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (ret < 0)
		goto fail;
	if (tsync) {
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
		if (ret < 0)
			goto fail;
	}
	ret = seccomp_load(ctx);
	if (ret < 0)
		goto fail;
	seccomp_release(ctx);
	return 0;
fail:
	seccomp_release(ctx);
	return uerr_sys(err, -ret, "loading the %s seccomp filter", what);
}

int sandbox_server(int state_dir_fd, bool shmem_socket, struct uerr *err)
{
	/* accept4 and getsockopt(SO_PEERCRED) are the control socket's */
	static const int socket_calls[] = {
		SCMP_SYS(recvmsg),
		SCMP_SYS(sendto),
		SCMP_SYS(fstatfs),
	};
	static const int plain[] = {
		SCMP_SYS(read),
		SCMP_SYS(write),
		SCMP_SYS(writev),
		SCMP_SYS(close),
		SCMP_SYS(poll),
		SCMP_SYS(ppoll),
		SCMP_SYS(futex),
		SCMP_SYS(munmap),
		SCMP_SYS(madvise),
		SCMP_SYS(brk),
		SCMP_SYS(mremap),
		SCMP_SYS(rt_sigreturn),
		SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(clock_gettime),
		SCMP_SYS(clock_nanosleep),
		SCMP_SYS(nanosleep),
		SCMP_SYS(exit),
		SCMP_SYS(exit_group),
		SCMP_SYS(getpid),
		SCMP_SYS(gettid),
		SCMP_SYS(fstat),
		SCMP_SYS(newfstatat),
		SCMP_SYS(lseek),
		SCMP_SYS(sched_yield),
		SCMP_SYS(restart_syscall),
		/* Queue threads add their own, tighter filter. */
		SCMP_SYS(seccomp),
	};
	scmp_filter_ctx ctx;
	int ret;

	ctx = seccomp_init(violation_action());
	if (!ctx)
		return uerr_set(err, ENOMEM, "seccomp_init");
	ret = allow_all(ctx, plain, sizeof(plain) / sizeof(plain[0]));
	if (ret == 0)
		ret = allow_ring(ctx);
	if (ret == 0 && shmem_socket)
		ret = allow_all(ctx, socket_calls,
				sizeof(socket_calls) / sizeof(socket_calls[0]));
	/* Checking a received fd: its flags and seals, nothing else. */
	if (ret == 0 && shmem_socket)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				       SCMP_A1(SCMP_CMP_EQ, F_GETFL));
	if (ret == 0 && shmem_socket)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				       SCMP_A1(SCMP_CMP_EQ, F_GET_SEALS));
	/* The control socket (ctlsock.h): connections, and their peer */
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(accept4),
				       0);
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
				       SCMP_SYS(getsockopt), 2,
				       SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
				       SCMP_A2(SCMP_CMP_EQ, SO_PEERCRED));
	/* Memory for malloc, never executable. */
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC,
					       0));
	if (ret == 0)
		ret = seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
			SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* Removing our own record at exit, in our state directory only. */
	if (ret == 0 && state_dir_fd >= 0)
		ret = seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, SCMP_SYS(unlinkat), 1,
			SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)state_dir_fd));
	if (ret < 0) {
		seccomp_release(ctx);
		return uerr_sys(err, -ret,
				"building the server seccomp filter");
	}
	return load(ctx, true, "server", err);
}

int sandbox_queue_thread(struct uerr *err)
{
	static const int plain[] = {
		SCMP_SYS(write),	 SCMP_SYS(futex),
		SCMP_SYS(madvise),	 SCMP_SYS(munmap),
		SCMP_SYS(close),	 SCMP_SYS(exit),
		SCMP_SYS(rt_sigreturn),	 SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(clock_gettime), SCMP_SYS(restart_syscall),
	};
	scmp_filter_ctx ctx;
	int ret;

	ctx = seccomp_init(violation_action());
	if (!ctx)
		return uerr_set(err, ENOMEM, "seccomp_init");
	ret = allow_all(ctx, plain, sizeof(plain) / sizeof(plain[0]));
	if (ret == 0)
		ret = allow_ring(ctx);
	if (ret < 0) {
		seccomp_release(ctx);
		return uerr_sys(err, -ret, "building the queue seccomp filter");
	}
	return load(ctx, false, "queue", err);
}

/* Only ops, with exactly sqe_flags; no register operation after. */
static int restrict_ring(struct io_uring *ring, const uint8_t *ops,
			 unsigned int nr_ops, uint8_t sqe_flags,
			 uint8_t sqe_flags_allowed, struct uerr *err)
{
	struct io_uring_restriction res[IORING_OP_LAST + 3];
	unsigned int i, n = 0;
	int ret;

	if (nr_ops > IORING_OP_LAST)
		return uerr_set(err, EINVAL, "too many ring opcodes");
	memset(res, 0, sizeof(res));
	for (i = 0; i < nr_ops; i++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = ops[i];
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[n++].sqe_flags = sqe_flags;
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[n++].sqe_flags = sqe_flags | sqe_flags_allowed;
	/*
	 * Register operations: ENABLE_RINGS only, which does nothing once
	 * the ring runs.  Naming one matters: newer kernels (7.3 in our
	 * tests) leave register operations free when none is named.
	 */
	res[n].opcode = IORING_RESTRICTION_REGISTER_OP;
	res[n++].register_op = IORING_REGISTER_ENABLE_RINGS;
	/* liburing 2.3 declares io_uring_register_restrictions() only. */
	ret = io_uring_register(ring->ring_fd, IORING_REGISTER_RESTRICTIONS,
				res, n);
	if (ret < 0)
		return uerr_sys(err, -ret, "restricting a ring");
	return 0;
}

int sandbox_restrict_ring(struct io_uring *ring, const uint8_t *ops,
			  unsigned int nr_ops, bool buffer_select,
			  struct uerr *err)
{
	/* Every SQE names a registered file, and uses no other flag. */
	return restrict_ring(ring, ops, nr_ops, IOSQE_FIXED_FILE,
			     buffer_select ? IOSQE_BUFFER_SELECT : 0, err);
}

int sandbox_restrict_msg_ring(struct io_uring *ring, struct uerr *err)
{
	static const uint8_t msg_ring = IORING_OP_MSG_RING;

	/* A ring's fd cannot be registered: plain fds, no SQE flag. */
	return restrict_ring(ring, &msg_ring, 1, 0, 0, err);
}

#endif

#ifndef UBLK_USER_NO_SANDBOX
/* struct io_uring_task_restriction of Linux 7.x, not in liburing 2.3 */
struct task_restriction {
	uint16_t flags;
	uint16_t nr_res;
	uint32_t resv[3];
};

int sandbox_restrict_task(struct uerr *err)
{
	struct task_restriction tres = { 0 };
	int ret;

	/*
	 * A "blind" registration (no ring: fd -1).  No entries at all: no
	 * SQE opcode and no register operation on any ring made later.
	 */
	ret = io_uring_register((unsigned int)-1, IORING_REGISTER_RESTRICTIONS,
				&tres, 1);
	if (ret == 0 || ret == -EPERM) /* EPERM: inherited, already set */
		return 1;
	if (ret == -EBADF || ret == -EINVAL)
		return 0; /* a kernel without task restrictions */
	return uerr_sys(err, -ret, "io_uring task restrictions");
}
#endif
