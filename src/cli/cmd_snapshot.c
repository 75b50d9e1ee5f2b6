// SPDX-License-Identifier: MIT
/*
 * ublk-user snapshot: a crash-consistent copy of a live loop disk's file,
 * by reflink.  The kernel's QUIESCE is not for unprivileged devices, so
 * the server holds new requests and finishes those in flight (PAUSE on
 * its control socket, server/ctlsock.h); here the file is flushed and
 * cloned, then the server lets the held requests go (RESUME).  Whatever
 * happens to us, the server resumes by itself when our connection closes
 * or after CTL_PAUSE_MAX_MS.  The snapshot is what a crash at that
 * instant would have left: every write the disk finished is in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/cleanup.h"
#include "base/size.h"
#include "cli.h"
#include "cli/reflink.h"
#include "server/ctlsock.h"

static const char snapshot_usage[] =
	"Usage: ublk-user snapshot -n ID FILE | NAME FILE\n"
	"\n"
	"Copy your loop disk's backing file to FILE, a new file, as it is at\n"
	"one instant while the disk stays in use: new I/O is held, I/O in\n"
	"flight finishes, the file is flushed and cloned by reflink, and the\n"
	"held I/O goes on (the pause is printed).  FILE must be on the same\n"
	"file system, one with reflinks (xfs, btrfs); elsewhere nothing is\n"
	"copied.  'add -t loop -f NEW --clone-of FILE' starts a disk from it.\n"
	"\n"
	"  -n, --id ID   this device (else NAME, a named disk)\n"
	"  -h, --help    show this text\n";

static const struct option snapshot_longopts[] = {
	{ "id", required_argument, NULL, 'n' },
	{ 0 },
};

const struct cli_opts snapshot_opts = {
	.usage = snapshot_usage,
	.shortopts = "n:",
	.longopts = snapshot_longopts,
};

struct snap {
	const char *file;
	struct dev_view v;
	int src, dst, ctl;
	struct stat st;
	uint64_t drain_us, pause_us, clone_us;
};

/* The disk's file and the new one, checked before anything is held */
static int snap_open(struct snap *s, struct uerr *err)
{
	const char *src = s->v.rec.backing;

	if (strcmp(s->v.rec.target, "loop") || !src[0])
		return uerr_set(err, EINVAL,
				"device %u is a %s disk: only a loop disk's "
				"file can be copied",
				s->v.info.dev_id, s->v.rec.target);
	s->src = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (s->src < 0 || fstat(s->src, &s->st) < 0)
		return uerr_sys(err, errno, "%s", src);
	if (!S_ISREG(s->st.st_mode))
		return uerr_set(err, EINVAL,
				"%s is not a regular file: no reflink", src);
	s->dst = reflink_create(s->file, s->st.st_mode & 0666, err);
	if (s->dst < 0)
		return s->dst;
	return reflink_check(s->dst, s->src, s->file, src, err);
}

/* Held: the server's file is ours (same inode), flushed, cloned. */
static int snap_copy(struct snap *s, const struct ctl_reply *paused,
		     struct uerr *err)
{
	uint64_t t0 = mono_us();
	int ret;

	if (paused->dev != (uint64_t)s->st.st_dev ||
	    paused->ino != (uint64_t)s->st.st_ino)
		return uerr_set(err, ESTALE,
				"%s is no longer the file device %u serves "
				"(renamed or replaced): nothing was copied",
				s->v.rec.backing, s->v.info.dev_id);
	if (fsync(s->src) < 0)
		return uerr_sys(err, errno, "flushing %s", s->v.rec.backing);
	ret = reflink_clone(s->dst, s->src, s->file, s->v.rec.backing, err);
	s->clone_us = mono_us() - t0;
	return ret;
}

static int snap_run(struct snap *s, struct uerr *err)
{
	struct ctl_reply rep;
	struct uerr cerr;
	int ret, copied;

	ret = snap_open(s, err);
	if (ret < 0)
		return ret;
	ret = s->ctl = devctl_connect(&s->v, err);
	if (ret < 0)
		return ret;
	ret = ctl_call(s->ctl, CTL_PAUSE, 0, &rep, CTL_DRAIN_MAX_MS + 5000,
		       err);
	if (ret < 0)
		return uerr_prefix(err, "pausing device %u", s->v.info.dev_id);
	s->drain_us = rep.usec;
	uerr_clear(&cerr);
	copied = snap_copy(s, &rep, &cerr);
	ret = ctl_call(s->ctl, CTL_RESUME, 0, &rep, CTL_PAUSE_MAX_MS + 5000,
		       err);
	if (copied < 0) {
		*err = cerr;
		return copied;
	}
	if (ret < 0)
		return uerr_prefix(err, "device %u", s->v.info.dev_id);
	s->pause_us = rep.usec;
	/* Outside the pause: the snapshot itself on stable storage */
	if (fsync(s->dst) < 0)
		return uerr_sys(err, errno, "flushing %s", s->file);
	return 0;
}

static void snap_close(struct snap *s)
{
	if (s->src >= 0)
		close(s->src);
	if (s->dst >= 0)
		close(s->dst);
	if (s->ctl >= 0)
		close(s->ctl);
}

int cmd_snapshot(struct cli_args *a)
{
	struct ublk_ctrl ctrl cleanup_with(ublk_ctrl_close) = { .fd = -1 };
	struct snap s cleanup_with(
		snap_close) = { .src = -1, .dst = -1, .ctl = -1 };
	const char *name = NULL;
	unsigned long id = 0;
	bool have_id = false;
	struct uerr err;
	int c, ret;

	while ((c = cli_next_opt(a)) > 0) {
		if (c == 'n') {
			if (parse_uint(optarg, "--id", 0, UINT32_MAX, &id,
				       &err))
				return cli_usage_error(a, "%s", err.msg);
			have_id = true;
		}
	}
	if (c == CLI_EXIT)
		return a->status;
	if (a->nargs != (have_id ? 1 : 2))
		return cli_usage_error(a, "give -n ID FILE, or NAME FILE");
	if (!have_id)
		name = a->args[0];
	s.file = a->args[a->nargs - 1];
	uerr_clear(&err);
	ret = ublk_ctrl_open(&ctrl, &err);
	if (ret == 0)
		ret = devctl_find(&ctrl, name, id, &s.v, &err);
	if (ret == 0)
		ret = snap_run(&s, &err);
	if (ret < 0) {
		/* A file we made and could not fill goes: nothing is left. */
		if (s.dst >= 0)
			unlink(s.file);
		cli_error(&err);
		return EXIT_FAIL;
	}
	printf("%s: a snapshot of /dev/ublkb%u (%s); I/O held for %llu.%03llu "
	       "ms (drain %llu.%03llu ms, flush and clone %llu.%03llu ms)\n",
	       s.file, s.v.info.dev_id, s.v.rec.backing,
	       (unsigned long long)s.pause_us / 1000,
	       (unsigned long long)s.pause_us % 1000,
	       (unsigned long long)s.drain_us / 1000,
	       (unsigned long long)s.drain_us % 1000,
	       (unsigned long long)s.clone_us / 1000,
	       (unsigned long long)s.clone_us % 1000);
	return EXIT_OK;
}
