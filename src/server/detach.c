// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/caps.h"
#include "host/srvproc.h"
#include "host/state.h"
#include "server/detach.h"

/* What the server reads from its environment, and nothing else */
static const char *const env_keep[] = {
	"XDG_RUNTIME_DIR",
	"TZ",
	"UBLK_USER_SECCOMP",
};

#define NR_ENV_KEEP (sizeof(env_keep) / sizeof(env_keep[0]))

/*
 * dev-N.log in our state directory, if it is (or now becomes) a regular
 * file of ours; -1 for anything else: a link, a FIFO, a device, another
 * user's file.  O_NONBLOCK: a FIFO planted there must not block us.
 */
static int open_log(uint32_t dev_id)
{
	char dir[PATH_MAX], name[32];
	struct uerr err;
	struct stat st;
	int dfd, fd;

	if (state_dir(dir, sizeof(dir), 0, &err) < 0)
		return -1;
	dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	snprintf(name, sizeof(name), "dev-%u.log", dev_id);
	fd = openat(dfd, name,
		    O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK |
			    O_NOCTTY | O_CLOEXEC,
		    0600);
	close(dfd);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * 0, 1: /dev/null; 2: the log pipe, the log or /dev/null.  Never what we
 * inherited.
 */
static int detach_stdio(uint32_t dev_id, int stderr_fd, struct uerr *err)
{
	int null, log, ret = 0;

	/* caps_startup() made sure 0-2 are open: these come out above 2. */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return uerr_sys(err, errno, "cannot open /dev/null");
	log = stderr_fd >= 0 ? stderr_fd : open_log(dev_id);
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(log >= 0 ? log : null, 2) < 0)
		ret = uerr_sys(err, errno, "cannot replace stdio");
	if (log > 2)
		close(log);
	if (null > 2)
		close(null);
	setvbuf(stderr, NULL, _IOLBF, 0);
	return ret;
}

/* Where the kernel keeps our arguments and environment strings */
static int mm_strings(char **arg_start, char **arg_end, char **env_start,
		      char **env_end, struct uerr *err)
{
	unsigned long v[4];
	char buf[2048], *p;
	ssize_t n;
	int fd, i;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return uerr_sys(err, errno, "/proc/self/stat");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return uerr_set(err, EIO, "cannot read /proc/self/stat");
	buf[n] = '\0';
	/* Fields 48-51, counted from field 3 after the command's ")" */
	p = strrchr(buf, ')');
	for (i = 3; p && i <= 48; i++)
		p = strchr(p + 1, ' ');
	if (!p ||
	    sscanf(p, " %lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]) != 4 ||
	    v[0] > v[1] || v[2] > v[3])
		return uerr_set(err, EIO, "cannot parse /proc/self/stat");
	*arg_start = (char *)v[0];
	*arg_end = (char *)v[1];
	*env_start = (char *)v[2];
	*env_end = (char *)v[3];
	return 0;
}

/*
 * Keep only env_keep (in fresh copies), then wipe the strings the kernel
 * shows in cmdline and environ, and put our title there instead.
 */
static int forget_arguments(uint32_t dev_id, struct uerr *err)
{
	char *saved[NR_ENV_KEEP], *as, *ae, *es, *ee, title[48];
	size_t len, room;
	unsigned int i;
	const char *v;
	int ret;

	for (i = 0; i < NR_ENV_KEEP; i++) {
		v = getenv(env_keep[i]);
		saved[i] = v ? strdup(v) : NULL;
		if (v && !saved[i])
			return uerr_sys(err, ENOMEM, "environment");
	}
	clearenv();
	for (i = 0; i < NR_ENV_KEEP; i++) {
		if (saved[i] && setenv(env_keep[i], saved[i], 1) < 0)
			return uerr_sys(err, errno, "environment");
		free(saved[i]);
	}
	ret = mm_strings(&as, &ae, &es, &ee, err);
	if (ret < 0)
		return ret;
	memset(as, 0, ae - as);
	memset(es, 0, ee - es);

	/*
	 * The kernel shows a title instead of the arguments when the last
	 * byte of the arguments is not NUL, and lets it run on into the
	 * environment when that follows.
	 */
	srvproc_title(title, sizeof(title), dev_id);
	len = strlen(title);
	room = (size_t)(ae - as) + (es == ae ? (size_t)(ee - es) : 0);
	if (room < 2)
		return 0;
	if (len > room - 1)
		len = room - 1;
	memcpy(as, title, len);
	if (as + len + 1 < ae)
		ae[-1] = ' ';
	return 0;
}

int server_detach(uint32_t dev_id, int stderr_fd, struct uerr *err)
{
	int ret;

	/* Root's servers, and those that started with CAP_IPC_LOCK */
	if ((geteuid() == 0 || caps_have_ipc_lock()) &&
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return uerr_sys(err, errno, "PR_SET_DUMPABLE");
	ret = detach_stdio(dev_id, stderr_fd, err);
	if (ret < 0)
		return ret;
	if (chdir("/") < 0)
		return uerr_sys(err, errno, "chdir /");
	return forget_arguments(dev_id, err);
}
