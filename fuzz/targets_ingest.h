/* fuzz/targets_ingest.h - body of the ingest record fuzz target, shared by
 * fuzz/fuzz_ingest_record.c and tests/ingest/test_fuzz_regressions_ingest.c:
 * the bytes as NDJSON records and as a CSV file (first line the header)
 * through the decoder with the built-in trades spec, and as a saved source
 * position. */
#ifndef FLOE_FUZZ_TARGETS_INGEST_H
#define FLOE_FUZZ_TARGETS_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "floe/ingest.h"
#include "ingest/ingest_int.h"

typedef struct fti_result {
	const char *bug; /* an invariant that failed, or NULL */
	floe_error err;
} fti_result;

/* Decode every line (or CSV row) of data; each must be accepted or
 * rejected with a reason, never an error, and the accepted rows' _raw must
 * be the line. */
static inline void fti_decode(const uint8_t *data, size_t size, ing_format fmt,
                              const floe_record_spec *spec, fti_result *res)
{
	ing_decoder *d = NULL;
	floe_error err;
	if (ing_decoder_new(&d, spec, fmt, &err))
		return;
	ing_meta m = { "fuzz", -1, 0, 0 };
	size_t at = 0;
	int64_t accepted = 0, rejected = 0, lines = 0;
	bool header = fmt == ING_CSV;
	while (at < size && lines < 10000) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t end = nl ? (size_t)(nl - data) : size;
		m.offset = (int64_t)at;
		int rc = ing_decoder_add(d, (const char *)data + at, end - at, header, &m, false, &err);
		if (rc < 0) {
			res->bug = "ing_decoder_add failed on input bytes";
			res->err = err;
			break;
		}
		if (rc == 1)
			rejected++;
		else if (!header)
			accepted++;
		lines++;
		header = false;
		at = end + 1;
		if (ing_decoder_pending(d) >= 64 || at >= size) {
			const floe_batch *b;
			const int64_t *ev;
			int n = ing_decoder_take(d, NULL, &b, &ev, &err);
			if (n < 0) {
				res->bug = "ing_decoder_take failed";
				res->err = err;
				break;
			}
			rejected += n;
			accepted -= n;
			/* every passing row still carries its raw line */
			const floe_column *raw = &b->cols[spec->fields->nfields + ING_META_RAW];
			for (int64_t r = 0; r < b->nrows; r++)
				if (raw->offsets[r + 1] < raw->offsets[r]) {
					res->bug = "bad _raw offsets";
					break;
				}
			ing_decoder_release(d);
		}
	}
	const floe_batch *rej = ing_decoder_rejects(d);
	if (!res->bug && rej->nrows != rejected) {
		res->bug = "rejects counted and rejects kept differ";
		memset(&res->err, 0, sizeof res->err);
	}
	for (int64_t r = 0; !res->bug && r < rej->nrows; r++) {
		const floe_column *why = &rej->cols[ING_Q_REASON];
		if (why->offsets[r + 1] == why->offsets[r]) {
			res->bug = "a reject without a reason";
			memset(&res->err, 0, sizeof res->err);
		}
	}
	(void)accepted;
	ing_decoder_free(d);
}

static inline void fti_ingest(const uint8_t *data, size_t size, fti_result *res)
{
	memset(res, 0, sizeof *res);
	floe_record_spec *spec = NULL;
	floe_error err;
	if (floe_record_spec_builtin(&spec, "trades", &err))
		return;
	fti_decode(data, size, ING_NDJSON, spec, res);
	if (!res->bug)
		fti_decode(data, size, ING_CSV, spec, res);
	floe_record_spec_free(spec);
	/* the bytes as a saved position: parse, and what parses formats and
	 * parses to the same */
	char *text = malloc(size + 1);
	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = 0;
	ing_pos p, q;
	ing_pos_init(&p);
	ing_pos_init(&q);
	if (!res->bug && ing_pos_parse(&p, text, &err) == 0) {
		floe_buf b = { 0 }, b2 = { 0 };
		if (ing_pos_format(&p, &b) == 0 && floe_buf_putc(&b, 0) == 0) {
			if (ing_pos_parse(&q, (const char *)b.data, &err) != 0 ||
			    ing_pos_format(&q, &b2) != 0 || b2.len + 1 != b.len ||
			    memcmp(b.data, b2.data, b2.len) != 0)
				res->bug = "a position does not survive format -> parse -> format";
		}
		floe_buf_free(&b);
		floe_buf_free(&b2);
	}
	ing_pos_free(&p);
	ing_pos_free(&q);
	free(text);
}

#endif
