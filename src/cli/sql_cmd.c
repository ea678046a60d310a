/* cli/sql_cmd.c - `floe sql`: SQL over the warehouse's tables (floe/sql.h,
 * SQLite) from the command line, a file, stdin or an interactive shell
 * (libedit: line editing, history, completion) with dot commands; results
 * as aligned tables, CSV, JSON lines or Markdown; per-scan statistics and
 * timings on stderr. docs/sql.md ("Command line", "Interactive shell"). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>
#include <jansson.h>

#include "cli/cli.h"
#include "floe/catalog.h"
#include "floe/sql.h"
#include "floe/table.h"
#include "util/buf.h"
#include "util/format.h"
#include "util/text.h"

/* Rows the table format holds to size its columns; later rows reuse the
 * widths, so memory stays bounded however long the result. */
#define TABLE_CHUNK 1000
#define DEFAULT_MAX_WIDTH 40
#define MAX_READ_DEPTH 8
#define MAX_DOT_ARGS 8
#define HISTORY_LINES 2000

typedef enum sql_fmt { FMT_TABLE, FMT_CSV, FMT_JSONL, FMT_MARKDOWN } sql_fmt;
static const char *const fmt_names[] = { "table", "csv", "jsonl", "markdown" };

/* One source of statements: the SQL argument, a file, stdin, the terminal. */
typedef struct input {
	const char *name; /* file name or "stdin" in messages; NULL for the argument
	                     and the terminal */
	bool tty;         /* the interactive terminal: errors carry no place */
	bool in_shell;    /* read from the shell (.read): "error: " as there */
	floe_buf text;    /* the statement collected so far */
	int first_line;   /* line where it starts */
} input;

typedef struct shell {
	floe_catalog *cat;
	floe_sql *sql;
	sqlite3 *db;
	sql_fmt fmt;
	int max_width;    /* table format: text cut to this many characters (0: never) */
	bool timer, stats;
	bool stats_json;  /* scan statistics as JSON lines (stderr is no terminal) */
	bool writable;
	bool interactive; /* errors do not end the run */
	bool quit;        /* .quit seen */
	int depth;        /* .read nesting */
} shell;

/* ---- SIGINT in the shell: stop the statement, or drop the line ---------- */

static sqlite3 *volatile running_db;
static volatile sig_atomic_t interrupted;
/* The handler also writes a byte here, which the prompt's read polls for:
 * a flag alone would miss a Ctrl-C that comes just before read() starts. */
static int sigint_pipe[2] = { -1, -1 };

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
	if (running_db)
		sqlite3_interrupt(running_db);
	if (sigint_pipe[1] >= 0) {
		int e = errno;
		ssize_t r = write(sigint_pipe[1], "", 1);
		(void)r; /* full: a byte is there already */
		errno = e;
	}
}

/* Forget Ctrl-Cs seen so far. */
static void sigint_clear(void)
{
	char junk[64];
	if (sigint_pipe[0] >= 0)
		while (read(sigint_pipe[0], junk, sizeof junk) > 0)
			;
	interrupted = 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- text helpers ---------------------------------------------------------- */

/* Decode one UTF-8 sequence of s[0..n): its length (1..4), or 0 when the
 * bytes are not UTF-8 (overlong forms and surrogates included). */
static int utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	int len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		len = 2, v = c & 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3, v = c & 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)len > n)
		return 0;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

/* Terminal columns of a code point: 0 for combining marks and zero-width
 * characters, 2 for East Asian wide ones and emoji, else 1 (a small table:
 * enough to keep common text aligned without a locale). */
static int cp_width(uint32_t cp)
{
	if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
	    (cp >= 0xFE00 && cp <= 0xFE0F))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF && cp != 0x303F) ||
	    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
	    (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
	    (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD))
		return 2;
	return 1;
}

/* Columns `s` (valid UTF-8, as display_text makes it) takes on a terminal. */
static int text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	int w = 0;
	while (n > 0) {
		uint32_t cp;
		int k = utf8_next(p, n, &cp);
		if (k == 0)
			k = 1, cp = '?';
		w += cp_width(cp);
		p += k;
		n -= (size_t)k;
	}
	return w;
}

/* A value as the table format shows it (malloc'ed): newline, tab and
 * carriage return as \n \t \r, other control characters and bytes that are
 * not UTF-8 as '?'. */
static char *display_text(const char *s, size_t n)
{
	char *o = malloc(n * 2 + 1), *q = o;
	if (!o)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	while (n > 0) {
		uint32_t cp;
		int k = utf8_next(p, n, &cp);
		if (k == 0 || (k == 1 && (cp < 0x20 || cp == 0x7F))) {
			if (k == 1 && (cp == '\n' || cp == '\t' || cp == '\r')) {
				*q++ = '\\';
				*q++ = cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r';
			} else {
				*q++ = '?';
			}
			k = 1;
		} else {
			memcpy(q, p, (size_t)k);
			q += k;
		}
		p += k;
		n -= (size_t)k;
	}
	*q = '\0';
	return o;
}

/* Print `s` cut to `width` columns: when it is wider, its first width-1
 * columns and an ellipsis. Returns the columns printed. */
static int put_cut(FILE *f, const char *s, int width)
{
	int w = text_width(s);
	if (w <= width) {
		fputs(s, f);
		return w;
	}
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	int used = 0;
	while (n > 0) {
		uint32_t cp;
		int k = utf8_next(p, n, &cp);
		if (k == 0)
			k = 1, cp = '?';
		int cw = cp_width(cp);
		if (used + cw > width - 1)
			break;
		fwrite(p, 1, (size_t)k, f);
		used += cw;
		p += k;
		n -= (size_t)k;
	}
	fputs("\xE2\x80\xA6", f); /* U+2026 */
	return used + 1;
}

/* A REAL as text: the shortest form that reads back exactly, always with a
 * '.' or an exponent so it does not read as an INTEGER; Infinity and
 * -Infinity as floe writes them (SQLite has no NaN: it is NULL). */
static void real_text(char *buf, size_t cap, double d)
{
	floe_format_shortest(buf, cap, d, false);
	if (!strpbrk(buf, ".eEnN"))
		strncat(buf, ".0", cap - strlen(buf) - 1);
}

/* The text of result column `i` (no quoting) into b, NUL-terminated, with
 * its length in *n. Blobs are base64 (RFC 4648), the form floe uses for
 * binary values everywhere. */
static int cell_text(floe_buf *b, sqlite3_stmt *st, int i, size_t *n)
{
	char tmp[64];
	int rc = 0;
	floe_buf_clear(b);
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		snprintf(tmp, sizeof tmp, "%lld", (long long)sqlite3_column_int64(st, i));
		rc = floe_buf_append(b, tmp, strlen(tmp));
		break;
	case SQLITE_FLOAT:
		real_text(tmp, sizeof tmp, sqlite3_column_double(st, i));
		rc = floe_buf_append(b, tmp, strlen(tmp));
		break;
	case SQLITE_TEXT: {
		const unsigned char *t = sqlite3_column_text(st, i);
		int len = sqlite3_column_bytes(st, i);
		if (!t)
			return -1;
		rc = floe_buf_append(b, t, (size_t)len);
		break;
	}
	case SQLITE_BLOB: {
		const void *p = sqlite3_column_blob(st, i);
		int len = sqlite3_column_bytes(st, i);
		if (len > 0)
			rc = floe_base64_encode(b, p, (size_t)len);
		break;
	}
	default:
		break;
	}
	if (rc || floe_buf_putc(b, 0) != 0)
		return -1;
	*n = b->len - 1;
	return 0;
}

static bool is_number(int type)
{
	return type == SQLITE_INTEGER || type == SQLITE_FLOAT;
}

/* ---- output formats -------------------------------------------------------- */

/* One CSV field, RFC 4180: quoted when it holds a comma, quote, CR or LF;
 * NULL is an empty field and the empty string a quoted one, as floe's CSV
 * input reads them. */
static void csv_field(FILE *f, const char *s, size_t n, bool null)
{
	if (null)
		return;
	if (n == 0 || memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) ||
	    memchr(s, '\r', n)) {
		fputc('"', f);
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '"')
				fputc('"', f);
			fputc(s[i], f);
		}
		fputc('"', f);
	} else {
		fwrite(s, 1, n, f);
	}
}

/* A JSON string: quote, backslash and control characters escaped, bytes
 * that are not UTF-8 as U+FFFD. */
static void put_json_string(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	while (n > 0) {
		uint32_t cp;
		int k = utf8_next(p, n, &cp);
		if (k == 0) {
			fputs("\\ufffd", f);
			k = 1;
		} else if (cp == '"' || cp == '\\') {
			fputc('\\', f);
			fputc((int)cp, f);
		} else if (cp == '\n') {
			fputs("\\n", f);
		} else if (cp == '\r') {
			fputs("\\r", f);
		} else if (cp == '\t') {
			fputs("\\t", f);
		} else if (cp == '\b') {
			fputs("\\b", f);
		} else if (cp == '\f') {
			fputs("\\f", f);
		} else if (cp < 0x20) {
			fprintf(f, "\\u%04x", (unsigned)cp);
		} else {
			fwrite(p, 1, (size_t)k, f);
		}
		p += k;
		n -= (size_t)k;
	}
	fputc('"', f);
}

/* A Markdown table cell: '|' and '\' escaped, line breaks as <br>. */
static void md_cell(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '|' || s[i] == '\\') {
			fputc('\\', f);
			fputc(s[i], f);
		} else if (s[i] == '\n') {
			fputs("<br>", f);
		} else if (s[i] != '\r') {
			fputc(s[i], f);
		}
	}
}

/* Whether the declared type of result column `i` says number (used when
 * no row shows it). */
static bool decl_number(sqlite3_stmt *st, int i)
{
	static const char *const like[] = { "%INT%", "%REAL%", "%FLOA%", "%DOUB%", "%NUM%",
	                                    "%DEC%" };
	const char *d = sqlite3_column_decltype(st, i);
	for (size_t k = 0; d && k < sizeof like / sizeof like[0]; k++)
		if (sqlite3_strlike(like[k], d, 0) == 0)
			return true;
	return false;
}

typedef struct cell {
	char *s;   /* display text (malloc'ed) */
	int w;     /* its width */
	int type;  /* SQLITE_INTEGER, ... */
} cell;

/* The result of one statement being printed. */
typedef struct printer {
	shell *sh;
	sqlite3_stmt *st;
	FILE *f;
	int ncols;
	int64_t rows;
	floe_buf scratch;
	bool header_done;
	/* table: the first TABLE_CHUNK rows, then the layout they gave */
	cell *cells;
	int nbuf;
	char **heads;
	int *width;
	bool *right;
	bool laid_out;
} printer;

static void printer_free(printer *p)
{
	if (p->cells)
		for (int i = 0; i < p->nbuf * p->ncols; i++)
			free(p->cells[i].s);
	free(p->cells);
	if (p->heads)
		for (int i = 0; i < p->ncols; i++)
			free(p->heads[i]);
	free(p->heads);
	free(p->width);
	free(p->right);
	floe_buf_free(&p->scratch);
}

static void table_put(printer *p, const char *s, int w, int c, bool number)
{
	int width = p->width[c];
	bool last = c == p->ncols - 1;
	if (p->right[c] && w < width)
		fprintf(p->f, "%*s", width - w, "");
	if (!number && w > width)
		w = put_cut(p->f, s, width);
	else
		fputs(s, p->f);
	if (!p->right[c] && !last && w < width)
		fprintf(p->f, "%*s", width - w, "");
	fputs(last ? "\n" : "  ", p->f);
}

/* Size the columns from the buffered rows and print them under the header. */
static void table_layout(printer *p)
{
	int maxw = p->sh->max_width;
	for (int c = 0; c < p->ncols; c++) {
		int numbers = 0, others = 0;
		p->width[c] = text_width(p->heads[c]);
		for (int r = 0; r < p->nbuf; r++) {
			const cell *x = &p->cells[r * p->ncols + c];
			int w = x->w;
			if (x->type == SQLITE_NULL)
				;
			else if (is_number(x->type))
				numbers++;
			else
				others++;
			if (!is_number(x->type) && maxw > 0 && w > maxw)
				w = maxw;
			if (w > p->width[c])
				p->width[c] = w;
		}
		p->right[c] = numbers > 0 ? others == 0 : (p->nbuf == 0 && decl_number(p->st, c));
	}
	for (int c = 0; c < p->ncols; c++)
		table_put(p, p->heads[c], text_width(p->heads[c]), c, true);
	for (int c = 0; c < p->ncols; c++) {
		for (int k = 0; k < p->width[c]; k++)
			fputc('-', p->f);
		fputs(c == p->ncols - 1 ? "\n" : "  ", p->f);
	}
	for (int r = 0; r < p->nbuf; r++)
		for (int c = 0; c < p->ncols; c++) {
			cell *x = &p->cells[r * p->ncols + c];
			table_put(p, x->s, x->w, c, is_number(x->type));
			free(x->s);
			x->s = NULL;
		}
	p->nbuf = 0;
	p->laid_out = true;
}

static int printer_init(printer *p, shell *sh, sqlite3_stmt *st)
{
	memset(p, 0, sizeof *p);
	p->sh = sh;
	p->st = st;
	p->f = stdout;
	p->ncols = sqlite3_column_count(st);
	if (sh->fmt != FMT_TABLE || p->ncols == 0)
		return 0;
	size_t nc = (size_t)p->ncols;
	p->cells = calloc(TABLE_CHUNK * nc, sizeof *p->cells);
	p->heads = calloc(nc, sizeof *p->heads);
	p->width = calloc(nc, sizeof *p->width);
	p->right = calloc(nc, sizeof *p->right);
	if (!p->cells || !p->heads || !p->width || !p->right)
		return -1;
	for (int c = 0; c < p->ncols; c++) {
		const char *name = sqlite3_column_name(st, c);
		if (!name || !(p->heads[c] = display_text(name, strlen(name))))
			return -1;
	}
	return 0;
}

static void csv_header(printer *p)
{
	for (int c = 0; c < p->ncols; c++) {
		const char *name = sqlite3_column_name(p->st, c);
		if (c)
			fputc(',', p->f);
		csv_field(p->f, name ? name : "", name ? strlen(name) : 0, false);
	}
	fputc('\n', p->f);
}

/* Markdown header; a column is right-aligned when the first row (else its
 * declared type) says number. */
static void md_header(printer *p, bool have_row)
{
	fputc('|', p->f);
	for (int c = 0; c < p->ncols; c++) {
		const char *name = sqlite3_column_name(p->st, c);
		fputc(' ', p->f);
		md_cell(p->f, name ? name : "", name ? strlen(name) : 0);
		fputs(" |", p->f);
	}
	fputs("\n|", p->f);
	for (int c = 0; c < p->ncols; c++) {
		bool num = have_row ? is_number(sqlite3_column_type(p->st, c)) : decl_number(p->st, c);
		fputs(num ? " ---: |" : " --- |", p->f);
	}
	fputc('\n', p->f);
}

/* Print the current row of the statement. */
static int printer_row(printer *p)
{
	FILE *f = p->f;
	size_t n;
	switch (p->sh->fmt) {
	case FMT_CSV:
		if (!p->header_done)
			csv_header(p);
		p->header_done = true;
		for (int c = 0; c < p->ncols; c++) {
			if (c)
				fputc(',', f);
			if (cell_text(&p->scratch, p->st, c, &n) != 0)
				return -1;
			csv_field(f, (const char *)p->scratch.data, n,
			          sqlite3_column_type(p->st, c) == SQLITE_NULL);
		}
		fputc('\n', f);
		break;
	case FMT_JSONL:
		fputc('{', f);
		for (int c = 0; c < p->ncols; c++) {
			const char *name = sqlite3_column_name(p->st, c);
			int type = sqlite3_column_type(p->st, c);
			if (c)
				fputc(',', f);
			put_json_string(f, name ? name : "", name ? strlen(name) : 0);
			fputc(':', f);
			if (cell_text(&p->scratch, p->st, c, &n) != 0)
				return -1;
			const char *s = (const char *)p->scratch.data;
			if (type == SQLITE_NULL)
				fputs("null", f);
			else if (type == SQLITE_INTEGER || (type == SQLITE_FLOAT &&
			                                    isdigit((unsigned char)s[s[0] == '-'])))
				fputs(s, f); /* a number; Infinity stays a string below */
			else
				put_json_string(f, s, n);
		}
		fputs("}\n", f);
		break;
	case FMT_MARKDOWN:
		if (!p->header_done)
			md_header(p, true);
		p->header_done = true;
		fputc('|', f);
		for (int c = 0; c < p->ncols; c++) {
			fputc(' ', f);
			if (cell_text(&p->scratch, p->st, c, &n) != 0)
				return -1;
			if (sqlite3_column_type(p->st, c) == SQLITE_NULL)
				fputs("NULL", f);
			else
				md_cell(f, (const char *)p->scratch.data, n);
			fputs(" |", f);
		}
		fputc('\n', f);
		break;
	case FMT_TABLE: {
		cell *row = p->laid_out ? NULL : &p->cells[p->nbuf * p->ncols];
		for (int c = 0; c < p->ncols; c++) {
			int type = sqlite3_column_type(p->st, c);
			char *s;
			if (type == SQLITE_NULL) {
				s = strdup("NULL");
			} else {
				if (cell_text(&p->scratch, p->st, c, &n) != 0)
					return -1;
				s = display_text((const char *)p->scratch.data, n);
			}
			if (!s)
				return -1;
			int w = text_width(s);
			if (row) {
				row[c] = (cell){ s, w, type };
			} else {
				table_put(p, s, w, c, is_number(type) || type == SQLITE_NULL);
				free(s);
			}
		}
		if (row && ++p->nbuf == TABLE_CHUNK)
			table_layout(p);
		break;
	}
	}
	p->rows++;
	return 0;
}

/* The end of the result: headers of empty results, the table's rows. */
static void printer_end(printer *p)
{
	if (p->ncols == 0)
		return;
	switch (p->sh->fmt) {
	case FMT_CSV:
		if (!p->header_done)
			csv_header(p);
		break;
	case FMT_MARKDOWN:
		if (!p->header_done)
			md_header(p, false);
		break;
	case FMT_TABLE:
		if (!p->laid_out)
			table_layout(p);
		fprintf(p->f, "(%" PRId64 " row%s)\n", p->rows, p->rows == 1 ? "" : "s");
		break;
	case FMT_JSONL:
		break;
	}
}

/* ---- statistics and errors ---------------------------------------------- */

/* 1234 -> "1.2k", 60 -> "60". */
static const char *human_count(char *buf, size_t cap, int64_t v)
{
	static const char units[] = "kMGTPE";
	if (v < 1000 && v > -1000) {
		snprintf(buf, cap, "%" PRId64, v);
		return buf;
	}
	double d = (double)v;
	int u = -1;
	while ((d >= 1000 || d <= -1000) && u < 5) {
		d /= 1000;
		u++;
	}
	snprintf(buf, cap, d < 9.95 && d > -9.95 ? "%.1f%c" : "%.0f%c", d, units[u]);
	return buf;
}

/* 393216 -> "384 KiB". */
static const char *human_bytes(char *buf, size_t cap, int64_t v)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	if (v < 1024) {
		snprintf(buf, cap, "%" PRId64 " B", v);
		return buf;
	}
	double d = (double)v;
	int u = -1;
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, cap, d < 9.95 ? "%.1f %s" : "%.0f %s", d, units[u]);
	return buf;
}

/* One line per floe table scan the last statement made, on stderr. */
static void print_scans(shell *sh, int line)
{
	const floe_sql_scan_info *scans;
	int n;
	floe_sql_scans(sh->sql, &scans, &n);
	for (int i = 0; i < n; i++) {
		const floe_sql_scan_info *x = &scans[i];
		const floe_scan_stats *s = &x->stats;
		if (sh->stats_json) {
			json_t *o = json_object();
			if (!o)
				return;
			json_object_set_new(o, "table", json_string(x->table ? x->table : ""));
			json_object_set_new(o, "where", json_string(x->where ? x->where : ""));
			json_object_set_new(o, "columns", json_integer(x->ncolumns));
			json_object_set_new(o, "limit", x->limit >= 0 ? json_integer(x->limit) : json_null());
			json_object_set_new(o, "snapshot_id",
			                    s->snapshot_id >= 0 ? json_integer(s->snapshot_id) : json_null());
			json_object_set_new(o, "manifests", json_integer(s->manifests));
			json_object_set_new(o, "manifests_skipped", json_integer(s->manifests_skipped));
			json_object_set_new(o, "files", json_integer(s->files));
			json_object_set_new(o, "files_skipped", json_integer(s->files_skipped));
			json_object_set_new(o, "files_read", json_integer(s->files_read));
			json_object_set_new(o, "row_groups", json_integer(s->row_groups));
			json_object_set_new(o, "row_groups_skipped", json_integer(s->row_groups_skipped));
			json_object_set_new(o, "rows_scanned", json_integer(s->rows_scanned));
			json_object_set_new(o, "rows_returned", json_integer(s->rows_returned));
			json_object_set_new(o, "bytes_read", json_integer(s->bytes_read));
			json_object_set_new(o, "delete_files", json_integer(s->delete_files));
			json_object_set_new(o, "rows_deleted", json_integer(s->rows_deleted));
			json_object_set_new(o, "equality_keys", json_integer(s->equality_keys));
			if (line > 0)
				json_object_set_new(o, "line", json_integer(line));
			char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
			json_decref(o);
			if (text)
				fprintf(stderr, "%s\n", text);
			free(text);
			continue;
		}
		char a[32], b[32], c[32];
		fprintf(stderr, "scan %s", x->table ? x->table : "?");
		if (x->where && *x->where)
			fprintf(stderr, " where %s", x->where);
		fprintf(stderr, " cols %d", x->ncolumns);
		if (x->limit >= 0)
			fprintf(stderr, " limit %" PRId64, x->limit);
		if (s->snapshot_id >= 0)
			fprintf(stderr, " snapshot %" PRId64, s->snapshot_id);
		fprintf(stderr, ": manifests %" PRId64 "/%" PRId64 ", files %" PRId64 "/%" PRId64,
		        s->manifests - s->manifests_skipped, s->manifests, s->files_read, s->files);
		if (s->files > 0)
			fprintf(stderr, " (%.1f%%)", 100.0 * (double)s->files_read / (double)s->files);
		fprintf(stderr, ", row groups %" PRId64 "/%" PRId64 ", rows %s/%s, %s",
		        s->row_groups - s->row_groups_skipped, s->row_groups,
		        human_count(a, sizeof a, s->rows_scanned),
		        human_count(b, sizeof b, s->rows_returned),
		        human_bytes(c, sizeof c, s->bytes_read));
		if (s->delete_files > 0)
			fprintf(stderr, ", %" PRId64 " delete files (%" PRId64 " rows deleted, %" PRId64
			        " equality keys held)", s->delete_files, s->rows_deleted, s->equality_keys);
		fputc('\n', stderr);
	}
}

/* Report an error: "error: MESSAGE" in the shell ("error: FILE:LINE:
 * MESSAGE" for a file it reads), "floe: PLACE: MESSAGE" otherwise, where
 * PLACE is FILE:LINE or "line N" of the SQL argument.
 * Returns -1. */
static int report(const input *in, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int report(const input *in, int line, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	if (in->tty)
		fputs("error: ", stderr);
	else if (in->name)
		fprintf(stderr, "%s: %s:%d: ", in->in_shell ? "error" : "floe", in->name, line);
	else
		fprintf(stderr, "floe: line %d: ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* SQLite's message with what to do next. */
static int sql_error(shell *sh, const input *in, int line, const char *msg)
{
	const char *hint = "";
	if (strncmp(msg, "no such table:", 14) == 0)
		hint = in->tty ? "; .tables lists the tables (.refresh picks up new ones)"
		               : "; .tables lists the tables";
	else if (strncmp(msg, "no such column:", 15) == 0)
		hint = "; .schema TABLE lists a table's columns";
	else if (strncmp(msg, "no such function:", 17) == 0)
		hint = "; the functions are SQLite's (https://sqlite.org/lang_corefunc.html)";
	else if (strstr(msg, "syntax error"))
		hint = "; fix the statement (SQLite's SQL: https://sqlite.org/lang.html)";
	else if (strcmp(msg, "incomplete input") == 0)
		hint = "; end the statement with ';' (is a quote, comment or parenthesis left open?)";
	else if (!sh->writable && !strstr(msg, "--writable") &&
	         (strstr(msg, "may not be modified") || !sqlite3_strlike("%read-only%", msg, 0) ||
	          !sqlite3_strlike("%readonly%", msg, 0)))
		hint = "; floe sql is read-only unless run with --writable";
	else if (strstr(msg, "database is locked"))
		hint = "; another process holds the catalog, try again";
	return report(in, line, "%s%s", msg, hint);
}

/* ---- running statements ---------------------------------------------------- */

/* Past whitespace and SQL comments ("--" to the end of the line, C-style). */
static const char *skip_blank(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
			p++;
		if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			if (!e)
				return p; /* unterminated: SQLite reports it */
			p = e + 2;
		} else {
			return p;
		}
	}
}

static int count_lines(const char *from, const char *to)
{
	int n = 0;
	for (; from < to; from++)
		n += *from == '\n';
	return n;
}

/* Run one statement and print its result; 0, or -1 after reporting. */
static int run_stmt(shell *sh, const input *in, sqlite3_stmt *st, int line, double t0)
{
	printer p;
	int rc = 0;
	sqlite3_int64 changes = sqlite3_total_changes64(sh->db);
	if (printer_init(&p, sh, st) != 0) {
		rc = report(in, line, "out of memory");
		goto done;
	}
	running_db = sh->db;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (printer_row(&p) != 0) {
			running_db = NULL;
			rc = report(in, line, "out of memory");
			goto done;
		}
	}
	running_db = NULL;
	if (step != SQLITE_DONE) {
		if (p.sh->fmt == FMT_TABLE && p.ncols > 0 && !p.laid_out && p.nbuf > 0)
			table_layout(&p); /* what came before the error */
		char *msg = strdup(sqlite3_errmsg(sh->db));
		rc = sql_error(sh, in, line, msg ? msg : "out of memory");
		free(msg);
		goto done;
	}
	printer_end(&p);
	changes = sqlite3_total_changes64(sh->db) - changes;
	if (sh->fmt == FMT_TABLE && p.ncols == 0 && changes > 0)
		printf("(%lld row%s changed)\n", (long long)changes, changes == 1 ? "" : "s");
done:
	printer_free(&p);
	sqlite3_finalize(st);
	fflush(stdout);
	if (rc == 0 && sh->stats)
		print_scans(sh, in->tty ? 0 : line);
	if (rc == 0 && sh->timer)
		fprintf(stderr, "Run Time: %.3f s\n", now_s() - t0);
	return rc;
}

/* Run the statements of `text`, whose first line is `first_line`. Stops at
 * the first error (reported; -1). */
static int run_sql(shell *sh, const input *in, const char *text, int first_line)
{
	const char *p = text;
	for (;;) {
		const char *start = skip_blank(p);
		if (!*start)
			return 0;
		int line = first_line + count_lines(text, start);
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		floe_sql_reset_scans(sh->sql);
		interrupted = 0;
		double t0 = now_s();
		if (floe_sql_prepare(sh->sql, start, -1, &st, &tail) != SQLITE_OK) {
			char *msg = strdup(sqlite3_errmsg(sh->db));
			int rc = sql_error(sh, in, line, msg ? msg : "out of memory");
			free(msg);
			return rc;
		}
		if (!tail || tail == start)
			tail = start + strlen(start);
		if (st && run_stmt(sh, in, st, line, t0) != 0)
			return -1;
		p = tail;
	}
}

/* ---- dot commands ---------------------------------------------------------- */

static int feed_file(shell *sh, FILE *f, const char *name);

static const char dot_help[] =
	".tables [--all] [PATTERN]  the tables, one NAMESPACE.NAME a line; PATTERN as in\n"
	"                           LIKE (%, _; also * and ?); --all adds the metadata\n"
	"                           tables (\"NS.TABLE$snapshots\", ...)\n"
	".schema [TABLE]            the columns of TABLE (every table without one): SQL\n"
	"                           and Iceberg types, partition spec, current snapshot\n"
	".format [NAME]             table, csv, jsonl or markdown (.mode too)\n"
	".maxwidth N                cut text in table format at N characters (0: never)\n"
	".timer on|off              print \"Run Time: S s\" after each statement\n"
	".stats on|off              print what each table scan read after each statement\n"
	".refresh                   pick up tables created, dropped or renamed meanwhile\n"
	".read FILE                 run the statements of FILE\n"
	".help                      this text\n"
	".quit, .exit               leave\n";

/* Split a dot command line into words (quotes '...' and "..." group, and
 * are removed). Returns the number of words, -1 when there are too many or
 * a quote is open. `buf` holds the words. */
static int dot_words(char *buf, char **words, int max)
{
	int n = 0;
	char *p = buf;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return n;
		if (n == max)
			return -1;
		char *w = p, *o = p;
		while (*p && *p != ' ' && *p != '\t') {
			if (*p == '\'' || *p == '"') {
				char q = *p++;
				for (;;) {
					if (!*p)
						return -1;
					if (*p == q) {
						if (p[1] != q)
							break;
						p++; /* doubled quote */
					}
					*o++ = *p++;
				}
				p++;
			} else {
				*o++ = *p++;
			}
		}
		bool end = !*p;
		*o = '\0';
		words[n++] = w;
		if (end)
			return n;
		p++;
	}
}

static int parse_on_off(bool *out, const char *v)
{
	if (!v)
		return -1;
	if (!strcasecmp(v, "on") || !strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
	    !strcmp(v, "1")) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(v, "off") || !strcasecmp(v, "no") || !strcasecmp(v, "false") ||
	    !strcmp(v, "0")) {
		*out = false;
		return 0;
	}
	return -1;
}

static int parse_fmt(sql_fmt *out, const char *v)
{
	for (int i = 0; i < 4; i++)
		if (strcasecmp(v, fmt_names[i]) == 0) {
			*out = (sql_fmt)i;
			return 0;
		}
	if (!strcasecmp(v, "json") || !strcasecmp(v, "ndjson")) {
		*out = FMT_JSONL;
		return 0;
	}
	if (!strcasecmp(v, "md")) {
		*out = FMT_MARKDOWN;
		return 0;
	}
	return -1;
}

/* The tables and views SQL sees (main and temp), sorted; the metadata
 * tables (a '$' in the name) only with `all`. */
static int dot_tables(shell *sh, const input *in, int line, bool all, const char *pattern)
{
	char *like = NULL;
	if (pattern) {
		like = strdup(pattern);
		if (!like)
			return report(in, line, "out of memory");
		for (char *q = like; *q; q++)
			*q = *q == '*' ? '%' : *q == '?' ? '_' : *q;
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(sh->db,
	                            "SELECT name FROM main.sqlite_schema WHERE type IN ('table', "
	                            "'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' UNION "
	                            "SELECT name FROM temp.sqlite_schema WHERE type IN ('table', "
	                            "'view') ORDER BY 1", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		free(like);
		return report(in, line, ".tables: %s", sqlite3_errmsg(sh->db));
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (!name || (!all && strchr(name, '$')) || (like && sqlite3_strlike(like, name, 0)))
			continue;
		printf("%s\n", name);
	}
	free(like);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return report(in, line, ".tables: %s", sqlite3_errmsg(sh->db));
	return 0;
}

/* NAME or "NAME" when it is not a plain identifier. */
static void put_ident(floe_buf *b, const char *name)
{
	bool plain = (isalpha((unsigned char)name[0]) || name[0] == '_') &&
	             !sqlite3_keyword_check(name, (int)strlen(name));
	for (const char *q = name; plain && *q; q++)
		plain = isalnum((unsigned char)*q) || *q == '_';
	if (plain) {
		floe_buf_append(b, name, strlen(name));
		return;
	}
	floe_buf_putc(b, '"');
	for (const char *q = name; *q; q++) {
		if (*q == '"')
			floe_buf_putc(b, '"');
		floe_buf_putc(b, (uint8_t)*q);
	}
	floe_buf_putc(b, '"');
}

/* "day(ts), bucket(16, symbol)" from floe_table_describe's default spec,
 * in the form `floe create --partition` takes. */
static void describe_partition(floe_buf *b, json_t *doc)
{
	json_t *specs = json_object_get(doc, "partition-specs"), *spec;
	size_t i;
	json_array_foreach(specs, i, spec)
	{
		if (!json_is_true(json_object_get(spec, "default")))
			continue;
		json_t *fields = json_object_get(spec, "fields"), *f;
		size_t k;
		json_array_foreach(fields, k, f)
		{
			const char *tr = json_string_value(json_object_get(f, "transform"));
			const char *src = json_string_value(json_object_get(f, "source"));
			char tmp[600];
			if (!tr || !src)
				continue;
			const char *br = strchr(tr, '[');
			if (strcmp(tr, "identity") == 0)
				snprintf(tmp, sizeof tmp, "%s", src);
			else if (br)
				snprintf(tmp, sizeof tmp, "%.*s(%.*s, %s)", (int)(br - tr), tr,
				         (int)strcspn(br + 1, "]"), br + 1, src);
			else
				snprintf(tmp, sizeof tmp, "%s(%s)", tr, src);
			if (k)
				floe_buf_append(b, ", ", 2);
			floe_buf_append(b, tmp, strlen(tmp));
		}
	}
}

/* The Iceberg side of a floe table for .schema: type per column, and one
 * comment line (partition, identifier fields, snapshot). The table is
 * opened from the catalog by its SQL name; nothing happens for other
 * tables. */
typedef struct ice_info {
	floe_table *t;
	json_t *doc;
} ice_info;

static void ice_info_open(ice_info *ii, shell *sh, const char *name)
{
	floe_error err;
	floe_ident id;
	memset(ii, 0, sizeof *ii);
	if (strchr(name, '$') || floe_ident_parse(&id, name, &err) != 0)
		return;
	if (floe_table_open(&ii->t, sh->cat, name, &err) != 0) {
		ii->t = NULL;
		return;
	}
	char *text = NULL;
	if (floe_table_describe(&text, ii->t, &err) == 0)
		ii->doc = json_loads(text, 0, NULL);
	free(text);
}

static void ice_info_close(ice_info *ii)
{
	json_decref(ii->doc);
	floe_table_close(ii->t);
}

/* The Iceberg type of column `name` ("timestamptz not null"), or NULL. */
static const char *ice_type(const ice_info *ii, const char *name, char *buf, int cap)
{
	if (!ii->t)
		return NULL;
	const floe_schema *sc = floe_table_schema(ii->t);
	for (int i = 0; i < sc->nfields; i++)
		if (strcmp(sc->fields[i].name, name) == 0) {
			char tb[64];
			floe_type_format(&sc->fields[i].type, tb, sizeof tb);
			snprintf(buf, (size_t)cap, "%s%s", tb, sc->fields[i].required ? " not null" : "");
			return buf;
		}
	return NULL;
}

/* CREATE TABLE text of one table: its SQL columns with the Iceberg types
 * as comments, then its hidden columns; before it a comment with the
 * Iceberg facts (location, partition spec, identifier, snapshot). */
static int schema_one(shell *sh, const input *in, int line, const char *name)
{
	sqlite3_stmt *st = NULL;
	floe_buf b = FLOE_BUF_INIT;
	char **cols = NULL; /* "  NAME TYPE" */
	char **notes = NULL; /* Iceberg type or NULL */
	int ncols = 0, cap = 0, nhidden = 0, rc = 0, step;
	char hidden[512] = "";
	ice_info ii;
	ice_info_open(&ii, sh, name);
	if (sqlite3_prepare_v2(sh->db, "SELECT name, type, hidden FROM pragma_table_xinfo(?1)",
	                       -1, &st, NULL) != SQLITE_OK) {
		rc = report(in, line, ".schema: %s", sqlite3_errmsg(sh->db));
		goto done;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cn = (const char *)sqlite3_column_text(st, 0);
		const char *ct = (const char *)sqlite3_column_text(st, 1);
		if (!cn)
			continue;
		if (sqlite3_column_int(st, 2) != 0) {
			size_t hl = strlen(hidden);
			snprintf(hidden + hl, sizeof hidden - hl, "%s%s", nhidden++ ? ", " : "", cn);
			continue;
		}
		if (ncols == cap) {
			cap = cap ? cap * 2 : 16;
			char **g1 = realloc(cols, (size_t)cap * sizeof *g1);
			if (g1)
				cols = g1;
			char **g2 = realloc(notes, (size_t)cap * sizeof *g2);
			if (g2)
				notes = g2;
			if (!g1 || !g2) {
				rc = report(in, line, "out of memory");
				goto done;
			}
		}
		char tb[96];
		const char *it = ice_type(&ii, cn, tb, sizeof tb);
		floe_buf_clear(&b);
		floe_buf_append(&b, "  ", 2);
		put_ident(&b, cn);
		if (ct && *ct) {
			floe_buf_putc(&b, ' ');
			floe_buf_append(&b, ct, strlen(ct));
		}
		cols[ncols] = strndup((const char *)b.data, b.len);
		notes[ncols] = it ? strdup(it) : NULL;
		if (!cols[ncols] || (it && !notes[ncols])) {
			free(cols[ncols]);
			free(notes[ncols]);
			rc = report(in, line, "out of memory");
			goto done;
		}
		ncols++;
	}
	if (step != SQLITE_DONE) {
		rc = report(in, line, ".schema: %s", sqlite3_errmsg(sh->db));
		goto done;
	}
	if (ncols == 0) {
		rc = report(in, line, "no table %s; .tables lists the tables", name);
		goto done;
	}
	if (ii.doc) {
		const char *loc = json_string_value(json_object_get(ii.doc, "location"));
		json_t *snap = json_object_get(ii.doc, "current-snapshot");
		json_t *sid = snap ? json_object_get(snap, "snapshot-id") : NULL;
		floe_buf part = FLOE_BUF_INIT;
		describe_partition(&part, ii.doc);
		printf("-- %s: Iceberg table at %s\n", name, loc ? loc : "?");
		if (part.len)
			printf("-- partitioned by %.*s", (int)part.len, (const char *)part.data);
		else
			printf("-- unpartitioned");
		floe_buf_free(&part);
		json_t *ids = json_object_get(json_object_get(ii.doc, "schema"), "identifier-field-ids");
		if (json_array_size(ids) > 0) {
			const floe_schema *sc = floe_table_schema(ii.t);
			size_t k;
			json_t *idv;
			printf("; identifier");
			json_array_foreach(ids, k, idv)
			{
				for (int f = 0; f < sc->nfields; f++)
					if (sc->fields[f].field_id == json_integer_value(idv))
						printf("%s %s", k ? "," : "", sc->fields[f].name);
			}
		}
		if (json_is_integer(sid))
			printf("; current snapshot %" JSON_INTEGER_FORMAT "\n", json_integer_value(sid));
		else
			printf("; no snapshot yet\n");
	}
	int width = 0;
	for (int i = 0; i < ncols; i++)
		if ((int)strlen(cols[i]) + 1 > width)
			width = (int)strlen(cols[i]) + 1;
	floe_buf_clear(&b);
	put_ident(&b, name);
	printf("CREATE TABLE %.*s (\n", (int)b.len, (const char *)b.data);
	for (int i = 0; i < ncols; i++) {
		bool last = i == ncols - 1;
		if (notes[i])
			printf("%s%s%*s  -- %s\n", cols[i], last ? "" : ",",
			       width - (int)strlen(cols[i]) - (last ? 0 : 1), "", notes[i]);
		else
			printf("%s%s\n", cols[i], last ? "" : ",");
	}
	printf(");\n");
	if (nhidden)
		printf("-- hidden column%s: %s\n", nhidden == 1 ? "" : "s", hidden);
done:
	for (int i = 0; i < ncols; i++) {
		free(cols[i]);
		free(notes[i]);
	}
	free(cols);
	free(notes);
	sqlite3_finalize(st);
	floe_buf_free(&b);
	ice_info_close(&ii);
	return rc;
}

/* .schema: one table, or every table (metadata tables left out). */
static int dot_schema(shell *sh, const input *in, int line, const char *name)
{
	if (name)
		return schema_one(sh, in, line, name);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(sh->db, "SELECT name FROM main.sqlite_schema WHERE type IN "
	                       "('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
	                       "AND instr(name, '$') = 0 ORDER BY 1", -1, &st, NULL) != SQLITE_OK)
		return report(in, line, ".schema: %s", sqlite3_errmsg(sh->db));
	int rc = 0, n = 0;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		char *tn = strdup((const char *)sqlite3_column_text(st, 0));
		if (!tn) {
			rc = report(in, line, "out of memory");
			break;
		}
		if (n++)
			putchar('\n');
		rc = schema_one(sh, in, line, tn);
		free(tn);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Run dot command `text` (the line, starting with '.'). */
static int run_dot(shell *sh, const input *in, const char *text, int line)
{
	char *buf = strdup(text + 1);
	char *w[MAX_DOT_ARGS];
	int rc = 0;
	if (!buf)
		return report(in, line, "out of memory");
	int n = dot_words(buf, w, MAX_DOT_ARGS);
	if (n < 0) {
		rc = report(in, line, "cannot read the arguments of '%s' (too many, or a quote left "
		            "open); .help lists the commands", text);
		goto done;
	}
	if (n == 0) {
		rc = report(in, line, "'.' names no command; .help lists the commands");
		goto done;
	}
	const char *c = w[0];
	if (!strcmp(c, "quit") || !strcmp(c, "exit") || !strcmp(c, "q")) {
		sh->quit = true;
	} else if (!strcmp(c, "help")) {
		fputs(dot_help, stdout);
	} else if (!strcmp(c, "tables")) {
		bool all = false;
		const char *pattern = NULL;
		for (int i = 1; i < n; i++) {
			if (!strcmp(w[i], "--all") || !strcmp(w[i], "-a"))
				all = true;
			else if (!pattern)
				pattern = w[i];
			else {
				rc = report(in, line, "usage: .tables [--all] [PATTERN]");
				goto done;
			}
		}
		rc = dot_tables(sh, in, line, all, pattern);
	} else if (!strcmp(c, "schema")) {
		if (n > 2)
			rc = report(in, line, "usage: .schema [TABLE]");
		else
			rc = dot_schema(sh, in, line, n == 2 ? w[1] : NULL);
	} else if (!strcmp(c, "timer") || !strcmp(c, "stats")) {
		bool *flag = c[0] == 't' ? &sh->timer : &sh->stats;
		if (n != 2 || parse_on_off(flag, w[1]) != 0)
			rc = report(in, line, "usage: .%s on|off", c);
	} else if (!strcmp(c, "format") || !strcmp(c, "mode")) {
		if (n == 1)
			printf("%s\n", fmt_names[sh->fmt]);
		else if (n != 2 || parse_fmt(&sh->fmt, w[1]) != 0)
			rc = report(in, line, "usage: .%s table|csv|jsonl|markdown", c);
	} else if (!strcmp(c, "maxwidth")) {
		char *end;
		long v = n == 2 ? strtol(w[1], &end, 10) : -1;
		if (n != 2 || *end || v < 0 || v > 100000)
			rc = report(in, line, "usage: .maxwidth N (characters; 0 = never cut)");
		else
			sh->max_width = v > 0 && v < 2 ? 2 : (int)v;
	} else if (!strcmp(c, "refresh")) {
		floe_error err;
		if (n != 1)
			rc = report(in, line, "usage: .refresh");
		else if (floe_sql_refresh(sh->sql, &err) != 0)
			rc = report(in, line, ".refresh: %s", err.msg);
	} else if (!strcmp(c, "read")) {
		if (n != 2) {
			rc = report(in, line, "usage: .read FILE");
		} else if (sh->depth >= MAX_READ_DEPTH) {
			rc = report(in, line, ".read: files nested deeper than %d; is a file reading "
			            "itself?", MAX_READ_DEPTH);
		} else {
			FILE *f = fopen(w[1], "r");
			if (!f) {
				rc = report(in, line, "cannot read %s: %s", w[1], strerror(errno));
			} else {
				sh->depth++;
				rc = feed_file(sh, f, w[1]);
				sh->depth--;
				fclose(f);
			}
		}
	} else {
		rc = report(in, line, "unknown command .%s; .help lists the commands", c);
	}
	fflush(stdout);
done:
	free(buf);
	return rc;
}

/* ---- input ----------------------------------------------------------------- */

/* Whether `s` holds nothing but whitespace and complete comments. */
static bool all_blank(const char *s)
{
	return *skip_blank(s) == '\0'; /* an open comment stops skip_blank */
}

/* One line of input (without its newline). A line starting with '.' when no
 * statement is open is a dot command; blank and comment lines between
 * statements are skipped; other lines collect until sqlite3_complete says
 * the text ends a statement, which then runs. Returns -1 after an error. */
static int feed_line(shell *sh, input *in, const char *line, int lineno)
{
	if (in->text.len == 0) {
		const char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '.')
			return run_dot(sh, in, s, lineno);
		if (all_blank(line))
			return 0;
		in->first_line = lineno;
	}
	if (floe_buf_append(&in->text, line, strlen(line)) != 0 ||
	    floe_buf_putc(&in->text, '\n') != 0 || floe_buf_putc(&in->text, 0) != 0)
		return report(in, lineno, "out of memory");
	in->text.len--; /* keep the NUL out of the text */
	if (!sqlite3_complete((const char *)in->text.data))
		return 0;
	int rc = run_sql(sh, in, (const char *)in->text.data, in->first_line);
	floe_buf_clear(&in->text);
	return rc;
}

/* The end of an input: a statement left without its ';' runs as it is. */
static int feed_end(shell *sh, input *in)
{
	int rc = 0;
	if (in->text.len > 0 && floe_buf_putc(&in->text, 0) == 0)
		rc = run_sql(sh, in, (const char *)in->text.data, in->first_line);
	floe_buf_clear(&in->text);
	return rc;
}

/* The statements of the SQL argument. */
static int feed_string(shell *sh, const char *text)
{
	input in = { NULL, false, false, FLOE_BUF_INIT, 0 };
	int rc = 0, lineno = 0;
	const char *p = text;
	char *line = NULL;
	while (rc == 0 && !sh->quit && *p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		free(line);
		if (!(line = strndup(p, n))) {
			rc = report(&in, lineno + 1, "out of memory");
			break;
		}
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		rc = feed_line(sh, &in, line, ++lineno);
		p += n + (eol ? 1 : 0);
	}
	if (rc == 0 && !sh->quit)
		rc = feed_end(sh, &in);
	free(line);
	floe_buf_free(&in.text);
	return rc;
}

/* The statements of a file or stdin, read a line at a time. */
static int feed_file(shell *sh, FILE *f, const char *name)
{
	input in = { name, false, sh->interactive, FLOE_BUF_INIT, 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0, lineno = 0;
	while (rc == 0 && !sh->quit && (n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		rc = feed_line(sh, &in, line, ++lineno);
	}
	if (rc == 0 && ferror(f))
		rc = report(&in, lineno, "read failed: %s", strerror(errno));
	if (rc == 0 && !sh->quit)
		rc = feed_end(sh, &in);
	free(line);
	floe_buf_free(&in.text);
	return rc;
}

/* ---- the interactive shell -------------------------------------------------- */

static shell *completing; /* the shell whose names complete */

/* Candidates for word `text`: dot commands at the start of a line, else
 * table names and SQL keywords. */
static char *complete_next(const char *text, int state)
{
	static char **cands;
	static int ncands, at;
	size_t tl = strlen(text);
	if (state == 0) {
		for (int i = 0; i < ncands; i++)
			free(cands[i]);
		free(cands);
		cands = NULL;
		ncands = at = 0;
		int cap = 0;
		bool dot = rl_line_buffer && rl_line_buffer[0] == '.';
		static const char *const dots[] = { ".tables", ".schema", ".format", ".maxwidth",
		                                    ".timer", ".stats", ".refresh", ".read",
		                                    ".help", ".quit", ".exit", NULL };
		sqlite3_stmt *st = NULL;
		int nkw = dot ? 0 : sqlite3_keyword_count();
		if (!dot && completing)
			sqlite3_prepare_v2(completing->db, "SELECT name FROM main.sqlite_schema WHERE "
			                   "type IN ('table', 'view') UNION SELECT name FROM "
			                   "temp.sqlite_schema", -1, &st, NULL);
		for (int i = 0;; i++) {
			char tmp[64];
			const char *name = NULL;
			if (dot) {
				name = dots[i];
			} else if (i < nkw) {
				const char *kw;
				int kl;
				sqlite3_keyword_name(i, &kw, &kl);
				bool lower = tl > 0 && islower((unsigned char)text[0]);
				snprintf(tmp, sizeof tmp, "%.*s", kl, kw);
				for (char *q = tmp; lower && *q; q++)
					*q = (char)tolower((unsigned char)*q);
				name = tmp;
			} else if (st && sqlite3_step(st) == SQLITE_ROW) {
				name = (const char *)sqlite3_column_text(st, 0);
			}
			if (!name)
				break;
			if (strncasecmp(name, text, tl) != 0)
				continue;
			if (ncands == cap) {
				cap = cap ? cap * 2 : 32;
				char **g = realloc(cands, (size_t)cap * sizeof *g);
				if (!g)
					break;
				cands = g;
			}
			if (!(cands[ncands] = strdup(name)))
				break;
			ncands++;
		}
		sqlite3_finalize(st);
	}
	return at < ncands ? strdup(cands[at++]) : NULL;
}

static char **complete(const char *text, int start, int end)
{
	(void)start;
	(void)end;
	rl_attempted_completion_over = 1; /* never file names */
	return rl_completion_matches(text, complete_next);
}

/* One byte of the terminal, or EOF at its end or after a Ctrl-C. */
static int term_byte(int fd, unsigned char *c)
{
	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { sigint_pipe[0], POLLIN, 0 } };
		if (poll(p, sigint_pipe[0] >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return EOF;
		}
		if (interrupted || (p[1].revents & POLLIN))
			return EOF;
		if (p[0].revents) {
			ssize_t n = read(fd, c, 1);
			if (n == 1)
				return 0;
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return EOF;
		}
	}
}

/* Characters for libedit: UTF-8 decoded to code points (what it wants
 * from a getc function). A Ctrl-C at the prompt ends the line as if at end
 * of input; run_shell then drops what was typed. */
static int shell_getc(FILE *f)
{
	unsigned char c[4];
	if (term_byte(fileno(f), &c[0]) != 0)
		return EOF;
	int len = c[0] < 0x80 ? 1 : (c[0] & 0xE0) == 0xC0 ? 2 : (c[0] & 0xF0) == 0xE0 ? 3
	          : (c[0] & 0xF8) == 0xF0 ? 4 : 1;
	for (int i = 1; i < len; i++)
		if (term_byte(fileno(f), &c[i]) != 0)
			return EOF;
	uint32_t cp;
	if (utf8_next(c, (size_t)len, &cp) != len)
		return 0xFFFD;
	return (int)cp;
}

/* The history file: $FLOE_HISTORY (empty: none), else ~/.floe_history. */
static const char *history_path(char *buf, size_t cap)
{
	const char *h = getenv("FLOE_HISTORY");
	if (h)
		return *h ? h : NULL;
	const char *home = getenv("HOME");
	if (!home || !*home)
		return NULL;
	snprintf(buf, cap, "%s/.floe_history", home);
	return buf;
}

static int run_shell(shell *sh, const char *warehouse)
{
	char hbuf[4096];
	const char *hist = history_path(hbuf, sizeof hbuf);
	input in = { NULL, true, true, FLOE_BUF_INIT, 0 };
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	if (pipe(sigint_pipe) == 0) {
		for (int i = 0; i < 2; i++) {
			fcntl(sigint_pipe[i], F_SETFL, fcntl(sigint_pipe[i], F_GETFL) | O_NONBLOCK);
			fcntl(sigint_pipe[i], F_SETFD, FD_CLOEXEC);
		}
	} else {
		sigint_pipe[0] = sigint_pipe[1] = -1; /* then only the flag */
	}
	sigaction(SIGINT, &sa, &old);

	setlocale(LC_CTYPE, ""); /* libedit reads and writes multibyte text by it */
	rl_readline_name = "floe";
	rl_catch_signals = 0;
	rl_getc_function = shell_getc;
	rl_attempted_completion_function = complete;
	completing = sh;
	using_history();
	stifle_history(HISTORY_LINES);
	if (hist)
		read_history(hist);
	printf("floe sql on %s (SQLite %s); .help lists the commands, .quit leaves\n", warehouse,
	       sqlite3_libversion());
	int lineno = 0;
	while (!sh->quit) {
		fflush(stdout);
		sigint_clear();
		char *line = readline(in.text.len ? "  ...> " : "floe> ");
		if (!line) {
			if (interrupted) { /* Ctrl-C: drop the statement being typed */
				floe_buf_clear(&in.text);
				putchar('\n');
				continue;
			}
			putchar('\n');
			break;
		}
		if (*line)
			add_history(line);
		feed_line(sh, &in, line, ++lineno); /* errors are reported; the shell goes on */
		free(line);
	}
	if (hist && write_history(hist) == 0)
		chmod(hist, 0600); /* statements may hold what others should not read */
	completing = NULL;
	sigaction(SIGINT, &old, NULL);
	for (int i = 0; i < 2; i++) {
		if (sigint_pipe[i] >= 0)
			close(sigint_pipe[i]);
		sigint_pipe[i] = -1;
	}
	floe_buf_free(&in.text);
	fflush(stdout);
	return FLOE_CLI_OK;
}

/* ---- the command ------------------------------------------------------------ */

int floe_cli_sql(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	shell sh;
	memset(&sh, 0, sizeof sh);
	floe_error err;
	int rc = FLOE_CLI_OK;
	const char *query = args->npos ? args->pos[0] : NULL;
	const char *file = floe_cli_opt_get(cmd, args, "file");
	const char *v;

	if (query && file)
		return floe_cli_usage(cmd, "give the SQL or --file FILE, not both");
	sh.fmt = isatty(1) ? FMT_TABLE : FMT_CSV;
	if ((v = floe_cli_opt_get(cmd, args, "format")) && parse_fmt(&sh.fmt, v) != 0)
		return floe_cli_usage(cmd, "--format '%s': expected table, csv, jsonl or markdown", v);
	sh.max_width = DEFAULT_MAX_WIDTH;
	if ((v = floe_cli_opt_get(cmd, args, "max-width"))) {
		char *end;
		errno = 0;
		long w = strtol(v, &end, 10);
		if (end == v || *end || errno || w < 0 || w > 100000)
			return floe_cli_usage(cmd, "--max-width wants a whole number from 0 to 100000, "
			                      "not '%s'", v);
		sh.max_width = w == 1 ? 2 : (int)w;
	}
	sh.timer = floe_cli_opt_get(cmd, args, "timer") != NULL;
	sh.stats = floe_cli_opt_get(cmd, args, "stats") != NULL;
	sh.stats_json = !isatty(2);
	sh.writable = floe_cli_opt_get(cmd, args, "writable") != NULL;
	sh.interactive = !query && !file && isatty(0);

	FILE *in = NULL;
	if (file) {
		if (strcmp(file, "-") == 0) {
			in = stdin;
		} else if (!(in = fopen(file, "r"))) {
			return floe_cli_fail("cannot read %s: %s (give an SQL file to --file)", file,
			                     strerror(errno));
		}
	}

	const char *wh = floe_cli_warehouse(cmd, args);
	struct stat stt;
	if (stat(wh, &stt) != 0 || !S_ISDIR(stt.st_mode)) {
		rc = floe_cli_fail("no warehouse at %s (give one with --warehouse DIR or "
		                   "FLOE_WAREHOUSE; 'floe create' makes tables)", wh);
		goto done;
	}
	if (floe_catalog_open(&sh.cat, wh, NULL, &err) != 0) {
		rc = floe_cli_fail("cannot open warehouse %s: %s (give another with --warehouse DIR "
		                   "or FLOE_WAREHOUSE)", wh, err.msg);
		goto done;
	}
	floe_sql_options o;
	floe_sql_options_init(&o);
	o.writable = sh.writable;
	if (floe_sql_open(&sh.sql, sh.cat, &o, &err) != 0) {
		rc = floe_cli_fail("cannot open SQL over warehouse %s: %s", wh, err.msg);
		goto done;
	}
	sh.db = floe_sql_db(sh.sql);

	if (sh.interactive)
		rc = run_shell(&sh, wh);
	else if (query)
		rc = feed_string(&sh, query) == 0 ? FLOE_CLI_OK : FLOE_CLI_FAIL;
	else
		rc = feed_file(&sh, in ? in : stdin, file && strcmp(file, "-") ? file : "stdin") == 0
		     ? FLOE_CLI_OK : FLOE_CLI_FAIL;
	if (fflush(stdout) != 0 && rc == FLOE_CLI_OK)
		rc = floe_cli_fail("writing to stdout failed");
done:
	floe_sql_close(sh.sql);
	floe_catalog_close(sh.cat);
	if (in && in != stdin)
		fclose(in);
	return rc;
}
