/* SPDX-License-Identifier: MIT */
#ifndef UBLK_USER_CLI_H
#define UBLK_USER_CLI_H

#include <stdbool.h>
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

extern const char *prog_name;

/* Print "ublk-user: <msg>" on stderr */
void cli_error(const struct uerr *err);
/* Print a usage error and return EXIT_USAGE */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Options of a command that takes only --json and --help: -1 to go on, or
 * the exit status (help printed, or a usage error).
 */
int cli_json_opts(int argc, char **argv, const char *cmd, const char *help,
		  bool *json);
/* The option getopt just complained about, as the user wrote it */
const char *cli_opt_name(char **argv);

int cmd_add(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_del(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_gc(int argc, char **argv);

/* One device as `list` and `add` show it: kernel truth plus our record */
struct dev_view {
	struct ublksrv_ctrl_dev_info info;
	bool in_kernel;
	bool has_record; /* a record whose tag matches the kernel's device */
	struct dev_record rec;
	uint64_t size;
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
 */
int dev_remove(struct ublk_ctrl *ctrl, uint32_t dev_id, pid_t server_pid,
	       bool keep_log, struct uerr *err);

#endif
