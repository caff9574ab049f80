/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The record decoder's front: checks each record's header and hands it to
 * its runtime's decoder, found in the runtime table (runtimes/runtime.h) by
 * the record's type or stack runtime number.
 */
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/record.h"
#include "runtimes/decode.h"
#include "runtimes/decode_common.h"
#include "runtimes/runtime.h"

/* Room for every entry of rt_runtimes[]. */
#define MAX_RUNTIMES 16

struct rt_interp_decoder {
	struct rt_interp_decoder_stats stats;
	/* one per entry of rt_runtimes[]; NULL until a record of it comes */
	struct rt_runtime_decoder *runtimes[MAX_RUNTIMES];
};

struct rt_interp_decoder *rt_interp_decoder__new(void)
{
	if (rt_nr_runtimes > MAX_RUNTIMES) {
		errno = E2BIG;
		return NULL;
	}
	return calloc(1, sizeof(struct rt_interp_decoder));
}

int rt_interp_decoder__line(const struct rt_interp_decoder *dec, uint32_t pid,
			    const struct rt_interp_frame *f)
{
	if (!(f->flags & RT_INTERP_FRAME_LINE_PENDING))
		return f->line;
	for (size_t i = 0; i < rt_nr_runtimes; i++) {
		const struct rt_decoding *d = rt_runtimes[i]->decoding;

		if (d->stack_runtime == f->key.rec_runtime)
			return dec->runtimes[i] && d->line ? d->line(dec->runtimes[i], pid, &f->key) : 0;
	}
	return 0;
}

void rt_interp_decoder__free(struct rt_interp_decoder *dec)
{
	if (!dec)
		return;
	for (size_t i = 0; i < rt_nr_runtimes; i++)
		rt_runtime_decoder__free(dec->runtimes[i], rt_runtimes[i]->decoding);
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

/* More of a line table: to the runtime that sent the code record. */
static int feed_piece(struct rt_interp_decoder *dec, const void *raw, size_t size, uint32_t pid)
{
	struct rt_rec_code_piece *rec;
	int err = -EINVAL;

	if (size != sizeof(*rec))
		goto bad;
	rec = malloc(sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	memcpy(rec, raw, sizeof(*rec));
	for (size_t i = 0; i < rt_nr_runtimes; i++) {
		const struct rt_decoding *d = rt_runtimes[i]->decoding;

		if (rec->runtime != d->stack_runtime)
			continue;
		/* no code record of that runtime yet: nothing to continue */
		err = !d->take_piece ? 0 : !dec->runtimes[i] ? -EINVAL :
		      d->take_piece(dec->runtimes[i], rec, pid);
		break;
	}
	free(rec);
	if (err >= 0 || err == -ENOMEM)
		return err;
bad:
	dec->stats.bad_records++;
	return -EINVAL;
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
	if (h.magic == RT_REC_MAGIC && h.version > RT_REC_VERSION && h.version < 0x10000) {
		/* a newer rt-bpf wrote it: refused, and said so (rtmerge's summary) */
		dec->stats.newer_records++;
		if (h.version > dec->stats.newer_version)
			dec->stats.newer_version = h.version;
	}
	if (!header_ok(&h, size))
		goto bad;
	/* Records are copied out before use: RAW data in a perf.data mapping
	 * is only 4-byte aligned behind the 4-byte size field. */
	if (h.type == RT_REC_CODE_PIECE)
		return feed_piece(dec, raw, h.size, pid);
	if (h.type == RT_REC_STACK && h.size >= sizeof(struct rt_rec_stack))
		memcpy(&runtime, (const char *)raw + offsetof(struct rt_rec_stack, runtime),
		       sizeof(runtime));
	if (h.type == RT_REC_STACK_CHUNK && h.size >= sizeof(struct rt_rec_chunk))
		memcpy(&runtime, (const char *)raw + offsetof(struct rt_rec_chunk, runtime),
		       sizeof(runtime));
	for (size_t i = 0; i < rt_nr_runtimes; i++) {
		const struct rt_decoding *d = rt_runtimes[i]->decoding;
		bool code = h.type == d->code_type;
		bool stack = (h.type == RT_REC_STACK || h.type == RT_REC_STACK_CHUNK) &&
			     runtime == d->stack_runtime;

		if (!code && !stack)
			continue;
		if (!dec->runtimes[i])
			dec->runtimes[i] = rt_runtime_decoder__new(d);
		if (!dec->runtimes[i])
			return -ENOMEM;
		if (code)
			err = d->take_code(dec->runtimes[i], raw, h.size, pid, &dec->stats);
		else if (h.type == RT_REC_STACK_CHUNK)
			err = rt_runtime_decoder__take_chunk(dec->runtimes[i], raw, h.size, pid,
							     &dec->stats);
		else
			err = d->take_stack(dec->runtimes[i], raw, h.size, pid, tid, out, &dec->stats);
		break;
	}
	if (err >= 0 || err == -ENOMEM)
		return err;
bad:
	dec->stats.bad_records++;
	return -EINVAL;
}
