/* pipeline/spec.h - a pipeline as data: what a pipeline YAML file holds
 * (docs/pipelines.md), loaded into plain structs with every string kept.
 * Loading checks the shape (keys, kinds, required entries, references
 * between steps, tables and sources); expressions and schemas are parsed
 * later, by the runner, which names the step in its errors. Internal. */
#ifndef FLOE_PIPELINE_SPEC_H
#define FLOE_PIPELINE_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/arena.h"
#include "floe/error.h"

/* key: value pairs in file order */
typedef struct pl_kv {
	const char *key;
	const char *value;
	int line;            /* 1-based line of the key in the file */
} pl_kv;

typedef enum pl_source_kind {
	PL_SRC_FILES = 1,     /* `path:` a file or a directory (watched while
	                         streaming) */
	PL_SRC_KAFKA          /* `kafka:` {brokers, topic, group, conf} */
} pl_source_kind;

typedef struct pl_source {
	const char *name;
	pl_source_kind kind;
	const char *table;        /* the Bronze table it ingests into */
	const char *spec;         /* record spec: built-in name or a JSON file path
	                             (relative to the pipeline file's folder) */
	const char *format;       /* files: "ndjson" (default) or "csv" */
	const char *path;         /* files: a file or a directory (relative to the
	                             pipeline file's folder) */
	/* kafka */
	const char *brokers, *topic, *group;
	pl_kv *conf;              /* librdkafka settings */
	int nconf;
	pl_kv *properties;        /* of the Bronze table, when it is created */
	int nproperties;
	int line;
} pl_source;

typedef struct pl_table {
	const char *name;         /* namespace.table */
	const char *schema;       /* schema text (floe_schema_parse) */
	const char *partition;    /* partition text ("day(event_time)") or NULL */
	const char *sort;         /* sort order text or NULL */
	const char **identifier;  /* identifier field names */
	int nidentifier;
	pl_kv *properties;
	int nproperties;
	int line;
} pl_table;

typedef enum pl_op_kind {
	PL_OP_FILTER = 1,   /* expr: keep rows where it is TRUE */
	PL_OP_DERIVE,       /* cols: add or replace columns, in order */
	PL_OP_SELECT,       /* cols: exactly these output columns (name: expr) */
	PL_OP_VALIDATE      /* rules: rows failing a rule go to quarantine with
	                       its reason (the first failing rule) */
} pl_op_kind;

typedef struct pl_rule {
	const char *rule;         /* boolean expression a good row satisfies */
	const char *reason;
	int line;
} pl_rule;

typedef struct pl_op {
	pl_op_kind kind;
	const char *expr;         /* FILTER */
	pl_kv *cols;              /* DERIVE, SELECT: name -> expression */
	int ncols;
	pl_rule *rules;           /* VALIDATE */
	int nrules;
	int line;
} pl_op;

typedef enum pl_step_kind {
	PL_STEP_TRANSFORM = 1,    /* ops, then append or (with dedup) keyed merge */
	PL_STEP_AGGREGATE,        /* windowed aggregation, keyed upsert of windows */
	PL_STEP_ROLLING           /* rolling columns, keyed upsert of rows */
} pl_step_kind;

typedef struct pl_step {
	const char *name;
	pl_step_kind kind;
	const char *from;         /* upstream table */
	const char *to;           /* target table (declared under tables:) */
	const char *quarantine;   /* TRANSFORM: table for validate rejects and
	                             late events (default TO "_rejected") */
	/* TRANSFORM */
	pl_op *ops;
	int nops;
	const char **dedup_key;   /* dedup: key columns; 0 = plain append */
	int ndedup_key;
	const char *dedup_order;  /* dedup: ordering column (latest wins) */
	const char *event_time;   /* column of the event time (after the ops);
	                             for the watermark and the late horizon */
	int64_t late_horizon_us;  /* > 0: events older than watermark - horizon
	                             go to quarantine; 0 = never (default) */
	/* AGGREGATE and ROLLING */
	const char **keys;
	int nkeys;
	const char *time;         /* event-time column of the upstream rows */
	int64_t size_us, slide_us;/* AGGREGATE: window size and slide (0 = size) */
	int64_t lateness_us;      /* AGGREGATE: allowed lateness: watermark = max
	                             event time - lateness; a window is final
	                             once window_end <= watermark */
	const char **order;       /* tie-breaks after the time */
	int norder;
	pl_kv *outputs;           /* output column -> expression */
	int noutputs;
	int line;
} pl_step;

typedef struct pl_spec {
	const char *path;         /* the file it came from */
	const char *dir;          /* its folder (relative paths resolve here) */
	const char *name;
	pl_kv *simulator;         /* top-level `simulator:` options as written
	                             (trades: DIR, quotes: DIR, rate, symbols,
	                             faults, seed, ...); NULL when absent */
	int nsimulator;
	pl_source *sources;
	int nsources;
	pl_table *tables;
	int ntables;
	pl_step *steps;
	int nsteps;
	int64_t upkeep_every_us;  /* upkeep: every: while streaming, expire (and
	                             compact) the pipeline's tables this often;
	                             0 = no upkeep section */
	int upkeep_compact;       /* upkeep: compact: 1 true, 0 false, -1 unset */
} pl_spec;

/* Load a pipeline file. Everything lives in `arena`. Errors are
 * FLOE_EINVALID "FILE:LINE:COL: what is wrong (what to write instead)";
 * FLOE_EIO when the file cannot be read. */
int pl_spec_load(pl_spec **out, const char *path, floe_arena *arena, floe_error *err);

/* The same from text in memory (`origin` names it in errors; relative
 * paths resolve against `dir`, NULL = "."). */
int pl_spec_parse(pl_spec **out, const char *text, size_t len, const char *origin,
                  const char *dir, floe_arena *arena, floe_error *err);

/* Steps in run order: a step runs after every step whose target it reads
 * (the order of the file among independent steps). order[] gets nsteps
 * indexes. A cycle is FLOE_EINVALID naming its steps. */
int pl_spec_order(const pl_spec *s, int *order, floe_error *err);

/* A duration ("250ms", "10s", "1m", "5 minutes", "1.5h", "1h30m", a bare
 * "0") in microseconds into *us. Units: us, ms, s/sec/second(s),
 * m/min/minute(s), h/hr/hour(s), d/day(s). FLOE_EINVALID (no message: the
 * caller knows where the text came from) for anything else, negative
 * values, fractions finer than a microsecond and overflow. */
int pl_duration_parse(int64_t *us, const char *text);

/* Lookups by name; NULL when absent. */
const pl_table *pl_spec_table(const pl_spec *s, const char *name);
const pl_source *pl_spec_source_for(const pl_spec *s, const char *table);

#endif
