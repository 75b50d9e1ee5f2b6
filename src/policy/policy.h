/* SPDX-License-Identifier: MIT */
/*
 * The administrator's policy: who may have which ublk devices.
 *
 * Files (see ublk-user.policy(5)): POLICY_DIR/policy.conf, then
 * POLICY_DIR/policy.d/\*.conf in lexical order.  Sections [default],
 * [group:NAME] and [user:NAME] (names or numeric ids) hold "key = value"
 * lines; whole-line comments start with '#' or ';'.
 *
 * Precedence, for one user: the built-in defaults, then every [default]
 * section, then every [group:NAME] section the user is a member of, then
 * every [user:NAME] section of the user; within each step in file order
 * (policy.conf first, then policy.d in lexical order, top to bottom).
 * A later setting of a key wins over an earlier one.
 *
 * Fail closed: any error anywhere (syntax, unknown key, bad value,
 * duplicate key in a section, unknown user/group/target, an insecure or
 * unreadable file) makes the whole policy invalid, and an invalid policy
 * refuses every request, naming the first error as file:line.
 *
 * This file (policy.c) parses and evaluates, with no I/O except the
 * realpath() of backing directories; policy_file.c reads the files with
 * their security checks, policy_names.c resolves names (NSS, targets);
 * policy_ask.c puts the three together for a decision: policy_ask() is
 * the one way to learn what a user may do.
 */
#ifndef UBLK_USER_POLICY_H
#define UBLK_USER_POLICY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

#ifndef UBLK_USER_SYSCONFDIR
#define UBLK_USER_SYSCONFDIR "/etc"
#endif
#define POLICY_DIR UBLK_USER_SYSCONFDIR "/ublk-user"

#define POLICY_UNLIMITED UINT64_MAX
#define POLICY_VALUE_MAX 1024	  /* bytes of one value, with the NUL */
#define POLICY_NAME_MAX 33	  /* a user or group name in a section header */
#define POLICY_LINE_MAX 4096	  /* bytes of one line */
#define POLICY_FILE_MAX (1 << 20) /* bytes of one file */
#define POLICY_MAX_ERRORS 64	  /* errors kept (all are counted) */
#define POLICY_MAX_SECTIONS 4096

enum policy_key {
	POLICY_ALLOW,
	POLICY_MAX_DEVICES,
	POLICY_MAX_SIZE,
	POLICY_MAX_QUEUES,
	POLICY_MAX_QUEUE_DEPTH,
	POLICY_TARGETS,
	POLICY_BACKING_DIRS,
	POLICY_NBD_ENDPOINTS,
	POLICY_SHMEM_ZC,
	POLICY_MAX_SHMEM,
	POLICY_MLOCK,
	POLICY_MAX_LOCKED,
	POLICY_CONTAINERS,
	POLICY_READ_ONLY,
	POLICY_READ_ONLY_DIRS,
	POLICY_NR_KEYS
};

enum policy_scope {
	POLICY_SCOPE_BUILTIN, /* no section: the built-in default */
	POLICY_SCOPE_DEFAULT,
	POLICY_SCOPE_GROUP,
	POLICY_SCOPE_USER,
};

/* One key as set in one section. */
struct policy_setting {
	unsigned int line; /* 0: not set in this section */
	uint64_t num;	   /* yes/no as 1/0, counts, sizes (POLICY_UNLIMITED) */
	char *text; /* lists, normalised: "null,loop", "any", "%h,/srv" */
};

struct policy_section {
	enum policy_scope scope;
	char name[POLICY_NAME_MAX]; /* as written; "" for [default] */
	bool has_id;	   /* numeric name, or resolved by policy_resolve() */
	uint32_t id;	   /* uid or gid */
	unsigned int file; /* index into policy.files */
	unsigned int line;
	struct policy_setting set[POLICY_NR_KEYS];
};

struct policy {
	char **files;
	unsigned int nr_files;
	struct policy_section *sections;
	unsigned int nr_sections;
	char **errors; /* "file:line: what", at most POLICY_MAX_ERRORS */
	unsigned int nr_errors; /* all of them */
};

/* Where an effective limit was set. */
struct policy_origin {
	enum policy_scope scope;
	const char *file; /* into the policy's files; NULL when built in */
	unsigned int line;
	char name[POLICY_NAME_MAX];
};

/*
 * What one user may do.  Counts and sizes are POLICY_UNLIMITED when
 * unlimited.  mlock/max_locked (memory locked with the tool's
 * CAP_IPC_LOCK, beyond the user's RLIMIT_MEMLOCK), shmem_zc/max_shmem and
 * containers are per device and enforced by the tool itself, the only
 * holder of CAP_IPC_LOCK: fill policy_request.locked, .shmem, .container
 * and call policy_check().  The rest is checked by `add` and enforced by
 * the udev helper where the kernel can tell.  Origins point into the
 * policy they were evaluated from.
 */
struct policy_limits {
	bool allow;
	uint64_t max_devices;
	uint64_t max_size; /* bytes */
	uint64_t max_queues;
	uint64_t max_queue_depth;
	char targets[POLICY_VALUE_MAX];	      /* "any" or "null,loop,..." */
	char backing_dirs[POLICY_VALUE_MAX];  /* "any", "none" or templates */
	char nbd_endpoints[POLICY_VALUE_MAX]; /* "any", "none" or patterns */
	bool shmem_zc;
	uint64_t max_shmem; /* bytes of shared memory one device registers */
	bool mlock;
	uint64_t max_locked; /* bytes locked with CAP_IPC_LOCK per device */
	bool containers;
	bool read_only; /* every disk must be read-only */
	/* backing files in these must be served read-only ("none", ...) */
	char read_only_dirs[POLICY_VALUE_MAX];
	struct policy_origin origin[POLICY_NR_KEYS];
};

/* The user a decision is about. */
struct policy_user {
	uid_t uid;
	gid_t gid;
	bool known;	/* has a passwd entry: name and home are set */
	char name[256]; /* "" when not known */
	char home[PATH_MAX];
	gid_t *groups; /* supplementary groups, with gid */
	unsigned int nr_groups;
};

/* What a request asks for; zero/NULL/negative fields are not checked. */
struct policy_request {
	const char *target;
	const char *backing; /* canonical path (realpath) */
	/* An NBD server: its socket's canonical path, HOST:PORT or
	 * [IPV6]:PORT (nbd_uri_endpoint()) */
	const char *nbd_endpoint;
	uint64_t size; /* bytes */
	unsigned int nr_queues;
	unsigned int queue_depth;
	uint64_t flags;	 /* UBLK_F_*: SHMEM_ZC is checked */
	long nr_devices; /* the user's devices, this one included */
	uint64_t locked; /* bytes to lock with CAP_IPC_LOCK, beyond the
			    user's RLIMIT_MEMLOCK (0: none) */
	uint64_t shmem;	 /* bytes of shared memory to register */
	bool container;	 /* a per-container disk (OCI hook) */
	bool writable;	 /* the disk is not read-only (add --read-only) */
};

void policy_init(struct policy *p);
void policy_free(struct policy *p);

/*
 * Parse one file's text (len bytes, need not end in NUL) as file into p.
 * Returns the number of errors found in it (0: fine).
 */
unsigned int policy_parse(struct policy *p, const char *file, const char *buf,
			  size_t len);
/* Record an error; line 0 for one about the whole file */
void policy_error(struct policy *p, const char *file, unsigned int line,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The error every request gets from an invalid policy; returns -EACCES */
int policy_invalid_error(const struct policy *p, struct uerr *err);

/* The built-in defaults (the same as the shipped policy.conf) */
void policy_defaults(struct policy_limits *lim);
/* Effective limits of u; -EACCES with the first error if p is invalid */
int policy_eval(const struct policy *p, const struct policy_user *u,
		struct policy_limits *lim, struct uerr *err);
/*
 * 0 if r is within lim; else -EACCES and a reason naming the rule, e.g.
 * "user alice already has 2 devices: max_devices=2 for group ublk
 * (/etc/ublk-user/policy.d/10-site.conf:7)".
 */
int policy_check(const struct policy_limits *lim, const struct policy_user *u,
		 const struct policy_request *r, struct uerr *err);

const char *policy_key_name(enum policy_key key);
/* -1 when name is not a key */
int policy_key_find(const char *name);
bool policy_key_is_size(enum policy_key key);
bool policy_key_is_bool(enum policy_key key);
bool policy_key_is_list(enum policy_key key);
/* The numeric value of key in lim (bools as 0/1; lists: 0) */
uint64_t policy_limit_num(const struct policy_limits *lim, enum policy_key key);
/* A list key's normalised text in lim ("any", "a,b"); NULL for others */
const char *policy_limit_text(const struct policy_limits *lim,
			      enum policy_key key);
/* The value as a policy file would say it: "2", "1G", "yes", "null,loop" */
const char *policy_value_str(const struct policy_limits *lim,
			     enum policy_key key, char *buf, size_t len);
/* "for group ublk (FILE:7)", "for everyone (FILE:3)", "(built-in default)" */
const char *policy_origin_str(const struct policy_origin *o, char *buf,
			      size_t len);
/* "max_devices=2 for group ublk (FILE:7)" */
const char *policy_rule_str(const struct policy_limits *lim,
			    enum policy_key key, char *buf, size_t len);
/* "[group:ublk]", "[default]", "built-in" */
const char *policy_section_str(enum policy_scope scope, const char *name,
			       char *buf, size_t len);

/*
 * Items of a normalised list ("a,b,c"): copies the next item into item
 * and returns where the rest starts, or NULL at the end.
 */
const char *policy_list_next(const char *list, char *item, size_t len);
/* Expand %u, %U, %h and %% of one backing_dirs template for u */
int policy_expand(const char *tmpl, const struct policy_user *u, char *out,
		  size_t len, struct uerr *err);
/* Whether target is in lim->targets */
bool policy_target_allowed(const struct policy_limits *lim, const char *target);
/* Whether an NBD endpoint (as in policy_request) is in lim->nbd_endpoints */
bool policy_nbd_endpoint_allowed(const struct policy_limits *lim,
				 const struct policy_user *u,
				 const char *endpoint);

/* --- policy_file.c: reading the files ------------------------------------- */

/*
 * Read dir/policy.conf and dir/policy.d/\*.conf and resolve names.  Every
 * file and the two directories must be owned by owner (root: 0), not
 * writable by group or others, readable by everyone, not symbolic links.
 * A missing dir, policy.conf or policy.d is fine (the built-in default).
 * Returns 0 when valid, -1 when not (errors in p).
 */
int policy_load(struct policy *p, const char *dir, uid_t owner);
/* Read the given files, in this order, checking content only. */
int policy_load_files(struct policy *p, char *const *paths, unsigned int n);

/* --- policy_names.c: users, groups and targets ---------------------------- */

/* Resolve user and group names of sections, check target names */
void policy_resolve(struct policy *p);
/* The user uid (primary group gid, from the kernel); -errno on failure */
int policy_user_get(struct policy_user *u, uid_t uid, gid_t gid,
		    struct uerr *err);
/* A user by name or numeric uid */
int policy_user_by_name(struct policy_user *u, const char *name,
			struct uerr *err);
void policy_user_free(struct policy_user *u);
/* "alice" or "uid 2001" */
const char *policy_user_str(const struct policy_user *u, char *buf, size_t len);
/* The group's name, or its number when it has none: "ublk", "2001" */
const char *policy_group_name(gid_t gid, char *buf, size_t len);

/* --- policy_ask.c: what may this user do -------------------------------- */

struct accounts;

/* Whom a question is about: by name (or uid as text), else by ids */
struct policy_who {
	const char *name; /* `policy show --user`; NULL: uid and gid */
	uid_t uid;
	gid_t gid; /* the primary group, as the kernel records it */
	/*
	 * Set when uid:gid is a device's owner as the kernel recorded it:
	 * the user is then its account (policy/account.h: a subordinate uid
	 * is its range's owner; a uid without passwd entry needs a section).
	 */
	struct accounts *owner_of;
};

/* The answer, with what it rests on (for `policy show` and doctor) */
struct policy_answer {
	bool have_user; /* the user was looked up (known or not) */
	bool valid;	/* and the policy loaded without an error */
	struct policy_user user;
	struct policy policy;	  /* its files and errors */
	struct policy_limits lim; /* allows nothing unless policy_ask() = 0 */
	char how[512]; /* owner_of: how uid was mapped, e.g. "uid 1048577 is a
			  subordinate uid of alice (/etc/subuid:1)"; or "" */
};

/*
 * Find the user, load the policy from dir (its files owned by owner: see
 * policy_load), evaluate it for the user.  0 when a->lim holds the user's
 * limits.  Else negative with err: the user could not be looked up
 * (!a->have_user; the policy is not read), or the policy is invalid
 * (-EACCES, !a->valid: every request is refused).  With who->owner_of
 * the policy is read first, and a device owner that may not be decided
 * for is refused (-EACCES, !a->have_user).  Call policy_answer_free() in
 * every case.
 */
int policy_ask(struct policy_answer *a, const char *dir, uid_t owner,
	       const struct policy_who *who, struct uerr *err)
	__attribute__((warn_unused_result));
void policy_answer_free(struct policy_answer *a);

#endif
