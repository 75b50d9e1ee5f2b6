// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "nbd/net.h"
#include "nbd/reconnect.h"

static void log_line(const struct nbd_reconnector *r, const char *fmt,
		     const char *what)
{
	char when[32];
	time_t t = time(NULL);

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime(&t));
	fprintf(stderr, "%s %s: ", when, r->name);
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
}

/* One MSG_RING to the queue's ring; its result */
static int msg_ring(struct io_uring *ring, const struct nbd_reconnector *r,
		    uint64_t cmd, uint32_t len, uint64_t ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	/* Filled by hand: liburing 2.3 has no io_uring_prep_msg_ring_fd() */
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_MSG_RING;
	sqe->fd = r->ring_fd;
	sqe->addr = cmd;
	sqe->len = len;
	sqe->off = ud;
	if (cmd == IORING_MSG_SEND_FD) {
		sqe->addr3 = 0;		       /* our slot 0 */
		sqe->file_index = r->slot + 1; /* 1-based: the queue's slot */
	}
	ret = io_uring_submit_and_wait(ring, 1);
	if (ret < 0)
		return ret;
	ret = io_uring_peek_cqe(ring, &cqe);
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

static char last_error[sizeof(((struct uerr *)0)->msg)];

static void attempt(const struct nbd_reconnector *r, struct io_uring *ring,
		    uint32_t gen)
{
	uint64_t shifted = (uint64_t)gen << r->gen_shift;
	struct nbd_export exp;
	struct uerr err;
	int fd, none = -1, ret;

	uerr_clear(&err);
	fd = nbd_open(r->uri, r->timeout_ms, &exp, &err);
	if (fd >= 0 && nbd_export_same(r->want, &exp, &err) < 0) {
		close(fd);
		fd = -err.code;
	}
	if (fd < 0) {
		/* Once per reason, not once a second */
		if (strcmp(last_error, err.msg))
			log_line(r, "reconnecting: %s", err.msg);
		snprintf(last_error, sizeof(last_error), "%s", err.msg);
		msg_ring(ring, r, IORING_MSG_DATA, (uint32_t)(fd ? fd : -EIO),
			 r->ud_fail | shifted);
		return;
	}
	ret = io_uring_register_files_update(ring, 0, &fd, 1);
	close(fd); /* our ring's table holds it, until it is sent */
	if (ret == 1)
		ret = msg_ring(ring, r, IORING_MSG_SEND_FD, 0,
			       r->ud_ok | shifted);
	io_uring_register_files_update(ring, 0, &none, 1);
	if (ret < 0) {
		log_line(r, "reconnecting: handing over the socket: %s",
			 strerror(-ret));
		msg_ring(ring, r, IORING_MSG_DATA, (uint32_t)ret,
			 r->ud_fail | shifted);
		return;
	}
	log_line(r, "reconnected to %s", "the NBD server");
	last_error[0] = '\0';
}

void nbd_reconnector_run(const struct nbd_reconnector *r)
{
	struct nbd_reconnect_req req;
	struct io_uring ring;
	int none = -1, ret;
	ssize_t n;

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret == 0)
		ret = io_uring_register_files(&ring, &none, 1);
	if (ret < 0) {
		log_line(r, "reconnect helper: io_uring: %s", strerror(-ret));
		_exit(1);
	}
	for (;;) {
		n = recv(r->chan_fd, &req, sizeof(req), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0); /* the server is gone */
		if (n == sizeof(req) && req.magic == NBD_RECONNECT_MAGIC)
			attempt(r, &ring, req.gen);
	}
}
