// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kernel/ctrl.h"
#include "kernel/features.h"

#define CTRL_RING_DEPTH 4

void ublk_dev_ref_init(struct ublk_dev_ref *ref, uint32_t id, bool with_path)
{
	ref->id = id;
	ref->with_path = with_path;
	snprintf(ref->path, sizeof(ref->path), "/dev/ublkc%u", id);
}

int ublk_ctrl_encode(struct ublk_ctrl_msg *msg, const struct ublk_dev_ref *ref,
		     uint32_t dev_id, const void *payload, size_t payload_len,
		     uint64_t data0, struct uerr *err)
{
	size_t path_len = 0;

	memset(msg, 0, sizeof(*msg));
	if (payload_len > UBLK_CTRL_PAYLOAD_MAX)
		return uerr_set(err, EINVAL, "control payload of %zu bytes",
				payload_len);
	if (ref && ref->with_path) {
		path_len = strnlen(ref->path, sizeof(ref->path)) + 1;
		if (path_len > sizeof(ref->path))
			return uerr_set(err, ENAMETOOLONG,
					"device path is too long");
		memcpy(msg->buf, ref->path, path_len);
	}
	if (payload && payload_len)
		memcpy(msg->buf + path_len, payload, payload_len);

	msg->path_len = path_len;
	msg->payload_len = payload_len;
	msg->cmd.dev_id = ref ? ref->id : dev_id;
	msg->cmd.queue_id = (uint16_t)-1;
	msg->cmd.data[0] = data0;
	msg->cmd.dev_path_len = path_len;
	msg->cmd.len = path_len + payload_len;
	if (msg->cmd.len)
		msg->cmd.addr = (uint64_t)(uintptr_t)msg->buf;
	return 0;
}

static int ctrl_open_error(int code, struct uerr *err)
{
	struct stat st;
	struct group *gr;

	if (code == ENOENT)
		return uerr_set(err, code,
				"%s does not exist: load the ublk_drv module "
				"(modprobe ublk_drv) or use a kernel built "
				"with CONFIG_BLK_DEV_UBLK",
				UBLK_CONTROL_PATH);
	if ((code == EACCES || code == EPERM) &&
	    stat(UBLK_CONTROL_PATH, &st) == 0) {
		gr = getgrgid(st.st_gid);
		return uerr_set(err, code,
				"no permission to open %s (mode %04o, group "
				"%s): ask your administrator to add you to "
				"that group or to install the ublk-user udev "
				"rule",
				UBLK_CONTROL_PATH, st.st_mode & 07777,
				gr ? gr->gr_name : "?");
	}
	return uerr_sys(err, code, "cannot open %s", UBLK_CONTROL_PATH);
}

/*
 * Only URING_CMD, with no SQE flag, and of the register operations only
 * ENABLE_RINGS, which does nothing once the ring runs: whoever gets the
 * ring cannot register buffers or files on it, nor use it for any other
 * operation.  (Newer kernels, 7.3 in our tests, restrict register
 * operations only if one is named.)
 */
static int ctrl_ring_restrict(struct io_uring *ring)
{
	struct io_uring_restriction res[2] = {
		{ .opcode = IORING_RESTRICTION_SQE_OP,
		  .sqe_op = IORING_OP_URING_CMD },
		{ .opcode = IORING_RESTRICTION_REGISTER_OP,
		  .register_op = IORING_REGISTER_ENABLE_RINGS },
	};
	int ret;

	/* liburing 2.3 lacks io_uring_register_restrictions/enable_rings */
	ret = io_uring_register(ring->ring_fd, IORING_REGISTER_RESTRICTIONS,
				res, 2);
	if (ret == 0)
		ret = io_uring_register(ring->ring_fd,
					IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	return ret;
}

/*
 * Linux 6.18 charges even a small ring to the user's locked memory, which
 * the fixed buffers of all of that user's servers count against too: a
 * process with a lower RLIMIT_MEMLOCK than a server had then cannot make
 * one (7.x does not charge rings).  Say so, with the limit.
 */
static int ctrl_ring_nomem(struct uerr *err)
{
	struct rlimit rl;
	char lim[32] = "unlimited";

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		snprintf(lim, sizeof(lim), "%llu KiB",
			 (unsigned long long)rl.rlim_cur / 1024);
	return uerr_set(err, ENOMEM,
			"cannot set up the control ring: out of locked memory "
			"(this kernel counts io_uring rings against "
			"RLIMIT_MEMLOCK, %s here, which your servers' buffers "
			"count against too): raise it (ulimit -l, "
			"LimitMEMLOCK=) to what your servers have",
			lim);
}

static int ctrl_open(struct ublk_ctrl *ctrl, bool restricted, struct uerr *err)
{
	unsigned int flags = IORING_SETUP_SQE128;
	int ret;

	memset(ctrl, 0, sizeof(*ctrl));
	ctrl->fd = -1;
	ctrl->msg = calloc(1, sizeof(*ctrl->msg));
	if (!ctrl->msg)
		return uerr_sys(err, ENOMEM, "control buffer");
	ctrl->fd = open(UBLK_CONTROL_PATH, O_RDWR | O_CLOEXEC);
	if (ctrl->fd < 0) {
		free(ctrl->msg);
		ctrl->msg = NULL;
		return ctrl_open_error(errno, err);
	}

	if (restricted)
		flags |= IORING_SETUP_R_DISABLED;
	ret = io_uring_queue_init(CTRL_RING_DEPTH, &ctrl->ring, flags);
	if (ret == 0 && restricted) {
		ret = ctrl_ring_restrict(&ctrl->ring);
		if (ret < 0)
			io_uring_queue_exit(&ctrl->ring);
	}
	if (ret < 0) {
		close(ctrl->fd);
		ctrl->fd = -1;
		free(ctrl->msg);
		ctrl->msg = NULL;
		if (ret == -EPERM || ret == -ENOSYS)
			return uerr_sys(err, -ret,
					"io_uring is not available to this "
					"process (see the sysctl "
					"kernel.io_uring_disabled)");
		if (ret == -ENOMEM)
			return ctrl_ring_nomem(err);
		return uerr_sys(err, -ret, "cannot set up the control ring");
	}
	return 0;
}

int ublk_ctrl_open(struct ublk_ctrl *ctrl, struct uerr *err)
{
	return ctrl_open(ctrl, false, err);
}

int ublk_ctrl_open_restricted(struct ublk_ctrl *ctrl, struct uerr *err)
{
	return ctrl_open(ctrl, true, err);
}

void ublk_ctrl_close(struct ublk_ctrl *ctrl)
{
	if (ctrl->fd < 0)
		return;
	io_uring_queue_exit(&ctrl->ring);
	close(ctrl->fd);
	ctrl->fd = -1;
	/* A timed-out command may still use the buffer until the ring dies */
	free(ctrl->msg);
	ctrl->msg = NULL;
}

int ublk_ctrl_wait(struct ublk_ctrl *ctrl, unsigned int timeout_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (timeout_ms % 1000) * 1000000L,
	};
	struct io_uring_cqe *cqe;
	int ret;

	do {
		if (timeout_ms)
			ret = io_uring_wait_cqe_timeout(&ctrl->ring, &cqe, &ts);
		else
			ret = io_uring_wait_cqe(&ctrl->ring, &cqe);
	} while (ret == -EINTR);
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(&ctrl->ring, cqe);
	ctrl->pending = false;
	return ret;
}

int ublk_ctrl_send(struct ublk_ctrl *ctrl, uint32_t op,
		   struct ublk_ctrl_msg *msg, unsigned int timeout_ms)
{
	struct io_uring_sqe *sqe;
	int ret;

	/* An earlier command that timed out must finish before the next. */
	if (ctrl->pending)
		return -EBUSY;

	sqe = io_uring_get_sqe(&ctrl->ring);
	if (!sqe)
		return -EAGAIN;
	memset(sqe, 0, 2 * sizeof(*sqe)); /* SQE128 */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = ctrl->fd;
	sqe->cmd_op = op;
	memcpy(sqe->cmd, &msg->cmd, sizeof(msg->cmd));

	ret = io_uring_submit(&ctrl->ring);
	if (ret < 0)
		return ret;
	ctrl->pending = true;
	return ublk_ctrl_wait(ctrl, timeout_ms ? timeout_ms : ctrl->timeout_ms);
}

/* Encode, send and copy the payload back for commands that return data. */
static int ctrl_cmd(struct ublk_ctrl *ctrl, uint32_t op,
		    const struct ublk_dev_ref *ref, uint32_t dev_id,
		    void *payload, size_t len, uint64_t data0,
		    unsigned int timeout_ms, struct uerr *err)
{
	struct ublk_ctrl_msg *msg = ctrl->msg;
	int ret;

	if (ctrl->pending)
		return -EBUSY;
	ret = ublk_ctrl_encode(msg, ref, dev_id, payload, len, data0, err);
	if (ret < 0)
		return ret;
	ret = ublk_ctrl_send(ctrl, op, msg, timeout_ms);
	if (ret >= 0 && payload && len)
		memcpy(payload, msg->buf + msg->path_len, len);
	return ret;
}

static const char *cmd_name(uint32_t op)
{
	switch (_IOC_NR(op)) {
	case UBLK_CMD_ADD_DEV:
		return "ADD_DEV";
	case UBLK_CMD_DEL_DEV:
		return "DEL_DEV";
	case _IOC_NR(UBLK_U_CMD_DEL_DEV_ASYNC):
		return "DEL_DEV_ASYNC";
	case UBLK_CMD_START_DEV:
		return "START_DEV";
	case UBLK_CMD_STOP_DEV:
		return "STOP_DEV";
	case UBLK_CMD_SET_PARAMS:
		return "SET_PARAMS";
	case UBLK_CMD_GET_PARAMS:
		return "GET_PARAMS";
	case UBLK_CMD_GET_QUEUE_AFFINITY:
		return "GET_QUEUE_AFFINITY";
	case UBLK_CMD_GET_DEV_INFO:
		return "GET_DEV_INFO";
	case UBLK_CMD_GET_DEV_INFO2:
		return "GET_DEV_INFO2";
	case _IOC_NR(UBLK_U_CMD_GET_FEATURES):
		return "GET_FEATURES";
	case _IOC_NR(UBLK_U_CMD_UPDATE_SIZE):
		return "UPDATE_SIZE";
	default:
		return "control command";
	}
}

/*
 * A command on an unprivileged device names its node, and the kernel looks
 * the node up before anything else.  Once the device is being deleted (its
 * server deletes it as it stops, beside a `del` or `gc`), devtmpfs first
 * resets the node to root:root mode 0000, then unlinks it, and then the
 * char device leaves sysfs (device_del()).  So EACCES on a node that is
 * now mode 0000 or gone, and ENOENT, mean ENODEV once the sysfs entry goes
 * too.  We wait up to LEAVE_WAIT_MS for that: it costs nothing when the
 * device does leave (the wait ends then), and a loaded machine can take
 * more than a second.  A device whose entry stays is not leaving, and its
 * error stands, with what was seen of the node in why.
 */
#define LEAVE_WAIT_MS 5000
#define LEAVE_STEP_MS 10

static bool dev_leaving(const struct ublk_dev_ref *ref, int ret, char *why,
			size_t why_len)
{
	const struct timespec step = { .tv_nsec = LEAVE_STEP_MS * 1000000L };
	char sys[64], node[48] = "no node";
	struct stat st;
	bool alive = false;
	int i;

	why[0] = '\0';
	if (!ref->with_path || (ret != -ENOENT && ret != -EACCES))
		return false;
	/* stat() and nanosleep(): the confined server's filter allows both */
	if (stat(ref->path, &st) == 0) {
		snprintf(node, sizeof(node), "owner uid %u, mode %04o",
			 (unsigned int)st.st_uid,
			 (unsigned int)(st.st_mode & 07777));
		alive = st.st_uid != 0 || (st.st_mode & 07777) != 0;
	}
	if (ret == -EACCES && alive) {
		snprintf(why, why_len, " (%s)", node);
		return false;
	}
	snprintf(sys, sizeof(sys), "/sys/class/ublk-char/ublkc%u", ref->id);
	for (i = 0; i < LEAVE_WAIT_MS / LEAVE_STEP_MS; i++) {
		if (stat(sys, &st) < 0 && errno == ENOENT)
			return true;
		nanosleep(&step, NULL);
	}
	snprintf(why, why_len, " (%s; the device did not leave within %d s)",
		 node, LEAVE_WAIT_MS / 1000);
	return false;
}

static int dev_cmd_error(int ret, uint32_t op, const struct ublk_dev_ref *ref,
			 struct uerr *err)
{
	char why[160];

	if (dev_leaving(ref, ret, why, sizeof(why)))
		ret = -ENODEV;
	if (ret == -ETIME)
		return uerr_set(err, ETIME, "%s on device %u timed out",
				cmd_name(op), ref->id);
	if (ret == -EACCES || ret == -EPERM)
		return uerr_sys(err, -ret,
				"%s on device %u refused: this user may not "
				"use %s%s",
				cmd_name(op), ref->id, ref->path, why);
	if (ret == -ENODEV)
		return uerr_sys(err, -ret, "%s: no ublk device %u",
				cmd_name(op), ref->id);
	return uerr_sys(err, -ret, "%s on device %u%s", cmd_name(op), ref->id,
			why);
}

int ublk_ctrl_get_features(struct ublk_ctrl *ctrl, uint64_t *features,
			   struct uerr *err)
{
	int ret;

	*features = 0;
	ret = ctrl_cmd(ctrl, UBLK_U_CMD_GET_FEATURES, NULL, (uint32_t)-1,
		       features, sizeof(*features), 0, 0, err);
	if (ret == -EOPNOTSUPP || ret == -EINVAL)
		return uerr_set(err, EOPNOTSUPP,
				"this kernel's ublk driver does not answer "
				"UBLK_U_CMD_GET_FEATURES, so it has no "
				"UBLK_F_UNPRIVILEGED_DEV (Linux >= 6.5)");
	if (ret < 0)
		return uerr_sys(err, -ret, "GET_FEATURES");
	return 0;
}

int ublk_ctrl_add_dev(struct ublk_ctrl *ctrl,
		      struct ublksrv_ctrl_dev_info *info, struct uerr *err)
{
	int ret;

	ret = ctrl_cmd(ctrl, UBLK_U_CMD_ADD_DEV, NULL, info->dev_id, info,
		       sizeof(*info), 0, 0, err);
	if (ret == -EEXIST)
		return uerr_set(err, EEXIST, "ublk device %u already exists",
				info->dev_id);
	if (ret == -EACCES && (info->flags & UBLK_F_UNPRIVILEGED_DEV))
		return uerr_set(err, EACCES,
				"the kernel's limit on unprivileged ublk "
				"devices is reached (ublk_drv parameter "
				"ublks_max)");
	if (ret == -EPERM)
		return uerr_set(err, EPERM,
				"ADD_DEV refused: without CAP_SYS_ADMIN the "
				"device must be unprivileged");
	if (ret < 0)
		return uerr_sys(err, -ret, "ADD_DEV");
	return 0;
}

int ublk_ctrl_get_info(struct ublk_ctrl *ctrl, struct ublk_dev_ref *ref,
		       struct ublksrv_ctrl_dev_info *info, struct uerr *err)
{
	struct ublk_dev_ref plain = *ref;
	int ret;

	/* GET_DEV_INFO2 always carries the path, whatever the device. */
	plain.with_path = true;
	memset(info, 0, sizeof(*info));
	ret = ctrl_cmd(ctrl, UBLK_U_CMD_GET_DEV_INFO2, &plain, 0, info,
		       sizeof(*info), 0, 0, err);
	if (ret == -EOPNOTSUPP) {
		/* Documented fallback: a kernel without GET_DEV_INFO2. */
		plain.with_path = false;
		ret = ctrl_cmd(ctrl, UBLK_U_CMD_GET_DEV_INFO, &plain, 0, info,
			       sizeof(*info), 0, 0, err);
	}
	if (ret < 0)
		return dev_cmd_error(ret, UBLK_U_CMD_GET_DEV_INFO2, ref, err);
	ref->with_path = info->flags & UBLK_F_UNPRIVILEGED_DEV;
	return 0;
}

int ublk_ctrl_set_params(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
			 const struct ublk_params *params, struct uerr *err)
{
	struct ublk_params p = *params;
	int ret;

	p.len = sizeof(p);
	ret = ctrl_cmd(ctrl, UBLK_U_CMD_SET_PARAMS, ref, 0, &p, sizeof(p), 0, 0,
		       err);
	if (ret < 0)
		return dev_cmd_error(ret, UBLK_U_CMD_SET_PARAMS, ref, err);
	return 0;
}

int ublk_ctrl_get_params(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
			 struct ublk_params *params, struct uerr *err)
{
	int ret;

	memset(params, 0, sizeof(*params));
	params->len = sizeof(*params);
	ret = ctrl_cmd(ctrl, UBLK_U_CMD_GET_PARAMS, ref, 0, params,
		       sizeof(*params), 0, 0, err);
	if (ret < 0)
		return dev_cmd_error(ret, UBLK_U_CMD_GET_PARAMS, ref, err);
	return 0;
}

int ublk_ctrl_get_queue_affinity(struct ublk_ctrl *ctrl,
				 const struct ublk_dev_ref *ref,
				 unsigned int q_id, void *mask, size_t len,
				 struct uerr *err)
{
	int ret;

	memset(mask, 0, len);
	ret = ctrl_cmd(ctrl, UBLK_U_CMD_GET_QUEUE_AFFINITY, ref, 0, mask, len,
		       q_id, 0, err);
	if (ret < 0)
		return dev_cmd_error(ret, UBLK_U_CMD_GET_QUEUE_AFFINITY, ref,
				     err);
	return 0;
}

int ublk_ctrl_start_dev(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
			int32_t server_pid, struct uerr *err)
{
	int ret;

	ret = ctrl_cmd(ctrl, UBLK_U_CMD_START_DEV, ref, 0, NULL, 0,
		       (uint64_t)server_pid, 0, err);
	if (ret < 0)
		return dev_cmd_error(ret, UBLK_U_CMD_START_DEV, ref, err);
	return 0;
}

int ublk_ctrl_stop_dev(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
		       struct uerr *err)
{
	int ret;

	ret = ctrl_cmd(ctrl, UBLK_U_CMD_STOP_DEV, ref, 0, NULL, 0, 0, 0, err);
	if (ret < 0)
		return dev_cmd_error(ret, UBLK_U_CMD_STOP_DEV, ref, err);
	return 0;
}

int ublk_ctrl_del_dev(struct ublk_ctrl *ctrl, const struct ublk_dev_ref *ref,
		      unsigned int timeout_ms, struct uerr *err)
{
	int ret;

	ret = ctrl_cmd(ctrl, UBLK_U_CMD_DEL_DEV, ref, 0, NULL, 0, 0, timeout_ms,
		       err);
	if (ret < 0)
		return dev_cmd_error(ret, UBLK_U_CMD_DEL_DEV, ref, err);
	return 0;
}

int ublk_ctrl_del_dev_async(struct ublk_ctrl *ctrl,
			    const struct ublk_dev_ref *ref,
			    unsigned int timeout_ms, struct uerr *err)
{
	int ret;

	ret = ctrl_cmd(ctrl, UBLK_U_CMD_DEL_DEV_ASYNC, ref, 0, NULL, 0, 0,
		       timeout_ms, err);
	if (ret == -EOPNOTSUPP || ret == -EINVAL)
		return ublk_ctrl_del_dev(ctrl, ref, timeout_ms, err);
	if (ret < 0)
		return dev_cmd_error(ret, UBLK_U_CMD_DEL_DEV_ASYNC, ref, err);
	return 0;
}

int ublk_ctrl_update_size(struct ublk_ctrl *ctrl,
			  const struct ublk_dev_ref *ref, uint64_t sectors,
			  struct uerr *err)
{
	int ret;

	ret = ctrl_cmd(ctrl, UBLK_U_CMD_UPDATE_SIZE, ref, 0, NULL, 0, sectors,
		       0, err);
	if (ret < 0)
		return dev_cmd_error(ret, UBLK_U_CMD_UPDATE_SIZE, ref, err);
	return 0;
}
