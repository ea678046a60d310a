/* avro/writer.c - Avro object container file writer into memory (Avro 1.11
 * "Object Container Files"): the schema JSON is stored exactly as given. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "floe/avro.h"
#include "util/buf.h"
#include "util/fs.h"

#define WRITE_MAX_DEPTH 64

struct floe_avro_writer {
	floe_arena *arena;
	const floe_avro_schema *schema;
	floe_avro_writer_opts opts;
	uint8_t sync[16];
	floe_buf out;     /* the file so far */
	floe_buf block;   /* encoded records of the open block */
	floe_buf rec;     /* one record being encoded */
	floe_buf zbuf;    /* deflated block */
	size_t block_count;
	int finished;
};

/* long: zig-zag then base-128 varint, low group first */
static int put_long(floe_buf *b, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	uint8_t tmp[10];
	size_t n = 0;
	do {
		uint8_t byte = z & 0x7f;
		z >>= 7;
		tmp[n++] = byte | (z ? 0x80 : 0);
	} while (z);
	return floe_buf_append(b, tmp, n);
}

static int put_bytes(floe_buf *b, const void *p, size_t n)
{
	int rc = put_long(b, (int64_t)n);
	return rc ? rc : floe_buf_append(b, p, n);
}

static int mismatch(floe_error *err, const char *path, const char *why)
{
	return floe_error_set(err, FLOE_EINVALID, "avro value at %s: %s", path, why);
}

/* Encode `v` as `s` (spec "Binary Encoding"), checking it fits. */
static int encode(floe_buf *b, const floe_avro_schema *s, const floe_avro_value *v,
                  const char *path, int depth, floe_error *err)
{
	int rc;
	if (depth > WRITE_MAX_DEPTH)
		return mismatch(err, path, "nested too deeply");
	if (!v || v->kind != s->kind)
		return mismatch(err, path, "kind does not match the schema");
	switch (s->kind) {
	case FLOE_AVRO_NULL:
		return 0;
	case FLOE_AVRO_BOOLEAN:
		if (v->i != 0 && v->i != 1)
			return mismatch(err, path, "boolean is not 0 or 1");
		return floe_buf_putc(b, (uint8_t)v->i) ? FLOE_ENOMEM : 0;
	case FLOE_AVRO_INT:
		if (v->i < INT32_MIN || v->i > INT32_MAX)
			return mismatch(err, path, "int out of 32-bit range");
		return put_long(b, v->i);
	case FLOE_AVRO_LONG:
		return put_long(b, v->i);
	case FLOE_AVRO_FLOAT: {
		float f = (float)v->d;
		return floe_buf_append(b, &f, 4);
	}
	case FLOE_AVRO_DOUBLE:
		return floe_buf_append(b, &v->d, 8);
	case FLOE_AVRO_BYTES:
	case FLOE_AVRO_STRING:
		if (v->len && !v->bytes)
			return mismatch(err, path, "bytes missing");
		return put_bytes(b, v->bytes, v->len);
	case FLOE_AVRO_FIXED:
		if (v->len != s->fixed_size || (v->len && !v->bytes))
			return mismatch(err, path, "fixed value has the wrong size");
		return floe_buf_append(b, v->bytes, v->len);
	case FLOE_AVRO_ENUM:
		if (v->i < 0 || (uint64_t)v->i >= s->nsymbols)
			return mismatch(err, path, "enum index out of range");
		return put_long(b, v->i);
	case FLOE_AVRO_UNION:
		if (v->i < 0 || (uint64_t)v->i >= s->nbranches || !v->items)
			return mismatch(err, path, "union branch out of range");
		if ((rc = put_long(b, v->i)))
			return rc;
		return encode(b, s->branches[v->i], v->items, path, depth + 1, err);
	case FLOE_AVRO_RECORD:
		if (v->n != s->nfields || (v->n && !v->items))
			return mismatch(err, path, "record has the wrong number of fields");
		for (size_t k = 0; k < s->nfields; k++)
			if ((rc = encode(b, s->fields[k].type, &v->items[k], s->fields[k].name, depth + 1, err)))
				return rc;
		return 0;
	case FLOE_AVRO_ARRAY:
	case FLOE_AVRO_MAP:
		if (v->n && (!v->items || (s->kind == FLOE_AVRO_MAP && !v->keys)))
			return mismatch(err, path, "items missing");
		if (v->n) { /* one block of n items, then the 0 terminator */
			if ((rc = put_long(b, (int64_t)v->n)))
				return rc;
			for (size_t k = 0; k < v->n; k++) {
				if (s->kind == FLOE_AVRO_MAP) {
					if (v->keys[k].kind != FLOE_AVRO_STRING ||
					    (v->keys[k].len && !v->keys[k].bytes))
						return mismatch(err, path, "map key is not a string");
					if ((rc = put_bytes(b, v->keys[k].bytes, v->keys[k].len)))
						return rc;
				}
				if ((rc = encode(b, s->items, &v->items[k], path, depth + 1, err)))
					return rc;
			}
		}
		return put_long(b, 0);
	}
	return mismatch(err, path, "unknown kind");
}

static int fill_random(uint8_t *p, size_t n)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	return 0;
}

int floe_avro_writer_new(floe_avro_writer **out, const char *schema_json, size_t schema_len,
                         const char *const *meta, size_t nmeta,
                         const floe_avro_writer_opts *opts, floe_error *err)
{
	int rc = 0;
	*out = NULL;
	floe_avro_writer *w = calloc(1, sizeof *w);
	if (!w || !(w->arena = floe_arena_new(0))) {
		free(w);
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	if (opts)
		w->opts = *opts;
	if (w->opts.codec != FLOE_AVRO_CODEC_NULL && w->opts.codec != FLOE_AVRO_CODEC_DEFLATE) {
		rc = floe_error_set(err, FLOE_EINVALID, "avro writer: unknown codec %d", (int)w->opts.codec);
		goto done;
	}
	if (!w->opts.block_records)
		w->opts.block_records = 4096;
	if (!w->opts.block_bytes)
		w->opts.block_bytes = 1 << 20;
	if ((rc = floe_avro_schema_parse(&w->schema, w->arena, schema_json, schema_len, err)))
		goto done;
	for (size_t k = 0; k < nmeta; k++)
		if (!meta[2 * k] || !meta[2 * k + 1] || !strncmp(meta[2 * k], "avro.", 5)) {
			rc = floe_error_set(err, FLOE_EINVALID,
			                    "avro writer: metadata key %zu is missing or reserved", k);
			goto done;
		}
	if (fill_random(w->sync, sizeof w->sync)) {
		rc = floe_error_set(err, FLOE_EIO, "avro writer: cannot read /dev/urandom");
		goto done;
	}
	/* header: magic | map<bytes> {avro.schema, avro.codec, user...} | sync */
	const char *codec = w->opts.codec == FLOE_AVRO_CODEC_DEFLATE ? "deflate" : "null";
	floe_buf *b = &w->out;
	if ((rc = floe_buf_append(b, "Obj\x01", 4)) || (rc = put_long(b, (int64_t)nmeta + 2)) ||
	    (rc = put_bytes(b, "avro.schema", 11)) || (rc = put_bytes(b, schema_json, schema_len)) ||
	    (rc = put_bytes(b, "avro.codec", 10)) || (rc = put_bytes(b, codec, strlen(codec))))
		goto nomem;
	for (size_t k = 0; k < nmeta; k++)
		if ((rc = put_bytes(b, meta[2 * k], strlen(meta[2 * k]))) ||
		    (rc = put_bytes(b, meta[2 * k + 1], strlen(meta[2 * k + 1]))))
			goto nomem;
	if ((rc = put_long(b, 0)) || (rc = floe_buf_append(b, w->sync, 16)))
		goto nomem;
	goto done;
nomem:
	rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
done:
	if (rc) {
		floe_avro_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

const floe_avro_schema *floe_avro_writer_schema(const floe_avro_writer *w)
{
	return w->schema;
}

static int deflate_raw(floe_buf *dst, const uint8_t *p, size_t n)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return FLOE_ENOMEM;
	size_t bound = deflateBound(&z, (uLong)n);
	floe_buf_clear(dst);
	int rc = floe_buf_reserve(dst, bound);
	if (!rc) {
		z.next_in = (Bytef *)(uintptr_t)p;
		z.avail_in = (uInt)n;
		z.next_out = dst->data;
		z.avail_out = (uInt)bound;
		rc = deflate(&z, Z_FINISH) == Z_STREAM_END ? 0 : FLOE_ENOMEM;
		dst->len = bound - z.avail_out;
	}
	deflateEnd(&z);
	return rc;
}

/* block: long count | long size | data | sync */
static int flush_block(floe_avro_writer *w, floe_error *err)
{
	if (w->block_count == 0)
		return 0;
	const uint8_t *data = w->block.data;
	size_t len = w->block.len;
	int rc = 0;
	if (w->opts.codec == FLOE_AVRO_CODEC_DEFLATE) {
		if ((rc = deflate_raw(&w->zbuf, data, len)))
			return floe_error_set(err, rc, "avro writer: deflate failed");
		data = w->zbuf.data;
		len = w->zbuf.len;
	}
	if ((rc = put_long(&w->out, (int64_t)w->block_count)) || (rc = put_bytes(&w->out, data, len)) ||
	    (rc = floe_buf_append(&w->out, w->sync, 16)))
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	floe_buf_clear(&w->block);
	w->block_count = 0;
	return 0;
}

int floe_avro_writer_append(floe_avro_writer *w, const floe_avro_value *v, floe_error *err)
{
	if (w->finished)
		return floe_error_set(err, FLOE_EINVALID, "avro writer: append after finish");
	floe_buf_clear(&w->rec);
	int rc = encode(&w->rec, w->schema, v, "record", 0, err);
	if (rc == FLOE_ENOMEM)
		return floe_error_set(err, rc, "out of memory");
	if (rc)
		return rc;
	if (floe_buf_append(&w->block, w->rec.data, w->rec.len))
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	w->block_count++;
	if (w->block_count >= w->opts.block_records || w->block.len >= w->opts.block_bytes)
		return flush_block(w, err);
	return 0;
}

int floe_avro_writer_finish(floe_avro_writer *w, const uint8_t **data, size_t *len,
                            floe_error *err)
{
	if (!w->finished) {
		int rc = flush_block(w, err);
		if (rc)
			return rc;
		w->finished = 1;
	}
	*data = w->out.data;
	*len = w->out.len;
	return 0;
}

void floe_avro_writer_free(floe_avro_writer *w)
{
	if (!w)
		return;
	floe_arena_free(w->arena);
	floe_buf_free(&w->out);
	floe_buf_free(&w->block);
	floe_buf_free(&w->rec);
	floe_buf_free(&w->zbuf);
	free(w);
}

int floe_avro_write_file(const char *path, const uint8_t *data, size_t len, floe_error *err)
{
	return floe_fs_write_atomic(path, data, len, err);
}
