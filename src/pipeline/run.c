/* pipeline/run.c - loading a pipeline and running it: the tables are
 * created when missing, the sources feed their Bronze tables through the
 * ingest runner (in threads while streaming, bounded otherwise), and the
 * steps run in dependency order whenever their upstream tables change.
 * Backfill ingests historical files under a position key of their own,
 * then runs the same steps; rebuild recomputes one step for a time range. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "floe/ingest.h"
#include "pipeline/pipeline_int.h"
#include "util/fs.h"

static int oom(floe_error *err)
{
	return floe_error_set(err, FLOE_ENOMEM, "out of memory");
}

int floe_pipeline_load(floe_pipeline **out, const char *path, floe_error *err)
{
	*out = NULL;
	floe_pipeline *p = calloc(1, sizeof *p);
	if (!p)
		return oom(err);
	p->arena = floe_arena_new(0);
	if (!p->arena) {
		free(p);
		return oom(err);
	}
	int rc = pl_spec_load(&p->spec, path, p->arena, err);
	if (rc == 0) {
		p->order = floe_arena_calloc(p->arena, (size_t)p->spec->nsteps + 1, sizeof *p->order);
		rc = p->order ? pl_spec_order(p->spec, p->order, err) : oom(err);
	}
	if (rc) {
		floe_pipeline_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

const char *floe_pipeline_name(const floe_pipeline *p)
{
	return p->spec->name;
}

const char *floe_pipeline_simulator(const floe_pipeline *p, const char *key)
{
	for (int i = 0; i < p->spec->nsimulator; i++)
		if (strcmp(p->spec->simulator[i].key, key) == 0)
			return p->spec->simulator[i].value;
	return NULL;
}

void floe_pipeline_free(floe_pipeline *p)
{
	if (!p)
		return;
	floe_arena_free(p->arena);
	free(p);
}

void floe_run_options_init(floe_run_options *o)
{
	memset(o, 0, sizeof *o);
	o->mode = FLOE_RUN_STREAM;
	o->interval_ms = 1000;
	o->max_batch_rows = PL_MAX_BATCH_ROWS;
}

/* ---- ingest ------------------------------------------------------------------ */

typedef struct ingest_job {
	floe_catalog *main_cat;
	const pl_source *src;
	const floe_run_options *o;
	floe_trigger trigger;
	const char *first;          /* source, and more files */
	const char **files;
	int nfiles;
	const char *source_id;      /* NULL = the source's own */
	volatile sig_atomic_t *stop;
	/* out */
	int rc;
	floe_error err;
	floe_ingest_result res;
	pthread_mutex_t *lock;      /* guards status callbacks */
} ingest_job;

static void on_ingest_status(void *ctx, const floe_ingest_status *st)
{
	ingest_job *j = ctx;
	if (!j->o->status || strcmp(st->event, "commit") != 0)
		return;
	floe_run_status rs;
	memset(&rs, 0, sizeof rs);
	rs.event = "ingest";
	rs.name = j->src->name;
	rs.table = j->src->table;
	rs.rows_in = st->batch_rows + st->batch_rejected;
	rs.rows_out = st->batch_rows;
	rs.rejected = st->batch_rejected;
	rs.snapshot_id = st->last_snapshot_id;
	rs.watermark_us = INT64_MIN;
	rs.freshness_p50_ms = st->freshness_p50_ms;
	rs.freshness_p99_ms = st->freshness_p99_ms;
	rs.total_rows_out = st->rows;
	rs.rss_bytes = st->rss_bytes;
	if (j->lock)
		pthread_mutex_lock(j->lock);
	j->o->status(j->o->status_ctx, &rs);
	if (j->lock)
		pthread_mutex_unlock(j->lock);
}

static void ingest_exec(ingest_job *j, floe_catalog *cat)
{
	const pl_source *s = j->src;
	floe_record_spec *spec = NULL;
	bool file_spec = strchr(s->spec, '/') || strstr(s->spec, ".json");
	j->rc = file_spec ? floe_record_spec_load(&spec, s->spec, &j->err) :
	                    floe_record_spec_builtin(&spec, s->spec, &j->err);
	if (j->rc) {
		floe_error_prefix(&j->err, "source %s", s->name);
		return;
	}
	floe_ingest_options io;
	floe_ingest_options_init(&io);
	io.table = s->table;
	io.spec = spec;
	io.format = s->format;
	io.trigger = j->trigger;
	io.interval_ms = j->o->interval_ms > 0 ? j->o->interval_ms : 1000;
	if (j->o->max_batch_rows > 0)
		io.max_batch_rows = j->o->max_batch_rows;
	io.stop = j->stop;
	io.status = on_ingest_status;
	io.status_ctx = j;
	io.source_id = j->source_id;
	char url[1024];
	const char **conf = NULL;
	if (j->first) {
		io.source = j->first;
		io.files = j->files;
		io.nfiles = j->nfiles;
	} else if (s->kind == PL_SRC_KAFKA) {
		snprintf(url, sizeof url, "kafka://%s/%s", s->brokers, s->topic);
		io.source = url;
		io.group = s->group;
		conf = calloc((size_t)s->nconf + 1, sizeof *conf);
		if (!conf) {
			j->rc = oom(&j->err);
			floe_record_spec_free(spec);
			return;
		}
		for (int i = 0; i < s->nconf; i++) {
			size_t n = strlen(s->conf[i].key) + strlen(s->conf[i].value) + 2;
			char *kv = malloc(n);
			if (kv)
				snprintf(kv, n, "%s=%s", s->conf[i].key, s->conf[i].value);
			conf[i] = kv;
		}
		io.kafka_conf = conf;
		io.nkafka_conf = s->nconf;
	} else {
		io.source = s->path;
	}
	j->rc = floe_ingest_run(cat, &io, &j->res, &j->err);
	if (j->rc)
		floe_error_prefix(&j->err, "source %s", s->name);
	if (conf) {
		for (int i = 0; i < s->nconf; i++)
			free((char *)conf[i]);
		free(conf);
	}
	floe_record_spec_free(spec);
}

static void *ingest_thread(void *arg)
{
	ingest_job *j = arg;
	floe_catalog *cat = NULL;
	j->rc = floe_catalog_open(&cat, floe_catalog_warehouse(j->main_cat),
	                          floe_catalog_name(j->main_cat), &j->err);
	if (j->rc == 0)
		ingest_exec(j, cat);
	floe_catalog_close(cat);
	return NULL;
}

/* ---- steps ------------------------------------------------------------------------ */

typedef struct runner {
	floe_catalog *cat;
	floe_pipeline *p;
	const floe_run_options *o;
	floe_run_result *res;
	pl_step_rt *rts;
	int nrts;
	pthread_mutex_t lock;
	bool locked;                /* status calls go through the lock */
	floe_run_options so;        /* the options the steps see */
} runner;

static void locked_status(void *ctx, const floe_run_status *st)
{
	runner *r = ctx;
	pthread_mutex_lock(&r->lock);
	r->o->status(r->o->status_ctx, st);
	pthread_mutex_unlock(&r->lock);
}

static int prepare_steps(runner *r, floe_error *err)
{
	const pl_spec *spec = r->p->spec;
	r->rts = calloc((size_t)spec->nsteps + 1, sizeof *r->rts);
	if (!r->rts)
		return oom(err);
	for (int i = 0; i < spec->nsteps; i++) {
		int rc = pl_step_prepare(&r->rts[i], r->cat, spec, &spec->steps[r->p->order[i]], err);
		r->nrts = i + 1;
		if (rc)
			return rc;
	}
	return 0;
}

/* Every step once, in order; *did = some step committed. */
static int steps_pass(runner *r, bool all, bool *did, floe_error *err)
{
	*did = false;
	for (int i = 0; i < r->nrts; i++) {
		bool d = false;
		int rc = pl_step_run(&r->rts[i], &r->so, all, &d, r->res, err);
		if (rc)
			return rc;
		*did |= d;
	}
	return 0;
}

static int steps_until_caught_up(runner *r, floe_error *err)
{
	bool did = true;
	for (int k = 0; did && k < 1000; k++) {
		int rc = steps_pass(r, true, &did, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- upkeep: beside a stream, or once ------------------------------------------- */

#define UPKEEP_STREAM_MIN_FILE (16LL << 20)

/* Compact (when asked) and expire one table by its own retention
 * properties, keeping every snapshot a step of the pipeline has not read
 * yet; a table a step has read nothing of is left alone, and so is one
 * not made yet when `missing_ok`. A compaction that loses a race with a
 * delete is tried again next time. */
static int upkeep_table(runner *r, const char *name, bool missing_ok, floe_error *err)
{
	int64_t upto = INT64_MAX;
	for (int i = 0; i < r->nrts; i++) {
		if (strcmp(r->rts[i].s->from, name) != 0)
			continue;
		int64_t seq;
		int rc = pl_step_read_upto(&r->rts[i], &seq, err);
		if (rc)
			return rc;
		if (seq < 0)
			return 0;
		if (seq < upto)
			upto = seq;
	}
	int64_t t0 = pl_wall_us();
	floe_table *t;
	int rc = floe_table_open(&t, r->cat, name, err);
	if (rc == FLOE_ENOTFOUND && missing_ok) {
		floe_error_clear(err);
		return 0;
	}
	if (rc) {
		floe_error_prefix(err, "upkeep of %s", name);
		return rc;
	}
	floe_compact_result cr;
	memset(&cr, 0, sizeof cr);
	/* a stream compacts when the file asks; --upkeep unless it says no */
	int want = r->p->spec->upkeep_compact;
	if (r->o->mode == FLOE_RUN_UPKEEP ? want != 0 : want == 1) {
		floe_compact_options co;
		floe_compact_options_init(&co);
		/* beside a stream, files of 16 MiB and more are left as they
		 * are: a pass packs what arrived since the last one instead of
		 * rewriting the whole open day every time */
		if (r->o->mode == FLOE_RUN_STREAM)
			co.min_file_size = UPKEEP_STREAM_MIN_FILE;
		rc = floe_table_compact(t, &co, &cr, err);
		if (rc == FLOE_ECONFLICT) {
			floe_error_clear(err);
			memset(&cr, 0, sizeof cr);
			rc = 0;
		}
	}
	floe_expire_options eo;
	memset(&eo, 0, sizeof eo);
	eo.keep_after_sequence = upto == INT64_MAX ? 0 : (upto > 0 ? upto : 1);
	floe_expire_result er;
	memset(&er, 0, sizeof er);
	if (!rc)
		rc = floe_table_expire_snapshots(t, &eo, &er, err);
	if (!rc) {
		r->res->files_compacted += cr.data_files_rewritten;
		r->res->snapshots_expired += er.snapshots_expired;
		r->res->files_deleted += er.data_files_deleted + er.delete_files_deleted;
	}
	if (rc) {
		floe_error_prefix(err, "upkeep of %s", name);
	} else if (r->so.status && (cr.data_files_rewritten || er.snapshots_expired)) {
		floe_run_status st;
		memset(&st, 0, sizeof st);
		st.event = "upkeep";
		st.name = "upkeep";
		st.table = name;
		st.rows_out = cr.rows;
		st.snapshot_id = -1;
		const floe_snapshot_info *sn;
		int ns;
		floe_error e2;
		if (floe_table_snapshots(t, &sn, &ns, &e2) == 0)
			for (int i = 0; i < ns; i++)
				if (sn[i].is_current)
					st.snapshot_id = sn[i].snapshot_id;
		st.watermark_us = INT64_MIN;
		st.seconds = (double)(pl_wall_us() - t0) / 1e6;
		st.freshness_p50_ms = st.freshness_p99_ms = -1;
		st.rss_bytes = pl_peak_rss();
		st.files_compacted = cr.data_files_rewritten;
		st.snapshots_expired = er.snapshots_expired;
		st.files_deleted = er.data_files_deleted + er.delete_files_deleted;
		r->so.status(r->so.status_ctx, &st);
	}
	floe_table_close(t);
	return rc;
}

/* Every table the pipeline writes: the sources' Bronze tables and their
 * quarantine tables (TABLE_rejected, made at the first reject), the
 * declared tables, and the steps' quarantine tables. */
static int upkeep_pass(runner *r, floe_error *err)
{
	const pl_spec *spec = r->p->spec;
	int rc = 0;
	char q[600];
	for (int i = 0; i < spec->nsources && !rc; i++) {
		snprintf(q, sizeof q, "%s_rejected", spec->sources[i].table);
		if (!(rc = upkeep_table(r, spec->sources[i].table, false, err)))
			rc = upkeep_table(r, q, true, err);
	}
	for (int i = 0; i < spec->ntables && !rc; i++)
		rc = upkeep_table(r, spec->tables[i].name, false, err);
	for (int i = 0; i < r->nrts && !rc; i++) {
		if (!r->rts[i].quar) /* aggregate and rolling steps quarantine nothing */
			continue;
		snprintf(q, sizeof q, "%s", floe_table_name(r->rts[i].quar));
		bool declared = false;
		for (int k = 0; k < spec->ntables; k++)
			declared |= strcmp(spec->tables[k].name, q) == 0;
		if (!declared)
			rc = upkeep_table(r, q, true, err);
	}
	return rc;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int ensure_tables(floe_catalog *cat, const pl_spec *spec, floe_error *err)
{
	for (int i = 0; i < spec->ntables; i++) {
		int rc = pl_table_ensure(cat, &spec->tables[i], err);
		if (rc)
			return rc;
	}
	return 0;
}

/* Bronze tables of sources are created by their first ingest; steps that
 * read one need it now. A landing folder that does not exist yet is
 * created (empty): a stream waits for files there. */
static int ensure_bronze(floe_catalog *cat, const pl_spec *spec, floe_error *err)
{
	for (int i = 0; i < spec->nsources; i++) {
		const pl_source *s = &spec->sources[i];
		if (s->kind == PL_SRC_FILES && s->path && access(s->path, F_OK) != 0) {
			size_t n = strlen(s->path);
			int rc = n && s->path[n - 1] == '/' ? floe_fs_mkdirs(s->path, err) :
			         floe_error_set(err, FLOE_ENOTFOUND, "source %s: %s does not exist (end "
			                        "the path with / for a landing folder to create)", s->name,
			                        s->path);
			if (rc)
				return rc;
		}
		floe_table *t;
		int rc = floe_table_open(&t, cat, s->table, err);
		if (rc == 0) {
			floe_table_close(t);
			continue;
		}
		if (rc != FLOE_ENOTFOUND)
			return rc;
		floe_record_spec *rs;
		bool file_spec = strchr(s->spec, '/') || strstr(s->spec, ".json");
		rc = file_spec ? floe_record_spec_load(&rs, s->spec, err) :
		                 floe_record_spec_builtin(&rs, s->spec, err);
		if (rc)
			return floe_error_prefix(err, "source %s", s->name), rc;
		floe_table_create_options co;
		memset(&co, 0, sizeof co);
		co.schema = floe_record_spec_bronze_schema(rs);
		co.partition = floe_record_spec_bronze_partition(rs);
		char **props = NULL;
		rc = pl_props_text(s->properties, s->nproperties, &props, err);
		if (!rc) {
			co.properties = (const char *const *)props;
			co.nproperties = s->nproperties;
			rc = floe_table_create(NULL, cat, s->table, &co, err);
			if (rc && rc != FLOE_EEXISTS)
				floe_error_prefix(err, "source %s", s->name);
		}
		pl_props_free(props, s->nproperties);
		floe_record_spec_free(rs);
		if (rc && rc != FLOE_EEXISTS)
			return rc;
	}
	return 0;
}

static int run_stream(runner *r, floe_error *err)
{
	const pl_spec *spec = r->p->spec;
	volatile sig_atomic_t ingest_stop = 0;
	ingest_job *jobs = calloc((size_t)spec->nsources + 1, sizeof *jobs);
	pthread_t *th = calloc((size_t)spec->nsources + 1, sizeof *th);
	if (!jobs || !th) {
		free(jobs);
		free(th);
		return oom(err);
	}
	int started = 0, rc = 0;
	for (int i = 0; i < spec->nsources; i++) {
		ingest_job *j = &jobs[i];
		j->main_cat = r->cat;
		j->src = &spec->sources[i];
		j->o = r->o;
		j->trigger = FLOE_TRIGGER_INTERVAL;
		j->stop = &ingest_stop;
		j->lock = r->o->status ? &r->lock : NULL;
		if (pthread_create(&th[i], NULL, ingest_thread, j) != 0) {
			rc = floe_error_set(err, FLOE_EIO, "cannot start the ingest of source %s",
			                    j->src->name);
			break;
		}
		started++;
	}
	/* steps run as soon as their upstream changes: poll often */
	int64_t poll_ms = r->o->interval_ms > 0 ? r->o->interval_ms / 5 : 200;
	if (poll_ms < 20)
		poll_ms = 20;
	if (poll_ms > 250)
		poll_ms = 250;
	int64_t every_us = spec->upkeep_every_us, upkeep_at = pl_wall_us() + every_us;
	while (rc == 0 && !(r->o->stop && *r->o->stop)) {
		bool did;
		if ((rc = steps_pass(r, false, &did, err)))
			break;
		if (every_us > 0 && pl_wall_us() >= upkeep_at) {
			if ((rc = upkeep_pass(r, err)))
				break;
			upkeep_at = pl_wall_us() + every_us;
		}
		for (int i = 0; i < started; i++)
			if (jobs[i].rc) {
				*err = jobs[i].err;
				rc = jobs[i].rc;
			}
		if (!did && rc == 0)
			sleep_ms(poll_ms);
	}
	ingest_stop = 1;
	for (int i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		if (jobs[i].rc && rc == 0) {
			*err = jobs[i].err;
			rc = jobs[i].rc;
		}
		r->res->ingested += jobs[i].res.rows;
		r->res->ingest_rejected += jobs[i].res.rejected;
	}
	/* what the sources committed while stopping */
	if (rc == 0)
		rc = steps_until_caught_up(r, err);
	free(jobs);
	free(th);
	return rc;
}

static int run_ingest_once(runner *r, ingest_job *j, floe_error *err)
{
	j->main_cat = r->cat;
	j->o = r->o;
	j->trigger = FLOE_TRIGGER_AVAILABLE_NOW;
	j->stop = r->o->stop;
	j->lock = NULL;
	ingest_exec(j, r->cat);
	r->res->ingested += j->res.rows;
	r->res->ingest_rejected += j->res.rejected;
	if (j->rc)
		*err = j->err;
	return j->rc;
}

/* Which source a backfill file goes to. */
static int backfill_source(const pl_spec *spec, const char *arg, const pl_source **src,
                           const char **file, floe_error *err)
{
	const char *eq = strchr(arg, '=');
	if (eq) {
		for (int i = 0; i < spec->nsources; i++)
			if (strlen(spec->sources[i].name) == (size_t)(eq - arg) &&
			    memcmp(spec->sources[i].name, arg, (size_t)(eq - arg)) == 0) {
				*src = &spec->sources[i];
				*file = eq + 1;
				return 0;
			}
		return floe_error_set(err, FLOE_EINVALID, "--backfill %s: the pipeline has no source "
		                      "'%.*s'", arg, (int)(eq - arg), arg);
	}
	const char *base = strrchr(arg, '/');
	base = base ? base + 1 : arg;
	const pl_source *hit = NULL;
	for (int i = 0; i < spec->nsources; i++)
		if (strstr(base, spec->sources[i].name)) {
			if (hit)
				return floe_error_set(err, FLOE_EINVALID, "--backfill %s: the name matches "
				                      "sources %s and %s; write SOURCE=FILE", arg, hit->name,
				                      spec->sources[i].name);
			hit = &spec->sources[i];
		}
	if (!hit) {
		if (spec->nsources == 1)
			hit = &spec->sources[0];
		else
			return floe_error_set(err, FLOE_EINVALID, "--backfill %s: which source is it "
			                      "for? write SOURCE=FILE (sources: %s%s%s)", arg,
			                      spec->sources[0].name, spec->nsources > 1 ? ", " : "",
			                      spec->nsources > 1 ? spec->sources[1].name : "");
	}
	*src = hit;
	*file = arg;
	return 0;
}

static int run_backfill(runner *r, floe_error *err)
{
	const pl_spec *spec = r->p->spec;
	const floe_run_options *o = r->o;
	if (o->nbackfill <= 0)
		return floe_error_set(err, FLOE_EINVALID, "--backfill needs files");
	const char **files = calloc((size_t)o->nbackfill, sizeof *files);
	const pl_source **srcs = calloc((size_t)o->nbackfill, sizeof *srcs);
	if (!files || !srcs) {
		free(files);
		free(srcs);
		return oom(err);
	}
	int rc = 0;
	for (int i = 0; i < o->nbackfill && !rc; i++) {
		rc = backfill_source(spec, o->backfill[i], &srcs[i], &files[i], err);
		if (!rc && access(files[i], R_OK) != 0)
			rc = floe_error_set(err, FLOE_ENOTFOUND, "--backfill %s: no such readable file",
			                    files[i]);
	}
	for (int s = 0; s < spec->nsources && !rc; s++) {
		const pl_source *src = &spec->sources[s];
		const char **mine = calloc((size_t)o->nbackfill, sizeof *mine);
		if (!mine) {
			rc = oom(err);
			break;
		}
		int n = 0;
		for (int i = 0; i < o->nbackfill; i++)
			if (srcs[i] == src)
				mine[n++] = files[i];
		if (n == 0) {
			free(mine);
			continue;
		}
		/* the files' own position key: running the same backfill again adds
		 * nothing, and the streaming position is left alone */
		char real[4096];
		XXH64_state_t *h = XXH64_createState();
		XXH64_reset(h, 0);
		for (int i = 0; i < n; i++) {
			const char *p = realpath(mine[i], real) ? real : mine[i];
			XXH64_update(h, p, strlen(p) + 1);
		}
		char id[64];
		snprintf(id, sizeof id, "backfill-%016llx", (unsigned long long)XXH64_digest(h));
		XXH64_freeState(h);
		ingest_job j;
		memset(&j, 0, sizeof j);
		j.src = src;
		j.first = mine[0];
		j.files = mine + 1;
		j.nfiles = n - 1;
		j.source_id = id;
		rc = run_ingest_once(r, &j, err);
		free(mine);
	}
	free(files);
	free(srcs);
	if (rc == 0)
		rc = steps_until_caught_up(r, err);
	return rc;
}

int floe_pipeline_run(floe_catalog *cat, floe_pipeline *p, const floe_run_options *o,
                      floe_run_result *res, floe_error *err)
{
	floe_run_result dummy;
	if (!res)
		res = &dummy;
	memset(res, 0, sizeof *res);
	res->freshness_p50_ms = res->freshness_p99_ms = -1;
	const pl_spec *spec = p->spec;
	runner r;
	memset(&r, 0, sizeof r);
	r.cat = cat;
	r.p = p;
	r.o = o;
	r.res = res;
	r.so = *o;
	pthread_mutex_init(&r.lock, NULL);
	if (o->status && o->mode == FLOE_RUN_STREAM) {
		r.so.status = locked_status;
		r.so.status_ctx = &r;
	}
	int rc = ensure_tables(cat, spec, err);
	if (rc == 0)
		rc = ensure_bronze(cat, spec, err);
	if (rc == 0)
		rc = prepare_steps(&r, err);
	if (rc == 0) {
		switch (o->mode) {
		case FLOE_RUN_STREAM:
			rc = run_stream(&r, err);
			break;
		case FLOE_RUN_ONCE:
			for (int i = 0; i < spec->nsources && rc == 0; i++) {
				if (o->stop && *o->stop)
					break;
				ingest_job j;
				memset(&j, 0, sizeof j);
				j.src = &spec->sources[i];
				rc = run_ingest_once(&r, &j, err);
			}
			if (rc == 0)
				rc = steps_until_caught_up(&r, err);
			break;
		case FLOE_RUN_BACKFILL:
			rc = run_backfill(&r, err);
			break;
		case FLOE_RUN_UPKEEP:
			rc = upkeep_pass(&r, err);
			break;
		case FLOE_RUN_REBUILD: {
			int k = -1;
			for (int i = 0; i < r.nrts; i++)
				if (o->rebuild_table && strcmp(r.rts[i].s->to, o->rebuild_table) == 0)
					k = i;
			if (k < 0)
				rc = floe_error_set(err, FLOE_EINVALID, "--rebuild %s: no step of the "
				                    "pipeline writes that table", o->rebuild_table ?
				                    o->rebuild_table : "(none)");
			else
				rc = pl_step_rebuild(&r.rts[k], &r.so, o->rebuild_from_us, o->rebuild_to_us,
				                     res, err);
			break;
		}
		}
	}
	/* freshness over the whole run (a stream): the aggregate steps' samples */
	pl_fresh all;
	if (o->mode == FLOE_RUN_STREAM && pl_fresh_init(&all) == 0) {
		for (int i = 0; i < r.nrts; i++) {
			const pl_fresh *f = &r.rts[i].fresh;
			if (r.rts[i].s->kind != PL_STEP_AGGREGATE)
				continue;
			int64_t n = f->seen < PL_FRESH_SAMPLES ? f->seen : PL_FRESH_SAMPLES;
			for (int64_t k = 0; k < n; k++)
				pl_fresh_add(&all, f->v[k]);
		}
		res->freshness_p50_ms = pl_fresh_quantile(&all, 0.5);
		res->freshness_p99_ms = pl_fresh_quantile(&all, 0.99);
		pl_fresh_free(&all);
	}
	for (int i = 0; i < r.nrts; i++)
		pl_step_release(&r.rts[i]);
	free(r.rts);
	pthread_mutex_destroy(&r.lock);
	return rc;
}
