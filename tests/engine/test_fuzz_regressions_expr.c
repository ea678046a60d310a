/* Replays the expression fuzz findings and seeds (fuzz/regressions/expr/)
 * through the fuzz target's own body (fuzz/targets_expr.h), plus every
 * prefix and some byte flips of each. */
#include <stdlib.h>

#include "../fuzz/targets_expr.h"
#include "harness.h"

static void replay(void *ctx, const uint8_t *p, size_t len, const char *name)
{
	fte_result res;
	(void)ctx;
	fte_expr(p, len, &res);
	if (res.bug)
		th_fail(__FILE__, __LINE__, "%s (%zu bytes): %s: %s", name, len, res.bug, res.err.msg);
}

/* The file, about 200 of its prefixes, 200 copies with a byte changed. */
static void replay_damaged(void *ctx, const uint8_t *p, size_t len, const char *name)
{
	replay(ctx, p, len, name);
	th_damage(p, len, name, 200, 200, replay, ctx);
}

TEST(expr_fuzz_regressions_and_damage)
{
	srand(3);
	CHECK(th_each_file("fuzz/regressions/expr", replay_damaged, NULL) >= 7);
}
