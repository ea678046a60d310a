/* tests/cli/cli_run.c - in-process runs of the command line (cli_run.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_run.h"
#include "harness.h"

int cli_run_argv(const char *in, char **out, char **errout, int argc, const char **argv)
{
	char op[512], ep[512];
	snprintf(op, sizeof op, "%s", th_path("cli.stdout"));
	snprintf(ep, sizeof ep, "%s", th_path("cli.stderr"));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fo = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fe = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fi = open(in ? in : "/dev/null", O_RDONLY);
		int keep = dup(2); /* the test's stderr, for a leak report */
		if (fo < 0 || fe < 0 || fi < 0 || keep < 0)
			_exit(99);
		dup2(fo, 1);
		dup2(fe, 2);
		dup2(fi, 0);
		int rc = floe_cli_main(argc, (char **)argv);
		fflush(stdout);
		fflush(stderr);
		dup2(keep, 2);
		if (th_leak_check() != 0) {
			fprintf(stderr, "floe %s ...: leaked memory (report above)\n",
			        argc > 1 ? argv[1] : "");
			_exit(CLI_RUN_LEAKED);
		}
		_exit(rc);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	char *o = th_read_file(op, NULL), *e = th_read_file(ep, NULL);
	if (out)
		*out = o ? o : strdup("");
	else
		free(o);
	if (errout)
		*errout = e ? e : strdup("");
	else
		free(e);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
