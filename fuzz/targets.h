/* fuzz/targets.h - bodies of the Avro and Iceberg fuzz targets, shared by the
 * libFuzzer entry points in fuzz/ and tests/iceberg/test_fuzz_regressions_iceberg.c. */
#ifndef FLOE_FUZZ_TARGETS_H
#define FLOE_FUZZ_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "floe/avro.h"
#include "iceberg/manifest.h"
#include "iceberg/metadata.h"

/* Caps keep one input's work bounded (libFuzzer's -timeout catches the rest). */
#define FT_MAX_RECORDS 100000
#define FT_MAX_DEPTH 200

/* Outcome of one input. `first` is 0 or the first error any step returned;
 * `bad` names the first step whose error is not one hostile bytes may cause
 * (only FLOE_ECORRUPT and FLOE_EUNSUPPORTED, with a message, are); `bug` is
 * set when an invariant that holds for every accepted input fails. */
typedef struct ft_result {
	int first;
	const char *bad;
	int bad_rc;
	const char *bug;
	floe_error err; /* the error of `bad` or `bug`, else of `first` */
} ft_result;

static inline void ft_init(ft_result *res)
{
	memset(res, 0, sizeof(*res));
}

/* Record the result `rc` of `step` (0 or negative; positive counts as 0);
 * `also` is one more allowed code (0 for none). */
static inline void ft_note_also(ft_result *res, const char *step, int rc, int also,
                                const floe_error *err)
{
	if (rc >= 0)
		return;
	bool ok = (rc == FLOE_ECORRUPT || rc == FLOE_EUNSUPPORTED || (also && rc == also)) &&
	          err->msg[0] != '\0';
	if (!res->first) {
		res->first = rc;
		if (!res->bad && !res->bug)
			res->err = *err;
	}
	if (!ok && !res->bad) {
		res->bad = step;
		res->bad_rc = rc;
		res->err = *err;
	}
}

static inline void ft_note(ft_result *res, const char *step, int rc, const floe_error *err)
{
	ft_note_also(res, step, rc, 0, err);
}

static inline void ft_bug(ft_result *res, const char *what, const floe_error *err)
{
	if (res->bug)
		return;
	res->bug = what;
	if (err)
		res->err = *err;
	else
		memset(&res->err, 0, sizeof(res->err));
}

/* Touch every byte of a decoded value tree so the sanitizers see each read. */
static inline uint64_t ft_touch_avro(const floe_avro_value *v, int depth)
{
	uint64_t sink = 0;

	if (!v || depth > FT_MAX_DEPTH)
		return 0;
	sink += (uint64_t)v->kind + (uint64_t)v->i + (uint64_t)v->n;
	for (size_t k = 0; v->bytes && k < v->len; k++)
		sink += v->bytes[k];
	switch (v->kind) {
	case FLOE_AVRO_RECORD:
	case FLOE_AVRO_ARRAY:
	case FLOE_AVRO_MAP:
		for (size_t k = 0; k < v->n; k++) {
			sink += ft_touch_avro(&v->items[k], depth + 1);
			if (v->kind == FLOE_AVRO_MAP)
				sink += ft_touch_avro(&v->keys[k], depth + 1);
		}
		break;
	case FLOE_AVRO_UNION:
		sink += ft_touch_avro(v->items, depth + 1);
		sink += (uint64_t)floe_avro_value_unwrap(v)->kind;
		break;
	default:
		break;
	}
	return sink;
}

static inline uint64_t ft_touch_mem(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t sink = 0;

	for (size_t k = 0; b && k < len; k++)
		sink += b[k];
	return sink;
}

static inline uint64_t ft_touch_str(const char *s)
{
	return s ? ft_touch_mem(s, strlen(s)) : 0;
}

/* ---- avro: the OCF reader, and the schema parser on the bytes as JSON -- */

static inline void ft_avro(const uint8_t *data, size_t size, ft_result *res)
{
	floe_avro_reader *r = NULL;
	floe_arena *arena = floe_arena_new(0);
	floe_error err;
	volatile uint64_t sink = 0;
	int rc;

	ft_init(res);
	if (!arena)
		return;
	/* the bytes as schema text (most inputs are not JSON: errors expected;
	 * the text is the caller's argument, so FLOE_EINVALID is allowed) */
	const floe_avro_schema *s = NULL;
	rc = floe_avro_schema_parse(&s, arena, (const char *)data, size, &err);
	ft_note_also(res, "floe_avro_schema_parse", rc, FLOE_EINVALID, &err);
	res->first = 0; /* the OCF outcome is what `first` reports */
	floe_arena_reset(arena);

	rc = floe_avro_reader_open_mem(&r, data, size, "fuzz", &err);
	ft_note(res, "floe_avro_reader_open_mem", rc, &err);
	if (rc)
		goto done;
	size_t jlen = 0;
	const char *json = floe_avro_reader_schema_json(r, &jlen);
	sink += ft_touch_mem(json, jlen) + ft_touch_str(floe_avro_reader_codec(r));
	for (size_t k = 0; k < floe_avro_reader_meta_count(r); k++) {
		const char *key = NULL;
		const uint8_t *val = NULL;
		size_t vlen = 0;
		floe_avro_reader_meta_at(r, k, &key, &val, &vlen);
		sink += ft_touch_str(key) + ft_touch_mem(val, vlen + 1);
	}
	/* the stored schema text parses again on its own */
	if (json) {
		rc = floe_avro_schema_parse(&s, arena, json, jlen, &err);
		if (rc)
			ft_bug(res, "avro.schema accepted by the reader fails to parse again", &err);
		floe_arena_reset(arena);
	}
	const floe_avro_schema *rs = floe_avro_reader_schema(r);
	if (rs && rs->kind == FLOE_AVRO_RECORD)
		for (size_t k = 0; k < rs->nfields; k++) {
			sink += (floe_avro_field_by_name(rs, rs->fields[k].name, NULL) != NULL);
			if (rs->fields[k].has_field_id)
				sink += (floe_avro_field_by_id(rs, rs->fields[k].field_id, NULL) != NULL);
		}
	for (int n = 0; n < FT_MAX_RECORDS; n++) {
		const floe_avro_value *v = NULL;
		floe_arena_reset(arena); /* one record at a time */
		rc = floe_avro_reader_next(r, arena, &v, &err);
		if (rc != 1) {
			ft_note(res, "floe_avro_reader_next", rc, &err);
			break;
		}
		sink += ft_touch_avro(v, 0);
		if (rs && rs->kind == FLOE_AVRO_RECORD && rs->nfields > 0) {
			const floe_avro_value *f = floe_avro_value_field(rs, v, rs->fields[0].name);
			int64_t x = 0;
			if (f && floe_avro_value_int64(f, &x) == 0)
				sink += (uint64_t)x;
		}
	}
done:
	(void)sink;
	floe_avro_reader_free(r);
	floe_arena_free(arena);
}

/* ---- table metadata: parse; what parses must write and parse again, and
 * the second write must equal the first -------------------------------- */

/* The lookups over a parsed table, and each schema written as JSON and
 * parsed again (which must succeed). */
static inline void ft_metadata_lookups(const ice_table_metadata *m, floe_arena *arena,
                                       ft_result *res)
{
	volatile uint64_t sink = 0;
	floe_error err;
	char path[256];

	sink += (ice_metadata_current_schema(m) != NULL) + (ice_metadata_default_spec(m) != NULL);
	sink += (ice_metadata_current_snapshot(m) != NULL) + (ice_metadata_ref(m, "main") != NULL);
	sink += ft_touch_str(ice_metadata_property(m, "write.format.default"));
	const ice_snapshot *snap = NULL;
	if (ice_metadata_snapshot_as_of(m, m->last_updated_ms, &snap, &err) == 0 && snap)
		sink += ft_touch_str(ice_snapshot_summary(snap, "operation"));
	for (int k = 0; k < m->nsnapshots; k++)
		sink += (ice_metadata_snapshot(m, m->snapshots[k].snapshot_id) != NULL);
	for (int k = 0; k < m->nspecs; k++) {
		char *json = NULL;
		if (ice_spec_fields_to_json(&json, &m->specs[k], &err) == 0)
			sink += ft_touch_str(json);
		free(json);
	}
	for (int k = 0; k < m->nschemas; k++) {
		const ice_schema *sc = &m->schemas[k];
		int32_t max = ice_schema_max_id(sc);
		for (int32_t id = 0; id <= max && id < 1000; id++)
			sink += (ice_schema_find_id(sc, id, path, (int)sizeof(path)) != NULL);
		for (int j = 0; j < sc->nfields; j++)
			sink += (ice_schema_find_name(sc, sc->fields[j].name) != NULL);
		floe_schema *fs = NULL;
		if (ice_schema_to_floe(&fs, sc, arena, &err) == 0 && fs)
			sink += (uint64_t)fs->nfields;
		char *json = NULL;
		if (ice_schema_to_json(&json, sc, &err) == 0) {
			ice_schema *back = NULL;
			if (ice_schema_parse_json(&back, arena, json, strlen(json), &err) != 0)
				ft_bug(res, "a schema written as JSON does not parse again", &err);
		}
		free(json);
	}
	(void)sink;
}

static inline void ft_metadata(const uint8_t *data, size_t size, ft_result *res)
{
	floe_arena *arena = floe_arena_new(0), *arena2 = floe_arena_new(0);
	ice_table_metadata *m = NULL, *m2 = NULL;
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;
	floe_error err;
	int rc;

	ft_init(res);
	if (!arena || !arena2)
		goto done;
	rc = ice_metadata_parse(&m, arena, (const char *)data, size, "fuzz.metadata.json", &err);
	ft_note(res, "ice_metadata_parse", rc, &err);
	if (rc)
		goto done;
	ft_metadata_lookups(m, arena2, res);
	floe_arena_reset(arena2);
	/* EINVALID: the model lacks what v2 requires (e.g. a v1 table without
	 * table-uuid); the writer refuses rather than inventing it */
	rc = ice_metadata_write(&out, &len, m, &err);
	if (rc == FLOE_EINVALID)
		goto done;
	if (rc) {
		ft_bug(res, "ice_metadata_write fails on parsed metadata", &err);
		goto done;
	}
	rc = ice_metadata_parse(&m2, arena2, out, len, "rewritten.metadata.json", &err);
	if (rc) {
		ft_bug(res, "written metadata does not parse again", &err);
		goto done;
	}
	rc = ice_metadata_write(&out2, &len2, m2, &err);
	if (rc) {
		ft_bug(res, "re-parsed metadata cannot be written", &err);
		goto done;
	}
	if (len != len2 || memcmp(out, out2, len) != 0)
		ft_bug(res, "metadata write -> parse -> write changes the JSON", NULL);
done:
	free(out);
	free(out2);
	floe_arena_free(arena);
	floe_arena_free(arena2);
}

/* ---- manifests: the bytes as a manifest list and as a manifest; `first`
 * is 0 when either reading succeeds ------------------------------------- */

/* A path naming an in-memory file holding the bytes (memfd, else a file in
 * /dev/shm); *fd receives the descriptor to close. NULL on failure. */
static inline const char *ft_mem_path(char *path, size_t cap, const uint8_t *data, size_t size,
                                      int *fd)
{
	*fd = -1;
#ifdef SYS_memfd_create
	*fd = (int)syscall(SYS_memfd_create, "floe-fuzz", 0u);
#endif
	if (*fd >= 0) {
		snprintf(path, cap, "/proc/self/fd/%d", *fd);
	} else {
		snprintf(path, cap, "/dev/shm/floe-fuzz-%ld", (long)getpid());
		*fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (*fd < 0)
			return NULL;
	}
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(*fd, data + off, size - off);
		if (w <= 0) {
			close(*fd);
			*fd = -1;
			return NULL;
		}
		off += (size_t)w;
	}
	return path;
}

static inline uint64_t ft_touch_entry(const ice_manifest_entry *e)
{
	const ice_data_file *f = &e->file;
	uint64_t sink = (uint64_t)e->status + (uint64_t)e->snapshot_id +
	                (uint64_t)e->sequence_number + (uint64_t)e->file_sequence_number;

	sink += ft_touch_str(f->file_path) + ft_touch_str(f->file_format) +
	        ft_touch_str(f->referenced_data_file);
	sink += (uint64_t)f->record_count + (uint64_t)f->file_size_in_bytes;
	for (int k = 0; k < f->npartition; k++) {
		const ice_datum *d = &f->partition[k];
		sink += (uint64_t)d->is_null + (uint64_t)d->v.i;
		if (!d->is_null && d->v.bytes && d->v.len > 0)
			sink += ft_touch_mem(d->v.bytes, (size_t)d->v.len);
	}
	for (int k = 0; k < f->nmetrics; k++) {
		const ice_column_metrics *c = &f->metrics[k];
		sink += (uint64_t)c->field_id + (uint64_t)c->value_count + (uint64_t)c->null_count;
		sink += ft_touch_mem(c->lower, c->lower_len) + ft_touch_mem(c->upper, c->upper_len);
	}
	for (int k = 0; k < f->nsplit_offsets; k++)
		sink += (uint64_t)f->split_offsets[k];
	for (int k = 0; k < f->nequality_ids; k++)
		sink += (uint64_t)f->equality_ids[k];
	sink += ft_touch_mem(f->key_metadata, f->key_metadata_len);
	return sink;
}

static inline void ft_manifest(const uint8_t *data, size_t size, ft_result *res)
{
	floe_arena *arena = floe_arena_new(0);
	char path[64];
	floe_error err;
	volatile uint64_t sink = 0;
	int fd = -1, rc;

	ft_init(res);
	if (!arena)
		return;
	if (!ft_mem_path(path, sizeof(path), data, size, &fd))
		goto done;

	ice_manifest_file *list = NULL;
	size_t n = 0;
	rc = ice_manifest_list_read(path, arena, &list, &n, &err);
	ft_note(res, "ice_manifest_list_read", rc, &err);
	int list_rc = rc;
	for (size_t k = 0; rc == 0 && k < n; k++) {
		const ice_manifest_file *mf = &list[k];
		sink += ft_touch_str(mf->manifest_path) + (uint64_t)mf->added_snapshot_id;
		sink += ft_touch_mem(mf->key_metadata, mf->key_metadata_len);
		for (int j = 0; mf->partitions && j < mf->npartitions; j++) {
			const ice_field_summary *fs = &mf->partitions[j];
			sink += (uint64_t)fs->contains_null + (uint64_t)fs->contains_nan;
			sink += ft_touch_mem(fs->lower, fs->lower_len) +
			        ft_touch_mem(fs->upper, fs->upper_len);
		}
	}
	floe_arena_reset(arena);

	/* as a manifest with no table metadata: partition types come from the
	 * file's Avro schema; spec id -1 lets the file's metadata pick it */
	ice_manifest_file mf;
	memset(&mf, 0, sizeof(mf));
	mf.manifest_path = path;
	mf.manifest_length = (int64_t)size;
	mf.partition_spec_id = -1;
	mf.sequence_number = 7;
	mf.min_sequence_number = 7;
	mf.added_snapshot_id = 42;
	mf.added_files_count = -1;
	mf.existing_files_count = -1;
	mf.deleted_files_count = -1;
	ice_manifest_entry *entries = NULL;
	size_t ne = 0;
	rc = ice_manifest_read(&mf, NULL, NULL, arena, &entries, &ne, &err);
	ft_note(res, "ice_manifest_read", rc, &err);
	for (size_t k = 0; rc == 0 && k < ne; k++)
		sink += ft_touch_entry(&entries[k]);
	if (list_rc == 0 || rc == 0) /* the bytes read as one of the two */
		res->first = 0;
done:
	(void)sink;
	if (fd >= 0) {
		close(fd);
		if (strncmp(path, "/dev/shm/", 9) == 0)
			unlink(path);
	}
	floe_arena_free(arena);
}

#endif
