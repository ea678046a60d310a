/* floe/catalog.h - the SQL catalog: namespaces and table pointers kept in
 * WAREHOUSE/catalog.db (SQLite) in the layout of Iceberg's Java JdbcCatalog
 * and PyIceberg's SqlCatalog, so those can open a floe warehouse. */
#ifndef FLOE_CATALOG_H
#define FLOE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "floe/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct floe_catalog floe_catalog;

/* A table identifier "namespace.table". The namespace may contain dots
 * (nesting: "a.b" is namespace "b" inside "a"); the table name may not. */
typedef struct floe_ident {
	char ns[256];
	char name[256];
} floe_ident;

/* The catalog name used when none is given (the JdbcCatalog "name"). */
#define FLOE_CATALOG_DEFAULT_NAME "floe"

/* Open (creating when needed) the warehouse directory and its catalog.db.
 * `catalog_name` NULL means "floe". *out is owned by the caller
 * (floe_catalog_close). One handle per process/thread; fork before opening. */
int floe_catalog_open(floe_catalog **out, const char *warehouse_dir, const char *catalog_name,
                      floe_error *err);
/* Accepts NULL. */
void floe_catalog_close(floe_catalog *c);
/* The absolute warehouse directory (owned by the catalog). */
const char *floe_catalog_warehouse(const floe_catalog *c);
/* The catalog name rows are written under (owned by the catalog). */
const char *floe_catalog_name(const floe_catalog *c);

/* Parse "namespace.table", splitting at the last dot. Rejects empty parts
 * ("a..b", ".a", "a."), '/', '\\', control characters and parts longer than
 * 255 bytes with FLOE_EINVALID. */
int floe_ident_parse(floe_ident *out, const char *text, floe_error *err);
/* Check a namespace name by the same rules (FLOE_EINVALID). */
int floe_ident_check_namespace(const char *ns, floe_error *err);

/* ---- namespaces ---- */

/* Create: FLOE_EEXISTS when it exists. */
int floe_catalog_create_namespace(floe_catalog *c, const char *ns, floe_error *err);
/* 1 when the namespace exists (explicitly, or implied by a table or a
 * nested namespace below it, as JdbcCatalog sees it), 0 when not, or a
 * negative code. */
int floe_catalog_namespace_exists(floe_catalog *c, const char *ns, floe_error *err);
/* Every namespace, sorted bytewise. *out is a malloc'ed array of malloc'ed
 * strings; free with floe_catalog_free_list(*out, *n). */
int floe_catalog_list_namespaces(floe_catalog *c, char ***out, size_t *n, floe_error *err);
/* Drop an empty namespace and its properties: FLOE_ENOTFOUND when missing,
 * FLOE_EINVALID when it holds tables or nested namespaces. */
int floe_catalog_drop_namespace(floe_catalog *c, const char *ns, floe_error *err);
/* Set a namespace property; `value` NULL removes it. FLOE_ENOTFOUND when
 * the namespace does not exist. The key "exists" is reserved. */
int floe_catalog_set_property(floe_catalog *c, const char *ns, const char *key,
                              const char *value, floe_error *err);
/* *value is malloc'ed (caller frees). FLOE_ENOTFOUND when unset. */
int floe_catalog_get_property(floe_catalog *c, const char *ns, const char *key, char **value,
                              floe_error *err);

/* ---- tables ---- */

/* Register a table whose current metadata file is `metadata_location`.
 * FLOE_EEXISTS when the identifier is taken; FLOE_ENOTFOUND when the
 * namespace does not exist, unless `create_namespace`. */
int floe_catalog_create_table(floe_catalog *c, const floe_ident *ident,
                              const char *metadata_location, bool create_namespace,
                              floe_error *err);
/* *metadata_location is malloc'ed (caller frees). FLOE_ENOTFOUND. */
int floe_catalog_load_table(floe_catalog *c, const floe_ident *ident, char **metadata_location,
                            floe_error *err);
/* Tables of namespace `ns` (NULL = all) as "ns.name" strings sorted by
 * namespace then name; free with floe_catalog_free_list. */
int floe_catalog_list_tables(floe_catalog *c, const char *ns, char ***idents, size_t *n,
                             floe_error *err);
void floe_catalog_free_list(char **list, size_t n);
/* FLOE_ENOTFOUND (source or target namespace), FLOE_EEXISTS (target). */
int floe_catalog_rename_table(floe_catalog *c, const floe_ident *from, const floe_ident *to,
                              floe_error *err);
/* Remove the row only; deleting the files is the caller's job. */
int floe_catalog_drop_table(floe_catalog *c, const floe_ident *ident, floe_error *err);
/* Compare-and-swap the table's metadata pointer from `expected_location`
 * to `new_location` in one transaction (previous_metadata_location becomes
 * `expected_location`). FLOE_ECONFLICT when the pointer is no longer
 * `expected_location` (or the database stayed locked): nothing changed,
 * retry from a fresh load. FLOE_ECOMMIT_UNKNOWN when the database failed
 * after the update may have been written: do not retry, do not delete
 * `new_location`. FLOE_ENOTFOUND when the table is gone. */
int floe_catalog_commit(floe_catalog *c, const floe_ident *ident, const char *expected_location,
                        const char *new_location, floe_error *err);
/* WAREHOUSE/ns/table into buf, with the namespace's dots as directories
 * ("a.b.t" -> WAREHOUSE/a/b/t). FLOE_EINVALID when it does not fit. */
int floe_catalog_default_location(const floe_catalog *c, const floe_ident *ident, char *buf,
                                  size_t size, floe_error *err);

#ifdef __cplusplus
}
#endif
#endif
