/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer harness for the record decoder (runtimes/decode.c).  The input is a
 * series of records, each as a 2-byte little-endian length and that many
 * bytes, fed to one decoder so code records shape the later stacks.
 * Every returned frame is read to let ASan see bad pointers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_interp_decoder *dec = rt_interp_decoder__new();
	size_t pos = 0;
	volatile size_t sink = 0;

	if (!dec)
		return 0;
	while (pos + 2 <= size) {
		size_t len = data[pos] | (size_t)data[pos + 1] << 8;
		struct rt_interp_stack st;
		uint8_t *copy;

		pos += 2;
		if (len > size - pos)
			len = size - pos;
		/* an exact-size heap copy: ASan catches any read past the record */
		copy = malloc(len ? len : 1);
		if (!copy)
			break;
		memcpy(copy, data + pos, len);
		if (rt_interp_decoder__feed(dec, copy, len, UINT32_MAX, UINT32_MAX, &st) == 1) {
			for (size_t i = 0; i < st.nr_frames; i++)
				sink += strlen(st.frames[i].function) + strlen(st.frames[i].file) +
					(size_t)st.frames[i].line;
		}
		free(copy);
		pos += len;
	}
	rt_interp_decoder__free(dec);
	return (int)(sink & 0);
}
