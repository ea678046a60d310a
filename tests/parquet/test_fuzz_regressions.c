/* Replays fuzz findings (fuzz/regressions/) and damaged copies of real files
 * through the reader the way fuzz/fuzz_parquet_reader.c does. */
#include <stdlib.h>
#include <string.h>

#include "floe/parquet.h"
#include "harness.h"

/* Errors hostile bytes may produce: anything else (or a crash, which fails
 * the forked test) is a bug. */
static bool allowed_error(int rc, const floe_error *err)
{
	if (rc != FLOE_ECORRUPT && rc != FLOE_EUNSUPPORTED)
		return false;
	if (err->msg[0] == '\0')
		return false;
	return rc != FLOE_ECORRUPT || strstr(err->msg, "corrupt") != NULL;
}

static int drain(floe_parquet_scan *s, floe_error *err)
{
	const floe_batch *b;
	int rc;
	volatile uint64_t sink = 0;

	while ((rc = floe_parquet_scan_next(s, &b, err)) == 1) {
		for (int c = 0; c < b->ncols; c++) {
			const floe_column *col = &b->cols[c];
			int w = floe_type_value_width(&col->type);
			for (int64_t i = 0; i < b->nrows; i++) {
				if (!floe_column_is_valid(col, i))
					continue;
				if (floe_type_is_variable(&col->type)) {
					for (int64_t k = col->offsets[i]; k < col->offsets[i + 1]; k++)
						sink += col->data[k];
				} else if (w > 0) {
					sink += ((const uint8_t *)col->values)[i * w + w - 1];
				}
			}
		}
	}
	(void)sink;
	return rc;
}

/* Open, describe, full scan, then one predicate scan per column (the fuzz
 * target's sequence). Returns 0 or the first error of open/describe/full
 * scan; a bad error code is reported as a failure naming `name`. */
static int replay(const uint8_t *buf, size_t len, const char *name)
{
	floe_parquet_reader *r = NULL;
	floe_parquet_scan *s = NULL;
	floe_error err;
	char *json = NULL;
	int rc, first = 0;

	rc = floe_parquet_reader_open_memory(&r, buf, len, name, &err);
	if (rc != 0) {
		if (!allowed_error(rc, &err))
			th_fail(__FILE__, __LINE__, "%s: open -> %d: %s", name, rc, err.msg);
		return rc;
	}
	rc = floe_parquet_reader_describe(&json, r, &err);
	free(json);
	if (rc != 0) {
		if (!allowed_error(rc, &err))
			th_fail(__FILE__, __LINE__, "%s: describe -> %d: %s", name, rc, err.msg);
		first = rc;
	}
	floe_parquet_scan_options o;
	floe_parquet_scan_options_init(&o);
	o.batch_rows = 1000;
	rc = floe_parquet_scan_open(&s, r, &o, &err);
	if (rc == 0)
		rc = drain(s, &err);
	floe_parquet_scan_free(s);
	s = NULL;
	if (rc < 0) {
		if (!allowed_error(rc, &err))
			th_fail(__FILE__, __LINE__, "%s: scan -> %d: %s", name, rc, err.msg);
		if (!first)
			first = rc;
	}
	const floe_schema *sc = floe_parquet_reader_schema(r);
	for (int i = 0; sc && i < sc->nfields && i < 8; i++) {
		static const uint8_t lit[1] = { 'm' };
		floe_value v[2];
		memset(v, 0, sizeof(v));
		v[0].i = (int64_t)len / 2;
		v[0].d = 0.5;
		v[0].bytes = lit;
		v[0].len = sc->fields[i].type.width > 0 ? 0 : 1;
		v[1] = v[0];
		floe_parquet_predicate p;
		memset(&p, 0, sizeof(p));
		p.column = sc->fields[i].name;
		p.op = (floe_parquet_op)(FLOE_PARQUET_EQ + i % 7);
		p.values = v;
		p.nvalues = p.op == FLOE_PARQUET_IN ? 2 : p.op == FLOE_PARQUET_IS_NULL ? 0 : 1;
		o.predicates = &p;
		o.npredicates = 1;
		o.filter_rows = (i & 2) != 0;
		/* no crash and no leak is the requirement here; literals may not
		 * suit the column, so EINVALID is acceptable too */
		if (floe_parquet_scan_open(&s, r, &o, &err) == 0)
			rc = drain(s, &err);
		floe_parquet_scan_free(s);
		s = NULL;
	}
	floe_parquet_reader_free(r);
	return first;
}

static bool has_magic(const uint8_t *b, size_t n)
{
	return n >= 12 && memcmp(b, "PAR1", 4) == 0 && memcmp(b + n - 4, "PAR1", 4) == 0;
}

static void replay_file(void *ctx, const uint8_t *p, size_t len, const char *name)
{
	bool need_error = *(const bool *)ctx;
	int rc = replay(p, len, name);
	if (!has_magic(p, len) && rc != FLOE_ECORRUPT)
		th_fail(__FILE__, __LINE__, "%s: no PAR1 magic but replay -> %d", name, rc);
	if (need_error && rc == 0)
		th_fail(__FILE__, __LINE__, "%s: expected an error", name);
}

static int replay_dir(const char *dir, bool need_error)
{
	return th_each_file(dir, replay_file, &need_error);
}

TEST(pq_fuzz_regressions_replay)
{
	/* tests run from the repository root */
	int files = replay_dir("fuzz/regressions", false);
	CHECK(files > 0);
}

TEST(pq_fuzz_bad_data_replay)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/testdata/parquet-testing/bad_data", th_shared());
	int files = replay_dir(dir, false);
	CHECK(files > 0);
}

TEST(pq_fuzz_damaged_alltypes_plain)
{
	char path[1024];
	size_t len;
	snprintf(path, sizeof(path), "%s/testdata/parquet-testing/data/alltypes_plain.parquet",
	         th_shared());
	char *buf = th_read_file(path, &len);
	REQUIRE(buf != NULL && len > 64);

	/* the intact file reads */
	uint8_t *copy = malloc(len);
	REQUIRE(copy != NULL);
	memcpy(copy, buf, len);
	CHECK_EQ_INT(replay(copy, len, "intact"), 0);

	/* every truncation loses the trailing magic or footer: ECORRUPT at open */
	for (size_t cut = 0; cut < len; cut += (cut < 16 || len - cut < 300) ? 1 : 97) {
		floe_parquet_reader *r = NULL;
		floe_error err;
		uint8_t *t = malloc(cut ? cut : 1);
		REQUIRE(t != NULL);
		memcpy(t, buf, cut);
		int rc = floe_parquet_reader_open_memory(&r, t, cut, "cut", &err);
		if (rc != FLOE_ECORRUPT)
			th_fail(__FILE__, __LINE__, "truncated to %zu: open -> %d", cut, rc);
		floe_parquet_reader_free(r);
		free(t);
	}

	/* byte flips over the footer and the pages: no crash, only allowed errors */
	uint32_t seed = 12345;
	for (int k = 0; k < 400; k++) {
		memcpy(copy, buf, len);
		for (int j = 0; j < 1 + k % 4; j++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (k & 1) ? len - 8 - (seed >> 8) % (len < 300 ? len - 8 : 300)
			                    : (seed >> 8) % len;
			copy[at] ^= (uint8_t)(1u << ((seed >> 4) & 7));
		}
		replay(copy, len, "flipped");
	}
	free(copy);
	free(buf);
}

/* Copy the row groups of `buf` (when floe_parquet_can_copy agrees) into a
 * new file at `out`: 0, or an error hostile bytes may produce. */
static int copy_replay(const uint8_t *buf, size_t len, const floe_schema *s,
                       const floe_parquet_write_options *wo, const char *out, const char *name)
{
	floe_parquet_reader *r = NULL;
	floe_error err;
	int rc = floe_parquet_reader_open_memory(&r, buf, len, name, &err);
	if (rc != 0) {
		if (!allowed_error(rc, &err))
			th_fail(__FILE__, __LINE__, "%s: open -> %d: %s", name, rc, err.msg);
		return rc;
	}
	if (floe_parquet_can_copy(r, s, wo, 0, NULL)) {
		floe_parquet_writer *w;
		if ((rc = floe_parquet_writer_open(&w, out, s, wo, &err)) != 0)
			th_fail(__FILE__, __LINE__, "%s: writer -> %d: %s", name, rc, err.msg);
		else if ((rc = floe_parquet_writer_copy(w, r, &err)) != 0)
			floe_parquet_writer_abort(w);
		else
			rc = floe_parquet_writer_close(w, NULL, &err);
		if (rc != 0 && !allowed_error(rc, &err))
			th_fail(__FILE__, __LINE__, "%s: copy -> %d: %s", name, rc, err.msg);
	} else {
		rc = FLOE_EUNSUPPORTED;
	}
	floe_parquet_reader_free(r);
	return rc;
}

/* A file floe wrote (field ids, page index, a Bloom filter) with bytes
 * flipped over its pages, indexes and footer: copying its row groups into
 * a new file ends cleanly or in a corrupt-file error, never a crash; what
 * it writes opens and checks or is reported corrupt. */
TEST(pq_fuzz_damaged_files_copy_cleanly)
{
	floe_arena *a = floe_arena_new(0);
	floe_schema *s;
	floe_error err;
	REQUIRE_OK(floe_schema_parse(&s, "id long not null, sym string, px double", a, &err), &err);
	for (int i = 0; i < s->nfields; i++)
		s->fields[i].field_id = i + 1;
	floe_parquet_write_options wo;
	floe_parquet_write_options_init(&wo);
	wo.fsync = false;
	wo.page_bytes = 2048; /* several pages per chunk */
	static const char *const bloom[1] = { "sym" };
	wo.bloom_columns = bloom;
	wo.nbloom_columns = 1;
	floe_batch_builder *b;
	REQUIRE_OK(floe_batch_builder_new(&b, s, &err), &err);
	for (int r = 0; r < 3000; r++) {
		char t[16];
		int n = snprintf(t, sizeof t, "S%d", r % 37);
		floe_batch_builder_i64(b, 0, r, &err);
		if (r % 11 == 0)
			floe_batch_builder_null(b, 1, &err);
		else
			floe_batch_builder_bytes(b, 1, t, n, &err);
		floe_batch_builder_f64(b, 2, r * 0.5, &err);
	}
	char src[1024], out[1024];
	snprintf(src, sizeof src, "%s", th_path("src.parquet"));
	snprintf(out, sizeof out, "%s", th_path("out.parquet"));
	floe_parquet_writer *w;
	REQUIRE_OK(floe_parquet_writer_open(&w, src, s, &wo, &err), &err);
	REQUIRE_OK(floe_parquet_writer_write(w, floe_batch_builder_view(b), &err), &err);
	REQUIRE_OK(floe_parquet_writer_flush_row_group(w, &err), &err);
	REQUIRE_OK(floe_parquet_writer_write(w, floe_batch_builder_view(b), &err), &err);
	REQUIRE_OK(floe_parquet_writer_close(w, NULL, &err), &err);
	size_t len;
	char *buf = th_read_file(src, &len);
	REQUIRE(buf && len > 256);
	/* intact: copied, and the copy checks */
	CHECK_EQ_INT(copy_replay((const uint8_t *)buf, len, s, &wo, out, "intact"), 0);
	floe_parquet_reader *r;
	REQUIRE_OK(floe_parquet_reader_open(&r, out, &err), &err);
	CHECK_OK(floe_parquet_reader_verify(r, &err), &err);
	CHECK_EQ_INT(floe_parquet_reader_num_rows(r), 6000);
	floe_parquet_reader_free(r);
	uint8_t *copy = malloc(len);
	REQUIRE(copy);
	uint32_t seed = 777;
	int copied = 0;
	for (int k = 0; k < 300; k++) {
		memcpy(copy, buf, len);
		for (int j = 0; j < 1 + k % 3; j++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = 4 + (seed >> 8) % (len - 12);
			copy[at] ^= (uint8_t)(1u << ((seed >> 4) & 7));
		}
		if (copy_replay(copy, len, s, &wo, out, "flipped") != 0)
			continue;
		copied++;
		/* what was written: opens, and its check passes or names corruption */
		if (floe_parquet_reader_open(&r, out, &err) != 0) {
			th_fail(__FILE__, __LINE__, "flip %d: the copy does not open: %s", k, err.msg);
			continue;
		}
		int rc = floe_parquet_reader_verify(r, &err);
		if (rc != 0 && !allowed_error(rc, &err))
			th_fail(__FILE__, __LINE__, "flip %d: verify of the copy -> %d: %s", k, rc, err.msg);
		floe_parquet_reader_free(r);
	}
	CHECK(copied > 0); /* flips inside page bodies leave the structure intact */
	free(copy);
	free(buf);
	floe_batch_builder_free(b);
	floe_arena_free(a);
}
