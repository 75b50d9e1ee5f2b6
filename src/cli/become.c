// SPDX-License-Identifier: MIT
/* Root becomes a user, a subordinate uid with its range owner's groups (cli.h) */
#include <pwd.h>
#include <stdio.h>

#include "cli/cli.h"
#include "host/caps.h"
#include "policy/account.h"

static void range_owner(const char *ids, char *buf, size_t len)
{
	struct accounts a;
	struct passwd *pw;
	struct uerr err;
	uid_t uid, acct;
	gid_t gid;

	buf[0] = '\0';
	/* A name has its own groups, and so has a uid with a passwd entry. */
	if (!caps_parse_ids(ids, &uid, &gid) || getpwuid(uid))
		return;
	/* No trusted, unambiguous range: no groups (the policy says why). */
	accounts_load(&a, SUBUID_FILE, SUBGID_FILE);
	if (account_uid(&a, uid, &acct, &err) == 0 && acct != uid) {
		pw = getpwuid(acct);
		if (pw)
			snprintf(buf, len, "%s", pw->pw_name);
	}
	accounts_free(&a);
}

int cli_become_user(const char *user, struct uerr *err)
{
	char owner[256];

	range_owner(user, owner, sizeof(owner));
	return caps_become_user(user, owner, err);
}
