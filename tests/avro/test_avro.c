/* tests/avro/test_avro.c - Avro OCF schema model, reader and writer:
 * round trips, interop with avsc (peers) and the Iceberg corpus, hostile input. */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <snappy-c.h>
#include <sys/stat.h>
#include <zlib.h>

#include "floe/avro.h"
#include "harness.h"

static const char EVERY_KIND_SCHEMA[] =
	"{\"type\": \"record\", \"name\": \"manifest_entry\", \"namespace\": \"t.ns\",\n"
	" \"fields\": [\n"
	"  {\"name\": \"n\", \"type\": \"null\", \"field-id\": 100},\n"
	"  {\"name\": \"flag\", \"type\": \"boolean\", \"field-id\": 101, \"doc\": \"a flag\"},\n"
	"  {\"name\": \"status\", \"type\": \"int\", \"field-id\": 0},\n"
	"  {\"name\": \"snapshot_id\", \"type\": [\"null\", \"long\"], \"default\": null, \"field-id\": 1},\n"
	"  {\"name\": \"f\", \"type\": \"float\", \"field-id\": 102},\n"
	"  {\"name\": \"d\", \"type\": \"double\", \"field-id\": 103},\n"
	"  {\"name\": \"raw\", \"type\": \"bytes\", \"field-id\": 104},\n"
	"  {\"name\": \"path\", \"type\": \"string\", \"field-id\": 100000},\n"
	"  {\"name\": \"sub\", \"type\": {\"type\": \"record\", \"name\": \"r2\", \"fields\": [\n"
	"      {\"name\": \"k\", \"type\": \"int\", \"field-id\": 119},\n"
	"      {\"name\": \"v\", \"type\": [\"null\", \"string\"], \"field-id\": 120}]}, \"field-id\": 105},\n"
	"  {\"name\": \"ids\", \"type\": {\"type\": \"array\", \"items\": \"long\", \"element-id\": 136},\n"
	"   \"field-id\": 135},\n"
	"  {\"name\": \"props\", \"type\": {\"type\": \"map\", \"values\": \"int\"}, \"field-id\": 106},\n"
	"  {\"name\": \"content\", \"type\": {\"type\": \"enum\", \"name\": \"content_kind\",\n"
	"   \"symbols\": [\"DATA\", \"POSITION_DELETES\", \"EQUALITY_DELETES\"]}, \"field-id\": 134},\n"
	"  {\"name\": \"uuid\", \"type\": {\"type\": \"fixed\", \"name\": \"uuid_fixed\", \"size\": 4},\n"
	"   \"field-id\": 107},\n"
	"  {\"name\": \"other\", \"type\": [\"null\", \"r2\"], \"field-id\": 108}\n"
	" ]}";

/* ---- value building ---- */
static floe_avro_value *vals(floe_arena *a, size_t n)
{
	return floe_arena_calloc(a, n ? n : 1, sizeof(floe_avro_value));
}

static void set_str(floe_avro_value *v, floe_avro_kind kind, const char *s)
{
	v->kind = kind;
	v->bytes = (const uint8_t *)s;
	v->len = strlen(s);
}

/* Record number `i` of the every-kind schema. */
static floe_avro_value *make_record(floe_arena *a, int i)
{
	floe_avro_value *r = vals(a, 1), *f = vals(a, 14);
	r->kind = FLOE_AVRO_RECORD;
	r->n = 14;
	r->items = f;
	f[0].kind = FLOE_AVRO_NULL;
	f[1].kind = FLOE_AVRO_BOOLEAN;
	f[1].i = i & 1;
	f[2].kind = FLOE_AVRO_INT;
	f[2].i = i % 3 - 1;
	f[3].kind = FLOE_AVRO_UNION;
	f[3].n = 1;
	f[3].items = vals(a, 1);
	if (i % 2) {
		f[3].i = 1;
		f[3].items->kind = FLOE_AVRO_LONG;
		f[3].items->i = INT64_MAX - i; /* above 2^53: exact in JSON only when handled */
	} else {
		f[3].i = 0;
		f[3].items->kind = FLOE_AVRO_NULL;
	}
	f[4].kind = FLOE_AVRO_FLOAT;
	f[4].d = 1.5 * i;
	f[5].kind = FLOE_AVRO_DOUBLE;
	f[5].d = -0.25 * i + 1e10;
	f[6].kind = FLOE_AVRO_BYTES;
	uint8_t *raw = floe_arena_alloc(a, 3);
	raw[0] = 0;
	raw[1] = (uint8_t)i;
	raw[2] = 0xff;
	f[6].bytes = raw;
	f[6].len = (size_t)(i % 4);
	char *path = floe_arena_alloc(a, 64);
	snprintf(path, 64, "s3://bucket/data/file-%d.parquet", i);
	set_str(&f[7], FLOE_AVRO_STRING, path);
	f[8].kind = FLOE_AVRO_RECORD;
	f[8].n = 2;
	f[8].items = vals(a, 2);
	f[8].items[0].kind = FLOE_AVRO_INT;
	f[8].items[0].i = -i * 1000;
	f[8].items[1].kind = FLOE_AVRO_UNION;
	f[8].items[1].i = 1;
	f[8].items[1].n = 1;
	f[8].items[1].items = vals(a, 1);
	set_str(f[8].items[1].items, FLOE_AVRO_STRING, "v\xc3\xa9");
	f[9].kind = FLOE_AVRO_ARRAY;
	f[9].n = (size_t)i;
	f[9].items = vals(a, (size_t)i);
	for (int k = 0; k < i; k++) {
		f[9].items[k].kind = FLOE_AVRO_LONG;
		f[9].items[k].i = (int64_t)k * -123456789012LL;
	}
	f[10].kind = FLOE_AVRO_MAP;
	f[10].n = 2;
	f[10].items = vals(a, 2);
	f[10].keys = vals(a, 2);
	set_str(&f[10].keys[0], FLOE_AVRO_STRING, "a");
	set_str(&f[10].keys[1], FLOE_AVRO_STRING, "bb");
	f[10].items[0].kind = f[10].items[1].kind = FLOE_AVRO_INT;
	f[10].items[0].i = i;
	f[10].items[1].i = INT32_MIN;
	f[11].kind = FLOE_AVRO_ENUM;
	f[11].i = i % 3;
	f[12].kind = FLOE_AVRO_FIXED;
	f[12].bytes = (const uint8_t *)"\x01\x02\x03\x04";
	f[12].len = 4;
	f[13].kind = FLOE_AVRO_UNION;
	f[13].n = 1;
	f[13].items = vals(a, 1);
	if (i % 3 == 0) {
		f[13].i = 0;
		f[13].items->kind = FLOE_AVRO_NULL;
	} else {
		f[13].i = 1;
		f[13].items[0] = f[8];
	}
	return r;
}

static int value_eq(const floe_avro_value *x, const floe_avro_value *y)
{
	if (x->kind != y->kind)
		return 0;
	switch (x->kind) {
	case FLOE_AVRO_NULL:
		return 1;
	case FLOE_AVRO_BOOLEAN:
	case FLOE_AVRO_INT:
	case FLOE_AVRO_LONG:
	case FLOE_AVRO_ENUM:
		return x->i == y->i;
	case FLOE_AVRO_FLOAT:
		return (float)x->d == (float)y->d;
	case FLOE_AVRO_DOUBLE:
		return x->d == y->d;
	case FLOE_AVRO_BYTES:
	case FLOE_AVRO_STRING:
	case FLOE_AVRO_FIXED:
		return x->len == y->len && (x->len == 0 || memcmp(x->bytes, y->bytes, x->len) == 0);
	case FLOE_AVRO_UNION:
		return x->i == y->i && value_eq(x->items, y->items);
	case FLOE_AVRO_MAP:
	case FLOE_AVRO_ARRAY:
	case FLOE_AVRO_RECORD:
		if (x->n != y->n)
			return 0;
		for (size_t k = 0; k < x->n; k++) {
			if (!value_eq(&x->items[k], &y->items[k]))
				return 0;
			if (x->kind == FLOE_AVRO_MAP && !value_eq(&x->keys[k], &y->keys[k]))
				return 0;
		}
		return 1;
	}
	return 0;
}

/* Compare a decoded value with avsc's JSON (avro-dump.mjs: unions
 * unwrapped, bytes/fixed as hex, enums as symbols, longs exact). */
static int json_matches(const floe_avro_schema *s, const floe_avro_value *v, json_t *j, char *why,
                        size_t whylen)
{
	switch (s->kind) {
	case FLOE_AVRO_NULL:
		if (json_is_null(j))
			return 1;
		break;
	case FLOE_AVRO_BOOLEAN:
		if (json_is_boolean(j) && json_is_true(j) == (v->i != 0))
			return 1;
		break;
	case FLOE_AVRO_INT:
	case FLOE_AVRO_LONG:
		if (json_is_integer(j) && json_integer_value(j) == v->i)
			return 1;
		break;
	case FLOE_AVRO_FLOAT:
	case FLOE_AVRO_DOUBLE:
		if (json_is_number(j) && fabs(json_number_value(j) - v->d) <= 1e-6 * fmax(1.0, fabs(v->d)))
			return 1;
		break;
	case FLOE_AVRO_STRING:
		if (json_is_string(j) && json_string_length(j) == v->len &&
		    memcmp(json_string_value(j), v->bytes, v->len) == 0)
			return 1;
		break;
	case FLOE_AVRO_BYTES:
	case FLOE_AVRO_FIXED: {
		if (!json_is_string(j) || json_string_length(j) != 2 * v->len)
			break;
		char hex[3];
		size_t k;
		for (k = 0; k < v->len; k++) {
			snprintf(hex, sizeof hex, "%02x", v->bytes[k]);
			if (memcmp(json_string_value(j) + 2 * k, hex, 2))
				break;
		}
		if (k == v->len)
			return 1;
		break;
	}
	case FLOE_AVRO_ENUM:
		if (json_is_string(j) && !strcmp(json_string_value(j), s->symbols[v->i]))
			return 1;
		break;
	case FLOE_AVRO_UNION:
		return json_matches(s->branches[v->i], v->items, j, why, whylen);
	case FLOE_AVRO_RECORD:
		if (!json_is_object(j))
			break;
		for (size_t k = 0; k < s->nfields; k++)
			if (!json_matches(s->fields[k].type, &v->items[k],
			                  json_object_get(j, s->fields[k].name), why, whylen)) {
				size_t used = strlen(why);
				snprintf(why + used, whylen - used, " in %s", s->fields[k].name);
				return 0;
			}
		return 1;
	case FLOE_AVRO_ARRAY:
		if (!json_is_array(j) || json_array_size(j) != v->n)
			break;
		for (size_t k = 0; k < v->n; k++)
			if (!json_matches(s->items, &v->items[k], json_array_get(j, k), why, whylen))
				return 0;
		return 1;
	case FLOE_AVRO_MAP:
		if (!json_is_object(j) || json_object_size(j) != v->n)
			break;
		for (size_t k = 0; k < v->n; k++)
			if (!json_matches(s->items, &v->items[k],
			                  json_object_get(j, (const char *)v->keys[k].bytes), why, whylen))
				return 0;
		return 1;
	}
	snprintf(why, whylen, "kind %d differs from JSON", (int)s->kind);
	return 0;
}

/* Check floe's first `limit` records of `path` against avro-dump --records. */
static void check_against_avsc(const char *path, int limit)
{
	floe_error err;
	floe_avro_reader *r = NULL;
	floe_arena *a = floe_arena_new(0);
	char *out = NULL, *count_out = NULL;
	REQUIRE(a);
	CHECK_OK(floe_avro_reader_open_file(&r, path, &err), &err);
	if (!r)
		goto done;
	CHECK_EQ_INT(th_run(&count_out, "node %s/avro-dump.mjs '%s' --count", th_peers(), path), 0);
	CHECK_EQ_INT(th_run(&out, "node %s/avro-dump.mjs '%s' --records --limit %d", th_peers(), path,
	                    limit), 0);
	if (!out || !count_out)
		goto done;
	char *line = out;
	long n = 0;
	for (;;) {
		const floe_avro_value *v;
		int rc = floe_avro_reader_next(r, a, &v, &err);
		if (rc < 0)
			th_fail(__FILE__, __LINE__, "%s: %s", path, err.msg);
		if (rc <= 0)
			break;
		if (n < limit) {
			char *nl = strchr(line, '\n');
			if (!nl) {
				th_fail(__FILE__, __LINE__, "%s: avsc gave fewer records", path);
				break;
			}
			*nl = 0;
			json_error_t jerr;
			json_t *j = json_loads(line, JSON_DECODE_ANY, &jerr);
			char why[256] = "";
			if (!j || !json_matches(floe_avro_reader_schema(r), v, j, why, sizeof why))
				th_fail(__FILE__, __LINE__, "%s record %ld: %s", path, n, why);
			json_decref(j);
			line = nl + 1;
		}
		n++;
	}
	CHECK_EQ_INT(n, atol(count_out));
done:
	free(out);
	free(count_out);
	floe_avro_reader_free(r);
	floe_arena_free(a);
}

static void write_every_kind(floe_avro_codec codec, size_t block_records, int nrec,
                             const uint8_t **data, size_t *len, floe_avro_writer **wout)
{
	floe_error err;
	floe_avro_writer_opts o = { codec, block_records, 0 };
	const char *meta[] = { "format-version", "2", "content", "data" };
	floe_arena *a = floe_arena_new(0);
	*wout = NULL;
	REQUIRE_OK(floe_avro_writer_new(wout, EVERY_KIND_SCHEMA, strlen(EVERY_KIND_SCHEMA), meta, 2,
	                                &o, &err), &err);
	for (int i = 0; i < nrec; i++)
		CHECK_OK(floe_avro_writer_append(*wout, make_record(a, i), &err), &err);
	CHECK_OK(floe_avro_writer_finish(*wout, data, len, &err), &err);
	floe_arena_free(a);
}

TEST(avro_roundtrip_every_kind)
{
	for (int codec = 0; codec < 2; codec++) {
		const uint8_t *data = NULL;
		size_t len = 0;
		floe_avro_writer *w;
		floe_error err;
		write_every_kind((floe_avro_codec)codec, 3, 10, &data, &len, &w);
		REQUIRE(w && data);
		floe_avro_reader *r;
		REQUIRE_OK(floe_avro_reader_open_mem(&r, data, len, "mem.avro", &err), &err);
		size_t sl;
		const char *sj = floe_avro_reader_schema_json(r, &sl);
		CHECK_EQ_INT(sl, strlen(EVERY_KIND_SCHEMA));
		CHECK(memcmp(sj, EVERY_KIND_SCHEMA, sl) == 0);
		CHECK_EQ_STR(floe_avro_reader_codec(r), codec ? "deflate" : "null");
		size_t ml;
		const uint8_t *fv = floe_avro_reader_meta(r, "format-version", &ml);
		CHECK(fv && ml == 1 && fv[0] == '2');
		CHECK(floe_avro_reader_meta(r, "nope", NULL) == NULL);
		const floe_avro_schema *s = floe_avro_reader_schema(r);
		CHECK_EQ_INT(s->kind, FLOE_AVRO_RECORD);
		CHECK_EQ_STR(s->name, "t.ns.manifest_entry");
		size_t idx = 99;
		const floe_avro_field *f = floe_avro_field_by_id(s, 100000, &idx);
		REQUIRE(f);
		CHECK_EQ_STR(f->name, "path");
		CHECK_EQ_INT(idx, 7);
		f = floe_avro_field_by_name(s, "snapshot_id", NULL);
		REQUIRE(f);
		CHECK(f->has_field_id && f->field_id == 1);
		CHECK_EQ_STR(f->default_json, "null");
		f = floe_avro_field_by_name(s, "flag", NULL);
		REQUIRE(f && f->nattrs == 2);
		CHECK_EQ_STR(f->attrs[1].key, "doc");
		CHECK_EQ_STR(f->attrs[1].json, "\"a flag\"");
		CHECK(floe_avro_field_by_name(s, "other", NULL)->type->branches[1] ==
		      floe_avro_field_by_name(s, "sub", NULL)->type);
		CHECK_EQ_STR(floe_avro_field_by_name(s, "uuid", NULL)->type->name, "t.ns.uuid_fixed");
		floe_arena *a = floe_arena_new(0), *b = floe_arena_new(0);
		int i = 0;
		for (;;) {
			const floe_avro_value *v;
			int rc = floe_avro_reader_next(r, a, &v, &err);
			CHECK(rc >= 0);
			if (rc <= 0)
				break;
			CHECK(value_eq(v, make_record(b, i)));
			int64_t x;
			CHECK_OK(floe_avro_value_int64(floe_avro_value_field_id(s, v, 0), &x), &err);
			CHECK_EQ_INT(x, i % 3 - 1);
			int got = floe_avro_value_int64(floe_avro_value_field(s, v, "snapshot_id"), &x);
			CHECK_EQ_INT(got, i % 2 ? 0 : FLOE_EINVALID);
			if (i % 2)
				CHECK(x == INT64_MAX - i);
			i++;
		}
		CHECK_EQ_INT(i, 10);
		floe_arena_free(a);
		floe_arena_free(b);
		floe_avro_reader_free(r);
		floe_avro_writer_free(w);
	}
}

TEST(avro_writer_rejects_bad_values_and_schemas)
{
	floe_error err;
	floe_avro_writer *w = NULL;
	CHECK_EQ_INT(floe_avro_writer_new(&w, "{\"type\":\"record\"", 17, NULL, 0, NULL, &err),
	             FLOE_EINVALID);
	CHECK_EQ_INT(floe_avro_writer_new(&w, "\"nosuch\"", 8, NULL, 0, NULL, &err), FLOE_EINVALID);
	const char *meta[] = { "avro.codec", "x" };
	CHECK_EQ_INT(floe_avro_writer_new(&w, "\"int\"", 5, meta, 1, NULL, &err), FLOE_EINVALID);
	REQUIRE_OK(floe_avro_writer_new(&w, EVERY_KIND_SCHEMA, strlen(EVERY_KIND_SCHEMA), NULL, 0,
	                                NULL, &err), &err);
	floe_arena *a = floe_arena_new(0);
	floe_avro_value *v = make_record(a, 4);
	v->items[11].i = 3; /* enum index out of range */
	CHECK_EQ_INT(floe_avro_writer_append(w, v, &err), FLOE_EINVALID);
	v = make_record(a, 4);
	v->items[2].kind = FLOE_AVRO_LONG; /* int field given a long */
	CHECK_EQ_INT(floe_avro_writer_append(w, v, &err), FLOE_EINVALID);
	v = make_record(a, 4);
	v->items[3].i = 2; /* union branch out of range */
	CHECK_EQ_INT(floe_avro_writer_append(w, v, &err), FLOE_EINVALID);
	v = make_record(a, 4);
	v->items[12].len = 3;
	CHECK_EQ_INT(floe_avro_writer_append(w, v, &err), FLOE_EINVALID);
	CHECK_OK(floe_avro_writer_append(w, make_record(a, 5), &err), &err);
	const uint8_t *data;
	size_t len;
	REQUIRE_OK(floe_avro_writer_finish(w, &data, &len, &err), &err);
	floe_avro_reader *r;
	REQUIRE_OK(floe_avro_reader_open_mem(&r, data, len, "m", &err), &err);
	const floe_avro_value *got;
	CHECK_EQ_INT(floe_avro_reader_next(r, a, &got, &err), 1); /* only the good record */
	CHECK_EQ_INT(floe_avro_reader_next(r, a, &got, &err), 0);
	floe_avro_reader_free(r);
	floe_avro_writer_free(w);
	floe_arena_free(a);
}

TEST(avro_written_file_read_by_avsc)
{
	for (int codec = 0; codec < 2; codec++) {
		const uint8_t *data;
		size_t len;
		floe_avro_writer *w;
		floe_error err;
		write_every_kind((floe_avro_codec)codec, 4, 9, &data, &len, &w);
		REQUIRE(w);
		const char *path = th_path(codec ? "deflate.avro" : "null.avro");
		REQUIRE_OK(floe_avro_write_file(path, data, len, &err), &err);
		floe_avro_writer_free(w);
		char *out = NULL;
		REQUIRE(th_run(&out, "node %s/avro-dump.mjs %s --header", th_peers(), path) == 0);
		json_error_t jerr;
		json_t *hdr = json_loads(out, 0, &jerr);
		json_t *want = json_loads(EVERY_KIND_SCHEMA, 0, &jerr);
		REQUIRE(hdr && want);
		CHECK(json_equal(json_object_get(hdr, "schema"), want));
		json_t *fields = json_object_get(json_object_get(hdr, "schema"), "fields");
		CHECK(json_integer_value(json_object_get(json_array_get(fields, 7), "field-id")) == 100000);
		CHECK_EQ_STR(json_string_value(json_object_get(hdr, "codec")), codec ? "deflate" : "null");
		CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(hdr, "metadata"), "content")),
		             "data");
		json_decref(hdr);
		json_decref(want);
		free(out);
		check_against_avsc(path, 9);
	}
}

static const char PEER_SCHEMA[] =
	"{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":["
	"{\"name\":\"manifest_path\",\"type\":\"string\",\"field-id\":500},"
	"{\"name\":\"manifest_length\",\"type\":\"long\",\"field-id\":501},"
	"{\"name\":\"added_snapshot_id\",\"type\":[\"null\",\"long\"],\"field-id\":503},"
	"{\"name\":\"key_metadata\",\"type\":[\"null\",\"bytes\"],\"field-id\":519},"
	"{\"name\":\"partitions\",\"type\":[\"null\",{\"type\":\"array\",\"items\":{\"type\":\"record\","
	"\"name\":\"r508\",\"fields\":[{\"name\":\"contains_null\",\"type\":\"boolean\",\"field-id\":509},"
	"{\"name\":\"lower_bound\",\"type\":[\"null\",\"bytes\"],\"field-id\":510}]},\"element-id\":508}],"
	"\"field-id\":507}]}";

TEST(avro_reads_files_written_by_avsc)
{
	const char *schema_path = th_path("schema.json"), *rows = th_path("rows.jsonl");
	FILE *f = fopen(schema_path, "w");
	REQUIRE(f);
	fputs(PEER_SCHEMA, f);
	fclose(f);
	f = fopen(rows, "w");
	REQUIRE(f);
	for (int i = 0; i < 300; i++)
		fprintf(f, "{\"manifest_path\":\"s3://b/m-%d.avro\",\"manifest_length\":%lld,"
		           "\"added_snapshot_id\":%s,\"key_metadata\":%s,\"partitions\":"
		           "[{\"contains_null\":%s,\"lower_bound\":\"0a%02x\"}]}\n",
		        i, 9007199254740993LL + i, i % 2 ? "null" : "8656952484400131532",
		        i % 3 ? "null" : "\"00ff\"", i % 2 ? "true" : "false", i & 0xff);
	fclose(f);
	const char *codecs[] = { "null", "deflate" };
	for (int c = 0; c < 2; c++) {
		const char *out = th_path(c ? "peer-deflate.avro" : "peer-null.avro");
		REQUIRE(th_run(NULL, "node %s/avro-write.mjs %s %s --codec %s --meta format-version=2 < %s",
		               th_peers(), schema_path, out, codecs[c], rows) == 0);
		check_against_avsc(out, 300);
		floe_error err;
		floe_avro_reader *r;
		REQUIRE_OK(floe_avro_reader_open_file(&r, out, &err), &err);
		size_t sl;
		const char *sj = floe_avro_reader_schema_json(r, &sl);
		CHECK(sl == strlen(PEER_SCHEMA) && memcmp(sj, PEER_SCHEMA, sl) == 0);
		CHECK_EQ_STR(floe_avro_reader_codec(r), codecs[c]);
		CHECK_EQ_STR((const char *)floe_avro_reader_meta(r, "format-version", NULL), "2");
		floe_avro_reader_free(r);
	}
}

static void scan_dir(const char *dir, int *nfiles)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			scan_dir(path, nfiles);
		} else {
			size_t n = strlen(path);
			if (n > 5 && !strcmp(path + n - 5, ".avro")) {
				check_against_avsc(path, 3);
				(*nfiles)++;
			}
		}
	}
	closedir(d);
}

TEST(avro_iceberg_interop_corpus)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/testdata/iceberg-interop/avro", th_shared());
	int n = 0;
	scan_dir(dir, &n);
	CHECK(n >= 4);
}

/* Decode every record of an in-memory file; returns the first error code
 * (0 when the whole file decodes). */
static int decode_all(const uint8_t *data, size_t len, floe_error *err, long *count)
{
	floe_avro_reader *r;
	floe_arena *a = floe_arena_new(0);
	int rc = floe_avro_reader_open_mem(&r, data, len, "t.avro", err);
	*count = 0;
	if (rc == 0) {
		const floe_avro_value *v;
		while ((rc = floe_avro_reader_next(r, a, &v, err)) == 1)
			(*count)++;
		floe_avro_reader_free(r);
	}
	floe_arena_free(a);
	return rc;
}

TEST(avro_truncation_at_every_byte_errors_cleanly)
{
	for (int codec = 0; codec < 2; codec++) {
		const uint8_t *data;
		size_t len;
		floe_avro_writer *w;
		write_every_kind((floe_avro_codec)codec, 2, 5, &data, &len, &w);
		REQUIRE(w);
		floe_error err;
		long count;
		CHECK_EQ_INT(decode_all(data, len, &err, &count), 0);
		CHECK_EQ_INT(count, 5);
		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);
			memcpy(copy, data, cut);
			int rc = decode_all(copy, cut, &err, &count);
			/* a cut right after a block's sync is a valid shorter file */
			if (rc == 0) {
				CHECK(count < 5 && count % 2 == 0);
			} else {
				CHECK_EQ_INT(rc, FLOE_ECORRUPT);
				CHECK(strstr(err.msg, "t.avro: corrupt at byte ") == err.msg);
			}
			free(copy);
		}
		floe_avro_writer_free(w);
	}
}

/* A hand-made file: header with schema `schema`, then `body` verbatim. */
static size_t handmade(uint8_t *out, const char *schema, const uint8_t *body, size_t body_len)
{
	size_t n = 0, sl = strlen(schema);
	memcpy(out, "Obj\x01", 4);
	n = 4;
	out[n++] = 2; /* one metadata entry */
	out[n++] = 22; /* "avro.schema" (11) */
	memcpy(out + n, "avro.schema", 11);
	n += 11;
	for (uint64_t z = 2 * (uint64_t)sl; ; z >>= 7) { /* zig-zag varint length */
		out[n++] = (uint8_t)((z & 0x7f) | (z > 0x7f ? 0x80 : 0));
		if (z <= 0x7f)
			break;
	}
	memcpy(out + n, schema, sl);
	n += sl;
	out[n++] = 0;
	memset(out + n, 0xab, 16);
	n += 16;
	memcpy(out + n, body, body_len);
	return n + body_len;
}

TEST(avro_hostile_blocks)
{
	uint8_t file[512];
	floe_error err;
	long count;
	uint8_t sync[16];
	memset(sync, 0xab, 16);
	/* good: 2 longs (1, -1) in one block */
	uint8_t good[2 + 2 + 16] = { 4, 4, 2, 1 };
	memcpy(good + 4, sync, 16);
	size_t n = handmade(file, "\"long\"", good, 20);
	CHECK_EQ_INT(decode_all(file, n, &err, &count), 0);
	CHECK_EQ_INT(count, 2);
	/* huge object count for a 2-byte block */
	uint8_t huge[] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 4, 2, 1 };
	uint8_t body[64];
	memcpy(body, huge, sizeof huge);
	memcpy(body + sizeof huge, sync, 16);
	n = handmade(file, "\"long\"", body, sizeof huge + 16);
	CHECK_EQ_INT(decode_all(file, n, &err, &count), FLOE_ECORRUPT);
	CHECK(strstr(err.msg, "exceeds") != NULL);
	/* bad sync marker */
	memcpy(body, good, 20);
	body[19] ^= 1;
	n = handmade(file, "\"long\"", body, 20);
	CHECK_EQ_INT(decode_all(file, n, &err, &count), FLOE_ECORRUPT);
	CHECK(strstr(err.msg, "sync") != NULL);
	/* varint longer than 10 bytes */
	uint8_t longv[] = { 2, 22, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
	memcpy(body, longv, sizeof longv);
	memcpy(body + sizeof longv, sync, 16);
	n = handmade(file, "\"long\"", body, sizeof longv + 16);
	CHECK_EQ_INT(decode_all(file, n, &err, &count), FLOE_ECORRUPT);
	/* union index out of range */
	uint8_t un[] = { 2, 2, 4 };
	memcpy(body, un, 3);
	memcpy(body + 3, sync, 16);
	n = handmade(file, "[\"null\",\"int\"]", body, 19);
	CHECK_EQ_INT(decode_all(file, n, &err, &count), FLOE_ECORRUPT);
	CHECK(strstr(err.msg, "union") != NULL);
	/* array with a negative block count (-2 items, byte size 2): [3, 4] */
	uint8_t arr[] = { 2, 10, 3, 4, 6, 8, 0 };
	memcpy(body, arr, sizeof arr);
	memcpy(body + sizeof arr, sync, 16);
	n = handmade(file, "{\"type\":\"array\",\"items\":\"int\"}", body, sizeof arr + 16);
	floe_avro_reader *r;
	REQUIRE_OK(floe_avro_reader_open_mem(&r, file, n, "arr.avro", &err), &err);
	floe_arena *a = floe_arena_new(0);
	const floe_avro_value *v;
	CHECK_EQ_INT(floe_avro_reader_next(r, a, &v, &err), 1);
	REQUIRE(v && v->kind == FLOE_AVRO_ARRAY && v->n == 2);
	CHECK_EQ_INT(v->items[0].i, 3);
	CHECK_EQ_INT(v->items[1].i, 4);
	CHECK_EQ_INT(floe_avro_reader_next(r, a, &v, &err), 0);
	floe_avro_reader_free(r);
	floe_arena_free(a);
	/* array claiming 2^40 items in a few bytes */
	uint8_t arrbig[] = { 2, 14, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0 };
	memcpy(body, arrbig, sizeof arrbig);
	memcpy(body + sizeof arrbig, sync, 16);
	n = handmade(file, "{\"type\":\"array\",\"items\":\"int\"}", body, sizeof arrbig + 16);
	CHECK_EQ_INT(decode_all(file, n, &err, &count), FLOE_ECORRUPT);
	/* bad magic */
	file[0] = 'X';
	CHECK_EQ_INT(decode_all(file, n, &err, &count), FLOE_ECORRUPT);
}

TEST(avro_recursive_schema_depth_capped)
{
	const char *schema = "{\"type\":\"record\",\"name\":\"L\",\"fields\":[{\"name\":\"next\","
	                     "\"type\":[\"null\",\"L\"]}]}";
	floe_arena *a = floe_arena_new(0);
	const floe_avro_schema *s;
	floe_error err;
	REQUIRE_OK(floe_avro_schema_parse(&s, a, schema, strlen(schema), &err), &err);
	CHECK(s->fields[0].type->branches[1] == s);
	/* 200 nested links, then null: deeper than the reader allows */
	uint8_t body[300], file[512];
	size_t m = 0;
	body[m++] = 2;
	body[m++] = (uint8_t)0x92; /* size 201 as zig-zag varint: 402 = 0x192 */
	body[m++] = 0x03;
	for (int k = 0; k < 200; k++)
		body[m++] = 2;
	body[m++] = 0;
	memset(body + m, 0xab, 16);
	m += 16;
	uint8_t hdr[400];
	size_t sl = strlen(schema), n = 0;
	memcpy(hdr, "Obj\x01\x02\x16" "avro.schema", 17);
	n = 17;
	hdr[n++] = (uint8_t)(((2 * sl) & 0x7f) | 0x80);
	hdr[n++] = (uint8_t)((2 * sl) >> 7);
	memcpy(hdr + n, schema, sl);
	n += sl;
	hdr[n++] = 0;
	memset(hdr + n, 0xab, 16);
	n += 16;
	memcpy(file, hdr, n);
	memcpy(file + n, body, m);
	long count;
	CHECK_EQ_INT(decode_all(file, n + m, &err, &count), FLOE_ECORRUPT);
	CHECK(strstr(err.msg, "deeply") != NULL);
	floe_arena_free(a);
}

TEST(avro_bad_schema_in_header_is_corrupt)
{
	uint8_t file[256];
	uint8_t body[] = { 0 };
	size_t n = handmade(file, "{\"type\":\"nosuch\"}", body, 0);
	floe_error err;
	long count;
	(void)body;
	CHECK_EQ_INT(decode_all(file, n, &err, &count), FLOE_ECORRUPT);
	CHECK(strstr(err.msg, "t.avro: corrupt at byte 4: ") == err.msg);
	CHECK(strstr(err.msg, "nosuch") != NULL);
}

TEST(avro_every_byte_flipped_never_crashes)
{
	const uint8_t *data;
	size_t len;
	floe_avro_writer *w;
	write_every_kind(FLOE_AVRO_CODEC_NULL, 2, 4, &data, &len, &w);
	REQUIRE(w);
	uint8_t *copy = malloc(len);
	REQUIRE(copy);
	int errors = 0;
	for (size_t k = 0; k < len; k++) {
		for (int mask = 1; mask < 256; mask <<= 3) {
			memcpy(copy, data, len);
			copy[k] ^= (uint8_t)mask;
			floe_error err;
			long count;
			int rc = decode_all(copy, len, &err, &count);
			if (rc) {
				errors++;
				CHECK(rc == FLOE_ECORRUPT || rc == FLOE_EUNSUPPORTED);
			}
		}
	}
	CHECK(errors > 0);
	free(copy);
	floe_avro_writer_free(w);
}

/* snappy codec: snappy data then the big-endian CRC32 of the raw block */
TEST(avro_snappy_blocks_and_crc)
{
	uint8_t raw[200];
	size_t rn = 0;
	for (int k = 0; k < 100; k++) {
		raw[rn++] = (uint8_t)(2 * (k % 60)); /* zig-zag longs 0..59 */
	}
	char comp[512];
	size_t cn = sizeof comp;
	REQUIRE(snappy_compress((const char *)raw, rn, comp, &cn) == SNAPPY_OK);
	uint32_t crc = (uint32_t)crc32(0L, raw, (uInt)rn);
	uint8_t file[1024];
	size_t n = 0;
	static const char hdr[] = "Obj\x01\x04\x16" "avro.schema\x0c\"long\"\x14" "avro.codec\x0c"
	                          "snappy\x00";
	memcpy(file, hdr, sizeof hdr - 1);
	n = sizeof hdr - 1;
	memset(file + n, 0x5a, 16);
	n += 16;
	file[n++] = 200; /* 100 records: zig-zag 200 = 0xc8 0x01 */
	file[n++] = 0x01;
	size_t bl = cn + 4;
	file[n++] = (uint8_t)(((2 * bl) & 0x7f) | 0x80);
	file[n++] = (uint8_t)((2 * bl) >> 7);
	memcpy(file + n, comp, cn);
	n += cn;
	file[n++] = (uint8_t)(crc >> 24);
	file[n++] = (uint8_t)(crc >> 16);
	file[n++] = (uint8_t)(crc >> 8);
	file[n++] = (uint8_t)crc;
	memset(file + n, 0x5a, 16);
	n += 16;
	floe_error err;
	floe_avro_reader *r;
	REQUIRE_OK(floe_avro_reader_open_mem(&r, file, n, "s.avro", &err), &err);
	CHECK_EQ_STR(floe_avro_reader_codec(r), "snappy");
	floe_arena *a = floe_arena_new(0);
	const floe_avro_value *v;
	int k = 0;
	while (floe_avro_reader_next(r, a, &v, &err) == 1) {
		CHECK_EQ_INT(v->i, k % 60);
		k++;
	}
	CHECK_EQ_INT(k, 100);
	floe_avro_reader_free(r);
	floe_arena_free(a);
	file[n - 17] ^= 1; /* CRC */
	long count;
	CHECK_EQ_INT(decode_all(file, n, &err, &count), FLOE_ECORRUPT);
	CHECK(strstr(err.msg, "CRC") != NULL);
}

TEST(avro_schema_naming_one_record_many_times_is_bounded)
{
	/* R0 {x: null}; Rk {a: Rk-1, b: Rk-1}: 2^40 null values in 0 bytes */
	char *schema = malloc(16384);
	REQUIRE(schema);
	size_t n = (size_t)sprintf(schema, "{\"type\":\"record\",\"name\":\"R0\",\"fields\":"
	                                   "[{\"name\":\"x\",\"type\":\"null\"}]}");
	for (int k = 1; k <= 40; k++) {
		char *prev = strdup(schema);
		n = (size_t)snprintf(schema, 16384, "{\"type\":\"record\",\"name\":\"R%d\",\"fields\":"
		                     "[{\"name\":\"a\",\"type\":%s},{\"name\":\"b\",\"type\":\"R%d\"}]}",
		                     k, prev, k - 1);
		free(prev);
	}
	REQUIRE(n < 16000);
	uint8_t *file = malloc(20000);
	uint8_t body[18] = { 2, 0 };
	memset(body + 2, 0xab, 16);
	size_t len = handmade(file, schema, body, sizeof body);
	floe_error err;
	long count;
	CHECK_EQ_INT(decode_all(file, len, &err, &count), FLOE_ECORRUPT);
	CHECK(strstr(err.msg, "no bytes") != NULL);
	free(file);
	free(schema);
}

/* A v1 manifest read by field-id (old writers: look fields up by id, read
 * int-or-long as int64); expected values come from avsc. */
TEST(avro_v1_manifest_fields_by_id)
{
	char path[4096], *out = NULL;
	snprintf(path, sizeof path, "%s/testdata/iceberg-interop/avro/apache-iceberg/OldManifestFileV1.avro",
	         th_shared());
	REQUIRE(th_run(&out, "node %s/avro-dump.mjs '%s' --records --limit 1", th_peers(), path) == 0);
	json_error_t jerr;
	json_t *j = json_loads(out, JSON_DISABLE_EOF_CHECK, &jerr);
	free(out);
	REQUIRE(j);
	json_t *df = json_object_get(j, "data_file");
	floe_error err;
	floe_avro_reader *r;
	REQUIRE_OK(floe_avro_reader_open_file(&r, path, &err), &err);
	floe_arena *a = floe_arena_new(0);
	const floe_avro_value *v;
	REQUIRE(floe_avro_reader_next(r, a, &v, &err) == 1);
	const floe_avro_schema *s = floe_avro_reader_schema(r);
	int64_t x;
	CHECK_OK(floe_avro_value_int64(floe_avro_value_field_id(s, v, 0), &x), &err);
	CHECK(x == json_integer_value(json_object_get(j, "status")));
	const floe_avro_field *f = floe_avro_field_by_id(s, 2, NULL);
	REQUIRE(f && f->type->kind == FLOE_AVRO_RECORD);
	const floe_avro_value *d = floe_avro_value_field_id(s, v, 2);
	CHECK_OK(floe_avro_value_int64(floe_avro_value_field_id(f->type, d, 103), &x), &err);
	CHECK(x == json_integer_value(json_object_get(df, "record_count")));
	const floe_avro_value *p = floe_avro_value_field_id(f->type, d, 100);
	REQUIRE(p && p->kind == FLOE_AVRO_STRING);
	CHECK_EQ_STR((const char *)p->bytes, json_string_value(json_object_get(df, "file_path")));
	CHECK(floe_avro_value_field_id(f->type, d, 999999) == NULL);
	json_decref(j);
	floe_avro_reader_free(r);
	floe_arena_free(a);
}

/* One file of `nrec` longs under a record schema named `name`. */
static floe_avro_writer *write_longs(const char *name, int nrec, const uint8_t **data, size_t *len)
{
	floe_error err;
	char schema[160];
	snprintf(schema, sizeof schema,
	         "{\"type\":\"record\",\"name\":\"%s\",\"fields\":[{\"name\":\"x\",\"type\":\"long\"}]}",
	         name);
	floe_avro_writer *w = NULL;
	if (floe_avro_writer_new(&w, schema, strlen(schema), NULL, 0, NULL, &err))
		th_fail(__FILE__, __LINE__, "writer: %s", err.msg);
	for (int i = 0; i < nrec; i++) {
		floe_avro_value x = { .kind = FLOE_AVRO_LONG, .i = i * 7 };
		floe_avro_value rec = { .kind = FLOE_AVRO_RECORD, .n = 1, .items = &x };
		if (floe_avro_writer_append(w, &rec, &err))
			th_fail(__FILE__, __LINE__, "append: %s", err.msg);
	}
	if (floe_avro_writer_finish(w, data, len, &err))
		th_fail(__FILE__, __LINE__, "finish: %s", err.msg);
	return w;
}

/* Sum of the x of every record; -1 on a read error. */
static int64_t sum_longs(floe_avro_reader *r)
{
	floe_error err;
	floe_arena *a = floe_arena_new(0);
	const floe_avro_value *v;
	int64_t sum = 0;
	int rc;
	while ((rc = floe_avro_reader_next(r, a, &v, &err)) == 1)
		sum += v->items[0].i;
	floe_arena_free(a);
	return rc == 0 ? sum : -1;
}

/* Readers of files with the same schema text share one parsed schema; a
 * reader keeps its schema alive after the other readers are gone and after
 * more schemas than the cache holds came and went. */
TEST(avro_readers_share_parsed_schemas)
{
	floe_error err;
	const uint8_t *d1, *d2, *d3;
	size_t l1, l2, l3;
	floe_avro_writer *w1 = write_longs("same", 10, &d1, &l1);
	floe_avro_writer *w2 = write_longs("same", 20, &d2, &l2);
	floe_avro_writer *w3 = write_longs("other", 5, &d3, &l3);
	floe_avro_reader *r1, *r2, *r3;
	REQUIRE_OK(floe_avro_reader_open_mem(&r1, d1, l1, "one", &err), &err);
	REQUIRE_OK(floe_avro_reader_open_mem(&r2, d2, l2, "two", &err), &err);
	REQUIRE_OK(floe_avro_reader_open_mem(&r3, d3, l3, "three", &err), &err);
	CHECK(floe_avro_reader_schema(r1) == floe_avro_reader_schema(r2));
	CHECK(floe_avro_reader_schema(r1) != floe_avro_reader_schema(r3));
	floe_avro_reader_free(r1);
	/* forty other schemas push "same" out of the cache while r2 holds it */
	for (int k = 0; k < 40; k++) {
		char name[32];
		snprintf(name, sizeof name, "churn%d", k);
		const uint8_t *d;
		size_t l;
		floe_avro_writer *w = write_longs(name, 1, &d, &l);
		floe_avro_reader *r;
		REQUIRE_OK(floe_avro_reader_open_mem(&r, d, l, name, &err), &err);
		CHECK_EQ_INT(sum_longs(r), 0);
		floe_avro_reader_free(r);
		floe_avro_writer_free(w);
	}
	CHECK_EQ_INT(sum_longs(r2), 7 * (19 * 20 / 2));
	CHECK_EQ_INT(sum_longs(r3), 7 * (4 * 5 / 2));
	const floe_avro_field *f = floe_avro_field_by_name(floe_avro_reader_schema(r2), "x", NULL);
	CHECK(f != NULL);
	floe_avro_reader_free(r2);
	floe_avro_reader_free(r3);
	/* parsed again once nobody holds it: still right */
	REQUIRE_OK(floe_avro_reader_open_mem(&r1, d1, l1, "one", &err), &err);
	CHECK_EQ_INT(sum_longs(r1), 7 * (9 * 10 / 2));
	floe_avro_reader_free(r1);
	floe_avro_writer_free(w1);
	floe_avro_writer_free(w2);
	floe_avro_writer_free(w3);
}
