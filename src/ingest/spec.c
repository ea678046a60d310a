/* ingest/spec.c - record specs: what a record of a stream must look like
 * (fields with Iceberg types, the event-time column, checks with reasons),
 * as JSON data; the built-in "trades" and "quotes" specs; and the Bronze
 * and quarantine schemas derived from a spec. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ingest/ingest_int.h"
#include "util/fs.h"

int ice_schema_from_text(ice_schema **out, const char *text, floe_arena *arena, floe_error *err);

/* The stock-trading streams (trades and quotes). Bronze
 * rejects only what cannot be used at all; cleaning (symbols, exchanges,
 * crossed quotes) is Silver's job. */
static const char builtin_trades[] =
	"{\"name\": \"trades\","
	" \"fields\": \"trade_id string not null, symbol string not null, price double not null, "
	"volume long not null, timestamp timestamptz not null, trade_type string not null, "
	"exchange string\","
	" \"event_time\": \"timestamp\","
	" \"checks\": ["
	"  {\"check\": \"price > 0\", \"reason\": \"price must be positive\"},"
	"  {\"check\": \"volume > 0\", \"reason\": \"volume must be positive\"},"
	"  {\"check\": \"trade_type in ('BUY', 'SELL')\", \"reason\": \"trade_type must be BUY or SELL\"}"
	" ]}";

static const char builtin_quotes[] =
	"{\"name\": \"quotes\","
	" \"fields\": \"quote_id string not null, symbol string not null, bid double not null, "
	"ask double not null, timestamp timestamptz not null, exchange string\","
	" \"event_time\": \"timestamp\","
	" \"checks\": ["
	"  {\"check\": \"bid > 0\", \"reason\": \"bid must be positive\"},"
	"  {\"check\": \"ask > 0\", \"reason\": \"ask must be positive\"}"
	" ]}";

static const char meta_cols[] =
	"_raw string not null, _source string not null, _partition int, _offset long not null, "
	"_ingest_time timestamptz not null";
static const char quarantine_cols[] =
	"_raw binary not null, _reason string not null, _source string not null, _partition int, "
	"_offset long not null, _ingest_time timestamptz not null";

int floe_record_spec_builtin(floe_record_spec **out, const char *name, floe_error *err)
{
	if (strcmp(name, "trades") == 0)
		return floe_record_spec_parse(out, builtin_trades, "built-in spec trades", err);
	if (strcmp(name, "quotes") == 0)
		return floe_record_spec_parse(out, builtin_quotes, "built-in spec quotes", err);
	return floe_error_set(err, FLOE_ENOTFOUND,
	                      "no built-in record spec '%s' (there are trades and quotes; "
	                      "give your own with --spec FILE)", name);
}

int floe_record_spec_load(floe_record_spec **out, const char *path, floe_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return floe_error_set(err, FLOE_EIO, "%s: cannot open the record spec", path);
	floe_buf b = { 0 };
	char tmp[4096];
	size_t n;
	int rc = 0;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0 && !rc)
		rc = floe_buf_append(&b, tmp, n);
	bool bad = ferror(f);
	fclose(f);
	if (!rc)
		rc = floe_buf_putc(&b, 0);
	if (rc || bad) {
		floe_buf_free(&b);
		return floe_error_set(err, rc ? rc : FLOE_EIO, "%s: cannot read the record spec", path);
	}
	rc = floe_record_spec_parse(out, (const char *)b.data, path, err);
	floe_buf_free(&b);
	return rc;
}

static int spec_err(floe_error *err, const char *origin, const char *what)
{
	return floe_error_set(err, FLOE_EINVALID, "%s: %s (docs/ingest.md describes record specs)",
	                      origin, what);
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int build(floe_record_spec *s, json_t *root, const char *origin, floe_error *err)
{
	floe_arena *a = s->arena;
	const char *name = jstr(root, "name"), *fields = jstr(root, "fields");
	if (!name || !*name)
		return spec_err(err, origin, "\"name\" (a string) is required");
	if (!fields)
		return spec_err(err, origin, "\"fields\" (schema text: \"name type [not null], ...\") "
		                "is required");
	s->name = floe_arena_strdup(a, name);
	s->fields_text = floe_arena_strdup(a, fields);
	int rc = floe_schema_parse(&s->fields, fields, a, err);
	if (rc)
		return floe_error_prefix(err, "%s: fields", origin);
	for (int i = 0; i < s->fields->nfields; i++)
		if (s->fields->fields[i].name[0] == '_')
			return spec_err(err, origin, "field names starting with '_' are kept for the "
			                "Bronze metadata columns");
	size_t blen = strlen(fields) + sizeof meta_cols + 4;
	char *bt = floe_arena_alloc(a, blen);
	if (!bt)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	snprintf(bt, blen, "%s, %s", fields, meta_cols);
	s->bronze_text = bt;
	s->quarantine_text = quarantine_cols;
	if ((rc = floe_schema_parse(&s->bronze, bt, a, err)) ||
	    (rc = floe_schema_parse(&s->quarantine, quarantine_cols, a, err)))
		return rc;

	s->event_col = -1;
	const char *et = jstr(root, "event_time");
	if (et) {
		int c = floe_schema_find(s->fields, et);
		if (c < 0)
			return spec_err(err, origin, "\"event_time\" names no field");
		floe_type_id t = s->fields->fields[c].type.id;
		if (t != FLOE_TYPE_TIMESTAMP && t != FLOE_TYPE_TIMESTAMPTZ)
			return spec_err(err, origin, "\"event_time\" must be a timestamp or "
			                "timestamptz field");
		if (!s->fields->fields[c].required)
			return spec_err(err, origin, "the \"event_time\" field must be \"not null\"");
		s->event_time = s->fields->fields[c].name;
		s->event_col = c;
		size_t plen = strlen(et) + 8;
		char *pt = floe_arena_alloc(a, plen);
		if (!pt)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		snprintf(pt, plen, "day(%s)", et);
		s->partition_text = pt;
	}

	ice_schema *is;
	if ((rc = ice_schema_from_text(&is, bt, a, err)))
		return rc;
	json_t *checks = json_object_get(root, "checks");
	if (checks && !json_is_array(checks))
		return spec_err(err, origin, "\"checks\" must be an array of {\"check\": FILTER, "
		                "\"reason\": TEXT}");
	s->nchecks = checks ? (int)json_array_size(checks) : 0;
	s->checks = floe_arena_calloc(a, (size_t)s->nchecks + 1, sizeof *s->checks);
	if (!s->checks)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	for (int i = 0; i < s->nchecks; i++) {
		json_t *c = json_array_get(checks, (size_t)i);
		const char *text = jstr(c, "check"), *reason = jstr(c, "reason");
		if (!text)
			return spec_err(err, origin, "every check needs \"check\": a filter such as "
			                "\"price > 0\"");
		ing_check *k = &s->checks[i];
		k->text = floe_arena_strdup(a, text);
		k->reason = floe_arena_strdup(a, reason ? reason : text);
		ice_expr *e;
		if ((rc = ice_expr_parse(&e, text, a, err)) ||
		    (rc = ice_expr_bind(&k->bound, e, is, a, err)))
			return floe_error_prefix(err, "%s: check '%s'", origin, text);
	}
	return 0;
}

int floe_record_spec_parse(floe_record_spec **out, const char *json, const char *origin,
                           floe_error *err)
{
	json_error_t je;
	json_t *root = json_loads(json, 0, &je);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return floe_error_set(err, FLOE_EINVALID, "%s: line %d: %s", origin, je.line,
		                      root ? "a record spec is a JSON object" : je.text);
	}
	floe_record_spec *s = calloc(1, sizeof *s);
	int rc = FLOE_ENOMEM;
	if (!s || !(s->arena = floe_arena_new(0)))
		rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
	else
		rc = build(s, root, origin, err);
	json_decref(root);
	if (rc) {
		floe_record_spec_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void floe_record_spec_free(floe_record_spec *s)
{
	if (!s)
		return;
	floe_arena_free(s->arena);
	free(s);
}

const char *floe_record_spec_name(const floe_record_spec *s)
{
	return s->name;
}

const char *floe_record_spec_bronze_schema(const floe_record_spec *s)
{
	return s->bronze_text;
}

const char *floe_record_spec_quarantine_schema(const floe_record_spec *s)
{
	return s->quarantine_text;
}

const char *floe_record_spec_bronze_partition(const floe_record_spec *s)
{
	return s->partition_text;
}
