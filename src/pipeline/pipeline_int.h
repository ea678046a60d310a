/* pipeline/pipeline_int.h - what the pipeline runner's files share: a
 * loaded pipeline, compiled steps and their runs. Internal. */
#ifndef FLOE_PIPELINE_INT_H
#define FLOE_PIPELINE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/expr.h"
#include "floe/pipeline.h"
#include "floe/table.h"
#include "floe/window.h"
#include "pipeline/spec.h"

struct floe_pipeline {
	floe_arena *arena;
	pl_spec *spec;
	int *order;                /* steps in run order */
};

/* A compiled transform op: the schema it reads and, for derive and
 * select, the schema it makes. */
typedef struct pl_cop {
	const pl_op *op;
	floe_schema *in;           /* columns it reads (laid out so) */
	floe_schema *out;          /* DERIVE/SELECT: columns it produces */
	floe_expr **exprs;         /* DERIVE/SELECT: per column; FILTER: [0];
	                              VALIDATE: per rule */
	int *target;               /* DERIVE: output index of each column */
	int nexprs;
} pl_cop;

/* Upstream rows per ingest batch and per step group when
 * floe_run_options.max_batch_rows is not set (docs/pipelines.md) */
#define PL_MAX_BATCH_ROWS 500000

/* Freshness samples (event time -> commit), a reservoir. */
#define PL_FRESH_SAMPLES 8192
typedef struct pl_fresh {
	double *v;
	int64_t seen;
	uint64_t rng;
} pl_fresh;

typedef struct pl_step_rt {
	const pl_step *s;
	floe_arena *arena;         /* compiled state */
	floe_table *src, *dst, *quar;
	char pos_key[320], ev_key[320];
	/* transform */
	pl_cop *ops;
	int nops;
	const char **scan_cols;    /* upstream columns read */
	int nscan;
	floe_schema *scan_schema;
	floe_schema *final_schema; /* after the ops */
	const char *raw_col;       /* the upstream's "_raw", when only rejects
	                              need it: left out of the scan and read
	                              for the rejected rows by a second scan
	                              (NULL: read with the rest, or none) */
	int et_final;              /* event-time column after the ops, or -1 */
	/* aggregate / rolling */
	floe_window *win;
	floe_rolling *roll;
	int64_t lookback_us;
	const char **merge_on;     /* the target's key columns */
	int nmerge_on;
	bool has_is_final;
	/* totals */
	int64_t total_out;
	pl_fresh fresh;
} pl_step_rt;

/* Open (creating when missing) the tables a step reads and writes and
 * compile it. */
int pl_step_prepare(pl_step_rt *rt, floe_catalog *cat, const pl_spec *spec, const pl_step *s,
                    floe_error *err);
void pl_step_release(pl_step_rt *rt);

/* Consume what is new upstream (at most `max_rows` upstream rows per
 * commit; several commits until caught up when `all`). *did gets whether
 * anything was committed. Status through `o`. */
int pl_step_run(pl_step_rt *rt, const floe_run_options *o, bool all, bool *did,
                floe_run_result *res, floe_error *err);

/* The sequence number of the last upstream snapshot the step has read, as
 * its target holds it now (-1: none yet). */
int pl_step_read_upto(pl_step_rt *rt, int64_t *seq, floe_error *err);

/* Recompute the step's output for event times in [from, to). */
int pl_step_rebuild(pl_step_rt *rt, const floe_run_options *o, int64_t from_us, int64_t to_us,
                    floe_run_result *res, floe_error *err);

/* Fresh-sample helpers. */
int pl_fresh_init(pl_fresh *f);
void pl_fresh_add(pl_fresh *f, double ms);
void pl_fresh_free(pl_fresh *f);
/* p in [0, 1]; -1 when there are no samples. */
double pl_fresh_quantile(const pl_fresh *f, double p);

int64_t pl_wall_us(void);
int64_t pl_peak_rss(void);

/* Create a declared table when it is missing. */
int pl_table_ensure(floe_catalog *cat, const pl_table *t, floe_error *err);

/* Table properties as floe_table_create takes them ("key=value" strings,
 * *out freed with pl_props_free). */
int pl_props_text(const pl_kv *kv, int n, char ***out, floe_error *err);
void pl_props_free(char **props, int n);

#endif
