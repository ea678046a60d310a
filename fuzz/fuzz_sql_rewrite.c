/* fuzz_sql_rewrite - libFuzzer target for the SQL text floe reads before
 * SQLite does (the aggregation rewrite, src/sql/rewrite.c) and the
 * aggregations it runs (src/sql/agg.c). The body is fts_sql in
 * fuzz/targets_sql.h, shared with the regression test. The connection is
 * opened again every 2000 inputs, since each new aggregation adds a table
 * to it. */
#include <stdio.h>
#include <stdlib.h>

#include "targets_sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fts_env env;
static bool opened, registered;

static void close_env(void)
{
	if (opened)
		fts_close(&env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (opened && ++env.uses >= 2000) {
		fts_close(&env);
		opened = false;
	}
	if (!opened) {
		const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		if (fts_open(&env, base) != 0) {
			fprintf(stderr, "fuzz: cannot set up the test table under %s\n", base);
			abort();
		}
		if (!registered)
			atexit(close_env);
		registered = opened = true;
	}
	const char *bug = fts_sql(&env, data, size);
	if (bug) {
		fprintf(stderr, "fuzz: %s\n", bug);
		abort();
	}
	return 0;
}
