/* tests/ingest/test_decode.c - the NDJSON decoder's strings: every length
 * around the decoder's eight-byte scanning, with a quote, a backslash
 * escape, a \u escape, raw UTF-8 or a raw control character at every
 * position, decoded to the expected text or rejected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/ingest.h"
#include "harness.h"
#include "ingest/ingest_int.h"

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
