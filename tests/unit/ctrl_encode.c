// SPDX-License-Identifier: MIT
/*
 * What we put in front of the kernel, byte by byte, with no kernel:
 * control commands (ublk_ctrl_encode), I/O command SQEs
 * (queue_prep_io_cmd) and block parameters (server_fill_params).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "kernel/ctrl.h"
#include "server/queue.h"
#include "server/server.h"
#include "server/target.h"

static int all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i])
			return 0;
	return 1;
}

/* A message full of junk, so that what encode leaves alone shows. */
static struct ublk_ctrl_msg *dirty_msg(void)
{
	struct ublk_ctrl_msg *msg = malloc(sizeof(*msg));

	if (!msg)
		bail_out("out of memory");
	memset(msg, 0xa5, sizeof(*msg));
	return msg;
}

static void test_ref_init(void)
{
	struct ublk_dev_ref ref;

	note("ublk_dev_ref_init");
	memset(&ref, 0xa5, sizeof(ref));
	ublk_dev_ref_init(&ref, 7, true);
	is_int(ref.id, 7, "id");
	ok(ref.with_path, "with_path set");
	is_str(ref.path, "/dev/ublkc7", "path of the char device");
	ublk_dev_ref_init(&ref, 1048575, false);
	is_str(ref.path, "/dev/ublkc1048575", "path of the largest id");
	ok(!ref.with_path, "with_path clear");
	ublk_dev_ref_init(&ref, UINT32_MAX, true);
	is_str(ref.path, "/dev/ublkc4294967295", "path of id 2^32-1");
}

static void test_with_path(void)
{
	struct ublk_ctrl_msg *msg = dirty_msg();
	struct ublksrv_ctrl_dev_info info;
	struct ublk_dev_ref ref;
	struct uerr err;
	size_t plen;
	int ret;

	note("ublk_ctrl_encode: an unprivileged device (path first)");
	memset(&info, 0, sizeof(info));
	info.dev_id = 12;
	info.nr_hw_queues = 3;
	info.ublksrv_flags = 0x0123456789abcdefULL;
	ublk_dev_ref_init(&ref, 12, true);
	plen = strlen("/dev/ublkc12") + 1;

	uerr_clear(&err);
	ret = ublk_ctrl_encode(msg, &ref, 99, &info, sizeof(info), 0x1122,
			       &err);
	is_int(ret, 0, "encode succeeds");
	is_int(msg->cmd.dev_id, 12, "dev_id is the ref's id, not the argument");
	is_int(msg->cmd.queue_id, 0xffff, "queue_id is (u16)-1");
	is_int(msg->cmd.dev_path_len, plen,
	       "dev_path_len = strlen(path) + 1 (with the NUL)");
	is_int(msg->path_len, plen, "msg->path_len the same");
	is_int(msg->payload_len, sizeof(info), "msg->payload_len");
	is_int(msg->cmd.len, plen + sizeof(info), "len = path + payload");
	is_u64(msg->cmd.addr, (uintptr_t)msg->buf, "addr points at msg->buf");
	is_u64(msg->cmd.data[0], 0x1122, "data[0]");
	is_int(msg->cmd.pad, 0, "pad is zero");
	is_int(msg->cmd.reserved, 0, "reserved is zero");
	is_str((const char *)msg->buf, "/dev/ublkc12",
	       "the buffer starts with the path");
	is_int(msg->buf[plen - 1], 0, "the path ends with its NUL");
	is_int(memcmp(msg->buf + plen, &info, sizeof(info)), 0,
	       "the payload follows right after the NUL");
	ok(all_zero(msg->buf + plen + sizeof(info),
		    sizeof(msg->buf) - plen - sizeof(info)),
	   "the rest of the buffer is zero");

	note("ublk_ctrl_encode: a path and no payload (START_DEV)");
	memset(msg, 0xa5, sizeof(*msg));
	ublk_dev_ref_init(&ref, 3, true);
	ret = ublk_ctrl_encode(msg, &ref, 0, NULL, 0, 4321, &err);
	is_int(ret, 0, "encode succeeds");
	is_int(msg->cmd.dev_path_len, 12, "dev_path_len 12 for /dev/ublkc3");
	is_int(msg->cmd.len, 12, "len is the path alone");
	is_u64(msg->cmd.addr, (uintptr_t)msg->buf, "addr points at the path");
	is_u64(msg->cmd.data[0], 4321, "data[0] carries the pid");
	is_int(msg->payload_len, 0, "no payload");

	note("ublk_ctrl_encode: the longest path that fits");
	memset(msg, 0xa5, sizeof(*msg));
	memset(ref.path, 'p', sizeof(ref.path) - 1);
	ref.path[sizeof(ref.path) - 1] = '\0';
	ret = ublk_ctrl_encode(msg, &ref, 0, &info, sizeof(info), 0, &err);
	is_int(ret, 0, "a %zu-byte path is accepted", sizeof(ref.path) - 1);
	is_int(msg->cmd.dev_path_len, UBLK_DEV_PATH_MAX, "dev_path_len %d",
	       UBLK_DEV_PATH_MAX);
	is_int(msg->cmd.len, UBLK_DEV_PATH_MAX + sizeof(info),
	       "len = path + payload");
	is_int(memcmp(msg->buf + UBLK_DEV_PATH_MAX, &info, sizeof(info)), 0,
	       "the payload follows the path");

	note("ublk_ctrl_encode: a path with no NUL is refused");
	memset(ref.path, 'p', sizeof(ref.path));
	uerr_clear(&err);
	ret = ublk_ctrl_encode(msg, &ref, 0, NULL, 0, 0, &err);
	is_int(ret, -ENAMETOOLONG, "refused with -ENAMETOOLONG");
	contains(err.msg, "too long", "the message says so");
	free(msg);
}

static void test_without_path(void)
{
	struct ublk_ctrl_msg *msg = dirty_msg();
	unsigned char payload[UBLK_CTRL_PAYLOAD_MAX + 1];
	struct ublk_dev_ref ref;
	uint64_t features = 0x5a5a;
	struct uerr err;
	int ret;

	note("ublk_ctrl_encode: no device (GET_FEATURES, ADD_DEV)");
	uerr_clear(&err);
	ret = ublk_ctrl_encode(msg, NULL, UINT32_MAX, &features,
			       sizeof(features), 0, &err);
	is_int(ret, 0, "encode succeeds");
	is_u64(msg->cmd.dev_id, UINT32_MAX, "dev_id is the argument");
	is_int(msg->cmd.dev_path_len, 0, "no dev_path_len");
	is_int(msg->path_len, 0, "no path");
	is_int(msg->cmd.len, sizeof(features), "len is the payload alone");
	is_u64(msg->cmd.addr, (uintptr_t)msg->buf, "addr points at msg->buf");
	is_int(memcmp(msg->buf, &features, sizeof(features)), 0,
	       "the payload is at the start of the buffer");
	is_int(msg->cmd.queue_id, 0xffff, "queue_id is (u16)-1");
	is_u64(msg->cmd.data[0], 0, "data[0] is 0");

	note("ublk_ctrl_encode: a privileged device (ref without path)");
	memset(msg, 0xa5, sizeof(*msg));
	ublk_dev_ref_init(&ref, 5, false);
	ret = ublk_ctrl_encode(msg, &ref, 77, &features, sizeof(features), 9,
			       &err);
	is_int(ret, 0, "encode succeeds");
	is_int(msg->cmd.dev_id, 5, "dev_id is the ref's id");
	is_int(msg->cmd.dev_path_len, 0, "no dev_path_len");
	is_int(msg->cmd.len, sizeof(features), "len is the payload alone");
	is_int(memcmp(msg->buf, &features, sizeof(features)), 0,
	       "the payload is at the start of the buffer");
	is_u64(msg->cmd.data[0], 9, "data[0]");

	note("ublk_ctrl_encode: nothing at all (STOP_DEV, privileged)");
	memset(msg, 0xa5, sizeof(*msg));
	ret = ublk_ctrl_encode(msg, &ref, 0, NULL, 0, 0, &err);
	is_int(ret, 0, "encode succeeds");
	is_int(msg->cmd.len, 0, "len 0");
	is_u64(msg->cmd.addr, 0, "addr 0 when there is nothing to point at");
	ok(all_zero(msg->buf, sizeof(msg->buf)), "the buffer is zero");

	note("ublk_ctrl_encode: payload size limits");
	memset(payload, 0x3c, sizeof(payload));
	ret = ublk_ctrl_encode(msg, NULL, 0, payload, UBLK_CTRL_PAYLOAD_MAX, 0,
			       &err);
	is_int(ret, 0, "a %d-byte payload fits", UBLK_CTRL_PAYLOAD_MAX);
	is_int(msg->cmd.len, UBLK_CTRL_PAYLOAD_MAX, "len");
	ublk_dev_ref_init(&ref, 4, true);
	ret = ublk_ctrl_encode(msg, &ref, 0, payload, UBLK_CTRL_PAYLOAD_MAX, 0,
			       &err);
	is_int(ret, 0, "and does with a path in front");
	is_int(memcmp(msg->buf + 12, payload, UBLK_CTRL_PAYLOAD_MAX), 0,
	       "the whole payload is after the path");
	uerr_clear(&err);
	ret = ublk_ctrl_encode(msg, &ref, 0, payload, UBLK_CTRL_PAYLOAD_MAX + 1,
			       0, &err);
	is_int(ret, -EINVAL, "a %d-byte payload is refused with -EINVAL",
	       UBLK_CTRL_PAYLOAD_MAX + 1);
	contains(err.msg, "257 bytes", "the message gives the size");
	is_int(msg->cmd.len, 0, "the refused message is left empty");
	is_u64(msg->cmd.addr, 0, "with no address");
	free(msg);
}

static void test_io_cmd(void)
{
	static const struct {
		uint32_t op;
		unsigned int q_id, tag;
		int32_t result;
		uint64_t addr;
	} cases[] = {
		{ UBLK_U_IO_FETCH_REQ, 0, 0, -1, 0x7f0000001000ULL },
		{ UBLK_U_IO_COMMIT_AND_FETCH_REQ, 3, 127, 4096,
		  0x7fffdeadb000ULL },
		{ UBLK_U_IO_COMMIT_AND_FETCH_REQ, 63, 4095, -EIO, 1 },
		{ UBLK_U_IO_NEED_GET_DATA, 4095, 65535, 0, UINT64_MAX },
	};
	struct io_uring_sqe sqe, rest;
	struct ublksrv_io_cmd cmd;
	unsigned int i;

	note("queue_prep_io_cmd");
	ok(offsetof(struct io_uring_sqe, cmd) + sizeof(cmd) <= sizeof(sqe),
	   "a ublksrv_io_cmd fits in a 64-byte SQE's cmd area");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&sqe, 0xa5, sizeof(sqe));
		queue_prep_io_cmd(&sqe, cases[i].op, cases[i].q_id,
				  cases[i].tag, cases[i].result, cases[i].addr);
		memcpy(&cmd, sqe.cmd, sizeof(cmd));
		is_int(sqe.opcode, IORING_OP_URING_CMD,
		       "case %u: opcode IORING_OP_URING_CMD", i);
		is_int(sqe.fd, QUEUE_FILE_CHAR, "case %u: fd is fixed file 0",
		       i);
		is_int(sqe.flags, IOSQE_FIXED_FILE,
		       "case %u: flags = IOSQE_FIXED_FILE", i);
		is_u64(sqe.cmd_op, cases[i].op, "case %u: cmd_op 0x%x", i,
		       cases[i].op);
		is_int(cmd.q_id, cases[i].q_id, "case %u: cmd q_id", i);
		is_int(cmd.tag, cases[i].tag, "case %u: cmd tag", i);
		is_int(cmd.result, cases[i].result, "case %u: cmd result", i);
		is_u64(cmd.addr, cases[i].addr, "case %u: cmd addr", i);
		is_int(queue_ud_tag(sqe.user_data), cases[i].tag & 0xffff,
		       "case %u: user_data decodes to the tag", i);
		is_int(queue_ud_kind(sqe.user_data), QUEUE_UD_CMD,
		       "case %u: user_data kind QUEUE_UD_CMD", i);
		is_int(queue_ud_tgt_data(sqe.user_data), 0,
		       "case %u: user_data target data 0", i);

		/* Everything else in the SQE must be zero */
		rest = sqe;
		rest.opcode = 0;
		rest.fd = 0;
		rest.flags = 0;
		rest.cmd_op = 0;
		rest.user_data = 0;
		memset(rest.cmd, 0, sizeof(cmd));
		ok(all_zero(&rest, sizeof(rest)),
		   "case %u: all other SQE bytes are zero", i);
	}

	note("queue_ud");
	is_int(queue_ud_tag(queue_ud(4095, QUEUE_UD_TGT, 0xab)), 4095,
	       "tag 4095 round trips");
	is_int(queue_ud_kind(queue_ud(4095, QUEUE_UD_TGT, 0xab)), QUEUE_UD_TGT,
	       "kind QUEUE_UD_TGT round trips");
	is_int(queue_ud_tgt_data(queue_ud(4095, QUEUE_UD_TGT, 0xab)), 0xab,
	       "target data round trips");
	is_int(queue_ud_tag(queue_ud(0xffff, 0xff, 0xff)), 0xffff,
	       "tag 0xffff does not spill into the kind");
	is_int(queue_ud_kind(queue_ud(0xffff, 0, 0)), 0, "kind stays 0");
	is_u64(queue_ud(1, 2, 3), 0x03020001ULL, "layout: data|kind|tag");
}

static void test_params(void)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_params p;
	struct target t;
	struct target_opts o = { 0 };
	struct uerr err;

	note("server_fill_params: a target without discard");
	memset(&t, 0, sizeof(t));
	memset(&info, 0, sizeof(info));
	t.size = (1ULL << 30) + 4096;
	t.lbs_shift = 9;
	t.pbs_shift = 12;
	t.attrs = UBLK_ATTR_VOLATILE_CACHE | UBLK_ATTR_FUA;
	t.discard = false;
	info.max_io_buf_bytes = 512 << 10;
	memset(&p, 0xa5, sizeof(p));
	server_fill_params(&p, &t, &info);
	is_int(p.len, sizeof(p), "len = sizeof(struct ublk_params)");
	is_u64(p.types, UBLK_PARAM_TYPE_BASIC, "types = BASIC only");
	is_u64(p.basic.attrs, UBLK_ATTR_VOLATILE_CACHE | UBLK_ATTR_FUA,
	       "attrs from the target");
	is_int(p.basic.logical_bs_shift, 9, "logical_bs_shift");
	is_int(p.basic.physical_bs_shift, 12, "physical_bs_shift");
	is_int(p.basic.io_min_shift, 9, "io_min_shift = logical");
	is_int(p.basic.io_opt_shift, 12, "io_opt_shift = physical");
	is_u64(p.basic.max_sectors, 1024, "max_sectors = 512 KiB / 512");
	is_u64(p.basic.dev_sectors, ((1ULL << 30) + 4096) >> 9,
	       "dev_sectors = size / 512");
	is_u64(p.basic.chunk_sectors, 0, "chunk_sectors 0");
	is_u64(p.basic.virt_boundary_mask, 0, "virt_boundary_mask 0");
	ok(all_zero(&p.discard, sizeof(p.discard)), "discard all zero");
	ok(all_zero(&p.devt, sizeof(p.devt)), "devt all zero");
	ok(all_zero(&p.zoned, sizeof(p.zoned)), "zoned all zero");
	ok(all_zero(&p.dma, sizeof(p.dma)), "dma all zero");
	ok(all_zero(&p.seg, sizeof(p.seg)), "seg all zero");
	ok(all_zero(&p.integrity, sizeof(p.integrity)), "integrity all zero");

	note("server_fill_params: a target with discard, 4K logical blocks");
	t.lbs_shift = 12;
	t.pbs_shift = 16;
	t.attrs = 0;
	t.discard = true;
	t.size = 8ULL << 40;
	info.max_io_buf_bytes = 1 << 20;
	memset(&p, 0xa5, sizeof(p));
	server_fill_params(&p, &t, &info);
	is_u64(p.types, UBLK_PARAM_TYPE_BASIC | UBLK_PARAM_TYPE_DISCARD,
	       "types = BASIC | DISCARD");
	is_u64(p.basic.attrs, 0, "no attrs");
	is_int(p.basic.logical_bs_shift, 12, "logical_bs_shift");
	is_int(p.basic.physical_bs_shift, 16, "physical_bs_shift");
	is_u64(p.basic.max_sectors, 2048, "max_sectors = 1 MiB / 512");
	is_u64(p.basic.dev_sectors, (8ULL << 40) >> 9, "dev_sectors of 8 TiB");
	is_u64(p.discard.discard_granularity, 1 << 16,
	       "discard_granularity = physical block");
	is_u64(p.discard.discard_alignment, 0, "discard_alignment 0");
	is_u64(p.discard.max_discard_sectors, UINT32_MAX >> 9,
	       "max_discard_sectors");
	is_u64(p.discard.max_write_zeroes_sectors, UINT32_MAX >> 9,
	       "max_write_zeroes_sectors");
	is_int(p.discard.max_discard_segments, 1, "max_discard_segments 1");
	is_int(p.discard.reserved0, 0, "discard reserved0 zero");
	ok(all_zero(&p.devt, sizeof(p.devt)), "devt all zero");
	ok(all_zero(&p.seg, sizeof(p.seg)), "seg all zero");

	note("server_fill_params: the null target as target_open sets it up");
	o.size = 1ULL << 30;
	uerr_clear(&err);
	if (!is_int(target_open(&t, "null", &o, &err), 0, "open null"))
		diag("%s", err.msg);
	server_fill_params(&p, &t, &info);
	is_u64(p.types, UBLK_PARAM_TYPE_BASIC | UBLK_PARAM_TYPE_DISCARD,
	       "null: BASIC | DISCARD");
	is_u64(p.basic.dev_sectors, (1ULL << 30) >> 9, "null: dev_sectors");
	is_int(p.basic.logical_bs_shift, 9, "null: 512-byte logical blocks");
	is_int(p.basic.physical_bs_shift, 12, "null: 4K physical blocks");
	is_u64(p.discard.discard_granularity, 4096,
	       "null: discard_granularity 4096");
	target_close(&t);
}

int main(void)
{
	test_ref_init();
	test_with_path();
	test_without_path();
	test_io_cmd();
	test_params();
	return done_testing();
}
