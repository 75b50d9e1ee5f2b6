// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the policy parser: any bytes as a policy file,
 * then (when it parses) evaluation for two users, every value and rule
 * printed, and a check of a request.  ASan and UBSan do the judging;
 * the invariants below abort on a parser that accepts what it reports
 * as an error, or the reverse.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gid_t groups[] = { 100, 2000 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_user users[2] = {
		{ .uid = 1000,
		  .gid = 100,
		  .known = true,
		  .name = "alice",
		  .home = "/home/alice",
		  .groups = groups,
		  .nr_groups = 2 },
		{ .uid = 4242, .gid = 4242 },
	};
	char buf[POLICY_VALUE_MAX + PATH_MAX + 256];
	struct policy_request req = { 0 };
	struct policy_limits lim;
	struct policy p;
	struct uerr err;
	unsigned int n, u, k;

	policy_init(&p);
	n = policy_parse(&p, "fuzz.conf", (const char *)data, size);
	if (n != p.nr_errors)
		abort();
	for (u = 0; u < 2; u++) {
		int ret = policy_eval(&p, &users[u], &lim, &err);

		if ((ret == 0) != (p.nr_errors == 0))
			abort();
		for (k = 0; k < POLICY_NR_KEYS; k++) {
			policy_value_str(&lim, k, buf, sizeof(buf));
			policy_rule_str(&lim, k, buf, sizeof(buf));
		}
		req.target = "loop";
		req.backing = "/home/alice/disk.img";
		req.size = (uint64_t)size << 20;
		req.nr_queues = size % 17;
		req.queue_depth = size;
		req.flags = size & 1 ? 1ULL << 19 : 0;
		req.nr_devices = size % 5;
		req.locked = size << 10;
		req.shmem = size & 2 ? size << 12 : 0;
		req.container = size & 4;
		req.nbd_endpoint = size & 8 ? "/home/alice/nbd/x.sock" :
					      "127.0.0.1:10809";
		ret = policy_check(&lim, &users[u], &req, &err);
		if (ret < 0 && !err.msg[0])
			abort();
		if (!strcmp(lim.backing_dirs, "any") ||
		    !strcmp(lim.backing_dirs, "none"))
			continue;
		for (const char *l = lim.backing_dirs;
		     (l = policy_list_next(l, buf, sizeof(buf)));) {
			char out[PATH_MAX];

			policy_expand(buf, &users[u], out, sizeof(out), &err);
		}
	}
	policy_free(&p);
	return 0;
}
