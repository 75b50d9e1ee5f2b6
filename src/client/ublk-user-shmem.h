/* SPDX-License-Identifier: MIT */
/*
 * libublk-user-shmem: share memory with a ublk-user device for zero-copy
 * I/O.  Make a sealed memfd, send it over the device's socket, map it, and
 * do O_DIRECT reads and writes to /dev/ublkbN from it: the server then
 * reads or writes those very pages instead of copying.  A buffer stays
 * registered while its connection is open.
 *
 * All functions return a negative errno on failure.
 */
#ifndef UBLK_USER_SHMEM_CLIENT_H
#define UBLK_USER_SHMEM_CLIENT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UBLK_SHMEM_HUGETLB 1U /* back the memfd with huge pages */

/*
 * $XDG_RUNTIME_DIR/ublk-user/dev-ID.sock, else /run/user/UID/ublk-user/...,
 * else /tmp/ublk-user-UID/dev-ID.sock (where ublk-user puts it for a user
 * without a runtime directory; -EPERM when that is not the caller's 0700
 * directory).  Also the last when the first is missing and it is there.
 */
int ublk_shmem_socket_path(unsigned int dev_id, char *buf, size_t len);
/* A connection to a device's socket: an fd */
int ublk_shmem_connect(const char *path);
/*
 * A memfd of size bytes (a multiple of the page or huge page size),
 * sealed against shrinking and growing, and mapped read-write.
 */
int ublk_shmem_alloc(size_t size, unsigned int flags, int *memfd, void **addr);
void ublk_shmem_free(int memfd, void *addr, size_t size);
/* Register memfd with the device: the kernel's buffer index */
int ublk_shmem_register(int sock, int memfd);
/* Unregister a buffer this connection registered */
int ublk_shmem_unregister(int sock, int index);

#ifdef __cplusplus
}
#endif

#endif
