/* SPDX-License-Identifier: MIT */
/*
 * Where a queue's thread runs: one CPU among those whose I/O the kernel
 * sends to that queue (GET_QUEUE_AFFINITY) and that the server may use.
 * Its io_uring workers inherit that CPU; see server_pin_queues().
 */
#ifndef UBLK_USER_SERVER_PLACEMENT_H
#define UBLK_USER_SERVER_PLACEMENT_H

#include <sched.h>

/*
 * The CPU for queue q_id of device dev_id: the ((dev_id + q_id) mod n)-th
 * of the n CPUs in both sets counted from the highest, so that the one
 * queue of each of many devices does not land on the same CPU and the
 * first device keeps off CPU 0, where interrupts and housekeeping go
 * first; -1 if the sets have none in common.
 */
int queue_cpu_pick(const cpu_set_t *queue_cpus, const cpu_set_t *allowed,
		   unsigned int dev_id, unsigned int q_id);

#endif
