/* SPDX-License-Identifier: MIT */
/*
 * Privilege, held briefly and visibly (libcap-ng).  Nothing is setuid.
 * The one capability ublk-user may hold is CAP_IPC_LOCK, as a file
 * capability or kept by root when it becomes a user; it is used to lock
 * and register I/O memory during a server's setup and dropped after.
 */
#ifndef UBLK_USER_CAPS_H
#define UBLK_USER_CAPS_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/err.h"

/*
 * First thing in every program: fds 0-2 open, inherited fds closed, umask
 * 077, no new privileges, no ambient or inheritable capabilities, and, if
 * a capability other than CAP_IPC_LOCK is held by a non-root caller,
 * refuse.  While a capability is held: environment reduced to a known
 * list, process not dumpable.  The process is named after argv[0].
 */
int caps_startup(struct uerr *err);

/* With CAP_SYS_ADMIN the kernel makes privileged devices instead. */
bool caps_have_sys_admin(void);
bool caps_have_ipc_lock(void);
bool caps_is_root(void);

/* "UID:GID", both numeric: true and the ids */
bool caps_parse_ids(const char *s, uid_t *uid, gid_t *gid);

/*
 * Root only: become USER (name or uid, with its groups; or "UID:GID",
 * numeric, with the groups of UID's passwd entry, else those of the
 * account groups_of names, else none), keeping only
 * CAP_IPC_LOCK, so that the kernel records the devices as that user's,
 * and leaving root's session keyring.  Also works for uid 0 (root without
 * CAP_SYS_ADMIN makes unprivileged devices) and for the ids a process
 * already has (only the capabilities go; groups and XDG_RUNTIME_DIR
 * stay).  XDG_RUNTIME_DIR becomes the user's /run/user/UID, or is unset
 * where there is none (state_runtime_of): nothing is made for the user as
 * root.  A caller that is not root and already has USER's ids gets 0 and
 * nothing changes.  Returns 1 when the ids changed.
 */
int caps_become_user(const char *user, const char *groups_of, struct uerr *err);

/*
 * After caps_become_user() returned 1: run this program again from the
 * start, with the same arguments and the (reduced) environment, keeping
 * CAP_IPC_LOCK through the ambient set.  Nothing of root's memory, of its
 * environment or of the files it opened (but 0-2) is left in the new
 * image, and so in the servers it starts.  Returns only on failure.
 */
int caps_reexec(struct uerr *err);

/* Drop every capability of the calling thread; dumpable again after. */
int caps_drop_thread(struct uerr *err);

#endif
