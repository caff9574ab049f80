/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtmerge/json.h"

#include <errno.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes available), or 0
 * when the bytes there are not one (RFC 3629's table). */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;      /* overlong */
		else if (c == 0xed)
			hi = 0x9f;      /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;      /* overlong */
		else if (c == 0xf4)
			hi = 0x8f;      /* past U+10FFFF */
	} else {
		return 0;
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

int rt_json__put_string(FILE *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	putc('"', out);
	while (i < len) {
		size_t n = utf8_sequence(s + i, len - i);

		if (n == 0) {
			fputs("\\ufffd", out);
			i++;
		} else if (n == 1) {
			unsigned char c = s[i++];

			if (c == '"' || c == '\\') {
				putc('\\', out);
				putc(c, out);
			} else if (c == '\n') {
				fputs("\\n", out);
			} else if (c == '\t') {
				fputs("\\t", out);
			} else if (c < 0x20 || c == 0x7f) {
				fprintf(out, "\\u%04x", c);
			} else {
				putc(c, out);
			}
		} else if (n == 3 && s[i] == 0xe2 && s[i + 1] == 0x80 &&
			   (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
			fprintf(out, "\\u%04x", 0x2000 + (s[i + 2] == 0xa8 ? 0x28 : 0x29));
			i += 3;
		} else {
			fwrite(s + i, 1, n, out);
			i += n;
		}
	}
	putc('"', out);
	return ferror(out) ? -EIO : 0;
}
