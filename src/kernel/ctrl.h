/* SPDX-License-Identifier: MIT */
/*
 * Control commands on /dev/ublk-control: io_uring URING_CMDs on a ring with
 * 128-byte SQEs.  For unprivileged devices every command after ADD_DEV
 * carries the path of the device's char node in front of its payload; the
 * kernel resolves that path in our mount namespace and checks our access
 * to the node it finds.
 */
#ifndef UBLK_USER_CTRL_H
#define UBLK_USER_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <liburing.h>

#include "base/err.h"
#include "uapi/ublk_abi.h"

#define UBLK_CONTROL_PATH "/dev/ublk-control"
#define UBLK_DEV_PATH_MAX 256
#define UBLK_CTRL_PAYLOAD_MAX 256

struct ublk_ctrl_msg;

struct ublk_ctrl {
	struct io_uring ring;
	int fd;
	bool pending; /* a command timed out and is still in the kernel */
	unsigned int timeout_ms;   /* for commands sent with none (0: none) */
	struct ublk_ctrl_msg *msg; /* outlives a command that timed out */
};

/* The device a command is about, and whether to prefix its node path. */
struct ublk_dev_ref {
	uint32_t id;
	bool with_path;
	char path[UBLK_DEV_PATH_MAX];
};

/* One encoded command: the SQE payload and the buffer it points to. */
struct ublk_ctrl_msg {
	struct ublksrv_ctrl_cmd cmd;
	uint16_t path_len; /* bytes of path (with NUL) before the payload */
	uint16_t payload_len;
	unsigned char buf[UBLK_DEV_PATH_MAX + UBLK_CTRL_PAYLOAD_MAX];
};

void ublk_dev_ref_init(struct ublk_dev_ref *ref, uint32_t id, bool with_path);

/*
 * Fill msg for a command on ref (NULL: no device, as for GET_FEATURES and
 * ADD_DEV).  payload (may be NULL) is copied after the path.  Pure: no I/O.
 */
int ublk_ctrl_encode(struct ublk_ctrl_msg *msg, const struct ublk_dev_ref *ref,
		     uint32_t dev_id, const void *payload, size_t payload_len,
		     uint64_t data0, struct uerr *err);

int ublk_ctrl_open(struct ublk_ctrl *ctrl, struct uerr *err);
/*
 * The same, with a ring restricted to URING_CMD and no register operation
 * (for a server: a process others might take the ring from).
 */
int ublk_ctrl_open_restricted(struct ublk_ctrl *ctrl, struct uerr *err);
void ublk_ctrl_close(struct ublk_ctrl *ctrl);

/*
 * Send one encoded command and wait up to timeout_ms (0: ctrl->timeout_ms,
 * which is 0, forever, unless the caller set it).
 * Returns the kernel's result (>= 0) or -errno; -ETIME when it timed out.
 */
int ublk_ctrl_send(struct ublk_ctrl *ctrl, uint32_t op,
		   struct ublk_ctrl_msg *msg, unsigned int timeout_ms);
/* Wait again for a command that timed out; same returns as send. */
int ublk_ctrl_wait(struct ublk_ctrl *ctrl, unsigned int timeout_ms);

/* The commands.  All return 0 or a negative errno with err filled. */
int ublk_ctrl_get_features(struct ublk_ctrl *ctrl, uint64_t *features,
			   struct uerr *err);
int ublk_ctrl_add_dev(struct ublk_ctrl *ctrl,
		      struct ublksrv_ctrl_dev_info *info, struct uerr *err);
/*
 * GET_DEV_INFO2, falling back to GET_DEV_INFO only where the kernel does
 * not know the former.  Sets ref->with_path from the device's flags.
 */
int ublk_ctrl_get_info(struct ublk_ctrl *ctrl, struct ublk_dev_ref *ref,
		       struct ublksrv_ctrl_dev_info *info, struct uerr *err);
int ublk_ctrl_set_params(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
			 const struct ublk_params *params, struct uerr *err);
int ublk_ctrl_get_params(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
			 struct ublk_params *params, struct uerr *err);
/* The CPUs whose I/O goes to queue q_id: a CPU bitmap of len bytes */
int ublk_ctrl_get_queue_affinity(struct ublk_ctrl *ctrl,
				 const struct ublk_dev_ref *ref,
				 unsigned int q_id, void *mask, size_t len,
				 struct uerr *err);
int ublk_ctrl_start_dev(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
			int32_t server_pid, struct uerr *err);
int ublk_ctrl_stop_dev(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
		       struct uerr *err);
/* UPDATE_SIZE (UBLK_F_UPDATE_SIZE): the disk is now sectors long. */
int ublk_ctrl_update_size(struct ublk_ctrl *ctrl,
			  const struct ublk_dev_ref *ref, uint64_t sectors,
			  struct uerr *err);
/* DEL_DEV waits until the server has closed the char device. */
int ublk_ctrl_del_dev(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
		      unsigned int timeout_ms, struct uerr *err);
/*
 * DEL_DEV_ASYNC (Linux >= 6.9): the device goes now and is freed once the
 * last holder lets go, without waiting for that; DEL_DEV where the kernel
 * lacks it.
 */
int ublk_ctrl_del_dev_async(struct ublk_ctrl *ctrl,
			    const struct ublk_dev_ref *ref,
			    unsigned int timeout_ms, struct uerr *err);

#endif
