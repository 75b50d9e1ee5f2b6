/* SPDX-License-Identifier: MIT */
/*
 * Every constant, struct and field of src/uapi/ublk_abi.h, as X-macro
 * lists.  uapi_ours.c expands them against our header, uapi_kernel.c
 * against the kernel's linux/ublk_cmd.h; the two TUs cannot be one since
 * both headers define the same names.  uapi_compare.c checks the tables
 * name by name, and checks that these lists name everything our header
 * defines, so a new definition cannot be forgotten here.
 */
#ifndef UBLK_USER_UAPI_NAMES_H
#define UBLK_USER_UAPI_NAMES_H

#include <stddef.h>

#define UAPI_CONSTS(X)                                 \
	/* legacy command numbers */                   \
	X(UBLK_CMD_GET_QUEUE_AFFINITY)                 \
	X(UBLK_CMD_GET_DEV_INFO)                       \
	X(UBLK_CMD_ADD_DEV)                            \
	X(UBLK_CMD_DEL_DEV)                            \
	X(UBLK_CMD_START_DEV)                          \
	X(UBLK_CMD_STOP_DEV)                           \
	X(UBLK_CMD_SET_PARAMS)                         \
	X(UBLK_CMD_GET_PARAMS)                         \
	X(UBLK_CMD_START_USER_RECOVERY)                \
	X(UBLK_CMD_END_USER_RECOVERY)                  \
	X(UBLK_CMD_GET_DEV_INFO2)                      \
	/* ioctl-encoded control commands */           \
	X(UBLK_U_CMD_GET_QUEUE_AFFINITY)               \
	X(UBLK_U_CMD_GET_DEV_INFO)                     \
	X(UBLK_U_CMD_ADD_DEV)                          \
	X(UBLK_U_CMD_DEL_DEV)                          \
	X(UBLK_U_CMD_START_DEV)                        \
	X(UBLK_U_CMD_STOP_DEV)                         \
	X(UBLK_U_CMD_SET_PARAMS)                       \
	X(UBLK_U_CMD_GET_PARAMS)                       \
	X(UBLK_U_CMD_START_USER_RECOVERY)              \
	X(UBLK_U_CMD_END_USER_RECOVERY)                \
	X(UBLK_U_CMD_GET_DEV_INFO2)                    \
	X(UBLK_U_CMD_GET_FEATURES)                     \
	X(UBLK_U_CMD_DEL_DEV_ASYNC)                    \
	X(UBLK_U_CMD_UPDATE_SIZE)                      \
	X(UBLK_U_CMD_QUIESCE_DEV)                      \
	X(UBLK_U_CMD_TRY_STOP_DEV)                     \
	X(UBLK_U_CMD_REG_BUF)                          \
	X(UBLK_U_CMD_UNREG_BUF)                        \
	X(UBLK_SHMEM_BUF_READ_ONLY)                    \
	X(UBLK_FEATURES_LEN)                           \
	/* I/O commands */                             \
	X(UBLK_IO_FETCH_REQ)                           \
	X(UBLK_IO_COMMIT_AND_FETCH_REQ)                \
	X(UBLK_IO_NEED_GET_DATA)                       \
	X(UBLK_U_IO_FETCH_REQ)                         \
	X(UBLK_U_IO_COMMIT_AND_FETCH_REQ)              \
	X(UBLK_U_IO_NEED_GET_DATA)                     \
	X(UBLK_U_IO_PREP_IO_CMDS)                      \
	X(UBLK_U_IO_COMMIT_IO_CMDS)                    \
	X(UBLK_U_IO_FETCH_IO_CMDS)                     \
	X(UBLK_BATCH_F_HAS_ZONE_LBA)                   \
	X(UBLK_BATCH_F_HAS_BUF_ADDR)                   \
	X(UBLK_BATCH_F_AUTO_BUF_REG_FALLBACK)          \
	X(UBLK_IO_RES_OK)                              \
	X(UBLK_IO_RES_NEED_GET_DATA)                   \
	X(UBLK_IO_RES_ABORT)                           \
	/* limits and mmap offsets */                  \
	X(UBLKSRV_CMD_BUF_OFFSET)                      \
	X(UBLKSRV_IO_BUF_OFFSET)                       \
	X(UBLK_MAX_QUEUE_DEPTH)                        \
	X(UBLK_MAX_NR_QUEUES)                          \
	/* feature flags */                            \
	X(UBLK_F_SUPPORT_ZERO_COPY)                    \
	X(UBLK_F_URING_CMD_COMP_IN_TASK)               \
	X(UBLK_F_NEED_GET_DATA)                        \
	X(UBLK_F_USER_RECOVERY)                        \
	X(UBLK_F_USER_RECOVERY_REISSUE)                \
	X(UBLK_F_UNPRIVILEGED_DEV)                     \
	X(UBLK_F_CMD_IOCTL_ENCODE)                     \
	X(UBLK_F_USER_COPY)                            \
	X(UBLK_F_ZONED)                                \
	X(UBLK_F_USER_RECOVERY_FAIL_IO)                \
	X(UBLK_F_UPDATE_SIZE)                          \
	X(UBLK_F_AUTO_BUF_REG)                         \
	X(UBLK_F_QUIESCE)                              \
	X(UBLK_F_PER_IO_DAEMON)                        \
	X(UBLK_F_BUF_REG_OFF_DAEMON)                   \
	X(UBLK_F_BATCH_IO)                             \
	X(UBLK_F_INTEGRITY)                            \
	X(UBLK_F_SAFE_STOP_DEV)                        \
	X(UBLK_F_NO_AUTO_PART_SCAN)                    \
	X(UBLK_F_SHMEM_ZC)                             \
	X(UBLK_F_IO_DESC_SIZE)                         \
	/* device states */                            \
	X(UBLK_S_DEV_DEAD)                             \
	X(UBLK_S_DEV_LIVE)                             \
	X(UBLK_S_DEV_QUIESCED)                         \
	X(UBLK_S_DEV_FAIL_IO)                          \
	/* I/O operations and flags */                 \
	X(UBLK_IO_OP_READ)                             \
	X(UBLK_IO_OP_WRITE)                            \
	X(UBLK_IO_OP_FLUSH)                            \
	X(UBLK_IO_OP_DISCARD)                          \
	X(UBLK_IO_OP_WRITE_SAME)                       \
	X(UBLK_IO_OP_WRITE_ZEROES)                     \
	X(UBLK_IO_F_FAILFAST_DEV)                      \
	X(UBLK_IO_F_FAILFAST_TRANSPORT)                \
	X(UBLK_IO_F_FAILFAST_DRIVER)                   \
	X(UBLK_IO_F_META)                              \
	X(UBLK_IO_F_FUA)                               \
	X(UBLK_IO_F_NOUNMAP)                           \
	X(UBLK_IO_F_SWAP)                              \
	X(UBLK_IO_F_NEED_REG_BUF)                      \
	X(UBLK_IO_F_INTEGRITY)                         \
	X(UBLK_IO_F_SHMEM_ZC)                          \
	/* shared-memory zero copy address encoding */ \
	X(UBLK_SHMEM_ZC_OFF_MASK)                      \
	X(UBLK_SHMEM_ZC_IDX_OFF)                       \
	X(UBLK_SHMEM_ZC_IDX_MASK)                      \
	/* parameters */                               \
	X(UBLK_ATTR_READ_ONLY)                         \
	X(UBLK_ATTR_ROTATIONAL)                        \
	X(UBLK_ATTR_VOLATILE_CACHE)                    \
	X(UBLK_ATTR_FUA)                               \
	X(UBLK_PARAM_TYPE_BASIC)                       \
	X(UBLK_PARAM_TYPE_DISCARD)                     \
	X(UBLK_PARAM_TYPE_DEVT)                        \
	X(UBLK_PARAM_TYPE_ZONED)                       \
	X(UBLK_PARAM_TYPE_DMA_ALIGN)                   \
	X(UBLK_PARAM_TYPE_SEGMENT)                     \
	X(UBLK_PARAM_TYPE_INTEGRITY)

#define UAPI_STRUCTS(S)          \
	S(ublksrv_ctrl_cmd)      \
	S(ublk_shmem_buf_reg)    \
	S(ublksrv_io_cmd)        \
	S(ublk_elem_header)      \
	S(ublk_batch_io)         \
	S(ublksrv_ctrl_dev_info) \
	S(ublksrv_io_desc)       \
	S(ublk_param_basic)      \
	S(ublk_param_discard)    \
	S(ublk_param_devt)       \
	S(ublk_param_zoned)      \
	S(ublk_param_dma_align)  \
	S(ublk_param_segment)    \
	S(ublk_param_integrity)  \
	S(ublk_params)

/* F: a scalar (or struct) field; A: an array field */
#define UAPI_FIELDS(F, A)                               \
	F(ublksrv_ctrl_cmd, dev_id)                     \
	F(ublksrv_ctrl_cmd, queue_id)                   \
	F(ublksrv_ctrl_cmd, len)                        \
	F(ublksrv_ctrl_cmd, addr)                       \
	A(ublksrv_ctrl_cmd, data)                       \
	F(ublksrv_ctrl_cmd, dev_path_len)               \
	F(ublksrv_ctrl_cmd, pad)                        \
	F(ublksrv_ctrl_cmd, reserved)                   \
	F(ublk_shmem_buf_reg, addr)                     \
	F(ublk_shmem_buf_reg, len)                      \
	F(ublk_shmem_buf_reg, flags)                    \
	F(ublk_shmem_buf_reg, reserved)                 \
	F(ublksrv_io_cmd, q_id)                         \
	F(ublksrv_io_cmd, tag)                          \
	F(ublksrv_io_cmd, result)                       \
	F(ublksrv_io_cmd, addr)                         \
	F(ublk_elem_header, tag)                        \
	F(ublk_elem_header, buf_index)                  \
	F(ublk_elem_header, result)                     \
	F(ublk_batch_io, q_id)                          \
	F(ublk_batch_io, flags)                         \
	F(ublk_batch_io, nr_elem)                       \
	F(ublk_batch_io, elem_bytes)                    \
	F(ublk_batch_io, reserved)                      \
	F(ublk_batch_io, reserved2)                     \
	F(ublksrv_ctrl_dev_info, nr_hw_queues)          \
	F(ublksrv_ctrl_dev_info, queue_depth)           \
	F(ublksrv_ctrl_dev_info, state)                 \
	F(ublksrv_ctrl_dev_info, io_desc_size)          \
	F(ublksrv_ctrl_dev_info, max_io_buf_bytes)      \
	F(ublksrv_ctrl_dev_info, dev_id)                \
	F(ublksrv_ctrl_dev_info, ublksrv_pid)           \
	F(ublksrv_ctrl_dev_info, pad1)                  \
	F(ublksrv_ctrl_dev_info, flags)                 \
	F(ublksrv_ctrl_dev_info, ublksrv_flags)         \
	F(ublksrv_ctrl_dev_info, owner_uid)             \
	F(ublksrv_ctrl_dev_info, owner_gid)             \
	F(ublksrv_ctrl_dev_info, reserved1)             \
	F(ublksrv_ctrl_dev_info, reserved2)             \
	F(ublksrv_io_desc, op_flags)                    \
	F(ublksrv_io_desc, nr_sectors)                  \
	F(ublksrv_io_desc, start_sector)                \
	F(ublksrv_io_desc, addr)                        \
	F(ublk_param_basic, attrs)                      \
	F(ublk_param_basic, logical_bs_shift)           \
	F(ublk_param_basic, physical_bs_shift)          \
	F(ublk_param_basic, io_opt_shift)               \
	F(ublk_param_basic, io_min_shift)               \
	F(ublk_param_basic, max_sectors)                \
	F(ublk_param_basic, chunk_sectors)              \
	F(ublk_param_basic, dev_sectors)                \
	F(ublk_param_basic, virt_boundary_mask)         \
	F(ublk_param_discard, discard_alignment)        \
	F(ublk_param_discard, discard_granularity)      \
	F(ublk_param_discard, max_discard_sectors)      \
	F(ublk_param_discard, max_write_zeroes_sectors) \
	F(ublk_param_discard, max_discard_segments)     \
	F(ublk_param_discard, reserved0)                \
	F(ublk_param_devt, char_major)                  \
	F(ublk_param_devt, char_minor)                  \
	F(ublk_param_devt, disk_major)                  \
	F(ublk_param_devt, disk_minor)                  \
	F(ublk_param_zoned, max_open_zones)             \
	F(ublk_param_zoned, max_active_zones)           \
	F(ublk_param_zoned, max_zone_append_sectors)    \
	A(ublk_param_zoned, reserved)                   \
	F(ublk_param_dma_align, alignment)              \
	A(ublk_param_dma_align, pad)                    \
	F(ublk_param_segment, seg_boundary_mask)        \
	F(ublk_param_segment, max_segment_size)         \
	F(ublk_param_segment, max_segments)             \
	A(ublk_param_segment, pad)                      \
	F(ublk_param_integrity, flags)                  \
	F(ublk_param_integrity, max_integrity_segments) \
	F(ublk_param_integrity, interval_exp)           \
	F(ublk_param_integrity, metadata_size)          \
	F(ublk_param_integrity, pi_offset)              \
	F(ublk_param_integrity, csum_type)              \
	F(ublk_param_integrity, tag_size)               \
	A(ublk_param_integrity, pad)                    \
	F(ublk_params, len)                             \
	F(ublk_params, types)                           \
	F(ublk_params, basic)                           \
	F(ublk_params, discard)                         \
	F(ublk_params, devt)                            \
	F(ublk_params, zoned)                           \
	F(ublk_params, dma)                             \
	F(ublk_params, seg)                             \
	F(ublk_params, integrity)

/* A constant: its value, and the signedness and width of its type */
struct uapi_const {
	const char *name;
	int is_signed;
	long long s;	      /* the value, when is_signed */
	unsigned long long u; /* the value, when not */
	size_t width;
};

struct uapi_struct {
	const char *name;
	size_t size;
	size_t align;
};

/* A field: elem and is_signed describe an array field's elements */
struct uapi_field {
	const char *name; /* "struct.field" */
	size_t offset;
	size_t size;
	size_t elem;
	int is_signed;
	int is_array;
};

/* Signedness of an integer expression's type (0 for structs) */
#define UAPI_SIGNED(x)                                               \
	_Generic((x), signed char : 1, short : 1, int : 1, long : 1, \
		 long long : 1, char                                 \
		 : ((char)-1 < 0), default : 0)

#define UAPI_CONST_ENTRY(n)                                            \
	{ #n, UAPI_SIGNED(n), (long long)(n), (unsigned long long)(n), \
	  sizeof(n) },
#define UAPI_STRUCT_ENTRY(s) { #s, sizeof(struct s), _Alignof(struct s) },
#define UAPI_MEMBER(s, f) (((struct s *)0)->f)
#define UAPI_FIELD_ENTRY(s, f)            \
	{ #s "." #f,                      \
	  offsetof(struct s, f),          \
	  sizeof(UAPI_MEMBER(s, f)),      \
	  sizeof(UAPI_MEMBER(s, f)),      \
	  UAPI_SIGNED(UAPI_MEMBER(s, f)), \
	  0 },
#define UAPI_ARRAY_ENTRY(s, f)               \
	{ #s "." #f,                         \
	  offsetof(struct s, f),             \
	  sizeof(UAPI_MEMBER(s, f)),         \
	  sizeof(UAPI_MEMBER(s, f)[0]),      \
	  UAPI_SIGNED(UAPI_MEMBER(s, f)[0]), \
	  1 },

#define UAPI_COUNT(...) +1
#define UAPI_NR_CONSTS (0 UAPI_CONSTS(UAPI_COUNT))
#define UAPI_NR_STRUCTS (0 UAPI_STRUCTS(UAPI_COUNT))
#define UAPI_NR_FIELDS (0 UAPI_FIELDS(UAPI_COUNT, UAPI_COUNT))

/* The tables one TU exports, under its own prefix */
#define UAPI_TABLES(prefix)                                           \
	const struct uapi_const prefix##_consts[] = { UAPI_CONSTS(    \
		UAPI_CONST_ENTRY) };                                  \
	const struct uapi_struct prefix##_structs[] = { UAPI_STRUCTS( \
		UAPI_STRUCT_ENTRY) };                                 \
	const struct uapi_field prefix##_fields[] = { UAPI_FIELDS(    \
		UAPI_FIELD_ENTRY, UAPI_ARRAY_ENTRY) };                \
	const char *const prefix##_header = UAPI_HEADER_NAME

extern const struct uapi_const ours_consts[], kernel_consts[];
extern const struct uapi_struct ours_structs[], kernel_structs[];
extern const struct uapi_field ours_fields[], kernel_fields[];
extern const char *const ours_header, *const kernel_header;

#endif
