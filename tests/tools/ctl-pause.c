// SPDX-License-Identifier: MIT
/*
 * ctl-pause SOCKET MS resume|close|stay: what a client of a server's
 * control socket (server/ctlsock.h) may do wrong.  PAUSE, print the reply
 * ("paused" or the refusal), wait MS milliseconds, then send RESUME
 * ("resume"), close the connection ("close"), or keep it open and read
 * whatever the server says on its own ("stay"); print that reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/ctlsock.h"

int main(int argc, char **argv)
{
	struct ctl_reply rep;
	struct timespec ts;
	struct uerr err;
	long ms;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: ctl-pause SOCKET MS "
				"resume|close|stay\n");
		return 2;
	}
	ms = strtol(argv[2], NULL, 10);
	uerr_clear(&err);
	fd = ctl_connect(argv[1], &err);
	if (fd < 0 || ctl_call(fd, CTL_PAUSE, 0, &rep, 20000, &err) < 0) {
		printf("refused: %s\n", err.msg);
		return 1;
	}
	printf("paused\n");
	fflush(stdout);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = ms % 1000 * 1000000;
	nanosleep(&ts, NULL);
	if (!strcmp(argv[3], "close"))
		return 0;
	if (!strcmp(argv[3], "resume")) {
		if (ctl_call(fd, CTL_RESUME, 0, &rep, 20000, &err) < 0) {
			printf("resume: %s\n", err.msg);
			return 1;
		}
		printf("resumed after %llu us\n", (unsigned long long)rep.usec);
		return 0;
	}
	if (recv(fd, &rep, sizeof(rep), 0) != sizeof(rep)) {
		printf("the server closed\n");
		return 1;
	}
	rep.msg[sizeof(rep.msg) - 1] = '\0';
	printf("the server said: %d %s\n", rep.status, rep.msg);
	return 0;
}
