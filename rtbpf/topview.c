/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtbpf/topview.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The thread after the filtered one, hottest first; 0 (every thread) after the last. */
static void next_thread(struct rt_top_view *view, const struct rt_top_thread *threads, size_t nr)
{
	size_t i = 0;

	if (view->tid) {
		while (i < nr && threads[i].tid != view->tid)
			i++;
		i++;    /* the next one; past a thread gone from the list: the hottest */
		if (i > nr)
			i = 0;
	}
	if (i < nr) {
		view->tid = threads[i].tid;
		snprintf(view->comm, sizeof(view->comm), "%s", threads[i].comm ? threads[i].comm : "?");
	} else {
		view->tid = 0;
		view->comm[0] = '\0';
	}
}

bool rt_top_view__key(struct rt_top_view *view, int ch, const struct rt_top_thread *threads,
		      size_t nr_threads)
{
	switch (ch) {
	case 'o':
	case 'O':
		view->sort = RT_TOP_SORT_OWN;
		return true;
	case 't':
	case 'T':
		view->sort = RT_TOP_SORT_TOTAL;
		return true;
	case 's':
		view->sort = view->sort == RT_TOP_SORT_OWN ? RT_TOP_SORT_TOTAL : RT_TOP_SORT_OWN;
		return true;
	case 'f':
		next_thread(view, threads, nr_threads);
		return true;
	case 'a':
		view->tid = 0;
		view->comm[0] = '\0';
		return true;
	case 'w':
		view->window = !view->window;
		return true;
	case 'i':
		view->interp_only = !view->interp_only;
		return true;
	case 'p':
	case ' ':
		view->paused = !view->paused;
		return true;
	case 'q':
	case 'Q':
	case 27:
		view->quit = true;
		return true;
	default:
		return false;
	}
}

int rt_top_view__header(const struct rt_top_view *view, const struct rt_top_status *st,
			char lines[][256], int max)
{
	char thread[96];
	int n = 0;

	if (view->tid)
		snprintf(thread, sizeof(thread), "thread %u (%s)", view->tid, view->comm);
	else
		snprintf(thread, sizeof(thread), "all threads");
	if (n < max)
		/* why sampling ended first (a command that could not run), then
		 * the view's state: a narrow terminal cuts the target, which can
		 * be a long command line */
		snprintf(lines[n++], 256, "rt-bpf top  |  %s%ssort: %s  |  %s  |  %s  |  %s  |  %s",
			 st->state ? st->state : "", st->state ? "  |  " : "",
			 view->sort == RT_TOP_SORT_OWN ? "own" : "total", thread,
			 view->interp_only ? "interpreter functions" : "all frames",
			 view->paused ? "PAUSED" : view->window ? "last second" : "since start",
			 st->target);
	if (n < max)
		snprintf(lines[n++], 256, "samples: %" PRIu64 " (%.1f/s), interpreter stacks: %" PRIu64
			 "  |  lost: %" PRIu64 " records, %" PRIu64 " samples, %" PRIu64
			 " interpreter stacks", st->samples, st->rate, st->interp_stacks,
			 st->lost_records, st->lost_samples, st->lost_stacks);
	if (n < max)
		snprintf(lines[n++], 256, "keys: o/t sort by own/total, f next thread, a all threads, "
			 "i interpreter only, w window, p pause, q quit%s%s", st->message ? "  |  " : "",
			 st->message ? st->message : "");
	return n;
}

const char *rt_top_view__columns(void)
{
	return "  %Own %Total      Own    Total  Function (file:line)";
}

void rt_top_view__row(const struct rt_top_row *row, uint64_t samples, char *out, size_t size)
{
	double own = samples ? 100.0 * (double)row->own / (double)samples : 0;
	double total = samples ? 100.0 * (double)row->total / (double)samples : 0;
	size_t len = strlen(row->name);

	/* "func (file)" and its hottest line: "func (file:line)" */
	if (row->line > 0 && len > 2 && row->name[len - 1] == ')')
		snprintf(out, size, "%5.1f%% %5.1f%% %8" PRIu64 " %8" PRIu64 "  %.*s:%d)", own, total,
			 row->own, row->total, (int)(len - 1), row->name, row->line);
	else
		snprintf(out, size, "%5.1f%% %5.1f%% %8" PRIu64 " %8" PRIu64 "  %s", own, total,
			 row->own, row->total, row->name);
}
