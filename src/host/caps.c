// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cap-ng.h>

#include "host/caps.h"
#include "host/idmap.h"
#include "host/state.h"

/* Bytes of arguments caps_reexec() passes on */
#define CAPS_ARGV_MAX (1 << 20)

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* What survives in the environment while a capability is held. */
static const char *const env_keep[] = {
	"HOME",
	"USER",
	"LOGNAME",
	"XDG_RUNTIME_DIR",
	/* up --foreground tells systemd, with its notify protocol, here */
	"NOTIFY_SOCKET",
	"LANG",
	"LC_ALL",
	"LC_MESSAGES",
	"TERM",
	"TZ",
	"UBLK_USER_UDEV_TIMEOUT",
	"UBLK_USER_SECCOMP",
};

static void reduce_environment(void)
{
	char *saved[sizeof(env_keep) / sizeof(env_keep[0])];
	unsigned int i;
	const char *v;

	for (i = 0; i < sizeof(env_keep) / sizeof(env_keep[0]); i++) {
		v = getenv(env_keep[i]);
		saved[i] = v ? strdup(v) : NULL;
	}
	clearenv();
	for (i = 0; i < sizeof(env_keep) / sizeof(env_keep[0]); i++) {
		if (saved[i])
			setenv(env_keep[i], saved[i], 1);
		free(saved[i]);
	}
	setenv("PATH", "/usr/bin:/bin", 1);
}

static int open_std_fds(struct uerr *err)
{
	int fd;

	/* A program started with 0-2 closed would write into other files. */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd < 0)
		return uerr_sys(err, errno, "cannot open /dev/null");
	close(fd);
	return 0;
}

bool caps_have_sys_admin(void)
{
	if (capng_get_caps_process() < 0)
		return false;
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN);
}

bool caps_have_ipc_lock(void)
{
	if (capng_get_caps_process() < 0)
		return false;
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_IPC_LOCK);
}

bool caps_is_root(void)
{
	return geteuid() == 0;
}

/* Any permitted capability other than CAP_IPC_LOCK? */
static bool holds_other_caps(void)
{
	unsigned int cap;

	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (cap != CAP_IPC_LOCK &&
		    capng_have_capability(CAPNG_PERMITTED, cap))
			return true;
	return false;
}

static void close_inherited_fds(void)
{
	long fd, max;

	if (close_range(3, ~0U, 0) == 0)
		return;
	/* Kernels before 5.9 */
	max = sysconf(_SC_OPEN_MAX);
	for (fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		close(fd);
}

int caps_startup(struct uerr *err)
{
	bool ipc_lock;
	int ret;

	/* Nothing we inherited beyond stdio is ours to use or pass on. */
	close_inherited_fds();
	ret = open_std_fds(err);
	if (ret < 0)
		return ret;
	umask(077);
	/* After caps_reexec() the kernel names us after a file descriptor. */
	prctl(PR_SET_NAME, program_invocation_short_name, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return uerr_sys(err, errno, "PR_SET_NO_NEW_PRIVS");
	if (capng_get_caps_process() < 0)
		return uerr_set(err, EPERM, "cannot read own capabilities");
	if (caps_is_root())
		return 0; /* root drops everything when it becomes a user */
	if (holds_other_caps())
		return uerr_set(err, EPERM,
				"ublk-user must hold no capability other than "
				"CAP_IPC_LOCK (check its file capabilities)");

	/* At most CAP_IPC_LOCK, effective; no inheritable, no ambient. */
	ipc_lock = capng_have_capability(CAPNG_PERMITTED, CAP_IPC_LOCK);
	capng_clear(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
	if (ipc_lock)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
			     CAP_IPC_LOCK);
	if (capng_apply(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT) < 0)
		return uerr_set(err, EPERM, "cannot set own capabilities");
	if (ipc_lock) {
		reduce_environment();
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
			return uerr_sys(err, errno, "PR_SET_DUMPABLE");
	}
	return 0;
}

static int lookup_user(const char *user, struct passwd **pw, struct uerr *err)
{
	char *end;
	unsigned long uid;

	errno = 0;
	*pw = getpwnam(user);
	if (!*pw && user[0] >= '0' && user[0] <= '9') {
		uid = strtoul(user, &end, 10);
		if (!*end && uid < (uid_t)-1)
			*pw = getpwuid(uid);
	}
	if (!*pw)
		return uerr_set(err, ENOENT, "no user '%s'", user);
	return 0;
}

/* "UID:GID", both decimal ids below (uid_t)-1 */
bool caps_parse_ids(const char *s, uid_t *uid, gid_t *gid)
{
	unsigned long u, g;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	u = strtoul(s, &end, 10);
	if (errno || *end != ':' || u >= (uid_t)-1 || end[1] < '0' ||
	    end[1] > '9')
		return false;
	g = strtoul(end + 1, &end, 10);
	if (errno || *end || g >= (gid_t)-1)
		return false;
	*uid = u;
	*gid = g;
	return true;
}

/* The ids we have already: drop every capability but CAP_IPC_LOCK. */
static int keep_ids_drop_caps(struct uerr *err)
{
	capng_clear(CAPNG_SELECT_ALL);
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
		     CAP_IPC_LOCK);
	if (capng_apply(CAPNG_SELECT_ALL) < 0)
		return uerr_set(err, EPERM, "cannot drop capabilities");
	return 0;
}

/*
 * A process root made for a user must not keep root's session keyring:
 * its keys would stay within reach, with a possessor's rights.
 */
static int leave_session_keyring(struct uerr *err)
{
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 &&
	    errno != ENOSYS)
		return uerr_sys(err, errno,
				"cannot leave root's session keyring");
	return 0;
}

int caps_become_user(const char *user, const char *groups_of, struct uerr *err)
{
	char name[64], run[PATH_MAX];
	struct passwd *pw = NULL;
	bool same, set_run;
	uint32_t host;
	uid_t uid;
	gid_t gid;
	int flags, ret;

	if (caps_parse_ids(user, &uid, &gid)) {
		errno = 0;
		pw = getpwuid(uid);
	} else {
		ret = lookup_user(user, &pw, err);
		if (ret < 0)
			return ret;
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	same = uid == getuid() && uid == geteuid() && gid == getgid() &&
	       gid == getegid();
	if (!caps_is_root()) {
		/* Already that user, as after caps_reexec(): nothing to do. */
		if (same)
			return 0;
		return uerr_set(err, EPERM,
				"only root may act for another "
				"user (--user)");
	}
	if (pw)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	else
		snprintf(name, sizeof(name), "uid %u", (unsigned int)uid);
	set_run = !same || !getenv("XDG_RUNTIME_DIR");

	/* Keep CAP_IPC_LOCK across the change of ids, and nothing else. */
	if (same) {
		ret = keep_ids_drop_caps(err);
		if (ret < 0)
			return ret;
	} else {
		capng_clear(CAPNG_SELECT_ALL);
		capng_update(CAPNG_ADD,
			     CAPNG_EFFECTIVE | CAPNG_PERMITTED |
				     CAPNG_BOUNDING_SET,
			     CAP_IPC_LOCK);
		/* Bounding set: CAP_IPC_LOCK only, for caps_reexec() */
		if (capng_apply(CAPNG_SELECT_BOUNDS) < 0)
			return uerr_set(err, EPERM, "cannot drop capabilities");
		flags = CAPNG_CLEAR_AMBIENT;
		if (pw)
			flags |= CAPNG_INIT_SUPP_GRP;
		else if (!groups_of || !*groups_of)
			flags |= CAPNG_DROP_SUPP_GRP;
		else if (initgroups(groups_of, gid) < 0)
			return uerr_sys(err, errno,
					"cannot give %s the groups of %s", name,
					groups_of);
		if (capng_change_id(uid, gid, flags) < 0)
			return uerr_set(err, EPERM,
					"cannot become user %s (%u:%u)", name,
					(unsigned int)uid, (unsigned int)gid);
	}
	/* Belt and braces: the kernel must now see an unprivileged caller. */
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    caps_have_sys_admin())
		return uerr_set(err, EPERM, "dropping privileges to %s failed",
				name);
	if (!same) {
		ret = leave_session_keyring(err);
		if (ret < 0)
			return ret;
	}
	/*
	 * The host's uid, also in a user namespace.  Without /run/user/UID
	 * the user's own commands make the fallback: nothing made as root.
	 */
	if (set_run) {
		ret = idmap_host_euid(&host, err);
		if (ret < 0)
			return ret;
		state_runtime_of(run, sizeof(run), host);
	}
	if (set_run && run[0])
		setenv("XDG_RUNTIME_DIR", run, 1);
	else if (set_run)
		unsetenv("XDG_RUNTIME_DIR");
	if (!same) {
		if (pw) {
			setenv("HOME", pw->pw_dir, 1);
			setenv("USER", pw->pw_name, 1);
			setenv("LOGNAME", pw->pw_name, 1);
		} else {
			unsetenv("HOME");
			unsetenv("USER");
			unsetenv("LOGNAME");
		}
	}
	reduce_environment();
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return uerr_sys(err, errno, "PR_SET_DUMPABLE");
	return same ? 0 : 1;
}

/* Our own argument vector, as the kernel keeps it; NULL on failure */
static char **read_own_argv(struct uerr *err)
{
	char *buf = malloc(CAPS_ARGV_MAX), **argv = NULL;
	size_t len = 0, n = 0, i;
	ssize_t got = 0;
	int fd;

	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !buf) {
		uerr_sys(err, fd < 0 ? errno : ENOMEM, "/proc/self/cmdline");
		goto out;
	}
	while (len < CAPS_ARGV_MAX &&
	       (got = read(fd, buf + len, CAPS_ARGV_MAX - len)) > 0)
		len += got;
	if (got < 0 || !len || len == CAPS_ARGV_MAX || buf[len - 1]) {
		uerr_set(err, got < 0 ? errno : E2BIG,
			 "cannot read our own arguments");
		goto out;
	}
	for (i = 0; i < len; i++)
		n += !buf[i];
	argv = malloc((n + 1) * sizeof(*argv));
	if (!argv) {
		uerr_sys(err, ENOMEM, "arguments");
		goto out;
	}
	for (i = 0, n = 0; i < len; i += strlen(buf + i) + 1)
		argv[n++] = buf + i;
	argv[n] = NULL;
	buf = NULL; /* now argv[0] */
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return argv;
}

int caps_reexec(struct uerr *err)
{
	char **argv;
	int exe;

	argv = read_own_argv(err);
	if (!argv)
		return -err->code;
	/* CAP_IPC_LOCK survives the exec as an ambient capability only. */
	if (caps_have_ipc_lock()) {
		capng_update(CAPNG_ADD, CAPNG_INHERITABLE, CAP_IPC_LOCK);
		if (capng_apply(CAPNG_SELECT_CAPS) < 0 ||
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_IPC_LOCK, 0,
			  0) < 0)
			return uerr_set(err, EPERM,
					"cannot keep CAP_IPC_LOCK across exec");
	}
	exe = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	if (exe >= 0)
		syscall(SYS_execveat, exe, "", argv, environ, AT_EMPTY_PATH);
	uerr_sys(err, errno, "cannot run %s again as the user",
		 program_invocation_short_name);
	if (exe >= 0)
		close(exe);
	free(argv[0]);
	free(argv);
	return -err->code;
}

int caps_drop_thread(struct uerr *err)
{
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS) < 0)
		return uerr_set(err, EPERM, "cannot drop capabilities");
	return 0;
}
