// SPDX-License-Identifier: MIT
/*
 * The uapi tables of the kernel's linux/ublk_cmd.h (Linux 7.x, from the VM
 * cache: the Makefile puts its include directory first).
 */
#include <errno.h>	 /* UBLK_IO_RES_ABORT is -ENODEV */
#include <linux/ioctl.h> /* the header uses _IOR without including it */
#include <linux/ublk_cmd.h>

#define UAPI_HEADER_NAME "linux/ublk_cmd.h"
#include "uapi_names.h"

/* Fails to build if the include path found the host's (older) header. */
#ifndef UBLK_F_SHMEM_ZC
#error "linux/ublk_cmd.h is not the Linux 7.x header (no UBLK_F_SHMEM_ZC)"
#endif

UAPI_TABLES(kernel);
