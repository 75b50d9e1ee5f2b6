/* SPDX-License-Identifier: MIT */
/*
 * Whose limits apply to a device: its owner as the kernel recorded it
 * (a uid and gid on the host), mapped back to an account.
 *
 *  - A uid with a passwd entry is its own account.
 *  - A uid without one that is in a range of /etc/subuid belongs to the
 *    range's owner (a user name, or a numeric uid): a user who becomes one
 *    of her subordinate uids in a user namespace stays under her own
 *    limits, and her devices are counted together.  An owner that is no
 *    user here refuses the device.
 *  - Any other uid without a passwd entry is its own account, and a device
 *    of it is refused unless the policy has a [user:UID] section for it.
 *
 * The device's gid counts as one of the account's groups unless it is a
 * subordinate gid (/etc/subgid): a subordinate gid is no group.  When the
 * files are needed and cannot be trusted (subid.h), the device is refused.
 */
#ifndef UBLK_USER_ACCOUNT_H
#define UBLK_USER_ACCOUNT_H

#include <stdbool.h>
#include <sys/types.h>

#include "policy/policy.h"
#include "policy/subid.h"

struct accounts {
	struct subid_map uid, gid;
	int uid_ret, gid_ret; /* from subid_load: < 0 when not trusted */
	struct uerr uid_err, gid_err;
};

/* Read /etc/subuid and /etc/subgid (or the given files, for tests). */
void accounts_load(struct accounts *a, const char *subuid, const char *subgid);
void accounts_free(struct accounts *a);

/*
 * The account of a device owned by uid, for counting: 0 and *acct, or
 * -EACCES with the reason (an owner that is no user, an untrusted or
 * ambiguous /etc/subuid, a failed lookup).
 */
int account_uid(struct accounts *a, uid_t uid, uid_t *acct, struct uerr *err);

/*
 * The user whose limits under p apply to a device of uid:gid: 0 with u
 * filled (u->uid is the account's uid; policy_user_free it), and in how
 * (len bytes) "" or how the owner was mapped, e.g. "uid 1048577 is a
 * subordinate uid of alice (/etc/subuid:1)".  -EACCES with the reason
 * when the device may not be decided for anyone.
 */
int account_user(struct accounts *a, const struct policy *p, uid_t uid,
		 gid_t gid, struct policy_user *u, char *how, size_t len,
		 struct uerr *err);

#endif
