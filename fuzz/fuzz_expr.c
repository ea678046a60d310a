/* fuzz_expr - libFuzzer target for the expression language and the
 * pipeline file loader. The body is fte_expr in fuzz/targets_expr.h, shared
 * with the regression test. */
#include <stdio.h>
#include <stdlib.h>

#include "targets_expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fte_result res;

	fte_expr(data, size, &res);
	if (res.bug) {
		fprintf(stderr, "fuzz: %s: %s\n", res.bug, res.err.msg);
		abort();
	}
	return 0;
}
