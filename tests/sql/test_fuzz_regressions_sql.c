/* Replays the SQL fuzz findings and seeds (fuzz/regressions/sql_rewrite/)
 * through the fuzz target's own body (fuzz/targets_sql.h), plus every
 * prefix and some byte flips of each. */
#include <stdlib.h>

#include "../fuzz/targets_sql.h"
#include "harness.h"

static void replay(void *ctx, const uint8_t *p, size_t len, const char *name)
{
	const char *bug = fts_sql(ctx, p, len);
	if (bug)
		th_fail(__FILE__, __LINE__, "%s (%zu bytes): %s", name, len, bug);
}

/* The file, every prefix, 100 copies with a byte changed. */
static void replay_damaged(void *ctx, const uint8_t *p, size_t len, const char *name)
{
	replay(ctx, p, len, name);
	th_damage(p, len, name, 0, 100, replay, ctx);
}

TEST(sql_fuzz_regressions_and_damage)
{
	fts_env env;
	REQUIRE(fts_open(&env, th_tmpdir()) == 0);
	srand(5);
	CHECK(th_each_file("fuzz/regressions/sql_rewrite", replay_damaged, &env) >= 3);
	fts_close(&env);
}
