/* iceberg/table_mmerge.c - merging small manifests. The live entries of
 * some manifests of one partition spec and content are rewritten, sorted
 * by partition value, into manifests of about the target size, as
 * EXISTING entries with their snapshot ids and sequence numbers (DELETED
 * entries belong only to the snapshot that deleted the file and are
 * dropped). Used by `floe rewrite-manifests` and by every commit that adds
 * manifests, once a spec has commit.manifest.min-count-to-merge of them
 * (docs/upkeep.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "iceberg/table_int.h"
#include "util/fs.h"

#define PATH_BUF 4096

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

int ice_paths_note(void *paths, const char *path, floe_error *err)
{
	ice_paths *p = paths;
	char **v = realloc(p->v, (p->n + 1) * sizeof *v);
	if (!v)
		return oom(err);
	p->v = v;
	if (!(v[p->n] = strdup(path)))
		return oom(err);
	p->n++;
	return 0;
}

void ice_paths_forget(ice_paths *p, bool remove)
{
	for (size_t i = 0; i < p->n; i++) {
		if (remove)
			unlink(p->v[i]);
		free(p->v[i]);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const ice_manifest_entry *x = a, *y = b;
	int c = ice_partition_compare(x->file.partition, x->file.npartition, y->file.partition,
	                              y->file.npartition);
	return c ? c : strcmp(x->file.file_path, y->file.file_path);
}

int ice_mmerge_write(const floe_table *t, const ice_table_metadata *base,
                     const ice_manifest_file *const *in, size_t n, int64_t target,
                     int64_t snapshot_id, ice_mmerge_sink *sink, floe_arena *arena,
                     ice_manifest_file **out, size_t *nout, floe_error *err)
{
	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	const ice_partition_spec *spec = ice_metadata_spec(base, in[0]->partition_spec_id);
	if (!spec)
		return floe_error_set(err, FLOE_ECORRUPT, "%s: manifest %s names partition spec %d, "
		                      "which the metadata lacks", t->ident, in[0]->manifest_path,
		                      in[0]->partition_spec_id);
	const ice_schema *schema = ice_metadata_current_schema(base);
	floe_type *ptypes = NULL;
	int rc = ice_partition_types(spec, schema, arena, &ptypes, err);
	if (rc)
		return rc;
	char dir[PATH_BUF], local_dir[PATH_BUF];
	int dlen = snprintf(dir, sizeof dir, "%s/metadata", base->location);
	if (dlen < 0 || (size_t)dlen >= sizeof dir - 64 ||
	    !ice_table_local_path(t, dir, local_dir, sizeof local_dir))
		return floe_error_set(err, FLOE_EINVALID, "table location too long");
	floe_arena *scratch = floe_arena_new(0);
	if (!scratch)
		return oom(err);
	ice_manifest_entry *all = NULL;
	size_t nall = 0, capall = 0;
	double bytes = 0; /* lengths come from the files: no integer overflow */
	for (size_t k = 0; k < n && !rc; k++) {
		char local[PATH_BUF];
		if (!ice_table_local_path(t, in[k]->manifest_path, local, sizeof local)) {
			rc = floe_error_set(err, FLOE_EINVALID, "path too long: %s", in[k]->manifest_path);
			break;
		}
		ice_manifest_entry *e = NULL;
		size_t ne = 0;
		if ((rc = ice_manifest_read(in[k], local, base, scratch, &e, &ne, err)))
			break;
		bytes += in[k]->manifest_length > 0 ? (double)in[k]->manifest_length : 0;
		sink->replaced++;
		sink->entries += (int64_t)ne;
		for (size_t q = 0; q < ne; q++) {
			if (e[q].status == ICE_STATUS_DELETED)
				continue;
			if (nall == capall) {
				size_t cap = capall ? capall * 2 : 256;
				ice_manifest_entry *v = floe_arena_alloc(scratch, cap * sizeof *v);
				if (!v) {
					rc = oom(err);
					break;
				}
				if (nall)
					memcpy(v, all, nall * sizeof *v);
				all = v;
				capall = cap;
			}
			all[nall] = e[q];
			all[nall].status = ICE_STATUS_EXISTING;
			all[nall].file.spec_id = spec->spec_id;
			nall++;
		}
	}
	if (rc)
		goto done;
	if (nall > 0)
		qsort(all, nall, sizeof *all, entry_cmp);
	/* entries per manifest from the bytes each took in the inputs */
	double est = nall && bytes > 0 ? (double)target / (bytes / (double)nall) : (double)nall;
	int64_t per = est >= (double)nall ? (int64_t)nall : est < 1 ? 1 : (int64_t)est;
	if (per < 1)
		per = 1;
	size_t nman = nall ? (nall + (size_t)per - 1) / (size_t)per : 0;
	ice_manifest_file *res = floe_arena_calloc(arena, nman + 1, sizeof *res);
	if (!res) {
		rc = oom(err);
		goto done;
	}
	size_t made = 0;
	for (size_t s = 0; s < nall;) {
		size_t cnt = nall - s < (size_t)per ? nall - s : (size_t)per;
		char uuid[37], path[PATH_BUF];
		floe_uuid4(uuid);
		int wlen = snprintf(path, sizeof path, "%s/%s-r%zu.avro", local_dir, uuid, made);
		if (wlen < 0 || (size_t)wlen >= sizeof path) {
			rc = floe_error_set(err, FLOE_EINVALID, "table location too long");
			break;
		}
		if ((rc = sink->note(sink->ctx, path, err)))
			break;
		ice_manifest_write_info info;
		memset(&info, 0, sizeof info);
		info.schema = schema;
		info.spec = spec;
		info.partition_types = ptypes;
		info.content = in[0]->content;
		info.snapshot_id = snapshot_id;
		info.sequence_number = -1;
		ice_manifest_file *o = &res[made];
		if ((rc = ice_manifest_write(path, &info, all + s, cnt, arena, o, err)))
			break;
		/* the list names it in the table's own form of the location */
		char named[PATH_BUF];
		int nlen = snprintf(named, sizeof named, "%s/%s", dir, strrchr(path, '/') + 1);
		if (nlen < 0 || (size_t)nlen >= sizeof named) {
			rc = floe_error_set(err, FLOE_EINVALID, "table location too long");
			break;
		}
		if (!(o->manifest_path = floe_arena_strdup(arena, named))) {
			rc = oom(err);
			break;
		}
		o->sequence_number = -1;
		made++;
		sink->created++;
		s += cnt;
	}
	if (!rc && made)
		rc = floe_fs_fsync_dir(local_dir, err);
	if (!rc) {
		*out = res;
		*nout = made;
	}
done:
	floe_arena_free(scratch);
	return rc;
}

static bool prop_enabled(const ice_table_metadata *m, const char *key)
{
	const char *v = ice_metadata_property(m, key);
	return !v || strcasecmp(v, "false") != 0;
}

/* manifests of one group: same content and partition spec */
static bool same_group(const ice_manifest_file *a, const ice_manifest_file *b)
{
	return a->content == b->content && a->partition_spec_id == b->partition_spec_id;
}

static bool mergeable(const ice_manifest_file *mf, int64_t target)
{
	return mf->sequence_number >= 0 && mf->manifest_length >= 0 && mf->manifest_length < target;
}

int ice_mmerge_commit(const floe_table *t, const ice_table_metadata *base, int64_t snapshot_id,
                      const ice_manifest_file *list, size_t n, ice_mmerge_sink *sink,
                      floe_arena *arena, ice_manifest_file **out, size_t *nout, floe_error *err)
{
	*out = (ice_manifest_file *)list;
	*nout = n;
	if (!prop_enabled(base, "commit.manifest-merge.enabled"))
		return 0;
	int64_t min_count = ice_table_prop_int(base, "commit.manifest.min-count-to-merge", 100);
	int64_t target = ice_table_prop_int(base, "commit.manifest.target-size-bytes", 8 << 20);
	if (target < 1024)
		target = 1024;
	if (min_count < 2)
		min_count = 2;
	if ((int64_t)n < min_count)
		return 0;
	/* group[i]: index of the first manifest of i's group */
	size_t *group = floe_arena_alloc(arena, (n + 1) * sizeof *group);
	const ice_manifest_file **pick = floe_arena_alloc(arena, (n + 1) * sizeof *pick);
	bool *merged = floe_arena_calloc(arena, n + 1, sizeof *merged);
	ice_manifest_file *res = floe_arena_calloc(arena, n + 1, sizeof *res);
	if (!group || !pick || !merged || !res)
		return oom(err);
	for (size_t i = 0; i < n; i++) {
		group[i] = i;
		for (size_t j = 0; j < i; j++)
			if (group[j] == j && same_group(&list[j], &list[i])) {
				group[i] = j;
				break;
			}
	}
	size_t nres = 0;
	for (size_t i = 0; i < n; i++)
		if (list[i].sequence_number < 0)
			res[nres++] = list[i]; /* this commit's own manifests first */
	bool any = false;
	for (size_t g = 0; g < n; g++) {
		if (group[g] != g)
			continue;
		int64_t count = 0;
		size_t npick = 0;
		for (size_t i = g; i < n; i++) {
			if (group[i] != g)
				continue;
			count++;
			if (mergeable(&list[i], target))
				pick[npick++] = &list[i];
		}
		/* a spec without its partition types in the current schema is
		 * left as it is: merging is an optimization, never a failure */
		const ice_partition_spec *spec = ice_metadata_spec(base, list[g].partition_spec_id);
		floe_type *ptypes = NULL;
		floe_error e2;
		if (count < min_count || npick < 2 || !spec ||
		    ice_partition_types(spec, ice_metadata_current_schema(base), arena, &ptypes, &e2))
			continue;
		ice_manifest_file *made = NULL;
		size_t nmade = 0;
		int rc = ice_mmerge_write(t, base, pick, npick, target, snapshot_id, sink, arena, &made,
		                          &nmade, err);
		if (rc)
			return rc;
		ice_manifest_file *grown = floe_arena_calloc(arena, nres + nmade + n + 1, sizeof *grown);
		if (!grown)
			return oom(err);
		memcpy(grown, res, nres * sizeof *res);
		memcpy(grown + nres, made, nmade * sizeof *made);
		res = grown;
		nres += nmade;
		for (size_t k = 0; k < npick; k++)
			merged[pick[k] - list] = true;
		any = true; /* (manifests holding only DELETED entries merge into none) */
	}
	if (!any)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (list[i].sequence_number >= 0 && !merged[i]) {
			res[nres++] = list[i];
			sink->kept++;
		}
	*out = res;
	*nout = nres;
	return 0;
}

int ice_mmerge_summary(const ice_mmerge_sink *sink, floe_arena *arena, const ice_kv **extra,
                       int *nextra, floe_error *err)
{
	if (sink->created == 0 && sink->replaced == 0)
		return 0;
	const struct {
		const char *key;
		int64_t v;
	} kv[] = {
		/* spec "Optional Snapshot Summary Fields" */
		{ "manifests-created", sink->created },
		{ "manifests-kept", sink->kept },
		{ "manifests-replaced", sink->replaced },
		{ "entries-processed", sink->entries },
	};
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
		char s[24];
		snprintf(s, sizeof s, "%lld", (long long)kv[i].v);
		int rc = ice_summary_extra_set(arena, extra, nextra, kv[i].key, s, err);
		if (rc)
			return rc;
	}
	return 0;
}
