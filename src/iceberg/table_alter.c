/* iceberg/table_alter.c - metadata-only changes, each one commit: schema
 * evolution (add, rename, drop, widen, move columns; nested struct fields
 * by dotted path), partition evolution (a new default spec; old files keep
 * theirs), properties, and tags. Changes re-apply on a new base after a
 * concurrent commit, validated again. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/table_int.h"
#include "iceberg/transform.h"

int ice_type_from_text(ice_type **out, const char *text, int32_t first_id, int32_t *last_id,
                       floe_arena *arena, floe_error *err);
int ice_parse_partition(ice_partition_spec *spec, const char *text, const ice_schema *schema,
                        const ice_table_metadata *prior, int32_t *last_partition_id,
                        floe_arena *arena, floe_error *err);

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

typedef enum alter_op {
	OP_ADD = 1,
	OP_RENAME,
	OP_DROP,
	OP_WIDEN,
	OP_MOVE,
	OP_PARTITION,
	OP_SET_PROP,
	OP_TAG,
	OP_DROP_TAG
} alter_op;

typedef struct alter {
	alter_op op;
	const char *name;   /* column path, property key, tag name */
	const char *arg;    /* type, new name, position, spec text, value */
	const char *pos;    /* add: position */
	int64_t snapshot_id;
} alter;

/* ---- field paths ------------------------------------------------------- */

/* Find "a.b.c" in fields: returns the field list holding the last part, its
 * index, and the parent chain depth; NULL when absent. */
static const ice_field *find_path(const ice_field *fields, int n, const char *path, int *index)
{
	const char *dot = strchr(path, '.');
	size_t len = dot ? (size_t)(dot - path) : strlen(path);
	for (int i = 0; i < n; i++) {
		if (strlen(fields[i].name) != len || strncmp(fields[i].name, path, len) != 0)
			continue;
		if (!dot) {
			*index = i;
			return &fields[i];
		}
		if (fields[i].type->kind != ICE_STRUCT)
			return NULL;
		return find_path(fields[i].type->fields, fields[i].type->nfields, dot + 1, index);
	}
	return NULL;
}

/* Rebuild a field list along `path`, applying `fn` to the list that holds
 * the last path element (or the list at `path` itself when `into` is true:
 * for add, where the last element is the new name). */
typedef int (*list_fn)(void *ctx, const ice_field *in, int n, ice_field **out, int *nout,
                       floe_arena *arena, floe_error *err);

static int rebuild(const ice_field *in, int n, const char *path, list_fn fn, void *ctx,
                   floe_arena *arena, ice_field **out, int *nout, floe_error *err)
{
	const char *dot = strchr(path, '.');
	if (!dot)
		return fn(ctx, in, n, out, nout, arena, err);
	size_t len = (size_t)(dot - path);
	ice_field *copy = floe_arena_calloc(arena, (size_t)n + 1, sizeof *copy);
	if (!copy)
		return oom(err);
	if (n > 0)
		memcpy(copy, in, (size_t)n * sizeof *copy);
	for (int i = 0; i < n; i++) {
		if (strlen(in[i].name) != len || strncmp(in[i].name, path, len) != 0)
			continue;
		if (in[i].type->kind != ICE_STRUCT)
			return floe_error_set(err, FLOE_EINVALID, "'%.*s' is not a struct column", (int)len, path);
		ice_type *nt = floe_arena_alloc(arena, sizeof *nt);
		if (!nt)
			return oom(err);
		*nt = *in[i].type;
		int rc = rebuild(in[i].type->fields, in[i].type->nfields, dot + 1, fn, ctx, arena,
		                 &nt->fields, &nt->nfields, err);
		if (rc)
			return rc;
		copy[i].type = nt;
		*out = copy;
		*nout = n;
		return 0;
	}
	return floe_error_set(err, FLOE_ENOTFOUND, "no column '%.*s'", (int)len, path);
}

static const char *last_part(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot ? dot + 1 : path;
}

typedef struct list_ctx {
	const alter *a;
	ice_field nf;        /* add */
	floe_type widen;     /* widen */
	int32_t field_id;    /* the affected field */
} list_ctx;

static int position_index(const ice_field *in, int n, const char *pos, int self, int *at,
                          floe_error *err)
{
	if (!pos || !*pos) {
		*at = n;
		return 0;
	}
	if (strcmp(pos, "first") == 0) {
		*at = 0;
		return 0;
	}
	if (strncmp(pos, "after ", 6) == 0) {
		const char *col = pos + 6;
		while (*col == ' ')
			col++;
		for (int i = 0; i < n; i++)
			if (strcmp(in[i].name, last_part(col)) == 0) {
				if (i == self)
					return floe_error_set(err, FLOE_EINVALID, "cannot move '%s' after itself", col);
				*at = i + 1;
				return 0;
			}
		return floe_error_set(err, FLOE_ENOTFOUND, "position: no column '%s'", col);
	}
	return floe_error_set(err, FLOE_EINVALID, "position '%s': expected first or after COL", pos);
}

static int list_apply(void *vctx, const ice_field *in, int n, ice_field **out, int *nout,
                      floe_arena *arena, floe_error *err)
{
	list_ctx *c = vctx;
	const alter *a = c->a;
	const char *name = last_part(a->name);
	ice_field *v = floe_arena_calloc(arena, (size_t)n + 2, sizeof *v);
	if (!v)
		return oom(err);
	int idx = -1;
	for (int i = 0; i < n; i++)
		if (strcmp(in[i].name, name) == 0)
			idx = i;
	switch (a->op) {
	case OP_ADD: {
		if (idx >= 0)
			return floe_error_set(err, FLOE_EEXISTS, "column '%s' already exists", a->name);
		int at;
		int rc = position_index(in, n, a->pos, -1, &at, err);
		if (rc)
			return rc;
		if (at > 0)
			memcpy(v, in, (size_t)at * sizeof *v);
		v[at] = c->nf;
		if ((n - at) > 0)
			memcpy(v + at + 1, in + at, (size_t)(n - at) * sizeof *v);
		*out = v;
		*nout = n + 1;
		return 0;
	}
	default:
		break;
	}
	if (idx < 0)
		return floe_error_set(err, FLOE_ENOTFOUND, "no column '%s' (see 'floe describe')", a->name);
	c->field_id = in[idx].id;
	if (n > 0)
		memcpy(v, in, (size_t)n * sizeof *v);
	switch (a->op) {
	case OP_RENAME:
		for (int i = 0; i < n; i++)
			if (strcmp(in[i].name, a->arg) == 0)
				return floe_error_set(err, FLOE_EEXISTS, "column '%s' already exists", a->arg);
		v[idx].name = floe_arena_strdup(arena, a->arg);
		if (!v[idx].name)
			return oom(err);
		*nout = n;
		break;
	case OP_DROP:
		memmove(v + idx, v + idx + 1, (size_t)(n - idx - 1) * sizeof *v);
		*nout = n - 1;
		break;
	case OP_WIDEN: {
		const ice_type *ot = in[idx].type;
		if (ot->kind != ICE_PRIMITIVE)
			return floe_error_set(err, FLOE_EINVALID, "'%s' is not a primitive column", a->name);
		const floe_type *f = &ot->prim, *t = &c->widen;
		bool ok = (f->id == FLOE_TYPE_INT && t->id == FLOE_TYPE_LONG) ||
		          (f->id == FLOE_TYPE_FLOAT && t->id == FLOE_TYPE_DOUBLE) ||
		          (f->id == FLOE_TYPE_DECIMAL && t->id == FLOE_TYPE_DECIMAL &&
		           t->scale == f->scale && t->precision >= f->precision);
		if (!ok) {
			char x[64], y[64];
			return floe_error_set(err, FLOE_EINVALID,
			                      "cannot widen '%s' from %s to %s (allowed: int -> long, float -> "
			                      "double, decimal(P,S) -> decimal(P2,S) with P2 >= P)", a->name,
			                      floe_type_format(f, x, sizeof x), floe_type_format(t, y, sizeof y));
		}
		ice_type *nt = floe_arena_alloc(arena, sizeof *nt);
		if (!nt)
			return oom(err);
		*nt = *ot;
		nt->prim = *t;
		v[idx].type = nt;
		*nout = n;
		break;
	}
	case OP_MOVE: {
		ice_field moving = in[idx];
		int at;
		int rc = position_index(in, n, a->arg, idx, &at, err);
		if (rc)
			return rc;
		memmove(v + idx, v + idx + 1, (size_t)(n - idx - 1) * sizeof *v);
		if (at > idx)
			at--;
		memmove(v + at + 1, v + at, (size_t)(n - 1 - at) * sizeof *v);
		v[at] = moving;
		*nout = n;
		break;
	}
	default:
		return floe_error_set(err, FLOE_EINVALID, "bad schema change");
	}
	*out = v;
	return 0;
}

static bool used_by(const ice_table_metadata *m, int32_t id, const char **what)
{
	const ice_partition_spec *spec = ice_metadata_default_spec(m);
	for (int i = 0; spec && i < spec->nfields; i++)
		if (spec->fields[i].source_id == id && spec->fields[i].transform.kind != ICE_T_VOID) {
			*what = "the current partition spec";
			return true;
		}
	for (int o = 0; o < m->nsort_orders; o++)
		if (m->sort_orders[o].order_id == m->default_sort_order_id)
			for (int i = 0; i < m->sort_orders[o].nfields; i++)
				if (m->sort_orders[o].fields[i].source_id == id) {
					*what = "the sort order";
					return true;
				}
	const ice_schema *s = ice_metadata_current_schema(m);
	for (int i = 0; s && i < s->nidentifier; i++)
		if (s->identifier_field_ids[i] == id) {
			*what = "the identifier fields";
			return true;
		}
	return false;
}

/* Descendant ids of a field (for drop of a struct used elsewhere). */
static bool subtree_used(const ice_table_metadata *m, const ice_field *f, const char **what)
{
	if (used_by(m, f->id, what))
		return true;
	if (f->type->kind == ICE_STRUCT)
		for (int i = 0; i < f->type->nfields; i++)
			if (subtree_used(m, &f->type->fields[i], what))
				return true;
	return false;
}

static int alter_update(void *ctx, const floe_table *t, const ice_table_metadata *base, int attempt,
                        floe_arena *arena, ice_table_metadata **out, floe_error *err)
{
	(void)attempt;
	const alter *a = ctx;
	ice_table_metadata *nm = floe_arena_alloc(arena, sizeof *nm);
	if (!nm)
		return oom(err);
	*nm = *base;
	const ice_schema *cur = ice_metadata_current_schema(base);
	int rc = 0;
	switch (a->op) {
	case OP_ADD: case OP_RENAME: case OP_DROP: case OP_WIDEN: case OP_MOVE: {
		list_ctx c;
		memset(&c, 0, sizeof c);
		c.a = a;
		if (a->op == OP_ADD) {
			ice_type *ty;
			int32_t last;
			if ((rc = ice_type_from_text(&ty, a->arg, base->last_column_id + 2, &last, arena,
			                             err)))
				return rc;
			c.nf.id = base->last_column_id + 1;
			c.nf.name = floe_arena_strdup(arena, last_part(a->name));
			c.nf.required = false;
			c.nf.type = ty;
			if (!c.nf.name)
				return oom(err);
			nm->last_column_id = last > c.nf.id ? last : c.nf.id;
		} else if (a->op == OP_WIDEN) {
			if ((rc = floe_type_parse(&c.widen, a->arg, err)))
				return rc;
		}
		if (a->op == OP_DROP) {
			int idx;
			const ice_field *f = find_path(cur->fields, cur->nfields, a->name, &idx);
			const char *what;
			if (f && subtree_used(base, f, &what))
				return floe_error_set(err, FLOE_EINVALID, "cannot drop '%s': it is used by %s",
				                      a->name, what);
			if (f && cur->nfields == 1 && !strchr(a->name, '.'))
				return floe_error_set(err, FLOE_EINVALID, "cannot drop the last column");
		}
		ice_schema *ns = floe_arena_calloc(arena, 1, sizeof *ns);
		if (!ns)
			return oom(err);
		if ((rc = rebuild(cur->fields, cur->nfields, a->name, list_apply, &c, arena, &ns->fields,
		                  &ns->nfields, err)))
			return floe_error_prefix(err, "%s", t->ident);
		ns->nidentifier = cur->nidentifier;
		ns->identifier_field_ids = cur->identifier_field_ids;
		int32_t maxid = -1;
		for (int i = 0; i < base->nschemas; i++)
			if (base->schemas[i].schema_id > maxid)
				maxid = base->schemas[i].schema_id;
		ns->schema_id = maxid + 1;
		ice_schema *all = floe_arena_calloc(arena, (size_t)base->nschemas + 1, sizeof *all);
		if (!all)
			return oom(err);
		if (base->nschemas > 0)
			memcpy(all, base->schemas, (size_t)base->nschemas * sizeof *all);
		all[base->nschemas] = *ns;
		nm->schemas = all;
		nm->nschemas = base->nschemas + 1;
		nm->current_schema_id = ns->schema_id;
		break;
	}
	case OP_PARTITION: {
		ice_partition_spec spec;
		int32_t last = base->last_partition_id;
		if ((rc = ice_parse_partition(&spec, a->arg, cur, base, &last, arena, err)))
			return rc;
		/* an existing identical spec becomes the default again */
		for (int i = 0; i < base->nspecs; i++) {
			const ice_partition_spec *o = &base->specs[i];
			if (o->nfields != spec.nfields)
				continue;
			int k;
			for (k = 0; k < o->nfields; k++)
				if (o->fields[k].field_id != spec.fields[k].field_id ||
				    o->fields[k].source_id != spec.fields[k].source_id ||
				    o->fields[k].transform.kind != spec.fields[k].transform.kind ||
				    o->fields[k].transform.param != spec.fields[k].transform.param)
					break;
			if (k == o->nfields) {
				nm->default_spec_id = o->spec_id;
				*out = nm;
				return 0;
			}
		}
		int32_t maxid = -1;
		for (int i = 0; i < base->nspecs; i++)
			if (base->specs[i].spec_id > maxid)
				maxid = base->specs[i].spec_id;
		spec.spec_id = maxid + 1;
		ice_partition_spec *all = floe_arena_calloc(arena, (size_t)base->nspecs + 1, sizeof *all);
		if (!all)
			return oom(err);
		if (base->nspecs > 0)
			memcpy(all, base->specs, (size_t)base->nspecs * sizeof *all);
		all[base->nspecs] = spec;
		nm->specs = all;
		nm->nspecs = base->nspecs + 1;
		nm->default_spec_id = spec.spec_id;
		if (last > nm->last_partition_id)
			nm->last_partition_id = last;
		break;
	}
	case OP_SET_PROP: {
		ice_kv *kv = floe_arena_calloc(arena, (size_t)base->nproperties + 1, sizeof *kv);
		if (!kv)
			return oom(err);
		int n = 0;
		bool found = false;
		for (int i = 0; i < base->nproperties; i++) {
			if (strcmp(base->properties[i].key, a->name) == 0) {
				found = true;
				if (!a->arg)
					continue;
				kv[n].key = base->properties[i].key;
				kv[n++].value = a->arg;
				continue;
			}
			kv[n++] = base->properties[i];
		}
		if (!found && a->arg) {
			kv[n].key = a->name;
			kv[n++].value = a->arg;
		}
		if (!found && !a->arg)
			return floe_error_set(err, FLOE_ENOTFOUND, "%s has no property '%s'", t->ident, a->name);
		nm->properties = kv;
		nm->nproperties = n;
		break;
	}
	case OP_TAG: {
		if (ice_metadata_ref(base, a->name))
			return floe_error_set(err, FLOE_EEXISTS, "%s already has a ref named '%s'", t->ident,
			                      a->name);
		int64_t sid = a->snapshot_id;
		if (sid == -1) {
			if (!base->has_current_snapshot)
				return floe_error_set(err, FLOE_EINVALID, "%s has no snapshot to tag yet", t->ident);
			sid = base->current_snapshot_id;
		}
		if (!ice_metadata_snapshot(base, sid))
			return floe_error_set(err, FLOE_ENOTFOUND, "%s has no snapshot %" PRId64, t->ident, sid);
		ice_ref *refs = floe_arena_calloc(arena, (size_t)base->nrefs + 1, sizeof *refs);
		if (!refs)
			return oom(err);
		if (base->nrefs > 0)
			memcpy(refs, base->refs, (size_t)base->nrefs * sizeof *refs);
		ice_ref *r = &refs[base->nrefs];
		r->name = a->name;
		r->snapshot_id = sid;
		r->is_tag = true;
		r->max_ref_age_ms = -1;
		r->max_snapshot_age_ms = -1;
		r->min_snapshots_to_keep = -1;
		nm->refs = refs;
		nm->nrefs = base->nrefs + 1;
		break;
	}
	case OP_DROP_TAG: {
		const ice_ref *r = ice_metadata_ref(base, a->name);
		if (!r || !r->is_tag)
			return floe_error_set(err, FLOE_ENOTFOUND, "%s has no tag '%s'", t->ident, a->name);
		ice_ref *refs = floe_arena_calloc(arena, (size_t)base->nrefs + 1, sizeof *refs);
		if (!refs)
			return oom(err);
		int n = 0;
		for (int i = 0; i < base->nrefs; i++)
			if (strcmp(base->refs[i].name, a->name) != 0)
				refs[n++] = base->refs[i];
		nm->refs = refs;
		nm->nrefs = n;
		break;
	}
	}
	*out = nm;
	return 0;
}

static int run_alter(floe_table *t, alter *a, floe_error *err)
{
	return ice_table_commit(t, alter_update, NULL, a, err);
}

int floe_table_add_column(floe_table *t, const char *name, const char *type, const char *position,
                          floe_error *err)
{
	alter a = { OP_ADD, name, type, position, 0 };
	return run_alter(t, &a, err);
}

int floe_table_rename_column(floe_table *t, const char *name, const char *new_name,
                             floe_error *err)
{
	if (!new_name || !*new_name || strchr(new_name, '.'))
		return floe_error_set(err, FLOE_EINVALID, "new column name '%s' must be non-empty without dots",
		                      new_name ? new_name : "");
	alter a = { OP_RENAME, name, new_name, NULL, 0 };
	return run_alter(t, &a, err);
}

int floe_table_drop_column(floe_table *t, const char *name, floe_error *err)
{
	alter a = { OP_DROP, name, NULL, NULL, 0 };
	return run_alter(t, &a, err);
}

int floe_table_widen_column(floe_table *t, const char *name, const char *type, floe_error *err)
{
	alter a = { OP_WIDEN, name, type, NULL, 0 };
	return run_alter(t, &a, err);
}

int floe_table_move_column(floe_table *t, const char *name, const char *position, floe_error *err)
{
	alter a = { OP_MOVE, name, position, NULL, 0 };
	return run_alter(t, &a, err);
}

int floe_table_set_partition(floe_table *t, const char *partition, floe_error *err)
{
	alter a = { OP_PARTITION, NULL, partition ? partition : "", NULL, 0 };
	return run_alter(t, &a, err);
}

int floe_table_set_property(floe_table *t, const char *key, const char *value, floe_error *err)
{
	if (!key || !*key)
		return floe_error_set(err, FLOE_EINVALID, "empty property key");
	alter a = { OP_SET_PROP, key, value, NULL, 0 };
	return run_alter(t, &a, err);
}

int floe_table_create_tag(floe_table *t, const char *name, int64_t snapshot_id, floe_error *err)
{
	if (!name || !*name)
		return floe_error_set(err, FLOE_EINVALID, "empty tag name");
	alter a = { OP_TAG, name, NULL, NULL, snapshot_id };
	return run_alter(t, &a, err);
}

int floe_table_drop_tag(floe_table *t, const char *name, floe_error *err)
{
	alter a = { OP_DROP_TAG, name, NULL, NULL, 0 };
	return run_alter(t, &a, err);
}
