// SPDX-License-Identifier: MIT
/* queue_cpu_pick (src/server/placement.c): where a queue's thread runs */
#include <sched.h>
#include <stdarg.h>

#include "tap.h"
#include "server/placement.h"

/* A set of the CPUs listed, ended by -1 */
static cpu_set_t cpus(int first, ...)
{
	cpu_set_t set;
	va_list ap;
	int c;

	CPU_ZERO(&set);
	va_start(ap, first);
	for (c = first; c >= 0; c = va_arg(ap, int))
		CPU_SET(c, &set);
	va_end(ap);
	return set;
}

int main(void)
{
	cpu_set_t all4 = cpus(0, 1, 2, 3, -1), none, high;
	cpu_set_t q0 = cpus(0, 1, -1), q1 = cpus(2, 3, -1);
	unsigned int dev;
	int seen[4] = { 0 };

	CPU_ZERO(&none);
	/* One queue per CPU: that CPU, whatever the device. */
	is_int(queue_cpu_pick(&q0, &q0, 0, 0), 1,
	       "device 0's queue on CPUs 0-1: CPU 1 (the highest, off CPU 0)");
	is_int(queue_cpu_pick(&q0, &q0, 1, 0), 0,
	       "device 1's queue on CPUs 0-1: CPU 0");
	high = cpus(5, -1);
	is_int(queue_cpu_pick(&high, &all4, 0, 0), -1,
	       "a queue CPU the server may not use is not picked");
	high = cpus(5, -1);
	is_int(queue_cpu_pick(&high, &high, 7, 3), 5,
	       "a queue of one CPU: that CPU, whatever the ids");
	/* Within the queue's CPUs, spread by device and queue. */
	is_int(queue_cpu_pick(&q1, &all4, 0, 1), 2,
	       "queue 1 of device 0 on 2-3: the lower (ids add up to 1)");
	is_int(queue_cpu_pick(&q1, &all4, 1, 1), 3,
	       "queue 1 of device 1 on 2-3: the higher (ids add up to 2)");
	/* Only CPUs the server may use. */
	is_int(queue_cpu_pick(&q1, &q0, 0, 0), -1,
	       "no CPU in common: -1 (the thread stays where it may run)");
	is_int(queue_cpu_pick(&all4, &none, 0, 0), -1, "no CPU allowed: -1");
	is_int(queue_cpu_pick(&all4, &q1, 0, 0), 3,
	       "queue on 0-3, server on 2-3: CPU 3");
	is_int(queue_cpu_pick(&all4, &q1, 1, 0), 2,
	       "the next device's queue: CPU 2");
	/* One-queue devices 0..7 on 4 CPUs: each CPU twice. */
	for (dev = 0; dev < 8; dev++) {
		int c = queue_cpu_pick(&all4, &all4, dev, 0);

		if (c >= 0 && c < 4)
			seen[c]++;
	}
	ok(seen[0] == 2 && seen[1] == 2 && seen[2] == 2 && seen[3] == 2,
	   "8 one-queue devices on 4 CPUs: 2 on each (%d %d %d %d)", seen[0],
	   seen[1], seen[2], seen[3]);
	return done_testing();
}
