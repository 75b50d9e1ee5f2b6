// SPDX-License-Identifier: MIT
/* What may this user do: the user, the policy, the limits, in one call. */
#include <string.h>

#include "policy/account.h"
#include "policy/policy.h"

static int find_user(struct policy_user *u, const struct policy_who *who,
		     struct uerr *err)
{
	if (who->name)
		return policy_user_by_name(u, who->name, err);
	return policy_user_get(u, who->uid, who->gid, err);
}

/* A device's owner: its account needs the policy (is there a section?) */
static int ask_for_owner(struct policy_answer *a, const char *dir, uid_t owner,
			 const struct policy_who *who, struct uerr *err)
{
	int ret;

	a->valid = policy_load(&a->policy, dir, owner) == 0;
	if (!a->valid)
		return policy_invalid_error(&a->policy, err);
	ret = account_user(who->owner_of, &a->policy, who->uid, who->gid,
			   &a->user, a->how, sizeof(a->how), err);
	if (ret < 0)
		return ret;
	a->have_user = true;
	return policy_eval(&a->policy, &a->user, &a->lim, err);
}

int policy_ask(struct policy_answer *a, const char *dir, uid_t owner,
	       const struct policy_who *who, struct uerr *err)
{
	int ret;

	memset(a, 0, sizeof(*a));
	policy_init(&a->policy);
	policy_defaults(&a->lim);
	a->lim.allow = false; /* until the policy says otherwise */
	if (who->owner_of)
		return ask_for_owner(a, dir, owner, who, err);
	ret = find_user(&a->user, who, err);
	if (ret < 0)
		return ret;
	a->have_user = true;
	a->valid = policy_load(&a->policy, dir, owner) == 0;
	/* An invalid policy: -EACCES, and limits that allow nothing */
	return policy_eval(&a->policy, &a->user, &a->lim, err);
}

void policy_answer_free(struct policy_answer *a)
{
	policy_user_free(&a->user);
	policy_free(&a->policy);
}
