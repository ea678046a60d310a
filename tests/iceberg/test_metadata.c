/* tests/iceberg/test_metadata.c - Iceberg table metadata model: the interop
 * corpus (Java test files, tables of other engines), v2 round trips, hostile
 * input, deep copies, time travel and schema lookups. */
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "iceberg/metadata.h"
#include "harness.h"

static const char *interop(const char *sub)
{
	static char buf[8][1024];
	static int slot;
	char *p = buf[slot++ % 8];
	snprintf(p, 1024, "%s/testdata/iceberg-interop/%s", th_shared(), sub);
	return p;
}

static int parse_text(ice_table_metadata **m, floe_arena *a, const char *text, floe_error *e)
{
	return ice_metadata_parse(m, a, text, strlen(text), "t.json", e);
}

/* ---- (1) standalone metadata files of apache/iceberg and duckdb-iceberg ----
 * Expectations from the file names and the Java TableMetadataParser rules
 * (spec "Table Metadata Fields": which fields each format version requires). */
static const struct {
	const char *file;
	int rc;
	const char *why;
	const char *needle; /* in the error message (rejected files) */
} CORPUS[] = {
	{ "apache-iceberg/TableMetadataPartitionStatisticsFiles.json", 0, "v2 with partition stats",
	  NULL },
	{ "apache-iceberg/TableMetadataStatisticsFiles.json", 0, "v2 with statistics", NULL },
	{ "apache-iceberg/TableMetadataUnsupportedVersion.json", FLOE_EUNSUPPORTED,
	  "format-version 42", "format-version 42" },
	{ "apache-iceberg/TableMetadataV1MissingSchemaType.json", FLOE_ECORRUPT,
	  "schema without \"type\": \"struct\"", "\"type\": \"struct\"" },
	{ "apache-iceberg/TableMetadataV1Valid.json", 0, "v1", NULL },
	{ "apache-iceberg/TableMetadataV2CurrentSchemaNotFound.json", FLOE_ECORRUPT,
	  "current-schema-id 7 absent", "current-schema-id" },
	/* The two "MissingLastAssigned*" files are byte-identical to
	 * V2MissingSchemas: v2 with only the v1 "schema" field. */
	{ "apache-iceberg/TableMetadataV2MissingLastAssignedFieldId.json", FLOE_ECORRUPT,
	  "v2 without schemas", "'schemas'" },
	{ "apache-iceberg/TableMetadataV2MissingLastAssignedPartitionId.json", FLOE_ECORRUPT,
	  "v2 without schemas", "'schemas'" },
	{ "apache-iceberg/TableMetadataV2MissingLastPartitionId.json", FLOE_ECORRUPT,
	  "v2 without last-partition-id", "'last-partition-id'" },
	{ "apache-iceberg/TableMetadataV2MissingPartitionSpecs.json", FLOE_ECORRUPT,
	  "v2 without partition-specs", "'partition-specs'" },
	{ "apache-iceberg/TableMetadataV2MissingSchemas.json", FLOE_ECORRUPT, "v2 without schemas",
	  "'schemas'" },
	{ "apache-iceberg/TableMetadataV2MissingSortOrder.json", FLOE_ECORRUPT,
	  "v2 without sort-orders", "'sort-orders'" },
	{ "apache-iceberg/TableMetadataV2PartitionStatisticsFiles.json", 0, "v2", NULL },
	{ "apache-iceberg/TableMetadataV2StatisticsFiles.json", 0, "v2", NULL },
	{ "apache-iceberg/TableMetadataV2Valid.json", 0, "v2", NULL },
	{ "apache-iceberg/TableMetadataV2ValidMinimal.json", 0, "v2 minimal", NULL },
	{ "apache-iceberg/TableMetadataV3CurrentSchemaNotFound.json", FLOE_ECORRUPT,
	  "current-schema-id absent", "current-schema-id" },
	{ "apache-iceberg/TableMetadataV3MissingLastPartitionId.json", FLOE_ECORRUPT,
	  "v3 without last-partition-id", "'last-partition-id'" },
	{ "apache-iceberg/TableMetadataV3MissingNextRowId.json", FLOE_ECORRUPT,
	  "v3 without next-row-id", "'next-row-id'" },
	{ "apache-iceberg/TableMetadataV3MissingPartitionSpecs.json", FLOE_ECORRUPT,
	  "v3 without partition-specs", "'partition-specs'" },
	{ "apache-iceberg/TableMetadataV3MissingSchemas.json", FLOE_ECORRUPT,
	  "v3 without schemas", "'schemas'" },
	{ "apache-iceberg/TableMetadataV3MissingSortOrder.json", FLOE_ECORRUPT,
	  "v3 without sort-orders", "'sort-orders'" },
	/* These two v3 files predate next-row-id becoming required in v3 (the
	 * spec's field table and Java's parser now require it): rejected. */
	{ "apache-iceberg/TableMetadataV3PartitionStatisticsFiles.json", FLOE_ECORRUPT,
	  "v3 without next-row-id", "'next-row-id'" },
	{ "apache-iceberg/TableMetadataV3StatisticsFiles.json", FLOE_ECORRUPT,
	  "v3 without next-row-id", "'next-row-id'" },
	{ "apache-iceberg/TableMetadataV3RowLineageEnabled.json", 0, "v3, v2-shaped", NULL },
	{ "apache-iceberg/TableMetadataV3Valid.json", 0, "v3, v2-shaped", NULL },
	{ "apache-iceberg/TableMetadataV3ValidMinimal.json", 0, "v3, v2-shaped", NULL },
	{ "apache-iceberg/TableMetadataV4RelativeManifestList.json", FLOE_EUNSUPPORTED,
	  "format-version 4", "format-version 4" },
	{ "duckdb-iceberg/bad_iceberg_metadata.json", FLOE_ECORRUPT,
	  "newline-delimited JSON, not one object", "end of file expected" },
};

static int corpus_expect(const char *rel)
{
	for (size_t i = 0; i < sizeof CORPUS / sizeof CORPUS[0]; i++)
		if (strcmp(CORPUS[i].file, rel) == 0)
			return (int)i;
	return -1;
}

TEST(ice_meta_corpus_standalone_files)
{
	const char *dirs[] = { "apache-iceberg", "duckdb-iceberg" };
	int seen = 0;
	for (int d = 0; d < 2; d++) {
		char dir[1100];
		snprintf(dir, sizeof dir, "%s/%s", interop("metadata"), dirs[d]);
		DIR *dp = opendir(dir);
		REQUIRE(dp != NULL);
		struct dirent *de;
		while ((de = readdir(dp)) != NULL) {
			size_t n = strlen(de->d_name);
			if (n < 5 || strcmp(de->d_name + n - 5, ".json") != 0)
				continue;
			char rel[512], path[1700];
			snprintf(rel, sizeof rel, "%s/%s", dirs[d], de->d_name);
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			int k = corpus_expect(rel);
			if (k < 0) {
				th_fail(__FILE__, __LINE__, "%s has no expectation in CORPUS", rel);
				continue;
			}
			seen++;
			floe_arena *a = floe_arena_new(0);
			ice_table_metadata *m = NULL;
			floe_error e = { 0 };
			int rc = ice_metadata_read_file(&m, a, path, &e);
			if (rc != CORPUS[k].rc)
				th_fail(__FILE__, __LINE__, "%s (%s): rc %d, want %d: %s", rel,
				        CORPUS[k].why, rc, CORPUS[k].rc, e.msg);
			if (rc == FLOE_ECORRUPT)
				CHECK(strstr(e.msg, path) != NULL);
			if (rc != 0 && CORPUS[k].needle && !strstr(e.msg, CORPUS[k].needle))
				th_fail(__FILE__, __LINE__, "%s: message '%s' lacks '%s'", rel, e.msg,
				        CORPUS[k].needle);
			CHECK((rc == 0) == (m != NULL));
			floe_arena_free(a);
		}
		closedir(dp);
	}
	CHECK_EQ_INT(seen, (int)(sizeof CORPUS / sizeof CORPUS[0]));
}

TEST(ice_meta_v2_valid_fields)
{
	floe_arena *a = floe_arena_new(0);
	ice_table_metadata *m = NULL;
	floe_error e = { 0 };
	REQUIRE_OK(ice_metadata_read_file(&m, a,
	                                  interop("metadata/apache-iceberg/TableMetadataV2Valid.json"),
	                                  &e),
	           &e);
	/* Values as printed in the Java test file. */
	CHECK_EQ_INT(m->format_version, 2);
	CHECK_EQ_STR(m->table_uuid, "9c12d441-03fe-4693-9a96-a0705ddf69c1");
	CHECK_EQ_INT(m->last_sequence_number, 34);
	CHECK_EQ_INT(m->nschemas, 2);
	CHECK_EQ_INT(m->current_schema_id, 1);
	const ice_schema *s = ice_metadata_current_schema(m);
	REQUIRE(s != NULL);
	CHECK_EQ_INT(s->nidentifier, 2);
	CHECK_EQ_STR(s->fields[1].doc, "comment");
	CHECK(s->fields[0].doc == NULL);
	CHECK_EQ_INT(m->nsnapshots, 2);
	CHECK_EQ_INT(m->current_snapshot_id, 3055729675574597004LL);
	const ice_snapshot *cur = ice_metadata_current_snapshot(m);
	REQUIRE(cur != NULL);
	CHECK(cur->has_parent);
	CHECK_EQ_INT(cur->parent_id, 3051729675574597004LL);
	CHECK_EQ_INT(cur->sequence_number, 1);
	CHECK(cur->has_schema_id);
	CHECK_EQ_STR(ice_snapshot_summary(cur, "operation"), "append");
	CHECK_EQ_STR(m->snapshots[0].summary[0].key, "operation");
	const ice_ref *main_ref = ice_metadata_ref(m, "main");
	REQUIRE(main_ref != NULL);
	CHECK(!main_ref->is_tag);
	CHECK_EQ_INT(main_ref->snapshot_id, m->current_snapshot_id);
	CHECK_EQ_INT(m->nsort_orders, 1);
	CHECK_EQ_INT(m->default_sort_order_id, 3);
	CHECK_EQ_INT(m->sort_orders[0].nfields, 2);
	CHECK(!m->sort_orders[0].fields[0].descending);
	CHECK(m->sort_orders[0].fields[0].nulls_first);
	CHECK(m->sort_orders[0].fields[1].descending);
	CHECK_EQ_INT(m->sort_orders[0].fields[1].transform.kind, ICE_T_BUCKET);
	CHECK_EQ_INT(m->sort_orders[0].fields[1].transform.param, 4);
	CHECK_EQ_INT(m->specs[0].fields[0].field_id, 1000);
	CHECK_EQ_INT(m->nproperties, 0);
	floe_arena_free(a);

	/* v3 parsed where it is v2-shaped (TableMetadataV3Valid.json). */
	a = floe_arena_new(0);
	REQUIRE_OK(ice_metadata_read_file(&m, a,
	                                  interop("metadata/apache-iceberg/TableMetadataV3Valid.json"),
	                                  &e),
	           &e);
	CHECK_EQ_INT(m->format_version, 3);
	CHECK_EQ_STR(ice_metadata_property(m, "property"), "value");
	CHECK(ice_metadata_property(m, "Property") == NULL);
	CHECK_EQ_INT(m->nrefs, 3);
	REQUIRE(ice_metadata_ref(m, "previous") != NULL);
	CHECK(ice_metadata_ref(m, "previous")->is_tag);
	CHECK(!ice_metadata_ref(m, "test")->is_tag);
	CHECK_EQ_INT(ice_metadata_ref(m, "test")->max_ref_age_ms, -1);
	CHECK(m->statistics_json != NULL && strstr(m->statistics_json, "file.puffin") != NULL);
	CHECK(m->partition_statistics_json != NULL);
	CHECK_EQ_INT(m->default_spec_id, 5);
	CHECK_EQ_INT(m->last_partition_id, 999);
	floe_arena_free(a);
}

TEST(ice_meta_v1_defaults)
{
	floe_arena *a = floe_arena_new(0);
	ice_table_metadata *m = NULL;
	floe_error e = { 0 };
	REQUIRE_OK(ice_metadata_read_file(&m, a,
	                                  interop("metadata/apache-iceberg/TableMetadataV1Valid.json"),
	                                  &e),
	           &e);
	CHECK_EQ_INT(m->format_version, 1);
	CHECK_EQ_INT(m->nschemas, 1);
	CHECK_EQ_INT(m->current_schema_id, 0);
	CHECK_EQ_INT(m->nspecs, 1);
	CHECK_EQ_INT(m->default_spec_id, 0);
	CHECK_EQ_INT(m->last_sequence_number, 0);
	CHECK_EQ_INT(m->nsort_orders, 1); /* the unsorted order 0 */
	CHECK_EQ_INT(m->sort_orders[0].nfields, 0);
	CHECK(!m->has_current_snapshot);
	CHECK_EQ_INT(m->nrefs, 0);
	floe_arena_free(a);

	/* v1 partition fields without ids get 1000, 1001 (Appendix C). */
	const char *v1 =
		"{\"format-version\":1,\"location\":\"/t\",\"last-updated-ms\":1,"
		"\"last-column-id\":2,\"schema\":{\"type\":\"struct\",\"fields\":["
		"{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"int\"},"
		"{\"id\":2,\"name\":\"b\",\"required\":false,\"type\":\"string\"}]},"
		"\"partition-spec\":[{\"name\":\"a\",\"transform\":\"identity\",\"source-id\":1},"
		"{\"name\":\"b_t\",\"transform\":\"truncate[3]\",\"source-id\":2}],"
		"\"current-snapshot-id\":5,\"snapshots\":[{\"snapshot-id\":5,\"timestamp-ms\":9,"
		"\"manifests\":[\"/t/m1.avro\",\"/t/m2.avro\"]}]}";
	a = floe_arena_new(0);
	REQUIRE_OK(parse_text(&m, a, v1, &e), &e);
	CHECK_EQ_INT(m->specs[0].fields[0].field_id, 1000);
	CHECK_EQ_INT(m->specs[0].fields[1].field_id, 1001);
	CHECK_EQ_INT(m->last_partition_id, 1001);
	CHECK(m->table_uuid == NULL);
	CHECK_EQ_INT(m->snapshots[0].nmanifests, 2);
	CHECK(m->snapshots[0].manifest_list == NULL);
	/* "There is always a main branch reference pointing to the
	 * current-snapshot-id even if the refs map is null" (spec). */
	REQUIRE(ice_metadata_ref(m, "main") != NULL);
	CHECK_EQ_INT(ice_metadata_ref(m, "main")->snapshot_id, 5);
	floe_arena_free(a);
}

/* ---- (2) current metadata of every table in tables/ (INDEX.md) ---------- */

typedef struct index_row {
	char folder[512];
	char metadata[512];
	int version, snaps, schemas, specs;
} index_row;

/* Split one INDEX.md table row into cells (trimmed, backticks removed). */
static int split_row(char *line, char **cells, int max)
{
	int n = 0;
	char *p = line;
	if (*p != '|')
		return 0;
	p++;
	while (*p && n < max) {
		char *end = strchr(p, '|');
		if (!end)
			break;
		*end = '\0';
		while (*p == ' ')
			p++;
		char *q = end;
		while (q > p && (q[-1] == ' ' || q[-1] == '\n'))
			*--q = '\0';
		cells[n++] = p;
		p = end + 1;
	}
	return n;
}

static void strip_ticks(char *dst, size_t cap, const char *src)
{
	const char *a = strchr(src, '`');
	const char *b = a ? strchr(a + 1, '`') : NULL;
	if (a && b)
		snprintf(dst, cap, "%.*s", (int)(b - a - 1), a + 1);
	else
		snprintf(dst, cap, "%s", src);
}

static int read_index(index_row *rows, int max)
{
	char path[1100];
	snprintf(path, sizeof path, "%s", interop("INDEX.md"));
	char *text = th_read_file(path, NULL);
	if (!text)
		return -1;
	int n = 0;
	bool in_tables = false;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "## tables/", 10) == 0)
			in_tables = true;
		else if (strncmp(line, "## ", 3) == 0)
			in_tables = false;
		if (!in_tables || strncmp(line, "| `", 3) != 0)
			continue;
		char *cells[20];
		int nc = split_row(line, cells, 20);
		if (nc < 14)
			continue;
		index_row *r = &rows[n++];
		strip_ticks(r->folder, sizeof r->folder, cells[0]);
		strip_ticks(r->metadata, sizeof r->metadata, cells[13]);
		r->version = atoi(cells[2]);
		r->snaps = atoi(cells[4]);
		r->schemas = atoi(cells[5]);
		r->specs = 1;
		for (const char *c = cells[6]; *c; c++)
			r->specs += *c == ';';
	}
	free(text);
	return n;
}

/* Every "snapshot-id" / "current-snapshot-id" / "parent-snapshot-id"
 * number in the raw text must print back identically from the model. */
static void check_raw_ids(const char *text, const ice_table_metadata *m, const char *what)
{
	static const char *keys[] = { "\"snapshot-id\"", "\"parent-snapshot-id\"",
		                      "\"current-snapshot-id\"" };
	for (int k = 0; k < 3; k++) {
		for (const char *p = strstr(text, keys[k]); p; p = strstr(p + 1, keys[k])) {
			const char *q = p + strlen(keys[k]);
			while (*q == ' ' || *q == ':' || *q == '\n' || *q == '\t' || *q == '\r')
				q++;
			char digits[32];
			int nd = 0;
			if (*q == '-' && nd < 30)
				digits[nd++] = *q++;
			while (*q >= '0' && *q <= '9' && nd < 30)
				digits[nd++] = *q++;
			digits[nd] = '\0';
			if (nd == 0 || strcmp(digits, "-1") == 0)
				continue;
			/* ids in [2^63, 2^64) are held as their two's complement bits */
			bool found = false;
			char buf[32];
			unsigned long long u = strtoull(digits, NULL, 10);
			if (digits[0] != '-' && u > (unsigned long long)INT64_MAX) {
				int64_t want = (int64_t)u;
				for (int i = 0; i < m->nsnapshots && !found; i++)
					found = m->snapshots[i].snapshot_id == want;
				for (int i = 0; i < m->nrefs && !found; i++)
					found = m->refs[i].snapshot_id == want;
				if (!found)
					th_fail(__FILE__, __LINE__, "%s: unsigned id %s not held", what,
					        digits);
				continue;
			}
			for (int i = 0; i < m->nsnapshots && !found; i++) {
				snprintf(buf, sizeof buf, "%lld", (long long)m->snapshots[i].snapshot_id);
				found = strcmp(buf, digits) == 0;
				if (!found && m->snapshots[i].has_parent) {
					snprintf(buf, sizeof buf, "%lld",
					         (long long)m->snapshots[i].parent_id);
					found = strcmp(buf, digits) == 0;
				}
			}
			for (int i = 0; i < m->nsnapshot_log && !found; i++) {
				snprintf(buf, sizeof buf, "%lld", (long long)m->snapshot_log[i].snapshot_id);
				found = strcmp(buf, digits) == 0;
			}
			for (int i = 0; i < m->nrefs && !found; i++) {
				snprintf(buf, sizeof buf, "%lld", (long long)m->refs[i].snapshot_id);
				found = strcmp(buf, digits) == 0;
			}
			if (!found)
				th_fail(__FILE__, __LINE__, "%s: id %s of the raw text is not in the model",
				        what, digits);
		}
	}
}

/* The text of a file, gunzipped when it starts with the gzip magic. */
static char *file_text(const char *path)
{
	size_t len = 0;
	char *raw = th_read_file(path, &len);
	if (!raw || len < 2 || (unsigned char)raw[0] != 0x1f || (unsigned char)raw[1] != 0x8b)
		return raw;
	free(raw);
	char *out = NULL;
	th_run(&out, "gzip -dc '%s'", path);
	return out;
}

TEST(ice_meta_corpus_tables_index)
{
	static index_row rows[200];
	int n = read_index(rows, 200);
	REQUIRE(n > 30);
	int gz = 0, big = 0;
	for (int i = 0; i < n; i++) {
		char path[1200];
		if (snprintf(path, sizeof path, "%s/%s/%s", interop("tables"), rows[i].folder,
		             rows[i].metadata) >= (int)sizeof path) {
			th_fail(__FILE__, __LINE__, "path too long: %s", rows[i].folder);
			continue;
		}
		floe_arena *a = floe_arena_new(0);
		ice_table_metadata *m = NULL;
		floe_error e = { 0 };
		int rc = ice_metadata_read_file(&m, a, path, &e);
		if (rc != 0) {
			th_fail(__FILE__, __LINE__, "%s: %s", rows[i].folder, e.msg);
			floe_arena_free(a);
			continue;
		}
		if (m->format_version != rows[i].version || m->nsnapshots != rows[i].snaps ||
		    m->nschemas != rows[i].schemas || m->nspecs != rows[i].specs)
			th_fail(__FILE__, __LINE__,
			        "%s: v%d snaps %d schemas %d specs %d; INDEX.md says v%d %d %d %d",
			        rows[i].folder, m->format_version, m->nsnapshots, m->nschemas,
			        m->nspecs, rows[i].version, rows[i].snaps, rows[i].schemas,
			        rows[i].specs);
		char *text = file_text(path);
		if (text) {
			check_raw_ids(text, m, rows[i].folder);
			free(text);
		} else {
			th_fail(__FILE__, __LINE__, "%s: cannot read the raw text", path);
		}
		if (strstr(rows[i].metadata, ".gz.")) {
			gz++;
			CHECK_EQ_INT(m->nsnapshots, 1);
		}
		for (int k = 0; k < m->nsnapshots; k++)
			big += m->snapshots[k].snapshot_id > (1LL << 53);
		floe_arena_free(a);
	}
	CHECK_EQ_INT(gz, 2); /* lineitem_iceberg_gz and lineitem_iceberg_gz_no_hint */
	CHECK(big > 0);      /* ids above 2^53 were met and compared exactly */
}

/* ---- (3) round trip ------------------------------------------------------ */

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

#define RT_CHECK(c)                                                              \
	do {                                                                     \
		if (!(c)) {                                                      \
			th_fail(__FILE__, __LINE__, "%s: round trip differs: %s", what, #c); \
			return false;                                            \
		}                                                                \
	} while (0)

static bool same_type(const ice_type *a, const ice_type *b, const char *what);

static bool same_field(const ice_field *a, const ice_field *b, const char *what)
{
	RT_CHECK(a->id == b->id);
	RT_CHECK(same_str(a->name, b->name));
	RT_CHECK(a->required == b->required);
	RT_CHECK(same_str(a->doc, b->doc));
	RT_CHECK(same_str(a->initial_default_json, b->initial_default_json));
	RT_CHECK(same_str(a->write_default_json, b->write_default_json));
	return same_type(a->type, b->type, what);
}

static bool same_type(const ice_type *a, const ice_type *b, const char *what)
{
	RT_CHECK(a && b && a->kind == b->kind);
	switch (a->kind) {
	case ICE_PRIMITIVE:
		RT_CHECK(a->prim.id == b->prim.id && a->prim.precision == b->prim.precision &&
		         a->prim.scale == b->prim.scale && a->prim.width == b->prim.width);
		return true;
	case ICE_STRUCT:
		RT_CHECK(a->nfields == b->nfields);
		for (int i = 0; i < a->nfields; i++)
			if (!same_field(&a->fields[i], &b->fields[i], what))
				return false;
		return true;
	case ICE_LIST:
		return same_field(&a->element, &b->element, what);
	case ICE_MAP:
		return same_field(&a->key, &b->key, what) && same_field(&a->value, &b->value, what);
	}
	return false;
}

static bool same_transform(const ice_transform *a, const ice_transform *b)
{
	char x[64], y[64];
	return a->kind == b->kind && a->param == b->param &&
	       strcmp(ice_transform_format(a, x, 64), ice_transform_format(b, y, 64)) == 0;
}

static bool same_kv(const ice_kv *a, int na, const ice_kv *b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (!same_str(a[i].key, b[i].key) || !same_str(a[i].value, b[i].value))
			return false;
	return true;
}

/* Equal JSON text up to formatting (statistics kept as text). */
static bool same_json(const char *a, const char *b)
{
	if (!a || !b)
		return !a && !b;
	json_t *x = json_loads(a, 0, NULL), *y = json_loads(b, 0, NULL);
	bool eq = x && y && json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return eq;
}

static bool same_metadata(const ice_table_metadata *a, const ice_table_metadata *b,
                          const char *what)
{
	RT_CHECK(b->format_version == 2);
	RT_CHECK(same_str(a->table_uuid, b->table_uuid));
	RT_CHECK(same_str(a->location, b->location));
	RT_CHECK(a->last_sequence_number == b->last_sequence_number);
	RT_CHECK(a->last_updated_ms == b->last_updated_ms);
	RT_CHECK(a->last_column_id == b->last_column_id);
	RT_CHECK(a->nschemas == b->nschemas && a->current_schema_id == b->current_schema_id);
	for (int i = 0; i < a->nschemas; i++) {
		const ice_schema *x = &a->schemas[i], *y = &b->schemas[i];
		RT_CHECK(x->schema_id == y->schema_id && x->nfields == y->nfields);
		RT_CHECK(x->nidentifier == y->nidentifier);
		for (int k = 0; k < x->nidentifier; k++)
			RT_CHECK(x->identifier_field_ids[k] == y->identifier_field_ids[k]);
		for (int k = 0; k < x->nfields; k++)
			if (!same_field(&x->fields[k], &y->fields[k], what))
				return false;
	}
	RT_CHECK(a->nspecs == b->nspecs && a->default_spec_id == b->default_spec_id);
	RT_CHECK(a->last_partition_id == b->last_partition_id);
	for (int i = 0; i < a->nspecs; i++) {
		RT_CHECK(a->specs[i].spec_id == b->specs[i].spec_id);
		RT_CHECK(a->specs[i].nfields == b->specs[i].nfields);
		for (int k = 0; k < a->specs[i].nfields; k++) {
			const ice_partition_field *x = &a->specs[i].fields[k];
			const ice_partition_field *y = &b->specs[i].fields[k];
			RT_CHECK(x->source_id == y->source_id && x->field_id == y->field_id);
			RT_CHECK(same_str(x->name, y->name));
			RT_CHECK(same_transform(&x->transform, &y->transform));
		}
	}
	RT_CHECK(a->nsort_orders == b->nsort_orders);
	RT_CHECK(a->default_sort_order_id == b->default_sort_order_id);
	for (int i = 0; i < a->nsort_orders; i++) {
		RT_CHECK(a->sort_orders[i].order_id == b->sort_orders[i].order_id);
		RT_CHECK(a->sort_orders[i].nfields == b->sort_orders[i].nfields);
		for (int k = 0; k < a->sort_orders[i].nfields; k++) {
			const ice_sort_field *x = &a->sort_orders[i].fields[k];
			const ice_sort_field *y = &b->sort_orders[i].fields[k];
			RT_CHECK(x->source_id == y->source_id && x->descending == y->descending &&
			         x->nulls_first == y->nulls_first);
			RT_CHECK(same_transform(&x->transform, &y->transform));
		}
	}
	RT_CHECK(same_kv(a->properties, a->nproperties, b->properties, b->nproperties));
	RT_CHECK(a->has_current_snapshot == b->has_current_snapshot);
	RT_CHECK(a->current_snapshot_id == b->current_snapshot_id);
	RT_CHECK(a->nsnapshots == b->nsnapshots);
	for (int i = 0; i < a->nsnapshots; i++) {
		const ice_snapshot *x = &a->snapshots[i], *y = &b->snapshots[i];
		RT_CHECK(x->snapshot_id == y->snapshot_id && x->has_parent == y->has_parent);
		RT_CHECK(!x->has_parent || x->parent_id == y->parent_id);
		RT_CHECK(x->sequence_number == y->sequence_number);
		RT_CHECK(x->timestamp_ms == y->timestamp_ms);
		RT_CHECK(same_str(x->manifest_list, y->manifest_list));
		RT_CHECK(x->nmanifests == y->nmanifests);
		for (int k = 0; k < x->nmanifests; k++)
			RT_CHECK(same_str(x->manifests[k], y->manifests[k]));
		RT_CHECK(same_kv(x->summary, x->nsummary, y->summary, y->nsummary));
		RT_CHECK(x->has_schema_id == y->has_schema_id);
		RT_CHECK(!x->has_schema_id || x->schema_id == y->schema_id);
	}
	RT_CHECK(a->nrefs == b->nrefs);
	for (int i = 0; i < a->nrefs; i++) {
		const ice_ref *x = &a->refs[i], *y = ice_metadata_ref(b, a->refs[i].name);
		RT_CHECK(y != NULL);
		RT_CHECK(x->snapshot_id == y->snapshot_id && x->is_tag == y->is_tag);
		RT_CHECK(x->max_ref_age_ms == y->max_ref_age_ms);
		RT_CHECK(x->max_snapshot_age_ms == y->max_snapshot_age_ms);
		RT_CHECK(x->min_snapshots_to_keep == y->min_snapshots_to_keep);
	}
	RT_CHECK(a->nsnapshot_log == b->nsnapshot_log);
	for (int i = 0; i < a->nsnapshot_log; i++)
		RT_CHECK(a->snapshot_log[i].timestamp_ms == b->snapshot_log[i].timestamp_ms &&
		         a->snapshot_log[i].snapshot_id == b->snapshot_log[i].snapshot_id);
	RT_CHECK(a->nmetadata_log == b->nmetadata_log);
	for (int i = 0; i < a->nmetadata_log; i++)
		RT_CHECK(a->metadata_log[i].timestamp_ms == b->metadata_log[i].timestamp_ms &&
		         same_str(a->metadata_log[i].metadata_file, b->metadata_log[i].metadata_file));
	RT_CHECK(same_json(a->statistics_json, b->statistics_json));
	RT_CHECK(same_json(a->partition_statistics_json, b->partition_statistics_json));
	return true;
}

/* The spec's table-metadata field order (spec "Table Metadata Fields"). */
static const char *const FIELD_ORDER[] = {
	"format-version", "table-uuid", "location", "last-sequence-number", "last-updated-ms",
	"last-column-id", "schemas", "current-schema-id", "partition-specs", "default-spec-id",
	"last-partition-id", "properties", "current-snapshot-id", "snapshots", "snapshot-log",
	"metadata-log", "sort-orders", "default-sort-order-id", "refs", "statistics",
	"partition-statistics"
};

/* A deep copy (what a commit installs) of the file parsed again, taken
 * before the parse's arena is freed and its memory handed out anew: the
 * copy must equal `m1` and write the same bytes `out`. A pointer the copy
 * kept into the parse's memory is a use after free under the sanitizers. */
static void copy_one(const char *path, const char *what, const ice_table_metadata *m1,
                     const char *out, size_t len)
{
	floe_arena *pa = floe_arena_new(0), *ca = floe_arena_new(0);
	ice_table_metadata *pm = NULL, *cm = NULL;
	floe_error e = { 0 };
	char *cout = NULL;
	size_t clen = 0;
	REQUIRE(pa && ca);
	if (ice_metadata_read_file(&pm, pa, path, &e) != 0) {
		th_fail(__FILE__, __LINE__, "%s: %s", what, e.msg);
		goto done;
	}
	CHECK_EQ_INT(ice_metadata_copy(&cm, ca, pm), 0);
	floe_arena_free(pa);
	pa = NULL;
	if (!cm)
		goto done;
	/* fill what the parse held with other bytes before the copy is read */
	for (int i = 0; i < 64; i++) {
		char *junk = malloc(4096);
		if (junk)
			memset(junk, 0x5a, 4096);
		free(junk);
	}
	CHECK_EQ_INT(cm->format_version, m1->format_version);
	cm->format_version = 2; /* as a commit installs it; same_metadata asks for 2 */
	same_metadata(m1, cm, what);
	if (ice_metadata_write(&cout, &clen, cm, &e) != 0)
		th_fail(__FILE__, __LINE__, "%s: write of the copy: %s", what, e.msg);
	else if (clen != len || memcmp(cout, out, len) != 0)
		th_fail(__FILE__, __LINE__, "%s: the copy writes other bytes than the parse", what);
done:
	free(cout);
	floe_arena_free(pa);
	floe_arena_free(ca);
}

/* `text` is byte for byte what jansson writes for the document it holds. */
static bool same_as_jansson(const char *text, size_t flags)
{
	json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	char *again = doc ? json_dumps(doc, flags | JSON_PRESERVE_ORDER) : NULL;
	bool same = again && strcmp(again, text) == 0;
	free(again);
	json_decref(doc);
	return same;
}

static void roundtrip_one(const char *path, const char *what)
{
	floe_arena *a = floe_arena_new(0);
	ice_table_metadata *m1 = NULL, *m2 = NULL;
	floe_error e = { 0 };
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;
	if (ice_metadata_read_file(&m1, a, path, &e) != 0) {
		th_fail(__FILE__, __LINE__, "%s: %s", what, e.msg);
		goto done;
	}
	if (ice_metadata_write(&out, &len, m1, &e) != 0) {
		th_fail(__FILE__, __LINE__, "%s: write: %s", what, e.msg);
		goto done;
	}
	CHECK_EQ_INT(len, strlen(out));
	json_error_t jerr;
	json_t *doc = json_loadb(out, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		th_fail(__FILE__, __LINE__, "%s: written JSON is invalid: %s", what, jerr.text);
		goto done;
	}
	CHECK(json_integer_value(json_object_get(doc, "format-version")) == 2);
	/* Laid out exactly as jansson lays the same document out. */
	if (!same_as_jansson(out, JSON_INDENT(2)))
		th_fail(__FILE__, __LINE__, "%s: written JSON is not laid out as jansson does", what);
	/* Keys in the spec's order, every v2 required one present. */
	int last = -1;
	const char *key;
	json_t *v;
	json_object_foreach(doc, key, v) {
		int at = -1;
		for (int i = 0; i < (int)(sizeof FIELD_ORDER / sizeof FIELD_ORDER[0]); i++)
			if (strcmp(FIELD_ORDER[i], key) == 0)
				at = i;
		if (at <= last)
			th_fail(__FILE__, __LINE__, "%s: key '%s' out of the spec's order", what, key);
		last = at;
	}
	for (int i = 0; i < 11; i++)
		if (!json_object_get(doc, FIELD_ORDER[i]))
			th_fail(__FILE__, __LINE__, "%s: written JSON lacks %s", what, FIELD_ORDER[i]);
	CHECK(json_object_get(doc, "sort-orders") && json_object_get(doc, "default-sort-order-id"));
	if (m1->has_current_snapshot)
		CHECK(json_object_get(json_object_get(doc, "refs"), "main") != NULL);
	json_decref(doc);
	if (ice_metadata_parse(&m2, a, out, len, "written", &e) != 0) {
		th_fail(__FILE__, __LINE__, "%s: reparse: %s", what, e.msg);
		goto done;
	}
	same_metadata(m1, m2, what);
	/* Writing is deterministic: the second write gives the same bytes. */
	if (ice_metadata_write(&out2, &len2, m2, &e) == 0)
		CHECK(len2 == len && memcmp(out, out2, len) == 0);
	copy_one(path, what, m1, out, len);
done:
	free(out);
	free(out2);
	floe_arena_free(a);
}

TEST(ice_meta_roundtrip_v2_corpus)
{
	int count = 0;
	for (size_t i = 0; i < sizeof CORPUS / sizeof CORPUS[0]; i++) {
		if (CORPUS[i].rc != 0)
			continue;
		char path[1200];
		snprintf(path, sizeof path, "%s/%s", interop("metadata"), CORPUS[i].file);
		roundtrip_one(path, CORPUS[i].file);
		count++;
	}
	static index_row rows[200];
	int n = read_index(rows, 200);
	REQUIRE(n > 30);
	for (int i = 0; i < n; i++) {
		char path[1200];
		if (snprintf(path, sizeof path, "%s/%s/%s", interop("tables"), rows[i].folder,
		             rows[i].metadata) >= (int)sizeof path) {
			th_fail(__FILE__, __LINE__, "path too long: %s", rows[i].folder);
			continue;
		}
		roundtrip_one(path, rows[i].folder);
		count++;
	}
	CHECK(count > 40);
}

TEST(ice_meta_schema_and_spec_json)
{
	floe_arena *a = floe_arena_new(0);
	ice_table_metadata *m = NULL;
	floe_error e = { 0 };
	REQUIRE_OK(ice_metadata_read_file(&m, a,
	                                  interop("metadata/apache-iceberg/TableMetadataV2Valid.json"),
	                                  &e),
	           &e);
	char *js = NULL, *sp = NULL;
	REQUIRE_OK(ice_schema_to_json(&js, ice_metadata_current_schema(m), &e), &e);
	ice_schema *s = NULL;
	REQUIRE_OK(ice_schema_parse_json(&s, a, js, strlen(js), &e), &e);
	CHECK_EQ_INT(s->schema_id, 1);
	CHECK_EQ_INT(s->nfields, 3);
	CHECK_EQ_INT(s->nidentifier, 2);
	CHECK_EQ_STR(s->fields[1].doc, "comment");
	REQUIRE_OK(ice_spec_fields_to_json(&sp, ice_metadata_default_spec(m), &e), &e);
	json_t *arr = json_loads(sp, 0, NULL);
	REQUIRE(json_is_array(arr));
	CHECK_EQ_INT(json_array_size(arr), 1);
	json_t *f = json_array_get(arr, 0);
	CHECK_EQ_STR(json_string_value(json_object_get(f, "transform")), "identity");
	CHECK_EQ_INT(json_integer_value(json_object_get(f, "field-id")), 1000);
	CHECK_EQ_INT(json_integer_value(json_object_get(f, "source-id")), 1);
	/* both compact, as jansson writes them */
	CHECK(same_as_jansson(sp, JSON_COMPACT));
	CHECK(same_as_jansson(js, JSON_COMPACT));
	json_decref(arr);
	free(js);
	free(sp);
	floe_arena_free(a);
}

/* Strings that need escapes, non-ASCII text, keys given twice: the file
 * reads back to what was meant, laid out as jansson lays it out; a string
 * that is not UTF-8 is refused. */
TEST(ice_meta_write_strings_and_repeated_keys)
{
	floe_arena *a = floe_arena_new(0);
	ice_table_metadata *m = NULL, *back = NULL;
	floe_error e = { 0 };
	REQUIRE_OK(ice_metadata_read_file(&m, a,
	                                  interop("metadata/apache-iceberg/TableMetadataV2Valid.json"),
	                                  &e),
	           &e);
	static const char odd[] = "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88";
	ice_kv props[] = { { "a", "first" }, { odd, odd }, { "b", "x" }, { "a", "last" } };
	m->properties = props;
	m->nproperties = 4;
	char *out = NULL;
	size_t len = 0;
	REQUIRE_OK(ice_metadata_write(&out, &len, m, &e), &e);
	CHECK(same_as_jansson(out, JSON_INDENT(2)));
	REQUIRE_OK(ice_metadata_parse(&back, a, out, len, "written", &e), &e);
	CHECK_EQ_INT(back->nproperties, 3);
	if (back->nproperties == 3) {
		CHECK_EQ_STR(back->properties[0].key, "a");
		CHECK_EQ_STR(back->properties[0].value, "last");
		CHECK_EQ_STR(back->properties[1].key, odd);
		CHECK_EQ_STR(back->properties[1].value, odd);
		CHECK_EQ_STR(back->properties[2].key, "b");
	}
	free(out);
	static const char *const bad[] = { "\xff", "\xc0\xaf", "\xed\xa0\x80", "ok\xe2\x82" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ice_kv one = { "k", bad[i] };
		m->properties = &one;
		m->nproperties = 1;
		out = NULL;
		CHECK_EQ_INT(ice_metadata_write(&out, &len, m, &e), FLOE_EINVALID);
		CHECK(out == NULL);
		CHECK(strstr(e.msg, "UTF-8") != NULL);
	}
	floe_arena_free(a);
}

/* ---- (4) hostile input --------------------------------------------------- */

TEST(ice_meta_hostile_truncated)
{
	size_t len = 0;
	char *text = th_read_file(interop("metadata/apache-iceberg/TableMetadataV2Valid.json"), &len);
	REQUIRE(text != NULL);
	for (size_t cut = 0; cut < len - 1; cut++) {
		floe_arena *a = floe_arena_new(0);
		ice_table_metadata *m = NULL;
		floe_error e = { 0 };
		int rc = ice_metadata_parse(&m, a, text, cut, "cut.json", &e);
		if (rc != FLOE_ECORRUPT || m != NULL)
			th_fail(__FILE__, __LINE__, "cut at %zu: rc %d", cut, rc);
		floe_arena_free(a);
	}
	free(text);
}

/* Replace the first `from` in `base` by `to` (malloc'ed). */
static char *edit(const char *base, const char *from, const char *to)
{
	const char *p = strstr(base, from);
	if (!p)
		return NULL;
	size_t n = strlen(base) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);
	snprintf(out, n, "%.*s%s%s", (int)(p - base), base, to, p + strlen(from));
	return out;
}

TEST(ice_meta_hostile_wrong_types)
{
	char *base = th_read_file(interop("metadata/apache-iceberg/TableMetadataV2Valid.json"), NULL);
	REQUIRE(base != NULL);
	static const struct {
		const char *from, *to;
		int rc;
	} cases[] = {
		{ "\"format-version\": 2", "\"format-version\": \"2\"", FLOE_ECORRUPT },
		{ "\"format-version\": 2", "\"format-version\": 0", FLOE_ECORRUPT },
		{ "\"format-version\": 2", "\"format-version\": -2", FLOE_ECORRUPT },
		{ "\"format-version\": 2", "\"format-version\": 2.0", FLOE_ECORRUPT },
		{ "\"last-sequence-number\": 34", "\"last-sequence-number\": -34", FLOE_ECORRUPT },
		{ "\"last-column-id\": 3", "\"last-column-id\": 99999999999", FLOE_ECORRUPT },
		{ "\"current-snapshot-id\": 3055729675574597004",
		  "\"current-snapshot-id\": 30557296755745970040", FLOE_ECORRUPT },
		{ "\"current-snapshot-id\": 3055729675574597004", "\"current-snapshot-id\": 12",
		  FLOE_ECORRUPT },
		{ "\"current-snapshot-id\": 3055729675574597004",
		  "\"current-snapshot-id\": \"3055729675574597004\"", FLOE_ECORRUPT },
		{ "\"required\": true", "\"required\": \"yes\"", FLOE_ECORRUPT },
		{ "\"type\": \"long\"", "\"type\": \"longer\"", FLOE_ECORRUPT },
		{ "\"type\": \"long\"", "\"type\": \"json\"", FLOE_ECORRUPT },
		{ "\"type\": \"long\"", "\"type\": 7", FLOE_ECORRUPT },
		{ "\"type\": \"long\"", "\"type\": \"fixed[-1]\"", FLOE_ECORRUPT },
		{ "\"type\": \"long\"", "\"type\": \"decimal(-1,2)\"", FLOE_ECORRUPT },
		{ "\"type\": \"long\"", "\"type\": \"variant\"", FLOE_EUNSUPPORTED },
		{ "\"type\": \"long\"", "\"type\": \"unknown\"", FLOE_EUNSUPPORTED },
		{ "\"type\": \"long\"", "\"type\": \"Variant\"", FLOE_EUNSUPPORTED },
		{ "\"type\": \"long\"", "\"type\": \"JSON\"", FLOE_ECORRUPT },
		{ "\"type\": \"long\"", "\"type\": \"LONG\"", 0 },
		{ "\"type\": \"long\"", "\"type\": \"geometry(srid:4326)\"", FLOE_EUNSUPPORTED },
		{ "\"direction\": \"asc\"", "\"direction\": \"up\"", FLOE_ECORRUPT },
		{ "\"transform\": \"bucket[4]\"", "\"transform\": \"bucket[0]\"", FLOE_ECORRUPT },
		{ "\"sequence-number\": 1", "\"sequence-number\": -1", FLOE_ECORRUPT },
		{ "\"fields\": [", "\"fields\": -2, \"x\": [", FLOE_ECORRUPT },
		{ "\"null-order\": \"nulls-first\"", "\"null-order\": \"first\"", FLOE_ECORRUPT },
		{ "\"properties\": {}", "\"properties\": {\"a\": 5}", FLOE_ECORRUPT },
		{ "\"properties\": {}", "\"properties\": []", FLOE_ECORRUPT },
		{ "\"operation\": \"append\"", "\"operation\": [1]", FLOE_ECORRUPT },
		{ "\"schemas\": [", "\"schemas\": {\"a\":[", FLOE_ECORRUPT },
		{ "\"default-spec-id\": 0", "\"default-spec-id\": 9", FLOE_ECORRUPT },
		{ "\"default-sort-order-id\": 3", "\"default-sort-order-id\": 4", FLOE_ECORRUPT },
		{ "\"snapshots\": [", "\"snapshots\": 3, \"x\": [", FLOE_ECORRUPT },
		{ "\"location\": \"s3://bucket/test/location\",",
		  "\"location\": \"a\", \"location\": \"b\",", FLOE_ECORRUPT },
		{ "\"snapshot-log\": [", "\"snapshot-log\": [[],", FLOE_ECORRUPT },
		{ "\"identifier-field-ids\": [", "\"identifier-field-ids\": [99, ", FLOE_ECORRUPT },
		/* field ids unique in a schema; names unique in a struct */
		{ "\"id\": 3,", "\"id\": 2,", FLOE_ECORRUPT },
		{ "\"name\": \"z\"", "\"name\": \"y\"", FLOE_ECORRUPT },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *text = edit(base, cases[i].from, cases[i].to);
		if (!text) {
			th_fail(__FILE__, __LINE__, "case %zu: '%s' not in the file", i, cases[i].from);
			continue;
		}
		floe_arena *a = floe_arena_new(0);
		ice_table_metadata *m = NULL;
		floe_error e = { 0 };
		int rc = parse_text(&m, a, text, &e);
		if (rc != cases[i].rc || (m != NULL) != (rc == 0))
			th_fail(__FILE__, __LINE__, "case %zu (%s): rc %d want %d (%s)", i, cases[i].to,
			        rc, cases[i].rc, e.msg);
		else if (rc == FLOE_ECORRUPT && !strstr(e.msg, "t.json"))
			th_fail(__FILE__, __LINE__, "case %zu: message lacks the name: %s", i, e.msg);
		floe_arena_free(a);
		free(text);
	}
	/* Not an object at all; empty input. */
	floe_arena *a = floe_arena_new(0);
	ice_table_metadata *m = NULL;
	floe_error e = { 0 };
	CHECK_EQ_INT(parse_text(&m, a, "[1,2]", &e), FLOE_ECORRUPT);
	CHECK_EQ_INT(parse_text(&m, a, "", &e), FLOE_ECORRUPT);
	CHECK_EQ_INT(parse_text(&m, a, "{}", &e), FLOE_ECORRUPT);
	CHECK_EQ_INT(ice_metadata_parse(&m, a, NULL, 0, "null", &e), FLOE_ECORRUPT);
	floe_arena_free(a);
	free(base);
}

/* A schema with `depth` nested lists around a long. */
static char *nested_schema(int depth)
{
	size_t cap = (size_t)depth * 80 + 200;
	char *s = malloc(cap), *p = s;
	p += sprintf(p, "{\"type\":\"struct\",\"schema-id\":0,\"fields\":[{\"id\":1,\"name\":\"x\","
	                "\"required\":true,\"type\":");
	for (int i = 0; i < depth; i++)
		p += sprintf(p, "{\"type\":\"list\",\"element-id\":%d,\"element-required\":true,"
		                "\"element\":", i + 2);
	p += sprintf(p, "\"long\"");
	for (int i = 0; i < depth; i++)
		*p++ = '}';
	sprintf(p, "}]}");
	return s;
}

TEST(ice_meta_hostile_nesting_and_size)
{
	floe_arena *a = floe_arena_new(0);
	floe_error e = { 0 };
	ice_schema *s = NULL;
	char *ok = nested_schema(30), *deep = nested_schema(200), *deeper = nested_schema(100000);
	REQUIRE_OK(ice_schema_parse_json(&s, a, ok, strlen(ok), &e), &e);
	char path[64];
	CHECK(ice_schema_find_id(s, 31, path, sizeof path) != NULL); /* path truncated safely */
	CHECK_EQ_INT(ice_schema_max_id(s), 31);
	CHECK_EQ_INT(ice_schema_parse_json(&s, a, deep, strlen(deep), &e), FLOE_ECORRUPT);
	CHECK(strstr(e.msg, "nested") != NULL);
	CHECK_EQ_INT(ice_schema_parse_json(&s, a, deeper, strlen(deeper), &e), FLOE_ECORRUPT);
	free(ok);
	free(deep);
	free(deeper);

	/* A huge snapshot log parses in bounded memory; huge bogus lists fail. */
	size_t n = 200000, cap = n * 48 + 4096;
	char *big = malloc(cap), *p = big;
	char *base = th_read_file(interop("metadata/apache-iceberg/TableMetadataV2Valid.json"), NULL);
	REQUIRE(base != NULL);
	const char *at = strstr(base, "\"snapshot-log\": [");
	REQUIRE(at != NULL);
	at += strlen("\"snapshot-log\": [");
	p += sprintf(p, "%.*s", (int)(at - base), base);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "{\"timestamp-ms\":%zu,\"snapshot-id\":1},", i);
	sprintf(p, "%s", at);
	ice_table_metadata *m = NULL;
	REQUIRE_OK(parse_text(&m, a, big, &e), &e);
	CHECK_EQ_INT(m->nsnapshot_log, (int)n + 2);
	free(big);
	free(base);
	floe_arena_free(a);
}

/* gzip of `n` zero bytes, optionally cut short. */
static unsigned char *gzip_zeros(size_t n, size_t *outlen)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	size_t cap = n / 500 + 4096;
	unsigned char *out = malloc(cap);
	static unsigned char zeros[1 << 16];
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	size_t left = n;
	int rc;
	do {
		size_t chunk = left < sizeof zeros ? left : sizeof zeros;
		zs.next_in = zeros;
		zs.avail_in = (uInt)chunk;
		left -= chunk;
		rc = deflate(&zs, left ? Z_NO_FLUSH : Z_FINISH);
	} while (left || rc != Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

TEST(ice_meta_gzip_read_and_bombs)
{
	floe_arena *a = floe_arena_new(0);
	ice_table_metadata *m = NULL;
	floe_error e = { 0 };
	/* gzip found by magic bytes whatever the name */
	size_t len = 0;
	char *text = th_read_file(interop("metadata/apache-iceberg/TableMetadataV2Valid.json"), &len);
	REQUIRE(text != NULL);
	gzFile gz = gzopen(th_path("plain-name.json"), "wb");
	REQUIRE(gz != NULL);
	gzwrite(gz, text, (unsigned)len);
	gzclose(gz);
	REQUIRE_OK(ice_metadata_read_file(&m, a, th_path("plain-name.json"), &e), &e);
	CHECK_EQ_INT(m->current_snapshot_id, 3055729675574597004LL);

	/* truncated gzip */
	size_t glen = 0;
	char *graw = th_read_file(th_path("plain-name.json"), &glen);
	REQUIRE(graw != NULL && glen > 40);
	write_bytes(th_path("cut.gz.metadata.json"), graw, glen / 2);
	CHECK_EQ_INT(ice_metadata_read_file(&m, a, th_path("cut.gz.metadata.json"), &e),
	             FLOE_ECORRUPT);
	/* garbage after the magic */
	graw[10] ^= 0x55;
	graw[11] ^= 0xff;
	graw[12] ^= 0x3c;
	write_bytes(th_path("bad.gz.metadata.json"), graw, glen);
	CHECK_EQ_INT(ice_metadata_read_file(&m, a, th_path("bad.gz.metadata.json"), &e),
	             FLOE_ECORRUPT);
	free(graw);
	free(text);

	/* a bomb: 300 MiB of zeros in a few hundred KiB */
	size_t blen = 0;
	unsigned char *bomb = gzip_zeros((size_t)300 << 20, &blen);
	write_bytes(th_path("bomb.gz.metadata.json"), bomb, blen);
	free(bomb);
	CHECK_EQ_INT(ice_metadata_read_file(&m, a, th_path("bomb.gz.metadata.json"), &e),
	             FLOE_ECORRUPT);
	CHECK(strstr(e.msg, "beyond") != NULL);
	CHECK_EQ_INT(ice_metadata_read_file(&m, a, th_path("absent.json"), &e), FLOE_ENOTFOUND);
	floe_arena_free(a);
}

/* ---- (5) time travel and schema lookups --------------------------------- */

TEST(ice_meta_snapshot_as_of)
{
	floe_arena *a = floe_arena_new(0);
	ice_table_metadata *m = NULL;
	floe_error e = { 0 };
	REQUIRE_OK(ice_metadata_read_file(&m, a,
	                                  interop("metadata/apache-iceberg/TableMetadataV2Valid.json"),
	                                  &e),
	           &e);
	REQUIRE(m->nsnapshot_log == 2);
	int64_t t0 = m->snapshot_log[0].timestamp_ms, t1 = m->snapshot_log[1].timestamp_ms;
	REQUIRE(t0 < t1);
	const ice_snapshot *s = NULL;
	REQUIRE_OK(ice_metadata_snapshot_as_of(m, t0, &s, &e), &e);
	CHECK_EQ_INT(s->snapshot_id, m->snapshot_log[0].snapshot_id);
	REQUIRE_OK(ice_metadata_snapshot_as_of(m, t1 - 1, &s, &e), &e);
	CHECK_EQ_INT(s->snapshot_id, m->snapshot_log[0].snapshot_id);
	REQUIRE_OK(ice_metadata_snapshot_as_of(m, t1, &s, &e), &e);
	CHECK_EQ_INT(s->snapshot_id, m->snapshot_log[1].snapshot_id);
	REQUIRE_OK(ice_metadata_snapshot_as_of(m, INT64_MAX, &s, &e), &e);
	CHECK_EQ_INT(s->snapshot_id, m->current_snapshot_id);
	CHECK_EQ_INT(ice_metadata_snapshot_as_of(m, t0 - 1, &s, &e), FLOE_ENOTFOUND);
	CHECK(s == NULL);
	/* the times in ISO form, UTC, to the millisecond */
	char earliest[64], day[32];
	time_t secs = (time_t)(t0 / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(earliest, sizeof earliest, "the earliest is at %s.%03dZ", day, (int)(t0 % 1000));
	if (!strstr(e.msg, earliest))
		th_fail(__FILE__, __LINE__, "as-of message '%s' lacks '%s'", e.msg, earliest);
	floe_arena_free(a);
}

static const char NESTED[] =
	"{\"type\":\"struct\",\"schema-id\":3,\"identifier-field-ids\":[1],\"fields\":["
	"{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
	"{\"id\":2,\"name\":\"address\",\"required\":false,\"type\":{\"type\":\"struct\","
	" \"fields\":[{\"id\":5,\"name\":\"city\",\"required\":true,\"type\":\"string\"},"
	"  {\"id\":6,\"name\":\"Zip\",\"required\":false,\"type\":\"decimal(9, 2)\"}]}},"
	"{\"id\":3,\"name\":\"tags\",\"required\":false,\"type\":{\"type\":\"list\","
	" \"element-id\":7,\"element-required\":true,\"element\":{\"type\":\"struct\","
	" \"fields\":[{\"id\":9,\"name\":\"k\",\"required\":true,\"type\":\"fixed[16]\"}]}}},"
	"{\"id\":4,\"name\":\"attrs\",\"required\":true,\"type\":{\"type\":\"map\","
	" \"key-id\":10,\"key\":\"string\",\"value-id\":11,\"value\":\"timestamptz_ns\","
	" \"value-required\":false}},"
	"{\"id\":12,\"name\":\"ID\",\"required\":false,\"type\":\"timestamp_ns\","
	" \"doc\":\"upper case\", \"initial-default\": 5, \"write-default\": {\"a\": [1]}}]}";

TEST(ice_meta_schema_lookups)
{
	floe_arena *a = floe_arena_new(0);
	floe_error e = { 0 };
	ice_schema *s = NULL;
	REQUIRE_OK(ice_schema_parse_json(&s, a, NESTED, strlen(NESTED), &e), &e);
	char path[128];
	const ice_field *f = ice_schema_find_id(s, 9, path, sizeof path);
	REQUIRE(f != NULL);
	CHECK_EQ_STR(f->name, "k");
	CHECK_EQ_STR(path, "tags.element.k");
	CHECK_EQ_INT(f->type->prim.id, FLOE_TYPE_FIXED);
	CHECK_EQ_INT(f->type->prim.width, 16);
	f = ice_schema_find_id(s, 11, path, sizeof path);
	REQUIRE(f != NULL);
	CHECK_EQ_STR(path, "attrs.value");
	CHECK(!f->required);
	CHECK_EQ_INT(f->type->prim.id, FLOE_TYPE_TIMESTAMPTZ_NS);
	f = ice_schema_find_id(s, 10, path, sizeof path);
	REQUIRE(f != NULL);
	CHECK_EQ_STR(path, "attrs.key");
	CHECK(f->required);
	f = ice_schema_find_id(s, 6, path, sizeof path);
	REQUIRE(f != NULL);
	CHECK_EQ_STR(path, "address.Zip");
	CHECK_EQ_INT(f->type->prim.precision, 9);
	CHECK_EQ_INT(f->type->prim.scale, 2);
	f = ice_schema_find_id(s, 7, NULL, 0);
	REQUIRE(f != NULL);
	CHECK_EQ_INT(f->type->kind, ICE_STRUCT);
	CHECK(ice_schema_find_id(s, 8, path, sizeof path) == NULL);
	CHECK_EQ_STR(path, "");
	CHECK_EQ_INT(ice_schema_max_id(s), 12);
	/* names are case-sensitive */
	CHECK_EQ_INT(ice_schema_find_name(s, "id")->id, 1);
	CHECK_EQ_INT(ice_schema_find_name(s, "ID")->id, 12);
	CHECK(ice_schema_find_name(s, "Id") == NULL);
	CHECK_EQ_STR(ice_schema_find_name(s, "ID")->initial_default_json, "5");
	CHECK_EQ_STR(ice_schema_find_name(s, "ID")->write_default_json, "{\"a\":[1]}");

	floe_schema *fs = NULL;
	REQUIRE_OK(ice_schema_to_floe(&fs, s, a, &e), &e);
	CHECK_EQ_INT(fs->nfields, 2); /* address, tags, attrs left out */
	CHECK_EQ_STR(fs->fields[0].name, "id");
	CHECK_EQ_INT(fs->fields[0].field_id, 1);
	CHECK(fs->fields[0].required);
	CHECK_EQ_INT(fs->fields[0].type.id, FLOE_TYPE_LONG);
	CHECK_EQ_STR(fs->fields[1].name, "ID");
	CHECK_EQ_INT(fs->fields[1].field_id, 12);
	CHECK_EQ_INT(fs->fields[1].type.id, FLOE_TYPE_TIMESTAMP_NS);

	/* nested schema through JSON and back */
	char *js = NULL;
	REQUIRE_OK(ice_schema_to_json(&js, s, &e), &e);
	ice_schema *s2 = NULL;
	REQUIRE_OK(ice_schema_parse_json(&s2, a, js, strlen(js), &e), &e);
	const char *what = "nested schema";
	for (int i = 0; i < s->nfields; i++)
		CHECK(same_field(&s->fields[i], &s2->fields[i], what));
	CHECK(strstr(js, "\"decimal(9,2)\"") != NULL);
	free(js);
	floe_arena_free(a);
}

TEST(ice_meta_v3_types_unsupported)
{
	/* A v3 table whose schema uses a v3-only type fails clearly. */
	char *base = th_read_file(interop("metadata/apache-iceberg/TableMetadataV3Valid.json"), NULL);
	REQUIRE(base != NULL);
	char *text = edit(base, "\"type\": \"string\"", "\"type\": \"variant\"");
	REQUIRE(text != NULL);
	floe_arena *a = floe_arena_new(0);
	ice_table_metadata *m = NULL;
	floe_error e = { 0 };
	CHECK_EQ_INT(parse_text(&m, a, text, &e), FLOE_EUNSUPPORTED);
	CHECK(strstr(e.msg, "variant") != NULL);
	free(text);
	free(base);
	floe_arena_free(a);
}

TEST(ice_meta_unsigned_snapshot_ids_and_unknown_transforms)
{
	char *base = th_read_file(interop("metadata/apache-iceberg/TableMetadataV2Valid.json"), NULL);
	REQUIRE(base != NULL);
	floe_arena *a = floe_arena_new(0);
	ice_table_metadata *m = NULL;
	floe_error e = { 0 };
	/* An id in [2^63, 2^64) after a snapshot-id key: its two's complement. */
	char *t1 = edit(base, "3055729675574597004", "9876543210123456789");
	char *t2 = t1 ? edit(t1, "3055729675574597004", "9876543210123456789") : NULL;
	char *t3 = t2 ? edit(t2, "3055729675574597004", "9876543210123456789") : NULL;
	REQUIRE(t3 != NULL && strstr(t3, "3055729675574597004") == NULL);
	REQUIRE_OK(parse_text(&m, a, t3, &e), &e);
	CHECK((uint64_t)m->current_snapshot_id == 9876543210123456789ULL);
	CHECK(ice_metadata_current_snapshot(m) != NULL);
	/* 2^64 and a big value under another key stay errors. */
	char *t4 = edit(base, "3055729675574597004", "18446744073709551616");
	char *t5 = edit(base, "\"last-updated-ms\": 1602638573590",
	                "\"last-updated-ms\": 9876543210123456789");
	REQUIRE(t4 != NULL && t5 != NULL);
	CHECK_EQ_INT(parse_text(&m, a, t4, &e), FLOE_ECORRUPT);
	CHECK_EQ_INT(parse_text(&m, a, t5, &e), FLOE_ECORRUPT);
	/* the digits inside a string are left alone */
	char *t6 = edit(base, "\"s3://a/b/1.avro\"",
	                "\"s3://a/snapshot-id\\\": 9876543210123456789\"");
	REQUIRE(t6 != NULL);
	REQUIRE_OK(parse_text(&m, a, t6, &e), &e);
	CHECK_EQ_STR(m->snapshots[0].manifest_list, "s3://a/snapshot-id\": 9876543210123456789");

	/* Transforms unknown to floe are kept by name and written back. */
	char *t7 = edit(base, "\"bucket[4]\"", "\"zorder[x]\"");
	REQUIRE(t7 != NULL);
	REQUIRE_OK(parse_text(&m, a, t7, &e), &e);
	CHECK_EQ_INT(m->sort_orders[0].fields[1].transform.kind, ICE_T_UNKNOWN);
	char *out = NULL;
	REQUIRE_OK(ice_metadata_write(&out, NULL, m, &e), &e);
	CHECK(strstr(out, "\"zorder[x]\"") != NULL);
	free(out);
	free(t1);
	free(t2);
	free(t3);
	free(t4);
	free(t5);
	free(t6);
	free(t7);
	free(base);
	floe_arena_free(a);
}
