// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "server/pause.h"
#include "server/sandbox.h"

int pause_ring_setup(struct pause_ring *p, struct ublk_queue *queues,
		     unsigned int nr_queues, struct uerr *err)
{
	struct io_uring_params params;
	int ret;

	memset(p, 0, sizeof(*p));
	p->queues = queues;
	p->nr_queues = nr_queues;
	memset(&params, 0, sizeof(params));
	params.flags = IORING_SETUP_R_DISABLED;
	ret = io_uring_queue_init_params(nr_queues < 4 ? 4 : nr_queues,
					 &p->ring, &params);
	if (ret < 0)
		return uerr_sys(err, -ret, "pause ring: io_uring setup");
	p->ready = true;
	ret = sandbox_restrict_msg_ring(&p->ring, err);
	if (ret < 0)
		return uerr_prefix(err, "pause ring");
	/* liburing 2.3 declares io_uring_enable_rings() but lacks it. */
	ret = io_uring_register(p->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
				NULL, 0);
	if (ret < 0)
		return uerr_sys(err, -ret, "pause ring: enabling");
	return 0;
}

void pause_ring_exit(struct pause_ring *p)
{
	if (p->ready)
		io_uring_queue_exit(&p->ring);
	p->ready = false;
}

int pause_queues(struct pause_ring *p, bool pause, struct uerr *err)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	unsigned int i, done;
	uint32_t data;
	int ret, first = 0;

	/* 0 is what a queue that never drained says */
	if (pause && !(p->gen = (p->gen + 1) & 0x7fffffff))
		p->gen = 1;
	data = pause ? p->gen << 1 | QUEUE_CTL_PAUSE : 0;
	for (i = 0; i < p->nr_queues; i++) {
		sqe = io_uring_get_sqe(&p->ring);
		if (!sqe) {
			io_uring_submit(&p->ring);
			sqe = io_uring_get_sqe(&p->ring);
		}
		/* The queue's CQE: res 0, user_data a QUEUE_UD_CTL message */
		io_uring_prep_msg_ring(
			sqe, p->queues[i].ring.ring_fd, 0,
			queue_ud(QUEUE_NO_TAG, QUEUE_UD_CTL, data), 0);
		sqe->user_data = i;
	}
	for (done = 0; done < p->nr_queues; done++) {
		ret = io_uring_submit_and_wait(&p->ring, 1);
		if (ret < 0 && ret != -EINTR)
			return uerr_sys(err, -ret, "pause ring");
		ret = io_uring_wait_cqe(&p->ring, &cqe);
		if (ret < 0)
			return uerr_sys(err, -ret, "pause ring");
		if (cqe->res < 0 && !first)
			first = cqe->res;
		io_uring_cqe_seen(&p->ring, cqe);
	}
	p->paused = pause;
	if (first)
		return uerr_sys(err, -first, "%s the queues",
				pause ? "pausing" : "resuming");
	return 0;
}

bool pause_drained(const struct pause_ring *p)
{
	unsigned int i;

	for (i = 0; i < p->nr_queues; i++)
		if (__atomic_load_n(&p->queues[i].drained_gen,
				    __ATOMIC_ACQUIRE) != p->gen)
			return false;
	return true;
}
