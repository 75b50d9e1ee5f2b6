/* SPDX-License-Identifier: MIT */
/*
 * The NBD protocol on the wire (NetworkBlockDevice/nbd doc/proto.md):
 * the fixed newstyle handshake and the transmission phase with simple
 * replies.  Every field is big-endian; the helpers below read and write
 * them at any alignment.
 */
#ifndef UBLK_USER_NBD_PROTO_H
#define UBLK_USER_NBD_PROTO_H

#include <stdint.h>

/* Handshake: "NBDMAGIC", then "IHAVEOPT" (newstyle) or the oldstyle magic */
#define NBD_INIT_MAGIC 0x4e42444d41474943ULL
#define NBD_OPTS_MAGIC 0x49484156454f5054ULL
#define NBD_OLDSTYLE_MAGIC 0x00420281861253ULL
#define NBD_OPT_REPLY_MAGIC 0x3e889045565a9ULL

/* Handshake flags (server) and client flags */
#define NBD_FLAG_FIXED_NEWSTYLE (1U << 0)
#define NBD_FLAG_NO_ZEROES (1U << 1)
#define NBD_FLAG_C_FIXED_NEWSTYLE (1U << 0)
#define NBD_FLAG_C_NO_ZEROES (1U << 1)

/* Options */
#define NBD_OPT_EXPORT_NAME 1
#define NBD_OPT_ABORT 2
#define NBD_OPT_INFO 6
#define NBD_OPT_GO 7

/* Option replies; errors have bit 31 set */
#define NBD_REP_ACK 1
#define NBD_REP_INFO 3
#define NBD_REP_FLAG_ERROR (1U << 31)
#define NBD_REP_ERR_UNSUP (NBD_REP_FLAG_ERROR | 1)
#define NBD_REP_ERR_POLICY (NBD_REP_FLAG_ERROR | 2)
#define NBD_REP_ERR_INVALID (NBD_REP_FLAG_ERROR | 3)
#define NBD_REP_ERR_PLATFORM (NBD_REP_FLAG_ERROR | 4)
#define NBD_REP_ERR_TLS_REQD (NBD_REP_FLAG_ERROR | 5)
#define NBD_REP_ERR_UNKNOWN (NBD_REP_FLAG_ERROR | 6)
#define NBD_REP_ERR_SHUTDOWN (NBD_REP_FLAG_ERROR | 7)
#define NBD_REP_ERR_BLOCK_SIZE_REQD (NBD_REP_FLAG_ERROR | 8)
#define NBD_REP_ERR_TOO_BIG (NBD_REP_FLAG_ERROR | 9)

/* NBD_REP_INFO types and their exact lengths (type included) */
#define NBD_INFO_EXPORT 0
#define NBD_INFO_NAME 1
#define NBD_INFO_DESCRIPTION 2
#define NBD_INFO_BLOCK_SIZE 3
#define NBD_INFO_EXPORT_LEN 12
#define NBD_INFO_BLOCK_SIZE_LEN 14

/* Transmission flags */
#define NBD_FLAG_HAS_FLAGS (1U << 0)
#define NBD_FLAG_READ_ONLY (1U << 1)
#define NBD_FLAG_SEND_FLUSH (1U << 2)
#define NBD_FLAG_SEND_FUA (1U << 3)
#define NBD_FLAG_ROTATIONAL (1U << 4)
#define NBD_FLAG_SEND_TRIM (1U << 5)
#define NBD_FLAG_SEND_WRITE_ZEROES (1U << 6)
#define NBD_FLAG_CAN_MULTI_CONN (1U << 8)

/* Requests */
#define NBD_REQUEST_MAGIC 0x25609513U
#define NBD_REQUEST_SIZE 28
#define NBD_CMD_READ 0
#define NBD_CMD_WRITE 1
#define NBD_CMD_DISC 2
#define NBD_CMD_FLUSH 3
#define NBD_CMD_TRIM 4
#define NBD_CMD_WRITE_ZEROES 6
#define NBD_CMD_FLAG_FUA (1U << 0)
#define NBD_CMD_FLAG_NO_HOLE (1U << 1)

/* Replies: we never negotiate structured replies, so only simple ones */
#define NBD_SIMPLE_REPLY_MAGIC 0x67446698U
#define NBD_STRUCTURED_REPLY_MAGIC 0x668e33efU
#define NBD_SIMPLE_REPLY_SIZE 16

/* Error values of a reply */
#define NBD_EPERM 1
#define NBD_EIO 5
#define NBD_ENOMEM 12
#define NBD_EINVAL 22
#define NBD_ENOSPC 28
#define NBD_EOVERFLOW 75
#define NBD_ENOTSUP 95
#define NBD_ESHUTDOWN 108

/* Strings (export names, messages) are at most this long */
#define NBD_MAX_STRING 4096
/* The port IANA assigned to NBD */
#define NBD_DEFAULT_PORT 10809
/* Size constraints when the server gives none (doc/proto.md) */
#define NBD_DEFAULT_MIN_BLOCK 1U
#define NBD_DEFAULT_PREF_BLOCK 4096U
#define NBD_DEFAULT_MAX_PAYLOAD (32U << 20)
#define NBD_MAX_MIN_BLOCK 65536U

static inline uint16_t nbd_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t nbd_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t nbd_get64(const uint8_t *p)
{
	return (uint64_t)nbd_get32(p) << 32 | nbd_get32(p + 4);
}

static inline void nbd_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void nbd_put32(uint8_t *p, uint32_t v)
{
	nbd_put16(p, v >> 16);
	nbd_put16(p + 2, v & 0xffff);
}

static inline void nbd_put64(uint8_t *p, uint64_t v)
{
	nbd_put32(p, v >> 32);
	nbd_put32(p + 4, v & 0xffffffff);
}

#endif
