/* Replays the SQL fuzz findings and seeds (fuzz/regressions/sql_rewrite/)
 * through the fuzz target's own body (fuzz/targets_sql.h), plus every
 * prefix and some byte flips of each. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../fuzz/targets_sql.h"
#include "harness.h"

static void replay(fts_env *env, const char *buf, size_t len, const char *name)
{
	uint8_t *exact = malloc(len ? len : 1); /* exact size: ASan sees overreads */
	if (!exact) {
		th_fail(__FILE__, __LINE__, "out of memory");
		return;
	}
	memcpy(exact, buf, len);
	const char *bug = fts_sql(env, exact, len);
	free(exact);
	if (bug)
		th_fail(__FILE__, __LINE__, "%s (%zu bytes): %s", name, len, bug);
}

TEST(sql_fuzz_regressions_and_damage)
{
	fts_env env;
	REQUIRE(fts_open(&env, th_tmpdir()) == 0);
	DIR *d = opendir("fuzz/regressions/sql_rewrite");
	REQUIRE(d);
	struct dirent *e;
	int files = 0;
	srand(5);
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		size_t len;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "fuzz/regressions/sql_rewrite/%s", e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		char *buf = th_read_file(path, &len);
		REQUIRE(buf);
		replay(&env, buf, len, path);
		for (size_t k = 0; k < len; k++)
			replay(&env, buf, k, path);
		for (int k = 0; k < 100 && len; k++) {
			char *m = malloc(len);
			REQUIRE(m);
			memcpy(m, buf, len);
			m[rand() % len] = (char)(rand() % 256);
			replay(&env, m, len, path);
			free(m);
		}
		free(buf);
		files++;
	}
	closedir(d);
	CHECK(files >= 3);
	fts_close(&env);
}
