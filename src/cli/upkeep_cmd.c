/* cli/upkeep_cmd.c - table upkeep commands: `floe expire` (snapshot
 * expiry), `floe vacuum` (orphan files), `floe rewrite-manifests`. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "floe/catalog.h"
#include "floe/table.h"
#include "util/buf.h"
#include "util/text.h"

/* Open catalog table args->pos[0]; returns 0 or an exit code. */
static int open_catalog_table(floe_table **t, floe_catalog **cat, const floe_cli_cmd *cmd,
                              const floe_cli_args *args)
{
	const char *name = args->pos[0];
	const char *wh = floe_cli_warehouse(cmd, args);
	floe_error err;
	floe_ident id;
	*t = NULL;
	*cat = NULL;
	if (floe_ident_parse(&id, name, &err) != 0)
		return floe_cli_usage(cmd, "'%s' is not a table name: %s; use NAMESPACE.NAME, e.g. "
		                      "db.trades", name, err.msg);
	if (floe_catalog_open(cat, wh, NULL, &err) != 0)
		return floe_cli_fail("cannot open warehouse %s: %s (give another with --warehouse DIR "
		                     "or FLOE_WAREHOUSE)", wh, err.msg);
	if (floe_table_open(t, *cat, name, &err) != 0) {
		int rc = err.code == FLOE_ENOTFOUND
		         ? floe_cli_fail("no table '%s' in warehouse %s (see 'floe tables')", name, wh)
		         : floe_cli_fail("%s", err.msg);
		floe_catalog_close(*cat);
		*cat = NULL;
		return rc;
	}
	return 0;
}

static int upkeep_fail(const char *name, const floe_error *err)
{
	switch (err->code) {
	case FLOE_ECONFLICT:
		return floe_cli_fail("%s (another commit won; run the command again)", err->msg);
	case FLOE_ECOMMIT_UNKNOWN:
		return floe_cli_fail("%s (the commit may or may not have happened, so no file was "
		                     "deleted: check with 'floe snapshots %s' before retrying)",
		                     err->msg, name);
	default:
		return floe_cli_fail("%s", err->msg);
	}
}

/* TIME as `floe scan --as-of` takes it: epoch milliseconds (all digits), or
 * YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+HH:MM|-HH:MM] (UTC without offset). */
static int parse_time(int64_t *out, const char *s)
{
	if (*s && strspn(s, "0123456789") == strlen(s)) {
		char *end;
		errno = 0;
		long long x = strtoll(s, &end, 10);
		if (errno || *end)
			return -1;
		*out = x;
		return 0;
	}
	char text[96];
	size_t n = strlen(s);
	if (n >= 10 && n + 10 < sizeof text &&
	    (n == 10 || s[10] == 'Z' || s[10] == '+' || s[10] == '-'))
		snprintf(text, sizeof text, "%.10sT00:00:00%s", s, s + 10);
	else if (n >= 16 && n + 3 < sizeof text && (s[10] == 'T' || s[10] == ' ') && s[13] == ':' &&
	         (s[16] == '\0' || s[16] == 'Z' || s[16] == '+' || s[16] == '-'))
		snprintf(text, sizeof text, "%.16s:00%s", s, s + 16);
	else if (n < sizeof text)
		snprintf(text, sizeof text, "%s", s);
	else
		return -1;
	floe_type ty;
	memset(&ty, 0, sizeof ty);
	ty.id = FLOE_TYPE_TIMESTAMPTZ;
	floe_value v;
	floe_buf scratch = FLOE_BUF_INIT;
	int rc = floe_text_parse(&v, &ty, text, strlen(text), &scratch, NULL);
	floe_buf_free(&scratch);
	if (rc != 0)
		return -1;
	*out = v.i >= 0 ? v.i / 1000 : -((-v.i + 999) / 1000);
	return 0;
}

static int older_than_opt(int64_t *out, const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	const char *v = floe_cli_opt_get(cmd, args, "older-than");
	*out = 0;
	if (!v)
		return 0;
	if (parse_time(out, v) != 0 || *out <= 0)
		return floe_cli_usage(cmd, "--older-than '%s': expected YYYY-MM-DD[THH:MM:SS[.fff]]"
		                      "[Z|+HH:MM] or epoch milliseconds after 1970", v);
	return 0;
}

static int finish(void)
{
	return fflush(stdout) == 0 ? FLOE_CLI_OK : floe_cli_fail("writing to stdout failed");
}

/* ---- expire -------------------------------------------------------------- */

int floe_cli_upkeep_expire(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_expire_options o;
	memset(&o, 0, sizeof o);
	int rc = older_than_opt(&o.older_than_ms, cmd, args);
	if (rc)
		return rc;
	const char *keep = floe_cli_opt_get(cmd, args, "retain-last");
	if (keep) {
		char *end;
		errno = 0;
		long x = strtol(keep, &end, 10);
		if (end == keep || *end || errno || x < 1 || x > 1000000000)
			return floe_cli_usage(cmd, "--retain-last wants a whole number from 1 to "
			                      "1000000000, not '%s'", keep);
		o.retain_last = (int)x;
	}
	floe_catalog *cat;
	floe_table *t;
	if ((rc = open_catalog_table(&t, &cat, cmd, args)))
		return rc;
	floe_error err;
	floe_expire_result res;
	if (floe_table_expire_snapshots(t, &o, &res, &err) != 0) {
		rc = upkeep_fail(args->pos[0], &err);
		goto done;
	}
	const floe_snapshot_info *snaps;
	int n = 0;
	if (floe_table_snapshots(t, &snaps, &n, &err) != 0)
		n = -1;
	printf("expired %" PRId64 " snapshot%s of %s (%d left); deleted %" PRId64
	       " manifest lists, %" PRId64 " manifests, %" PRId64 " data files, %" PRId64
	       " delete files\n", res.snapshots_expired, res.snapshots_expired == 1 ? "" : "s",
	       args->pos[0], n, res.manifest_lists_deleted, res.manifests_deleted,
	       res.data_files_deleted, res.delete_files_deleted);
	rc = finish();
done:
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

/* ---- vacuum -------------------------------------------------------------- */

typedef struct vacuum_acc {
	int64_t files, bytes;
	bool dry_run;
} vacuum_acc;

static int vacuum_one(void *ctx, const floe_orphan_file *f, floe_error *err)
{
	(void)err;
	vacuum_acc *a = ctx;
	a->files++;
	a->bytes += f->size;
	printf("%s\n", f->path);
	return 0;
}

int floe_cli_upkeep_vacuum(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	int64_t older = 0;
	int rc = older_than_opt(&older, cmd, args);
	if (rc)
		return rc;
	vacuum_acc acc;
	memset(&acc, 0, sizeof acc);
	acc.dry_run = floe_cli_opt_get(cmd, args, "dry-run") != NULL;
	floe_catalog *cat;
	floe_table *t;
	if ((rc = open_catalog_table(&t, &cat, cmd, args)))
		return rc;
	floe_error err;
	if (floe_table_remove_orphans(t, older, acc.dry_run, vacuum_one, &acc, &err) != 0) {
		fflush(stdout);
		rc = upkeep_fail(args->pos[0], &err);
		goto done;
	}
	printf("%s %" PRId64 " orphan file%s (%" PRId64 " bytes) from %s\n",
	       acc.dry_run ? "would remove" : "removed", acc.files, acc.files == 1 ? "" : "s",
	       acc.bytes, args->pos[0]);
	rc = finish();
done:
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}

/* ---- rewrite-manifests --------------------------------------------------- */

int floe_cli_upkeep_rewrite_manifests(const floe_cli_cmd *cmd, const floe_cli_args *args)
{
	floe_catalog *cat;
	floe_table *t;
	int rc = open_catalog_table(&t, &cat, cmd, args);
	if (rc)
		return rc;
	floe_error err;
	floe_rewrite_result res;
	if (floe_table_rewrite_manifests_ex(t, &res, &err) != 0) {
		rc = upkeep_fail(args->pos[0], &err);
		goto done;
	}
	if (res.manifests_replaced == 0)
		printf("nothing to rewrite in %s: no partition spec has two or more small data "
		       "manifests\n", args->pos[0]);
	else
		printf("rewrote %" PRId64 " manifests of %s into %" PRId64 " (%" PRId64
		       " kept) in snapshot %" PRId64 "\n", res.manifests_replaced, args->pos[0],
		       res.manifests_created, res.manifests_kept, res.snapshot_id);
	rc = finish();
done:
	floe_table_close(t);
	floe_catalog_close(cat);
	return rc;
}
