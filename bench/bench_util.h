/* bench/bench_util.h - what every benchmark program shares: a seeded
 * xorshift64* generator (deterministic data), a monotonic clock, the
 * peak resident memory and nearest-rank percentiles. Included once per
 * benchmark program. */
#ifndef FLOE_BENCH_UTIL_H
#define FLOE_BENCH_UTIL_H

#include <math.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

/* xorshift64* : deterministic, seeded (set rng_state to reseed) */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static inline uint64_t rng_next(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* uniform in [0, 1) */
static inline double rng_unit(void)
{
	return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

static inline double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* peak resident set of the whole process so far, MiB */
static inline double peak_rss_mib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0; /* Linux: KiB */
}

/* qsort order of doubles, ascending */
static inline int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* Nearest-rank percentile of n sorted samples. */
static inline double pct(const double *v, int n, double p)
{
	if (n <= 0)
		return 0;
	int k = (int)ceil(p / 100.0 * n) - 1;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return v[k];
}

#endif
