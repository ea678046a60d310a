/* cli/cli.c - `floe` dispatcher: the command table (the one place commands
 * and options are declared), argument parsing and generated --help. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "floe/floe.h"

static const floe_cli_opt inspect_opts[] = {
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt cat_opts[] = {
	{ "columns", "A,B", "print only these columns, in this order", false },
	{ "limit", "N", "stop after N rows", false },
	{ "format", "csv|jsonl", "output format (default jsonl)", false },
	{ "where", "\"COL OP LITERAL\"", "keep rows where COL OP LITERAL holds; OP is one of "
	  "= < <= > >=, or \"COL is null\"; the literal is read as the column's type", false },
	{ "stats", NULL, "print scan statistics as one JSON line on stderr", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt write_opts[] = {
	{ "schema", "\"NAME TYPE [not null] [id N], ...\"", "columns of the file (required)", false },
	{ "input-format", "csv|ndjson", "input format (default: from the input's extension)", false },
	{ "codec", "NAME", "uncompressed, snappy, gzip, zstd (default) or lz4_raw", false },
	{ "level", "N", "compression level (zstd, gzip; 0 = codec default)", false },
	{ "row-group-bytes", "N", "target uncompressed bytes per row group (default 128 MiB)", false },
	{ "page-bytes", "N", "target uncompressed bytes per data page (default 1 MiB)", false },
	{ "no-dictionary", NULL, "do not use dictionary encoding", false },
	{ "page-version", "1|2", "data page version (default 1)", false },
	{ "batch-rows", "N", "rows per batch handed to the writer (default 65536)", false },
	{ NULL, NULL, NULL, false },
};

/* ---- Iceberg table commands (top level: group "") ---------------------- */

#define WAREHOUSE_OPT                                                              \
	{ "warehouse", "DIR", "warehouse directory (also before the command; default "   \
	  "$FLOE_WAREHOUSE, else ./warehouse)", false }
#define METADATA_OPTS                                                              \
	{ "metadata", "FILE", "read the table from this metadata JSON file (plain or "   \
	  ".gz) instead of the catalog; TABLE is then omitted", false },                 \
	{ "map", "FROM=TO", "with --metadata: rewrite paths starting with FROM to start " \
	  "with TO (repeatable), e.g. s3://bucket/wh=/data/wh", true }
#define SNAPSHOT_OPTS                                                              \
	{ "snapshot", "ID", "read this snapshot", false },                             \
	{ "as-of", "TIME", "read the snapshot current at TIME: YYYY-MM-DD[THH:MM:SS[.fff]]" \
	  "[Z|+HH:MM] (no offset = UTC) or epoch milliseconds", false },                 \
	{ "tag", "NAME", "read the snapshot a tag (or branch) names", false }

static const floe_cli_opt create_opts[] = {
	WAREHOUSE_OPT,
	{ "schema", "\"NAME TYPE [not null], ...\"", "columns of the table (required); TYPE is a "
	  "primitive (see 'floe parquet write --help') or struct<NAME: TYPE, ...>, list<TYPE>, "
	  "map<KEY, VALUE>; field ids are assigned as Iceberg assigns fresh ids. Nested columns "
	  "are kept in the metadata; appends leave them NULL for now", false },
	{ "partition", "\"TRANSFORM(COL), ...\"", "partition spec: COL or identity(COL), "
	  "year/month/day/hour(COL), bucket(N, COL), truncate(W, COL), void(COL)", false },
	{ "sort", "\"COL [asc|desc] [nulls first|last], ...\"", "sort order", false },
	{ "identifier", "A,B", "identifier (row key) columns; they must be not null", false },
	{ "property", "KEY=VALUE", "table property (repeatable)", true },
	{ "location", "DIR", "table location, inside the warehouse (default WAREHOUSE/NAMESPACE/TABLE)", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt append_opts[] = {
	WAREHOUSE_OPT,
	{ "input-format", "csv|ndjson|parquet", "format of every FILE (default: by extension, "
	  "Parquet also by its magic bytes; stdin is sniffed)", false },
	{ "batch-rows", "N", "rows per batch read from text input (default 65536)", false },
	{ "summary", "KEY=VALUE", "extra snapshot summary entry (repeatable)", true },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt scan_opts[] = {
	WAREHOUSE_OPT,
	METADATA_OPTS,
	{ "columns", "A,B", "print only these columns, in this order", false },
	{ "where", "EXPR", "keep rows where EXPR holds, e.g. \"price > 10 and symbol = "
	  "'ABC'\" (docs/filters.md); prunes manifests, files and row groups", false },
	SNAPSHOT_OPTS,
	{ "from", "SNAPSHOT_ID", "incremental read: only the rows appended after this snapshot "
	  "(exclusive) up to the one read (inclusive); fails when a snapshot in between is not an "
	  "append (see 'floe changes')", false },
	{ "format", "table|csv|jsonl", "output format (default: table on a terminal, jsonl "
	  "otherwise)", false },
	{ "limit", "N", "stop after N rows", false },
	{ "stats", NULL, "print scan statistics as one JSON line on stderr", false },
	{ "batch-rows", "N", "rows per batch read (default 65536)", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt describe_opts[] = {
	WAREHOUSE_OPT,
	METADATA_OPTS,
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt snapshots_opts[] = {
	WAREHOUSE_OPT,
	METADATA_OPTS,
	{ "format", "table|csv|jsonl", "output format (default: table on a terminal, jsonl "
	  "otherwise); jsonl holds the whole summary", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt files_opts[] = {
	WAREHOUSE_OPT,
	METADATA_OPTS,
	SNAPSHOT_OPTS,
	{ "format", "table|csv|jsonl", "output format (default: table on a terminal, jsonl "
	  "otherwise)", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt warehouse_opts[] = {
	WAREHOUSE_OPT,
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt drop_opts[] = {
	WAREHOUSE_OPT,
	{ "purge", NULL, "also delete every file under the table's location", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt delete_opts[] = {
	WAREHOUSE_OPT,
	{ "where", "EXPR", "delete the rows this filter matches (docs/filters.md)", false },
	{ "all", NULL, "delete every row", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt simulate_opts[] = {
	{ "count", "N", "stop after N events (duplicates and malformed ones included)", false },
	{ "rate", "N|max", "events per second of wall time (default: max with --count, --start "
	  "or --end, else 1000)", false },
	{ "symbols", "A,B,...|N", "these symbols, or N generated ones SYM0001... (default AAPL, "
	  "GOOGL, MSFT, AMZN, TSLA)", false },
	{ "seed", "S", "random seed (default 1); with --start the output is the same on every run",
	  false },
	{ "start", "TIME", "a simulated clock starting at TIME (backfills of past days); without "
	  "it, events carry the wall-clock time", false },
	{ "end", "TIME", "stop when the simulated clock reaches TIME", false },
	{ "duration", "DUR", "stop after DUR of simulated time (6.5h, 90m, 1d)", false },
	{ "sim-rate", "N", "events per simulated second (default 1000)", false },
	{ "faults", "dup=F,ooo=F,late=F,bad=F", "shares of duplicated, out-of-order (up to 2 s), "
	  "late (--late-by) and malformed events", false },
	{ "late-by", "DUR", "how late a late event is (default 30s)", false },
	{ "kind", "trades|quotes", "what goes to --to (default trades)", false },
	{ "to", "DEST", "- (stdout, default), FILE, DIR/ (rolled files, each renamed when "
	  "complete) or kafka://HOST:PORT/TOPIC (key = symbol)", false },
	{ "quotes-to", "DEST", "also generate quotes, to DEST (same forms)", false },
	{ "roll-events", "N", "events per file in a directory (default 1000000)", false },
	{ "kafka-conf", "KEY=VALUE", "a librdkafka producer setting (repeatable)", true },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt ingest_opts[] = {
	WAREHOUSE_OPT,
	{ "from", "SOURCE", "kafka://HOST:PORT[,HOST:PORT]/TOPIC, a file (repeat for more), a "
	  "directory (its files in name order, watched for new ones) or - for stdin (required)",
	  true },
	{ "format", "ndjson|csv", "record format (default: csv for a .csv file, else ndjson; "
	  "Kafka messages are NDJSON records)", false },
	{ "trigger", "INTERVAL|once|available-now", "a batch every INTERVAL (500ms, 1s, 2m; "
	  "default 1s) until stopped; once: everything there now in one batch, then stop; "
	  "available-now: everything there now in bounded batches, then stop", false },
	{ "kind", "trades|quotes", "the built-in record spec (default: the table name's last "
	  "part)", false },
	{ "spec", "FILE", "a record spec of your own: fields, event time, checks "
	  "(docs/ingest.md)", false },
	{ "quarantine", "TABLE", "where rejected records go (default TABLE_rejected)", false },
	{ "max-batch-rows", "N", "records per batch at most (default 1000000)", false },
	{ "max-batch-bytes", "SIZE", "payload bytes per batch at most (default 64MiB)", false },
	{ "max-batches", "N", "stop after N commits", false },
	{ "watch", NULL, "keep watching a directory for new files with once/available-now "
	  "(always with an interval trigger)", false },
	{ "group", "ID", "Kafka consumer group (default floe-ingest)", false },
	{ "kafka-conf", "KEY=VALUE", "a librdkafka setting, passed through (security.protocol, "
	  "sasl.*, ssl.*, ...; repeatable)", true },
	{ "json-status", NULL, "JSON-lines status on stderr even on a terminal", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt run_opts[] = {
	WAREHOUSE_OPT,
	{ "once", NULL, "ingest what the sources hold now, run every step until caught up, "
	  "stop", false },
	{ "backfill", "FILE", "ingest these historical files (SOURCE=FILE, or a file whose name "
	  "contains a source's name; more files may follow as arguments), then run the steps; "
	  "the same files again add nothing", true },
	{ "rebuild", "TABLE", "recompute the step that writes TABLE for event times in "
	  "[--from, --to) and upsert the result", false },
	{ "from", "TIME", "with --rebuild: start of the range (2026-11-20T14:30:00Z or a date)",
	  false },
	{ "to", "TIME", "with --rebuild: end of the range (exclusive)", false },
	{ "upkeep", NULL, "compact and expire every table of the pipeline once, keeping the "
	  "snapshots its steps have not read (as the upkeep: section does while streaming), "
	  "then stop", false },
	{ "simulate", NULL, "stream with the built-in market simulator writing the landing "
	  "folders of the pipeline's simulator section", false },
	{ "duration", "DUR", "stop the stream after DUR (30s, 5m)", false },
	{ "trigger", "INTERVAL", "how often the sources commit while streaming (default 1s)",
	  false },
	{ "max-batch-rows", "N", "rows per ingest batch and per step commit at most (default "
	  "500000; memory grows with it)", false },
	{ "skip-expired", NULL, "let a step whose unread upstream snapshots were expired go on "
	  "from the oldest one left, skipping the rows they added (rebuild their range first); "
	  "without it, that is an error", false },
	{ "json-status", NULL, "JSON-lines status on stderr even on a terminal", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt expire_opts[] = {
	WAREHOUSE_OPT,
	{ "older-than", "TIME", "expire snapshots older than TIME: YYYY-MM-DD[THH:MM:SS[.fff]]"
	  "[Z|+HH:MM] or epoch milliseconds (default: now minus the table property "
	  "history.expire.max-snapshot-age-ms, else 5 days)", false },
	{ "retain-last", "N", "always keep the N newest snapshots of each branch (default: "
	  "history.expire.min-snapshots-to-keep, else 1)", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt vacuum_opts[] = {
	WAREHOUSE_OPT,
	{ "older-than", "TIME", "remove only files last modified before TIME (as for expire; "
	  "default 3 days ago)", false },
	{ "dry-run", NULL, "list the orphan files without removing them", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt update_opts[] = {
	WAREHOUSE_OPT,
	{ "set", "\"COL = EXPR, ...\"", "the new values: expressions over the row's old values "
	  "(docs/expressions.md: price * 1.01, upper(symbol), NULL, '2024-01-02T10:00:00Z', ...), "
	  "cast to the column's type; a SET naming a uuid, binary, fixed, time or nanosecond "
	  "timestamp column takes literals as in filters (required)", false },
	{ "where", "EXPR", "update the rows this filter matches (docs/filters.md)", false },
	{ "all", NULL, "update every row", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt changes_opts[] = {
	WAREHOUSE_OPT,
	{ "from", "SNAPSHOT_ID", "changes after this snapshot (exclusive; -1 = from the first; "
	  "required)", false },
	{ "to", "SNAPSHOT_ID", "up to this snapshot (inclusive; default the current one)", false },
	{ "format", "csv|jsonl", "output format (default jsonl)", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt compact_opts[] = {
	WAREHOUSE_OPT,
	{ "where", "EXPR", "only files this filter may match (by partition values and column "
	  "bounds)", false },
	{ "target-file-size", "BYTES", "size of the files written (default: the table's "
	  "write.target-file-size-bytes, else 512 MiB)", false },
	{ "min-file-size", "BYTES", "files under BYTES count as small and are packed "
	  "(default: 75% of the target size)", false },
	{ "copy-min-row-group-bytes", "BYTES", "a file without deletes whose row groups all "
	  "hold at least BYTES uncompressed is copied row group by row group, not decoded "
	  "(default: a sixteenth of write.parquet.row-group-size-bytes, 8 MiB by default)", false },
	{ "rewrite-all", NULL, "decode and write again every row: copy no row group", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt merge_opts[] = {
	WAREHOUSE_OPT,
	{ "on", "KEY[,KEY...]", "key columns that match source rows to table rows (required)", false },
	{ "precombine", "COL", "when the source holds a key more than once, keep the row with the "
	  "largest COL (the later one on a tie); without it duplicate keys are an error", false },
	{ "skip-older", NULL, "with --precombine: leave out a source row whose key the table holds "
	  "with a larger COL (the table's row stays; a tie goes to the source row)", false },
	{ "delete-when", "EXPR", "source rows where EXPR holds delete the matching table row "
	  "instead of replacing it (and are not inserted)", false },
	{ "input-format", "csv|ndjson|parquet", "format of FILE (default: by extension, Parquet "
	  "also by its magic bytes; stdin is sniffed)", false },
	{ NULL, NULL, NULL, false },
};

static const floe_cli_opt sql_opts[] = {
	WAREHOUSE_OPT,
	{ "file", "FILE", "run the statements (and dot commands) of FILE, '-' for stdin",
	  false },
	{ "format", "table|csv|jsonl|markdown", "output format (default: table when stdout is a "
	  "terminal, else csv). table: aligned columns, numbers right-aligned, NULL as NULL, "
	  "text longer than --max-width cut with an ellipsis, \"(N rows)\" after; csv: RFC "
	  "4180 with a header row, NULL an empty field, the empty string \"\"; jsonl: one JSON "
	  "object per row, NULL null; markdown: a pipe table, '|' escaped, NULL as NULL. "
	  "Integers print as integers, reals in the shortest form that reads back exactly "
	  "(always with a '.' or an exponent; Infinity as a string in jsonl), blobs as base64",
	  false },
	{ "max-width", "N", "table format: cut text wider than N characters (default 40; 0 = "
	  "never)", false },
	{ "stats", NULL, "after each statement, one line per table scan on stderr: table, "
	  "pushed filter, columns decoded, limit, snapshot, manifests, files and row groups "
	  "read of all, rows scanned/returned, bytes read; JSON lines when stderr is not a "
	  "terminal", false },
	{ "timer", NULL, "print \"Run Time: S s\" on stderr after each statement", false },
	{ "writable", NULL, "allow INSERT, UPDATE and DELETE through SQL (each transaction is one "
	  "commit per table: an append, or a row-level commit in the table's write mode); "
	  "without it every write fails", false },
	{ NULL, NULL, NULL, false },
};

/* Short forms of options ("-f" for "--file"), per command. */
static const struct {
	const char *cmd, *opt;
	char letter;
} short_opts[] = {
	{ "sql", "file", 'f' },
};

static const floe_cli_cmd commands[] = {
	{ "", "create", "TABLE", 1, 1, "create an Iceberg table",
	  "Creates TABLE (NAMESPACE.NAME; the namespace is created when missing) with "
	  "--schema, an optional hidden partitioning (--partition: rows are routed to "
	  "partitions by transforms of their columns, and scans prune by them without "
	  "the query naming a partition column), a sort order and properties. Prints "
	  "\"created NAMESPACE.NAME at LOCATION\". Example: floe create db.trades "
	  "--schema \"ts timestamptz not null, symbol string, price double\" "
	  "--partition \"day(ts), bucket(16, symbol)\"",
	  create_opts, floe_cli_table_create },
	{ "", "append", "TABLE FILE...", 2, FLOE_CLI_MANY, "append CSV, NDJSON or Parquet files",
	  "Reads every FILE ('-' = stdin) as rows of the table's current schema "
	  "(CSV and NDJSON by name, Parquet columns by name, widened when the table's "
	  "type is wider) and commits them all as one snapshot, so either every file "
	  "is in the table or none. Progress goes to stderr: a line per file as JSON "
	  "when stderr is not a terminal. Prints \"appended N rows to TABLE in snapshot "
	  "ID (F files)\".",
	  append_opts, floe_cli_table_append },
	{ "", "scan", "[TABLE]", 0, 1, "print the rows of a table",
	  "Prints the rows of TABLE (or of the table --metadata names) at its current "
	  "snapshot or the one --snapshot, --as-of or --tag chooses, with that "
	  "snapshot's schema. --where prunes manifests and data files by their "
	  "partition values and column metrics, then row groups, then filters rows, "
	  "so the output holds exactly the matching rows. Files written under older "
	  "schemas are read by field id, so renamed, dropped and widened columns read "
	  "right.",
	  scan_opts, floe_cli_table_scan },
	{ "", "sql", "[SQL]", 0, 1, "run SQL over the tables, or an interactive SQL shell",
	  "Runs the statements of SQL (separated by ';'), of --file FILE, or of stdin "
	  "when it is not a terminal, and prints each result; on a terminal with no SQL "
	  "it starts an interactive shell (line editing, history in $FLOE_HISTORY or "
	  "~/.floe_history; a statement runs once it ends with ';'). The SQL is "
	  "SQLite's; each table of the warehouse is a virtual table, NAMESPACE.NAME or "
	  "\"NAMESPACE.NAME\", with metadata tables \"NAMESPACE.NAME$snapshots\" "
	  "(also $history, $files, $manifests, $partitions, $refs); filters, "
	  "columns and LIMIT are pushed into the scans, and WHERE _as_of = SNAPSHOT_ID, "
	  "'TAG' or 'TIME' reads an earlier snapshot (docs/sql.md). Lines starting "
	  "with '.' between statements are dot commands: .tables [--all] [PATTERN], "
	  ".schema [TABLE], .format NAME, .maxwidth N, .timer on|off, .stats on|off, "
	  ".refresh (see tables created since), .read FILE, .help, .quit. Without a "
	  "terminal the first error stops the run with exit code 1 and one line "
	  "\"floe: FILE:LINE: message\" (\"line N\" for SQL) naming the statement's "
	  "first line; the shell prints \"error: message\" and goes on. Examples: floe "
	  "sql \"SELECT symbol, max(ts) FROM gold.bars_1m GROUP BY symbol\" --format "
	  "markdown; floe sql -f report.sql --format csv > out.csv; floe sql --stats "
	  "--timer",
	  sql_opts, floe_cli_sql },
	{ "", "describe", "[TABLE]", 0, 1, "print a table's metadata as JSON",
	  "Prints TABLE as one JSON document: identifier, location, format version, "
	  "current schema, partition specs, sort orders, properties, refs and the "
	  "current snapshot.",
	  describe_opts, floe_cli_table_describe },
	{ "", "snapshots", "[TABLE]", 0, 1, "list a table's snapshots",
	  "Lists the snapshots of TABLE in commit order: id, parent id, sequence "
	  "number, commit time (UTC), operation and the summary's record and file "
	  "counters; the current one is marked with '*' in table form. Any id works "
	  "with 'floe scan --snapshot ID', any time with --as-of.",
	  snapshots_opts, floe_cli_table_snapshots },
	{ "", "files", "[TABLE]", 0, 1, "list the data files of a snapshot",
	  "Lists the live files of TABLE's current snapshot (or the one chosen): "
	  "path, partition (as NAME=VALUE/... of its spec), record count and size in "
	  "bytes. The paths are plain Parquet files any reader can open.",
	  files_opts, floe_cli_table_files },
	{ "", "tables", "[NAMESPACE]", 0, 1, "list the tables of the warehouse",
	  "Lists the tables of the warehouse's catalog, one NAMESPACE.NAME a line, "
	  "sorted; with NAMESPACE only the tables directly in it.",
	  warehouse_opts, floe_cli_table_tables },
	{ "", "alter", "TABLE ACTION [ARG...]", 2, 6, "change a table's schema, spec, properties or tags",
	  "Applies one change as one commit. ACTION is one of: add-column NAME TYPE "
	  "[first | after COL]; rename-column OLD NEW; drop-column NAME; widen-column "
	  "NAME TYPE (int to long, float to double, decimal(P,S) to a larger P); "
	  "move-column NAME first | after COL; set-partition \"SPEC\" (\"\" = "
	  "unpartitioned; data already written keeps its spec); set-property KEY VALUE; "
	  "unset-property KEY; tag NAME [SNAPSHOT_ID] (default the current snapshot); "
	  "drop-tag NAME. Columns are tracked by id, so no data file is rewritten.",
	  warehouse_opts, floe_cli_table_alter },
	{ "", "drop", "TABLE", 1, 1, "remove a table from the catalog",
	  "Removes TABLE from the catalog. Its files stay unless --purge is given, "
	  "which deletes everything under the table's location (it must lie inside "
	  "the warehouse).",
	  drop_opts, floe_cli_table_drop },
	{ "", "rename", "TABLE NEW_NAME", 2, 2, "rename a table",
	  "Renames TABLE to NEW_NAME (NAMESPACE.NAME; the namespace must exist). "
	  "Only the catalog entry changes: the files stay where they are.",
	  warehouse_opts, floe_cli_table_rename },
	{ "", "simulate", "", 0, 0, "generate stock trades and quotes",
	  "Writes simulated market events as NDJSON: trades {trade_id, symbol, price, "
	  "volume, timestamp, trade_type, exchange} and quotes {quote_id, symbol, bid, "
	  "ask, timestamp, exchange}, with per-symbol random-walk prices, bid < ask, "
	  "trades at the quotes, heavy-tailed volumes and NASDAQ/NYSE/ARCA/BATS/IEX "
	  "exchanges; optionally with faults for testing pipelines. SIGINT or SIGTERM "
	  "flushes and exits. Examples: floe simulate --rate 100 | head; floe simulate "
	  "--count 1000000 --seed 7 --start 2026-11-20T14:30:00Z --to trades.ndjson; "
	  "floe simulate --rate 10000 --to kafka://127.0.0.1:9092/trades --quotes-to "
	  "kafka://127.0.0.1:9092/quotes",
	  simulate_opts, floe_cli_simulate },
	{ "", "ingest", "TABLE", 1, 1, "stream records into a Bronze table, exactly once",
	  "Reads records from --from and commits them to TABLE in micro-batches, "
	  "creating TABLE (partitioned by day of event time) and its quarantine table "
	  "when missing. Each record is decoded by the record spec (built-in trades "
	  "and quotes, or --spec FILE); a record that does not parse or fails a check "
	  "goes to the quarantine table with its raw bytes, position and reason. Every "
	  "batch commits its rows and the source position it reached in one snapshot, "
	  "and a restart resumes there: killed at any moment, nothing is lost or "
	  "doubled. Progress on a terminal, JSON lines on stderr otherwise; SIGINT or "
	  "SIGTERM commits the batch in progress and exits. Example: floe ingest "
	  "bronze.trades --from kafka://127.0.0.1:9092/trades --trigger 1s",
	  ingest_opts, floe_cli_ingest },
	{ "", "run", "PIPELINE [FILE...]", 1, FLOE_CLI_MANY, "run a Bronze -> Silver -> Gold "
	  "pipeline: stream, once, backfill, rebuild or upkeep",
	  "Runs the pipeline YAML file (docs/pipelines.md): creates its tables when "
	  "missing, ingests its sources into Bronze and runs its steps (transforms, "
	  "windowed aggregates, rolling features) in dependency order. Each step keeps "
	  "the last upstream snapshot it consumed in its target's snapshot summary, "
	  "committed with its rows, so stopping or killing the run at any moment and "
	  "starting it again loses and doubles nothing, and a backfill gives the same "
	  "tables as streaming the same events. Without a mode it streams until SIGINT "
	  "or SIGTERM (or --duration). Example: floe run examples/stock/pipeline.yaml "
	  "--simulate --duration 30s",
	  run_opts, floe_cli_run },
	{ "", "expire", "TABLE", 1, 1, "expire old snapshots and delete their files",
	  "Removes the snapshots older than --older-than from TABLE's metadata in one "
	  "commit, keeping the --retain-last newest of each branch, the current "
	  "snapshot and every snapshot a tag or branch names; then deletes the "
	  "manifest lists, manifests, data and delete files that no remaining "
	  "snapshot references. Safe while others append. Prints \"expired N snapshots "
	  "of TABLE (M left); deleted ...\". Example: floe expire db.trades "
	  "--older-than 2024-03-01 --retain-last 10",
	  expire_opts, floe_cli_upkeep_expire },
	{ "", "vacuum", "TABLE", 1, 1, "remove files no snapshot references",
	  "Lists (--dry-run) or removes the files under TABLE's location that its "
	  "metadata does not reference and that were last modified before "
	  "--older-than (default 3 days ago, so files of commits in progress are "
	  "left alone): one path a line, then \"removed N orphan files (B bytes) from "
	  "TABLE\". Symlinks are never followed; other tables below the location are "
	  "skipped.",
	  vacuum_opts, floe_cli_upkeep_vacuum },
	{ "", "rewrite-manifests", "TABLE", 1, 1, "merge small manifests",
	  "Writes the small data manifests of TABLE's current snapshot again, grouped "
	  "by partition spec and sorted by partition, into manifests of about "
	  "commit.manifest.target-size-bytes (default 8 MiB), as one \"replace\" "
	  "snapshot; rows and files are unchanged, scans read fewer manifests. "
	  "Commits also merge them on their own once a partition spec has "
	  "commit.manifest.min-count-to-merge (default 100) manifests. "
	  "Prints \"rewrote N manifests of TABLE into M (K kept) in snapshot ID\".",
	  warehouse_opts, floe_cli_upkeep_rewrite_manifests },
	{ "", "delete", "TABLE", 1, 1, "delete the rows a filter matches",
	  "Deletes the rows of TABLE that --where matches (or every row with --all) "
	  "in one commit. The table property write.delete.mode picks how: "
	  "copy-on-write (the default) rewrites the data files holding matching rows "
	  "without them; merge-on-read writes position delete files that readers "
	  "apply (faster to write, slower to read until compaction). A data file whose "
	  "every row matches is removed whole either way. Fails with a conflict, "
	  "changing nothing, when a concurrent commit added data the filter may "
	  "match or changed the same files; run it again then. Example: floe delete "
	  "db.trades --where \"symbol = 'TSLA' and ts < '2024-01-02'\"",
	  delete_opts, floe_cli_table_delete },
	{ "", "update", "TABLE", 1, 1, "set columns of the rows a filter matches",
	  "UPDATE TABLE SET --set WHERE --where (or every row with --all) in one "
	  "commit. write.update.mode picks how: copy-on-write (default) rewrites the "
	  "data files holding matching rows; merge-on-read writes position delete "
	  "files for the old rows and new data files for the updated ones. Example: "
	  "floe update db.trades --set \"price = round(price * 1.01, 2), note = NULL\" "
	  "--where \"trade_id = 'T000000000042'\"",
	  update_opts, floe_cli_table_update },
	{ "", "merge", "TABLE FILE", 2, 2, "upsert the rows of a file by key",
	  "MERGE INTO TABLE USING FILE ('-' = stdin; CSV, NDJSON or Parquet) ON the "
	  "--on columns: a source row whose key is in the table replaces that row "
	  "(or deletes it when --delete-when holds), other source rows are inserted; "
	  "one commit. write.merge.mode picks how: copy-on-write (default) rewrites "
	  "only the data files that hold a source key (the others are skipped by "
	  "their key bounds, then by Bloom filters when the table writes them on the "
	  "key, then by reading the key column) and leaves a file alone when every "
	  "matched row equals its source row; merge-on-read writes an "
	  "equality delete file of the source keys and the new rows without reading "
	  "the table (a blind upsert, fast to write; readers apply the deletes until "
	  "compaction; --skip-older reads the key and precombine columns). Example: "
	  "floe merge db.trades fixes.csv --on trade_id --precombine ts "
	  "--delete-when \"status = 'cancelled'\"",
	  merge_opts, floe_cli_table_merge },
	{ "", "changes", "TABLE", 1, 1, "print the row changes between two snapshots",
	  "Prints the rows each snapshot after --from (exclusive) up to --to "
	  "(inclusive) inserted and deleted, oldest first, with the current schema's "
	  "columns and _change_type (insert, delete, update_before, update_after), "
	  "_commit_snapshot_id and _commit_sequence_number, like Delta's change data "
	  "feed and Iceberg's changelog view. Rows a copy-on-write commit rewrote "
	  "unchanged are not changes; with identifier fields (create --identifier) a "
	  "delete and an insert of one key in one snapshot are an update. For appends "
	  "only, 'floe scan --from' is cheaper.",
	  changes_opts, floe_cli_table_changes },
	{ "", "compact", "TABLE", 1, 1, "rewrite small files and files with deletes",
	  "Bin-pack compaction: in every partition with two or more small data files "
	  "(under 75% of the target size) or a data file that deletes apply to, those "
	  "files are read with their deletes applied and written again as files of "
	  "about the target size (in the current partition spec); delete files that "
	  "no remaining data file needs are dropped. One \"replace\" snapshot with the "
	  "same rows; time travel to earlier snapshots still works. A file without "
	  "deletes whose row groups are already large (see --copy-min-row-group-bytes) "
	  "has its row groups copied into the new file as they are, without decoding, "
	  "when it has the table's schema, spec and codec and the table no sort order. "
	  "Appends meanwhile are kept; a concurrent delete makes it fail cleanly (run "
	  "it again).",
	  compact_opts, floe_cli_table_compact },
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

/* --warehouse given before the command (floe --warehouse W create ...). */
static const char *global_warehouse;

/* "floe create" or "floe parquet cat" */
static void cmd_title(FILE *f, const floe_cli_cmd *cmd)
{
	if (cmd->group[0])
		fprintf(f, "floe %s %s", cmd->group, cmd->name);
	else
		fprintf(f, "floe %s", cmd->name);
}

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
	if (cmd) {
		fputs(" (see '", stderr);
		cmd_title(stderr, cmd);
		fputs(" --help')\n", stderr);
	} else {
		fprintf(stderr, " (see 'floe --help')\n");
	}
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

int floe_cli_opt_all(const floe_cli_cmd *cmd, const floe_cli_args *args, const char *name,
                     const char **out, int max)
{
	int k = -1, n = 0;
	for (int i = 0; cmd->opts[i].name; i++)
		if (strcmp(cmd->opts[i].name, name) == 0)
			k = i;
	for (int i = 0; k >= 0 && i < args->nrep && n < max; i++)
		if (args->rep_opt[i] == k)
			out[n++] = args->rep_values[i];
	return n;
}

const char *floe_cli_warehouse(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	const char *w = floe_cli_opt_get(cmd, args, "warehouse");
	if (w && *w)
		return w;
	if (global_warehouse && *global_warehouse)
		return global_warehouse;
	w = getenv("FLOE_WAREHOUSE");
	if (w && *w)
		return w;
	return "./warehouse";
}

static void print_wrapped(FILE *f, const char *text, int indent)
{
	int col = indent;
	fprintf(f, "%*s", indent, "");
	while (*text) {
		while (*text == ' ')
			text++;
		if (!*text)
			break;
		const char *sp = strchr(text, ' ');
		int wl = sp ? (int)(sp - text) : (int)strlen(text);
		if (col > indent && col + 1 + wl > 78) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", wl, text);
		col += wl;
		text += wl;
	}
	fputc('\n', f);
}

/* The letter of option `opt`'s short form, or 0. */
static char short_opt_of(const floe_cli_cmd *cmd, const char *opt)
{
	for (size_t i = 0; i < sizeof short_opts / sizeof short_opts[0]; i++)
		if (!cmd->group[0] && strcmp(short_opts[i].cmd, cmd->name) == 0 &&
		    strcmp(short_opts[i].opt, opt) == 0)
			return short_opts[i].letter;
	return 0;
}

/* The option whose short form is -LETTER, or NULL. */
static const char *short_opt_name(const floe_cli_cmd *cmd, char letter)
{
	for (size_t i = 0; i < sizeof short_opts / sizeof short_opts[0]; i++)
		if (!cmd->group[0] && strcmp(short_opts[i].cmd, cmd->name) == 0 &&
		    short_opts[i].letter == letter)
			return short_opts[i].opt;
	return NULL;
}

static void cmd_help(const floe_cli_cmd *cmd)
{
	printf("usage: ");
	cmd_title(stdout, cmd);
	printf(" %s%s\n\n", cmd->params, cmd->opts[0].name ? " [options]" : "");
	print_wrapped(stdout, cmd->help, 0);
	printf("\noptions:\n");
	for (int i = 0; cmd->opts[i].name; i++) {
		char head[96];
		char letter = short_opt_of(cmd, cmd->opts[i].name);
		if (letter)
			printf("  -%c, ", letter);
		else
			printf("  ");
		snprintf(head, sizeof head, "--%s%s%s%s", cmd->opts[i].name,
		         cmd->opts[i].arg ? " " : "", cmd->opts[i].arg ? cmd->opts[i].arg : "",
		         cmd->opts[i].repeat ? " ..." : "");
		printf("%s\n", head);
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
	printf("usage: floe [--warehouse DIR] COMMAND [options]\n"
	       "       floe GROUP COMMAND [options]\n       floe --help | --version\n\n"
	       "table commands (warehouse: --warehouse, else $FLOE_WAREHOUSE, else ./warehouse):\n");
	for (int i = 0; i < NCOMMANDS; i++)
		if (!commands[i].group[0])
			printf("  %-18s %s\n", commands[i].name, commands[i].summary);
	printf("\nfile commands:\n");
	for (int i = 0; i < NCOMMANDS; i++)
		if (commands[i].group[0]) {
			char head[64];
			snprintf(head, sizeof head, "%s %s", commands[i].group, commands[i].name);
			printf("  %-18s %s\n", head, commands[i].summary);
		}
	printf("\nRun 'floe COMMAND --help' or 'floe GROUP COMMAND --help' for options.\n");
}

static bool is_group(const char *name)
{
	for (int i = 0; i < NCOMMANDS; i++)
		if (commands[i].group[0] && strcmp(commands[i].group, name) == 0)
			return true;
	return false;
}

static int run_cmd(const floe_cli_cmd *cmd, int argc, char **argv)
{
	floe_cli_args args;
	memset(&args, 0, sizeof args);
	int rc, nopts = 0;
	while (cmd->opts[nopts].name)
		nopts++;
	assert(nopts <= FLOE_CLI_MAX_OPTS); /* raise FLOE_CLI_MAX_OPTS in cli.h */
	args.pos = calloc((size_t)argc + 1, sizeof *args.pos);
	if (!args.pos)
		return floe_cli_fail("out of memory");
	bool only_pos = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		char longform[64];
		const char *full = !only_pos && a[0] == '-' && a[1] && a[1] != '-' && !a[2]
		                   ? short_opt_name(cmd, a[1]) : NULL;
		if (full) { /* "-f" reads as "--file" */
			snprintf(longform, sizeof longform, "--%s", full);
			a = longform;
		}
		if (only_pos || a[0] != '-' || a[1] != '-' ) {
			if (!only_pos && a[0] == '-' && a[1] != '\0') {
				rc = floe_cli_usage(cmd, "unknown option '%s'", a);
				goto done;
			}
			if (args.npos >= cmd->max_pos) {
				rc = floe_cli_usage(cmd, "unexpected argument '%s'", a);
				goto done;
			}
			args.pos[args.npos++] = a;
			continue;
		}
		if (a[2] == '\0') {
			only_pos = true;
			continue;
		}
		if (strcmp(a, "--help") == 0) {
			cmd_help(cmd);
			rc = FLOE_CLI_OK;
			goto done;
		}
		const char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		int k = -1;
		for (int j = 0; cmd->opts[j].name; j++)
			if (strlen(cmd->opts[j].name) == nl && strncmp(cmd->opts[j].name, a + 2, nl) == 0)
				k = j;
		if (k < 0) {
			rc = floe_cli_usage(cmd, "unknown option '%.*s'", (int)nl + 2, a);
			goto done;
		}
		if (!cmd->opts[k].arg) {
			if (eq) {
				rc = floe_cli_usage(cmd, "option --%s takes no value", cmd->opts[k].name);
				goto done;
			}
			args.values[k] = "";
		} else if (eq) {
			args.values[k] = eq + 1;
		} else {
			if (i + 1 >= argc) {
				rc = floe_cli_usage(cmd, "option --%s needs a value %s",
				                    cmd->opts[k].name, cmd->opts[k].arg);
				goto done;
			}
			args.values[k] = argv[++i];
		}
		if (cmd->opts[k].repeat) {
			if (args.nrep >= FLOE_CLI_MAX_REPEATS) {
				rc = floe_cli_usage(cmd, "too many repeated options (at most %d)",
				                    FLOE_CLI_MAX_REPEATS);
				goto done;
			}
			args.rep_opt[args.nrep] = k;
			args.rep_values[args.nrep++] = args.values[k];
		}
	}
	if (args.npos < cmd->min_pos)
		rc = floe_cli_usage(cmd, "missing %s", cmd->params);
	else
		rc = cmd->run(cmd, &args);
done:
	free(args.pos);
	return rc;
}

int floe_cli_main(int argc, char **argv)
{
	global_warehouse = NULL;
	int at = 1;
	/* global options before the command */
	while (at < argc && strncmp(argv[at], "--warehouse", 11) == 0) {
		if (argv[at][11] == '=') {
			global_warehouse = argv[at] + 12;
			at++;
		} else if (argv[at][11] == '\0') {
			if (at + 1 >= argc)
				return floe_cli_usage(NULL, "option --warehouse needs a value DIR");
			global_warehouse = argv[at + 1];
			at += 2;
		} else {
			break;
		}
	}
	if (at >= argc) {
		main_help();
		return FLOE_CLI_USAGE;
	}
	const char *g = argv[at];
	if (strcmp(g, "--help") == 0 || strcmp(g, "-h") == 0 || strcmp(g, "help") == 0) {
		main_help();
		return FLOE_CLI_OK;
	}
	if (strcmp(g, "--version") == 0) {
		printf("floe %s\n", FLOE_VERSION);
		return FLOE_CLI_OK;
	}
	/* top-level commands first, then groups */
	for (int i = 0; i < NCOMMANDS; i++)
		if (!commands[i].group[0] && strcmp(commands[i].name, g) == 0)
			return run_cmd(&commands[i], argc - at - 1, argv + at + 1);
	if (!is_group(g))
		return floe_cli_usage(NULL, "unknown command '%s'", g);
	if (argc < at + 2 || strcmp(argv[at + 1], "--help") == 0 ||
	    strcmp(argv[at + 1], "-h") == 0) {
		group_help(g);
		return argc < at + 2 ? FLOE_CLI_USAGE : FLOE_CLI_OK;
	}
	for (int i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].group, g) == 0 && strcmp(commands[i].name, argv[at + 1]) == 0)
			return run_cmd(&commands[i], argc - at - 2, argv + at + 2);
	fprintf(stderr, "floe: unknown command '%s %s' (see 'floe %s --help')\n", g,
	        argv[at + 1], g);
	return FLOE_CLI_USAGE;
}
