/* cli/cli.c - `floe` dispatcher: the command table (the one place commands
 * and options are declared), argument parsing and generated --help. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "floe/floe.h"

static const floe_cli_opt inspect_opts[] = {
	{ NULL, NULL, NULL },
};

static const floe_cli_opt cat_opts[] = {
	{ "columns", "A,B", "print only these columns, in this order" },
	{ "limit", "N", "stop after N rows" },
	{ "format", "csv|jsonl", "output format (default jsonl)" },
	{ "where", "\"COL OP LITERAL\"", "keep rows where COL OP LITERAL holds; OP is one of "
	  "= < <= > >=, or \"COL is null\"; the literal is read as the column's type" },
	{ "stats", NULL, "print scan statistics as one JSON line on stderr" },
	{ NULL, NULL, NULL },
};

static const floe_cli_opt write_opts[] = {
	{ "schema", "\"NAME TYPE [not null] [id N], ...\"", "columns of the file (required)" },
	{ "input-format", "csv|ndjson", "input format (default: from the input's extension)" },
	{ "codec", "NAME", "uncompressed, snappy, gzip, zstd (default) or lz4_raw" },
	{ "level", "N", "compression level (zstd, gzip; 0 = codec default)" },
	{ "row-group-bytes", "N", "target uncompressed bytes per row group (default 128 MiB)" },
	{ "page-bytes", "N", "target uncompressed bytes per data page (default 1 MiB)" },
	{ "no-dictionary", NULL, "do not use dictionary encoding" },
	{ "page-version", "1|2", "data page version (default 1)" },
	{ "batch-rows", "N", "rows per batch handed to the writer (default 65536)" },
	{ NULL, NULL, NULL },
};

static const floe_cli_cmd commands[] = {
	{ "parquet", "inspect", "FILE", 1, 1, "print a Parquet file's metadata as JSON",
	  "Prints the footer of FILE as one pretty JSON document: schema with field "
	  "ids and types, key/value metadata, and per row group and column the codec, "
	  "encodings, sizes and statistics.",
	  inspect_opts, floe_cli_parquet_inspect },
	{ "parquet", "cat", "FILE", 1, 1, "print the rows of a Parquet file",
	  "Prints the rows of FILE as JSON lines or CSV. --where skips row groups and "
	  "pages by their statistics and filters the remaining rows, so the output "
	  "holds exactly the matching rows.",
	  cat_opts, floe_cli_parquet_cat },
	{ "parquet", "write", "OUT INPUT", 2, 2, "write CSV or NDJSON rows to a Parquet file",
	  "Reads INPUT (CSV with a header row, or NDJSON; '-' reads stdin) as rows of "
	  "--schema and writes them to the Parquet file OUT. Values: booleans true/false/1/0, "
	  "decimals as text (\"12.34\"), dates YYYY-MM-DD, times HH:MM:SS[.ffffff], "
	  "timestamps YYYY-MM-DDTHH:MM:SS[.ffffff] (timestamptz may end in Z or +HH:MM, "
	  "converted to UTC; epoch numbers are not accepted), uuid 8-4-4-4-12, binary and "
	  "fixed as base64. An empty unquoted CSV field or a missing/null JSON key is NULL.",
	  write_opts, floe_cli_parquet_write },
	{ "parquet", "verify", "FILE", 1, 1, "check every page of a Parquet file",
	  "Decodes every page of every column chunk of FILE, nested columns included: "
	  "page headers, CRCs, decompression, repetition and definition levels (within "
	  "their maxima, each data page starting a record, counts matching the headers), "
	  "value sections and dictionary indices, and rows per column chunk against the "
	  "row group. Prints \"FILE: ok (N rows, M row groups, P pages)\" and exits 0, "
	  "or prints the first problem found and exits 1.",
	  inspect_opts, floe_cli_parquet_verify },
};
#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

int floe_cli_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("floe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return FLOE_CLI_FAIL;
}

int floe_cli_usage(const floe_cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("floe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, " (see 'floe %s %s --help')\n", cmd->group, cmd->name);
	else
		fprintf(stderr, " (see 'floe --help')\n");
	return FLOE_CLI_USAGE;
}

const char *floe_cli_opt_get(const floe_cli_cmd *cmd, const floe_cli_args *args,
                             const char *name)
{
	for (int i = 0; cmd->opts[i].name; i++)
		if (strcmp(cmd->opts[i].name, name) == 0)
			return args->values[i];
	return NULL;
}

static void print_wrapped(FILE *f, const char *text, int indent)
{
	int col = indent;
	fprintf(f, "%*s", indent, "");
	while (*text) {
		const char *sp = strchr(text, ' ');
		int wl = sp ? (int)(sp - text) : (int)strlen(text);
		if (col > indent && col + wl > 78) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		}
		fprintf(f, "%.*s", wl, text);
		col += wl;
		text += wl;
		if (*text == ' ') {
			text++;
			if (*text) {
				fputc(' ', f);
				col++;
			}
		}
	}
	fputc('\n', f);
}

static void cmd_help(const floe_cli_cmd *cmd)
{
	printf("usage: floe %s %s %s%s\n\n", cmd->group, cmd->name, cmd->params,
	       cmd->opts[0].name ? " [options]" : "");
	print_wrapped(stdout, cmd->help, 0);
	printf("\noptions:\n");
	for (int i = 0; cmd->opts[i].name; i++) {
		char head[96];
		snprintf(head, sizeof head, "--%s%s%s", cmd->opts[i].name,
		         cmd->opts[i].arg ? " " : "", cmd->opts[i].arg ? cmd->opts[i].arg : "");
		printf("  %s\n", head);
		print_wrapped(stdout, cmd->opts[i].help, 6);
	}
	printf("  --help\n      show this help\n");
}

static void group_help(const char *group)
{
	printf("usage: floe %s COMMAND [options]\n\ncommands:\n", group);
	for (int i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].group, group) == 0)
			printf("  %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\nRun 'floe %s COMMAND --help' for a command's options.\n", group);
}

static void main_help(void)
{
	printf("usage: floe GROUP COMMAND [options]\n       floe --help | --version\n\n"
	       "commands:\n");
	for (int i = 0; i < NCOMMANDS; i++)
		printf("  %s %-10s %s\n", commands[i].group, commands[i].name, commands[i].summary);
	printf("\nRun 'floe GROUP COMMAND --help' for a command's options.\n");
}

static bool is_group(const char *name)
{
	for (int i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].group, name) == 0)
			return true;
	return false;
}

static int run_cmd(const floe_cli_cmd *cmd, int argc, char **argv)
{
	floe_cli_args args;
	memset(&args, 0, sizeof args);
	bool only_pos = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] != '-' ) {
			if (!only_pos && a[0] == '-' && a[1] != '\0')
				return floe_cli_usage(cmd, "unknown option '%s'", a);
			if (args.npos >= cmd->max_pos)
				return floe_cli_usage(cmd, "unexpected argument '%s'", a);
			args.pos[args.npos++] = a;
			continue;
		}
		if (a[2] == '\0') {
			only_pos = true;
			continue;
		}
		if (strcmp(a, "--help") == 0) {
			cmd_help(cmd);
			return FLOE_CLI_OK;
		}
		const char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		int k = -1;
		for (int j = 0; cmd->opts[j].name; j++)
			if (strlen(cmd->opts[j].name) == nl && strncmp(cmd->opts[j].name, a + 2, nl) == 0)
				k = j;
		if (k < 0)
			return floe_cli_usage(cmd, "unknown option '%.*s'", (int)nl + 2, a);
		if (!cmd->opts[k].arg) {
			if (eq)
				return floe_cli_usage(cmd, "option --%s takes no value", cmd->opts[k].name);
			args.values[k] = "";
		} else if (eq) {
			args.values[k] = eq + 1;
		} else {
			if (i + 1 >= argc)
				return floe_cli_usage(cmd, "option --%s needs a value %s",
				                      cmd->opts[k].name, cmd->opts[k].arg);
			args.values[k] = argv[++i];
		}
	}
	if (args.npos < cmd->min_pos)
		return floe_cli_usage(cmd, "missing %s", cmd->params);
	return cmd->run(cmd, &args);
}

int floe_cli_main(int argc, char **argv)
{
	if (argc < 2) {
		main_help();
		return FLOE_CLI_USAGE;
	}
	const char *g = argv[1];
	if (strcmp(g, "--help") == 0 || strcmp(g, "-h") == 0 || strcmp(g, "help") == 0) {
		main_help();
		return FLOE_CLI_OK;
	}
	if (strcmp(g, "--version") == 0) {
		printf("floe %s\n", FLOE_VERSION);
		return FLOE_CLI_OK;
	}
	if (!is_group(g))
		return floe_cli_usage(NULL, "unknown command '%s'", g);
	if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
		group_help(g);
		return argc < 3 ? FLOE_CLI_USAGE : FLOE_CLI_OK;
	}
	for (int i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].group, g) == 0 && strcmp(commands[i].name, argv[2]) == 0)
			return run_cmd(&commands[i], argc - 3, argv + 3);
	fprintf(stderr, "floe: unknown command '%s %s' (see 'floe %s --help')\n", g, argv[2], g);
	return FLOE_CLI_USAGE;
}
