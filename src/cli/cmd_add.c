// SPDX-License-Identifier: MIT
/*
 * ublk-user add: create a device, start its server, wait until usable.
 *
 * The steps, each a function below, in order: parse the command line;
 * become --user; ask the policy; open the target (and --shmem FILE);
 * check what the kernel and the policy say with the device count; ADD_DEV;
 * wait for the char node; write the record; start the server; wait for
 * the block node; describe the device (and write its CDI spec).  Once
 * ADD_DEV made the device, a failing step deletes it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "base/cleanup.h"
#include "base/size.h"
#include "cli.h"
#include "cli/hookin.h"
#include "cli/partition.h"
#include "cli/reflink.h"
#include "containers/cdi.h"
#include "containers/ctrrec.h"
#include "disks/diskfile.h"
#include "host/caps.h"
#include "host/denial.h"
#include "host/idmap.h"
#include "host/srvproc.h"
#include "kernel/devnode.h"
#include "kernel/features.h"
#include "nbd/uri.h"
#include "policy/policy.h"
#include "server/server.h"
#include "server/shmem.h"
#include "server/target.h"

#define ADD_DEFAULT_QUEUES 1
#define ADD_DEFAULT_DEPTH 128
#define ADD_MAX_QUEUES 64
_Static_assert(ADD_MAX_QUEUES == DISK_MAX_QUEUES, "a disk file takes as many "
						  "queues as add --queues");
#define ADD_IO_BUF_BYTES (512U << 10)
#define ADD_MAX_POLL_US 100000
_Static_assert(ADD_MAX_POLL_US == DISK_MAX_POLL_US, "a disk file takes what "
						    "add --poll-us takes");
#define UBLK_MAX_DEV_ID ((1U << 20) - 1)

static const char add_usage[] =
	"Usage: ublk-user add -t TARGET [OPTIONS]\n"
	"\n"
	"Create a ublk device served by a process of yours.\n"
	"\n"
	"  -t, --target TARGET  one of the targets below\n"
	"  -f, --file FILE      backing file or block device (loop)\n"
	"  -U, --uri URI        the NBD server (nbd):\n"
	"                       nbd://HOST[:PORT]/EXPORT or\n"
	"                       nbd+unix:///EXPORT?socket=PATH\n"
	"      --nbd-timeout SECONDS\n"
	"                       nbd: how long a request waits for the server,\n"
	"                       reconnecting included, before it fails with\n"
	"                       EIO (1-25 s, default 20)\n"
	"      --partition N    loop: serve partition N of the file's\n"
	"                       table (GPT or MBR) only\n"
	"      --offset BYTES   loop: serve the file from BYTES on (with\n"
	"                       --size: that many bytes)\n"
	"      --clone-of FILE  loop: make -f FILE, a new file, a reflink\n"
	"                       copy of FILE first (xfs, btrfs; never a\n"
	"                       byte copy)\n"
	"  -s, --size SIZE      device size, K/M/G/T suffixes\n"
	"  -r, --read-only      a disk nothing can write to (the backing\n"
	"                       file is opened read-only)\n"
	"  -q, --queues N       number of queues (default 1)\n"
	"  -d, --depth N        queue depth, 1..4096 (default 128)\n"
	"  -n, --id ID          device id to ask for (default: any free)\n"
	"      --mlock          lock the server's I/O buffers in memory\n"
	"      --batch          batch the server's ublk commands\n"
	"                       (UBLK_F_BATCH_IO, Linux >= 7.0, depth >= 2)\n"
	"      --poll-us US     each queue spins up to US microseconds\n"
	"                       (0-100000, default 0) for the next request\n"
	"                       before it sleeps: less latency, more CPU\n"
	"      --shmem-zc       zero copy with clients' shared memory\n"
	"                       (UBLK_F_SHMEM_ZC; memfds over dev-N.sock)\n"
	"      --shmem FILE     also share FILE (hugetlbfs or tmpfs) with\n"
	"                       clients that map it; implies --shmem-zc\n"
	"      --user USER      (root) create the device as USER (a name, a\n"
	"                       uid, or UID:GID), keeping only CAP_IPC_LOCK\n"
	"      --name NAME      a disk name, unique among yours: the stable\n"
	"                       path $XDG_RUNTIME_DIR/ublk-user/disks/NAME\n"
	"                       points at the device ('ublk-user down NAME')\n"
	"      --cdi NAME       also write a CDI spec: podman run --device\n"
	"                       ublk-user.io/disk=NAME (removed by del)\n"
	"      --container      a per-container disk, for the OCI hook: its\n"
	"                       uuid and backing file come as JSON on stdin\n"
	"      --json           print the device as one JSON object\n"
	"  -h, --help           show this text\n";

static const struct option add_longopts[] = {
	{ "target", required_argument, NULL, 't' },
	{ "file", required_argument, NULL, 'f' },
	{ "uri", required_argument, NULL, 'U' },
	{ "nbd-timeout", required_argument, NULL, 'T' },
	{ "size", required_argument, NULL, 's' },
	{ "read-only", no_argument, NULL, 'r' },
	{ "partition", required_argument, NULL, 'P' },
	{ "offset", required_argument, NULL, 'O' },
	{ "clone-of", required_argument, NULL, 'K' },
	{ "queues", required_argument, NULL, 'q' },
	{ "depth", required_argument, NULL, 'd' },
	{ "id", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, 'j' },
	{ "mlock", no_argument, NULL, 'l' },
	{ "batch", no_argument, NULL, 'B' },
	{ "poll-us", required_argument, NULL, 'p' },
	{ "shmem-zc", no_argument, NULL, 'z' },
	{ "shmem", required_argument, NULL, 'm' },
	{ "user", required_argument, NULL, 'u' },
	{ "container", no_argument, NULL, 'C' },
	{ "cdi", required_argument, NULL, 'D' },
	{ "name", required_argument, NULL, 'N' },
	{ 0 },
};

const struct cli_opts add_opts = {
	.usage = add_usage,
	.usage_more = target_print_help, /* each target's line */
	.shortopts = "t:f:U:s:rq:d:n:",
	.longopts = add_longopts,
};

/* What the command line asks for */
struct add_req {
	const char *target;
	struct target_opts topts;
	unsigned long queues;
	unsigned long depth;
	uint32_t dev_id;
	bool json;
	bool mlock;
	bool batch; /* --batch: UBLK_F_BATCH_IO */
	unsigned long poll_us;
	const char *user;
	bool container; /* a disk of the OCI hook: hookin on stdin */
	struct hookin_add hookin;
	const char *cdi;
	const char *name;	/* a disk name (--name, up) */
	unsigned int partition; /* --partition N: its offset and size */
	const char *clone_of;	/* -f is made a reflink copy of this */
	bool shmem_zc;
	const char *shmem_file;	     /* --shmem: opened and checked by add */
	char nbd_endpoint[PATH_MAX]; /* --uri's, for the policy */
	bool foreground;	     /* up --foreground: stay with the server */
};

/* What add holds while it works; add_release() lets go of all of it. */
struct add {
	struct add_req req;
	uint32_t host_uid, host_gid; /* ours, as the kernel records owners */
	/*
	 * The administrator's policy, checked before anything is created:
	 * what the kernel cannot know (target, backing file) and all the
	 * rest, so the user gets a clear refusal.  The udev helper enforces
	 * it again as root.  Root's devices are privileged and not bound.
	 */
	bool policy_active;
	struct policy_answer policy;
	bool tgt_open;
	struct target tgt;
	int shmem_fd;
	struct shmem_fd_info shmem_info;
	/* The device, once ADD_DEV made it */
	struct ublksrv_ctrl_dev_info info;
	bool unprivileged;
	struct dev_record rec;
	pid_t server_pid;
	int log_fd; /* a foreground server's stderr */
	struct dev_view view;
	bool cloned; /* --clone-of made -f: it goes unless the disk is up */
	bool added;
};

static void add_release(struct add *c)
{
	if (c->cloned && !c->added)
		unlink(c->req.topts.backing);
	c->cloned = false;
	if (c->tgt_open)
		target_close(&c->tgt);
	c->tgt_open = false;
	if (c->shmem_fd >= 0)
		close(c->shmem_fd);
	c->shmem_fd = -1;
	if (c->log_fd >= 0)
		close(c->log_fd);
	c->log_fd = -1;
	if (c->policy_active)
		policy_answer_free(&c->policy);
	c->policy_active = false;
}

/* --- the command line ----------------------------------------------------- */

/* One option into r: 0, or the exit status of a usage error */
static int add_option(struct cli_args *a, struct add_req *r, int c)
{
	unsigned long v;
	struct uerr err;

	switch (c) {
	case 't':
		r->target = optarg;
		return 0;
	case 'f':
		r->topts.backing = optarg;
		return 0;
	case 'U':
		r->topts.uri = optarg;
		return 0;
	case 'T':
		if (parse_uint(optarg, "--nbd-timeout", 1, 25, &v, &err))
			return cli_usage_error(a, "%s", err.msg);
		r->topts.timeout_s = v;
		return 0;
	case 's':
		if (parse_size(optarg, "--size", &r->topts.size, &err))
			return cli_usage_error(a, "%s", err.msg);
		return 0;
	case 'r':
		r->topts.read_only = true;
		return 0;
	case 'P':
		if (parse_uint(optarg, "--partition", 1, 256, &v, &err))
			return cli_usage_error(a, "%s", err.msg);
		r->partition = v;
		return 0;
	case 'O':
		if (parse_size(optarg, "--offset", &r->topts.offset, &err))
			return cli_usage_error(a, "%s", err.msg);
		return 0;
	case 'K':
		r->clone_of = optarg;
		return 0;
	case 'q':
		if (parse_uint(optarg, "--queues", 1, ADD_MAX_QUEUES,
			       &r->queues, &err))
			return cli_usage_error(a, "%s", err.msg);
		return 0;
	case 'd':
		if (parse_uint(optarg, "--depth", 1, UBLK_MAX_QUEUE_DEPTH,
			       &r->depth, &err))
			return cli_usage_error(a, "%s", err.msg);
		return 0;
	case 'n':
		if (parse_uint(optarg, "--id", 0, UBLK_MAX_DEV_ID, &v, &err))
			return cli_usage_error(a, "%s", err.msg);
		r->dev_id = v;
		return 0;
	case 'j':
		r->json = true;
		return 0;
	case 'l':
		r->mlock = true;
		return 0;
	case 'B':
		r->batch = true;
		return 0;
	case 'p':
		if (parse_uint(optarg, "--poll-us", 0, ADD_MAX_POLL_US,
			       &r->poll_us, &err))
			return cli_usage_error(a, "%s", err.msg);
		return 0;
	case 'z':
		r->shmem_zc = true;
		return 0;
	case 'm':
		r->shmem_file = optarg;
		r->shmem_zc = true; /* --shmem implies --shmem-zc */
		return 0;
	case 'u':
		r->user = optarg;
		return 0;
	case 'C':
		r->container = true;
		return 0;
	case 'D':
		if (!cdi_name_ok(optarg))
			return cli_usage_error(a,
					       "--cdi: '%s' is not 1-32 of "
					       "a-z, 0-9, '_', "
					       "'-' starting with a letter or "
					       "digit",
					       optarg);
		r->cdi = optarg;
		return 0;
	case 'N':
		if (disk_name_check(optarg, &err) < 0)
			return cli_usage_error(a, "--name: %s", err.msg);
		r->name = optarg;
		return 0;
	}
	return 0;
}

/*
 * What the target needs of the command line and takes (target_ops), and
 * what options need of each other
 */
static void add_check_target(struct cli_args *a, const struct add_req *r,
			     const struct target_ops *t)
{
	struct target_opts o = r->topts;
	struct nbd_uri uri;
	struct uerr err;

	/* With --container the file or URI comes on stdin, later. */
	if (r->container && t->source == TARGET_SOURCE_FILE)
		o.backing = "(stdin)";
	if (r->container && t->source == TARGET_SOURCE_URI)
		o.uri = "(stdin)";
	if ((r->topts.uri || r->topts.timeout_s) &&
	    t->source != TARGET_SOURCE_URI)
		a->status = cli_usage_error(a, "--uri and --nbd-timeout are "
					       "for the nbd target");
	else if (r->container && (r->topts.backing || r->topts.uri))
		a->status = cli_usage_error(a, "with --container the backing "
					       "file or URI comes on stdin, "
					       "not -f or --uri");
	else if (target_opts_check(t, &o, &err) < 0)
		a->status = cli_usage_error(a, "%s", err.msg);
	else if (r->topts.uri && nbd_uri_parse(&uri, r->topts.uri, &err) < 0)
		a->status = cli_usage_error(a, "--uri: %s", err.msg);
	else if (r->partition && (r->topts.offset || r->topts.size))
		a->status = cli_usage_error(a, "--partition gives the offset "
					       "and the size: no --offset or "
					       "--size with it");
	else if (r->clone_of &&
		 (strcmp(r->target, "loop") || !r->topts.backing))
		a->status = cli_usage_error(a, "--clone-of makes the backing "
					       "file of a loop disk: -t loop "
					       "-f NEW");
	else if (r->partition && !t->offsets)
		a->status = cli_usage_error(a,
					    "the %s target serves no part of "
					    "a backing (--partition, --offset)",
					    t->name);
	else if (r->batch && r->depth < 2)
		a->status = cli_usage_error(a, "--batch needs a depth of at "
					       "least 2 (the kernel batches "
					       "no single tag)");
}

/* false when add is done: a->status says how (help, or a usage error) */
static bool add_parse(struct cli_args *a, struct add_req *r)
{
	int c;

	memset(r, 0, sizeof(*r));
	r->queues = ADD_DEFAULT_QUEUES;
	r->depth = ADD_DEFAULT_DEPTH;
	r->dev_id = (uint32_t)-1;
	while ((c = cli_next_opt(a)) > 0) {
		a->status = add_option(a, r, c);
		if (a->status)
			return false;
	}
	if (c == CLI_EXIT)
		return false;
	if (!r->target)
		a->status = cli_usage_error(a, "a target is required (-t %s)",
					    target_names());
	else if (!target_find(r->target))
		a->status = cli_usage_error(a,
					    "unknown target '%s' (known: %s)",
					    r->target, target_names());
	else
		add_check_target(a, r, target_find(r->target));
	return !a->status;
}

/* --- who we are, and what the policy lets us do --------------------------- */

/*
 * As the user before anything else (the backing file too); our host ids.
 * Root that became the user starts again, so that nothing of root is in
 * the process that makes the device and its server.
 * Then what the OCI hook sends on stdin, as the user too.
 */
static int add_become_user(struct add *c, struct uerr *err)
{
	struct add_req *r = &c->req;
	int ret;

	if (c->req.user) {
		ret = cli_become_user(c->req.user, err);
		if (ret > 0)
			ret = caps_reexec(err);
		if (ret < 0)
			return ret;
	}
	if (r->container) {
		ret = hookin_read_add(&r->hookin, err);
		if (ret < 0)
			return uerr_prefix(err, "--container");
		if (r->hookin.file[0])
			r->topts.backing = r->hookin.file;
		if (r->hookin.uri[0])
			r->topts.uri = r->hookin.uri;
	}
	/* In rootless podman's user namespace we are 0: the host knows us. */
	ret = idmap_host_euid(&c->host_uid, err);
	if (ret == 0)
		ret = idmap_host_egid(&c->host_gid, err);
	return ret;
}

static int add_policy_load(struct add *c, struct uerr *err)
{
	struct policy_who who = { .uid = c->host_uid, .gid = c->host_gid };

	if (caps_have_sys_admin())
		return 0;
	c->policy_active = true;
	/* Root's files, also as seen from rootless podman's namespace */
	return policy_ask(&c->policy, POLICY_DIR, idmap_host_root_here(), &who,
			  err);
}

/* What ADD_DEV asks for */
static uint64_t add_dev_flags(const struct add_req *r)
{
	return UBLK_F_UNPRIVILEGED_DEV | UBLK_F_CMD_IOCTL_ENCODE |
	       (r->shmem_zc ? UBLK_F_SHMEM_ZC : 0) |
	       (r->batch ? UBLK_F_BATCH_IO : 0);
}

/* Before the target is open (!c->tgt_open), and nr_devices < 0: not counted */
static int add_policy_check(const struct add *c, long nr_devices,
			    struct uerr *err)
{
	const struct add_req *r = &c->req;
	struct policy_request req = { 0 };

	if (!c->policy_active)
		return 0;
	req.target = r->target;
	req.nr_queues = r->queues;
	req.queue_depth = r->depth;
	req.flags = add_dev_flags(r);
	req.shmem = c->shmem_info.len;
	/* With CAP_IPC_LOCK, RLIMIT_MEMLOCK no longer bounds --mlock. */
	if (r->mlock && caps_have_ipc_lock())
		req.locked = (uint64_t)r->queues * r->depth * ADD_IO_BUF_BYTES;
	if (c->tgt_open) {
		req.size = c->tgt.size;
		req.backing = target_backing(&c->tgt);
	}
	req.nr_devices = nr_devices >= 0 ? nr_devices + 1 : -1;
	req.container = r->container;
	req.nbd_endpoint = r->nbd_endpoint[0] ? r->nbd_endpoint : NULL;
	req.writable = !r->topts.read_only;
	if (policy_check(&c->policy.lim, &c->policy.user, &req, err) < 0)
		return uerr_prefix(err, "refused by the policy");
	return 0;
}

/*
 * The NBD server --uri names, as the policy's nbd_endpoints matches it:
 * HOST:PORT, or the socket's canonical path.  Checked before anything
 * connects to it.
 */
static int add_nbd_endpoint(struct add_req *r, struct uerr *err)
{
	cleanup_free struct nbd_uri *u = NULL;
	char real[PATH_MAX];

	if (!r->topts.uri)
		return 0;
	u = malloc(sizeof(*u));
	if (!u)
		return uerr_sys(err, ENOMEM, "--uri");
	if (nbd_uri_parse(u, r->topts.uri, err) < 0)
		return uerr_prefix(err, "--uri");
	/* A socket not there: its path as given (connecting will fail) */
	if (u->transport == NBD_TRANSPORT_UNIX && realpath(u->socket, real))
		snprintf(r->nbd_endpoint, sizeof(r->nbd_endpoint), "%s", real);
	else
		nbd_uri_endpoint(u, r->nbd_endpoint, sizeof(r->nbd_endpoint));
	return 0;
}

/* Bytes of shared memory one device may register at once */
static uint64_t shmem_budget(const struct add *c)
{
	return c->policy_active ? c->policy.lim.max_shmem :
				  SHMEM_DEFAULT_BUDGET;
}

/* --- the target ----------------------------------------------------------- */

/* The target, and --shmem FILE, opened as the user before any device */
/* --clone-of SRC: -f is made, a reflink copy of SRC, or nothing is */
static int add_clone(struct add *c, struct uerr *err)
{
	const char *src = c->req.clone_of, *dst = c->req.topts.backing;
	cleanup_close int sfd = -1, dfd = -1;
	struct stat st;
	int ret;

	sfd = open(src, O_RDONLY | O_CLOEXEC);
	if (sfd < 0 || fstat(sfd, &st) < 0)
		return uerr_sys(err, errno, "--clone-of %s", src);
	if (!S_ISREG(st.st_mode))
		return uerr_set(err, EINVAL,
				"--clone-of %s: not a regular file", src);
	dfd = reflink_create(dst, st.st_mode & 0666, err);
	if (dfd < 0)
		return uerr_prefix(err, "--clone-of");
	c->cloned = true;
	ret = reflink_clone(dfd, sfd, dst, src, err);
	if (ret == 0 && fsync(dfd) < 0)
		ret = uerr_sys(err, errno, "flushing %s", dst);
	return ret < 0 ? uerr_prefix(err, "--clone-of") : 0;
}

static int add_open_target(struct add *c, struct uerr *err)
{
	const char *file = c->req.shmem_file;
	int ret;

	if (c->req.clone_of) {
		ret = add_clone(c, err);
		if (ret < 0)
			return ret;
	}

	if (c->req.partition) {
		if (!c->req.topts.backing)
			return uerr_set(err, EINVAL,
					"--partition needs a backing file "
					"(-f)");
		ret = partition_find(c->req.topts.backing, c->req.partition,
				     &c->req.topts.offset, &c->req.topts.size,
				     err);
		if (ret < 0)
			return ret;
	}
	c->tgt_open = true; /* target_open() leaves it safe to close */
	ret = target_open(&c->tgt, c->req.target, &c->req.topts, err);
	if (ret < 0 && c->req.partition)
		uerr_prefix(err, "--partition %u", c->req.partition);
	if (ret < 0 || !file)
		return ret;
	c->shmem_fd = open(file, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (c->shmem_fd < 0)
		return uerr_sys(err, errno, "--shmem %s", file);
	ret = shmem_check_fd(c->shmem_fd, SHMEM_FROM_FILE, shmem_budget(c),
			     &c->shmem_info, err);
	if (ret < 0)
		return uerr_prefix(err, "--shmem %s", file);
	return 0;
}

/* --- the kernel ----------------------------------------------------------- */

/*
 * --mlock locks every queue's buffers.  Without CAP_IPC_LOCK that must fit
 * in RLIMIT_MEMLOCK: say how much is needed before any device exists.
 */
static int check_memlock(const struct add_req *r, struct uerr *err)
{
	uint64_t need = (uint64_t)r->queues * r->depth * ADD_IO_BUF_BYTES;
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
			format_size(need, need_s, sizeof(need_s)), r->queues,
			r->depth, ADD_IO_BUF_BYTES >> 10,
			format_size(rl.rlim_cur, have_s, sizeof(have_s)));
}

/* How many devices the kernel says are ours (nodes we may query) */
static long count_own_devices(struct ublk_ctrl *ctrl, uint32_t host_uid,
			      struct uerr *err)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_dev_ref ref;
	cleanup_free uint32_t *ids = NULL;
	unsigned int nr, i;
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
		    info.owner_uid == host_uid)
			n++;
	}
	return n;
}

/* The directories the record and the CDI spec go to */
static int add_check_dirs(const struct add *c, struct uerr *err)
{
	char dir[PATH_MAX];
	int ret;

	ret = state_dir(dir, sizeof(dir), 1, err);
	if (ret == 0 && c->req.cdi)
		ret = cdi_check_dir(CDI_DIR, err);
	return ret;
}

/* A disk name is unique among the user's devices */
static int check_name_free(struct ublk_ctrl *ctrl, const char *name,
			   struct uerr *err)
{
	struct dev_view v;
	int ret;

	ret = named_find(ctrl, name, &v, err);
	if (ret == -ENOENT) {
		uerr_clear(err);
		return 0;
	}
	if (ret < 0)
		return ret;
	/*
	 * Its server died (a crash, a kill): the kernel cannot recover an
	 * unprivileged device, so the dead one goes and a new one takes the
	 * name.  This is what a supervisor's restart relies on.
	 */
	if (!strcmp(v.state, "dead")) {
		char node[32];

		ret = dev_remove(ctrl, v.info.dev_id, v.server_pid, false, err);
		if (ret < 0)
			return uerr_prefix(err, "removing dead disk %s", name);
		/* The next device may get the same id: old nodes gone first */
		snprintf(node, sizeof(node), "/dev/ublkc%u", v.info.dev_id);
		devnode_wait_gone(node, devnode_timeout());
		snprintf(node, sizeof(node), "/dev/ublkb%u", v.info.dev_id);
		devnode_wait_gone(node, devnode_timeout());
		return 0;
	}
	return uerr_set(err, EEXIST,
			"disk %s is already up as /dev/ublkb%u (run "
			"'ublk-user down %s' first)",
			name, v.info.dev_id, name);
}

/* What the kernel must offer and the policy allow before ADD_DEV */
static int add_preflight(struct add *c, struct ublk_ctrl *ctrl,
			 struct uerr *err)
{
	uint64_t features;
	long own;
	int ret;

	ret = ublk_ctrl_get_features(ctrl, &features, err);
	if (ret == 0 && !caps_have_sys_admin())
		ret = ublk_features_require(features, UBLK_F_UNPRIVILEGED_DEV,
					    err);
	if (ret == 0 && c->req.shmem_zc)
		ret = ublk_features_require(features, UBLK_F_SHMEM_ZC, err);
	/* An older kernel would drop the flag without a word. */
	if (ret == 0 && c->req.batch)
		ret = ublk_features_require(features, UBLK_F_BATCH_IO, err);
	if (ret == 0 && c->req.mlock)
		ret = check_memlock(&c->req, err);
	if (ret == 0 && c->req.name)
		ret = check_name_free(ctrl, c->req.name, err);
	if (ret < 0 || !c->policy_active)
		return ret;
	own = count_own_devices(ctrl, c->host_uid, err);
	if (own < 0)
		return own;
	return add_policy_check(c, own, err);
}

/* ADD_DEV, after the checks; the kernel picks the id unless -n */
static int add_kernel_device(struct add *c, struct uerr *err)
{
	struct ublk_ctrl ctrl cleanup_with(ublk_ctrl_close) = { .fd = -1 };
	struct ublksrv_ctrl_dev_info *info = &c->info;
	uuid_t u;
	int ret;

	ret = add_check_dirs(c, err);
	if (ret == 0)
		ret = ublk_ctrl_open(&ctrl, err);
	if (ret == 0)
		ret = add_preflight(c, &ctrl, err);
	if (ret < 0)
		return ret;
	record_new_identity(&c->rec);
	/* The hook chose it, so that it finds the device whatever happens. */
	if (c->req.container && uuid_parse(c->req.hookin.uuid, u) == 0) {
		memcpy(c->rec.uuid, c->req.hookin.uuid, sizeof(c->rec.uuid));
		memcpy(&c->rec.tag, u, sizeof(c->rec.tag));
	}
	info->nr_hw_queues = c->req.queues;
	info->queue_depth = c->req.depth;
	info->max_io_buf_bytes = ADD_IO_BUF_BYTES;
	info->dev_id = c->req.dev_id;
	info->flags = add_dev_flags(&c->req);
	info->ublksrv_flags = c->rec.tag;
	ret = ublk_ctrl_add_dev(&ctrl, info, err);
	if (ret == 0)
		c->unprivileged = info->flags & UBLK_F_UNPRIVILEGED_DEV;
	return ret;
}

/* The udev helper hands /dev/ublk{c,b}N to us (unprivileged) or root */
static int add_wait_node(const struct add *c, char kind, struct uerr *err)
{
	char node[64], cnode[64];

	snprintf(cnode, sizeof(cnode), "/dev/ublkc%u", c->info.dev_id);
	snprintf(node, sizeof(node), "/dev/ublk%c%u", kind, c->info.dev_id);
	return devnode_wait_handover(node, cnode,
				     c->unprivileged ? geteuid() : 0,
				     devnode_timeout(), err);
}

/* --- the record and the server -------------------------------------------- */

static int add_write_record(struct add *c, struct uerr *err)
{
	struct dev_record *rec = &c->rec;

	rec->dev_id = c->info.dev_id;
	snprintf(rec->target, sizeof(rec->target), "%s", c->req.target);
	/* What it is served from: a file, or an NBD server's URI */
	snprintf(rec->backing, sizeof(rec->backing), "%s",
		 target_backing(&c->tgt) ? target_backing(&c->tgt) :
		 c->req.topts.uri	 ? c->req.topts.uri :
					   "");
	rec->size = c->tgt.size;
	rec->offset = c->req.topts.offset;
	rec->partition = c->req.partition;
	rec->read_only = c->req.topts.read_only;
	rec->poll_us = c->req.poll_us;
	rec->nr_queues = c->info.nr_hw_queues;
	rec->queue_depth = c->info.queue_depth;
	if (c->req.cdi)
		snprintf(rec->cdi, sizeof(rec->cdi), "%s", c->req.cdi);
	if (c->req.name)
		snprintf(rec->name, sizeof(rec->name), "%s", c->req.name);
	return record_write(rec, err);
}

static int add_start_server(struct add *c, struct uerr *err)
{
	struct server_cfg cfg = { 0 };
	int ret;

	cfg.info = c->info;
	cfg.tgt = &c->tgt;
	cfg.rec = &c->rec;
	cfg.qopts.mlock = c->req.mlock;
	cfg.qopts.poll_us = c->req.poll_us;
	cfg.shmem_budget = shmem_budget(c);
	cfg.shmem_file_fd = c->shmem_fd;
	cfg.foreground = c->req.foreground;
	server_get_affinity(&cfg);
	ret = server_spawn(&cfg, &c->server_pid, err);
	server_free_affinity(&cfg);
	if (ret < 0)
		return uerr_prefix(err, "device %u", c->info.dev_id);
	c->log_fd = cfg.log_fd;
	/* The server owns the target now; our copies go. */
	target_close(&c->tgt);
	c->tgt_open = false;
	return 0;
}

static bool interrupted(void)
{
	sigset_t pending;

	sigpending(&pending);
	return sigismember(&pending, SIGINT) ||
	       sigismember(&pending, SIGTERM) || sigismember(&pending, SIGHUP);
}

/* The device as `list` shows it, and its CDI spec (--cdi) */
static int add_describe(struct add *c, struct uerr *err)
{
	struct ublk_ctrl ctrl cleanup_with(ublk_ctrl_close) = { .fd = -1 };
	int ret;

	if (interrupted())
		return uerr_set(err, EINTR, "interrupted");
	ret = ublk_ctrl_open(&ctrl, err);
	if (ret == 0)
		ret = dev_view_get(&ctrl, c->info.dev_id, &c->view, err);
	/* A spec left for an earlier device of this id is not ours. */
	if (ret == 0)
		dev_forget_cdi(c->view.info.dev_id);
	if (ret == 0 && c->req.cdi)
		ret = cdi_write(CDI_DIR, c->req.cdi, c->view.info.dev_id,
				c->view.rec.uuid, err);
	return ret;
}

/* --- undoing a device that failed ----------------------------------------- */

/* The udev helper deleted our device: its reason replaces err. */
static bool refused_by_helper(const struct add *c, struct uerr *err)
{
	struct denial d;

	if (denial_read(DENIAL_DIR, 0, c->info.dev_id, c->host_uid, c->rec.tag,
			&d) < 0)
		return false;
	uerr_set(err, EACCES,
		 "the udev helper deleted device %u, refused by the policy: "
		 "%s",
		 c->info.dev_id, d.reason);
	return true;
}

/*
 * The helper stopped and deleted the device itself: nothing to delete.
 * A server it stopped exits and removes its record; make sure of both.
 */
static void refused_cleanup(uint32_t dev_id, pid_t server_pid)
{
	dev_end_server(srvproc_open(server_pid, dev_id, geteuid()));
	record_remove(dev_id);
}

/*
 * Delete the device and end its server.  The server's log stays, and the
 * message says where, as it tells what went wrong.
 */
static void remove_failed(uint32_t dev_id, pid_t server_pid, struct uerr *why)
{
	struct ublk_ctrl ctrl cleanup_with(ublk_ctrl_close) = { .fd = -1 };
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
	if (state_path(log, sizeof(log), dev_id, "log", &err) == 0 &&
	    stat(log, &st) == 0 && st.st_size > 0) {
		n = strlen(why->msg);
		snprintf(why->msg + n, sizeof(why->msg) - n,
			 " (server log: %.200s)", log);
	}
}

/* After ADD_DEV: undo whatever exists; returns the error to report */
static int add_undo(struct add *c, int ret, struct uerr *err)
{
	if (c->unprivileged && refused_by_helper(c, err)) {
		refused_cleanup(c->info.dev_id, c->server_pid);
		return -EACCES;
	}
	remove_failed(c->info.dev_id, c->server_pid, err);
	return ret;
}

/* --- the whole of it ------------------------------------------------------ */

static int add_device(struct add *c, struct uerr *err)
{
	int ret;

	ret = add_kernel_device(c, err);
	if (ret < 0)
		return ret;
	/* From here on a failure must delete the device again. */
	ret = add_wait_node(c, 'c', err);
	if (ret == 0)
		ret = add_write_record(c, err);
	if (ret == 0)
		ret = add_start_server(c, err);
	if (ret == 0)
		ret = add_wait_node(c, 'b', err);
	if (ret == 0)
		ret = add_describe(c, err);
	if (ret == 0 && c->req.name)
		ret = named_link_set(c->req.name, c->info.dev_id, err);
	if (ret < 0)
		return add_undo(c, ret, err);
	return 0;
}

static void print_added(const struct dev_view *v, bool json)
{
	char sock[PATH_MAX];
	json_object *o;
	struct uerr err;

	if (json) {
		o = dev_view_json(v);
		printf("%s\n",
		       json_object_to_json_string_ext(
			       o, JSON_C_TO_STRING_PRETTY |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return;
	}
	printf("dev_id %u\nblock /dev/ublkb%u\nchar /dev/ublkc%u\n",
	       v->info.dev_id, v->info.dev_id, v->info.dev_id);
	if ((v->info.flags & UBLK_F_SHMEM_ZC) &&
	    state_path(sock, sizeof(sock), v->info.dev_id, "sock", &err) == 0)
		printf("shmem_socket %s\n", sock);
}

/* Hold off signals so a ^C cannot leave half a device behind. */
static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Everything after the command line */
static int add_run(struct add *c)
{
	struct uerr err;

	/* What targets that open per queue need to know */
	c->req.topts.nr_queues = c->req.queues;
	c->req.topts.max_io = ADD_IO_BUF_BYTES;
	uerr_clear(&err);
	if (add_become_user(c, &err) < 0 ||
	    add_nbd_endpoint(&c->req, &err) < 0 ||
	    add_policy_load(c, &err) < 0 || add_policy_check(c, -1, &err) < 0 ||
	    add_open_target(c, &err) < 0 || add_policy_check(c, -1, &err) < 0) {
		cli_error(&err);
		if (c->req.foreground)
			foreground_failed(&err);
		return EXIT_FAIL;
	}
	block_signals();
	if (add_device(c, &err) < 0) {
		cli_error(&err);
		if (c->req.foreground)
			foreground_failed(&err);
		state_tidy(); /* a fallback directory made for nothing */
		return EXIT_FAIL;
	}
	c->added = true;
	/* In the foreground: the journal says it, unless JSON is asked for */
	if (!c->req.foreground || c->req.json)
		print_added(&c->view, c->req.json);
	if (c->req.foreground) {
		struct fg_disk d = { .name = c->req.name,
				     .dev_id = c->info.dev_id,
				     .tag = c->rec.tag,
				     .server_pid = c->server_pid,
				     .log_fd = c->log_fd };

		fflush(stdout);
		return foreground_serve(&d);
	}
	return EXIT_OK;
}

int cmd_add(struct cli_args *a)
{
	struct add c cleanup_with(add_release) = { .shmem_fd = -1,
						   .log_fd = -1 };

	if (!add_parse(a, &c.req))
		return a->status;
	return add_run(&c);
}

int add_disk(const struct disk_file *d, bool json, bool foreground)
{
	struct add c cleanup_with(add_release) = { .shmem_fd = -1,
						   .log_fd = -1 };
	struct add_req *r = &c.req;

	r->target = d->target;
	r->topts.backing = d->file[0] ? d->file : NULL;
	r->topts.uri = d->uri[0] ? d->uri : NULL;
	r->topts.size = d->size;
	r->topts.read_only = d->read_only;
	r->queues = d->nr_queues ? d->nr_queues : ADD_DEFAULT_QUEUES;
	r->depth = d->queue_depth ? d->queue_depth : ADD_DEFAULT_DEPTH;
	r->dev_id = (uint32_t)-1;
	r->mlock = d->mlock;
	r->shmem_zc = d->shmem_zc;
	r->batch = d->batch;
	r->poll_us = d->poll_us;
	r->name = d->name;
	r->json = json;
	r->user = d->user[0] ? d->user : NULL; /* an administrator's disk */
	r->foreground = foreground;
	return add_run(&c);
}
