/* util/error.c - floe_error: codes and one-line messages (floe/error.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "floe/error.h"

static void vset(floe_error *err, int code, const char *fmt, va_list ap)
{
	err->code = code;
	if (vsnprintf(err->msg, sizeof err->msg, fmt, ap) < 0)
		err->msg[0] = '\0';
	/* one line: newlines from callers' text become spaces */
	for (char *p = err->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

int floe_error_set(floe_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vset(err, code, fmt, ap);
		va_end(ap);
	}
	return code;
}

int floe_error_corrupt(floe_error *err, const char *file, uint64_t offset, const char *fmt, ...)
{
	if (err) {
		char detail[FLOE_ERROR_MSG_MAX];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof detail, fmt, ap);
		va_end(ap);
		floe_error_set(err, FLOE_ECORRUPT, "%s: corrupt at byte %llu: %s",
		               file ? file : "<input>", (unsigned long long)offset, detail);
	}
	return FLOE_ECORRUPT;
}

int floe_error_locate(floe_error *err, const char *file, uint64_t offset)
{
	if (!err)
		return FLOE_ECORRUPT;
	int code = err->code ? err->code : FLOE_ECORRUPT;
	char old[FLOE_ERROR_MSG_MAX];
	memcpy(old, err->msg, sizeof old);
	old[sizeof old - 1] = '\0';
	if (code == FLOE_ECORRUPT)
		floe_error_set(err, code, "%s: corrupt at byte %llu: %s", file ? file : "<input>",
		               (unsigned long long)offset, old);
	else
		floe_error_set(err, code, "%s: at byte %llu: %s", file ? file : "<input>",
		               (unsigned long long)offset, old);
	return code;
}

int floe_error_prefix(floe_error *err, const char *fmt, ...)
{
	if (!err)
		return FLOE_OK;
	char pre[FLOE_ERROR_MSG_MAX], old[FLOE_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	old[sizeof old - 1] = '\0';
	if (snprintf(err->msg, sizeof err->msg, "%s: %s", pre, old) >= (int)sizeof err->msg)
		err->msg[sizeof err->msg - 1] = '\0'; /* long messages are cut, not lost */
	return err->code;
}

void floe_error_clear(floe_error *err)
{
	if (err) {
		err->code = FLOE_OK;
		err->msg[0] = '\0';
	}
}

const char *floe_error_code_name(int code)
{
	switch (code) {
	case FLOE_OK: return "ok";
	case FLOE_ENOTFOUND: return "not found";
	case FLOE_EEXISTS: return "exists";
	case FLOE_ECORRUPT: return "corrupt";
	case FLOE_EIO: return "io";
	case FLOE_ENOMEM: return "out of memory";
	case FLOE_EINVALID: return "invalid";
	case FLOE_EUNSUPPORTED: return "unsupported";
	case FLOE_ECONFLICT: return "conflict";
	case FLOE_ECOMMIT_UNKNOWN: return "commit state unknown";
	default: return "unknown error";
	}
}
