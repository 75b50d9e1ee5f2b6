// SPDX-License-Identifier: MIT
/*
 * ublk-user-oci-hook: per-container disks for podman (ublk-user-oci-hook(1)).
 *
 *   precreate      config.json on stdin: create the disks the annotations
 *                  ask for (as the container's user, through `ublk-user
 *                  add --user`), put each into the config, print it
 *   createRuntime  OCI state on stdin: bind the record to the container's
 *                  id and pid (once: never to another container)
 *   poststop       OCI state on stdin: `ublk-user gc --container ID`
 *
 * podman shows nothing of what a precreate hook writes to stderr, so a
 * failed precreate prints the config with a mount that cannot succeed and
 * names the reason: the runtime's error carries it to the user.
 *
 * The record key (io.ublk-user.key) is a secret: whoever could put it on
 * another container could take this one's disks.  It is never on a
 * command line (every local user reads those); `ublk-user` gets what it
 * needs on stdin.  Every `ublk-user` we run is killed at a deadline: it
 * runs as the disk's owner, who can stop it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "containers/annot.h"
#include "containers/ctrrec.h"
#include "containers/ocicfg.h"
#include "containers/runcli.h"
#include "base/child.h"
#include "host/caps.h"
#include "host/idmap.h"
#include "base/json.h"
#include "base/privdir.h"
#include "host/state.h"

#ifndef UBLK_USER_CLI
#define UBLK_USER_CLI "/usr/bin/ublk-user"
#endif

#define INPUT_MAX (16 << 20)
#define ROOTFUL_DATA_DIR "/var/lib/ublk-user/containers"
#define DEFAULT_TIMEOUT_S 60
#define MAX_TIMEOUT_S 3600

static const char usage[] =
	"Usage: ublk-user-oci-hook [--strict] [--data-dir DIR] [--cli PATH]\n"
	"                          [--timeout SECONDS]\n"
	"                          precreate|createRuntime|poststop\n"
	"\n"
	"The podman hook of ublk-user: disks for containers that ask for them\n"
	"with the annotation io.ublk-user.disk.  See ublk-user-oci-hook(1).\n";

struct hook {
	bool strict; /* precreate errors: exit 1 instead of a failing config */
	const char *data_dir; /* base of per-container directories */
	const char *cli;
	long timeout_ms; /* precreate's work; its cleanup; poststop's gc */
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("ublk-user-oci-hook: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int read_stdin(char **buf, size_t *len, struct uerr *err)
{
	size_t cap = 65536, got = 0;
	char *b = malloc(cap), *nb;
	ssize_t n;

	if (!b)
		return uerr_sys(err, ENOMEM, "stdin");
	for (;;) {
		if (got == cap) {
			if (cap >= INPUT_MAX) {
				free(b);
				return uerr_set(err, EFBIG,
						"stdin is larger than %d bytes",
						INPUT_MAX);
			}
			cap *= 2;
			nb = realloc(b, cap);
			if (!nb) {
				free(b);
				return uerr_sys(err, ENOMEM, "stdin");
			}
			b = nb;
		}
		n = read(0, b + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(b);
			return uerr_sys(err, errno, "cannot read stdin");
		}
		if (n == 0)
			break;
		got += n;
	}
	*buf = b;
	*len = got;
	return 0;
}

/* The whole config on stdout; false if it did not get out. */
static bool print_json(json_object *o)
{
	const char *text = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(text), done = 0;
	ssize_t n;

	while (done < len) {
		n = write(1, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += n;
	}
	return write(1, "\n", 1) == 1;
}

/* precreate could not do its work: say why, so that podman shows it. */
static int precreate_fail(const struct hook *h, json_object *cfg,
			  const struct uerr *why)
{
	struct uerr err;

	say("%s", why->msg);
	if (h->strict || !cfg)
		return 1;
	if (ocicfg_add_failure(cfg, why->msg, &err) < 0) {
		say("%s", err.msg);
		return 1;
	}
	return print_json(cfg) ? 0 : 1;
}

/*
 * `ublk-user gc [OPT [ARG]]` with input on its stdin, killed at deadline
 * (its own errors go to our stderr)
 */
static int run_gc(const struct hook *h, const char *opt, const char *arg,
		  const char *input, long deadline)
{
	char *argv[] = { "ublk-user", "gc", (char *)opt, (char *)arg, NULL };
	struct runcli_job job = { .prog = h->cli,
				  .argv = argv,
				  .input = input,
				  .deadline_ms = deadline };
	struct runcli_out *o = malloc(sizeof(*o));
	struct uerr err;
	int ret;

	if (!o)
		return -ENOMEM;
	ret = runcli(&job, o, &err);
	if (ret < 0)
		say("%s", err.msg);
	else if (o->status)
		say("ublk-user gc: %s", runcli_reason(o));
	ret = ret < 0 ? ret : o->status ? -1 : 0;
	free(o);
	return ret;
}

/* The ids of the disks' owner, in our user namespace and on the host */
struct owner {
	uid_t uid;
	gid_t gid;
	uint32_t host_uid, host_gid;
	bool rootless; /* we are not root on the host */
	uint32_t our_host_uid;
};

static int find_owner(json_object *cfg, struct owner *ow, struct uerr *err)
{
	struct oci_user u;
	struct idmap um, gm;
	int ret;

	ret = ocicfg_user(cfg, &u, err);
	if (ret < 0)
		return ret;
	ret = idmap_read_self(&um, false, err);
	if (ret == 0)
		ret = idmap_read_self(&gm, true, err);
	if (ret < 0)
		return ret;
	ow->uid = u.out_uid;
	ow->gid = u.out_gid;
	if (!idmap_to_outside(&um, u.out_uid, &ow->host_uid) ||
	    !idmap_to_outside(&gm, u.out_gid, &ow->host_gid))
		return uerr_set(err, EINVAL,
				"the container's user %u:%u (%u:%u outside "
				"it) has no id on the host",
				u.uid, u.gid, u.out_uid, u.out_gid);
	if (!idmap_to_outside(&um, geteuid(), &ow->our_host_uid))
		return uerr_set(err, EINVAL, "our own uid is not mapped");
	ow->rootless = ow->our_host_uid != 0;
	/*
	 * A rootless podman can only act as its user: the container's other
	 * ids belong to subordinate ranges, which cannot reach the user's
	 * runtime directory.
	 */
	if (ow->rootless && (ow->uid != geteuid() || ow->gid != getegid()))
		return uerr_set(err, EPERM,
				"the container runs as %u:%u, host ids %u:%u: "
				"rootless podman can give a disk only to a "
				"process that runs as the user who runs podman "
				"(host uid %u), i.e. as the container's root, "
				"or as yourself with --userns=keep-id",
				u.uid, u.gid, ow->host_uid, ow->host_gid,
				ow->our_host_uid);
	return 0;
}

/* The base of per-container directories, created for us */
static int data_base(const struct hook *h, const struct owner *ow, char *buf,
		     size_t len, struct uerr *err)
{
	struct privdir_rule rule = { .uid = geteuid(),
				     .gid = (gid_t)-1,
				     .deny = 022 };
	struct passwd *pw;
	int ret;

	if (h->data_dir) {
		snprintf(buf, len, "%s", h->data_dir);
	} else if (!ow->rootless) {
		snprintf(buf, len, "%s", ROOTFUL_DATA_DIR);
	} else {
		pw = getpwuid(ow->our_host_uid);
		if (!pw || pw->pw_dir[0] != '/')
			return uerr_set(err, ENOENT,
					"host uid %u has no home directory "
					"for its disks' files",
					ow->our_host_uid);
		snprintf(buf, len, "%s/.local/share/ublk-user/containers",
			 pw->pw_dir);
	}
	if (buf[0] != '/')
		return uerr_set(err, EINVAL, "--data-dir %s is not absolute",
				buf);
	/* mkdir -p; the last level lets owners reach their own directory */
	rule.mode = ow->rootless ? 0700 : 0711;
	ret = privdir_make_parents(buf, 0755, err);
	if (ret == 0)
		ret = privdir_check(buf, &rule, PRIVDIR_CREATE, err);
	return ret;
}

/* The container's own directory, new, the disks' owner's, 0700 */
static int make_owned_dir(const char *path, const struct owner *ow,
			  struct uerr *err)
{
	const struct privdir_rule rule = {
		.uid = ow->uid, .gid = ow->gid, .mode = 0700, .deny = 077
	};

	return privdir_check(path, &rule, PRIVDIR_CREATE | PRIVDIR_EXCL, err);
}

static int make_backing(const char *dir, const struct disk_spec *d,
			const struct owner *ow, struct uerr *err)
{
	char path[PATH_MAX + ANNOT_FILE_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, d->file);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return uerr_sys(err, errno, "cannot create %s", path);
	if (ftruncate(fd, d->size) < 0 || fchown(fd, ow->uid, ow->gid) < 0) {
		uerr_sys(err, errno, "cannot set up %s", path);
		close(fd);
		unlink(path);
		return -err->code;
	}
	close(fd);
	return 0;
}

/*
 * What `add --container` reads on stdin: the device's uuid, chosen here
 * so that gc finds the device even if add never says which it made, and
 * the backing file; caller frees
 */
static char *add_input(const struct ctr_record *r, const struct disk_spec *spec,
		       const struct ctr_disk *d)
{
	char file[PATH_MAX + ANNOT_FILE_MAX];
	json_object *o = json_object_new_object();
	char *text;

	json_object_object_add(o, "uuid", json_object_new_string(d->uuid));
	if (spec->file[0]) {
		snprintf(file, sizeof(file), "%s/%s", r->data_dir, spec->file);
		json_object_object_add(o, "file", json_object_new_string(file));
	}
	if (spec->uri[0])
		json_object_object_add(o, "uri",
				       json_object_new_string(spec->uri));
	text = strdup(json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

/* `ublk-user add` as the owner; fills d with the new device. */
static int add_disk(const struct hook *h, const struct ctr_record *r,
		    const struct owner *ow, const struct disk_spec *spec,
		    struct ctr_disk *d, long deadline, char *block,
		    size_t block_len, struct uerr *err)
{
	char ids[32], size[32];
	char *argv[16];
	struct runcli_job job = { .prog = h->cli,
				  .argv = argv,
				  .runtime_dir = r->runtime_dir[0] ?
							 r->runtime_dir :
							 NULL,
				  .deadline_ms = deadline };
	struct runcli_out *o;
	unsigned int n = 0;
	char *input;
	int ret;

	snprintf(ids, sizeof(ids), "%u:%u", (unsigned int)ow->uid,
		 (unsigned int)ow->gid);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)spec->size);
	argv[n++] = "ublk-user";
	argv[n++] = "add";
	argv[n++] = "--json";
	argv[n++] = "--user";
	argv[n++] = ids;
	argv[n++] = "--container";
	argv[n++] = "-t";
	argv[n++] = (char *)spec->target;
	/* nbd: the size is the export's */
	if (spec->size) {
		argv[n++] = "-s";
		argv[n++] = size;
	}
	if (spec->read_only)
		argv[n++] = "--read-only";
	argv[n] = NULL;
	o = malloc(sizeof(*o));
	input = add_input(r, spec, d);
	if (!o || !input) {
		free(o);
		free(input);
		return uerr_sys(err, ENOMEM, "disk %s", spec->name);
	}
	job.input = input;
	ret = runcli(&job, o, err);
	free(input);
	if (ret == 0 && o->status)
		ret = uerr_set(err, EIO, "%s", runcli_reason(o));
	if (ret == 0)
		ret = ctrrec_parse_added(o->out, strlen(o->out), d, err);
	if (ret == 0)
		snprintf(block, block_len, "/dev/ublkb%lld",
			 (long long)d->dev_id);
	free(o);
	if (ret < 0)
		return uerr_prefix(err, "disk %s", spec->name);
	return 0;
}

/*
 * The host's node, bind-mounted, for rootful containers too (with a cgroup
 * rule for its number): when the disk goes, the kernel takes that inode
 * back (root, mode 0) before another device can get the number, where a
 * node the runtime made would stay the owner's and open what comes next.
 */
static int put_disk(json_object *cfg, const struct owner *ow,
		    const struct disk_spec *spec, const char *block,
		    struct uerr *err)
{
	struct stat st;
	int ret;

	if (stat(block, &st) < 0)
		return uerr_sys(err, errno, "disk %s: %s", spec->name, block);
	if (!S_ISBLK(st.st_mode))
		return uerr_set(err, ENOTBLK, "disk %s: %s is not a block node",
				spec->name, block);
	ret = ocicfg_add_bind(cfg, spec->path, block, err);
	if (ret == 0 && !ow->rootless)
		ret = ocicfg_allow_device(cfg, major(st.st_rdev),
					  minor(st.st_rdev), err);
	return ret;
}

static int precreate_disks(const struct hook *h, json_object *cfg,
			   struct disk_spec *disks, unsigned int nr,
			   struct ctr_record *r, const char *dir, long deadline,
			   struct uerr *err)
{
	struct owner ow;
	char base[PATH_MAX - CTRREC_KEY_LEN - 2], block[64];
	char name[CTRREC_KEY_LEN + 1];
	unsigned int i;
	bool loop = false;
	int ret;

	ret = find_owner(cfg, &ow, err);
	if (ret < 0)
		return ret;
	for (i = 0; i < nr; i++) {
		if (ocicfg_path_taken(cfg, disks[i].path))
			return uerr_set(err, EEXIST,
					"disk %s: the container already has "
					"%s",
					disks[i].name, disks[i].path);
		loop |= disks[i].file[0] != '\0';
	}
	r->owner_uid = ow.host_uid;
	r->owner_gid = ow.host_gid;
	/* "" without one: the owner's commands use their fallback */
	state_runtime_of(r->runtime_dir, sizeof(r->runtime_dir),
			 ow.rootless ? ow.our_host_uid : ow.uid);
	if (loop) {
		ret = data_base(h, &ow, base, sizeof(base), err);
		/* Not the key: the disk's owner sees this path. */
		if (ret == 0)
			ret = ctrrec_new_key(name, err);
		if (ret < 0)
			return ret;
		snprintf(r->data_dir, sizeof(r->data_dir), "%s/%s", base, name);
	}
	for (i = 0; i < nr; i++) {
		snprintf(r->disks[i].name, sizeof(r->disks[i].name), "%.32s",
			 disks[i].name);
		r->disks[i].dev_id = -1;
		ctrrec_new_uuid(r->disks[i].uuid);
		snprintf(r->disks[i].file, sizeof(r->disks[i].file), "%.64s",
			 disks[i].file);
		r->disks[i].persist = disks[i].persist;
	}
	r->nr_disks = nr;
	/* The record first: whatever happens next, gc finds it. */
	ret = ctrrec_write(dir, r, err);
	if (ret < 0)
		return ret;
	if (loop) {
		ret = make_owned_dir(r->data_dir, &ow, err);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < nr; i++) {
		if (disks[i].file[0]) {
			ret = make_backing(r->data_dir, &disks[i], &ow, err);
			if (ret < 0)
				return ret;
		}
		ret = add_disk(h, r, &ow, &disks[i], &r->disks[i], deadline,
			       block, sizeof(block), err);
		if (ret == 0)
			ret = ctrrec_write(dir, r, err);
		if (ret == 0)
			ret = put_disk(cfg, &ow, &disks[i], block, err);
		if (ret < 0)
			return ret;
	}
	return ocicfg_set_annotation(cfg, ANNOT_KEY, r->key, err);
}

static int precreate(const struct hook *h, const char *text, size_t len)
{
	struct disk_spec disks[ANNOT_MAX_DISKS];
	struct ctr_record *r;
	json_object *cfg, *edited = NULL;
	char dir[PATH_MAX], input[CTRREC_KEY_LEN + 2];
	long deadline = mono_ms() + h->timeout_ms;
	unsigned int nr;
	bool stdout_lost = false;
	struct uerr err;
	int ret;

	uerr_clear(&err);
	if (ujson_parse(text, len, "config.json (stdin)", &cfg, &err) < 0)
		return precreate_fail(h, NULL, &err);
	if (ocicfg_disks(cfg, disks, &nr, &err) < 0) {
		ret = precreate_fail(h, cfg, &err);
		goto out;
	}
	if (!nr) {
		ret = print_json(cfg) ? 0 : 1;
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (!r || ctrrec_dir(dir, sizeof(dir), true, &err) < 0) {
		if (!r)
			uerr_sys(&err, ENOMEM, "record");
		free(r);
		ret = precreate_fail(h, cfg, &err);
		goto out;
	}
	/*
	 * Only we set the key, in the config we print.  One that comes in
	 * was put there by whoever made the container: it may be another
	 * container's, whose disks it would then take over.
	 */
	if (ocicfg_annotation(cfg, ANNOT_KEY)) {
		uerr_set(&err, EPERM,
			 "config.json already has the annotation %s: only "
			 "ublk-user-oci-hook sets it, for the disks it makes; "
			 "remove it",
			 ANNOT_KEY);
		free(r);
		ret = precreate_fail(h, cfg, &err);
		goto out;
	}
	/*
	 * Disks of containers that are gone go first (failures are said),
	 * within a quarter of our time: their owners can stop gc.
	 */
	run_gc(h, NULL, NULL, NULL, mono_ms() + h->timeout_ms / 4);

	ret = ctrrec_new_key(r->key, &err);
	r->creator_pid = getppid();
	r->creator_start = proc_start_time(r->creator_pid);
	/*
	 * The disks go into a copy: a failure goes into the config as it
	 * came, without the mounts of disks made before it (the runtime
	 * would stop at those, gone by then, not at the failure).
	 */
	if (ret == 0 && json_object_deep_copy(cfg, &edited, NULL) != 0)
		ret = uerr_sys(&err, ENOMEM, "config.json");
	if (ret == 0)
		ret = precreate_disks(h, edited, disks, nr, r, dir, deadline,
				      &err);
	if (ret == 0 && !print_json(edited)) {
		ret = uerr_sys(&err, errno ? errno : EPIPE,
			       "cannot write the config to stdout");
		stdout_lost = true;
	}
	if (ret < 0) {
		/*
		 * Nothing stays behind: gc removes what the record names, in
		 * time of its own.  The key goes on its stdin.
		 */
		snprintf(input, sizeof(input), "%s\n", r->key);
		if (access(dir, F_OK) == 0 && r->key[0] &&
		    run_gc(h, "--key", NULL, input, mono_ms() + h->timeout_ms) <
			    0)
			say("could not remove all that was made for the "
			    "container");
		/* Without stdout no failing config reaches podman either. */
		if (stdout_lost) {
			say("%s", err.msg);
			ret = 1;
		} else {
			ret = precreate_fail(h, cfg, &err);
		}
	}
	free(r);
out:
	json_object_put(edited);
	json_object_put(cfg);
	return ret;
}

static int read_state(const char *text, size_t len, struct oci_state *s,
		      struct uerr *err)
{
	json_object *st;
	int ret;

	ret = ujson_parse(text, len, "the OCI state (stdin)", &st, err);
	if (ret < 0)
		return ret;
	ret = ocistate_parse(st, s, err);
	json_object_put(st);
	return ret;
}

/*
 * The container exists: bind the record to its id and pid.  A record is
 * bound once: a container that carries the key of a record bound to
 * another one is refused (it fails to start), and the record stays as it
 * is, so its own container's poststop still finds it.
 */
static int create_runtime(const char *text, size_t len)
{
	struct oci_state s;
	struct ctr_record *r;
	char dir[PATH_MAX];
	struct uerr err;
	int ret;

	uerr_clear(&err);
	if (read_state(text, len, &s, &err) < 0) {
		say("%s", err.msg);
		return 1;
	}
	if (!s.key[0])
		return 0; /* no disk of ours */
	if (s.pid <= 0) {
		say("the OCI state of container %s has no pid", s.id);
		return 1;
	}
	r = malloc(sizeof(*r));
	if (!r)
		return 1;
	ret = ctrrec_dir(dir, sizeof(dir), false, &err);
	if (ret == 0)
		ret = ctrrec_read(dir, s.key, r, &err);
	if (ret == 0 && r->id[0] && strcmp(r->id, s.id))
		ret = uerr_set(&err, EPERM,
			       "its annotation %s names the disks of "
			       "container %.12s: refused",
			       ANNOT_KEY, r->id);
	else if (ret == 0 && (r->pid != s.pid || strcmp(r->id, s.id))) {
		snprintf(r->id, sizeof(r->id), "%s", s.id);
		r->pid = s.pid;
		r->pid_start = proc_start_time(s.pid);
		if (!r->pid_start)
			ret = uerr_set(&err, ESRCH,
				       "process %d of container %s does not "
				       "run",
				       s.pid, s.id);
		else
			ret = ctrrec_write(dir, r, &err);
	}
	free(r);
	if (ret < 0) {
		say("container %s: %s", s.id, err.msg);
		return 1;
	}
	return 0;
}

static int poststop(const struct hook *h, const char *text, size_t len)
{
	struct oci_state s;
	struct uerr err;

	uerr_clear(&err);
	if (read_state(text, len, &s, &err) < 0) {
		say("%s", err.msg);
		return 1;
	}
	if (run_gc(h, "--container", s.id, NULL, mono_ms() + h->timeout_ms) < 0)
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct hook h = { .cli = UBLK_USER_CLI,
			  .timeout_ms = DEFAULT_TIMEOUT_S * 1000L };
	char *end;
	long v;
	const char *stage = NULL;
	char *text = NULL;
	struct uerr err;
	size_t len = 0;
	int i, ret;

	uerr_clear(&err);
	if (caps_startup(&err) < 0) {
		say("%s", err.msg);
		return 1;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--strict")) {
			h.strict = true;
		} else if (!strcmp(argv[i], "--cli") && i + 1 < argc) {
			h.cli = argv[++i];
		} else if (!strcmp(argv[i], "--data-dir") && i + 1 < argc) {
			h.data_dir = argv[++i];
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			errno = 0;
			v = strtol(argv[++i], &end, 10);
			if (errno || *end || v < 1 || v > MAX_TIMEOUT_S) {
				fprintf(stderr,
					"ublk-user-oci-hook: --timeout: '%s' "
					"is not 1 to %d seconds\n",
					argv[i], MAX_TIMEOUT_S);
				return 2;
			}
			h.timeout_ms = v * 1000;
		} else if (!strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 0;
		} else if (!stage && argv[i][0] != '-') {
			stage = argv[i];
		} else {
			fprintf(stderr,
				"ublk-user-oci-hook: unexpected "
				"argument '%s'\n%s",
				argv[i], usage);
			return 2;
		}
	}
	if (!stage ||
	    (strcmp(stage, "precreate") && strcmp(stage, "createRuntime") &&
	     strcmp(stage, "poststop"))) {
		if (stage)
			fprintf(stderr,
				"ublk-user-oci-hook: unknown stage '%.64s'\n%s",
				stage, usage);
		else
			fprintf(stderr,
				"ublk-user-oci-hook: no stage given\n%s",
				usage);
		return 2;
	}
	if (read_stdin(&text, &len, &err) < 0) {
		say("%s", err.msg);
		return 1;
	}
	if (!strcmp(stage, "precreate"))
		ret = precreate(&h, text, len);
	else if (!strcmp(stage, "createRuntime"))
		ret = create_runtime(text, len);
	else
		ret = poststop(&h, text, len);
	free(text);
	return ret;
}
