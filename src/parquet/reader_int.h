/* parquet/reader_int.h - private state shared by the reader's files
 * (reader.c, reader_scan.c, reader_describe.c). Internal to libfloe. */
#ifndef FLOE_PARQUET_READER_INT_H
#define FLOE_PARQUET_READER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/parquet.h"
#include "parquet/meta.h"

/* How a physical value becomes floe storage. */
enum pq_conv {
	PQ_CONV_COPY = 0,  /* same bytes (bool, int32, int64, float, double) */
	PQ_CONV_U32,       /* uint32 -> int64 */
	PQ_CONV_I32_MS,    /* int32 millis -> int64 micros */
	PQ_CONV_I64_MS,    /* int64 millis -> micros */
	PQ_CONV_I64_NS,    /* int64 nanos -> micros (TIME) */
	PQ_CONV_INT96,     /* INT96 -> int64 nanos since epoch */
	PQ_CONV_DEC_I32,
	PQ_CONV_DEC_I64,
	PQ_CONV_DEC_BYTES, /* big-endian two's complement */
	PQ_CONV_F16,       /* FLBA(2) half -> float */
	PQ_CONV_FIXED,     /* FLBA -> fixed/uuid */
	PQ_CONV_BYTES      /* BYTE_ARRAY -> offsets + data */
};

/* One top-level flat column floe decodes. */
typedef struct pq_leaf {
	floe_type type;
	int conv;          /* enum pq_conv */
	int phys;          /* enum pq_type */
	int pwidth;        /* physical bytes per value; 0 for BYTE_ARRAY/FLBA */
	int32_t type_length;
	int int_bits;
	bool int_signed;
	int chunk;         /* index of its column chunk in each row group */
	int max_def;       /* 0 required, 1 optional */
	const pq_schema_element *elem;
} pq_leaf;

struct floe_parquet_reader {
	char *name;
	int fd;               /* -1 for memory */
	const uint8_t *mem;
	uint64_t file_size;
	uint8_t *footer;
	uint64_t footer_offset;
	floe_arena *arena;    /* footer structures, schema */
	pq_file_meta meta;
	pq_leaf *leaves;      /* nleaves, parallel to schema.fields */
	int nleaves;
	int nchunks;          /* leaves in the whole schema (incl. nested) */
	floe_schema schema;
	int64_t rg_rows;       /* sum of the row groups' num_rows */
};

int pq_map_type(pq_leaf *lf, const pq_schema_element *e, floe_error *err);
int pq_convert(const pq_leaf *lf, uint8_t *out, pq_bytes *bout, const uint8_t *p,
               pq_bytes b, floe_error *err);
int pq_read_at(floe_parquet_reader *r, void *dst, size_t n, uint64_t off, floe_error *err);

/* Peak bytes held by a scan's decode and output buffers so far: one page,
 * one dictionary and one batch per projected column, independent of the
 * row-group size (tests check this bound). */
int64_t pq_scan_buffer_peak(const floe_parquet_scan *s);

/* floe_parquet_reader_verify, also counting the data pages checked
 * (reader_verify.c). `pages` may be NULL. */
int pq_reader_verify(floe_parquet_reader *r, int64_t *pages, floe_error *err);

#endif
