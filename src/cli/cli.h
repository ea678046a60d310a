/* cli/cli.h - the `floe` command line: one command table from which the
 * dispatcher, argument checks and every --help text come. */
#ifndef FLOE_CLI_CLI_H
#define FLOE_CLI_CLI_H

#include <stdbool.h>

/* Exit codes: 0 success, 1 failure (the message says what to do next),
 * 2 usage error. */
enum { FLOE_CLI_OK = 0, FLOE_CLI_FAIL = 1, FLOE_CLI_USAGE = 2 };

/* One option of a command: "--name VALUE" (or "--name=VALUE"), or a flag
 * when `arg` is NULL. A `repeat` option may be given many times; every
 * value is kept (floe_cli_opt_all), the last one also in values[]. */
typedef struct floe_cli_opt {
	const char *name; /* without the leading "--" */
	const char *arg;  /* placeholder shown in help, NULL for a flag */
	const char *help;
	bool repeat;
} floe_cli_opt;

#define FLOE_CLI_MAX_OPTS 24
#define FLOE_CLI_MAX_REPEATS 64

/* Parsed arguments of one command: option values by table index. */
typedef struct floe_cli_args {
	const char *values[FLOE_CLI_MAX_OPTS]; /* NULL when absent; "" for a given flag */
	const char **pos;       /* positional arguments (argc slots, owned by the parser) */
	int npos;
	const char *rep_values[FLOE_CLI_MAX_REPEATS]; /* every value of repeat options */
	int rep_opt[FLOE_CLI_MAX_REPEATS];            /* ... and its option index */
	int nrep;
} floe_cli_args;

/* max_pos for "any number" of positional arguments. */
#define FLOE_CLI_MANY 1000000

typedef struct floe_cli_cmd {
	const char *group;   /* "parquet", or "" for a top-level command (`floe create`) */
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
/* Print "floe: MESSAGE (see 'floe [GROUP] NAME --help')"; returns FLOE_CLI_USAGE. */
int floe_cli_usage(const floe_cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Value of option `name` of `cmd` in `args`, or NULL. */
const char *floe_cli_opt_get(const floe_cli_cmd *cmd, const floe_cli_args *args,
                             const char *name);

/* Every value of repeat option `name`, in command-line order, into out[max];
 * returns how many. */
int floe_cli_opt_all(const floe_cli_cmd *cmd, const floe_cli_args *args, const char *name,
                     const char **out, int max);

/* The warehouse directory: the command's --warehouse, else the global one
 * given before the command, else $FLOE_WAREHOUSE, else "./warehouse". */
const char *floe_cli_warehouse(const floe_cli_cmd *cmd, const floe_cli_args *args);

/* parquet_cmd.c */
int floe_cli_parquet_inspect(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_parquet_cat(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_parquet_write(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_parquet_verify(const floe_cli_cmd *cmd, const floe_cli_args *args);

/* table_cmd.c: top-level Iceberg table commands */
int floe_cli_table_create(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_append(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_scan(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_describe(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_snapshots(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_files(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_tables(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_alter(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_drop(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_delete(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_merge(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_compact(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_update(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_changes(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_table_rename(const floe_cli_cmd *cmd, const floe_cli_args *args);

/* upkeep_cmd.c: table upkeep (docs/upkeep.md) */
int floe_cli_upkeep_expire(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_upkeep_vacuum(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_upkeep_rewrite_manifests(const floe_cli_cmd *cmd, const floe_cli_args *args);

/* ingest_cmd.c, simulate_cmd.c */
int floe_cli_ingest(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_sql(const floe_cli_cmd *cmd, const floe_cli_args *args); /* sql_cmd.c */

/* run_cmd.c */
int floe_cli_run(const floe_cli_cmd *cmd, const floe_cli_args *args);
int floe_cli_simulate(const floe_cli_cmd *cmd, const floe_cli_args *args);

#endif
