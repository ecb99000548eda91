/*
 * test_record.c - record.c: the growable buffer, JSON string escaping (exact cases, a
 * differential check against a slow reference encoder, and round trips through an
 * independent JSON string decoder), mask names and whole event/alert/dropped lines.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compat.h"
#include "record.h"

/* U+FFFD in UTF-8: what each byte outside well-formed UTF-8 is written as. */
#define FFFD "\xef\xbf\xbd"

/* A byte-string literal and its length, NULs included. */
#define BYTES(s) (s), (sizeof(s) - 1)

/* ---- independent helpers: a UTF-8 validator, a JSON string decoder, a reference encoder */

/*
 * Decodes one UTF-8 scalar value at s by its bit pattern, then checks the value (the
 * record.c code checks byte ranges instead). Returns its length, or 0 if ill-formed.
 */
static size_t ref_utf8_decode(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
	static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min_cp[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	*ret_cp = cp;
	return len;
}

static bool ref_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t l = ref_utf8_decode(s + i, n - i, &cp);

		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

/* The slow, obvious encoder: one snprintf per escaped byte. Returns the output length. */
static size_t ref_encode(const unsigned char *s, size_t n, char *out)
{
	size_t i = 0, o = 0;

	out[o++] = '"';
	while (i < n) {
		uint32_t cp;
		size_t l = ref_utf8_decode(s + i, n - i, &cp);

		if (l == 0) {
			memcpy(out + o, FFFD, 3);
			o += 3;
			i++;
		} else if (l > 1) {
			memcpy(out + o, s + i, l);
			o += l;
			i += l;
		} else {
			switch (s[i]) {
			case '"': o += (size_t)sprintf(out + o, "\\\""); break;
			case '\\': o += (size_t)sprintf(out + o, "\\\\"); break;
			case '\b': o += (size_t)sprintf(out + o, "\\b"); break;
			case '\f': o += (size_t)sprintf(out + o, "\\f"); break;
			case '\n': o += (size_t)sprintf(out + o, "\\n"); break;
			case '\r': o += (size_t)sprintf(out + o, "\\r"); break;
			case '\t': o += (size_t)sprintf(out + o, "\\t"); break;
			default:
				if (s[i] < 0x20 || s[i] == 0x7f)
					o += (size_t)sprintf(out + o, "\\u%04x", s[i]);
				else
					out[o++] = (char)s[i];
			}
			i++;
		}
	}
	out[o++] = '"';
	return o;
}

static int hex4(const char *p, uint32_t *ret)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*ret = v;
	return 0;
}

static size_t put_utf8(uint32_t cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	} else if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	} else if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decodes the JSON string that is exactly in[0..n) (quotes included) into UTF-8 bytes, the
 * way json.loads() + encode("utf-8") does: surrogate pairs become their code point, and a
 * lone surrogate (not I-JSON; serde_json refuses it) fails. Returns the byte count, or -1
 * if the text is not one well-formed JSON string or holds a lone surrogate.
 */
static long json_decode(const char *in, size_t n, unsigned char *out)
{
	size_t i = 1, o = 0;

	if (n < 2 || in[0] != '"')
		return -1;
	while (i < n) {
		unsigned char c = (unsigned char)in[i];
		uint32_t cp, lo;

		if (c == '"')
			return i + 1 == n ? (long)o : -1;
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			out[o++] = c;
			i++;
			continue;
		}
		if (i + 1 >= n)
			return -1;
		switch (in[i + 1]) {
		case '"': out[o++] = '"'; i += 2; continue;
		case '\\': out[o++] = '\\'; i += 2; continue;
		case '/': out[o++] = '/'; i += 2; continue;
		case 'b': out[o++] = '\b'; i += 2; continue;
		case 'f': out[o++] = '\f'; i += 2; continue;
		case 'n': out[o++] = '\n'; i += 2; continue;
		case 'r': out[o++] = '\r'; i += 2; continue;
		case 't': out[o++] = '\t'; i += 2; continue;
		case 'u': break;
		default: return -1;
		}
		if (i + 6 > n || hex4(in + i + 2, &cp) < 0)
			return -1;
		i += 6;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (i + 6 > n || in[i] != '\\' || in[i + 1] != 'u' ||
			    hex4(in + i + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
				return -1;
			i += 6;
			o += put_utf8(0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00), out + o);
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			return -1;
		} else {
			o += put_utf8(cp, out + o);
		}
	}
	return -1;
}

/* ---- the checks the tables run */

/* Encodes s into a fresh buffer and compares with the exact expected JSON text. */
static void check_encoding(const char *name, const void *s, size_t n, const char *want)
{
	struct buf b = { 0 };

	/* 1: a byte was not UTF-8, and a record would add the field's _raw. */
	assert_int_equal(record_json_string(&b, s, n), ref_utf8_valid(s, n) ? 0 : 1);
	if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0)
		fail_msg("%s: got %.*s, want %s", name, (int)b.len, b.data, want);
	buf_free(&b);
}

/* s with U+FFFD for each byte outside well-formed UTF-8 (3 * n bytes at most). */
static size_t ref_replace(const unsigned char *s, size_t n, unsigned char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		uint32_t cp;
		size_t l = ref_utf8_decode(s + i, n - i, &cp);

		if (l == 0) {
			memcpy(out + o, FFFD, 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, s + i, l);
			o += l;
			i += l;
		}
	}
	return o;
}

/*
 * Encodes s and checks the output: equal to the reference encoder's, valid UTF-8, free of
 * raw control bytes and DEL, without a lone surrogate, and decoding back to exactly s with
 * U+FFFD for each byte outside well-formed UTF-8 (all of s when s is UTF-8).
 */
static void check_roundtrip(struct buf *b, const unsigned char *s, size_t n)
{
	char *ref = malloc(6 * n + 2);
	unsigned char *dec = malloc(3 * n + 1), *rep = malloc(3 * n + 1);
	size_t ref_len, rep_len, i;
	long dec_len;

	assert_non_null(ref);
	assert_non_null(dec);
	assert_non_null(rep);
	b->len = 0;
	assert_int_equal(record_json_string(b, (const char *)s, n), ref_utf8_valid(s, n) ? 0 : 1);

	ref_len = ref_encode(s, n, ref);
	if (b->len != ref_len || memcmp(b->data, ref, ref_len) != 0) {
		fprintf(stderr, "input (%zu bytes):", n);
		for (i = 0; i < n && i < 64; i++)
			fprintf(stderr, " %02x", s[i]);
		fail_msg("differs from reference: got %.*s, want %.*s", (int)b->len, b->data,
			 (int)ref_len, ref);
	}
	assert_true(ref_utf8_valid((const unsigned char *)b->data, b->len));
	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		assert_true(c >= 0x20 && c != 0x7f);
	}
	dec_len = json_decode(b->data, b->len, dec);
	rep_len = ref_replace(s, n, rep);
	assert_int_equal(dec_len, (long)rep_len);
	if (rep_len)
		assert_memory_equal(dec, rep, rep_len);
	free(ref);
	free(dec);
	free(rep);
}

/* A fixed-seed xorshift64 PRNG: the same strings on every run. */
static uint64_t rng_next(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *st = x;
}

/*
 * Fills s with n bytes that are likely to hit the interesting cases: a mix of ASCII,
 * control bytes, well-formed sequences of every length and arbitrary high bytes.
 */
static void fill_random(uint64_t *st, unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint64_t r = rng_next(st);
		unsigned char tmp[4];
		size_t l;
		uint32_t cp;

		switch (r % 6) {
		case 0:
			s[i++] = (unsigned char)(0x20 + (r >> 8) % 0x5f);
			break;
		case 1:
			s[i++] = (unsigned char)(r >> 8);
			break;
		case 2:
			s[i++] = (unsigned char)(0x80 + (r >> 8) % 0x80);
			break;
		default:
			cp = (uint32_t)((r >> 8) % 0x110000);
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			if (r % 6 == 3)
				cp = cp % 0x800;
			l = put_utf8(cp, tmp);
			/* Sometimes cut a sequence short. */
			if (l > 1 && (r >> 40) % 8 == 0)
				l--;
			if (l > n - i)
				l = n - i;
			memcpy(s + i, tmp, l);
			i += l;
		}
	}
}

/* ---- struct buf */

static void test_buf_append_and_free(void **state)
{
	struct buf b = { 0 };
	char chunk[1000];
	size_t i;

	(void)state;
	buf_free(&b);	/* a zeroed buffer */
	assert_int_equal(buf_append(&b, NULL, 0), 0);
	assert_int_equal(b.len, 0);
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)i;
	/* Grows well past the initial capacity, several doublings. */
	for (i = 0; i < 100; i++)
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 100 * sizeof(chunk));
	assert_true(b.cap >= b.len);
	for (i = 0; i < 100; i++)
		assert_memory_equal(b.data + i * sizeof(chunk), chunk, sizeof(chunk));
	/* One append much larger than the doubled capacity. */
	b.len = 0;
	{
		size_t big = 3 * 1024 * 1024 + 7;
		char *p = malloc(big);

		assert_non_null(p);
		memset(p, 'x', big);
		assert_int_equal(buf_append(&b, p, big), 0);
		assert_int_equal(b.len, big);
		assert_memory_equal(b.data, p, big);
		free(p);
	}
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	buf_free(&b);	/* twice */
	assert_int_equal(buf_append(&b, "ab", 2), 0);
	assert_memory_equal(b.data, "ab", 2);
	buf_free(&b);
}

/* ---- JSON strings: exact cases */

struct enc_case {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
};

static void run_enc_cases(const struct enc_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		check_encoding(c[i].name, c[i].in, c[i].len, c[i].want);
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_string_control_bytes(void **state)
{
	static const struct enc_case cases[] = {
		{ "NUL", BYTES("\x00"), "\"\\u0000\"" },
		{ "SOH", BYTES("\x01"), "\"\\u0001\"" },
		{ "STX", BYTES("\x02"), "\"\\u0002\"" },
		{ "ETX", BYTES("\x03"), "\"\\u0003\"" },
		{ "EOT", BYTES("\x04"), "\"\\u0004\"" },
		{ "ENQ", BYTES("\x05"), "\"\\u0005\"" },
		{ "ACK", BYTES("\x06"), "\"\\u0006\"" },
		{ "BEL", BYTES("\x07"), "\"\\u0007\"" },
		{ "BS", BYTES("\x08"), "\"\\b\"" },
		{ "HT", BYTES("\x09"), "\"\\t\"" },
		{ "LF", BYTES("\x0a"), "\"\\n\"" },
		{ "VT", BYTES("\x0b"), "\"\\u000b\"" },
		{ "FF", BYTES("\x0c"), "\"\\f\"" },
		{ "CR", BYTES("\x0d"), "\"\\r\"" },
		{ "SO", BYTES("\x0e"), "\"\\u000e\"" },
		{ "SI", BYTES("\x0f"), "\"\\u000f\"" },
		{ "DLE", BYTES("\x10"), "\"\\u0010\"" },
		{ "DC1", BYTES("\x11"), "\"\\u0011\"" },
		{ "DC2", BYTES("\x12"), "\"\\u0012\"" },
		{ "DC3", BYTES("\x13"), "\"\\u0013\"" },
		{ "DC4", BYTES("\x14"), "\"\\u0014\"" },
		{ "NAK", BYTES("\x15"), "\"\\u0015\"" },
		{ "SYN", BYTES("\x16"), "\"\\u0016\"" },
		{ "ETB", BYTES("\x17"), "\"\\u0017\"" },
		{ "CAN", BYTES("\x18"), "\"\\u0018\"" },
		{ "EM", BYTES("\x19"), "\"\\u0019\"" },
		{ "SUB", BYTES("\x1a"), "\"\\u001a\"" },
		{ "ESC", BYTES("\x1b"), "\"\\u001b\"" },
		{ "FS", BYTES("\x1c"), "\"\\u001c\"" },
		{ "GS", BYTES("\x1d"), "\"\\u001d\"" },
		{ "RS", BYTES("\x1e"), "\"\\u001e\"" },
		{ "US", BYTES("\x1f"), "\"\\u001f\"" },
		{ "DEL", BYTES("\x7f"), "\"\\u007f\"" },
		{ "space is plain", BYTES(" "), "\" \"" },
		{ "tilde is plain", BYTES("~"), "\"~\"" },
		{ "controls inside text", BYTES("a\nb\x00" "c\x7f"), "\"a\\nb\\u0000c\\u007f\"" },
	};

	(void)state;
	run_enc_cases(cases, ARRAY_SIZE(cases));
}

static void test_string_quote_backslash(void **state)
{
	static const struct enc_case cases[] = {
		{ "empty", BYTES(""), "\"\"" },
		{ "quote", BYTES("\""), "\"\\\"\"" },
		{ "backslash", BYTES("\\"), "\"\\\\\"" },
		{ "slash is not escaped", BYTES("/"), "\"/\"" },
		{ "path", BYTES("/tmp/a b/c.txt"), "\"/tmp/a b/c.txt\"" },
		{ "mixed", BYTES("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"" },
		{ "doubled", BYTES("\"\"\\\\"), "\"\\\"\\\"\\\\\\\\\"" },
		{ "backslash u in name", BYTES("\\u0041"), "\"\\\\u0041\"" },
	};

	(void)state;
	run_enc_cases(cases, ARRAY_SIZE(cases));
}

static void test_string_valid_utf8(void **state)
{
	static const struct enc_case cases[] = {
		{ "2-byte e acute", BYTES("\xc3\xa9"), "\"\xc3\xa9\"" },
		{ "2-byte U+0080 lowest", BYTES("\xc2\x80"), "\"\xc2\x80\"" },
		{ "2-byte U+07FF highest", BYTES("\xdf\xbf"), "\"\xdf\xbf\"" },
		{ "3-byte euro", BYTES("\xe2\x82\xac"), "\"\xe2\x82\xac\"" },
		{ "3-byte U+0800 lowest", BYTES("\xe0\xa0\x80"), "\"\xe0\xa0\x80\"" },
		{ "3-byte U+D7FF below surrogates", BYTES("\xed\x9f\xbf"), "\"\xed\x9f\xbf\"" },
		{ "3-byte U+E000 above surrogates", BYTES("\xee\x80\x80"), "\"\xee\x80\x80\"" },
		{ "3-byte U+FFFF", BYTES("\xef\xbf\xbf"), "\"\xef\xbf\xbf\"" },
		{ "3-byte U+2028 line separator", BYTES("\xe2\x80\xa8"), "\"\xe2\x80\xa8\"" },
		{ "4-byte emoji", BYTES("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"" },
		{ "4-byte U+10000 lowest", BYTES("\xf0\x90\x80\x80"), "\"\xf0\x90\x80\x80\"" },
		{ "4-byte U+10FFFF highest", BYTES("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"" },
		{ "mixed with ASCII", BYTES("caf\xc3\xa9/\xe2\x82\xac.txt"),
		  "\"caf\xc3\xa9/\xe2\x82\xac.txt\"" },
		{ "mixed with escapes", BYTES("\xc3\xa9\n\xe2\x82\xac\""),
		  "\"\xc3\xa9\\n\xe2\x82\xac\\\"\"" },
	};

	(void)state;
	run_enc_cases(cases, ARRAY_SIZE(cases));
}

/*
 * The bytes that are not UTF-8 (RFC 3629, Unicode table 3-7), each case named: every byte
 * that does not belong to a well-formed sequence is one U+FFFD, the sequence's start and
 * each byte after it that cannot continue it alike, and decoding restarts at the next one.
 */
static const struct enc_case invalid_cases[] = {
		{ "lone continuation 80", BYTES("\x80"), "\"" FFFD "\"" },
		{ "lone continuation bf", BYTES("\xbf"), "\"" FFFD "\"" },
		{ "continuations in text", BYTES("a\x80\x81" "b"), "\"a" FFFD "" FFFD "b\"" },
		{ "truncated 2 at end", BYTES("a\xc3"), "\"a" FFFD "\"" },
		{ "truncated 3 at end", BYTES("\xe2\x82"), "\"" FFFD "" FFFD "\"" },
		{ "truncated 4 at end", BYTES("\xf0\x9f\x98"), "\"" FFFD "" FFFD "" FFFD "\"" },
		{ "lead then ASCII", BYTES("\xc3" "A"), "\"" FFFD "A\"" },
		{ "truncated 3 then ASCII", BYTES("\xe2\x82" "A"), "\"" FFFD "" FFFD "A\"" },
		{ "lead then valid", BYTES("\xc3\xc3\xa9"), "\"" FFFD "\xc3\xa9\"" },
		{ "truncated 4 then valid 4", BYTES("\xf0\x9f\xf0\x9f\x98\x80"),
		  "\"" FFFD "" FFFD "\xf0\x9f\x98\x80\"" },
		{ "lead then NUL", BYTES("\xe2\x00"), "\"" FFFD "\\u0000\"" },
		{ "lead then quote", BYTES("\xc3\""), "\"" FFFD "\\\"\"" },
		{ "overlong C0 80 (NUL)", BYTES("\xc0\x80"), "\"" FFFD "" FFFD "\"" },
		{ "overlong C1 BF", BYTES("\xc1\xbf"), "\"" FFFD "" FFFD "\"" },
		{ "overlong C0 AF (slash)", BYTES("\xc0\xaf"), "\"" FFFD "" FFFD "\"" },
		{ "overlong E0 80 80", BYTES("\xe0\x80\x80"), "\"" FFFD "" FFFD "" FFFD "\"" },
		{ "overlong E0 9F BF", BYTES("\xe0\x9f\xbf"), "\"" FFFD "" FFFD "" FFFD "\"" },
		{ "overlong F0 80 80 80", BYTES("\xf0\x80\x80\x80"),
		  "\"" FFFD "" FFFD "" FFFD "" FFFD "\"" },
		{ "overlong F0 8F BF BF", BYTES("\xf0\x8f\xbf\xbf"),
		  "\"" FFFD "" FFFD "" FFFD "" FFFD "\"" },
		{ "surrogate ED A0 80 (U+D800)", BYTES("\xed\xa0\x80"),
		  "\"" FFFD "" FFFD "" FFFD "\"" },
		{ "surrogate ED BF BF (U+DFFF)", BYTES("\xed\xbf\xbf"),
		  "\"" FFFD "" FFFD "" FFFD "\"" },
		{ "surrogate ED B2 80 (U+DC80)", BYTES("\xed\xb2\x80"),
		  "\"" FFFD "" FFFD "" FFFD "\"" },
		{ "above max F4 90 80 80", BYTES("\xf4\x90\x80\x80"),
		  "\"" FFFD "" FFFD "" FFFD "" FFFD "\"" },
		{ "above max F4 BF BF BF", BYTES("\xf4\xbf\xbf\xbf"),
		  "\"" FFFD "" FFFD "" FFFD "" FFFD "\"" },
		{ "F5", BYTES("\xf5"), "\"" FFFD "\"" },
		{ "F5 80 80 80", BYTES("\xf5\x80\x80\x80"), "\"" FFFD "" FFFD "" FFFD "" FFFD "\"" },
		{ "F6", BYTES("\xf6"), "\"" FFFD "\"" },
		{ "F7 BF BF BF", BYTES("\xf7\xbf\xbf\xbf"), "\"" FFFD "" FFFD "" FFFD "" FFFD "\"" },
		{ "F8", BYTES("\xf8"), "\"" FFFD "\"" },
		{ "F9", BYTES("\xf9"), "\"" FFFD "\"" },
		{ "FA", BYTES("\xfa"), "\"" FFFD "\"" },
		{ "FB", BYTES("\xfb"), "\"" FFFD "\"" },
		{ "FC", BYTES("\xfc"), "\"" FFFD "\"" },
		{ "FD", BYTES("\xfd"), "\"" FFFD "\"" },
		{ "FE", BYTES("\xfe"), "\"" FFFD "\"" },
		{ "FF", BYTES("\xff"), "\"" FFFD "\"" },
		{ "5-byte form F8 88 80 80 80", BYTES("\xf8\x88\x80\x80\x80"),
		  "\"" FFFD "" FFFD "" FFFD "" FFFD "" FFFD "\"" },
		{ "latin-1 name", BYTES("caf\xe9.txt"), "\"caf" FFFD ".txt\"" },
	};

static void test_string_invalid_utf8(void **state)
{
	(void)state;
	run_enc_cases(invalid_cases, ARRAY_SIZE(invalid_cases));
}

static void check_line(const char *name, const struct buf *b, const char *want);

/* ",\"name\":" want ",\"name_raw\":[b,...]": the field, then its exact bytes. */
static void expect_raw_field(const char *what, const struct buf *b, const char *want_str,
			     const unsigned char *bytes, size_t n)
{
	char want[4096];
	size_t o;

	o = (size_t)snprintf(want, sizeof(want), ",\"name\":%s,\"name_raw\":[", want_str);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(want + o, sizeof(want) - o, "%s%u", i ? "," : "", bytes[i]);
	o += (size_t)snprintf(want + o, sizeof(want) - o, "],\"is_dir\":");
	if (!memmem(b->data, b->len, want, o))
		fail_msg("%s: %s not in %.*s", what, want, (int)b->len, b->data);
}

/*
 * Every named invalid case as an event's name: the name is its U+FFFD form and name_raw,
 * right after it, its exact bytes; the line has no lone surrogate escape. Valid UTF-8 (and
 * control bytes, which are valid) gets no _raw.
 */
static void test_raw_fields(void **state)
{
	static const char *const valid[] = { "", "plain", "caf\xc3\xa9", "\xf4\x8f\xbf\xbf",
					     "nl\n\x01\x7f", "\xed\x9f\xbf" };
	struct record_event r = { .seq = 1, .ts_ms = 1, .proc = { .pid = 1 } };
	struct buf b = { 0 };
	char name[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(invalid_cases); i++) {
		const struct enc_case *c = &invalid_cases[i];

		if (memchr(c->in, 0, c->len))
			continue; /* a C string (a file name) cannot hold a NUL */
		memcpy(name, c->in, c->len);
		name[c->len] = '\0';
		r.name = name;
		b.len = 0;
		assert_int_equal(record_event(&b, &r), 0);
		expect_raw_field(c->name, &b, c->want, (const unsigned char *)c->in, c->len);
		assert_null(memmem(b.data, b.len, "\\ud", 3));
		assert_true(ref_utf8_valid((const unsigned char *)b.data, b.len));
	}
	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		r.name = valid[i];
		b.len = 0;
		assert_int_equal(record_event(&b, &r), 0);
		assert_null(memmem(b.data, b.len, "_raw", 4));
	}
	buf_free(&b);
}

/* Every string field of an event, an alert and a dropped notice gets its _raw. */
static void test_raw_every_field(void **state)
{
	static const struct proc_info proc = { .pid = 2, .comm = "c\xff", .exe = "/e\xfe",
					       .sid = 7, .sid_known = true,
					       .cgroup = "/g\xff" };
	struct record_event r = {
		.seq = 1, .ts_ms = 1, .job_id = "j\x80", .path_role = "r\x81", .proc = proc,
		.path = "/p\xc0", .name = "n\xc1", .old_path = "/o\xf5", .is_rename = true,
		.reason = "why\xed\xa0\x80",
	};
	struct alert a = { .seq = 2, .ts_ms = 2, .kind = ALERT_CANARY, .pid = 2, .proc = &proc,
			   .path = "/p\xc0", .reason = "x\xff", .job_id = "j\x80",
			   .path_role = "r\x81" };
	static const char *const event_keys[] = {
		"\"job_id_raw\":[106,128],\"path_role\":",
		"\"path_role_raw\":[114,129],\"pid\":",
		"\"comm_raw\":[99,255],\"exe\":", "\"exe_raw\":[47,101,254],\"sid\":7,",
		"\"cgroup\":\"/g" FFFD "\",\"cgroup_raw\":[47,103,255],\"path\":",
		"\"path_raw\":[47,112,192],\"name\":", "\"name_raw\":[110,193],\"is_dir\":",
		"\"old_path_raw\":[47,111,245],\"reason\":",
		"\"reason_raw\":[119,104,121,237,160,128]}\n",
	};
	static const char *const alert_keys[] = {
		"\"job_id_raw\":[106,128],", "\"path_role_raw\":[114,129],",
		"\"comm_raw\":[99,255],", "\"exe_raw\":[47,101,254],\"sid\":7,",
		"\"cgroup_raw\":[47,103,255],\"path\":",
		"\"path_raw\":[47,112,192],", "\"reason_raw\":[120,255]}\n",
	};
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(record_event(&b, &r), 0);
	for (size_t i = 0; i < ARRAY_SIZE(event_keys); i++)
		if (!memmem(b.data, b.len, event_keys[i], strlen(event_keys[i])))
			fail_msg("event: %s not in %.*s", event_keys[i], (int)b.len, b.data);
	b.len = 0;
	assert_int_equal(record_alert(&b, &a), 0);
	for (size_t i = 0; i < ARRAY_SIZE(alert_keys); i++)
		if (!memmem(b.data, b.len, alert_keys[i], strlen(alert_keys[i])))
			fail_msg("alert: %s not in %.*s", alert_keys[i], (int)b.len, b.data);
	b.len = 0;
	assert_int_equal(record_dropped(&b, 1, 2, 3, "e\xff"), 0);
	check_line("dropped", &b,
		   "{\"schema_version\":1,\"type\":\"dropped\",\"seq\":1,\"ts_ms\":2,\"count\":3,"
		   "\"reason\":\"e" FFFD "\",\"reason_raw\":[101,255]}\n");
	buf_free(&b);
}

/* ---- JSON strings: round trips and the reference encoder */

static void test_roundtrip_all_single_bytes(void **state)
{
	struct buf b = { 0 };
	unsigned char s[1];
	unsigned c;

	(void)state;
	for (c = 0; c < 256; c++) {
		s[0] = (unsigned char)c;
		check_roundtrip(&b, s, 1);
	}
	buf_free(&b);
}

static void test_roundtrip_all_two_bytes(void **state)
{
	struct buf b = { 0 };
	unsigned char s[2];
	unsigned v;

	(void)state;
	for (v = 0; v < 65536; v++) {
		s[0] = (unsigned char)(v >> 8);
		s[1] = (unsigned char)v;
		check_roundtrip(&b, s, 2);
	}
	buf_free(&b);
}

/*
 * Every 3- and 4-byte string that starts with a lead byte (C0-FF), with the other bytes
 * drawn from the values at the edges of every range the validator checks.
 */
static void test_roundtrip_edge_sequences(void **state)
{
	static const unsigned char edge[] = {
		0x00, 0x1f, 0x22, 0x2f, 0x41, 0x5c, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
		0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
	};
	struct buf b = { 0 };
	unsigned char s[4];
	unsigned lead;
	size_t i, j, k;

	(void)state;
	for (lead = 0xc0; lead <= 0xff; lead++) {
		s[0] = (unsigned char)lead;
		for (i = 0; i < sizeof(edge); i++) {
			s[1] = edge[i];
			for (j = 0; j < sizeof(edge); j++) {
				s[2] = edge[j];
				check_roundtrip(&b, s, 3);
				if (lead < 0xf0)
					continue;
				for (k = 0; k < sizeof(edge); k++) {
					s[3] = edge[k];
					check_roundtrip(&b, s, 4);
				}
			}
		}
	}
	buf_free(&b);
}

/*
 * Plain ASCII is scanned 8 bytes at a time: every byte value, and pairs of edge values, in
 * every lane of the first and second word and in the byte-wise tail.
 */
static void test_roundtrip_every_lane(void **state)
{
	static const unsigned char edge[] = {
		0x00, 0x01, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7e, 0x7f,
		0x80, 0xc3, 0xfe, 0xff,
	};
	static const size_t lens[] = { 8, 9, 15, 16, 17, 23, 24, 25 };
	struct buf b = { 0 };
	unsigned char s[32];
	size_t l, pos, pos2, i, j;
	unsigned c;

	(void)state;
	for (l = 0; l < ARRAY_SIZE(lens); l++) {
		for (pos = 0; pos < lens[l]; pos++) {
			for (c = 0; c < 256; c++) {
				memset(s, 'a', lens[l]);
				s[pos] = (unsigned char)c;
				check_roundtrip(&b, s, lens[l]);
			}
		}
	}
	for (pos = 0; pos < 17; pos++) {
		for (pos2 = pos + 1; pos2 < 17; pos2++) {
			for (i = 0; i < sizeof(edge); i++) {
				for (j = 0; j < sizeof(edge); j++) {
					memset(s, 'A', 17);
					s[pos] = edge[i];
					s[pos2] = edge[j];
					check_roundtrip(&b, s, 17);
				}
			}
		}
	}
	buf_free(&b);
}

static void test_roundtrip_random(void **state)
{
	struct buf b = { 0 };
	unsigned char s[200];
	uint64_t st = 0x9e3779b97f4a7c15ULL;
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		size_t n = rng_next(&st) % sizeof(s);

		fill_random(&st, s, n);
		check_roundtrip(&b, s, n);
	}
	buf_free(&b);
}

static void test_roundtrip_long_name_and_path(void **state)
{
	struct buf b = { 0 };
	unsigned char name[255], path[4095];
	uint64_t st = 42;
	size_t i;

	(void)state;
	/* The longest name (NAME_MAX): random, all high bytes, all ASCII. */
	fill_random(&st, name, sizeof(name));
	check_roundtrip(&b, name, sizeof(name));
	memset(name, 0xff, sizeof(name));
	check_roundtrip(&b, name, sizeof(name));
	assert_int_equal(b.len, 2 + 3 * sizeof(name));
	memset(name, 'n', sizeof(name));
	check_roundtrip(&b, name, sizeof(name));
	assert_int_equal(b.len, 2 + sizeof(name));

	/* The longest path (PATH_MAX - 1): components of random bytes. */
	fill_random(&st, path, sizeof(path));
	for (i = 0; i < sizeof(path); i += 37)
		path[i] = '/';
	check_roundtrip(&b, path, sizeof(path));
	for (i = 0; i < sizeof(path); i++)
		path[i] = (unsigned char)i;
	check_roundtrip(&b, path, sizeof(path));

	/* Far past the buffer's initial capacity in one string: plain, then escaped. */
	{
		size_t big = 100000;
		unsigned char *p = malloc(big);

		assert_non_null(p);
		memset(p, 'p', big);
		check_roundtrip(&b, p, big);
		assert_int_equal(b.len, big + 2);
		memset(p, 0x01, big);
		check_roundtrip(&b, p, big);
		assert_int_equal(b.len, 6 * big + 2);
		free(p);
	}
	buf_free(&b);
}

static void test_string_appends(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(buf_append(&b, "x=", 2), 0);
	assert_int_equal(record_json_string(&b, "a\tb", 3), 0);
	assert_int_equal(record_json_string(&b, NULL, 0), 0);
	assert_int_equal(b.len, 2 + 6 + 2);
	assert_memory_equal(b.data, "x=\"a\\tb\"\"\"", b.len);
	buf_free(&b);
}

/* ---- mask names */

static void test_mask_names(void **state)
{
	static const struct {
		const char *name;
		uint64_t mask;
		const char *want;
	} cases[] = {
		{ "empty", 0, "" },
		{ "example", FAN_MODIFY | FAN_CLOSE_WRITE | FAN_OPEN, "MODIFY,CLOSE_WRITE,OPEN" },
		{ "ACCESS", 0x1, "ACCESS" },
		{ "MODIFY", 0x2, "MODIFY" },
		{ "ATTRIB", 0x4, "ATTRIB" },
		{ "CLOSE_WRITE", 0x8, "CLOSE_WRITE" },
		{ "CLOSE_NOWRITE", 0x10, "CLOSE_NOWRITE" },
		{ "OPEN", 0x20, "OPEN" },
		{ "MOVED_FROM", 0x40, "MOVED_FROM" },
		{ "MOVED_TO", 0x80, "MOVED_TO" },
		{ "CREATE", 0x100, "CREATE" },
		{ "DELETE", 0x200, "DELETE" },
		{ "DELETE_SELF", 0x400, "DELETE_SELF" },
		{ "MOVE_SELF", 0x800, "MOVE_SELF" },
		{ "OPEN_EXEC", 0x1000, "OPEN_EXEC" },
		{ "Q_OVERFLOW", 0x4000, "Q_OVERFLOW" },
		{ "FS_ERROR", 0x8000, "FS_ERROR" },
		{ "OPEN_PERM", 0x10000, "OPEN_PERM" },
		{ "ACCESS_PERM", 0x20000, "ACCESS_PERM" },
		{ "OPEN_EXEC_PERM", 0x40000, "OPEN_EXEC_PERM" },
		{ "PRE_ACCESS", 0x100000, "PRE_ACCESS" },
		{ "MNT_ATTACH", 0x1000000, "MNT_ATTACH" },
		{ "MNT_DETACH", 0x2000000, "MNT_DETACH" },
		{ "RENAME", 0x10000000, "RENAME" },
		{ "ONDIR alone", FAN_ONDIR, "" },
		{ "EVENT_ON_CHILD alone", FAN_EVENT_ON_CHILD, "" },
		{ "CREATE on a dir", FAN_CREATE | FAN_ONDIR, "CREATE" },
		{ "child OPEN", FAN_EVENT_ON_CHILD | FAN_OPEN, "OPEN" },
		{ "unknown 0x2000", 0x2000, "0x2000" },
		{ "unknown 0x80000000", 0x80000000, "0x80000000" },
		{ "unknown bit 63", 1ULL << 63, "0x8000000000000000" },
		{ "unknown mixed in order", 0x2000 | FAN_OPEN | (1ULL << 40) | FAN_RENAME,
		  "OPEN,0x2000,RENAME,0x10000000000" },
		{ "every known event bit", 0x11317dfffULL,
		  "ACCESS,MODIFY,ATTRIB,CLOSE_WRITE,CLOSE_NOWRITE,OPEN,MOVED_FROM,MOVED_TO,"
		  "CREATE,DELETE,DELETE_SELF,MOVE_SELF,OPEN_EXEC,Q_OVERFLOW,FS_ERROR,"
		  "OPEN_PERM,ACCESS_PERM,OPEN_EXEC_PERM,PRE_ACCESS,MNT_ATTACH,MNT_DETACH,"
		  "RENAME,0x100000000" },
		{ "all low 32 bits", 0xffffffff,
		  "ACCESS,MODIFY,ATTRIB,CLOSE_WRITE,CLOSE_NOWRITE,OPEN,MOVED_FROM,MOVED_TO,"
		  "CREATE,DELETE,DELETE_SELF,MOVE_SELF,OPEN_EXEC,0x2000,Q_OVERFLOW,FS_ERROR,"
		  "OPEN_PERM,ACCESS_PERM,OPEN_EXEC_PERM,0x80000,PRE_ACCESS,0x200000,0x400000,"
		  "0x800000,MNT_ATTACH,MNT_DETACH,0x4000000,RENAME,0x20000000,0x80000000" },
	};
	char out[512];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t n = record_mask_names(cases[i].mask, out, sizeof(out));

		if (strcmp(out, cases[i].want) != 0 || n != strlen(cases[i].want))
			fail_msg("%s: got \"%s\" (%zu), want \"%s\"", cases[i].name, out, n,
				 cases[i].want);
	}
}

static void test_mask_names_bounds(void **state)
{
	char out[RECORD_MASK_NAMES_MAX], small[19];
	size_t n, i;

	(void)state;
	/* Every bit of a 64-bit mask: the documented worst case fits, with room to spare. */
	memset(out, '#', sizeof(out));
	n = record_mask_names(UINT64_MAX, out, sizeof(out));
	assert_int_equal(n, 784);
	assert_int_equal(strlen(out), n);
	assert_string_equal(out + n - 19, ",0x8000000000000000");
	/* A cap that is too small keeps whole names only, and never writes past cap. */
	for (i = 0; i <= 16; i++) {
		char guard[24];

		memset(guard, '#', sizeof(guard));
		n = record_mask_names(FAN_MODIFY | FAN_CLOSE_WRITE | FAN_OPEN, guard, i);
		if (i == 0) {
			assert_int_equal(n, 0);
			assert_int_equal(guard[0], '#');
			continue;
		}
		assert_int_equal(guard[i], '#');
		assert_int_equal(strlen(guard), n);
		if (i < 7)
			assert_string_equal(guard, "");
		else
			assert_string_equal(guard, "MODIFY");
	}
	n = record_mask_names(FAN_MODIFY | FAN_CLOSE_WRITE, small, 19);
	assert_string_equal(small, "MODIFY,CLOSE_WRITE");
	assert_int_equal(n, 18);
	n = record_mask_names(FAN_MODIFY | FAN_CLOSE_WRITE, small, 18);
	assert_string_equal(small, "MODIFY");
	assert_int_equal(n, 6);
	/* 512 bytes: a full 64-bit mask is cut at a name boundary. */
	n = record_mask_names(UINT64_MAX, out, 512);
	assert_true(n < 512);
	assert_int_equal(strlen(out), n);
	assert_int_not_equal(out[n - 1], ',');
}

/* ---- whole records */

static void check_line(const char *name, const struct buf *b, const char *want)
{
	if (b->len != strlen(want) || memcmp(b->data, want, b->len) != 0)
		fail_msg("%s:\n got %.*s\nwant %s", name, (int)b->len, b->data, want);
}

static void test_event_records(void **state)
{
	static const struct {
		const char *name;
		struct record_event r;
		const char *want;
	} cases[] = {
		{ "all known",
		  { .seq = 7, .ts_ms = 1700000000123ULL,
		    .mask = FAN_MODIFY | FAN_CLOSE_WRITE | FAN_OPEN,
		    .verdict = VERDICT_OBSERVE, .job_id = "job-1", .path_role = "workspace",
		    .proc = { .pid = 4242, .ppid = 1, .ppid_known = true, .uid = 1000,
			      .uid_known = true, .comm = "cc1", .exe = "/usr/bin/cc1", .sid = 4000,
			      .sid_known = true, .cgroup = "/jobs.slice/j1.scope" },
		    .path = "/work/a.c", .name = "a.c", .is_dir = false },
		  "{\"schema_version\":1,\"type\":\"event\",\"seq\":7,\"ts_ms\":1700000000123,"
		  "\"mask\":42,\"events\":\"MODIFY,CLOSE_WRITE,OPEN\",\"decision\":\"observe\","
		  "\"job_id\":\"job-1\",\"path_role\":\"workspace\",\"pid\":4242,\"ppid\":1,"
		  "\"uid\":1000,\"comm\":\"cc1\",\"exe\":\"/usr/bin/cc1\",\"sid\":4000,"
		  "\"cgroup\":\"/jobs.slice/j1.scope\",\"path\":\"/work/a.c\","
		  "\"name\":\"a.c\",\"is_dir\":false}\n" },
		{ "all unknown",
		  { .seq = 0, .ts_ms = 0, .mask = 0, .verdict = VERDICT_OBSERVE,
		    .proc = { .pid = 1 } },
		  "{\"schema_version\":1,\"type\":\"event\",\"seq\":0,\"ts_ms\":0,\"mask\":0,"
		  "\"events\":\"\",\"decision\":\"observe\",\"job_id\":null,\"path_role\":null,"
		  "\"pid\":1,\"ppid\":null,\"uid\":null,\"comm\":null,\"exe\":null,\"sid\":null,"
		  "\"cgroup\":null,\"path\":null,\"name\":null,\"is_dir\":false}\n" },
		{ "deny on a dir, uid 0, ppid 0",
		  { .seq = 18446744073709551615ULL, .ts_ms = 5,
		    .mask = FAN_OPEN_PERM | FAN_ONDIR, .verdict = VERDICT_DENY,
		    .path_role = "export",
		    .proc = { .pid = 2147483647, .ppid = 0, .ppid_known = true, .uid = 0,
			      .uid_known = true, .comm = "cat", .exe = NULL },
		    .path = "/srv/canary", .name = NULL, .is_dir = true },
		  "{\"schema_version\":1,\"type\":\"event\",\"seq\":18446744073709551615,"
		  "\"ts_ms\":5,\"mask\":1073807360,\"events\":\"OPEN_PERM\",\"decision\":\"deny\","
		  "\"job_id\":null,\"path_role\":\"export\",\"pid\":2147483647,\"ppid\":0,"
		  "\"uid\":0,\"comm\":\"cat\",\"exe\":null,\"sid\":null,\"cgroup\":null,\"path\":\"/srv/canary\",\"name\":null,"
		  "\"is_dir\":true}\n" },
		{ "allow, uid max",
		  { .seq = 1, .ts_ms = 2, .mask = FAN_ACCESS_PERM, .verdict = VERDICT_ALLOW,
		    .proc = { .pid = 3, .uid = 4294967295u, .uid_known = true } },
		  "{\"schema_version\":1,\"type\":\"event\",\"seq\":1,\"ts_ms\":2,\"mask\":131072,"
		  "\"events\":\"ACCESS_PERM\",\"decision\":\"allow\",\"job_id\":null,"
		  "\"path_role\":null,\"pid\":3,\"ppid\":null,\"uid\":4294967295,\"comm\":null,"
		  "\"exe\":null,\"sid\":null,\"cgroup\":null,\"path\":null,\"name\":null,"
		  "\"is_dir\":false}\n" },
		{ "rename with old_path",
		  { .seq = 9, .ts_ms = 10, .mask = FAN_RENAME, .verdict = VERDICT_OBSERVE,
		    .job_id = "j", .path_role = "rootfs",
		    .proc = { .pid = 77, .ppid = 76, .ppid_known = true, .comm = "mv",
			      .exe = "/bin/mv" },
		    .path = "/d/new", .name = "new", .old_path = "/d/old", .is_rename = true },
		  "{\"schema_version\":1,\"type\":\"event\",\"seq\":9,\"ts_ms\":10,"
		  "\"mask\":268435456,\"events\":\"RENAME\",\"decision\":\"observe\","
		  "\"job_id\":\"j\",\"path_role\":\"rootfs\",\"pid\":77,\"ppid\":76,\"uid\":null,"
		  "\"comm\":\"mv\",\"exe\":\"/bin/mv\",\"sid\":null,\"cgroup\":null,\"path\":\"/d/new\",\"name\":\"new\","
		  "\"is_dir\":false,\"old_path\":\"/d/old\"}\n" },
		{ "rename with unknown old_path",
		  { .seq = 1, .ts_ms = 1, .mask = FAN_RENAME | FAN_ONDIR, .is_dir = true,
		    .proc = { .pid = 5 }, .is_rename = true },
		  "{\"schema_version\":1,\"type\":\"event\",\"seq\":1,\"ts_ms\":1,"
		  "\"mask\":1342177280,\"events\":\"RENAME\",\"decision\":\"observe\","
		  "\"job_id\":null,\"path_role\":null,\"pid\":5,\"ppid\":null,\"uid\":null,"
		  "\"comm\":null,\"exe\":null,\"sid\":null,\"cgroup\":null,\"path\":null,"
		  "\"name\":null,\"is_dir\":true,"
		  "\"old_path\":null}\n" },
		{ "old_path ignored without is_rename",
		  { .seq = 1, .ts_ms = 1, .mask = FAN_CREATE, .proc = { .pid = 5 },
		    .path = "/x", .name = "x", .old_path = "/y" },
		  "{\"schema_version\":1,\"type\":\"event\",\"seq\":1,\"ts_ms\":1,\"mask\":256,"
		  "\"events\":\"CREATE\",\"decision\":\"observe\",\"job_id\":null,"
		  "\"path_role\":null,\"pid\":5,\"ppid\":null,\"uid\":null,\"comm\":null,"
		  "\"exe\":null,\"sid\":null,\"cgroup\":null,\"path\":\"/x\",\"name\":\"x\",\"is_dir\":false}\n" },
		{ "escaped strings everywhere",
		  { .seq = 2, .ts_ms = 3, .mask = FAN_CREATE | (1ULL << 32),
		    .job_id = "a\"b", .path_role = "cache",
		    .proc = { .pid = 9, .comm = "x\ty", .exe = "/bin/\xff" },
		    .path = "/t/caf\xc3\xa9\n\x80", .name = "caf\xc3\xa9\n\x80",
		    .old_path = "/t/\\", .is_rename = true },
		  "{\"schema_version\":1,\"type\":\"event\",\"seq\":2,\"ts_ms\":3,"
		  "\"mask\":4294967552,\"events\":\"CREATE,0x100000000\",\"decision\":\"observe\","
		  "\"job_id\":\"a\\\"b\",\"path_role\":\"cache\",\"pid\":9,\"ppid\":null,"
		  "\"uid\":null,\"comm\":\"x\\ty\",\"exe\":\"/bin/" FFFD "\","
		  "\"exe_raw\":[47,98,105,110,47,255],\"sid\":null,\"cgroup\":null,"
		  "\"path\":\"/t/caf\xc3\xa9\\n" FFFD "\","
		  "\"path_raw\":[47,116,47,99,97,102,195,169,10,128],"
		  "\"name\":\"caf\xc3\xa9\\n" FFFD "\",\"name_raw\":[99,97,102,195,169,10,128],"
		  "\"is_dir\":false,\"old_path\":\"/t/\\\\\"}\n" },
		{ "negative pid",
		  { .seq = 1, .ts_ms = 1, .proc = { .pid = -2147483647 - 1, .ppid = -1,
						    .ppid_known = true } },
		  "{\"schema_version\":1,\"type\":\"event\",\"seq\":1,\"ts_ms\":1,\"mask\":0,"
		  "\"events\":\"\",\"decision\":\"observe\",\"job_id\":null,\"path_role\":null,"
		  "\"pid\":-2147483648,\"ppid\":-1,\"uid\":null,\"comm\":null,\"exe\":null,"
		  "\"sid\":null,\"cgroup\":null,\"path\":null,\"name\":null,\"is_dir\":false}\n" },
	};
	struct buf b = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		b.len = 0;
		assert_int_equal(record_event(&b, &cases[i].r), 0);
		check_line(cases[i].name, &b, cases[i].want);
	}
	buf_free(&b);
}

static void test_alert_records(void **state)
{
	static const struct proc_info ransom = { .pid = 321, .comm = "ransom",
						 .exe = "/tmp/ransom" };
	static const struct proc_info gone = { .pid = 321 };
	static const struct proc_info rm = { .pid = 55, .ppid = 1, .ppid_known = true,
					     .comm = "rm", .exe = "/bin/rm" };
	static const struct {
		const char *name;
		struct alert a;
		const char *want;
	} cases[] = {
		{ "overflow",
		  { .seq = 12, .ts_ms = 1700000000000ULL, .kind = ALERT_OVERFLOW, .pid = 0,
		    .proc = NULL, .path = "<overflow>",
		    .reason = "fanotify queue overflowed" },
		  "{\"schema_version\":1,\"type\":\"alert\",\"seq\":12,\"ts_ms\":1700000000000,"
		  "\"kind\":\"overflow\",\"job_id\":null,\"path_role\":null,\"pid\":0,"
		  "\"path\":\"<overflow>\",\"reason\":\"fanotify queue overflowed\"}\n" },
		{ "canary",
		  { .seq = 3, .ts_ms = 4, .kind = ALERT_CANARY, .pid = 321, .proc = &ransom,
		    .path = "/srv/canary.docx",
		    .reason = "canary file touched", .job_id = "job-9",
		    .path_role = "workspace" },
		  "{\"schema_version\":1,\"type\":\"alert\",\"seq\":3,\"ts_ms\":4,"
		  "\"kind\":\"canary\",\"job_id\":\"job-9\",\"path_role\":\"workspace\","
		  "\"pid\":321,\"comm\":\"ransom\",\"exe\":\"/tmp/ransom\","
		  "\"sid\":null,\"cgroup\":null,\"path\":\"/srv/canary.docx\",\"reason\":\"canary file touched\"}\n" },
		{ "canary, process gone",
		  { .seq = 3, .ts_ms = 4, .kind = ALERT_CANARY, .pid = 321, .proc = &gone,
		    .path = "/srv/c\xff", .reason = NULL },
		  "{\"schema_version\":1,\"type\":\"alert\",\"seq\":3,\"ts_ms\":4,"
		  "\"kind\":\"canary\",\"job_id\":null,\"path_role\":null,\"pid\":321,"
		  "\"comm\":null,\"exe\":null,\"sid\":null,\"cgroup\":null,\"path\":\"/srv/c" FFFD "\","
		  "\"path_raw\":[47,115,114,118,47,99,255],\"reason\":null}\n" },
		{ "burst",
		  { .seq = 100, .ts_ms = 200, .kind = ALERT_BURST, .pid = 55, .proc = &rm,
		    .path = NULL, .reason = "too many mutating events", .count = 500,
		    .window_ms = 1000 },
		  "{\"schema_version\":1,\"type\":\"alert\",\"seq\":100,\"ts_ms\":200,"
		  "\"kind\":\"burst\",\"job_id\":null,\"path_role\":null,\"pid\":55,"
		  "\"comm\":\"rm\",\"exe\":\"/bin/rm\",\"sid\":null,\"cgroup\":null,\"path\":null,"
		  "\"reason\":\"too many mutating events\",\"count\":500,\"window_ms\":1000}\n" },
		{ "burst of a session: scope and numeric scope_id",
		  { .seq = 2, .ts_ms = 3, .kind = ALERT_BURST, .pid = 56, .proc = &rm, .path = "/w/f",
		    .reason = "r", .count = 32, .window_ms = 1000, .scope = "session",
		    .scope_id = 1234 },
		  "{\"schema_version\":1,\"type\":\"alert\",\"seq\":2,\"ts_ms\":3,"
		  "\"kind\":\"burst\",\"job_id\":null,\"path_role\":null,\"pid\":56,"
		  "\"comm\":\"rm\",\"exe\":\"/bin/rm\",\"sid\":null,\"cgroup\":null,"
		  "\"path\":\"/w/f\",\"reason\":\"r\","
		  "\"count\":32,\"window_ms\":1000,\"scope\":\"session\",\"scope_id\":1234}\n" },
		{ "burst of an exe: string scope_id, escaped like any name",
		  { .seq = 2, .ts_ms = 3, .kind = ALERT_BURST, .pid = 56, .path = "/w/f",
		    .reason = "r", .count = 32, .window_ms = 1000, .scope = "exe",
		    .scope_id_str = "/tmp/x\xff" },
		  "{\"schema_version\":1,\"type\":\"alert\",\"seq\":2,\"ts_ms\":3,"
		  "\"kind\":\"burst\",\"job_id\":null,\"path_role\":null,\"pid\":56,"
		  "\"path\":\"/w/f\",\"reason\":\"r\",\"count\":32,\"window_ms\":1000,"
		  "\"scope\":\"exe\",\"scope_id\":\"/tmp/x" FFFD "\","
		  "\"scope_id_raw\":[47,116,109,112,47,120,255]}\n" },
		{ "burst, no proc, max counts",
		  { .seq = 1, .ts_ms = 1, .kind = ALERT_BURST, .pid = 1, .path = "/",
		    .reason = "r", .count = 4294967295u, .window_ms = 4294967295u },
		  "{\"schema_version\":1,\"type\":\"alert\",\"seq\":1,\"ts_ms\":1,"
		  "\"kind\":\"burst\",\"job_id\":null,\"path_role\":null,\"pid\":1,"
		  "\"path\":\"/\",\"reason\":\"r\",\"count\":4294967295,"
		  "\"window_ms\":4294967295}\n" },
		{ "fd_exhausted",
		  { .seq = 7, .ts_ms = 8, .kind = ALERT_FD_EXHAUSTED, .path = "<fd_exhausted>",
		    .reason = "no descriptor for an event: the kernel dropped it" },
		  "{\"schema_version\":1,\"type\":\"alert\",\"seq\":7,\"ts_ms\":8,"
		  "\"kind\":\"fd_exhausted\",\"job_id\":null,\"path_role\":null,\"pid\":0,"
		  "\"path\":\"<fd_exhausted>\","
		  "\"reason\":\"no descriptor for an event: the kernel dropped it\"}\n" },
		{ "canary: count and window_ms only for a burst",
		  { .seq = 5, .ts_ms = 6, .kind = ALERT_CANARY, .pid = 321, .proc = &ransom,
		    .path = "/c", .reason = "canary opened", .count = 7, .window_ms = 9 },
		  "{\"schema_version\":1,\"type\":\"alert\",\"seq\":5,\"ts_ms\":6,"
		  "\"kind\":\"canary\",\"job_id\":null,\"path_role\":null,\"pid\":321,"
		  "\"comm\":\"ransom\",\"exe\":\"/tmp/ransom\",\"sid\":null,\"cgroup\":null,\"path\":\"/c\","
		  "\"reason\":\"canary opened\"}\n" },
	};
	struct buf b = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		b.len = 0;
		assert_int_equal(record_alert(&b, &cases[i].a), 0);
		check_line(cases[i].name, &b, cases[i].want);
	}
	buf_free(&b);
}

static void test_dropped_records(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(record_dropped(&b, 5, 6, 7, "subscriber too slow"), 0);
	check_line("dropped", &b,
		   "{\"schema_version\":1,\"type\":\"dropped\",\"seq\":5,\"ts_ms\":6,\"count\":7,"
		   "\"reason\":\"subscriber too slow\"}\n");
	b.len = 0;
	assert_int_equal(record_dropped(&b, 0, 0, UINT64_MAX, NULL), 0);
	check_line("dropped, no reason", &b,
		   "{\"schema_version\":1,\"type\":\"dropped\",\"seq\":0,\"ts_ms\":0,"
		   "\"count\":18446744073709551615,\"reason\":null}\n");
	/* A dropped subscriber's last line at its longest: SINK_SOCK_NOTICE_MAX (160) holds it. */
	b.len = 0;
	assert_int_equal(record_dropped(&b, 0, UINT64_MAX, UINT64_MAX, "subscriber too slow"), 0);
	check_line("subscriber's dropped line, longest", &b,
		   "{\"schema_version\":1,\"type\":\"dropped\",\"seq\":0,"
		   "\"ts_ms\":18446744073709551615,\"count\":18446744073709551615,"
		   "\"reason\":\"subscriber too slow\"}\n");
	assert_int_equal(b.len, 135);
	buf_free(&b);
}

/* The reload record: every key in order, lists as JSON arrays (empty ones too), a null
 * error, and an error's bytes escaped like any string. */
static void test_reload_record(void **state)
{
	static const char *const changed[] = { "canary", "watch" };
	static const char *const refused[] = { "perm" };
	struct record_reload r = {
		.status = "applied", .changed = changed, .n_changed = 2,
		.marks_added = 3, .marks_removed = 1,
	};
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(record_reload(&b, 9, 10, &r), 0);
	check_line("reload applied", &b,
		   "{\"schema_version\":1,\"type\":\"reload\",\"seq\":9,\"ts_ms\":10,"
		   "\"status\":\"applied\",\"changed\":[\"canary\",\"watch\"],\"marks_added\":3,"
		   "\"marks_removed\":1,\"refused\":[],\"error\":null}\n");
	b.len = 0;
	r = (struct record_reload){ .status = "refused", .refused = refused, .n_refused = 1,
				    .error = "c.conf:3: \"x\"\n" };
	assert_int_equal(record_reload(&b, 1, 2, &r), 0);
	check_line("reload refused", &b,
		   "{\"schema_version\":1,\"type\":\"reload\",\"seq\":1,\"ts_ms\":2,"
		   "\"status\":\"refused\",\"changed\":[],\"marks_added\":0,\"marks_removed\":0,"
		   "\"refused\":[\"perm\"],\"error\":\"c.conf:3: \\\"x\\\"\\n\"}\n");
	buf_free(&b);
}

/*
 * The stats record: every field of struct stats under its key, in field order, each value
 * where that field is (a distinct value per field catches a key on the wrong offset); the
 * log text carries the same keys and values.
 */
static void test_stats_record(void **state)
{
	static const char *const keys[] = {
		"events", "records", "alerts", "perm_answered", "perm_denied", "answer_errors",
		"unanswered", "answer_us_p50", "answer_us_p99", "answer_us_max", "decide_us_p50",
		"decide_us_p99", "decide_us_max", "spins", "spin_hits", "cache_marks",
		"cache_errors", "cache_flushes", "self", "out_of_scope", "overflows", "bad_events",
		"bad_info", "unresolved", "moves", "fd_denied", "dropped_records", "out_buf_kib",
		"out_backlog_max_kib", "exe_known", "proc_lookups", "proc_evictions", "nl_overruns",
		"dircache_hits", "dircache_misses", "dircache_evictions", "policy_suppressed",
		"policy_evictions", "quarantine_denials", "hooks_started", "hooks_dropped",
		"hooks_killed", "hooks_failed", "hooks_own", "log_dropped", "sock_clients",
		"sock_accepted", "sock_refused", "sock_refused_full", "sock_disconnected",
		"sock_dropped_clients", "sock_dropped_records", "sock_accept_pauses", "read_errors",
		"unknown_info", "out_write_errors", "nl_messages", "proc_reads", "dircache_flushes",
		"resolve_failures", "cgroup_unknown", "burst_unknown", "nl_quiet_execs", "nl_quiet_spells",
		"exe_lost",
	};
	const size_t n = sizeof(keys) / sizeof(keys[0]);
	uint64_t v[sizeof(struct stats) / sizeof(uint64_t)];
	struct stats s;
	struct buf b = { 0 }, want = { 0 }, text = { 0 }, want_text = { 0 };
	const char *head = "{\"schema_version\":1,\"type\":\"stats\",\"seq\":9,\"ts_ms\":8";
	char num[32];

	(void)state;
	assert_int_equal(n, sizeof(v) / sizeof(v[0]));
	for (size_t i = 0; i < n; i++)
		v[i] = i == n - 1 ? UINT64_MAX : 1000 + i;
	memcpy(&s, v, sizeof(s));
	assert_int_equal(buf_append(&want, head, strlen(head)), 0);
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(num, sizeof(num), "%llu", (unsigned long long)v[i]);

		assert_int_equal(buf_append(&want, ",\"", 2), 0);
		assert_int_equal(buf_append(&want, keys[i], strlen(keys[i])), 0);
		assert_int_equal(buf_append(&want, "\":", 2), 0);
		assert_int_equal(buf_append(&want, num, (size_t)len), 0);
		if (i)
			assert_int_equal(buf_append(&want_text, " ", 1), 0);
		assert_int_equal(buf_append(&want_text, keys[i], strlen(keys[i])), 0);
		assert_int_equal(buf_append(&want_text, "=", 1), 0);
		assert_int_equal(buf_append(&want_text, num, (size_t)len), 0);
	}
	assert_int_equal(buf_append(&want, "}\n\0", 3), 0);
	assert_int_equal(buf_append(&want_text, "", 1), 0);
	assert_int_equal(record_stats(&b, 9, 8, &s), 0);
	check_line("stats", &b, want.data);
	assert_int_equal(record_stats_text(&text, &s), 0);
	assert_int_equal(text.len, want_text.len - 1);
	assert_string_equal(text.data, want_text.data);
	buf_free(&b);
	buf_free(&want);
	buf_free(&text);
	buf_free(&want_text);
}

/* Records append after what the buffer holds; a batch is many lines in one buffer. */
static void test_records_append(void **state)
{
	struct record_event r = { .seq = 1, .ts_ms = 2, .mask = FAN_OPEN, .proc = { .pid = 3 } };
	struct alert a = { .seq = 2, .ts_ms = 2, .kind = ALERT_OVERFLOW, .path = "<overflow>",
			   .reason = "fanotify queue overflowed" };
	const char *ev = "{\"schema_version\":1,\"type\":\"event\",\"seq\":1,\"ts_ms\":2,"
			 "\"mask\":32,\"events\":\"OPEN\",\"decision\":\"observe\","
			 "\"job_id\":null,\"path_role\":null,\"pid\":3,\"ppid\":null,"
			 "\"uid\":null,\"comm\":null,\"exe\":null,\"sid\":null,\"cgroup\":null,"
			 "\"path\":null,\"name\":null,\"is_dir\":false}\n";
	const char *al = "{\"schema_version\":1,\"type\":\"alert\",\"seq\":2,\"ts_ms\":2,"
			 "\"kind\":\"overflow\",\"job_id\":null,\"path_role\":null,\"pid\":0,"
			 "\"path\":\"<overflow>\",\"reason\":\"fanotify queue overflowed\"}\n";
	size_t el = strlen(ev), alen = strlen(al), i;
	struct buf b = { 0 };

	(void)state;
	/* Enough lines to cross the initial capacity several times. */
	for (i = 0; i < 200; i++) {
		assert_int_equal(record_event(&b, &r), 0);
		assert_int_equal(record_alert(&b, &a), 0);
	}
	assert_int_equal(b.len, 200 * (el + alen));
	for (i = 0; i < 200; i++) {
		assert_memory_equal(b.data + i * (el + alen), ev, el);
		assert_memory_equal(b.data + i * (el + alen) + el, al, alen);
	}
	buf_free(&b);
}

/* A 4095-byte path of invalid bytes inside a record: the line holds all of it. */
static void test_event_long_path(void **state)
{
	char path[4096], name[256];
	struct record_event r = { .seq = 1, .ts_ms = 1, .mask = FAN_CREATE,
				  .proc = { .pid = 1 } };
	struct buf b = { 0 };
	unsigned char dec[3 * 4096];
	const char *p, *q;

	(void)state;
	memset(path, 0xfe, sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	r.path = path;
	r.name = name;
	assert_int_equal(record_event(&b, &r), 0);
	assert_int_equal(b.data[b.len - 1], '\n');
	p = memmem(b.data, b.len, "\"path\":", 7);
	assert_non_null(p);
	p += 7;
	q = memmem(p, b.len - (size_t)(p - b.data), ",\"path_raw\":[47,", 16);
	assert_non_null(q);
	assert_int_equal(q - p, 2 + 1 + 3 * 4094);
	assert_int_equal(json_decode(p, (size_t)(q - p), dec), 1 + 3 * 4094);
	for (size_t i = 1; i < 4095; i++)
		assert_memory_equal(dec + 1 + 3 * (i - 1), FFFD, 3);
	/* The _raw array holds every byte: "47" and 4094 times ",254", then the name. */
	p = q + 12;
	assert_memory_equal(p, "[47", 3);
	for (size_t i = 0; i < 4094; i++)
		assert_memory_equal(p + 3 + 4 * i, ",254", 4);
	assert_memory_equal(p + 3 + 4 * 4094, "],\"name\":", 9);
	buf_free(&b);
}

static void test_lifecycle_records(void **state)
{
	static const struct record_mark marks[] = { { "watch", "/w" },
						    { "mount", "/m\xff" } };
	struct record_start st = {
		.seq = 1, .ts_ms = 2, .version = "0.1.0",
		.boot_id = "3619c250-a92d-4861-81ee-b7d1e0ff4659",
		.config_digest = "0123456789abcdef", .mode = "observe", .pid = 42,
		.marks = marks, .n_marks = 2,
	};
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(record_start(&b, &st), 0);
	check_line("start", &b,
		   "{\"schema_version\":1,\"type\":\"start\",\"seq\":1,\"ts_ms\":2,"
		   "\"version\":\"0.1.0\",\"boot_id\":\"3619c250-a92d-4861-81ee-b7d1e0ff4659\","
		   "\"config_digest\":\"0123456789abcdef\",\"mode\":\"observe\",\"pid\":42,"
		   "\"marks\":[{\"kind\":\"watch\",\"path\":\"/w\"},{\"kind\":\"mount\","
		   "\"path\":\"/m" FFFD "\",\"path_raw\":[47,109,255]}]}\n");
	b.len = 0;
	st.boot_id = NULL;
	st.n_marks = 0;
	assert_int_equal(record_start(&b, &st), 0);
	check_line("start, no boot_id, no marks", &b,
		   "{\"schema_version\":1,\"type\":\"start\",\"seq\":1,\"ts_ms\":2,"
		   "\"version\":\"0.1.0\",\"boot_id\":null,"
		   "\"config_digest\":\"0123456789abcdef\",\"mode\":\"observe\",\"pid\":42,"
		   "\"marks\":[]}\n");
	b.len = 0;
	assert_int_equal(record_stop(&b, 77, 8, "SIGTERM", 5), 0);
	check_line("stop", &b,
		   "{\"schema_version\":1,\"type\":\"stop\",\"seq\":77,\"ts_ms\":8,"
		   "\"reason\":\"SIGTERM\",\"records\":77,\"dropped_records\":5}\n");
	buf_free(&b);
}

/* record_ident() + record_tail(): the run's fields go in before every record's "}". */
static void test_ident_tail(void **state)
{
	struct buf id = { 0 }, b = { 0 };
	size_t run_len, start;

	(void)state;
	assert_int_equal(record_ident(&id, "00112233445566778899aabbccddeeff", NULL), 0);
	run_len = id.len;
	id.len = 0;
	assert_int_equal(record_ident(&id, "00112233445566778899aabbccddeeff", "h\xffst"), 0);
	assert_memory_equal(id.data, ",\"run_id\":\"00112233445566778899aabbccddeeff\"",
			    run_len);
	assert_int_equal(id.len - run_len,
			 strlen(",\"host\":\"h" FFFD "st\",\"host_raw\":[104,255,115,116]"));

	assert_int_equal(record_dropped(&b, 1, 2, 3, "r"), 0);
	start = b.len;
	assert_int_equal(record_dropped(&b, 4, 5, 6, "r"), 0);
	assert_int_equal(record_tail(&b, start, id.data, run_len), 0);
	/* The first record is untouched, the second ends with run_id. */
	check_line("tail", &b,
		   "{\"schema_version\":1,\"type\":\"dropped\",\"seq\":1,\"ts_ms\":2,\"count\":3,"
		   "\"reason\":\"r\"}\n"
		   "{\"schema_version\":1,\"type\":\"dropped\",\"seq\":4,\"ts_ms\":5,\"count\":6,"
		   "\"reason\":\"r\",\"run_id\":\"00112233445566778899aabbccddeeff\"}\n");
	start = b.len;
	assert_int_equal(record_tail(&b, start, id.data, id.len), -EINVAL);
	assert_int_equal(b.len, start);
	assert_int_equal(record_tail(&b, 0, id.data, 0), 0);
	assert_int_equal(b.len, start);
	buf_free(&b);
	buf_free(&id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_append_and_free),
		cmocka_unit_test(test_string_control_bytes),
		cmocka_unit_test(test_string_quote_backslash),
		cmocka_unit_test(test_string_valid_utf8),
		cmocka_unit_test(test_string_invalid_utf8),
		cmocka_unit_test(test_raw_fields),
		cmocka_unit_test(test_raw_every_field),
		cmocka_unit_test(test_lifecycle_records),
		cmocka_unit_test(test_ident_tail),
		cmocka_unit_test(test_roundtrip_all_single_bytes),
		cmocka_unit_test(test_roundtrip_all_two_bytes),
		cmocka_unit_test(test_roundtrip_edge_sequences),
		cmocka_unit_test(test_roundtrip_every_lane),
		cmocka_unit_test(test_roundtrip_random),
		cmocka_unit_test(test_roundtrip_long_name_and_path),
		cmocka_unit_test(test_string_appends),
		cmocka_unit_test(test_mask_names),
		cmocka_unit_test(test_mask_names_bounds),
		cmocka_unit_test(test_event_records),
		cmocka_unit_test(test_alert_records),
		cmocka_unit_test(test_dropped_records),
		cmocka_unit_test(test_stats_record),
		cmocka_unit_test(test_reload_record),
		cmocka_unit_test(test_records_append),
		cmocka_unit_test(test_event_long_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
