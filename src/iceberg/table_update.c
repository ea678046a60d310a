/* iceberg/table_update.c - UPDATE ... WHERE: the rows the filter matches are
 * written again with new values (SET col = literal, ..., or a caller's
 * function of the old rows: how expressions reach it from above the table
 * layer); copy-on-write
 * rewrites the files holding them (other rows unchanged), merge-on-read
 * writes position delete files for the old rows and data files for the new
 * ones, in one commit (iceberg/rowdelta.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iceberg/rowdelta.h"

#define UPDATE_MAX_SET 64

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

typedef struct assign {
	int32_t field_id;
	ice_datum value;       /* of the column's type */
} assign;

/* "col = literal, col2 = NULL, ..." bound to the current schema. */
static int parse_set(const char *set, const ice_schema *schema, floe_arena *arena, assign *out,
                     int *n, floe_error *err)
{
	*n = 0;
	const char *p = set;
	while (*p) {
		/* one assignment up to a comma outside quotes */
		const char *q = p;
		bool quoted = false;
		while (*q && (quoted || *q != ',')) {
			if (*q == '\'')
				quoted = !quoted;
			q++;
		}
		size_t len = (size_t)(q - p);
		char *one = floe_arena_alloc(arena, len + 1);
		if (!one)
			return oom(err);
		memcpy(one, p, len);
		one[len] = 0;
		p = *q ? q + 1 : q;
		char *s = one;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			continue;
		if (*n == UPDATE_MAX_SET)
			return floe_error_set(err, FLOE_EINVALID, "--set: at most %d columns", UPDATE_MAX_SET);
		/* NULL is not a filter literal: take it here */
		char *eq = strchr(s, '=');
		bool is_null = false;
		if (eq) {
			char *v = eq + 1;
			while (*v == ' ')
				v++;
			size_t vl = strlen(v);
			while (vl && v[vl - 1] == ' ')
				vl--;
			if (vl == 4 && strncasecmp(v, "null", 4) == 0) {
				is_null = true;
				memcpy(v, "0", 2); /* parse the column alone */
			}
		}
		ice_expr *parsed, *bound;
		int rc = ice_expr_parse(&parsed, s, arena, err);
		if (!rc && parsed->op != ICE_E_EQ)
			rc = floe_error_set(err, FLOE_EINVALID, "--set: '%s' is not COLUMN = VALUE", one);
		if (rc)
			return floe_error_prefix(err, "--set");
		if (is_null) {
			parsed->nvalues = 0;
			parsed->op = ICE_E_IS_NULL;
		}
		if ((rc = ice_expr_bind(&bound, parsed, schema, arena, err)))
			return floe_error_prefix(err, "--set");
		assign *a = &out[(*n)++];
		memset(a, 0, sizeof *a);
		a->field_id = bound->field_id;
		a->value.type = bound->type;
		if (bound->op == ICE_E_IS_NULL) {
			a->value.is_null = true;
		} else if (bound->op == ICE_E_IS_NAN) {
			a->value.v.d = bound->type.id == FLOE_TYPE_FLOAT ? (double)NAN : NAN;
		} else if (bound->op == ICE_E_EQ && bound->nvalues == 1) {
			a->value = bound->values[0];
		} else {
			return floe_error_set(err, FLOE_EINVALID, "--set: '%s' cannot be assigned", one);
		}
		for (int i = 0; i < schema->nfields; i++)
			if (schema->fields[i].id == a->field_id && schema->fields[i].required &&
			    a->value.is_null)
				return floe_error_set(err, FLOE_EINVALID, "--set: column '%s' is not null",
				                      schema->fields[i].name);
		for (int i = 0; i + 1 < *n; i++)
			if (out[i].field_id == a->field_id)
				return floe_error_set(err, FLOE_EINVALID, "--set: a column is set twice");
	}
	if (*n == 0)
		return floe_error_set(err, FLOE_EINVALID, "--set: nothing to set; give \"col = value, ...\"");
	return 0;
}

/* SET of literals as an update function. */
typedef struct assigns {
	assign as[UPDATE_MAX_SET];
	int n;
} assigns;

static int assign_map(void *ctx, const floe_batch *rows, floe_batch *out, floe_arena *arena,
                      floe_error *err)
{
	const assigns *x = ctx;
	floe_column *cols = floe_arena_alloc(arena, ((size_t)rows->ncols + 1) * sizeof *cols);
	if (!cols)
		return oom(err);
	memcpy(cols, rows->cols, (size_t)rows->ncols * sizeof *cols);
	*out = *rows;
	out->cols = cols;
	for (int i = 0; i < x->n; i++) {
		int c = floe_schema_find_id(rows->schema, x->as[i].field_id);
		if (c < 0)
			continue;
		ice_datum v = x->as[i].value;
		v.type = cols[c].type;
		int rc = ice_const_column(arena, &v, rows->nrows, &cols[c], err);
		if (rc)
			return rc;
	}
	return 0;
}

/* Rows of `b` where sel[r] (k of them), updated by `fn`, into the
 * rewrite. */
static int write_updated(ice_rowdelta *d, const floe_batch *b, const uint8_t *sel, int64_t k,
                         floe_update_fn fn, void *ctx, floe_arena *ga, floe_error *err)
{
	int32_t *idx = floe_arena_alloc(ga, (size_t)k * 4 + 4);
	if (!idx)
		return oom(err);
	int64_t m = 0;
	for (int64_t r = 0; r < b->nrows; r++)
		if (sel[r])
			idx[m++] = (int32_t)r;
	floe_batch nb, out;
	int rc = ice_batch_gather(ga, b, idx, m, &nb, err);
	if (rc || (rc = fn(ctx, &nb, &out, ga, err)))
		return rc;
	if (out.nrows != nb.nrows)
		return floe_error_set(err, FLOE_EINVALID, "the update gave %" PRId64 " rows for %" PRId64,
		                      out.nrows, nb.nrows);
	return floe_append_batch(d->rewrite, &out, err);
}

/* UPDATE by `fn`, or (fn NULL) by the literals of `set`. */
static int update_run(floe_table *t, const char *set, floe_update_fn fn, void *ctx,
                      const char *where, floe_update_result *res, floe_error *err)
{
	floe_update_result dummy;
	if (!res)
		res = &dummy;
	memset(res, 0, sizeof *res);
	res->snapshot_id = -1;
	ice_rowdelta d;
	int rc = ice_rowdelta_init(&d, t, "update", err);
	if (rc) {
		ice_rowdelta_release(&d);
		return rc;
	}
	ice_meta_ref *mref = ice_meta_ref_take(t->mref);
	floe_scan *scan = NULL, *scan2 = NULL;
	floe_arena *ga = floe_arena_new(1 << 20);
	assigns lits;
	lits.n = 0;
	const ice_schema *schema = ice_metadata_current_schema(d.m);
	const char *mode = ice_metadata_property(d.m, "write.update.mode");
	if (!ga)
		rc = oom(err);
	if (!rc && mode && strcmp(mode, "merge-on-read") != 0 && strcmp(mode, "copy-on-write") != 0)
		rc = floe_error_set(err, FLOE_EINVALID, "%s: table property write.update.mode is '%s'; use "
		                    "copy-on-write or merge-on-read", t->ident, mode);
	d.mor = mode && strcmp(mode, "merge-on-read") == 0;
	res->merge_on_read = d.mor;
	d.where = where && *where ? where : NULL;
	if (!rc && !fn) {
		rc = parse_set(set ? set : "", schema, d.arena, lits.as, &lits.n, err);
		fn = assign_map;
		ctx = &lits;
	}
	if (!rc && d.where) {
		ice_expr *parsed;
		if ((rc = ice_expr_parse(&parsed, d.where, d.arena, err)) == 0)
			rc = ice_expr_bind(&d.expr, parsed, schema, d.arena, err);
	}
	if (!rc && ice_schema_has_nested(d.m))
		rc = floe_error_set(err, FLOE_EUNSUPPORTED, "%s has nested columns, which an update "
		                    "cannot rewrite yet", t->ident);
	d.conflicts = ice_rowdelta_filter_conflicts;
	if (!rc)
		rc = floe_append_begin(&d.rewrite, t, err);
	d.cctx = d.expr;
	/* pass 1: the matching rows, every column, with positions */
	floe_scan_options so;
	floe_scan_options_init(&so);
	so.where = d.where;
	ice_scan_ex ex;
	memset(&ex, 0, sizeof ex);
	if (!rc)
		rc = ice_scan_open_ex(&scan, t, &so, &ex, err);
	if (!rc) {
		const ice_snapshot *snap = ice_scan_snapshot(scan);
		d.base_id = snap ? snap->snapshot_id : -1;
	}
	const floe_batch *b;
	ice_hit *cur = NULL;
	int64_t matched = 0;
	while (!rc && (rc = floe_scan_next(scan, &b, err)) == 1) {
		rc = 0;
		const ice_partition_spec *spec;
		bool has_del;
		const ice_data_file *f = ice_scan_file(scan, NULL, &spec, &has_del);
		if (!cur || cur->f != f) {
			cur = ice_rowdelta_find(&d, f->file_path);
			if (!cur && (rc = ice_rowdelta_hit(&d, f, spec, has_del, &cur, err)))
				break;
		}
		cur->matched += b->nrows;
		matched += b->nrows;
		if (!d.mor)
			continue;
		cur->remove = false;
		if (floe_buf_append(&cur->pos, ice_scan_positions(scan), (size_t)b->nrows * sizeof(int64_t))) {
			rc = oom(err);
			break;
		}
		floe_arena_reset(ga);
		uint8_t *all = floe_arena_alloc(ga, (size_t)b->nrows + 1);
		if (!all) {
			rc = oom(err);
			break;
		}
		memset(all, 1, (size_t)b->nrows);
		rc = write_updated(&d, b, all, b->nrows, fn, ctx, ga, err);
	}
	if (rc > 0)
		rc = 0;
	if (!rc && matched == 0) {
		res->snapshot_id = d.base_id;
		goto done;
	}
	if (!rc && d.mor) {
		rc = ice_rowdelta_write_position_deletes(&d, err);
	} else if (!rc) {
		/* copy-on-write: the files again, matching rows updated */
		for (size_t i = 0; i < d.nhits; i++)
			d.hits[i].remove = true;
		floe_scan_options so2;
		floe_scan_options_init(&so2);
		floe_snapshot_sel sel = { FLOE_SNAPSHOT_ID, d.base_id, 0, NULL };
		so2.snapshot = sel;
		so2.where = d.where;
		ice_scan_ex ex2;
		memset(&ex2, 0, sizeof ex2);
		ex2.all_rows = true;
		ex2.want_file = ice_rowdelta_want_hit;
		ex2.ctx = &d;
		rc = ice_scan_open_ex(&scan2, t, &so2, &ex2, err);
		while (!rc && (rc = floe_scan_next(scan2, &b, err)) == 1) {
			floe_arena_reset(ga);
			const uint8_t *match = ice_scan_matches(scan2);
			int64_t nm = 0;
			for (int64_t r = 0; r < b->nrows; r++)
				nm += match[r] != 0;
			if ((rc = ice_rowdelta_keep_rows(&d, b, match, ga, err)))
				break;
			if (nm && (rc = write_updated(&d, b, match, nm, fn, ctx, ga, err)))
				break;
		}
		if (rc > 0)
			rc = 0;
	}
	d.op_name = "overwrite";
	if (!rc)
		rc = ice_rowdelta_commit(&d, err);
	if (!rc) {
		res->snapshot_id = d.snapshot_id;
		res->rows_updated = matched;
		res->data_files_removed = d.removed_files;
		res->data_files_added = (int64_t)d.nadded;
		res->delete_files_added = (int64_t)d.ndels_written;
	}
done:
	floe_scan_free(scan2);
	ice_rowdelta_release(&d);
	floe_scan_free(scan);
	floe_arena_free(ga);
	ice_meta_ref_drop(mref);
	return rc;
}

int floe_table_update(floe_table *t, const char *set, const char *where, floe_update_result *res,
                      floe_error *err)
{
	return update_run(t, set, NULL, NULL, where, res, err);
}

int floe_table_update_with(floe_table *t, const char *where, floe_update_fn fn, void *ctx,
                           floe_update_result *res, floe_error *err)
{
	if (!fn)
		return floe_error_set(err, FLOE_EINVALID, "update: no function");
	return update_run(t, NULL, fn, ctx, where, res, err);
}
