/* Replays the ingest fuzz findings (fuzz/regressions/ingest_record/)
 * through the fuzz target's own body (fuzz/targets_ingest.h), plus
 * truncations and bit flips of a valid trades file. */
#include <stdlib.h>
#include <string.h>

#include "../fuzz/targets_ingest.h"
#include "harness.h"
#include "ingest/test_ingest_util.h"

static void replay(const uint8_t *buf, size_t len, const char *name)
{
	uint8_t *exact = malloc(len ? len : 1); /* exact size: ASan sees overreads */
	fti_result res;
	if (!exact) {
		th_fail(__FILE__, __LINE__, "out of memory");
		return;
	}
	memcpy(exact, buf, len);
	fti_ingest(exact, len, &res);
	free(exact);
	if (res.bug)
		th_fail(__FILE__, __LINE__, "%s: %s: %s", name, res.bug, res.err.msg);
}

static void replay_file(void *ctx, const uint8_t *p, size_t len, const char *name)
{
	(void)ctx;
	replay(p, len, name);
}

TEST(ingest_fuzz_regressions)
{
	CHECK(th_each_file("fuzz/regressions/ingest_record", replay_file, NULL) >= 4);
}

TEST(ingest_fuzz_damaged_records)
{
	char text[64 * 512];
	size_t len = 0;
	for (int i = 0; i < 60; i++) {
		len += (size_t)ti_trade_line(text + len, sizeof text - len, i, i % 7 == 6 ? 1 + i % 6 : 0);
		text[len++] = '\n';
	}
	replay((const uint8_t *)text, len, "intact");
	for (size_t cut = 0; cut < len; cut += 13)
		replay((const uint8_t *)text, cut, "truncated");
	uint8_t *copy = malloc(len);
	REQUIRE(copy);
	uint32_t seed = 2463534242u;
	for (int k = 0; k < 300; k++) {
		memcpy(copy, text, len);
		for (int j = 0; j < 1 + k % 5; j++) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			copy[seed % len] ^= (uint8_t)(1u << (seed >> 29));
		}
		replay(copy, len, "flipped");
	}
	free(copy);
}
