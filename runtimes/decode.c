/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The record decoder's front: checks each record's header and hands it to
 * its runtime's decoder (runtimes/python/decode.c, runtimes/ruby/decode.c).
 * A new runtime adds its record types or runtime number here.
 */
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/record.h"
#include "runtimes/decode.h"
#include "runtimes/python/decode.h"
#include "runtimes/ruby/decode.h"

struct rt_interp_decoder {
	struct rt_interp_decoder_stats stats;
	struct rt_python_decoder *python; /* CPython records; NULL until one comes */
	struct rt_ruby_decoder *ruby;     /* CRuby records; NULL until one comes */
};

struct rt_interp_decoder *rt_interp_decoder__new(void)
{
	return calloc(1, sizeof(struct rt_interp_decoder));
}

void rt_interp_decoder__free(struct rt_interp_decoder *dec)
{
	if (!dec)
		return;
	rt_python_decoder__free(dec->python);
	rt_ruby_decoder__free(dec->ruby);
	free(dec);
}

void rt_interp_decoder__stats(const struct rt_interp_decoder *dec,
			      struct rt_interp_decoder_stats *stats)
{
	*stats = dec->stats;
}

static bool header_ok(const struct rt_rec_header *h, size_t size)
{
	return h->magic == RT_REC_MAGIC && h->version >= RT_REC_VERSION_MIN &&
	       h->version <= RT_REC_VERSION &&
	       h->size >= sizeof(*h) && h->size <= size;
}

int rt_interp_decoder__feed(struct rt_interp_decoder *dec, const void *raw, size_t size,
			    uint32_t pid, uint32_t tid, struct rt_interp_stack *out)
{
	struct rt_rec_header h;
	uint32_t runtime = 0;
	int err = -EINVAL;

	if (!raw || size < sizeof(h))
		goto bad;
	memcpy(&h, raw, sizeof(h));
	if (!header_ok(&h, size))
		goto bad;
	/* Records are copied out before use: RAW data in a perf.data mapping
	 * is only 4-byte aligned behind the 4-byte size field. */
	if (h.type == RT_REC_STACK && h.size >= sizeof(struct rt_rec_stack))
		memcpy(&runtime, (const char *)raw + offsetof(struct rt_rec_stack, runtime),
		       sizeof(runtime));
	if (h.type == RT_REC_RUBY_CODE) {
		err = rt_ruby_decoder__take_code(&dec->ruby, raw, h.size, pid, &dec->stats);
	} else if (h.type == RT_REC_STACK && runtime == RT_REC_RUNTIME_RUBY) {
		err = rt_ruby_decoder__take_stack(&dec->ruby, raw, h.size, pid, tid, out, &dec->stats);
	} else if (h.type == RT_REC_STACK) {
		err = rt_python_decoder__take_stack(&dec->python, raw, h.size, pid, tid, out,
						    &dec->stats);
	} else if (h.type == RT_REC_CODE) {
		err = rt_python_decoder__take_code(&dec->python, raw, h.size, pid, &dec->stats);
	}
	if (err >= 0 || err == -ENOMEM)
		return err;
bad:
	dec->stats.bad_records++;
	return -EINVAL;
}
