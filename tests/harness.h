/* tests/harness.h - floe's in-tree test harness (clar-like). A test is
 *   TEST(parquet_plain_roundtrip) { CHECK(x == 1); CHECK_EQ_INT(a, b); }
 * Each test runs in its own forked process with a fresh temporary
 * directory, so a crash fails that test only. The runner prints one line
 * per test and closes with "N passed, N failed[, N skipped]". */
#ifndef FLOE_TESTS_HARNESS_H
#define FLOE_TESTS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*th_fn)(void);
void th_register(const char *name, th_fn fn, const char *file);

#define TEST(name)                                                          \
	static void test_##name(void);                                      \
	__attribute__((constructor)) static void th_reg_##name(void)        \
	{                                                                   \
		th_register(#name, test_##name, __FILE__);                  \
	}                                                                   \
	static void test_##name(void)

/* Record a failure (the test goes on; it fails at the end). */
void th_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Stop the test here as skipped (only for missing optional inputs outside
 * CI: under CI=true a skip is a failure). */
void th_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
int th_failures(void);

/* In the sanitizer build: run LeakSanitizer's check now (the report goes to
 * stderr) and return nonzero when something leaked. Elsewhere 0. For forked
 * children that end with _exit, which skips the check made at exit. */
int th_leak_check(void);

#define CHECK(c)                                                            \
	do {                                                                \
		if (!(c))                                                   \
			th_fail(__FILE__, __LINE__, "CHECK(%s)", #c);       \
	} while (0)
#define REQUIRE(c)                                                          \
	do {                                                                \
		if (!(c)) {                                                 \
			th_fail(__FILE__, __LINE__, "REQUIRE(%s)", #c);     \
			return;                                             \
		}                                                           \
	} while (0)
#define CHECK_EQ_INT(a, b)                                                  \
	do {                                                                \
		long long th_a = (long long)(a), th_b = (long long)(b);     \
		if (th_a != th_b)                                           \
			th_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", \
			        #a, #b, th_a, th_b);                        \
	} while (0)
#define CHECK_EQ_STR(a, b)                                                  \
	do {                                                                \
		const char *th_a = (a), *th_b = (b);                        \
		if (!th_a || !th_b || strcmp(th_a, th_b) != 0)              \
			th_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
			        #a, #b, th_a ? th_a : "(null)", th_b ? th_b : "(null)"); \
	} while (0)
/* A floe call that must succeed: prints err.msg when it does not. */
#define CHECK_OK(call, errp)                                                \
	do {                                                                \
		int th_rc = (call);                                         \
		__typeof__(errp) th_e = (errp);                             \
		if (th_rc != 0)                                             \
			th_fail(__FILE__, __LINE__, "%s -> %d: %s", #call, th_rc, \
			        th_e ? th_e->msg : "");                     \
	} while (0)
#define REQUIRE_OK(call, errp)                                              \
	do {                                                                \
		int th_rc = (call);                                         \
		__typeof__(errp) th_e = (errp);                             \
		if (th_rc != 0) {                                           \
			th_fail(__FILE__, __LINE__, "%s -> %d: %s", #call, th_rc, \
			        th_e ? th_e->msg : "");                     \
			return;                                             \
		}                                                           \
	} while (0)

/* The test's own empty temporary directory (removed afterwards). */
const char *th_tmpdir(void);
/* th_tmpdir()/name in a static rotating buffer (8 slots). */
const char *th_path(const char *name);
/* ../shared/testdata etc. Returns the directory, or skips the test when it
 * is absent (fails under CI=true). Set FLOE_SHARED to override. */
const char *th_shared(void);
/* Directory of the installed test peers (node_modules present), from
 * FLOE_PEERS; skips (fails under CI) when absent. */
const char *th_peers(void);
/* Run a shell command, capture stdout (malloc'ed, NUL-terminated) into
 * *out (may be NULL); returns the exit status (or -1). */
int th_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Read a whole file (malloc'ed, NUL-terminated); NULL on failure. */
char *th_read_file(const char *path, size_t *len);
/* Bytes handed to a replay: an exact-size copy, so that ASan sees any read
 * past the end; `name` says where they came from. */
typedef void (*th_bytes_fn)(void *ctx, const uint8_t *p, size_t n, const char *name);
/* Call fn with each regular file of `dir` (names starting with '.' or
 * ending in ".md" skipped). Returns the number of files, or -1 when `dir`
 * cannot be opened (a file that cannot be read fails the test). */
int th_each_file(const char *dir, th_bytes_fn fn, void *ctx);
/* Call fn with damaged forms of p[0..n): its prefixes (every one, or every
 * (n / spread)-th when n > 2 * spread; spread 0 = every one), then `flips`
 * copies with one byte set at random (rand(), seeded by the caller). */
void th_damage(const uint8_t *p, size_t n, const char *name, size_t spread, int flips,
               th_bytes_fn fn, void *ctx);
bool th_in_ci(void);

#endif
