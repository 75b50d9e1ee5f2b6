/* SPDX-License-Identifier: MIT */
/*
 * NBD URIs (NetworkBlockDevice/nbd doc/uri.md, RFC 3986), as libnbd and
 * qemu spell them:
 *	nbd://HOST[:PORT]/EXPORT		TCP, port 10809 by default
 *	nbd+unix:///EXPORT?socket=PATH		a Unix socket, absolute path
 * The export name is the path without its first '/', percent-decoded
 * ("" is the server's default export).  TLS (nbds, nbds+unix, tls-*
 * parameters), vsock, user names, abstract sockets and unknown query
 * parameters are refused with a message saying so.
 */
#ifndef UBLK_USER_NBD_URI_H
#define UBLK_USER_NBD_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "nbd/proto.h"

/* sizeof(sockaddr_un.sun_path): a path must fit with its NUL */
#define NBD_URI_SOCKET_MAX 108
/* A DNS name is at most 253 characters */
#define NBD_URI_HOST_MAX 256
/* The longest URI we read: an export name fully percent-encoded */
#define NBD_URI_MAX (3 * NBD_MAX_STRING + 3 * NBD_URI_SOCKET_MAX + 512)

enum nbd_transport {
	NBD_TRANSPORT_TCP,
	NBD_TRANSPORT_UNIX,
};

struct nbd_uri {
	enum nbd_transport transport;
	char host[NBD_URI_HOST_MAX];	 /* TCP: name or address, IPv6 bare */
	bool ipv6;			 /* host is an IPv6 literal */
	uint16_t port;			 /* TCP */
	char socket[NBD_URI_SOCKET_MAX]; /* Unix: absolute path */
	char export_name[NBD_MAX_STRING + 1];
};

/* Parse text; on error err says what is wrong and where, *u is cleared. */
int nbd_uri_parse(struct nbd_uri *u, const char *text, struct uerr *err);

/*
 * The endpoint, as the policy's nbd_endpoints matches it: the socket
 * path, or HOST:PORT ([ADDR]:PORT for IPv6).  buf of at least
 * NBD_URI_HOST_MAX + 8 bytes (a socket path fits in that too).
 */
const char *nbd_uri_endpoint(const struct nbd_uri *u, char *buf,
			     unsigned int len);

#endif
