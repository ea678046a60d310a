/* floe/pipeline.h - declarative pipelines (docs/pipelines.md): a YAML file
 * names sources that feed Bronze tables, the tables, and steps from table
 * to table (transform, windowed aggregate, rolling). The same steps run as
 * a stream, once over what is new, as a backfill of historical files, or
 * as a rebuild of a time range, into the same tables. Each step keeps the
 * last upstream snapshot it consumed in its target table's snapshot
 * summary, committed with its output, so a pipeline is exactly-once end to
 * end and can be stopped (or killed) and started again at any moment. */
#ifndef FLOE_PIPELINE_H
#define FLOE_PIPELINE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "floe/catalog.h"
#include "floe/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct floe_pipeline floe_pipeline;

/* Load and check a pipeline file: its shape, then every step's
 * expressions against the schemas of the tables it reads (tables not yet
 * created are checked when the run creates them). */
int floe_pipeline_load(floe_pipeline **out, const char *path, floe_error *err);
const char *floe_pipeline_name(const floe_pipeline *p);
void floe_pipeline_free(floe_pipeline *p);

/* Simulator settings of the file's `simulator:` section: the value of
 * `key` or NULL. */
const char *floe_pipeline_simulator(const floe_pipeline *p, const char *key);

typedef enum floe_run_mode {
	FLOE_RUN_STREAM = 0, /* ingest every source continuously and run the
	                        steps as their upstream tables change, until
	                        *stop */
	FLOE_RUN_ONCE,       /* ingest what the sources hold now, run every
	                        step until caught up, stop */
	FLOE_RUN_BACKFILL,   /* ingest the given files, then the steps as ONCE */
	FLOE_RUN_REBUILD,    /* recompute one step's output for a time range */
	FLOE_RUN_UPKEEP      /* compact and expire every table of the pipeline
	                        once, keeping what its steps have not read */
} floe_run_mode;

typedef struct floe_run_status {
	const char *event;         /* "start", "ingest", "step", "upkeep", "stop" */
	const char *name;          /* the source or step */
	const char *table;         /* the table written */
	int64_t rows_in;           /* this run of the step: upstream rows read */
	int64_t rows_out;          /* rows written (upserted) */
	int64_t rejected;          /* rows quarantined */
	int64_t snapshot_id;       /* the commit, or -1 */
	int64_t watermark_us;      /* aggregate steps: max event time - lateness,
	                              INT64_MIN before any */
	double seconds;            /* the step run's wall time */
	double freshness_p50_ms;   /* commit time - event time of the rows this
	                              commit brought (aggregate steps); -1 none */
	double freshness_p99_ms;
	int64_t total_rows_out;    /* since the run started, this step */
	int64_t rss_bytes;         /* peak resident memory of the process */
	/* "upkeep" events (name "upkeep"; rows_out: rows compaction wrote,
	   snapshot_id: the table's current snapshot after it) */
	int64_t files_compacted;   /* data files compaction rewrote */
	int64_t snapshots_expired;
	int64_t files_deleted;     /* data and delete files the expiry deleted */
} floe_run_status;

typedef void (*floe_run_status_fn)(void *ctx, const floe_run_status *st);

typedef struct floe_run_options {
	floe_run_mode mode;
	int64_t interval_ms;        /* stream: ingest trigger (default 1000) */
	const char *const *backfill;/* BACKFILL: "SOURCE=FILE" or FILE (a file
	                               whose name contains exactly one source's
	                               name goes to that source) */
	int nbackfill;
	const char *rebuild_table;  /* REBUILD: the target table of a step */
	int64_t rebuild_from_us, rebuild_to_us; /* [from, to) of event time */
	int64_t max_batch_rows;     /* ingest batch and step group size
	                               (default 500,000 rows) */
	bool skip_expired;          /* a step whose unread upstream snapshots
	                               were expired goes on from the oldest one
	                               left, skipping their rows (else an error) */
	volatile sig_atomic_t *stop;/* stream: set nonzero to stop */
	floe_run_status_fn status;
	void *status_ctx;
} floe_run_options;

void floe_run_options_init(floe_run_options *o);

typedef struct floe_run_result {
	int64_t ingested;           /* records committed to Bronze */
	int64_t ingest_rejected;    /* records quarantined by ingest */
	int64_t step_runs;          /* step runs that committed */
	int64_t rows_out;           /* rows the steps wrote */
	int64_t rejected;           /* rows the steps quarantined */
	double freshness_p50_ms;    /* a stream: aggregate steps over the whole run; -1 */
	double freshness_p99_ms;
	int64_t files_compacted;    /* upkeep: data files compaction rewrote */
	int64_t snapshots_expired;  /* upkeep */
	int64_t files_deleted;      /* upkeep: data and delete files expiry deleted */
} floe_run_result;

/* Create the declared tables that are missing, then run. Returns 0 or a
 * FLOE_E* code; what was committed stays committed. */
int floe_pipeline_run(floe_catalog *cat, floe_pipeline *p, const floe_run_options *o,
                      floe_run_result *res, floe_error *err);

#ifdef __cplusplus
}
#endif
#endif
