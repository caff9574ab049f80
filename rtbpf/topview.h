/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * topview: what `rt-bpf top` shows and how keys change it, apart from the
 * terminal: the view's state, the keys' effect on it, and the screen's
 * lines as text (rtbpf/top.c puts them on an ncurses screen).
 */
#ifndef RT_TOPVIEW_H
#define RT_TOPVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtbpf/topagg.h"

struct rt_top_view {
	enum rt_top_sort sort;
	bool paused;
	bool window;            /* the last interval instead of since the start */
	bool interp_only;       /* interpreter functions only (own: the leafmost) */
	bool quit;
	uint32_t tid;           /* 0: every thread */
	char comm[64];          /* the filtered thread's comm, for the header */
};

/* What the header says besides the view's state. */
struct rt_top_status {
	const char *target;     /* "pid 4242", "all processes", "python3 app.py" */
	const char *state;      /* NULL, or why sampling ended ("the process exited") */
	double rate;            /* samples per second over the last refresh */
	uint64_t samples;       /* samples shown (of the thread, in the window) */
	uint64_t interp_stacks; /* interpreter stacks the walker wrote */
	uint64_t lost_records;  /* perf: LOST records' counts */
	uint64_t lost_samples;  /* perf: LOST_SAMPLES */
	uint64_t lost_stacks;   /* the walker: stacks the ring had no room for */
	const char *message;    /* the latest message, or NULL */
};

/*
 * Applies key @ch to @view: o/O sort by own, t/T by total, s toggles;
 * f steps the thread filter through @threads (hottest first, then back to
 * every thread), a shows every thread; w toggles the window; i toggles
 * interpreter functions only; p or space pauses; q, Q or Escape quits.  Returns true when the key meant something.
 */
bool rt_top_view__key(struct rt_top_view *view, int ch, const struct rt_top_thread *threads,
		      size_t nr_threads);

/* The header lines (@lines of @width bytes each, at most 3).  Returns how many. */
int rt_top_view__header(const struct rt_top_view *view, const struct rt_top_status *status,
			char lines[][256], int max);

/* The column titles. */
const char *rt_top_view__columns(void);

/* One function's line: shares of @samples, counts, "name (file:line)". */
void rt_top_view__row(const struct rt_top_row *row, uint64_t samples, char *out, size_t size);

#endif
