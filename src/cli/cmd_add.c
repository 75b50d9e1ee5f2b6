// SPDX-License-Identifier: MIT
/* ublk-user add: create a device, start its server, wait until usable. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "host/caps.h"
#include "host/denial.h"
#include "kernel/devnode.h"
#include "kernel/features.h"
#include "policy/policy.h"
#include "server/server.h"
#include "server/shmem.h"
#include "base/size.h"
#include "server/target.h"
#include "containers/cdi.h"
#include "host/idmap.h"
#include "containers/ctrrec.h"

#define ADD_DEFAULT_QUEUES 1
#define ADD_DEFAULT_DEPTH 128
#define ADD_MAX_QUEUES 64
#define ADD_IO_BUF_BYTES (512U << 10)
#define UBLK_MAX_DEV_ID ((1U << 20) - 1)

static const char add_usage[] =
	"Usage: ublk-user add -t TARGET [OPTIONS]\n"
	"\n"
	"Create a ublk device served by a process of yours.\n"
	"\n"
	"  -t, --target TARGET  null, loop or mem\n"
	"  -f, --file FILE      backing file or block device (loop)\n"
	"  -s, --size SIZE      device size, K/M/G/T suffixes (mem: needed;\n"
	"                       loop: at most the file's size)\n"
	"  -q, --queues N       number of queues (default 1)\n"
	"  -d, --depth N        queue depth, 1..4096 (default 128)\n"
	"  -n, --id ID          device id to ask for (default: any free)\n"
	"      --mlock          lock the server's I/O buffers in memory\n"
	"      --shmem-zc       zero copy with clients' shared memory\n"
	"                       (UBLK_F_SHMEM_ZC; memfds over dev-N.sock)\n"
	"      --shmem FILE     also share FILE (hugetlbfs or tmpfs) with\n"
	"                       clients that map it; implies --shmem-zc\n"
	"      --user USER      (root) create the device as USER (a name, a\n"
	"                       uid, or UID:GID), keeping only CAP_IPC_LOCK\n"
	"      --cdi NAME       also write a CDI spec: podman run --device\n"
	"                       ublk-user.io/disk=NAME (removed by del)\n"
	"      --container KEY  a per-container disk (used by the OCI hook)\n"
	"      --json           print the device as one JSON object\n"
	"  -h, --help           show this text\n";

struct add_opts {
	const char *target;
	struct target_opts topts;
	unsigned long queues;
	unsigned long depth;
	uint32_t dev_id;
	bool json;
	bool mlock;
	const char *user;
	const char *container; /* key of the OCI hook's container record */
	const char *cdi;
	bool shmem_zc;
	const char *shmem_file; /* --shmem: opened and checked by add */
	int shmem_fd;
	struct shmem_fd_info shmem_info;
};

static int parse_add(int argc, char **argv, struct add_opts *o)
{
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "file", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ "queues", required_argument, NULL, 'q' },
		{ "depth", required_argument, NULL, 'd' },
		{ "id", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "mlock", no_argument, NULL, 'l' },
		{ "shmem-zc", no_argument, NULL, 'z' },
		{ "shmem", required_argument, NULL, 'm' },
		{ "user", required_argument, NULL, 'u' },
		{ "container", required_argument, NULL, 'C' },
		{ "cdi", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned long v;
	struct uerr err;
	int c;

	memset(o, 0, sizeof(*o));
	o->queues = ADD_DEFAULT_QUEUES;
	o->depth = ADD_DEFAULT_DEPTH;
	o->dev_id = (uint32_t)-1;
	o->shmem_fd = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:f:s:q:d:n:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 't':
			o->target = optarg;
			break;
		case 'f':
			o->topts.backing = optarg;
			break;
		case 's':
			if (parse_size(optarg, "--size", &o->topts.size, &err))
				return cli_usage_error("add", "%s", err.msg);
			break;
		case 'q':
			if (parse_uint(optarg, "--queues", 1, ADD_MAX_QUEUES,
				       &o->queues, &err))
				return cli_usage_error("add", "%s", err.msg);
			break;
		case 'd':
			if (parse_uint(optarg, "--depth", 1,
				       UBLK_MAX_QUEUE_DEPTH, &o->depth, &err))
				return cli_usage_error("add", "%s", err.msg);
			break;
		case 'n':
			if (parse_uint(optarg, "--id", 0, UBLK_MAX_DEV_ID, &v,
				       &err))
				return cli_usage_error("add", "%s", err.msg);
			o->dev_id = v;
			break;
		case 'j':
			o->json = true;
			break;
		case 'l':
			o->mlock = true;
			break;
		case 'z':
			o->shmem_zc = true;
			break;
		case 'm':
			o->shmem_file = optarg;
			o->shmem_zc = true;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'C':
			if (!ctrrec_key_ok(optarg))
				return cli_usage_error("add",
						       "--container: '%s' is "
						       "not a "
						       "container record key",
						       optarg);
			o->container = optarg;
			break;
		case 'D':
			if (!cdi_name_ok(optarg))
				return cli_usage_error("add",
						       "--cdi: '%s' is not "
						       "1-32 of "
						       "a-z, 0-9, '_', '-' "
						       "starting with a "
						       "letter or digit",
						       optarg);
			o->cdi = optarg;
			break;
		case 'h':
			fputs(add_usage, stdout);
			return -1;
		case ':':
			return cli_usage_error("add", "option %s needs a value",
					       cli_opt_name(argv));
		default:
			return cli_usage_error("add", "unknown option %s",
					       cli_opt_name(argv));
		}
	}
	if (optind < argc)
		return cli_usage_error("add", "unexpected argument '%s'",
				       argv[optind]);
	if (!o->target)
		return cli_usage_error("add", "a target is required (-t %s)",
				       target_names());
	if (!target_find(o->target))
		return cli_usage_error("add", "unknown target '%s' (known: %s)",
				       o->target, target_names());
	return 0;
}

static void print_added(const struct dev_view *v, bool json)
{
	json_object *o;

	if (json) {
		o = dev_view_json(v);
		printf("%s\n",
		       json_object_to_json_string_ext(
			       o, JSON_C_TO_STRING_PRETTY |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return;
	}
	char sock[PATH_MAX];
	struct uerr err;

	printf("dev_id %u\nblock /dev/ublkb%u\nchar /dev/ublkc%u\n",
	       v->info.dev_id, v->info.dev_id, v->info.dev_id);
	if ((v->info.flags & UBLK_F_SHMEM_ZC) &&
	    state_path(sock, sizeof(sock), v->info.dev_id, "sock", &err) == 0)
		printf("shmem_socket %s\n", sock);
}

/*
 * After ADD_DEV: undo whatever exists if a later step fails.  The server's
 * log stays, and the message says where, as it tells what went wrong.
 */
static void add_cleanup(uint32_t dev_id, pid_t server_pid, struct uerr *why)
{
	struct ublk_ctrl ctrl;
	char log[PATH_MAX];
	struct uerr err;
	struct stat st;
	size_t n;

	uerr_clear(&err);
	if (ublk_ctrl_open(&ctrl, &err) < 0 ||
	    dev_remove(&ctrl, dev_id, server_pid, true, &err) < 0)
		fprintf(stderr,
			"%s: could not delete device %u: %s\n"
			"%s: remove it with 'ublk-user del -n %u' once "
			"that works\n",
			prog_name, dev_id, err.msg, prog_name, dev_id);
	ublk_ctrl_close(&ctrl);
	if (state_path(log, sizeof(log), dev_id, "log", &err) == 0 &&
	    stat(log, &st) == 0 && st.st_size > 0) {
		n = strlen(why->msg);
		snprintf(why->msg + n, sizeof(why->msg) - n,
			 " (server log: %.200s)", log);
	}
}

static bool interrupted(void)
{
	sigset_t pending;

	sigpending(&pending);
	return sigismember(&pending, SIGINT) ||
	       sigismember(&pending, SIGTERM) || sigismember(&pending, SIGHUP);
}

/*
 * --mlock locks every queue's buffers.  Without CAP_IPC_LOCK that must fit
 * in RLIMIT_MEMLOCK: say how much is needed before any device exists.
 */
static int check_memlock(const struct add_opts *o, struct uerr *err)
{
	uint64_t need = (uint64_t)o->queues * o->depth * ADD_IO_BUF_BYTES;
	char need_s[24], have_s[24];
	struct rlimit rl;

	if (caps_have_ipc_lock())
		return 0;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return uerr_sys(err, errno, "getrlimit(RLIMIT_MEMLOCK)");
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return 0;
	return uerr_set(err, ENOMEM,
			"--mlock needs %s of locked memory (%lu queue(s) x "
			"depth %lu x %uK) but RLIMIT_MEMLOCK is %s: install "
			"ublk-user with CAP_IPC_LOCK (make install SETCAP=1), "
			"raise the limit (ulimit -l, limits.conf), or lower "
			"--depth",
			format_size(need, need_s, sizeof(need_s)), o->queues,
			o->depth, ADD_IO_BUF_BYTES >> 10,
			format_size(rl.rlim_cur, have_s, sizeof(have_s)));
}

/*
 * The administrator's policy, checked before anything is created: what
 * the kernel cannot know (target, backing file) and all the rest, so the
 * user gets a clear refusal.  The udev helper enforces it again as root.
 * Root's devices are privileged and not bound by it.
 */
struct add_policy {
	bool active;
	struct policy p;
	struct policy_user u;
	struct policy_limits lim;
};

static int add_policy_load(struct add_policy *ap, struct uerr *err)
{
	int ret;

	memset(ap, 0, sizeof(*ap));
	if (caps_have_sys_admin())
		return 0;
	ap->active = true;
	/* Root's files, also as seen from rootless podman's namespace */
	if (policy_load(&ap->p, POLICY_DIR, idmap_host_root_here()) < 0)
		return policy_invalid_error(&ap->p, err);
	/* The user on the host: in rootless podman's namespace we are 0 */
	ret = policy_user_get(&ap->u, idmap_host_euid(), idmap_host_egid(),
			      err);
	if (ret < 0)
		return ret;
	return policy_eval(&ap->p, &ap->u, &ap->lim, err);
}

static void add_policy_free(struct add_policy *ap)
{
	if (!ap->active)
		return;
	policy_user_free(&ap->u);
	policy_free(&ap->p);
}

/* tgt: NULL before the target is open; nr_devices < 0: not counted */
static int add_policy_check(const struct add_policy *ap,
			    const struct add_opts *o, const struct target *tgt,
			    long nr_devices, struct uerr *err)
{
	struct policy_request req = { 0 };

	if (!ap->active)
		return 0;
	req.target = o->target;
	req.nr_queues = o->queues;
	req.queue_depth = o->depth;
	req.flags = UBLK_F_UNPRIVILEGED_DEV | UBLK_F_CMD_IOCTL_ENCODE |
		    (o->shmem_zc ? UBLK_F_SHMEM_ZC : 0);
	req.shmem = o->shmem_info.len;
	/* With CAP_IPC_LOCK, RLIMIT_MEMLOCK no longer bounds --mlock. */
	if (o->mlock && caps_have_ipc_lock())
		req.locked = (uint64_t)o->queues * o->depth * ADD_IO_BUF_BYTES;
	if (tgt) {
		req.size = tgt->size;
		req.backing = tgt->backing[0] ? tgt->backing : NULL;
	}
	req.nr_devices = nr_devices >= 0 ? nr_devices + 1 : -1;
	req.container = o->container != NULL;
	if (policy_check(&ap->lim, &ap->u, &req, err) < 0)
		return uerr_prefix(err, "refused by the policy");
	return 0;
}

/* How many devices the kernel says are ours (nodes we may query) */
static long count_own_devices(struct ublk_ctrl *ctrl, struct uerr *err)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_dev_ref ref;
	unsigned int nr, i;
	uint32_t *ids;
	struct uerr e;
	long n = 0;
	int ret;

	ret = dev_ids_in_dev(&ids, &nr, err);
	if (ret < 0)
		return ret;
	for (i = 0; i < nr; i++) {
		ublk_dev_ref_init(&ref, ids[i], true);
		if (ublk_ctrl_get_info(ctrl, &ref, &info, &e) == 0 &&
		    (info.flags & UBLK_F_UNPRIVILEGED_DEV) &&
		    info.owner_uid == idmap_host_euid())
			n++;
	}
	free(ids);
	return n;
}

/*
 * The helper stopped and deleted the device itself: nothing to delete.
 * A server it stopped exits and removes its record; make sure of both.
 */
static void refused_cleanup(uint32_t dev_id, pid_t server_pid)
{
	int i;

	for (i = 0; server_pid > 0 && i < 200; i++) {
		if (kill(server_pid, 0) < 0 && errno == ESRCH)
			break;
		usleep(50000);
	}
	if (server_pid > 0 && kill(server_pid, 0) == 0)
		kill(server_pid, SIGKILL);
	record_remove(dev_id);
}

/* The udev helper deleted our device: its reason replaces err. */
static bool refused_by_helper(uint32_t dev_id, uint64_t tag, struct uerr *err)
{
	struct denial d;

	if (denial_read(DENIAL_DIR, 0, dev_id, idmap_host_euid(), tag, &d) < 0)
		return false;
	uerr_set(err, EACCES,
		 "the udev helper deleted device %u, refused by the policy: "
		 "%s",
		 dev_id, d.reason);
	return true;
}

/* Bytes of shared memory one device may register at once */
static uint64_t shmem_budget(const struct add_policy *ap)
{
	return ap->active ? ap->lim.max_shmem : SHMEM_DEFAULT_BUDGET;
}

/* --shmem FILE: opened as the user and checked before any device exists */
static int open_shmem_file(struct add_opts *o, const struct add_policy *ap,
			   struct uerr *err)
{
	int ret;

	if (!o->shmem_file)
		return 0;
	o->shmem_fd = open(o->shmem_file, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (o->shmem_fd < 0)
		return uerr_sys(err, errno, "--shmem %s", o->shmem_file);
	ret = shmem_check_fd(o->shmem_fd, SHMEM_FROM_FILE, shmem_budget(ap),
			     &o->shmem_info, err);
	if (ret < 0)
		return uerr_prefix(err, "--shmem %s", o->shmem_file);
	return 0;
}

static int add_device(struct add_opts *o, struct target *tgt,
		      const struct add_policy *ap, struct dev_view *view,
		      struct uerr *err)
{
	struct ublksrv_ctrl_dev_info info = { 0 };
	struct server_cfg cfg = { 0 };
	struct dev_record rec = { 0 };
	struct ublk_ctrl ctrl;
	uint64_t features;
	char node[64], cnode[64], dir[PATH_MAX];
	pid_t server_pid = 0;
	long own;
	bool unprivileged;
	int ret;

	ret = state_dir(dir, sizeof(dir), 1, err);
	if (ret == 0 && o->cdi)
		ret = cdi_check_dir(CDI_DIR, err);
	if (ret < 0)
		return ret;
	ret = ublk_ctrl_open(&ctrl, err);
	if (ret < 0)
		return ret;
	ret = ublk_ctrl_get_features(&ctrl, &features, err);
	if (ret == 0 && !caps_have_sys_admin())
		ret = ublk_features_require(features, UBLK_F_UNPRIVILEGED_DEV,
					    err);
	if (ret == 0 && o->shmem_zc)
		ret = ublk_features_require(features, UBLK_F_SHMEM_ZC, err);
	if (ret == 0 && o->mlock)
		ret = check_memlock(o, err);
	if (ret == 0 && ap->active) {
		own = count_own_devices(&ctrl, err);
		ret = own < 0 ? (int)own :
				add_policy_check(ap, o, tgt, own, err);
	}
	if (ret < 0)
		goto out_close;

	record_new_identity(&rec);
	info.nr_hw_queues = o->queues;
	info.queue_depth = o->depth;
	info.max_io_buf_bytes = ADD_IO_BUF_BYTES;
	info.dev_id = o->dev_id;
	info.flags = UBLK_F_UNPRIVILEGED_DEV | UBLK_F_CMD_IOCTL_ENCODE;
	if (o->shmem_zc)
		info.flags |= UBLK_F_SHMEM_ZC;
	info.ublksrv_flags = rec.tag;
	ret = ublk_ctrl_add_dev(&ctrl, &info, err);
	ublk_ctrl_close(&ctrl);
	if (ret < 0)
		return ret;

	/* From here on a failure must delete the device again. */
	unprivileged = info.flags & UBLK_F_UNPRIVILEGED_DEV;
	snprintf(cnode, sizeof(cnode), "/dev/ublkc%u", info.dev_id);
	ret = devnode_wait_handover(cnode, cnode, unprivileged ? geteuid() : 0,
				    devnode_timeout(), err);
	if (ret < 0)
		goto out_remove;

	rec.dev_id = info.dev_id;
	snprintf(rec.target, sizeof(rec.target), "%s", o->target);
	snprintf(rec.backing, sizeof(rec.backing), "%s", tgt->backing);
	rec.size = tgt->size;
	rec.nr_queues = info.nr_hw_queues;
	rec.queue_depth = info.queue_depth;
	if (o->container)
		snprintf(rec.container, sizeof(rec.container), "%s",
			 o->container);
	if (o->cdi)
		snprintf(rec.cdi, sizeof(rec.cdi), "%s", o->cdi);
	ret = record_write(&rec, err);
	if (ret < 0)
		goto out_remove;

	cfg.info = info;
	cfg.tgt = tgt;
	cfg.rec = &rec;
	cfg.qopts.mlock = o->mlock;
	cfg.shmem_budget = shmem_budget(ap);
	cfg.shmem_file_fd = o->shmem_fd;
	ret = server_spawn(&cfg, &server_pid, err);
	if (ret < 0) {
		uerr_prefix(err, "device %u", info.dev_id);
		goto out_remove;
	}
	/* The server owns the target now; our copies go. */
	target_close(tgt);

	snprintf(node, sizeof(node), "/dev/ublkb%u", info.dev_id);
	ret = devnode_wait_handover(node, cnode, unprivileged ? geteuid() : 0,
				    devnode_timeout(), err);
	if (ret < 0)
		goto out_remove;
	if (interrupted()) {
		ret = uerr_set(err, EINTR, "interrupted");
		goto out_remove;
	}

	ret = ublk_ctrl_open(&ctrl, err);
	if (ret == 0) {
		ret = dev_view_get(&ctrl, info.dev_id, view, err);
		ublk_ctrl_close(&ctrl);
	}
	if (ret == 0 && o->cdi)
		ret = cdi_write(CDI_DIR, o->cdi, view->info.dev_id,
				view->rec.uuid, err);
	if (ret < 0)
		goto out_remove;
	return 0;

out_remove:
	if (unprivileged && refused_by_helper(info.dev_id, rec.tag, err)) {
		refused_cleanup(info.dev_id, server_pid);
		return -EACCES;
	}
	add_cleanup(info.dev_id, server_pid, err);
	return ret;
out_close:
	ublk_ctrl_close(&ctrl);
	return ret;
}

int cmd_add(int argc, char **argv)
{
	struct add_policy ap;
	struct target tgt;
	struct add_opts o;
	struct dev_view view;
	struct uerr err;
	sigset_t set;
	int ret;

	ret = parse_add(argc, argv, &o);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;

	uerr_clear(&err);
	/* As the user before anything else: the backing file too. */
	if (o.user && caps_become_user(o.user, &err) < 0) {
		cli_error(&err);
		return EXIT_FAIL;
	}
	if (add_policy_load(&ap, &err) < 0 ||
	    add_policy_check(&ap, &o, NULL, -1, &err) < 0) {
		add_policy_free(&ap);
		cli_error(&err);
		return EXIT_FAIL;
	}
	if (target_open(&tgt, o.target, &o.topts, &err) < 0 ||
	    open_shmem_file(&o, &ap, &err) < 0 ||
	    add_policy_check(&ap, &o, &tgt, -1, &err) < 0) {
		target_close(&tgt);
		if (o.shmem_fd >= 0)
			close(o.shmem_fd);
		add_policy_free(&ap);
		cli_error(&err);
		return EXIT_FAIL;
	}

	/* Hold off signals so a ^C cannot leave half a device behind. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);

	ret = add_device(&o, &tgt, &ap, &view, &err);
	target_close(&tgt);
	if (o.shmem_fd >= 0)
		close(o.shmem_fd);
	add_policy_free(&ap);
	if (ret < 0) {
		cli_error(&err);
		return EXIT_FAIL;
	}
	print_added(&view, o.json);
	return EXIT_OK;
}
