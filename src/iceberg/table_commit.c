/* iceberg/table_commit.c - a new snapshot on top of a base metadata: the
 * manifest list written, the snapshot with the spec's summary counters
 * (running totals carried from the parent), the snapshot log and the main
 * branch moved. Shared by appends, row-level changes and upkeep. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iceberg/table_int.h"
#include "util/fs.h"

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

static int64_t summary_int(const ice_snapshot *s, const char *key, bool *ok)
{
	const char *v = s ? ice_snapshot_summary(s, key) : NULL;
	if (!v) {
		*ok = false;
		return 0;
	}
	char *end;
	long long x = strtoll(v, &end, 10);
	if (*end)
		*ok = false;
	return x;
}

static int add_kv(floe_arena *arena, ice_kv *kv, int *n, const char *key, int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRId64, v);
	kv[*n].key = key;
	kv[*n].value = floe_arena_strdup(arena, buf);
	if (!kv[*n].value)
		return FLOE_ENOMEM;
	(*n)++;
	return 0;
}

/* The summary: operation, the counters of this change that are not zero
 * (added-data-files ... changed-partition-count), then the totals when the
 * parent has them all (or there is no parent), then extra entries. */
static int build_summary(const ice_snapshot *parent, const ice_snapshot_change *c,
                         floe_arena *arena, ice_kv **out, int *nout)
{
	ice_kv *sum = floe_arena_calloc(arena, 32 + (size_t)c->nextra, sizeof *sum);
	if (!sum)
		return FLOE_ENOMEM;
	int n = 0;
	sum[n].key = "operation";
	sum[n++].value = c->operation;
	const struct {
		const char *key;
		int64_t v;
	} d[] = {
		{ "added-data-files", c->added_data_files },
		{ "deleted-data-files", c->removed_data_files },
		{ "added-delete-files", c->added_delete_files },
		{ "removed-delete-files", c->removed_delete_files },
		{ "added-records", c->added_records },
		{ "deleted-records", c->removed_records },
		{ "added-files-size", c->added_size },
		{ "removed-files-size", c->removed_size },
		{ "added-position-deletes", c->added_pos_deletes },
		{ "removed-position-deletes", c->removed_pos_deletes },
		{ "added-equality-deletes", c->added_eq_deletes },
		{ "removed-equality-deletes", c->removed_eq_deletes },
		{ "changed-partition-count", c->changed_partitions },
	};
	for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
		if (d[i].v && add_kv(arena, sum, &n, d[i].key, d[i].v))
			return FLOE_ENOMEM;
	bool ok = true;
	int64_t trec = summary_int(parent, "total-records", &ok);
	int64_t tsize = summary_int(parent, "total-files-size", &ok);
	int64_t tfiles = summary_int(parent, "total-data-files", &ok);
	int64_t tdel = summary_int(parent, "total-delete-files", &ok);
	int64_t tpos = summary_int(parent, "total-position-deletes", &ok);
	int64_t teq = summary_int(parent, "total-equality-deletes", &ok);
	if (!parent)
		ok = true;
	if (ok && (add_kv(arena, sum, &n, "total-records", trec + c->added_records - c->removed_records) ||
	           add_kv(arena, sum, &n, "total-files-size", tsize + c->added_size - c->removed_size) ||
	           add_kv(arena, sum, &n, "total-data-files",
	                  tfiles + c->added_data_files - c->removed_data_files) ||
	           add_kv(arena, sum, &n, "total-delete-files",
	                  tdel + c->added_delete_files - c->removed_delete_files) ||
	           add_kv(arena, sum, &n, "total-position-deletes",
	                  tpos + c->added_pos_deletes - c->removed_pos_deletes) ||
	           add_kv(arena, sum, &n, "total-equality-deletes",
	                  teq + c->added_eq_deletes - c->removed_eq_deletes)))
		return FLOE_ENOMEM;
	for (int i = 0; i < c->nextra; i++)
		sum[n++] = c->extra[i];
	*out = sum;
	*nout = n;
	return 0;
}

int ice_commit_snapshot(const floe_table *t, const ice_table_metadata *base,
                        const ice_snapshot_change *c, const ice_manifest_file *list, size_t n,
                        int attempt, char *list_path, size_t list_path_size, floe_arena *arena,
                        ice_table_metadata **out, floe_error *err)
{
	(void)t;
	list_path[0] = 0;
	ice_table_metadata *nm = floe_arena_alloc(arena, sizeof *nm);
	if (!nm)
		return oom(err);
	*nm = *base;
	int64_t seq = base->last_sequence_number + 1;
	const ice_snapshot *parent = ice_metadata_current_snapshot(base);
	char uuid[37];
	floe_uuid4(uuid);
	int w = snprintf(list_path, list_path_size, "%s/metadata/snap-%" PRId64 "-%d-%s.avro",
	                 base->location, c->snapshot_id, attempt + 1, uuid);
	if (w < 0 || (size_t)w >= list_path_size) {
		list_path[0] = 0;
		return floe_error_set(err, FLOE_EINVALID, "table location too long");
	}
	int rc = ice_manifest_list_write(list_path, c->snapshot_id, parent != NULL,
	                                 parent ? parent->snapshot_id : -1, seq, list, n, err);
	if (rc) {
		unlink(list_path);
		list_path[0] = 0;
		return rc;
	}
	ice_snapshot *snaps = floe_arena_calloc(arena, (size_t)base->nsnapshots + 1, sizeof *snaps);
	ice_snapshot_log_entry *log = floe_arena_calloc(arena, (size_t)base->nsnapshot_log + 1, sizeof *log);
	ice_ref *refs = floe_arena_calloc(arena, (size_t)base->nrefs + 1, sizeof *refs);
	char *lp = floe_arena_strdup(arena, list_path);
	if (!snaps || !log || !refs || !lp)
		return oom(err);
	if (base->nsnapshots > 0)
		memcpy(snaps, base->snapshots, (size_t)base->nsnapshots * sizeof *snaps);
	ice_snapshot *s = &snaps[base->nsnapshots];
	s->snapshot_id = c->snapshot_id;
	s->has_parent = parent != NULL;
	s->parent_id = parent ? parent->snapshot_id : 0;
	s->sequence_number = seq;
	int64_t now = floe_now_ms();
	int64_t last = base->nsnapshot_log ? base->snapshot_log[base->nsnapshot_log - 1].timestamp_ms : 0;
	s->timestamp_ms = now > last ? now : last + 1;
	s->manifest_list = lp;
	s->has_schema_id = true;
	s->schema_id = base->current_schema_id;
	if (build_summary(parent, c, arena, &s->summary, &s->nsummary))
		return oom(err);
	nm->snapshots = snaps;
	nm->nsnapshots = base->nsnapshots + 1;
	nm->last_sequence_number = seq;
	nm->has_current_snapshot = true;
	nm->current_snapshot_id = c->snapshot_id;
	if (base->nsnapshot_log > 0)
		memcpy(log, base->snapshot_log, (size_t)base->nsnapshot_log * sizeof *log);
	log[base->nsnapshot_log].timestamp_ms = s->timestamp_ms;
	log[base->nsnapshot_log].snapshot_id = c->snapshot_id;
	nm->snapshot_log = log;
	nm->nsnapshot_log = base->nsnapshot_log + 1;
	int nr = 0;
	bool have_main = false;
	for (int i = 0; i < base->nrefs; i++) {
		refs[nr] = base->refs[i];
		if (strcmp(refs[nr].name, "main") == 0) {
			refs[nr].snapshot_id = c->snapshot_id;
			have_main = true;
		}
		nr++;
	}
	if (!have_main) {
		refs[nr].name = "main";
		refs[nr].snapshot_id = c->snapshot_id;
		refs[nr].is_tag = false;
		refs[nr].max_ref_age_ms = -1;
		refs[nr].max_snapshot_age_ms = -1;
		refs[nr].min_snapshots_to_keep = -1;
		nr++;
	}
	nm->refs = refs;
	nm->nrefs = nr;
	*out = nm;
	return 0;
}
