/* parquet/meta.h - the Parquet footer and page structures of parquet.thrift
 * (apache/parquet-format), decoded from and encoded to the Thrift compact
 * protocol. Only the fields floe reads or writes are kept; unknown fields are
 * skipped on decode. Internal to libfloe (reader.c, writer.c, describe).
 *
 * Decoding is hostile-input safe: every length is checked against the
 * buffer end, lists are capped, nesting is capped, and enum fields that
 * floe interprets are range-checked (physical type, repetition, codec, page
 * type, boundary order). Encodings are validated where a page is decoded,
 * not in ColumnMetaData.encodings (future encodings there are harmless).
 * Strings and binaries point into the decoded buffer (which must outlive
 * the structures); arrays live in the arena passed to the decoder. */
#ifndef FLOE_PARQUET_META_H
#define FLOE_PARQUET_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "floe/arena.h"
#include "floe/error.h"
#include "util/buf.h"

/* parquet.thrift enums */
enum pq_type { PQ_BOOLEAN = 0, PQ_INT32 = 1, PQ_INT64 = 2, PQ_INT96 = 3, PQ_FLOAT = 4,
	       PQ_DOUBLE = 5, PQ_BYTE_ARRAY = 6, PQ_FIXED_LEN_BYTE_ARRAY = 7 };
enum pq_repetition { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };
enum pq_converted {
	PQ_CT_UTF8 = 0, PQ_CT_MAP = 1, PQ_CT_MAP_KEY_VALUE = 2, PQ_CT_LIST = 3, PQ_CT_ENUM = 4,
	PQ_CT_DECIMAL = 5, PQ_CT_DATE = 6, PQ_CT_TIME_MILLIS = 7, PQ_CT_TIME_MICROS = 8,
	PQ_CT_TIMESTAMP_MILLIS = 9, PQ_CT_TIMESTAMP_MICROS = 10, PQ_CT_UINT_8 = 11,
	PQ_CT_UINT_16 = 12, PQ_CT_UINT_32 = 13, PQ_CT_UINT_64 = 14, PQ_CT_INT_8 = 15,
	PQ_CT_INT_16 = 16, PQ_CT_INT_32 = 17, PQ_CT_INT_64 = 18, PQ_CT_JSON = 19,
	PQ_CT_BSON = 20, PQ_CT_INTERVAL = 21
};
enum pq_encoding {
	PQ_PLAIN = 0, PQ_PLAIN_DICTIONARY = 2, PQ_RLE = 3, PQ_BIT_PACKED = 4,
	PQ_DELTA_BINARY_PACKED = 5, PQ_DELTA_LENGTH_BYTE_ARRAY = 6, PQ_DELTA_BYTE_ARRAY = 7,
	PQ_RLE_DICTIONARY = 8, PQ_BYTE_STREAM_SPLIT = 9
};
enum pq_page_type { PQ_DATA_PAGE = 0, PQ_INDEX_PAGE = 1, PQ_DICTIONARY_PAGE = 2, PQ_DATA_PAGE_V2 = 3 };
enum pq_boundary_order { PQ_UNORDERED = 0, PQ_ASCENDING = 1, PQ_DESCENDING = 2 };

/* LogicalType union member (field id in parquet.thrift) */
enum pq_logical_kind {
	PQ_LT_NONE = 0, PQ_LT_STRING = 1, PQ_LT_MAP = 2, PQ_LT_LIST = 3, PQ_LT_ENUM = 4,
	PQ_LT_DECIMAL = 5, PQ_LT_DATE = 6, PQ_LT_TIME = 7, PQ_LT_TIMESTAMP = 8,
	PQ_LT_INTEGER = 10, PQ_LT_UNKNOWN = 11, PQ_LT_JSON = 12, PQ_LT_BSON = 13,
	PQ_LT_UUID = 14, PQ_LT_FLOAT16 = 15, PQ_LT_VARIANT = 16, PQ_LT_GEOMETRY = 17,
	PQ_LT_GEOGRAPHY = 18
};
enum pq_time_unit { PQ_UNIT_MILLIS = 1, PQ_UNIT_MICROS = 2, PQ_UNIT_NANOS = 3 };

/* A byte string inside the decoded buffer; ptr == NULL means absent. */
typedef struct pq_bytes {
	const uint8_t *ptr;
	uint32_t len;
} pq_bytes;

typedef struct pq_logical_type {
	int kind;                 /* enum pq_logical_kind; PQ_LT_NONE = absent */
	int32_t scale, precision; /* DECIMAL */
	bool is_adjusted_to_utc;  /* TIME, TIMESTAMP */
	int unit;                 /* TIME, TIMESTAMP: enum pq_time_unit */
	int8_t bit_width;         /* INTEGER: 8, 16, 32, 64 */
	bool is_signed;           /* INTEGER */
} pq_logical_type;

typedef struct pq_schema_element {
	int32_t type;           /* enum pq_type, -1 = absent (group) */
	int32_t type_length;    /* FIXED_LEN_BYTE_ARRAY width, 0 = absent */
	int32_t repetition;     /* enum pq_repetition, -1 = absent (root) */
	pq_bytes name;
	int32_t num_children;   /* 0 = leaf */
	int32_t converted_type; /* enum pq_converted, -1 = absent */
	int32_t scale, precision;
	bool has_scale, has_precision;
	int32_t field_id;
	bool has_field_id;
	pq_logical_type logical;
} pq_schema_element;

typedef struct pq_statistics {
	pq_bytes max, min;             /* deprecated fields 1, 2 (signed order) */
	pq_bytes max_value, min_value; /* fields 5, 6 */
	int64_t null_count;
	bool has_null_count;
	int64_t distinct_count;
	bool has_distinct_count;
	bool is_max_value_exact, has_is_max_value_exact;
	bool is_min_value_exact, has_is_min_value_exact;
} pq_statistics;

typedef struct pq_key_value {
	pq_bytes key;
	pq_bytes value; /* ptr NULL = no value */
} pq_key_value;

typedef struct pq_page_encoding_stats {
	int32_t page_type;
	int32_t encoding;
	int32_t count;
} pq_page_encoding_stats;

typedef struct pq_column_meta {
	int32_t type;
	int32_t *encodings;
	uint32_t num_encodings;
	pq_bytes *path_in_schema;
	uint32_t path_len;
	int32_t codec;
	int64_t num_values;
	int64_t total_uncompressed_size;
	int64_t total_compressed_size;
	pq_key_value *kv;
	uint32_t num_kv;
	int64_t data_page_offset;
	int64_t index_page_offset;      /* 0 = absent */
	int64_t dictionary_page_offset; /* has_dictionary_page_offset says if set */
	bool has_dictionary_page_offset;
	pq_statistics statistics;
	bool has_statistics;
	pq_page_encoding_stats *encoding_stats;
	uint32_t num_encoding_stats;
	int64_t bloom_filter_offset;
	bool has_bloom_filter_offset;
	int32_t bloom_filter_length;
	bool has_bloom_filter_length;
} pq_column_meta;

typedef struct pq_column_chunk {
	pq_bytes file_path;           /* absent = same file */
	int64_t file_offset;
	pq_column_meta meta;
	bool has_meta;
	int64_t offset_index_offset;  /* has_offset_index says if set */
	int32_t offset_index_length;
	bool has_offset_index;
	int64_t column_index_offset;
	int32_t column_index_length;
	bool has_column_index;
	bool encrypted;               /* crypto_metadata or encrypted meta seen */
} pq_column_chunk;

typedef struct pq_row_group {
	pq_column_chunk *columns;
	uint32_t num_columns;
	int64_t total_byte_size;
	int64_t num_rows;
	int64_t file_offset;
	bool has_file_offset;
	int64_t total_compressed_size;
	bool has_total_compressed_size;
	int16_t ordinal;
	bool has_ordinal;
} pq_row_group;

typedef struct pq_file_meta {
	int32_t version;
	pq_schema_element *schema;
	uint32_t num_schema;
	int64_t num_rows;
	pq_row_group *row_groups;
	uint32_t num_row_groups;
	pq_key_value *kv;
	uint32_t num_kv;
	pq_bytes created_by;
	int32_t *column_orders; /* per leaf: union member id (1 = TYPE_ORDER), NULL = absent */
	uint32_t num_column_orders;
	bool encrypted;         /* encryption_algorithm present */
} pq_file_meta;

typedef struct pq_data_page_header {
	int32_t num_values;
	int32_t encoding;
	int32_t definition_level_encoding;
	int32_t repetition_level_encoding;
	pq_statistics statistics;
	bool has_statistics;
} pq_data_page_header;

typedef struct pq_dictionary_page_header {
	int32_t num_values;
	int32_t encoding;
	bool is_sorted;
} pq_dictionary_page_header;

typedef struct pq_data_page_header_v2 {
	int32_t num_values;
	int32_t num_nulls;
	int32_t num_rows;
	int32_t encoding;
	int32_t definition_levels_byte_length;
	int32_t repetition_levels_byte_length;
	bool is_compressed; /* default true */
	pq_statistics statistics;
	bool has_statistics;
} pq_data_page_header_v2;

typedef struct pq_page_header {
	int32_t type; /* enum pq_page_type */
	int32_t uncompressed_page_size;
	int32_t compressed_page_size;
	int32_t crc;
	bool has_crc;
	pq_data_page_header data;       bool has_data;
	pq_dictionary_page_header dict; bool has_dict;
	pq_data_page_header_v2 data_v2; bool has_data_v2;
} pq_page_header;

typedef struct pq_page_location {
	int64_t offset;
	int32_t compressed_page_size;
	int64_t first_row_index;
} pq_page_location;

typedef struct pq_offset_index {
	pq_page_location *pages;
	uint32_t num_pages;
	int64_t *unencoded_byte_array_data_bytes; /* NULL = absent */
	uint32_t num_unencoded;
} pq_offset_index;

typedef struct pq_column_index {
	bool *null_pages;
	pq_bytes *min_values;
	pq_bytes *max_values;
	uint32_t num_pages; /* length of null_pages, min_values, max_values */
	int32_t boundary_order;
	int64_t *null_counts; /* NULL = absent, else num_pages entries */
} pq_column_index;

/* Caps on hostile input. */
#define PQ_MAX_DEPTH 32          /* thrift struct nesting */
#define PQ_MAX_LIST (1u << 24)   /* elements in one thrift list */

/* Decode a FileMetaData from buf[0..len). `file_offset` is buf's offset in
 * the file and `file` its name: errors read "FILE: corrupt at byte N: ...".
 * Arrays go to `arena`; strings point into buf. */
int pq_meta_decode_file(pq_file_meta *out, const uint8_t *buf, size_t len,
                        const char *file, uint64_t file_offset,
                        floe_arena *arena, floe_error *err);

/* Decode a PageHeader at buf[0..len); *consumed = its encoded size. */
int pq_meta_decode_page_header(pq_page_header *out, size_t *consumed,
                               const uint8_t *buf, size_t len,
                               const char *file, uint64_t file_offset,
                               floe_arena *arena, floe_error *err);

int pq_meta_decode_column_index(pq_column_index *out, const uint8_t *buf, size_t len,
                                const char *file, uint64_t file_offset,
                                floe_arena *arena, floe_error *err);

int pq_meta_decode_offset_index(pq_offset_index *out, const uint8_t *buf, size_t len,
                                const char *file, uint64_t file_offset,
                                floe_arena *arena, floe_error *err);

/* Encoders append the compact-protocol bytes to `out`; they write every
 * field that is set (has_* flags, non-NULL pointers, non-absent values).
 * Return 0 or FLOE_ENOMEM. */
int pq_meta_encode_file(floe_buf *out, const pq_file_meta *m);
int pq_meta_encode_page_header(floe_buf *out, const pq_page_header *h);
int pq_meta_encode_column_index(floe_buf *out, const pq_column_index *ci);
int pq_meta_encode_offset_index(floe_buf *out, const pq_offset_index *oi);

/* Where a column chunk's bytes start: its dictionary page when it has one
 * before the data pages (some writers leave dictionary_page_offset at 0 or
 * equal to data_page_offset), else its first data page. */
int64_t pq_chunk_start(const pq_column_meta *m);

/* Names for inspect output: "INT64", "OPTIONAL", "ZSTD", "RLE_DICTIONARY",
 * "DATA_PAGE_V2", "TIMESTAMP_MICROS"; "UNKNOWN(n)" style never (returns
 * "?" for out-of-range values). */
const char *pq_type_name(int type);
const char *pq_repetition_name(int rep);
const char *pq_encoding_name(int enc);
const char *pq_page_type_name(int type);
const char *pq_converted_name(int ct);
const char *pq_codec_name(int codec);

#endif
