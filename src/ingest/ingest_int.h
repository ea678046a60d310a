/* ingest/ingest_int.h - what the ingest modules share: the record spec
 * (spec.c), the decoder that turns raw records into Bronze rows or rejects
 * (decode.c), and the runner (runner.c). Internal. */
#ifndef FLOE_INGEST_INGEST_INT_H
#define FLOE_INGEST_INGEST_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/arena.h"
#include "floe/batch.h"
#include "floe/ingest.h"
#include "iceberg/expr.h"
#include "ingest/source.h"

typedef struct ing_check {
	const char *text;   /* the filter as written */
	const char *reason; /* why a record failing it is rejected */
	ice_expr *bound;    /* bound to the Bronze schema */
} ing_check;

struct floe_record_spec {
	floe_arena *arena;
	const char *name;
	const char *fields_text;   /* "trade_id string not null, ..." */
	floe_schema *fields;       /* the parsed fields (ids 1..n) */
	floe_schema *bronze;       /* fields + metadata columns (ids 1..n+5) */
	floe_schema *quarantine;
	const char *bronze_text, *quarantine_text, *partition_text;
	const char *event_time;    /* a timestamp field, or NULL */
	int event_col;             /* its index, or -1 */
	int nchecks;
	ing_check *checks;
};

/* Metadata columns after the parsed fields of a Bronze row. */
enum { ING_META_RAW = 0, ING_META_SOURCE, ING_META_PARTITION, ING_META_OFFSET,
       ING_META_INGEST_TIME, ING_NMETA };
/* Quarantine columns. */
enum { ING_Q_RAW = 0, ING_Q_REASON, ING_Q_SOURCE, ING_Q_PARTITION, ING_Q_OFFSET,
       ING_Q_INGEST_TIME, ING_NQ };

typedef enum ing_format { ING_NDJSON = 1, ING_CSV } ing_format;

typedef struct ing_decoder ing_decoder;

int ing_decoder_new(ing_decoder **out, const floe_record_spec *spec, ing_format fmt,
                    floe_error *err);
void ing_decoder_free(ing_decoder *d);

/* Decode by the general paths only: every key looked up, every timestamp
 * parsed by floe_text_parse (for tests that compare the fast paths with
 * them). */
void ing_decoder_set_general(ing_decoder *d, bool on);

/* Where the records come from, for the metadata columns. */
typedef struct ing_meta {
	const char *source;  /* label or file path */
	int32_t partition;   /* -1: NULL */
	int64_t offset;
	int64_t ingest_us;
} ing_meta;

/* Decode one record: a good one is added to the pending rows (checks run
 * at ing_decoder_take); a bad one is added to the rejects unless
 * `skip_reject` (already in the quarantine table). CSV header records
 * (`header`) set the column mapping. Returns 1 when rejected, 0 when
 * accepted, <0 on error (out of memory). */
int ing_decoder_add(ing_decoder *d, const char *data, size_t len, bool header,
                    const ing_meta *m, bool skip_reject, floe_error *err);

/* Add a reject with a reason of the caller's (a record the source could
 * not hand out whole). */
int ing_decoder_reject(ing_decoder *d, const char *data, size_t len, const char *reason,
                       const ing_meta *m, floe_error *err);

/* Pending good rows. */
int64_t ing_decoder_pending(const ing_decoder *d);

/* Run the checks over the pending rows, move the failing ones to the
 * rejects (except those `qpos` covers), and hand back the passing rows in
 * *out (valid until the next call on d; nrows may be 0). *event_us gets
 * the event-time of each passing row when the spec has one (NULL
 * otherwise; valid as *out). Returns the number rejected or <0. */
int ing_decoder_take(ing_decoder *d, const ing_pos *qpos, const floe_batch **out,
                     const int64_t **event_us, floe_error *err);
void ing_decoder_release(ing_decoder *d); /* clear what take handed out */

/* Rejects gathered so far (quarantine schema), and clearing them. */
const floe_batch *ing_decoder_rejects(ing_decoder *d);
void ing_decoder_clear_rejects(ing_decoder *d);

#endif
