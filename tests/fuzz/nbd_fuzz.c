// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the NBD client's parsers (src/nbd): the server is
 * the attacker, so its bytes go through the handshake and the reply
 * stream; URIs come from users.  The first byte picks which:
 *
 *   0 (mod 3)  a URI: the rest, as text;
 *   1          the handshake: the rest is what the server sends;
 *   2          the reply stream: byte 1 = slots (1-16), byte 2 = staging
 *              size (16-271), byte 3 = requests to start (up to 32), each
 *              3 bytes (tag, type, length in 64-byte units; a type
 *              byte of 0x80 or more leaves it not yet sent); then chunks
 *              of the server's stream, each led by a length byte (0 in a
 *              length byte restarts a slot at random instead).
 *
 * ASan and UBSan judge memory; the checks below abort when the parsers
 * break their own contracts (a completion for a request not in flight,
 * a handshake asking for more than its bound, ...).  Every READ buffer
 * is its own allocation of exactly its length: a byte past it is caught.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nbd/handshake.h"
#include "nbd/uri.h"
#include "nbd/xmit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_uri(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char ep[NBD_URI_HOST_MAX + 16];
	struct nbd_uri u;
	struct uerr err;
	int ret;

	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	uerr_clear(&err);
	ret = nbd_uri_parse(&u, text, &err);
	if (ret < 0 && !err.msg[0])
		abort();
	if (ret == 0) {
		nbd_uri_endpoint(&u, ep, sizeof(ep));
		if (u.transport == NBD_TRANSPORT_UNIX && u.socket[0] != '/')
			abort();
		if (u.transport == NBD_TRANSPORT_TCP && (!u.host[0] || !u.port))
			abort();
	}
	free(text);
}

static void fuzz_handshake(const uint8_t *data, size_t size)
{
	struct nbd_hs *hs = malloc(sizeof(*hs));
	struct uerr err;
	size_t pos = 0;
	int ret;

	if (!hs)
		return;
	ret = nbd_hs_init(hs, "fuzz", &err);
	while (ret == 0) {
		size_t want = nbd_hs_want(hs);
		uint8_t *in;

		if (want > NBD_HS_MAX_WANT)
			abort();
		if (size - pos < want)
			break;
		/* An allocation of its own: reading past it is caught. */
		in = malloc(want ? want : 1);
		if (!in)
			break;
		memcpy(in, data + pos, want);
		pos += want;
		ret = nbd_hs_feed(hs, in, want, &err);
		free(in);
		if (hs->out_len > NBD_HS_OUT_MAX)
			abort();
		if (ret < 0 && (!err.msg[0] || hs->state != NBD_HS_FAILED))
			abort();
	}
	if (ret == 1) {
		struct nbd_export e = hs->exp;

		if (!hs->done)
			abort();
		nbd_export_check(&e, 1ULL << 40, &err);
		if (nbd_export_same(&e, &hs->exp, &err))
			abort();
	}
	free(hs);
}

struct rx_fuzz {
	struct nbd_rx rx;
	struct nbd_slot slots[16];
	uint8_t *bufs[16];
	bool busy[16];
	bool sent[16];
	unsigned int nr;
	unsigned int busy_count;
};

static void done(void *arg, unsigned int tag, int result)
{
	struct rx_fuzz *f = arg;

	/* Only a request sent whole may be answered. */
	if (tag >= f->nr || !f->busy[tag] || !f->sent[tag])
		abort();
	if (result > 0 || result < -4095)
		abort();
	f->busy[tag] = false;
	f->busy_count--;
	free(f->bufs[tag]);
	f->bufs[tag] = NULL;
}

static void start(struct rx_fuzz *f, uint8_t tag, uint8_t type, uint8_t len)
{
	static const uint16_t types[] = { NBD_CMD_READ, NBD_CMD_WRITE,
					  NBD_CMD_FLUSH, NBD_CMD_TRIM,
					  NBD_CMD_WRITE_ZEROES };
	uint32_t bytes = (uint32_t)len * 64;
	uint16_t t = types[type % 5];

	tag %= f->nr;
	if (f->busy[tag]) {
		/* A request in flight must not be started again. */
		if (nbd_rx_start(&f->rx, tag, t, bytes, NULL) != 0)
			abort();
		return;
	}
	f->bufs[tag] = malloc(bytes ? bytes : 1);
	if (!f->bufs[tag])
		return;
	if (!nbd_rx_start(&f->rx, tag, t, bytes, f->bufs[tag]))
		abort();
	f->sent[tag] = type < 0x80;
	if (f->sent[tag])
		nbd_rx_sent(&f->rx, tag);
	f->busy[tag] = true;
	f->busy_count++;
}

static void fuzz_replies(const uint8_t *data, size_t size)
{
	struct rx_fuzz *f;
	uint8_t *stage;
	size_t stage_size, pos = 4;
	unsigned int i, nr_start;
	struct uerr err;

	if (size < 4)
		return;
	f = calloc(1, sizeof(*f));
	stage_size = 16 + data[2];
	stage = malloc(stage_size);
	if (!f || !stage)
		goto out;
	f->nr = 1 + data[1] % 16;
	if (nbd_rx_init(&f->rx, f->slots, f->nr, stage, stage_size, &err))
		abort();
	nr_start = data[3] % 33;
	for (i = 0; i < nr_start && pos + 3 <= size; i++, pos += 3)
		start(f, data[pos], data[pos + 1], data[pos + 2]);
	while (pos < size) {
		size_t n, room, chunk = data[pos++];
		void *p;

		if (chunk == 0) {
			if (pos + 3 > size)
				break;
			start(f, data[pos], data[pos + 1], data[pos + 2]);
			pos += 3;
			continue;
		}
		nbd_rx_space(&f->rx, &p, &room);
		if (room == 0)
			abort();
		n = chunk < room ? chunk : room;
		if (n > size - pos)
			n = size - pos;
		memcpy(p, data + pos, n);
		pos += n;
		if (nbd_rx_received(&f->rx, n, done, f, &err) < 0) {
			if (!f->rx.broken || !err.msg[0])
				abort();
			break;
		}
		if (f->rx.inflight != f->busy_count)
			abort();
	}
out:
	if (f)
		for (i = 0; i < 16; i++)
			free(f->bufs[i]);
	free(stage);
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_uri(data + 1, size - 1);
		break;
	case 1:
		fuzz_handshake(data + 1, size - 1);
		break;
	default:
		fuzz_replies(data + 1, size - 1);
		break;
	}
	return 0;
}
