// SPDX-License-Identifier: MIT
/*
 * ublk_ctrl_open()'s failure paths leave a struct that ublk_ctrl_close()
 * may be called on (the CLI does, unconditionally).  Linked with
 * -Wl,--wrap=calloc so a test can make the library's calloc fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "kernel/ctrl.h"

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);

static int fail_calloc;

void *__wrap_calloc(size_t n, size_t size)
{
	if (fail_calloc) {
		fail_calloc = 0;
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, size);
}

/* fd 0 is a file of ours, so we can tell whether someone closed it */
static int stdin_open(const char *what)
{
	return ok(fcntl(0, F_GETFL) >= 0, "fd 0 is still open %s", what);
}

int main(void)
{
	struct ublk_ctrl ctrl;
	struct uerr err;
	int fd, ret;

	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0)
		bail_out("cannot put /dev/null on fd 0");
	close(fd);

	note("the control buffer cannot be allocated");
	memset(&ctrl, 0xa5, sizeof(ctrl));
	uerr_clear(&err);
	fail_calloc = 1;
	ret = ublk_ctrl_open(&ctrl, &err);
	is_int(ret, -ENOMEM, "ublk_ctrl_open fails with -ENOMEM");
	contains(err.msg, "control buffer", "the message says what failed");
	is_int(ctrl.fd, -1, "ctrl.fd is -1 after the failure");
	ok(ctrl.msg == NULL, "ctrl.msg is NULL");
	if (ctrl.fd == 0)
		diag("ublk_ctrl_close() would now close fd 0 and tear down "
		     "a ring that was never set up");
	else
		ublk_ctrl_close(&ctrl);
	stdin_open("after ublk_ctrl_close");

	note("/dev/ublk-control, whether or not this machine has it");
	memset(&ctrl, 0xa5, sizeof(ctrl));
	uerr_clear(&err);
	ret = ublk_ctrl_open(&ctrl, &err);
	if (ret == 0) {
		ok(ctrl.fd > 0, "opened: a real file descriptor");
		ok(ctrl.msg != NULL, "opened: with a control buffer");
	} else {
		contains(err.msg, UBLK_CONTROL_PATH,
			 "not opened: the message names " UBLK_CONTROL_PATH);
		is_int(ctrl.fd, -1, "not opened: ctrl.fd is -1");
	}
	ublk_ctrl_close(&ctrl);
	is_int(ctrl.fd, -1, "after ublk_ctrl_close, ctrl.fd is -1");
	ok(ctrl.msg == NULL, "and the buffer is gone");
	ublk_ctrl_close(&ctrl);
	pass("closing twice is harmless");
	stdin_open("at the end");
	return done_testing();
}
