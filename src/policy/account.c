// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/account.h"

void accounts_load(struct accounts *a, const char *subuid, const char *subgid)
{
	memset(a, 0, sizeof(*a));
	a->uid_ret = subid_load(&a->uid, subuid, &a->uid_err);
	a->gid_ret = subid_load(&a->gid, subgid, &a->gid_err);
}

void accounts_free(struct accounts *a)
{
	subid_free(&a->uid);
	subid_free(&a->gid);
}

/* An owner mapped to its account */
struct resolved {
	uid_t uid;			 /* the account */
	bool known;			 /* it has a passwd entry */
	gid_t pw_gid;			 /* its primary group, when known */
	const struct subid_range *range; /* the owner's range, if mapped */
};

static bool lookup_failed(void)
{
	return errno && errno != ENOENT && errno != ESRCH;
}

static bool numeric(const char *s, uint32_t *v)
{
	unsigned long n;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n > UINT32_MAX)
		return false;
	*v = (uint32_t)n;
	return true;
}

static int resolve(struct accounts *a, uid_t uid, struct resolved *r,
		   struct uerr *err)
{
	const struct subid_range *range;
	struct passwd *pw;
	uint32_t v;
	int ret;

	memset(r, 0, sizeof(*r));
	errno = 0;
	pw = getpwuid(uid);
	if (!pw && lookup_failed())
		return uerr_sys(err, errno, "cannot look up uid %u",
				(unsigned int)uid);
	if (pw) {
		r->uid = uid;
		r->known = true;
		r->pw_gid = pw->pw_gid;
		return 0;
	}
	if (a->uid_ret < 0)
		return uerr_set(err, EACCES,
				"uid %u has no passwd entry, and %s",
				(unsigned int)uid, a->uid_err.msg);
	ret = subid_find(&a->uid, uid, &range, err);
	if (ret < 0)
		return uerr_prefix(err, "uid %u has no passwd entry",
				   (unsigned int)uid);
	r->uid = uid;
	if (ret == 0)
		return 0;
	r->range = range;
	errno = 0;
	pw = getpwnam(range->owner);
	if (!pw && lookup_failed())
		return uerr_sys(err, errno, "cannot look up user %s",
				range->owner);
	if (!pw && numeric(range->owner, &v)) {
		errno = 0;
		pw = getpwuid(v);
		if (!pw && lookup_failed())
			return uerr_sys(err, errno, "cannot look up uid %u",
					(unsigned int)v);
		if (!pw) {
			r->uid = v; /* an account without a passwd entry */
			return 0;
		}
	}
	if (!pw)
		return uerr_set(err, EACCES,
				"uid %u is a subordinate uid of %s (%s:%u), "
				"which is no user here",
				(unsigned int)uid, range->owner, a->uid.path,
				range->line);
	r->uid = pw->pw_uid;
	r->known = true;
	r->pw_gid = pw->pw_gid;
	return 0;
}

int account_uid(struct accounts *a, uid_t uid, uid_t *acct, struct uerr *err)
{
	struct resolved r;

	if (resolve(a, uid, &r, err) < 0)
		return -EACCES;
	*acct = r.uid;
	return 0;
}

static bool has_user_section(const struct policy *p, uid_t uid)
{
	unsigned int i;

	for (i = 0; i < p->nr_sections; i++)
		if (p->sections[i].scope == POLICY_SCOPE_USER &&
		    p->sections[i].has_id && p->sections[i].id == uid)
			return true;
	return false;
}

static bool member(const struct policy_user *u, gid_t gid)
{
	unsigned int i;

	for (i = 0; i < u->nr_groups; i++)
		if (u->groups[i] == gid)
			return true;
	return false;
}

/* Is gid a subordinate gid?  1 yes, 0 no, -EACCES when we cannot tell. */
static int subordinate_gid(struct accounts *a, gid_t gid, struct uerr *err)
{
	const struct subid_range *range;
	int ret;

	if (a->gid_ret < 0)
		return uerr_set(err, EACCES, "gid %u: %s", (unsigned int)gid,
				a->gid_err.msg);
	ret = subid_find(&a->gid, gid, &range, err);
	return ret < 0 ? -EACCES : ret;
}

int account_user(struct accounts *a, const struct policy *p, uid_t uid,
		 gid_t gid, struct policy_user *u, char *how, size_t len,
		 struct uerr *err)
{
	struct resolved r;
	int ret;

	memset(u, 0, sizeof(*u));
	how[0] = '\0';
	if (resolve(a, uid, &r, err) < 0)
		return -EACCES;
	if (r.range)
		snprintf(how, len, "uid %u is a subordinate uid of %s (%s:%u)",
			 (unsigned int)uid, r.range->owner, a->uid.path,
			 r.range->line);
	if (!r.known && !has_user_section(p, r.uid))
		return uerr_set(err, EACCES,
				"%s%suid %u has no passwd entry, and the "
				"policy has no [user:%u] section",
				how, how[0] ? ": " : "", (unsigned int)r.uid,
				(unsigned int)r.uid);
	if (!r.known) {
		ret = subordinate_gid(a, gid, err);
		if (ret < 0)
			return -EACCES;
		if (policy_user_get(u, r.uid, ret ? (gid_t)-1 : gid, err) < 0)
			return -EACCES;
		return 0;
	}
	if (policy_user_get(u, r.uid, gid, err) < 0)
		return -EACCES;
	/* The device's gid is a group of the owner, unless subordinate. */
	if (gid == r.pw_gid || member(u, gid))
		return 0;
	ret = subordinate_gid(a, gid, err);
	if (ret < 0) {
		policy_user_free(u);
		return -EACCES;
	}
	if (ret)
		u->gid = r.pw_gid;
	return 0;
}
