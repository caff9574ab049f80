/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtmerge/frametext.h"

#include <errno.h>
#include <string.h>

/* Parses the decimal digits in [s, end) into *v; false if there are none,
 * something else, or too many. */
static bool parse_u64(const char *s, const char *end, uint64_t *v)
{
	uint64_t n = 0;

	if (s == end || end - s > 19)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	return true;
}

int rt_frametext__parse_thread(const char *text, struct rt_frametext_thread *out)
{
	const char *end = text + strlen(text), *slash, *dash;
	uint64_t pid, tid;

	*out = (struct rt_frametext_thread){ text, (size_t)(end - text), 0, 0 };
	slash = memrchr(text, '/', (size_t)(end - text));
	if (!slash || !parse_u64(slash + 1, end, &tid) || tid > UINT32_MAX)
		return -EINVAL;
	dash = memrchr(text, '-', (size_t)(slash - text));
	if (!dash || !parse_u64(dash + 1, slash, &pid) || pid > UINT32_MAX)
		return -EINVAL;
	out->comm_len = (size_t)(dash - text);
	out->pid = (uint32_t)pid;
	out->tid = (uint32_t)tid;
	return 0;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

bool rt_frametext__parse_source(const char *text, struct rt_frametext_source *out)
{
	size_t len = strlen(text), file_len;
	const char *open = NULL, *file, *colon, *q;
	uint64_t line = 0;
	int depth = 1;

	if (len < 5 || text[len - 1] != ')')
		return false;
	/* The " (" whose parenthesis the last ")" closes opens the source: a
	 * function name may hold " (" (Ruby's "block (2 levels) in f"), and so
	 * may a path ("proj (copy)/app.py"), in pairs.  Unbalanced, the last
	 * " (" does. */
	for (q = text + len - 2; q > text; q--) {
		depth += *q == ')' ? 1 : *q == '(' ? -1 : 0;
		if (!depth)
			break;
	}
	if (q > text && !depth && q[-1] == ' ')
		open = q;
	for (const char *p = text + len - 2; !open && p > text; p--)
		if (p[0] == '(' && p[-1] == ' ')
			open = p;
	if (!open || open - 1 == text)
		return false;
	file = open + 1;
	file_len = (size_t)(text + len - 1 - file);
	colon = memrchr(file, ':', file_len);
	if (colon && parse_u64(colon + 1, text + len - 1, &line) && line <= INT64_MAX)
		file_len = (size_t)(colon - file);
	else
		line = 0;
	if (!file_len)
		return false;
	if (!line && !ends_with(file, file_len, ".py") && !ends_with(file, file_len, ".pyx") &&
	    !ends_with(file, file_len, ".rb"))
		return false;
	*out = (struct rt_frametext_source){
		.function = text,
		.function_len = (size_t)(open - 1 - text),
		.file = file,
		.file_len = file_len,
		.line = (int64_t)line,
	};
	return true;
}

bool rt_frametext__is_kernel(const char *text, size_t *len_without)
{
	size_t len = strlen(text);

	if (!ends_with(text, len, "_[k]"))
		return false;
	*len_without = len - 4;
	return true;
}
