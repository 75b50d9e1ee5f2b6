// SPDX-License-Identifier: MIT
/*
 * Names in the policy: users and groups of section headers (through NSS,
 * as the root udev helper sees them), the targets named in "targets", and
 * the user a decision is about.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "server/targets/names.h"

static void resolve_section(struct policy *p, struct policy_section *s)
{
	const char *file = p->files[s->file];
	struct passwd *pw;
	struct group *gr;

	if (s->has_id ||
	    (s->scope != POLICY_SCOPE_GROUP && s->scope != POLICY_SCOPE_USER))
		return;
	errno = 0;
	if (s->scope == POLICY_SCOPE_GROUP) {
		gr = getgrnam(s->name);
		if (gr) {
			s->has_id = true;
			s->id = gr->gr_gid;
		} else if (errno && errno != ENOENT && errno != ESRCH) {
			policy_error(p, file, s->line,
				     "cannot look up group '%s': %s", s->name,
				     strerror(errno));
		} else {
			policy_error(p, file, s->line, "unknown group '%s'",
				     s->name);
		}
		return;
	}
	pw = getpwnam(s->name);
	if (pw) {
		s->has_id = true;
		s->id = pw->pw_uid;
	} else if (errno && errno != ENOENT && errno != ESRCH) {
		policy_error(p, file, s->line, "cannot look up user '%s': %s",
			     s->name, strerror(errno));
	} else {
		policy_error(p, file, s->line, "unknown user '%s'", s->name);
	}
}

static void check_targets(struct policy *p, const struct policy_section *s)
{
	const struct policy_setting *t = &s->set[POLICY_TARGETS];
	char item[POLICY_VALUE_MAX];
	const char *list = t->text;

	if (!t->line || !list || !strcmp(list, "any"))
		return;
	while ((list = policy_list_next(list, item, sizeof(item))))
		if (!target_name_known(item))
			policy_error(p, p->files[s->file], t->line,
				     "targets: unknown target '%s' (known: "
				     "%s)",
				     item, TARGET_NAMES_TEXT);
}

void policy_resolve(struct policy *p)
{
	unsigned int i;

	for (i = 0; i < p->nr_sections; i++) {
		resolve_section(p, &p->sections[i]);
		check_targets(p, &p->sections[i]);
	}
}

/* The supplementary groups of name (primary group gid included) */
static int user_groups(struct policy_user *u, const char *name, gid_t gid,
		       struct uerr *err)
{
	int n = 32, want;
	gid_t *g = NULL, *ng;

	for (;;) {
		ng = realloc(g, n * sizeof(*g));
		if (!ng) {
			free(g);
			return uerr_sys(err, ENOMEM, "groups of %s", name);
		}
		g = ng;
		want = n;
		if (getgrouplist(name, gid, g, &want) >= 0) {
			n = want;
			break;
		}
		if (want <= n || want > 65536 + 1) {
			free(g);
			return uerr_set(err, EIO,
					"cannot list the groups of user %s",
					name);
		}
		n = want;
	}
	u->groups = g;
	u->nr_groups = n;
	return 0;
}

int policy_user_get(struct policy_user *u, uid_t uid, gid_t gid,
		    struct uerr *err)
{
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	u->uid = uid;
	u->gid = gid;
	errno = 0;
	pw = getpwuid(uid);
	if (!pw) {
		if (errno && errno != ENOENT && errno != ESRCH)
			return uerr_sys(err, errno, "cannot look up uid %u",
					(unsigned int)uid);
		/* No passwd entry: [default] and numeric sections apply. */
		return 0;
	}
	u->known = true;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	snprintf(u->home, sizeof(u->home), "%s", pw->pw_dir);
	return user_groups(u, u->name, pw->pw_gid, err);
}

int policy_user_by_name(struct policy_user *u, const char *name,
			struct uerr *err)
{
	struct passwd *pw;
	char *end;
	unsigned long v;

	memset(u, 0, sizeof(*u));
	errno = 0;
	pw = getpwnam(name);
	if (pw)
		return policy_user_get(u, pw->pw_uid, pw->pw_gid, err);
	if (errno && errno != ENOENT && errno != ESRCH)
		return uerr_sys(err, errno, "cannot look up user %s", name);
	errno = 0;
	v = strtoul(name, &end, 10);
	if (*name && !*end && !errno && v < UINT32_MAX) {
		pw = getpwuid(v);
		return policy_user_get(u, v, pw ? pw->pw_gid : (gid_t)-1, err);
	}
	return uerr_set(err, ENOENT, "no user '%s'", name);
}

void policy_user_free(struct policy_user *u)
{
	free(u->groups);
	u->groups = NULL;
	u->nr_groups = 0;
}

const char *policy_group_name(gid_t gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (gr)
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "%u", (unsigned int)gid);
	return buf;
}
