/* cli/parquet_cmd.c - `floe parquet inspect|cat|write|verify`: thin commands over
 * floe/parquet.h, with text input (text.c) and output (format.c). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "util/format.h"
#include "util/text.h"
#include "floe/parquet.h"
#include "parquet/reader_int.h" /* pq_reader_verify: the page count */

/* Non-negative integer option; -1 after printing a usage error. */
static int64_t opt_int(const floe_cli_cmd *cmd, const char *name, const char *v,
                       int64_t lo, int64_t hi)
{
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (end == v || *end || errno || x < lo || x > hi) {
		floe_cli_usage(cmd, "--%s wants a whole number from %lld to %lld, not '%s'", name,
		               (long long)lo, (long long)hi, v);
		return -1;
	}
	return x;
}

int floe_cli_parquet_inspect(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	(void)cmd;
	floe_error err;
	floe_parquet_reader *r = NULL;
	char *doc = NULL;
	int rc = FLOE_CLI_FAIL;
	if (floe_parquet_reader_open(&r, args->pos[0], &err) != 0 ||
	    floe_parquet_reader_describe(&doc, r, &err) != 0) {
		floe_cli_fail("%s", err.msg);
		goto done;
	}
	json_t *j = json_loads(doc, 0, NULL);
	char *pretty = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	fputs(pretty ? pretty : doc, stdout);
	fputc('\n', stdout);
	free(pretty);
	json_decref(j);
	rc = fflush(stdout) == 0 ? FLOE_CLI_OK : floe_cli_fail("writing to stdout failed");
done:
	free(doc);
	floe_parquet_reader_free(r);
	return rc;
}

int floe_cli_parquet_verify(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	(void)cmd;
	floe_error err;
	floe_parquet_reader *r = NULL;
	int64_t pages = 0;
	int rc = FLOE_CLI_FAIL;
	if (floe_parquet_reader_open(&r, args->pos[0], &err) != 0 ||
	    pq_reader_verify(r, &pages, &err) != 0) {
		floe_cli_fail("%s", err.msg);
		goto done;
	}
	printf("%s: ok (%" PRId64 " rows, %d row groups, %" PRId64 " pages)\n", args->pos[0],
	       floe_parquet_reader_num_rows(r), floe_parquet_reader_num_row_groups(r), pages);
	rc = fflush(stdout) == 0 ? FLOE_CLI_OK : floe_cli_fail("writing to stdout failed");
done:
	floe_parquet_reader_free(r);
	return rc;
}

/* ---- --where ------------------------------------------------------------ */

typedef struct where {
	char *column;          /* malloc'ed */
	floe_parquet_op op;
	floe_value value;
	floe_buf scratch;      /* bytes of value for byte types */
	char *literal;         /* malloc'ed text the value may point into */
} where;

static void where_free(where *w)
{
	free(w->column);
	free(w->literal);
	floe_buf_free(&w->scratch);
}

/* "COL OP LITERAL" | "COL is null"; the literal may be in '...' quotes.
 * Returns 0 or an exit code after printing the error. */
static int where_parse(where *w, const floe_cli_cmd *cmd, const char *text,
                       const floe_schema *schema)
{
	const char *p = text;
	while (*p == ' ')
		p++;
	const char *c0 = p;
	while (*p && *p != ' ' && *p != '=' && *p != '<' && *p != '>')
		p++;
	if (p == c0)
		return floe_cli_usage(cmd, "--where '%s': expected \"COLUMN OP LITERAL\"", text);
	w->column = strndup(c0, (size_t)(p - c0));
	while (*p == ' ')
		p++;
	if (!w->column)
		return floe_cli_fail("out of memory");
	int col = floe_schema_find(schema, w->column);
	if (col < 0)
		return floe_cli_fail("--where: no column '%s' in the file (see 'floe parquet "
		                     "inspect' for its columns)", w->column);
	if (strncasecmp(p, "is", 2) == 0 && p[2] == ' ') {
		const char *q = p + 2;
		while (*q == ' ')
			q++;
		if (strncasecmp(q, "null", 4) == 0) {
			q += 4;
			while (*q == ' ')
				q++;
			if (*q == '\0') {
				w->op = FLOE_PARQUET_IS_NULL;
				return 0;
			}
		}
		return floe_cli_usage(cmd, "--where '%s': expected \"COLUMN is null\"", text);
	}
	if (p[0] == '<' && p[1] == '=')
		w->op = FLOE_PARQUET_LE, p += 2;
	else if (p[0] == '>' && p[1] == '=')
		w->op = FLOE_PARQUET_GE, p += 2;
	else if (p[0] == '<')
		w->op = FLOE_PARQUET_LT, p++;
	else if (p[0] == '>')
		w->op = FLOE_PARQUET_GT, p++;
	else if (p[0] == '=')
		w->op = FLOE_PARQUET_EQ, p++;
	else
		return floe_cli_usage(cmd, "--where '%s': the operator must be one of = < <= > >= "
		                      "or 'is null'", text);
	while (*p == ' ')
		p++;
	size_t n = strlen(p);
	while (n > 0 && p[n - 1] == ' ')
		n--;
	if (n >= 2 && (p[0] == '\'' || p[0] == '"') && p[n - 1] == p[0]) {
		p++;
		n -= 2;
	}
	w->literal = strndup(p, n);
	if (!w->literal)
		return floe_cli_fail("out of memory");
	floe_error err;
	if (floe_text_parse(&w->value, &schema->fields[col].type, w->literal, n, &w->scratch,
	                    &err) != 0)
		return floe_cli_usage(cmd, "--where: literal for column '%s': %s", w->column, err.msg);
	return 0;
}

static int cmp_i64(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

static int cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c < 0 ? -1 : 1;
	return (an > bn) - (an < bn);
}

static __int128 be_i128(const uint8_t *p)
{
	unsigned __int128 u = 0;
	for (int k = 0; k < 16; k++)
		u = u << 8 | p[k];
	return (__int128)u;
}

/* Does row `r` of `col` satisfy the predicate? NULL satisfies only IS NULL;
 * NaN satisfies no comparison. */
static bool where_match(const where *w, const floe_column *col, int64_t r)
{
	bool valid = floe_column_is_valid(col, r);
	if (w->op == FLOE_PARQUET_IS_NULL)
		return !valid;
	if (!valid)
		return false;
	const floe_type *t = &col->type;
	int c;
	if (floe_type_is_variable(t)) {
		const uint8_t *p = col->data + col->offsets[r];
		size_t n = (size_t)(col->offsets[r + 1] - col->offsets[r]);
		c = cmp_bytes(p, n, w->value.bytes, (size_t)w->value.len);
	} else {
		int wd = floe_type_value_width(t);
		const uint8_t *at = (const uint8_t *)col->values + (size_t)r * (size_t)wd;
		switch (t->id) {
		case FLOE_TYPE_BOOLEAN:
			c = cmp_i64(at[0] != 0, w->value.b);
			break;
		case FLOE_TYPE_INT:
		case FLOE_TYPE_DATE: {
			int32_t v;
			memcpy(&v, at, 4);
			c = cmp_i64(t->is_unsigned ? (int64_t)(uint32_t)v : v, w->value.i);
			break;
		}
		case FLOE_TYPE_FLOAT:
		case FLOE_TYPE_DOUBLE: {
			double d;
			if (t->id == FLOE_TYPE_FLOAT) {
				float f;
				memcpy(&f, at, 4);
				d = f;
			} else {
				memcpy(&d, at, 8);
			}
			if (d != d || w->value.d != w->value.d)
				return false;
			c = (d > w->value.d) - (d < w->value.d);
			break;
		}
		case FLOE_TYPE_UUID:
		case FLOE_TYPE_FIXED:
			c = cmp_bytes(at, (size_t)wd, w->value.bytes, (size_t)w->value.len);
			break;
		default: {
			if (wd == 16) { /* DECIMAL P>18 */
				__int128 a = be_i128(at), b = be_i128(w->value.bytes);
				c = (a > b) - (a < b);
				break;
			}
			int64_t v;
			memcpy(&v, at, 8);
			if (t->is_unsigned)
				c = ((uint64_t)v > (uint64_t)w->value.i) - ((uint64_t)v < (uint64_t)w->value.i);
			else
				c = cmp_i64(v, w->value.i);
		}
		}
	}
	switch (w->op) {
	case FLOE_PARQUET_EQ: return c == 0;
	case FLOE_PARQUET_LT: return c < 0;
	case FLOE_PARQUET_LE: return c <= 0;
	case FLOE_PARQUET_GT: return c > 0;
	case FLOE_PARQUET_GE: return c >= 0;
	default: return false;
	}
}

/* ---- cat ---------------------------------------------------------------- */

int floe_cli_parquet_cat(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_parquet_reader *r = NULL;
	floe_parquet_scan *scan = NULL;
	char *colbuf = NULL;
	const char **names = NULL;
	uint8_t *keep = NULL;
	where w;
	memset(&w, 0, sizeof w);
	int rc = FLOE_CLI_FAIL;
	floe_format_kind kind = FLOE_FORMAT_JSONL;
	int64_t limit = -1;
	const char *v;

	if ((v = floe_cli_opt_get(cmd, args, "format")) &&
	    floe_format_kind_parse(&kind, v, &err) != 0) {
		rc = floe_cli_usage(cmd, "%s", err.msg);
		goto done;
	}
	if ((v = floe_cli_opt_get(cmd, args, "limit")) &&
	    (limit = opt_int(cmd, "limit", v, 0, INT64_MAX)) < 0) {
		rc = FLOE_CLI_USAGE;
		goto done;
	}
	if (floe_parquet_reader_open(&r, args->pos[0], &err) != 0) {
		rc = floe_cli_fail("%s", err.msg);
		goto done;
	}
	const floe_schema *fs = floe_parquet_reader_schema(r);
	/* projection: --columns (or every column), then the --where column
	 * when it is not printed */
	int nshow = 0, nproj = 0;
	names = calloc((size_t)fs->nfields + 2, sizeof *names);
	if (!names) {
		rc = floe_cli_fail("out of memory");
		goto done;
	}
	if ((v = floe_cli_opt_get(cmd, args, "columns"))) {
		int count = 1;
		for (const char *s = v; *s; s++)
			count += *s == ',';
		free(names);
		names = calloc((size_t)count + 2, sizeof *names);
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
			if (floe_schema_find(fs, tok) < 0) {
				rc = floe_cli_fail("--columns: no column '%s' in %s (see 'floe parquet "
				                   "inspect %s')", tok, args->pos[0], args->pos[0]);
				goto done;
			}
			names[nshow++] = tok;
		}
		if (nshow == 0) {
			rc = floe_cli_usage(cmd, "--columns names no columns");
			goto done;
		}
	} else {
		for (int i = 0; i < fs->nfields; i++)
			names[nshow++] = fs->fields[i].name;
	}
	nproj = nshow;
	int where_col = -1;
	floe_parquet_predicate pred;
	memset(&pred, 0, sizeof pred);
	if ((v = floe_cli_opt_get(cmd, args, "where"))) {
		rc = where_parse(&w, cmd, v, fs);
		if (rc)
			goto done;
		rc = FLOE_CLI_FAIL;
		for (int i = 0; i < nshow; i++)
			if (strcmp(names[i], w.column) == 0)
				where_col = i;
		if (where_col < 0) {
			names[nproj] = w.column;
			where_col = nproj++;
		}
		pred.column = w.column;
		pred.field_id = -1;
		pred.op = w.op;
		pred.values = w.op == FLOE_PARQUET_IS_NULL ? NULL : &w.value;
		pred.nvalues = w.op == FLOE_PARQUET_IS_NULL ? 0 : 1;
	}
	floe_parquet_scan_options so;
	floe_parquet_scan_options_init(&so);
	so.columns = names;
	so.ncolumns = nproj;
	if (where_col >= 0) {
		so.predicates = &pred;
		so.npredicates = 1;
	}
	if (floe_parquet_scan_open(&scan, r, &so, &err) != 0) {
		rc = floe_cli_fail("%s", err.msg);
		goto done;
	}
	bool header_done = false;
	int64_t printed = 0;
	const floe_batch *b;
	int got;
	while (limit != 0 && (got = floe_parquet_scan_next(scan, &b, &err)) != 0) {
		if (got < 0) {
			rc = floe_cli_fail("%s", err.msg);
			goto done;
		}
		free(keep);
		keep = malloc(b->nrows > 0 ? (size_t)b->nrows : 1);
		if (!keep) {
			rc = floe_cli_fail("out of memory");
			goto done;
		}
		for (int64_t i = 0; i < b->nrows; i++) {
			keep[i] = where_col < 0 || where_match(&w, &b->cols[where_col], i);
			if (keep[i] && limit >= 0 && printed >= limit)
				keep[i] = 0;
			printed += keep[i];
		}
		floe_schema shown = { nshow, b->schema ? b->schema->fields : NULL };
		floe_batch view = { b->nrows, nshow, b->cols, b->schema ? &shown : NULL };
		if (floe_format_batch(stdout, &view, kind, &header_done, keep, &err) != 0) {
			rc = floe_cli_fail("%s", err.msg);
			goto done;
		}
		if (limit >= 0 && printed >= limit)
			break;
	}
	if (kind == FLOE_FORMAT_CSV && !header_done) {
		/* no rows: still print the header */
		for (int i = 0; i < nshow; i++)
			printf("%s%s", i ? "," : "", names[i]);
		printf("\n");
	}
	if (fflush(stdout) != 0) {
		rc = floe_cli_fail("writing to stdout failed");
		goto done;
	}
	if (floe_cli_opt_get(cmd, args, "stats")) {
		floe_parquet_scan_stats st;
		floe_parquet_scan_get_stats(scan, &st);
		fprintf(stderr,
		        "{\"row_groups\":%d,\"row_groups_skipped\":%d,\"pages\":%" PRId64
		        ",\"pages_skipped\":%" PRId64 ",\"rows_returned\":%" PRId64
		        ",\"rows_printed\":%" PRId64 ",\"bytes_read\":%" PRId64 "}\n",
		        st.row_groups, st.row_groups_skipped, st.pages, st.pages_skipped,
		        st.rows_returned, printed, st.bytes_read);
	}
	rc = FLOE_CLI_OK;
done:
	free(keep);
	free(names);
	free(colbuf);
	where_free(&w);
	floe_parquet_scan_free(scan);
	floe_parquet_reader_free(r);
	return rc;
}

/* ---- write -------------------------------------------------------------- */

typedef struct write_ctx {
	floe_parquet_writer *w;
	int64_t rows;
	bool progress;
} write_ctx;

static int write_batch(void *ctx, const floe_batch *batch, floe_error *err)
{
	write_ctx *wc = ctx;
	int rc = floe_parquet_writer_write(wc->w, batch, err);
	wc->rows += batch->nrows;
	if (rc == 0 && wc->progress)
		fprintf(stderr, "\rfloe: %" PRId64 " rows written", wc->rows);
	return rc;
}

int floe_cli_parquet_write(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_error err;
	floe_arena *arena = NULL;
	floe_schema *schema = NULL;
	FILE *in = NULL;
	write_ctx wc = { NULL, 0, false };
	int rc = FLOE_CLI_FAIL;
	const char *out = args->pos[0], *input = args->pos[1], *v;
	floe_parquet_write_options opts;
	floe_parquet_write_options_init(&opts);
	floe_text_format fmt;
	int64_t batch_rows = 65536, x;

	const char *schema_text = floe_cli_opt_get(cmd, args, "schema");
	if (!schema_text)
		return floe_cli_usage(cmd, "missing --schema \"name type [not null], ...\"");
	if ((v = floe_cli_opt_get(cmd, args, "input-format"))) {
		if (floe_text_format_parse(&fmt, v, &err) != 0)
			return floe_cli_usage(cmd, "%s", err.msg);
	} else if (strcmp(input, "-") == 0) {
		return floe_cli_usage(cmd, "reading stdin needs --input-format csv|ndjson");
	} else if (floe_text_format_from_path(&fmt, input, &err) != 0) {
		return floe_cli_usage(cmd, "%s", err.msg);
	}
	if ((v = floe_cli_opt_get(cmd, args, "codec")) &&
	    floe_parquet_codec_parse(&opts.codec, v, &err) != 0)
		return floe_cli_usage(cmd, "%s", err.msg);
	if ((v = floe_cli_opt_get(cmd, args, "level"))) {
		if ((x = opt_int(cmd, "level", v, -100, 100)) < -100)
			return FLOE_CLI_USAGE;
		opts.codec_level = (int)x;
	}
	if ((v = floe_cli_opt_get(cmd, args, "row-group-bytes"))) {
		if ((x = opt_int(cmd, "row-group-bytes", v, 1, INT64_MAX)) < 0)
			return FLOE_CLI_USAGE;
		opts.row_group_bytes = x;
	}
	if ((v = floe_cli_opt_get(cmd, args, "page-bytes"))) {
		if ((x = opt_int(cmd, "page-bytes", v, 1, INT64_MAX)) < 0)
			return FLOE_CLI_USAGE;
		opts.page_bytes = x;
	}
	if ((v = floe_cli_opt_get(cmd, args, "page-version"))) {
		if ((x = opt_int(cmd, "page-version", v, 1, 2)) < 0)
			return FLOE_CLI_USAGE;
		opts.data_page_version = (int)x;
	}
	if ((v = floe_cli_opt_get(cmd, args, "batch-rows"))) {
		if ((x = opt_int(cmd, "batch-rows", v, 1, INT32_MAX)) < 0)
			return FLOE_CLI_USAGE;
		batch_rows = x;
	}
	if (floe_cli_opt_get(cmd, args, "no-dictionary"))
		opts.dictionary = false;

	arena = floe_arena_new(0);
	if (!arena)
		return floe_cli_fail("out of memory");
	if (floe_schema_parse(&schema, schema_text, arena, &err) != 0) {
		rc = floe_cli_usage(cmd, "--schema: %s", err.msg);
		goto done;
	}
	if (strcmp(input, "-") == 0) {
		in = stdin;
	} else if (!(in = fopen(input, "rb"))) {
		rc = floe_cli_fail("cannot open %s: %s", input, strerror(errno));
		goto done;
	}
	if (floe_parquet_writer_open(&wc.w, out, schema, &opts, &err) != 0) {
		rc = floe_cli_fail("%s", err.msg);
		goto done;
	}
	wc.progress = isatty(2) != 0;
	if (floe_text_load(in, strcmp(input, "-") == 0 ? "<stdin>" : input, fmt, schema,
	                   batch_rows, write_batch, &wc, NULL, &err) != 0) {
		if (wc.progress)
			fputc('\n', stderr);
		floe_parquet_writer_abort(wc.w);
		wc.w = NULL;
		rc = floe_cli_fail("%s (nothing written to %s; fix the input or --schema and "
		                   "run again)", err.msg, out);
		goto done;
	}
	if (wc.progress)
		fputc('\n', stderr);
	floe_parquet_file_info info;
	memset(&info, 0, sizeof info);
	int crc = floe_parquet_writer_close(wc.w, &info, &err);
	wc.w = NULL;
	if (crc != 0) {
		rc = floe_cli_fail("%s", err.msg);
		goto done;
	}
	fprintf(stderr, "wrote %" PRId64 " rows, %d row group%s, %" PRId64 " bytes to %s\n",
	        info.num_rows, info.num_row_groups, info.num_row_groups == 1 ? "" : "s",
	        info.file_bytes, out);
	rc = FLOE_CLI_OK;
done:
	floe_parquet_writer_abort(wc.w);
	if (in && in != stdin)
		fclose(in);
	floe_arena_free(arena);
	return rc;
}
