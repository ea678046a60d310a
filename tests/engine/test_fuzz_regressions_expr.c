/* Replays the expression fuzz findings and seeds (fuzz/regressions/expr/)
 * through the fuzz target's own body (fuzz/targets_expr.h), plus every
 * prefix and some byte flips of each. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../fuzz/targets_expr.h"
#include "harness.h"

static void replay(const uint8_t *buf, size_t len, const char *name)
{
	uint8_t *exact = malloc(len ? len : 1); /* exact size: ASan sees overreads */
	fte_result res;
	if (!exact) {
		th_fail(__FILE__, __LINE__, "out of memory");
		return;
	}
	memcpy(exact, buf, len);
	fte_expr(exact, len, &res);
	free(exact);
	if (res.bug)
		th_fail(__FILE__, __LINE__, "%s (%zu bytes): %s: %s", name, len, res.bug, res.err.msg);
}

TEST(expr_fuzz_regressions_and_damage)
{
	DIR *d = opendir("fuzz/regressions/expr");
	REQUIRE(d);
	struct dirent *e;
	int files = 0;
	srand(3);
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		size_t len;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "fuzz/regressions/expr/%s", e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		char *buf = th_read_file(path, &len);
		REQUIRE(buf);
		replay((const uint8_t *)buf, len, path);
		size_t step = len > 400 ? len / 200 : 1;
		for (size_t k = 0; k < len; k += step)
			replay((const uint8_t *)buf, k, path);
		for (int k = 0; k < 200 && len; k++) {
			char *m = malloc(len);
			REQUIRE(m);
			memcpy(m, buf, len);
			m[rand() % len] = (char)(rand() % 256);
			replay((const uint8_t *)m, len, path);
			free(m);
		}
		free(buf);
		files++;
	}
	closedir(d);
	CHECK(files >= 7);
}
