// SPDX-License-Identifier: MIT
/* doctor's look at systemd's units for disk files (units.h) */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "cli/units.h"
#include "disks/diskfile.h"

#define UNITS_MAX_NAMES 32

/* Enabled instances: NAME of each PREFIX NAME .service in *.wants */
struct enabled {
	char names[UNITS_MAX_NAMES][DISK_NAME_MAX + 1];
	unsigned int nr;
	char list[512]; /* "a, b, c" */
};

static void set(struct units_finding *f, enum units_status st, const char *fix,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set(struct units_finding *f, enum units_status st, const char *fix,
		const char *fmt, ...)
{
	va_list ap;

	f->st = st;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	snprintf(f->fix, sizeof(f->fix), "%s", fix ? fix : "");
}

/* The first of dirs (NULL-terminated) that holds file, or NULL */
static const char *find_unit(const char *const *dirs, const char *file)
{
	char path[PATH_MAX];

	for (; *dirs; dirs++)
		if (snprintf(path, sizeof(path), "%s/%s", *dirs, file) <
			    (int)sizeof(path) &&
		    access(path, F_OK) == 0)
			return *dirs;
	return NULL;
}

static void add_name(struct enabled *e, const char *name)
{
	unsigned int i;

	for (i = 0; i < e->nr; i++)
		if (!strcmp(e->names[i], name))
			return;
	if (e->nr >= UNITS_MAX_NAMES)
		return;
	snprintf(e->names[e->nr++], sizeof(e->names[0]), "%s", name);
}

/* One *.wants (or *.requires) folder of dir */
static void scan_wants(struct enabled *e, const char *dir, const char *sub,
		       const char *prefix)
{
	size_t pl = strlen(prefix), sl = strlen(".service"), n;
	char path[PATH_MAX], name[DISK_NAME_MAX + 1];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		n = strlen(de->d_name);
		if (n <= pl + sl || strncmp(de->d_name, prefix, pl) ||
		    strcmp(de->d_name + n - sl, ".service") ||
		    n - pl - sl > DISK_NAME_MAX)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(n - pl - sl),
			 de->d_name + pl);
		add_name(e, name);
	}
	closedir(d);
}

/* The instances of PREFIX enabled in dir (systemctl enable's links) */
static void find_enabled(struct enabled *e, const char *dir, const char *prefix)
{
	struct dirent *de;
	size_t n, len = 0;
	unsigned int i;
	DIR *d;

	memset(e, 0, sizeof(*e));
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			n = strlen(de->d_name);
			if ((n > 6 && !strcmp(de->d_name + n - 6, ".wants")) ||
			    (n > 9 && !strcmp(de->d_name + n - 9, ".requires")))
				scan_wants(e, dir, de->d_name, prefix);
		}
		closedir(d);
	}
	for (i = 0; i < e->nr && len < sizeof(e->list); i++)
		len += snprintf(e->list + len, sizeof(e->list) - len, "%s%s",
				i ? ", " : "", e->names[i]);
}

/* An enabled instance whose disk file is missing: its name, or NULL */
static const char *without_file(const struct enabled *e, const char *dir)
{
	char path[PATH_MAX + DISK_NAME_MAX + 8];
	unsigned int i;

	for (i = 0; i < e->nr; i++) {
		snprintf(path, sizeof(path), "%s/%s" DISK_SUFFIX, dir,
			 e->names[i]);
		if (access(path, F_OK) < 0)
			return e->names[i];
	}
	return NULL;
}

/* Does the user manager answer on its private socket?  0 or -errno */
static int manager_reachable(char *path, size_t len)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret = 0;

	if (run && run[0] == '/')
		snprintf(path, len, "%s/systemd/private", run);
	else
		snprintf(path, len, "/run/user/%u/systemd/private",
			 (unsigned int)geteuid());
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

void units_check_user(struct units_finding *f)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	char cfg[PATH_MAX], disks[PATH_MAX], sock[PATH_MAX], linger[PATH_MAX];
	char fix[512];
	const char *dirs[] = { NULL,
			       "/etc/systemd/user",
			       UBLK_USER_SYSTEMDUSERUNITDIR,
			       "/usr/local/lib/systemd/user",
			       "/usr/lib/systemd/user",
			       NULL };
	const struct passwd *pw = getpwuid(geteuid());
	const char *where, *missing;
	struct enabled e;
	struct uerr err;
	int ret;

	if (xdg && xdg[0] == '/')
		snprintf(cfg, sizeof(cfg), "%s/systemd/user", xdg);
	else if (home && home[0] == '/')
		snprintf(cfg, sizeof(cfg), "%s/.config/systemd/user", home);
	else
		snprintf(cfg, sizeof(cfg), "~/.config/systemd/user");
	dirs[0] = cfg;
	where = find_unit(dirs, UNITS_USER_TEMPLATE);
	find_enabled(&e, cfg, "ublk-user@");
	if (!where) {
		set(f, e.nr ? UNITS_FAIL : UNITS_WARN,
		    "'make install' puts it in " UBLK_USER_SYSTEMDUSERUNITDIR,
		    UNITS_USER_TEMPLATE " is not installed%s%s%s",
		    e.nr ? " but enabled for: " : "", e.list,
		    e.nr ? ": those disks cannot come up" : "");
		return;
	}
	if (!e.nr) {
		set(f, UNITS_OK, NULL,
		    UNITS_USER_TEMPLATE " is installed (%s); no disk of "
					"yours is enabled ('systemctl --user "
					"enable --now "
					"ublk-user@NAME' keeps NAME up)",
		    where);
		return;
	}
	if (disk_user_dir(disks, sizeof(disks), &err) == 0 &&
	    (missing = without_file(&e, disks))) {
		snprintf(fix, sizeof(fix),
			 "write %.200s/%s" DISK_SUFFIX " or 'systemctl --user "
			 "disable ublk-user@%s'",
			 disks, missing, missing);
		set(f, UNITS_FAIL, fix,
		    "ublk-user@%s is enabled, but there is no "
		    "%s/%s" DISK_SUFFIX,
		    missing, disks, missing);
		return;
	}
	ret = manager_reachable(sock, sizeof(sock));
	if (ret < 0) {
		set(f, UNITS_WARN,
		    "log in (a session with pam_systemd starts it), or "
		    "'loginctl enable-linger' to have it from boot on",
		    "your disks %s are enabled, but your user manager does "
		    "not answer (%s: %s): they are not up",
		    e.list, sock, strerror(-ret));
		return;
	}
	snprintf(linger, sizeof(linger), UNITS_LINGER_DIR "/%s",
		 pw ? pw->pw_name : "");
	if (!pw || access(linger, F_OK) < 0) {
		set(f, UNITS_WARN,
		    "'loginctl enable-linger' keeps them up after you log "
		    "out, and brings them up at boot",
		    "your disks %s are enabled and your user manager runs, "
		    "but lingering is off: they go down when you log out "
		    "and do not come up at boot",
		    e.list);
		return;
	}
	set(f, UNITS_OK, NULL,
	    "your disks %s are enabled, your user manager runs and lingering "
	    "is on: they stay up after you log out and come up at boot",
	    e.list);
}

/*
 * A system disk's user without lingering has no /run/user/UID at boot:
 * its state goes to /tmp/ublk-user-UID, where any local user can make
 * the directory first and so keep the disk down (SECURITY.md).
 */
static bool system_user_unlingered(const struct disk_file *d, const char *name,
				   struct units_finding *f)
{
	char linger[PATH_MAX], fix[128];
	const struct passwd *pw = getpwnam(d->user);

	snprintf(linger, sizeof(linger), UNITS_LINGER_DIR "/%s",
		 pw ? pw->pw_name : "");
	if (pw && access(linger, F_OK) == 0)
		return false;
	snprintf(fix, sizeof(fix), "loginctl enable-linger %s", d->user);
	set(f, UNITS_WARN, fix,
	    "%s/%s%s runs as %s, who has no lingering: without /run/user/UID "
	    "its state goes to /tmp/ublk-user-UID, which any local user can "
	    "make first, and so keep the disk down",
	    DISK_SYSTEM_DIR, name, DISK_SUFFIX, d->user);
	return true;
}

/*
 * A disk file of DISK_SYSTEM_DIR that is wrong, in f; true if one is.
 * The first whose user does not linger is a warning in f (*warned),
 * which a wrong file after it replaces.
 */
static bool system_file_bad(const char *name, struct units_finding *f,
			    bool *warned)
{
	char path[PATH_MAX];
	struct disk_file d;
	struct uerr err;
	struct stat st;

	if (disk_load(&d, DISK_SYSTEM_DIR, name, 0, true, &err) < 0) {
		set(f, UNITS_FAIL,
		    "correct the file (see ublk-user.disk(5)) or remove it",
		    "%s", err.msg);
		return true;
	}
	if (!getpwnam(d.user) && !strchr("0123456789", d.user[0])) {
		set(f, UNITS_FAIL, "create the account or correct 'user ='",
		    DISK_SYSTEM_DIR "/%s" DISK_SUFFIX ": no user '%s'", name,
		    d.user);
		return true;
	}
	snprintf(path, sizeof(path), DISK_SYSTEM_DIR "/%s" DISK_SUFFIX, name);
	if (stat(path, &st) == 0 && !(st.st_mode & S_IROTH)) {
		set(f, UNITS_FAIL, "chmod 0644 it",
		    "%s: mode %04o: %s cannot read it, which it does once "
		    "ublk-user runs as %s",
		    path, (unsigned int)(st.st_mode & 07777), d.user, d.user);
		return true;
	}
	if (!*warned && system_user_unlingered(&d, name, f))
		*warned = true;
	return false;
}

void units_check_system(struct units_finding *f)
{
	const char *dirs[] = {
		"/etc/systemd/system",		 UBLK_USER_SYSTEMDUNITDIR,
		"/usr/local/lib/systemd/system", "/usr/lib/systemd/system",
		"/lib/systemd/system",		 NULL
	};
	struct enabled e, files;
	const char *where, *missing;
	bool warned = false;
	struct dirent *de;
	char fix[512];
	unsigned int i;
	size_t n, sl = strlen(DISK_SUFFIX);
	DIR *d;

	where = find_unit(dirs, UNITS_SYSTEM_TEMPLATE);
	find_enabled(&e, "/etc/systemd/system", "ublk-user-system@");
	memset(&files, 0, sizeof(files));
	d = opendir(DISK_SYSTEM_DIR);
	while (d && (de = readdir(d))) {
		n = strlen(de->d_name);
		if (n > sl && !strcmp(de->d_name + n - sl, DISK_SUFFIX) &&
		    n - sl <= DISK_NAME_MAX) {
			de->d_name[n - sl] = '\0';
			add_name(&files, de->d_name);
		}
	}
	if (d)
		closedir(d);
	if (!where) {
		set(f, e.nr ? UNITS_FAIL : UNITS_WARN,
		    "'make install' puts it in " UBLK_USER_SYSTEMDUNITDIR,
		    UNITS_SYSTEM_TEMPLATE " is not installed%s%s",
		    e.nr ? " but enabled for: " : "", e.list);
		return;
	}
	if ((missing = without_file(&e, DISK_SYSTEM_DIR))) {
		snprintf(fix, sizeof(fix),
			 "write " DISK_SYSTEM_DIR "/%s" DISK_SUFFIX
			 " or 'systemctl disable ublk-user-system@%s'",
			 missing, missing);
		set(f, UNITS_FAIL, fix,
		    "ublk-user-system@%s is enabled, but there is "
		    "no " DISK_SYSTEM_DIR "/%s" DISK_SUFFIX,
		    missing, missing);
		return;
	}
	for (i = 0; i < files.nr; i++)
		if (system_file_bad(files.names[i], f, &warned))
			return;
	if (warned)
		return;
	set(f, UNITS_OK, NULL,
	    UNITS_SYSTEM_TEMPLATE " is installed (%s); %u disk file%s "
				  "in " DISK_SYSTEM_DIR " read well; enabled: "
				  "%s",
	    where, files.nr, files.nr == 1 ? "" : "s",
	    e.nr ? e.list :
		   "none ('systemctl enable --now "
		   "ublk-user-system@NAME')");
}
