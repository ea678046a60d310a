/* floe/avro.h - Avro object container files (OCF): schema model, generic
 * value trees, a hardened reader and a writer that keeps the schema JSON
 * byte-for-byte (so Iceberg's field-id attributes survive). */
#ifndef FLOE_AVRO_H
#define FLOE_AVRO_H

#include <stddef.h>
#include <stdint.h>

#include "floe/arena.h"
#include "floe/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum floe_avro_kind {
	FLOE_AVRO_NULL = 0,
	FLOE_AVRO_BOOLEAN,
	FLOE_AVRO_INT,
	FLOE_AVRO_LONG,
	FLOE_AVRO_FLOAT,
	FLOE_AVRO_DOUBLE,
	FLOE_AVRO_BYTES,
	FLOE_AVRO_STRING,
	FLOE_AVRO_RECORD,
	FLOE_AVRO_ENUM,
	FLOE_AVRO_ARRAY,
	FLOE_AVRO_MAP,
	FLOE_AVRO_UNION,
	FLOE_AVRO_FIXED
} floe_avro_kind;

typedef struct floe_avro_schema floe_avro_schema;

/* An attribute of a field beyond name/type/default (e.g. "field-id"),
 * value kept as compact JSON text. */
typedef struct floe_avro_attr {
	const char *key;
	const char *json;
} floe_avro_attr;

typedef struct floe_avro_field {
	const char *name;
	const floe_avro_schema *type;
	const char *default_json; /* compact JSON, NULL when absent */
	size_t nattrs;
	const floe_avro_attr *attrs;
	int has_field_id;  /* "field-id" present and an integer */
	int64_t field_id;
} floe_avro_field;

/* One schema node; all nodes of a parse live in the parse's arena. */
struct floe_avro_schema {
	floe_avro_kind kind;
	const char *name;           /* full name: record, enum, fixed */
	const char *logical_type;   /* "logicalType" or NULL */
	size_t nfields;             /* record */
	const floe_avro_field *fields;
	size_t nsymbols;            /* enum */
	const char *const *symbols;
	size_t fixed_size;          /* fixed */
	const floe_avro_schema *items; /* array items, map values */
	size_t nbranches;           /* union */
	const floe_avro_schema *const *branches;
};

/* Parse Avro schema JSON (Avro 1.11 "Schema Declaration"). Named types may
 * be referenced by name after their definition (recursion allowed). Nodes
 * are allocated in `arena`. */
int floe_avro_schema_parse(const floe_avro_schema **out, floe_arena *arena,
                           const char *json, size_t len, floe_error *err);

/* Record field lookup by name / by "field-id"; NULL when absent. `index`
 * (may be NULL) receives the field's position. */
const floe_avro_field *floe_avro_field_by_name(const floe_avro_schema *rec,
                                               const char *name, size_t *index);
const floe_avro_field *floe_avro_field_by_id(const floe_avro_schema *rec,
                                             int64_t field_id, size_t *index);

/* Generic value. Which members are used depends on kind:
 *   BOOLEAN, INT, LONG, ENUM (symbol index): i
 *   FLOAT, DOUBLE: d
 *   BYTES, STRING, FIXED: bytes/len (string bytes are not NUL-terminated
 *     when built by hand; the reader adds a NUL after them)
 *   RECORD: n fields in schema order in items[]
 *   ARRAY: n elements in items[]
 *   MAP: n entries, keys[k] (STRING values) -> items[k]
 *   UNION: i = branch index, items[0] = the branch value */
typedef struct floe_avro_value floe_avro_value;
struct floe_avro_value {
	floe_avro_kind kind;
	int64_t i;
	double d;
	const uint8_t *bytes;
	size_t len;
	size_t n;
	floe_avro_value *items;
	floe_avro_value *keys;
};

/* Unwrap unions (a null branch gives FLOE_AVRO_NULL); never NULL for a
 * non-NULL argument. */
const floe_avro_value *floe_avro_value_unwrap(const floe_avro_value *v);
/* An int or long (through unions) as int64: 0, or FLOE_EINVALID when the
 * value is another kind (including null). Old Iceberg writers store some
 * ints as longs and vice versa; this reads both. */
int floe_avro_value_int64(const floe_avro_value *v, int64_t *out);
/* Field of a record value by name / field-id; NULL when absent. */
const floe_avro_value *floe_avro_value_field(const floe_avro_schema *rec,
                                             const floe_avro_value *v, const char *name);
const floe_avro_value *floe_avro_value_field_id(const floe_avro_schema *rec,
                                                const floe_avro_value *v, int64_t field_id);

/* ---- reader ---- */
typedef struct floe_avro_reader floe_avro_reader;

/* Open an OCF held in memory (borrowed: must outlive the reader). `name`
 * is used in error messages. Reads and checks the header. */
int floe_avro_reader_open_mem(floe_avro_reader **out, const uint8_t *data, size_t len,
                              const char *name, floe_error *err);
/* Open an OCF file (read whole into memory). */
int floe_avro_reader_open_file(floe_avro_reader **out, const char *path, floe_error *err);

const floe_avro_schema *floe_avro_reader_schema(const floe_avro_reader *r);
/* The "avro.schema" metadata text exactly as stored (NUL-terminated). */
const char *floe_avro_reader_schema_json(const floe_avro_reader *r, size_t *len);
/* "null", "deflate" or "snappy". */
const char *floe_avro_reader_codec(const floe_avro_reader *r);
/* Metadata entries: count, and the k-th key/value. Value bytes are followed
 * by a NUL (not counted). */
size_t floe_avro_reader_meta_count(const floe_avro_reader *r);
void floe_avro_reader_meta_at(const floe_avro_reader *r, size_t k, const char **key,
                              const uint8_t **value, size_t *len);
/* Value of `key`, or NULL when absent. */
const uint8_t *floe_avro_reader_meta(const floe_avro_reader *r, const char *key, size_t *len);

/* Decode the next record into `arena`: returns 1 with *out set, 0 at the
 * end of the file, or a negative FLOE_E* code. */
int floe_avro_reader_next(floe_avro_reader *r, floe_arena *arena,
                          const floe_avro_value **out, floe_error *err);
void floe_avro_reader_free(floe_avro_reader *r);

/* ---- writer ---- */
typedef enum floe_avro_codec {
	FLOE_AVRO_CODEC_NULL = 0,
	FLOE_AVRO_CODEC_DEFLATE = 1
} floe_avro_codec;

typedef struct floe_avro_writer_opts {
	floe_avro_codec codec;
	size_t block_records; /* flush after this many records (0 = 4096) */
	size_t block_bytes;   /* or this many encoded bytes (0 = 1 MiB) */
} floe_avro_writer_opts;

typedef struct floe_avro_writer floe_avro_writer;

/* New in-memory OCF writer. `schema_json` (validated by parsing) is stored
 * byte-for-byte as avro.schema. `meta` holds `nmeta` key/value string pairs
 * (meta[2k] key, meta[2k+1] value); keys starting "avro." are refused.
 * `opts` may be NULL. */
int floe_avro_writer_new(floe_avro_writer **out, const char *schema_json, size_t schema_len,
                         const char *const *meta, size_t nmeta,
                         const floe_avro_writer_opts *opts, floe_error *err);
const floe_avro_schema *floe_avro_writer_schema(const floe_avro_writer *w);
/* Append one record (validated against the schema; nothing is written on
 * failure). */
int floe_avro_writer_append(floe_avro_writer *w, const floe_avro_value *v, floe_error *err);
/* Flush the last block; the file bytes stay owned by the writer. */
int floe_avro_writer_finish(floe_avro_writer *w, const uint8_t **data, size_t *len,
                            floe_error *err);
void floe_avro_writer_free(floe_avro_writer *w);

/* Write `len` bytes to `path` via a temporary file, fsync, rename and a
 * directory fsync (util/fs.h floe_fs_write_atomic). */
int floe_avro_write_file(const char *path, const uint8_t *data, size_t len, floe_error *err);

#ifdef __cplusplus
}
#endif
#endif
