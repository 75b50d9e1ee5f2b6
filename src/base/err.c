// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "base/err.h"

static int uerr_ret(const struct uerr *err)
{
	return err->code > 0 ? -err->code : -1;
}

int uerr_set(struct uerr *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return uerr_ret(err);
}

int uerr_sys(struct uerr *err, int code, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(code));
	return uerr_ret(err);
}

int uerr_prefix(struct uerr *err, const char *fmt, ...)
{
	char old[sizeof(err->msg)];
	size_t n;
	va_list ap;

	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", old);
	return uerr_ret(err);
}

void uerr_clear(struct uerr *err)
{
	err->code = 0;
	err->msg[0] = '\0';
}
