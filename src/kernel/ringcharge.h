/* SPDX-License-Identifier: MIT */
/*
 * Whether this kernel charges an io_uring ring itself to the user's
 * locked memory (RLIMIT_MEMLOCK), as Linux 6.18 does.  There the fixed
 * buffers one server registers use up what every other process of the
 * user needs just to make a ring: ublk-user's own control ring, fio.
 */
#ifndef UBLK_USER_RINGCHARGE_H
#define UBLK_USER_RINGCHARGE_H

/*
 * 1 if a ring made by the calling thread, with its capabilities, would be
 * charged; 0 if not; a negative errno if the probe itself failed.
 */
int uring_rings_charged(void);

#endif
