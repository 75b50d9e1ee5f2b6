// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "server/target.h"
#include "server/targets/names.h"

#define TARGET_OPS_ROW(t) &target_##t##_ops,

static const struct target_ops *const targets[] = {
	UBLK_USER_TARGETS(TARGET_OPS_ROW)
#ifdef UBLK_USER_TEST_HOOKS
		& target_fault_ops, /* test builds only */
#endif
};

const struct target_ops *target_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		if (!strcmp(targets[i]->name, name))
			return targets[i];
	return NULL;
}

const char *target_names(void)
{
	return TARGET_NAMES_TEXT;
}

int target_open(struct target *t, const char *name, const struct target_opts *o,
		struct uerr *err)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->lbs_shift = 9;
	t->pbs_shift = 12;
	t->ops = target_find(name);
	if (!t->ops)
		return uerr_set(err, EINVAL, "unknown target '%s' (known: %s)",
				name, target_names());
	return t->ops->open(t, o, err);
}

void target_close(struct target *t)
{
	if (t->ops && t->ops->close)
		t->ops->close(t);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
