/* tests/harness.c - test registry and runner: fork per test, temp dir per
 * test, timeout, closing line "N passed, N failed[, N skipped]". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#ifdef FLOE_ASAN /* the sanitizer build (Makefile MODE=asan), whatever the compiler */
#include <sanitizer/lsan_interface.h>
#define TH_LEAK_CHECK 1
#endif

#define MAX_TESTS 4096
#define EXIT_SKIP 77

typedef struct {
	const char *name;
	th_fn fn;
	const char *file;
} th_test;

static th_test tests[MAX_TESTS];
static int ntests;
static int nfail_in_test;
static char tmpdir[512];
static int result_fd = -1; /* child writes failure text here */

void th_register(const char *name, th_fn fn, const char *file)
{
	if (ntests < MAX_TESTS)
		tests[ntests++] = (th_test){ name, fn, file };
}

int th_leak_check(void)
{
#ifdef TH_LEAK_CHECK
	return __lsan_do_recoverable_leak_check();
#else
	return 0;
#endif
}

static void call_exact(const uint8_t *p, size_t n, const char *name, th_bytes_fn fn, void *ctx)
{
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		th_fail(__FILE__, __LINE__, "%s: out of memory", name);
		return;
	}
	memcpy(exact, p, n);
	fn(ctx, exact, n, name);
	free(exact);
}

int th_each_file(const char *dir, th_bytes_fn fn, void *ctx)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		size_t len, nl = strlen(e->d_name);
		if (e->d_name[0] == '.' || (nl > 3 && strcmp(e->d_name + nl - 3, ".md") == 0))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		char *buf = th_read_file(path, &len);
		if (!buf) {
			th_fail(__FILE__, __LINE__, "cannot read %s", path);
			continue;
		}
		call_exact((const uint8_t *)buf, len, path, fn, ctx);
		free(buf);
		files++;
	}
	closedir(d);
	return files;
}

void th_damage(const uint8_t *p, size_t n, const char *name, size_t spread, int flips,
               th_bytes_fn fn, void *ctx)
{
	size_t step = spread && n > 2 * spread ? n / spread : 1;
	for (size_t k = 0; k < n; k += step)
		call_exact(p, k, name, fn, ctx);
	uint8_t *m = malloc(n ? n : 1);
	if (!m) {
		th_fail(__FILE__, __LINE__, "%s: out of memory", name);
		return;
	}
	for (int k = 0; k < flips && n; k++) {
		memcpy(m, p, n);
		m[(size_t)rand() % n] = (uint8_t)(rand() % 256);
		call_exact(m, n, name, fn, ctx);
	}
	free(m);
}

bool th_in_ci(void)
{
	const char *ci = getenv("CI");
	return ci && strcmp(ci, "true") == 0;
}

void th_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	nfail_in_test++;
	dprintf(result_fd >= 0 ? result_fd : 2, "    %s:%d: %s\n", file, line, msg);
}

void th_skip(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (th_in_ci()) {
		dprintf(result_fd >= 0 ? result_fd : 2, "    not skipped under CI=true: %s\n", msg);
		_exit(1);
	}
	dprintf(result_fd >= 0 ? result_fd : 2, "    skipped: %s\n", msg);
	_exit(EXIT_SKIP);
}

int th_failures(void)
{
	return nfail_in_test;
}

const char *th_tmpdir(void)
{
	return tmpdir;
}

const char *th_path(const char *name)
{
	static char slots[8][1024];
	static int next;
	char *p = slots[next++ & 7];
	snprintf(p, 1024, "%s/%s", tmpdir, name);
	return p;
}

static int dir_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *th_shared(void)
{
	static char path[1024];
	const char *env = getenv("FLOE_SHARED");
	if (env && *env)
		snprintf(path, sizeof path, "%s", env);
	else
		snprintf(path, sizeof path, "%s", "../shared");
	if (!dir_exists(path))
		th_skip("%s is absent (the shared test data); set FLOE_SHARED to its path", path);
	char *real = realpath(path, NULL);
	if (real) {
		snprintf(path, sizeof path, "%s", real);
		free(real);
	}
	return path;
}

const char *th_peers(void)
{
	static char path[1024];
	const char *env = getenv("FLOE_PEERS");
	char nm[1100];
	if (!env || !*env)
		th_skip("FLOE_PEERS is not set (run the suite with `make test`, which installs the peers)");
	snprintf(path, sizeof path, "%s", env);
	snprintf(nm, sizeof nm, "%s/node_modules", path);
	if (!dir_exists(nm))
		th_skip("test peers not installed in %s (run `make test`)", path);
	return path;
}

int th_run(char **out, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 2) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	int st = pclose(p);
	if (buf)
		buf[len] = '\0';
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *th_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0, r;
	char *buf = malloc(cap);
	while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n < 2) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static void rm_rf(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char sub[2048];
			snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
			rm_rf(sub);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static int matches(const char *name, int argc, char **argv)
{
	if (argc <= 1)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strncmp(name, argv[i], strlen(argv[i])) == 0)
			return 1;
	return 0;
}

static int cmp_test(const void *a, const void *b)
{
	const th_test *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	return c ? c : strcmp(x->name, y->name);
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;
	unsigned timeout = 600;
	const char *t = getenv("FLOE_TEST_TIMEOUT");
	if (t && atoi(t) > 0)
		timeout = (unsigned)atoi(t);
	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		for (int i = 0; i < ntests; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	qsort(tests, (size_t)ntests, sizeof tests[0], cmp_test);
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	for (int i = 0; i < ntests; i++) {
		if (!matches(tests[i].name, argc, argv))
			continue;
		snprintf(tmpdir, sizeof tmpdir, "%s/floe-test-XXXXXX", base);
		if (!mkdtemp(tmpdir)) {
			fprintf(stderr, "cannot create a temporary directory under %s: %s\n", base,
			        strerror(errno));
			return 2;
		}
		int pipefd[2];
		if (pipe(pipefd) != 0)
			return 2;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			close(pipefd[0]);
			result_fd = pipefd[1];
			alarm(timeout);
			tests[i].fn();
			if (th_leak_check() != 0)
				_exit(1);
			_exit(nfail_in_test ? 1 : 0);
		}
		close(pipefd[1]);
		char msgs[16384];
		size_t mlen = 0;
		ssize_t r;
		while ((r = read(pipefd[0], msgs + mlen, sizeof msgs - 1 - mlen)) > 0)
			mlen += (size_t)r;
		msgs[mlen] = '\0';
		close(pipefd[0]);
		int st = 0;
		waitpid(pid, &st, 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			passed++;
			printf("ok   %s (%.0f ms)\n", tests[i].name, ms);
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_SKIP) {
			skipped++;
			printf("skip %s\n%s", tests[i].name, msgs);
		} else {
			failed++;
			if (WIFSIGNALED(st))
				printf("FAIL %s (signal %d%s)\n%s", tests[i].name, WTERMSIG(st),
				       WTERMSIG(st) == SIGALRM ? ": timed out" : "", msgs);
			else
				printf("FAIL %s (%s)\n%s", tests[i].name, tests[i].file, msgs);
		}
		fflush(stdout);
		if (!getenv("FLOE_TEST_KEEP"))
			rm_rf(tmpdir);
	}
	if (skipped)
		printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	else
		printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
