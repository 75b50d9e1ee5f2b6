/* SPDX-License-Identifier: MIT */
/*
 * Reaching an NBD server: connect to a URI's endpoint and run the
 * handshake (nbd/handshake.h) over the socket, each within a deadline, so
 * that a server that does not answer cannot hold us.  This is the only
 * code of the layer that makes system calls; the CLI runs it before the
 * device server is confined, and so does the reconnect helper.
 */
#ifndef UBLK_USER_NBD_NET_H
#define UBLK_USER_NBD_NET_H

#include "base/err.h"
#include "nbd/handshake.h"
#include "nbd/uri.h"

/*
 * A connected, blocking, close-on-exec stream socket (TCP_NODELAY on
 * TCP), or -errno.  Tries every address a host name resolves to.
 */
int nbd_connect(const struct nbd_uri *u, int timeout_ms, struct uerr *err);

/* The handshake on a connected socket fd; fills *exp. */
int nbd_handshake(int fd, const char *export_name, int timeout_ms,
		  struct nbd_export *exp, struct uerr *err);

/* Both, with the message naming the endpoint; the socket or -errno. */
int nbd_open(const struct nbd_uri *u, int timeout_ms, struct nbd_export *exp,
	     struct uerr *err);

#endif
