/* iceberg/table_upkeep.c - table maintenance: expire snapshots (then delete
 * what only they referenced), remove orphan files, rewrite manifests. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "iceberg/table_int.h"
#include "util/fs.h"

#define DAY_MS 86400000LL
#define PATH_BUF 4096

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ---- a set of normalized local paths ------------------------------------ */

typedef struct pathset {
	char **slot;
	size_t cap, n;
} pathset;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static bool pathset_has(const pathset *s, const char *p)
{
	if (s->cap == 0)
		return false;
	for (size_t i = hash_str(p) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slot[i])
			return false;
		if (strcmp(s->slot[i], p) == 0)
			return true;
	}
}

/* 1 when added, 0 when present, FLOE_ENOMEM. */
static int pathset_add(pathset *s, const char *p)
{
	if (pathset_has(s, p))
		return 0;
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **slot = calloc(cap, sizeof *slot);
		if (!slot)
			return FLOE_ENOMEM;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slot[i])
				continue;
			size_t j = hash_str(s->slot[i]) & (cap - 1);
			while (slot[j])
				j = (j + 1) & (cap - 1);
			slot[j] = s->slot[i];
		}
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	char *copy = strdup(p);
	if (!copy)
		return FLOE_ENOMEM;
	size_t i = hash_str(p) & (s->cap - 1);
	while (s->slot[i])
		i = (i + 1) & (s->cap - 1);
	s->slot[i] = copy;
	s->n++;
	return 1;
}

static void pathset_free(pathset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof *s);
}

/* The local path of a path the table names, lexically normalized, so that
 * "file:/x//y" and "/x/y" compare equal. */
static int norm_path(const floe_table *t, const char *path, char *out, size_t size,
                     floe_error *err)
{
	char local[PATH_BUF];
	if (!ice_table_local_path(t, path, local, sizeof local))
		return floe_error_set(err, FLOE_EINVALID, "path too long: %.200s", path);
	return floe_fs_normalize(out, size, local, err);
}

/* ---- what a set of snapshots references --------------------------------- */

typedef struct file_ref {
	const char *path;  /* normalized local path (in the arena) */
	int content;       /* ICE_CONTENT_* */
} file_ref;

typedef struct reach {
	floe_arena *arena;
	pathset lists, manifests, files;
	ice_manifest_file *mf;  /* each manifest once (strings in arena) */
	size_t nmf, capmf;
	file_ref *fr;           /* with collect_files: each file once */
	size_t nfr, capfr;
} reach;

static int reach_init(reach *r, floe_error *err)
{
	memset(r, 0, sizeof *r);
	r->arena = floe_arena_new(0);
	return r->arena ? 0 : oom(err);
}

static void reach_free(reach *r)
{
	pathset_free(&r->lists);
	pathset_free(&r->manifests);
	pathset_free(&r->files);
	free(r->mf);
	free(r->fr);
	floe_arena_free(r->arena);
	memset(r, 0, sizeof *r);
}

/* Add snapshot `s`: its manifest list and every manifest it lists. A
 * manifest list that does not exist is skipped when `missing_ok` (an
 * expired snapshot whose files a concurrent expiry already deleted), else
 * reading it fails. */
static int reach_snapshot(reach *r, const floe_table *t, const ice_snapshot *s, bool missing_ok,
                          floe_error *err)
{
	char norm[PATH_BUF];
	int rc;
	if (s->manifest_list) {
		if ((rc = norm_path(t, s->manifest_list, norm, sizeof norm, err)))
			return rc;
		if ((rc = pathset_add(&r->lists, norm)) < 0)
			return oom(err);
		if (rc == 0)
			return 0; /* listed already */
		if (missing_ok && !floe_fs_exists(norm))
			return 0;
	}
	floe_arena *scratch = floe_arena_new(0);
	if (!scratch)
		return oom(err);
	ice_manifest_file *mf = NULL;
	size_t n = 0;
	rc = ice_table_snapshot_manifests(t, s, scratch, &mf, &n, err);
	for (size_t i = 0; i < n && !rc; i++) {
		if ((rc = norm_path(t, mf[i].manifest_path, norm, sizeof norm, err)))
			break;
		int added = pathset_add(&r->manifests, norm);
		if (added < 0) {
			rc = oom(err);
			break;
		}
		if (!added)
			continue;
		if (r->nmf == r->capmf) {
			size_t cap = r->capmf ? r->capmf * 2 : 16;
			ice_manifest_file *v = realloc(r->mf, cap * sizeof *v);
			if (!v) {
				rc = oom(err);
				break;
			}
			r->mf = v;
			r->capmf = cap;
		}
		ice_manifest_file c = mf[i];
		c.partitions = NULL;
		c.npartitions = 0;
		c.key_metadata = NULL;
		c.key_metadata_len = 0;
		if (!(c.manifest_path = floe_arena_strdup(r->arena, mf[i].manifest_path))) {
			rc = oom(err);
			break;
		}
		r->mf[r->nmf++] = c;
	}
	floe_arena_free(scratch);
	return rc;
}

/* Read every manifest gathered (those in `skip` excepted) and add the
 * files of their entries, whatever their content, to r->files (and r->fr):
 * all entries, or with `live_only` the ADDED and EXISTING ones (a DELETED
 * entry records that its snapshot no longer has the file; spec "Manifests",
 * note 1). Missing manifests are skipped when `missing_ok`. */
static int reach_files(reach *r, const floe_table *t, const pathset *skip, bool live_only,
                       bool missing_ok, floe_error *err)
{
	floe_arena *scratch = floe_arena_new(0);
	if (!scratch)
		return oom(err);
	char norm[PATH_BUF], local[PATH_BUF];
	int rc = 0;
	for (size_t i = 0; i < r->nmf && !rc; i++) {
		if ((rc = norm_path(t, r->mf[i].manifest_path, norm, sizeof norm, err)))
			break;
		if (skip && pathset_has(skip, norm))
			continue;
		if (!ice_table_local_path(t, r->mf[i].manifest_path, local, sizeof local)) {
			rc = floe_error_set(err, FLOE_EINVALID, "path too long: %.200s",
			                    r->mf[i].manifest_path);
			break;
		}
		if (missing_ok && !floe_fs_exists(local))
			continue;
		floe_arena_reset(scratch);
		ice_manifest_entry *e = NULL;
		size_t n = 0;
		rc = ice_manifest_read(&r->mf[i], local, t->meta, scratch, &e, &n, err);
		for (size_t k = 0; k < n && !rc; k++) {
			if (live_only && e[k].status == ICE_STATUS_DELETED)
				continue;
			if ((rc = norm_path(t, e[k].file.file_path, norm, sizeof norm, err)))
				break;
			int added = pathset_add(&r->files, norm);
			if (added < 0) {
				rc = oom(err);
				break;
			}
			if (!added)
				continue;
			if (r->nfr == r->capfr) {
				size_t cap = r->capfr ? r->capfr * 2 : 64;
				file_ref *v = realloc(r->fr, cap * sizeof *v);
				if (!v) {
					rc = oom(err);
					break;
				}
				r->fr = v;
				r->capfr = cap;
			}
			r->fr[r->nfr].content = e[k].file.content;
			if (!(r->fr[r->nfr].path = floe_arena_strdup(r->arena, norm))) {
				rc = oom(err);
				break;
			}
			r->nfr++;
		}
	}
	floe_arena_free(scratch);
	return rc;
}

/* Paths of "statistics" / "partition-statistics" entries (spec "Table
 * Statistics", "Partition Statistics") into `set`. */
static int stats_paths(const floe_table *t, const char *json, pathset *set, floe_error *err)
{
	if (!json)
		return 0;
	json_t *a = json_loads(json, JSON_DECODE_ANY, NULL);
	int rc = 0;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		const char *p = json_string_value(json_object_get(v, "statistics-path"));
		char norm[PATH_BUF];
		if (!p || norm_path(t, p, norm, sizeof norm, NULL) != 0)
			continue;
		if (pathset_add(set, norm) < 0) {
			rc = oom(err);
			break;
		}
	}
	json_decref(a);
	return rc;
}

/* What the metadata `t->meta` references: every snapshot's manifest list,
 * manifests and live data and delete files, and statistics files. */
static int reach_table(reach *r, const floe_table *t, floe_error *err)
{
	const ice_table_metadata *m = t->meta;
	int rc = 0;
	for (int i = 0; i < m->nsnapshots && !rc; i++)
		rc = reach_snapshot(r, t, &m->snapshots[i], false, err);
	if (!rc)
		rc = reach_files(r, t, NULL, true, false, err);
	if (!rc)
		rc = stats_paths(t, m->statistics_json, &r->files, err);
	if (!rc)
		rc = stats_paths(t, m->partition_statistics_json, &r->files, err);
	return rc;
}

/* Delete one file the table named, only inside the warehouse. Returns 1
 * when deleted, 0 when absent or outside, -1 (errno kept) on failure. */
static int remove_one(const char *warehouse, const char *norm)
{
	if (!floe_fs_within(warehouse, norm))
		return 0;
	if (unlink(norm) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

/* Deletions after an expiry: counted per kind, failures remembered. */
typedef struct removal {
	const char *warehouse;
	int64_t failed;
	int first_errno;
	char first[PATH_BUF];
} removal;

static void remove_counted(removal *rm, const char *norm, int64_t *counter)
{
	int r = remove_one(rm->warehouse, norm);
	if (r > 0) {
		(*counter)++;
	} else if (r < 0 && !rm->failed++) {
		rm->first_errno = errno;
		snprintf(rm->first, sizeof rm->first, "%s", norm);
	}
}

/* ---- expire snapshots ----------------------------------------------------- */

typedef struct snap_idx {
	int64_t id;
	int idx;
} snap_idx;

static int snap_idx_cmp(const void *a, const void *b)
{
	const snap_idx *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int find_snap(const snap_idx *v, int n, int64_t id)
{
	snap_idx key = { id, 0 };
	const snap_idx *p = bsearch(&key, v, (size_t)n, sizeof *v, snap_idx_cmp);
	return p ? p->idx : -1;
}

typedef struct expire_ctx {
	int64_t now;
	int64_t older_than;      /* from the options, or 0 */
	int retain_last;         /* from the options, or 0 */
	int64_t keep_after_seq;  /* from the options, or 0 */
	bool nothing;            /* the last attempt found nothing to do */
	floe_arena *keep;        /* what outlives the attempt, reset per attempt */
	ice_snapshot *expired;   /* copies (strings in keep) */
	int nexpired;
	int refs_removed;
	const char **stats_removed;
	int nstats_removed;
	const char **old_metadata; /* metadata files the base knew of */
	int nold_metadata;
} expire_ctx;

/* Copy what the file cleanup needs of an expired snapshot into x->keep. */
static int keep_snapshot(expire_ctx *x, ice_snapshot *dst, const ice_snapshot *s)
{
	memset(dst, 0, sizeof *dst);
	dst->snapshot_id = s->snapshot_id;
	dst->sequence_number = s->sequence_number;
	dst->timestamp_ms = s->timestamp_ms;
	if (s->manifest_list && !(dst->manifest_list = floe_arena_strdup(x->keep, s->manifest_list)))
		return FLOE_ENOMEM;
	if (s->nmanifests > 0) {
		dst->manifests = floe_arena_calloc(x->keep, (size_t)s->nmanifests, sizeof *dst->manifests);
		if (!dst->manifests)
			return FLOE_ENOMEM;
		for (int i = 0; i < s->nmanifests; i++)
			if (!(dst->manifests[i] = floe_arena_strdup(x->keep, s->manifests[i])))
				return FLOE_ENOMEM;
		dst->nmanifests = s->nmanifests;
	}
	return 0;
}

/* Statistics entries of expired snapshots leave the metadata (their
 * "statistics-path" is remembered for deletion). */
static int filter_stats(expire_ctx *x, const char *json, const bool *gone, const snap_idx *ix,
                        int n, floe_arena *arena, const char **out)
{
	*out = json;
	if (!json)
		return 0;
	json_t *a = json_loads(json, JSON_DECODE_ANY, NULL);
	if (!json_is_array(a)) {
		json_decref(a);
		return 0;
	}
	json_t *kept = json_array();
	size_t i;
	json_t *v;
	int rc = 0, removed = 0;
	json_array_foreach(a, i, v) {
		json_t *id = json_object_get(v, "snapshot-id");
		int at = json_is_integer(id) ? find_snap(ix, n, (int64_t)json_integer_value(id)) : -1;
		if (at >= 0 && gone[at]) {
			const char *p = json_string_value(json_object_get(v, "statistics-path"));
			if (p) {
				const char **sv = floe_arena_calloc(x->keep, (size_t)x->nstats_removed + 1,
				                                     sizeof *sv);
				const char *c = floe_arena_strdup(x->keep, p);
				if (!sv || !c) {
					rc = FLOE_ENOMEM;
					break;
				}
				if (x->nstats_removed)
					memcpy(sv, x->stats_removed, (size_t)x->nstats_removed * sizeof *sv);
				sv[x->nstats_removed++] = c;
				x->stats_removed = sv;
			}
			removed++;
			continue;
		}
		json_array_append(kept, v);
	}
	if (!rc && removed) {
		char *s = json_dumps(kept, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!s || !(*out = floe_arena_strdup(arena, s)))
			rc = FLOE_ENOMEM;
		free(s);
	}
	json_decref(kept);
	json_decref(a);
	return rc;
}

/* Mark `s` and its ancestors retained while they are newer than
 * `older_than` or among the first `min_keep` (spec "Snapshot Retention
 * Policy", step 4). */
static void retain_branch(const ice_table_metadata *m, const snap_idx *ix, int64_t head,
                          int64_t older_than, int64_t min_keep, bool *keep)
{
	int at = find_snap(ix, m->nsnapshots, head);
	for (int64_t k = 0; at >= 0 && k <= m->nsnapshots; k++) {
		const ice_snapshot *s = &m->snapshots[at];
		if (s->timestamp_ms < older_than && k >= min_keep)
			break;
		keep[at] = true;
		at = s->has_parent ? find_snap(ix, m->nsnapshots, s->parent_id) : -1;
	}
}

/* Mark `head` and all its ancestors. */
static void mark_ancestors(const ice_table_metadata *m, const snap_idx *ix, int64_t head,
                           bool *mark)
{
	int at = find_snap(ix, m->nsnapshots, head);
	for (int k = 0; at >= 0 && k <= m->nsnapshots && !mark[at]; k++) {
		mark[at] = true;
		const ice_snapshot *s = &m->snapshots[at];
		at = s->has_parent ? find_snap(ix, m->nsnapshots, s->parent_id) : -1;
	}
}

static int expire_update(void *vctx, const floe_table *t, const ice_table_metadata *base,
                         int attempt, floe_arena *arena, ice_table_metadata **out,
                         floe_error *err)
{
	(void)attempt;
	expire_ctx *x = vctx;
	floe_arena_reset(x->keep);
	x->expired = NULL;
	x->nexpired = 0;
	x->refs_removed = 0;
	x->stats_removed = NULL;
	x->nstats_removed = 0;
	x->old_metadata = NULL;
	x->nold_metadata = 0;
	x->nothing = false;

	int n = base->nsnapshots;
	int64_t older = x->older_than > 0 ? x->older_than
	                : x->now - ice_table_prop_int(base, "history.expire.max-snapshot-age-ms",
	                                              5 * DAY_MS);
	int64_t min_keep = x->retain_last > 0 ? x->retain_last
	                   : ice_table_prop_int(base, "history.expire.min-snapshots-to-keep", 1);
	if (min_keep < 1)
		min_keep = 1;
	int64_t ref_age = ice_table_prop_int(base, "history.expire.max-ref-age-ms", -1);

	snap_idx *ix = floe_arena_calloc(arena, (size_t)n + 1, sizeof *ix);
	bool *keep = floe_arena_calloc(arena, (size_t)n + 1, sizeof *keep);
	bool *reach_refs = floe_arena_calloc(arena, (size_t)n + 1, sizeof *reach_refs);
	bool *ref_kept = floe_arena_calloc(arena, (size_t)base->nrefs + 1, sizeof *ref_kept);
	if (!ix || !keep || !reach_refs || !ref_kept)
		return oom(err);
	for (int i = 0; i < n; i++) {
		ix[i].id = base->snapshots[i].snapshot_id;
		ix[i].idx = i;
	}
	if (n > 0)
		qsort(ix, (size_t)n, sizeof *ix, snap_idx_cmp);

	/* spec "Snapshot Retention Policy": 2. refs other than main older than
	 * max-ref-age-ms go; 3. every ref's snapshot stays; 4. branches keep
	 * ancestors by age and count */
	bool have_main = false;
	for (int i = 0; i < base->nrefs; i++) {
		const ice_ref *r = &base->refs[i];
		int at = find_snap(ix, n, r->snapshot_id);
		bool is_main = strcmp(r->name, "main") == 0;
		int64_t age = r->max_ref_age_ms > 0 ? r->max_ref_age_ms : ref_age;
		if (!is_main && age > 0 && at >= 0 && x->now - base->snapshots[at].timestamp_ms > age) {
			x->refs_removed++;
			continue;
		}
		ref_kept[i] = true;
		have_main |= is_main;
		if (at < 0)
			continue;
		keep[at] = true;
		if (r->is_tag) {
			reach_refs[at] = true;
			continue;
		}
		int64_t b_older = r->max_snapshot_age_ms > 0 ? x->now - r->max_snapshot_age_ms : older;
		int64_t b_min = r->min_snapshots_to_keep > 0 ? r->min_snapshots_to_keep : min_keep;
		retain_branch(base, ix, r->snapshot_id, b_older, b_min, keep);
		mark_ancestors(base, ix, r->snapshot_id, reach_refs);
	}
	if (base->has_current_snapshot) {
		/* the current snapshot never goes; without a main ref (v1) the
		 * current snapshot is the head of the main line */
		int at = find_snap(ix, n, base->current_snapshot_id);
		if (at >= 0)
			keep[at] = true;
		if (!have_main) {
			retain_branch(base, ix, base->current_snapshot_id, older, min_keep, keep);
			mark_ancestors(base, ix, base->current_snapshot_id, reach_refs);
		}
	}
	/* snapshots on no ref's line expire by age alone */
	for (int i = 0; i < n; i++)
		if (!reach_refs[i] && base->snapshots[i].timestamp_ms >= older)
			keep[i] = true;
	/* and none that a reader has not read yet */
	if (x->keep_after_seq > 0)
		for (int i = 0; i < n; i++)
			if (base->snapshots[i].sequence_number > x->keep_after_seq)
				keep[i] = true;

	int nkeep = 0;
	for (int i = 0; i < n; i++)
		nkeep += keep[i];
	if (nkeep == n && x->refs_removed == 0) {
		x->nothing = true;
		return floe_error_set(err, FLOE_EINVALID, "nothing to expire");
	}

	ice_table_metadata *nm = floe_arena_alloc(arena, sizeof *nm);
	ice_snapshot *snaps = floe_arena_calloc(arena, (size_t)nkeep + 1, sizeof *snaps);
	ice_snapshot_log_entry *log = floe_arena_calloc(arena, (size_t)base->nsnapshot_log + 1,
	                                                sizeof *log);
	ice_ref *refs = floe_arena_calloc(arena, (size_t)base->nrefs + 1, sizeof *refs);
	bool *gone = floe_arena_calloc(arena, (size_t)n + 1, sizeof *gone);
	x->expired = floe_arena_calloc(x->keep, (size_t)(n - nkeep) + 1, sizeof *x->expired);
	if (!nm || !snaps || !log || !refs || !gone || !x->expired)
		return oom(err);
	*nm = *base;
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (keep[i]) {
			snaps[k++] = base->snapshots[i];
			continue;
		}
		gone[i] = true;
		if (keep_snapshot(x, &x->expired[x->nexpired++], &base->snapshots[i]))
			return oom(err);
	}
	nm->snapshots = snaps;
	nm->nsnapshots = k;
	/* spec "Table Metadata Fields", snapshot-log: entries before an
	 * expired snapshot's entry are removed too, so the log never claims a
	 * snapshot was current over a gap */
	int nl = 0;
	for (int i = 0; i < base->nsnapshot_log; i++) {
		int at = find_snap(ix, n, base->snapshot_log[i].snapshot_id);
		if (at < 0 || gone[at]) {
			nl = 0;
			continue;
		}
		log[nl++] = base->snapshot_log[i];
	}
	nm->snapshot_log = log;
	nm->nsnapshot_log = nl;
	int nr = 0;
	for (int i = 0; i < base->nrefs; i++)
		if (ref_kept[i])
			refs[nr++] = base->refs[i];
	nm->refs = refs;
	nm->nrefs = nr;
	if (filter_stats(x, base->statistics_json, gone, ix, n, arena, &nm->statistics_json) ||
	    filter_stats(x, base->partition_statistics_json, gone, ix, n, arena,
	                 &nm->partition_statistics_json))
		return oom(err);
	/* the metadata files the base knows of, for the metadata-log cleanup */
	x->old_metadata = floe_arena_calloc(x->keep, (size_t)base->nmetadata_log + 1,
	                                    sizeof *x->old_metadata);
	if (!x->old_metadata)
		return oom(err);
	for (int i = 0; i < base->nmetadata_log; i++)
		if (!(x->old_metadata[x->nold_metadata++] =
		          floe_arena_strdup(x->keep, base->metadata_log[i].metadata_file)))
			return oom(err);
	if (t->metadata_location &&
	    !(x->old_metadata[x->nold_metadata++] = floe_arena_strdup(x->keep, t->metadata_location)))
		return oom(err);
	*out = nm;
	return 0;
}

/* The version of a metadata file name: "00012-<uuid>.metadata.json" or
 * "v12.metadata.json" -> 12; -1 for other names. */
static long metadata_file_version(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!has_suffix(base, ".metadata.json") && !has_suffix(base, ".metadata.json.gz"))
		return -1;
	if (*base == 'v')
		base++;
	if (*base < '0' || *base > '9')
		return -1;
	char *end;
	errno = 0;
	long v = strtol(base, &end, 10);
	if (errno || (*end != '-' && *end != '.'))
		return -1;
	return v;
}

typedef struct old_meta_walk {
	const char *dir;      /* LOCATION/metadata, normalized */
	const pathset *live;
	long below;           /* versions below this one left the log */
	char **v;
	size_t n, cap;
} old_meta_walk;

static int old_meta_visit(void *ud, const char *path, const struct stat *st)
{
	(void)st;
	old_meta_walk *w = ud;
	char norm[PATH_BUF];
	if (floe_fs_normalize(norm, sizeof norm, path, NULL) != 0)
		return 0;
	const char *slash = strrchr(norm, '/');
	size_t dlen = strlen(w->dir);
	if (!slash || (size_t)(slash - norm) != dlen || strncmp(norm, w->dir, dlen) != 0)
		return 0; /* only files directly in the metadata folder */
	long v = metadata_file_version(norm);
	if (v < 0 || v >= w->below || pathset_has(w->live, norm))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		char **nv = realloc(w->v, cap * sizeof *nv);
		if (!nv)
			return FLOE_ENOMEM;
		w->v = nv;
		w->cap = cap;
	}
	if (!(w->v[w->n] = strdup(norm)))
		return FLOE_ENOMEM;
	w->n++;
	return 0;
}

/* Metadata files older than every file of the metadata log: a concurrent
 * commit only ever writes a higher version, so these are never about to
 * become current. Their paths into *out (malloc'ed). */
static int old_metadata_files(const floe_table *t, const pathset *live, char ***out, size_t *n,
                              floe_error *err)
{
	*out = NULL;
	*n = 0;
	long below = metadata_file_version(t->metadata_location);
	for (size_t i = 0; i < live->cap; i++)
		if (live->slot[i]) {
			long v = metadata_file_version(live->slot[i]);
			if (v < 0)
				return 0; /* names floe does not know: leave them */
			if (v < below)
				below = v;
		}
	if (below <= 0)
		return 0;
	char dir[PATH_BUF], loc[PATH_BUF];
	if (norm_path(t, t->meta->location, loc, sizeof loc, err))
		return 0;
	int w = snprintf(dir, sizeof dir, "%s/metadata", loc);
	if (w < 0 || (size_t)w >= sizeof dir)
		return 0;
	old_meta_walk ow = { dir, live, below, NULL, 0, 0 };
	floe_error e2;
	int rc = floe_fs_walk(dir, old_meta_visit, &ow, &e2);
	if (rc == FLOE_ENOMEM) {
		for (size_t i = 0; i < ow.n; i++)
			free(ow.v[i]);
		free(ow.v);
		return oom(err);
	}
	*out = ow.v;
	*n = ow.n;
	return 0;
}

static bool prop_true(const ice_table_metadata *m, const char *key)
{
	const char *v = ice_metadata_property(m, key);
	return v && strcasecmp(v, "true") == 0;
}

/* After the expiry committed: delete what no retained snapshot references. */
static int expire_files(floe_table *t, expire_ctx *x, floe_expire_result *res, floe_error *err)
{
	reach keep, gone;
	int rc;
	if ((rc = reach_init(&keep, err)))
		return rc;
	if ((rc = reach_init(&gone, err))) {
		reach_free(&keep);
		return rc;
	}
	removal rm;
	memset(&rm, 0, sizeof rm);
	rm.warehouse = floe_catalog_warehouse(t->cat);
	if ((rc = reach_table(&keep, t, err)))
		goto done;
	for (int i = 0; i < x->nexpired && !rc; i++)
		rc = reach_snapshot(&gone, t, &x->expired[i], true, err);
	if (!rc)
		rc = reach_files(&gone, t, &keep.manifests, false, true, err);
	if (rc)
		goto done;
	/* data and delete files first, then the manifests and lists naming
	 * them, so an interrupted cleanup leaves only unreferenced files for
	 * remove_orphans */
	for (size_t i = 0; i < gone.nfr; i++) {
		if (pathset_has(&keep.files, gone.fr[i].path))
			continue;
		if (gone.fr[i].content == ICE_CONTENT_DATA)
			remove_counted(&rm, gone.fr[i].path, &res->data_files_deleted);
		else
			remove_counted(&rm, gone.fr[i].path, &res->delete_files_deleted);
	}
	for (size_t i = 0; i < gone.manifests.cap; i++) {
		const char *p = gone.manifests.slot[i];
		if (p && !pathset_has(&keep.manifests, p))
			remove_counted(&rm, p, &res->manifests_deleted);
	}
	for (size_t i = 0; i < gone.lists.cap; i++) {
		const char *p = gone.lists.slot[i];
		if (p && !pathset_has(&keep.lists, p))
			remove_counted(&rm, p, &res->manifest_lists_deleted);
	}
	for (int i = 0; i < x->nstats_removed; i++) {
		char norm[PATH_BUF];
		if (norm_path(t, x->stats_removed[i], norm, sizeof norm, NULL) == 0 &&
		    !pathset_has(&keep.files, norm))
			remove_counted(&rm, norm, &res->statistics_files_deleted);
	}
	/* spec "Table Metadata Fields", metadata-log, and the table property
	 * write.metadata.delete-after-commit.enabled: metadata files that left
	 * the log are deleted */
	if (prop_true(t->meta, "write.metadata.delete-after-commit.enabled")) {
		pathset live;
		memset(&live, 0, sizeof live);
		char norm[PATH_BUF];
		for (int i = 0; i < t->meta->nmetadata_log && !rc; i++)
			if (norm_path(t, t->meta->metadata_log[i].metadata_file, norm, sizeof norm, NULL) == 0 &&
			    pathset_add(&live, norm) < 0)
				rc = oom(err);
		if (!rc && norm_path(t, t->metadata_location, norm, sizeof norm, NULL) == 0 &&
		    pathset_add(&live, norm) < 0)
			rc = oom(err);
		for (int i = 0; i < x->nold_metadata && !rc; i++)
			if (norm_path(t, x->old_metadata[i], norm, sizeof norm, NULL) == 0 &&
			    !pathset_has(&live, norm))
				remove_counted(&rm, norm, &res->metadata_files_deleted);
		/* and those that left it in earlier commits */
		char **older = NULL;
		size_t nolder = 0;
		if (!rc)
			rc = old_metadata_files(t, &live, &older, &nolder, err);
		for (size_t i = 0; i < nolder; i++) {
			remove_counted(&rm, older[i], &res->metadata_files_deleted);
			free(older[i]);
		}
		free(older);
		pathset_free(&live);
	}
	if (!rc && rm.failed)
		rc = floe_error_set(err, FLOE_EIO,
		                    "%s: expired %" PRId64 " snapshots but could not delete %" PRId64
		                    " of their files (first: %s: %s); fix the permissions and run "
		                    "'floe vacuum %s'", t->ident, res->snapshots_expired, rm.failed,
		                    rm.first, strerror(rm.first_errno), t->ident);
done:
	if (rc && !rm.failed && rc != FLOE_ENOMEM)
		floe_error_prefix(err, "%s: expired %" PRId64 " snapshots, but no file was deleted "
		                  "because the retained ones could not be read (run 'floe vacuum' "
		                  "once fixed)", t->ident, res->snapshots_expired);
	reach_free(&keep);
	reach_free(&gone);
	return rc;
}

int floe_table_expire_snapshots(floe_table *t, const floe_expire_options *o,
                                floe_expire_result *res, floe_error *err)
{
	floe_expire_result local;
	if (!res)
		res = &local;
	memset(res, 0, sizeof *res);
	if (!t->cat)
		return floe_error_set(err, FLOE_EINVALID,
		                      "%s was opened from a metadata file and is read-only", t->ident);
	expire_ctx x;
	memset(&x, 0, sizeof x);
	x.now = floe_now_ms();
	x.older_than = o ? o->older_than_ms : 0;
	x.retain_last = o ? o->retain_last : 0;
	x.keep_after_seq = o ? o->keep_after_sequence : 0;
	if (o && o->retain_last < 0)
		return floe_error_set(err, FLOE_EINVALID, "retain_last %d: must be 1 or more",
		                      o->retain_last);
	x.keep = floe_arena_new(0);
	if (!x.keep)
		return oom(err);
	int rc = floe_table_refresh(t, err);
	if (!rc)
		rc = ice_table_commit(t, expire_update, NULL, &x, err);
	if (rc && x.nothing) {
		floe_error_clear(err);
		rc = 0;
		goto done;
	}
	if (rc)
		goto done; /* FLOE_ECOMMIT_UNKNOWN included: nothing is deleted */
	res->snapshots_expired = x.nexpired;
	res->refs_removed = x.refs_removed;
	rc = expire_files(t, &x, res, err);
done:
	floe_arena_free(x.keep);
	return rc;
}

/* ---- remove orphan files ------------------------------------------------ */

typedef struct orphan {
	char *path;
	int64_t size;
	int64_t mtime_ms;
} orphan;

typedef struct orphan_walk {
	const char *location;
	const char *warehouse;
	const pathset *refs;
	int64_t cutoff;
	orphan *v;
	size_t n, cap;
	char **roots;      /* other tables' locations below ours */
	size_t nroots, caproots;
	floe_error *err;
} orphan_walk;

/* "ROOT/metadata/x.metadata.json" of another table: ROOT. */
static int note_foreign_root(orphan_walk *w, const char *path)
{
	if (!has_suffix(path, ".metadata.json") && !has_suffix(path, ".metadata.json.gz"))
		return 0;
	const char *slash = strrchr(path, '/');
	if (!slash || slash - path < 9 || strncmp(slash - 9, "/metadata", 9) != 0)
		return 0;
	size_t len = (size_t)(slash - 9 - path);
	if (len == strlen(w->location) && strncmp(path, w->location, len) == 0)
		return 0;
	for (size_t i = 0; i < w->nroots; i++)
		if (strlen(w->roots[i]) == len && strncmp(w->roots[i], path, len) == 0)
			return 0;
	if (w->nroots == w->caproots) {
		size_t cap = w->caproots ? w->caproots * 2 : 8;
		char **v = realloc(w->roots, cap * sizeof *v);
		if (!v)
			return FLOE_ENOMEM;
		w->roots = v;
		w->caproots = cap;
	}
	if (!(w->roots[w->nroots] = strndup(path, len)))
		return FLOE_ENOMEM;
	w->nroots++;
	return 0;
}

static int orphan_visit(void *ud, const char *path, const struct stat *st)
{
	orphan_walk *w = ud;
	char norm[PATH_BUF];
	if (floe_fs_normalize(norm, sizeof norm, path, NULL) != 0)
		return 0;
	if (note_foreign_root(w, norm))
		return oom(w->err);
	if (pathset_has(w->refs, norm) || !floe_fs_within(w->warehouse, norm) ||
	    !floe_fs_within(w->location, norm))
		return 0;
	const char *base = strrchr(norm, '/');
	if (base && strcmp(base, "/version-hint.text") == 0)
		return 0;
	int64_t mtime = (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
	if (mtime >= w->cutoff)
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		orphan *v = realloc(w->v, cap * sizeof *v);
		if (!v)
			return oom(w->err);
		w->v = v;
		w->cap = cap;
	}
	if (!(w->v[w->n].path = strdup(norm)))
		return oom(w->err);
	w->v[w->n].size = (int64_t)st->st_size;
	w->v[w->n].mtime_ms = mtime;
	w->n++;
	return 0;
}

/* Other catalog tables whose location (the folder above their metadata
 * folder) lies inside `loc` become roots the walk leaves alone; one at
 * `loc` itself (a table created at a renamed table's old location) makes
 * the removal refuse. */
static int catalog_roots(const floe_table *t, orphan_walk *w, floe_error *err)
{
	char **names = NULL;
	size_t n = 0;
	int rc = floe_catalog_list_tables(t->cat, NULL, &names, &n, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		if (strcmp(names[i], t->ident) == 0)
			continue;
		floe_ident id;
		char *ml = NULL;
		if (floe_ident_parse(&id, names[i], NULL) != 0 ||
		    floe_catalog_load_table(t->cat, &id, &ml, NULL) != 0)
			continue;
		char norm[PATH_BUF];
		if (ml && norm_path(t, ml, norm, sizeof norm, NULL) == 0) {
			char *slash = strrchr(norm, '/');
			if (slash) {
				*slash = 0;
				slash = strrchr(norm, '/');
			}
			if (slash)
				*slash = 0;
			if (slash && strcmp(norm, w->location) == 0)
				rc = floe_error_set(err, FLOE_EINVALID,
				                    "%s shares its location %s with table %s, whose files "
				                    "would look unreferenced; remove orphan files there by "
				                    "hand", t->ident, norm, names[i]);
			else if (slash && floe_fs_within(w->location, norm) == 1) {
				char tagged[PATH_BUF];
				int k = snprintf(tagged, sizeof tagged, "%s/metadata/x.metadata.json", norm);
				if (k > 0 && (size_t)k < sizeof tagged && note_foreign_root(w, tagged))
					rc = oom(err);
			}
		}
		free(ml);
	}
	floe_catalog_free_list(names, n);
	return rc;
}

static int orphan_cmp(const void *a, const void *b)
{
	return strcmp(((const orphan *)a)->path, ((const orphan *)b)->path);
}

int floe_table_remove_orphans(floe_table *t, int64_t older_than_ms, bool dry_run,
                              floe_orphan_fn fn, void *ctx, floe_error *err)
{
	if (!t->cat)
		return floe_error_set(err, FLOE_EINVALID,
		                      "%s was opened from a metadata file and is read-only", t->ident);
	reach r;
	orphan_walk w;
	memset(&w, 0, sizeof w);
	char wh[PATH_BUF], loc[PATH_BUF];
	int rc = reach_init(&r, err);
	if (rc)
		return rc;
	if ((rc = floe_table_refresh(t, err)))
		goto done;
	if ((rc = floe_fs_normalize(wh, sizeof wh, floe_catalog_warehouse(t->cat), err)) ||
	    (rc = norm_path(t, t->meta->location, loc, sizeof loc, err)))
		goto done;
	if (!floe_fs_within(wh, loc) || strcmp(wh, loc) == 0) {
		rc = floe_error_set(err, FLOE_EINVALID,
		                    "%s: its location %s is not inside the warehouse %s; remove orphan "
		                    "files there by hand", t->ident, loc, wh);
		goto done;
	}
	struct stat st;
	if (lstat(loc, &st) != 0) {
		if (errno == ENOENT)
			goto done; /* no files at all */
		rc = floe_error_set(err, FLOE_EIO, "%s: %s", loc, strerror(errno));
		goto done;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = floe_error_set(err, FLOE_EINVALID,
		                    "%s: location %s is not a directory (a symlink is never followed)",
		                    t->ident, loc);
		goto done;
	}
	/* everything the metadata references; an unreadable manifest list or
	 * manifest stops here, before anything is deleted */
	if ((rc = reach_table(&r, t, err)))
		goto done;
	char norm[PATH_BUF];
	if ((rc = norm_path(t, t->metadata_location, norm, sizeof norm, err)))
		goto done;
	if (pathset_add(&r.files, norm) < 0) {
		rc = oom(err);
		goto done;
	}
	for (int i = 0; i < t->meta->nmetadata_log; i++)
		if (norm_path(t, t->meta->metadata_log[i].metadata_file, norm, sizeof norm, NULL) == 0 &&
		    pathset_add(&r.files, norm) < 0) {
			rc = oom(err);
			goto done;
		}
	pathset *all[] = { &r.lists, &r.manifests };
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < all[k]->cap; i++)
			if (all[k]->slot[i] && pathset_add(&r.files, all[k]->slot[i]) < 0) {
				rc = oom(err);
				goto done;
			}
	w.location = loc;
	w.warehouse = wh;
	w.refs = &r.files;
	w.cutoff = older_than_ms > 0 ? older_than_ms : floe_now_ms() - 3 * DAY_MS;
	w.err = err;
	if ((rc = catalog_roots(t, &w, err)) || (rc = floe_fs_walk(loc, orphan_visit, &w, err)))
		goto done;
	if (w.n)
		qsort(w.v, w.n, sizeof *w.v, orphan_cmp);
	for (size_t i = 0; i < w.n; i++) {
		bool foreign = false;
		for (size_t k = 0; k < w.nroots && !foreign; k++)
			foreign = floe_fs_within(w.roots[k], w.v[i].path) == 1;
		if (foreign)
			continue; /* another table's files below this location */
		floe_orphan_file f;
		f.path = w.v[i].path;
		f.size = w.v[i].size;
		f.mtime_ms = w.v[i].mtime_ms;
		f.removed = false;
		if (!dry_run) {
			if (unlink(f.path) != 0) {
				if (errno == ENOENT)
					continue;
				rc = floe_error_set(err, FLOE_EIO, "%s: cannot remove: %s (fix the permissions "
				                    "and run again)", f.path, strerror(errno));
				goto done;
			}
			f.removed = true;
		}
		if (fn && (rc = fn(ctx, &f, err)))
			goto done;
	}
done:
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i].path);
	free(w.v);
	for (size_t i = 0; i < w.nroots; i++)
		free(w.roots[i]);
	free(w.roots);
	reach_free(&r);
	return rc;
}

/* ---- rewrite manifests ----------------------------------------------------- */

typedef struct rewrite_ctx {
	floe_arena *arena;         /* the written manifests (across attempts) */
	bool have;                 /* manifests written for base_snapshot */
	int64_t base_snapshot;
	ice_manifest_file *list;   /* the new manifest list: new ones first */
	size_t nlist, caplist;
	ice_paths written;         /* paths of the manifests written */
	ice_mmerge_sink sink;      /* what the plan merged (notes into written) */
	int64_t snapshot_id;
	char list_path[PATH_BUF];
	bool nothing;
} rewrite_ctx;

static void rewrite_drop_written(rewrite_ctx *x)
{
	ice_paths_forget(&x->written, true);
	x->have = false;
}

static int manifest_cmp_spec(const void *a, const void *b)
{
	const ice_manifest_file *x = a, *y = b;
	if (x->partition_spec_id != y->partition_spec_id)
		return x->partition_spec_id < y->partition_spec_id ? -1 : 1;
	return strcmp(x->manifest_path, y->manifest_path);
}

static int push_list(rewrite_ctx *x, const ice_manifest_file *mf, floe_error *err)
{
	if (x->nlist == x->caplist) {
		size_t cap = x->caplist ? x->caplist * 2 : 16;
		ice_manifest_file *v = floe_arena_calloc(x->arena, cap, sizeof *v);
		if (!v)
			return oom(err);
		if (x->nlist)
			memcpy(v, x->list, x->nlist * sizeof *v);
		x->list = v;
		x->caplist = cap;
	}
	x->list[x->nlist++] = *mf;
	return 0;
}

/* Write the new manifests for `cur` of `base` into x (x->list, x->written). */
static int rewrite_plan(rewrite_ctx *x, const floe_table *t, const ice_table_metadata *base,
                        const ice_snapshot *cur, floe_error *err)
{
	int rc = 0;
	floe_arena_reset(x->arena);
	memset(&x->sink, 0, sizeof x->sink);
	x->sink.note = ice_paths_note;
	x->sink.ctx = &x->written;
	x->list = NULL;
	x->nlist = 0;
	x->caplist = 0;
	x->snapshot_id = ice_new_snapshot_id();
	int64_t target = ice_table_prop_int(base, "commit.manifest.target-size-bytes", 8 << 20);
	if (target < 1024)
		target = 1024;
	ice_manifest_file *mf = NULL;
	size_t n = 0;
	if ((rc = ice_table_snapshot_manifests(t, cur, x->arena, &mf, &n, err)))
		goto done;
	for (size_t i = 0; i < n; i++)
		if (mf[i].partition_spec_id < 0)
			mf[i].partition_spec_id = 0;
	/* small data manifests, grouped by spec; delete manifests (content 1)
	 * and large ones are carried over unchanged */
	if (n > 0)
		qsort(mf, n, sizeof *mf, manifest_cmp_spec);
	bool *redo = floe_arena_calloc(x->arena, n + 1, sizeof *redo);
	if (!redo) {
		rc = oom(err);
		goto done;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i, small = 0;
		while (j < n && mf[j].partition_spec_id == mf[i].partition_spec_id) {
			if (mf[j].content == ICE_CONTENT_DATA && mf[j].manifest_length >= 0 &&
			    mf[j].manifest_length < target)
				small++;
			j++;
		}
		if (small >= 2)
			for (size_t k = i; k < j; k++)
				redo[k] = mf[k].content == ICE_CONTENT_DATA && mf[k].manifest_length >= 0 &&
				          mf[k].manifest_length < target;
		i = j;
	}
	const ice_manifest_file **pick = floe_arena_calloc(x->arena, n + 1, sizeof *pick);
	if (!pick) {
		rc = oom(err);
		goto done;
	}
	for (size_t i = 0; i < n && !rc;) {
		size_t j = i, npick = 0;
		while (j < n && mf[j].partition_spec_id == mf[i].partition_spec_id) {
			if (redo[j])
				pick[npick++] = &mf[j];
			j++;
		}
		i = j;
		ice_manifest_file *made = NULL;
		size_t nmade = 0;
		if (npick == 0 ||
		    (rc = ice_mmerge_write(t, base, pick, npick, target, x->snapshot_id, &x->sink, x->arena,
		                           &made, &nmade, err)))
			continue;
		for (size_t k = 0; k < nmade && !rc; k++)
			rc = push_list(x, &made[k], err);
	}
	if (rc)
		goto done;
	if (x->sink.replaced == 0) {
		x->nothing = true;
		goto done;
	}
	for (size_t i = 0; i < n && !rc; i++)
		if (!redo[i]) {
			rc = push_list(x, &mf[i], err);
			x->sink.kept++;
		}
	if (rc)
		goto done;
	x->have = true;
	x->base_snapshot = cur->snapshot_id;
done:
	return rc;
}

static int rewrite_update(void *vctx, const floe_table *t, const ice_table_metadata *base,
                          int attempt, floe_arena *arena, ice_table_metadata **out,
                          floe_error *err)
{
	rewrite_ctx *x = vctx;
	x->list_path[0] = 0;
	const ice_snapshot *cur = ice_metadata_current_snapshot(base);
	if (!cur) {
		x->nothing = true;
		return floe_error_set(err, FLOE_EINVALID, "no snapshot");
	}
	if (!x->have || x->base_snapshot != cur->snapshot_id) {
		/* first attempt, or a concurrent commit moved the table: plan again
		 * from its current snapshot */
		rewrite_drop_written(x);
		int rc = rewrite_plan(x, t, base, cur, err);
		if (rc)
			return rc;
		if (x->nothing)
			return floe_error_set(err, FLOE_EINVALID, "nothing to rewrite");
	}
	const ice_kv *extra = NULL;
	int nextra = 0;
	int rc = ice_mmerge_summary(&x->sink, arena, &extra, &nextra, err);
	if (rc)
		return rc;
	ice_snapshot_change c;
	memset(&c, 0, sizeof c);
	c.operation = "replace";
	c.snapshot_id = x->snapshot_id;
	c.extra = extra;
	c.nextra = nextra;
	return ice_commit_snapshot(t, base, &c, x->list, x->nlist, attempt, x->list_path,
	                           sizeof x->list_path, arena, out, err);
}

static void rewrite_cleanup(void *vctx)
{
	rewrite_ctx *x = vctx;
	if (x->list_path[0])
		unlink(x->list_path);
	x->list_path[0] = 0;
}

int floe_table_rewrite_manifests_ex(floe_table *t, floe_rewrite_result *res, floe_error *err)
{
	floe_rewrite_result local;
	if (!res)
		res = &local;
	memset(res, 0, sizeof *res);
	res->snapshot_id = -1;
	if (!t->cat)
		return floe_error_set(err, FLOE_EINVALID,
		                      "%s was opened from a metadata file and is read-only", t->ident);
	rewrite_ctx x;
	memset(&x, 0, sizeof x);
	x.arena = floe_arena_new(0);
	if (!x.arena)
		return oom(err);
	int rc = floe_table_refresh(t, err);
	if (!rc)
		rc = ice_table_commit(t, rewrite_update, rewrite_cleanup, &x, err);
	if (rc && x.nothing) {
		floe_error_clear(err);
		rc = 0;
		const ice_snapshot *cur = ice_metadata_current_snapshot(t->meta);
		res->snapshot_id = cur ? cur->snapshot_id : -1;
		rewrite_drop_written(&x);
		goto done;
	}
	if (rc == FLOE_ECOMMIT_UNKNOWN) {
		/* the new manifests may be live: keep them */
		ice_paths_forget(&x.written, false);
		goto done;
	}
	if (rc) {
		rewrite_drop_written(&x);
		goto done;
	}
	res->snapshot_id = x.snapshot_id;
	res->manifests_replaced = x.sink.replaced;
	res->manifests_created = x.sink.created;
	res->manifests_kept = x.sink.kept;
	res->entries = x.sink.entries;
	ice_paths_forget(&x.written, false);
done:
	floe_arena_free(x.arena);
	return rc;
}

int floe_table_rewrite_manifests(floe_table *t, floe_error *err)
{
	return floe_table_rewrite_manifests_ex(t, NULL, err);
}
