// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/target.h"
#include "server/targets/names.h"

#define TARGET_OPS_ROW(t) &target_##t##_ops,

static const struct target_ops *const targets[] = {
	UBLK_USER_TARGETS(TARGET_OPS_ROW)
#ifdef UBLK_USER_TEST_HOOKS
		& target_fault_ops, /* test builds only */
#endif
};

#define NR_TARGETS (sizeof(targets) / sizeof(targets[0]))

const struct target_ops *target_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < NR_TARGETS; i++)
		if (!strcmp(targets[i]->name, name))
			return targets[i];
	return NULL;
}

const char *target_names(void)
{
	return TARGET_NAMES_TEXT;
}

void target_print_help(FILE *f)
{
	unsigned int i;

	fputs("\nTargets:\n", f);
	for (i = 0; i < NR_TARGETS; i++)
		fprintf(f, "  %-6s %s\n", targets[i]->name, targets[i]->help);
}

int target_opts_check(const struct target_ops *ops, const struct target_opts *o,
		      struct uerr *err)
{
	if (o->backing && ops->source != TARGET_SOURCE_FILE)
		return uerr_set(err, EINVAL,
				"the %s target takes no backing file (-f)",
				ops->name);
	if (!o->backing && ops->source == TARGET_SOURCE_FILE)
		return uerr_set(err, EINVAL,
				"the %s target needs a backing file (-f FILE)",
				ops->name);
	if (!o->uri && ops->source == TARGET_SOURCE_URI)
		return uerr_set(err, EINVAL,
				"the %s target needs --uri "
				"nbd://HOST[:PORT]/EXPORT or "
				"nbd+unix:///EXPORT?socket=PATH",
				ops->name);
	if (!o->size && ops->needs_size)
		return uerr_set(err, EINVAL, "the %s target needs --size",
				ops->name);
	if (o->offset && !ops->offsets)
		return uerr_set(err, EINVAL,
				"the %s target serves no part of a backing "
				"(--partition, --offset)",
				ops->name);
	return 0;
}

int target_open(struct target *t, const char *name, const struct target_opts *o,
		struct uerr *err)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->lbs_shift = 9;
	t->pbs_shift = 12;
	t->ops = target_find(name);
	if (!t->ops)
		return uerr_set(err, EINVAL, "unknown target '%s' (known: %s)",
				name, target_names());
	if (t->ops->priv_size) {
		t->priv = calloc(1, t->ops->priv_size);
		if (!t->priv)
			return uerr_sys(err, ENOMEM, "target %s", name);
	}
	ret = target_opts_check(t->ops, o, err);
	if (ret < 0)
		return ret;
	ret = t->ops->open(t, o, err);
	if (ret == 0 && o->read_only) {
		t->attrs |= UBLK_ATTR_READ_ONLY;
		t->discard = false;
	}
	return ret;
}

void target_close(struct target *t)
{
	if (t->ops && t->ops->close && (t->priv || !t->ops->priv_size))
		t->ops->close(t);
	free(t->priv);
	t->priv = NULL;
}

const char *target_backing(const struct target *t)
{
	return t->ops->backing ? t->ops->backing(t) : NULL;
}
