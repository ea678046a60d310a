/* avro/reader.c - hardened Avro object container file reader (Avro 1.11
 * "Object Container Files", "Binary Encoding"): header, blocks, codecs,
 * records decoded into floe_avro_value trees. Parsed writer schemas are
 * shared between readers of files with the same schema text. */
#include <errno.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <xxhash.h>

#include "floe/avro.h"
#include "util/buf.h"

#define AVRO_MAX_DEPTH 64                   /* value nesting */
#define AVRO_MAX_ITEMS (1u << 24)           /* items in one array/map */
#define AVRO_MAX_BLOCK ((size_t)1 << 30)    /* decompressed block bytes */
#define AVRO_MAX_META 4096                  /* header metadata entries */
#define AVRO_FREE_BASE ((size_t)1 << 20)    /* zero-byte values per block, plus */
#define AVRO_FREE_PER_BYTE 256              /* this many per block byte */

#define SCHEMA_CACHE 16                     /* parsed schemas kept for reuse */

/* A parsed writer schema, shared by the readers of files whose schema text
 * is the same (every manifest of a table with one partition spec and
 * schema): JSON parsing was a sizable part of opening each manifest. refs
 * counts the readers holding it plus one while the cache keeps it. */
typedef struct schema_ent {
	uint64_t hash;
	char *json;
	size_t len;
	floe_arena *arena;
	const floe_avro_schema *schema;
	int refs;
} schema_ent;

static pthread_mutex_t schema_lock = PTHREAD_MUTEX_INITIALIZER;
static schema_ent *schema_cache[SCHEMA_CACHE];
static unsigned schema_next; /* the slot replaced next (round robin) */

static void schema_unref_locked(schema_ent *e)
{
	if (--e->refs == 0) {
		floe_arena_free(e->arena);
		free(e->json);
		free(e);
	}
}

static void schema_release(schema_ent *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&schema_lock);
	schema_unref_locked(e);
	pthread_mutex_unlock(&schema_lock);
}

/* The parsed schema of `json`, from the cache or parsed now and added; the
 * caller holds a reference (schema_release). Errors are the parser's. */
static int schema_get(schema_ent **out, const char *json, size_t len, floe_error *err)
{
	*out = NULL;
	uint64_t h = XXH3_64bits(json, len);
	pthread_mutex_lock(&schema_lock);
	for (int i = 0; i < SCHEMA_CACHE; i++) {
		schema_ent *e = schema_cache[i];
		if (e && e->hash == h && e->len == len && memcmp(e->json, json, len) == 0) {
			e->refs++;
			*out = e;
			pthread_mutex_unlock(&schema_lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&schema_lock);
	schema_ent *e = calloc(1, sizeof *e);
	if (!e || !(e->json = malloc(len + 1)) || !(e->arena = floe_arena_new(0))) {
		if (e)
			free(e->json);
		free(e);
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	memcpy(e->json, json, len);
	e->json[len] = 0;
	e->len = len;
	e->hash = h;
	e->refs = 1;
	int rc = floe_avro_schema_parse(&e->schema, e->arena, e->json, len, err);
	if (rc) {
		floe_arena_free(e->arena);
		free(e->json);
		free(e);
		return rc;
	}
	pthread_mutex_lock(&schema_lock);
	schema_ent **slot = &schema_cache[schema_next++ % SCHEMA_CACHE];
	if (*slot)
		schema_unref_locked(*slot);
	*slot = e;
	e->refs++;
	pthread_mutex_unlock(&schema_lock);
	*out = e;
	return 0;
}

typedef struct meta_entry {
	char *key;
	uint8_t *value;
	size_t len;
} meta_entry;

struct floe_avro_reader {
	char *name;
	uint8_t *owned;         /* file contents when opened from a path */
	const uint8_t *data;
	size_t len;
	size_t pos;             /* file offset of the next block */
	uint8_t sync[16];
	int codec;              /* 0 null, 1 deflate, 2 snappy */
	meta_entry *meta;
	size_t nmeta;
	schema_ent *shared;     /* the parsed schema (held) */
	const floe_avro_schema *schema;
	const char *schema_json;
	size_t schema_len;
	/* current block */
	floe_buf inflated;
	const uint8_t *blk;     /* block data (decompressed) */
	size_t blk_len, blk_pos;
	uint64_t blk_file_off;  /* file offset of the block data */
	int64_t blk_left;       /* records left in the block */
	size_t blk_free;        /* zero-byte values still allowed in the block */
};

/* A cursor over bytes being decoded; `off` is the file offset of base
 * when the bytes are raw file bytes, and `in_block` marks decompressed
 * data (offsets are then given relative to the block). */
typedef struct cursor {
	const uint8_t *base, *p, *end;
	uint64_t off;
	int inflated;
	const char *file;
	floe_error *err;
	size_t *free_left;      /* values that take no bytes (null, record) still allowed */
} cursor;

static int corrupt(cursor *c, const char *why)
{
	if (c->inflated)
		return floe_error_corrupt(c->err, c->file, c->off,
		                          "%s (at byte %zu of the decompressed block)", why,
		                          (size_t)(c->p - c->base));
	return floe_error_corrupt(c->err, c->file, c->off + (uint64_t)(c->p - c->base), "%s", why);
}

/* long: zig-zag varint, at most 10 bytes (spec "Primitive Types"). Bits
 * of the 10th byte beyond the 64th are dropped, as Java's BinaryDecoder and
 * avsc do: some hand-built Iceberg manifests store ids above 2^63 that way
 * (their zig-zag form needs 65 bits), and those readers wrap them. */
static int read_long(cursor *c, int64_t *out)
{
	uint64_t v = 0;
	for (int k = 0; k < 10; k++) {
		if (c->p >= c->end)
			return corrupt(c, "varint runs past the end");
		uint8_t b = *c->p++;
		v |= (uint64_t)(b & 0x7f) << (7 * k);
		if (!(b & 0x80)) {
			*out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
			return 0;
		}
	}
	return corrupt(c, "varint longer than 10 bytes");
}

static int read_int(cursor *c, int64_t *out)
{
	int rc = read_long(c, out);
	if (rc)
		return rc;
	if (*out < INT32_MIN || *out > INT32_MAX)
		return corrupt(c, "int out of 32-bit range");
	return 0;
}

/* bytes/string: long length, then that many bytes */
static int read_bytes(cursor *c, const uint8_t **p, size_t *n)
{
	int64_t len;
	int rc = read_long(c, &len);
	if (rc)
		return rc;
	if (len < 0)
		return corrupt(c, "negative length");
	if ((uint64_t)len > (uint64_t)(c->end - c->p))
		return corrupt(c, "length runs past the end");
	*p = c->p;
	*n = (size_t)len;
	c->p += len;
	return 0;
}

/* Smallest encoded size of a value (0 for null, empty records...). A
 * lower bound: gives 0 once `budget` nodes were visited (a schema may name
 * one record many times, so the walk could be exponential). */
static size_t min_size_b(const floe_avro_schema *s, int depth, int *budget)
{
	if (depth > AVRO_MAX_DEPTH || --*budget < 0)
		return 0;
	switch (s->kind) {
	case FLOE_AVRO_NULL:
		return 0;
	case FLOE_AVRO_FLOAT:
		return 4;
	case FLOE_AVRO_DOUBLE:
		return 8;
	case FLOE_AVRO_FIXED:
		return s->fixed_size;
	case FLOE_AVRO_RECORD: {
		size_t t = 0;
		for (size_t k = 0; k < s->nfields && t == 0; k++)
			t += min_size_b(s->fields[k].type, depth + 1, budget);
		return *budget < 0 ? 0 : t;
	}
	default:
		return 1;
	}
}

static size_t min_size(const floe_avro_schema *s)
{
	int budget = 4096;
	return min_size_b(s, 0, &budget);
}

static int decode(cursor *c, floe_arena *a, const floe_avro_schema *s, floe_avro_value *v,
                  int depth);

static int nomem(cursor *c)
{
	return floe_error_set(c->err, FLOE_ENOMEM, "%s: out of memory decoding avro", c->file);
}

/* array/map: blocks of (long count, [long byte size if count < 0], items),
 * ended by count 0 (spec "Complex Types: Arrays/Maps"). */
static int decode_blocks(cursor *c, floe_arena *a, const floe_avro_schema *s,
                         floe_avro_value *v, int depth)
{
	int is_map = s->kind == FLOE_AVRO_MAP;
	size_t item_min = min_size(s->items) + (is_map ? 1 : 0);
	size_t n = 0, cap = 0;
	floe_avro_value *items = NULL, *keys = NULL;
	for (;;) {
		int64_t count;
		int rc = read_long(c, &count);
		if (rc)
			return rc;
		if (count == 0)
			break;
		if (count < 0) {
			int64_t size;
			if (count == INT64_MIN)
				return corrupt(c, "block count out of range");
			count = -count;
			if ((rc = read_long(c, &size)))
				return rc;
			if (size < 0 || (uint64_t)size > (uint64_t)(c->end - c->p))
				return corrupt(c, "block byte size runs past the end");
		}
		if ((uint64_t)count > AVRO_MAX_ITEMS - n)
			return corrupt(c, "too many items in array or map");
		if (item_min > 0 && (uint64_t)count > (uint64_t)(c->end - c->p) / item_min)
			return corrupt(c, "item count exceeds the bytes left");
		size_t need = n + (size_t)count;
		if (need > cap) {
			size_t ncap = cap ? cap : 8;
			while (ncap < need)
				ncap *= 2;
			floe_avro_value *ni = floe_arena_calloc(a, ncap, sizeof *ni);
			floe_avro_value *nk = is_map ? floe_arena_calloc(a, ncap, sizeof *nk) : NULL;
			if (!ni || (is_map && !nk))
				return nomem(c);
			if (n) {
				memcpy(ni, items, n * sizeof *ni);
				if (is_map)
					memcpy(nk, keys, n * sizeof *nk);
			}
			items = ni;
			keys = nk;
			cap = ncap;
		}
		for (int64_t k = 0; k < count; k++, n++) {
			if (is_map) {
				const uint8_t *kp;
				size_t kn;
				if ((rc = read_bytes(c, &kp, &kn)))
					return rc;
				uint8_t *key = floe_arena_alloc(a, kn + 1); /* NUL-terminated copy */
				if (!key)
					return nomem(c);
				memcpy(key, kp, kn);
				key[kn] = 0;
				keys[n].kind = FLOE_AVRO_STRING;
				keys[n].bytes = key;
				keys[n].len = kn;
			}
			if ((rc = decode(c, a, s->items, &items[n], depth + 1)))
				return rc;
		}
	}
	v->n = n;
	v->items = items;
	v->keys = keys;
	return 0;
}

static int decode(cursor *c, floe_arena *a, const floe_avro_schema *s, floe_avro_value *v,
                  int depth)
{
	int rc = 0;
	int64_t x;
	if (depth > AVRO_MAX_DEPTH)
		return corrupt(c, "values nested too deeply");
	memset(v, 0, sizeof *v);
	v->kind = s->kind;
	/* null and record values take no bytes: bound them per block so a
	 * schema naming one record many times cannot explode (AVRO_FREE_*) */
	if ((s->kind == FLOE_AVRO_NULL || s->kind == FLOE_AVRO_RECORD) && c->free_left) {
		if (*c->free_left == 0)
			return corrupt(c, "too many values that take no bytes in one block");
		(*c->free_left)--;
	}
	switch (s->kind) {
	case FLOE_AVRO_NULL:
		return 0;
	case FLOE_AVRO_BOOLEAN: /* one byte, 0 or 1 */
		if (c->p >= c->end)
			return corrupt(c, "boolean past the end");
		if (*c->p > 1)
			return corrupt(c, "boolean byte is not 0 or 1");
		v->i = *c->p++;
		return 0;
	case FLOE_AVRO_INT:
		return read_int(c, &v->i);
	case FLOE_AVRO_LONG:
		return read_long(c, &v->i);
	case FLOE_AVRO_FLOAT: { /* 4 bytes little-endian IEEE 754 */
		if (c->end - c->p < 4)
			return corrupt(c, "float past the end");
		float f;
		memcpy(&f, c->p, 4);
		c->p += 4;
		v->d = f;
		return 0;
	}
	case FLOE_AVRO_DOUBLE:
		if (c->end - c->p < 8)
			return corrupt(c, "double past the end");
		memcpy(&v->d, c->p, 8);
		c->p += 8;
		return 0;
	case FLOE_AVRO_BYTES:
	case FLOE_AVRO_STRING: {
		const uint8_t *p;
		size_t n;
		if ((rc = read_bytes(c, &p, &n)))
			return rc;
		uint8_t *copy = floe_arena_alloc(a, n + 1); /* NUL-terminated copy */
		if (!copy)
			return nomem(c);
		memcpy(copy, p, n);
		copy[n] = 0;
		v->bytes = copy;
		v->len = n;
		return 0;
	}
	case FLOE_AVRO_FIXED:
		if ((size_t)(c->end - c->p) < s->fixed_size)
			return corrupt(c, "fixed past the end");
		v->bytes = c->p;
		v->len = s->fixed_size;
		c->p += s->fixed_size;
		return 0;
	case FLOE_AVRO_ENUM:
		if ((rc = read_int(c, &x)))
			return rc;
		if (x < 0 || (uint64_t)x >= s->nsymbols)
			return corrupt(c, "enum index out of range");
		v->i = x;
		return 0;
	case FLOE_AVRO_UNION: /* long branch index, then the value */
		if ((rc = read_long(c, &x)))
			return rc;
		if (x < 0 || (uint64_t)x >= s->nbranches)
			return corrupt(c, "union branch index out of range");
		v->i = x;
		if (!(v->items = floe_arena_calloc(a, 1, sizeof *v->items)))
			return nomem(c);
		v->n = 1;
		return decode(c, a, s->branches[x], v->items, depth + 1);
	case FLOE_AVRO_RECORD:
		v->n = s->nfields;
		if (!(v->items = floe_arena_calloc(a, s->nfields ? s->nfields : 1, sizeof *v->items)))
			return nomem(c);
		for (size_t k = 0; k < s->nfields; k++)
			if ((rc = decode(c, a, s->fields[k].type, &v->items[k], depth + 1)))
				return rc;
		return 0;
	case FLOE_AVRO_ARRAY:
	case FLOE_AVRO_MAP:
		return decode_blocks(c, a, s, v, depth);
	}
	return corrupt(c, "unknown schema kind");
}

/* Header: "Obj" 0x01 | map<bytes> metadata | 16-byte sync marker. */
static int read_header(floe_avro_reader *r, floe_error *err)
{
	cursor c = { r->data, r->data, r->data + r->len, 0, 0, r->name, err, NULL };
	int rc;
	if (r->len < 4 || memcmp(r->data, "Obj\x01", 4) != 0)
		return floe_error_corrupt(err, r->name, 0, "not an Avro object container file (bad magic)");
	c.p += 4;
	size_t cap = 0;
	for (;;) {
		int64_t count;
		if ((rc = read_long(&c, &count)))
			return rc;
		if (count == 0)
			break;
		if (count < 0) {
			int64_t size;
			if (count == INT64_MIN)
				return corrupt(&c, "metadata count out of range");
			count = -count;
			if ((rc = read_long(&c, &size)))
				return rc;
		}
		if ((uint64_t)count > AVRO_MAX_META - r->nmeta)
			return corrupt(&c, "too many metadata entries");
		if ((uint64_t)count > (uint64_t)(c.end - c.p) / 2)
			return corrupt(&c, "metadata count exceeds the bytes left");
		if (r->nmeta + (size_t)count > cap) {
			cap = r->nmeta + (size_t)count;
			meta_entry *m = realloc(r->meta, cap * sizeof *m);
			if (!m)
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			r->meta = m;
		}
		for (int64_t k = 0; k < count; k++) {
			const uint8_t *kp, *vp;
			size_t kn, vn;
			if ((rc = read_bytes(&c, &kp, &kn)) || (rc = read_bytes(&c, &vp, &vn)))
				return rc;
			meta_entry *e = &r->meta[r->nmeta];
			e->key = malloc(kn + 1);
			e->value = malloc(vn + 1);
			if (!e->key || !e->value) {
				free(e->key);
				free(e->value);
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			}
			memcpy(e->key, kp, kn);
			e->key[kn] = 0;
			memcpy(e->value, vp, vn);
			e->value[vn] = 0;
			e->len = vn;
			r->nmeta++;
			if (memchr(kp, 0, kn))
				return corrupt(&c, "metadata key contains NUL");
		}
	}
	if (c.end - c.p < 16)
		return corrupt(&c, "sync marker past the end");
	memcpy(r->sync, c.p, 16);
	c.p += 16;
	r->pos = (size_t)(c.p - c.base);
	size_t n;
	const uint8_t *codec = floe_avro_reader_meta(r, "avro.codec", &n);
	if (!codec || !strcmp((const char *)codec, "null"))
		r->codec = 0;
	else if (!strcmp((const char *)codec, "deflate"))
		r->codec = 1;
	else if (!strcmp((const char *)codec, "snappy"))
		r->codec = 2;
	else
		return floe_error_set(err, FLOE_EUNSUPPORTED, "%s: avro codec %.64s is not supported",
		                      r->name, (const char *)codec);
	const uint8_t *sj = floe_avro_reader_meta(r, "avro.schema", &n);
	if (!sj)
		return floe_error_corrupt(err, r->name, 4, "no avro.schema in the header");
	r->schema_json = (const char *)sj;
	r->schema_len = n;
	if ((rc = schema_get(&r->shared, r->schema_json, n, err))) {
		if (rc == FLOE_ENOMEM)
			return rc;
		if (err)
			err->code = FLOE_ECORRUPT;
		return floe_error_locate(err, r->name, 4); /* the schema is in the header map */
	}
	r->schema = r->shared->schema;
	return 0;
}

int floe_avro_reader_open_mem(floe_avro_reader **out, const uint8_t *data, size_t len,
                              const char *name, floe_error *err)
{
	*out = NULL;
	floe_avro_reader *r = calloc(1, sizeof *r);
	if (!r || !(r->name = strdup(name ? name : "<avro>"))) {
		free(r);
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	r->data = data;
	r->len = len;
	int rc = read_header(r, err);
	if (rc) {
		floe_avro_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int floe_avro_reader_open_file(floe_avro_reader **out, const char *path, floe_error *err)
{
	*out = NULL;
	floe_buf b = FLOE_BUF_INIT;
	int rc = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return floe_error_set(err, errno == ENOENT ? FLOE_ENOTFOUND : FLOE_EIO,
		                      "%s: cannot open: %s", path, strerror(errno));
	for (;;) {
		if ((rc = floe_buf_reserve(&b, 65536))) {
			floe_error_set(err, rc, "%s: out of memory", path);
			goto done;
		}
		size_t got = fread(b.data + b.len, 1, 65536, f);
		b.len += got;
		if (got < 65536) {
			if (ferror(f))
				rc = floe_error_set(err, FLOE_EIO, "%s: read failed", path);
			break;
		}
	}
	if (rc)
		goto done;
	if ((rc = floe_avro_reader_open_mem(out, b.data ? b.data : (const uint8_t *)"", b.len, path, err)))
		goto done;
	(*out)->owned = b.data;
	b.data = NULL;
done:
	fclose(f);
	floe_buf_free(&b);
	return rc;
}

const floe_avro_schema *floe_avro_reader_schema(const floe_avro_reader *r)
{
	return r->schema;
}

const char *floe_avro_reader_schema_json(const floe_avro_reader *r, size_t *len)
{
	if (len)
		*len = r->schema_len;
	return r->schema_json;
}

const char *floe_avro_reader_codec(const floe_avro_reader *r)
{
	return r->codec == 0 ? "null" : r->codec == 1 ? "deflate" : "snappy";
}

size_t floe_avro_reader_meta_count(const floe_avro_reader *r)
{
	return r->nmeta;
}

void floe_avro_reader_meta_at(const floe_avro_reader *r, size_t k, const char **key,
                              const uint8_t **value, size_t *len)
{
	*key = r->meta[k].key;
	*value = r->meta[k].value;
	*len = r->meta[k].len;
}

const uint8_t *floe_avro_reader_meta(const floe_avro_reader *r, const char *key, size_t *len)
{
	for (size_t k = 0; k < r->nmeta; k++)
		if (!strcmp(r->meta[k].key, key)) {
			if (len)
				*len = r->meta[k].len;
			return r->meta[k].value;
		}
	return NULL;
}

static int inflate_block(floe_avro_reader *r, const uint8_t *p, size_t n, uint64_t off,
                         floe_error *err)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (n > UINT32_MAX)
		return floe_error_corrupt(err, r->name, off, "deflate block larger than 4 GiB");
	if (inflateInit2(&z, -15) != Z_OK) /* raw deflate (RFC 1951), spec "deflate" codec */
		return floe_error_set(err, FLOE_ENOMEM, "inflateInit2 failed");
	floe_buf_clear(&r->inflated);
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	int rc = 0;
	for (;;) {
		size_t chunk = n * 2 + 1024;
		if (chunk > 1 << 24)
			chunk = 1 << 24;
		if (r->inflated.len + chunk > AVRO_MAX_BLOCK) {
			rc = floe_error_corrupt(err, r->name, off, "deflate block inflates past %zu bytes",
			                        AVRO_MAX_BLOCK);
			break;
		}
		if (floe_buf_reserve(&r->inflated, chunk)) {
			rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
			break;
		}
		z.next_out = r->inflated.data + r->inflated.len;
		z.avail_out = (uInt)chunk;
		int zr = inflate(&z, Z_NO_FLUSH);
		r->inflated.len += chunk - z.avail_out;
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_BUF_ERROR) {
			rc = floe_error_corrupt(err, r->name, off, "deflate block is truncated");
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = floe_error_corrupt(err, r->name, off, "bad deflate data: %s",
			                        z.msg ? z.msg : "error");
			break;
		}
	}
	inflateEnd(&z);
	return rc;
}

/* snappy codec: compressed data followed by the big-endian CRC32 of the
 * uncompressed data (spec "snappy"). */
static int unsnappy_block(floe_avro_reader *r, const uint8_t *p, size_t n, uint64_t off,
                          floe_error *err)
{
	size_t out_len;
	if (n < 4)
		return floe_error_corrupt(err, r->name, off, "snappy block shorter than its CRC");
	n -= 4;
	if (snappy_uncompressed_length((const char *)p, n, &out_len) != SNAPPY_OK ||
	    out_len > AVRO_MAX_BLOCK)
		return floe_error_corrupt(err, r->name, off, "bad snappy length");
	floe_buf_clear(&r->inflated);
	if (floe_buf_reserve(&r->inflated, out_len + 1))
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	if (snappy_uncompress((const char *)p, n, (char *)r->inflated.data, &out_len) != SNAPPY_OK)
		return floe_error_corrupt(err, r->name, off, "bad snappy data");
	r->inflated.len = out_len;
	uint32_t want = (uint32_t)p[n] << 24 | (uint32_t)p[n + 1] << 16 | (uint32_t)p[n + 2] << 8 | p[n + 3];
	uint32_t got = (uint32_t)crc32(0L, r->inflated.data, (uInt)out_len);
	if (want != got)
		return floe_error_corrupt(err, r->name, off, "snappy block CRC mismatch");
	return 0;
}

/* Block: long object count | long byte size | data | 16-byte sync. */
static int next_block(floe_avro_reader *r, floe_error *err)
{
	cursor c = { r->data, r->data + r->pos, r->data + r->len, 0, 0, r->name, err, NULL };
	int64_t count, size;
	int rc;
	if ((rc = read_long(&c, &count)) || (rc = read_long(&c, &size)))
		return rc;
	if (count < 0)
		return corrupt(&c, "negative block object count");
	if (size < 0 || (uint64_t)size > (uint64_t)(c.end - c.p))
		return corrupt(&c, "block size runs past the end of the file");
	const uint8_t *data = c.p;
	uint64_t data_off = (uint64_t)(c.p - c.base);
	c.p += size;
	if (c.end - c.p < 16)
		return corrupt(&c, "sync marker past the end");
	if (memcmp(c.p, r->sync, 16) != 0)
		return corrupt(&c, "sync marker does not match the header's");
	c.p += 16;
	if (r->codec == 0) {
		r->blk = data;
		r->blk_len = (size_t)size;
	} else {
		rc = r->codec == 1 ? inflate_block(r, data, (size_t)size, data_off, err)
		                   : unsnappy_block(r, data, (size_t)size, data_off, err);
		if (rc)
			return rc;
		r->blk = r->inflated.data ? r->inflated.data : (const uint8_t *)"";
		r->blk_len = r->inflated.len;
	}
	size_t m = min_size(r->schema);
	if ((uint64_t)count > AVRO_MAX_ITEMS * (uint64_t)64 ||
	    (m > 0 && (uint64_t)count > r->blk_len / m))
		return floe_error_corrupt(err, r->name, data_off, "block object count %lld exceeds its %zu bytes",
		                          (long long)count, r->blk_len);
	r->blk_file_off = data_off;
	r->blk_pos = 0;
	r->blk_left = count;
	r->blk_free = r->blk_len > (SIZE_MAX - AVRO_FREE_BASE) / AVRO_FREE_PER_BYTE
		              ? SIZE_MAX
		              : AVRO_FREE_BASE + AVRO_FREE_PER_BYTE * r->blk_len;
	r->pos = (size_t)(c.p - c.base);
	return 0;
}

int floe_avro_reader_next(floe_avro_reader *r, floe_arena *arena,
                          const floe_avro_value **out, floe_error *err)
{
	int rc;
	*out = NULL;
	while (r->blk_left == 0) {
		if (r->blk && r->blk_pos != r->blk_len)
			return floe_error_corrupt(err, r->name, r->blk_file_off,
			                          "block has %zu bytes after its last record",
			                          r->blk_len - r->blk_pos);
		r->blk = NULL;
		if (r->pos == r->len)
			return 0;
		if ((rc = next_block(r, err)))
			return rc;
	}
	cursor c = { r->blk, r->blk + r->blk_pos, r->blk + r->blk_len,
		     r->blk_file_off, r->codec != 0, r->name, err, &r->blk_free };
	floe_avro_value *v = floe_arena_calloc(arena, 1, sizeof *v);
	if (!v)
		return nomem(&c);
	if ((rc = decode(&c, arena, r->schema, v, 0)))
		return rc;
	r->blk_pos = (size_t)(c.p - c.base);
	r->blk_left--;
	*out = v;
	return 1;
}

void floe_avro_reader_free(floe_avro_reader *r)
{
	if (!r)
		return;
	for (size_t k = 0; k < r->nmeta; k++) {
		free(r->meta[k].key);
		free(r->meta[k].value);
	}
	free(r->meta);
	schema_release(r->shared);
	floe_buf_free(&r->inflated);
	free(r->owned);
	free(r->name);
	free(r);
}
