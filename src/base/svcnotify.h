/* SPDX-License-Identifier: MIT */
/*
 * Telling the service manager how a service is doing (READY=1, STATUS=,
 * STOPPING=1): systemd's notify protocol, one datagram to the AF_UNIX
 * socket that $NOTIFY_SOCKET names.
 *
 * Written here rather than linked from libsystemd: the protocol is small
 * and stable (systemd documents it as the interface, sd_notify(3)), and
 * libsystemd would load libgcrypt, liblzma, libzstd, liblz4 and more into
 * every ublk-user process, confined servers and root's `up --system`
 * included, for this one call (the lesson of CVE-2024-3094).
 */
#ifndef UBLK_USER_SVCNOTIFY_H
#define UBLK_USER_SVCNOTIFY_H

#define SVCNOTIFY_PRINTF __attribute__((format(printf, 1, 2)))

/*
 * Send the state, printf-formatted ("READY=1\nSTATUS=..."), to
 * $NOTIFY_SOCKET: a path, or "@name" for an abstract socket.  Returns 1
 * when it was sent, 0 when there is no $NOTIFY_SOCKET (nobody to tell),
 * -errno when it could not be: -EAFNOSUPPORT for an address of another
 * kind (vsock:...), -EINVAL for one that is empty, relative or too long;
 * the errno of sendto(2) when nobody listens there.
 */
int svc_notify(const char *fmt, ...) SVCNOTIFY_PRINTF;

#endif
