// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "nbd/xmit.h"

void nbd_request_encode(uint8_t out[NBD_REQUEST_SIZE],
			const struct nbd_request *r)
{
	nbd_put32(out, NBD_REQUEST_MAGIC);
	nbd_put16(out + 4, r->flags);
	nbd_put16(out + 6, r->type);
	nbd_put64(out + 8, r->cookie);
	nbd_put64(out + 16, r->offset);
	nbd_put32(out + 24, r->len);
}

int nbd_reply_errno(uint32_t nbd_error)
{
	switch (nbd_error) {
	case 0:
		return 0;
	case NBD_EPERM:
		return -EPERM;
	case NBD_EIO:
		return -EIO;
	case NBD_ENOMEM:
		return -ENOMEM;
	case NBD_ENOSPC:
		return -ENOSPC;
	case NBD_EOVERFLOW:
		return -EOVERFLOW;
	case NBD_ENOTSUP:
		return -EOPNOTSUPP;
	case NBD_ESHUTDOWN:
		return -ESHUTDOWN;
	default: /* NBD_EINVAL and anything the protocol does not define */
		return -EINVAL;
	}
}

int nbd_rx_init(struct nbd_rx *rx, struct nbd_slot *slots,
		unsigned int nr_slots, uint8_t *stage, size_t stage_size,
		struct uerr *err)
{
	memset(rx, 0, sizeof(*rx));
	if (!nr_slots || nr_slots > 65536 || stage_size < NBD_SIMPLE_REPLY_SIZE)
		return uerr_set(err, EINVAL,
				"nbd_rx_init: %u slots, %zu bytes of staging",
				nr_slots, stage_size);
	memset(slots, 0, nr_slots * sizeof(*slots));
	rx->slots = slots;
	rx->nr_slots = nr_slots;
	rx->stage = stage;
	rx->stage_size = stage_size;
	rx->cur = -1;
	return 0;
}

static uint64_t slot_cookie(const struct nbd_rx *rx, unsigned int tag)
{
	return (uint64_t)rx->slots[tag].seq << 32 | tag;
}

/* Sequence numbers start at 1: a cookie of 0 is never in flight. */
static void slot_next_seq(struct nbd_slot *s)
{
	if (++s->seq == 0)
		s->seq = 1;
}

uint64_t nbd_rx_start(struct nbd_rx *rx, unsigned int tag, uint16_t type,
		      uint32_t len, void *data)
{
	struct nbd_slot *s;

	if (tag >= rx->nr_slots || rx->slots[tag].state != NBD_SLOT_FREE)
		return 0;
	s = &rx->slots[tag];
	slot_next_seq(s);
	s->state = NBD_SLOT_QUEUED;
	s->type = type;
	s->len = len;
	s->data = data;
	rx->inflight++;
	return slot_cookie(rx, tag);
}

void nbd_rx_sent(struct nbd_rx *rx, unsigned int tag)
{
	if (tag < rx->nr_slots && rx->slots[tag].state == NBD_SLOT_QUEUED)
		rx->slots[tag].state = NBD_SLOT_SENT;
}

static bool slot_busy(const struct nbd_rx *rx, unsigned int tag)
{
	return tag < rx->nr_slots && rx->slots[tag].state != NBD_SLOT_FREE;
}

uint64_t nbd_rx_cookie(const struct nbd_rx *rx, unsigned int tag)
{
	return slot_busy(rx, tag) ? slot_cookie(rx, tag) : 0;
}

uint64_t nbd_rx_restart(struct nbd_rx *rx, unsigned int tag)
{
	if (!slot_busy(rx, tag))
		return 0;
	slot_next_seq(&rx->slots[tag]);
	rx->slots[tag].state = NBD_SLOT_QUEUED;
	return slot_cookie(rx, tag);
}

void nbd_rx_cancel(struct nbd_rx *rx, unsigned int tag)
{
	if (!slot_busy(rx, tag))
		return;
	/* Its data half received: the stream is out of step from here. */
	if (rx->cur == (int)tag)
		rx->broken = true;
	rx->slots[tag].state = NBD_SLOT_FREE;
	rx->inflight--;
}

void nbd_rx_reset(struct nbd_rx *rx)
{
	rx->head = rx->tail = 0;
	rx->cur = -1;
	rx->got = 0;
	rx->direct = false;
	rx->broken = false;
}

void nbd_rx_space(struct nbd_rx *rx, void **buf, size_t *len)
{
	if (rx->direct) {
		struct nbd_slot *s = &rx->slots[rx->cur];

		*buf = s->data + rx->got;
		*len = s->len - rx->got;
		return;
	}
	/* What is left is less than a reply header: move it to the front. */
	if (rx->head) {
		memmove(rx->stage, rx->stage + rx->head, rx->tail - rx->head);
		rx->tail -= rx->head;
		rx->head = 0;
	}
	*buf = rx->stage + rx->tail;
	*len = rx->stage_size - rx->tail;
}

static void complete(struct nbd_rx *rx, unsigned int tag, int result,
		     nbd_rx_done_fn done, void *arg)
{
	rx->slots[tag].state = NBD_SLOT_FREE;
	rx->inflight--;
	done(arg, tag, result);
}

static int protocol_error(struct nbd_rx *rx)
{
	rx->broken = true;
	return -EPROTO;
}

/* Parse one reply header at stage[head]; 1 if parsed, 0 if short. */
static int parse_header(struct nbd_rx *rx, nbd_rx_done_fn done, void *arg,
			struct uerr *err)
{
	const uint8_t *h = rx->stage + rx->head;
	uint32_t magic, error;
	uint64_t cookie;
	unsigned int tag;
	struct nbd_slot *s;

	if (rx->tail - rx->head < NBD_SIMPLE_REPLY_SIZE)
		return 0;
	magic = nbd_get32(h);
	error = nbd_get32(h + 4);
	cookie = nbd_get64(h + 8);
	if (magic == NBD_STRUCTURED_REPLY_MAGIC) {
		uerr_set(err, EPROTO,
			 "a structured reply, which we never asked for");
		return protocol_error(rx);
	}
	if (magic != NBD_SIMPLE_REPLY_MAGIC) {
		uerr_set(err, EPROTO, "bad magic 0x%08x in a reply", magic);
		return protocol_error(rx);
	}
	tag = (unsigned int)(cookie & 0xffffffff);
	s = tag < rx->nr_slots ? &rx->slots[tag] : NULL;
	if (!s || s->state == NBD_SLOT_FREE || s->seq != cookie >> 32) {
		uerr_set(err, EPROTO,
			 "a reply to cookie 0x%016llx, which is not in flight",
			 (unsigned long long)cookie);
		return protocol_error(rx);
	}
	if (s->state != NBD_SLOT_SENT) {
		uerr_set(err, EPROTO,
			 "a reply to cookie 0x%016llx before all of its "
			 "request was sent",
			 (unsigned long long)cookie);
		return protocol_error(rx);
	}
	rx->head += NBD_SIMPLE_REPLY_SIZE;
	/* An error has no payload, not even for a READ. */
	if (error || s->type != NBD_CMD_READ || s->len == 0) {
		complete(rx, tag, nbd_reply_errno(error), done, arg);
		return 1;
	}
	rx->cur = (int)tag;
	rx->got = 0;
	return 1;
}

int nbd_rx_received(struct nbd_rx *rx, size_t n, nbd_rx_done_fn done, void *arg,
		    struct uerr *err)
{
	struct nbd_slot *s;
	int ret;

	if (rx->broken)
		return uerr_set(err, EPROTO,
				"the connection broke the protocol before");
	if (rx->direct) {
		s = &rx->slots[rx->cur];
		if (n > s->len - rx->got)
			return uerr_set(err, EINVAL,
					"nbd_rx_received: %zu bytes, %u asked",
					n, s->len - rx->got);
		rx->got += (uint32_t)n;
		if (rx->got < s->len)
			return 0;
		rx->direct = false;
		rx->cur = -1;
		complete(rx, (unsigned int)(s - rx->slots), 0, done, arg);
		return 0;
	}
	if (n > rx->stage_size - rx->tail)
		return uerr_set(err, EINVAL,
				"nbd_rx_received: %zu bytes, %zu asked", n,
				rx->stage_size - rx->tail);
	rx->tail += n;
	for (;;) {
		if (rx->cur >= 0) {
			size_t avail = rx->tail - rx->head;
			uint32_t k;

			s = &rx->slots[rx->cur];
			k = (uint32_t)(avail < s->len - rx->got ?
					       avail :
					       s->len - rx->got);
			memcpy(s->data + rx->got, rx->stage + rx->head, k);
			rx->head += k;
			rx->got += k;
			if (rx->got < s->len) {
				/* The rest goes straight to the buffer. */
				rx->head = rx->tail = 0;
				rx->direct = true;
				return 0;
			}
			rx->cur = -1;
			complete(rx, (unsigned int)(s - rx->slots), 0, done,
				 arg);
			continue;
		}
		ret = parse_header(rx, done, arg, err);
		if (ret <= 0)
			return ret;
	}
}
