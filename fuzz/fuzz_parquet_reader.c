/* fuzz_parquet_reader - libFuzzer target for the Parquet reader: open from
 * memory, describe, scan every column without and with predicates, probe
 * the Bloom filters, copy the row groups into a new file. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floe/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Caps keep one input's work bounded (libFuzzer's -timeout catches the rest). */
#define FUZZ_MAX_PRED_COLS 8
#define FUZZ_MAX_BATCHES 4096

/* Drain a scan, touching every value so the sanitizers see each byte. */
static void drain(floe_parquet_scan *s)
{
	const floe_batch *b;
	floe_error err;
	volatile uint64_t sink = 0;

	for (int n = 0; n < FUZZ_MAX_BATCHES; n++) {
		if (floe_parquet_scan_next(s, &b, &err) != 1)
			break;
		for (int c = 0; c < b->ncols; c++) {
			const floe_column *col = &b->cols[c];
			int w = floe_type_value_width(&col->type);
			for (int64_t i = 0; i < b->nrows; i++) {
				if (!floe_column_is_valid(col, i))
					continue;
				if (floe_type_is_variable(&col->type)) {
					int64_t a = col->offsets[i], e = col->offsets[i + 1];
					for (int64_t k = a; k < e; k++)
						sink += col->data[k];
				} else if (w > 0) {
					const uint8_t *v = (const uint8_t *)col->values + i * w;
					for (int k = 0; k < w; k++)
						sink += v[k];
				}
			}
		}
	}
	floe_parquet_scan_stats st;
	floe_parquet_scan_get_stats(s, &st);
	sink += (uint64_t)st.rows_returned;
	(void)sink;
}

static void scan_with(floe_parquet_reader *r, const floe_parquet_scan_options *o)
{
	floe_parquet_scan *s = NULL;
	floe_error err;

	if (floe_parquet_scan_open(&s, r, o, &err) == 0)
		drain(s);
	floe_parquet_scan_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	floe_parquet_reader *r = NULL;
	floe_error err;
	char *json = NULL;

	if (floe_parquet_reader_open_memory(&r, data, size, "fuzz", &err) != 0)
		return 0;
	(void)floe_parquet_reader_num_rows(r);
	(void)floe_parquet_reader_num_row_groups(r);
	(void)floe_parquet_reader_kv(r, "ARROW:schema");
	if (floe_parquet_reader_describe(&json, r, &err) == 0)
		free(json);

	floe_parquet_scan_options o;
	floe_parquet_scan_options_init(&o);
	o.batch_rows = 1000;
	scan_with(r, &o); /* every column, no predicate */

	/* every column again, with a predicate on one column at a time; the
	 * operator and literal vary with the column so all skip paths run */
	const floe_schema *sc = floe_parquet_reader_schema(r);
	int n = sc ? sc->nfields : 0;
	if (n > FUZZ_MAX_PRED_COLS)
		n = FUZZ_MAX_PRED_COLS;
	static const uint8_t lit_bytes[4] = { 'm', 0, 0, 0 };
	for (int i = 0; i < n; i++) {
		floe_value v[2];
		memset(v, 0, sizeof(v));
		v[0].i = (int64_t)size / 2;
		v[0].d = 0.5;
		v[0].b = true;
		v[0].bytes = lit_bytes;
		v[0].len = sc->fields[i].type.width > 0 ? 0 : 1;
		if (sc->fields[i].type.width > 0 && sc->fields[i].type.width <= 4)
			v[0].len = sc->fields[i].type.width;
		v[1] = v[0];
		v[1].i = 0;
		floe_parquet_predicate p;
		memset(&p, 0, sizeof(p));
		p.column = sc->fields[i].name;
		p.field_id = sc->fields[i].field_id;
		p.op = (floe_parquet_op)(FLOE_PARQUET_EQ + i % 7);
		p.values = v;
		p.nvalues = p.op == FLOE_PARQUET_IN ? 2 : p.op == FLOE_PARQUET_IS_NULL ? 0 : 1;
		o.predicates = &p;
		o.npredicates = 1;
		o.filter_rows = (i & 2) != 0; /* rows compared too, late */
		scan_with(r, &o);
		/* projection of that column alone, by field id */
		floe_parquet_scan_options po;
		floe_parquet_scan_options_init(&po);
		po.field_ids = &sc->fields[i].field_id;
		po.nfield_ids = 1;
		po.predicates = &p;
		po.npredicates = 1;
		po.verify_crc = (i & 1) == 0;
		po.filter_rows = true;
		scan_with(r, &po);
	}
	/* Bloom filters: probe and load every chunk's (hostile offsets and
	 * headers must be clean errors) */
	int nrg = floe_parquet_reader_num_row_groups(r);
	for (int g = 0; g < nrg && g < 8; g++)
		for (int i = 0; i < sc->nfields && i < 16; i++) {
			floe_value v;
			memset(&v, 0, sizeof v);
			v.bytes = (const uint8_t *)"m";
			v.len = 1;
			bool maybe;
			(void)floe_parquet_reader_bloom_probe(r, g, i, &v, &maybe, &err);
			uint8_t *bits = NULL;
			uint32_t nb;
			if (floe_parquet_reader_bloom_load(r, g, i, &bits, &nb, &err) == 0 && bits)
				(void)floe_parquet_bloom_check(bits, nb, "m", 1);
			free(bits);
		}
	/* the row groups copied as they are into a file of the reader's own
	 * schema, under the first codec the copy accepts (hostile offsets,
	 * page headers and indexes must be clean errors) */
	static const floe_parquet_codec codecs[] = { FLOE_PARQUET_ZSTD, FLOE_PARQUET_SNAPPY,
		                                     FLOE_PARQUET_UNCOMPRESSED };
	for (size_t k = 0; sc && sc->nfields > 0 && k < sizeof codecs / sizeof *codecs; k++) {
		floe_parquet_write_options wo;
		floe_parquet_write_options_init(&wo);
		wo.codec = codecs[k];
		wo.fsync = false;
		if (!floe_parquet_can_copy(r, sc, &wo, 0, NULL))
			continue;
		char path[64];
		snprintf(path, sizeof path, "/tmp/fuzz-parquet-copy-%d.parquet", (int)getpid());
		floe_parquet_writer *w = NULL;
		if (floe_parquet_writer_open(&w, path, sc, &wo, &err) == 0) {
			if (floe_parquet_writer_copy(w, r, &err) != 0)
				floe_parquet_writer_abort(w);
			else if (floe_parquet_writer_close(w, NULL, &err) == 0)
				unlink(path);
		}
		break;
	}
	floe_parquet_reader_free(r);
	return 0;
}
