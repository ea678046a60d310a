/* ingest/runner.c - the micro-batch runner: reads a source, decodes each
 * record into the Bronze table or its quarantine table, and commits every
 * batch with the source position it reached in the snapshot summary
 * ("floe.ingest.position.SOURCE_ID"), so data and position land together.
 *
 * Exactly-once across the two tables: a batch commits the quarantine table
 * first, then Bronze. On start the runner resumes from Bronze's position;
 * a record that quarantine's position already covers is not quarantined
 * again (the crash window between the two commits). Positions are read by
 * walking the current snapshot's ancestry, so other commits in between
 * (compaction, deletes) do not hide them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "floe/table.h"
#include "ingest/ingest_int.h"
#include "ingest/kafka.h"
#include "util/sort.h"

#define POS_KEY_PREFIX "floe.ingest.position."
#define CHUNK_ROWS 8192
#define FRESH_SAMPLES 65536

void floe_ingest_options_init(floe_ingest_options *o)
{
	memset(o, 0, sizeof *o);
	o->trigger = FLOE_TRIGGER_INTERVAL;
	o->interval_ms = 1000;
	o->max_batch_rows = 1000000;
	o->max_batch_bytes = 64 << 20;
}

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t peak_rss(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return -1;
	return (int64_t)ru.ru_maxrss * 1024;
}

/* ---- positions in snapshot summaries --------------------------------------- */

static int table_pos(floe_table *t, const char *source_id, ing_pos *out, floe_error *err)
{
	char key[300];
	snprintf(key, sizeof key, POS_KEY_PREFIX "%s", source_id);
	char *text;
	int rc = floe_table_find_summary(t, key, &text, NULL, err);
	if (rc || !text)
		return rc;
	rc = ing_pos_parse(out, text, err);
	if (rc)
		floe_error_prefix(err, "table %s, summary %s", floe_table_name(t), key);
	free(text);
	return rc;
}

int floe_ingest_position(floe_catalog *cat, const char *table, const char *source_id,
                         char **out, floe_error *err)
{
	floe_table *t;
	*out = NULL;
	int rc = floe_table_open(&t, cat, table, err);
	if (rc)
		return rc;
	char key[300];
	snprintf(key, sizeof key, POS_KEY_PREFIX "%s", source_id);
	rc = floe_table_find_summary(t, key, out, NULL, err);
	floe_table_close(t);
	return rc;
}

/* ---- tables ---------------------------------------------------------------- */

static int open_or_create(floe_table **out, floe_catalog *cat, const char *ident,
                          const char *schema, const char *partition, floe_error *err)
{
	int rc = floe_table_open(out, cat, ident, err);
	if (rc != FLOE_ENOTFOUND)
		return rc;
	floe_table_create_options o = { 0 };
	o.schema = schema;
	o.partition = partition;
	rc = floe_table_create(out, cat, ident, &o, err);
	if (rc == FLOE_EEXISTS) /* another runner created it just now */
		rc = floe_table_open(out, cat, ident, err);
	return rc;
}

/* ---- the run --------------------------------------------------------------- */

typedef struct run {
	const floe_ingest_options *o;
	floe_table *bronze, *quar;
	ing_source *src;
	ing_decoder *dec;
	ing_pos qpos;          /* quarantine's position when the run began */
	bool have_qpos;
	floe_append *app;      /* Bronze append of the batch in progress */
	char pos_key[300];
	floe_ingest_status st;
	floe_ingest_result *res;
	int64_t *fresh;        /* event times (us) of a sample of the batch's rows */
	uint64_t *fresh_tmp;   /* sorting scratch of as many */
	int64_t nfresh, seen_fresh;
	uint64_t rng;
	int64_t last_report_ms, report_rows;
} run;

static void report(run *r, const char *event)
{
	int64_t now = mono_ms();
	double secs = (double)(now - r->last_report_ms) / 1000.0;
	r->st.event = event;
	if (secs > 0)
		r->st.rows_per_s = (double)(r->st.rows + r->st.rejected - r->report_rows) / secs;
	r->last_report_ms = now;
	r->report_rows = r->st.rows + r->st.rejected;
	r->st.lag = r->src->ops->lag ? r->src->ops->lag(r->src) : -1;
	r->st.rss_bytes = peak_rss();
	if (r->o->status)
		r->o->status(r->o->status_ctx, &r->st);
}

/* Keep a uniform sample of the batch's event times (reservoir). */
static void sample_fresh(run *r, const int64_t *ev, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		int64_t at = r->seen_fresh++;
		if (at < FRESH_SAMPLES) {
			r->fresh[r->nfresh++] = ev[i];
			continue;
		}
		r->rng ^= r->rng << 13;
		r->rng ^= r->rng >> 7;
		r->rng ^= r->rng << 17;
		uint64_t j = r->rng % (uint64_t)(at + 1);
		if (j < FRESH_SAMPLES)
			r->fresh[j] = ev[i];
	}
}

static void freshness(run *r, int64_t commit_us)
{
	r->st.freshness_p50_ms = r->st.freshness_p99_ms = -1;
	if (r->nfresh == 0)
		return;
	/* event times in ascending order (the newest event has the smallest
	 * delay): as unsigned numbers with the sign bit flipped, radix sorted */
	uint64_t *u = (uint64_t *)r->fresh;
	for (int64_t i = 0; i < r->nfresh; i++)
		u[i] ^= UINT64_C(1) << 63;
	floe_sort_u64(u, r->fresh_tmp, (size_t)r->nfresh);
	for (int64_t i = 0; i < r->nfresh; i++)
		u[i] ^= UINT64_C(1) << 63;
	int64_t n = r->nfresh;
	int64_t p50 = r->fresh[n - 1 - (n - 1) / 2], p99 = r->fresh[(n - 1) / 100];
	r->st.freshness_p50_ms = (double)(commit_us - p50) / 1000.0;
	r->st.freshness_p99_ms = (double)(commit_us - p99) / 1000.0;
}

/* Decoded rows so far: checks, rejects, and the passing rows to Bronze. */
static int flush_chunk(run *r, floe_error *err)
{
	if (ing_decoder_pending(r->dec) == 0)
		return 0;
	const floe_batch *b;
	const int64_t *ev;
	int rc = ing_decoder_take(r->dec, r->have_qpos ? &r->qpos : NULL, &b, &ev, err);
	if (rc < 0)
		return rc;
	r->st.batch_rejected += rc;
	rc = 0;
	if (b->nrows > 0) {
		if (!r->app)
			rc = floe_append_begin(&r->app, r->bronze, err);
		if (!rc)
			rc = floe_append_batch(r->app, b, err);
		if (!rc && ev)
			sample_fresh(r, ev, b->nrows);
		r->st.batch_rows += b->nrows;
	}
	ing_decoder_release(r->dec);
	return rc;
}

static int commit_batch(run *r, floe_error *err)
{
	ing_pos pos, qpos;
	ing_pos_init(&pos);
	ing_pos_init(&qpos);
	floe_buf text = { 0 }, qtext = { 0 };
	int rc = r->src->ops->position(r->src, &pos, err);
	if (!rc && (rc = ing_pos_format(&pos, &text)))
		floe_error_set(err, rc, "out of memory");
	if (rc)
		goto out;
	const char *ptext = (const char *)text.data;
	const floe_batch *rej = ing_decoder_rejects(r->dec);
	if (rej->nrows > 0) {
		/* The quarantine's position never goes back: after a crash between
		 * its commit and Bronze's, a restart re-reads from Bronze's older
		 * position, and a batch that ends behind the quarantine on one
		 * partition must not forget the rejects it already holds there. */
		rc = ing_pos_copy(&qpos, &pos);
		if (!rc && r->have_qpos && (rc = ing_pos_max(&qpos, &r->qpos)) == FLOE_EINVALID)
			rc = ing_pos_copy(&qpos, &pos); /* a saved position of another kind */
		if (rc || (rc = ing_pos_format(&qpos, &qtext))) {
			rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
			goto out;
		}
		floe_append *qa;
		if ((rc = floe_append_begin(&qa, r->quar, err)))
			goto out;
		if ((rc = floe_append_batch(qa, rej, err)) ||
		    (rc = floe_append_set_summary(qa, r->pos_key, (const char *)qtext.data, err)) ||
		    (rc = floe_append_set_summary(qa, "floe.ingest.source", r->src->label, err))) {
			floe_append_abort(qa);
			goto out;
		}
		if ((rc = floe_append_commit(qa, NULL, err)))
			goto out;
		ing_decoder_clear_rejects(r->dec);
	}
	if (r->app) {
		int64_t sid = 0;
		if ((rc = floe_append_set_summary(r->app, r->pos_key, ptext, err)) ||
		    (rc = floe_append_set_summary(r->app, "floe.ingest.source", r->src->label, err)))
			goto out;
		rc = floe_append_commit(r->app, &sid, err);
		r->app = NULL;
		if (rc)
			goto out;
		r->st.last_snapshot_id = sid;
		r->res->last_snapshot_id = sid;
	}
	int64_t now = wall_us();
	r->st.last_commit_ms = now / 1000;
	freshness(r, now);
	if (r->src->ops->committed) {
		floe_error ignored; /* advisory (lag tools only): a failure changes nothing */
		r->src->ops->committed(r->src, &pos, &ignored);
	}
out:
	ing_pos_free(&pos);
	ing_pos_free(&qpos);
	floe_buf_free(&text);
	floe_buf_free(&qtext);
	return rc;
}

static int run_loop(run *r, floe_error *err)
{
	const floe_ingest_options *o = r->o;
	bool bounded = o->trigger != FLOE_TRIGGER_INTERVAL;
	int64_t max_rows = o->max_batch_rows > 0 ? o->max_batch_rows : 1000000;
	int64_t max_bytes = o->max_batch_bytes > 0 ? o->max_batch_bytes : (64 << 20);
	if (o->trigger == FLOE_TRIGGER_ONCE)
		max_rows = max_bytes = INT64_MAX;
	int64_t interval = o->interval_ms > 0 ? o->interval_ms : 1000;
	bool ended = false;
	int rc = 0;
	while (!ended && !(o->stop && *o->stop)) {
		int64_t begin = mono_ms(), nrec = 0, nbytes = 0, ingest_us = wall_us();
		r->st.batch_rows = r->st.batch_rejected = 0;
		r->nfresh = r->seen_fresh = 0;
		int64_t skipped0 = r->st.skipped;
		bool idle = false;
		while (nrec < max_rows && nbytes < max_bytes && !(o->stop && *o->stop)) {
			int wait = 100;
			if (!bounded && ((nrec & 255) == 0 || idle)) {
				int64_t left = begin + interval - mono_ms();
				if (left <= 0)
					break;
				if (left < wait)
					wait = (int)left;
			}
			idle = false;
			ing_record rec;
			memset(&rec, 0, sizeof rec);
			rc = r->src->ops->poll(r->src, &rec, wait, err);
			if (rc < 0)
				return rc;
			if (rc == ING_POLL_END) {
				ended = true;
				break;
			}
			if (rc == ING_POLL_IDLE) {
				idle = true;
				if (mono_ms() - r->last_report_ms >= 1000)
					report(r, "idle");
				continue;
			}
			if (rec.header) {
				ing_meta hm = { rec.file ? rec.file : r->src->label, rec.partition,
				                rec.offset, ingest_us };
				rc = ing_decoder_add(r->dec, rec.data, rec.len, true, &hm,
				                     r->have_qpos && ing_pos_covers(&r->qpos, rec.partition,
				                                                    rec.file, rec.offset),
				                     err);
				if (rc < 0)
					return rc;
				continue;
			}
			if ((nrec & 1023) == 0)
				ingest_us = wall_us();
			nrec++;
			nbytes += (int64_t)rec.len;
			ing_meta m = { rec.file ? rec.file : r->src->label, rec.partition, rec.offset,
			               ingest_us };
			bool covered = r->have_qpos &&
			               ing_pos_covers(&r->qpos, rec.partition, rec.file, rec.offset);
			if (rec.truncated) {
				/* too long to decode: quarantined with its start */
				if (!covered) {
					const char *why = "record longer than 16 MiB (only its first 16 MiB kept)";
					rc = ing_decoder_reject(r->dec, rec.data, rec.len, why, &m, err);
					if (rc < 0)
						return rc;
				}
				r->st.batch_rejected++;
				continue;
			}
			rc = ing_decoder_add(r->dec, rec.data, rec.len, false, &m, covered, err);
			if (rc < 0)
				return rc;
			if (rc == 1) {
				r->st.batch_rejected++;
				if (covered)
					r->st.skipped++;
			}
			if (ing_decoder_pending(r->dec) >= CHUNK_ROWS && (rc = flush_chunk(r, err)))
				return rc;
		}
		if ((rc = flush_chunk(r, err)))
			return rc;
		if (nrec == 0 && !r->app && ing_decoder_rejects(r->dec)->nrows == 0) {
			if (ended || (o->stop && *o->stop))
				break;
			continue;
		}
		if ((rc = commit_batch(r, err)))
			return rc;
		r->st.batches++;
		r->st.rows += r->st.batch_rows;
		r->st.rejected += r->st.batch_rejected - (r->st.skipped - skipped0);
		r->st.bytes += nbytes;
		report(r, "commit");
		if (o->max_batches > 0 && r->st.batches >= o->max_batches)
			break;
		if (o->trigger == FLOE_TRIGGER_ONCE)
			break;
	}
	return 0;
}

int floe_ingest_run(floe_catalog *cat, const floe_ingest_options *o, floe_ingest_result *res,
                    floe_error *err)
{
	floe_ingest_result dummy;
	if (!res)
		res = &dummy;
	memset(res, 0, sizeof *res);
	if (!o->table || !o->source || !o->spec)
		return floe_error_set(err, FLOE_EINVALID, "ingest needs a table, a source and a record "
		                      "spec");
	run r;
	memset(&r, 0, sizeof r);
	r.o = o;
	r.res = res;
	r.rng = 0x9e3779b97f4a7c15ull;
	ing_pos_init(&r.qpos);
	ing_pos bpos;
	ing_pos_init(&bpos);
	char qname[512];
	if (o->quarantine)
		snprintf(qname, sizeof qname, "%s", o->quarantine);
	else
		snprintf(qname, sizeof qname, "%s_rejected", o->table);
	bool csv = o->format && strcmp(o->format, "csv") == 0;
	if (o->format && !csv && strcmp(o->format, "ndjson") != 0 && strcmp(o->format, "jsonl") != 0)
		return floe_error_set(err, FLOE_EINVALID, "--format %s: want ndjson or csv", o->format);
	int rc;
	bool kafka = strncmp(o->source, "kafka://", 8) == 0;
	if (kafka) {
		if (csv)
			return floe_error_set(err, FLOE_EINVALID, "Kafka messages are read as NDJSON "
			                      "records (one JSON object per message); drop --format csv");
		ing_kafka_conf kc = { o->kafka_conf, o->nkafka_conf };
		rc = ing_source_kafka(&r.src, o->source, o->group, &kc, err);
	} else {
		const char **paths = malloc(((size_t)o->nfiles + 1) * sizeof *paths);
		if (!paths)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		paths[0] = o->source;
		for (int i = 0; i < o->nfiles; i++)
			paths[i + 1] = o->files[i];
		rc = ing_source_files(&r.src, paths, o->nfiles + 1,
		                      o->trigger == FLOE_TRIGGER_INTERVAL || o->watch, csv, err);
		free(paths);
	}
	if (rc)
		return rc;
	if (o->source_id)
		snprintf(r.src->id, sizeof r.src->id, "%s", o->source_id);
	snprintf(r.pos_key, sizeof r.pos_key, POS_KEY_PREFIX "%s", r.src->id);
	const floe_record_spec *sp = o->spec;
	r.fresh = malloc(FRESH_SAMPLES * sizeof *r.fresh);
	r.fresh_tmp = malloc(FRESH_SAMPLES * sizeof *r.fresh_tmp);
	if (!r.fresh || !r.fresh_tmp) {
		rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = open_or_create(&r.bronze, cat, o->table, sp->bronze_text, sp->partition_text, err)) ||
	    (rc = open_or_create(&r.quar, cat, qname, sp->quarantine_text, "day(_ingest_time)", err)))
		goto out;
	if ((rc = ing_decoder_new(&r.dec, sp, csv ? ING_CSV : ING_NDJSON, err)))
		goto out;
	bool resumable = strcmp(r.src->id, "stdin") != 0;
	if (resumable) {
		if ((rc = table_pos(r.bronze, r.src->id, &bpos, err)) ||
		    (rc = table_pos(r.quar, r.src->id, &r.qpos, err)))
			goto out;
		r.have_qpos = r.qpos.kind != ING_POS_NONE;
	}
	if ((rc = r.src->ops->start(r.src, resumable ? &bpos : NULL, err)))
		goto out;
	if (o->trigger != FLOE_TRIGGER_INTERVAL && (rc = r.src->ops->bound(r.src, err)))
		goto out;
	r.last_report_ms = mono_ms();
	r.st.freshness_p50_ms = r.st.freshness_p99_ms = -1;
	report(&r, "start");
	rc = run_loop(&r, err);
	report(&r, "stop");
out:
	res->batches = r.st.batches;
	res->rows = r.st.rows;
	res->rejected = r.st.rejected;
	res->skipped = r.st.skipped;
	res->bytes = r.st.bytes;
	if (r.app)
		floe_append_abort(r.app); /* its files stay unreferenced: the orphan sweep */
	ing_decoder_free(r.dec);
	if (r.src)
		r.src->ops->close(r.src);
	floe_table_close(r.bronze);
	floe_table_close(r.quar);
	ing_pos_free(&bpos);
	ing_pos_free(&r.qpos);
	free(r.fresh);
	free(r.fresh_tmp);
	return rc;
}
