// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the JSON that root reads: container records (the
 * hook and gc, for rootful podman), CDI specs (gc), the OCI config and
 * state (the hook; their annotations are the user's), the output of
 * `ublk-user add` run as the disk's owner, and device records.  Any bytes
 * go through each parser; ASan and UBSan do the judging, and the checks
 * below abort on what a parser accepted but should not have, or a record
 * that does not survive being written and read again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "containers/cdi.h"
#include "containers/ctrrec.h"
#include "containers/ocicfg.h"
#include "host/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_key[] = "0123456789abcdef0123456789abcdef";

/* Written and read again, a record must be the same record. */
static void same_again(json_object *again, const void *a, const void *b,
		       size_t len)
{
	json_object_put(again);
	if (memcmp(a, b, len))
		abort();
}

/* o written as text, then parsed again */
static json_object *reparsed(json_object *o)
{
	const char *text;
	json_object *back;
	struct uerr err;

	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (!text || ujson_parse(text, strlen(text), "again", &back, &err) < 0)
		abort();
	json_object_put(o);
	return back;
}

static void fuzz_ctrrec(json_object *o)
{
	static struct ctr_record r, back;
	char key[64] = "";
	struct uerr err;
	json_object *j;
	unsigned int i;

	/* the record's own key, so that what follows the key check runs */
	if (json_object_is_type(o, json_type_object))
		ujson_str(o, "key", 0, key, sizeof(key),
			  &(struct ujson_where){ .src = "fuzz" }, &err);
	if (ctrrec_parse(o, key[0] ? key : fixed_key, &r, "fuzz", &err) < 0) {
		if (!err.msg[0])
			abort();
		return;
	}
	if (r.nr_disks > ANNOT_MAX_DISKS ||
	    (r.runtime_dir[0] && r.runtime_dir[0] != '/') ||
	    (r.data_dir[0] && r.data_dir[0] != '/'))
		abort();
	for (i = 0; i < r.nr_disks; i++)
		if (strchr(r.disks[i].file, '/') ||
		    !strcmp(r.disks[i].file, "..") || r.disks[i].dev_id < -1)
			abort();
	j = reparsed(ctrrec_json(&r));
	if (ctrrec_parse(j, r.key, &back, "again", &err) < 0)
		abort();
	same_again(j, &r, &back, sizeof(r));
}

static void fuzz_dev_record(json_object *o)
{
	static struct dev_record r, back;
	uint64_t id = 0;
	struct uerr err;
	json_object *j;

	if (json_object_is_type(o, json_type_object))
		ujson_u64(o, "dev_id", 0, UINT32_MAX, &id,
			  &(struct ujson_where){ .src = "fuzz" }, &err);
	if (record_parse(o, id, &r, "fuzz", &err) < 0) {
		if (!err.msg[0])
			abort();
		return;
	}
	if (r.server_pid < 0)
		abort();
	j = reparsed(record_json(&r));
	if (record_parse(j, r.dev_id, &back, "again", &err) < 0)
		abort();
	same_again(j, &r, &back, sizeof(r));
}

static void fuzz_cdi(json_object *o)
{
	struct cdi_spec s, back;
	struct uerr err;
	json_object *j;

	memset(&s, 0, sizeof(s));
	if (cdi_spec_parse(o, &s, &err) < 0)
		return;
	if (!cdi_name_ok(s.name) || strlen(s.uuid) != 36)
		abort();
	j = reparsed(cdi_spec_json(s.name, s.dev_id, s.uuid, 0, 0));
	if (cdi_spec_parse(j, &back, &err) < 0)
		abort();
	same_again(j, &s, &back, sizeof(s));
}

static void fuzz_oci(json_object *o)
{
	struct disk_spec disks[ANNOT_MAX_DISKS];
	struct oci_state st;
	struct oci_user u;
	unsigned int nr;
	struct uerr err;

	if (ocicfg_disks(o, disks, &nr, &err) == 0 && nr > ANNOT_MAX_DISKS)
		abort();
	ocicfg_user(o, &u, &err);
	ocicfg_annotation(o, ANNOT_KEY);
	if (ocistate_parse(o, &st, &err) == 0 && st.pid < 0)
		abort();
	if (!json_object_is_type(o, json_type_object))
		return;
	/* what the hook then does to the config */
	ocicfg_allow_device(o, 259, 1, &err);
	if (ocicfg_add_bind(o, "/dev/xvdy", "/dev/ublkb1", &err) == 0 &&
	    !ocicfg_path_taken(o, "/dev/xvdy"))
		abort();
	ocicfg_set_annotation(o, ANNOT_KEY, fixed_key, &err);
	ocicfg_add_failure(o, "fuzz", &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctr_disk d = { .dev_id = -1 };
	struct uerr err;
	json_object *o;

	err.msg[0] = '\0';
	if (ctrrec_parse_added((const char *)data, size, &d, &err) < 0) {
		if (!err.msg[0] || d.dev_id != -1)
			abort();
	} else if (d.dev_id < 0 || d.dev_id > UINT32_MAX || !d.uuid[0]) {
		abort();
	}
	if (ujson_parse((const char *)data, size, "fuzz", &o, &err) < 0)
		return 0;
	fuzz_ctrrec(o);
	fuzz_dev_record(o);
	fuzz_cdi(o);
	fuzz_oci(o);
	json_object_put(o);
	return 0;
}
