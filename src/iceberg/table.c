/* iceberg/table.c - table handles: create, open (catalog or foreign
 * metadata file), refresh, drop, path mapping, snapshot selection,
 * manifest lists, describe, and the commit loop every change goes through
 * (write new metadata, compare-and-swap in the catalog, retry on conflict). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "iceberg/table_int.h"
#include "iceberg/transform.h"
#include "iceberg/value.h"
#include "util/buf.h"
#include "util/fs.h"

#define METADATA_MAX ((size_t)1 << 30)

/* ---- small helpers ----------------------------------------------------- */

int64_t ice_new_snapshot_id(void)
{
	uint64_t v = 0;
	while (v == 0) {
		if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
			v = (uint64_t)floe_now_ms() * 2654435761u ^ (uint64_t)getpid();
		v &= INT64_MAX;
	}
	return (int64_t)v;
}

int64_t ice_table_prop_int(const ice_table_metadata *m, const char *key, int64_t dflt)
{
	const char *v = ice_metadata_property(m, key);
	if (!v || !*v)
		return dflt;
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || *end)
		return dflt;
	return x;
}

const char *ice_table_local_path(const floe_table *t, const char *path, char *buf, size_t size)
{
	const char *p = path;
	for (int i = 0; i < t->nmaps; i++) {
		size_t n = strlen(t->map_from[i]);
		if (strncmp(path, t->map_from[i], n) == 0) {
			int w = snprintf(buf, size, "%s%s", t->map_to[i], path + n);
			if (w < 0 || (size_t)w >= size)
				return NULL;
			p = buf;
			break;
		}
	}
	if (strncmp(p, "file://", 7) == 0)
		p += 7;
	else if (strncmp(p, "file:/", 6) == 0)
		p += 5;
	if (p != buf) {
		int w = snprintf(buf, size, "%s", p);
		if (w < 0 || (size_t)w >= size)
			return NULL;
	} else if (p > buf) {
		memmove(buf, p, strlen(p) + 1);
	}
	return buf;
}

int ice_partition_types(const ice_partition_spec *spec, const ice_schema *schema,
                        floe_arena *arena, floe_type **out, floe_error *err)
{
	floe_type *types = floe_arena_calloc(arena, (size_t)spec->nfields + 1, sizeof *types);
	if (!types)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	for (int i = 0; i < spec->nfields; i++) {
		const ice_partition_field *pf = &spec->fields[i];
		const ice_field *src = ice_schema_find_id(schema, pf->source_id, NULL, 0);
		if (!src || src->type->kind != ICE_PRIMITIVE) {
			/* a source column dropped later: the values keep their type in
			 * the manifest; a void/unknown placeholder reads them as null */
			types[i].id = FLOE_TYPE_INT;
			continue;
		}
		int rc = ice_transform_result_type(&pf->transform, &src->type->prim, &types[i], err);
		if (rc)
			return floe_error_prefix(err, "partition field '%s'", pf->name);
	}
	*out = types;
	return 0;
}

static int url_escape(floe_buf *out, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
		int rc;
		if (keep) {
			rc = floe_buf_putc(out, c);
		} else {
			uint8_t e[3] = { '%', (uint8_t)hex[c >> 4], (uint8_t)hex[c & 15] };
			rc = floe_buf_append(out, e, 3);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int ice_partition_path(floe_buf *out, const ice_partition_spec *spec, const ice_datum *values,
                       int n)
{
	floe_buf tmp = FLOE_BUF_INIT;
	int rc = 0;
	for (int i = 0; i < n && i < spec->nfields; i++) {
		if (i && (rc = floe_buf_putc(out, '/')))
			break;
		const char *name = spec->fields[i].name;
		if ((rc = url_escape(out, (const uint8_t *)name, strlen(name))) ||
		    (rc = floe_buf_putc(out, '=')))
			break;
		floe_buf_clear(&tmp);
		if ((rc = ice_datum_format(&tmp, &values[i])))
			break;
		if ((rc = url_escape(out, tmp.data, tmp.len)))
			break;
	}
	floe_buf_free(&tmp);
	return rc;
}

/* ---- loading ----------------------------------------------------------- */

ice_meta_ref *ice_meta_ref_take(ice_meta_ref *r)
{
	if (r)
		r->refs++;
	return r;
}

void ice_meta_ref_drop(ice_meta_ref *r)
{
	if (r && --r->refs == 0) {
		floe_arena_free(r->arena);
		free(r);
	}
}

/* Install the metadata at `location` in a fresh arena: parsed from the
 * file, or, when a commit has just written it from `written`, a copy of
 * that (the writer always writes format version 2). */
static int table_install_meta(floe_table *t, const char *location,
                              const ice_table_metadata *written, floe_error *err)
{
	char local[4096];
	if (!ice_table_local_path(t, location, local, sizeof local))
		return floe_error_set(err, FLOE_EINVALID, "path too long: %s", location);
	floe_arena *arena = floe_arena_new(0);
	char *loc = strdup(location);
	if (!arena || !loc) {
		floe_arena_free(arena);
		free(loc);
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	ice_table_metadata *m;
	int rc;
	if (written) {
		if ((rc = ice_metadata_copy(&m, arena, written)))
			floe_error_set(err, rc, "out of memory");
		else
			m->format_version = 2;
	} else {
		rc = ice_metadata_read_file(&m, arena, local, err);
	}
	floe_schema *fs = NULL;
	if (!rc) {
		const ice_schema *s = ice_metadata_current_schema(m);
		if (!s)
			rc = floe_error_set(err, FLOE_ECORRUPT, "%s: invalid table metadata: no current schema",
			                    local);
		else
			rc = ice_schema_to_floe(&fs, s, arena, err);
	}
	if (rc) {
		floe_arena_free(arena);
		free(loc);
		return rc;
	}
	ice_meta_ref *ref = calloc(1, sizeof *ref);
	if (!ref) {
		floe_arena_free(arena);
		free(loc);
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	ref->arena = arena;
	ref->refs = 1;
	ice_meta_ref_drop(t->mref);
	free(t->metadata_location);
	t->mref = ref;
	t->arena = arena;
	t->meta = m;
	t->metadata_location = loc;
	t->schema = fs;
	t->snaps = NULL;
	t->nsnaps = 0;
	return 0;
}

static int table_install(floe_table *t, const char *location, floe_error *err)
{
	return table_install_meta(t, location, NULL, err);
}

#ifdef FLOE_ASAN
/* Sanitizer builds check every installed copy against the bytes the commit
 * wrote, after the commit's own memory is gone: a field the copy missed or
 * a pointer left into freed memory fails here, not in some later commit. */
static void check_installed(const floe_table *t, const char *json, size_t len)
{
	char *again = NULL;
	size_t n = 0;
	floe_error e;
	if (ice_metadata_write(&again, &n, t->meta, &e) != 0 || n != len ||
	    memcmp(again, json, len) != 0) {
		fprintf(stderr, "%s: installed metadata differs from what the commit wrote\n",
		        t->ident);
		abort();
	}
	free(again);
}
#endif

static floe_table *table_new(const char *ident)
{
	floe_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->ident = strdup(ident);
	if (!t->ident) {
		free(t);
		return NULL;
	}
	return t;
}

void floe_table_close(floe_table *t)
{
	if (!t)
		return;
	ice_mcache_drop(t->mcache);
	ice_meta_ref_drop(t->mref);
	free(t->metadata_location);
	free(t->ident);
	for (int i = 0; i < t->nmaps; i++) {
		free(t->map_from[i]);
		free(t->map_to[i]);
	}
	free(t->map_from);
	free(t->map_to);
	free(t);
}

int floe_table_open(floe_table **out, floe_catalog *cat, const char *ident, floe_error *err)
{
	*out = NULL;
	floe_ident id;
	int rc = floe_ident_parse(&id, ident, err);
	if (rc)
		return rc;
	char *loc = NULL;
	if ((rc = floe_catalog_load_table(cat, &id, &loc, err)))
		return rc;
	floe_table *t = table_new(ident);
	if (!t) {
		free(loc);
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	t->cat = cat;
	t->id = id;
	rc = table_install(t, loc, err);
	free(loc);
	if (rc) {
		floe_table_close(t);
		return floe_error_prefix(err, "table %s", ident);
	}
	*out = t;
	return 0;
}

int floe_table_open_metadata(floe_table **out, const char *metadata_path,
                             const char *const *maps, int nmaps, floe_error *err)
{
	*out = NULL;
	floe_table *t = table_new(metadata_path);
	if (!t)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	int rc = 0;
	if (nmaps > 0) {
		t->map_from = calloc((size_t)nmaps, sizeof *t->map_from);
		t->map_to = calloc((size_t)nmaps, sizeof *t->map_to);
		if (!t->map_from || !t->map_to) {
			rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
			goto done;
		}
	}
	for (int i = 0; i < nmaps; i++) {
		const char *eq = strchr(maps[i], '=');
		if (!eq || eq == maps[i]) {
			rc = floe_error_set(err, FLOE_EINVALID,
			                    "--map '%s': expected FROM=TO (a path prefix the table names = a local folder)",
			                    maps[i]);
			goto done;
		}
		t->map_from[i] = strndup(maps[i], (size_t)(eq - maps[i]));
		t->map_to[i] = strdup(eq + 1);
		t->nmaps = i + 1;
		if (!t->map_from[i] || !t->map_to[i]) {
			rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
			goto done;
		}
	}
	rc = table_install(t, metadata_path, err);
done:
	if (rc) {
		floe_table_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

int floe_table_refresh(floe_table *t, floe_error *err)
{
	if (!t->cat)
		return 0;
	char *loc = NULL;
	int rc = floe_catalog_load_table(t->cat, &t->id, &loc, err);
	if (rc)
		return rc;
	if (t->metadata_location && strcmp(loc, t->metadata_location) == 0) {
		free(loc);
		return 0;
	}
	rc = table_install(t, loc, err);
	free(loc);
	return rc;
}

const char *floe_table_name(const floe_table *t) { return t->ident; }
const char *floe_table_location(const floe_table *t) { return t->meta->location; }
const char *floe_table_metadata_location(const floe_table *t) { return t->metadata_location; }
const floe_schema *floe_table_schema(const floe_table *t) { return t->schema; }

/* ---- snapshots ---------------------------------------------------------- */

int ice_table_select(const floe_table *t, const floe_snapshot_sel *sel,
                     const ice_snapshot **out, floe_error *err)
{
	const ice_table_metadata *m = t->meta;
	*out = NULL;
	switch (sel ? sel->kind : FLOE_SNAPSHOT_CURRENT) {
	case FLOE_SNAPSHOT_CURRENT:
		*out = ice_metadata_current_snapshot(m);
		return 0;
	case FLOE_SNAPSHOT_ID:
		*out = ice_metadata_snapshot(m, sel->snapshot_id);
		if (!*out)
			return floe_error_set(err, FLOE_ENOTFOUND,
			                      "%s has no snapshot %" PRId64 " (see 'floe snapshots')",
			                      t->ident, sel->snapshot_id);
		return 0;
	case FLOE_SNAPSHOT_AS_OF:
		return ice_metadata_snapshot_as_of(m, sel->timestamp_ms, out, err);
	case FLOE_SNAPSHOT_REF: {
		const ice_ref *r = sel->ref ? ice_metadata_ref(m, sel->ref) : NULL;
		if (!r)
			return floe_error_set(err, FLOE_ENOTFOUND,
			                      "%s has no tag or branch '%s' (see 'floe describe')",
			                      t->ident, sel->ref ? sel->ref : "");
		*out = ice_metadata_snapshot(m, r->snapshot_id);
		if (!*out)
			return floe_error_set(err, FLOE_ECORRUPT, "%s: ref '%s' names missing snapshot %" PRId64,
			                      t->ident, sel->ref, r->snapshot_id);
		return 0;
	}
	}
	return floe_error_set(err, FLOE_EINVALID, "unknown snapshot selection");
}

int ice_table_snapshot_manifests(const floe_table *t, const ice_snapshot *snap,
                                 floe_arena *arena, ice_manifest_file **out, size_t *n,
                                 floe_error *err)
{
	*out = NULL;
	*n = 0;
	if (snap->manifest_list) {
		char local[4096];
		if (!ice_table_local_path(t, snap->manifest_list, local, sizeof local))
			return floe_error_set(err, FLOE_EINVALID, "path too long: %s", snap->manifest_list);
		return ice_manifest_list_read(local, arena, out, n, err);
	}
	ice_manifest_file *mf = floe_arena_calloc(arena, (size_t)snap->nmanifests + 1, sizeof *mf);
	if (!mf)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	for (int i = 0; i < snap->nmanifests; i++) {
		mf[i].manifest_path = snap->manifests[i];
		mf[i].manifest_length = -1;
		mf[i].partition_spec_id = -1;
		mf[i].added_snapshot_id = snap->snapshot_id;
		mf[i].added_files_count = -1;
		mf[i].existing_files_count = -1;
		mf[i].deleted_files_count = -1;
		mf[i].added_rows_count = -1;
		mf[i].existing_rows_count = -1;
		mf[i].deleted_rows_count = -1;
	}
	*out = mf;
	*n = (size_t)snap->nmanifests;
	return 0;
}

static int summary_json(floe_arena *arena, const ice_snapshot *s, const char **out)
{
	json_t *o = json_object();
	if (!o)
		return FLOE_ENOMEM;
	for (int i = 0; i < s->nsummary; i++)
		json_object_set_new(o, s->summary[i].key, json_string(s->summary[i].value));
	char *txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!txt)
		return FLOE_ENOMEM;
	*out = floe_arena_strdup(arena, txt);
	free(txt);
	return *out ? 0 : FLOE_ENOMEM;
}

int floe_table_snapshots(floe_table *t, const floe_snapshot_info **out, int *n, floe_error *err)
{
	if (!t->snaps && t->meta->nsnapshots > 0) {
		const ice_table_metadata *m = t->meta;
		floe_snapshot_info *v = floe_arena_calloc(t->arena, (size_t)m->nsnapshots, sizeof *v);
		if (!v)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		for (int i = 0; i < m->nsnapshots; i++) {
			const ice_snapshot *s = &m->snapshots[i];
			v[i].snapshot_id = s->snapshot_id;
			v[i].has_parent = s->has_parent;
			v[i].parent_id = s->parent_id;
			v[i].sequence_number = s->sequence_number;
			v[i].timestamp_ms = s->timestamp_ms;
			v[i].operation = ice_snapshot_summary(s, "operation");
			if (!v[i].operation)
				v[i].operation = "";
			v[i].manifest_list = s->manifest_list;
			v[i].schema_id = s->has_schema_id ? s->schema_id : -1;
			v[i].is_current = m->has_current_snapshot && m->current_snapshot_id == s->snapshot_id;
			if (summary_json(t->arena, s, &v[i].summary_json))
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		}
		t->snaps = v;
		t->nsnaps = m->nsnapshots;
	}
	*out = t->snaps;
	*n = t->nsnaps;
	return 0;
}

int floe_table_find_summary(floe_table *t, const char *key, char **out, int64_t *snapshot_id,
                            floe_error *err)
{
	*out = NULL;
	if (snapshot_id)
		*snapshot_id = -1;
	const ice_table_metadata *m = t->meta;
	int cur = -1;
	for (int i = 0; m->has_current_snapshot && i < m->nsnapshots; i++)
		if (m->snapshots[i].snapshot_id == m->current_snapshot_id)
			cur = i;
	for (int steps = 0; cur >= 0 && steps <= m->nsnapshots; steps++) {
		const ice_snapshot *s = &m->snapshots[cur];
		const char *v = ice_snapshot_summary(s, key);
		if (v) {
			*out = strdup(v);
			if (!*out)
				return floe_error_set(err, FLOE_ENOMEM, "out of memory");
			if (snapshot_id)
				*snapshot_id = s->snapshot_id;
			return 0;
		}
		/* the parent is nearly always the snapshot committed just before */
		int next = -1;
		for (int i = cur - 1; s->has_parent && i >= -m->nsnapshots && next < 0; i--) {
			int k = i < 0 ? i + m->nsnapshots : i;
			if (m->snapshots[k].snapshot_id == s->parent_id)
				next = k;
		}
		cur = next;
	}
	return 0;
}

/* ---- commit -------------------------------------------------------------- */

/* Version number of a metadata file name "NNNNN-uuid.metadata.json" or
 * "vN.metadata.json"; -1 when it has none. */
static long metadata_version(const char *location)
{
	const char *base = strrchr(location, '/');
	base = base ? base + 1 : location;
	if (*base == 'v')
		base++;
	char *end;
	long v = strtol(base, &end, 10);
	if (end == base || (*end != '-' && *end != '.'))
		return -1;
	return v;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Add the previous metadata file to the metadata log (bounded by
 * write.metadata.previous-versions-max, default 100). */
static int push_metadata_log(floe_arena *arena, ice_table_metadata *nm,
                             const ice_table_metadata *base, const char *base_location)
{
	int64_t keep = ice_table_prop_int(base, "write.metadata.previous-versions-max", 100);
	if (keep < 1)
		keep = 1;
	int n = base->nmetadata_log + 1;
	int skip = n > keep ? n - (int)keep : 0;
	ice_metadata_log_entry *log = floe_arena_calloc(arena, (size_t)n, sizeof *log);
	if (!log)
		return FLOE_ENOMEM;
	int k = 0;
	for (int i = skip; i < base->nmetadata_log; i++)
		log[k++] = base->metadata_log[i];
	log[k].timestamp_ms = base->last_updated_ms;
	log[k].metadata_file = base_location;
	k++;
	nm->metadata_log = log;
	nm->nmetadata_log = k;
	return 0;
}

int ice_table_commit(floe_table *t, ice_update_fn fn, ice_cleanup_fn cleanup, void *ctx,
                     floe_error *err)
{
	if (!t->cat)
		return floe_error_set(err, FLOE_EINVALID,
		                      "%s was opened from a metadata file and is read-only", t->ident);
	int64_t retries = ice_table_prop_int(t->meta, "commit.retry.num-retries", 100);
	int rc = 0;
	for (int attempt = 0;; attempt++) {
		floe_arena *arena = floe_arena_new(0);
		if (!arena)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		const ice_table_metadata *base = t->meta;
		bool refused = false; /* the change itself cannot apply on this base */
		char *base_loc = strdup(t->metadata_location ? t->metadata_location : "");
		if (!base_loc) {
			floe_arena_free(arena);
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		}
		ice_table_metadata *nm = NULL;
		char *json = NULL;
		size_t len = 0;
		char path[4096];
		path[0] = 0;
		bool copied = false; /* installed from nm: checked after the arena is gone */
		rc = fn(ctx, t, base, attempt, arena, &nm, err);
		if (rc) {
			refused = true;
			goto attempt_done;
		}
		int64_t now = floe_now_ms();
		nm->last_updated_ms = now > base->last_updated_ms ? now : base->last_updated_ms + 1;
		if ((rc = push_metadata_log(arena, nm, base, t->metadata_location))) {
			floe_error_set(err, rc, "out of memory");
			goto attempt_done;
		}
		if ((rc = ice_metadata_write(&json, &len, nm, err)))
			goto attempt_done;
		long ver = metadata_version(t->metadata_location);
		if (ver < 0)
			ver = base->nmetadata_log;
		char uuid[37];
		floe_uuid4(uuid);
		int w = snprintf(path, sizeof path, "%s/metadata/%05ld-%s.metadata.json", base->location,
		                 ver + 1, uuid);
		if (w < 0 || (size_t)w >= sizeof path) {
			path[0] = 0;
			rc = floe_error_set(err, FLOE_EINVALID, "table location too long");
			goto attempt_done;
		}
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/metadata", base->location);
		if ((rc = floe_fs_mkdirs(dir, err)) ||
		    (rc = floe_fs_write_atomic(path, json, len, err))) {
			path[0] = 0;
			goto attempt_done;
		}
		rc = floe_catalog_commit(t->cat, &t->id, t->metadata_location, path, err);
		if (rc == 0) {
			/* committed: install what was written, copied out of this
			 * attempt's arena rather than parsed again */
			floe_error e2;
			copied = table_install_meta(t, path, nm, &e2) == 0;
			if (!copied) {
				/* the commit stands; the handle re-reads on refresh */
				floe_error_clear(&e2);
				(void)floe_table_refresh(t, &e2);
			}
		}
attempt_done:
		floe_arena_free(arena);
#ifdef FLOE_ASAN
		if (rc == 0 && copied)
			check_installed(t, json, len);
#endif
		free(json);
		if (rc == 0 || rc == FLOE_ECOMMIT_UNKNOWN) {
			/* never delete after an unknown outcome: it may be live */
			free(base_loc);
			return rc;
		}
		if (path[0])
			unlink(path);
		if (cleanup)
			cleanup(ctx);
		/* a file of the base that is gone: an expiry may have removed it
		 * after another commit moved the table on */
		bool gone = refused && rc == FLOE_ENOTFOUND;
		if ((rc != FLOE_ECONFLICT && !gone) || attempt >= retries) {
			free(base_loc);
			return rc;
		}
		floe_error e3;
		int rr = floe_table_refresh(t, &e3);
		if (rr) {
			free(base_loc);
			if (err)
				*err = e3;
			return rr;
		}
		/* a conflict (or a missing file) the change found in the table as
		 * it is now is final; one found in a stale handle is worth a try on
		 * the fresh one */
		bool moved = !t->metadata_location || strcmp(base_loc, t->metadata_location) != 0;
		free(base_loc);
		if (refused && !moved)
			return rc;
		if (refused) {
			floe_error_clear(err);
			continue;
		}
		uint32_t r = 0;
		if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
			r = (uint32_t)attempt * 7919u;
		long base_ms = attempt < 6 ? (1L << attempt) : 64;
		sleep_ms(base_ms / 2 + (long)(r % (uint32_t)(base_ms + 1)));
		floe_error_clear(err);
	}
}

/* ---- create / drop ------------------------------------------------------- */

static int parse_transform_term(const char *s, size_t n, ice_partition_field *pf,
                                const char **col, size_t *coln, floe_error *err)
{
	/* NAME | FN(COL) | FN(N, COL) with FN identity, year, month, day, hour,
	 * void, bucket, truncate */
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	const char *lp = memchr(s, '(', n);
	if (!lp) {
		pf->transform.kind = ICE_T_IDENTITY;
		*col = s;
		*coln = n;
		return n ? 0 : floe_error_set(err, FLOE_EINVALID, "empty partition field");
	}
	if (s[n - 1] != ')')
		return floe_error_set(err, FLOE_EINVALID, "partition field '%.*s': missing ')'", (int)n, s);
	size_t fnl = (size_t)(lp - s);
	while (fnl && s[fnl - 1] == ' ')
		fnl--;
	const char *args = lp + 1;
	size_t argn = (size_t)(s + n - 1 - args);
	char fname[32];
	if (fnl == 0 || fnl >= sizeof fname)
		return floe_error_set(err, FLOE_EINVALID, "partition field '%.*s': unknown transform", (int)n, s);
	for (size_t i = 0; i < fnl; i++)
		fname[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
	fname[fnl] = 0;
	if (strcmp(fname, "years") == 0) strcpy(fname, "year");
	if (strcmp(fname, "months") == 0) strcpy(fname, "month");
	if (strcmp(fname, "days") == 0) strcpy(fname, "day");
	if (strcmp(fname, "hours") == 0) strcpy(fname, "hour");
	bool param = strcmp(fname, "bucket") == 0 || strcmp(fname, "truncate") == 0;
	if (param) {
		const char *comma = memchr(args, ',', argn);
		if (!comma)
			return floe_error_set(err, FLOE_EINVALID,
			                      "partition field '%.*s': expected %s(N, column)", (int)n, s, fname);
		char num[24];
		size_t nl = (size_t)(comma - args);
		if (nl >= sizeof num)
			return floe_error_set(err, FLOE_EINVALID, "partition field '%.*s': bad number", (int)n, s);
		memcpy(num, args, nl);
		num[nl] = 0;
		char *end;
		long v = strtol(num, &end, 10);
		while (*end == ' ')
			end++;
		if (*end || v < 1 || v > INT32_MAX)
			return floe_error_set(err, FLOE_EINVALID,
			                      "partition field '%.*s': N must be a positive integer", (int)n, s);
		char tname[48];
		snprintf(tname, sizeof tname, "%s[%ld]", fname, v);
		int rc = ice_transform_parse(&pf->transform, tname, err);
		if (rc)
			return rc;
		args = comma + 1;
		argn = (size_t)(s + n - 1 - args);
	} else {
		int rc = ice_transform_parse(&pf->transform, fname, err);
		if (rc)
			return rc;
		if (pf->transform.kind == ICE_T_UNKNOWN)
			return floe_error_set(err, FLOE_EINVALID,
			                      "partition field '%.*s': unknown transform '%s' (identity, year, "
			                      "month, day, hour, bucket, truncate, void)", (int)n, s, fname);
	}
	while (argn && *args == ' ')
		args++, argn--;
	while (argn && args[argn - 1] == ' ')
		argn--;
	*col = args;
	*coln = argn;
	if (!argn)
		return floe_error_set(err, FLOE_EINVALID, "partition field '%.*s': missing column", (int)n, s);
	return 0;
}

static const char *transform_suffix(const ice_transform *t, char *buf, size_t size)
{
	switch (t->kind) {
	case ICE_T_IDENTITY: return "";
	case ICE_T_BUCKET: return "_bucket";
	case ICE_T_TRUNCATE: return "_trunc";
	case ICE_T_YEAR: return "_year";
	case ICE_T_MONTH: return "_month";
	case ICE_T_DAY: return "_day";
	case ICE_T_HOUR: return "_hour";
	case ICE_T_VOID: return "_null";
	default: snprintf(buf, size, "_%s", t->unknown_name ? t->unknown_name : "x"); return buf;
	}
}

/* Parse "day(ts), bucket(16, symbol)" over `schema` into a spec. Field ids
 * reuse those of `prior` specs with the same source and transform, else
 * count up from *last_partition_id. */
int ice_parse_partition(ice_partition_spec *spec, const char *text, const ice_schema *schema,
                        const ice_table_metadata *prior, int32_t *last_partition_id,
                        floe_arena *arena, floe_error *err);
int ice_parse_partition(ice_partition_spec *spec, const char *text, const ice_schema *schema,
                        const ice_table_metadata *prior, int32_t *last_partition_id,
                        floe_arena *arena, floe_error *err)
{
	memset(spec, 0, sizeof *spec);
	if (!text)
		return 0;
	int cap = 1;
	for (const char *p = text; *p; p++)
		cap += *p == ',';
	spec->fields = floe_arena_calloc(arena, (size_t)cap, sizeof *spec->fields);
	if (!spec->fields)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	const char *p = text;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		/* a term ends at a comma outside parentheses */
		const char *q = p;
		int depth = 0;
		while (*q && (depth > 0 || *q != ',')) {
			if (*q == '(')
				depth++;
			else if (*q == ')')
				depth--;
			q++;
		}
		ice_partition_field *pf = &spec->fields[spec->nfields];
		const char *col = NULL;
		size_t coln = 0;
		int rc = parse_transform_term(p, (size_t)(q - p), pf, &col, &coln, err);
		if (rc)
			return rc;
		char cname[256];
		if (coln >= sizeof cname)
			return floe_error_set(err, FLOE_EINVALID, "partition column name too long");
		memcpy(cname, col, coln);
		cname[coln] = 0;
		const ice_field *f = ice_schema_find_name(schema, cname);
		if (!f)
			return floe_error_set(err, FLOE_ENOTFOUND,
			                      "partition: no column '%s' in the schema (see 'floe describe')",
			                      cname);
		if (f->type->kind != ICE_PRIMITIVE)
			return floe_error_set(err, FLOE_EINVALID,
			                      "partition: column '%s' is not a primitive column", cname);
		floe_type rt;
		if ((rc = ice_transform_result_type(&pf->transform, &f->type->prim, &rt, err)))
			return floe_error_prefix(err, "partition");
		pf->source_id = f->id;
		char sb[40];
		char name[300];
		snprintf(name, sizeof name, "%s%s", f->name, transform_suffix(&pf->transform, sb, sizeof sb));
		pf->name = floe_arena_strdup(arena, name);
		if (!pf->name)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		for (int i = 0; i < spec->nfields; i++)
			if (strcmp(spec->fields[i].name, pf->name) == 0)
				return floe_error_set(err, FLOE_EINVALID, "partition: '%s' appears twice", pf->name);
		pf->field_id = -1;
		for (int s = 0; prior && s < prior->nspecs && pf->field_id < 0; s++)
			for (int i = 0; i < prior->specs[s].nfields; i++) {
				const ice_partition_field *o = &prior->specs[s].fields[i];
				if (o->source_id == pf->source_id && o->transform.kind == pf->transform.kind &&
				    o->transform.param == pf->transform.param) {
					pf->field_id = o->field_id;
					break;
				}
			}
		if (pf->field_id < 0)
			pf->field_id = ++*last_partition_id;
		spec->nfields++;
		p = q;
	}
	return 0;
}

/* Parse "col [asc|desc] [nulls first|last], ..." into a sort order. */
static int parse_sort(ice_sort_order *so, const char *text, const ice_schema *schema,
                      floe_arena *arena, floe_error *err)
{
	memset(so, 0, sizeof *so);
	if (!text || !*text)
		return 0;
	int cap = 1;
	for (const char *p = text; *p; p++)
		cap += *p == ',';
	so->fields = floe_arena_calloc(arena, (size_t)cap, sizeof *so->fields);
	if (!so->fields)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	so->order_id = 1;
	char *copy = floe_arena_strdup(arena, text);
	if (!copy)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	char *save = NULL;
	for (char *term = strtok_r(copy, ",", &save); term; term = strtok_r(NULL, ",", &save)) {
		char *words[6];
		int nw = 0;
		char *s2 = NULL;
		for (char *w = strtok_r(term, " \t", &s2); w && nw < 6; w = strtok_r(NULL, " \t", &s2))
			words[nw++] = w;
		if (nw == 0)
			continue;
		ice_sort_field *sf = &so->fields[so->nfields];
		const ice_field *f = ice_schema_find_name(schema, words[0]);
		if (!f)
			return floe_error_set(err, FLOE_ENOTFOUND, "sort: no column '%s'", words[0]);
		sf->source_id = f->id;
		sf->transform.kind = ICE_T_IDENTITY;
		sf->nulls_first = true;
		int i = 1;
		if (i < nw && strcasecmp(words[i], "asc") == 0)
			i++;
		else if (i < nw && strcasecmp(words[i], "desc") == 0) {
			sf->descending = true;
			sf->nulls_first = false;
			i++;
		}
		if (i + 1 < nw && strcasecmp(words[i], "nulls") == 0) {
			if (strcasecmp(words[i + 1], "first") == 0)
				sf->nulls_first = true;
			else if (strcasecmp(words[i + 1], "last") == 0)
				sf->nulls_first = false;
			else
				return floe_error_set(err, FLOE_EINVALID, "sort: expected nulls first|last");
			i += 2;
		}
		if (i != nw)
			return floe_error_set(err, FLOE_EINVALID, "sort: unexpected '%s'", words[i]);
		so->nfields++;
	}
	return 0;
}

/* iceberg/schema_text.c */
int ice_schema_from_text(ice_schema **out, const char *text, floe_arena *arena, floe_error *err);

static int parse_properties(const char *const *props, int n, floe_arena *arena, ice_kv **out,
                            int *nout, floe_error *err)
{
	ice_kv *kv = floe_arena_calloc(arena, (size_t)n + 1, sizeof *kv);
	if (!kv)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	int k = 0;
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(props[i], '=');
		if (!eq || eq == props[i])
			return floe_error_set(err, FLOE_EINVALID, "property '%s': expected KEY=VALUE", props[i]);
		char *key = floe_arena_strndup(arena, props[i], (size_t)(eq - props[i]));
		char *val = floe_arena_strdup(arena, eq + 1);
		if (!key || !val)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		int j;
		for (j = 0; j < k; j++)
			if (strcmp(kv[j].key, key) == 0)
				break;
		kv[j].key = key;
		kv[j].value = val;
		if (j == k)
			k++;
	}
	*out = kv;
	*nout = k;
	return 0;
}

int floe_table_create(floe_table **out, floe_catalog *cat, const char *ident,
                      const floe_table_create_options *opts, floe_error *err)
{
	if (out)
		*out = NULL;
	floe_ident id;
	int rc = floe_ident_parse(&id, ident, err);
	if (rc)
		return rc;
	if (!opts || !opts->schema || !*opts->schema)
		return floe_error_set(err, FLOE_EINVALID, "create %s: a schema is required (--schema)", ident);
	floe_arena *arena = floe_arena_new(0);
	if (!arena)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	char *json = NULL;
	size_t len = 0;
	char path[4096] = "";
	ice_table_metadata m;
	memset(&m, 0, sizeof m);
	ice_schema *schema;
	if ((rc = ice_schema_from_text(&schema, opts->schema, arena, err)))
		goto done;
	if (opts->identifier && *opts->identifier) {
		char *copy = floe_arena_strdup(arena, opts->identifier);
		int cap = 1;
		for (const char *p = opts->identifier; *p; p++)
			cap += *p == ',';
		schema->identifier_field_ids = floe_arena_calloc(arena, (size_t)cap, sizeof(int32_t));
		if (!copy || !schema->identifier_field_ids) {
			rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
			goto done;
		}
		char *save = NULL;
		for (char *w = strtok_r(copy, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
			const ice_field *f = ice_schema_find_name(schema, w);
			if (!f) {
				rc = floe_error_set(err, FLOE_ENOTFOUND, "identifier: no column '%s'", w);
				goto done;
			}
			if (!f->required || f->type->kind != ICE_PRIMITIVE) {
				rc = floe_error_set(err, FLOE_EINVALID,
				                    "identifier column '%s' must be a primitive column declared not null", w);
				goto done;
			}
			schema->identifier_field_ids[schema->nidentifier++] = f->id;
		}
	}
	m.format_version = 2;
	char uuid[37];
	floe_uuid4(uuid);
	m.table_uuid = floe_arena_strdup(arena, uuid);
	char loc[4096];
	if (opts->location && *opts->location) {
		snprintf(loc, sizeof loc, "%s", opts->location);
	} else if ((rc = floe_catalog_default_location(cat, &id, loc, sizeof loc, err))) {
		goto done;
	}
	size_t ll = strlen(loc);
	while (ll > 1 && loc[ll - 1] == '/')
		loc[--ll] = 0;
	m.location = floe_arena_strdup(arena, loc);
	m.last_updated_ms = floe_now_ms();
	m.last_column_id = ice_schema_max_id(schema);
	m.nschemas = 1;
	m.schemas = schema;
	m.current_schema_id = 0;
	ice_partition_spec *spec = floe_arena_calloc(arena, 1, sizeof *spec);
	ice_sort_order *orders = floe_arena_calloc(arena, 2, sizeof *orders);
	if (!spec || !orders || !m.table_uuid || !m.location) {
		rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
		goto done;
	}
	m.last_partition_id = 999;
	if ((rc = ice_parse_partition(spec, opts->partition, schema, NULL, &m.last_partition_id, arena,
	                              err)))
		goto done;
	m.nspecs = 1;
	m.specs = spec;
	m.default_spec_id = 0;
	orders[0].order_id = 0;
	m.nsort_orders = 1;
	m.sort_orders = orders;
	if (opts->sort && *opts->sort) {
		if ((rc = parse_sort(&orders[1], opts->sort, schema, arena, err)))
			goto done;
		m.nsort_orders = 2;
		m.default_sort_order_id = 1;
	}
	if ((rc = parse_properties(opts->properties, opts->nproperties, arena, &m.properties,
	                           &m.nproperties, err)))
		goto done;
	if ((rc = ice_metadata_write(&json, &len, &m, err)))
		goto done;
	char dir[4096];
	int w = snprintf(dir, sizeof dir, "%s/metadata", m.location);
	if (w < 0 || (size_t)w >= sizeof dir) {
		rc = floe_error_set(err, FLOE_EINVALID, "table location too long");
		goto done;
	}
	/* every path of a catalog table stays inside the warehouse */
	if (cat && !floe_fs_within(floe_catalog_warehouse(cat), m.location)) {
		rc = floe_error_set(err, FLOE_EINVALID,
		                    "create %s: location %s is outside the warehouse %s; choose a folder "
		                    "inside it or leave --location out", ident, m.location,
		                    floe_catalog_warehouse(cat));
		goto done;
	}
	w = snprintf(path, sizeof path, "%s/00000-%s.metadata.json", dir, uuid);
	if (w < 0 || (size_t)w >= sizeof path) {
		path[0] = 0;
		rc = floe_error_set(err, FLOE_EINVALID, "table location too long");
		goto done;
	}
	if ((rc = floe_fs_mkdirs(dir, err)) || (rc = floe_fs_write_atomic(path, json, len, err))) {
		path[0] = 0;
		goto done;
	}
	rc = floe_catalog_create_table(cat, &id, path, true, err);
	if (rc == FLOE_ECOMMIT_UNKNOWN) {
		path[0] = 0;
		goto done;
	}
	if (rc)
		goto done;
	path[0] = 0;
	if (out)
		rc = floe_table_open(out, cat, ident, err);
done:
	if (rc && path[0])
		unlink(path);
	free(json);
	floe_arena_free(arena);
	return rc;
}

int floe_table_drop(floe_catalog *cat, const char *ident, bool purge, floe_error *err)
{
	floe_table *t = NULL;
	char *location = NULL;
	floe_ident id;
	int rc = floe_ident_parse(&id, ident, err);
	if (rc)
		return rc;
	if (purge) {
		if ((rc = floe_table_open(&t, cat, ident, err)))
			return rc;
		location = strdup(t->meta->location);
		floe_table_close(t);
		if (!location)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		if (!floe_fs_within(floe_catalog_warehouse(cat), location)) {
			free(location);
			return floe_error_set(err, FLOE_EINVALID,
			                      "drop %s --purge: its location is outside the warehouse; "
			                      "drop without --purge and remove the files yourself", ident);
		}
	}
	rc = floe_catalog_drop_table(cat, &id, err);
	if (!rc && purge)
		rc = floe_fs_remove_tree(floe_catalog_warehouse(cat), location, err);
	free(location);
	return rc;
}

/* ---- describe -------------------------------------------------------------- */

static json_t *type_json(const ice_type *ty);

static json_t *field_json(const ice_field *f)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(f->id));
	json_object_set_new(o, "name", json_string(f->name));
	json_object_set_new(o, "required", json_boolean(f->required));
	json_object_set_new(o, "type", type_json(f->type));
	if (f->doc)
		json_object_set_new(o, "doc", json_string(f->doc));
	return o;
}

static json_t *type_json(const ice_type *ty)
{
	char buf[64];
	switch (ty->kind) {
	case ICE_PRIMITIVE:
		return json_string(floe_type_format(&ty->prim, buf, sizeof buf));
	case ICE_STRUCT: {
		json_t *o = json_object();
		json_t *a = json_array();
		json_object_set_new(o, "type", json_string("struct"));
		for (int i = 0; i < ty->nfields; i++)
			json_array_append_new(a, field_json(&ty->fields[i]));
		json_object_set_new(o, "fields", a);
		return o;
	}
	case ICE_LIST: {
		json_t *o = json_object();
		json_object_set_new(o, "type", json_string("list"));
		json_object_set_new(o, "element-id", json_integer(ty->element.id));
		json_object_set_new(o, "element-required", json_boolean(ty->element.required));
		json_object_set_new(o, "element", type_json(ty->element.type));
		return o;
	}
	case ICE_MAP: {
		json_t *o = json_object();
		json_object_set_new(o, "type", json_string("map"));
		json_object_set_new(o, "key-id", json_integer(ty->key.id));
		json_object_set_new(o, "key", type_json(ty->key.type));
		json_object_set_new(o, "value-id", json_integer(ty->value.id));
		json_object_set_new(o, "value-required", json_boolean(ty->value.required));
		json_object_set_new(o, "value", type_json(ty->value.type));
		return o;
	}
	}
	return json_null();
}

int floe_table_describe(char **out, floe_table *t, floe_error *err)
{
	const ice_table_metadata *m = t->meta;
	json_t *o = json_object();
	if (!o)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	json_object_set_new(o, "table", json_string(t->ident));
	json_object_set_new(o, "location", json_string(m->location));
	json_object_set_new(o, "metadata-location", json_string(t->metadata_location));
	json_object_set_new(o, "format-version", json_integer(m->format_version));
	json_object_set_new(o, "table-uuid", json_string(m->table_uuid ? m->table_uuid : ""));
	const ice_schema *s = ice_metadata_current_schema(m);
	json_t *sj = json_object();
	json_object_set_new(sj, "schema-id", json_integer(s->schema_id));
	json_t *fa = json_array();
	for (int i = 0; i < s->nfields; i++)
		json_array_append_new(fa, field_json(&s->fields[i]));
	json_object_set_new(sj, "fields", fa);
	json_t *ids = json_array();
	for (int i = 0; i < s->nidentifier; i++)
		json_array_append_new(ids, json_integer(s->identifier_field_ids[i]));
	json_object_set_new(sj, "identifier-field-ids", ids);
	json_object_set_new(o, "schema", sj);
	json_t *specs = json_array();
	for (int i = 0; i < m->nspecs; i++) {
		const ice_partition_spec *sp = &m->specs[i];
		json_t *spj = json_object();
		json_object_set_new(spj, "spec-id", json_integer(sp->spec_id));
		json_object_set_new(spj, "default", json_boolean(sp->spec_id == m->default_spec_id));
		json_t *pf = json_array();
		for (int k = 0; k < sp->nfields; k++) {
			char tb[64];
			json_t *f = json_object();
			json_object_set_new(f, "name", json_string(sp->fields[k].name));
			json_object_set_new(f, "transform",
			                    json_string(ice_transform_format(&sp->fields[k].transform, tb, sizeof tb)));
			const ice_field *src = ice_schema_find_id(s, sp->fields[k].source_id, NULL, 0);
			json_object_set_new(f, "source", src ? json_string(src->name) : json_null());
			json_object_set_new(f, "source-id", json_integer(sp->fields[k].source_id));
			json_object_set_new(f, "field-id", json_integer(sp->fields[k].field_id));
			json_array_append_new(pf, f);
		}
		json_object_set_new(spj, "fields", pf);
		json_array_append_new(specs, spj);
	}
	json_object_set_new(o, "partition-specs", specs);
	json_t *orders = json_array();
	for (int i = 0; i < m->nsort_orders; i++) {
		const ice_sort_order *so = &m->sort_orders[i];
		json_t *oj = json_object();
		json_object_set_new(oj, "order-id", json_integer(so->order_id));
		json_t *fa2 = json_array();
		for (int k = 0; k < so->nfields; k++) {
			const ice_field *src = ice_schema_find_id(s, so->fields[k].source_id, NULL, 0);
			char tb[64];
			json_t *f = json_object();
			json_object_set_new(f, "source", src ? json_string(src->name) : json_null());
			json_object_set_new(f, "transform",
			                    json_string(ice_transform_format(&so->fields[k].transform, tb, sizeof tb)));
			json_object_set_new(f, "direction", json_string(so->fields[k].descending ? "desc" : "asc"));
			json_object_set_new(f, "null-order",
			                    json_string(so->fields[k].nulls_first ? "nulls-first" : "nulls-last"));
			json_array_append_new(fa2, f);
		}
		json_object_set_new(oj, "fields", fa2);
		json_array_append_new(orders, oj);
	}
	json_object_set_new(o, "sort-orders", orders);
	json_t *props = json_object();
	for (int i = 0; i < m->nproperties; i++)
		json_object_set_new(props, m->properties[i].key, json_string(m->properties[i].value));
	json_object_set_new(o, "properties", props);
	json_t *refs = json_object();
	for (int i = 0; i < m->nrefs; i++) {
		json_t *r = json_object();
		json_object_set_new(r, "snapshot-id", json_integer(m->refs[i].snapshot_id));
		json_object_set_new(r, "type", json_string(m->refs[i].is_tag ? "tag" : "branch"));
		json_object_set_new(refs, m->refs[i].name, r);
	}
	json_object_set_new(o, "refs", refs);
	const ice_snapshot *cur = ice_metadata_current_snapshot(m);
	if (cur) {
		json_t *cj = json_object();
		json_object_set_new(cj, "snapshot-id", json_integer(cur->snapshot_id));
		json_object_set_new(cj, "timestamp-ms", json_integer(cur->timestamp_ms));
		json_t *sm = json_object();
		for (int i = 0; i < cur->nsummary; i++)
			json_object_set_new(sm, cur->summary[i].key, json_string(cur->summary[i].value));
		json_object_set_new(cj, "summary", sm);
		json_object_set_new(o, "current-snapshot", cj);
	} else {
		json_object_set_new(o, "current-snapshot", json_null());
	}
	json_object_set_new(o, "snapshots", json_integer(m->nsnapshots));
	char *txt = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!txt)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	*out = txt;
	return 0;
}

bool ice_schema_has_nested(const ice_table_metadata *m)
{
	const ice_schema *s = ice_metadata_current_schema(m);
	for (int k = 0; s && k < s->nfields; k++)
		if (s->fields[k].type->kind != ICE_PRIMITIVE)
			return true;
	return false;
}

int ice_table_data_dir(const ice_table_metadata *m, char *buf, size_t size, floe_error *err)
{
	const char *dd = ice_metadata_property(m, "write.data.path");
	int w = dd && *dd ? snprintf(buf, size, "%s", dd) : snprintf(buf, size, "%s/data", m->location);
	if (w < 0 || (size_t)w >= size)
		return floe_error_set(err, FLOE_EINVALID, "data path too long");
	return 0;
}
