/* util/fs.h - local file IO helpers: atomic replace, mkdir -p with fsync,
 * capped reads, lexical containment, tree removal and walks (used by the
 * catalog, table commits and purge/orphan cleanup). */
#ifndef FLOE_UTIL_FS_H
#define FLOE_UTIL_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "floe/error.h"

/* Write `len` bytes to `path` atomically: the bytes go to
 * "DIR/.NAME.tmp-<random>", which is fsync'ed, renamed over `path`, and the
 * directory is fsync'ed. Readers see the old content or the new, never a
 * mix. On failure the temporary file is removed and `path` is untouched. */
int floe_fs_write_atomic(const char *path, const void *data, size_t len, floe_error *err);

/* mkdir -p: creates `path` and missing parents (mode 0755), fsyncing the
 * parent of every directory it creates. An existing directory is fine. */
int floe_fs_mkdirs(const char *path, floe_error *err);

/* fsync the file at `path` (written and closed earlier) so that its data
 * is durable. */
int floe_fs_fsync_file(const char *path, floe_error *err);

/* fsync a directory so that entries created/renamed in it are durable. */
int floe_fs_fsync_dir(const char *dir, floe_error *err);

/* Read a whole regular file. *out is malloc'ed (caller frees) with a NUL
 * byte after the `*len` data bytes. A file larger than `max` bytes is
 * FLOE_EINVALID; a missing file FLOE_ENOTFOUND. */
int floe_fs_read_all(uint8_t **out, size_t *len, const char *path, size_t max, floe_error *err);

/* true when `path` names an existing file system entry (lstat). */
bool floe_fs_exists(const char *path);

/* Lexically normalize `path` into `out` (collapse "//", drop ".", resolve
 * ".." textually; relative paths are made absolute with the current
 * directory). No symlinks are consulted. FLOE_EINVALID when it does not fit. */
int floe_fs_normalize(char *out, size_t size, const char *path, floe_error *err);

/* 1 when `path`, after lexical normalization, is `root` or lies inside it;
 * 0 otherwise (also when either does not normalize). */
int floe_fs_within(const char *root, const char *path);

/* Remove `dir` and everything below it, never following symlinks (a link
 * is removed, not its target). Refuses "/" and any `dir` that is not
 * strictly inside `root` (FLOE_EINVALID). A missing `dir` is not an error. */
int floe_fs_remove_tree(const char *root, const char *dir, floe_error *err);

/* Called for every regular file below the walked directory with its path
 * ("DIR/sub/file") and lstat result. A non-zero return stops the walk and
 * becomes floe_fs_walk's result. */
typedef int (*floe_fs_walk_fn)(void *ud, const char *path, const struct stat *st);

/* Visit regular files below `dir` recursively (symlinks are not followed,
 * nesting is capped at 64 levels). Order within a directory is unspecified. */
int floe_fs_walk(const char *dir, floe_fs_walk_fn fn, void *ud, floe_error *err);

/* A random (version 4) UUID in canonical lower-case form, from getrandom(). */
void floe_uuid4(char out[37]);

/* Wall clock in milliseconds since the Unix epoch. */
int64_t floe_now_ms(void);

#endif
