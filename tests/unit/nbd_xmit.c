// SPDX-License-Identifier: MIT
/*
 * The NBD transmission phase (src/nbd/xmit.c): request encoding, and the
 * reply stream against good and hostile servers, in every chunking.
 */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "nbd/xmit.h"

#define NR 8
#define GUARD 0xa5

static struct nbd_slot slots[NR];
static struct nbd_rx rx;
static uint8_t stage[64];
static uint8_t bufs[NR][1024 + 16]; /* 16 guard bytes after each */
static int results[NR];
static unsigned int nr_done;
static unsigned int order[64];
static struct uerr err;

static void done(void *arg, unsigned int tag, int result)
{
	(void)arg;
	results[tag] = result;
	order[nr_done++ % 64] = tag;
}

static void reset_all(void)
{
	memset(bufs, GUARD, sizeof(bufs));
	memset(results, 0x7f, sizeof(results));
	nr_done = 0;
	nbd_rx_init(&rx, slots, NR, stage, sizeof(stage), &err);
}

static bool guards_intact(void)
{
	unsigned int t, i;

	for (t = 0; t < NR; t++)
		for (i = 0; i < 16; i++)
			if (bufs[t][1024 + i] != GUARD)
				return false;
	return true;
}

/* The server's byte stream */
static uint8_t stream[8192];
static size_t stream_len;

static void reply(uint32_t magic, uint32_t error, uint64_t cookie)
{
	nbd_put32(stream + stream_len, magic);
	nbd_put32(stream + stream_len + 4, error);
	nbd_put64(stream + stream_len + 8, cookie);
	stream_len += 16;
}

static void data(uint8_t byte, size_t n)
{
	memset(stream + stream_len, byte, n);
	stream_len += n;
}

/* Deliver the stream chunk bytes at a time (as recv would); 0 or error */
static int deliver(size_t chunk)
{
	size_t pos = 0;
	int ret = 0;

	while (pos < stream_len && ret == 0) {
		void *p;
		size_t n;

		nbd_rx_space(&rx, &p, &n);
		if (n == 0)
			return -1000;
		if (n > chunk)
			n = chunk;
		if (n > stream_len - pos)
			n = stream_len - pos;
		memcpy(p, stream + pos, n);
		pos += n;
		ret = nbd_rx_received(&rx, n, done, NULL, &err);
	}
	stream_len = 0;
	return ret;
}

static bool all(const uint8_t *p, uint8_t byte, size_t n)
{
	while (n--)
		if (*p++ != byte)
			return false;
	return true;
}

static void test_encode(void)
{
	static const uint8_t want[NBD_REQUEST_SIZE] = {
		0x25, 0x60, 0x95, 0x13, 0x00, 0x01, 0x00, 0x01, 0x01, 0x02,
		0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x10, 0x00,
	};
	struct nbd_request r = {
		.flags = NBD_CMD_FLAG_FUA,
		.type = NBD_CMD_WRITE,
		.cookie = 0x0102030405060708ULL,
		.offset = 0x100000200ULL,
		.len = 4096,
	};
	uint8_t out[NBD_REQUEST_SIZE];

	note("requests");
	nbd_request_encode(out, &r);
	ok(!memcmp(out, want, sizeof(want)), "a FUA write: magic, flags, type, "
					     "cookie, offset, length");

	is_int(nbd_reply_errno(0), 0, "error 0: success");
	is_int(nbd_reply_errno(NBD_EPERM), -EPERM, "NBD_EPERM");
	is_int(nbd_reply_errno(NBD_EIO), -EIO, "NBD_EIO");
	is_int(nbd_reply_errno(NBD_ENOMEM), -ENOMEM, "NBD_ENOMEM");
	is_int(nbd_reply_errno(NBD_EINVAL), -EINVAL, "NBD_EINVAL");
	is_int(nbd_reply_errno(NBD_ENOSPC), -ENOSPC, "NBD_ENOSPC");
	is_int(nbd_reply_errno(NBD_EOVERFLOW), -EOVERFLOW, "NBD_EOVERFLOW");
	is_int(nbd_reply_errno(NBD_ENOTSUP), -EOPNOTSUPP, "NBD_ENOTSUP");
	is_int(nbd_reply_errno(NBD_ESHUTDOWN), -ESHUTDOWN, "NBD_ESHUTDOWN");
	is_int(nbd_reply_errno(2), -EINVAL, "an unknown error is EINVAL");
	is_int(nbd_reply_errno(0xffffffff), -EINVAL, "so is 0xffffffff");
}

/* A request whose bytes are all out: its reply is taken */
static uint64_t start_sent(struct nbd_rx *r, unsigned int tag, uint16_t type,
			   uint32_t len, void *data)
{
	uint64_t c = nbd_rx_start(r, tag, type, len, data);

	nbd_rx_sent(r, tag);
	return c;
}

/* Three requests, their replies out of order, in chunks of chunk bytes */
static void good_stream(size_t chunk)
{
	uint64_t c_read, c_write, c_flush, c_big;

	reset_all();
	c_read = start_sent(&rx, 3, NBD_CMD_READ, 100, bufs[3]);
	c_write = start_sent(&rx, 5, NBD_CMD_WRITE, 4096, NULL);
	c_flush = start_sent(&rx, 7, NBD_CMD_FLUSH, 0, NULL);
	c_big = start_sent(&rx, 0, NBD_CMD_READ, 1024, bufs[0]);
	is_int(rx.inflight, 4, "chunks of %zu: 4 requests in flight", chunk);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c_write);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c_read);
	data(0x33, 100);
	reply(NBD_SIMPLE_REPLY_MAGIC, NBD_ENOSPC, c_flush);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c_big);
	data(0x44, 1024);
	if (!is_int(deliver(chunk), 0, "  the stream is accepted"))
		diag("%s", err.msg);
	is_int(nr_done, 4, "  4 completions");
	ok(order[0] == 5 && order[1] == 3 && order[2] == 7 && order[3] == 0,
	   "  in the order of the replies");
	is_int(results[5], 0, "  the write succeeded");
	is_int(results[3], 0, "  the read succeeded");
	ok(all(bufs[3], 0x33, 100) && all(bufs[3] + 100, GUARD, 924),
	   "  its 100 bytes are in its buffer, nothing after");
	is_int(results[7], -ENOSPC, "  the flush failed with ENOSPC");
	is_int(results[0], 0, "  the 1024-byte read succeeded");
	ok(all(bufs[0], 0x44, 1024), "  its data is in its buffer");
	ok(guards_intact(), "  no byte written past a buffer");
	is_int(rx.inflight, 0, "  nothing in flight");
	ok(slots[3].state == NBD_SLOT_FREE && slots[0].state == NBD_SLOT_FREE,
	   "  the slots are free");
}

static void test_good(void)
{
	size_t chunks[] = { 1, 2, 7, 16, 17, 64 };
	unsigned int i;
	uint64_t c, c2;

	note("good servers");
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		good_stream(chunks[i]);

	note("a large read: the rest goes straight to the buffer");
	reset_all();
	c = start_sent(&rx, 1, NBD_CMD_READ, 1024, bufs[1]);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c);
	data(0x11, 1024);
	{
		void *p;
		size_t n;

		nbd_rx_space(&rx, &p, &n);
		is_int(n, sizeof(stage), "first into the staging buffer");
		memcpy(p, stream, 64);
		nbd_rx_received(&rx, 64, done, NULL, &err);
		nbd_rx_space(&rx, &p, &n);
		ok(p == bufs[1] + 48 && n == 1024 - 48, "then the 976 bytes "
							"left, at byte 48 of "
							"the buffer");
		memcpy(p, stream + 64, n);
		is_int(nbd_rx_received(&rx, n, done, NULL, &err), 0,
		       "received");
		is_int(results[1], 0, "the read completes");
		nbd_rx_space(&rx, &p, &n);
		ok(p == stage && n == sizeof(stage), "and the staging buffer "
						     "is next");
	}
	stream_len = 0;

	note("an error reply to a READ has no payload");
	reset_all();
	c = start_sent(&rx, 2, NBD_CMD_READ, 512, bufs[2]);
	c2 = start_sent(&rx, 4, NBD_CMD_TRIM, 1 << 20, NULL);
	reply(NBD_SIMPLE_REPLY_MAGIC, NBD_EIO, c);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c2);
	is_int(deliver(5), 0, "accepted");
	is_int(results[2], -EIO, "the read fails with EIO");
	ok(all(bufs[2], GUARD, 512), "its buffer is untouched");
	is_int(results[4], 0, "the next reply is parsed right after");

	note("a zero-length READ has no payload");
	reset_all();
	c = start_sent(&rx, 6, NBD_CMD_READ, 0, bufs[6]);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c);
	is_int(deliver(64), 0, "accepted");
	is_int(results[6], 0, "completes");

	note("a reply before all of the request is sent");
	reset_all();
	c = nbd_rx_start(&rx, 2, NBD_CMD_WRITE, 4096, NULL);
	is_int(slots[2].state, NBD_SLOT_QUEUED, "a started request is queued");
	is_u64(nbd_rx_cookie(&rx, 2), c, "  with its cookie to send");
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c);
	is_int(deliver(64), -EPROTO,
	       "a reply to it (the server guessed the "
	       "cookie, or read only the header)");
	like(err.msg,
	     "^a reply to cookie 0x[0-9a-f]{16} before all of its "
	     "request was sent$",
	     "  names what the server did");
	is_int(nr_done, 0, "  nothing completes");
	is_int(rx.inflight, 1, "  it is still in flight");
	nbd_rx_reset(&rx);
	nbd_rx_sent(&rx, 2);
	is_int(slots[2].state, NBD_SLOT_SENT, "nbd_rx_sent: now it is sent");
	nbd_rx_sent(&rx, 3);
	is_int(slots[3].state, NBD_SLOT_FREE, "  a free slot stays free");
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c);
	is_int(deliver(64), 0, "  and its reply is taken");
	is_int(results[2], 0, "  and completes it");

	note("slots and cookies");
	reset_all();
	c = start_sent(&rx, 1, NBD_CMD_WRITE, 512, NULL);
	is_u64(c & 0xffffffff, 1, "the cookie's low half is the tag");
	ok(c >> 32 != 0, "the sequence number is never 0");
	is_u64(nbd_rx_start(&rx, 1, NBD_CMD_WRITE, 512, NULL), 0,
	       "a busy slot cannot be started again");
	is_u64(nbd_rx_start(&rx, NR, NBD_CMD_WRITE, 512, NULL), 0,
	       "nor one past the table");
	is_u64(nbd_rx_restart(&rx, 2), 0, "a free slot cannot be restarted");
	is_u64(nbd_rx_cookie(&rx, 1), c, "nbd_rx_cookie: the cookie in flight");
	is_u64(nbd_rx_cookie(&rx, 2), 0, "  0 for a free slot");
	c2 = nbd_rx_restart(&rx, 1);
	ok(c2 && c2 != c, "restarting gives a new cookie");
	is_u64(nbd_rx_cookie(&rx, 1), c2, "  which nbd_rx_cookie gives now");
	is_int(slots[1].state, NBD_SLOT_QUEUED,
	       "  not sent on the new "
	       "connection yet");
	nbd_rx_sent(&rx, 1);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c2);
	is_int(deliver(64), 0, "the new cookie is answered");
	is_int(results[1], 0, "  and completes");
	c = start_sent(&rx, 1, NBD_CMD_FLUSH, 0, NULL);
	nbd_rx_cancel(&rx, 1);
	is_int(rx.inflight, 0, "cancel frees the slot");
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c);
	is_int(deliver(64), -EPROTO, "a reply to a cancelled request");
	is_int(nbd_rx_init(&rx, slots, 0, stage, 64, &err), -EINVAL,
	       "no slots: refused");
	is_int(nbd_rx_init(&rx, slots, NR, stage, 15, &err), -EINVAL,
	       "15 bytes of staging: refused");
}

/* The stream is refused with EPROTO and a message; the rx is broken */
static void hostile(const char *what, size_t chunk, const char *msg)
{
	void *p;
	size_t n;

	uerr_clear(&err);
	is_int(deliver(chunk), -EPROTO, "%s: EPROTO", what);
	contains(err.msg, msg, "  the message says '%s'", msg);
	ok(rx.broken, "  the connection is marked broken");
	nbd_rx_space(&rx, &p, &n);
	is_int(nbd_rx_received(&rx, 0, done, NULL, &err), -EPROTO,
	       "  and stays so");
	ok(guards_intact(), "  no byte written past a buffer");
}

static void test_hostile(void)
{
	uint64_t c, c2;

	note("hostile servers");
	reset_all();
	c = start_sent(&rx, 1, NBD_CMD_READ, 16, bufs[1]);
	reply(0x67446699, 0, c);
	hostile("bad magic", 64, "bad magic 0x67446699 in a reply");
	is_int(nr_done, 0, "  nothing completed");

	reset_all();
	c = start_sent(&rx, 1, NBD_CMD_READ, 16, bufs[1]);
	reply(NBD_STRUCTURED_REPLY_MAGIC, 0, c);
	hostile("a structured reply", 3, "structured reply");

	reset_all();
	start_sent(&rx, 1, NBD_CMD_WRITE, 16, NULL);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, 0x100000002ULL);
	hostile("a reply for a slot not in flight", 64,
		"cookie 0x0000000100000002, which is not in flight");

	reset_all();
	start_sent(&rx, 1, NBD_CMD_WRITE, 16, NULL);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, 0x10000ffffULL);
	hostile("a reply for a tag past the table", 64, "not in flight");

	reset_all();
	c = start_sent(&rx, 1, NBD_CMD_WRITE, 16, NULL);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c ^ (1ULL << 40));
	hostile("a reply with a wrong sequence number", 64, "not in flight");
	is_int(rx.inflight, 1, "  the write is still in flight");

	reset_all();
	c = start_sent(&rx, 1, NBD_CMD_WRITE, 16, NULL);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c);
	hostile("a duplicate reply", 64, "not in flight");
	is_int(results[1], 0, "  the first completed the write");

	note("a duplicate after the slot is reused is caught too");
	reset_all();
	c = start_sent(&rx, 1, NBD_CMD_WRITE, 16, NULL);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c);
	deliver(64);
	c2 = start_sent(&rx, 1, NBD_CMD_READ, 16, bufs[1]);
	ok(c2 != c, "the reused slot has a new cookie");
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c);
	data(0x55, 16);
	hostile("the old cookie again", 64, "not in flight");
	ok(all(bufs[1], GUARD, 16), "  the new read's buffer is untouched");

	note("a READ answered short or long");
	reset_all();
	c = start_sent(&rx, 1, NBD_CMD_READ, 32, bufs[1]);
	c2 = start_sent(&rx, 2, NBD_CMD_WRITE, 32, NULL);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c);
	data(0x66, 8); /* 24 bytes short */
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c2);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c2);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c2);
	hostile("8 bytes of 32, then more replies", 64, "bad magic");
	ok(all(bufs[1] + 32, GUARD, 1024 - 32), "  the read's buffer is "
						"written within its 32 bytes "
						"only");

	reset_all();
	c = start_sent(&rx, 1, NBD_CMD_READ, 32, bufs[1]);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c);
	data(0x66, 48); /* 16 bytes too many */
	hostile("48 bytes for 32", 64, "bad magic 0x66666666");
	is_int(results[1], 0, "  the 32 asked for complete the read");
	ok(all(bufs[1], 0x66, 32) && all(bufs[1] + 32, GUARD, 992), "  within "
								    "its "
								    "buffer");

	note("a new connection after a broken one");
	nbd_rx_reset(&rx);
	ok(!rx.broken, "reset: not broken");
	c = start_sent(&rx, 3, NBD_CMD_FLUSH, 0, NULL);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c);
	is_int(deliver(64), 0, "replies are accepted again");

	note("cancelling a READ while its data arrives breaks the stream");
	reset_all();
	c = start_sent(&rx, 1, NBD_CMD_READ, 512, bufs[1]);
	reply(NBD_SIMPLE_REPLY_MAGIC, 0, c);
	data(0x77, 10);
	is_int(deliver(64), 0, "a partial read");
	nbd_rx_cancel(&rx, 1);
	ok(rx.broken, "cancelling it marks the stream broken");

	note("the caller saying it received more than it was given room for");
	reset_all();
	is_int(nbd_rx_received(&rx, sizeof(stage) + 1, done, NULL, &err),
	       -EINVAL, "refused");
}

int main(void)
{
	test_encode();
	test_good();
	test_hostile();
	return done_testing();
}
