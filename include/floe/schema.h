/* floe/schema.h - logical types (Iceberg's names) and flat schemas with field
 * ids, shared by every format and layer. Parsed from and printed as text:
 * "trade_id string not null, price double, ts timestamptz". */
#ifndef FLOE_SCHEMA_H
#define FLOE_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/arena.h"
#include "floe/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Logical type ids. The in-memory storage of each (see floe/batch.h):
 *   BOOLEAN                          uint8_t per value (0 or 1)
 *   INT, DATE                        int32_t (DATE: days since 1970-01-01)
 *   LONG, TIME, TIMESTAMP*, DECIMAL  int64_t (TIME: micros since midnight;
 *                                    TIMESTAMP/TZ: micros, *_NS: nanos since
 *                                    epoch; DECIMAL with precision <= 18:
 *                                    the unscaled value)
 *   FLOAT, DOUBLE                    float, double
 *   STRING, BINARY, JSON             int64 offsets (n+1) + data bytes
 *   UUID, FIXED, DECIMAL (P > 18)    `width` bytes per value (UUID 16;
 *                                    DECIMAL P > 18: 16 bytes, big-endian
 *                                    two's complement unscaled value) */
typedef enum floe_type_id {
	FLOE_TYPE_BOOLEAN = 1,
	FLOE_TYPE_INT,
	FLOE_TYPE_LONG,
	FLOE_TYPE_FLOAT,
	FLOE_TYPE_DOUBLE,
	FLOE_TYPE_DECIMAL,
	FLOE_TYPE_DATE,
	FLOE_TYPE_TIME,
	FLOE_TYPE_TIMESTAMP,      /* micros, no time zone */
	FLOE_TYPE_TIMESTAMPTZ,    /* micros, adjusted to UTC */
	FLOE_TYPE_TIMESTAMP_NS,   /* nanos, no time zone */
	FLOE_TYPE_TIMESTAMPTZ_NS, /* nanos, adjusted to UTC */
	FLOE_TYPE_STRING,
	FLOE_TYPE_UUID,
	FLOE_TYPE_FIXED,
	FLOE_TYPE_BINARY,
	FLOE_TYPE_JSON            /* UTF-8 JSON text, stored like STRING */
} floe_type_id;

typedef struct floe_type {
	floe_type_id id;
	int32_t precision; /* DECIMAL */
	int32_t scale;     /* DECIMAL */
	int32_t width;     /* FIXED[N]: N; UUID: 16; DECIMAL P>18: 16; else 0 */
	bool is_unsigned;  /* INT/LONG read from unsigned Parquet ints (UINT_32 as
	                      LONG holds the value exactly; UINT_64 as LONG holds the
	                      bit pattern and prints unsigned) */
} floe_type;

typedef struct floe_field {
	const char *name;   /* UTF-8, NUL-terminated */
	floe_type type;
	bool required;      /* NOT NULL */
	int32_t field_id;   /* Iceberg field id; -1 when none */
} floe_field;

typedef struct floe_schema {
	int nfields;
	floe_field *fields;
} floe_schema;

/* Bytes per value of fixed-width storage (BOOLEAN 1, INT 4, ..., FIXED
 * `width`); 0 for variable-width types (STRING, BINARY, JSON). */
int floe_type_value_width(const floe_type *type);

/* true for STRING, BINARY and JSON (offsets + data storage). */
bool floe_type_is_variable(const floe_type *type);

/* Parse an Iceberg type name: boolean, int, long, float, double,
 * decimal(P,S), date, time, timestamp, timestamptz, timestamp_ns,
 * timestamptz_ns, string, uuid, fixed[N], binary, json. */
int floe_type_parse(floe_type *out, const char *text, floe_error *err);

/* Write the type's name (as floe_type_parse reads it) into buf; returns buf. */
const char *floe_type_format(const floe_type *type, char *buf, int bufsize);

/* Parse "name type [not null], ...". Field ids are assigned 1..n in order
 * unless a field says "id N" after its type ("price double id 7").
 * The schema and its strings live in `arena`. */
int floe_schema_parse(floe_schema **out, const char *text, floe_arena *arena,
                      floe_error *err);

/* Index of the field named `name`, or -1. */
int floe_schema_find(const floe_schema *schema, const char *name);

/* Index of the field with `field_id`, or -1. */
int floe_schema_find_id(const floe_schema *schema, int32_t field_id);

#ifdef __cplusplus
}
#endif
#endif
