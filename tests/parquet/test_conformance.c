/* tests/parquet/test_conformance.c - the reader against every file of the
 * parquet-testing corpus (values cross-checked with DuckDB and the corpus's
 * expectation files) and the Iceberg encoding fixtures (equal to PLAIN). */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "floe/parquet.h"
#include "harness.h"
#include "util/buf.h"

/* ---- a file read into text cells -------------------------------------- */

typedef struct table {
	floe_schema *schema; /* copy of names/types */
	int ncols;
	int64_t nrows;
	char **cells;        /* nrows * ncols, NULL = null */
	size_t cap;
} table;

static void table_free(table *t)
{
	if (t->schema) {
		for (int i = 0; i < t->ncols; i++)
			free((char *)t->schema->fields[i].name);
		free(t->schema->fields);
		free(t->schema);
	}
	if (t->cells)
		for (size_t i = 0; i < (size_t)t->nrows * (size_t)t->ncols; i++)
			free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

static char *hex(const uint8_t *p, int64_t n)
{
	char *s = malloc((size_t)n * 2 + 1);
	for (int64_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	s[2 * n] = 0;
	return s;
}

static char *cell_text(const floe_column *c, int64_t row)
{
	char buf[64];
	const uint8_t *v = c->values;
	if (!floe_column_is_valid(c, row))
		return NULL;
	switch (c->type.id) {
	case FLOE_TYPE_BOOLEAN:
		return strdup(v[row] ? "true" : "false");
	case FLOE_TYPE_INT: case FLOE_TYPE_DATE: {
		int32_t x;
		memcpy(&x, v + row * 4, 4);
		snprintf(buf, sizeof(buf), "%d", x);
		return strdup(buf);
	}
	case FLOE_TYPE_FLOAT: {
		float x;
		memcpy(&x, v + row * 4, 4);
		snprintf(buf, sizeof(buf), "%.9g", x);
		return strdup(buf);
	}
	case FLOE_TYPE_DOUBLE: {
		double x;
		memcpy(&x, v + row * 8, 8);
		snprintf(buf, sizeof(buf), "%.17g", x);
		return strdup(buf);
	}
	case FLOE_TYPE_STRING: case FLOE_TYPE_JSON:
		return strndup((const char *)c->data + c->offsets[row],
		               (size_t)(c->offsets[row + 1] - c->offsets[row]));
	case FLOE_TYPE_BINARY:
		return hex(c->data + c->offsets[row], c->offsets[row + 1] - c->offsets[row]);
	case FLOE_TYPE_UUID: case FLOE_TYPE_FIXED:
		return hex(v + row * c->type.width, c->type.width);
	case FLOE_TYPE_DECIMAL:
		if (c->type.width == 16)
			return hex(v + row * 16, 16);
		/* fallthrough */
	default: {
		int64_t x;
		memcpy(&x, v + row * 8, 8);
		if (c->type.is_unsigned)
			snprintf(buf, sizeof(buf), "%llu", (unsigned long long)x);
		else
			snprintf(buf, sizeof(buf), "%lld", (long long)x);
		return strdup(buf);
	}
	}
}

/* Read every row of `path`; returns the floe code, err set. */
static int read_table(table *t, const char *path, bool verify_crc, int64_t batch_rows, floe_error *err)
{
	floe_parquet_reader *r = NULL;
	floe_parquet_scan *s = NULL;
	floe_parquet_scan_options o;
	const floe_batch *b;
	int rc;

	memset(t, 0, sizeof(*t));
	rc = floe_parquet_reader_open(&r, path, err);
	if (rc < 0)
		return rc;
	floe_parquet_scan_options_init(&o);
	o.verify_crc = verify_crc;
	if (batch_rows)
		o.batch_rows = batch_rows;
	rc = floe_parquet_scan_open(&s, r, &o, err);
	if (rc < 0)
		goto done;
	t->ncols = floe_parquet_reader_schema(r)->nfields;
	t->schema = calloc(1, sizeof(floe_schema));
	t->schema->nfields = t->ncols;
	t->schema->fields = calloc((size_t)t->ncols + 1, sizeof(floe_field));
	for (int i = 0; i < t->ncols; i++) {
		t->schema->fields[i] = floe_parquet_reader_schema(r)->fields[i];
		t->schema->fields[i].name = strdup(t->schema->fields[i].name);
	}
	while ((rc = floe_parquet_scan_next(s, &b, err)) == 1) {
		if (b->nrows > o.batch_rows) {
			rc = floe_error_set(err, FLOE_EINVALID, "batch of %lld rows over the limit", (long long)b->nrows);
			break;
		}
		size_t need = (size_t)(t->nrows + b->nrows) * (size_t)t->ncols;
		if (need > t->cap) {
			t->cap = need * 2 + 16;
			t->cells = realloc(t->cells, t->cap * sizeof(char *));
		}
		for (int64_t k = 0; k < b->nrows; k++)
			for (int c = 0; c < t->ncols; c++)
				t->cells[(size_t)(t->nrows + k) * (size_t)t->ncols + (size_t)c] = cell_text(&b->cols[c], k);
		t->nrows += b->nrows;
	}
	if (rc == 0 && t->nrows != floe_parquet_reader_num_rows(r))
		rc = floe_error_set(err, FLOE_ECORRUPT, "read %lld rows, footer says %lld", (long long)t->nrows,
		                    (long long)floe_parquet_reader_num_rows(r));
done:
	floe_parquet_scan_free(s);
	floe_parquet_reader_free(r);
	return rc;
}

/* ---- DuckDB cross-check ------------------------------------------------ */

/* Compare the columns DuckDB gives as plain JSON numbers/strings/booleans. */
static int compare_duckdb(const table *t, const char *path, char *why, size_t whylen)
{
	char *out = NULL;
	int st = th_run(&out, "node '%s/duckdb-query.mjs' --format jsonl \"set threads=1; select * from read_parquet('%s')\" 2>/dev/null",
	                th_peers(), path);
	if (st != 0) {
		free(out);
		snprintf(why, whylen, "duckdb could not read it (exit %d)", st);
		return -1; /* DuckDB refuses: nothing to compare */
	}
	int64_t row = 0;
	int bad = 0;
	char *line = out, *nl;
	for (; line && *line && !bad; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (!*line)
			continue;
		json_t *o = json_loads(line, 0, NULL);
		if (!o) {
			snprintf(why, whylen, "duckdb output line %lld is not JSON", (long long)row);
			bad = 1;
			break;
		}
		if (row >= t->nrows) {
			snprintf(why, whylen, "duckdb has more rows than %lld", (long long)t->nrows);
			bad = 1;
		}
		for (int c = 0; c < t->ncols && !bad; c++) {
			const floe_field *f = &t->schema->fields[c];
			json_t *v = json_object_get(o, f->name);
			const char *mine = t->cells[(size_t)row * (size_t)t->ncols + (size_t)c];
			if (!v)
				continue;
			if ((f->type.id == FLOE_TYPE_DOUBLE || f->type.id == FLOE_TYPE_FLOAT) && mine &&
			    (strstr(mine, "nan") || strstr(mine, "inf")) && !json_is_number(v))
				continue; /* JSON has no NaN/Infinity; DuckDB prints them its own way */
			if (json_is_null(v)) {
				if (mine)
					bad = 1;
			} else if (!mine) {
				bad = 1;
			} else if (f->type.id == FLOE_TYPE_BOOLEAN) {
				bad = strcmp(mine, json_is_true(v) ? "true" : "false") != 0;
			} else if ((f->type.id == FLOE_TYPE_INT || f->type.id == FLOE_TYPE_LONG) && json_is_integer(v)) {
				if (!f->type.is_unsigned)
					bad = strtoll(mine, NULL, 10) != (long long)json_integer_value(v);
			} else if ((f->type.id == FLOE_TYPE_DOUBLE || f->type.id == FLOE_TYPE_FLOAT) && json_is_number(v)) {
				double a = strtod(mine, NULL), b = json_number_value(v);
				bad = !(a == b || fabs(a - b) <= 1e-6 * fmax(fabs(a), fabs(b)));
			} else if (f->type.id == FLOE_TYPE_STRING && json_is_string(v)) {
				bad = strcmp(mine, json_string_value(v)) != 0;
			}
			if (bad)
				snprintf(why, whylen, "row %lld column %s: floe %s, duckdb %s", (long long)row, f->name,
				         mine ? mine : "NULL", json_is_string(v) ? json_string_value(v) : "(non-string)");
		}
		json_decref(o);
		row++;
	}
	if (!bad && row != t->nrows) {
		snprintf(why, whylen, "duckdb has %lld rows, floe %lld", (long long)row, (long long)t->nrows);
		bad = 1;
	}
	free(out);
	return bad ? 1 : 0;
}

/* ---- the corpus -------------------------------------------------------- */

typedef struct file_list {
	char **v;
	int n, cap;
} file_list;

static void collect(file_list *l, const char *dir, const char *suffix1, const char *suffix2)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char p[4096];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (stat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			collect(l, p, suffix1, suffix2);
			continue;
		}
		size_t n = strlen(p);
		bool match = false;
		if (suffix1 && n >= strlen(suffix1) && strcmp(p + n - strlen(suffix1), suffix1) == 0)
			match = true;
		if (suffix2 && n >= strlen(suffix2) && strcmp(p + n - strlen(suffix2), suffix2) == 0)
			match = true;
		if (!match)
			continue;
		if (l->n == l->cap) {
			l->cap = l->cap * 2 + 16;
			l->v = realloc(l->v, (size_t)l->cap * sizeof(char *));
		}
		l->v[l->n++] = strdup(p);
	}
	closedir(d);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_free(file_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Files whose bytes are wrong on purpose: they must fail as corrupt.
 * Returns 0 (not listed), 1 (bad page CRC: decodes without the check) or
 * 2 (malformed data). */
static int expected_corrupt(const char *name)
{
	static const struct {
		const char *name;
		int kind;
	} names[] = {
		{ "datapage_v1-corrupt-checksum.parquet", 1 },
		{ "rle-dict-uncompressed-corrupt-checksum.parquet", 1 },
		{ "nation.dict-malformed.parquet", 2 },
		{ NULL, 0 }
	};
	for (int i = 0; names[i].name; i++)
		if (strcmp(name, names[i].name) == 0)
			return names[i].kind;
	return 0;
}

/* Is `name` in the unsupported table of docs/parquet-conformance.md? */
static bool documented(const char *doc, const char *name)
{
	char key[512];
	snprintf(key, sizeof(key), "| `%s` |", name);
	return doc && strstr(doc, key) != NULL;
}

TEST(pq_conformance_corpus)
{
	char dir[4096], docpath[4096];
	file_list l = { 0 };
	snprintf(dir, sizeof(dir), "%s/testdata/parquet-testing/data", th_shared());
	const char *peers = th_peers();
	(void)peers;
	collect(&l, dir, ".parquet", ".parquet.encrypted");
	qsort(l.v, (size_t)l.n, sizeof(char *), cmpstr);
	snprintf(docpath, sizeof(docpath), "docs/parquet-conformance.md");
	char *doc = th_read_file(docpath, NULL);
	CHECK(doc != NULL);
	CHECK(l.n > 50);
	int read_ok = 0, unsupported = 0;
	for (int i = 0; i < l.n; i++) {
		const char *name = base_name(l.v[i]);
		floe_error err = { 0 };
		table t;
		int rc = read_table(&t, l.v[i], true, 0, &err);
		int bad = expected_corrupt(name);
		if (bad) {
			if (rc != FLOE_ECORRUPT || !strstr(err.msg, name))
				th_fail(__FILE__, __LINE__, "%s: expected a corrupt error naming the file, got %d: %s", name, rc, err.msg);
			table_free(&t);
			if (bad == 2)
				continue;
			/* without CRC checks the data itself decodes */
			rc = read_table(&t, l.v[i], false, 0, &err);
			if (rc < 0)
				th_fail(__FILE__, __LINE__, "%s without verify_crc: %d: %s", name, rc, err.msg);
			table_free(&t);
			continue;
		}
		if (rc == FLOE_EUNSUPPORTED) {
			unsupported++;
			if (!documented(doc, name))
				th_fail(__FILE__, __LINE__, "%s: unsupported but not listed in docs/parquet-conformance.md: %s", name, err.msg);
			if (!err.msg[0])
				th_fail(__FILE__, __LINE__, "%s: unsupported without a reason", name);
		} else if (rc < 0) {
			th_fail(__FILE__, __LINE__, "%s: %d: %s", name, rc, err.msg);
		} else {
			char why[600] = "";
			read_ok++;
			if (documented(doc, name))
				th_fail(__FILE__, __LINE__, "%s: reads now; remove it from docs/parquet-conformance.md", name);
			int c = compare_duckdb(&t, l.v[i], why, sizeof(why));
			if (c > 0)
				th_fail(__FILE__, __LINE__, "%s: differs from DuckDB: %s", name, why);
		}
		table_free(&t);
	}
	printf("  corpus: %d files, %d read, %d unsupported\n", l.n, read_ok, unsupported);
	free(doc);
	list_free(&l);
}

/* floe_parquet_reader_verify of `path`: 0 or the error code. */
static int verify_file(const char *path, floe_error *err)
{
	floe_parquet_reader *r = NULL;
	int rc = floe_parquet_reader_open(&r, path, err);
	if (rc == 0)
		rc = floe_parquet_reader_verify(r, err);
	floe_parquet_reader_free(r);
	return rc;
}

TEST(pq_conformance_bad_data)
{
	char dir[4096];
	file_list l = { 0 };
	snprintf(dir, sizeof(dir), "%s/testdata/parquet-testing/bad_data", th_shared());
	collect(&l, dir, ".parquet", NULL);
	CHECK(l.n >= 5);
	char *doc = th_read_file("docs/parquet-conformance.md", NULL);
	CHECK(doc != NULL);
	for (int i = 0; i < l.n; i++) {
		const char *name = base_name(l.v[i]);
		floe_error err = { 0 };
		table t;
		int rc = read_table(&t, l.v[i], true, 0, &err);
		if (strcmp(name, "ARROW-GH-43605.parquet") == 0) {
			/* some readers accept it: either outcome, no crash */
		} else if (rc >= 0 && verify_file(l.v[i], &err) >= 0) {
			/* damage confined to nested columns (which a scan skips)
			 * must still be found by the full verification pass */
			th_fail(__FILE__, __LINE__, "%s: bad file read and verified without error (documented: %d)", name,
			        documented(doc, name));
		} else if (rc < 0 && !err.msg[0]) {
			th_fail(__FILE__, __LINE__, "%s: error %d without a message", name, rc);
		}
		table_free(&t);
	}
	free(doc);
	list_free(&l);
}

/* ---- expectation files --------------------------------------------------- */

/* Split one CSV line in place ("quoted, fields" allowed, "" escapes). */
static int csv_split(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;
	size_t len = strlen(line);
	if (len && line[len - 1] == '\r')
		line[len - 1] = 0;
	while (p && n < max) {
		if (*p == '"') {
			char *w = ++p, *start = p;
			while (*p && !(*p == '"' && p[1] != '"')) {
				if (*p == '"')
					p++;
				*w++ = *p++;
			}
			if (*p == '"')
				p++;
			fields[n++] = start;
			char *next = *p == ',' ? p + 1 : NULL;
			*w = 0;
			p = next;
		} else {
			fields[n++] = p;
			char *comma = strchr(p, ',');
			if (comma)
				*comma = 0;
			p = comma ? comma + 1 : NULL;
		}
	}
	return n;
}

/* Compare with a CSV of the corpus (header line of column names; values
 * as text, empty = null). Only columns present in both are checked. */
static void check_csv(const char *parquet, const char *csv)
{
	floe_error err = { 0 };
	table t;
	char p[4096], c[4096];
	snprintf(p, sizeof(p), "%s/testdata/parquet-testing/data/%s", th_shared(), parquet);
	snprintf(c, sizeof(c), "%s/testdata/parquet-testing/data/%s", th_shared(), csv);
	int rc = read_table(&t, p, true, 0, &err);
	if (rc < 0) {
		th_fail(__FILE__, __LINE__, "%s: %d: %s", parquet, rc, err.msg);
		return;
	}
	char *text = th_read_file(c, NULL);
	REQUIRE(text != NULL);
	char *save = NULL, *line = strtok_r(text, "\n", &save);
	char *fields[512];
	int map[512];
	int nh = csv_split(line, fields, 512);
	for (int h = 0; h < nh; h++) {
		const char *f = fields[h];
		while (*f == ' ')
			f++;
		map[h] = -1;
		for (int k = 0; k < t.ncols; k++)
			if (strcmp(t.schema->fields[k].name, f) == 0)
				map[h] = k;
	}
	int64_t row = 0;
	int fails = 0;
	for (line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save), row++) {
		int nf = csv_split(line, fields, 512);
		for (int h = 0; h < nf && h < nh; h++) {
			const char *f = fields[h];
			if (map[h] < 0 || row >= t.nrows)
				continue;
			const char *mine = t.cells[(size_t)row * (size_t)t.ncols + (size_t)map[h]];
			bool same = mine ? strcmp(mine, f) == 0 : f[0] == 0;
			if (!same && fails++ < 5)
				th_fail(__FILE__, __LINE__, "%s row %lld col %d: floe %s, expected %s", parquet,
				        (long long)row, map[h], mine ? mine : "NULL", f);
		}
	}
	CHECK_EQ_INT(row, t.nrows);
	free(text);
	table_free(&t);
}

TEST(pq_conformance_expect_csv)
{
	check_csv("delta_binary_packed.parquet", "delta_binary_packed_expect.csv");
	check_csv("delta_byte_array.parquet", "delta_byte_array_expect.csv");
	check_csv("delta_encoding_required_column.parquet", "delta_encoding_required_column_expect.csv");
	check_csv("delta_encoding_optional_column.parquet", "delta_encoding_optional_column_expect.csv");
}

/* int96_from_spark.md: the values as Spark wrote them (TIMESTAMP_NS). */
TEST(pq_conformance_int96)
{
	floe_error err = { 0 };
	table t;
	char p[4096];
	snprintf(p, sizeof(p), "%s/testdata/parquet-testing/data/int96_from_spark.parquet", th_shared());
	floe_error *ep = &err;
	REQUIRE_OK(read_table(&t, p, true, 0, ep), ep);
	REQUIRE(t.ncols == 1);
	CHECK_EQ_INT(t.schema->fields[0].type.id, FLOE_TYPE_TIMESTAMP_NS);
	CHECK_EQ_INT(t.nrows, 6);
	/* the .md lists the values as micros; nanos wrap like arrow/duckdb */
	static const int64_t us[] = { 1704141296123456LL, 1704070800000000LL, 253402225200000000LL,
		1735599600000000LL, 0, 9089380393200000000LL };
	for (int64_t r = 0; r < t.nrows && r < 6; r++) {
		char want[32];
		snprintf(want, sizeof(want), "%lld", (long long)(int64_t)((uint64_t)us[r] * 1000u));
		if (r == 4)
			CHECK(t.cells[r] == NULL);
		else
			CHECK_EQ_STR(t.cells[r], want);
	}
	table_free(&t);
}

/* byte_stream_split_extended: each BYTE_STREAM_SPLIT column has a PLAIN
 * twin named <type>_plain / <type>_byte_stream_split. */
TEST(pq_conformance_bss_extended)
{
	floe_error err = { 0 };
	table t;
	char p[4096];
	snprintf(p, sizeof(p), "%s/testdata/parquet-testing/data/byte_stream_split_extended.gzip.parquet", th_shared());
	floe_error *ep = &err;
	REQUIRE_OK(read_table(&t, p, true, 0, ep), ep);
	int pairs = 0;
	for (int a = 0; a < t.ncols; a++) {
		const char *na = t.schema->fields[a].name;
		const char *suf = strstr(na, "_plain");
		if (!suf)
			continue;
		char twin[256];
		snprintf(twin, sizeof(twin), "%.*s_byte_stream_split", (int)(suf - na), na);
		for (int b = 0; b < t.ncols; b++) {
			if (strcmp(t.schema->fields[b].name, twin) != 0)
				continue;
			pairs++;
			for (int64_t r = 0; r < t.nrows; r++) {
				const char *x = t.cells[(size_t)r * (size_t)t.ncols + (size_t)a];
				const char *y = t.cells[(size_t)r * (size_t)t.ncols + (size_t)b];
				if (!((x == NULL && y == NULL) || (x && y && strcmp(x, y) == 0))) {
					th_fail(__FILE__, __LINE__, "%s row %lld: %s != %s", twin, (long long)r,
					        x ? x : "NULL", y ? y : "NULL");
					break;
				}
			}
		}
	}
	CHECK(pairs >= 5);
	table_free(&t);
}

/* Iceberg's fixtures: every encoding decodes equal to its PLAIN twin. */
TEST(pq_conformance_iceberg_fixtures)
{
	char dir[4096];
	file_list l = { 0 };
	snprintf(dir, sizeof(dir), "%s/testdata/iceberg-interop/parquet-fixtures/encodings", th_shared());
	collect(&l, dir, ".parquet", NULL);
	CHECK(l.n > 20);
	int compared = 0;
	for (int i = 0; i < l.n; i++) {
		if (strstr(l.v[i], "/PLAIN/"))
			continue;
		char twin[8300];
		snprintf(twin, sizeof(twin), "%s/PLAIN/%s", dir, base_name(l.v[i]));
		floe_error err = { 0 };
		table a, b;
		int rc = read_table(&a, l.v[i], true, 0, &err);
		if (rc < 0) {
			th_fail(__FILE__, __LINE__, "%s: %d: %s", l.v[i], rc, err.msg);
			table_free(&a);
			continue;
		}
		rc = read_table(&b, twin, true, 0, &err);
		if (rc < 0) {
			th_fail(__FILE__, __LINE__, "%s: %d: %s", twin, rc, err.msg);
		} else if (a.nrows != b.nrows || a.ncols != b.ncols) {
			th_fail(__FILE__, __LINE__, "%s: %lldx%d, PLAIN %lldx%d", l.v[i], (long long)a.nrows, a.ncols,
			        (long long)b.nrows, b.ncols);
		} else {
			compared++;
			for (size_t k = 0; k < (size_t)a.nrows * (size_t)a.ncols; k++) {
				const char *x = a.cells[k], *y = b.cells[k];
				if (!((x == NULL && y == NULL) || (x && y && strcmp(x, y) == 0))) {
					th_fail(__FILE__, __LINE__, "%s cell %zu: %s != PLAIN %s", l.v[i], k,
					        x ? x : "NULL", y ? y : "NULL");
					break;
				}
			}
		}
		table_free(&a);
		table_free(&b);
	}
	CHECK(compared > 10);
	list_free(&l);

	floe_error err = { 0 };
	table t;
	char p[4096];
	snprintf(p, sizeof(p), "%s/testdata/iceberg-interop/parquet-fixtures/decimal_dict_and_plain_encoding.parquet",
	         th_shared());
	floe_error *ep = &err;
	CHECK_OK(read_table(&t, p, true, 0, ep), ep);
	CHECK(t.nrows > 0);
	table_free(&t);
}
