/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-decode: debug dumper for rt-bpf's records as `perf script` prints them
 * (its "BPF output:" hex dumps).  Usage:
 *   perf script -i perf.data -F comm,tid,event,bpf-output | rt-decode [FILE...]
 * prints one line per stack record, root first:
 *   PID/TID FLAGS FRAME;FRAME;...
 * FRAME is [+]function@file:line ("+": RT_INTERP_FRAME_ENTRY), FLAGS is "-"
 * or letters T (truncated), I (incomplete), N (frames without symbols).
 * Counters go to stderr.
 */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/decode.h"

#define MAX_RAW (64 * 1024)

struct dump {
	struct rt_interp_decoder *dec;
	unsigned char raw[MAX_RAW];
	size_t len;
	bool in_raw;
	uint32_t tid;
	unsigned long records, stacks, bad;
};

/* Header lines start in column 0: "comm  TID [CPU] TIME: ... rt:" or with
 * pid/tid.  The task id is the last number (or n/n) before the '[CPU]'. */
static bool parse_tid(const char *line, uint32_t *tid)
{
	const char *cpu = strstr(line, " [");
	const char *p;

	if (!cpu)
		return false;
	p = cpu;
	while (p > line && p[-1] == ' ')
		p--;
	while (p > line && (isdigit((unsigned char)p[-1]) || p[-1] == '/'))
		p--;
	if (!isdigit((unsigned char)*p))
		return false;
	if (strchr(p, '/') && strchr(p, '/') < cpu)
		p = strchr(p, '/') + 1;
	*tid = (uint32_t)strtoul(p, NULL, 10);
	return true;
}

static void flush(struct dump *d)
{
	struct rt_interp_stack st;
	int ret;

	if (!d->len)
		return;
	d->records++;
	ret = rt_interp_decoder__feed(d->dec, d->raw, d->len, UINT32_MAX, d->tid, &st);
	d->len = 0;
	if (ret < 0) {
		d->bad++;
		return;
	}
	if (ret == 0)
		return;
	d->stacks++;
	printf("%u/%u ", st.pid, st.tid);
	if (!st.flags)
		putchar('-');
	if (st.flags & RT_INTERP_STACK_TRUNCATED)
		putchar('T');
	if (st.flags & RT_INTERP_STACK_INCOMPLETE)
		putchar('I');
	if (st.flags & RT_INTERP_STACK_NO_SYMBOLS)
		putchar('N');
	putchar(' ');
	for (size_t i = 0; i < st.nr_frames; i++)
		printf("%s%s%s@%s:%d", i ? ";" : "",
		       st.frames[i].flags & RT_INTERP_FRAME_ENTRY ? "+" : "", st.frames[i].function,
		       st.frames[i].file, st.frames[i].line);
	putchar('\n');
}

/* "NNNN: xx xx ... xx  ascii": the bytes after the offset, up to the
 * double space before the ASCII column. */
static void take_hex(struct dump *d, const char *s)
{
	const char *colon = strchr(s, ':');
	unsigned long off;
	char *end;

	if (!colon)
		return;
	off = strtoul(s, &end, 16);
	if (end != colon || off != d->len)
		return; /* out of step: the record will fail to decode */
	for (s = colon + 1; d->len < MAX_RAW;) {
		unsigned int b;

		if (s[0] != ' ' || !isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]) ||
		    (s[3] != ' ' && s[3] != '\n' && s[3] != '\0'))
			break;
		sscanf(s + 1, "%2x", &b);
		d->raw[d->len++] = (unsigned char)b;
		s += 3;
	}
}

static void dump_stream(struct dump *d, FILE *f)
{
	char line[4096];

	while (fgets(line, sizeof(line), f)) {
		const char *p = line, *bo;

		if (line[0] != ' ' && line[0] != '\t' && line[0] != '\n') {
			flush(d);
			d->in_raw = false;
			if (!parse_tid(line, &d->tid))
				d->tid = UINT32_MAX;
			continue;
		}
		bo = strstr(line, "BPF output:");
		if (bo) {
			flush(d);
			d->in_raw = true;
			take_hex(d, bo + strlen("BPF output:") + 1);
			continue;
		}
		if (!d->in_raw)
			continue;
		while (*p == ' ')
			p++;
		if (isxdigit((unsigned char)p[0]) && strchr(p, ':'))
			take_hex(d, p);
		else
			d->in_raw = false;
	}
	flush(d);
}

int main(int argc, char **argv)
{
	struct dump *d = calloc(1, sizeof(*d));
	struct rt_interp_decoder_stats st;
	int err = 0;

	if (!d || !(d->dec = rt_interp_decoder__new())) {
		perror("rt-decode");
		return 1;
	}
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: perf script -F comm,tid,event,bpf-output | rt-decode [FILE...]\n");
		return 0;
	}
	if (argc < 2) {
		dump_stream(d, stdin);
	} else {
		for (int i = 1; i < argc; i++) {
			FILE *f = fopen(argv[i], "r");

			if (!f) {
				fprintf(stderr, "rt-decode: %s: %s\n", argv[i], strerror(errno));
				err = 1;
				continue;
			}
			dump_stream(d, f);
			fclose(f);
		}
	}
	rt_interp_decoder__stats(d->dec, &st);
	fprintf(stderr, "rt-decode: records=%lu stacks=%lu bad=%lu code=%llu unknown_frames=%llu "
		"truncated=%llu incomplete=%llu\n", d->records, d->stacks, d->bad,
		(unsigned long long)st.code_records, (unsigned long long)st.unknown_frames,
		(unsigned long long)st.truncated, (unsigned long long)st.incomplete);
	rt_interp_decoder__free(d->dec);
	free(d);
	return err;
}
