// SPDX-License-Identifier: MIT
/* Id mappings (src/host/idmap.c): /proc uid_map text and lookups. */
#include <stdint.h>
#include <unistd.h>

#include "tap.h"
#include "host/idmap.h"

int main(void)
{
	struct idmap m;
	struct uerr err;
	uint32_t v = 0, host = 0;

	ok(idmap_parse_proc(&m, "         0          0 4294967295\n", "map",
			    &err) == 0,
	   "the initial namespace's map");
	ok(idmap_to_outside(&m, 2001, &v) && v == 2001, "identity: 2001");
	ok(idmap_to_outside(&m, 4294967294U, &v) && v == 4294967294U, "identity"
								      ": the "
								      "largest "
								      "id");

	/* rootless podman: 0 -> the user, 1.. -> the subordinate range */
	ok(idmap_parse_proc(&m, "0 2001 1\n1 1048576 65536\n", "map", &err) ==
		   0,
	   "rootless podman's map");
	is_int(m.nr, 2, "two ranges");
	ok(idmap_to_outside(&m, 0, &v) && v == 2001, "0 is 2001 outside");
	ok(idmap_to_outside(&m, 1000, &v) && v == 1048576 + 999, "1000 is in "
								 "the "
								 "subordinate "
								 "range");
	ok(!idmap_to_outside(&m, 65537, &v), "65537 is not mapped");
	ok(idmap_to_inside(&m, 2001, &v) && v == 0, "2001 is 0 inside");
	ok(!idmap_to_inside(&m, 0, &v), "the host's root is not mapped");

	/* keep-id in the config, in terms of podman's namespace */
	m.nr = 0;
	ok(idmap_add(&m, 0, 1, 2001, "keep-id", &err) == 0 &&
		   idmap_add(&m, 2001, 0, 1, "keep-id", &err) == 0 &&
		   idmap_add(&m, 2002, 2002, 63535, "keep-id", &err) == 0,
	   "podman's --userns=keep-id mappings");
	ok(idmap_to_outside(&m, 2001, &v) && v == 0, "the user's id is "
						     "podman's root");
	ok(idmap_to_outside(&m, 0, &v) && v == 1, "container root is 1");

	ok(idmap_add(&m, 10, 5000, 1, "x", &err) < 0, "an overlap inside");
	contains(err.msg, "overlaps", "  says so");
	ok(idmap_add(&m, 70000, 0, 1, "x", &err) < 0, "an overlap outside");
	ok(idmap_add(&m, 70000, 90000, 0, "x", &err) < 0, "size 0");
	contains(err.msg, "size 0", "  says so");
	ok(idmap_add(&m, 4294967295U, 1, 2, "x", &err) < 0, "a range past the "
							    "largest id");
	ok(idmap_parse_proc(&m, "0 0\n", "bad", &err) < 0, "two numbers");
	contains(err.msg, "bad line 1", "  names the line");
	ok(idmap_parse_proc(&m, "0 0 1 x\n", "bad", &err) < 0, "trailing text");
	ok(idmap_parse_proc(&m, "0 0 99999999999\n", "bad", &err) < 0, "a "
								       "number "
								       "too "
								       "large");
	ok(idmap_parse_proc(&m, "", "empty", &err) == 0 && m.nr == 0, "an "
								      "empty "
								      "map "
								      "maps "
								      "nothin"
								      "g");

	ok(idmap_read_self(&m, false, &err) == 0, "our own uid_map reads");
	ok(idmap_to_outside(&m, geteuid(), &v), "and maps our uid");
	ok(idmap_host_euid(&host, &err) == 0 && host == v, "idmap_host_euid "
							   "agrees");
	ok(idmap_read_self(&m, true, &err) == 0 &&
		   idmap_to_outside(&m, getegid(), &v),
	   "our gid_map maps our gid");
	ok(idmap_host_egid(&host, &err) == 0 && host == v, "idmap_host_egid "
							   "agrees");
	return done_testing();
}
