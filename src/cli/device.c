// SPDX-License-Identifier: MIT
/* What `list`, `add` and `del` share: one device's view, and removal. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containers/cdi.h"
#include "cli.h"
#include "kernel/devnode.h"
#include "base/dirids.h"
#include "kernel/features.h"
#include "host/srvproc.h"
#include "server/stats.h"

#define DEL_TIMEOUT_MS 10000
#define SERVER_EXIT_TIMEOUT_MS 10000

static const char *state_name(const struct dev_view *v)
{
	/* A pid its dead server left to another process is not "live". */
	bool alive = srvproc_is_server(v->server_pid, v->info.dev_id,
				       v->info.owner_uid);

	switch (v->info.state) {
	case UBLK_S_DEV_LIVE:
		return alive ? "live" : "dead";
	case UBLK_S_DEV_QUIESCED:
		return "quiesced";
	case UBLK_S_DEV_FAIL_IO:
		return "fail_io";
	default:
		return alive ? "starting" : "dead";
	}
}

int dev_view_get(struct ublk_ctrl *ctrl, uint32_t dev_id, struct dev_view *v,
		 struct uerr *err)
{
	struct ublk_dev_ref ref;
	struct ublk_params params;
	struct uerr rerr;
	int ret;

	memset(v, 0, sizeof(*v));
	ublk_dev_ref_init(&ref, dev_id, true);
	ret = ublk_ctrl_get_info(ctrl, &ref, &v->info, err);
	if (ret < 0)
		return ret;
	v->in_kernel = true;
	v->server_pid = v->info.ublksrv_pid > 0 ? v->info.ublksrv_pid : 0;

	if (record_read(dev_id, &v->rec, &rerr) == 0 &&
	    v->rec.tag == v->info.ublksrv_flags) {
		v->has_record = true;
		if (v->rec.server_pid > 0)
			v->server_pid = v->rec.server_pid;
		v->size = v->rec.size;
	}
	/* The kernel's size wins where it has one. */
	v->read_only = v->has_record && v->rec.read_only;
	if (ublk_ctrl_get_params(ctrl, &ref, &params, &rerr) == 0 &&
	    (params.types & UBLK_PARAM_TYPE_BASIC)) {
		v->size = params.basic.dev_sectors << 9;
		v->read_only = params.basic.attrs & UBLK_ATTR_READ_ONLY;
	}
	v->state = state_name(v);
	return 0;
}

void dev_view_stale(struct dev_view *v, const struct dev_record *rec)
{
	memset(v, 0, sizeof(*v));
	v->rec = *rec;
	v->has_record = true;
	v->info.dev_id = rec->dev_id;
	v->info.nr_hw_queues = rec->nr_queues;
	v->info.queue_depth = rec->queue_depth;
	v->info.owner_uid = geteuid();
	v->info.owner_gid = getegid();
	v->size = rec->size;
	v->read_only = rec->read_only;
	v->server_pid = rec->server_pid;
	v->state = "stale";
}

/* Live counters and the zero-copy socket, while the server runs. */
static void dev_view_add_runtime(json_object *o, const struct dev_view *v)
{
	char path[PATH_MAX];
	struct stats_sum sum;
	struct uerr err;
	bool have;

	have = v->has_record && v->in_kernel &&
	       record_path(&v->rec, "stats", path, sizeof(path), &err) == 0 &&
	       stats_read(path, &sum, &err) == 0;
	json_object_object_add(o, "ios",
			       have ? json_object_new_int64(sum.ios) : NULL);
	json_object_object_add(o, "zc_ios",
			       have ? json_object_new_int64(sum.zc_ios) : NULL);
	json_object_object_add(o, "copied_ios",
			       have ? json_object_new_int64(sum.copied_ios) :
				      NULL);
	json_object_object_add(o, "shmem_bufs",
			       have ? json_object_new_int64(sum.shmem_bufs) :
				      NULL);
	json_object_object_add(o, "shmem_bytes",
			       have ? json_object_new_int64(sum.shmem_bytes) :
				      NULL);
	/* nbd: connected when every queue is; connections made again */
	if (v->has_record && !strcmp(v->rec.target, "nbd")) {
		json_object_object_add(o, "uri",
				       json_object_new_string(v->rec.backing));
		json_object_object_add(
			o, "connected",
			have ? json_object_new_boolean(sum.nbd_connected ==
						       v->info.nr_hw_queues) :
			       NULL);
		json_object_object_add(
			o, "reconnects",
			have ? json_object_new_int64(sum.nbd_reconnects) :
			       NULL);
	}
	have = v->in_kernel && (v->info.flags & UBLK_F_SHMEM_ZC) &&
	       (v->has_record ?
			record_path(&v->rec, "sock", path, sizeof(path), &err) :
			state_path(path, sizeof(path), v->info.dev_id, "sock",
				   &err)) == 0 &&
	       access(path, F_OK) == 0;
	json_object_object_add(o, "shmem_socket",
			       have ? json_object_new_string(path) : NULL);
}

json_object *dev_view_json(const struct dev_view *v)
{
	json_object *o = json_object_new_object();
	json_object *flags = json_object_new_array();
	char path[64];
	unsigned int i;

	json_object_object_add(o, "dev_id",
			       json_object_new_int64(v->info.dev_id));
	snprintf(path, sizeof(path), "/dev/ublkb%u", v->info.dev_id);
	json_object_object_add(o, "block", json_object_new_string(path));
	snprintf(path, sizeof(path), "/dev/ublkc%u", v->info.dev_id);
	json_object_object_add(o, "char", json_object_new_string(path));
	json_object_object_add(
		o, "target",
		v->has_record ? json_object_new_string(v->rec.target) : NULL);
	json_object_object_add(o, "size", json_object_new_int64(v->size));
	json_object_object_add(o, "nr_queues",
			       json_object_new_int(v->info.nr_hw_queues));
	json_object_object_add(o, "queue_depth",
			       json_object_new_int(v->info.queue_depth));
	json_object_object_add(o, "owner_uid",
			       json_object_new_int64(v->info.owner_uid));
	json_object_object_add(o, "owner_gid",
			       json_object_new_int64(v->info.owner_gid));
	json_object_object_add(o, "server_pid",
			       json_object_new_int(v->server_pid));
	json_object_object_add(o, "state", json_object_new_string(v->state));
	for (i = 0; i < ublk_nr_features; i++)
		if (v->info.flags & ublk_features[i].flag)
			json_object_array_add(
				flags,
				json_object_new_string(ublk_features[i].name));
	json_object_object_add(o, "flags", flags);
	json_object_object_add(o, "backing",
			       v->has_record && v->rec.backing[0] ?
				       json_object_new_string(v->rec.backing) :
				       NULL);
	json_object_object_add(o, "read_only",
			       json_object_new_boolean(v->read_only));
	json_object_object_add(
		o, "offset",
		v->has_record ? json_object_new_uint64(v->rec.offset) : NULL);
	json_object_object_add(o, "partition",
			       v->has_record && v->rec.partition ?
				       json_object_new_int64(v->rec.partition) :
				       NULL);
	json_object_object_add(
		o, "fixed_buffers",
		v->has_record && v->in_kernel ?
			json_object_new_boolean(v->rec.fixed_buffers) :
			NULL);
	json_object_object_add(o, "mlock",
			       v->has_record && v->in_kernel ?
				       json_object_new_boolean(v->rec.mlock) :
				       NULL);
	json_object_object_add(
		o, "poll_us",
		v->has_record ? json_object_new_int64(v->rec.poll_us) : NULL);
	dev_view_add_runtime(o, v);
	json_object_object_add(
		o, "uuid",
		v->has_record ? json_object_new_string(v->rec.uuid) : NULL);
	if (v->has_record && v->rec.name[0]) {
		char link[PATH_MAX];
		struct uerr err;

		json_object_object_add(o, "name",
				       json_object_new_string(v->rec.name));
		if (named_link_path(v->rec.name, link, sizeof(link), false,
				    &err) == 0)
			json_object_object_add(o, "link",
					       json_object_new_string(link));
	}
	return o;
}

static bool match_char_node(const char *name, uint32_t *id)
{
	unsigned int v;
	char extra;

	if (sscanf(name, "ublkc%u%c", &v, &extra) != 1)
		return false;
	*id = v;
	return true;
}

int dev_ids_in_dev(uint32_t **ids, unsigned int *nr, struct uerr *err)
{
	return dir_ids("/dev", match_char_node, ids, nr, err);
}

void dev_end_server(int pidfd)
{
	if (pidfd < 0)
		return;
	if (!srvproc_wait_exit(pidfd, SERVER_EXIT_TIMEOUT_MS)) {
		srvproc_signal(pidfd, SIGKILL);
		srvproc_wait_exit(pidfd, SERVER_EXIT_TIMEOUT_MS);
	}
	close(pidfd);
}

void dev_forget_cdi(uint32_t dev_id)
{
	struct cdi_spec *specs;
	unsigned int nr, i;
	struct uerr err;

	/* Only root writes specs (cdi_check_dir). */
	if (geteuid() != 0 || cdi_list(CDI_DIR, &specs, &nr, &err) < 0)
		return;
	for (i = 0; i < nr; i++)
		if (specs[i].dev_id == dev_id &&
		    cdi_remove(CDI_DIR, specs[i].name, &err) < 0)
			fprintf(stderr, "%s: %s (gc as root removes it)\n",
				prog_name, err.msg);
	free(specs);
}

int dev_remove(struct ublk_ctrl *ctrl, uint32_t dev_id, pid_t server_pid,
	       bool keep_log, struct uerr *err)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_dev_ref ref, iref;
	struct uerr ierr;
	int pidfd = -1, ret;

	/* Whom we may signal is settled while the server still lives. */
	ublk_dev_ref_init(&iref, dev_id, true);
	if (ublk_ctrl_get_info(ctrl, &iref, &info, &ierr) == 0)
		pidfd = srvproc_open(server_pid, dev_id, info.owner_uid);
	ublk_dev_ref_init(&ref, dev_id, true);
	ret = ublk_ctrl_stop_dev(ctrl, &ref, err);
	if (ret < 0 && ret != -ENODEV)
		goto out;
	if (ret == 0) {
		ret = ublk_ctrl_del_dev(ctrl, &ref, DEL_TIMEOUT_MS, err);
		if (ret == -ETIME && pidfd >= 0) {
			/* The server does not let go of the device: end it. */
			srvproc_signal(pidfd, SIGKILL);
			ret = ublk_ctrl_wait(ctrl, DEL_TIMEOUT_MS);
			if (ret < 0 && ret != -ENODEV) {
				ret = uerr_sys(err, -ret,
					       "deleting device %u after "
					       "killing its server %d",
					       dev_id, (int)server_pid);
				goto out;
			}
		}
		/* The server may have deleted it first: that is fine. */
		if (ret < 0 && ret != -ENODEV)
			goto out;
	}
	dev_end_server(pidfd);
	pidfd = -1;
	if (keep_log)
		record_remove_json(dev_id);
	else
		record_remove(dev_id);
	dev_forget_cdi(dev_id);
	uerr_clear(err);
	ret = 0;
out:
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}
