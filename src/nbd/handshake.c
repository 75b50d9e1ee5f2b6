// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/size.h"
#include "nbd/handshake.h"

/* The largest logical block size of a ublk device (a page on x86) */
#define NBD_MAX_LBS 4096U

int nbd_hs_init(struct nbd_hs *hs, const char *export_name, struct uerr *err)
{
	memset(hs, 0, sizeof(*hs));
	hs->name = export_name;
	hs->name_len = strnlen(export_name, NBD_MAX_STRING + 1);
	if (hs->name_len > NBD_MAX_STRING) {
		hs->state = NBD_HS_FAILED;
		return uerr_set(err, EINVAL,
				"the export name is longer than %u bytes",
				NBD_MAX_STRING);
	}
	hs->state = NBD_HS_GREETING;
	hs->want = 18; /* NBDMAGIC, IHAVEOPT, handshake flags */
	hs->exp.min_block = NBD_DEFAULT_MIN_BLOCK;
	hs->exp.pref_block = NBD_DEFAULT_PREF_BLOCK;
	hs->exp.max_payload = NBD_DEFAULT_MAX_PAYLOAD;
	return 0;
}

/* Server text in our messages: printable ASCII, bounded */
static void sanitize(const uint8_t *in, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 4 < cap; i++)
		out[o++] = isprint(in[i]) ? (char)in[i] : '?';
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void put_option(struct nbd_hs *hs, uint32_t opt, uint32_t len)
{
	uint8_t *p = hs->out + hs->out_len;

	nbd_put64(p, NBD_OPTS_MAGIC);
	nbd_put32(p + 8, opt);
	nbd_put32(p + 12, len);
	hs->out_len += 16;
}

static void send_go(struct nbd_hs *hs)
{
	uint32_t n = (uint32_t)hs->name_len;
	uint8_t *p;

	/* name length, name, one information request: the block sizes */
	put_option(hs, NBD_OPT_GO, 4 + n + 2 + 2);
	p = hs->out + hs->out_len;
	nbd_put32(p, n);
	memcpy(p + 4, hs->name, n);
	nbd_put16(p + 4 + n, 1);
	nbd_put16(p + 6 + n, NBD_INFO_BLOCK_SIZE);
	hs->out_len += 8 + n;
	hs->state = NBD_HS_OPT_HEADER;
	hs->want = 20;
}

static void send_export_name(struct nbd_hs *hs)
{
	put_option(hs, NBD_OPT_EXPORT_NAME, (uint32_t)hs->name_len);
	memcpy(hs->out + hs->out_len, hs->name, hs->name_len);
	hs->out_len += hs->name_len;
	hs->exp.export_name_used = true;
	hs->state = NBD_HS_EXPORT_REPLY;
	/* size, transmission flags, and 124 zero bytes unless agreed not */
	hs->want = 10 + (hs->no_zeroes ? 0 : 124);
}

static int greeting(struct nbd_hs *hs, const uint8_t *in, struct uerr *err)
{
	uint64_t magic = nbd_get64(in + 8);
	uint16_t flags = nbd_get16(in + 16);
	uint32_t cflags = 0;

	if (nbd_get64(in) != NBD_INIT_MAGIC)
		return uerr_set(err, EPROTO,
				"not an NBD server: its greeting starts with "
				"0x%016llx",
				(unsigned long long)nbd_get64(in));
	if (magic == NBD_OLDSTYLE_MAGIC)
		return uerr_set(err, ENOTSUP,
				"the server uses the oldstyle handshake, "
				"which has no export names: not supported");
	if (magic != NBD_OPTS_MAGIC)
		return uerr_set(err, EPROTO,
				"bad magic 0x%016llx in the server's greeting",
				(unsigned long long)magic);
	if (flags & NBD_FLAG_FIXED_NEWSTYLE)
		cflags |= NBD_FLAG_C_FIXED_NEWSTYLE;
	if (flags & NBD_FLAG_NO_ZEROES) {
		cflags |= NBD_FLAG_C_NO_ZEROES;
		hs->no_zeroes = true;
	}
	nbd_put32(hs->out, cflags);
	hs->out_len = 4;
	/* Without fixed newstyle, any option but EXPORT_NAME ends it all. */
	if (flags & NBD_FLAG_FIXED_NEWSTYLE)
		send_go(hs);
	else
		send_export_name(hs);
	return 0;
}

static int opt_header(struct nbd_hs *hs, const uint8_t *in, struct uerr *err)
{
	uint64_t magic = nbd_get64(in);
	uint32_t opt = nbd_get32(in + 8);

	if (magic != NBD_OPT_REPLY_MAGIC)
		return uerr_set(err, EPROTO,
				"bad magic 0x%016llx in an option reply",
				(unsigned long long)magic);
	if (opt != NBD_OPT_GO)
		return uerr_set(err, EPROTO,
				"the server replied to option %u, we sent "
				"NBD_OPT_GO (%u)",
				opt, NBD_OPT_GO);
	if (++hs->nr_replies > NBD_HS_MAX_REPLIES)
		return uerr_set(err, EPROTO,
				"more than %u replies to NBD_OPT_GO",
				NBD_HS_MAX_REPLIES);
	hs->rep_type = nbd_get32(in + 12);
	hs->rep_len = nbd_get32(in + 16);
	if (hs->rep_len > NBD_HS_MAX_WANT)
		return uerr_set(err, EPROTO,
				"an option reply of %u bytes (at most %u)",
				hs->rep_len, NBD_HS_MAX_WANT);
	hs->state = NBD_HS_OPT_PAYLOAD;
	hs->want = hs->rep_len;
	return 0;
}

static int info_export(struct nbd_hs *hs, const uint8_t *p, uint32_t len,
		       struct uerr *err)
{
	uint64_t size;
	uint16_t flags;

	if (len != NBD_INFO_EXPORT_LEN)
		return uerr_set(err, EPROTO,
				"NBD_INFO_EXPORT of %u bytes (%u expected)",
				len, NBD_INFO_EXPORT_LEN);
	size = nbd_get64(p + 2);
	flags = nbd_get16(p + 10);
	if (hs->got_export && (size != hs->exp.size || flags != hs->exp.flags))
		return uerr_set(err, EPROTO,
				"NBD_INFO_EXPORT sent twice, with different "
				"values");
	hs->exp.size = size;
	hs->exp.flags = flags;
	hs->got_export = true;
	return 0;
}

static int info_block_size(struct nbd_hs *hs, const uint8_t *p, uint32_t len,
			   struct uerr *err)
{
	uint32_t min, pref, max;

	if (len != NBD_INFO_BLOCK_SIZE_LEN)
		return uerr_set(err, EPROTO,
				"NBD_INFO_BLOCK_SIZE of %u bytes (%u expected)",
				len, NBD_INFO_BLOCK_SIZE_LEN);
	min = nbd_get32(p + 2);
	pref = nbd_get32(p + 6);
	max = nbd_get32(p + 10);
	if (hs->exp.block_size_sent &&
	    (min != hs->exp.min_block || pref != hs->exp.pref_block ||
	     max != hs->exp.max_payload))
		return uerr_set(err, EPROTO,
				"NBD_INFO_BLOCK_SIZE sent twice, with "
				"different values");
	hs->exp.min_block = min;
	hs->exp.pref_block = pref;
	hs->exp.max_payload = max;
	hs->exp.block_size_sent = true;
	return 0;
}

static const char *rep_error_text(uint32_t type, int *code)
{
	switch (type) {
	case NBD_REP_ERR_UNKNOWN:
		*code = ENOENT;
		return "no such export";
	case NBD_REP_ERR_POLICY:
		*code = EACCES;
		return "refused by the server's policy";
	case NBD_REP_ERR_TLS_REQD:
		*code = ENOTSUP;
		return "the server requires TLS, which is not supported";
	case NBD_REP_ERR_SHUTDOWN:
		*code = ESHUTDOWN;
		return "the server is shutting down";
	case NBD_REP_ERR_INVALID:
		*code = EPROTO;
		return "the server calls our request invalid";
	case NBD_REP_ERR_PLATFORM:
		*code = ENOTSUP;
		return "not supported on the server's platform";
	case NBD_REP_ERR_BLOCK_SIZE_REQD:
		*code = EPROTO;
		return "the server wants block sizes negotiated";
	case NBD_REP_ERR_TOO_BIG:
		*code = EPROTO;
		return "the server calls our request too big";
	default:
		*code = EPROTO;
		return "an error we do not know";
	}
}

static int opt_payload(struct nbd_hs *hs, const uint8_t *p, uint32_t len,
		       struct uerr *err)
{
	char name[128], msg[256];
	const char *text;
	int code, ret = 0;

	if (hs->rep_type == NBD_REP_ACK) {
		if (len)
			return uerr_set(err, EPROTO,
					"NBD_REP_ACK with %u bytes of data",
					len);
		if (!hs->got_export)
			return uerr_set(err, EPROTO,
					"the server accepted the export "
					"without giving its size "
					"(NBD_INFO_EXPORT)");
		hs->state = NBD_HS_DONE;
		return 1;
	}
	if (hs->rep_type == NBD_REP_ERR_UNSUP) {
		/* A server from before NBD_OPT_GO: the old way. */
		hs->out_len = 0;
		send_export_name(hs);
		return 0;
	}
	if (hs->rep_type & NBD_REP_FLAG_ERROR) {
		text = rep_error_text(hs->rep_type, &code);
		sanitize((const uint8_t *)hs->name, hs->name_len, name,
			 sizeof(name));
		sanitize(p, len, msg, sizeof(msg));
		return uerr_set(err, code,
				"the server refused export '%s': %s "
				"(0x%08x)%s%s%s",
				name, text, hs->rep_type, len ? ": '" : "", msg,
				len ? "'" : "");
	}
	if (hs->rep_type != NBD_REP_INFO)
		return uerr_set(err, EPROTO,
				"option reply type %u to NBD_OPT_GO",
				hs->rep_type);
	if (len < 2)
		return uerr_set(err, EPROTO, "NBD_REP_INFO of %u bytes", len);
	if (nbd_get16(p) == NBD_INFO_EXPORT)
		ret = info_export(hs, p, len, err);
	else if (nbd_get16(p) == NBD_INFO_BLOCK_SIZE)
		ret = info_block_size(hs, p, len, err);
	/* Other information (name, description) is not needed. */
	hs->state = NBD_HS_OPT_HEADER;
	hs->want = 20;
	return ret;
}

static int export_reply(struct nbd_hs *hs, const uint8_t *in)
{
	/* The 124 bytes after are reserved: their value does not matter. */
	hs->exp.size = nbd_get64(in);
	hs->exp.flags = nbd_get16(in + 8);
	hs->got_export = true;
	hs->state = NBD_HS_DONE;
	return 1;
}

int nbd_hs_feed(struct nbd_hs *hs, const uint8_t *in, size_t len,
		struct uerr *err)
{
	enum nbd_hs_state was = hs->state;
	int ret;

	hs->out_len = 0;
	if (len != hs->want || was == NBD_HS_DONE || was == NBD_HS_FAILED) {
		ret = uerr_set(err, EINVAL,
			       "handshake fed %zu bytes, %zu wanted", len,
			       was == NBD_HS_DONE || was == NBD_HS_FAILED ?
				       0 :
				       hs->want);
		hs->state = NBD_HS_FAILED;
		hs->want = 0;
		return ret;
	}
	switch (was) {
	case NBD_HS_GREETING:
		ret = greeting(hs, in, err);
		break;
	case NBD_HS_OPT_HEADER:
		ret = opt_header(hs, in, err);
		/* An empty payload: handle it now. */
		if (ret == 0 && hs->want == 0)
			ret = opt_payload(hs, in, 0, err);
		break;
	case NBD_HS_OPT_PAYLOAD:
		ret = opt_payload(hs, in, (uint32_t)len, err);
		break;
	default: /* NBD_HS_EXPORT_REPLY */
		ret = export_reply(hs, in);
		break;
	}
	if (ret < 0) {
		hs->state = NBD_HS_FAILED;
		hs->want = 0;
		hs->out_len = 0;
		/* Still haggling: say goodbye properly (a soft disconnect). */
		if (was == NBD_HS_OPT_HEADER || was == NBD_HS_OPT_PAYLOAD)
			put_option(hs, NBD_OPT_ABORT, 0);
		return ret;
	}
	if (ret == 1) {
		hs->want = 0;
		hs->done = true;
	}
	return ret;
}

static bool power_of_2(uint32_t v)
{
	return v && !(v & (v - 1));
}

unsigned int nbd_export_block_size(const struct nbd_export *e)
{
	return e->min_block > 512 ? e->min_block : 512;
}

int nbd_export_check(const struct nbd_export *e, uint64_t max_size,
		     struct uerr *err)
{
	unsigned int lbs = nbd_export_block_size(e);
	char b[32];

	if (!(e->flags & NBD_FLAG_HAS_FLAGS))
		return uerr_set(err, EPROTO,
				"the server's transmission flags 0x%04x lack "
				"NBD_FLAG_HAS_FLAGS",
				e->flags);
	if (e->block_size_sent &&
	    (!power_of_2(e->min_block) || e->min_block > NBD_MAX_MIN_BLOCK ||
	     !power_of_2(e->pref_block) || e->pref_block < e->min_block ||
	     e->pref_block < 512 || e->max_payload < e->pref_block))
		return uerr_set(err, EPROTO,
				"the server's size constraints are invalid: "
				"minimum %u, preferred %u, maximum %u bytes",
				e->min_block, e->pref_block, e->max_payload);
	if (e->min_block > NBD_MAX_LBS)
		return uerr_set(err, ENOTSUP,
				"the server's minimum block size %u is above "
				"%u, the largest logical block size of a "
				"ublk device",
				e->min_block, NBD_MAX_LBS);
	if (e->size < lbs)
		return uerr_set(err, EINVAL,
				"the export has %llu bytes, less than one "
				"%u-byte block",
				(unsigned long long)e->size, lbs);
	if (e->size > (uint64_t)INT64_MAX)
		return uerr_set(err, EFBIG,
				"the export's size %llu is not a size",
				(unsigned long long)e->size);
	if (max_size && e->size > max_size)
		return uerr_set(err, EFBIG,
				"the export's size, %llu bytes, is above the "
				"policy's max_size %s",
				(unsigned long long)e->size,
				format_size(max_size, b, sizeof(b)));
	return 0;
}

/* The flags a device is built on: losing or gaining one changes the disk */
#define NBD_FLAGS_RELIED                                                \
	(NBD_FLAG_READ_ONLY | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA | \
	 NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES |              \
	 NBD_FLAG_CAN_MULTI_CONN)

int nbd_export_same(const struct nbd_export *old, const struct nbd_export *e,
		    struct uerr *err)
{
	char a[128], b[128];

	if (e->size != old->size)
		return uerr_set(err, ESTALE,
				"the export's size changed from %llu to %llu "
				"bytes",
				(unsigned long long)old->size,
				(unsigned long long)e->size);
	if ((e->flags ^ old->flags) & NBD_FLAGS_RELIED)
		return uerr_set(err, ESTALE,
				"the export's flags changed from '%s' to '%s'",
				nbd_export_flags_str(old->flags, a, sizeof(a)),
				nbd_export_flags_str(e->flags, b, sizeof(b)));
	if (nbd_export_block_size(e) > nbd_export_block_size(old) ||
	    e->max_payload < old->max_payload)
		return uerr_set(err, ESTALE,
				"the export's size constraints changed from "
				"minimum %u, maximum %u to minimum %u, "
				"maximum %u bytes",
				old->min_block, old->max_payload, e->min_block,
				e->max_payload);
	return 0;
}

const char *nbd_export_flags_str(uint16_t flags, char *buf, size_t len)
{
	static const struct {
		uint16_t flag;
		const char *name;
	} names[] = {
		{ NBD_FLAG_READ_ONLY, "read-only" },
		{ NBD_FLAG_SEND_FLUSH, "flush" },
		{ NBD_FLAG_SEND_FUA, "fua" },
		{ NBD_FLAG_SEND_TRIM, "trim" },
		{ NBD_FLAG_SEND_WRITE_ZEROES, "write-zeroes" },
		{ NBD_FLAG_CAN_MULTI_CONN, "multi-conn" },
		{ NBD_FLAG_ROTATIONAL, "rotational" },
	};
	size_t o = 0;
	unsigned int i;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(flags & names[i].flag))
			continue;
		n = snprintf(buf + o, len - o, "%s%s", o ? " " : "",
			     names[i].name);
		if (n < 0 || (size_t)n >= len - o) {
			buf[o] = '\0'; /* whole words only */
			break;
		}
		o += (size_t)n;
	}
	return buf;
}
