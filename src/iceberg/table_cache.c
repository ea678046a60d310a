/* iceberg/table_cache.c - decoded manifest lists and manifests kept by a
 * table handle for its scans, so a query that scans one table many times
 * (a join probing it once per outer row) reads and decodes each manifest
 * once. Iceberg never rewrites a manifest or manifest list in place, so an
 * entry keyed by path stays true; manifests are also keyed by the current
 * schema id, which types their partition values. The cache is a
 * generation: when it outgrows its budget the table starts a new one, and
 * the old one is freed when the last scan planned from it drops it. */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "iceberg/table_int.h"

typedef struct mc_ent {
	const char *path;        /* in the cache's arena */
	uint64_t hash;
	int32_t schema_id;       /* manifests; -1 for manifest lists */
	void *v;                 /* ice_manifest_file[] or ice_manifest_entry[] */
	size_t n;
} mc_ent;

struct ice_mcache {
	int refs;
	floe_arena *arena;
	mc_ent *ents;
	size_t n, cap;           /* entries */
	uint32_t *slots;         /* open addressing: index + 1, 0 = empty */
	size_t nslots;           /* a power of two, at least 2 * cap */
};

static ice_mcache *mc_new(void)
{
	ice_mcache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->refs = 1;
	c->arena = floe_arena_new(1 << 20);
	if (!c->arena) {
		free(c);
		return NULL;
	}
	return c;
}

void ice_mcache_drop(ice_mcache *c)
{
	if (!c || --c->refs > 0)
		return;
	floe_arena_free(c->arena);
	free(c->ents);
	free(c->slots);
	free(c);
}

static ice_mcache *mc_take(ice_mcache *c)
{
	c->refs++;
	return c;
}

static const mc_ent *mc_find(const ice_mcache *c, const char *path, uint64_t h, int32_t schema_id)
{
	if (!c->nslots)
		return NULL;
	for (size_t i = h & (c->nslots - 1);; i = (i + 1) & (c->nslots - 1)) {
		uint32_t k = c->slots[i];
		if (!k)
			return NULL;
		const mc_ent *e = &c->ents[k - 1];
		if (e->hash == h && e->schema_id == schema_id && strcmp(e->path, path) == 0)
			return e;
	}
}

/* Add an entry (path copied); false when out of memory (nothing added). */
static bool mc_add(ice_mcache *c, const char *path, uint64_t h, int32_t schema_id, void *v, size_t n)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		mc_ent *ne = realloc(c->ents, cap * sizeof *ne);
		if (!ne)
			return false;
		c->ents = ne;
		c->cap = cap;
		uint32_t *ns = calloc(cap * 2, sizeof *ns);
		if (!ns)
			return false;
		free(c->slots);
		c->slots = ns;
		c->nslots = cap * 2;
		for (size_t k = 0; k < c->n; k++) {
			size_t i = c->ents[k].hash & (c->nslots - 1);
			while (c->slots[i])
				i = (i + 1) & (c->nslots - 1);
			c->slots[i] = (uint32_t)k + 1;
		}
	}
	const char *p = floe_arena_strdup(c->arena, path);
	if (!p)
		return false;
	c->ents[c->n] = (mc_ent){ p, h, schema_id, v, n };
	size_t i = h & (c->nslots - 1);
	while (c->slots[i])
		i = (i + 1) & (c->nslots - 1);
	c->slots[i] = (uint32_t)++c->n;
	return true;
}

void floe_table_cache_manifests(floe_table *t, int64_t max_bytes)
{
	t->mcache_limit = max_bytes > 0 ? max_bytes : 0;
	if (!t->mcache_limit) {
		ice_mcache_drop(t->mcache);
		t->mcache = NULL;
	}
}

/* The cache to plan from, taken for the caller; NULL when caching is off
 * or memory is short (the caller then reads into its own arena). */
static ice_mcache *generation(floe_table *t)
{
	if (!t->mcache_limit)
		return NULL;
	if (t->mcache && floe_arena_footprint(t->mcache->arena) > (size_t)t->mcache_limit) {
		ice_mcache_drop(t->mcache);
		t->mcache = NULL;
	}
	if (!t->mcache)
		t->mcache = mc_new();
	return t->mcache ? mc_take(t->mcache) : NULL;
}

/* Whether `c` may take another decoded file. */
static bool has_room(const floe_table *t, const ice_mcache *c)
{
	return c && floe_arena_footprint(c->arena) <= (size_t)t->mcache_limit;
}

int ice_table_plan_manifests(floe_table *t, const ice_snapshot *snap, floe_arena *arena,
                             ice_mcache **hold, ice_manifest_file **out, size_t *n,
                             floe_error *err)
{
	*hold = snap->manifest_list ? generation(t) : NULL;
	ice_mcache *c = *hold;
	if (!c)
		return ice_table_snapshot_manifests(t, snap, arena, out, n, err);
	char local[4096];
	if (!ice_table_local_path(t, snap->manifest_list, local, sizeof local))
		return floe_error_set(err, FLOE_EINVALID, "path too long: %s", snap->manifest_list);
	uint64_t h = XXH3_64bits(local, strlen(local));
	const mc_ent *e = mc_find(c, local, h, -1);
	if (e) {
		*out = e->v;
		*n = e->n;
		return 0;
	}
	bool keep = has_room(t, c);
	int rc = ice_manifest_list_read(local, keep ? c->arena : arena, out, n, err);
	if (rc == 0 && keep)
		(void)mc_add(c, local, h, -1, *out, *n);
	return rc;
}

int ice_table_plan_manifest(floe_table *t, ice_mcache *hold, const ice_manifest_file *mf,
                            const char *local, floe_arena *arena, ice_manifest_entry **out,
                            size_t *n, floe_error *err)
{
	if (!hold)
		return ice_manifest_read(mf, local, t->meta, arena, out, n, err);
	int32_t sid = t->meta->current_schema_id;
	uint64_t h = XXH3_64bits(local, strlen(local));
	const mc_ent *e = mc_find(hold, local, h, sid);
	if (e) {
		*out = e->v;
		*n = e->n;
		return 0;
	}
	bool keep = has_room(t, hold);
	int rc = ice_manifest_read(mf, local, t->meta, keep ? hold->arena : arena, out, n, err);
	if (rc == 0 && keep)
		(void)mc_add(hold, local, h, sid, *out, *n);
	return rc;
}
