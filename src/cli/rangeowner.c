// SPDX-License-Identifier: MIT
/* Whose groups a subordinate uid gets when root becomes it (cli.h) */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "policy/account.h"

void cli_range_owner(const char *ids, char *buf, size_t len)
{
	struct accounts a;
	struct passwd *pw;
	struct uerr err;
	unsigned long n;
	uid_t acct;
	char *end;

	buf[0] = '\0';
	if (*ids < '0' || *ids > '9')
		return; /* a name: its own groups */
	errno = 0;
	n = strtoul(ids, &end, 10);
	if (errno || *end != ':' || n >= (uid_t)-1 || getpwuid((uid_t)n))
		return;
	/* No trusted, unambiguous range: no groups (the policy says why). */
	accounts_load(&a, SUBUID_FILE, SUBGID_FILE);
	if (account_uid(&a, (uid_t)n, &acct, &err) == 0 && acct != (uid_t)n) {
		pw = getpwuid(acct);
		if (pw)
			snprintf(buf, len, "%s", pw->pw_name);
	}
	accounts_free(&a);
}
