/* floe/error.h - the one error convention of libfloe: a negative code plus a
 * one-line message. Every fallible call takes `floe_error *err` last (NULL is
 * allowed) and returns 0 or a negative FLOE_E* code. */
#ifndef FLOE_ERROR_H
#define FLOE_ERROR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Few codes, each with a reason to exist (docs/errors.md). */
typedef enum floe_code {
	FLOE_OK = 0,
	FLOE_ENOTFOUND = -1,      /* a named thing does not exist */
	FLOE_EEXISTS = -2,        /* a named thing already exists */
	FLOE_ECORRUPT = -3,       /* input bytes violate their format */
	FLOE_EIO = -4,            /* the operating system refused a read/write */
	FLOE_ENOMEM = -5,         /* allocation failed */
	FLOE_EINVALID = -6,       /* the caller's arguments are wrong */
	FLOE_EUNSUPPORTED = -7,   /* valid input using a feature floe lacks */
	FLOE_ECONFLICT = -8,      /* a concurrent commit won; retry is safe */
	FLOE_ECOMMIT_UNKNOWN = -9 /* outcome unknown: never retry, never delete */
} floe_code;

#define FLOE_ERROR_MSG_MAX 512

typedef struct floe_error {
	int code;                     /* a floe_code, FLOE_OK when clear */
	char msg[FLOE_ERROR_MSG_MAX]; /* one line, no trailing newline */
} floe_error;

/* Set `err` (may be NULL) and return `code`. printf-style message. */
int floe_error_set(floe_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Corrupt input: message reads "FILE: corrupt at byte OFFSET: DETAIL". */
int floe_error_corrupt(floe_error *err, const char *file, uint64_t offset,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Give an error set by a low-level decoder (which knows the reason but not
 * where it is) its place: the message becomes "FILE: corrupt at byte OFFSET:
 * OLD MESSAGE" and the code is kept. Returns err->code (or FLOE_ECORRUPT
 * when err is NULL). */
int floe_error_locate(floe_error *err, const char *file, uint64_t offset);

/* Prefix the message with "WHAT: " (for adding context on the way up). */
int floe_error_prefix(floe_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void floe_error_clear(floe_error *err);

/* "corrupt", "not found", ...; never NULL. */
const char *floe_error_code_name(int code);

#ifdef __cplusplus
}
#endif
#endif
