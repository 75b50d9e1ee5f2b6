/* SPDX-License-Identifier: MIT */
/*
 * The client side of the fixed newstyle handshake, as a state machine over
 * buffers (no I/O here, so that it can be fuzzed):
 *
 *	nbd_hs_init(&hs, name);
 *	while (!hs.done) {
 *		read exactly nbd_hs_want(&hs) bytes into buf (a server
 *		closing early is an error of the caller's);
 *		if (nbd_hs_feed(&hs, buf, n, &err) < 0) break;
 *		send hs.out[0 .. hs.out_len);
 *	}
 *
 * We send NBD_OPT_GO with an NBD_INFO_BLOCK_SIZE request (so we promise to
 * honour the server's size constraints), and fall back to
 * NBD_OPT_EXPORT_NAME for servers without GO or without fixed newstyle.
 * We never negotiate structured replies, TLS or metadata contexts: the
 * transmission phase uses simple replies only (nbd/xmit.h).
 *
 * The server is not trusted: every length is checked before it is used,
 * replies are bounded in size (NBD_HS_MAX_WANT) and number, and a
 * failure says what the server sent.  After a failure, hs.out holds an
 * NBD_OPT_ABORT to send (best effort) when still in option haggling.
 */
#ifndef UBLK_USER_NBD_HANDSHAKE_H
#define UBLK_USER_NBD_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "nbd/proto.h"

/* The most bytes nbd_hs_want() asks for: an option reply's payload */
#define NBD_HS_MAX_WANT (NBD_MAX_STRING + 8)
/* The most bytes one step sends: client flags and NBD_OPT_GO */
#define NBD_HS_OUT_MAX (NBD_MAX_STRING + 64)
/* Option replies accepted for one option before we give up */
#define NBD_HS_MAX_REPLIES 32

/* What the server says about the export */
struct nbd_export {
	uint64_t size;	    /* bytes */
	uint16_t flags;	    /* NBD_FLAG_* transmission flags */
	uint32_t min_block; /* size constraints (defaults if not sent) */
	uint32_t pref_block;
	uint32_t max_payload;
	bool block_size_sent;  /* the server sent NBD_INFO_BLOCK_SIZE */
	bool export_name_used; /* old server: NBD_OPT_EXPORT_NAME, not GO */
};

enum nbd_hs_state {
	NBD_HS_GREETING,
	NBD_HS_OPT_HEADER,
	NBD_HS_OPT_PAYLOAD,
	NBD_HS_EXPORT_REPLY,
	NBD_HS_DONE,
	NBD_HS_FAILED,
};

struct nbd_hs {
	enum nbd_hs_state state;
	const char *name; /* the export name; the caller keeps it */
	size_t name_len;
	bool no_zeroes;	   /* both sides agreed: no 124 zero bytes */
	uint32_t rep_type; /* the option reply being read */
	uint32_t rep_len;
	unsigned int nr_replies;
	bool got_export; /* NBD_INFO_EXPORT seen */
	size_t want;
	bool done;
	struct nbd_export exp;
	uint8_t out[NBD_HS_OUT_MAX];
	size_t out_len;
};

/* Fails (EINVAL) only for an export name longer than NBD_MAX_STRING. */
int nbd_hs_init(struct nbd_hs *hs, const char *export_name, struct uerr *err);

static inline size_t nbd_hs_want(const struct nbd_hs *hs)
{
	return hs->want;
}

/*
 * Feed exactly nbd_hs_want() bytes.  Returns 0 to go on, 1 when the
 * handshake is done (hs->exp filled), or -errno with err set.
 */
int nbd_hs_feed(struct nbd_hs *hs, const uint8_t *in, size_t len,
		struct uerr *err);

/*
 * Whether we can serve the export as a block device: flags well formed,
 * a size of at least one block and within max_size (0: no limit), size
 * constraints as doc/proto.md requires, a minimum block size the kernel
 * can use.  The message names the value and the limit.
 */
int nbd_export_check(const struct nbd_export *e, uint64_t max_size,
		     struct uerr *err);

/*
 * After a reconnect: the new export must be the same disk to us: the same
 * size, the same flags we rely on, no tighter size constraints.
 */
int nbd_export_same(const struct nbd_export *old, const struct nbd_export *e,
		    struct uerr *err);

/* The logical block size we use for e: the minimum block, at least 512 */
unsigned int nbd_export_block_size(const struct nbd_export *e);

/* "read-only flush fua trim write-zeroes multi-conn", "" for none */
const char *nbd_export_flags_str(uint16_t flags, char *buf, size_t len);

#endif
