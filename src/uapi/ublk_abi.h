/* SPDX-License-Identifier: MIT */
/*
 * Our own description of the kernel's ublk ABI (linux/ublk_cmd.h, Linux
 * 7.3).  Debian 12 ships the 6.1 header, which lacks most of what we use,
 * so we define the subset we need here and pin its layout with static
 * asserts.  tests/unit/uapi_compare.c checks every value against a real
 * 7.x header.
 */
#ifndef UBLK_USER_UBLK_ABI_H
#define UBLK_USER_UBLK_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <linux/ioctl.h>

/* Legacy command numbers: also the _IOC_NR of the ioctl-encoded ops. */
#define UBLK_CMD_GET_QUEUE_AFFINITY 0x01
#define UBLK_CMD_GET_DEV_INFO 0x02
#define UBLK_CMD_ADD_DEV 0x04
#define UBLK_CMD_DEL_DEV 0x05
#define UBLK_CMD_START_DEV 0x06
#define UBLK_CMD_STOP_DEV 0x07
#define UBLK_CMD_SET_PARAMS 0x08
#define UBLK_CMD_GET_PARAMS 0x09
#define UBLK_CMD_START_USER_RECOVERY 0x10
#define UBLK_CMD_END_USER_RECOVERY 0x11
#define UBLK_CMD_GET_DEV_INFO2 0x12

struct ublksrv_ctrl_cmd {
	uint32_t dev_id;
	uint16_t queue_id; /* (uint16_t)-1 when not about a queue */
	uint16_t len;	   /* bytes at addr, including a leading device path */
	uint64_t addr;
	uint64_t data[1];
	uint16_t dev_path_len; /* with the NUL; unprivileged devices only */
	uint16_t pad;
	uint32_t reserved;
};

#define UBLK_U_CMD_GET_QUEUE_AFFINITY \
	_IOR('u', UBLK_CMD_GET_QUEUE_AFFINITY, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_GET_DEV_INFO \
	_IOR('u', UBLK_CMD_GET_DEV_INFO, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_ADD_DEV _IOWR('u', UBLK_CMD_ADD_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_DEL_DEV _IOWR('u', UBLK_CMD_DEL_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_START_DEV \
	_IOWR('u', UBLK_CMD_START_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_STOP_DEV \
	_IOWR('u', UBLK_CMD_STOP_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_SET_PARAMS \
	_IOWR('u', UBLK_CMD_SET_PARAMS, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_GET_PARAMS \
	_IOR('u', UBLK_CMD_GET_PARAMS, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_START_USER_RECOVERY \
	_IOWR('u', UBLK_CMD_START_USER_RECOVERY, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_END_USER_RECOVERY \
	_IOWR('u', UBLK_CMD_END_USER_RECOVERY, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_GET_DEV_INFO2 \
	_IOR('u', UBLK_CMD_GET_DEV_INFO2, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_GET_FEATURES _IOR('u', 0x13, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_DEL_DEV_ASYNC _IOR('u', 0x14, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_UPDATE_SIZE _IOWR('u', 0x15, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_QUIESCE_DEV _IOWR('u', 0x16, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_TRY_STOP_DEV _IOWR('u', 0x17, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_REG_BUF _IOWR('u', 0x18, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_UNREG_BUF _IOWR('u', 0x19, struct ublksrv_ctrl_cmd)

/* UBLK_U_CMD_REG_BUF payload, pointed to by ctrl_cmd.addr */
struct ublk_shmem_buf_reg {
	uint64_t addr;
	uint64_t len;
	uint32_t flags;
	uint32_t reserved;
};

#define UBLK_SHMEM_BUF_READ_ONLY (1U << 0)

#define UBLK_FEATURES_LEN 8

/* I/O commands sent on /dev/ublkcN */
#define UBLK_IO_FETCH_REQ 0x20
#define UBLK_IO_COMMIT_AND_FETCH_REQ 0x21
#define UBLK_IO_NEED_GET_DATA 0x22

struct ublksrv_io_cmd {
	uint16_t q_id;
	uint16_t tag;
	int32_t result;
	uint64_t addr;
};

#define UBLK_U_IO_FETCH_REQ _IOWR('u', UBLK_IO_FETCH_REQ, struct ublksrv_io_cmd)
#define UBLK_U_IO_COMMIT_AND_FETCH_REQ \
	_IOWR('u', UBLK_IO_COMMIT_AND_FETCH_REQ, struct ublksrv_io_cmd)
#define UBLK_U_IO_NEED_GET_DATA \
	_IOWR('u', UBLK_IO_NEED_GET_DATA, struct ublksrv_io_cmd)

/*
 * Batch I/O commands (UBLK_F_BATCH_IO, Linux >= 7.0): PREP gives the
 * kernel every tag at once, a multishot FETCH delivers the tags of new
 * requests (16-bit each) in provided buffers, COMMIT returns many
 * results.  PREP and COMMIT point sqe->addr at elements of elem_bytes:
 * the header, then the buffer address with UBLK_BATCH_F_HAS_BUF_ADDR.
 */
struct ublk_elem_header {
	uint16_t tag;
	uint16_t buf_index; /* UBLK_F_AUTO_BUF_REG only */
	int32_t result;	    /* COMMIT only */
};

struct ublk_batch_io {
	uint16_t q_id;
	uint16_t flags;
	uint16_t nr_elem;
	uint8_t elem_bytes;
	uint8_t reserved;
	uint64_t reserved2;
};

#define UBLK_BATCH_F_HAS_ZONE_LBA (1 << 0)
#define UBLK_BATCH_F_HAS_BUF_ADDR (1 << 1)
#define UBLK_BATCH_F_AUTO_BUF_REG_FALLBACK (1 << 2)

#define UBLK_U_IO_PREP_IO_CMDS _IOWR('u', 0x25, struct ublk_batch_io)
#define UBLK_U_IO_COMMIT_IO_CMDS _IOWR('u', 0x26, struct ublk_batch_io)
#define UBLK_U_IO_FETCH_IO_CMDS _IOWR('u', 0x27, struct ublk_batch_io)

#define UBLK_IO_RES_OK 0
#define UBLK_IO_RES_NEED_GET_DATA 1
#define UBLK_IO_RES_ABORT (-19) /* -ENODEV */

#define UBLKSRV_CMD_BUF_OFFSET 0
#define UBLKSRV_IO_BUF_OFFSET 0x80000000

#define UBLK_MAX_QUEUE_DEPTH 4096
#define UBLK_MAX_NR_QUEUES 4096

/* Feature flags (ublksrv_ctrl_dev_info.flags and GET_FEATURES) */
#define UBLK_F_SUPPORT_ZERO_COPY (1ULL << 0)
#define UBLK_F_URING_CMD_COMP_IN_TASK (1ULL << 1)
#define UBLK_F_NEED_GET_DATA (1ULL << 2)
#define UBLK_F_USER_RECOVERY (1ULL << 3)
#define UBLK_F_USER_RECOVERY_REISSUE (1ULL << 4)
#define UBLK_F_UNPRIVILEGED_DEV (1ULL << 5)
#define UBLK_F_CMD_IOCTL_ENCODE (1ULL << 6)
#define UBLK_F_USER_COPY (1ULL << 7)
#define UBLK_F_ZONED (1ULL << 8)
#define UBLK_F_USER_RECOVERY_FAIL_IO (1ULL << 9)
#define UBLK_F_UPDATE_SIZE (1ULL << 10)
#define UBLK_F_AUTO_BUF_REG (1ULL << 11)
#define UBLK_F_QUIESCE (1ULL << 12)
#define UBLK_F_PER_IO_DAEMON (1ULL << 13)
#define UBLK_F_BUF_REG_OFF_DAEMON (1ULL << 14)
#define UBLK_F_BATCH_IO (1ULL << 15)
#define UBLK_F_INTEGRITY (1ULL << 16)
#define UBLK_F_SAFE_STOP_DEV (1ULL << 17)
#define UBLK_F_NO_AUTO_PART_SCAN (1ULL << 18)
#define UBLK_F_SHMEM_ZC (1ULL << 19)
#define UBLK_F_IO_DESC_SIZE (1ULL << 20)

/* Device states */
#define UBLK_S_DEV_DEAD 0
#define UBLK_S_DEV_LIVE 1
#define UBLK_S_DEV_QUIESCED 2
#define UBLK_S_DEV_FAIL_IO 3

struct ublksrv_ctrl_dev_info {
	uint16_t nr_hw_queues;
	uint16_t queue_depth;
	uint16_t state;
	uint16_t io_desc_size;
	uint32_t max_io_buf_bytes;
	uint32_t dev_id;
	int32_t ublksrv_pid;
	uint32_t pad1;
	uint64_t flags;
	uint64_t ublksrv_flags; /* ours: the kernel stores and returns it */
	uint32_t owner_uid;
	uint32_t owner_gid;
	uint64_t reserved1;
	uint64_t reserved2;
};

/* I/O operations in ublksrv_io_desc.op_flags bits 0-7 */
#define UBLK_IO_OP_READ 0
#define UBLK_IO_OP_WRITE 1
#define UBLK_IO_OP_FLUSH 2
#define UBLK_IO_OP_DISCARD 3
#define UBLK_IO_OP_WRITE_SAME 4
#define UBLK_IO_OP_WRITE_ZEROES 5

/* I/O flags, op_flags bits 8-31 */
#define UBLK_IO_F_FAILFAST_DEV (1U << 8)
#define UBLK_IO_F_FAILFAST_TRANSPORT (1U << 9)
#define UBLK_IO_F_FAILFAST_DRIVER (1U << 10)
#define UBLK_IO_F_META (1U << 11)
#define UBLK_IO_F_FUA (1U << 13)
#define UBLK_IO_F_NOUNMAP (1U << 15)
#define UBLK_IO_F_SWAP (1U << 16)
#define UBLK_IO_F_NEED_REG_BUF (1U << 17)
#define UBLK_IO_F_INTEGRITY (1U << 18)
#define UBLK_IO_F_SHMEM_ZC (1U << 19)

struct ublksrv_io_desc {
	uint32_t op_flags;
	uint32_t nr_sectors;
	uint64_t start_sector;
	uint64_t addr;
};

static inline uint8_t ublk_iod_op(const struct ublksrv_io_desc *iod)
{
	return iod->op_flags & 0xff;
}

static inline uint32_t ublk_iod_flags(const struct ublksrv_io_desc *iod)
{
	return iod->op_flags & ~0xffU;
}

/* Shared-memory zero copy: addr = index << 32 | byte offset */
#define UBLK_SHMEM_ZC_OFF_MASK 0xffffffffULL
#define UBLK_SHMEM_ZC_IDX_OFF 32
#define UBLK_SHMEM_ZC_IDX_MASK 0xffffULL

/* Parameters (SET_PARAMS / GET_PARAMS) */
#define UBLK_ATTR_READ_ONLY (1 << 0)
#define UBLK_ATTR_ROTATIONAL (1 << 1)
#define UBLK_ATTR_VOLATILE_CACHE (1 << 2)
#define UBLK_ATTR_FUA (1 << 3)

struct ublk_param_basic {
	uint32_t attrs;
	uint8_t logical_bs_shift;
	uint8_t physical_bs_shift;
	uint8_t io_opt_shift;
	uint8_t io_min_shift;
	uint32_t max_sectors;
	uint32_t chunk_sectors;
	uint64_t dev_sectors;
	uint64_t virt_boundary_mask;
};

struct ublk_param_discard {
	uint32_t discard_alignment;
	uint32_t discard_granularity;
	uint32_t max_discard_sectors;
	uint32_t max_write_zeroes_sectors;
	uint16_t max_discard_segments;
	uint16_t reserved0;
};

struct ublk_param_devt {
	uint32_t char_major;
	uint32_t char_minor;
	uint32_t disk_major;
	uint32_t disk_minor;
};

struct ublk_param_zoned {
	uint32_t max_open_zones;
	uint32_t max_active_zones;
	uint32_t max_zone_append_sectors;
	uint8_t reserved[20];
};

struct ublk_param_dma_align {
	uint32_t alignment;
	uint8_t pad[4];
};

struct ublk_param_segment {
	uint64_t seg_boundary_mask;
	uint32_t max_segment_size;
	uint16_t max_segments;
	uint8_t pad[2];
};

struct ublk_param_integrity {
	uint32_t flags;
	uint16_t max_integrity_segments;
	uint8_t interval_exp;
	uint8_t metadata_size;
	uint8_t pi_offset;
	uint8_t csum_type;
	uint8_t tag_size;
	uint8_t pad[5];
};

#define UBLK_PARAM_TYPE_BASIC (1 << 0)
#define UBLK_PARAM_TYPE_DISCARD (1 << 1)
#define UBLK_PARAM_TYPE_DEVT (1 << 2)
#define UBLK_PARAM_TYPE_ZONED (1 << 3)
#define UBLK_PARAM_TYPE_DMA_ALIGN (1 << 4)
#define UBLK_PARAM_TYPE_SEGMENT (1 << 5)
#define UBLK_PARAM_TYPE_INTEGRITY (1 << 6)

struct ublk_params {
	uint32_t len;
	uint32_t types;
	struct ublk_param_basic basic;
	struct ublk_param_discard discard;
	struct ublk_param_devt devt;
	struct ublk_param_zoned zoned;
	struct ublk_param_dma_align dma;
	struct ublk_param_segment seg;
	struct ublk_param_integrity integrity;
};

/* Layout pins: a change here is an ABI break, not a refactor. */
_Static_assert(sizeof(struct ublksrv_ctrl_cmd) == 32, "ctrl_cmd size");
_Static_assert(offsetof(struct ublksrv_ctrl_cmd, dev_path_len) == 24, "dev_"
								      "path_"
								      "len "
								      "offset");
_Static_assert(sizeof(struct ublksrv_ctrl_dev_info) == 64, "dev_info size");
_Static_assert(offsetof(struct ublksrv_ctrl_dev_info, flags) == 24, "dev_info "
								    "flags "
								    "offset");
_Static_assert(offsetof(struct ublksrv_ctrl_dev_info, owner_uid) == 40, "dev_"
									"info "
									"owner "
									"offse"
									"t");
_Static_assert(sizeof(struct ublksrv_io_cmd) == 16, "io_cmd size");
_Static_assert(sizeof(struct ublksrv_io_desc) == 24, "io_desc size");
_Static_assert(sizeof(struct ublk_shmem_buf_reg) == 24, "buf_reg size");
_Static_assert(sizeof(struct ublk_param_basic) == 32, "basic size");
_Static_assert(sizeof(struct ublk_param_discard) == 20, "discard size");
_Static_assert(sizeof(struct ublk_param_devt) == 16, "devt size");
_Static_assert(sizeof(struct ublk_param_zoned) == 32, "zoned size");
_Static_assert(sizeof(struct ublk_param_dma_align) == 8, "dma size");
_Static_assert(sizeof(struct ublk_param_segment) == 16, "segment size");
_Static_assert(sizeof(struct ublk_param_integrity) == 16, "integrity size");
_Static_assert(offsetof(struct ublk_params, basic) == 8, "basic offset");
_Static_assert(offsetof(struct ublk_params, discard) == 40, "discard off");
_Static_assert(offsetof(struct ublk_params, devt) == 60, "devt offset");
_Static_assert(offsetof(struct ublk_params, seg) == 120, "seg offset");
_Static_assert(sizeof(struct ublk_params) == 152, "params size");

#endif
