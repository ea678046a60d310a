/* cli/main.c - the `floe` executable: main() hands over to floe_cli_main
 * (cli.c), which tests call directly. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return floe_cli_main(argc, argv);
}
