/* sql/meta.c - the "floe_meta" virtual table module: Iceberg's metadata
 * tables of a floe table as Spark and Trino name them (snapshots,
 * history, files, manifests, partitions, refs), created by sql.c as
 * "ns.table$KIND" (docs/sql-metadata.md). Connecting only declares the
 * columns; each scan opens the table through the connection's cache and
 * builds all its rows at once (metadata is small). Read-only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floe/meta.h"
#include "sql/sql_int.h"

const char *const sq_meta_kinds[] = { "snapshots", "history",    "files",
                                      "manifests", "partitions", "refs",
                                      NULL };

enum { K_SNAPSHOTS, K_HISTORY, K_FILES, K_MANIFESTS, K_PARTITIONS, K_REFS, K_COUNT };

/* Columns per kind, in declaration order; the enums below index them. */
static const char *const cols_snapshots[] = {
	"committed_at TEXT", "snapshot_id INTEGER", "parent_id INTEGER", "operation TEXT",
	"manifest_list TEXT", "summary TEXT", NULL
};
enum { SN_COMMITTED_AT, SN_SNAPSHOT_ID, SN_PARENT_ID, SN_OPERATION, SN_MANIFEST_LIST,
       SN_SUMMARY };

static const char *const cols_history[] = {
	"made_current_at TEXT", "snapshot_id INTEGER", "parent_id INTEGER",
	"is_current_ancestor INTEGER", NULL
};
enum { HI_MADE_CURRENT_AT, HI_SNAPSHOT_ID, HI_PARENT_ID, HI_IS_CURRENT_ANCESTOR };

static const char *const cols_files[] = {
	"content INTEGER", "file_path TEXT", "file_format TEXT", "spec_id INTEGER",
	"partition TEXT", "record_count INTEGER", "file_size_in_bytes INTEGER",
	"column_sizes TEXT", "value_counts TEXT", "null_value_counts TEXT",
	"nan_value_counts TEXT", "lower_bounds TEXT", "upper_bounds TEXT",
	"sort_order_id INTEGER", "equality_ids TEXT", "split_offsets TEXT", NULL
};
enum { FI_CONTENT, FI_FILE_PATH, FI_FILE_FORMAT, FI_SPEC_ID, FI_PARTITION, FI_RECORD_COUNT,
       FI_FILE_SIZE, FI_COLUMN_SIZES, FI_VALUE_COUNTS, FI_NULL_VALUE_COUNTS,
       FI_NAN_VALUE_COUNTS, FI_LOWER_BOUNDS, FI_UPPER_BOUNDS, FI_SORT_ORDER_ID,
       FI_EQUALITY_IDS, FI_SPLIT_OFFSETS };

static const char *const cols_manifests[] = {
	"content INTEGER", "path TEXT", "length INTEGER", "partition_spec_id INTEGER",
	"added_snapshot_id INTEGER", "added_data_files_count INTEGER",
	"existing_data_files_count INTEGER", "deleted_data_files_count INTEGER",
	"added_delete_files_count INTEGER", "existing_delete_files_count INTEGER",
	"deleted_delete_files_count INTEGER", "partition_summaries TEXT", NULL
};
enum { MA_CONTENT, MA_PATH, MA_LENGTH, MA_SPEC_ID, MA_ADDED_SNAPSHOT_ID, MA_ADDED_DATA,
       MA_EXISTING_DATA, MA_DELETED_DATA, MA_ADDED_DELETE, MA_EXISTING_DELETE,
       MA_DELETED_DELETE, MA_PARTITION_SUMMARIES };

static const char *const cols_partitions[] = {
	"partition TEXT", "spec_id INTEGER", "record_count INTEGER", "file_count INTEGER",
	"total_data_file_size_in_bytes INTEGER", "position_delete_record_count INTEGER",
	"position_delete_file_count INTEGER", "equality_delete_record_count INTEGER",
	"equality_delete_file_count INTEGER", "last_updated_at TEXT",
	"last_updated_snapshot_id INTEGER", NULL
};
enum { PA_PARTITION, PA_SPEC_ID, PA_RECORD_COUNT, PA_FILE_COUNT, PA_DATA_SIZE,
       PA_POS_RECORDS, PA_POS_FILES, PA_EQ_RECORDS, PA_EQ_FILES, PA_LAST_UPDATED_AT,
       PA_LAST_UPDATED_SNAPSHOT_ID };

static const char *const cols_refs[] = {
	"name TEXT", "type TEXT", "snapshot_id INTEGER", "max_reference_age_in_ms INTEGER",
	"min_snapshots_to_keep INTEGER", "max_snapshot_age_in_ms INTEGER", NULL
};
enum { RE_NAME, RE_TYPE, RE_SNAPSHOT_ID, RE_MAX_REF_AGE, RE_MIN_SNAPSHOTS, RE_MAX_SNAPSHOT_AGE };

static const char *const *const kind_cols[K_COUNT] = {
	cols_snapshots, cols_history, cols_files, cols_manifests, cols_partitions, cols_refs
};

/* Kinds that describe one snapshot and take the hidden column _as_of (a
 * snapshot id, a tag or branch name, or a time), as the data tables do. */
static bool kind_as_of(int kind)
{
	return kind == K_FILES || kind == K_MANIFESTS || kind == K_PARTITIONS;
}

static int kind_ncols(int kind)
{
	int n = 0;
	while (kind_cols[kind][n])
		n++;
	return n;
}

/* ---- rows ------------------------------------------------------------------ */

typedef struct mcell {
	int type;             /* SQLITE_NULL, SQLITE_INTEGER or SQLITE_TEXT */
	sqlite3_int64 i;
	char *text;           /* sqlite3_malloc'ed */
} mcell;

typedef struct mvtab {
	sqlite3_vtab base;
	floe_sql *s;
	char *ident;          /* "ns.table" (sqlite3_malloc'ed) */
	int kind;
	int ncols;            /* declared, without _as_of */
} mvtab;

typedef struct mcursor {
	sqlite3_vtab_cursor base;
	mcell *cells;         /* nrows * ncols */
	sqlite3_int64 nrows, cap, row;
	int ncols;
	bool oom;
} mcursor;

static void cursor_clear(mcursor *c)
{
	for (sqlite3_int64 i = 0; i < c->nrows * c->ncols; i++)
		sqlite3_free(c->cells[i].text);
	sqlite3_free(c->cells);
	c->cells = NULL;
	c->nrows = c->cap = c->row = 0;
	c->oom = false;
}

/* A new row of NULLs; NULL (and c->oom) when out of memory. */
static mcell *row_add(mcursor *c)
{
	if (c->oom)
		return NULL;
	if (c->nrows == c->cap) {
		sqlite3_int64 cap = c->cap ? c->cap * 2 : 16;
		mcell *n = sqlite3_realloc64(c->cells, (sqlite3_uint64)(cap * c->ncols) * sizeof *n);
		if (!n) {
			c->oom = true;
			return NULL;
		}
		c->cells = n;
		c->cap = cap;
	}
	mcell *r = &c->cells[c->nrows++ * c->ncols];
	memset(r, 0, (size_t)c->ncols * sizeof *r);
	for (int i = 0; i < c->ncols; i++)
		r[i].type = SQLITE_NULL;
	return r;
}

static void cell_int(mcell *cell, sqlite3_int64 v)
{
	cell->type = SQLITE_INTEGER;
	cell->i = v;
}

/* An integer that is NULL when negative (the listings' "absent"). */
static void cell_count(mcell *cell, sqlite3_int64 v)
{
	if (v >= 0)
		cell_int(cell, v);
}

/* Take `text` (sqlite3_malloc'ed; NULL stays an SQL NULL). */
static void cell_take(mcursor *c, mcell *cell, char *text)
{
	if (!text)
		return;
	cell->type = SQLITE_TEXT;
	cell->text = text;
	(void)c;
}

static void cell_text(mcursor *c, mcell *cell, const char *text)
{
	if (!text)
		return;
	char *t = sqlite3_mprintf("%s", text);
	if (!t)
		c->oom = true;
	cell_take(c, cell, t);
}

/* Take the text of `str` (NULL stays NULL); its failure marks c->oom. */
static void cell_str(mcursor *c, mcell *cell, sqlite3_str *str)
{
	if (sqlite3_str_errcode(str) != SQLITE_OK)
		c->oom = true;
	char *t = sqlite3_str_finish(str);
	if (!t && !c->oom)
		t = sqlite3_mprintf("%s", ""); /* an empty text is not NULL */
	if (!t)
		c->oom = true;
	cell_take(c, cell, t);
}

static void cell_time_ms(mcursor *c, mcell *cell, int64_t ms)
{
	char buf[48];
	sq_format_timestamp_us(buf, ms * 1000);
	cell_text(c, cell, buf);
}

/* ---- JSON text ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* A JSON string of n bytes (invalid UTF-8 becomes U+FFFD). */
static void json_string(sqlite3_str *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	sqlite3_str_appendchar(o, 1, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			sqlite3_str_appendchar(o, 1, '\\');
			sqlite3_str_appendchar(o, 1, (char)c);
			i++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': sqlite3_str_appendall(o, "\\n"); break;
			case '\r': sqlite3_str_appendall(o, "\\r"); break;
			case '\t': sqlite3_str_appendall(o, "\\t"); break;
			case '\b': sqlite3_str_appendall(o, "\\b"); break;
			case '\f': sqlite3_str_appendall(o, "\\f"); break;
			default: sqlite3_str_appendf(o, "\\u%04x", c); break;
			}
			i++;
		} else if (c < 0x80) {
			sqlite3_str_appendchar(o, 1, (char)c);
			i++;
		} else {
			size_t len = utf8_len(p + i, n - i);
			if (len) {
				sqlite3_str_append(o, (const char *)p + i, (int)len);
				i += len;
			} else {
				sqlite3_str_appendall(o, "\\ufffd");
				i++;
			}
		}
	}
	sqlite3_str_appendchar(o, 1, '"');
}

static void json_cstring(sqlite3_str *o, const char *s)
{
	json_string(o, s, strlen(s));
}

/* A value as JSON, written the way the data tables show the type: numbers
 * (integers, decimals, finite floats) as JSON numbers, booleans as
 * true/false, dates, times and timestamps as SQLite's UTC text, binary
 * and fixed as upper-case hex (as hex() prints a BLOB), the rest as
 * strings. */
static void json_value(sqlite3_str *o, const floe_meta_value *v)
{
	char buf[48];
	if (v->is_null) {
		sqlite3_str_appendall(o, "null");
		return;
	}
	switch (v->type.id) {
	case FLOE_TYPE_BOOLEAN:
		sqlite3_str_appendall(o, v->v.b ? "true" : "false");
		return;
	case FLOE_TYPE_INT:
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_DECIMAL:
		sqlite3_str_appendall(o, v->text);
		return;
	case FLOE_TYPE_FLOAT:
	case FLOE_TYPE_DOUBLE:
		if (isfinite(v->v.d)) {
			/* "100" would read back as an integer: keep it a REAL */
			sqlite3_str_appendall(o, v->text);
			if (!strpbrk(v->text, ".eE"))
				sqlite3_str_appendall(o, ".0");
		} else
			json_cstring(o, v->text); /* "NaN", "Infinity": not JSON numbers */
		return;
	case FLOE_TYPE_DATE:
		sq_format_date(buf, (int32_t)v->v.i);
		break;
	case FLOE_TYPE_TIME:
		sq_format_time_us(buf, v->v.i);
		break;
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
		sq_format_timestamp_us(buf, v->v.i);
		break;
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		sq_format_timestamp_ns(buf, v->v.i);
		break;
	case FLOE_TYPE_BINARY:
	case FLOE_TYPE_FIXED:
		sqlite3_str_appendchar(o, 1, '"');
		for (int64_t i = 0; i < v->v.len; i++)
			sqlite3_str_appendf(o, "%02X", v->v.bytes[i]);
		sqlite3_str_appendchar(o, 1, '"');
		return;
	case FLOE_TYPE_STRING:
	case FLOE_TYPE_JSON:
		json_string(o, (const char *)v->v.bytes, v->v.len > 0 ? (size_t)v->v.len : 0);
		return;
	default: /* UUID: 8-4-4-4-12, as the data tables show it */
		json_cstring(o, v->text);
		return;
	}
	json_cstring(o, buf);
}

/* {"field": value, ...} of a file's partition tuple ({} unpartitioned). */
static char *partition_json(const floe_meta_file *f)
{
	sqlite3_str *o = sqlite3_str_new(NULL);
	sqlite3_str_appendchar(o, 1, '{');
	for (int i = 0; i < f->npartition; i++) {
		if (i)
			sqlite3_str_appendchar(o, 1, ',');
		json_cstring(o, f->partition[i].name);
		sqlite3_str_appendchar(o, 1, ':');
		json_value(o, &f->partition[i].value);
	}
	sqlite3_str_appendchar(o, 1, '}');
	if (sqlite3_str_errcode(o) != SQLITE_OK) {
		sqlite3_free(sqlite3_str_finish(o));
		return NULL;
	}
	return sqlite3_str_finish(o);
}

/* The key of a column in the metric maps: its name, or its field id when
 * no schema of the table has it. */
static void metric_key(sqlite3_str *o, const floe_meta_column *col)
{
	if (col->name) {
		json_cstring(o, col->name);
	} else {
		char id[16];
		snprintf(id, sizeof id, "%d", (int)col->field_id);
		json_cstring(o, id);
	}
	sqlite3_str_appendchar(o, 1, ':');
}

enum { M_SIZE, M_VALUES, M_NULLS, M_NANS, M_LOWER, M_UPPER };

/* One metric map of a file: {"column": count or bound, ...}; NULL when the
 * file has that metric for no column. */
static void metric_map(mcursor *c, mcell *cell, const floe_meta_file *f, int which)
{
	sqlite3_str *o = NULL;
	for (int i = 0; i < f->ncolumns; i++) {
		const floe_meta_column *col = &f->columns[i];
		int64_t n = -1;
		const floe_meta_value *bound = NULL;
		switch (which) {
		case M_SIZE: n = col->column_size; break;
		case M_VALUES: n = col->value_count; break;
		case M_NULLS: n = col->null_count; break;
		case M_NANS: n = col->nan_count; break;
		case M_LOWER: bound = col->has_lower ? &col->lower : NULL; break;
		default: bound = col->has_upper ? &col->upper : NULL; break;
		}
		if (n < 0 && !bound)
			continue;
		if (!o) {
			o = sqlite3_str_new(NULL);
			sqlite3_str_appendchar(o, 1, '{');
		} else {
			sqlite3_str_appendchar(o, 1, ',');
		}
		metric_key(o, col);
		if (bound)
			json_value(o, bound);
		else
			sqlite3_str_appendf(o, "%lld", (long long)n);
	}
	if (!o)
		return;
	sqlite3_str_appendchar(o, 1, '}');
	cell_str(c, cell, o);
}

/* ---- building the rows --------------------------------------------------------- */

static int build_snapshots(mcursor *c, floe_table *t, floe_error *err)
{
	const floe_snapshot_info *sn;
	int n;
	int rc = floe_table_snapshots(t, &sn, &n, err);
	for (int i = 0; !rc && i < n; i++) {
		mcell *r = row_add(c);
		if (!r)
			break;
		cell_time_ms(c, &r[SN_COMMITTED_AT], sn[i].timestamp_ms);
		cell_int(&r[SN_SNAPSHOT_ID], sn[i].snapshot_id);
		if (sn[i].has_parent)
			cell_int(&r[SN_PARENT_ID], sn[i].parent_id);
		if (sn[i].operation && *sn[i].operation)
			cell_text(c, &r[SN_OPERATION], sn[i].operation);
		cell_text(c, &r[SN_MANIFEST_LIST], sn[i].manifest_list);
		cell_text(c, &r[SN_SUMMARY], sn[i].summary_json);
	}
	return rc;
}

static int build_history(mcursor *c, floe_table *t, floe_error *err)
{
	floe_meta_history_entry *h;
	int n;
	int rc = floe_meta_history(t, &h, &n, err);
	for (int i = 0; !rc && i < n; i++) {
		mcell *r = row_add(c);
		if (!r)
			break;
		cell_time_ms(c, &r[HI_MADE_CURRENT_AT], h[i].made_current_ms);
		cell_int(&r[HI_SNAPSHOT_ID], h[i].snapshot_id);
		if (h[i].has_parent)
			cell_int(&r[HI_PARENT_ID], h[i].parent_id);
		cell_int(&r[HI_IS_CURRENT_ANCESTOR], h[i].is_current_ancestor);
	}
	free(h);
	return rc;
}

static int build_refs(mcursor *c, floe_table *t, floe_error *err)
{
	floe_meta_ref *refs;
	int n;
	int rc = floe_meta_refs(t, &refs, &n, err);
	for (int i = 0; !rc && i < n; i++) {
		mcell *r = row_add(c);
		if (!r)
			break;
		cell_text(c, &r[RE_NAME], refs[i].name);
		cell_text(c, &r[RE_TYPE], refs[i].is_tag ? "TAG" : "BRANCH");
		cell_int(&r[RE_SNAPSHOT_ID], refs[i].snapshot_id);
		cell_count(&r[RE_MAX_REF_AGE], refs[i].max_ref_age_ms);
		cell_count(&r[RE_MIN_SNAPSHOTS], refs[i].min_snapshots_to_keep);
		cell_count(&r[RE_MAX_SNAPSHOT_AGE], refs[i].max_snapshot_age_ms);
	}
	free(refs);
	return rc;
}

static char *int_array_json(const void *ids, int n, bool wide)
{
	sqlite3_str *o = sqlite3_str_new(NULL);
	sqlite3_str_appendchar(o, 1, '[');
	for (int i = 0; i < n; i++)
		sqlite3_str_appendf(o, "%s%lld", i ? "," : "",
		                    wide ? (long long)((const int64_t *)ids)[i]
		                         : (long long)((const int32_t *)ids)[i]);
	sqlite3_str_appendchar(o, 1, ']');
	if (sqlite3_str_errcode(o) != SQLITE_OK) {
		sqlite3_free(sqlite3_str_finish(o));
		return NULL;
	}
	return sqlite3_str_finish(o);
}

static int file_row(void *ctx, const floe_meta_file *f, floe_error *err)
{
	mcursor *c = ctx;
	mcell *r = row_add(c);
	if (!r)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	const floe_file_info *fi = &f->info;
	cell_int(&r[FI_CONTENT], fi->content);
	cell_text(c, &r[FI_FILE_PATH], fi->path);
	cell_text(c, &r[FI_FILE_FORMAT], fi->format);
	cell_int(&r[FI_SPEC_ID], fi->spec_id);
	char *pj = partition_json(f);
	if (!pj)
		c->oom = true;
	cell_take(c, &r[FI_PARTITION], pj);
	cell_int(&r[FI_RECORD_COUNT], fi->record_count);
	cell_int(&r[FI_FILE_SIZE], fi->file_size);
	metric_map(c, &r[FI_COLUMN_SIZES], f, M_SIZE);
	metric_map(c, &r[FI_VALUE_COUNTS], f, M_VALUES);
	metric_map(c, &r[FI_NULL_VALUE_COUNTS], f, M_NULLS);
	metric_map(c, &r[FI_NAN_VALUE_COUNTS], f, M_NANS);
	metric_map(c, &r[FI_LOWER_BOUNDS], f, M_LOWER);
	metric_map(c, &r[FI_UPPER_BOUNDS], f, M_UPPER);
	if (f->has_sort_order_id)
		cell_int(&r[FI_SORT_ORDER_ID], f->sort_order_id);
	if (fi->content == 2) {
		char *ids = int_array_json(f->equality_ids, f->nequality_ids, false);
		if (!ids)
			c->oom = true;
		cell_take(c, &r[FI_EQUALITY_IDS], ids);
	}
	if (f->nsplit_offsets > 0) {
		char *so = int_array_json(f->split_offsets, f->nsplit_offsets, true);
		if (!so)
			c->oom = true;
		cell_take(c, &r[FI_SPLIT_OFFSETS], so);
	}
	return c->oom ? floe_error_set(err, FLOE_ENOMEM, "out of memory") : 0;
}

static void summary_bound(sqlite3_str *o, bool has, const floe_meta_value *v)
{
	if (has)
		json_value(o, v);
	else
		sqlite3_str_appendall(o, "null");
}

static int manifest_row(void *ctx, const floe_meta_manifest *m, floe_error *err)
{
	mcursor *c = ctx;
	mcell *r = row_add(c);
	if (!r)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	cell_int(&r[MA_CONTENT], m->content);
	cell_text(c, &r[MA_PATH], m->path);
	cell_count(&r[MA_LENGTH], m->length);
	if (m->spec_id >= 0)
		cell_int(&r[MA_SPEC_ID], m->spec_id);
	cell_int(&r[MA_ADDED_SNAPSHOT_ID], m->added_snapshot_id);
	/* as Spark shows them: a data manifest counts no delete files and a
	 * delete manifest no data files */
	bool data = m->content == 0;
	int base = data ? MA_ADDED_DATA : MA_ADDED_DELETE;
	int other = data ? MA_ADDED_DELETE : MA_ADDED_DATA;
	cell_count(&r[base], m->added_files_count);
	cell_count(&r[base + 1], m->existing_files_count);
	cell_count(&r[base + 2], m->deleted_files_count);
	for (int k = 0; k < 3; k++)
		cell_int(&r[other + k], 0);
	sqlite3_str *o = sqlite3_str_new(NULL);
	sqlite3_str_appendchar(o, 1, '[');
	for (int i = 0; i < m->npartitions; i++) {
		const floe_meta_field_summary *p = &m->partitions[i];
		sqlite3_str_appendf(o, "%s{\"contains_null\":%s,\"contains_nan\":%s,\"lower_bound\":",
		                    i ? "," : "", p->contains_null ? "true" : "false",
		                    p->contains_nan < 0 ? "null" : p->contains_nan ? "true" : "false");
		summary_bound(o, p->has_lower, &p->lower);
		sqlite3_str_appendall(o, ",\"upper_bound\":");
		summary_bound(o, p->has_upper, &p->upper);
		sqlite3_str_appendchar(o, 1, '}');
	}
	sqlite3_str_appendchar(o, 1, ']');
	cell_str(c, &r[MA_PARTITION_SUMMARIES], o);
	return c->oom ? floe_error_set(err, FLOE_ENOMEM, "out of memory") : 0;
}

/* One live file, reduced to what the partitions table sums. */
typedef struct pfile {
	char *partition;      /* JSON (sqlite3_malloc'ed) */
	int32_t spec_id;
	int content;
	int64_t records, size, snapshot_id;
} pfile;

typedef struct pfiles {
	pfile *v;
	size_t n, cap;
} pfiles;

static int pfile_add(void *ctx, const floe_meta_file *f, floe_error *err)
{
	pfiles *p = ctx;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		pfile *v = realloc(p->v, cap * sizeof *v);
		if (!v)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		p->v = v;
		p->cap = cap;
	}
	pfile *e = &p->v[p->n];
	if (!(e->partition = partition_json(f)))
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	e->spec_id = f->info.spec_id;
	e->content = f->info.content;
	e->records = f->info.record_count;
	e->size = f->info.file_size;
	e->snapshot_id = f->snapshot_id;
	p->n++;
	return 0;
}

static int pfile_cmp(const void *a, const void *b)
{
	const pfile *x = a, *y = b;
	if (x->spec_id != y->spec_id)
		return x->spec_id < y->spec_id ? -1 : 1;
	return strcmp(x->partition, y->partition);
}

typedef struct snap_time {
	int64_t id, ms;
} snap_time;

static int snap_time_cmp(const void *a, const void *b)
{
	const snap_time *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Rows per (spec, partition tuple) of the selected snapshot's live files:
 * data files and rows, delete files and their records, and the newest
 * snapshot that added a file there. */
static int build_partitions(mcursor *c, floe_table *t, const floe_snapshot_sel *sel,
                            floe_error *err)
{
	pfiles p = { NULL, 0, 0 };
	snap_time *times = NULL;
	const floe_snapshot_info *sn;
	int nsn = 0;
	int rc = floe_meta_files(t, sel, pfile_add, &p, err);
	if (!rc)
		rc = floe_table_snapshots(t, &sn, &nsn, err);
	if (!rc && nsn > 0) {
		times = malloc((size_t)nsn * sizeof *times);
		if (!times)
			rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
		for (int i = 0; times && i < nsn; i++)
			times[i] = (snap_time){ sn[i].snapshot_id, sn[i].timestamp_ms };
		if (times)
			qsort(times, (size_t)nsn, sizeof *times, snap_time_cmp);
	}
	if (!rc && p.n > 0)
		qsort(p.v, p.n, sizeof *p.v, pfile_cmp);
	for (size_t i = 0; !rc && i < p.n;) {
		size_t j = i;
		int64_t v[PA_EQ_FILES + 1] = { 0 };
		int64_t last_ms = INT64_MIN, last_id = 0;
		for (; j < p.n && pfile_cmp(&p.v[i], &p.v[j]) == 0; j++) {
			const pfile *e = &p.v[j];
			if (e->content == 0) {
				v[PA_RECORD_COUNT] += e->records;
				v[PA_FILE_COUNT]++;
				v[PA_DATA_SIZE] += e->size;
			} else if (e->content == 1) {
				v[PA_POS_RECORDS] += e->records;
				v[PA_POS_FILES]++;
			} else {
				v[PA_EQ_RECORDS] += e->records;
				v[PA_EQ_FILES]++;
			}
			snap_time key = { e->snapshot_id, 0 };
			const snap_time *st = times ? bsearch(&key, times, (size_t)nsn, sizeof *times,
			                                      snap_time_cmp) : NULL;
			if (st && st->ms > last_ms) {
				last_ms = st->ms;
				last_id = st->id;
			}
		}
		mcell *r = row_add(c);
		if (!r)
			break;
		cell_text(c, &r[PA_PARTITION], p.v[i].partition);
		cell_int(&r[PA_SPEC_ID], p.v[i].spec_id);
		for (int k = PA_RECORD_COUNT; k <= PA_EQ_FILES; k++)
			cell_int(&r[k], v[k]);
		if (last_ms != INT64_MIN) {
			cell_time_ms(c, &r[PA_LAST_UPDATED_AT], last_ms);
			cell_int(&r[PA_LAST_UPDATED_SNAPSHOT_ID], last_id);
		}
		i = j;
	}
	for (size_t i = 0; i < p.n; i++)
		sqlite3_free(p.v[i].partition);
	free(p.v);
	free(times);
	return rc;
}

/* ---- _as_of ---------------------------------------------------------------------- */

/* _as_of's value: an integer snapshot id; text naming a tag or branch of
 * the table, else a time SQLite reads (julianday(): "2024-01-02 10:00:00",
 * "2024-01-02T10:00:00Z", "now", ...): the snapshot current then. Text
 * that is neither is left to the ref lookup, whose error names it. */
static int pick_snapshot(floe_snapshot_sel *sel, sqlite3_value *val, sqlite3 *db, floe_table *t,
                         floe_error *err)
{
	memset(sel, 0, sizeof *sel);
	int vt = sqlite3_value_type(val);
	if (vt == SQLITE_NULL)
		return 0;
	if (vt == SQLITE_INTEGER) {
		sel->kind = FLOE_SNAPSHOT_ID;
		sel->snapshot_id = sqlite3_value_int64(val);
		return 0;
	}
	if (vt == SQLITE_FLOAT) {
		double d = sqlite3_value_double(val);
		if (d != floor(d) || fabs(d) > 9.2e18)
			return floe_error_set(err, FLOE_EINVALID, "_as_of = %g: give a snapshot id, "
			                      "a tag or branch name, or a time", d);
		sel->kind = FLOE_SNAPSHOT_ID;
		sel->snapshot_id = (int64_t)d;
		return 0;
	}
	const char *text = (const char *)sqlite3_value_text(val);
	if (!text)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	sel->kind = FLOE_SNAPSHOT_REF;
	sel->ref = text;
	floe_meta_ref *refs;
	int n;
	int rc = floe_meta_refs(t, &refs, &n, err);
	if (rc)
		return rc;
	bool is_ref = false;
	for (int i = 0; i < n && !is_ref; i++)
		is_ref = strcmp(refs[i].name, text) == 0;
	free(refs);
	if (is_ref)
		return 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT CAST(round((julianday(?1) - 2440587.5) * 86400000.0) "
	                       "AS INTEGER)", -1, &st, NULL) != SQLITE_OK)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	sqlite3_bind_value(st, 1, val);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		sel->kind = FLOE_SNAPSHOT_AS_OF;
		sel->timestamp_ms = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---- the module ---------------------------------------------------------------- */

static int mt_error(sqlite3_vtab *vt, char *msg)
{
	sqlite3_free(vt->zErrMsg);
	vt->zErrMsg = msg;
	return msg ? SQLITE_ERROR : SQLITE_NOMEM;
}

/* The text of a module argument without its SQL quotes ('x', "x", with
 * doubled quotes inside); sqlite3_malloc'ed. */
static char *unquote(const char *a)
{
	size_t n = strlen(a);
	while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t'))
		n--;
	while (n > 0 && (*a == ' ' || *a == '\t')) {
		a++;
		n--;
	}
	char *o = sqlite3_malloc64(n + 1);
	if (!o)
		return NULL;
	if (n >= 2 && (a[0] == '\'' || a[0] == '"') && a[n - 1] == a[0]) {
		size_t k = 0;
		for (size_t i = 1; i + 1 < n; i++) {
			o[k++] = a[i];
			if (a[i] == a[0] && a[i + 1] == a[0])
				i++;
		}
		o[k] = '\0';
	} else {
		memcpy(o, a, n);
		o[n] = '\0';
	}
	return o;
}

static int mt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                      sqlite3_vtab **out, char **errmsg)
{
	if (argc != 5) {
		*errmsg = sqlite3_mprintf("floe_meta takes a table and a kind: "
		                          "USING floe_meta('ns.table', 'snapshots')");
		return SQLITE_ERROR;
	}
	char *ident = unquote(argv[3]), *kind = unquote(argv[4]);
	if (!ident || !kind) {
		sqlite3_free(ident);
		sqlite3_free(kind);
		return SQLITE_NOMEM;
	}
	int k = 0;
	while (sq_meta_kinds[k] && strcmp(sq_meta_kinds[k], kind) != 0)
		k++;
	if (!sq_meta_kinds[k]) {
		*errmsg = sqlite3_mprintf("floe_meta: unknown kind '%s' (snapshots, history, files, "
		                          "manifests, partitions or refs)", kind);
		sqlite3_free(ident);
		sqlite3_free(kind);
		return SQLITE_ERROR;
	}
	sqlite3_free(kind);
	sqlite3_str *ddl = sqlite3_str_new(db);
	sqlite3_str_appendall(ddl, "CREATE TABLE x(");
	for (int i = 0; kind_cols[k][i]; i++)
		sqlite3_str_appendf(ddl, "%s%s", i ? ", " : "", kind_cols[k][i]);
	if (kind_as_of(k))
		sqlite3_str_appendall(ddl, ", _as_of HIDDEN");
	sqlite3_str_appendall(ddl, ")");
	char *sql = sqlite3_str_finish(ddl);
	mvtab *v = sqlite3_malloc(sizeof *v);
	int rc = !sql || !v ? SQLITE_NOMEM : sqlite3_declare_vtab(db, sql);
	sqlite3_free(sql);
	if (rc != SQLITE_OK) {
		sqlite3_free(v);
		sqlite3_free(ident);
		return rc;
	}
	memset(v, 0, sizeof *v);
	v->s = aux;
	v->ident = ident;
	v->kind = k;
	v->ncols = kind_ncols(k);
	sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
	*out = &v->base;
	return SQLITE_OK;
}

static int mt_disconnect(sqlite3_vtab *vt)
{
	mvtab *v = (mvtab *)vt;
	sqlite3_free(v->ident);
	sqlite3_free(v->base.zErrMsg);
	sqlite3_free(v);
	return SQLITE_OK;
}

/* Full scans; the only constraint taken is _as_of = value. A plan that
 * cannot give _as_of its value (a join's later side) must not win. */
static int mt_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
	mvtab *v = (mvtab *)vt;
	bool asof = false, unusable = false;
	for (int i = 0; i < info->nConstraint; i++) {
		const struct sqlite3_index_constraint *ct = &info->aConstraint[i];
		if (!kind_as_of(v->kind) || ct->iColumn != v->ncols ||
		    ct->op != SQLITE_INDEX_CONSTRAINT_EQ)
			continue;
		if (!ct->usable) {
			unusable = true;
			continue;
		}
		if (asof)
			continue;
		asof = true;
		info->aConstraintUsage[i].argvIndex = 1;
		info->aConstraintUsage[i].omit = 1;
	}
	info->idxNum = asof;
	info->estimatedRows = 100;
	info->estimatedCost = 1000 + (unusable && !asof ? 1e12 : 0);
	return SQLITE_OK;
}

static int mt_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
	mvtab *v = (mvtab *)vt;
	mcursor *c = sqlite3_malloc(sizeof *c);
	if (!c)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof *c);
	c->ncols = v->ncols;
	*out = &c->base;
	return SQLITE_OK;
}

static int mt_close(sqlite3_vtab_cursor *cur)
{
	mcursor *c = (mcursor *)cur;
	cursor_clear(c);
	sqlite3_free(c);
	return SQLITE_OK;
}

static int mt_filter(sqlite3_vtab_cursor *cur, int idx_num, const char *idx_str, int argc,
                     sqlite3_value **argv)
{
	mcursor *c = (mcursor *)cur;
	mvtab *v = (mvtab *)cur->pVtab;
	(void)idx_str;
	cursor_clear(c);
	floe_error err;
	floe_error_clear(&err);
	floe_table *t;
	int rc = sq_table_get(v->s, v->ident, true, &t, &err);
	if (rc) /* the message names the table (and says to refresh when it is gone) */
		return mt_error(&v->base, sqlite3_mprintf("%s", err.msg));
	floe_snapshot_sel sel = { .kind = FLOE_SNAPSHOT_CURRENT };
	if (idx_num == 1 && argc >= 1)
		rc = pick_snapshot(&sel, argv[0], v->s->db, t, &err);
	if (!rc) {
		switch (v->kind) {
		case K_SNAPSHOTS: rc = build_snapshots(c, t, &err); break;
		case K_HISTORY: rc = build_history(c, t, &err); break;
		case K_FILES: rc = floe_meta_files(t, &sel, file_row, c, &err); break;
		case K_MANIFESTS: rc = floe_meta_manifests(t, &sel, manifest_row, c, &err); break;
		case K_PARTITIONS: rc = build_partitions(c, t, &sel, &err); break;
		default: rc = build_refs(c, t, &err); break;
		}
	}
	if (c->oom || rc == FLOE_ENOMEM) {
		cursor_clear(c);
		return SQLITE_NOMEM;
	}
	if (rc) {
		cursor_clear(c);
		return mt_error(&v->base, sqlite3_mprintf("%s$%s: %s", v->ident,
		                                          sq_meta_kinds[v->kind], err.msg));
	}
	return SQLITE_OK;
}

static int mt_next(sqlite3_vtab_cursor *cur)
{
	((mcursor *)cur)->row++;
	return SQLITE_OK;
}

static int mt_eof(sqlite3_vtab_cursor *cur)
{
	const mcursor *c = (const mcursor *)cur;
	return c->row >= c->nrows;
}

static int mt_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	const mcursor *c = (const mcursor *)cur;
	if (col < 0 || col >= c->ncols) { /* _as_of reads as NULL */
		sqlite3_result_null(ctx);
		return SQLITE_OK;
	}
	const mcell *cell = &c->cells[c->row * c->ncols + col];
	switch (cell->type) {
	case SQLITE_INTEGER:
		sqlite3_result_int64(ctx, cell->i);
		break;
	case SQLITE_TEXT:
		sqlite3_result_text(ctx, cell->text, -1, SQLITE_TRANSIENT);
		break;
	default:
		sqlite3_result_null(ctx);
		break;
	}
	return SQLITE_OK;
}

static int mt_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *out)
{
	*out = ((const mcursor *)cur)->row;
	return SQLITE_OK;
}

static const sqlite3_module meta_module = {
	.iVersion = 1,
	.xCreate = mt_connect,
	.xConnect = mt_connect,
	.xBestIndex = mt_best_index,
	.xDisconnect = mt_disconnect,
	.xDestroy = mt_disconnect,
	.xOpen = mt_open,
	.xClose = mt_close,
	.xFilter = mt_filter,
	.xNext = mt_next,
	.xEof = mt_eof,
	.xColumn = mt_column,
	.xRowid = mt_rowid,
};

int sq_meta_register(floe_sql *s, floe_error *err)
{
	if (sqlite3_create_module_v2(s->db, "floe_meta", &meta_module, s, NULL) != SQLITE_OK)
		return floe_error_set(err, FLOE_EIO, "cannot register the floe_meta module: %s",
		                      sqlite3_errmsg(s->db));
	return 0;
}
