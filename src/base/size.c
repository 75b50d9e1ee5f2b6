// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "base/size.h"

static int unit_shift(const char *suffix, unsigned int *shift)
{
	static const struct {
		const char *name;
		unsigned int shift;
	} units[] = {
		{ "", 0 },   { "B", 0 },    { "K", 10 }, { "KiB", 10 },
		{ "M", 20 }, { "MiB", 20 }, { "G", 30 }, { "GiB", 30 },
		{ "T", 40 }, { "TiB", 40 }, { "k", 10 }, { "m", 20 },
		{ "g", 30 }, { "t", 40 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(suffix, units[i].name)) {
			*shift = units[i].shift;
			return 0;
		}
	}
	return -1;
}

int parse_size(const char *s, const char *what, uint64_t *out, struct uerr *err)
{
	uint64_t v = 0;
	unsigned int shift;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*s))
		return uerr_set(err, EINVAL,
				"%s: '%s' is not a size (examples: 4096, 64K, "
				"512M, 2G, 1T)",
				what, s ? s : "");
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int d = *p - '0';

		if (v > (UINT64_MAX - d) / 10)
			return uerr_set(err, ERANGE, "%s: '%s' is too large",
					what, s);
		v = v * 10 + d;
	}
	if (*p == '.' && isdigit((unsigned char)p[1]))
		return uerr_set(err, EINVAL,
				"%s: '%s': whole numbers only (1536M, not "
				"1.5G)",
				what, s);
	if (unit_shift(p, &shift))
		return uerr_set(err, EINVAL,
				"%s: unknown unit '%s' in '%s' (use K, M, G "
				"or T)",
				what, p, s);
	if (shift && v > (UINT64_MAX >> shift))
		return uerr_set(err, ERANGE, "%s: '%s' is too large", what, s);
	v <<= shift;
	if (!v)
		return uerr_set(err, EINVAL, "%s: size must not be zero", what);
	*out = v;
	return 0;
}

int parse_uint(const char *s, const char *what, unsigned long min,
	       unsigned long max, unsigned long *out, struct uerr *err)
{
	unsigned long v = 0;
	const char *p = s;

	if (!s || !*s)
		return uerr_set(err, EINVAL, "%s: a number is required", what);
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return uerr_set(err, EINVAL, "%s: '%s' is not a number",
					what, s);
		if (v > (ULONG_MAX - (*p - '0')) / 10)
			return uerr_set(err, ERANGE,
					"%s: %s is out of range (%lu..%lu)",
					what, s, min, max);
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return uerr_set(err, ERANGE,
				"%s: %s is out of range (%lu..%lu)", what, s,
				min, max);
	*out = v;
	return 0;
}

const char *format_size(uint64_t bytes, char *buf, unsigned int len)
{
	static const char units[] = "BKMGTPE";
	unsigned int u = 0;
	uint64_t whole = bytes;

	while (whole >= 1024 && !(whole % 1024) && u < 6) {
		whole /= 1024;
		u++;
	}
	if (u)
		snprintf(buf, len, "%llu%c", (unsigned long long)whole,
			 units[u]);
	else
		snprintf(buf, len, "%llu", (unsigned long long)whole);
	return buf;
}
