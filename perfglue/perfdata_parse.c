/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * perfdata: record and sample parsing.  Finds each record's event by its
 * id, parses samples by their event's sample_type and the id trailer of
 * other records, and hands them to the tool's callbacks.
 */
#include "perfglue/perfdata_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static enum rt_cpumode cpumode_of(uint16_t misc)
{
	switch (misc & PERF_RECORD_MISC_CPUMODE_MASK) {
	case PERF_RECORD_MISC_KERNEL:
		return RT_CPUMODE_KERNEL;
	case PERF_RECORD_MISC_USER:
		return RT_CPUMODE_USER;
	case PERF_RECORD_MISC_HYPERVISOR:
		return RT_CPUMODE_HYPERVISOR;
	case PERF_RECORD_MISC_GUEST_KERNEL:
		return RT_CPUMODE_GUEST_KERNEL;
	case PERF_RECORD_MISC_GUEST_USER:
		return RT_CPUMODE_GUEST_USER;
	default:
		return RT_CPUMODE_UNKNOWN;
	}
}

#define TAKE(dst) do {                                          \
		if ((size_t)(end - p) < sizeof(dst))            \
			return -EINVAL;                          \
		memcpy(&(dst), p, sizeof(dst));                 \
		p += sizeof(dst);                               \
	} while (0)

static int parse_sample(const struct rt_perf_evsel *ev, const uint8_t *rec, size_t size,
			struct rt_perf_sample *s)
{
	const struct perf_event_attr *attr = &ev->attr;
	uint64_t type = attr->sample_type, u;
	const uint8_t *p = rec + sizeof(struct perf_event_header);
	const uint8_t *end = rec + size;
	struct perf_event_header h;
	uint32_t u32pair[2];

	memcpy(&h, rec, sizeof(h));
	memset(s, 0, sizeof(*s));
	s->sample_type = type;
	s->misc = h.misc;
	s->cpumode = cpumode_of(h.misc);
	if (type & PERF_SAMPLE_IDENTIFIER)
		TAKE(s->id);
	if (type & PERF_SAMPLE_IP)
		TAKE(s->ip);
	if (type & PERF_SAMPLE_TID) {
		TAKE(u32pair);
		s->pid = u32pair[0];
		s->tid = u32pair[1];
	}
	if (type & PERF_SAMPLE_TIME)
		TAKE(s->time);
	if (type & PERF_SAMPLE_ADDR)
		TAKE(s->addr);
	if (type & PERF_SAMPLE_ID)
		TAKE(s->id);
	if (type & PERF_SAMPLE_STREAM_ID)
		TAKE(s->stream_id);
	if (type & PERF_SAMPLE_CPU) {
		TAKE(u32pair);
		s->cpu = u32pair[0];
	}
	/* a fixed period (perf record -c N, ev/period=N/) is not in the
	 * sample: the event's own, as perf reads it (a frequency is kept in
	 * the same field, and its samples always carry their period) */
	if (type & PERF_SAMPLE_PERIOD)
		TAKE(s->period);
	else if (!attr->freq)
		s->period = attr->sample_period;
	if (type & PERF_SAMPLE_READ) {
		uint64_t rf = attr->read_format, n = 1, per = 1;
		size_t words;

		if (rf & PERF_FORMAT_GROUP) {
			TAKE(n);
			if (n > 65536)
				return -EINVAL;
			per = 1 + !!(rf & PERF_FORMAT_ID) + !!(rf & PERF_FORMAT_LOST);
			words = !!(rf & PERF_FORMAT_TOTAL_TIME_ENABLED) +
				!!(rf & PERF_FORMAT_TOTAL_TIME_RUNNING) + n * per;
			s->read_values = (const uint64_t *)(p - 8);
			s->read_size = words + 1;
		} else {
			words = 1 + !!(rf & PERF_FORMAT_TOTAL_TIME_ENABLED) +
				!!(rf & PERF_FORMAT_TOTAL_TIME_RUNNING) + !!(rf & PERF_FORMAT_ID) +
				!!(rf & PERF_FORMAT_LOST);
			s->read_values = (const uint64_t *)p;
			s->read_size = words;
		}
		if ((size_t)(end - p) / 8 < words)
			return -EINVAL;
		p += words * 8;
	}
	if (type & PERF_SAMPLE_CALLCHAIN) {
		TAKE(s->nr_callchain);
		if ((size_t)(end - p) / 8 < s->nr_callchain)
			return -EINVAL;
		s->callchain = (const uint64_t *)p;
		p += s->nr_callchain * 8;
	}
	if (type & PERF_SAMPLE_RAW) {
		TAKE(s->raw_size);
		if ((size_t)(end - p) < s->raw_size)
			return -EINVAL;
		s->raw = p;
		p += s->raw_size;
		/* The u32 size plus data are padded to 8 bytes in total. */
		p = rec + ((size_t)(p - rec) + 7) / 8 * 8;
		if (p > end)
			return -EINVAL;
	}
	if (type & PERF_SAMPLE_BRANCH_STACK) {
		TAKE(s->nr_branches);
		if (attr->branch_sample_type & PERF_SAMPLE_BRANCH_HW_INDEX)
			TAKE(s->branch_hw_index);
		if ((size_t)(end - p) / sizeof(struct perf_branch_entry) < s->nr_branches)
			return -EINVAL;
		s->branches = (const struct perf_branch_entry *)p;
		p += s->nr_branches * sizeof(struct perf_branch_entry);
	}
	if (type & PERF_SAMPLE_REGS_USER) {
		TAKE(s->user_regs_abi);
		s->user_regs_mask = attr->sample_regs_user;
		if (s->user_regs_abi) {
			size_t nr = (size_t)__builtin_popcountll(attr->sample_regs_user);

			if ((size_t)(end - p) / 8 < nr)
				return -EINVAL;
			s->user_regs = (const uint64_t *)p;
			p += nr * 8;
		}
	}
	if (type & PERF_SAMPLE_STACK_USER) {
		TAKE(s->user_stack_size);
		if ((size_t)(end - p) < s->user_stack_size)
			return -EINVAL;
		s->user_stack = p;
		p += s->user_stack_size;
		if (s->user_stack_size) {
			TAKE(s->user_stack_dyn_size);
			if (s->user_stack_dyn_size > s->user_stack_size)
				s->user_stack_dyn_size = s->user_stack_size;
		}
	}
	if (type & (PERF_SAMPLE_WEIGHT | PERF_SAMPLE_WEIGHT_STRUCT)) {
		TAKE(u);
		s->weight = (type & PERF_SAMPLE_WEIGHT_STRUCT) ? (u & 0xffffffffULL) : u;
	}
	if (type & PERF_SAMPLE_DATA_SRC)
		TAKE(s->data_src);
	if (type & PERF_SAMPLE_TRANSACTION)
		TAKE(s->transaction);
	if (type & PERF_SAMPLE_REGS_INTR) {
		TAKE(s->intr_regs_abi);
		if (s->intr_regs_abi) {
			size_t nr = (size_t)__builtin_popcountll(attr->sample_regs_intr);

			if ((size_t)(end - p) / 8 < nr)
				return -EINVAL;
			s->intr_regs = (const uint64_t *)p;
			p += nr * 8;
		}
	}
	if (type & PERF_SAMPLE_PHYS_ADDR)
		TAKE(s->phys_addr);
	if (type & PERF_SAMPLE_CGROUP)
		TAKE(s->cgroup);
	if (type & PERF_SAMPLE_DATA_PAGE_SIZE)
		TAKE(s->data_page_size);
	if (type & PERF_SAMPLE_CODE_PAGE_SIZE)
		TAKE(s->code_page_size);
	if (type & PERF_SAMPLE_AUX) {
		TAKE(s->aux_size);
		if ((size_t)(end - p) < s->aux_size)
			return -EINVAL;
		s->aux = p;
		p += s->aux_size;
	}
	return 0;
}

/* ---- record dispatch ---------------------------------------------------- */

static struct evsel_priv *evsel_of_sample(struct rt_perf_reader *r, const uint8_t *rec,
					  size_t size)
{
	struct evsel_priv *first = r->evsels[0];
	uint64_t id;
	int pos;

	if (r->nr_evsels == 1)
		return first;
	pos = first->id_pos;
	if (pos < 0)
		return first;
	if ((size_t)(pos + 1) * 8 > size - 8)
		return NULL;
	memcpy(&id, rec + 8 + pos * 8, 8);
	return rt_perf_reader__evsel_by_id(r, id);
}

static struct evsel_priv *evsel_of_other(struct rt_perf_reader *r, const uint8_t *rec,
					 size_t size)
{
	struct evsel_priv *first;
	uint64_t id;
	int pos;

	if (!r->nr_evsels)
		return NULL;
	first = r->evsels[0];
	if (!first->pub.attr.sample_id_all)
		return NULL;
	if (r->nr_evsels == 1)
		return first;
	pos = first->is_pos;
	if (pos < 0 || (size_t)pos * 8 > size - 8)
		return first;
	memcpy(&id, rec + size - (size_t)pos * 8, 8);
	return rt_perf_reader__evsel_by_id(r, id);
}

static void parse_trailer(const struct evsel_priv *ev, const uint8_t *rec, size_t size,
			  size_t body_min, struct rt_perf_sample_id *sid)
{
	uint64_t type;
	const uint8_t *p;
	uint32_t pair[2];

	memset(sid, 0, sizeof(*sid));
	if (!ev || !ev->trailer_size || size < body_min + ev->trailer_size)
		return;
	type = ev->pub.attr.sample_type;
	p = rec + size - ev->trailer_size;
	if (type & PERF_SAMPLE_TID) {
		memcpy(pair, p, 8);
		sid->pid = pair[0];
		sid->tid = pair[1];
		p += 8;
	}
	if (type & PERF_SAMPLE_TIME) {
		memcpy(&sid->time, p, 8);
		p += 8;
	}
	if (type & PERF_SAMPLE_ID) {
		memcpy(&sid->id, p, 8);
		p += 8;
	}
	if (type & PERF_SAMPLE_STREAM_ID) {
		memcpy(&sid->stream_id, p, 8);
		p += 8;
	}
	if (type & PERF_SAMPLE_CPU) {
		memcpy(pair, p, 8);
		sid->cpu = pair[0];
		p += 8;
	}
	if (type & PERF_SAMPLE_IDENTIFIER)
		memcpy(&sid->id, p, 8);
	sid->present = true;
}

/* Time of a record for ordering; false when it has none. */
bool rt_perf_reader__record_time(struct rt_perf_reader *r, const uint8_t *rec, size_t size,
				 uint64_t *time)
{
	struct perf_event_header h;
	struct evsel_priv *ev;
	struct rt_perf_sample_id sid;

	memcpy(&h, rec, sizeof(h));
	if (h.type == PERF_RECORD_SAMPLE) {
		uint64_t type;
		size_t pos = 8;

		ev = evsel_of_sample(r, rec, size);
		if (!ev)
			return false;
		type = ev->pub.attr.sample_type;
		if (!(type & PERF_SAMPLE_TIME))
			return false;
		pos += 8 * (!!(type & PERF_SAMPLE_IDENTIFIER) + !!(type & PERF_SAMPLE_IP) +
			    !!(type & PERF_SAMPLE_TID));
		if (pos + 8 > size)
			return false;
		memcpy(time, rec + pos, 8);
		return true;
	}
	if (h.type >= PERF_RECORD_USER_TYPE_START)
		return false;
	ev = evsel_of_other(r, rec, size);
	if (!ev || !(ev->pub.attr.sample_type & PERF_SAMPLE_TIME))
		return false;
	parse_trailer(ev, rec, size, 8, &sid);
	if (!sid.present)
		return false;
	*time = sid.time;
	return true;
}

int rt_perf_reader__deliver(struct rt_perf_reader *r, struct rt_perf_tool *tool,
			    const uint8_t *rec, size_t size, uint64_t offset)
{
	struct perf_event_header h;
	struct rt_perf_sample_id sid;
	struct evsel_priv *ev;
	uint32_t pair[4];

	memcpy(&h, rec, sizeof(h));
	if (h.type < PERF_RECORD_HEADER_MAX)
		r->stats.records[h.type]++;
	switch (h.type) {
	case PERF_RECORD_SAMPLE: {
		struct rt_perf_sample s;

		r->stats.samples++;
		ev = evsel_of_sample(r, rec, size);
		if (!ev) {
			r->stats.unknown_id_samples++;
			return 0;
		}
		if (parse_sample(&ev->pub, rec, size, &s)) {
			r->stats.bad_samples++;
			return 0;
		}
		ev->pub.nr_samples++;
		return tool->sample ? tool->sample(tool, &ev->pub, &s) : 0;
	}
	case PERF_RECORD_MMAP:
	case PERF_RECORD_MMAP2: {
		struct rt_perf_mmap m;
		size_t fixed = h.type == PERF_RECORD_MMAP ? 40 : 72;
		const char *name = (const char *)rec + fixed;
		size_t name_max;

		if (size <= fixed)
			goto bad;
		memset(&m, 0, sizeof(m));
		ev = evsel_of_other(r, rec, size);
		parse_trailer(ev, rec, size, fixed, &m.sid);
		name_max = size - fixed - (m.sid.present ? ev->trailer_size : 0);
		if (!name_max || !memchr(name, 0, name_max))
			goto bad;
		memcpy(pair, rec + 8, 8);
		m.pid = pair[0];
		m.tid = pair[1];
		memcpy(&m.start, rec + 16, 8);
		memcpy(&m.len, rec + 24, 8);
		memcpy(&m.pgoff, rec + 32, 8);
		m.filename = name;
		m.cpumode = cpumode_of(h.misc);
		if (h.type == PERF_RECORD_MMAP2) {
			memcpy(&m.prot, rec + 64, 4);
			memcpy(&m.flags, rec + 68, 4);
			if (h.misc & PERF_RECORD_MISC_MMAP_BUILD_ID) {
				m.build_id_size = rec[40] > 20 ? 20 : rec[40];
				memcpy(m.build_id, rec + 44, m.build_id_size);
			}
		} else {
			m.prot = 4; /* PROT_EXEC: plain MMAP records describe code */
		}
		return tool->mmap ? tool->mmap(tool, &m) : 0;
	}
	case PERF_RECORD_COMM: {
		const char *name = (const char *)rec + 16;

		if (size <= 16)
			goto bad;
		ev = evsel_of_other(r, rec, size);
		parse_trailer(ev, rec, size, 16, &sid);
		if (!memchr(name, 0, size - 16))
			goto bad;
		memcpy(pair, rec + 8, 8);
		return tool->comm ? tool->comm(tool, pair[0], pair[1], name,
					       h.misc & PERF_RECORD_MISC_COMM_EXEC, &sid) : 0;
	}
	case PERF_RECORD_FORK:
	case PERF_RECORD_EXIT: {
		uint64_t time;

		if (size < 32)
			goto bad;
		memcpy(pair, rec + 8, 16);
		memcpy(&time, rec + 24, 8);
		if (h.type == PERF_RECORD_FORK)
			return tool->fork ? tool->fork(tool, pair[0], pair[1], pair[2], pair[3], time) : 0;
		return tool->exit ? tool->exit(tool, pair[0], pair[1], pair[2], pair[3], time) : 0;
	}
	case PERF_RECORD_LOST: {
		uint64_t lost;

		if (size < 24)
			goto bad;
		memcpy(&lost, rec + 16, 8);
		r->stats.lost += lost;
		return 0;
	}
	case PERF_RECORD_LOST_SAMPLES: {
		uint64_t lost;

		if (size < 16)
			goto bad;
		memcpy(&lost, rec + 8, 8);
		r->stats.lost_samples += lost;
		return 0;
	}
	case PERF_RECORD_KSYMBOL: {
		uint64_t addr;
		uint32_t len;
		uint16_t ktype, flags;
		const char *name = (const char *)rec + 24;

		if (size <= 24)
			goto bad;
		if (!memchr(name, 0, size - 24))
			goto bad;
		memcpy(&addr, rec + 8, 8);
		memcpy(&len, rec + 16, 4);
		memcpy(&ktype, rec + 20, 2);
		memcpy(&flags, rec + 22, 2);
		return tool->ksymbol ? tool->ksymbol(tool, addr, len, ktype,
						     flags & PERF_RECORD_KSYMBOL_FLAGS_UNREGISTER,
						     name) : 0;
	}
	default:
		if (h.type >= PERF_RECORD_HEADER_MAX)
			r->stats.unknown_records++;
		return 0;
	}
bad:
	fprintf(stderr, "%s: offset %" PRIu64 ": malformed %s record skipped\n", r->path, offset,
		rt_perf_record__name(h.type));
	return 0;
}

const char *rt_perf_record__name(uint32_t type)
{
	static const char *const names[] = {
		[PERF_RECORD_MMAP] = "MMAP", [PERF_RECORD_LOST] = "LOST",
		[PERF_RECORD_COMM] = "COMM", [PERF_RECORD_EXIT] = "EXIT",
		[PERF_RECORD_THROTTLE] = "THROTTLE", [PERF_RECORD_UNTHROTTLE] = "UNTHROTTLE",
		[PERF_RECORD_FORK] = "FORK", [PERF_RECORD_READ] = "READ",
		[PERF_RECORD_SAMPLE] = "SAMPLE", [PERF_RECORD_MMAP2] = "MMAP2",
		[PERF_RECORD_AUX] = "AUX", [PERF_RECORD_ITRACE_START] = "ITRACE_START",
		[PERF_RECORD_LOST_SAMPLES] = "LOST_SAMPLES", [PERF_RECORD_SWITCH] = "SWITCH",
		[PERF_RECORD_SWITCH_CPU_WIDE] = "SWITCH_CPU_WIDE",
		[PERF_RECORD_NAMESPACES] = "NAMESPACES", [PERF_RECORD_KSYMBOL] = "KSYMBOL",
		[PERF_RECORD_BPF_EVENT] = "BPF_EVENT", [PERF_RECORD_CGROUP] = "CGROUP",
		[PERF_RECORD_TEXT_POKE] = "TEXT_POKE",
		[PERF_RECORD_AUX_OUTPUT_HW_ID] = "AUX_OUTPUT_HW_ID",
		[PERF_RECORD_HEADER_ATTR] = "HEADER_ATTR",
		[PERF_RECORD_HEADER_EVENT_TYPE] = "HEADER_EVENT_TYPE",
		[PERF_RECORD_HEADER_TRACING_DATA] = "HEADER_TRACING_DATA",
		[PERF_RECORD_HEADER_BUILD_ID] = "HEADER_BUILD_ID",
		[PERF_RECORD_FINISHED_ROUND] = "FINISHED_ROUND", [PERF_RECORD_ID_INDEX] = "ID_INDEX",
		[PERF_RECORD_AUXTRACE_INFO] = "AUXTRACE_INFO", [PERF_RECORD_AUXTRACE] = "AUXTRACE",
		[PERF_RECORD_AUXTRACE_ERROR] = "AUXTRACE_ERROR",
		[PERF_RECORD_THREAD_MAP] = "THREAD_MAP", [PERF_RECORD_CPU_MAP] = "CPU_MAP",
		[PERF_RECORD_STAT_CONFIG] = "STAT_CONFIG", [PERF_RECORD_STAT] = "STAT",
		[PERF_RECORD_STAT_ROUND] = "STAT_ROUND", [PERF_RECORD_EVENT_UPDATE] = "EVENT_UPDATE",
		[PERF_RECORD_TIME_CONV] = "TIME_CONV", [PERF_RECORD_HEADER_FEATURE] = "HEADER_FEATURE",
		[PERF_RECORD_COMPRESSED] = "COMPRESSED", [PERF_RECORD_FINISHED_INIT] = "FINISHED_INIT",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "UNKNOWN";
}
