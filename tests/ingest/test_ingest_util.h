/* tests/ingest/test_ingest_util.h - what the ingest tests share: a
 * warehouse with the built-in trades spec, trade files with known bad
 * records and their offsets, reading a table's columns back, running
 * `floe ingest` as a separate process to kill, and the exactly-once check
 * over Bronze and quarantine. */
#ifndef FLOE_TESTS_INGEST_UTIL_H
#define FLOE_TESTS_INGEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "floe/catalog.h"
#include "floe/ingest.h"

typedef struct ti_env {
	char wh[4096];
	floe_catalog *cat;
	floe_record_spec *trades;
} ti_env;

bool ti_open(ti_env *e);
void ti_close(ti_env *e);

/* Trade `id` as one NDJSON line (no newline) into buf; `bad` 0 = good,
 * 1..6 = a malformed kind. Returns its length. */
int ti_trade_line(char *buf, size_t cap, int id, int bad);

/* The records written so far: where each is and whether it is good. */
typedef struct ti_rec {
	char *file; /* the path given */
	int64_t off;
	bool good;
	int id;
} ti_rec;
typedef struct ti_fileset {
	ti_rec *r;
	int64_t n, cap;
} ti_fileset;

/* Write trades first..first+n-1 to path (every `bad_every`-th malformed;
 * 0 = none), recording them in fs (*fs zeroed first by ti_write_trades). */
bool ti_write_trades(const char *path, int n, int bad_every, ti_fileset *fs);
bool ti_write_trades_from(const char *path, int first, int n, int bad_every, ti_fileset *fs);
bool ti_append_trades(const char *path, int first, int n, int bad_every, ti_fileset *fs);
void ti_fileset_rename(ti_fileset *fs, const char *from, const char *to);
void ti_fileset_free(ti_fileset *fs);

/* Ingest `source` into bronze.trades with 700-row batches. */
int ti_ingest_files(ti_env *e, const char *source, floe_trigger trigger, int64_t max_batches,
                    floe_ingest_result *res, floe_error *err);

/* A column of a table as text, with _offset, _source and _raw of each row. */
typedef struct ti_rows {
	int64_t n;
	char **text, **src;
	uint8_t **raw;
	int64_t *rawlen, *off;
	int32_t *part;
} ti_rows;
bool ti_read(ti_env *e, const char *table, const char *col, ti_rows *out);
bool ti_read_where(ti_env *e, const char *table, const char *col, const char *where,
                   ti_rows *out);
void ti_rows_free(ti_rows *r);
int ti_find_text(const ti_rows *r, const char *text);
int ti_find_offset(const ti_rows *r, int64_t off);

/* Every record of fs in bronze.trades (good) or its quarantine (bad),
 * each exactly once, and nothing else (fails the test otherwise). */
void ti_check_exactly_once(ti_env *e, const ti_fileset *fs);
/* Remove every unreferenced file of both tables; then none is left. */
void ti_check_orphans_swept(ti_env *e);

/* `floe ARGS...` as a child process (the floe binary next to the test
 * binary), stdout and stderr to `log`. */
pid_t ti_spawn(const char *const *argv, const char *log);
void ti_sleep_ms(int ms);
/* SIGTERM to a `floe ingest` child: it must exit 0 after committing, its
 * log (JSON status) holding a commit event and `also`. */
void ti_stop_child(pid_t pid, const char *log, const char *also);

/* Run `floe ingest bronze.trades --from SOURCE --trigger TRIGGER [extra...]`
 * (a NULL-terminated list) again and again, killing it with SIGKILL after
 * a random min_ms..max_ms, until `kills` kills hit a running process (runs
 * that finish on their own before the kill are not counted). A Kafka
 * source gets a fresh consumer group per run (the table, not the group,
 * holds the positions). Returns the kills that hit. */
int ti_kill_loop(ti_env *e, const char *source, int kills, const char *trigger, int min_ms,
                 int max_ms, const char *const *extra);

/* Every line of lines[0..n) in bronze.trades (good[i]) or its quarantine,
 * as _raw, exactly once, and nothing else. */
void ti_check_exactly_once_lines(ti_env *e, char *const *lines, const bool *good, int n);

#endif
