/* cli/main.c - the `floe` executable: main() sets the process's malloc
 * policy and hands over to floe_cli_main (cli.c), which tests call
 * directly. */
#include <malloc.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
	/* Batches of up to a few hundred thousand rows allocate and free
	 * buffers of tens of MiB in every micro-batch. glibc serves those from
	 * fresh mmaps and trims the heap top after each free, so every batch
	 * paid for page faults again (a fifth of a backfill's CPU went to the
	 * kernel). Keep such buffers in the heap and keep up to 256 MiB of
	 * freed heap top for the next batch; the library leaves this choice to
	 * the programs that link it. */
	mallopt(M_MMAP_THRESHOLD, 256 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 32 << 20);
	return floe_cli_main(argc, argv);
}
