/* tests/ingest/test_decode.c - the NDJSON decoder: its strings at every
 * length around the eight-byte scanning, with a quote, a backslash escape,
 * a \u escape, raw UTF-8 or a raw control character at every position,
 * decoded to the expected text or rejected; and the columns it builds the
 * good rows in, compared with what floe_text_parse, floe_text_append and a
 * floe_batch_builder make of the same values (then ice_batch_gather for the
 * rows the checks keep), over fields of every type, NULLs and rejects; and
 * records whose keys the fast path matches or passes to the lookup (out of
 * order, missing, repeated, unknown, escaped, spaced, cut short) decoded
 * alike on the fast and the general paths, and timestamps alike on the
 * fast path and by floe_text_parse; UTF-8 good and bad at every position
 * of a long string; whitespace between every two tokens. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/ingest.h"
#include "harness.h"
#include "iceberg/table_int.h"
#include "ingest/ingest_int.h"
#include "util/text.h"

/* What goes into the record at position i (JSON text) and what the
 * decoded value then holds there; NULL json: a raw byte that rejects. */
typedef struct piece {
	const char *json, *text;
} piece;

TEST(ingest_decode_strings_at_every_position)
{
	static const piece pieces[] = {
		{ "\\\"", "\"" },             /* escaped quote */
		{ "\\\\", "\\" },             /* escaped backslash */
		{ "\\n", "\n" },
		{ "\\u00e9", "\xc3\xa9" },
		{ "\xc3\xa9", "\xc3\xa9" },   /* raw UTF-8 */
		{ "\x7f", "\x7f" },           /* DEL is no control character in JSON */
		{ " ", " " },
		{ NULL, NULL },               /* a raw tab: rejected */
	};
	floe_record_spec *spec = NULL;
	floe_error err;
	REQUIRE_OK(floe_record_spec_parse(&spec, "{\"name\":\"s\",\"fields\":\"s string, n long\"}",
	                                  "s.json", &err), &err);
	ing_decoder *d = NULL;
	REQUIRE_OK(ing_decoder_new(&d, spec, ING_NDJSON, &err), &err);
	ing_meta m = { "test", -1, 0, 0 };
	int64_t want_ok = 0, want_bad = 0;
	char *want[3000];
	int nwant = 0;
	for (size_t p = 0; p < sizeof pieces / sizeof *pieces; p++)
		for (int len = 0; len <= 26; len++)
			for (int at = 0; at <= len; at++) {
				char rec[128], text[64];
				const char *j = pieces[p].json ? pieces[p].json : "\t";
				int n = snprintf(rec, sizeof rec, "{\"s\":\"%.*s%s%.*s\",\"n\":%d}", at,
				                 "abcdefghijklmnopqrstuvwxyz", j, len - at,
				                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ", len);
				int rc = ing_decoder_add(d, rec, (size_t)n, false, &m, false, &err);
				REQUIRE(rc >= 0);
				if (!pieces[p].json) {
					CHECK_EQ_INT(rc, 1);
					want_bad++;
					continue;
				}
				CHECK_EQ_INT(rc, 0);
				snprintf(text, sizeof text, "%.*s%s%.*s", at, "abcdefghijklmnopqrstuvwxyz",
				         pieces[p].text, len - at, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
				REQUIRE(nwant < 3000);
				want[nwant++] = strdup(text);
				want_ok++;
			}
	const floe_batch *b;
	const int64_t *ev;
	CHECK_EQ_INT(ing_decoder_take(d, NULL, &b, &ev, &err), 0);
	CHECK_EQ_INT(b->nrows, want_ok);
	CHECK_EQ_INT(ing_decoder_rejects(d)->nrows, want_bad);
	const floe_column *sc = &b->cols[0];
	for (int64_t r = 0; r < b->nrows && r < nwant; r++) {
		size_t len = (size_t)(sc->offsets[r + 1] - sc->offsets[r]);
		if (len != strlen(want[r]) || memcmp(sc->data + sc->offsets[r], want[r], len) != 0)
			th_fail(__FILE__, __LINE__, "row %lld: got '%.*s', want '%s'", (long long)r,
			        (int)len, (const char *)sc->data + sc->offsets[r], want[r]);
	}
	for (int i = 0; i < nwant; i++)
		free(want[i]);
	ing_decoder_free(d);
	floe_record_spec_free(spec);
}

/* ---- the good rows' columns ------------------------------------------------ */

/* Two batches hold the same rows: the same validity bits (also the unused
 * ones of the last byte), NULL counts, values and bytes. */
static void check_same_batch(const floe_batch *got, const floe_batch *want, int round)
{
	CHECK_EQ_INT(got->nrows, want->nrows);
	CHECK_EQ_INT(got->ncols, want->ncols);
	if (got->nrows != want->nrows || got->ncols != want->ncols)
		return;
	int64_t n = got->nrows;
	for (int c = 0; c < got->ncols; c++) {
		const floe_column *g = &got->cols[c], *w = &want->cols[c];
		const char *name = want->schema->fields[c].name;
		if (g->type.id != w->type.id || g->null_count != w->null_count ||
		    !g->validity != !w->validity) {
			th_fail(__FILE__, __LINE__, "round %d column %s: type %d/%d, nulls %lld/%lld, "
			        "bitmap %d/%d", round, name, g->type.id, w->type.id,
			        (long long)g->null_count, (long long)w->null_count, !!g->validity,
			        !!w->validity);
			continue;
		}
		if (g->validity && n > 0 && memcmp(g->validity, w->validity, (size_t)(n + 7) / 8))
			th_fail(__FILE__, __LINE__, "round %d column %s: validity differs", round, name);
		if (w->offsets) {
			if (!g->offsets || memcmp(g->offsets, w->offsets, (size_t)(n + 1) * 8) ||
			    memcmp(g->data, w->data, (size_t)w->offsets[n]))
				th_fail(__FILE__, __LINE__, "round %d column %s: bytes differ", round, name);
			continue;
		}
		size_t width = (size_t)floe_type_value_width(&w->type);
		if (n > 0 && memcmp(g->values, w->values, (size_t)n * width))
			th_fail(__FILE__, __LINE__, "round %d column %s: values differ", round, name);
	}
}

/* JSON text of a field's value and the text floe_text_parse gets for it
 * (NULL: the JSON text itself). */
typedef struct val {
	const char *json, *text;
} val;

typedef struct field_vals {
	const char *name;
	val v[4];
} field_vals;

/* Per field of col_spec, in its order: values that decode. */
static const field_vals col_vals[] = {
	{ "s", { { "\"a\"", "a" }, { "\"\"", "" }, { "\"drop\"", "drop" }, { "\"h\\u00e9\"", "h\xc3\xa9" } } },
	{ "l", { { "0", NULL }, { "-12", NULL }, { "9223372036854775807", NULL }, { "\"42\"", "42" } } },
	{ "d", { { "1.5", NULL }, { "-0.25", NULL }, { "1e300", NULL }, { "3", NULL } } },
	{ "f", { { "2.5", NULL }, { "-1", NULL } } },
	{ "i", { { "7", NULL }, { "-2147483648", NULL } } },
	{ "b", { { "true", NULL }, { "false", NULL } } },
	{ "dt", { { "\"2026-11-20\"", "2026-11-20" } } },
	{ "tm", { { "\"12:34:56.123456\"", "12:34:56.123456" } } },
	{ "t", { { "\"2026-11-20T14:30:00.000355\"", "2026-11-20T14:30:00.000355" } } },
	{ "tz", { { "\"2026-11-20T14:30:00.000355Z\"", "2026-11-20T14:30:00.000355Z" },
	          { "\"2026-11-29T14:30:00+02:00\"", "2026-11-29T14:30:00+02:00" } } },
	{ "tn", { { "\"2026-11-20T14:30:00.123456789\"", "2026-11-20T14:30:00.123456789" } } },
	{ "dc", { { "12.34", NULL }, { "\"-0.5\"", "-0.5" } } },
	{ "dw", { { "123456789012345678901234.567", NULL } } },
	{ "u", { { "\"123e4567-e89b-12d3-a456-426614174000\"", "123e4567-e89b-12d3-a456-426614174000" } } },
	{ "x", { { "\"AQIDBA==\"", "AQIDBA==" } } },
	{ "bn", { { "\"aGVsbG8=\"", "aGVsbG8=" }, { "\"\"", "" } } },
};

static const char col_spec[] =
	"{\"name\":\"all\",\"event_time\":\"tz\",\"fields\":\"s string not null, l long, "
	"d double, f float, i int, b boolean, dt date, tm time, t timestamp, "
	"tz timestamptz not null, tn timestamp_ns, dc decimal(10,2), dw decimal(30,3), "
	"u uuid, x fixed[4], bn binary\","
	"\"checks\":[{\"check\":\"s != 'drop'\",\"reason\":\"dropped\"}]}";

static uint32_t col_rand(uint32_t *st)
{
	*st = *st * 1103515245u + 12345u;
	return *st >> 8;
}

TEST(ingest_decode_columns_match_the_builder)
{
	enum { NF = sizeof col_vals / sizeof *col_vals, ROUNDS = 6, ROWS = 300, MAXROWS = 512 };
	floe_record_spec *spec = NULL;
	floe_error err;
	REQUIRE_OK(floe_record_spec_parse(&spec, col_spec, "all.json", &err), &err);
	REQUIRE(spec->fields->nfields == NF);
	ing_decoder *d = NULL;
	floe_batch_builder *ref = NULL;
	floe_arena *arena = floe_arena_new(0);
	floe_buf scratch = { 0 };
	uint8_t *pass = malloc(MAXROWS);
	int32_t *idx = malloc(MAXROWS * sizeof *idx);
	REQUIRE(arena && pass && idx);
	REQUIRE_OK(ing_decoder_new(&d, spec, ING_NDJSON, &err), &err);
	REQUIRE_OK(floe_batch_builder_new(&ref, spec->bronze, &err), &err);
	uint32_t st = 7;
	int64_t want_rejects = 0;
	char src_a[] = "a.ndjson", src_b[] = "b.ndjson";
	for (int round = 0; round < ROUNDS; round++) {
		/* rounds 0 and 4: rejects, NULLs and rows the check drops; 1: no
		 * NULLs (the bitmaps absent again); 2: none dropped and a row
		 * count no multiple of 8; 3: every row dropped; 5: as 2 with NULLs
		 * in the last rows only (the first in the last bitmap byte) */
		int rows = round == 2 ? 301 : round == 5 ? 299 : ROWS;
		for (int row = 0; row < rows; row++) {
			char rec[2048];
			size_t n = 0;
			int pick[NF];
			bool bad = (round == 0 || round == 4) && col_rand(&st) % 23 == 0;
			bool nulls = round != 1 && (round != 5 || row >= 297);
			rec[n++] = '{';
			for (int f = 0; f < NF; f++) {
				int nv = 0;
				while (nv < 4 && col_vals[f].v[nv].json)
					nv++;
				uint32_t r = col_rand(&st) % (uint32_t)(nv + 3);
				pick[f] = r < (uint32_t)nv ? (int)r : r == (uint32_t)nv ? -1 : -2;
				if (!nulls || f == 0 || f == 9) /* s, tz: not null */
					pick[f] = (int)(r % (uint32_t)nv);
				if (f == 0 && (round == 2 || round == 5) && pick[f] == 2)
					pick[f] = 0;
				if (f == 0 && round == 3)
					pick[f] = 2;
				if (pick[f] == -2)
					continue; /* absent */
				n += (size_t)snprintf(rec + n, sizeof rec - n, "%s\"%s\":%s", n > 1 ? "," : "",
				                      col_vals[f].name,
				                      pick[f] < 0 ? "null" : col_vals[f].v[pick[f]].json);
			}
			if (bad) /* a long that is not one */
				n += (size_t)snprintf(rec + n, sizeof rec - n, ",\"l\":\"x\"");
			rec[n++] = '}';
			ing_meta m = { row % 50 < 25 ? src_a : src_b, row % 3 ? (int32_t)(row % 4) : -1,
				       round * ROWS + row, 1000 + row };
			int rc = ing_decoder_add(d, rec, n, false, &m, false, &err);
			REQUIRE(rc >= 0);
			CHECK_EQ_INT(rc, bad ? 1 : 0);
			if (rc) {
				want_rejects++;
				continue;
			}
			for (int f = 0; f < NF; f++) {
				const floe_field *fd = &spec->fields->fields[f];
				if (pick[f] < 0) {
					REQUIRE_OK(floe_batch_builder_null(ref, f, &err), &err);
					continue;
				}
				const val *v = &col_vals[f].v[pick[f]];
				const char *t = v->text ? v->text : v->json;
				floe_value fv;
				REQUIRE_OK(floe_text_parse(&fv, &fd->type, t, strlen(t), &scratch, &err), &err);
				REQUIRE_OK(floe_text_append(ref, f, &fd->type, &fv, &err), &err);
			}
			REQUIRE_OK(floe_batch_builder_bytes(ref, NF + ING_META_RAW, rec, (int64_t)n, &err),
			           &err);
			REQUIRE_OK(floe_batch_builder_bytes(ref, NF + ING_META_SOURCE, m.source,
			                                    (int64_t)strlen(m.source), &err), &err);
			if (m.partition < 0)
				REQUIRE_OK(floe_batch_builder_null(ref, NF + ING_META_PARTITION, &err), &err);
			else
				REQUIRE_OK(floe_batch_builder_i32(ref, NF + ING_META_PARTITION, m.partition,
				                                  &err), &err);
			REQUIRE_OK(floe_batch_builder_i64(ref, NF + ING_META_OFFSET, m.offset, &err), &err);
			REQUIRE_OK(floe_batch_builder_i64(ref, NF + ING_META_INGEST_TIME, m.ingest_us, &err),
			           &err);
		}
		const floe_batch *want = floe_batch_builder_view(ref), *got;
		int64_t nk = 0;
		REQUIRE_OK(ice_expr_eval_batch(spec->checks[0].bound, want, pass, &err), &err);
		for (int64_t r = 0; r < want->nrows; r++)
			if (pass[r])
				idx[nk++] = (int32_t)r;
		floe_batch gathered;
		if (nk < want->nrows) {
			floe_arena_reset(arena);
			REQUIRE_OK(ice_batch_gather(arena, want, idx, nk, &gathered, &err), &err);
			gathered.schema = want->schema;
			want = &gathered;
		}
		const int64_t *ev;
		int rc = ing_decoder_take(d, NULL, &got, &ev, &err);
		REQUIRE(rc >= 0);
		want_rejects += rc;
		CHECK_EQ_INT(nk, want->nrows);
		if (round == 2 || round == 5) {
			CHECK_EQ_INT(rc, 0);
			CHECK(nk % 8 != 0);
		}
		if (round == 3)
			CHECK_EQ_INT(nk, 0);
		check_same_batch(got, want, round);
		REQUIRE(ev != NULL);
		if (got->nrows == want->nrows && nk > 0)
			CHECK(memcmp(ev, want->cols[9].values, (size_t)nk * 8) == 0);
		CHECK_EQ_INT(ing_decoder_pending(d), nk);
		ing_decoder_release(d);
		CHECK_EQ_INT(ing_decoder_pending(d), 0);
		floe_batch_builder_clear(ref);
	}
	CHECK_EQ_INT(ing_decoder_rejects(d)->nrows, want_rejects);
	free(pass);
	free(idx);
	floe_buf_free(&scratch);
	floe_arena_free(arena);
	floe_batch_builder_free(ref);
	ing_decoder_free(d);
	floe_record_spec_free(spec);
}

/* ---- the fast paths against the general ones ------------------------------- */

/* A field of a record as written: its key (JSON string text, without the
 * quotes) and value (JSON text). */
typedef struct kv {
	const char *key, *value;
} kv;

/* Keys where a record's next field usually is, that are none of the
 * spec's: prefixes, extensions, other case, empty, an escaped NUL. */
static const char *const unknown_keys[] = { "pric", "prices", "xprice", "Price", "", "a2",
	                                    "bbb", "ccc\\u0000" };
/* Values of every kind, good and bad, for any field. */
static const char *const odd_values[] = { "null", "\"x\"", "1.", "-", "01", "1e", "+1", ".5",
	                                  "{\"a\":1}", "\"A\\u0042\"", "tru", "[1,2" };

static void put(char *out, size_t *n, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put(char *out, size_t *n, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(out + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (w > 0 && (size_t)w < cap - *n)
		*n += (size_t)w;
}

/* Variant v of the record of fields f (k: the field it changes, u: which
 * unknown key or odd value): the fields in order, rotated, reversed,
 * one left out or repeated, an unknown key before one, one's key escaped,
 * renamed (its first, middle or last byte another), spaced, or one's
 * value replaced. */
enum { V_PLAIN, V_ROTATE, V_REVERSE, V_DROP, V_DUP_END, V_DUP_NEXT, V_UNKNOWN, V_ESCAPED,
       V_RENAMED, V_SPACED, V_SPACED_VALUE, V_TAB_KEY, V_NEWLINE_COLON, V_VALUE, NV };

static size_t variant(char *out, size_t cap, const kv *f, int nf, int v, int k, int u)
{
	size_t n = 0;
	put(out, &n, cap, "{");
	int first = 1;
	for (int j = 0; j < nf; j++) {
		int i = v == V_ROTATE ? (j + k) % nf : v == V_REVERSE ? nf - 1 - j : j;
		if (v == V_DROP && i == k)
			continue;
		const char *sep = first ? "" : ",";
		first = 0;
		const char *key = f[i].key, *value = f[i].value;
		if (v == V_UNKNOWN && i == k) {
			put(out, &n, cap, "%s\"%s\":1", sep, unknown_keys[u]);
			sep = ",";
		}
		if (i != k || v < V_ESCAPED) {
			put(out, &n, cap, "%s\"%s\":%s", sep, key, value);
		} else if (v == V_ESCAPED) {
			put(out, &n, cap, "%s\"\\u%04x%s\":%s", sep, (unsigned)(uint8_t)key[0], key + 1, value);
		} else if (v == V_RENAMED) {
			char other[64];
			size_t kn = strlen(key);
			snprintf(other, sizeof other, "%s", key);
			other[u == 0 ? 0 : u == 1 ? kn / 2 : kn - 1] = 'X';
			put(out, &n, cap, "%s\"%s\":%s", sep, other, value);
		} else if (v == V_SPACED) {
			put(out, &n, cap, "%s \"%s\" : %s", sep, key, value);
		} else if (v == V_SPACED_VALUE) {
			put(out, &n, cap, "%s\"%s\":  %s", sep, key, value);
		} else if (v == V_TAB_KEY) {
			put(out, &n, cap, "%s\t\"%s\":%s", sep, key, value);
		} else if (v == V_NEWLINE_COLON) {
			put(out, &n, cap, "%s\"%s\"\n:%s", sep, key, value);
		} else { /* V_VALUE */
			put(out, &n, cap, "%s\"%s\":%s", sep, key, odd_values[u]);
		}
		if (v == V_DUP_NEXT && i == k)
			put(out, &n, cap, ",\"%s\":%s", key, value);
	}
	if (v == V_DUP_END)
		put(out, &n, cap, ",\"%s\":%s", f[k].key, f[(k + 1) % nf].value);
	put(out, &n, cap, "}");
	return n;
}

/* Every variant of the record `base`, and every prefix of two of them
 * (the rest of the record still in the buffer), decoded by a decoder on
 * the fast paths and by one on the general paths: the same accepted,
 * the same rows, the same rejects with the same reasons. */
static void fast_and_general_agree(const char *spec_json, const kv *base, int nf)
{
	floe_record_spec *spec = NULL;
	floe_error err;
	REQUIRE_OK(floe_record_spec_parse(&spec, spec_json, "s.json", &err), &err);
	ing_decoder *fast = NULL, *gen = NULL;
	REQUIRE_OK(ing_decoder_new(&fast, spec, ING_NDJSON, &err), &err);
	REQUIRE_OK(ing_decoder_new(&gen, spec, ING_NDJSON, &err), &err);
	ing_decoder_set_general(gen, true);
	char rec[2048];
	int64_t off = 0, accepted = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int v = 0; v < NV; v++)
			for (int k = 0; k < nf; k++) {
				int nu = v == V_UNKNOWN ? (int)(sizeof unknown_keys / sizeof *unknown_keys)
				       : v == V_VALUE ? (int)(sizeof odd_values / sizeof *odd_values)
				       : v == V_RENAMED ? 3 : 1;
				for (int u = 0; u < nu; u++) {
					size_t n = variant(rec, sizeof rec, base, nf, v, k, u);
					size_t from = n;
					if (pass == 1 && v != V_PLAIN && v != V_SPACED)
						continue;
					if (pass == 1) /* every prefix */
						from = 0;
					for (size_t len = from; len <= n; len++) {
						ing_meta m = { "t", -1, off++, 0 };
						int a = ing_decoder_add(fast, rec, len, false, &m, false, &err);
						int b = ing_decoder_add(gen, rec, len, false, &m, false, &err);
						if (a != b)
							th_fail(__FILE__, __LINE__, "'%.*s': fast %d, general %d",
							        (int)len, rec, a, b);
						accepted += a == 0;
					}
				}
			}
	CHECK(accepted > 50);
	const floe_batch *bf, *bg;
	const int64_t *ef, *eg;
	int rf = ing_decoder_take(fast, NULL, &bf, &ef, &err);
	int rg = ing_decoder_take(gen, NULL, &bg, &eg, &err);
	CHECK_EQ_INT(rf, rg);
	check_same_batch(bf, bg, -1);
	const floe_batch *jf = ing_decoder_rejects(fast), *jg = ing_decoder_rejects(gen);
	CHECK(jf->nrows > 100);
	check_same_batch(jf, jg, -1);
	ing_decoder_free(fast);
	ing_decoder_free(gen);
	floe_record_spec_free(spec);
}

TEST(ingest_decode_key_fast_path_matches_lookup)
{
	/* keys of 8 to 16 bytes with quotes and colon (the word compare) */
	static const kv trade[] = {
		{ "trade_id", "\"T1\"" }, { "symbol", "\"AAPL\"" }, { "price", "141.5" },
		{ "volume", "300" }, { "timestamp", "\"2026-11-20T14:30:00.000355Z\"" },
		{ "trade_type", "\"BUY\"" }, { "exchange", "\"IEX\"" },
	};
	fast_and_general_agree("{\"name\":\"trades\",\"event_time\":\"timestamp\",\"fields\":"
	                       "\"trade_id string not null, symbol string not null, price double "
	                       "not null, volume long not null, timestamp timestamptz not null, "
	                       "trade_type string not null, exchange string\",\"checks\":"
	                       "[{\"check\":\"price > 0\"}]}",
	                       trade, (int)(sizeof trade / sizeof *trade));
	/* shorter and longer keys (the byte compare) */
	static const kv other[] = {
		{ "a", "1" }, { "bb", "\"x\"" }, { "a_rather_long_name", "\"y\"" }, { "ccc", "-7" },
	};
	fast_and_general_agree("{\"name\":\"k\",\"fields\":\"a long, bb string, "
	                       "a_rather_long_name string, ccc long not null\"}",
	                       other, (int)(sizeof other / sizeof *other));
}

/* Timestamps decoded on the fast path and by floe_text_parse: every byte
 * of a canonical one replaced by digits, separators and others; the
 * bounds of every part; other lengths and forms; dates back and forth
 * (the last date's day number is kept). */
TEST(ingest_decode_timestamp_fast_path_matches_parser)
{
	static const char base[] = "2026-11-20T14:30:00.000355Z";
	/* 'S', ',' and '9' xor with 'T' and 'Z', '-' and '.', ':' to at most 9:
	 * only the separator test stops them */
	static const char subst[] = "/:a -T:.Z\x7f" "059S,";
	static const char *const whole[] = {
		"2026-00-20T14:30:00.000355Z", "2026-01-20T14:30:00.000355Z",
		"2026-12-20T14:30:00.000355Z", "2026-13-20T14:30:00.000355Z",
		"2026-11-00T14:30:00.000355Z", "2026-11-01T14:30:00.000355Z",
		"2026-11-28T14:30:00.000355Z", "2026-11-29T14:30:00.000355Z",
		"2026-11-31T14:30:00.000355Z", "2026-02-29T14:30:00.000355Z",
		"2024-02-29T14:30:00.000355Z", "2026-11-20T23:59:59.999999Z",
		"2026-11-20T24:00:00.000000Z", "2026-11-20T14:60:00.000355Z",
		"2026-11-20T14:30:60.000355Z", "0000-01-01T00:00:00.000000Z",
		"1969-12-28T23:59:59.999999Z", "1970-01-01T00:00:00.000000Z",
		"9999-12-28T23:59:59.999999Z", "2026-11-20T14:30:00.000355",
		"2026-11-20T14:30:00.0003551Z", "2026-11-20T14:30:00.000355z",
		"2026-11-20T14:30:00.000355+00:00", "2026-11-20 14:30:00.000355Z",
		"2026-11-20T14:30:00Z", "2026-11-21T00:00:00.000000Z",
		"2026-11-20T14:30:00.000355Z", "2026-12-01T01:02:03.000004Z",
		"2027-12-01T01:02:03.000004Z", "2026-12-02T01:02:03.000004Z",
		"2026-11-20T14:30:00.000355Z", "",
	};
	floe_record_spec *spec = NULL;
	floe_error err;
	REQUIRE_OK(floe_record_spec_parse(&spec, "{\"name\":\"t\",\"fields\":\"ts timestamptz\"}",
	                                  "t.json", &err), &err);
	ing_decoder *fast = NULL, *gen = NULL;
	REQUIRE_OK(ing_decoder_new(&fast, spec, ING_NDJSON, &err), &err);
	REQUIRE_OK(ing_decoder_new(&gen, spec, ING_NDJSON, &err), &err);
	ing_decoder_set_general(gen, true);
	size_t nsub = sizeof subst - 1, nwhole = sizeof whole / sizeof *whole;
	int64_t accepted = 0;
	for (size_t k = 0; k < 27 * nsub + nwhole; k++) {
		char ts[40], rec[80];
		if (k < 27 * nsub) {
			memcpy(ts, base, sizeof base);
			ts[k / nsub] = subst[k % nsub];
		} else {
			snprintf(ts, sizeof ts, "%s", whole[k - 27 * nsub]);
		}
		int n = snprintf(rec, sizeof rec, "{\"ts\":\"%s\"}", ts);
		ing_meta m = { "t", -1, (int64_t)k, 0 };
		int a = ing_decoder_add(fast, rec, (size_t)n, false, &m, false, &err);
		int b = ing_decoder_add(gen, rec, (size_t)n, false, &m, false, &err);
		if (a != b)
			th_fail(__FILE__, __LINE__, "'%s': fast %d, general %d", ts, a, b);
		accepted += a == 0;
	}
	CHECK(accepted > 60);
	const floe_batch *bf, *bg;
	const int64_t *ef, *eg;
	CHECK_EQ_INT(ing_decoder_take(fast, NULL, &bf, &ef, &err), 0);
	CHECK_EQ_INT(ing_decoder_take(gen, NULL, &bg, &eg, &err), 0);
	check_same_batch(bf, bg, -1);
	CHECK(ing_decoder_rejects(fast)->nrows > 200);
	check_same_batch(ing_decoder_rejects(fast), ing_decoder_rejects(gen), -1);
	ing_decoder_free(fast);
	ing_decoder_free(gen);
	floe_record_spec_free(spec);
}

/* A record's UTF-8 check (32 ASCII bytes at a time, then 8, then one):
 * good and bad sequences at every position of a long string, each
 * accepted or rejected at its first byte. */
TEST(ingest_decode_utf8_at_every_position)
{
	static const struct {
		const char *bytes;
		bool ok;
	} seqs[] = {
		{ "\xff", false },             { "\xc3\xa9", true },
		{ "\xe2\x82x", false },        /* cut short */
		{ "\xed\xa0\x80", false },     /* a surrogate */
		{ "\xf0\x9f\x98\x80", true },  { "\xc0\xaf", false }, /* overlong */
		{ "\x80", false },
	};
	static const char text[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                           "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN";
	floe_record_spec *spec = NULL;
	floe_error err;
	REQUIRE_OK(floe_record_spec_parse(&spec, "{\"name\":\"u\",\"fields\":\"s string\"}",
	                                  "u.json", &err), &err);
	ing_decoder *d = NULL;
	REQUIRE_OK(ing_decoder_new(&d, spec, ING_NDJSON, &err), &err);
	ing_meta m = { "u", -1, 0, 0 };
	char want[64][FLOE_ERROR_MSG_MAX];
	int nbad = 0, ngood = 0, len = (int)sizeof text - 1;
	for (int tl = 0; tl <= len; tl++) { /* ASCII only, every length, no byte past the end read */
		char rec[256];
		int n = snprintf(rec, sizeof rec, "{\"s\":\"%.*s\"}", tl, text);
		char *exact = malloc((size_t)n);
		REQUIRE(exact);
		memcpy(exact, rec, (size_t)n);
		CHECK_EQ_INT(ing_decoder_add(d, exact, (size_t)n, false, &m, false, &err), 0);
		free(exact);
		ngood++;
	}
	for (size_t q = 0; q < sizeof seqs / sizeof *seqs; q++)
		for (int at = 0; at <= len; at++) {
			char rec[256];
			int n = snprintf(rec, sizeof rec, "{\"s\":\"%.*s%s%s\"}", at, text, seqs[q].bytes,
			                 text + at);
			char *exact = malloc((size_t)n);
			REQUIRE(exact);
			memcpy(exact, rec, (size_t)n);
			int rc = ing_decoder_add(d, exact, (size_t)n, false, &m, false, &err);
			free(exact);
			REQUIRE(rc >= 0);
			CHECK_EQ_INT(rc, seqs[q].ok ? 0 : 1);
			ngood += rc == 0;
			if (rc == 1) {
				if (nbad < 64)
					snprintf(want[nbad], sizeof want[0], "not valid UTF-8 at byte %d", 6 + at);
				nbad++;
			}
			if (nbad == 64 || (q + 1 == sizeof seqs / sizeof *seqs && at == len)) {
				const floe_batch *rj = ing_decoder_rejects(d);
				const floe_column *rc_reason = &rj->cols[ING_Q_REASON];
				for (int64_t r = 0; r < rj->nrows && r < 64; r++) {
					const char *got = (const char *)rc_reason->data + rc_reason->offsets[r];
					size_t gl = (size_t)(rc_reason->offsets[r + 1] - rc_reason->offsets[r]);
					if (gl != strlen(want[r]) || memcmp(got, want[r], gl) != 0)
						th_fail(__FILE__, __LINE__, "got '%.*s', want '%s'", (int)gl, got,
						        want[r]);
				}
				ing_decoder_clear_rejects(d);
				nbad = 0;
			}
		}
	CHECK_EQ_INT(ing_decoder_pending(d), ngood);
	ing_decoder_free(d);
	floe_record_spec_free(spec);
}

/* Space, tab, CR, LF and a run of all four between every two tokens of a
 * record (skip_ws returns at once on a byte above ' '): the same fields
 * as the record without; a control character there is rejected. */
TEST(ingest_decode_spaces_between_tokens)
{
	static const char *const parts[] = { "{", "\"a\"", ":", "1", ",", "\"b\"", ":", "\"x y\"",
		                             ",", "\"e\"", ":", "[1, {\"f\": 2}]", ",", "\"d\"",
		                             ":", "null", "}" };
	static const char *const spaces[] = { " ", "\t", "\r", "\n", " \t\r\n ", "\x01", "\x1f" };
	enum { NP = sizeof parts / sizeof *parts, NS = sizeof spaces / sizeof *spaces };
	floe_record_spec *spec = NULL;
	floe_error err;
	REQUIRE_OK(floe_record_spec_parse(&spec, "{\"name\":\"w\",\"fields\":\"a long, b string, "
	                                  "c string, d long\"}", "w.json", &err), &err);
	ing_decoder *plain = NULL, *spaced = NULL;
	REQUIRE_OK(ing_decoder_new(&plain, spec, ING_NDJSON, &err), &err);
	REQUIRE_OK(ing_decoder_new(&spaced, spec, ING_NDJSON, &err), &err);
	ing_meta m = { "w", -1, 0, 0 };
	for (int at = 0; at <= NP; at++)
		for (int k = 0; k < NS; k++) {
			char rec[256];
			size_t n = 0;
			for (int i = 0; i <= NP; i++) {
				if (i == at)
					n += (size_t)snprintf(rec + n, sizeof rec - n, "%s", spaces[k]);
				if (i < NP)
					n += (size_t)snprintf(rec + n, sizeof rec - n, "%s", parts[i]);
			}
			bool control = spaces[k][0] == '\x01' || spaces[k][0] == '\x1f';
			int rc = ing_decoder_add(spaced, rec, n, false, &m, false, &err);
			if (rc != (control ? 1 : 0))
				th_fail(__FILE__, __LINE__, "'%s': %d", rec, rc);
			if (control)
				continue;
			n = 0;
			for (int i = 0; i < NP; i++)
				n += (size_t)snprintf(rec + n, sizeof rec - n, "%s", parts[i]);
			CHECK_EQ_INT(ing_decoder_add(plain, rec, n, false, &m, false, &err), 0);
		}
	const floe_batch *bp, *bs;
	const int64_t *ep, *es;
	CHECK_EQ_INT(ing_decoder_take(plain, NULL, &bp, &ep, &err), 0);
	CHECK_EQ_INT(ing_decoder_take(spaced, NULL, &bs, &es, &err), 0);
	CHECK(bp->nrows > 50);
	floe_batch fp = *bp, fs = *bs; /* the fields, not the raw records */
	fp.ncols = fs.ncols = spec->fields->nfields;
	check_same_batch(&fs, &fp, -1);
	ing_decoder_free(plain);
	ing_decoder_free(spaced);
	floe_record_spec_free(spec);
}
