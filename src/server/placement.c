// SPDX-License-Identifier: MIT
#include "server/placement.h"

int queue_cpu_pick(const cpu_set_t *queue_cpus, const cpu_set_t *allowed,
		   unsigned int dev_id, unsigned int q_id)
{
	cpu_set_t both;
	int n, cpu, nth;

	CPU_AND(&both, queue_cpus, allowed);
	n = CPU_COUNT(&both);
	if (!n)
		return -1;
	nth = (int)((dev_id + q_id) % (unsigned int)n);
	/* From the last CPU down: CPU 0 takes most of the housekeeping. */
	for (cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--)
		if (CPU_ISSET(cpu, &both) && nth-- == 0)
			return cpu;
	return -1;
}
