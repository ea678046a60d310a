/* fuzz_avro_reader - libFuzzer target for the Avro OCF reader (every record into an
 * arena reset per record) and the Avro schema parser on the bytes as JSON.
 * The body is ft_avro in fuzz/targets.h, shared with the regression test. */
#include <stdio.h>
#include <stdlib.h>

#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ft_result res;

	ft_avro(data, size, &res);
	/* an invariant broke, or hostile bytes gave an error other than
	 * FLOE_ECORRUPT / FLOE_EUNSUPPORTED with a message: a real bug */
	if (res.bug) {
		fprintf(stderr, "fuzz: %s: %s\n", res.bug, res.err.msg);
		abort();
	}
	if (res.bad) {
		fprintf(stderr, "fuzz: %s -> %d: %s\n", res.bad, res.bad_rc, res.err.msg);
		abort();
	}
	return 0;
}
