/* SPDX-License-Identifier: MIT */
#ifndef UBLK_USER_CLI_H
#define UBLK_USER_CLI_H

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "kernel/ctrl.h"
#include "base/err.h"
#include "host/state.h"

/* Exit statuses, documented in ublk-user(1) */
#define EXIT_OK 0
#define EXIT_FAIL 1  /* the operation failed */
#define EXIT_USAGE 2 /* bad command line */
/* 3: status NAME, the disk is not up (cmd_status.c) */
#define EXIT_DISK_FILE 4 /* up: no such disk file, or it is invalid */

extern const char *prog_name;

/*
 * The command table (commands.c): one row per command, in the order
 * `ublk-user help` lists them.  main() hands the command line to
 * cli_main(), which finds the row, handles --help and every usage error
 * of options and operands, and calls run().
 */
#define CLI_ANY UINT_MAX /* max_args: no limit */

enum cli_flags {
	CLI_HIDDEN = 1 << 0, /* an alias ("--help"): not listed by help */
	/*
	 * Options end at the first operand, so later ones may start with
	 * '-' ("policy check FILE..."); else they may come anywhere.
	 */
	CLI_OPTIONS_FIRST = 1 << 1,
};

/* A command's options, defined beside the code that reads them */
struct cli_opts {
	const char *usage;	       /* --help: "Usage: ublk-user NAME ..." */
	const char *shortopts;	       /* getopt letters besides h: "n:a" */
	const struct option *longopts; /* besides --help; NULL: none */
	/* After usage, what comes from a table (add: the targets); or NULL */
	void (*usage_more)(FILE *f);
};

struct cli_args;

struct cli_cmd {
	const char *name;
	const char *summary; /* one line in `ublk-user help` */
	const struct cli_opts *opts;
	unsigned int min_args; /* operands after the options */
	unsigned int max_args; /* or CLI_ANY */
	unsigned int flags;    /* enum cli_flags */
	/* Reads its options with cli_next_opt(); returns the exit status */
	int (*run)(struct cli_args *a);
	/* A command of commands ("policy check"): the rows, then no run */
	const struct cli_cmd *subcmds;
};

/* The commands of ublk-user; the last row has no name */
extern const struct cli_cmd cli_cmds[];

#define CLI_MAX_LONGOPTS 24 /* of one command (cli_table.t checks) */

/* One command's words as cli_next_opt() goes through them */
struct cli_args {
	const struct cli_cmd *cmd;
	char name[64]; /* "add", "policy show": for messages */
	int argc;      /* argv[0] is the command's name */
	char **argv;
	int nargs; /* the operands, once cli_next_opt() said CLI_DONE */
	char **args;
	int status; /* the exit status, once it said CLI_EXIT */
	char shortopts[64];
	struct option longopts[CLI_MAX_LONGOPTS + 2];
};

#define CLI_DONE (-1) /* no more options; the operands are in args */
#define CLI_EXIT (-2) /* --help shown or a usage error said: return status */

/*
 * Run the command argv[1] names (or its subcommand, argv[2]); the exit
 * status.  An unknown name is a usage error, said here.
 */
int cli_main(const struct cli_cmd *cmds, int argc, char **argv);
/* The row named name, or NULL */
const struct cli_cmd *cli_find(const struct cli_cmd *cmds, const char *name);
/* `ublk-user help`: the commands with their summaries */
void cli_print_help(FILE *f, const struct cli_cmd *cmds);
/* A command's --help text: its usage, then usage_more() */
void cli_print_usage(FILE *f, const struct cli_opts *opts);
/*
 * The next option of a's command: getopt_long's value for it; CLI_DONE
 * after the last, with the number of operands checked; CLI_EXIT when the
 * command must end with a->status (help printed, or a usage error said).
 */
int cli_next_opt(struct cli_args *a);

/* Print "ublk-user: <msg>" on stderr */
void cli_error(const struct uerr *err);
/*
 * The one way a command says its command line is wrong: "ublk-user NAME:
 * <problem>" and "Try 'ublk-user NAME --help'." on stderr; returns
 * EXIT_USAGE.
 */
int cli_usage_error(const struct cli_args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --json, for commands that have no other option (and --help) */
extern const struct option cli_json_longopts[];

/* The options of each command, in its file */
extern const struct cli_opts add_opts, list_opts, del_opts, features_opts,
	policy_opts, policy_check_opts, policy_show_opts, doctor_opts, gc_opts,
	up_opts, down_opts, status_opts, resize_opts, snapshot_opts;

int cmd_add(struct cli_args *a);
int cmd_list(struct cli_args *a);
int cmd_del(struct cli_args *a);
int cmd_features(struct cli_args *a);
int cmd_policy_check(struct cli_args *a);
int cmd_policy_show(struct cli_args *a);
int cmd_doctor(struct cli_args *a);
int cmd_gc(struct cli_args *a);
int cmd_up(struct cli_args *a);
int cmd_down(struct cli_args *a);
int cmd_status(struct cli_args *a);
int cmd_resize(struct cli_args *a);
int cmd_snapshot(struct cli_args *a);

/* One device as `list` and `add` show it: kernel truth plus our record */
struct dev_view {
	struct ublksrv_ctrl_dev_info info;
	bool in_kernel;
	bool has_record; /* a record whose tag matches the kernel's device */
	struct dev_record rec;
	uint64_t size;
	bool read_only; /* the kernel's attribute (else the record's) */
	pid_t server_pid;
	const char *state; /* live, starting, dead, quiesced, stale */
};

/* -ENODEV when the kernel has no such device, -EACCES when not ours */
int dev_view_get(struct ublk_ctrl *ctrl, uint32_t dev_id, struct dev_view *v,
		 struct uerr *err);
/* A view of a record whose device is gone */
void dev_view_stale(struct dev_view *v, const struct dev_record *rec);
json_object *dev_view_json(const struct dev_view *v);
/* Kernel device ids with a node under /dev, sorted */
int dev_ids_in_dev(uint32_t **ids, unsigned int *nr, struct uerr *err);

/*
 * Stop and delete a device and end its server: STOP_DEV, DEL_DEV (which
 * waits for the server to let go; SIGKILL after a while), record removed.
 * server_pid is signalled only if it is the device's server, run by the
 * device's owner (host/srvproc.h).
 */
int dev_remove(struct ublk_ctrl *ctrl, uint32_t dev_id, pid_t server_pid,
	       bool keep_log, struct uerr *err);
/*
 * As root: remove the CDI specs that name device dev_id, which is gone or
 * new (a spec names a node, /dev/ublkbN: it must not reach another disk).
 */
void dev_forget_cdi(uint32_t dev_id);
/* Wait a while for a server (pidfd from srvproc_open, or -1) to exit,
 * SIGKILL it if it does not; closes pidfd. */
void dev_end_server(int pidfd);

/*
 * Named disks (named.c).  named_find: the device of the disk name,
 * -ENOENT when none is up (records of dead devices of that name go).
 */
int named_find(struct ublk_ctrl *ctrl, const char *name, struct dev_view *v,
	       struct uerr *err);
/* $XDG_RUNTIME_DIR/ublk-user/disks/NAME (its folder made when create) */
int named_link_path(const char *name, char *buf, size_t len, bool create,
		    struct uerr *err);
/* Point the stable path at /dev/ublkbN, replacing it atomically */
int named_link_set(const char *name, uint32_t dev_id, struct uerr *err);
void named_link_remove(const char *name);

/*
 * resize, snapshot (devctl.c): the device (by disk name, or id when name
 * is NULL), which must be live and have a record of ours; the kernel
 * must have feature; a connection to its server's control socket.
 */
int devctl_find(struct ublk_ctrl *ctrl, const char *name, uint32_t id,
		struct dev_view *v, struct uerr *err);
int devctl_require(struct ublk_ctrl *ctrl, uint64_t feature, struct uerr *err);
int devctl_connect(const struct dev_view *v, struct uerr *err);

/*
 * caps_become_user() for add --user and gc: a uid without a passwd entry
 * gets the supplementary groups of the account whose /etc/subuid range
 * holds it, which its processes in that user's namespaces have too
 * (/dev/ublk-control is group ublk's); one in no range gets none.
 */
int cli_become_user(const char *user, struct uerr *err);

struct disk_file;
/*
 * `up`: add the disk d describes, as add would (policy and all); an
 * administrator's disk (d->user set) as add --user does.  foreground:
 * then stay with its server (foreground_serve).
 */
int add_disk(const struct disk_file *d, bool json, bool foreground);

/* A named disk whose server is our child (up --foreground) */
struct fg_disk {
	const char *name;
	uint32_t dev_id;
	uint64_t tag; /* the kernel's ublksrv_flags of our device */
	pid_t server_pid;
	int log_fd; /* the read end of the server's stderr, or -1 */
};
/*
 * Tell the service manager the disk is ready, pass the server's log on,
 * stop it on SIGTERM/SIGINT/SIGHUP; once it is gone, delete what it left.
 * The exit status: 0 when it stopped as asked, else 1 (foreground.c).
 */
int foreground_serve(const struct fg_disk *d);
/*
 * up --foreground could not bring the disk up: say why in the unit's
 * status too (systemctl status shows it without the journal).
 */
void foreground_failed(const struct uerr *err);

#endif
