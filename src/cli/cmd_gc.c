// SPDX-License-Identifier: MIT
/*
 * ublk-user gc: remove what the OCI hook made for containers that are gone
 * (their disks, servers, records and backing files), and, as root, CDI
 * specs whose device is gone.  The hook runs it before it makes new disks,
 * with --container ID at poststop and --key (the key on stdin: it is a
 * secret) when precreate fails.  Each disk is removed by a child that
 * runs as its owner, who can stop it: it gets --timeout (GC_DISK_TIMEOUT_S).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "base/child.h"
#include "base/size.h"
#include "cli.h"
#include "cli/hookin.h"
#include "host/caps.h"
#include "containers/cdi.h"
#include "host/idmap.h"
#include "containers/ctrrec.h"

static const char gc_usage[] =
	"Usage: ublk-user gc [--container ID | --key] [--timeout SECONDS]\n"
	"\n"
	"Remove the disks the OCI hook made for containers that no longer\n"
	"run: their devices, servers, records and backing files (unless\n"
	"persist=yes).  Root also removes stale CDI specs.\n"
	"\n"
	"      --container ID  only this container's disks, running or not\n"
	"      --key           only the disks of the container record whose\n"
	"                      key comes on stdin (never on a command line)\n"
	"      --timeout SECONDS\n"
	"                      give each disk's removal up to SECONDS (1 to\n"
	"                      3600; default 45), then kill it and keep its\n"
	"                      record\n"
	"  -h, --help          show this text\n";

static const struct option gc_longopts[] = {
	{ "container", required_argument, NULL, 'c' },
	{ "key", no_argument, NULL, 'k' },
	{ "timeout", required_argument, NULL, 't' },
	{ 0 },
};

/*
 * Longer than removing a disk may take (del waits up to 10 s for the
 * kernel and 10 s for the server, twice): then the child is stopped or
 * stuck and is killed.
 */
#define GC_DISK_TIMEOUT_S 45
#define GC_MAX_TIMEOUT_S 3600

const struct cli_opts gc_opts = {
	.usage = gc_usage,
	.longopts = gc_longopts,
};

/* The uuid of a device record as the tag stored in the kernel */
static bool uuid_tag(const char *s, uint64_t *tag)
{
	uuid_t u;

	if (uuid_parse(s, u) < 0)
		return false;
	memcpy(tag, u, sizeof(*tag));
	return true;
}

/*
 * The device with the disk's tag and owner, made by an add that was killed
 * before it said which it made; -1 when there is none, -2 on error
 */
static int64_t find_by_tag(struct ublk_ctrl *ctrl, const struct ctr_record *r,
			   uint64_t tag, struct uerr *err)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_dev_ref ref;
	uint32_t *ids = NULL;
	unsigned int nr, i;
	int64_t found = -1;
	struct uerr e;

	if (dev_ids_in_dev(&ids, &nr, err) < 0)
		return -2;
	for (i = 0; i < nr && found < 0; i++) {
		ublk_dev_ref_init(&ref, ids[i], true);
		if (ublk_ctrl_get_info(ctrl, &ref, &info, &e) == 0 &&
		    info.ublksrv_flags == tag && info.owner_uid == r->owner_uid)
			found = ids[i];
	}
	free(ids);
	return found;
}

/* In a child, as the disk's owner: delete the device if it is this one. */
static int remove_as_owner(const struct ctr_record *r, const struct ctr_disk *d,
			   pid_t parent)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_dev_ref ref;
	struct ublk_ctrl ctrl;
	struct dev_view v;
	struct idmap um, gm;
	uint32_t uid, gid;
	int64_t dev_id = d->dev_id;
	uint64_t tag;
	char ids[32];
	struct uerr err;
	int ret;

	uerr_clear(&err);
	if (idmap_read_self(&um, false, &err) < 0 ||
	    idmap_read_self(&gm, true, &err) < 0)
		goto fail;
	if (!idmap_to_inside(&um, r->owner_uid, &uid) ||
	    !idmap_to_inside(&gm, r->owner_gid, &gid)) {
		uerr_set(&err, EPERM, "its owner %u:%u has no ids here",
			 r->owner_uid, r->owner_gid);
		goto fail;
	}
	if (r->runtime_dir[0])
		setenv("XDG_RUNTIME_DIR", r->runtime_dir, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	if (uid != geteuid() || gid != getegid() || caps_is_root()) {
		snprintf(ids, sizeof(ids), "%u:%u", uid, gid);
		if (cli_become_user(ids, &err) < 0)
			goto fail;
	}
	/* Killed with the parent: gc that is out of time takes us along. */
	if (!child_die_with_parent(parent))
		return 1;
	if (!uuid_tag(d->uuid, &tag))
		return 0; /* no device of ours can have it */
	if (ublk_ctrl_open(&ctrl, &err) < 0)
		goto fail;
	if (dev_id < 0)
		dev_id = find_by_tag(&ctrl, r, tag, &err);
	if (dev_id < -1) {
		ublk_ctrl_close(&ctrl);
		goto fail;
	}
	if (dev_id < 0) {
		ublk_ctrl_close(&ctrl);
		return 0; /* add never made it */
	}
	ublk_dev_ref_init(&ref, dev_id, true);
	ret = ublk_ctrl_get_info(&ctrl, &ref, &info, &err);
	if (ret == -ENODEV || ret == -ENOENT) {
		/* Gone already (its server deleted it): only the record. */
		ublk_ctrl_close(&ctrl);
		record_remove(dev_id);
		return 0;
	}
	if (ret < 0) {
		ublk_ctrl_close(&ctrl);
		goto fail;
	}
	/* A device with this id made since is somebody else's. */
	if (info.ublksrv_flags != tag || info.owner_uid != r->owner_uid) {
		ublk_ctrl_close(&ctrl);
		return 0;
	}
	ret = dev_view_get(&ctrl, dev_id, &v, &err);
	if (ret == 0)
		ret = dev_remove(&ctrl, dev_id, v.server_pid, false, &err);
	ublk_ctrl_close(&ctrl);
	if (ret < 0 && ret != -ENODEV)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "%s: gc: disk %s (device %lld): %s\n", prog_name,
		d->name, (long long)dev_id, err.msg);
	return 1;
}

static int remove_disk(const struct ctr_record *r, const struct ctr_disk *d,
		       unsigned int timeout_s)
{
	pid_t pid, parent = getpid();
	int status, ret;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("ublk-user: gc: fork");
		return -1;
	}
	if (pid == 0)
		_exit(remove_as_owner(r, d, parent));
	ret = child_wait(pid, mono_ms() + (uint64_t)timeout_s * 1000, &status);
	if (ret == -ETIMEDOUT)
		fprintf(stderr,
			"%s: gc: disk %s: not removed within %u s (stopped by "
			"its owner, or stuck): its record stays\n",
			prog_name, d->name, timeout_s);
	if (ret < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Backing files that do not persist, and the directory if it is empty */
static int remove_files(const struct ctr_record *r)
{
	bool keep = false;
	unsigned int i;
	int dfd, ret = 0;

	if (!r->data_dir[0])
		return 0;
	dfd = open(r->data_dir,
		   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	for (i = 0; i < r->nr_disks; i++) {
		if (r->disks[i].persist) {
			keep = true;
			continue;
		}
		if (!r->disks[i].file[0] ||
		    !unlinkat(dfd, r->disks[i].file, 0) || errno == ENOENT)
			continue;
		/*
		 * A directory where the file was, or (below) files in the
		 * directory: its owner put them there.  They stay, and so
		 * does nothing of ours: the record goes, or every gc would
		 * try again, for ever.
		 */
		if (errno == EISDIR) {
			fprintf(stderr,
				"%s: gc: %s/%s is a directory now: left to "
				"its owner\n",
				prog_name, r->data_dir, r->disks[i].file);
			continue;
		}
		fprintf(stderr, "%s: gc: cannot remove %s/%s: %s\n", prog_name,
			r->data_dir, r->disks[i].file, strerror(errno));
		ret = -1;
	}
	close(dfd);
	if (keep || !rmdir(r->data_dir) || errno == ENOENT)
		return ret;
	if (errno == ENOTEMPTY || errno == EEXIST) {
		fprintf(stderr,
			"%s: gc: %s holds files its owner put there: left to "
			"its owner\n",
			prog_name, r->data_dir);
		return ret;
	}
	fprintf(stderr, "%s: gc: cannot remove %s: %s\n", prog_name,
		r->data_dir, strerror(errno));
	return -1;
}

static int gc_container(const char *dir, const struct ctr_record *r,
			unsigned int timeout_s)
{
	const char *what = r->id[0] ? r->id : r->key;
	unsigned int i, n = 0;
	struct uerr err;
	int ret = 0;

	for (i = 0; i < r->nr_disks; i++) {
		/* Neither made nor tried (the uuid goes to add first) */
		if (r->disks[i].dev_id < 0 && !r->disks[i].uuid[0])
			continue;
		if (remove_disk(r, &r->disks[i], timeout_s) < 0)
			ret = -1;
		else
			n++;
	}
	if (ret == 0)
		ret = remove_files(r);
	/* The record stays while something it names could not go. */
	if (ret == 0 && ctrrec_remove(dir, r->key, &err) < 0) {
		cli_error(&err);
		ret = -1;
	}
	if (ret == 0)
		state_tidy();
	if (ret == 0)
		printf("container %.12s: removed %u disk%s\n", what, n,
		       n == 1 ? "" : "s");
	return ret;
}

/* As root: CDI specs whose device is gone or is another one now */
static int gc_cdi(void)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_dev_ref ref;
	struct ublk_ctrl ctrl;
	struct cdi_spec *specs;
	unsigned int nr, i;
	struct uerr err;
	uint64_t tag;
	int ret = 0, r;

	if (cdi_list(CDI_DIR, &specs, &nr, &err) < 0) {
		cli_error(&err);
		return -1;
	}
	if (nr && ublk_ctrl_open(&ctrl, &err) < 0) {
		cli_error(&err);
		free(specs);
		return -1;
	}
	for (i = 0; i < nr; i++) {
		ublk_dev_ref_init(&ref, specs[i].dev_id, true);
		r = ublk_ctrl_get_info(&ctrl, &ref, &info, &err);
		/*
		 * Specs are root's, for root's disks: a user's device with
		 * that id, however tagged (the spec is world-readable), is
		 * not its disk.
		 */
		if (r == 0 && uuid_tag(specs[i].uuid, &tag) &&
		    info.ublksrv_flags == tag && info.owner_uid == 0)
			continue;
		if (r < 0 && r != -ENODEV)
			continue;
		if (cdi_remove(CDI_DIR, specs[i].name, &err) < 0) {
			cli_error(&err);
			ret = -1;
		} else {
			printf("CDI spec %s: removed (device %u is gone "
			       "or not its disk)\n",
			       specs[i].name, specs[i].dev_id);
		}
	}
	if (nr)
		ublk_ctrl_close(&ctrl);
	free(specs);
	return ret;
}

int cmd_gc(struct cli_args *a)
{
	char(*keys)[CTRREC_KEY_LEN + 1] = NULL;
	char key_in[CTRREC_KEY_LEN + 1];
	const char *container = NULL, *key = NULL;
	struct ctr_record *r;
	char dir[PATH_MAX];
	unsigned int nr = 0, i;
	unsigned long timeout_s = GC_DISK_TIMEOUT_S;
	uint32_t host;
	struct uerr err;
	int c, ret = 0;

	uerr_clear(&err);
	while ((c = cli_next_opt(a)) > 0) {
		switch (c) {
		case 'c':
			if (!optarg[0])
				return cli_usage_error(a, "--container: an "
							  "empty id");
			container = optarg;
			break;
		case 'k':
			key = key_in;
			break;
		case 't':
			if (parse_uint(optarg, "--timeout", 1, GC_MAX_TIMEOUT_S,
				       &timeout_s, &err))
				return cli_usage_error(a, "%s", err.msg);
			break;
		}
	}
	if (c == CLI_EXIT)
		return a->status;
	if (container && key)
		return cli_usage_error(a, "give --container or --key, not "
					  "both");

	uerr_clear(&err);
	if (key && hookin_read_key(key_in, &err) < 0) {
		uerr_prefix(&err, "--key");
		cli_error(&err);
		return EXIT_FAIL;
	}
	r = malloc(sizeof(*r));
	if (!r)
		return EXIT_FAIL;
	if (ctrrec_dir(dir, sizeof(dir), false, &err) == 0 &&
	    ctrrec_keys(dir, &keys, &nr, &err) < 0) {
		cli_error(&err);
		ret = -1;
	}
	for (i = 0; i < nr; i++) {
		if (key && strcmp(keys[i], key))
			continue;
		if (ctrrec_read(dir, keys[i], r, &err) < 0) {
			/* Possibly being written: said, not removed. */
			cli_error(&err);
			ret = -1;
			continue;
		}
		if (container ? strcmp(r->id, container) :
				!key && ctrrec_alive(r))
			continue;
		if (gc_container(dir, r, timeout_s) < 0)
			ret = -1;
	}
	free(keys);
	free(r);
	if (!container && !key && idmap_host_euid(&host, &err) == 0 &&
	    host == 0 && gc_cdi() < 0)
		ret = -1;
	return ret < 0 ? EXIT_FAIL : EXIT_OK;
}
