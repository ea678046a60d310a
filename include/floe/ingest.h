/* floe/ingest.h - streaming ingest into Bronze tables with exactly-once
 * commits. A runner reads raw records from a source (Kafka, NDJSON/CSV
 * files, a watched directory, stdin), decodes them by a record spec (a
 * schema plus checks, as data), and commits each micro-batch to the Bronze
 * table and the records that fail to its quarantine table, with the source
 * positions the batch consumed in the same Iceberg snapshot. On start it
 * resumes from the positions the tables hold. See docs/ingest.md. */
#ifndef FLOE_INGEST_H
#define FLOE_INGEST_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "floe/catalog.h"
#include "floe/error.h"
#include "floe/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- record specs --------------------------------------------------------- */

/* What a record must look like: a name, the parsed fields (Iceberg types),
 * the event-time column the Bronze table is partitioned by (day), an
 * optional key, and checks (filter expressions; a record for which a check
 * is not TRUE is rejected with the check's reason). Built in: "trades" and
 * "quotes"; others come from a JSON file (docs/ingest.md). */
typedef struct floe_record_spec floe_record_spec;

int floe_record_spec_builtin(floe_record_spec **out, const char *name, floe_error *err);
int floe_record_spec_load(floe_record_spec **out, const char *path, floe_error *err);
int floe_record_spec_parse(floe_record_spec **out, const char *json, const char *origin,
                           floe_error *err);
void floe_record_spec_free(floe_record_spec *s);
const char *floe_record_spec_name(const floe_record_spec *s);
/* The Bronze table's columns: the parsed fields, then _raw, _source,
 * _partition, _offset, _ingest_time; and the quarantine table's: _raw
 * (binary), _reason, _source, _partition, _offset, _ingest_time. As
 * schema text for floe_table_create_options.schema; static storage owned
 * by the spec. */
const char *floe_record_spec_bronze_schema(const floe_record_spec *s);
const char *floe_record_spec_quarantine_schema(const floe_record_spec *s);
const char *floe_record_spec_bronze_partition(const floe_record_spec *s);

/* ---- the runner ----------------------------------------------------------- */

typedef enum floe_trigger {
	FLOE_TRIGGER_INTERVAL = 0, /* a batch every interval_ms until stopped */
	FLOE_TRIGGER_ONCE,         /* everything there now in one batch, then stop */
	FLOE_TRIGGER_AVAILABLE_NOW /* everything there now in bounded batches, then stop */
} floe_trigger;

/* One status report, after every commit and about once a second. */
typedef struct floe_ingest_status {
	const char *event;       /* "start", "commit", "idle", "stop" */
	int64_t batches;         /* committed so far */
	int64_t rows;            /* good records committed so far */
	int64_t rejected;        /* records quarantined so far */
	int64_t skipped;         /* records skipped as already committed */
	int64_t bytes;           /* payload bytes consumed so far */
	double rows_per_s;       /* over the last interval */
	int64_t lag;             /* records (Kafka) or bytes (files) not read yet; -1 unknown */
	int64_t last_snapshot_id;/* of the Bronze table, 0 before the first commit */
	int64_t last_commit_ms;  /* wall clock of the last commit */
	int64_t batch_rows, batch_rejected;
	double freshness_p50_ms, freshness_p99_ms; /* commit time - event time of the
	                                              last batch's records; -1 when none */
	int64_t rss_bytes;       /* peak resident memory of the process */
} floe_ingest_status;

typedef void (*floe_ingest_status_fn)(void *ctx, const floe_ingest_status *st);

typedef struct floe_ingest_options {
	const char *table;        /* "bronze.trades" (created when missing) */
	const char *quarantine;   /* default TABLE "_rejected" */
	const char *source;       /* kafka://HOST:PORT/TOPIC, a file, a directory, or "-" */
	const char *const *files; /* more files after `source` (a batch of files) */
	int nfiles;
	const char *format;       /* "ndjson" (default) or "csv" */
	const floe_record_spec *spec; /* required */
	floe_trigger trigger;
	int64_t interval_ms;      /* FLOE_TRIGGER_INTERVAL; default 1000 */
	int64_t max_batch_rows;   /* default 1,000,000 */
	int64_t max_batch_bytes;  /* payload bytes; default 64 MiB */
	bool watch;               /* a directory: keep watching for new files
	                             (default for a directory with the interval trigger) */
	const char *group;        /* Kafka consumer group (default "floe-ingest") */
	const char *const *kafka_conf; /* librdkafka "key=value" settings */
	int nkafka_conf;
	floe_ingest_status_fn status;
	void *status_ctx;
	volatile sig_atomic_t *stop; /* set to nonzero: commit the batch in progress and return */
	int64_t max_batches;      /* stop after this many commits (0 = no limit) */
	const char *source_id;    /* key of the source's position in snapshot
	                             summaries (floe.ingest.position.ID); NULL =
	                             the source's own ("files", "kafka:TOPIC") */
} floe_ingest_options;

void floe_ingest_options_init(floe_ingest_options *o);

typedef struct floe_ingest_result {
	int64_t batches, rows, rejected, skipped, bytes;
	int64_t last_snapshot_id;
} floe_ingest_result;

/* Run until the trigger says stop (once, available-now), *stop is set,
 * or an error. Returns 0 or a FLOE_E* code; what was committed stays
 * committed. */
int floe_ingest_run(floe_catalog *cat, const floe_ingest_options *o, floe_ingest_result *res,
                    floe_error *err);

/* The position a table holds for a source id ("kafka:TOPIC", "files",
 * "stdin") as its summary text, or NULL (*out) when it holds none.
 * malloc'ed. */
int floe_ingest_position(floe_catalog *cat, const char *table, const char *source_id,
                         char **out, floe_error *err);

#ifdef __cplusplus
}
#endif
#endif
