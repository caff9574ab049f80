/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge: the end-of-run summary and the hints drawn from its counters.
 */
#include "rtmerge/merge_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* Samples (weighted) whose stacks hold a frame of an interpreter's own
 * binary left without a symbol: "[libpython3.11.so.1.0]", "[ruby3.1]"... */
static uint64_t interpreter_no_symbol(const struct rt_merge *m, char *dso, size_t dso_size)
{
	static const char *const prefixes[] = { "[libpython", "[python", "[libruby", "[ruby" };
	uint64_t n = 0;

	for (size_t i = 0; i < rt_stacks__nr(m->stacks); i++) {
		struct rt_stack st;

		rt_stacks__get(m->stacks, i, &st);
		for (uint32_t j = 1; j < st.nr_frames; j++) {
			const char *name = rt_stacks__name(m->stacks, st.frames[j]);
			size_t k;

			for (k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++)
				if (!strncmp(name, prefixes[k], strlen(prefixes[k])))
					break;
			if (k == sizeof(prefixes) / sizeof(prefixes[0]))
				continue;
			if (!n)
				snprintf(dso, dso_size, "%.*s", (int)strcspn(name + 1, "] "), name + 1);
			n += st.count;
			break;
		}
	}
	return n;
}

/* What to do about what the counters show: one line each. */
static void print_hints(const struct rt_merge *m, const struct rt_perf_reader_stats *rs,
			FILE *out)
{
	const struct rt_merge_stats *st = &m->stats;
	struct rt_interp_decoder_stats ds;

	rt_interp_decoder__stats(m->decoder, &ds);
	if (ds.newer_records)
		fprintf(out, "rtmerge: warning: %" PRIu64 " interpreter records are of record format "
			"version %" PRIu32 ", newer than this rtmerge reads (%u): the file was written "
			"by a newer rt-bpf; they are left out (their samples fold as native stacks): "
			"use an rtmerge as new as that rt-bpf\n", ds.newer_records, ds.newer_version,
			RT_REC_VERSION);
	if (rs->lost || rs->lost_samples)
		fprintf(out, "rtmerge: warning: perf lost %" PRIu64 " events and %" PRIu64 " samples "
			"(its buffer was full): the profile has holes; record with a lower -F, or give "
			"perf record a larger buffer (-m)\n", rs->lost, rs->lost_samples);
	char dso[64] = "";
	uint64_t nosym = interpreter_no_symbol(m, dso, sizeof(dso));

	if (st->interp_native_mismatch && !st->unwound_samples)
		fprintf(out, "rtmerge: hint: frame-pointer callchains break in code built without "
			"frame pointers (Debian's and pyenv's CPython, Debian's Ruby); record with "
			"rt-bpf record --call-graph dwarf for complete native stacks\n");
	if (nosym) {
		bool ruby = strstr(dso, "ruby") != NULL;
		char ver[16] = "";

		sscanf(dso + strcspn(dso, "0123456789"), "%15[0-9.]", ver);
		if (ver[0] && ver[strlen(ver) - 1] == '.')
			ver[strlen(ver) - 1] = 0;
		fprintf(out, "rtmerge: hint: %" PRIu64 " samples pass through %s without a symbol "
			"name; install its debug symbols (Debian: %s%s%s, found through "
			"/usr/lib/debug/.build-id), or put the file in perf's build-id cache "
			"(perf buildid-cache -a FILE)%s\n", nosym, dso,
			ruby ? "libruby" : "python", ver[0] ? ver : "X.Y",
			ruby ? "-dbgsym" : "-dbg",
			st->unwound_samples ? "" : "; with frame-pointer callchains some of them are "
			"not return addresses at all");
	}
}

void rt_merge__print_summary(const struct rt_merge *m, const struct rt_perf_reader *reader,
			     FILE *out)
{
	const struct rt_perf_reader_stats *rs = rt_perf_reader__stats(reader);
	const struct rt_merge_stats *st = &m->stats;
	const struct rt_machine_stats *ms = rt_machine__stats(m->tool.machine);
	uint64_t unresolved = st->unresolved_no_map;
	int i;

	for (i = 1; i < RT_SYMBOL_NR_STATUS; i++)
		unresolved += st->unresolved[i];
	uint64_t accounted = st->samples + st->filtered + st->other_processes + st->code_records +
			     st->offcpu_records + st->task_records +
			     st->bad_interp_records + st->empty_records + st->stack_only_records;
	uint64_t unpaired = st->unpaired_records;

	/* Every sample read is in exactly one of these. */
	fprintf(out, "rtmerge: %" PRIu64 " samples read: %" PRIu64 " folded (event %s), %" PRIu64
		" filtered out, %" PRIu64 " of other processes, %" PRIu64
		" interpreter code records (names and deep stacks' chunks, not stacks)", rs->samples, st->samples,
		m->evsel ? m->evsel->name : "none", st->filtered, st->other_processes,
		st->code_records);
	if (st->stack_only_records)
		fprintf(out, ", %" PRIu64 " interpreter stack records (joined to their native "
			"samples; %" PRIu64 " found none)", st->stack_only_records, unpaired);
	if (st->same_chain_records)
		fprintf(out, ", of which %" PRIu64 " off-CPU ones on their thread's previous native "
			"chain (%" PRIu64 " without one)", st->same_chain_records,
			st->same_chain_missing);
	if (st->offcpu_records)
		fprintf(out, ", %" PRIu64 " off-CPU records (intervals and sums)",
			st->offcpu_records);
	if (st->task_records)
		fprintf(out, ", %" PRIu64 " async task records (%" PRIu64 " samples inside a task's "
			"step, %" PRIu64 " of them without an event loop or poll frame to place it at, "
			"%" PRIu64 " stack copies unwound knowing the step's real return address, "
			"%" PRIu64 " samples after a step returned, before its end record)",
			st->task_records, st->task_frames, st->task_frames_unanchored,
			st->task_returns_restored, st->task_after_return);
	if (st->bad_interp_records || st->empty_records)
		fprintf(out, ", %" PRIu64 " unusable interpreter records",
			st->bad_interp_records + st->empty_records);
	if (rs->samples > accounted)
		fprintf(out, ", %" PRIu64 " not delivered (malformed or unknown id)",
			rs->samples - accounted);
	fputc('\n', out);
	if (st->other_processes)
		fprintf(out, "rtmerge: %" PRIu64 " samples of other processes left out: the recording "
			"names its target, pid %" PRIu32 " (%" PRIu64 " process%s counting its children); "
			"--all-processes includes them\n", st->other_processes, st->target_pid,
			st->target_processes, st->target_processes == 1 ? "" : "es");
	fprintf(out, "rtmerge: %" PRIu64 " events lost (LOST), %" PRIu64
		" samples lost (LOST_SAMPLES), %" PRIu64 " malformed samples, %" PRIu64
		" with unknown id\n", rs->lost, rs->lost_samples, rs->bad_samples,
		rs->unknown_id_samples);
	fprintf(out, "rtmerge: %" PRIu64 " frames, %" PRIu64 " unresolved (no-map %" PRIu64,
		st->frames, unresolved, st->unresolved_no_map);
	for (i = 1; i < RT_SYMBOL_NR_STATUS; i++)
		fprintf(out, ", %s %" PRIu64, rt_symbol_status__name(i), st->unresolved[i]);
	fprintf(out, ")\n");
	if (m->opts.inline_frames)
		fprintf(out, "rtmerge: %" PRIu64 " of them inlined functions (--inline)\n",
			st->inlined_frames);
	if (st->late_lines)
		fprintf(out, "rtmerge: %" PRIu64 " interpreter frames named with their line at the "
			"end (their line table's pieces came after them)\n", st->late_lines);
	if (st->names_sanitized)
		fprintf(out, "rtmerge: %" PRIu64 " frame names had control characters, "
			"replaced by '?'\n", st->names_sanitized);
	if (rs->ids_dropped || rs->queue_cap_flushes || ms->maps_dropped)
		fprintf(out, "rtmerge: limits reached: %" PRIu64 " event ids dropped past the "
			"total cap, ordering queue flushed early %" PRIu64 " times, %" PRIu64
			" maps dropped past the total cap\n",
			rs->ids_dropped, rs->queue_cap_flushes, ms->maps_dropped);
	if (st->unwound_samples || st->unwind_failed) {
		fprintf(out, "rtmerge: %" PRIu64 " samples unwound from stack copies, %" PRIu64
			" to the process or thread entry (%.1f%%), %" PRIu64 " not unwindable; ends:",
			st->unwound_samples, st->unwound_to_entry,
			st->unwound_samples ? 100.0 * st->unwound_to_entry / st->unwound_samples : 0.0,
			st->unwind_failed);
		for (i = 0; i < RT_UNWIND_STOP_NR; i++)
			if (st->unwind_stops[i])
				fprintf(out, " %s %" PRIu64, rt_unwind_stop__name(i), st->unwind_stops[i]);
		fputc('\n', out);
	}
	if (st->interp_samples || st->bad_interp_records) {
		struct rt_interp_decoder_stats ds;

		rt_interp_decoder__stats(m->decoder, &ds);
		fprintf(out, "rtmerge: %" PRIu64 " samples with an interpreter stack, %" PRIu64
			" incomplete (truncated or read fault), %" PRIu64
			" with a broken native callchain (interpreter frames put rootward)\n",
			st->interp_samples, st->interp_incomplete, st->interp_native_mismatch);
		fprintf(out, "rtmerge: %" PRIu64 " interpreter frames, %" PRIu64
			" without symbols; %" PRIu64 " code records, %" PRIu64 " malformed records\n",
			st->interp_frames, st->interp_frames_no_symbols, ds.code_records,
			st->bad_interp_records);
		/* deep stacks: the chunk records are among the code records above */
		if (ds.chunks || ds.missing_chunks)
			fprintf(out, "rtmerge: %" PRIu64 " stack chunk records (the rootward parts of "
				"deep stacks); %" PRIu64 " stacks cut where a chunk never came\n",
				ds.chunks, ds.missing_chunks);
	}
	if (st->collapsed_frames)
		fprintf(out, "rtmerge: %" PRIu64 " repeats of an unresolved frame collapsed into the "
			"run's first (broken callchains repeat an address)\n", st->collapsed_frames);
	rt_offcpu__print_summary(m->offcpu, out);
	print_hints(m, rs, out);
}

bool rt_merge__print_cut(const struct rt_perf_reader *reader, const char *name, FILE *out)
{
	const struct rt_perf_cut *cut = rt_perf_reader__cut(reader);

	if (!cut->cut)
		return false;
	fprintf(out, "rtmerge: warning: %s: recording cut short at offset %" PRIu64
		" (perf killed, file truncated or pipe cut): every complete record before it "
		"folded, %" PRIu64 " bytes of an incomplete record lost", name, cut->offset,
		cut->bytes_lost);
	if (cut->bytes_missing)
		fprintf(out, ", %" PRIu64 " more bytes the header names missing", cut->bytes_missing);
	if (cut->no_data_size)
		fprintf(out, ", no data size in the header (perf did not finish)");
	if (cut->features_lost && !cut->nr_features_lost)
		fprintf(out, ", feature sections (event names, build ids) lost");
	else if (cut->features_lost)
		fprintf(out, ", %u feature section%s lost%s%s%s%s", cut->nr_features_lost,
			cut->nr_features_lost == 1 ? "" : "s",
			cut->event_names_lost || cut->build_ids_lost ? " (" : "",
			cut->event_names_lost ? "event names" : "",
			cut->event_names_lost && cut->build_ids_lost ? ", build ids" :
			cut->build_ids_lost ? "build ids" : "",
			cut->event_names_lost || cut->build_ids_lost ? ")" : "");
	/* rt-bpf record (its bpf-output channel) names its target in an event
	 * name, which was in the features: the default filter cannot apply. */
	for (size_t i = 0; cut->event_names_lost && i < rt_perf_reader__nr_evsels(reader); i++) {
		if (rt_merge__is_bpf_output(rt_perf_reader__evsel(reader, i))) {
			fprintf(out, " (with them the target rt-bpf record -p or -- CMD names: every "
				"process is folded; choose with -p PID or --comm NAME)");
			break;
		}
	}
	fprintf(out, "; exit status %d\n", RT_MERGE_EXIT_CUT);
	return true;
}
