/* cli/table_cmd.c - the top-level Iceberg table commands (`floe create`,
 * append, scan, describe, snapshots, files, tables, alter, drop, rename): thin
 * layers over floe/table.h and floe/catalog.h with text input and output. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "floe/catalog.h"
#include "floe/expr.h"
#include "floe/parquet.h"
#include "floe/table.h"
#include "util/buf.h"
#include "util/format.h"
#include "util/text.h"

#define MAX_MAPS 64

/* ---- shared helpers ----------------------------------------------------- */

/* Whole number option in [lo, hi]; returns 0, or FLOE_CLI_USAGE after
 * printing the error. */
static int opt_i64(int64_t *out, const floe_cli_cmd *cmd, const char *name, const char *v,
                   int64_t lo, int64_t hi)
{
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (end == v || *end || errno || x < lo || x > hi)
		return floe_cli_usage(cmd, "--%s wants a whole number from %lld to %lld, not '%s'",
		                      name, (long long)lo, (long long)hi, v);
	*out = x;
	return 0;
}

/* A table name must be NAMESPACE.NAME (catalog.h's rules); exit 2 when not. */
static int check_ident(const floe_cli_cmd *cmd, const char *text)
{
	floe_ident id;
	floe_error err;
	if (floe_ident_parse(&id, text, &err) != 0)
		return floe_cli_usage(cmd, "'%s' is not a table name: %s; use NAMESPACE.NAME, e.g. "
		                      "db.trades", text, err.msg);
	return 0;
}

static int open_catalog(floe_catalog **cat, const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	const char *wh = floe_cli_warehouse(cmd, args);
	if (floe_catalog_open(cat, wh, NULL, &err) != 0)
		return floe_cli_fail("cannot open warehouse %s: %s (give another with --warehouse DIR "
		                     "or FLOE_WAREHOUSE)", wh, err.msg);
	return 0;
}

/* Report a library error on table `name`, saying what to do next. */
static int table_fail(const char *name, const floe_error *err)
{
	if (strstr(err->msg, "(see '"))
		return floe_cli_fail("%s", err->msg); /* the library already says where to look */
	switch (err->code) {
	case FLOE_ENOTFOUND:
		return floe_cli_fail("%s (see 'floe describe %s' for its columns, 'floe snapshots "
		                     "%s' for its snapshots)", err->msg, name ? name : "TABLE",
		                     name ? name : "TABLE");
	case FLOE_ECONFLICT:
		return floe_cli_fail("%s (another commit won; run the command again)", err->msg);
	case FLOE_ECOMMIT_UNKNOWN:
		return floe_cli_fail("%s (the commit may or may not have happened: check with 'floe "
		                     "snapshots %s' before retrying)", err->msg, name ? name : "TABLE");
	default:
		return floe_cli_fail("%s", err->msg);
	}
}

/* The table the command names: --metadata FILE [--map F=T]... when the
 * command has it and it is given, else positional TABLE from the catalog.
 * *cat stays NULL for a metadata file. Returns 0 or an exit code. */
static int open_table(floe_table **t, floe_catalog **cat, const floe_cli_cmd *cmd,
                      const floe_cli_args *args, const char *name)
{
	floe_error err;
	const char *meta = floe_cli_opt_get(cmd, args, "metadata");
	*t = NULL;
	*cat = NULL;
	if (meta) {
		if (name)
			return floe_cli_usage(cmd, "give either TABLE or --metadata FILE, not both");
		const char *maps[MAX_MAPS];
		int nmaps = floe_cli_opt_all(cmd, args, "map", maps, MAX_MAPS);
		for (int i = 0; i < nmaps; i++)
			if (!strchr(maps[i], '=') || maps[i][0] == '=')
				return floe_cli_usage(cmd, "--map '%s': expected FROM=TO", maps[i]);
		if (floe_table_open_metadata(t, meta, maps, nmaps, &err) != 0)
			return floe_cli_fail("%s", err.msg);
		return 0;
	}
	if (floe_cli_opt_all(cmd, args, "map", (const char *[1]){ NULL }, 1) > 0)
		return floe_cli_usage(cmd, "--map needs --metadata FILE");
	if (!name)
		return floe_cli_usage(cmd, "missing TABLE (or --metadata FILE)");
	int rc = check_ident(cmd, name);
	if (rc)
		return rc;
	if ((rc = open_catalog(cat, cmd, args)))
		return rc;
	if (floe_table_open(t, *cat, name, &err) != 0) {
		if (err.code == FLOE_ENOTFOUND)
			rc = floe_cli_fail("no table '%s' in warehouse %s (see 'floe tables')", name,
			                   floe_cli_warehouse(cmd, args));
		else
			rc = table_fail(name, &err);
		floe_catalog_close(*cat);
		*cat = NULL;
		return rc;
	}
	return 0;
}

/* ISO 8601 time: YYYY-MM-DD[THH:MM:SS[.fff...]][Z|+HH:MM|-HH:MM] (UTC when
 * no offset) or epoch milliseconds -> epoch milliseconds. */
static int parse_time_ms(int64_t *out, const char *s)
{
	const char *p = s;
	if (*p == '-')
		p++;
	if (*p && strspn(p, "0123456789") == strlen(p)) {
		char *end;
		errno = 0;
		long long x = strtoll(s, &end, 10);
		if (errno || *end)
			return -1;
		*out = x;
		return 0;
	}
	char text[96];
	size_t n = strlen(s);
	if (n >= 10 && n + 10 < sizeof text && (n == 10 || s[10] == 'Z' || s[10] == '+' ||
	                                         s[10] == '-')) {
		/* a date alone, maybe with an offset: midnight */
		snprintf(text, sizeof text, "%.10sT00:00:00%s", s, s + 10);
	} else if (n >= 16 && n + 3 < sizeof text && (s[10] == 'T' || s[10] == ' ') &&
	           s[13] == ':' && (s[16] == '\0' || s[16] == 'Z' || s[16] == '+' ||
	                            s[16] == '-')) {
		/* HH:MM without seconds */
		snprintf(text, sizeof text, "%.16s:00%s", s, s + 16);
	} else if (n < sizeof text) {
		snprintf(text, sizeof text, "%s", s);
	} else {
		return -1;
	}
	floe_type ty;
	memset(&ty, 0, sizeof ty);
	ty.id = FLOE_TYPE_TIMESTAMPTZ;
	floe_value v;
	floe_buf scratch = FLOE_BUF_INIT;
	int rc = floe_text_parse(&v, &ty, text, strlen(text), &scratch, NULL);
	floe_buf_free(&scratch);
	if (rc != 0)
		return -1;
	/* micros -> millis, rounding toward the past */
	*out = v.i >= 0 ? v.i / 1000 : -((-v.i + 999) / 1000);
	return 0;
}

/* Epoch milliseconds -> "YYYY-MM-DDTHH:MM:SS.fffZ". */
static const char *format_time_ms(char *buf, size_t size, int64_t ms)
{
	int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	int64_t rest = ms - days * 86400000;
	int64_t y;
	unsigned m, d;
	floe_civil_from_days(days, &y, &m, &d);
	snprintf(buf, size, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d,
	         (int)(rest / 3600000), (int)(rest / 60000 % 60), (int)(rest / 1000 % 60),
	         (int)(rest % 1000));
	return buf;
}

/* --snapshot ID | --as-of TIME | --tag NAME (at most one). */
static int snapshot_sel(floe_snapshot_sel *sel, const floe_cli_cmd *cmd,
                        const floe_cli_args *args)
{
	const char *id = floe_cli_opt_get(cmd, args, "snapshot");
	const char *asof = floe_cli_opt_get(cmd, args, "as-of");
	const char *tag = floe_cli_opt_get(cmd, args, "tag");
	memset(sel, 0, sizeof *sel);
	sel->kind = FLOE_SNAPSHOT_CURRENT;
	if ((id != NULL) + (asof != NULL) + (tag != NULL) > 1)
		return floe_cli_usage(cmd, "give at most one of --snapshot, --as-of and --tag");
	if (id) {
		sel->kind = FLOE_SNAPSHOT_ID;
		return opt_i64(&sel->snapshot_id, cmd, "snapshot", id, INT64_MIN, INT64_MAX);
	}
	if (asof) {
		sel->kind = FLOE_SNAPSHOT_AS_OF;
		if (parse_time_ms(&sel->timestamp_ms, asof) != 0)
			return floe_cli_usage(cmd, "--as-of '%s': expected YYYY-MM-DD[THH:MM:SS[.fff]]"
			                      "[Z|+HH:MM] or epoch milliseconds", asof);
	}
	if (tag) {
		sel->kind = FLOE_SNAPSHOT_REF;
		sel->ref = tag;
	}
	return 0;
}

typedef enum out_kind { OUT_TABLE, OUT_CSV, OUT_JSONL } out_kind;

static int out_kind_get(out_kind *out, const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	const char *v = floe_cli_opt_get(cmd, args, "format");
	if (!v) {
		*out = isatty(1) ? OUT_TABLE : OUT_JSONL;
		return 0;
	}
	if (strcmp(v, "table") == 0) {
		*out = OUT_TABLE;
		return 0;
	}
	floe_format_kind k;
	floe_error err;
	if (floe_format_kind_parse(&k, v, &err) != 0)
		return floe_cli_usage(cmd, "--format '%s': expected table, csv or jsonl", v);
	*out = k == FLOE_FORMAT_CSV ? OUT_CSV : OUT_JSONL;
	return 0;
}

/* ---- aligned text tables ------------------------------------------------- */

/* Rows of text cells printed as aligned columns under a header. Rows are
 * held up to GRID_CHUNK at a time; widths come from the first chunk and only
 * grow, so memory stays bounded for long outputs. */
#define GRID_CHUNK 1000

typedef struct grid {
	int ncols;
	const char **heads;
	bool *right;        /* right-align (numbers) */
	int *width;
	char **cells;       /* GRID_CHUNK * ncols, malloc'ed strings */
	int nrows;
	bool header_done;
	FILE *f;
} grid;

/* Characters shown for a UTF-8 string (continuation bytes do not count). */
static int text_width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

static int grid_init(grid *g, FILE *f, int ncols, const char **heads)
{
	memset(g, 0, sizeof *g);
	g->f = f;
	g->ncols = ncols;
	g->heads = heads;
	g->right = calloc((size_t)ncols + 1, sizeof *g->right);
	g->width = calloc((size_t)ncols + 1, sizeof *g->width);
	g->cells = calloc((size_t)GRID_CHUNK * (size_t)(ncols + 1), sizeof *g->cells);
	if (!g->right || !g->width || !g->cells)
		return -1;
	for (int c = 0; c < ncols; c++)
		g->width[c] = text_width(heads[c]);
	return 0;
}

static void grid_pad(FILE *f, const char *s, int width, bool right, bool last)
{
	int pad = width - text_width(s);
	if (right && pad > 0)
		fprintf(f, "%*s", pad, "");
	fputs(s, f);
	if (!right && !last && pad > 0)
		fprintf(f, "%*s", pad, "");
}

static void grid_flush(grid *g)
{
	for (int r = 0; r < g->nrows; r++)
		for (int c = 0; c < g->ncols; c++) {
			int w = text_width(g->cells[r * g->ncols + c]);
			if (!g->header_done && w > g->width[c])
				g->width[c] = w;
		}
	if (!g->header_done) {
		for (int c = 0; c < g->ncols; c++) {
			grid_pad(g->f, g->heads[c], g->width[c], g->right[c], c == g->ncols - 1);
			fputs(c == g->ncols - 1 ? "\n" : "  ", g->f);
		}
		for (int c = 0; c < g->ncols; c++) {
			for (int k = 0; k < g->width[c]; k++)
				fputc('-', g->f);
			fputs(c == g->ncols - 1 ? "\n" : "  ", g->f);
		}
		g->header_done = true;
	}
	for (int r = 0; r < g->nrows; r++) {
		for (int c = 0; c < g->ncols; c++) {
			char *s = g->cells[r * g->ncols + c];
			grid_pad(g->f, s, g->width[c], g->right[c], c == g->ncols - 1);
			fputs(c == g->ncols - 1 ? "\n" : "  ", g->f);
			free(s);
			g->cells[r * g->ncols + c] = NULL;
		}
	}
	g->nrows = 0;
}

/* Add one row of `ncols` cells (copied; control characters shown as '?'). */
static int grid_row(grid *g, const char *const *cells)
{
	for (int c = 0; c < g->ncols; c++) {
		char *s = strdup(cells[c] ? cells[c] : "");
		if (!s)
			return -1;
		for (char *p = s; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		g->cells[g->nrows * g->ncols + c] = s;
	}
	if (++g->nrows == GRID_CHUNK)
		grid_flush(g);
	return 0;
}

static void grid_free(grid *g)
{
	if (g->cells)
		for (int i = 0; i < g->nrows * g->ncols; i++)
			free(g->cells[i]);
	free(g->cells);
	free(g->right);
	free(g->width);
}

/* One CSV field (RFC 4180 quoting when needed). */
static void csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

/* A JSON object as one line on `f`; takes the reference. */
static int json_line(FILE *f, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(obj);
	if (!s)
		return -1;
	fputs(s, f);
	fputc('\n', f);
	free(s);
	return 0;
}

static int finish_stdout(void)
{
	return fflush(stdout) == 0 ? FLOE_CLI_OK : floe_cli_fail("writing to stdout failed");
}

/* ---- create ------------------------------------------------------------- */

int floe_cli_table_create(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_catalog *cat = NULL;
	floe_table *t = NULL;
	const char *name = args->pos[0];
	const char *props[FLOE_CLI_MAX_REPEATS];
	int rc = check_ident(cmd, name);
	if (rc)
		return rc;
	floe_table_create_options o;
	memset(&o, 0, sizeof o);
	o.schema = floe_cli_opt_get(cmd, args, "schema");
	if (!o.schema)
		return floe_cli_usage(cmd, "missing --schema \"name type [not null], ...\"");
	o.partition = floe_cli_opt_get(cmd, args, "partition");
	o.sort = floe_cli_opt_get(cmd, args, "sort");
	o.identifier = floe_cli_opt_get(cmd, args, "identifier");
	o.location = floe_cli_opt_get(cmd, args, "location");
	o.nproperties = floe_cli_opt_all(cmd, args, "property", props, FLOE_CLI_MAX_REPEATS);
	o.properties = props;
	for (int i = 0; i < o.nproperties; i++)
		if (!strchr(props[i], '=') || props[i][0] == '=')
			return floe_cli_usage(cmd, "--property '%s': expected KEY=VALUE", props[i]);
	if ((rc = open_catalog(&cat, cmd, args)))
		return rc;
	if (floe_table_create(&t, cat, name, &o, &err) != 0) {
		if (err.code == FLOE_EEXISTS)
			rc = floe_cli_fail("%s (see 'floe describe %s', or 'floe drop %s' first)", err.msg,
			                   name, name);
		else if (err.code == FLOE_EINVALID || err.code == FLOE_ENOTFOUND)
			rc = floe_cli_usage(cmd, "%s", err.msg);
		else
			rc = table_fail(name, &err);
		goto done;
	}
	printf("created %s at %s\n", floe_table_name(t), floe_table_location(t));
	rc = finish_stdout();
done:
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

/* ---- append ------------------------------------------------------------- */

typedef enum in_kind { IN_CSV, IN_NDJSON, IN_PARQUET } in_kind;

/* Where the rows of input files go (an append, a merge). */
typedef struct append_ctx {
	int (*sink)(void *ctx, const floe_batch *b, floe_error *err);
	void *sctx;
	int64_t file_rows;
} append_ctx;

static int append_text_batch(void *ctx, const floe_batch *b, floe_error *err)
{
	append_ctx *ac = ctx;
	int rc = ac->sink(ac->sctx, b, err);
	if (rc == 0)
		ac->file_rows += b->nrows;
	return rc;
}

static int sink_append(void *ctx, const floe_batch *b, floe_error *err)
{
	return floe_append_batch(ctx, b, err);
}

/* Read all of `f` into *buf. */
static int slurp(floe_buf *buf, FILE *f)
{
	for (;;) {
		if (floe_buf_reserve(buf, 65536) != 0)
			return -1;
		size_t got = fread(buf->data + buf->len, 1, 65536, f);
		buf->len += got;
		if (got < 65536)
			return ferror(f) ? -1 : 0;
	}
}

/* Input format of `path` (not stdin): --input-format, else Parquet by the
 * ".parquet" extension or the "PAR1" magic, else text by extension. */
static int input_kind(in_kind *out, const floe_cli_cmd *cmd, const char *forced,
                      const char *path)
{
	floe_error err;
	floe_text_format tf;
	if (forced) {
		if (strcasecmp(forced, "parquet") == 0) {
			*out = IN_PARQUET;
			return 0;
		}
		if (floe_text_format_parse(&tf, forced, &err) != 0)
			return floe_cli_usage(cmd, "--input-format '%s': expected csv, ndjson or parquet",
			                      forced);
		*out = tf == FLOE_TEXT_CSV ? IN_CSV : IN_NDJSON;
		return 0;
	}
	size_t n = strlen(path);
	if (n >= 8 && strcasecmp(path + n - 8, ".parquet") == 0) {
		*out = IN_PARQUET;
		return 0;
	}
	FILE *f = fopen(path, "rb");
	if (!f)
		return floe_cli_fail("cannot open %s: %s", path, strerror(errno));
	char magic[4] = { 0 };
	size_t got = fread(magic, 1, 4, f);
	fclose(f);
	if (got == 4 && memcmp(magic, "PAR1", 4) == 0) {
		*out = IN_PARQUET;
		return 0;
	}
	if (floe_text_format_from_path(&tf, path, &err) != 0)
		return floe_cli_usage(cmd, "%s: cannot tell its format from the name; give "
		                      "--input-format csv|ndjson|parquet", path);
	*out = tf == FLOE_TEXT_CSV ? IN_CSV : IN_NDJSON;
	return 0;
}

/* Append the rows of a Parquet file (path, or `mem` when non-NULL). Columns
 * are matched to the table's by name: field ids in a file from elsewhere
 * mean nothing to this table. */
static int append_parquet(append_ctx *ac, const char *path, const floe_buf *mem, floe_error *err)
{
	floe_parquet_reader *r = NULL;
	floe_parquet_scan *scan = NULL;
	floe_field *fields = NULL;
	int rc = mem ? floe_parquet_reader_open_memory(&r, mem->data, mem->len, path, err)
	             : floe_parquet_reader_open(&r, path, err);
	if (rc)
		goto done;
	const floe_schema *fs = floe_parquet_reader_schema(r);
	fields = calloc((size_t)fs->nfields + 1, sizeof *fields);
	if (!fields) {
		rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
		goto done;
	}
	for (int i = 0; i < fs->nfields; i++) {
		fields[i] = fs->fields[i];
		fields[i].field_id = -1;
	}
	floe_schema by_name = { fs->nfields, fields };
	floe_parquet_scan_options so;
	floe_parquet_scan_options_init(&so);
	if ((rc = floe_parquet_scan_open(&scan, r, &so, err)))
		goto done;
	const floe_batch *b;
	while ((rc = floe_parquet_scan_next(scan, &b, err)) == 1) {
		floe_batch view = *b;
		view.schema = &by_name;
		if (view.ncols != by_name.nfields) {
			rc = floe_error_set(err, FLOE_EUNSUPPORTED, "%s: nested columns cannot be "
			                    "appended", path);
			goto done;
		}
		if ((rc = ac->sink(ac->sctx, &view, err)))
			goto done;
		ac->file_rows += b->nrows;
	}
done:
	free(fields);
	floe_parquet_scan_free(scan);
	floe_parquet_reader_free(r);
	return rc;
}

/* Feed the rows of one input (`path`, or "-" for stdin, read into `mem`)
 * of format *kind (stdin without --input-format is sniffed: Parquet magic,
 * a JSON object, else CSV) to ac->sink as rows of `t`. */
static int load_input(append_ctx *ac, const char *path, in_kind *kind, const char *forced,
                      floe_table *t, int64_t batch_rows, floe_buf *mem, floe_error *err)
{
	const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
	FILE *in;
	int rc;
	if (strcmp(path, "-") == 0) {
		floe_buf_clear(mem);
		if (slurp(mem, stdin) != 0)
			return floe_error_set(err, FLOE_EIO, "reading stdin failed");
		if (!forced) {
			size_t k = 0;
			while (k < mem->len && (mem->data[k] == ' ' || mem->data[k] == '\n' ||
			                        mem->data[k] == '\r' || mem->data[k] == '\t'))
				k++;
			*kind = mem->len >= 4 && memcmp(mem->data, "PAR1", 4) == 0 ? IN_PARQUET
			        : k < mem->len && mem->data[k] == '{'               ? IN_NDJSON
			                                                            : IN_CSV;
		}
		if (*kind == IN_PARQUET)
			return append_parquet(ac, shown, mem, err);
		in = fmemopen(mem->data ? (void *)mem->data : (void *)"", mem->len, "rb");
		if (!in)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	} else if (*kind == IN_PARQUET) {
		return append_parquet(ac, path, NULL, err);
	} else if (!(in = fopen(path, "rb"))) {
		return floe_error_set(err, FLOE_EIO, "cannot open %s: %s", path, strerror(errno));
	}
	rc = floe_text_load(in, shown, *kind == IN_CSV ? FLOE_TEXT_CSV : FLOE_TEXT_NDJSON,
	                    floe_table_schema(t), batch_rows, append_text_batch, ac, NULL, err);
	fclose(in);
	return rc;
}

/* Added data files of snapshot `id` from its summary, or -1. */
static int64_t snapshot_added_files(floe_table *t, int64_t id)
{
	const floe_snapshot_info *snaps;
	int n;
	int64_t out = -1;
	if (floe_table_refresh(t, NULL) != 0 || floe_table_snapshots(t, &snaps, &n, NULL) != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (snaps[i].snapshot_id != id || !snaps[i].summary_json)
			continue;
		json_t *j = json_loads(snaps[i].summary_json, 0, NULL);
		json_t *v = json_object_get(j, "added-data-files");
		if (json_is_string(v))
			out = strtoll(json_string_value(v), NULL, 10);
		else if (json_is_integer(v))
			out = json_integer_value(v);
		json_decref(j);
	}
	return out;
}

int floe_cli_table_append(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_catalog *cat = NULL;
	floe_table *t = NULL;
	append_ctx ac = { sink_append, NULL, 0 };
	floe_append *ap = NULL;
	floe_buf mem = FLOE_BUF_INIT;
	const char *name = args->pos[0], *v;
	const char *forced = floe_cli_opt_get(cmd, args, "input-format");
	const char *sums[FLOE_CLI_MAX_REPEATS];
	int64_t batch_rows = 65536, snap_id = -1;
	bool tty = isatty(2) != 0;
	int rc;

	if ((v = floe_cli_opt_get(cmd, args, "batch-rows")) &&
	    (rc = opt_i64(&batch_rows, cmd, "batch-rows", v, 1, INT32_MAX)))
		return rc;
	int nsums = floe_cli_opt_all(cmd, args, "summary", sums, FLOE_CLI_MAX_REPEATS);
	for (int i = 0; i < nsums; i++)
		if (!strchr(sums[i], '=') || sums[i][0] == '=')
			return floe_cli_usage(cmd, "--summary '%s': expected KEY=VALUE", sums[i]);
	int nstdin = 0;
	for (int i = 1; i < args->npos; i++)
		nstdin += strcmp(args->pos[i], "-") == 0;
	if (nstdin > 1)
		return floe_cli_usage(cmd, "stdin ('-') can be read only once");
	/* know every file's format before writing anything */
	in_kind *kinds = calloc((size_t)args->npos, sizeof *kinds);
	if (!kinds)
		return floe_cli_fail("out of memory");
	for (int i = 1; i < args->npos; i++) {
		if (strcmp(args->pos[i], "-") == 0) {
			if (forced && (rc = input_kind(&kinds[i], cmd, forced, "-")))
				goto done;
			continue;
		}
		if ((rc = input_kind(&kinds[i], cmd, forced, args->pos[i])))
			goto done;
	}
	if ((rc = open_table(&t, &cat, cmd, args, name)))
		goto done;
	rc = FLOE_CLI_FAIL;
	if (floe_append_begin(&ap, t, &err) != 0) {
		rc = table_fail(name, &err);
		goto done;
	}
	ac.sctx = ap;
	for (int i = 0; i < nsums; i++) {
		char key[256];
		const char *eq = strchr(sums[i], '=');
		snprintf(key, sizeof key, "%.*s", (int)(eq - sums[i]), sums[i]);
		if (floe_append_set_summary(ap, key, eq + 1, &err) != 0) {
			rc = floe_cli_usage(cmd, "--summary: %s", err.msg);
			goto done;
		}
	}
	int64_t total = 0;
	for (int i = 1; i < args->npos; i++) {
		const char *path = args->pos[i];
		const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
		int lrc;
		ac.file_rows = 0;
		lrc = load_input(&ac, path, &kinds[i], forced, t, batch_rows, &mem, &err);
		if (lrc != 0) {
			if (tty && i > 1)
				fputc('\n', stderr);
			rc = floe_cli_fail("%s (nothing appended to %s; fix the input and run again)",
			                   err.msg, name);
			goto abort;
		}
		total += ac.file_rows;
		if (tty) {
			fprintf(stderr, "\rfloe: %d/%d %s: %" PRId64 " rows (%" PRId64 " in all)", i,
			        args->npos - 1, shown, ac.file_rows, total);
		} else {
			json_t *j = json_pack("{s:s, s:I, s:I, s:i, s:i}", "file", shown, "rows",
			                      (json_int_t)ac.file_rows, "total_rows", (json_int_t)total,
			                      "done", i, "files", args->npos - 1);
			json_line(stderr, j);
		}
	}
	if (tty && args->npos > 1)
		fputc('\n', stderr);
	int crc = floe_append_commit(ap, &snap_id, &err);
	ap = NULL;
	if (crc != 0) {
		rc = table_fail(name, &err);
		goto done;
	}
	if (total == 0) {
		printf("appended 0 rows to %s (nothing committed)\n", floe_table_name(t));
	} else {
		int64_t files = snapshot_added_files(t, snap_id);
		printf("appended %" PRId64 " row%s to %s in snapshot %" PRId64 " (%" PRId64
		       " file%s)\n", total, total == 1 ? "" : "s", floe_table_name(t), snap_id, files,
		       files == 1 ? "" : "s");
	}
	rc = finish_stdout();
	goto done;
abort:
	floe_append_abort(ap);
	ap = NULL;
done:
	floe_append_abort(ap);
	free(kinds);
	floe_buf_free(&mem);
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

/* ---- scan --------------------------------------------------------------- */

static bool type_is_number(const floe_type *ty)
{
	switch (ty->id) {
	case FLOE_TYPE_INT:
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE:
	case FLOE_TYPE_DECIMAL:
		return true;
	default:
		return false;
	}
}

/* Rows of `b` (those with keep[r]) into the grid; offs and cells have
 * b->ncols slots. */
static int grid_batch(grid *g, const floe_batch *b, const uint8_t *keep, floe_buf *scratch,
                      size_t *offs, const char **cells)
{
	for (int64_t r = 0; r < b->nrows; r++) {
		if (keep && !keep[r])
			continue;
		/* every cell into one buffer, then point at the pieces */
		floe_buf_clear(scratch);
		for (int c = 0; c < b->ncols; c++) {
			offs[c] = scratch->len;
			if (!floe_column_is_valid(&b->cols[c], r)) {
				if (floe_buf_append(scratch, "NULL", 4) != 0)
					return -1;
			} else if (floe_format_value(scratch, &b->cols[c], r, false) != 0) {
				return -1;
			}
			if (floe_buf_putc(scratch, 0) != 0)
				return -1;
		}
		for (int c = 0; c < b->ncols; c++)
			cells[c] = (const char *)scratch->data + offs[c];
		if (grid_row(g, cells) != 0)
			return -1;
	}
	return 0;
}

int floe_cli_table_scan(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_catalog *cat = NULL;
	floe_table *t = NULL;
	floe_scan *scan = NULL;
	char *colbuf = NULL;
	const char **names = NULL, **cells = NULL, **heads = NULL;
	size_t *offs = NULL;
	uint8_t *keep = NULL;
	floe_buf scratch = FLOE_BUF_INIT;
	grid g;
	memset(&g, 0, sizeof g);
	int64_t limit = -1, printed = 0;
	const char *v;
	out_kind kind;
	int rc;
	floe_scan_options so;
	floe_scan_options_init(&so);

	if ((rc = out_kind_get(&kind, cmd, args)))
		return rc;
	if ((v = floe_cli_opt_get(cmd, args, "limit")) &&
	    (rc = opt_i64(&limit, cmd, "limit", v, 0, INT64_MAX)))
		return rc;
	if ((v = floe_cli_opt_get(cmd, args, "batch-rows")) &&
	    (rc = opt_i64(&so.batch_rows, cmd, "batch-rows", v, 1, INT32_MAX)))
		return rc;
	if ((v = floe_cli_opt_get(cmd, args, "from"))) {
		if ((rc = opt_i64(&so.from_snapshot_id, cmd, "from", v, INT64_MIN, INT64_MAX)))
			return rc;
		so.incremental = true;
	}
	if ((rc = snapshot_sel(&so.snapshot, cmd, args)))
		return rc;
	so.where = floe_cli_opt_get(cmd, args, "where");
	if ((v = floe_cli_opt_get(cmd, args, "columns"))) {
		int count = 1;
		for (const char *s = v; *s; s++)
			count += *s == ',';
		names = calloc((size_t)count + 1, sizeof *names);
		colbuf = strdup(v);
		if (!names || !colbuf) {
			rc = floe_cli_fail("out of memory");
			goto done;
		}
		char *save = NULL;
		for (char *tok = strtok_r(colbuf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ')
				tok++;
			size_t tl = strlen(tok);
			while (tl > 0 && tok[tl - 1] == ' ')
				tok[--tl] = '\0';
			if (tl)
				names[so.ncolumns++] = tok;
		}
		if (so.ncolumns == 0) {
			rc = floe_cli_usage(cmd, "--columns names no columns");
			goto done;
		}
		so.columns = names;
	}
	const char *name = args->npos ? args->pos[0] : NULL;
	if ((rc = open_table(&t, &cat, cmd, args, name)))
		goto done;
	name = floe_table_name(t);
	rc = FLOE_CLI_FAIL;
	if (floe_scan_open(&scan, t, &so, &err) != 0) {
		if (err.code == FLOE_EINVALID)
			rc = floe_cli_usage(cmd, "%s", err.msg);
		else
			rc = table_fail(name, &err);
		goto done;
	}
	const floe_schema *ss = floe_scan_schema(scan);
	if (kind == OUT_TABLE) {
		heads = calloc((size_t)ss->nfields + 1, sizeof *heads);
		cells = calloc((size_t)ss->nfields + 1, sizeof *cells);
		offs = calloc((size_t)ss->nfields + 1, sizeof *offs);
		if (!heads || !cells || !offs) {
			rc = floe_cli_fail("out of memory");
			goto done;
		}
		for (int c = 0; c < ss->nfields; c++)
			heads[c] = ss->fields[c].name;
		if (grid_init(&g, stdout, ss->nfields, heads) != 0) {
			rc = floe_cli_fail("out of memory");
			goto done;
		}
		for (int c = 0; c < ss->nfields; c++)
			g.right[c] = type_is_number(&ss->fields[c].type);
	}
	bool header_done = false;
	const floe_batch *b;
	int got;
	while (limit != 0 && (got = floe_scan_next(scan, &b, &err)) != 0) {
		if (got < 0) {
			rc = table_fail(name, &err);
			goto done;
		}
		free(keep);
		keep = NULL;
		if (limit >= 0) {
			keep = malloc(b->nrows > 0 ? (size_t)b->nrows : 1);
			if (!keep) {
				rc = floe_cli_fail("out of memory");
				goto done;
			}
			for (int64_t i = 0; i < b->nrows; i++)
				keep[i] = printed + i < limit;
		}
		int64_t shown = limit >= 0 && b->nrows > limit - printed ? limit - printed : b->nrows;
		floe_batch view = *b;
		if (!view.schema)
			view.schema = ss;
		if (kind == OUT_TABLE) {
			if (grid_batch(&g, &view, keep, &scratch, offs, cells) != 0) {
				rc = floe_cli_fail("out of memory");
				goto done;
			}
		} else if (floe_format_batch(stdout, &view, kind == OUT_CSV ? FLOE_FORMAT_CSV
		                                                              : FLOE_FORMAT_JSONL,
		                             &header_done, keep, &err) != 0) {
			rc = floe_cli_fail("%s", err.msg);
			goto done;
		}
		printed += shown;
		if (limit >= 0 && printed >= limit)
			break;
	}
	if (kind == OUT_TABLE) {
		grid_flush(&g);
		printf("(%" PRId64 " row%s)\n", printed, printed == 1 ? "" : "s");
	} else if (kind == OUT_CSV && !header_done) {
		for (int i = 0; i < ss->nfields; i++)
			csv_field(stdout, ss->fields[i].name, i == ss->nfields - 1);
	}
	if ((rc = finish_stdout()))
		goto done;
	if (floe_cli_opt_get(cmd, args, "stats")) {
		floe_scan_stats st;
		floe_scan_get_stats(scan, &st);
		fprintf(stderr,
		        "{\"snapshot_id\":%" PRId64 ",\"manifests\":%" PRId64
		        ",\"manifests_skipped\":%" PRId64 ",\"files\":%" PRId64
		        ",\"files_skipped\":%" PRId64 ",\"files_read\":%" PRId64
		        ",\"row_groups\":%" PRId64 ",\"row_groups_skipped\":%" PRId64
		        ",\"rows_scanned\":%" PRId64 ",\"rows_returned\":%" PRId64
		        ",\"rows_printed\":%" PRId64 ",\"bytes_read\":%" PRId64
		        ",\"delete_files\":%" PRId64 ",\"rows_deleted\":%" PRId64
		        ",\"equality_keys\":%" PRId64 "}\n",
		        st.snapshot_id, st.manifests, st.manifests_skipped, st.files, st.files_skipped,
		        st.files_read, st.row_groups, st.row_groups_skipped, st.rows_scanned,
		        st.rows_returned, printed, st.bytes_read, st.delete_files, st.rows_deleted,
		        st.equality_keys);
	}
	rc = FLOE_CLI_OK;
done:
	grid_free(&g);
	floe_buf_free(&scratch);
	free(keep);
	free(heads);
	free(cells);
	free(offs);
	free(names);
	free(colbuf);
	floe_scan_free(scan);
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

/* ---- describe, snapshots, files, tables ----------------------------------- */

int floe_cli_table_describe(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_catalog *cat = NULL;
	floe_table *t = NULL;
	char *doc = NULL;
	int rc = open_table(&t, &cat, cmd, args, args->npos ? args->pos[0] : NULL);
	if (rc)
		return rc;
	if (floe_table_describe(&doc, t, &err) != 0) {
		rc = table_fail(floe_table_name(t), &err);
		goto done;
	}
	fputs(doc, stdout);
	if (!*doc || doc[strlen(doc) - 1] != '\n')
		fputc('\n', stdout);
	rc = finish_stdout();
done:
	free(doc);
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

/* Summary counter `key` as text ("" when absent). */
static const char *summary_get(json_t *sum, const char *key, char *buf, size_t size)
{
	json_t *v = json_object_get(sum, key);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	return "";
}

int floe_cli_table_snapshots(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	static const char *heads[] = { "", "snapshot_id", "parent_id", "seq", "time", "operation",
	                               "added_records", "total_records", "added_files",
	                               "total_files" };
	enum { NH = (int)(sizeof heads / sizeof heads[0]) };
	static const char *keys[] = { "added-records", "total-records", "added-data-files",
	                              "total-data-files" };
	floe_error err;
	floe_catalog *cat = NULL;
	floe_table *t = NULL;
	grid g;
	memset(&g, 0, sizeof g);
	out_kind kind;
	int rc = out_kind_get(&kind, cmd, args);
	if (rc)
		return rc;
	if ((rc = open_table(&t, &cat, cmd, args, args->npos ? args->pos[0] : NULL)))
		return rc;
	const floe_snapshot_info *snaps;
	int n;
	if (floe_table_snapshots(t, &snaps, &n, &err) != 0) {
		rc = table_fail(floe_table_name(t), &err);
		goto done;
	}
	if (kind == OUT_TABLE) {
		if (grid_init(&g, stdout, NH, heads) != 0) {
			rc = floe_cli_fail("out of memory");
			goto done;
		}
		g.right[1] = g.right[2] = g.right[3] = true;
		for (int c = 6; c < NH; c++)
			g.right[c] = true;
	} else if (kind == OUT_CSV) {
		for (int c = 1; c < NH; c++)
			csv_field(stdout, heads[c], false);
		csv_field(stdout, "current", true);
	}
	for (int i = 0; i < n; i++) {
		const floe_snapshot_info *s = &snaps[i];
		json_t *sum = s->summary_json ? json_loads(s->summary_json, 0, NULL) : NULL;
		char id[24], parent[24], seq[24], when[48], nums[4][24];
		const char *cells[NH + 1];
		snprintf(id, sizeof id, "%" PRId64, s->snapshot_id);
		if (s->has_parent)
			snprintf(parent, sizeof parent, "%" PRId64, s->parent_id);
		else
			parent[0] = '\0';
		snprintf(seq, sizeof seq, "%" PRId64, s->sequence_number);
		format_time_ms(when, sizeof when, s->timestamp_ms);
		cells[0] = s->is_current ? "*" : "";
		cells[1] = id;
		cells[2] = parent;
		cells[3] = seq;
		cells[4] = when;
		cells[5] = s->operation ? s->operation : "";
		for (int k = 0; k < 4; k++)
			cells[6 + k] = summary_get(sum, keys[k], nums[k], sizeof nums[k]);
		if (kind == OUT_TABLE) {
			if (grid_row(&g, cells) != 0) {
				json_decref(sum);
				rc = floe_cli_fail("out of memory");
				goto done;
			}
		} else if (kind == OUT_CSV) {
			for (int c = 1; c < NH; c++)
				csv_field(stdout, cells[c], false);
			csv_field(stdout, s->is_current ? "true" : "false", true);
		} else {
			json_t *j = json_object();
			json_object_set_new(j, "snapshot_id", json_integer(s->snapshot_id));
			json_object_set_new(j, "parent_id",
			                    s->has_parent ? json_integer(s->parent_id) : json_null());
			json_object_set_new(j, "sequence_number", json_integer(s->sequence_number));
			json_object_set_new(j, "timestamp_ms", json_integer(s->timestamp_ms));
			json_object_set_new(j, "time", json_string(when));
			json_object_set_new(j, "operation", json_string(cells[5]));
			json_object_set_new(j, "current", json_boolean(s->is_current));
			json_object_set_new(j, "summary", sum ? json_incref(sum) : json_object());
			if (json_line(stdout, j) != 0) {
				json_decref(sum);
				rc = floe_cli_fail("out of memory");
				goto done;
			}
		}
		json_decref(sum);
	}
	if (kind == OUT_TABLE)
		grid_flush(&g);
	rc = finish_stdout();
done:
	grid_free(&g);
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

typedef struct files_ctx {
	out_kind kind;
	grid g;
} files_ctx;

static int files_one(void *ctx, const floe_file_info *f, floe_error *err)
{
	files_ctx *fc = ctx;
	char recs[24], bytes[24];
	snprintf(recs, sizeof recs, "%" PRId64, f->record_count);
	snprintf(bytes, sizeof bytes, "%" PRId64, f->file_size);
	const char *path = f->local_path ? f->local_path : f->path;
	const char *part = f->partition ? f->partition : "";
	if (fc->kind == OUT_TABLE) {
		const char *cells[4] = { path, part, recs, bytes };
		if (grid_row(&fc->g, cells) != 0)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	} else if (fc->kind == OUT_CSV) {
		csv_field(stdout, path, false);
		csv_field(stdout, part, false);
		csv_field(stdout, recs, false);
		csv_field(stdout, bytes, true);
	} else {
		json_t *j = json_object();
		json_object_set_new(j, "path", json_string(path));
		json_object_set_new(j, "table_path", json_string(f->path ? f->path : ""));
		json_object_set_new(j, "partition", json_string(part));
		json_object_set_new(j, "spec_id", json_integer(f->spec_id));
		json_object_set_new(j, "content", json_integer(f->content));
		json_object_set_new(j, "format", json_string(f->format ? f->format : ""));
		json_object_set_new(j, "record_count", json_integer(f->record_count));
		json_object_set_new(j, "file_size_in_bytes", json_integer(f->file_size));
		json_object_set_new(j, "sequence_number", json_integer(f->sequence_number));
		if (json_line(stdout, j) != 0)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	return 0;
}

int floe_cli_table_files(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	static const char *heads[] = { "path", "partition", "records", "bytes" };
	floe_error err;
	floe_catalog *cat = NULL;
	floe_table *t = NULL;
	files_ctx fc;
	memset(&fc, 0, sizeof fc);
	floe_snapshot_sel sel;
	int rc = out_kind_get(&fc.kind, cmd, args);
	if (rc || (rc = snapshot_sel(&sel, cmd, args)))
		return rc;
	if ((rc = open_table(&t, &cat, cmd, args, args->npos ? args->pos[0] : NULL)))
		return rc;
	if (fc.kind == OUT_TABLE) {
		if (grid_init(&fc.g, stdout, 4, heads) != 0) {
			rc = floe_cli_fail("out of memory");
			goto done;
		}
		fc.g.right[2] = fc.g.right[3] = true;
	} else if (fc.kind == OUT_CSV) {
		for (int c = 0; c < 4; c++)
			csv_field(stdout, heads[c], c == 3);
	}
	if (floe_table_files(t, &sel, files_one, &fc, &err) != 0) {
		rc = table_fail(floe_table_name(t), &err);
		goto done;
	}
	if (fc.kind == OUT_TABLE)
		grid_flush(&fc.g);
	rc = finish_stdout();
done:
	grid_free(&fc.g);
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

int floe_cli_table_tables(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_catalog *cat = NULL;
	char **idents = NULL;
	size_t n = 0;
	const char *ns = args->npos ? args->pos[0] : NULL;
	if (ns && floe_ident_check_namespace(ns, &err) != 0)
		return floe_cli_usage(cmd, "'%s' is not a namespace name: %s", ns, err.msg);
	int rc = open_catalog(&cat, cmd, args);
	if (rc)
		return rc;
	if (floe_catalog_list_tables(cat, ns, &idents, &n, &err) != 0) {
		rc = err.code == FLOE_ENOTFOUND
		     ? floe_cli_fail("%s (run 'floe tables' for every table)", err.msg)
		     : floe_cli_fail("%s", err.msg);
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		printf("%s\n", idents[i]);
	rc = finish_stdout();
done:
	floe_catalog_free_list(idents, n);
	floe_catalog_close(cat);
	return rc;
}

/* ---- alter, drop, rename ---------------------------------------------------- */

/* "first" | "after COL" from positional arguments pos[at..]; NULL = none;
 * *bad on a malformed position. `buf` holds "after COL". */
static const char *alter_position(const floe_cli_args *args, int at, char *buf, size_t size,
                                  bool *bad)
{
	*bad = false;
	if (args->npos <= at)
		return NULL;
	if (strcmp(args->pos[at], "first") == 0 && args->npos == at + 1)
		return "first";
	if (strcmp(args->pos[at], "after") == 0 && args->npos == at + 2) {
		int w = snprintf(buf, size, "after %s", args->pos[at + 1]);
		if (w > 0 && (size_t)w < size)
			return buf;
	}
	*bad = true;
	return NULL;
}

int floe_cli_table_alter(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	static const struct {
		const char *action;
		int min, max; /* arguments after ACTION */
		const char *usage;
	} actions[] = {
		{ "add-column", 2, 4, "add-column NAME TYPE [first | after COL]" },
		{ "rename-column", 2, 2, "rename-column OLD NEW" },
		{ "drop-column", 1, 1, "drop-column NAME" },
		{ "widen-column", 2, 2, "widen-column NAME TYPE" },
		{ "move-column", 2, 3, "move-column NAME first | after COL" },
		{ "set-partition", 1, 1, "set-partition \"SPEC\"" },
		{ "set-property", 2, 2, "set-property KEY VALUE" },
		{ "unset-property", 1, 1, "unset-property KEY" },
		{ "tag", 1, 2, "tag NAME [SNAPSHOT_ID]" },
		{ "drop-tag", 1, 1, "drop-tag NAME" },
	};
	enum { NACTIONS = (int)(sizeof actions / sizeof actions[0]) };
	floe_error err;
	floe_catalog *cat = NULL;
	floe_table *t = NULL;
	const char *name = args->pos[0], *action = args->pos[1];
	const char *const *a = args->pos + 2;
	int na = args->npos - 2, k = -1, rc;
	char posbuf[320];
	bool bad;
	for (int i = 0; i < NACTIONS; i++)
		if (strcmp(actions[i].action, action) == 0)
			k = i;
	if (k < 0)
		return floe_cli_usage(cmd, "unknown action '%s'; one of add-column, rename-column, "
		                      "drop-column, widen-column, move-column, set-partition, "
		                      "set-property, unset-property, tag, drop-tag", action);
	if (na < actions[k].min || na > actions[k].max)
		return floe_cli_usage(cmd, "expected: floe alter TABLE %s", actions[k].usage);
	if ((rc = check_ident(cmd, name)))
		return rc;
	const char *pos = NULL;
	int64_t snap = -1;
	if (k == 0 || k == 4) {
		pos = alter_position(args, k == 0 ? 4 : 3, posbuf, sizeof posbuf, &bad);
		if (bad || (k == 4 && !pos))
			return floe_cli_usage(cmd, "expected: floe alter TABLE %s", actions[k].usage);
	}
	if (k == 8 && na == 2 && (rc = opt_i64(&snap, cmd, "tag SNAPSHOT_ID", a[1], 0, INT64_MAX)))
		return rc;
	if ((rc = open_table(&t, &cat, cmd, args, name)))
		return rc;
	int lrc;
	switch (k) {
	case 0: lrc = floe_table_add_column(t, a[0], a[1], pos, &err); break;
	case 1: lrc = floe_table_rename_column(t, a[0], a[1], &err); break;
	case 2: lrc = floe_table_drop_column(t, a[0], &err); break;
	case 3: lrc = floe_table_widen_column(t, a[0], a[1], &err); break;
	case 4: lrc = floe_table_move_column(t, a[0], pos, &err); break;
	case 5: lrc = floe_table_set_partition(t, a[0], &err); break;
	case 6: lrc = floe_table_set_property(t, a[0], a[1], &err); break;
	case 7: lrc = floe_table_set_property(t, a[0], NULL, &err); break;
	case 8: lrc = floe_table_create_tag(t, a[0], snap, &err); break;
	default: lrc = floe_table_drop_tag(t, a[0], &err); break;
	}
	if (lrc != 0) {
		if (lrc == FLOE_EINVALID)
			rc = floe_cli_fail("%s (see 'floe describe %s' for the table as it is)", err.msg,
			                   name);
		else
			rc = table_fail(name, &err);
		goto done;
	}
	printf("altered %s: %s", floe_table_name(t), action);
	for (int i = 0; i < na; i++)
		printf(" %s", a[i]);
	printf("\n");
	rc = finish_stdout();
done:
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

int floe_cli_table_delete(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_catalog *cat = NULL;
	floe_table *t = NULL;
	const char *name = args->pos[0];
	const char *where = floe_cli_opt_get(cmd, args, "where");
	bool all = floe_cli_opt_get(cmd, args, "all") != NULL;
	if (!where && !all)
		return floe_cli_usage(cmd, "give --where EXPR (or --all to delete every row)");
	if (where && all)
		return floe_cli_usage(cmd, "give either --where EXPR or --all, not both");
	int rc = open_table(&t, &cat, cmd, args, name);
	if (rc)
		return rc;
	floe_delete_result res;
	if (floe_table_delete(t, where, &res, &err) != 0) {
		if (err.code == FLOE_EINVALID && where)
			rc = floe_cli_fail("%s (see docs/filters.md for the filter syntax, 'floe describe %s' "
			                   "for the columns)", err.msg, name);
		else
			rc = table_fail(name, &err);
		goto done;
	}
	if (res.rows_deleted == 0) {
		printf("deleted 0 rows from %s (nothing matched, nothing committed)\n", floe_table_name(t));
	} else if (res.merge_on_read) {
		printf("deleted %" PRId64 " row%s from %s in snapshot %" PRId64 " (merge-on-read: %" PRId64
		       " position delete file%s, %" PRId64 " data file%s removed whole)\n",
		       res.rows_deleted, res.rows_deleted == 1 ? "" : "s", floe_table_name(t),
		       res.snapshot_id, res.delete_files_added, res.delete_files_added == 1 ? "" : "s",
		       res.data_files_removed, res.data_files_removed == 1 ? "" : "s");
	} else {
		printf("deleted %" PRId64 " row%s from %s in snapshot %" PRId64 " (copy-on-write: %" PRId64
		       " data file%s removed, %" PRId64 " written)\n",
		       res.rows_deleted, res.rows_deleted == 1 ? "" : "s", floe_table_name(t),
		       res.snapshot_id, res.data_files_removed, res.data_files_removed == 1 ? "" : "s",
		       res.data_files_added);
	}
	rc = finish_stdout();
done:
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

static int sink_merge(void *ctx, const floe_batch *b, floe_error *err)
{
	return floe_merge_batch(ctx, b, err);
}

int floe_cli_table_merge(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_catalog *cat = NULL;
	floe_table *t = NULL;
	floe_merge *m = NULL;
	floe_buf mem = FLOE_BUF_INIT;
	const char *name = args->pos[0], *path = args->pos[1];
	const char *forced = floe_cli_opt_get(cmd, args, "input-format");
	const char *on = floe_cli_opt_get(cmd, args, "on");
	char onbuf[1024];
	const char *keys[16];
	int nkeys = 0;
	in_kind kind = IN_CSV;
	int rc;
	if (!on)
		return floe_cli_usage(cmd, "give the key columns with --on KEY[,KEY...]");
	snprintf(onbuf, sizeof onbuf, "%s", on);
	for (char *p = strtok(onbuf, ","); p; p = strtok(NULL, ",")) {
		while (*p == ' ')
			p++;
		size_t n = strlen(p);
		while (n && p[n - 1] == ' ')
			p[--n] = 0;
		if (!*p)
			continue;
		if (nkeys == 16)
			return floe_cli_usage(cmd, "--on: at most 16 key columns");
		keys[nkeys++] = p;
	}
	if (nkeys == 0)
		return floe_cli_usage(cmd, "--on '%s': no column names", on);
	if (strcmp(path, "-") != 0 || forced)
		if ((rc = input_kind(&kind, cmd, forced, path)))
			return rc;
	if ((rc = open_table(&t, &cat, cmd, args, name)))
		return rc;
	floe_merge_options mo;
	floe_merge_options_init(&mo);
	mo.on = keys;
	mo.non = nkeys;
	mo.precombine = floe_cli_opt_get(cmd, args, "precombine");
	mo.precombine_table = floe_cli_opt_get(cmd, args, "skip-older") != NULL;
	mo.delete_when = floe_cli_opt_get(cmd, args, "delete-when");
	if (floe_merge_begin(&m, t, &mo, &err) != 0) {
		rc = err.code == FLOE_EINVALID || err.code == FLOE_ENOTFOUND
		             ? floe_cli_fail("%s (see 'floe describe %s' for the columns)", err.msg, name)
		             : table_fail(name, &err);
		goto done;
	}
	append_ctx ac = { sink_merge, m, 0 };
	if (load_input(&ac, path, &kind, forced, t, 65536, &mem, &err) != 0) {
		rc = floe_cli_fail("%s (nothing merged into %s; fix the input and run again)", err.msg, name);
		goto done;
	}
	floe_merge_result res;
	int crc = floe_merge_commit(m, &res, &err);
	m = NULL;
	if (crc != 0) {
		rc = table_fail(name, &err);
		goto done;
	}
	if (res.source_rows == 0)
		printf("merged 0 rows into %s (nothing committed)\n", floe_table_name(t));
	else if (res.merge_on_read)
		printf("merged %" PRId64 " rows into %s in snapshot %" PRId64 " (merge-on-read: %" PRId64
		       " upserted, %" PRId64 " older skipped, keys deleted by an equality delete file)\n",
		       res.source_rows, floe_table_name(t), res.snapshot_id, res.upserted, res.stale);
	else
		printf("merged %" PRId64 " rows into %s in snapshot %" PRId64 " (copy-on-write: %" PRId64
		       " inserted, %" PRId64 " updated, %" PRId64 " deleted, %" PRId64 " unchanged, %"
		       PRId64 " older skipped; %" PRId64 " data file%s rewritten)\n", res.source_rows,
		       floe_table_name(t), res.snapshot_id, res.inserted, res.updated, res.deleted,
		       res.unchanged, res.stale, res.data_files_removed,
		       res.data_files_removed == 1 ? "" : "s");
	rc = finish_stdout();
done:
	floe_merge_abort(m);
	floe_buf_free(&mem);
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

int floe_cli_table_compact(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_catalog *cat = NULL;
	floe_table *t = NULL;
	const char *name = args->pos[0], *v;
	floe_compact_options co;
	floe_compact_options_init(&co);
	co.where = floe_cli_opt_get(cmd, args, "where");
	int rc;
	if ((v = floe_cli_opt_get(cmd, args, "target-file-size")) &&
	    (rc = opt_i64(&co.target_file_size, cmd, "target-file-size", v, 1024, INT64_MAX / 2)))
		return rc;
	if ((v = floe_cli_opt_get(cmd, args, "min-file-size")) &&
	    (rc = opt_i64(&co.min_file_size, cmd, "min-file-size", v, 1, INT64_MAX / 2)))
		return rc;
	if ((v = floe_cli_opt_get(cmd, args, "copy-min-row-group-bytes")) &&
	    (rc = opt_i64(&co.copy_min_row_group_bytes, cmd, "copy-min-row-group-bytes", v, 1,
	                  INT64_MAX / 2)))
		return rc;
	co.rewrite_all = floe_cli_opt_get(cmd, args, "rewrite-all") != NULL;
	if ((rc = open_table(&t, &cat, cmd, args, name)))
		return rc;
	floe_compact_result res;
	if (floe_table_compact(t, &co, &res, &err) != 0) {
		rc = table_fail(name, &err);
		goto done;
	}
	if (res.data_files_rewritten == 0)
		printf("nothing to compact in %s (no partition with two small files or with deletes)\n",
		       floe_table_name(t));
	else
		printf("compacted %s in snapshot %" PRId64 ": %" PRId64 " data files (%" PRId64
		       " bytes; %" PRId64 " copied row group by row group) into %" PRId64 " (%" PRId64
		       " bytes, %" PRId64 " rows); %" PRId64 " delete file%s dropped\n",
		       floe_table_name(t), res.snapshot_id, res.data_files_rewritten, res.bytes_read,
		       res.data_files_copied, res.data_files_added, res.bytes_written, res.rows,
		       res.delete_files_removed, res.delete_files_removed == 1 ? "" : "s");
	rc = finish_stdout();
done:
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

int floe_cli_table_update(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_catalog *cat = NULL;
	floe_table *t = NULL;
	const char *name = args->pos[0];
	const char *set = floe_cli_opt_get(cmd, args, "set");
	const char *where = floe_cli_opt_get(cmd, args, "where");
	bool all = floe_cli_opt_get(cmd, args, "all") != NULL;
	if (!set)
		return floe_cli_usage(cmd, "give --set \"COL = EXPR, ...\"");
	if (!where && !all)
		return floe_cli_usage(cmd, "give --where EXPR (or --all to update every row)");
	if (where && all)
		return floe_cli_usage(cmd, "give either --where EXPR or --all, not both");
	int rc = open_table(&t, &cat, cmd, args, name);
	if (rc)
		return rc;
	floe_update_result res;
	if (floe_expr_update(t, set, where, &res, &err) != 0) {
		if (err.code == FLOE_EINVALID || err.code == FLOE_ENOTFOUND)
			rc = floe_cli_fail("%s (see docs/expressions.md for --set, docs/filters.md for "
			                   "--where, 'floe describe %s' for the columns)", err.msg, name);
		else
			rc = table_fail(name, &err);
		goto done;
	}
	if (res.rows_updated == 0)
		printf("updated 0 rows of %s (nothing matched, nothing committed)\n", floe_table_name(t));
	else
		printf("updated %" PRId64 " row%s of %s in snapshot %" PRId64 " (%s: %" PRId64
		       " data file%s removed, %" PRId64 " written, %" PRId64 " position delete file%s)\n",
		       res.rows_updated, res.rows_updated == 1 ? "" : "s", floe_table_name(t),
		       res.snapshot_id, res.merge_on_read ? "merge-on-read" : "copy-on-write",
		       res.data_files_removed, res.data_files_removed == 1 ? "" : "s", res.data_files_added,
		       res.delete_files_added, res.delete_files_added == 1 ? "" : "s");
	rc = finish_stdout();
done:
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

int floe_cli_table_changes(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_catalog *cat = NULL;
	floe_table *t = NULL;
	floe_changes *ch = NULL;
	const char *name = args->pos[0], *v;
	int64_t from = -1, to = -1;
	int rc;
	const char *fmt = floe_cli_opt_get(cmd, args, "format");
	bool csv = fmt && strcmp(fmt, "csv") == 0;
	if (fmt && !csv && strcmp(fmt, "jsonl") != 0)
		return floe_cli_usage(cmd, "--format '%s': expected csv or jsonl", fmt);
	if (!(v = floe_cli_opt_get(cmd, args, "from")))
		return floe_cli_usage(cmd, "give --from SNAPSHOT_ID (exclusive; see 'floe snapshots %s')",
		                      name);
	if ((rc = opt_i64(&from, cmd, "from", v, INT64_MIN, INT64_MAX)))
		return rc;
	if ((v = floe_cli_opt_get(cmd, args, "to")) &&
	    (rc = opt_i64(&to, cmd, "to", v, INT64_MIN, INT64_MAX)))
		return rc;
	if ((rc = open_table(&t, &cat, cmd, args, name)))
		return rc;
	if (floe_changes_open(&ch, t, from, to, &err) != 0) {
		rc = table_fail(name, &err);
		goto done;
	}
	bool header_done = false;
	const floe_batch *b;
	int got;
	while ((got = floe_changes_next(ch, &b, &err)) != 0) {
		if (got < 0) {
			rc = table_fail(name, &err);
			goto done;
		}
		if (floe_format_batch(stdout, b, csv ? FLOE_FORMAT_CSV : FLOE_FORMAT_JSONL, &header_done,
		                      NULL, &err) != 0) {
			rc = floe_cli_fail("%s", err.msg);
			goto done;
		}
	}
	rc = finish_stdout();
done:
	floe_changes_free(ch);
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

int floe_cli_table_drop(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_catalog *cat = NULL;
	const char *name = args->pos[0];
	bool purge = floe_cli_opt_get(cmd, args, "purge") != NULL;
	int rc = check_ident(cmd, name);
	if (rc || (rc = open_catalog(&cat, cmd, args)))
		return rc;
	if (floe_table_drop(cat, name, purge, &err) != 0) {
		if (err.code == FLOE_ENOTFOUND)
			rc = floe_cli_fail("no table '%s' in warehouse %s (see 'floe tables')", name,
			                   floe_cli_warehouse(cmd, args));
		else
			rc = table_fail(name, &err);
		goto done;
	}
	printf("dropped %s%s\n", name, purge ? " and deleted its files" : "");
	rc = finish_stdout();
done:
	floe_catalog_close(cat);
	return rc;
}

int floe_cli_table_rename(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_catalog *cat = NULL;
	floe_ident from, to;
	const char *a = args->pos[0], *b = args->pos[1];
	int rc = check_ident(cmd, a);
	if (rc || (rc = check_ident(cmd, b)))
		return rc;
	floe_ident_parse(&from, a, NULL);
	floe_ident_parse(&to, b, NULL);
	if ((rc = open_catalog(&cat, cmd, args)))
		return rc;
	if (floe_catalog_rename_table(cat, &from, &to, &err) != 0) {
		if (err.code == FLOE_EEXISTS)
			rc = floe_cli_fail("%s (pick another name, or 'floe drop %s' first)", err.msg, b);
		else if (err.code == FLOE_ENOTFOUND)
			rc = floe_cli_fail("%s (see 'floe tables'; the target namespace must exist)",
			                   err.msg);
		else
			rc = floe_cli_fail("%s", err.msg);
		goto done;
	}
	printf("renamed %s to %s\n", a, b);
	rc = finish_stdout();
done:
	floe_catalog_close(cat);
	return rc;
}
