/* floe/parquet.h - Apache Parquet files: a streaming writer (flat schemas,
 * dictionary/delta encodings, all common codecs, statistics, page index)
 * and a hardened reader (projection, row-group and page skipping,
 * batch-at-a-time output). Both speak floe_batch (floe/batch.h). */
#ifndef FLOE_PARQUET_H
#define FLOE_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "floe/batch.h"
#include "floe/error.h"
#include "floe/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Compression codecs; values are parquet.thrift's CompressionCodec. */
typedef enum floe_parquet_codec {
	FLOE_PARQUET_UNCOMPRESSED = 0,
	FLOE_PARQUET_SNAPPY = 1,
	FLOE_PARQUET_GZIP = 2,
	FLOE_PARQUET_LZO = 3,    /* read: unsupported */
	FLOE_PARQUET_BROTLI = 4, /* read only */
	FLOE_PARQUET_LZ4 = 5,    /* read only (Hadoop framing or raw block) */
	FLOE_PARQUET_ZSTD = 6,
	FLOE_PARQUET_LZ4_RAW = 7
} floe_parquet_codec;

/* "zstd" -> FLOE_PARQUET_ZSTD etc. (case-insensitive); FLOE_EINVALID else. */
int floe_parquet_codec_parse(floe_parquet_codec *out, const char *name, floe_error *err);
const char *floe_parquet_codec_name(int codec);

/* ---- writer ------------------------------------------------------------ */

typedef struct floe_parquet_write_options {
	floe_parquet_codec codec;  /* default ZSTD */
	int codec_level;           /* ZSTD/GZIP/BROTLI level; 0 = codec default */
	int64_t row_group_bytes;   /* target uncompressed bytes per row group
	                              (default 128 MiB) */
	int64_t page_bytes;        /* target uncompressed bytes per data page
	                              (default 1 MiB) */
	int64_t dictionary_bytes;  /* a column's dictionary larger than this falls
	                              back to PLAIN (default 1 MiB) */
	bool dictionary;           /* try RLE_DICTIONARY (default true) */
	bool delta;                /* use DELTA_BINARY_PACKED for non-dictionary
	                              INT/LONG/TIME/TIMESTAMP/DATE pages when smaller
	                              (default true) */
	bool page_index;           /* write ColumnIndex/OffsetIndex (default true) */
	bool statistics;           /* write min/max/null_count (default true) */
	bool fsync;                /* fsync the file on close (default true);
	                              false starts the write-back on close and
	                              leaves the fsync to the caller (who must
	                              make the file durable before relying on
	                              it, e.g. floe_fs_fsync_file) */
	int data_page_version;     /* 1 (default) or 2 */
	int32_t stats_truncate;    /* max bytes of string/binary min/max
	                              (default 64); truncated values stay valid
	                              lower/upper bounds */
	const char *created_by;    /* default "floe version X" */
	const char *const *bloom_columns; /* write a split-block Bloom filter per
	                              row group for these columns (by name; not
	                              boolean or decimal); default none */
	int nbloom_columns;
	double bloom_fpp;          /* target false-positive rate (default 0.01) */
	int64_t bloom_max_bytes;   /* largest filter per column chunk (default
	                              1 MiB, as parquet-java) */
} floe_parquet_write_options;

void floe_parquet_write_options_init(floe_parquet_write_options *opts);

typedef struct floe_parquet_writer floe_parquet_writer;

/* Create `path` (replacing it) and prepare to write rows of `schema`, which
 * is copied. Every field becomes a top-level REQUIRED/OPTIONAL column with
 * its field_id. `opts` NULL = defaults. Free with close or abort. */
int floe_parquet_writer_open(floe_parquet_writer **out, const char *path,
                             const floe_schema *schema,
                             const floe_parquet_write_options *opts,
                             floe_error *err);

/* Append the rows of `batch` (columns in schema order, same types). The
 * batch is not retained. Row groups are flushed when they reach the target
 * size, so memory holds at most one row group (encoded + compressed). */
int floe_parquet_writer_write(floe_parquet_writer *w, const floe_batch *batch,
                              floe_error *err);

/* Bytes the file will hold so far: written plus encoded pages of the row
 * group in progress (pages not yet cut are not counted). For rolling files
 * at a target size. */
int64_t floe_parquet_writer_bytes(const floe_parquet_writer *w);

/* Add a footer key/value pair (copied); later pairs with the same key win. */
int floe_parquet_writer_set_kv(floe_parquet_writer *w, const char *key,
                               const char *value, floe_error *err);

typedef struct floe_parquet_file_info {
	int64_t num_rows;
	int64_t file_bytes;
	int num_row_groups;
} floe_parquet_file_info;

/* Write the row group in progress now (a no-op when it is empty). */
int floe_parquet_writer_flush_row_group(floe_parquet_writer *w, floe_error *err);

/* Compressed bytes of column `col` in the row groups written so far (page
 * headers and dictionary included; Iceberg's column_sizes metric); -1 for
 * a bad index. Flush the row group first to count every row. */
int64_t floe_parquet_writer_column_bytes(const floe_parquet_writer *w, int col);

/* Minimum and maximum of column `col` over the row groups written so far,
 * untruncated, as the column's PLAIN bytes without a length prefix (NaN
 * never counts; a zero float keeps its sign as written). Pointers stay
 * valid until the next write, flush or close. */
typedef struct floe_parquet_minmax {
	const uint8_t *min, *max;
	size_t min_len, max_len;
	int64_t nulls;
} floe_parquet_minmax;

/* 1 with min/max set, 0 when the column had no non-null value, -1 for a
 * bad index or statistics turned off. Flush the row group first to count
 * every row. */
int floe_parquet_writer_column_minmax(const floe_parquet_writer *w, int col,
                                      floe_parquet_minmax *out);

/* Flush, write the footer, fsync and close; frees `w` whatever happens.
 * `info` may be NULL. On failure the partial file is removed. */
int floe_parquet_writer_close(floe_parquet_writer *w, floe_parquet_file_info *info,
                              floe_error *err);

/* Abandon the file: close, remove it, free `w`. NULL is allowed. */
void floe_parquet_writer_abort(floe_parquet_writer *w);

/* ---- reader ------------------------------------------------------------ */

typedef struct floe_parquet_reader floe_parquet_reader;

/* Open `path` and decode its footer. Corrupt input gives FLOE_ECORRUPT with
 * "PATH: corrupt at byte N: why". Free with floe_parquet_reader_free. */
int floe_parquet_reader_open(floe_parquet_reader **out, const char *path,
                             floe_error *err);

/* Same over a caller-owned buffer that must outlive the reader; `name` is
 * used in error messages. */
int floe_parquet_reader_open_memory(floe_parquet_reader **out, const void *buf,
                                    size_t len, const char *name, floe_error *err);

void floe_parquet_reader_free(floe_parquet_reader *r);

/* The top-level columns floe can decode into batches, in file order, with
 * names, logical types (legacy converted types and INT96 mapped, see
 * docs/parquet.md), nullability and field ids. Nested columns (groups,
 * lists, maps) are not in it; they are skipped. Owned by the reader. */
const floe_schema *floe_parquet_reader_schema(const floe_parquet_reader *r);

int64_t floe_parquet_reader_num_rows(const floe_parquet_reader *r);
int floe_parquet_reader_num_row_groups(const floe_parquet_reader *r);

/* The footer's total_uncompressed_size of every column chunk, summed: the
 * bytes of the file's pages (headers included) before compression. */
int64_t floe_parquet_reader_uncompressed_bytes(const floe_parquet_reader *r);

/* Footer key/value metadata: the value for `key`, or NULL (owned by r). */
const char *floe_parquet_reader_kv(const floe_parquet_reader *r, const char *key);

/* The file's metadata as one JSON document: schema (every element, with
 * field ids, repetition, physical/logical/converted types), key/value
 * metadata, and per row group and column: codec, encodings, sizes, offsets,
 * statistics (decoded to the column's type) and page-index presence.
 * *out is malloc'ed; free() it. */
int floe_parquet_reader_describe(char **out, floe_parquet_reader *r, floe_error *err);

/* Check the whole file: every page of every column chunk, nested columns
 * included, is decoded (header, CRC when present, decompression, repetition
 * and definition levels) and checked against its header, its chunk and its
 * row group (level maxima from the schema, each data page starting a
 * record, level and value counts, dictionary indices, rows per chunk);
 * flat columns are also fully scanned. Returns 0, FLOE_ECORRUPT with
 * "FILE: corrupt at byte N: why", or FLOE_EUNSUPPORTED with the reason. */
int floe_parquet_reader_verify(floe_parquet_reader *r, floe_error *err);

/* Whether floe_parquet_writer_copy can take the row groups of `r` into a
 * file written with `schema` and `opts` (NULL = defaults): the same flat
 * columns (field ids, physical and logical types, nullability, in order),
 * type-defined column orders, every chunk compressed with opts' codec and
 * carrying null count and min/max statistics, a Bloom filter in each chunk
 * of a column opts wants one for, and every row group at least
 * `min_row_group_bytes` uncompressed. false sets *why (static text). */
bool floe_parquet_can_copy(const floe_parquet_reader *r, const floe_schema *schema,
                           const floe_parquet_write_options *opts, int64_t min_row_group_bytes,
                           const char **why);

/* Append every row group of `r` to the file of `w` as it is: the bytes of
 * each column chunk (pages not decoded, only their headers walked and
 * checked against the chunk), its statistics, page index and Bloom filter,
 * offsets moved. The row group in progress is written first. The file's
 * min/max (floe_parquet_writer_column_minmax) fold in the copied chunks'
 * statistics, which may be truncated (still valid bounds). FLOE_EUNSUPPORTED
 * when floe_parquet_can_copy says no; FLOE_ECORRUPT when a chunk's pages do
 * not add up (the writer must then be aborted). */
int floe_parquet_writer_copy(floe_parquet_writer *w, floe_parquet_reader *r, floe_error *err);

/* Comparison predicates for skipping. A scan with predicates skips row
 * groups and pages whose statistics prove no row can match the conjunction
 * of all predicates. By default it does not filter rows (rows of kept pages
 * are returned as they are); with filter_rows it also drops the rows whose
 * values prove they fail a predicate on a projected column. Either way
 * callers still evaluate their own filter: rows the comparison cannot
 * decide (NaN, types without an order here) are returned. */
typedef enum floe_parquet_op {
	FLOE_PARQUET_EQ = 1,
	FLOE_PARQUET_LT,
	FLOE_PARQUET_LE,
	FLOE_PARQUET_GT,
	FLOE_PARQUET_GE,
	FLOE_PARQUET_IN,
	FLOE_PARQUET_IS_NULL
} floe_parquet_op;

/* A literal in the column's storage (floe/schema.h): i for INT/DATE/LONG/
 * TIME/TIMESTAMP*, DECIMAL P<=18, d for FLOAT/DOUBLE, b for BOOLEAN, bytes
 * for STRING/BINARY/JSON/UUID/FIXED/DECIMAL P>18. */
typedef struct floe_value {
	int64_t i;
	double d;
	bool b;
	const uint8_t *bytes;
	int64_t len;
} floe_value;

typedef struct floe_parquet_predicate {
	const char *column;      /* by name, or NULL to use field_id */
	int32_t field_id;
	floe_parquet_op op;
	const floe_value *values; /* 1 value, or n for IN; none for IS NULL */
	int nvalues;
} floe_parquet_predicate;

typedef struct floe_parquet_scan_options {
	const char *const *columns; /* project by name (NULL = all of the schema) */
	int ncolumns;
	const int32_t *field_ids;   /* or by field id (used when columns is NULL) */
	int nfield_ids;
	const floe_parquet_predicate *predicates; /* conjunction; may be NULL */
	int npredicates;
	int64_t batch_rows;         /* max rows per batch (default 65536) */
	bool verify_crc;            /* check page CRCs when present (default true) */
	/* drop rows that fail a predicate: the predicate columns of a page are
	 * compared first and the other columns read only at the rows left
	 * (late materialization). Row positions in the file are then no longer
	 * the count of rows returned. Default false. */
	bool filter_rows;
} floe_parquet_scan_options;

void floe_parquet_scan_options_init(floe_parquet_scan_options *opts);

typedef struct floe_parquet_scan_stats {
	int row_groups;          /* in the file */
	int row_groups_skipped;  /* by statistics */
	int64_t pages;           /* data pages in the projected chunks read */
	int64_t pages_skipped;   /* by the page index */
	int64_t rows_returned;
	int64_t rows_filtered;   /* rows of read pages dropped by filter_rows */
	int64_t bytes_read;      /* compressed bytes read from the file */
} floe_parquet_scan_stats;

typedef struct floe_parquet_scan floe_parquet_scan;

/* Plan a scan. Unknown columns are FLOE_ENOTFOUND; projecting a nested
 * column is FLOE_EUNSUPPORTED. The reader must outlive the scan. */
int floe_parquet_scan_open(floe_parquet_scan **out, floe_parquet_reader *r,
                           const floe_parquet_scan_options *opts, floe_error *err);

/* Next batch: returns 1 and sets *out (owned by the scan, valid until the
 * next call or free; its schema lists the projected columns in projection
 * order), 0 at the end, or a negative code. */
int floe_parquet_scan_next(floe_parquet_scan *s, const floe_batch **out, floe_error *err);

void floe_parquet_scan_get_stats(const floe_parquet_scan *s, floe_parquet_scan_stats *out);
/* Start the scan over from the first row group with new predicates (the
 * projection stays). What the scan has decoded of the file is kept and
 * used again when the new pass reaches it: each column's dictionary and
 * its last decoded page, so a file probed over and over (a join looking
 * up keys one at a time) is decompressed and decoded once. Statistics
 * restart from zero. On error the scan has no predicates. */
int floe_parquet_scan_restart(floe_parquet_scan *s, const floe_parquet_predicate *preds, int n,
                              floe_error *err);

void floe_parquet_scan_free(floe_parquet_scan *s);

/* Hand the decode and output buffers of scan `from` (done with: its last
 * batch is no longer used) to the same-numbered columns of scan `to`, just
 * opened, which has none yet. A reader of file after file (a table scan)
 * then decodes into buffers of the sizes it needs instead of allocating
 * each anew, whose every page would fault again. `from` may only be freed
 * afterwards. */
void floe_parquet_scan_adopt_buffers(floe_parquet_scan *to, floe_parquet_scan *from);

/* Whether value `v` (of column `column`'s type) may be in row group
 * `row_group` by the column chunk's split-block Bloom filter: *maybe false
 * means it is certainly absent; true when it may be present or the chunk
 * has no filter. Only the header and one 32-byte block are read. */
int floe_parquet_reader_bloom_probe(floe_parquet_reader *r, int row_group, int column,
                                    const floe_value *v, bool *maybe, floe_error *err);

/* The whole bitset of a chunk's filter (malloc'ed; *bits NULL when the
 * chunk has none), for many probes: floe_parquet_bloom_check with a
 * value's PLAIN bytes (strings: the bytes; numbers: little-endian at the
 * physical width). A NULL bitset says "may be present". */
int floe_parquet_reader_bloom_load(floe_parquet_reader *r, int row_group, int column,
                                   uint8_t **bits, uint32_t *nbytes, floe_error *err);
bool floe_parquet_bloom_check(const uint8_t *bits, uint32_t nbytes, const void *plain, size_t n);

#ifdef __cplusplus
}
#endif
#endif
