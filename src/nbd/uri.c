// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nbd/uri.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..n) into out (cap bytes, NUL added).  The result may
 * hold NUL bytes (%00): *out_len says how long it is.
 */
static int pct_decode(const char *s, size_t n, char *out, size_t cap,
		      size_t *out_len, const char *what, struct uerr *err)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi = i + 2 < n ? hex_value(s[i + 1]) : -1;
			int lo = i + 2 < n ? hex_value(s[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return uerr_set(err, EINVAL,
						"%s: '%%' is not followed by "
						"two hex digits",
						what);
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return uerr_set(err, EINVAL,
					"%s is longer than %zu bytes", what,
					cap - 1);
		out[o++] = c;
	}
	out[o] = '\0';
	*out_len = o;
	return 0;
}

struct scheme {
	const char *name;
	int transport; /* enum nbd_transport, or -1: refused */
	const char *refusal;
};

static const struct scheme schemes[] = {
	{ "nbd", NBD_TRANSPORT_TCP, NULL },
	{ "nbd+unix", NBD_TRANSPORT_UNIX, NULL },
	{ "nbds", -1,
	  "TLS (nbds://) is not supported: use nbd:// or nbd+unix://, "
	  "through a tunnel if the network is not trusted" },
	{ "nbds+unix", -1,
	  "TLS (nbds+unix://) is not supported: use nbd+unix://" },
	{ "nbd+vsock", -1, "vsock (nbd+vsock://) is not supported" },
	{ "nbds+vsock", -1, "vsock (nbds+vsock://) is not supported" },
};

static int parse_scheme(struct nbd_uri *u, const char *text, const char **rest,
			struct uerr *err)
{
	const char *colon = strchr(text, ':');
	size_t n = colon ? (size_t)(colon - text) : 0;
	unsigned int i;

	if (!colon || !n)
		return uerr_set(err, EINVAL,
				"not a URI: expected nbd://HOST[:PORT]/EXPORT "
				"or nbd+unix:///EXPORT?socket=PATH");
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strlen(schemes[i].name) != n ||
		    strncasecmp(schemes[i].name, text, n))
			continue;
		if (schemes[i].transport < 0)
			return uerr_set(err, ENOTSUP, "%s", schemes[i].refusal);
		u->transport = (enum nbd_transport)schemes[i].transport;
		if (strncmp(colon, "://", 3))
			return uerr_set(err, EINVAL,
					"expected '//' after '%.*s:'", (int)n,
					text);
		*rest = colon + 3;
		return 0;
	}
	return uerr_set(err, EINVAL,
			"scheme '%.*s' is not an NBD one (nbd://, "
			"nbd+unix://)",
			(int)(n > 32 ? 32 : n), text);
}

/* A host name or IPv4 address: letters, digits, '-', '.', '_' */
static bool host_name_ok(const char *h)
{
	if (!*h || *h == '-' || *h == '.')
		return false;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && *h != '-' && *h != '.' &&
		    *h != '_')
			return false;
	return true;
}

static int parse_port(struct nbd_uri *u, const char *s, size_t n,
		      struct uerr *err)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0) { /* "host:" means the default port (RFC 3986) */
		u->port = NBD_DEFAULT_PORT;
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > 65535)
			break;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (i < n || v == 0 || v > 65535)
		return uerr_set(err, EINVAL,
				"port '%.*s' is not a number from 1 to 65535",
				(int)(n > 16 ? 16 : n), s);
	u->port = (uint16_t)v;
	return 0;
}

static int parse_authority(struct nbd_uri *u, const char *s, size_t n,
			   struct uerr *err)
{
	const char *colon, *host = s;
	size_t host_len, len;
	struct in6_addr a6;

	if (memchr(s, '@', n))
		return uerr_set(err, ENOTSUP,
				"a user name in the URI is only used for TLS, "
				"which is not supported");
	if (u->transport == NBD_TRANSPORT_UNIX) {
		if (n)
			return uerr_set(err, EINVAL,
					"nbd+unix:// takes no host ('%.*s'): "
					"write nbd+unix:///EXPORT?socket=PATH",
					(int)(n > 64 ? 64 : n), s);
		return 0;
	}
	if (!n)
		return uerr_set(err, EINVAL,
				"nbd:// needs a host: "
				"nbd://HOST[:PORT]/EXPORT");
	u->port = NBD_DEFAULT_PORT;
	if (*s == '[') {
		const char *end = memchr(s, ']', n);

		if (!end)
			return uerr_set(err, EINVAL,
					"IPv6 address without its ']'");
		host = s + 1;
		host_len = (size_t)(end - host);
		if (host_len >= sizeof(u->host) || memchr(host, '%', host_len))
			return uerr_set(err, EINVAL,
					"'%.*s' is not an IPv6 address (zone "
					"names are not supported)",
					(int)(host_len > 64 ? 64 : host_len),
					host);
		memcpy(u->host, host, host_len);
		u->host[host_len] = '\0';
		if (inet_pton(AF_INET6, u->host, &a6) != 1)
			return uerr_set(err, EINVAL,
					"'%s' is not an IPv6 address", u->host);
		/* One spelling of the address for the policy */
		inet_ntop(AF_INET6, &a6, u->host, sizeof(u->host));
		u->ipv6 = true;
		if (end + 1 == s + n)
			return 0;
		if (end[1] != ':')
			return uerr_set(err, EINVAL,
					"expected ':PORT' after the IPv6 "
					"address");
		return parse_port(u, end + 2, (size_t)(s + n - end - 2), err);
	}
	colon = memchr(s, ':', n);
	host_len = colon ? (size_t)(colon - s) : n;
	if (pct_decode(host, host_len, u->host, sizeof(u->host), &len,
		       "the host name", err) < 0)
		return -EINVAL;
	if (strlen(u->host) != len || !host_name_ok(u->host))
		return uerr_set(err, EINVAL,
				"'%.*s' is not a host name or address",
				(int)(host_len > 64 ? 64 : host_len), host);
	/* Names are case-insensitive: one spelling for the policy */
	for (len = 0; u->host[len]; len++)
		u->host[len] = (char)tolower((unsigned char)u->host[len]);
	if (!colon)
		return 0;
	return parse_port(u, colon + 1, (size_t)(s + n - colon - 1), err);
}

static int parse_socket(struct nbd_uri *u, const char *v, size_t n,
			struct uerr *err)
{
	size_t len;

	if (u->transport != NBD_TRANSPORT_UNIX)
		return uerr_set(err, EINVAL,
				"'socket' is for nbd+unix:// URIs only");
	if (u->socket[0])
		return uerr_set(err, EINVAL, "'socket' is given twice");
	if (pct_decode(v, n, u->socket, sizeof(u->socket), &len,
		       "the socket path", err) < 0)
		return -EINVAL;
	if (len && u->socket[0] == '\0')
		return uerr_set(err, ENOTSUP,
				"abstract Unix sockets are not supported: "
				"give a path");
	if (strlen(u->socket) != len)
		return uerr_set(err, EINVAL, "the socket path contains NUL");
	if (u->socket[0] != '/')
		return uerr_set(err, EINVAL,
				"the socket path '%s' is not absolute",
				u->socket);
	return 0;
}

static int parse_query(struct nbd_uri *u, const char *s, size_t n,
		       struct uerr *err)
{
	const char *end = s + n;

	while (s < end) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *pend = amp ? amp : end;
		const char *eq = memchr(s, '=', (size_t)(pend - s));
		size_t klen = (size_t)((eq ? eq : pend) - s);
		char key[64];
		size_t len;

		if (pend == s) { /* "a&&b" */
			s++;
			continue;
		}
		if (pct_decode(s, klen, key, sizeof(key), &len,
			       "a query parameter name", err) < 0)
			return -EINVAL;
		if (!strcmp(key, "socket")) {
			int ret = parse_socket(u, eq ? eq + 1 : pend,
					       eq ? (size_t)(pend - eq - 1) : 0,
					       err);

			if (ret < 0)
				return ret;
		} else if (!strncmp(key, "tls", 3)) {
			return uerr_set(err, ENOTSUP,
					"'%s': TLS is not supported", key);
		} else {
			for (len = 0; key[len]; len++)
				if (!isprint((unsigned char)key[len]))
					key[len] = '?';
			return uerr_set(err, EINVAL,
					"unknown query parameter '%s'", key);
		}
		s = amp ? amp + 1 : end;
	}
	return 0;
}

int nbd_uri_parse(struct nbd_uri *u, const char *text, struct uerr *err)
{
	const char *p, *auth = NULL, *path, *query = NULL;
	size_t i, n, len;
	int ret;

	memset(u, 0, sizeof(*u));
	n = strnlen(text, NBD_URI_MAX + 1);
	if (n > NBD_URI_MAX) {
		ret = uerr_set(err, EINVAL, "longer than %u characters",
			       NBD_URI_MAX);
		goto fail;
	}
	/* RFC 3986: anything else must be percent-encoded */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' ||
		    c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' ||
		    c == '}') {
			ret = uerr_set(err, EINVAL,
				       "character %zu must be "
				       "percent-encoded",
				       i + 1);
			goto fail;
		}
	}
	ret = parse_scheme(u, text, &auth, err);
	if (ret < 0)
		goto fail;
	path = auth + strcspn(auth, "/?#");
	ret = parse_authority(u, auth, (size_t)(path - auth), err);
	if (ret < 0)
		goto fail;
	p = path + strcspn(path, "?#");
	if (*path == '/') {
		ret = pct_decode(path + 1, (size_t)(p - path - 1),
				 u->export_name, sizeof(u->export_name), &len,
				 "the export name", err);
		if (ret < 0)
			goto fail;
		if (strlen(u->export_name) != len) {
			ret = uerr_set(err, EINVAL,
				       "the export name contains NUL");
			goto fail;
		}
	}
	if (*p == '?') {
		query = p + 1;
		p = query + strcspn(query, "#");
		ret = parse_query(u, query, (size_t)(p - query), err);
		if (ret < 0)
			goto fail;
	}
	if (*p == '#') {
		ret = uerr_set(err, EINVAL,
			       "a fragment ('#...') has no meaning in an NBD "
			       "URI");
		goto fail;
	}
	if (u->transport == NBD_TRANSPORT_UNIX && !u->socket[0]) {
		ret = uerr_set(err, EINVAL, "nbd+unix:// needs ?socket=PATH");
		goto fail;
	}
	return 0;
fail:
	memset(u, 0, sizeof(*u));
	return ret;
}

const char *nbd_uri_endpoint(const struct nbd_uri *u, char *buf,
			     unsigned int len)
{
	if (u->transport == NBD_TRANSPORT_UNIX)
		snprintf(buf, len, "%s", u->socket);
	else if (u->ipv6)
		snprintf(buf, len, "[%s]:%u", u->host, u->port);
	else
		snprintf(buf, len, "%s:%u", u->host, u->port);
	return buf;
}
