/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtmerge/json.h"

#include <errno.h>
#include <stdint.h>

#include "rtmerge/utf8.h"

int rt_json__put_string(FILE *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	putc('"', out);
	while (i < len) {
		size_t n = rt_utf8__sequence(s + i, len - i);

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
