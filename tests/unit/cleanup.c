// SPDX-License-Identifier: MIT
/*
 * src/base/cleanup.h: what a cleanup variable holds is released when it
 * goes out of scope, whichever way, unless take_fd()/take_ptr() handed it
 * out.  (Leaks of cleanup_free would show under make check-asan.)
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "base/cleanup.h"

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Opens /dev/null, returns early or late; the fd it saw in *seen */
static int scoped_fd(bool early, int *seen)
{
	cleanup_close int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	*seen = fd;
	if (early)
		return 1;
	return 2;
}

static int kept_fd(void)
{
	cleanup_close int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	return take_fd(&fd);
}

static char *kept_ptr(void)
{
	cleanup_free char *s = strdup("kept");

	return take_ptr(&s);
}

static int freed_twice_never(void)
{
	cleanup_free char *s = strdup("a");
	cleanup_free char *none = NULL;

	return s && !none;
}

static int release_count;

static void count_release(int *v)
{
	if (*v)
		release_count++;
}

static void scoped_with(int v)
{
	int held cleanup_with(count_release) = v;

	(void)held;
}

int main(void)
{
	int fd = -1;
	char *p;

	is_int(scoped_fd(true, &fd), 1, "an early return");
	ok(fd >= 0 && !fd_open(fd), "  closes the fd");
	is_int(scoped_fd(false, &fd), 2, "a late return");
	ok(fd >= 0 && !fd_open(fd), "  closes it too");

	fd = kept_fd();
	ok(fd >= 0 && fd_open(fd), "take_fd hands the fd out, open");
	close(fd);

	p = kept_ptr();
	is_str(p, "kept", "take_ptr hands the memory out, intact");
	free(p);
	ok(freed_twice_never(), "cleanup_free of NULL is fine");

	scoped_with(1);
	scoped_with(0);
	is_int(release_count, 1, "cleanup_with(fn) calls fn on scope exit");
	return done_testing();
}
