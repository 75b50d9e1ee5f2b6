// SPDX-License-Identifier: MIT
/*
 * The OCI config and state as the hook reads and edits them
 * (src/containers/ocicfg.c), and CDI specs (src/containers/cdi.c).
 */
#include <string.h>

#include "tap.h"
#include "containers/cdi.h"
#include "base/json.h"
#include "containers/ocicfg.h"

static json_object *parse(const char *text)
{
	json_object *o;
	struct uerr err;

	if (ujson_parse(text, strlen(text), "test", &o, &err) < 0)
		bail_out("bad test JSON: %s", err.msg);
	return o;
}

static const char *str(json_object *o)
{
	return json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void test_user(void)
{
	struct oci_user u;
	struct uerr err;
	json_object *c;

	c = parse("{\"process\":{\"user\":{\"uid\":0,\"gid\":0}}}");
	ok(ocicfg_user(c, &u, &err) == 0, "root, no mappings");
	ok(u.out_uid == 0 && u.out_gid == 0, "  is 0:0 outside");
	json_object_put(c);

	c = parse("{\"process\":{\"user\":{\"uid\":2001,\"gid\":2001}},"
		  "\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":"
		  "1,\"size\":2001},{\"containerID\":2001,\"hostID\":0,"
		  "\"size\":1}],\"gidMappings\":[{\"containerID\":0,"
		  "\"hostID\":1,\"size\":2001},{\"containerID\":2001,"
		  "\"hostID\":0,\"size\":1}]}}");
	ok(ocicfg_user(c, &u, &err) == 0, "keep-id mappings");
	ok(u.uid == 2001 && u.out_uid == 0 && u.out_gid == 0, "  2001 in the "
							      "container is 0 "
							      "outside");
	json_object_put(c);

	c = parse("{\"process\":{\"user\":{\"uid\":5000,\"gid\":0}},"
		  "\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":"
		  "100000,\"size\":1000}]}}");
	ok(ocicfg_user(c, &u, &err) < 0, "a uid outside the mappings");
	contains(err.msg, "process.user.uid 5000 is not in linux.uidMappings",
		 "  says so");
	json_object_put(c);

	c = parse("{\"process\":{\"user\":{\"gid\":0}}}");
	ok(ocicfg_user(c, &u, &err) < 0, "no uid");
	contains(err.msg, "config.json: process.user.uid is missing",
		 "  names the field");
	json_object_put(c);
	c = parse("{\"process\":{\"user\":{\"uid\":\"0\",\"gid\":0}}}");
	ok(ocicfg_user(c, &u, &err) < 0, "a uid that is a string");
	contains(err.msg, "process.user.uid is not an integer", "  says so");
	json_object_put(c);
	c = parse("{\"process\":{\"user\":{\"uid\":-1,\"gid\":0}}}");
	ok(ocicfg_user(c, &u, &err) < 0, "a negative uid");
	json_object_put(c);
	c = parse("{}");
	ok(ocicfg_user(c, &u, &err) < 0, "no process");
	contains(err.msg, "config.json: process is missing", "  says so");
	json_object_put(c);
	c = parse("{\"process\":{\"user\":{\"uid\":0,\"gid\":0}},"
		  "\"linux\":{\"uidMappings\":[{\"containerID\":0,"
		  "\"size\":1}]}}");
	ok(ocicfg_user(c, &u, &err) < 0, "a mapping without hostID");
	contains(err.msg, "linux.uidMappings[0].hostID is missing",
		 "  names it with its index");
	json_object_put(c);
}

static void test_disks(void)
{
	struct disk_spec d[ANNOT_MAX_DISKS];
	unsigned int nr;
	struct uerr err;
	json_object *c;

	c = parse("{\"annotations\":{\"a\":\"b\"}}");
	ok(ocicfg_disks(c, d, &nr, &err) == 0 && nr == 0, "no disk asked for");
	json_object_put(c);
	c = parse("{\"annotations\":{\"io.ublk-user.disk.b\":\"size=1G\","
		  "\"io.ublk-user.disk\":\"size=4M,target=mem\"}}");
	ok(ocicfg_disks(c, d, &nr, &err) == 0 && nr == 2, "two disks");
	is_str(d[0].name, "b", "  sorted by name");
	json_object_put(c);
	c = parse("{\"annotations\":{\"io.ublk-user.disk\":\"size=1G\","
		  "\"path\":\"/dev/xvda\"}}");
	ok(ocicfg_disks(c, d, &nr, &err) < 0, "an annotation podman split");
	contains(err.msg, "podman split io.ublk-user.disk at its commas",
		 "  is explained");
	json_object_put(c);
	c = parse("{\"annotations\":{\"io.ublk-user.disk\":1}}");
	ok(ocicfg_disks(c, d, &nr, &err) < 0, "a number as annotation");
	contains(err.msg, "annotation io.ublk-user.disk is not a string",
		 "  says so");
	json_object_put(c);
	c = parse("[]");
	ok(ocicfg_disks(c, d, &nr, &err) < 0, "a config that is no object");
	json_object_put(c);
}

static void test_edit(void)
{
	struct uerr err;
	json_object *c;

	c = parse("{\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,"
		  "\"access\":\"rwm\"}]}},\"mounts\":[{\"destination\":"
		  "\"/proc\"}]}");
	ok(!ocicfg_path_taken(c, "/dev/xvda"), "a free path");
	ok(ocicfg_path_taken(c, "/proc"), "a mount destination is taken");
	ok(ocicfg_allow_device(c, 259, 3, &err) == 0, "allow a device "
						      "(rootful)");
	is_str(str(c),
	       "{\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,"
	       "\"access\":\"rwm\"},{\"allow\":true,\"type\":\"b\",\"major\":"
	       "259,\"minor\":3,\"access\":\"rw\"}]}},\"mounts\":[{"
	       "\"destination\":\"/proc\"}]}",
	       "  an allow rule for exactly b 259:3, and no node of its own");
	ok(!ocicfg_path_taken(c, "/dev/xvda"), "a rule takes no path");
	ok(ocicfg_add_bind(c, "/dev/xvda", "/dev/ublkb3", &err) == 0, "  the "
								      "host's "
								      "node is "
								      "bind-"
								      "mounte"
								      "d");
	ok(ocicfg_path_taken(c, "/dev/xvda"), "the device's path is taken now");
	json_object_put(c);

	c = parse("{}");
	ok(ocicfg_add_bind(c, "/dev/xvda", "/dev/ublkb3", &err) == 0, "add a "
								      "bind "
								      "mount "
								      "(rootles"
								      "s)");
	is_str(str(c),
	       "{\"mounts\":[{\"destination\":\"/dev/xvda\",\"type\":\"bind\","
	       "\"source\":\"/dev/ublkb3\",\"options\":[\"bind\",\"nosuid\","
	       "\"noexec\"]}]}",
	       "  of the host's node, nosuid and noexec");
	ok(ocicfg_set_annotation(c, ANNOT_KEY, "abc", &err) == 0, "set the key "
								  "annotation");
	is_str(ocicfg_annotation(c, ANNOT_KEY), "abc", "  and read it back");
	json_object_put(c);

	c = parse("{\"mounts\":{}}");
	ok(ocicfg_add_bind(c, "/dev/x", "/dev/ublkb0", &err) < 0, "mounts that "
								  "is not an "
								  "array");
	contains(err.msg, "mounts is not an array", "  says so");
	json_object_put(c);
	c = parse("{\"linux\":[]}");
	ok(ocicfg_allow_device(c, 1, 2, &err) < 0, "linux that "
						   "is not an "
						   "object");
	json_object_put(c);

	c = parse("{}");
	ok(ocicfg_add_failure(c, "refused:\nby the policy", &err) == 0, "a "
									"failur"
									"e "
									"moun"
									"t");
	is_str(str(c),
	       "{\"mounts\":[{\"destination\":\"/.ublk-user-oci-hook-failed\","
	       "\"type\":\"bind\",\"source\":\"/ublk-user-oci-hook: refused: "
	       "by the policy\",\"options\":[\"bind\",\"nosuid\","
	       "\"noexec\"]}]}",
	       "  its source names the reason, on one line");
	json_object_put(c);
}

static void test_state(void)
{
	struct oci_state s;
	struct uerr err;
	json_object *o;

	o = parse("{\"ociVersion\":\"1.0\",\"id\":\"c1\",\"pid\":42,"
		  "\"annotations\":{\"io.ublk-user.key\":\"k\"}}");
	ok(ocistate_parse(o, &s, &err) == 0, "a createRuntime state");
	ok(!strcmp(s.id, "c1") && s.pid == 42 && !strcmp(s.key, "k"), "  id, "
								      "pid and "
								      "key");
	json_object_put(o);
	o = parse("{\"id\":\"c1\",\"status\":\"stopped\"}");
	ok(ocistate_parse(o, &s, &err) == 0 && s.pid == 0 && !s.key[0],
	   "a poststop state without pid or key");
	json_object_put(o);
	o = parse("{\"pid\":1}");
	ok(ocistate_parse(o, &s, &err) < 0, "no id");
	contains(err.msg, "the OCI state has no id", "  says so");
	json_object_put(o);
	o = parse("{\"id\":\"c\",\"pid\":\"1\"}");
	ok(ocistate_parse(o, &s, &err) < 0, "a pid that is a string");
	json_object_put(o);
}

static void test_cdi(void)
{
	struct cdi_spec s;
	struct uerr err;
	json_object *o;

	ok(cdi_name_ok("data") && cdi_name_ok("a-b_1"), "CDI names");
	ok(!cdi_name_ok("") && !cdi_name_ok("-a") && !cdi_name_ok("A") &&
		   !cdi_name_ok("a/b"),
	   "bad CDI names");
	o = cdi_spec_json("my-data", 3, "0123abcd-0000-0000-0000-000000000000",
			  0, 0);
	is_str(str(o),
	       "{\"cdiVersion\":\"0.5.0\",\"kind\":\"ublk-user.io/disk\","
	       "\"devices\":[{\"name\":\"my-data\",\"containerEdits\":{"
	       "\"deviceNodes\":[{\"path\":\"/dev/ublkb3\",\"type\":\"b\","
	       "\"fileMode\":384,\"permissions\":"
	       "\"rw\",\"uid\":0,\"gid\":0}],\"env\":["
	       "\"UBLK_USER_DISK_UUID_MY_DATA=0123abcd-0000-0000-0000-"
	       "000000000000\"]}}]}",
	       "a CDI spec: kind, name, node (no number: podman reads the "
	       "host's), uuid");
	ok(cdi_spec_parse(o, &s, &err) == 0, "parses as ours");
	ok(!strcmp(s.name, "my-data") && s.dev_id == 3 &&
		   !strcmp(s.uuid, "0123abcd-0000-0000-0000-000000000000"),
	   "  name, device and uuid");
	json_object_put(o);
	o = parse("{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\"}");
	ok(cdi_spec_parse(o, &s, &err) < 0, "another kind is not ours");
	json_object_put(o);
}

int main(void)
{
	test_user();
	test_disks();
	test_edit();
	test_state();
	test_cdi();
	return done_testing();
}
