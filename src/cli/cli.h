/* cli/cli.h - the `floe` command line: one command table from which the
 * dispatcher, argument checks and every --help text come. */
#ifndef FLOE_CLI_CLI_H
#define FLOE_CLI_CLI_H

#include <stdbool.h>

/* Exit codes: 0 success, 1 failure (the message says what to do next),
 * 2 usage error. */
enum { FLOE_CLI_OK = 0, FLOE_CLI_FAIL = 1, FLOE_CLI_USAGE = 2 };

/* One option of a command: "--name VALUE" (or "--name=VALUE"), or a flag
 * when `arg` is NULL. */
typedef struct floe_cli_opt {
	const char *name; /* without the leading "--" */
	const char *arg;  /* placeholder shown in help, NULL for a flag */
	const char *help;
} floe_cli_opt;

/* Parsed arguments of one command: option values by table index. */
typedef struct floe_cli_args {
	const char *values[16]; /* NULL when absent; "" for a given flag */
	const char *pos[8];     /* positional arguments */
	int npos;
} floe_cli_args;

typedef struct floe_cli_cmd {
	const char *group;   /* "parquet" */
	const char *name;    /* "cat" */
	const char *params;  /* positional arguments, e.g. "FILE" */
	int min_pos, max_pos;
	const char *summary; /* one line */
	const char *help;    /* paragraph after the usage line */
	const floe_cli_opt *opts;
	int (*run)(const struct floe_cli_cmd *cmd, const floe_cli_args *args);
} floe_cli_cmd;

/* The whole command line: returns the process exit code. Writes results to
 * stdout and one-line "floe: ..." errors to stderr. */
int floe_cli_main(int argc, char **argv);

/* Print "floe: MESSAGE" on stderr; returns FLOE_CLI_FAIL. */
int floe_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "floe: MESSAGE (see 'floe GROUP NAME --help')"; returns FLOE_CLI_USAGE. */
int floe_cli_usage(const floe_cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Value of option `name` of `cmd` in `args`, or NULL. */
const char *floe_cli_opt_get(const floe_cli_cmd *cmd, const floe_cli_args *args,
                             const char *name);

/* parquet_cmd.c */
int floe_cli_parquet_inspect(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_parquet_cat(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_parquet_write(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_parquet_verify(const floe_cli_cmd *cmd, const floe_cli_args *args);

#endif
