/* tests/cli/cli_run.h - run the `floe` command line in-process (in a forked
 * child, so exit paths and global state stay contained) with stdin from a
 * file and stdout/stderr captured. Shared by the CLI tests. */
#ifndef FLOE_TESTS_CLI_RUN_H
#define FLOE_TESTS_CLI_RUN_H

/* floe_cli_main(argc, argv) with stdin from `in` (NULL: /dev/null); *out
 * and *errout (each may be NULL) receive the captured output, malloc'ed.
 * Returns the exit code, -1 when the child did not exit normally. In the
 * sanitizer build a run that leaks memory returns CLI_RUN_LEAKED instead,
 * after the leak report on the test's stderr. */
#define CLI_RUN_LEAKED 98
int cli_run_argv(const char *in, char **out, char **errout, int argc, const char **argv);

#endif
