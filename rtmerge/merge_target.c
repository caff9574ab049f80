/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge: which event is folded and which processes are the recorded target.
 */
#include "rtmerge/merge_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perfglue/grow.h"

static bool is_tracking_event(const struct rt_perf_evsel *ev)
{
	return ev->attr.type == PERF_TYPE_SOFTWARE && ev->attr.config == PERF_COUNT_SW_DUMMY;
}

/* Whether @name is @want with perf's modifiers after it ("cpu-clock:ppp",
 * "cycles:u", as perf names an event given so or with its default
 * precision): what a user typing the plain name means. */
static bool modified_name(const char *name, const char *want)
{
	size_t n = strlen(want);

	if (strncmp(name, want, n) || name[n] != ':' || !name[n + 1])
		return false;
	for (const char *p = name + n + 1; *p; p++)
		if (!strchr("ukhIGHpPSDWe", *p))
			return false;
	return true;
}

/* Picks the event to fold when the user named none: the first that samples. */
void rt_merge__choose_event(struct rt_merge *m)
{
	size_t i, n = rt_perf_reader__nr_evsels(m->reader), candidates = 0;
	const struct rt_perf_evsel *modified = NULL;
	size_t nr_modified = 0;

	m->evsel_chosen = true;
	for (i = 0; i < n && !m->switch_evsel; i++)
		if (rt_offcpu__is_switch_event(rt_perf_reader__evsel(m->reader, i)))
			m->switch_evsel = rt_perf_reader__evsel(m->reader, i);
	for (i = 0; i < n; i++) {
		const struct rt_perf_evsel *ev = rt_perf_reader__evsel(m->reader, i);

		if (m->opts.event) {
			if (ev->name && !strcmp(ev->name, m->opts.event)) {
				m->evsel = ev;
				return;
			}
			if (ev->name && modified_name(ev->name, m->opts.event)) {
				modified = ev;
				nr_modified++;
			}
			continue;
		}
		if (is_tracking_event(ev) || rt_merge__is_bpf_output(ev))
			continue;
		/* the off-CPU view folds the switches; the others the samples */
		if ((m->opts.view == RT_MERGE_VIEW_OFFCPU) != rt_offcpu__is_switch_event(ev))
			continue;
		if (!m->evsel)
			m->evsel = ev;
		candidates++;
	}
	if (m->opts.event && nr_modified == 1) {
		m->evsel = modified;
		return;
	}
	if (!m->evsel && !m->opts.event && n)
		m->evsel = rt_perf_reader__evsel(m->reader, 0);
	if (candidates > 1)
		fprintf(stderr, "rtmerge: several events recorded; folding \"%s\" "
			"(choose another with --event NAME)\n", m->evsel->name);
}

/* ---- the recorded target ---------------------------------------------------
 * rt-bpf record -p PID and -- CMD add a dummy event named "rt-target-PID"
 * (RT_PERF_TARGET_PREFIX): it never samples, perf keeps its name in the
 * EVENT_DESC feature (or the pipe's attribute records), and perf report and
 * perf script ignore it.  The target is that pid and every process it forks
 * while recorded (FORK records); by default only they are folded. */

static size_t target_index(const struct rt_merge *m, uint32_t pid)
{
	size_t lo = 0, hi = m->nr_target;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->target[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool rt_merge__target_has(const struct rt_merge *m, uint32_t pid)
{
	size_t i = target_index(m, pid);

	return i < m->nr_target && m->target[i] == pid;
}

static int target_add(struct rt_merge *m, uint32_t pid)
{
	size_t i = target_index(m, pid);

	if (i < m->nr_target && m->target[i] == pid)
		return 0;
	if (RT_ARRAY_GROW(m->target, m->cap_target, m->nr_target + 1, 16))
		return -ENOMEM;
	/* pids mostly grow: this is usually an append */
	memmove(&m->target[i + 1], &m->target[i], (m->nr_target - i) * sizeof(*m->target));
	m->target[i] = pid;
	m->nr_target++;
	m->stats.target_processes = m->nr_target;
	return 0;
}

/* Looks for the target's marker among events not seen yet (pipe mode
 * learns its events as it goes). */
int rt_merge__target_find(struct rt_merge *m)
{
	size_t n = rt_perf_reader__nr_evsels(m->reader);
	const size_t plen = strlen(RT_PERF_TARGET_PREFIX);

	for (; m->target_evsels_seen < n; m->target_evsels_seen++) {
		const struct rt_perf_evsel *ev = rt_perf_reader__evsel(m->reader,
								       m->target_evsels_seen);
		char *end;
		unsigned long pid;

		if (rt_merge__is_bpf_output(ev) &&
		    !(ev->attr.sample_type & (PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_STACK_USER)))
			m->hold_native = true;
		if (m->stats.target_pid || !ev->name || strncmp(ev->name, RT_PERF_TARGET_PREFIX, plen))
			continue;
		pid = strtoul(ev->name + plen, &end, 10);
		if (*end || !pid || pid > UINT32_MAX)
			continue;
		m->stats.target_pid = (uint32_t)pid;
		if (target_add(m, (uint32_t)pid))
			return -ENOMEM;
	}
	return 0;
}

int rt_merge__on_fork(struct rt_perf_tool *tool, uint32_t pid, uint32_t ppid, uint32_t tid,
		      uint32_t ptid, uint64_t time)
{
	struct rt_merge *m = rt_merge__of(tool);
	int err = rt_merge__target_find(m);

	if (!err && m->stats.target_pid && pid != ppid && rt_merge__target_has(m, ppid))
		err = target_add(m, pid);
	if (err)
		return err;
	return m->machine_fork(tool, pid, ppid, tid, ptid, time);
}
