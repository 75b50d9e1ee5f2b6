/* SPDX-License-Identifier: MIT */
/*
 * CLOCK_MONOTONIC, for deadlines and for how long something took: one
 * definition for every layer (inline, so that the root helper gains no
 * symbol from it).
 */
#ifndef UBLK_USER_CLOCK_H
#define UBLK_USER_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds */
static inline long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* CLOCK_MONOTONIC in microseconds */
static inline uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

#endif
