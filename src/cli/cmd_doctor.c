// SPDX-License-Identifier: MIT
/*
 * ublk-user doctor: is this system ready for unprivileged ublk devices,
 * and if not, what to do.  Each check is one finding with a status (ok,
 * info, warn, fail, skip), a message and, unless ok, the fix.  As a user
 * it also creates a test device and waits for the udev helper to hand it
 * over (or refuse it), so "installed" is also "working".
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "base/cleanup.h"
#include "base/dirids.h"
#include "disks/diskfile.h"
#include "host/caps.h"
#include "host/denial.h"
#include "kernel/devnode.h"
#include "kernel/features.h"
#include "nodev_probe.h"
#include "cli/units.h"
#include "policy/policy.h"
#include "base/size.h"

#ifndef UBLK_USER_UDEVRULESDIR
#define UBLK_USER_UDEVRULESDIR "/usr/lib/udev/rules.d"
#endif
#define RULE_NAME "70-ublk-user.rules"
#define MAX_FINDINGS 32

static const char doctor_usage[] =
	"Usage: ublk-user doctor [--json]\n"
	"\n"
	"Check the kernel, the ublk driver, /dev/ublk-control, io_uring, the\n"
	"udev rule and its helper (as a user: with a test device), the\n"
	"policy, locked memory, your disk files and systemd units (root: the\n"
	"system disks), and known kernel weaknesses;\n"
	"say how to fix what is wrong.  Exit status 1 when a check failed.\n"
	"\n"
	"      --json    print a JSON object\n"
	"  -h, --help    show this text\n";

const struct cli_opts doctor_opts = {
	.usage = doctor_usage,
	.longopts = cli_json_longopts,
};

enum status { ST_OK, ST_INFO, ST_WARN, ST_FAIL, ST_SKIP };

static const char *const status_names[] = { "ok", "info", "warn", "fail",
					    "skip" };

struct finding {
	const char *name;
	enum status st;
	char msg[1024];
	char fix[512];
};

struct doctor {
	struct finding f[MAX_FINDINGS];
	unsigned int n;
	bool root;
	bool control_ok;  /* we may open /dev/ublk-control */
	bool features_ok; /* and GET_FEATURES answered */
	uint64_t features;
	bool rule_ok;
	bool rule_no_scheduler; /* the rule sets ublk disks' scheduler none */
	bool udevd_ok;
	char rule[PATH_MAX];
	char helper[PATH_MAX];
	char control_group[64];	  /* GROUP= of the rule's ublk-control line */
	char control_mode[16];	  /* MODE= of it */
	struct policy_answer ans; /* lim allows nothing if not ok */
	enum nodev_verdict nodev; /* tried with the hand-over's device */
	char nodev_why[256];
};

static struct finding *add(struct doctor *d, const char *name, enum status st,
			   const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static struct finding *add(struct doctor *d, const char *name, enum status st,
			   const char *fix, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	if (d->n >= MAX_FINDINGS)
		return &d->f[MAX_FINDINGS - 1];
	f = &d->f[d->n++];
	f->name = name;
	f->st = st;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	snprintf(f->fix, sizeof(f->fix), "%s", fix ? fix : "");
	return f;
}

/* The first line of a small file, without the newline; false if none */
static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static long read_long(const char *path, long fallback)
{
	char buf[64], *end;
	long v;

	if (!read_line(path, buf, sizeof(buf)))
		return fallback;
	v = strtol(buf, &end, 10);
	return end == buf ? fallback : v;
}

/* --- kernel --------------------------------------------------------------- */

static void check_kernel(struct doctor *d)
{
	unsigned int major = 0, minor = 0;
	struct utsname uts;

	if (uname(&uts) < 0 ||
	    sscanf(uts.release, "%u.%u", &major, &minor) != 2) {
		add(d, "kernel", ST_WARN, NULL,
		    "cannot tell the kernel release");
		return;
	}
	if (major < 6 || (major == 6 && minor < 5))
		add(d, "kernel", ST_FAIL,
		    "boot Linux 6.5 or later (7.1 or later for "
		    "UBLK_F_SHMEM_ZC)",
		    "Linux %s has no unprivileged ublk devices "
		    "(UBLK_F_UNPRIVILEGED_DEV needs 6.5)",
		    uts.release);
	else
		add(d, "kernel", ST_OK, NULL, "Linux %s", uts.release);
}

static void check_module(struct doctor *d)
{
	struct stat st;
	long max;

	if (stat("/sys/module/ublk_drv", &st) == 0) {
		max = read_long("/sys/module/ublk_drv/parameters/ublks_max",
				-1);
		if (max >= 0)
			add(d, "module", ST_OK, NULL,
			    "ublk_drv is loaded (ublks_max=%ld)", max);
		else
			add(d, "module", ST_OK, NULL, "ublk_drv is loaded");
	} else if (stat(UBLK_CONTROL_PATH, &st) == 0) {
		add(d, "module", ST_OK, NULL, "ublk is built into the kernel");
	} else {
		add(d, "module", ST_FAIL,
		    "modprobe ublk_drv, and load it at boot: echo ublk_drv > "
		    "/etc/modules-load.d/ublk.conf",
		    "ublk_drv is not loaded");
	}
}

static void check_control(struct doctor *d)
{
	char group[64], fix[256];
	struct passwd *pw = getpwuid(geteuid());
	struct stat st;

	if (stat(UBLK_CONTROL_PATH, &st) < 0) {
		add(d, "control", ST_FAIL, "modprobe ublk_drv",
		    "%s does not exist", UBLK_CONTROL_PATH);
		return;
	}
	policy_group_name(st.st_gid, group, sizeof(group));
	if (access(UBLK_CONTROL_PATH, R_OK | W_OK) == 0) {
		d->control_ok = true;
		add(d, "control", ST_OK, NULL,
		    "you may open %s (mode %04o, group %s)", UBLK_CONTROL_PATH,
		    (unsigned int)(st.st_mode & 07777), group);
		return;
	}
	snprintf(fix, sizeof(fix),
		 "an administrator adds you to group %s (usermod -aG %s "
		 "%s, then log in again), or sets MODE=\"0666\" in the udev "
		 "rule",
		 group, group, pw ? pw->pw_name : "USER");
	add(d, "control", ST_FAIL, fix,
	    "you may not open %s (mode %04o, group %s)", UBLK_CONTROL_PATH,
	    (unsigned int)(st.st_mode & 07777), group);
}

static bool in_group(gid_t gid)
{
	gid_t groups[256];
	int n, i;

	if (getegid() == gid)
		return true;
	n = getgroups(256, groups);
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static void check_io_uring(struct doctor *d)
{
	long disabled = read_long("/proc/sys/kernel/io_uring_disabled", 0);
	long group = read_long("/proc/sys/kernel/io_uring_group", -1);
	static const char fix[] = "sysctl -w kernel.io_uring_disabled=0 (and "
				  "in "
				  "/etc/sysctl.d/ to keep it), or with 1 put "
				  "the users in the "
				  "group of kernel.io_uring_group";

	if (disabled == 0)
		add(d, "io_uring", ST_OK, NULL,
		    "io_uring is enabled (kernel.io_uring_disabled=0)");
	else if (disabled == 1 && (d->root || (group >= 0 && in_group(group))))
		add(d, "io_uring", ST_OK, NULL,
		    "kernel.io_uring_disabled=1, and you may use io_uring");
	else if (disabled == 1)
		add(d, "io_uring", ST_FAIL, fix,
		    "kernel.io_uring_disabled=1: only root and group %ld may "
		    "use io_uring",
		    group);
	else
		add(d, "io_uring", ST_FAIL, fix,
		    "kernel.io_uring_disabled=%ld: io_uring is off for "
		    "everyone",
		    disabled);
}

static void check_features(struct doctor *d)
{
	char names[1024] = "";
	struct ublk_ctrl ctrl;
	struct uerr err;
	size_t used = 0;
	unsigned int i;
	int ret;

	if (!d->control_ok) {
		add(d, "features", ST_SKIP, NULL,
		    "cannot ask the driver: %s is out of reach",
		    UBLK_CONTROL_PATH);
		return;
	}
	uerr_clear(&err);
	ret = ublk_ctrl_open(&ctrl, &err);
	if (ret == 0)
		ret = ublk_ctrl_get_features(&ctrl, &d->features, &err);
	ublk_ctrl_close(&ctrl);
	if (ret < 0) {
		add(d, "features", ST_FAIL,
		    "see the io_uring and kernel findings", "%s", err.msg);
		return;
	}
	for (i = 0; i < ublk_nr_features && used < sizeof(names); i++)
		if (d->features & ublk_features[i].flag)
			used += snprintf(names + used, sizeof(names) - used,
					 "%s%s", used ? " " : "",
					 ublk_features[i].name + 7);
	if (!(d->features & UBLK_F_UNPRIVILEGED_DEV)) {
		add(d, "features", ST_FAIL, "boot Linux 6.5 or later",
		    "the driver has no UBLK_F_UNPRIVILEGED_DEV (0x%llx: %s)",
		    (unsigned long long)d->features, names);
		return;
	}
	d->features_ok = true;
	add(d, "features", ST_OK, NULL, "0x%llx: %s%s",
	    (unsigned long long)d->features, names,
	    d->features & UBLK_F_SHMEM_ZC ? "" :
					    " (no SHMEM_ZC: Linux >= 7.1)");
}

/* --- udev ----------------------------------------------------------------- */

/* value of KEY="value" in line, into out */
static bool rule_value(const char *line, const char *key, char *out, size_t len)
{
	const char *p = strstr(line, key), *end;

	if (!p)
		return false;
	p += strlen(key);
	end = strchr(p, '"');
	if (!end || (size_t)(end - p) >= len)
		return false;
	memcpy(out, p, end - p);
	out[end - p] = '\0';
	return true;
}

/* Read the rule: its helper, its ublk-control line, its scheduler line */
static void parse_rule(struct doctor *d, FILE *f)
{
	static const char no_scheduler[] = "ATTR{queue/scheduler}=\"none\"";
	char line[1024], run[PATH_MAX + 16];

	while (fgets(line, sizeof(line), f)) {
		if (line[strspn(line, " \t")] == '#')
			continue;
		if (strstr(line, "KERNEL==\"ublk-control\"")) {
			rule_value(line, "GROUP=\"", d->control_group,
				   sizeof(d->control_group));
			rule_value(line, "MODE=\"", d->control_mode,
				   sizeof(d->control_mode));
		}
		if (strstr(line, "KERNEL==\"ublkb") &&
		    strstr(line, no_scheduler))
			d->rule_no_scheduler = true;
		if (!d->helper[0] &&
		    rule_value(line, "RUN+=\"", run, sizeof(run)) &&
		    strstr(run, "ublk-user-udev")) {
			run[strcspn(run, " ")] = '\0';
			if (strlen(run) < sizeof(d->helper))
				memcpy(d->helper, run, strlen(run) + 1);
		}
	}
}

static void check_rule(struct doctor *d)
{
	static const char *const dirs[] = {
		"/etc/udev/rules.d",	"/run/udev/rules.d",
		UBLK_USER_UDEVRULESDIR, "/usr/lib/udev/rules.d",
		"/lib/udev/rules.d",
	};
	char fix[512];
	struct stat st;
	unsigned int i;
	FILE *f;

	snprintf(fix, sizeof(fix),
		 "install it (make install, as root) into %s, then "
		 "udevadm control --reload",
		 UBLK_USER_UDEVRULESDIR);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(d->rule, sizeof(d->rule), "%s/%s", dirs[i], RULE_NAME);
		if (lstat(d->rule, &st) == 0)
			break;
	}
	if (i == sizeof(dirs) / sizeof(dirs[0])) {
		d->rule[0] = '\0';
		add(d, "udev-rule", ST_FAIL, fix,
		    "no %s in /etc/udev/rules.d, /run/udev/rules.d or %s: "
		    "new devices are never handed to their owners",
		    RULE_NAME, UBLK_USER_UDEVRULESDIR);
		return;
	}
	if (S_ISLNK(st.st_mode) && stat(d->rule, &st) == 0 &&
	    S_ISCHR(st.st_mode)) {
		add(d, "udev-rule", ST_FAIL,
		    "remove the link to /dev/null that masks it",
		    "%s is masked (a link to /dev/null)", d->rule);
		return;
	}
	f = fopen(d->rule, "re");
	if (!f) {
		add(d, "udev-rule", ST_FAIL, fix, "cannot read %s: %s", d->rule,
		    strerror(errno));
		return;
	}
	parse_rule(d, f);
	fclose(f);
	if (!d->helper[0]) {
		add(d, "udev-rule", ST_FAIL, fix,
		    "%s does not run ublk-user-udev", d->rule);
		return;
	}
	d->rule_ok = true;
	add(d, "udev-rule", ST_OK, NULL, "%s runs %s", d->rule, d->helper);
}

/*
 * A rule file copied to /etc before the scheduler line existed leaves
 * one-queue disks on mq-deadline, which sends every request through a
 * kblockd worker first: slower, not wrong, so a warning.
 */
static void check_io_scheduler(struct doctor *d)
{
	if (!d->rule_ok) {
		add(d, "io-scheduler", ST_SKIP, NULL, "no udev rule to set it");
		return;
	}
	if (d->rule_no_scheduler) {
		add(d, "io-scheduler", ST_OK, NULL,
		    "%s leaves ublk disks without an I/O scheduler", d->rule);
		return;
	}
	add(d, "io-scheduler", ST_WARN,
	    "add the line ACTION==\"add\", SUBSYSTEM==\"block\", "
	    "ENV{DEVTYPE}==\"disk\", KERNEL==\"ublkb[0-9]*\", "
	    "ATTR{queue/scheduler}=\"none\" of the installed rule to it, "
	    "then udevadm control --reload",
	    "%s does not set ublk disks' I/O scheduler: the kernel gives a "
	    "disk with one queue mq-deadline, which hands every request to "
	    "a kernel worker before it reaches the server",
	    d->rule);
}

static void check_helper(struct doctor *d)
{
	static const char fix[] = "reinstall ublk-user (make install, as "
				  "root): the helper "
				  "must be an executable owned by root that "
				  "only root may "
				  "change";
	struct stat st;

	if (!d->rule_ok) {
		add(d, "helper", ST_SKIP, NULL,
		    "no udev rule names the helper");
		return;
	}
	if (stat(d->helper, &st) < 0) {
		add(d, "helper", ST_FAIL, fix, "%s: %s", d->helper,
		    strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR)) {
		add(d, "helper", ST_FAIL, fix, "%s is not an executable file",
		    d->helper);
		return;
	}
	if (st.st_uid != 0 || (st.st_mode & 022)) {
		add(d, "helper", ST_FAIL, fix,
		    "%s is owned by uid %u with mode %04o: whoever may change "
		    "it runs code as root from udev",
		    d->helper, (unsigned int)st.st_uid,
		    (unsigned int)(st.st_mode & 07777));
		return;
	}
	add(d, "helper", ST_OK, NULL, "%s is installed", d->helper);
}

static void check_udevd(struct doctor *d)
{
	struct stat st;

	if (stat("/run/udev/control", &st) == 0) {
		d->udevd_ok = true;
		add(d, "udevd", ST_OK, NULL, "systemd-udevd is running");
		return;
	}
	add(d, "udevd", ST_FAIL,
	    "start systemd-udevd (systemctl start "
	    "systemd-udevd)",
	    "systemd-udevd is not running (no /run/udev/control)");
}

/* Did udev apply the rule's GROUP and MODE to /dev/ublk-control? */
static void check_control_rule(struct doctor *d)
{
	char group[64];
	struct group *gr;
	struct stat st;
	unsigned long mode;
	bool ok = true;

	if (!d->rule_ok || !d->control_group[0] ||
	    stat(UBLK_CONTROL_PATH, &st) < 0)
		return;
	gr = getgrnam(d->control_group);
	if (!gr) {
		add(d, "control-rule", ST_FAIL,
		    "create the group: groupadd --system ublk",
		    "the rule gives %s to group %s, which does not exist",
		    UBLK_CONTROL_PATH, d->control_group);
		return;
	}
	if (st.st_gid != gr->gr_gid)
		ok = false;
	mode = strtoul(d->control_mode, NULL, 8);
	if (d->control_mode[0] && (st.st_mode & 07777) != mode)
		ok = false;
	if (ok)
		add(d, "control-rule", ST_OK, NULL,
		    "udev gave %s to group %s as the rule says",
		    UBLK_CONTROL_PATH, d->control_group);
	else
		add(d, "control-rule", ST_WARN,
		    "udevadm control --reload && udevadm trigger "
		    "--action=add /dev/ublk-control",
		    "%s is group %s mode %04o, the rule says group %s mode "
		    "%s: udev has not applied it",
		    UBLK_CONTROL_PATH,
		    policy_group_name(st.st_gid, group, sizeof(group)),
		    (unsigned int)(st.st_mode & 07777), d->control_group,
		    d->control_mode[0] ? d->control_mode : "(any)");
}

/* Remove a probe device: STOP_DEV and DEL_DEV (nothing serves it). */
static void probe_remove(uint32_t id)
{
	struct ublk_dev_ref ref;
	struct ublk_ctrl ctrl;
	struct uerr err;

	if (ublk_ctrl_open(&ctrl, &err) < 0)
		return;
	ublk_dev_ref_init(&ref, id, true);
	if (ublk_ctrl_stop_dev(&ctrl, &ref, &err) == 0)
		ublk_ctrl_del_dev(&ctrl, &ref, 10000, &err);
	ublk_ctrl_close(&ctrl);
}

/* A device of our own, to see the helper hand it over or refuse it. */
static void check_handover(struct doctor *d)
{
	struct ublksrv_ctrl_dev_info info = { 0 };
	unsigned int timeout = devnode_timeout();
	struct ublk_ctrl ctrl;
	struct denial denial;
	char node[64], fix[256];
	struct uerr err;
	uint64_t tag;
	int ret;

	if (d->root) {
		add(d, "handover", ST_SKIP, NULL,
		    "root's devices are privileged and the helper leaves "
		    "them alone: run 'ublk-user doctor' as a user to test "
		    "the hand-over");
		return;
	}
	if (!d->features_ok || !d->rule_ok || !d->udevd_ok) {
		add(d, "handover", ST_SKIP, NULL,
		    "not tried: see the findings above");
		return;
	}
	if (getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
		tag = (uint64_t)getpid() << 32 | (uint64_t)time(NULL);
	info.nr_hw_queues = 1;
	info.queue_depth = 1;
	info.max_io_buf_bytes = 64 << 10;
	info.dev_id = (uint32_t)-1;
	info.flags = UBLK_F_UNPRIVILEGED_DEV | UBLK_F_CMD_IOCTL_ENCODE;
	info.ublksrv_flags = tag;
	uerr_clear(&err);
	ret = ublk_ctrl_open(&ctrl, &err);
	if (ret == 0)
		ret = ublk_ctrl_add_dev(&ctrl, &info, &err);
	ublk_ctrl_close(&ctrl);
	if (ret < 0) {
		add(d, "handover", ST_FAIL, NULL,
		    "cannot create a test device: %s", err.msg);
		return;
	}
	snprintf(node, sizeof(node), "/dev/ublkc%u", info.dev_id);
	ret = devnode_wait_handover(node, node, geteuid(), timeout, &err);
	if (ret == 0) {
		d->nodev = nodev_probe(info.dev_id, d->nodev_why,
				       sizeof(d->nodev_why));
		probe_remove(info.dev_id);
		add(d, "handover", ST_OK, NULL,
		    "the udev helper handed test device %u to you (deleted "
		    "again)",
		    info.dev_id);
		return;
	}
	if (ret == -ENODEV && denial_read(DENIAL_DIR, 0, info.dev_id, geteuid(),
					  tag, &denial) == 0) {
		add(d, "handover", ST_WARN,
		    "this is the policy at work: see 'ublk-user policy show'",
		    "the udev helper works, and refused a test device: %s",
		    denial.reason);
		return;
	}
	if (ret == -ENODEV) {
		add(d, "handover", ST_FAIL,
		    "look for ublk-user-udev in the system log (journalctl "
		    "-t ublk-user-udev)",
		    "test device %u was deleted before it was handed to you, "
		    "with no reason recorded",
		    info.dev_id);
		return;
	}
	snprintf(fix, sizeof(fix),
		 "look for ublk-user-udev in the system log (journalctl -t "
		 "ublk-user-udev); an administrator removes the test device "
		 "with 'ublk-user del -n %u'",
		 info.dev_id);
	add(d, "handover", ST_FAIL, fix,
	    "test device %u was not handed to you within %u s", info.dev_id,
	    timeout);
}

/* --- policy and memory ---------------------------------------------------- */

static void check_policy(struct doctor *d)
{
	struct policy_who who = { .uid = geteuid(), .gid = getegid() };
	char rule[POLICY_VALUE_MAX + PATH_MAX + 128], files[64];
	struct uerr err;

	if (policy_ask(&d->ans, POLICY_DIR, 0, &who, &err) < 0) {
		add(d, "policy", ST_FAIL,
		    d->ans.have_user ? "run 'ublk-user policy check' and fix "
				       "what it "
				       "names" :
				       "check the user database (getent "
				       "passwd, "
				       "getent group)",
		    "%s", err.msg);
		return;
	}
	if (d->ans.policy.nr_files)
		snprintf(files, sizeof(files), "valid (%u file%s)",
			 d->ans.policy.nr_files,
			 d->ans.policy.nr_files == 1 ? "" : "s");
	else
		snprintf(files, sizeof(files),
			 "no policy files: the built-in default");
	if (d->root) {
		add(d, "policy", ST_OK, NULL, "%s; it binds users, not root",
		    files);
		return;
	}
	if (!d->ans.lim.allow) {
		add(d, "policy", ST_WARN,
		    "an administrator grants it in " POLICY_DIR "/policy.d",
		    "valid, and you may not create devices: %s",
		    policy_rule_str(&d->ans.lim, POLICY_ALLOW, rule,
				    sizeof(rule)));
		return;
	}
	add(d, "policy", ST_OK, NULL, "%s; for you: %s", files,
	    policy_rule_str(&d->ans.lim, POLICY_MAX_DEVICES, rule,
			    sizeof(rule)));
}

typedef char disk_entry[NAME_MAX + 1];

static int pick_disk(const char *name, void *elem, void *ctx, struct uerr *err)
{
	size_t n = strlen(name), sl = strlen(DISK_SUFFIX);

	(void)ctx;
	(void)err;
	if (n <= sl || strcmp(name + n - sl, DISK_SUFFIX))
		return 0;
	snprintf(elem, sizeof(disk_entry), "%.*s", (int)(n - sl), name);
	return 1;
}

static int cmp_disk(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The caller's disk files: each must read as `up` would read it */
static void check_disks(struct doctor *d)
{
	cleanup_free disk_entry *names = NULL;
	char dir[PATH_MAX];
	struct disk_file df;
	unsigned int nr = 0, i;
	struct uerr err;
	int ret;

	if (d->root)
		return;
	if (disk_user_dir(dir, sizeof(dir), &err) < 0) {
		add(d, "disks", ST_SKIP, NULL, "%s", err.msg);
		return;
	}
	ret = dir_collect(dir, sizeof(disk_entry), pick_disk, NULL, cmp_disk,
			  (void **)&names, &nr, &err);
	if (ret == -ENOENT || (ret == 0 && !nr)) {
		add(d, "disks", ST_OK, NULL, "no disk files in %s", dir);
		return;
	}
	if (ret < 0) {
		add(d, "disks", ST_FAIL,
		    "make it a directory of yours, mode 0755", "%s", err.msg);
		return;
	}
	for (i = 0; i < nr; i++) {
		if (disk_load(&df, dir, names[i], geteuid(), false, &err) < 0) {
			add(d, "disks", ST_FAIL,
			    "correct the file (see ublk-user.disk(5)) or "
			    "remove "
			    "it",
			    "%s", err.msg);
			return;
		}
	}
	add(d, "disks", ST_OK, NULL, "%u disk file%s in %s read well", nr,
	    nr == 1 ? "" : "s", dir);
}

/* systemd's units for disk files: the user's, or root's system disks */
static void check_units(struct doctor *d)
{
	static const enum status st[] = {
		[UNITS_OK] = ST_OK, [UNITS_WARN] = ST_WARN, [UNITS_FAIL] = ST_FAIL
	};
	struct units_finding f;

	if (d->root)
		units_check_system(&f);
	else
		units_check_user(&f);
	add(d, "units", st[f.st], f.fix, "%s", f.msg);
}

static void check_memlock(struct doctor *d)
{
	char cur[24], max[24], lock[24];
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0) {
		add(d, "memlock", ST_WARN, NULL, "getrlimit: %s",
		    strerror(errno));
		return;
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		snprintf(cur, sizeof(cur), "unlimited");
	else
		format_size(rl.rlim_cur, cur, sizeof(cur));
	if (rl.rlim_max == RLIM_INFINITY)
		snprintf(max, sizeof(max), "unlimited");
	else
		format_size(rl.rlim_max, max, sizeof(max));
	if (d->ans.lim.max_locked == POLICY_UNLIMITED)
		snprintf(lock, sizeof(lock), "unlimited");
	else
		format_size(d->ans.lim.max_locked, lock, sizeof(lock));

	if (caps_have_ipc_lock() || d->root) {
		add(d, "memlock", ST_OK, NULL,
		    "ublk-user holds CAP_IPC_LOCK: it locks I/O memory within "
		    "the policy (mlock=%s, max_locked=%s per device)",
		    d->ans.lim.mlock ? "yes" : "no", lock);
		return;
	}
	if (d->ans.lim.mlock && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < d->ans.lim.max_locked) {
		add(d, "memlock", ST_WARN,
		    "install ublk-user with CAP_IPC_LOCK (make install "
		    "SETCAP=1), or raise memlock in /etc/security/limits.conf",
		    "no CAP_IPC_LOCK, and RLIMIT_MEMLOCK (%s, hard %s) is "
		    "below the policy's max_locked=%s: add --mlock is "
		    "limited to %s",
		    cur, max, lock, cur);
		return;
	}
	add(d, "memlock", ST_INFO, NULL,
	    "no CAP_IPC_LOCK: locked memory is bounded by RLIMIT_MEMLOCK (%s, "
	    "hard %s); the policy says mlock=%s",
	    cur, max, d->ans.lim.mlock ? "yes" : "no");
}

/* --- known kernel weaknesses (SECURITY.md) -------------------------------- */

static bool setuid_root(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_uid == 0 && (st.st_mode & S_ISUID);
}

static void check_nodev(struct doctor *d)
{
	static const char *const fusermounts[] = {
		"/usr/bin/fusermount3",
		"/usr/bin/fusermount",
		"/bin/fusermount3",
		"/bin/fusermount",
	};
	const char *suid = NULL;
	bool fuse, userns;
	struct stat st;
	unsigned int i;

	fuse = stat("/dev/fuse", &st) == 0 && (st.st_mode & 0006) == 0006;
	for (i = 0; i < sizeof(fusermounts) / sizeof(fusermounts[0]); i++)
		if (!suid && setuid_root(fusermounts[i]))
			suid = fusermounts[i];
	userns = read_long("/proc/sys/user/max_user_namespaces", 1) > 0 &&
		 read_long("/proc/sys/kernel/unprivileged_userns_clone", 1) > 0;
	if (d->nodev == NODEV_REFUSED) {
		add(d, "weakness-nodev", ST_OK, NULL,
		    "the kernel refuses device nodes on nodev mounts (%s), so "
		    "nodes forged on FUSE file systems do not pass its check",
		    d->nodev_why);
		return;
	}
	if (fuse && (suid || userns)) {
		add(d, "weakness-nodev", ST_WARN,
		    "if the users of ublk must not reach each other's "
		    "devices: chmod u-s the fusermount programs and disable "
		    "unprivileged user namespaces (sysctl -w "
		    "user.max_user_namespaces=0), or load a ublk_drv that "
		    "refuses such nodes; see SECURITY.md",
		    "users can mount FUSE file systems (%s%s%s), and the "
		    "kernel's check of a device's node path does not reject "
		    "nodes on nodev mounts (%s%s): a user could forge the node "
		    "of another user's device and control it",
		    suid ? suid : "", suid && userns ? ", " : "",
		    userns ? "user namespaces" : "",
		    d->nodev == NODEV_ACCEPTED ? "" : "not tested: ",
		    d->nodev_why);
		return;
	}
	add(d, "weakness-nodev", ST_OK, NULL,
	    "users cannot mount FUSE file systems, so they cannot forge "
	    "device nodes on nodev mounts (%s%s)",
	    d->nodev == NODEV_ACCEPTED ? "which the kernel accepts: " :
					 "not tested: ",
	    d->nodev_why);
}

static void check_regbuf(struct doctor *d)
{
	char where[PATH_MAX + 64] = "";
	unsigned int i, n = 0;

	if (!(d->features & UBLK_F_SHMEM_ZC) && d->features_ok) {
		add(d, "weakness-regbuf", ST_OK, NULL,
		    "the kernel has no UBLK_F_SHMEM_ZC (REG_BUF)");
		return;
	}
	for (i = 0; i < d->ans.policy.nr_sections; i++) {
		const struct policy_section *s = &d->ans.policy.sections[i];
		const struct policy_setting *z = &s->set[POLICY_SHMEM_ZC];

		if (!z->line || !z->num)
			continue;
		if (!n++)
			snprintf(where, sizeof(where), "%s:%u",
				 d->ans.policy.files[s->file], z->line);
	}
	if (n)
		add(d, "weakness-regbuf", ST_WARN,
		    "grant shmem_zc only to trusted users, and keep max_shmem "
		    "small; see SECURITY.md",
		    "shmem_zc=yes is granted (%s%s): the kernel does not "
		    "charge REG_BUF pins to RLIMIT_MEMLOCK, only max_shmem "
		    "per device bounds them",
		    where, n > 1 ? " and more" : "");
	else
		add(d, "weakness-regbuf", ST_OK, NULL,
		    "shmem_zc is not granted to anyone, so no user can pin "
		    "memory with REG_BUF");
}

static void check_ublks_max(struct doctor *d)
{
	long max = read_long("/sys/module/ublk_drv/parameters/ublks_max", -1);
	char rule[POLICY_VALUE_MAX + PATH_MAX + 128];

	if (max < 0) {
		add(d, "weakness-ublks-max", ST_SKIP, NULL,
		    "ublk_drv's ublks_max is not visible");
		return;
	}
	policy_rule_str(&d->ans.lim, POLICY_MAX_DEVICES, rule, sizeof(rule));
	if (d->ans.lim.max_devices == POLICY_UNLIMITED ||
	    d->ans.lim.max_devices >= (uint64_t)max)
		add(d, "weakness-ublks-max", ST_WARN,
		    "set max_devices well below ublks_max in the policy, or "
		    "raise it (modprobe ublk_drv ublks_max=N)",
		    "ublks_max=%ld is one pool for all users, and %s lets one "
		    "user take all of it",
		    max, rule);
	else
		add(d, "weakness-ublks-max", ST_INFO, NULL,
		    "ublks_max=%ld is one pool for all users; %s", max, rule);
}

/* --- output --------------------------------------------------------------- */

static int print_text(const struct doctor *d)
{
	unsigned int i, failed = 0;

	for (i = 0; i < d->n; i++) {
		const struct finding *f = &d->f[i];

		printf("%-5s %-19s %s\n", status_names[f->st], f->name, f->msg);
		if (f->fix[0] && f->st != ST_OK)
			printf("%-25s fix: %s\n", "", f->fix);
		failed += f->st == ST_FAIL;
	}
	if (failed)
		printf("%u check%s failed\n", failed, failed == 1 ? "" : "s");
	return failed ? EXIT_FAIL : EXIT_OK;
}

static int print_json(const struct doctor *d)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	unsigned int i, failed = 0;

	for (i = 0; i < d->n; i++) {
		const struct finding *f = &d->f[i];
		json_object *c = json_object_new_object();

		json_object_object_add(c, "name",
				       json_object_new_string(f->name));
		json_object_object_add(
			c, "status",
			json_object_new_string(status_names[f->st]));
		json_object_object_add(c, "message",
				       json_object_new_string(f->msg));
		json_object_object_add(c, "fix",
				       f->fix[0] && f->st != ST_OK ?
					       json_object_new_string(f->fix) :
					       NULL);
		json_object_array_add(arr, c);
		failed += f->st == ST_FAIL;
	}
	json_object_object_add(o, "ok", json_object_new_boolean(!failed));
	json_object_object_add(o, "checks", arr);
	printf("%s\n", json_object_to_json_string_ext(
			       o, JSON_C_TO_STRING_PRETTY |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return failed ? EXIT_FAIL : EXIT_OK;
}

int cmd_doctor(struct cli_args *a)
{
	static struct doctor d;
	bool json = false;
	int c, ret;

	while ((c = cli_next_opt(a)) > 0)
		json = true; /* --json, the only option */
	if (c == CLI_EXIT)
		return a->status;

	memset(&d, 0, sizeof(d));
	d.root = geteuid() == 0;
	snprintf(d.nodev_why, sizeof(d.nodev_why), "%s",
		 d.root ? "as root: run 'ublk-user doctor' as a user to test" :
			  "no test device was handed over");
	check_kernel(&d);
	check_module(&d);
	check_control(&d);
	check_io_uring(&d);
	check_features(&d);
	check_rule(&d);
	check_io_scheduler(&d);
	check_helper(&d);
	check_udevd(&d);
	check_control_rule(&d);
	check_policy(&d);
	check_handover(&d);
	check_memlock(&d);
	check_disks(&d);
	check_units(&d);
	check_nodev(&d);
	check_regbuf(&d);
	check_ublks_max(&d);
	ret = json ? print_json(&d) : print_text(&d);
	policy_answer_free(&d.ans);
	return ret;
}
