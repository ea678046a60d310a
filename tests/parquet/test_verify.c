/* tests/parquet/test_verify.c - floe_parquet_reader_verify over the
 * parquet-testing corpus (data and bad_data), files floe writes, a flipped
 * level byte, and the `floe parquet verify` command. */
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_run.h"
#include "floe/arena.h"
#include "floe/batch.h"
#include "floe/parquet.h"
#include "harness.h"
#include "parquet/meta.h"
#include "parquet/reader_int.h"

typedef struct vlist {
	char **v;
	int n, cap;
} vlist;

/* Every *.parquet under `dir`, recursively (*.parquet.encrypted do not end
 * in .parquet). */
static void walk(vlist *l, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d || depth > 8) {
		if (d)
			closedir(d);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char p[4096];
		struct stat st;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (stat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(l, p, depth + 1);
			continue;
		}
		size_t n = strlen(p);
		if (n < 8 || strcmp(p + n - 8, ".parquet") != 0)
			continue;
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 64;
			l->v = realloc(l->v, (size_t)l->cap * sizeof(char *));
			REQUIRE(l->v != NULL);
		}
		l->v[l->n++] = strdup(p);
	}
	closedir(d);
}

static void vlist_free(vlist *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* A full scan of the flat columns: 0 or the error code. */
static int scan_all(floe_parquet_reader *r, floe_error *err)
{
	floe_parquet_scan *s = NULL;
	floe_parquet_scan_options o;
	const floe_batch *b;
	floe_parquet_scan_options_init(&o);
	int rc = floe_parquet_scan_open(&s, r, &o, err);
	while (rc == 0 && (rc = floe_parquet_scan_next(s, &b, err)) == 1)
		rc = 0;
	floe_parquet_scan_free(s);
	return rc;
}

/* verify of `path` (opened from the file); *opened = the open succeeded. */
static int verify_path(const char *path, bool *opened, floe_error *err)
{
	floe_parquet_reader *r = NULL;
	int rc = floe_parquet_reader_open(&r, path, err);
	*opened = rc == 0;
	if (rc == 0)
		rc = floe_parquet_reader_verify(r, err);
	floe_parquet_reader_free(r);
	return rc;
}

TEST(pq_verify_corpus_data)
{
	char dir[4096];
	vlist l = { 0 };
	snprintf(dir, sizeof dir, "%s/testdata/parquet-testing/data", th_shared());
	walk(&l, dir, 0);
	CHECK(l.n > 50);
	int ok = 0, nested_ok = 0;
	for (int i = 0; i < l.n; i++) {
		const char *name = base(l.v[i]);
		floe_error err = { 0 };
		floe_parquet_reader *r = NULL;
		bool opened;
		if (strcmp(name, "datapage_v1-corrupt-checksum.parquet") == 0 ||
		    strcmp(name, "rle-dict-uncompressed-corrupt-checksum.parquet") == 0) {
			int rc = verify_path(l.v[i], &opened, &err);
			if (rc != FLOE_ECORRUPT || !strstr(err.msg, "CRC"))
				th_fail(__FILE__, __LINE__, "%s: want a CRC error, got %d: %s", name, rc, err.msg);
			continue;
		}
		/* files floe reads: the footer opens and the flat columns scan */
		if (floe_parquet_reader_open(&r, l.v[i], &err) != 0)
			continue;
		int nflat = floe_parquet_reader_schema(r)->nfields;
		bool nested = r->nchunks > nflat;
		int src = scan_all(r, &err);
		int64_t pages = -1;
		int rc = pq_reader_verify(r, &pages, &err);
		if (src < 0) {
			/* what a scan rejects, verify rejects too */
			if (rc != src)
				th_fail(__FILE__, __LINE__, "%s: scan fails with %d but verify gives %d: %s", name, src, rc,
				        err.msg);
		} else if (rc == FLOE_EUNSUPPORTED && strcmp(name, "large_string_map.brotli.parquet") == 0) {
			/* a single page above the 1 GiB decode limit */
			CHECK(strstr(err.msg, "limit") != NULL);
		} else if (rc != 0) {
			th_fail(__FILE__, __LINE__, "%s: verify: %d: %s", name, rc, err.msg);
		} else {
			ok++;
			nested_ok += nested;
			if (floe_parquet_reader_num_rows(r) > 0 && r->nchunks > 0 && pages <= 0)
				th_fail(__FILE__, __LINE__, "%s: %lld rows but %lld pages checked", name,
				        (long long)floe_parquet_reader_num_rows(r), (long long)pages);
		}
		floe_parquet_reader_free(r);
	}
	CHECK(ok > 50);
	CHECK(nested_ok > 5); /* nested leaves are walked, not skipped */
	printf("  verify: %d files ok (%d with nested columns)\n", ok, nested_ok);
	vlist_free(&l);
}

TEST(pq_verify_bad_data)
{
	char dir[4096];
	vlist l = { 0 };
	snprintf(dir, sizeof dir, "%s/testdata/parquet-testing/bad_data", th_shared());
	walk(&l, dir, 0);
	CHECK(l.n >= 5);
	bool seen45185 = false, seen6229 = false;
	for (int i = 0; i < l.n; i++) {
		const char *name = base(l.v[i]);
		floe_error err = { 0 };
		bool opened;
		int rc = verify_path(l.v[i], &opened, &err);
		if (strcmp(name, "ARROW-GH-43605.parquet") == 0)
			continue; /* some readers accept it: either outcome, no crash */
		if (rc != FLOE_ECORRUPT && rc != FLOE_EUNSUPPORTED)
			th_fail(__FILE__, __LINE__, "%s: verify gives %d, want corrupt: %s", name, rc, err.msg);
		else if (!err.msg[0])
			th_fail(__FILE__, __LINE__, "%s: error %d without a message", name, rc);
		else if (rc == FLOE_ECORRUPT && (!strstr(err.msg, name) || !strstr(err.msg, "corrupt at byte")))
			th_fail(__FILE__, __LINE__, "%s: message does not locate the damage: %s", name, err.msg);
		if (strcmp(name, "ARROW-GH-45185.parquet") == 0) {
			seen45185 = true;
			CHECK(opened);
			CHECK_EQ_INT(rc, FLOE_ECORRUPT);
			CHECK(strstr(err.msg, "repetition level") != NULL);
		}
		if (strcmp(name, "ARROW-RS-GH-6229-LEVELS.parquet") == 0) {
			seen6229 = true;
			CHECK(opened);
			CHECK_EQ_INT(rc, FLOE_ECORRUPT);
		}
	}
	CHECK(seen45185);
	CHECK(seen6229);
	vlist_free(&l);
}

/* Rows of "id long not null, s string, d double" with nulls and repeats. */
static void write_rows(const char *path, const floe_parquet_write_options *wo, int64_t nrows)
{
	floe_arena *arena = floe_arena_new(0);
	floe_schema *schema = NULL;
	floe_batch_builder *bld = NULL;
	floe_parquet_writer *w = NULL;
	floe_error err = { 0 }, *ep = &err;
	char text[32];
	REQUIRE(arena != NULL);
	REQUIRE_OK(floe_schema_parse(&schema, "id long not null, s string, d double", arena, ep), ep);
	REQUIRE_OK(floe_parquet_writer_open(&w, path, schema, wo, ep), ep);
	REQUIRE_OK(floe_batch_builder_new(&bld, schema, ep), ep);
	for (int64_t row = 0; row < nrows; row++) {
		int n = snprintf(text, sizeof text, "v%lld", (long long)(row % 37));
		REQUIRE_OK(floe_batch_builder_i64(bld, 0, row, ep), ep);
		if (row % 5 == 2) {
			REQUIRE_OK(floe_batch_builder_null(bld, 1, ep), ep);
			REQUIRE_OK(floe_batch_builder_null(bld, 2, ep), ep);
		} else {
			REQUIRE_OK(floe_batch_builder_bytes(bld, 1, text, n, ep), ep);
			REQUIRE_OK(floe_batch_builder_f64(bld, 2, (double)row * 0.25, ep), ep);
		}
	}
	REQUIRE_OK(floe_parquet_writer_write(w, floe_batch_builder_view(bld), ep), ep);
	REQUIRE_OK(floe_parquet_writer_close(w, NULL, ep), ep);
	floe_batch_builder_free(bld);
	floe_arena_free(arena);
}

TEST(pq_verify_written_files)
{
	for (int version = 1; version <= 2; version++) {
		for (int dict = 0; dict <= 1; dict++) {
			floe_parquet_write_options wo;
			floe_parquet_write_options_init(&wo);
			wo.data_page_version = version;
			wo.dictionary = dict;
			wo.page_bytes = 4 << 10;
			wo.row_group_bytes = 64 << 10;
			const char *path = th_path("written.parquet");
			write_rows(path, &wo, 20000);
			floe_error err = { 0 };
			floe_parquet_reader *r = NULL;
			int64_t pages = 0;
			REQUIRE_OK(floe_parquet_reader_open(&r, path, &err), &err);
			CHECK_OK(pq_reader_verify(r, &pages, &err), &err);
			CHECK(floe_parquet_reader_num_row_groups(r) > 1);
			/* at least one data page per column and row group */
			if (pages < 3 * floe_parquet_reader_num_row_groups(r))
				th_fail(__FILE__, __LINE__, "v%d dict %d: %lld pages in %d row groups", version, dict,
				        (long long)pages, floe_parquet_reader_num_row_groups(r));
			floe_parquet_reader_free(r);
		}
	}
}

/* datapage_v2.snappy.parquet's column e (LIST<INT32>, chunk 4) has v2 pages:
 * their levels are stored uncompressed, so one byte can be changed. */
TEST(pq_verify_flipped_level_byte)
{
	char path[4096];
	size_t len = 0;
	floe_error err = { 0 };
	floe_parquet_reader *r = NULL;
	snprintf(path, sizeof path, "%s/testdata/parquet-testing/data/datapage_v2.snappy.parquet", th_shared());
	uint8_t *file = (uint8_t *)th_read_file(path, &len);
	REQUIRE(file != NULL);
	REQUIRE_OK(floe_parquet_reader_open_memory(&r, file, len, "copy.parquet", &err), &err);
	CHECK_OK(floe_parquet_reader_verify(r, &err), &err);
	REQUIRE(r->nchunks == 5 && r->meta.num_row_groups >= 1);
	const pq_column_meta *cm = &r->meta.row_groups[0].columns[4].meta;
	int64_t off = cm->data_page_offset;
	REQUIRE(off > 0 && (uint64_t)off < len);
	floe_arena *arena = floe_arena_new(0);
	REQUIRE(arena != NULL);
	pq_page_header h;
	size_t hl = 0;
	for (int k = 0; k < 4; k++) { /* past a dictionary page */
		REQUIRE_OK(pq_meta_decode_page_header(&h, &hl, file + off, len - (size_t)off, "copy.parquet",
		                                      (uint64_t)off, arena, &err), &err);
		if (h.type == PQ_DATA_PAGE_V2)
			break;
		off += (int64_t)hl + h.compressed_page_size;
		REQUIRE(h.compressed_page_size >= 0 && (uint64_t)off < len);
	}
	REQUIRE(h.type == PQ_DATA_PAGE_V2 && !h.has_crc);
	REQUIRE(h.data_v2.repetition_levels_byte_length >= 2);
	floe_parquet_reader_free(r);
	r = NULL;
	/* rep levels: [run header][first value or bit-packed group]; bit 0 of
	 * the second byte is the first level (width 1) in either run kind */
	uint8_t *lv = file + off + hl;
	CHECK_EQ_INT(lv[1] & 1, 0);
	lv[1] ^= 1;
	REQUIRE_OK(floe_parquet_reader_open_memory(&r, file, len, "copy.parquet", &err), &err);
	/* flat columns do not look at it: a plain scan still succeeds */
	CHECK_OK(scan_all(r, &err), &err);
	int rc = floe_parquet_reader_verify(r, &err);
	CHECK_EQ_INT(rc, FLOE_ECORRUPT);
	CHECK(strstr(err.msg, "copy.parquet: corrupt at byte") != NULL);
	CHECK(strstr(err.msg, "repetition level") != NULL);
	floe_parquet_reader_free(r);
	floe_arena_free(arena);
	free(file);
}

/* `floe parquet verify A1 [A2]` in a child (tests/cli/cli_run.h). */
static int run_cli(char **out, char **errout, const char *a1, const char *a2)
{
	const char *argv[] = { "floe", "parquet", "verify", a1, a2, NULL };
	return cli_run_argv(NULL, out, errout, a2 ? 5 : 4, argv);
}

TEST(pq_verify_cli)
{
	char good[4096], bad[4096], want[4200];
	char *out = NULL, *eout = NULL;
	snprintf(good, sizeof good, "%s/testdata/parquet-testing/data/nested_lists.snappy.parquet", th_shared());
	snprintf(bad, sizeof bad, "%s/testdata/parquet-testing/bad_data/ARROW-GH-45185.parquet", th_shared());
	floe_parquet_reader *r = NULL;
	floe_error err = { 0 };
	int64_t pages = 0;
	REQUIRE_OK(floe_parquet_reader_open(&r, good, &err), &err);
	REQUIRE_OK(pq_reader_verify(r, &pages, &err), &err);
	snprintf(want, sizeof want, "%s: ok (%lld rows, %d row groups, %lld pages)\n", good,
	         (long long)floe_parquet_reader_num_rows(r), floe_parquet_reader_num_row_groups(r),
	         (long long)pages);
	floe_parquet_reader_free(r);
	CHECK_EQ_INT(run_cli(&out, &eout, good, NULL), 0);
	CHECK(out && strcmp(out, want) == 0);
	free(out);
	free(eout);
	CHECK_EQ_INT(run_cli(&out, &eout, bad, NULL), 1);
	CHECK(eout && strstr(eout, "ARROW-GH-45185.parquet: corrupt at byte") != NULL);
	CHECK(out && out[0] == 0);
	free(out);
	free(eout);
	CHECK_EQ_INT(run_cli(&out, &eout, "--help", NULL), 0);
	CHECK(out && strstr(out, "verify") != NULL);
	free(out);
	free(eout);
}

/* Every byte of the page data of small nested files flipped in turn: verify
 * never crashes or over-reads (ASan), and damage is mostly detected. */
TEST(pq_verify_flip_every_page_byte)
{
	static const char *const names[] = { "nested_lists.snappy.parquet", "datapage_v2.snappy.parquet",
	                                     "repeated_no_annotation.parquet", "nested_maps.snappy.parquet",
	                                     "list_columns.parquet", NULL };
	int tried = 0, caught = 0;
	for (int f = 0; names[f]; f++) {
		char path[4096];
		size_t len = 0;
		snprintf(path, sizeof path, "%s/testdata/parquet-testing/data/%s", th_shared(), names[f]);
		uint8_t *file = (uint8_t *)th_read_file(path, &len);
		if (!file)
			continue;
		floe_error err = { 0 };
		floe_parquet_reader *r = NULL;
		REQUIRE_OK(floe_parquet_reader_open_memory(&r, file, len, names[f], &err), &err);
		uint64_t end = r->footer_offset;
		CHECK_OK(floe_parquet_reader_verify(r, &err), &err);
		floe_parquet_reader_free(r);
		for (uint64_t i = 4; i < end && i < 64 << 10; i++) {
			file[i] ^= 0xff;
			r = NULL;
			int rc = floe_parquet_reader_open_memory(&r, file, len, names[f], &err);
			if (rc == 0)
				rc = floe_parquet_reader_verify(r, &err);
			if (rc < 0 && rc != FLOE_ECORRUPT && rc != FLOE_EUNSUPPORTED)
				th_fail(__FILE__, __LINE__, "%s byte %llu: %d: %s", names[f], (unsigned long long)i, rc,
				        err.msg);
			tried++;
			caught += rc < 0;
			floe_parquet_reader_free(r);
			file[i] ^= 0xff;
		}
		free(file);
	}
	CHECK(tried > 500);
	/* statistics bytes and some value bytes carry no checkable structure */
	if (caught * 2 < tried)
		th_fail(__FILE__, __LINE__, "only %d of %d flipped bytes detected", caught, tried);
}
