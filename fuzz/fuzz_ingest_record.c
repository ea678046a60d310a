/* fuzz_ingest_record - libFuzzer target for the ingest decoder: the bytes as
 * NDJSON records and as a CSV file through the trades spec, and as a saved
 * source position. The body is fti_ingest in fuzz/targets_ingest.h, shared
 * with the regression test. */
#include <stdio.h>
#include <stdlib.h>

#include "targets_ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fti_result res;

	fti_ingest(data, size, &res);
	if (res.bug) {
		fprintf(stderr, "fuzz: %s: %s\n", res.bug, res.err.msg);
		abort();
	}
	return 0;
}
