// SPDX-License-Identifier: MIT
/* parse_size, parse_uint and format_size (src/base/size.c) */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "base/size.h"

#define UNTOUCHED 0x5a5a5a5a5a5a5a5aULL

static void size_ok(const char *s, uint64_t want)
{
	struct uerr err;
	uint64_t v = UNTOUCHED;
	int ret;

	uerr_clear(&err);
	ret = parse_size(s, "--size", &v, &err);
	if (!is_int(ret, 0, "parse_size('%s') succeeds", s))
		diag("error: %s", err.msg);
	is_u64(v, want, "parse_size('%s') = %llu", s, (unsigned long long)want);
}

/* Refused with -code, *out untouched, and a message naming the value */
static void size_bad(const char *s, int code, const char *msg)
{
	char quoted[128];
	struct uerr err;
	uint64_t v = UNTOUCHED;
	int ret;

	uerr_clear(&err);
	ret = parse_size(s, "--size", &v, &err);
	is_int(ret, -code, "parse_size('%s') is refused (%s)", s,
	       strerror(code));
	is_int(err.code, code, "  err.code is %s", strerror(code));
	is_u64(v, UNTOUCHED, "  the output is not written");
	like(err.msg, "^--size: ", "  the message starts with the option");
	if (msg) {
		contains(err.msg, msg, "  the message says '%s'", msg);
	} else {
		snprintf(quoted, sizeof(quoted), "'%s'", s);
		contains(err.msg, quoted, "  the message quotes %s", quoted);
	}
	ok(!strchr(err.msg, '\n'), "  the message is one line");
}

static void test_parse_size(void)
{
	struct uerr err;
	uint64_t v = UNTOUCHED;
	int ret;

	note("parse_size: plain numbers and units");
	size_ok("1", 1);
	size_ok("4096", 4096);
	size_ok("512B", 512);
	size_ok("1K", 1024);
	size_ok("1k", 1024);
	size_ok("3m", 3 << 20);
	size_ok("2g", 2ULL << 30);
	size_ok("1t", 1ULL << 40);
	size_ok("64K", 64 << 10);
	size_ok("64KiB", 64 << 10);
	size_ok("1M", 1 << 20);
	size_ok("512MiB", 512ULL << 20);
	size_ok("2G", 2ULL << 30);
	size_ok("3GiB", 3ULL << 30);
	size_ok("1T", 1ULL << 40);
	size_ok("5TiB", 5ULL << 40);
	size_ok("007", 7);

	note("parse_size: the largest values");
	size_ok("18446744073709551615", UINT64_MAX);
	size_ok("16777215T", 16777215ULL << 40);
	size_ok("17179869183G", 17179869183ULL << 30);
	size_ok("18014398509481983K", 18014398509481983ULL << 10);

	note("parse_size: refused");
	size_bad("0", EINVAL, "zero");
	size_bad("0K", EINVAL, "zero");
	size_bad("", EINVAL, NULL);
	size_bad("-1", EINVAL, NULL);
	size_bad("-1G", EINVAL, NULL);
	size_bad("+1G", EINVAL, NULL);
	size_bad(" 1G", EINVAL, NULL);
	size_bad("1G ", EINVAL, NULL);
	size_bad("1 G", EINVAL, NULL);
	size_bad("1.5G", EINVAL, "whole numbers only (1536M, not 1.5G)");
	size_bad("0.5", EINVAL, NULL);
	size_bad(".5G", EINVAL, NULL);
	size_bad("1X", EINVAL, NULL);
	size_bad("1KB", EINVAL, NULL);
	size_bad("1Gi", EINVAL, NULL);
	size_bad("1GG", EINVAL, NULL);
	size_bad("G", EINVAL, NULL);
	size_bad("0x10", EINVAL, NULL);
	size_bad("1e3", EINVAL, NULL);
	size_bad("18446744073709551616", ERANGE, NULL);
	size_bad("99999999999999999999", ERANGE, NULL);
	size_bad("184467440737095516150", ERANGE, NULL);
	size_bad("16777216T", ERANGE, NULL);
	size_bad("17179869184G", ERANGE, NULL);
	size_bad("18014398509481984K", ERANGE, NULL);
	size_bad("99999999999T", ERANGE, NULL);

	/* 16E is 2^64: refused, whether as too large or as an unknown unit */
	uerr_clear(&err);
	ret = parse_size("16E", "--size", &v, &err);
	ok(ret < 0, "parse_size('16E') is refused");
	is_u64(v, UNTOUCHED, "  the output is not written");
	contains(err.msg, "'16E'", "  the message quotes '16E'");

	uerr_clear(&err);
	ret = parse_size(NULL, "--size", &v, &err);
	ok(ret < 0, "parse_size(NULL) is refused");
	is_int(err.code, EINVAL, "  with EINVAL");
	contains(err.msg, "--size", "  naming the option");
}

static void uint_ok(const char *s, unsigned long min, unsigned long max,
		    unsigned long want)
{
	unsigned long v = 12345;
	struct uerr err;
	int ret;

	uerr_clear(&err);
	ret = parse_uint(s, "--depth", min, max, &v, &err);
	if (!is_int(ret, 0, "parse_uint('%s', %lu..%lu) succeeds", s, min, max))
		diag("error: %s", err.msg);
	is_u64(v, want, "  = %lu", want);
}

static void uint_bad(const char *s, unsigned long min, unsigned long max,
		     int code, const char *msg)
{
	unsigned long v = 12345;
	struct uerr err;
	int ret;

	uerr_clear(&err);
	ret = parse_uint(s, "--depth", min, max, &v, &err);
	is_int(ret, -code, "parse_uint('%s', %lu..%lu) is refused (%s)", s, min,
	       max, strerror(code));
	is_int(err.code, code, "  err.code is %s", strerror(code));
	is_u64(v, 12345, "  the output is not written");
	like(err.msg, "^--depth: ", "  the message starts with the option");
	contains(err.msg, msg, "  the message says \"%s\"", msg);
}

static void test_parse_uint(void)
{
	char buf[64];

	note("parse_uint: range edges");
	uint_ok("1", 1, 4096, 1);
	uint_ok("4096", 1, 4096, 4096);
	uint_ok("0", 0, 0, 0);
	uint_ok("0", 0, 10, 0);
	uint_ok("000123", 0, 1000, 123);
	uint_ok("4294967295", 0, UINT32_MAX, UINT32_MAX);
	snprintf(buf, sizeof(buf), "%lu", ULONG_MAX);
	uint_ok(buf, 0, ULONG_MAX, ULONG_MAX);

	uint_bad("0", 1, 4096, ERANGE, "0 is out of range (1..4096)");
	uint_bad("4097", 1, 4096, ERANGE, "4097 is out of range (1..4096)");
	uint_bad("65", 1, 64, ERANGE, "65 is out of range (1..64)");
	uint_bad("4294967296", 0, UINT32_MAX, ERANGE,
		 "4294967296 is out of range (0..4294967295)");

	note("parse_uint: overflow");
	uint_bad("18446744073709551616", 0, ULONG_MAX, ERANGE,
		 "18446744073709551616 is out of range");
	uint_bad("99999999999999999999999", 0, ULONG_MAX, ERANGE,
		 "99999999999999999999999 is out of range");

	note("parse_uint: not numbers");
	uint_bad("", 0, 10, EINVAL, "a number is required");
	uint_bad("-1", 0, 10, EINVAL, "'-1' is not a number");
	uint_bad("+1", 0, 10, EINVAL, "'+1' is not a number");
	uint_bad(" 1", 0, 10, EINVAL, "' 1' is not a number");
	uint_bad("1 ", 0, 10, EINVAL, "'1 ' is not a number");
	uint_bad("1x", 0, 10, EINVAL, "'1x' is not a number");
	uint_bad("0x1", 0, 10, EINVAL, "'0x1' is not a number");
	uint_bad("1.0", 0, 10, EINVAL, "'1.0' is not a number");
	uint_bad("4K", 0, 10000, EINVAL, "'4K' is not a number");
}

static void fmt_is(uint64_t bytes, const char *want)
{
	char buf[32];
	const char *ret;

	memset(buf, 'x', sizeof(buf));
	ret = format_size(bytes, buf, sizeof(buf));
	ok(ret == buf, "format_size returns its buffer");
	is_str(buf, want, "format_size(%llu) = %s", (unsigned long long)bytes,
	       want);
}

static void test_format_size(void)
{
	char small[4];

	note("format_size");
	fmt_is(0, "0");
	fmt_is(1, "1");
	fmt_is(512, "512");
	fmt_is(1000, "1000");
	fmt_is(1023, "1023");
	fmt_is(1024, "1K");
	fmt_is(1025, "1025");
	fmt_is(1536, "1536");
	fmt_is(4096, "4K");
	fmt_is(1025 * 1024, "1025K");
	fmt_is(1ULL << 20, "1M");
	fmt_is(1536ULL << 20, "1536M");
	fmt_is(3ULL << 30, "3G");
	fmt_is(250ULL << 30, "250G");
	fmt_is(1ULL << 40, "1T");
	fmt_is(1ULL << 50, "1P");
	fmt_is(1ULL << 60, "1E");
	fmt_is(1ULL << 63, "8E");
	fmt_is(UINT64_MAX, "18446744073709551615");
	fmt_is(UINT64_MAX - 1023, "18014398509481983K");

	memset(small, 'x', sizeof(small));
	format_size(123456, small, sizeof(small));
	is_str(small, "123", "format_size truncates to the buffer, with a NUL");

	/* What format_size writes, parse_size reads back (up to T) */
	{
		static const uint64_t v[] = { 1,	  4096,
					      1ULL << 20, 3ULL << 30,
					      7ULL << 40, 1025 * 1024 };
		char buf[32];
		uint64_t back;
		struct uerr err;
		unsigned int i;

		for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			format_size(v[i], buf, sizeof(buf));
			back = 0;
			ok(parse_size(buf, "x", &back, &err) == 0 &&
				   back == v[i],
			   "parse_size(format_size(%llu) = '%s') round trips",
			   (unsigned long long)v[i], buf);
		}
	}
}

int main(void)
{
	test_parse_size();
	test_parse_uint();
	test_format_size();
	return done_testing();
}
