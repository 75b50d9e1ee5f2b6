// SPDX-License-Identifier: MIT
/* NBD URIs (src/nbd/uri.c): what is accepted, what is refused and why */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "nbd/uri.h"

static struct nbd_uri u;
static struct uerr err;

static int parse(const char *text)
{
	uerr_clear(&err);
	return nbd_uri_parse(&u, text, &err);
}

static void tcp_ok(const char *text, const char *host, unsigned int port,
		   const char *export_name)
{
	if (!is_int(parse(text), 0, "%s is accepted", text)) {
		diag("error: %s", err.msg);
		return;
	}
	is_int(u.transport, NBD_TRANSPORT_TCP, "  TCP");
	is_str(u.host, host, "  host %s", host);
	is_int(u.port, port, "  port %u", port);
	is_str(u.export_name, export_name, "  export '%s'", export_name);
	is_str(u.socket, "", "  no socket");
}

static void unix_ok(const char *text, const char *sock, const char *export_name)
{
	if (!is_int(parse(text), 0, "%s is accepted", text)) {
		diag("error: %s", err.msg);
		return;
	}
	is_int(u.transport, NBD_TRANSPORT_UNIX, "  Unix socket");
	is_str(u.socket, sock, "  socket %s", sock);
	is_str(u.export_name, export_name, "  export '%s'", export_name);
	is_str(u.host, "", "  no host");
}

/* Refused with code, a one-line message containing msg, *u cleared */
static void bad(const char *text, int code, const char *msg)
{
	static const struct nbd_uri zero;
	int ret = parse(text);

	is_int(ret, -code, "%s is refused (%s)", text, strerror(code));
	contains(err.msg, msg, "  the message says '%s'", msg);
	ok(!strchr(err.msg, '\n'), "  the message is one line");
	ok(!memcmp(&u, &zero, sizeof(u)), "  the result is cleared");
}

int main(void)
{
	char ep[NBD_URI_HOST_MAX + 16];
	char longname[NBD_MAX_STRING * 3 + 64];
	size_t i;

	note("TCP");
	tcp_ok("nbd://example.com/disk", "example.com", 10809, "disk");
	tcp_ok("nbd://example.com", "example.com", 10809, "");
	tcp_ok("nbd://example.com/", "example.com", 10809, "");
	tcp_ok("nbd://127.0.0.1:10810/x", "127.0.0.1", 10810, "x");
	tcp_ok("nbd://host:/x", "host", 10809, "x");
	tcp_ok("nbd://example.com//disk", "example.com", 10809, "/disk");
	tcp_ok("nbd://example.com/hello%20world", "example.com", 10809,
	       "hello world");
	tcp_ok("NBD://Example.COM:1/a", "example.com", 1, "a");
	tcp_ok("nbd://[::1]:2000/e", "::1", 2000, "e");
	ok(u.ipv6, "  an IPv6 literal");
	tcp_ok("nbd://[0:0:0:0:0:0:0:1]/e", "::1", 10809, "e");
	tcp_ok("nbd://[FE80::A]/", "fe80::a", 10809, "");
	tcp_ok("nbd://h/a%2Fb?", "h", 10809, "a/b");
	is_str(nbd_uri_endpoint(&u, ep, sizeof(ep)), "h:10809",
	       "the endpoint of a TCP URI is HOST:PORT");
	parse("nbd://[::1]:7/");
	is_str(nbd_uri_endpoint(&u, ep, sizeof(ep)), "[::1]:7",
	       "an IPv6 endpoint is [ADDR]:PORT");

	note("Unix sockets");
	unix_ok("nbd+unix:///disk?socket=/run/nbd.sock", "/run/nbd.sock",
		"disk");
	unix_ok("nbd+unix://?socket=/tmp/s", "/tmp/s", "");
	unix_ok("nbd+unix:///?socket=/tmp/a%20b", "/tmp/a b", "");
	unix_ok("nbd+unix:///e?&socket=/s&", "/s", "e");
	unix_ok("NBD+UNIX:///E?socket=/S", "/S", "E");
	is_str(nbd_uri_endpoint(&u, ep, sizeof(ep)), "/S",
	       "the endpoint of a Unix URI is the socket path");

	note("refused: TLS, vsock, other schemes");
	bad("nbds://example.com/disk", ENOTSUP,
	    "TLS (nbds://) is not supported");
	bad("nbds+unix:///d?socket=/s", ENOTSUP, "TLS");
	bad("nbd+vsock://2/d", ENOTSUP, "vsock");
	bad("http://example.com/", EINVAL, "scheme 'http' is not an NBD one");
	bad("example.com:10809", EINVAL, "scheme 'example.com'");
	bad("/tmp/sock", EINVAL, "not a URI");
	bad("", EINVAL, "not a URI");
	bad("nbd:example.com", EINVAL, "expected '//' after 'nbd:'");
	bad("nbd://h/?tls-type=x509", ENOTSUP, "'tls-type': TLS is not");
	bad("nbd://user@h/", ENOTSUP, "user name");

	note("refused: bad hosts and ports");
	bad("nbd:///disk", EINVAL, "nbd:// needs a host");
	bad("nbd://h:0/", EINVAL, "port '0' is not a number");
	bad("nbd://h:65536/", EINVAL, "port '65536'");
	bad("nbd://h:99999999999999999999/", EINVAL, "is not a number");
	bad("nbd://h:1x/", EINVAL, "port '1x'");
	bad("nbd://h:-1/", EINVAL, "port '-1'");
	bad("nbd://[::1/", EINVAL, "without its ']'");
	bad("nbd://[::g]/", EINVAL, "'::g' is not an IPv6 address");
	bad("nbd://[fe80::1%25eth0]/", EINVAL, "zone names");
	bad("nbd://[::1]x/", EINVAL, "expected ':PORT'");
	bad("nbd://h%2Fx/", EINVAL, "is not a host name or address");
	bad("nbd://h%00/", EINVAL, "is not a host name");
	bad("nbd://-h/", EINVAL, "is not a host name");
	bad("nbd://a:b:c/", EINVAL, "port 'b:c'");

	note("refused: sockets and query parameters");
	bad("nbd+unix:///disk", EINVAL, "needs ?socket=PATH");
	bad("nbd+unix://host/d?socket=/s", EINVAL, "takes no host ('host')");
	bad("nbd+unix:///d?socket=rel/s", EINVAL, "'rel/s' is not absolute");
	bad("nbd+unix:///d?socket=", EINVAL, "'' is not absolute");
	bad("nbd+unix:///d?socket=%00/abstract", ENOTSUP, "abstract");
	bad("nbd+unix:///d?socket=/a%00b", EINVAL, "contains NUL");
	bad("nbd+unix:///d?socket=/a&socket=/b", EINVAL, "given twice");
	bad("nbd://h/d?socket=/s", EINVAL, "for nbd+unix:// URIs only");
	bad("nbd://h/d?foo=1", EINVAL, "unknown query parameter 'foo'");
	bad("nbd://h/d?x-experiment", EINVAL,
	    "unknown query parameter 'x-experiment'");
	bad("nbd://h/d?%01=1", EINVAL, "unknown query parameter '?'");
	bad("nbd://h/d#frag", EINVAL, "fragment");
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "nbd+unix:///d?socket=/", 22);
	longname[22 + NBD_URI_SOCKET_MAX] = '\0';
	bad(longname, EINVAL, "the socket path is longer than 107 bytes");

	note("refused: encoding and export names");
	bad("nbd://h/a b", EINVAL, "character 10 must be percent-encoded");
	bad("nbd://h/\x7f", EINVAL, "must be percent-encoded");
	bad("nbd://h/\xc3\xa9", EINVAL, "must be percent-encoded");
	bad("nbd://h/a%2", EINVAL, "the export name: '%' is not followed");
	bad("nbd://h/a%zz", EINVAL, "two hex digits");
	bad("nbd://h/a%00b", EINVAL, "the export name contains NUL");
	tcp_ok("nbd://h/%C3%A9", "h", 10809, "\xc3\xa9");
	/* 4096 bytes of name are fine, 4097 are not */
	memcpy(longname, "nbd://h/", 8);
	memset(longname + 8, 'n', NBD_MAX_STRING);
	longname[8 + NBD_MAX_STRING] = '\0';
	ok(parse(longname) == 0 && strlen(u.export_name) == NBD_MAX_STRING,
	   "a %u-byte export name is accepted", NBD_MAX_STRING);
	longname[8 + NBD_MAX_STRING] = 'n';
	longname[9 + NBD_MAX_STRING] = '\0';
	bad(longname, EINVAL, "the export name is longer than 4096 bytes");
	for (i = 0; i < NBD_MAX_STRING; i++)
		memcpy(longname + 8 + 3 * i, "%41", 3);
	longname[8 + 3 * NBD_MAX_STRING] = '\0';
	ok(parse(longname) == 0 && strlen(u.export_name) == NBD_MAX_STRING,
	   "a fully percent-encoded %u-byte name is accepted", NBD_MAX_STRING);
	memset(longname, 'a', sizeof(longname) - 1);
	memcpy(longname, "nbd://h/", 8);
	longname[sizeof(longname) - 1] = '\0';
	bad(longname, EINVAL, "longer than");
	return done_testing();
}
