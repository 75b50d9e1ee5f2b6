// SPDX-License-Identifier: MIT
/*
 * nbd-probe: the NBD client layer (src/nbd) driven with plain blocking
 * socket calls, for the tests: connect to a URI, print what the server
 * says about its export, then run requests.
 *
 *   nbd-probe [--max-size BYTES] [--timeout MS] URI [REQUEST...]
 *
 * Requests (sent together up to each "sync", then all their replies are
 * awaited; the server may answer them in any order):
 *   write OFF LEN BYTE   LEN bytes of BYTE at OFF
 *   read OFF LEN BYTE    read, and check every byte is BYTE
 *   flush | fua-write OFF LEN BYTE | trim OFF LEN | zero OFF LEN
 *   sync                 wait for every reply so far
 * Prints "size=... flags=... block_size=... max_payload=..." first, and
 * "ok" at the end; on any failure, one line on stderr and exit 1.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nbd/handshake.h"
#include "nbd/net.h"
#include "nbd/uri.h"
#include "nbd/xmit.h"

#define MAX_REQS 256

struct req {
	uint16_t type, flags;
	uint64_t off;
	uint32_t len;
	int byte;
	uint8_t *buf;
};

static struct req reqs[MAX_REQS];
static struct nbd_slot slots[MAX_REQS];
static struct nbd_rx rx;
static uint8_t stage[4096];
static int timeout_ms = 10000;
static unsigned int failures;

static void fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "nbd-probe: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static void done(void *arg, unsigned int tag, int result)
{
	struct req *r = &reqs[tag];
	uint32_t i;

	(void)arg;
	if (result) {
		fprintf(stderr, "nbd-probe: request %u (type %u): %s\n", tag,
			r->type, strerror(-result));
		failures++;
	} else if (r->type == NBD_CMD_READ) {
		for (i = 0; i < r->len; i++)
			if (r->buf[i] != r->byte) {
				fprintf(stderr,
					"nbd-probe: read at %llu: byte %u is "
					"0x%02x, not 0x%02x\n",
					(unsigned long long)r->off, i,
					r->buf[i], r->byte);
				failures++;
				break;
			}
	}
	free(r->buf);
	r->buf = NULL;
}

static void send_all(int fd, const void *p, size_t n)
{
	struct uerr err;

	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			uerr_sys(&err, errno, "sending");
			fail("%s", err.msg);
		}
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

static void wait_replies(int fd)
{
	struct uerr err;

	while (rx.inflight) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		void *p;
		size_t n;
		ssize_t r;

		if (poll(&pfd, 1, timeout_ms) == 0)
			fail("%s", "no reply in time");
		nbd_rx_space(&rx, &p, &n);
		r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail("%s", r ? strerror(errno) :
				       "the server closed the connection");
		if (nbd_rx_received(&rx, (size_t)r, done, NULL, &err) < 0)
			fail("protocol error: %s", err.msg);
	}
}

static void issue(int fd, unsigned int tag)
{
	struct req *r = &reqs[tag];
	struct nbd_request nr = {
		.flags = r->flags,
		.type = r->type,
		.offset = r->off,
		.len = r->len,
	};
	uint8_t h[NBD_REQUEST_SIZE];

	if (r->type == NBD_CMD_READ || r->type == NBD_CMD_WRITE) {
		r->buf = malloc(r->len ? r->len : 1);
		if (!r->buf)
			fail("%s", "out of memory");
		memset(r->buf, r->type == NBD_CMD_WRITE ? r->byte : 0xee,
		       r->len);
	}
	nr.cookie = nbd_rx_start(&rx, tag, r->type, r->len, r->buf);
	nbd_request_encode(h, &nr);
	send_all(fd, h, sizeof(h));
	if (r->type == NBD_CMD_WRITE) {
		send_all(fd, r->buf, r->len);
		free(r->buf);
		r->buf = NULL;
	}
	nbd_rx_sent(&rx, tag);
}

static unsigned long long num(char **argv, int *i, int argc)
{
	char *end;
	unsigned long long v;

	if (*i + 1 >= argc)
		fail("%s: missing a number", argv[*i]);
	v = strtoull(argv[++*i], &end, 0);
	if (*end)
		fail("'%s' is not a number", argv[*i]);
	return v;
}

int main(int argc, char **argv)
{
	unsigned long long max_size = 0;
	struct nbd_export exp;
	struct nbd_uri u;
	struct uerr err;
	char flags[128];
	unsigned int n = 0;
	int i = 1, fd;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--max-size"))
			max_size = num(argv, &i, argc);
		else if (!strcmp(argv[i], "--timeout"))
			timeout_ms = (int)num(argv, &i, argc);
		else
			fail("unknown option %s", argv[i]);
	}
	if (i >= argc)
		fail("%s", "usage: nbd-probe [--max-size B] [--timeout MS] "
			   "URI [REQUEST...]");
	if (nbd_uri_parse(&u, argv[i], &err) < 0)
		fail("--uri: %s", err.msg);
	fd = nbd_open(&u, timeout_ms, &exp, &err);
	if (fd < 0)
		fail("%s", err.msg);
	if (nbd_export_check(&exp, max_size, &err) < 0)
		fail("%s", err.msg);
	printf("size=%llu flags='%s' block_size=%u min_block=%u "
	       "pref_block=%u max_payload=%u%s\n",
	       (unsigned long long)exp.size,
	       nbd_export_flags_str(exp.flags, flags, sizeof(flags)),
	       nbd_export_block_size(&exp), exp.min_block, exp.pref_block,
	       exp.max_payload, exp.export_name_used ? " export_name" : "");
	fflush(stdout);
	if (nbd_rx_init(&rx, slots, MAX_REQS, stage, sizeof(stage), &err) < 0)
		fail("%s", err.msg);
	for (i++; i < argc; i++) {
		const char *w = argv[i];
		struct req *r;

		if (!strcmp(w, "sync")) {
			wait_replies(fd);
			n = 0;
			continue;
		}
		if (n == MAX_REQS)
			fail("%s", "too many requests before a sync");
		r = &reqs[n];
		memset(r, 0, sizeof(*r));
		if (!strcmp(w, "write") || !strcmp(w, "fua-write") ||
		    !strcmp(w, "read")) {
			r->type = w[0] == 'r' ? NBD_CMD_READ : NBD_CMD_WRITE;
			r->flags = w[0] == 'f' ? NBD_CMD_FLAG_FUA : 0;
			r->off = num(argv, &i, argc);
			r->len = (uint32_t)num(argv, &i, argc);
			r->byte = (int)num(argv, &i, argc);
		} else if (!strcmp(w, "trim") || !strcmp(w, "zero")) {
			r->type = w[0] == 't' ? NBD_CMD_TRIM :
						NBD_CMD_WRITE_ZEROES;
			r->off = num(argv, &i, argc);
			r->len = (uint32_t)num(argv, &i, argc);
		} else if (!strcmp(w, "flush")) {
			r->type = NBD_CMD_FLUSH;
		} else {
			fail("unknown request '%s'", w);
		}
		issue(fd, n++);
	}
	wait_replies(fd);
	if (failures)
		return 1;
	printf("ok\n");
	return 0;
}
