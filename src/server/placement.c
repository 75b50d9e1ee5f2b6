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
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &both) && nth-- == 0)
			return cpu;
	return -1;
}
