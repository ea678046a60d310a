/* parquet/thrift.h - Thrift compact protocol (the encoding of parquet.thrift
 * structures): a bounded, hostile-input-safe reader and a floe_buf writer. */
#ifndef FLOE_PARQUET_THRIFT_H
#define FLOE_PARQUET_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "floe/error.h"
#include "parquet/meta.h"
#include "util/buf.h"

/* Compact protocol type codes (thrift/doc/specs/thrift-compact-protocol.md). */
enum pq_ct {
	PQ_T_STOP = 0, PQ_T_TRUE = 1, PQ_T_FALSE = 2, PQ_T_BYTE = 3, PQ_T_I16 = 4,
	PQ_T_I32 = 5, PQ_T_I64 = 6, PQ_T_DOUBLE = 7, PQ_T_BINARY = 8, PQ_T_LIST = 9,
	PQ_T_SET = 10, PQ_T_MAP = 11, PQ_T_STRUCT = 12
};

typedef struct pq_tr {
	const uint8_t *base, *p, *end;
	const char *file;
	uint64_t file_offset;
	floe_error *err;
	int depth;
} pq_tr;

void pq_tr_init(pq_tr *r, const uint8_t *buf, size_t len, const char *file,
                uint64_t file_offset, floe_error *err);
/* FLOE_ECORRUPT with "FILE: corrupt at byte N: why", N = current position. */
int pq_tr_corrupt(pq_tr *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pq_tr_varint(pq_tr *r, uint64_t *v);
int pq_tr_zz64(pq_tr *r, int64_t *v);
int pq_tr_zz32(pq_tr *r, int32_t *v);
/* Struct nesting (capped at PQ_MAX_DEPTH). */
int pq_tr_enter(pq_tr *r);
void pq_tr_leave(pq_tr *r);
/* Next field header: *type = PQ_T_STOP at the end of the struct; for bool
 * fields *bval holds the value. *last is the previous field id (start 0). */
int pq_tr_field(pq_tr *r, int16_t *last, int *type, int16_t *id, bool *bval);
/* Typed field values; a type mismatch is corrupt. */
int pq_tr_i32(pq_tr *r, int type, int32_t *v);
int pq_tr_i64(pq_tr *r, int type, int64_t *v);
int pq_tr_i16(pq_tr *r, int type, int16_t *v);
int pq_tr_bool(pq_tr *r, int type, bool bval, bool *v);
int pq_tr_binary(pq_tr *r, int type, pq_bytes *v);
/* Raw binary (list elements): varint length + bytes. */
int pq_tr_bytes(pq_tr *r, pq_bytes *v);
/* List/set header; checks the field type is LIST (or SET), the element type
 * is `want` (-1 = any; bool accepts 1 or 2) and the count is capped. */
int pq_tr_list(pq_tr *r, int type, int want, int *elem, uint32_t *count);
/* Skip one value of compact type `type`. */
int pq_tr_skip(pq_tr *r, int type);

typedef struct pq_tw {
	floe_buf *b;
	int16_t last[PQ_MAX_DEPTH + 1];
	int depth;
	int rc; /* sticky: first failure */
} pq_tw;

void pq_tw_init(pq_tw *w, floe_buf *b);
void pq_tw_field(pq_tw *w, int type, int16_t id);
void pq_tw_varint(pq_tw *w, uint64_t v);
void pq_tw_zz(pq_tw *w, int64_t v);
void pq_tw_i32(pq_tw *w, int16_t id, int32_t v);
void pq_tw_i64(pq_tw *w, int16_t id, int64_t v);
void pq_tw_bool(pq_tw *w, int16_t id, bool v);
void pq_tw_binary(pq_tw *w, int16_t id, const uint8_t *p, uint32_t n);
void pq_tw_bytes(pq_tw *w, const uint8_t *p, uint32_t n); /* list element */
void pq_tw_list(pq_tw *w, int16_t id, int elem, uint32_t n);
void pq_tw_list_elems(pq_tw *w, int elem, uint32_t n); /* header only */
/* Open a struct as field `id` (id 0 = list element / top level); close
 * writes the STOP byte. */
void pq_tw_begin(pq_tw *w, int16_t id);
void pq_tw_end(pq_tw *w);

#endif
