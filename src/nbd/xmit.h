/* SPDX-License-Identifier: MIT */
/*
 * The transmission phase over buffers: requests are encoded into 28-byte
 * headers; replies (simple replies only: structured replies are never
 * negotiated) are parsed from a byte stream by a state machine that knows
 * the requests in flight.  No I/O here, so that it can be fuzzed.
 *
 * Why simple replies: a block device needs none of what structured
 * replies add (holes, partial reads, error strings, block status), and
 * without them the only payload a server may send is exactly the length
 * of a READ we asked for, into the buffer we named.
 *
 * Each request occupies a slot (a ublk tag); its cookie is the slot
 * number and a sequence number bumped on every use, so that a reply to
 * an old request (a duplicate, a stale one) is not taken for a new one.
 *
 *	nbd_rx_init(&rx, slots, nr, stage, stage_size);
 *	cookie = nbd_rx_start(&rx, tag, NBD_CMD_READ, len, buf);
 *	... send nbd_request_encode(...) with that cookie ...
 *	nbd_rx_sent(&rx, tag);	(once all of the request is out)
 *	loop: nbd_rx_space(&rx, &p, &n); receive up to n bytes into p;
 *	      nbd_rx_received(&rx, got, done_fn, arg, &err);
 *
 * Receiving goes into the staging buffer, several replies at a time; the
 * rest of a READ's data that is not there yet goes straight into the
 * slot's buffer.  A server that breaks the protocol (bad magic, a cookie
 * not in flight, a reply to a request not yet sent whole, a structured
 * reply) makes nbd_rx_received() fail: the
 * connection must then be dropped, since nothing after it can be
 * trusted; the requests still in flight can be sent again on a new one
 * (nbd_rx_reset(), nbd_rx_restart()).  A READ's buffer is only ever
 * written within its length.
 */
#ifndef UBLK_USER_NBD_XMIT_H
#define UBLK_USER_NBD_XMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "nbd/proto.h"

struct nbd_request {
	uint16_t flags; /* NBD_CMD_FLAG_* */
	uint16_t type;	/* NBD_CMD_* */
	uint64_t cookie;
	uint64_t offset;
	uint32_t len;
};

void nbd_request_encode(uint8_t out[NBD_REQUEST_SIZE],
			const struct nbd_request *r);

/* The reply's error as -errno (unknown values are -EINVAL, as the
 * protocol says); 0 for none. */
int nbd_reply_errno(uint32_t nbd_error);

enum nbd_slot_state {
	NBD_SLOT_FREE,
	NBD_SLOT_QUEUED, /* has a cookie; not all of it sent yet */
	NBD_SLOT_SENT,	 /* waiting for its reply */
};

struct nbd_slot {
	uint8_t state;
	uint16_t type;
	uint32_t len;
	uint32_t seq;
	uint8_t *data; /* a READ's destination */
};

struct nbd_rx {
	struct nbd_slot *slots;
	unsigned int nr_slots;
	unsigned int inflight;
	uint8_t *stage; /* replies land here first */
	size_t stage_size;
	size_t head, tail; /* unparsed bytes: stage[head, tail) */
	int cur;	   /* slot whose READ data is arriving, or -1 */
	uint32_t got;	   /* bytes of that data so far */
	bool direct;	   /* the next bytes go straight to cur's buffer */
	bool broken;	   /* the server broke the protocol */
};

/* A completed request: result 0 or -errno from the server's reply. */
typedef void (*nbd_rx_done_fn)(void *arg, unsigned int tag, int result);

/* nr_slots at most 65536; stage_size at least NBD_SIMPLE_REPLY_SIZE */
int nbd_rx_init(struct nbd_rx *rx, struct nbd_slot *slots,
		unsigned int nr_slots, uint8_t *stage, size_t stage_size,
		struct uerr *err);

/*
 * Put a request in slot tag (which must be free); its cookie to send.
 * data: where a READ's len bytes go (unused for other types).
 */
uint64_t nbd_rx_start(struct nbd_rx *rx, unsigned int tag, uint16_t type,
		      uint32_t len, void *data);

/* All of slot tag's request is sent: from now on a reply is taken. */
void nbd_rx_sent(struct nbd_rx *rx, unsigned int tag);

/* Where to receive next: up to *len bytes at *buf (never 0 bytes). */
void nbd_rx_space(struct nbd_rx *rx, void **buf, size_t *len);

/*
 * n bytes arrived at the place nbd_rx_space() gave.  Calls done for each
 * reply completed (the slot is free again when it does).  Returns 0, or
 * -EPROTO with err saying what the server did wrong.
 */
int nbd_rx_received(struct nbd_rx *rx, size_t n, nbd_rx_done_fn done, void *arg,
		    struct uerr *err);

/* The cookie of the request in slot tag (0 when the slot is free) */
uint64_t nbd_rx_cookie(const struct nbd_rx *rx, unsigned int tag);

/* A new connection: forget the stream, keep the slots in flight. */
void nbd_rx_reset(struct nbd_rx *rx);

/* A request in flight, to be sent again on a new connection (and
 * marked sent again): its new cookie */
uint64_t nbd_rx_restart(struct nbd_rx *rx, unsigned int tag);

/* Drop a request in flight (failed without a reply, e.g. EIO on give-up) */
void nbd_rx_cancel(struct nbd_rx *rx, unsigned int tag);

#endif
