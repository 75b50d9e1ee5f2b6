// SPDX-License-Identifier: MIT
/*
 * nbd-evil: an NBD server for the tests, honest by default, hostile on
 * demand.  A memory disk (shared by every connection, so multi-conn and
 * reconnects see one disk), fixed newstyle with NBD_OPT_GO and
 * NBD_OPT_EXPORT_NAME, simple replies.  One process per connection.
 *
 *   nbd-evil (--socket PATH | --port N) [--size BYTES] [--export NAME]
 *            [--mode MODE] [--after N] [--delay MS] [--conns N]
 *            [--multi-conn] [--read-only] [--log FILE] [--min-block N]
 *
 * Modes of the handshake (every connection):
 *   good            no misbehaviour
 *   greeting-magic  a greeting that is not NBDMAGIC
 *   oldstyle        the oldstyle greeting
 *   no-fixed        no NBD_FLAG_FIXED_NEWSTYLE (fine: EXPORT_NAME is used)
 *   no-go           NBD_REP_ERR_UNSUP to NBD_OPT_GO (fine: falls back)
 *   opt-magic       a bad option reply magic
 *   opt-huge        an option reply claiming 4 GiB
 *   info-short      NBD_INFO_EXPORT of 10 bytes
 *   no-export-info  NBD_REP_ACK without NBD_INFO_EXPORT
 *   refuse          NBD_REP_ERR_UNKNOWN, with a message
 *   tls-required    NBD_REP_ERR_TLS_REQD
 *   info-flood      NBD_REP_INFO forever
 *   block-size-bad  a minimum block size of 3
 *   block-size-big  a minimum block size of 8192
 *   no-has-flags    transmission flags without NBD_FLAG_HAS_FLAGS
 *   hang-handshake  accept, then say nothing
 *   close-handshake close halfway through the greeting
 * Modes of the transmission, from request number --after on (0: the
 * first):
 *   reply-magic       a reply with a bad magic
 *   reply-structured  a structured reply chunk
 *   reply-cookie      a reply to a cookie never sent
 *   reply-duplicate   every reply twice
 *   reply-error       NBD_EIO for every request (no read data)
 *   reply-shutdown    NBD_ESHUTDOWN for every request
 *   read-short        half of a read's data, then the next reply
 *   read-long         a read's data and 512 bytes more
 *   hang              read requests, answer none (connection kept)
 *   close             close the connection
 *   slow              answer each request --delay ms late
 * And across connections (from connection number --after on):
 *   size-change       claim 1 MiB more than --size
 *   ro-change         claim read-only
 * --conns N: exit after serving N connections (0: never).
 * --log FILE: one line per connection and per misbehaviour, for tests.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#include "nbd/proto.h"

#define MAX_PAYLOAD (32U << 20)

static const char *mode = "good";
static unsigned long after;
static unsigned long delay_ms = 100;
static uint64_t disk_size = 16ULL << 20;
static const char *export_name = "";
static bool multi_conn, read_only;
static uint32_t min_block = 1;
static uint8_t *disk;
static FILE *log_file;
static unsigned long conn_nr;

static bool is(const char *m)
{
	return !strcmp(mode, m);
}

static void logmsg(const char *fmt, ...)
{
	va_list ap;

	if (!log_file)
		return;
	va_start(ap, fmt);
	fprintf(log_file, "conn %lu: ", conn_nr);
	vfprintf(log_file, fmt, ap);
	fputc('\n', log_file);
	va_end(ap);
	fflush(log_file);
}

static void die(const char *what)
{
	logmsg("exit: %s", what);
	_exit(0);
}

static void read_all(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die(r == 0 ? "client closed" : "read error");
		got += (size_t)r;
	}
}

static void write_all(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = send(fd, (const char *)buf + done, n - done,
				 MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("write error");
		done += (size_t)r;
	}
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void opt_reply(int fd, uint32_t opt, uint32_t type, const void *data,
		      uint32_t len)
{
	uint8_t h[20];

	nbd_put64(h, is("opt-magic") ? 0x1234 : NBD_OPT_REPLY_MAGIC);
	nbd_put32(h + 8, opt);
	nbd_put32(h + 12, type);
	nbd_put32(h + 16, is("opt-huge") ? 0xffffffff : len);
	write_all(fd, h, sizeof(h));
	write_all(fd, data, len);
}

static uint64_t claimed_size(void)
{
	if (is("size-change") && conn_nr >= after)
		return disk_size + (1 << 20);
	return disk_size;
}

static uint16_t claimed_flags(void)
{
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |
		     NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM |
		     NBD_FLAG_SEND_WRITE_ZEROES;

	if (multi_conn)
		f |= NBD_FLAG_CAN_MULTI_CONN;
	if (read_only || (is("ro-change") && conn_nr >= after))
		f |= NBD_FLAG_READ_ONLY;
	if (is("no-has-flags"))
		f &= (uint16_t)~NBD_FLAG_HAS_FLAGS;
	return f;
}

static void info_export(int fd, uint32_t opt)
{
	uint8_t p[12];

	nbd_put16(p, NBD_INFO_EXPORT);
	nbd_put64(p + 2, claimed_size());
	nbd_put16(p + 10, claimed_flags());
	opt_reply(fd, opt, NBD_REP_INFO, p, is("info-short") ? 10 : 12);
}

static void info_block_size(int fd, uint32_t opt)
{
	uint32_t min = is("block-size-bad") ? 3 :
		       is("block-size-big") ? 8192 :
					      min_block;
	uint8_t p[14];

	nbd_put16(p, NBD_INFO_BLOCK_SIZE);
	nbd_put32(p + 2, min);
	nbd_put32(p + 6, min > 4096 ? min : 4096);
	nbd_put32(p + 10, MAX_PAYLOAD);
	opt_reply(fd, opt, NBD_REP_INFO, p, sizeof(p));
}

/* NBD_OPT_GO or NBD_OPT_INFO; true when transmission starts */
static bool go(int fd, uint32_t opt, const uint8_t *data, uint32_t len)
{
	static const char msg[] = "no such export, \x1b[1mreally\x1b[0m";
	uint32_t nlen = len >= 4 ? nbd_get32(data) : 0;

	if (len < 6 || nlen > len - 6) {
		opt_reply(fd, opt, NBD_REP_ERR_INVALID, NULL, 0);
		return false;
	}
	if (is("no-go") && opt == NBD_OPT_GO) {
		logmsg("NBD_REP_ERR_UNSUP to NBD_OPT_GO");
		opt_reply(fd, opt, NBD_REP_ERR_UNSUP, NULL, 0);
		return false;
	}
	if (is("refuse") || nlen != strlen(export_name) ||
	    memcmp(data + 4, export_name, nlen)) {
		opt_reply(fd, opt, NBD_REP_ERR_UNKNOWN, msg, sizeof(msg) - 1);
		return false;
	}
	if (is("tls-required")) {
		opt_reply(fd, opt, NBD_REP_ERR_TLS_REQD, NULL, 0);
		return false;
	}
	if (is("info-flood"))
		for (;;)
			info_export(fd, opt);
	if (!is("no-export-info"))
		info_export(fd, opt);
	info_block_size(fd, opt);
	opt_reply(fd, opt, NBD_REP_ACK, NULL, 0);
	return opt == NBD_OPT_GO;
}

static void handshake(int fd)
{
	uint8_t g[18], cf[4], oh[16], zeroes[124] = { 0 };
	uint16_t hflags = NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES;
	bool no_zeroes = false;

	if (is("hang-handshake")) {
		logmsg("hanging in the handshake");
		for (;;)
			pause();
	}
	if (is("no-fixed"))
		hflags = 0;
	nbd_put64(g, is("greeting-magic") ? 0x4e42444d41474944ULL :
					    NBD_INIT_MAGIC);
	nbd_put64(g + 8, is("oldstyle") ? NBD_OLDSTYLE_MAGIC : NBD_OPTS_MAGIC);
	nbd_put16(g + 16, hflags);
	if (is("close-handshake")) {
		write_all(fd, g, 9);
		die("closing in the handshake");
	}
	write_all(fd, g, sizeof(g));
	read_all(fd, cf, sizeof(cf));
	no_zeroes = nbd_get32(cf) & NBD_FLAG_C_NO_ZEROES;
	for (;;) {
		uint32_t opt, len;
		uint8_t *data;
		uint8_t ex[10];

		read_all(fd, oh, sizeof(oh));
		if (nbd_get64(oh) != NBD_OPTS_MAGIC)
			die("bad option magic from the client");
		opt = nbd_get32(oh + 8);
		len = nbd_get32(oh + 12);
		if (len > 65536)
			die("option too long");
		data = malloc(len ? len : 1);
		if (!data)
			die("out of memory");
		read_all(fd, data, len);
		logmsg("option %u, %u bytes", opt, len);
		switch (opt) {
		case NBD_OPT_EXPORT_NAME:
			nbd_put64(ex, claimed_size());
			nbd_put16(ex + 8, claimed_flags());
			write_all(fd, ex, sizeof(ex));
			if (!no_zeroes)
				write_all(fd, zeroes, sizeof(zeroes));
			free(data);
			return;
		case NBD_OPT_ABORT:
			opt_reply(fd, opt, NBD_REP_ACK, NULL, 0);
			die("NBD_OPT_ABORT");
			break;
		case NBD_OPT_GO:
		case NBD_OPT_INFO:
			if (go(fd, opt, data, len)) {
				free(data);
				return;
			}
			break;
		default:
			opt_reply(fd, opt, NBD_REP_ERR_UNSUP, NULL, 0);
		}
		free(data);
	}
}

static void simple_reply(int fd, uint32_t magic, uint32_t error,
			 uint64_t cookie)
{
	uint8_t r[16];

	nbd_put32(r, magic);
	nbd_put32(r + 4, error);
	nbd_put64(r + 8, cookie);
	write_all(fd, r, sizeof(r));
}

/* The honest answer's error, 0 for success */
static uint32_t check(uint16_t type, uint64_t off, uint32_t len)
{
	bool writes = type == NBD_CMD_WRITE || type == NBD_CMD_TRIM ||
		      type == NBD_CMD_WRITE_ZEROES;

	if (writes && (claimed_flags() & NBD_FLAG_READ_ONLY))
		return NBD_EPERM;
	if (type == NBD_CMD_FLUSH)
		return 0;
	if (off > disk_size || len > disk_size - off)
		return type == NBD_CMD_WRITE ? NBD_ENOSPC : NBD_EINVAL;
	if (off % min_block || len % min_block)
		return NBD_EINVAL;
	return 0;
}

static void transmission(int fd)
{
	static uint8_t *buf;
	unsigned long nr = 0;
	uint8_t h[NBD_REQUEST_SIZE];

	buf = malloc(MAX_PAYLOAD + 512);
	if (!buf)
		die("out of memory");
	for (;; nr++) {
		uint16_t flags, type;
		uint64_t cookie, off;
		uint32_t len, error;
		bool evil = nr >= after;

		read_all(fd, h, sizeof(h));
		if (nbd_get32(h) != NBD_REQUEST_MAGIC)
			die("bad request magic");
		flags = nbd_get16(h + 4);
		type = nbd_get16(h + 6);
		cookie = nbd_get64(h + 8);
		off = nbd_get64(h + 16);
		len = nbd_get32(h + 24);
		(void)flags;
		if (type == NBD_CMD_DISC)
			die("NBD_CMD_DISC");
		if ((type == NBD_CMD_READ || type == NBD_CMD_WRITE) &&
		    len > MAX_PAYLOAD)
			die("payload too large");
		if (type == NBD_CMD_WRITE)
			read_all(fd, buf, len);
		error = check(type, off, len);
		if (evil && is("hang")) {
			logmsg("request %lu: not answered", nr);
			continue;
		}
		if (evil && is("close"))
			die("closing at a request");
		if (evil && is("slow"))
			sleep_ms(delay_ms);
		if (!error && type == NBD_CMD_WRITE)
			memcpy(disk + off, buf, len);
		if (!error &&
		    (type == NBD_CMD_TRIM || type == NBD_CMD_WRITE_ZEROES))
			memset(disk + off, 0, len);
		if (evil && is("reply-error"))
			error = NBD_EIO;
		if (evil && is("reply-shutdown"))
			error = NBD_ESHUTDOWN;
		if (evil && is("reply-magic")) {
			logmsg("request %lu: bad reply magic", nr);
			simple_reply(fd, 0x67446699, 0, cookie);
			continue;
		}
		if (evil && is("reply-structured")) {
			logmsg("request %lu: structured reply", nr);
			simple_reply(fd, NBD_STRUCTURED_REPLY_MAGIC, 0, cookie);
			continue;
		}
		if (evil && is("reply-cookie")) {
			logmsg("request %lu: unknown cookie", nr);
			cookie ^= 0x5a5a5a5a00000000ULL;
		}
		if (error)
			logmsg("request %lu: type %u error %u", nr, type,
			       error);
		simple_reply(fd, NBD_SIMPLE_REPLY_MAGIC, error, cookie);
		if (type == NBD_CMD_READ && !error) {
			uint32_t n = len;

			if (evil && is("read-short")) {
				logmsg("request %lu: short read", nr);
				n = len / 2;
			}
			write_all(fd, disk + off, n);
			if (evil && is("read-long")) {
				logmsg("request %lu: long read", nr);
				memset(buf, 0x5a, 512);
				write_all(fd, buf, 512);
			}
		}
		if (evil && is("reply-duplicate")) {
			logmsg("request %lu: duplicate reply", nr);
			simple_reply(fd, NBD_SIMPLE_REPLY_MAGIC, error, cookie);
			if (type == NBD_CMD_READ && !error)
				write_all(fd, disk + off, len);
		}
	}
}

static int listen_on(const char *sock_path, unsigned int port)
{
	int fd, one = 1;

	if (sock_path) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(sock_path) >= sizeof(sa.sun_path)) {
			fprintf(stderr, "nbd-evil: socket path too long\n");
			exit(2);
		}
		strcpy(sa.sun_path, sock_path);
		unlink(sock_path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	} else {
		struct sockaddr_in sa = {
			.sin_family = AF_INET,
			.sin_port = htons((uint16_t)port),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		};

		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto fail;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	}
	if (listen(fd, 16) < 0)
		goto fail;
	return fd;
fail:
	perror("nbd-evil: listening");
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: nbd-evil (--socket PATH | --port N) [--size "
			"BYTES] "
			"[--export NAME] [--mode MODE] [--after N] [--delay "
			"MS] "
			"[--conns N] [--multi-conn] [--read-only] [--log FILE] "
			"[--min-block N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *sock_path = NULL, *log_path = NULL;
	unsigned long conns = 0, port = 0;
	int lfd, i, one = 1;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--multi-conn")) {
			multi_conn = true;
			continue;
		}
		if (!strcmp(a, "--read-only")) {
			read_only = true;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--socket"))
			sock_path = v;
		else if (!strcmp(a, "--port"))
			port = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--size"))
			disk_size = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--export"))
			export_name = v;
		else if (!strcmp(a, "--mode"))
			mode = v;
		else if (!strcmp(a, "--after"))
			after = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--delay"))
			delay_ms = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--conns"))
			conns = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--log"))
			log_path = v;
		else if (!strcmp(a, "--min-block"))
			min_block = (uint32_t)strtoul(v, NULL, 0);
		else
			usage();
	}
	if (!sock_path == !port || !min_block)
		usage();
	if (log_path) {
		log_file = fopen(log_path, "a");
		if (!log_file) {
			perror(log_path);
			return 1;
		}
	}
	/* Shared by every connection; NORESERVE: a claimed 1T costs nothing */
	disk = mmap(NULL, disk_size ? disk_size : 1, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (disk == MAP_FAILED) {
		perror("nbd-evil: disk");
		return 1;
	}
	signal(SIGCHLD, SIG_IGN); /* no zombies */
	lfd = listen_on(sock_path, (unsigned int)port);
	for (conn_nr = 0; !conns || conn_nr < conns; conn_nr++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pid_t pid;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("nbd-evil: accept");
			return 1;
		}
		logmsg("connected");
		pid = fork();
		if (pid == 0) {
			/* Killing the server kills its connections too. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() == 1)
				_exit(0);
			close(lfd);
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
			handshake(fd);
			logmsg("transmission");
			transmission(fd);
			_exit(0);
		}
		close(fd);
	}
	/* Served them all: wait for the last connections to end. */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}
