// SPDX-License-Identifier: MIT
/*
 * ublk-user resize: make a live disk larger or smaller.  The policy's
 * max_size is checked here (and again by the udev helper at the kernel's
 * change event); the server does the rest in the order that keeps every
 * I/O inside the backing (server/ctlsock.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/size.h"
#include "cli.h"
#include "host/caps.h"
#include "host/idmap.h"
#include "policy/policy.h"
#include "server/ctlsock.h"

#define RESIZE_TIMEOUT_MS 30000

static const char resize_usage[] =
	"Usage: ublk-user resize -n ID SIZE | NAME SIZE [--grow-file]\n"
	"\n"
	"Make your disk SIZE bytes (K/M/G/T suffixes) while it is in use\n"
	"(UBLK_F_UPDATE_SIZE, Linux >= 6.16).  A file system on it is not\n"
	"resized: grow it afterwards, shrink it before.  A loop disk grows\n"
	"up to its file's end; a mem disk up to 1T.\n"
	"\n"
	"  -n, --id ID      this device (else NAME, a named disk)\n"
	"  -g, --grow-file  loop: first make the backing file SIZE bytes\n"
	"                   long if it is shorter (sparse)\n"
	"  -h, --help       show this text\n";

static const struct option resize_longopts[] = {
	{ "id", required_argument, NULL, 'n' },
	{ "grow-file", no_argument, NULL, 'g' },
	{ 0 },
};

const struct cli_opts resize_opts = {
	.usage = resize_usage,
	.shortopts = "n:g",
	.longopts = resize_longopts,
};

/* max_size and the rest of the policy, for a disk of this size */
static int resize_policy(const struct dev_view *v, uint64_t size,
			 struct uerr *err)
{
	struct policy_answer ans;
	struct policy_who who = { 0 };
	struct policy_request req = { 0 };
	uint32_t uid, gid;
	int ret;

	if (caps_have_sys_admin())
		return 0; /* root's devices are not bound by it */
	ret = idmap_host_euid(&uid, err);
	if (ret == 0)
		ret = idmap_host_egid(&gid, err);
	if (ret < 0)
		return ret;
	who.uid = uid;
	who.gid = gid;
	ret = policy_ask(&ans, POLICY_DIR, idmap_host_root_here(), &who, err);
	if (ret == 0) {
		req.target = v->rec.target;
		req.size = size;
		ret = policy_check(&ans.lim, &ans.user, &req, err);
		if (ret < 0)
			uerr_prefix(err, "refused by the policy");
	}
	policy_answer_free(&ans);
	return ret;
}

/* --grow-file: the backing file, as long as the disk will be */
static int grow_file(const struct dev_view *v, uint64_t size, struct uerr *err)
{
	cleanup_close int fd = -1;
	struct stat st;

	if (strcmp(v->rec.target, "loop") || !v->rec.backing[0])
		return uerr_set(err, EINVAL,
				"--grow-file: device %u is not a loop disk",
				v->info.dev_id);
	if (v->rec.offset)
		return uerr_set(err, EINVAL,
				"--grow-file: device %u serves a part of %s",
				v->info.dev_id, v->rec.backing);
	fd = open(v->rec.backing, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0)
		return uerr_sys(err, errno, "--grow-file: %s", v->rec.backing);
	if (!S_ISREG(st.st_mode))
		return uerr_set(err, EINVAL,
				"--grow-file: %s is not a regular file",
				v->rec.backing);
	/* Past RLIMIT_FSIZE: EFBIG, said, rather than SIGXFSZ */
	signal(SIGXFSZ, SIG_IGN);
	if ((uint64_t)st.st_size < size && ftruncate(fd, size) < 0)
		return uerr_sys(err, errno, "--grow-file: growing %s",
				v->rec.backing);
	return 0;
}

static int resize_run(const char *name, uint32_t id, uint64_t size, bool grow,
		      struct uerr *err)
{
	struct ublk_ctrl ctrl cleanup_with(ublk_ctrl_close) = { .fd = -1 };
	cleanup_close int fd = -1;
	struct ctl_reply rep;
	char was[24], now[24];
	struct dev_view v;
	int ret;

	ret = ublk_ctrl_open(&ctrl, err);
	if (ret == 0)
		ret = devctl_require(&ctrl, UBLK_F_UPDATE_SIZE, err);
	if (ret < 0)
		return uerr_prefix(err, "resize");
	ret = devctl_find(&ctrl, name, id, &v, err);
	if (ret == 0)
		ret = resize_policy(&v, size, err);
	if (ret == 0 && grow)
		ret = grow_file(&v, size, err);
	if (ret == 0)
		ret = fd = devctl_connect(&v, err);
	if (ret >= 0)
		ret = ctl_call(fd, CTL_RESIZE, size, &rep, RESIZE_TIMEOUT_MS,
			       err);
	if (ret < 0)
		return uerr_prefix(err, "resizing device %u", v.info.dev_id);
	printf("/dev/ublkb%u: %s (was %s)\n", v.info.dev_id,
	       format_size(rep.size, now, sizeof(now)),
	       format_size(v.size, was, sizeof(was)));
	return 0;
}

int cmd_resize(struct cli_args *a)
{
	const char *name = NULL, *size_arg;
	unsigned long id = 0;
	bool have_id = false, grow = false;
	uint64_t size;
	struct uerr err;
	int c;

	while ((c = cli_next_opt(a)) > 0) {
		switch (c) {
		case 'n':
			if (parse_uint(optarg, "--id", 0, UINT32_MAX, &id,
				       &err))
				return cli_usage_error(a, "%s", err.msg);
			have_id = true;
			break;
		case 'g':
			grow = true;
			break;
		}
	}
	if (c == CLI_EXIT)
		return a->status;
	if (a->nargs != (have_id ? 1 : 2))
		return cli_usage_error(a, "give -n ID SIZE, or NAME SIZE");
	if (!have_id)
		name = a->args[0];
	size_arg = a->args[a->nargs - 1];
	if (parse_size(size_arg, "SIZE", &size, &err))
		return cli_usage_error(a, "%s", err.msg);
	uerr_clear(&err);
	if (resize_run(name, id, size, grow, &err) < 0) {
		cli_error(&err);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
