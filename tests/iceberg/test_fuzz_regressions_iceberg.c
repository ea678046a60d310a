/* Replays the Avro and Iceberg fuzz findings (fuzz/regressions/<target>/)
 * through the fuzz targets' own bodies (fuzz/targets.h), plus damaged copies
 * of real interop files. */
#include <stdlib.h>
#include <string.h>

#include "../fuzz/targets.h"
#include "harness.h"

typedef void (*ft_target)(const uint8_t *data, size_t size, ft_result *res);

/* Run one input through `fn` from an exact-size copy (so ASan catches reads
 * past the end); a disallowed error or a broken invariant fails the test.
 * Returns the target's first error (0 when everything read). */
static int replay(ft_target fn, const uint8_t *buf, size_t len, const char *name)
{
	uint8_t *exact = malloc(len ? len : 1);
	ft_result res;

	if (!exact) {
		th_fail(__FILE__, __LINE__, "%s: out of memory", name);
		return FLOE_ENOMEM;
	}
	memcpy(exact, buf, len);
	fn(exact, len, &res);
	free(exact);
	if (res.bad)
		th_fail(__FILE__, __LINE__, "%s: %s -> %d: %s", name, res.bad, res.bad_rc,
		        res.err.msg);
	if (res.bug)
		th_fail(__FILE__, __LINE__, "%s: %s: %s", name, res.bug, res.err.msg);
	return res.first;
}

typedef struct target_ctx {
	ft_target fn;
} target_ctx;

static void replay_file(void *ctx, const uint8_t *p, size_t len, const char *name)
{
	replay(((target_ctx *)ctx)->fn, p, len, name);
}

/* Replay every file of fuzz/regressions/<sub> (tests run from the repository
 * root); returns the number of files, or -1 when the folder is missing. */
static int replay_dir(ft_target fn, const char *sub)
{
	char dir[256];
	target_ctx tc = { fn };
	snprintf(dir, sizeof(dir), "fuzz/regressions/%s", sub);
	return th_each_file(dir, replay_file, &tc);
}

TEST(ice_fuzz_avro_regressions)
{
	CHECK(replay_dir(ft_avro, "avro_reader") > 0);
}

TEST(ice_fuzz_metadata_regressions)
{
	CHECK(replay_dir(ft_metadata, "iceberg_metadata") > 0);
}

TEST(ice_fuzz_manifest_regressions)
{
	CHECK(replay_dir(ft_manifest, "iceberg_manifest") > 0);
}

/* Truncations and bit flips of one real file through `fn`; the intact file
 * must read without error. */
static void damage(ft_target fn, const char *rel)
{
	char path[1024];
	size_t len;

	snprintf(path, sizeof(path), "%s/testdata/iceberg-interop/%s", th_shared(), rel);
	char *buf = th_read_file(path, &len);
	if (!buf) {
		th_fail(__FILE__, __LINE__, "cannot read %s", path);
		return;
	}
	CHECK_EQ_INT(replay(fn, (const uint8_t *)buf, len, "intact"), 0);
	/* truncated: no crash, only allowed errors */
	for (size_t cut = 0; cut < len; cut += (cut < 64 || len - cut < 64) ? 1 : 37)
		replay(fn, (const uint8_t *)buf, cut, "truncated");
	/* bit flips: no crash, only allowed errors */
	uint8_t *copy = malloc(len);
	if (!copy) {
		free(buf);
		th_fail(__FILE__, __LINE__, "out of memory");
		return;
	}
	uint32_t seed = 2463534242u;
	for (int k = 0; k < 300; k++) {
		memcpy(copy, buf, len);
		for (int j = 0; j < 1 + k % 3; j++) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			copy[seed % len] ^= (uint8_t)(1u << (seed >> 29));
		}
		replay(fn, copy, len, "flipped");
	}
	free(copy);
	free(buf);
}

TEST(ice_fuzz_damaged_manifest)
{
	damage(ft_manifest, "avro/apache-iceberg/OldManifestFileV2.avro");
	damage(ft_avro, "avro/apache-iceberg/OldManifestFileV1.avro");
}

TEST(ice_fuzz_damaged_metadata)
{
	damage(ft_metadata, "tables/duckdb__big_query_error/metadata/v1749025517.metadata.json");
}
