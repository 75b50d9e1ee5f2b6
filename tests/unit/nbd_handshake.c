// SPDX-License-Identifier: MIT
/*
 * The NBD handshake (src/nbd/handshake.c) against scripted servers, good
 * and hostile, and the checks of what a server says about its export.
 */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "nbd/handshake.h"

/* A scripted server: the bytes it sends, what the client sent back */
struct script {
	uint8_t in[65536];
	size_t len, pos;
	uint8_t out[65536];
	size_t out_len;
};

static struct script sc;
static struct nbd_hs hs;
static struct uerr err;

static void s_reset(void)
{
	memset(&sc, 0, sizeof(sc));
}

static void s_bytes(const void *p, size_t n)
{
	if (n)
		memcpy(sc.in + sc.len, p, n);
	sc.len += n;
}

static void s_u16(uint16_t v)
{
	nbd_put16(sc.in + sc.len, v);
	sc.len += 2;
}

static void s_u32(uint32_t v)
{
	nbd_put32(sc.in + sc.len, v);
	sc.len += 4;
}

static void s_u64(uint64_t v)
{
	nbd_put64(sc.in + sc.len, v);
	sc.len += 8;
}

static void s_greeting(uint16_t flags)
{
	s_u64(NBD_INIT_MAGIC);
	s_u64(NBD_OPTS_MAGIC);
	s_u16(flags);
}

static void s_reply(uint32_t opt, uint32_t type, const void *data, uint32_t len)
{
	s_u64(NBD_OPT_REPLY_MAGIC);
	s_u32(opt);
	s_u32(type);
	s_u32(len);
	s_bytes(data, len);
}

static void s_info_export(uint64_t size, uint16_t flags)
{
	uint8_t p[12];

	nbd_put16(p, NBD_INFO_EXPORT);
	nbd_put64(p + 2, size);
	nbd_put16(p + 10, flags);
	s_reply(NBD_OPT_GO, NBD_REP_INFO, p, sizeof(p));
}

static void s_info_block_size(uint32_t min, uint32_t pref, uint32_t max)
{
	uint8_t p[14];

	nbd_put16(p, NBD_INFO_BLOCK_SIZE);
	nbd_put32(p + 2, min);
	nbd_put32(p + 6, pref);
	nbd_put32(p + 10, max);
	s_reply(NBD_OPT_GO, NBD_REP_INFO, p, sizeof(p));
}

/*
 * Run the client against the script: 1 done, <0 its error, 0 when the
 * script ended first (a server that closed the connection).
 */
static int run(const char *name)
{
	int ret;

	uerr_clear(&err);
	ret = nbd_hs_init(&hs, name, &err);
	while (ret == 0) {
		size_t want = nbd_hs_want(&hs);

		if (want > NBD_HS_MAX_WANT)
			return -1000; /* never: the client bounds it */
		if (sc.len - sc.pos < want)
			return 0;
		ret = nbd_hs_feed(&hs, sc.in + sc.pos, want, &err);
		sc.pos += want;
		memcpy(sc.out + sc.out_len, hs.out, hs.out_len);
		sc.out_len += hs.out_len;
	}
	return ret;
}

#define DISK_FLAGS                                                      \
	(NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA | \
	 NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES |              \
	 NBD_FLAG_CAN_MULTI_CONN)

/* The client's GO for name: client flags, then the option */
static void check_go_sent(uint32_t cflags, const char *name)
{
	size_t n = strlen(name);
	const uint8_t *o = sc.out;

	is_u64(nbd_get32(o), cflags, "client flags 0x%x", cflags);
	is_u64(nbd_get64(o + 4), NBD_OPTS_MAGIC, "option magic IHAVEOPT");
	is_int(nbd_get32(o + 12), NBD_OPT_GO, "option NBD_OPT_GO");
	is_int(nbd_get32(o + 16), 4 + n + 4, "option length");
	is_int(nbd_get32(o + 20), n, "export name length");
	ok(!memcmp(o + 24, name, n), "export name '%s'", name);
	is_int(nbd_get16(o + 24 + n), 1, "one information request");
	is_int(nbd_get16(o + 26 + n), NBD_INFO_BLOCK_SIZE,
	       "for the block sizes");
	is_int(sc.out_len, 28 + n, "nothing else sent");
}

static void check_abort_sent(size_t at)
{
	is_u64(nbd_get64(sc.out + at), NBD_OPTS_MAGIC,
	       "  the client then sends an option");
	is_int(nbd_get32(sc.out + at + 8), NBD_OPT_ABORT, "  NBD_OPT_ABORT");
	is_int(nbd_get32(sc.out + at + 12), 0, "  without data");
}

static void test_good(void)
{
	uint8_t name_info[7] = { 0, NBD_INFO_NAME, 'd', 'i', 's', 'k', '!' };

	note("a good server, NBD_OPT_GO");
	s_reset();
	s_greeting(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	s_info_block_size(512, 4096, 1 << 20);
	s_reply(NBD_OPT_GO, NBD_REP_INFO, name_info, sizeof(name_info));
	s_info_export(1ULL << 30, DISK_FLAGS);
	s_reply(NBD_OPT_GO, NBD_REP_ACK, NULL, 0);
	is_int(run("disk"), 1, "the handshake completes");
	ok(hs.done, "done");
	is_int(sc.pos, sc.len, "every byte the server sent was read");
	check_go_sent(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES, "disk");
	is_u64(hs.exp.size, 1ULL << 30, "size");
	is_int(hs.exp.flags, DISK_FLAGS, "transmission flags");
	is_int(hs.exp.min_block, 512, "minimum block");
	is_int(hs.exp.pref_block, 4096, "preferred block");
	is_int(hs.exp.max_payload, 1 << 20, "maximum payload");
	ok(hs.exp.block_size_sent, "block sizes were sent");
	ok(!hs.exp.export_name_used, "NBD_OPT_GO was used");
	is_int(nbd_export_check(&hs.exp, 0, &err), 0, "the export is usable");

	note("no NBD_FLAG_NO_ZEROES, empty export name, no block sizes");
	s_reset();
	s_greeting(NBD_FLAG_FIXED_NEWSTYLE);
	s_info_export(4096, NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY);
	s_reply(NBD_OPT_GO, NBD_REP_ACK, NULL, 0);
	is_int(run(""), 1, "the handshake completes");
	check_go_sent(NBD_FLAG_C_FIXED_NEWSTYLE, "");
	ok(!hs.exp.block_size_sent, "no block sizes sent");
	is_int(hs.exp.min_block, 1, "default minimum block 1");
	is_int(hs.exp.pref_block, 4096, "default preferred block 4096");
	is_int(hs.exp.max_payload, 32 << 20, "default maximum payload 32M");
	is_int(nbd_export_block_size(&hs.exp), 512, "we use 512-byte blocks");

	note("the same NBD_INFO_EXPORT twice is fine");
	s_reset();
	s_greeting(NBD_FLAG_FIXED_NEWSTYLE);
	s_info_export(8192, NBD_FLAG_HAS_FLAGS);
	s_info_export(8192, NBD_FLAG_HAS_FLAGS);
	s_reply(NBD_OPT_GO, NBD_REP_ACK, NULL, 0);
	is_int(run("x"), 1, "the handshake completes");
}

static void test_old_servers(void)
{
	uint8_t zeroes[124] = { 0 };

	note("a server without fixed newstyle: NBD_OPT_EXPORT_NAME");
	s_reset();
	s_greeting(0);
	s_u64(1 << 20);
	s_u16(NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH);
	s_bytes(zeroes, sizeof(zeroes));
	is_int(run("old"), 1, "the handshake completes");
	is_int(sc.pos, sc.len, "the 124 zero bytes were read");
	is_int(nbd_get32(sc.out), 0, "client flags 0");
	is_int(nbd_get32(sc.out + 12), NBD_OPT_EXPORT_NAME,
	       "NBD_OPT_EXPORT_NAME sent");
	is_int(nbd_get32(sc.out + 16), 3, "with the name's length");
	ok(!memcmp(sc.out + 20, "old", 3), "and the name");
	is_int(sc.out_len, 23, "nothing else");
	ok(hs.exp.export_name_used, "export_name_used");
	is_u64(hs.exp.size, 1 << 20, "size");
	is_int(hs.exp.flags, NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH, "flags");

	note("NBD_OPT_GO unknown to the server: fall back");
	s_reset();
	s_greeting(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	s_reply(NBD_OPT_GO, NBD_REP_ERR_UNSUP, "what?", 5);
	s_u64(1 << 21);
	s_u16(NBD_FLAG_HAS_FLAGS);
	is_int(run("e"), 1, "the handshake completes");
	is_int(sc.pos, sc.len, "no zero bytes expected with NO_ZEROES");
	is_int(nbd_get32(sc.out + 12), NBD_OPT_GO, "GO first");
	is_int(nbd_get32(sc.out + 4 + 16 + 4 + 1 + 4 + 8), NBD_OPT_EXPORT_NAME,
	       "then NBD_OPT_EXPORT_NAME");
	is_u64(hs.exp.size, 1 << 21, "size");
}

/* The client fails with code and a message containing msg. */
static void refused(const char *what, int code, const char *msg)
{
	int ret = run("disk");

	is_int(ret, -code, "%s: refused (%s)", what, strerror(code));
	contains(err.msg, msg, "  the message says '%s'", msg);
	ok(!strchr(err.msg, '\n'), "  on one line");
	ok(!hs.done && hs.state == NBD_HS_FAILED, "  the handshake failed");
	is_int(nbd_hs_want(&hs), 0, "  and wants nothing more");
}

static void test_hostile_greeting(void)
{
	note("hostile greetings");
	s_reset();
	s_u64(0x485454502f312e31ULL); /* "HTTP/1.1" */
	s_u64(0);
	s_u16(0);
	refused("not NBDMAGIC", EPROTO, "not an NBD server");
	is_int(sc.out_len, 0, "  nothing sent");

	s_reset();
	s_u64(NBD_INIT_MAGIC);
	s_u64(NBD_OLDSTYLE_MAGIC);
	s_u16(0);
	refused("oldstyle", ENOTSUP, "oldstyle");

	s_reset();
	s_u64(NBD_INIT_MAGIC);
	s_u64(0x1122334455667788ULL);
	s_u16(1);
	refused("bad IHAVEOPT", EPROTO, "bad magic 0x1122334455667788");

	s_reset();
	s_u64(NBD_INIT_MAGIC);
	is_int(run("disk"), 0, "a server closing mid-greeting: no result");
	ok(!hs.done, "  not done");
}

static void hostile_reply(const char *what, int code, const char *msg)
{
	refused(what, code, msg);
	check_abort_sent(28 + 4);
}

static void test_hostile_options(void)
{
	uint8_t big[NBD_HS_MAX_WANT + 1] = { 0 };
	uint8_t two[2] = { 0, NBD_INFO_EXPORT };
	unsigned int i;

	note("hostile option replies");
	s_reset();
	s_greeting(1);
	s_u64(NBD_OPT_REPLY_MAGIC ^ 1);
	s_u32(NBD_OPT_GO);
	s_u32(NBD_REP_ACK);
	s_u32(0);
	hostile_reply("bad reply magic", EPROTO, "bad magic");

	s_reset();
	s_greeting(1);
	s_reply(NBD_OPT_INFO, NBD_REP_ACK, NULL, 0);
	hostile_reply("a reply to another option", EPROTO,
		      "replied to option 6");

	s_reset();
	s_greeting(1);
	s_u64(NBD_OPT_REPLY_MAGIC);
	s_u32(NBD_OPT_GO);
	s_u32(NBD_REP_INFO);
	s_u32(0xffffffff);
	hostile_reply("a 4 GiB reply", EPROTO,
		      "an option reply of 4294967295 bytes (at most 4104)");
	is_int(sc.pos, 18 + 20, "  its payload is not asked for");

	s_reset();
	s_greeting(1);
	s_reply(NBD_OPT_GO, NBD_REP_INFO, big, sizeof(big));
	hostile_reply("a reply one byte too long", EPROTO, "at most 4104");
	s_reset();
	s_greeting(1);
	s_reply(NBD_OPT_GO, NBD_REP_ERR_UNKNOWN, big, sizeof(big) - 1);
	refused("a 4104-byte error message is read", ENOENT, "...");

	s_reset();
	s_greeting(1);
	s_reply(NBD_OPT_GO, NBD_REP_INFO, two, 1);
	hostile_reply("a 1-byte NBD_REP_INFO", EPROTO, "NBD_REP_INFO of 1");

	s_reset();
	s_greeting(1);
	s_reply(NBD_OPT_GO, NBD_REP_INFO, two, 2);
	hostile_reply("a 2-byte NBD_INFO_EXPORT", EPROTO,
		      "NBD_INFO_EXPORT of 2 bytes (12 expected)");

	s_reset();
	s_greeting(1);
	s_info_export(1 << 20, 1);
	s_info_export(1 << 21, 1);
	hostile_reply("NBD_INFO_EXPORT twice, different", EPROTO, "twice");

	s_reset();
	s_greeting(1);
	s_info_block_size(512, 4096, 1 << 20);
	s_info_block_size(4096, 4096, 1 << 20);
	hostile_reply("NBD_INFO_BLOCK_SIZE twice, different", EPROTO,
		      "NBD_INFO_BLOCK_SIZE sent twice");

	s_reset();
	s_greeting(1);
	two[1] = NBD_INFO_BLOCK_SIZE;
	s_reply(NBD_OPT_GO, NBD_REP_INFO, two, 2);
	hostile_reply("a short NBD_INFO_BLOCK_SIZE", EPROTO,
		      "NBD_INFO_BLOCK_SIZE of 2 bytes (14 expected)");

	s_reset();
	s_greeting(1);
	s_reply(NBD_OPT_GO, NBD_REP_ACK, NULL, 0);
	hostile_reply("NBD_REP_ACK without NBD_INFO_EXPORT", EPROTO,
		      "without giving its size");

	s_reset();
	s_greeting(1);
	s_info_export(1 << 20, 1);
	s_reply(NBD_OPT_GO, NBD_REP_ACK, "x", 1);
	hostile_reply("NBD_REP_ACK with data", EPROTO,
		      "NBD_REP_ACK with 1 bytes");

	s_reset();
	s_greeting(1);
	s_reply(NBD_OPT_GO, 2 /* NBD_REP_SERVER */, "\0\0\0\0", 4);
	hostile_reply("NBD_REP_SERVER to GO", EPROTO, "option reply type 2");

	s_reset();
	s_greeting(1);
	for (i = 0; i < NBD_HS_MAX_REPLIES + 1; i++)
		s_info_export(1 << 20, 1);
	hostile_reply("endless NBD_REP_INFO", EPROTO, "more than 32 replies");
	is_int(sc.pos, 18 + (size_t)NBD_HS_MAX_REPLIES * 32 + 20,
	       "  stopped at the 33rd reply's header");
}

static void test_refusals(void)
{
	note("the server refuses the export");
	s_reset();
	s_greeting(1);
	s_reply(NBD_OPT_GO, NBD_REP_ERR_UNKNOWN, "no \x1b[31mdisk\n", 13);
	refused("NBD_REP_ERR_UNKNOWN", ENOENT,
		"the server refused export 'disk': no such export "
		"(0x80000006): 'no ?[31mdisk?'");
	check_abort_sent(32);
	s_reset();
	s_greeting(1);
	s_reply(NBD_OPT_GO, NBD_REP_ERR_TLS_REQD, NULL, 0);
	refused("NBD_REP_ERR_TLS_REQD", ENOTSUP, "requires TLS");
	lacks(err.msg, "''", "  no empty quotes without a message");
	s_reset();
	s_greeting(1);
	s_reply(NBD_OPT_GO, NBD_REP_ERR_POLICY, NULL, 0);
	refused("NBD_REP_ERR_POLICY", EACCES, "server's policy");
	s_reset();
	s_greeting(1);
	s_reply(NBD_OPT_GO, NBD_REP_ERR_SHUTDOWN, NULL, 0);
	refused("NBD_REP_ERR_SHUTDOWN", ESHUTDOWN, "shutting down");
	s_reset();
	s_greeting(1);
	s_reply(NBD_OPT_GO, 0x80000063, NULL, 0);
	refused("an unknown error", EPROTO, "an error we do not know");
}

static void test_misuse(void)
{
	char name[NBD_MAX_STRING + 2];
	uint8_t buf[32] = { 0 };

	note("misuse by the caller");
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	is_int(nbd_hs_init(&hs, name, &err), -EINVAL,
	       "a 4097-byte export name");
	contains(err.msg, "longer than 4096", "  says so");
	nbd_hs_init(&hs, "d", &err);
	is_int(nbd_hs_feed(&hs, buf, 17, &err), -EINVAL, "feeding 17 of 18");
	contains(err.msg, "17 bytes, 18 wanted", "  says so");
	is_int(nbd_hs_feed(&hs, buf, 0, &err), -EINVAL,
	       "feeding after a failure");
}

static struct nbd_export good_export(void)
{
	struct nbd_export e = {
		.size = 1ULL << 30,
		.flags = DISK_FLAGS,
		.min_block = 512,
		.pref_block = 4096,
		.max_payload = 1 << 20,
		.block_size_sent = true,
	};
	return e;
}

static void check_bad(struct nbd_export e, uint64_t max, int code,
		      const char *msg, const char *what)
{
	uerr_clear(&err);
	is_int(nbd_export_check(&e, max, &err), -code, "%s: refused", what);
	contains(err.msg, msg, "  the message says '%s'", msg);
}

static void test_export_check(void)
{
	struct nbd_export e = good_export(), o;
	char buf[128];

	note("nbd_export_check");
	is_int(nbd_export_check(&e, 1ULL << 30, &err), 0,
	       "exactly max_size is fine");
	is_int(nbd_export_check(&e, 0, &err), 0, "no max_size is fine");
	e.size = (1ULL << 30) + 1;
	check_bad(e, 1ULL << 30, EFBIG,
		  "the export's size, 1073741825 bytes, is above the "
		  "policy's max_size 1G",
		  "one byte over max_size");
	e = good_export();
	e.flags = NBD_FLAG_SEND_FLUSH;
	check_bad(e, 0, EPROTO, "lack NBD_FLAG_HAS_FLAGS", "no HAS_FLAGS");
	e = good_export();
	e.size = 0;
	check_bad(e, 0, EINVAL, "the export has 0 bytes", "an empty export");
	e = good_export();
	e.min_block = 4096;
	e.size = 4095;
	check_bad(e, 0, EINVAL, "less than one 4096-byte block",
		  "smaller than a block");
	e = good_export();
	e.size = 1ULL << 63;
	check_bad(e, 0, EFBIG, "is not a size", "2^63 bytes");
	e = good_export();
	e.min_block = 3;
	check_bad(e, 0, EPROTO, "size constraints are invalid: minimum 3",
		  "minimum block 3");
	e = good_export();
	e.min_block = 1 << 17;
	e.pref_block = 1 << 17;
	check_bad(e, 0, EPROTO, "invalid", "minimum block 128K");
	e = good_export();
	e.pref_block = 256;
	check_bad(e, 0, EPROTO, "preferred 256", "preferred below 512");
	e = good_export();
	e.pref_block = 6000;
	check_bad(e, 0, EPROTO, "preferred 6000", "preferred not a power of 2");
	e = good_export();
	e.min_block = 8192;
	e.pref_block = 4096;
	check_bad(e, 0, EPROTO, "invalid", "preferred below minimum");
	e = good_export();
	e.max_payload = 2048;
	check_bad(e, 0, EPROTO, "maximum 2048", "maximum below preferred");
	e = good_export();
	e.min_block = 8192;
	e.pref_block = 8192;
	check_bad(e, 0, ENOTSUP, "minimum block size 8192 is above 4096",
		  "minimum block 8K");
	e = good_export();
	e.min_block = 1;
	e.max_payload = 0xffffffff;
	is_int(nbd_export_check(&e, 0, &err), 0,
	       "minimum 1, maximum 0xffffffff are fine");
	e.block_size_sent = false;
	e.min_block = 3;
	is_int(nbd_export_check(&e, 0, &err), 0,
	       "block sizes not sent are not checked");

	note("nbd_export_same (after a reconnect)");
	o = good_export();
	e = o;
	is_int(nbd_export_same(&o, &e, &err), 0, "the same export");
	e.flags |= NBD_FLAG_ROTATIONAL;
	e.pref_block = 65536;
	e.max_payload = 2 << 20;
	e.min_block = 1;
	is_int(nbd_export_same(&o, &e, &err), 0,
	       "rotational, a larger preferred block or maximum, a smaller "
	       "minimum: fine");
	e = o;
	e.size += 512;
	is_int(nbd_export_same(&o, &e, &err), -ESTALE, "a size change");
	contains(err.msg, "size changed from 1073741824 to 1073742336",
		 "  says so");
	e = o;
	e.flags |= NBD_FLAG_READ_ONLY;
	is_int(nbd_export_same(&o, &e, &err), -ESTALE, "now read-only");
	contains(err.msg,
		 "flags changed from 'flush fua trim write-zeroes multi-conn' "
		 "to 'read-only flush fua trim write-zeroes multi-conn'",
		 "  says so");
	e = o;
	e.flags &= (uint16_t)~NBD_FLAG_SEND_FUA;
	is_int(nbd_export_same(&o, &e, &err), -ESTALE, "FUA gone");
	e = o;
	e.min_block = 4096;
	e.pref_block = 4096;
	is_int(nbd_export_same(&o, &e, &err), -ESTALE, "a larger minimum");
	e = o;
	e.max_payload = 65536;
	is_int(nbd_export_same(&o, &e, &err), -ESTALE, "a smaller maximum");
	contains(err.msg, "maximum 65536", "  says so");

	is_str(nbd_export_flags_str(0, buf, sizeof(buf)), "", "no flags");
	is_str(nbd_export_flags_str(0xffff, buf, 12), "read-only",
	       "flags text is cut at whole words");
}

int main(void)
{
	test_good();
	test_old_servers();
	test_hostile_greeting();
	test_hostile_options();
	test_refusals();
	test_misuse();
	test_export_check();
	return done_testing();
}
