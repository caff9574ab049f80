/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtmerge/merge.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/decode.h"
#include "bpf/perfattach.h"
#include "perfglue/hash.h"
#include "perfglue/machine.h"
#include "perfglue/safefile.h"
#include "unwind/unwind.h"

#define MAX_STACK 4096
#define FRAME_TEXT_MAX 1024

/* Frame cache: (pid, address, kernel?) -> frame id, valid for one maps generation. */
struct frame_slot {
	uint64_t addr;
	uint64_t generation;
	uint32_t pid;
	uint32_t frame;     /* id + 1; 0 empty */
	uint8_t reason;     /* 0 resolved, an rt_symbol_status, or REASON_NO_MAP */
};

#define REASON_NO_MAP RT_SYMBOL_NR_STATUS
#define L1_SIZE 4096
#define BID_CACHE 256
#define ROOT_CACHE 256
/* A stack record follows its native sample by the walker's run time:
 * microseconds. */
#define PAIR_WINDOW_NS 1000000ull

struct rt_merge {
	struct rt_machine_tool tool; /* first: callbacks get &merge->tool.tool */
	struct rt_merge_opts opts;
	struct rt_symbolizer *symbolizer;
	struct rt_stacks *stacks;
	struct rt_perf_reader *reader;
	const struct rt_perf_evsel *evsel;  /* chosen event */
	const struct rt_perf_evsel *switch_evsel; /* sched_switch of rt-bpf --off-cpu, if recorded */
	struct rt_offcpu *offcpu;           /* the view (rtmerge/offcpu.c) */
	bool evsel_chosen;
	struct frame_slot *cache;
	size_t cache_size, cache_used;
	struct frame_slot l1[L1_SIZE];
	uint32_t frames[MAX_STACK];
	uint8_t reason;     /* why the last resolve_* failed, 0 when it did not */
	bool uncacheable;   /* the last resolve_* answer may change without a new generation */
	struct rt_interp_decoder *decoder;
	struct rt_unwinder *unwinder;       /* for --call-graph dwarf samples */
	struct rt_unwind_frame unwound[MAX_STACK];
	uint32_t unwind_pid;
	/* Kernel frames are named at the end, while kallsyms loads on a second
	 * thread: until then each kernel address gets a placeholder frame. */
	bool kernel_deferred;
	pthread_t kernel_loader;
	struct pending_kernel {
		uint64_t addr;
		uint32_t id;
	} *pending;
	size_t nr_pending, cap_pending;
	uint8_t *is_eval;   /* per frame id: FRAME_EVAL, FRAME_PY_TRAMPOLINE bits */
	size_t is_eval_cap;
	uint32_t interp_ids[MAX_STACK];
	int32_t group_start[MAX_STACK];
	/* recorded build ids by interned map path, copied: build-id records
	 * later in the input grow (move) the reader's list and may add the
	 * one a path lacked, so an answer holds for one list length only */
	struct bid_slot {
		const char *path;
		size_t nr_listed;   /* the reader's nr_build_ids when looked up */
		uint8_t size;       /* 0: none recorded */
		uint8_t id[20];
	} bid_cache[BID_CACHE];
	/* root frames by thread: comm pointers are interned by the machine */
	struct root_slot {
		uint32_t tid, pid;
		const char *comm;
		uint32_t id;
		bool used;
	} root_cache[ROOT_CACHE];
	struct rt_merge_stats stats;
	/* Each CPU's last native sample, waiting for its stack record (see
	 * held_put); only when a channel carries no native stack. */
	struct held_sample {
		bool used;
		struct rt_perf_sample s;    /* pointers into the buffers below */
		uint64_t *callchain, *regs;
		uint8_t *stack;
		size_t cap_callchain, cap_regs, cap_stack;
		/* A stack record that came before its native sample (kernels
		 * that run the program before perf writes the sample). */
		bool early;
		uint64_t early_time;
		struct rt_interp_stack early_stack; /* frames: early_frames */
		struct rt_interp_frame *early_frames;
		size_t cap_early_frames;
	} *held;
	size_t nr_held;
	bool hold_native;           /* some channel's samples carry no native stack */
	/* The recorded target's processes, sorted (see target_find). */
	uint32_t *target;
	size_t nr_target, cap_target;
	size_t target_evsels_seen;  /* events looked at for the target's name */
	int (*machine_fork)(struct rt_perf_tool *tool, uint32_t pid, uint32_t ppid, uint32_t tid,
			    uint32_t ptid, uint64_t time);
};

static struct rt_merge *merge_of(struct rt_perf_tool *tool)
{
	return (struct rt_merge *)tool;
}

/* ---- naming frames ------------------------------------------------------- */

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

/* stackcollapse-perf.pl's tidy_generic: no ';', no arguments, no quotes. */
static size_t tidy_name(const char *name, char *out, size_t size)
{
	size_t n = 0;
	const char *paren = strchr(name, '(');
	bool go_method = false;

	/* Go methods look like "net/http.(*Client).Do": keep those parentheses. */
	if (paren && paren > name && paren[-1] == '.' && strchr(paren, ')') &&
	    strchr(paren, ')')[1] == '.')
		go_method = true;
	for (; *name && n + 1 < size; name++) {
		char c = *name;

		if (c == '(' && !go_method && strncmp(name, "(anonymous namespace)", 21))
			break;
		if (c == '"' || c == '\'')
			continue;
		out[n++] = c == ';' ? ':' : c;
	}
	out[n] = '\0';
	return n;
}

static bool is_anon_map(const char *path)
{
	return !strncmp(path, "//anon", 6) || !strncmp(path, "[anon", 5) ||
	       !strncmp(path, "/dev/zero", 9) || !strncmp(path, "/anon_hugepage", 14) ||
	       !strncmp(path, "/memfd:", 7);
}

/*
 * Interns a frame's text.  Names come from the target (comm, symbols, its
 * interpreter's function names): a newline or tab in one would forge lines
 * and counts in folded and per-sample output, so control characters become
 * '?' here, where every name passes, and are counted.
 */
static int intern_text(struct rt_merge *m, const char *text, size_t len, uint32_t *id)
{
	char clean[FRAME_TEXT_MAX];
	int64_t r;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c == 0x7f) {
			if (len >= sizeof(clean))
				len = sizeof(clean) - 1;
			memcpy(clean, text, len);
			clean[len] = '\0';
			rt_safefile__sanitize(clean);
			text = clean;
			len = strlen(clean);
			m->stats.names_sanitized++;
			break;
		}
	}
	r = rt_stacks__intern(m->stacks, text, len);

	if (r < 0)
		return (int)r;
	*id = (uint32_t)r;
	return 0;
}

static int unresolved_frame(struct rt_merge *m, const char *dso, uint64_t addr, uint32_t *id)
{
	char text[FRAME_TEXT_MAX];
	int n;

	if (m->opts.include_addrs)
		n = snprintf(text, sizeof(text), "[%s <%" PRIx64 ">]", dso, addr);
	else
		n = snprintf(text, sizeof(text), "[%s]", dso);
	if (n >= (int)sizeof(text))
		n = sizeof(text) - 1;
	return intern_text(m, text, (size_t)n, id);
}

#define FRAME_EVAL       1 /* interpreter eval loop */
#define FRAME_PY_TRAMPOLINE 2 /* CPython 3.12+ -X perf trampoline ("py::" in the perf map) */
#define FRAME_EVAL_DEFAULT 4 /* CPython's _PyEval_EvalFrameDefault itself */

/* Native functions that run interpreter frames: each stands for the
 * interpreter frames it executes when those are spliced in.  Returns 0 or
 * the FRAME_EVAL* bits of @name.  GCC's out-of-line part of a function
 * (".cold", where a profile-guided build may put most of CPython 3.14's
 * eval loop) is that function's frame. */
static uint8_t eval_loop_kind(const char *name)
{
	static const char *const names[] = {
		"_PyEval_EvalFrameDefault", "PyEval_EvalFrameEx", "_PyEval_EvalFrame",
		"vm_exec_core", "rb_vm_exec",
	};
	size_t i, n = strlen(name);

	if (n > 5 && !strcmp(name + n - 5, ".cold"))
		n -= 5;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && !strncmp(name, names[i], n))
			return FRAME_EVAL | (i == 0 ? FRAME_EVAL_DEFAULT : 0);
	return 0;
}

static int mark_frame(struct rt_merge *m, uint32_t id, uint8_t kind)
{
	if (id >= m->is_eval_cap) {
		size_t cap = m->is_eval_cap ? m->is_eval_cap : 1024;
		uint8_t *n;

		while (cap <= id)
			cap *= 2;
		n = realloc(m->is_eval, cap);
		if (!n)
			return -ENOMEM;
		memset(n + m->is_eval_cap, 0, cap - m->is_eval_cap);
		m->is_eval = n;
		m->is_eval_cap = cap;
	}
	m->is_eval[id] |= kind;
	return 0;
}

static bool frame_is_eval(const struct rt_merge *m, uint32_t id)
{
	return id < m->is_eval_cap && (m->is_eval[id] & FRAME_EVAL);
}

/* Frame @i of @native (root first) runs interpreter frames of its own: an
 * eval-loop function, but not a wrapper that calls _PyEval_EvalFrameDefault
 * directly (_PyEval_EvalFrame or PyEval_EvalFrameEx when a -O0 debug build
 * keeps them as frames): the pair runs one group. */
static bool native_is_loop(const struct rt_merge *m, const uint32_t *native, uint32_t nr, uint32_t i)
{
	if (!frame_is_eval(m, native[i]))
		return false;
	return m->is_eval[native[i]] & FRAME_EVAL_DEFAULT || i + 1 >= nr ||
	       native[i + 1] >= m->is_eval_cap || !(m->is_eval[native[i + 1]] & FRAME_EVAL_DEFAULT);
}

/* A trampoline frame CPython 3.12+ run with -X perf puts before each eval
 * loop; it names the Python function the walker's frames name already. */
static bool frame_is_py_trampoline(const struct rt_merge *m, uint32_t id)
{
	return id < m->is_eval_cap && (m->is_eval[id] & FRAME_PY_TRAMPOLINE);
}

/* A user address that no mapping covered ("[unknown]", with --addrs
 * "[unknown <addr>]"). */
static bool frame_is_no_map(const struct rt_merge *m, uint32_t id)
{
	const char *name = rt_stacks__name(m->stacks, id);

	return name && !strncmp(name, "[unknown", 8) && (name[8] == ']' || name[8] == ' ');
}

static int named_frame(struct rt_merge *m, const char *name, const char *suffix, uint32_t *id)
{
	char text[FRAME_TEXT_MAX];
	size_t n = tidy_name(name, text, sizeof(text) - 8);
	int err;

	if (suffix) {
		memcpy(text + n, suffix, strlen(suffix) + 1);
		n += strlen(suffix);
	}
	err = intern_text(m, text, n, id);
	if (!err && !suffix && eval_loop_kind(text))
		err = mark_frame(m, *id, eval_loop_kind(text));
	return err;
}

/*
 * A path as users read it: the part after site-packages/ or the standard
 * library's lib/pythonX.Y/, else the last two components.
 */
static const char *short_path(const char *path)
{
	static const char *const anchors[] = { "site-packages/", "dist-packages/" };
	const char *p, *best = NULL;
	size_t i;

	for (i = 0; i < sizeof(anchors) / sizeof(anchors[0]); i++) {
		p = strstr(path, anchors[i]);
		if (p)
			best = p + strlen(anchors[i]);
	}
	if (best)
		return best;
	p = strstr(path, "/lib/python");
	if (p && (p = strchr(p + 11, '/')))
		return p + 1;
	p = strstr(path, "/lib/ruby/");
	if (p && (p = strchr(p + 10, '/')))
		return p + 1;
	p = strrchr(path, '/');
	if (!p)
		return path;
	while (p > path && p[-1] != '/')
		p--;
	return p > path && p[0] ? p : path;
}

static int interp_frame(struct rt_merge *m, const struct rt_interp_frame *f, uint32_t *id)
{
	char text[FRAME_TEXT_MAX];
	const char *fn = f->function && f->function[0] ? f->function : "[unknown]";
	int n;

	if (f->file && f->file[0] && f->line > 0 && !m->opts.no_lines)
		n = snprintf(text, sizeof(text), "%s (%s:%d)", fn, short_path(f->file), f->line);
	else if (f->file && f->file[0])
		n = snprintf(text, sizeof(text), "%s (%s)", fn, short_path(f->file));
	else
		n = snprintf(text, sizeof(text), "%s", fn);
	if (n >= (int)sizeof(text))
		n = sizeof(text) - 1;
	for (int i = 0; i < n; i++)
		if (text[i] == ';')
			text[i] = ':';
	return intern_text(m, text, (size_t)n, id);
}

/* The build id perf listed for map's file (NULL: none): the reader's list
 * is searched once per path and list length (map paths are interned, so the
 * pointer is the key).  The answer is valid until the next call. */
static const struct bid_slot *recorded_build_id(struct rt_merge *m, const struct rt_map *map)
{
	struct bid_slot *slot = &m->bid_cache[((uintptr_t)map->path >> 4) % BID_CACHE];
	size_t listed = rt_perf_reader__info(m->reader)->nr_build_ids;

	if (slot->path != map->path || slot->nr_listed != listed) {
		const struct rt_perf_build_id *b = rt_perf_reader__find_build_id(m->reader,
										 map->path);

		slot->path = map->path;
		slot->nr_listed = listed;
		slot->size = b ? (uint8_t)b->size : 0;
		if (b)
			memcpy(slot->id, b->id, b->size);
	}
	return slot->size ? slot : NULL;
}

static int defer_kernel(struct rt_merge *m, uint64_t addr, uint32_t *id)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "\001kernel %" PRIx64, addr);
	int64_t r = rt_stacks__intern(m->stacks, text, (size_t)n); /* not scrubbed */

	if (r < 0)
		return (int)r;
	*id = (uint32_t)r;
	if (m->nr_pending == m->cap_pending) {
		size_t cap = m->cap_pending ? m->cap_pending * 2 : 1024;
		struct pending_kernel *p = realloc(m->pending, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		m->pending = p;
		m->cap_pending = cap;
	}
	m->pending[m->nr_pending].addr = addr;
	m->pending[m->nr_pending++].id = *id;
	return 0;
}

static int resolve_kernel(struct rt_merge *m, uint64_t addr, uint32_t *id)
{
	struct rt_symbol sym;

	if (m->kernel_deferred)
		return defer_kernel(m, addr, id);
	rt_symbolizer__resolve_kernel(m->symbolizer, addr, &sym);
	if (sym.status != RT_SYMBOL_OK) {
		m->reason = sym.status;
		return unresolved_frame(m, "kernel.kallsyms", addr, id);
	}
	return named_frame(m, sym.name, m->opts.annotate_kernel ? "_[k]" : NULL, id);
}

static int resolve_user(struct rt_merge *m, uint32_t pid, uint64_t addr, uint32_t *id)
{
	const struct rt_map *map = rt_machine__find_map(m->tool.machine, pid, addr);
	struct rt_symbol sym;
	char dso[64];

	if (!map || !(map->prot & 4 /* PROT_EXEC */)) {
		/* Not code (an address from a broken chain): answers for such
		 * addresses are not cached, maps generations only track code. */
		m->uncacheable = true;
	}
	if (!map) {
		/* Kernel-mapped user addresses (vsyscall) and lost maps. */
		map = rt_machine__find_map(m->tool.machine, RT_MACHINE_KERNEL_PID, addr);
		if (map)
			return resolve_kernel(m, addr, id);
		m->reason = REASON_NO_MAP;
		return unresolved_frame(m, "unknown", addr, id);
	}
	if (is_anon_map(map->path)) {
		rt_symbolizer__resolve_perf_map(m->symbolizer, (int)pid, addr, &sym);
		if (sym.status == RT_SYMBOL_OK) {
			int err = named_frame(m, sym.name, m->opts.annotate_jit ? "_[j]" : NULL, id);

			if (!err && !strncmp(sym.name, "py::", 4))
				err = mark_frame(m, *id, FRAME_PY_TRAMPOLINE);
			return err;
		}
		m->reason = sym.status;
		if (sym.status == RT_SYMBOL_NO_FILE)
			return unresolved_frame(m, basename_of(map->path), addr, id);
		snprintf(dso, sizeof(dso), "perf-%u.map", pid);
		return unresolved_frame(m, dso, addr, id);
	}
	{
		const uint8_t *bid = map->build_id_size ? map->build_id : NULL;
		size_t bid_size = map->build_id_size;

		if (!bid) {
			const struct bid_slot *b = recorded_build_id(m, map);

			if (b) {
				bid = b->id;
				bid_size = b->size;
			}
		}
		rt_symbolizer__resolve_in_process(m->symbolizer, (int)pid, map->path, bid, bid_size,
						  addr - map->start + map->pgoff, &sym);
	}
	if (sym.status != RT_SYMBOL_OK) {
		m->reason = sym.status;
		return unresolved_frame(m, basename_of(map->path), addr, id);
	}
	return named_frame(m, sym.name, NULL, id);
}

/* The slot of (addr, pid): keyed, since both come from the input. */
static uint64_t frame_hash(uint64_t addr, uint32_t pid)
{
	return rt_hash64_keyed(addr ^ ((uint64_t)pid << 47) ^ pid);
}

static int cache_grow(struct rt_merge *m)
{
	size_t size = m->cache_size ? m->cache_size * 2 : 1 << 14, i;
	struct frame_slot *t = calloc(size, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (i = 0; i < m->cache_size; i++) {
		struct frame_slot *e = &m->cache[i];
		size_t j;

		if (!e->frame)
			continue;
		j = frame_hash(e->addr, e->pid) & (size - 1);
		while (t[j].frame)
			j = (j + 1) & (size - 1);
		t[j] = *e;
	}
	free(m->cache);
	m->cache = t;
	m->cache_size = size;
	return 0;
}

static size_t l1_index(uint64_t addr, uint32_t pid)
{
	return (size_t)(frame_hash(addr, pid) >> 40) & (L1_SIZE - 1);
}

static void count_reason(struct rt_merge *m, uint8_t reason)
{
	if (reason == REASON_NO_MAP)
		m->stats.unresolved_no_map++;
	else if (reason)
		m->stats.unresolved[reason]++;
}

/* The frame id of addr in pid (kernel addresses use RT_MACHINE_KERNEL_PID). */
static int frame_of(struct rt_merge *m, uint32_t pid, uint64_t user_gen, uint64_t addr,
		    bool kernel, uint32_t *id)
{
	uint32_t key_pid = kernel ? RT_MACHINE_KERNEL_PID : pid;
	uint64_t gen = kernel ? 0 : user_gen;
	struct frame_slot *l1 = &m->l1[l1_index(addr, key_pid)];
	size_t mask, i;
	int err;

	/* A small direct-mapped cache in front of the hash: most frames of a
	 * sample were in the previous samples too. */
	if (l1->frame && l1->addr == addr && l1->pid == key_pid && l1->generation == gen) {
		*id = l1->frame - 1;
		count_reason(m, l1->reason);
		return 0;
	}

	if ((m->cache_used + 1) * 2 > m->cache_size && cache_grow(m))
		return -ENOMEM;
	mask = m->cache_size - 1;
	for (i = frame_hash(addr, key_pid) & mask; m->cache[i].frame;
	     i = (i + 1) & mask) {
		struct frame_slot *e = &m->cache[i];

		if (e->addr == addr && e->pid == key_pid) {
			if (e->generation == gen) {
				*id = e->frame - 1;
				count_reason(m, e->reason);
				*l1 = *e;
				return 0;
			}
			break;  /* stale: maps changed since */
		}
	}
	m->reason = 0;
	m->uncacheable = false;
	err = kernel ? resolve_kernel(m, addr, id) : resolve_user(m, pid, addr, id);
	if (err)
		return err;
	count_reason(m, m->reason);
	if (m->uncacheable)
		return 0;
	m->cache[i].reason = m->reason;
	if (!m->cache[i].frame)
		m->cache_used++;
	m->cache[i].addr = addr;
	m->cache[i].pid = key_pid;
	m->cache[i].generation = gen;
	m->cache[i].frame = *id + 1;
	*l1 = m->cache[i];
	return 0;
}

/* ---- samples ------------------------------------------------------------- */

static bool wanted_u32(const uint32_t *set, size_t nr, uint32_t v)
{
	size_t i;

	if (!nr)
		return true;
	for (i = 0; i < nr; i++)
		if (set[i] == v)
			return true;
	return false;
}

static bool is_bpf_output(const struct rt_perf_evsel *ev)
{
	return ev->attr.type == PERF_TYPE_SOFTWARE && ev->attr.config == PERF_COUNT_SW_BPF_OUTPUT;
}

static bool is_tracking_event(const struct rt_perf_evsel *ev)
{
	return ev->attr.type == PERF_TYPE_SOFTWARE && ev->attr.config == PERF_COUNT_SW_DUMMY;
}

/* Picks the event to fold when the user named none: the first that samples. */
static void choose_event(struct rt_merge *m)
{
	size_t i, n = rt_perf_reader__nr_evsels(m->reader), candidates = 0;

	m->evsel_chosen = true;
	for (i = 0; i < n && !m->switch_evsel; i++)
		if (rt_offcpu__is_switch_event(rt_perf_reader__evsel(m->reader, i)))
			m->switch_evsel = rt_perf_reader__evsel(m->reader, i);
	for (i = 0; i < n; i++) {
		const struct rt_perf_evsel *ev = rt_perf_reader__evsel(m->reader, i);

		if (m->opts.event) {
			if (!strcmp(ev->name, m->opts.event)) {
				m->evsel = ev;
				return;
			}
			continue;
		}
		if (is_tracking_event(ev) || is_bpf_output(ev))
			continue;
		/* the off-CPU view folds the switches; the others the samples */
		if ((m->opts.view == RT_MERGE_VIEW_OFFCPU) != rt_offcpu__is_switch_event(ev))
			continue;
		if (!m->evsel)
			m->evsel = ev;
		candidates++;
	}
	if (!m->evsel && !m->opts.event && n)
		m->evsel = rt_perf_reader__evsel(m->reader, 0);
	if (candidates > 1)
		fprintf(stderr, "rtmerge: several events recorded; folding \"%s\" "
			"(choose another with --event NAME)\n", m->evsel->name);
}

/* ---- stack records paired with native samples --------------------------------
 * rt-bpf record opens its channel with call-graph=no and the walker keeps
 * every native sample, so perf report and perf script see the whole
 * profile: a stack record then carries only the interpreter frames, and
 * the native sample of the same overflow gives the native stack.  perf
 * stamps that native sample before the program runs, so in time order it
 * comes first, then the stack record, microseconds later, from the same CPU
 * and thread.  Each CPU's last native sample is held (deep-copied) until
 * its stack record arrives, or is folded alone when the CPU's next native
 * sample or the end of the data comes first.  Older kernels (6.1, 6.12) run
 * the program before perf writes the native sample, so there the stack
 * record comes first: it is kept (early_*) for the CPU's next native sample
 * of the same thread.  A stack record whose channel has a callchain stands
 * for a native sample that was dropped, and is folded by itself. */

static bool has_native_stack(const struct rt_perf_sample *s)
{
	return s->sample_type & (PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_STACK_USER);
}

static int copy_array(void **buf, size_t *cap, const void *src, size_t size)
{
	if (size > *cap) {
		void *n = realloc(*buf, size);

		if (!n)
			return -ENOMEM;
		*buf = n;
		*cap = size;
	}
	if (size)
		memcpy(*buf, src, size);
	return 0;
}

/* The held slot of @s: its CPU, or for per-thread recordings (no CPU in
 * the samples) a slot picked by its tid. */
static size_t held_index(const struct rt_perf_sample *s)
{
	if (s->sample_type & PERF_SAMPLE_CPU)
		return s->cpu < 4096 ? s->cpu : 4096 + s->cpu % 64;
	return s->tid % 64;
}

/* The slot of @s, grown to exist; NULL without memory. */
static struct held_sample *held_slot(struct rt_merge *m, const struct rt_perf_sample *s)
{
	size_t idx = held_index(s);

	if (idx >= m->nr_held) {
		size_t n = idx + 1;
		struct held_sample *t = realloc(m->held, n * sizeof(*t));

		if (!t)
			return NULL;
		memset(t + m->nr_held, 0, (n - m->nr_held) * sizeof(*t));
		m->held = t;
		m->nr_held = n;
	}
	return &m->held[idx];
}

/* Keeps stack record @s (decoded as @stack) for the native sample that
 * follows it on its CPU; one it replaces never found its sample. */
static int early_put(struct rt_merge *m, const struct rt_perf_sample *s,
		     const struct rt_interp_stack *stack)
{
	struct held_sample *h = held_slot(m, s);
	int err;

	if (!h)
		return -ENOMEM;
	if (h->early)
		m->stats.unpaired_records++;
	err = copy_array((void **)&h->early_frames, &h->cap_early_frames, stack->frames,
			 stack->nr_frames * sizeof(*stack->frames));
	if (err)
		return err;
	h->early_stack = *stack;
	h->early_stack.frames = h->early_frames;
	h->early_time = s->time;
	h->early = true;
	return 0;
}

/* The stack record kept for native sample @s, if it belongs to it. */
static const struct rt_interp_stack *early_take(struct rt_merge *m, const struct rt_perf_sample *s)
{
	size_t idx = held_index(s);
	struct held_sample *h = idx < m->nr_held ? &m->held[idx] : NULL;

	if (!h || !h->early || h->early_stack.tid != s->tid || h->early_stack.pid != s->pid ||
	    s->time < h->early_time || s->time - h->early_time > PAIR_WINDOW_NS)
		return NULL;
	h->early = false;
	return &h->early_stack;
}

/* Holds native sample @s (filters passed) until its stack record comes. */
static int held_put(struct rt_merge *m, const struct rt_perf_sample *s)
{
	size_t nregs = (size_t)__builtin_popcountll(s->user_regs_mask);
	struct held_sample *h = held_slot(m, s);
	int err;

	if (!h)
		return -ENOMEM;
	h->s = *s;
	h->s.raw = NULL;
	h->s.raw_size = 0;
	h->s.read_values = NULL;
	h->s.branches = NULL;
	h->s.intr_regs = NULL;
	h->s.aux = NULL;
	err = copy_array((void **)&h->callchain, &h->cap_callchain, s->callchain,
			 s->callchain ? s->nr_callchain * sizeof(*s->callchain) : 0);
	if (!err)
		err = copy_array((void **)&h->regs, &h->cap_regs, s->user_regs,
				 s->user_regs ? nregs * sizeof(*s->user_regs) : 0);
	if (!err)
		err = copy_array((void **)&h->stack, &h->cap_stack, s->user_stack,
				 s->user_stack ? s->user_stack_size : 0);
	if (err)
		return err;
	h->s.callchain = s->callchain ? h->callchain : NULL;
	h->s.user_regs = s->user_regs ? h->regs : NULL;
	h->s.user_stack = s->user_stack ? h->stack : NULL;
	h->used = true;
	return 0;
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

static bool target_has(const struct rt_merge *m, uint32_t pid)
{
	size_t i = target_index(m, pid);

	return i < m->nr_target && m->target[i] == pid;
}

static int target_add(struct rt_merge *m, uint32_t pid)
{
	size_t i = target_index(m, pid);

	if (i < m->nr_target && m->target[i] == pid)
		return 0;
	if (m->nr_target == m->cap_target) {
		size_t cap = m->cap_target ? m->cap_target * 2 : 16;
		uint32_t *n = realloc(m->target, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		m->target = n;
		m->cap_target = cap;
	}
	/* pids mostly grow: this is usually an append */
	memmove(&m->target[i + 1], &m->target[i], (m->nr_target - i) * sizeof(*m->target));
	m->target[i] = pid;
	m->nr_target++;
	m->stats.target_processes = m->nr_target;
	return 0;
}

/* Looks for the target's marker among events not seen yet (pipe mode
 * learns its events as it goes). */
static int target_find(struct rt_merge *m)
{
	size_t n = rt_perf_reader__nr_evsels(m->reader);
	const size_t plen = strlen(RT_PERF_TARGET_PREFIX);

	for (; m->target_evsels_seen < n; m->target_evsels_seen++) {
		const struct rt_perf_evsel *ev = rt_perf_reader__evsel(m->reader,
								       m->target_evsels_seen);
		char *end;
		unsigned long pid;

		if (is_bpf_output(ev) &&
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

static int on_fork(struct rt_perf_tool *tool, uint32_t pid, uint32_t ppid, uint32_t tid,
		   uint32_t ptid, uint64_t time)
{
	struct rt_merge *m = merge_of(tool);
	int err = target_find(m);

	if (!err && m->stats.target_pid && pid != ppid && target_has(m, ppid))
		err = target_add(m, pid);
	if (err)
		return err;
	return m->machine_fork(tool, pid, ppid, tid, ptid, time);
}

static int root_frame(struct rt_merge *m, const struct rt_perf_sample *s, uint32_t *id)
{
	const char *comm = rt_machine__thread_comm(m->tool.machine, s->tid);

	/* A thread sampled before its COMM or FORK record: its process's name. */
	if (!comm)
		comm = rt_machine__thread_comm(m->tool.machine, s->pid);
	struct root_slot *slot = &m->root_cache[s->tid % ROOT_CACHE];
	char text[FRAME_TEXT_MAX];
	int n, err;

	if (slot->used && slot->tid == s->tid && slot->pid == s->pid && slot->comm == comm) {
		*id = slot->id;
		return 0;
	}

	char unknown[24];

	if (!comm) {
		/* perf's names for threads it never saw a COMM for. */
		if (s->pid == 0)
			comm = "swapper";
		else {
			snprintf(unknown, sizeof(unknown), ":%u", s->tid);
			comm = unknown;
		}
	}
	if (m->opts.include_tid)
		n = snprintf(text, sizeof(text), "%s-%u/%u", comm, s->pid, s->tid);
	else if (m->opts.include_pid)
		n = snprintf(text, sizeof(text), "%s-%u", comm, s->pid);
	else
		n = snprintf(text, sizeof(text), "%s", comm);
	if (n >= (int)sizeof(text))
		n = sizeof(text) - 1;
	/* Spaces separate the stack from the count in folded lines. */
	for (int i = 0; i < n; i++)
		if (text[i] == ' ')
			text[i] = '_';
	err = intern_text(m, text, (size_t)n, id);
	if (!err)
		*slot = (struct root_slot){ s->tid, s->pid, comm, *id, true };
	return err;
}

static int unwind_find_map(void *ctx, uint64_t addr, struct rt_unwind_map *out)
{
	struct rt_merge *m = ctx;
	const struct rt_map *map = rt_machine__find_map(m->tool.machine, m->unwind_pid, addr);

	if (!map)
		return -ENOENT;
	out->path = map->path;
	out->start = map->start;
	out->end = map->end;
	out->pgoff = map->pgoff;
	out->build_id = map->build_id_size ? map->build_id : NULL;
	out->build_id_size = map->build_id_size;
	if (!out->build_id) {
		const struct bid_slot *b = recorded_build_id(m, map);

		if (b) {
			out->build_id = b->id;
			out->build_id_size = b->size;
		}
	}
	return 0;
}

/*
 * Unwinds the sample's user stack copy (--call-graph dwarf) and appends the
 * user frames, leaf first, to frames[*nr].  Callers' return addresses are
 * named at address - 1, inside the call, as perf does.  Returns 0, or
 * -ENOENT when the sample carries no usable copy or the unwind found
 * nothing (the callchain's own user part then stands).
 */
static int unwind_user(struct rt_merge *m, const struct rt_perf_sample *s, uint64_t gen,
		       uint32_t *frames, uint32_t *nr)
{
	struct rt_unwind_input in = {
		.regs = s->user_regs,
		.regs_mask = s->user_regs_mask,
		.stack = s->user_stack,
		.stack_size = s->user_stack_dyn_size < s->user_stack_size ?
			      s->user_stack_dyn_size : s->user_stack_size,
		.find_map = unwind_find_map,
		.ctx = m,
		.maps_key = gen,
	};
	enum rt_unwind_stop stop = RT_UNWIND_STOP_BAD;
	int n, i, err;

	if (!s->user_regs || !s->user_regs_mask || !in.stack_size)
		return -ENOENT;
	m->unwind_pid = s->pid;
	n = rt_unwinder__unwind(m->unwinder, &in, m->unwound, MAX_STACK - 1 - *nr, &stop);
	if (n <= 0)
		return -ENOENT;
	m->stats.unwound_samples++;
	if (stop == RT_UNWIND_STOP_END)
		m->stats.unwound_to_entry++;
	if (stop < RT_UNWIND_STOP_NR)
		m->stats.unwind_stops[stop]++;
	for (i = 0; i < n; i++) {
		uint64_t ip = i ? m->unwound[i].ip - 1 : m->unwound[i].ip;

		err = frame_of(m, s->pid, gen, ip, false, &frames[(*nr)++]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Splices interpreter frames (root first, grouped by ENTRY flags) into the
 * native frames (root first) at the eval-loop frames: each eval-loop frame
 * is replaced by the group of interpreter frames it runs.  When the counts
 * disagree (a native callchain broken by code without frame pointers), the
 * interpreter frames go rootward of the native frames leafward of the
 * leafmost eval loop.  A frame no mapping covers marks where a broken chain
 * turned into noise: frames from it rootward are left out.  Returns the new
 * length of out.
 */
static uint32_t splice(struct rt_merge *m, const uint32_t *native, uint32_t nr_native,
		       const uint32_t *interp, const int32_t *group_start, uint32_t nr_groups,
		       uint32_t nr_interp, uint32_t *out, uint32_t out_max)
{
	uint32_t evals = 0, i, n = 0, g = 0, last_eval = UINT32_MAX, first_eval = UINT32_MAX;
	uint32_t brk = UINT32_MAX, start;

	for (i = 0; i < nr_native; i++) {
		if (native_is_loop(m, native, nr_native, i)) {
			evals++;
			last_eval = i;
			if (first_eval == UINT32_MAX)
				first_eval = i;
		}
		/* No mapping covers it, so it is no return address: the chain
		 * was followed through a register that held no frame pointer,
		 * and it and everything rootward of it are noise. */
		if (frame_is_no_map(m, native[i]))
			brk = i;
	}
	if (m->opts.frames == RT_MERGE_FRAMES_INTERP) {
		for (i = 0; i < nr_interp && n < out_max; i++)
			out[n++] = interp[i];
		return n;
	}
	/*
	 * One more eval loop than groups: the leafmost eval loop is setting up
	 * a frame that has not run yet (the walker leaves such frames out), so
	 * it keeps its native name.
	 */
	if ((evals == nr_groups || evals == nr_groups + 1) &&
	    (brk == UINT32_MAX || brk < first_eval)) {
		/* Noise rootward of the rootmost eval loop goes: the interpreter
		 * frames then start at the root. */
		start = brk == UINT32_MAX ? 0 : first_eval;
		if (start)
			m->stats.interp_native_mismatch++;
		for (i = start; i < nr_native && n < out_max; i++) {
			if (!native_is_loop(m, native, nr_native, i) || g == nr_groups) {
				out[n++] = native[i];
				continue;
			}
			uint32_t end = g + 1 < nr_groups ? (uint32_t)group_start[g + 1] : nr_interp;

			for (uint32_t k = (uint32_t)group_start[g]; k < end && n < out_max; k++)
				out[n++] = interp[k];
			g++;
		}
		return n;
	}
	m->stats.interp_native_mismatch++;
	for (i = 0; i < nr_interp && n < out_max; i++)
		out[n++] = interp[i];
	start = last_eval == UINT32_MAX ? 0 : last_eval + 1;
	if (brk != UINT32_MAX && brk + 1 > start)
		start = brk + 1;
	for (i = start; i < nr_native && n < out_max; i++)
		out[n++] = native[i];
	return n;
}

/*
 * A broken frame-pointer chain can repeat one unresolved address a hundred
 * times ("[unknown];[unknown];..."), which makes a flamegraph tall and
 * empty: keep one frame of each run of identical unresolved frames, and
 * count the rest.  Returns the new number of frames.
 */
static uint32_t collapse_unresolved_runs(struct rt_merge *m, uint32_t *frames, uint32_t n)
{
	uint32_t out = n ? 1 : 0;

	for (uint32_t i = 1; i < n; i++) {
		if (frames[i] == frames[out - 1] && rt_stacks__name(m->stacks, frames[i])[0] == '[') {
			m->stats.collapsed_frames++;
			continue;
		}
		frames[out++] = frames[i];
	}
	return out;
}

static int fold(struct rt_merge *m, const struct rt_perf_sample *s,
		const struct rt_interp_stack *interp);

/* Folds the native sample held in slot @idx alone, if there is one. */
static int held_flush(struct rt_merge *m, size_t idx)
{
	if (idx >= m->nr_held || !m->held[idx].used)
		return 0;
	m->held[idx].used = false;
	return fold(m, &m->held[idx].s, NULL);
}

static int on_sample(struct rt_perf_tool *tool, const struct rt_perf_evsel *ev,
		     const struct rt_perf_sample *s)
{
	struct rt_merge *m = merge_of(tool);
	struct rt_interp_stack stack;
	bool have_interp = false;
	int err;

	if (!m->evsel_chosen)
		choose_event(m);
	if (is_bpf_output(ev) && ev != m->evsel) {
		/* rt-bpf's channel: code records feed the decoder; stack records are
		 * samples of the folded event that carry interpreter frames. */
		if (!s->raw_size) {
			m->stats.empty_records++;
			return 0;
		}
		err = rt_offcpu__feed(m->offcpu, m->stacks, s->raw, s->raw_size);
		if (err) {
			m->stats.offcpu_records++;
			return err < 0 ? err : 0;
		}
		err = rt_interp_decoder__feed(m->decoder, s->raw, s->raw_size, s->pid, s->tid,
					      &stack);
		if (err == 0) {
			m->stats.code_records++;
			return 0;
		}
		if (err == -ENOMEM)
			return err;
		if (err < 0) {
			m->stats.bad_interp_records++;
			return 0;
		}
		have_interp = true;
		stack.flags |= rt_offcpu__stack_flags(s->raw, s->raw_size);
	} else if (ev != m->evsel &&
		   !(ev == m->switch_evsel && m->opts.view == RT_MERGE_VIEW_WALL)) {
		m->stats.filtered++;
		return 0;
	}
	if (!wanted_u32(m->opts.pids, m->opts.nr_pids, s->pid) ||
	    !wanted_u32(m->opts.tids, m->opts.nr_tids, s->tid)) {
		m->stats.filtered++;
		return 0;
	}
	err = target_find(m);
	if (err)
		return err;
	if (m->stats.target_pid && !m->opts.all_processes && !m->opts.nr_pids &&
	    !m->opts.nr_tids && !target_has(m, s->pid)) {
		m->stats.other_processes++;
		return 0;
	}
	if (m->opts.comm) {
		const char *comm = rt_machine__thread_comm(m->tool.machine, s->tid);

		if (!comm || strcmp(comm, m->opts.comm)) {
			m->stats.filtered++;
			return 0;
		}
	}
	if (have_interp && !has_native_stack(s)) {
		/* A stack record for the native sample held on its CPU. */
		size_t idx = held_index(s);
		struct held_sample *h = idx < m->nr_held ? &m->held[idx] : NULL;

		m->stats.stack_only_records++;
		if (!h || !h->used || h->s.tid != s->tid || h->s.pid != s->pid ||
		    s->time < h->s.time || s->time - h->s.time > PAIR_WINDOW_NS)
			return early_put(m, s, &stack);
		h->used = false;
		return fold(m, &h->s, &stack);
	}
	if (m->hold_native && !have_interp) {
		const struct rt_interp_stack *early = early_take(m, s);

		err = held_flush(m, held_index(s));
		if (!err && early)
			return fold(m, s, early);
		if (!err)
			err = held_put(m, s);
		return err;
	}
	return fold(m, s, have_interp ? &stack : NULL);
}

/* Names and counts the stack of native sample @s, with the interpreter
 * frames of @interp spliced in (NULL: none). */
static int fold(struct rt_merge *m, const struct rt_perf_sample *s,
		const struct rt_interp_stack *interp)
{
	uint32_t leaf_first[MAX_STACK], native[MAX_STACK];
	uint32_t nr = 0, i, nr_interp = 0, nr_groups = 0, total, nkept;
	const struct rt_interp_stack stack = interp ? *interp : (struct rt_interp_stack){ 0 };
	bool kernel, have_interp = interp != NULL;
	uint64_t gen;
	int err;

	gen = rt_machine__maps_generation(m->tool.machine, s->pid);
	if (s->sample_type & PERF_SAMPLE_CALLCHAIN) {
		/* The frame caches are bigger than the CPU's: touch every entry's
		 * slots first so that their cache misses overlap. */
		if (m->cache_size)
			for (uint64_t k = 0; k < s->nr_callchain && k < MAX_STACK; k++) {
				uint64_t ip = s->callchain[k];

				__builtin_prefetch(&m->l1[l1_index(ip, s->pid)]);
				__builtin_prefetch(&m->cache[frame_hash(ip, s->pid) &
							     (m->cache_size - 1)]);
			}
		bool has_copy = s->user_regs && s->user_stack_size;
		uint32_t user_start = UINT32_MAX;

		kernel = s->cpumode == RT_CPUMODE_KERNEL;
		for (uint64_t k = 0; k < s->nr_callchain && nr < MAX_STACK - 1; k++) {
			uint64_t ip = s->callchain[k];

			if (ip >= PERF_CONTEXT_MAX) {
				if (ip == PERF_CONTEXT_KERNEL)
					kernel = true;
				else if (ip == PERF_CONTEXT_USER)
					kernel = false;
				else
					kernel = ip == PERF_CONTEXT_GUEST_KERNEL;
				continue;
			}
			if (!kernel && user_start == UINT32_MAX)
				user_start = nr;
			err = frame_of(m, s->pid, gen, ip, kernel, &leaf_first[nr]);
			if (err)
				return err;
			nr++;
		}
		/* --call-graph dwarf: the kernel part comes from the callchain, the
		 * user part from unwinding the stack copy, as perf joins them. */
		if (has_copy) {
			uint32_t kept = user_start == UINT32_MAX ? nr : user_start;

			err = unwind_user(m, s, gen, leaf_first, &kept);
			if (err && err != -ENOENT)
				return err;
			if (!err)
				nr = kept;
			else
				m->stats.unwind_failed++;
		}
		if (!nr)
			m->stats.empty_callchains++;
	} else if (s->sample_type & PERF_SAMPLE_IP) {
		err = frame_of(m, s->pid, gen, s->ip, s->cpumode == RT_CPUMODE_KERNEL,
			       &leaf_first[0]);
		if (err)
			return err;
		nr = 1;
	}
	m->stats.frames += nr;
	for (i = 0; i < nr; i++)
		native[i] = leaf_first[nr - 1 - i];
	err = root_frame(m, s, &m->frames[0]);
	if (err)
		return err;
	if (have_interp && m->opts.frames != RT_MERGE_FRAMES_NATIVE) {
		m->stats.interp_samples++;
		if (stack.flags & (RT_INTERP_STACK_TRUNCATED | RT_INTERP_STACK_INCOMPLETE))
			m->stats.interp_incomplete++;
		if (stack.flags & RT_INTERP_STACK_TRUNCATED) {
			err = intern_text(m, "[truncated]", 11, &m->interp_ids[nr_interp]);
			if (err)
				return err;
			nr_interp++;
		}
		for (i = 0; i < stack.nr_frames && nr_interp < MAX_STACK; i++) {
			const struct rt_interp_frame *f = &stack.frames[i];

			if (f->flags & RT_INTERP_FRAME_NO_SYMBOLS)
				m->stats.interp_frames_no_symbols++;
			if ((f->flags & RT_INTERP_FRAME_ENTRY) || i == 0)
				m->group_start[nr_groups++] = (int32_t)nr_interp;
			err = interp_frame(m, f, &m->interp_ids[nr_interp]);
			if (err)
				return err;
			nr_interp++;
		}
		if (nr_interp && !nr_groups)
			m->group_start[nr_groups++] = 0;
		if (stack.flags & RT_INTERP_STACK_TRUNCATED)
			m->group_start[0] = 0;  /* the marker joins the rootmost group */
		m->stats.interp_frames += nr_interp;
		/* -X perf trampolines would show each Python function twice */
		for (i = 0, nkept = 0; i < nr; i++)
			if (!frame_is_py_trampoline(m, native[i]))
				native[nkept++] = native[i];
		nr = nkept;
		total = 1 + splice(m, native, nr, m->interp_ids, m->group_start, nr_groups,
				   nr_interp, m->frames + 1, MAX_STACK - 1);
	} else {
		if (m->opts.frames == RT_MERGE_FRAMES_INTERP)
			nr = 0;
		memcpy(m->frames + 1, native, nr * sizeof(*native));
		total = nr + 1;
	}
	total = collapse_unresolved_runs(m, m->frames, total);
	m->stats.samples++;
	if (m->opts.per_sample) {
		FILE *out = m->opts.per_sample;

		fprintf(out, "%u %" PRIu64 " ", s->tid, s->time);
		for (i = 0; i < total; i++)
			fprintf(out, "%s%s", i ? ";" : "", rt_stacks__name(m->stacks, m->frames[i]));
		fputc('\n', out);
	}
	err = rt_offcpu__add(m->offcpu, m->stacks, s, rt_offcpu__sample_of(m->switch_evsel, s),
			     have_interp ? stack.flags : 0, m->frames, total);
	return err < 0 ? err : 0;
}

/* ---- object ---------------------------------------------------------------- */

struct rt_merge *rt_merge__new(const struct rt_merge_opts *opts)
{
	struct rt_merge *m = calloc(1, sizeof(*m));

	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	if (opts)
		memcpy(&m->opts, opts, opts->sz < sizeof(m->opts) ? opts->sz : sizeof(m->opts));
	m->tool.tool.sample = on_sample;
	rt_machine_tool__init(&m->tool);
	m->machine_fork = m->tool.tool.fork;
	m->tool.tool.fork = on_fork;
	m->tool.tool.skip_data_mmaps = true; /* only code is named and unwound */
	m->tool.machine = rt_machine__new();
	m->stacks = rt_stacks__new();
	m->symbolizer = rt_symbolizer__new(m->opts.symbolizer);
	m->decoder = rt_interp_decoder__new();
	m->offcpu = rt_offcpu__new(m->opts.view);
	/* map paths come from rt_machine__intern() */
	m->unwinder = rt_unwinder__new(&(struct rt_unwinder_opts){
		.sz = sizeof(struct rt_unwinder_opts), .interned_paths = true });
	if (!m->tool.machine || !m->stacks || !m->symbolizer || !m->decoder || !m->unwinder ||
	    !m->offcpu) {
		int err = errno ? errno : ENOMEM;

		rt_merge__free(m);
		errno = err;
		return NULL;
	}
	return m;
}

void rt_merge__free(struct rt_merge *m)
{
	if (!m)
		return;
	rt_machine__free(m->tool.machine);
	rt_stacks__free(m->stacks);
	rt_symbolizer__free(m->symbolizer);
	rt_interp_decoder__free(m->decoder);
	rt_offcpu__free(m->offcpu);
	rt_unwinder__free(m->unwinder);
	free(m->pending);
	for (size_t i = 0; i < m->nr_held; i++) {
		free(m->held[i].callchain);
		free(m->held[i].regs);
		free(m->held[i].stack);
		free(m->held[i].early_frames);
	}
	free(m->held);
	free(m->target);
	free(m->is_eval);
	free(m->cache);
	free(m);
}

static void *load_kernel_symbols(void *symbolizer)
{
	pthread_setname_np(pthread_self(), "rtmerge-ksyms");
	rt_symbolizer__load_kernel(symbolizer);
	return NULL;
}

/*
 * Names the placeholder kernel frames and re-counts the stacks under the
 * final names (distinct addresses of one function become one frame).
 */
static int finish_kernel_frames(struct rt_merge *m)
{
	uint32_t *final = NULL, frames[MAX_STACK];
	uint8_t *reasons = NULL;
	struct rt_stacks *stacks = NULL;
	size_t nr_names = 0, i;
	int err = 0;

	pthread_join(m->kernel_loader, NULL);
	m->kernel_deferred = false;
	if (!m->nr_pending)
		return 0;
	for (i = 0; i < m->nr_pending; i++)
		if (m->pending[i].id >= nr_names)
			nr_names = m->pending[i].id + 1;
	final = malloc(nr_names * sizeof(*final));
	reasons = calloc(nr_names, 1);
	stacks = rt_stacks__new();
	if (!final || !reasons || !stacks) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nr_names; i++)
		final[i] = UINT32_MAX;
	for (i = 0; i < m->nr_pending && !err; i++) {
		m->reason = 0;
		err = resolve_kernel(m, m->pending[i].addr, &final[m->pending[i].id]);
		reasons[m->pending[i].id] = m->reason;
	}
	for (i = 0; i < rt_stacks__nr(m->stacks) && !err; i++) {
		struct rt_stack st;
		uint32_t k;

		rt_stacks__get(m->stacks, i, &st);
		for (k = 0; k < st.nr_frames && !err; k++) {
			uint32_t id = st.frames[k];
			const char *name;
			int64_t new_id;

			if (id < nr_names && final[id] != UINT32_MAX) {
				if (reasons[id] == REASON_NO_MAP)
					m->stats.unresolved_no_map += st.count;
				else if (reasons[id])
					m->stats.unresolved[reasons[id]] += st.count;
				id = final[id];
			}
			name = rt_stacks__name(m->stacks, id);
			new_id = rt_stacks__intern(stacks, name, strlen(name));
			if (new_id < 0)
				err = (int)new_id;
			frames[k] = (uint32_t)new_id;
		}
		if (!err)
			err = rt_stacks__add(stacks, frames, st.nr_frames, st.count, st.period);
	}
	if (!err) {
		rt_stacks__free(m->stacks);
		m->stacks = stacks;
		stacks = NULL;
	}
out:
	rt_stacks__free(stacks);
	free(final);
	free(reasons);
	return err;
}

static bool samples_kernel(const struct rt_perf_reader *reader)
{
	size_t i;

	for (i = 0; i < rt_perf_reader__nr_evsels(reader); i++)
		if (!rt_perf_reader__evsel(reader, i)->attr.exclude_kernel)
			return true;
	return false;
}

int rt_merge__run(struct rt_merge *m, struct rt_perf_reader *reader)
{
	const struct rt_perf_build_id *kernel;
	int err;

	m->reader = reader;
	kernel = rt_perf_reader__find_build_id(reader, "[kernel.kallsyms]");
	if (kernel)
		rt_symbolizer__set_kernel_build_id(m->symbolizer, kernel->id, kernel->size);
	if (m->opts.event) {
		choose_event(m);
		if (!m->evsel && !rt_perf_reader__is_pipe(reader)) {
			fprintf(stderr, "rtmerge: no event named \"%s\" in the recording\n",
				m->opts.event);
			return -ENOENT;
		}
		if (rt_perf_reader__is_pipe(reader))
			m->evsel_chosen = false;
	}
	/* Per-sample output needs names as it goes; pipe mode learns its
	 * events late: both name kernel frames at once. */
	if (!m->opts.per_sample && !rt_perf_reader__is_pipe(reader) && samples_kernel(reader) &&
	    !pthread_create(&m->kernel_loader, NULL, load_kernel_symbols, m->symbolizer))
		m->kernel_deferred = true;
	err = rt_perf_reader__process(reader, &m->tool.tool);
	for (size_t idx = 0; !err && idx < m->nr_held; idx++) {
		err = held_flush(m, idx);
		if (m->held[idx].early)
			m->stats.unpaired_records++;
	}
	if (m->kernel_deferred) {
		int finish = finish_kernel_frames(m);

		if (!err)
			err = finish;
	}
	if (!err)
		err = rt_offcpu__finish(m->offcpu, &m->stacks);
	return err;
}

const struct rt_stacks *rt_merge__stacks(const struct rt_merge *m)
{
	return m->stacks;
}

const struct rt_merge_stats *rt_merge__stats(const struct rt_merge *m)
{
	return &m->stats;
}

const char *rt_merge__event_name(const struct rt_merge *m)
{
	return m->evsel ? m->evsel->name : NULL;
}

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
			     st->offcpu_records +
			     st->bad_interp_records + st->empty_records + st->stack_only_records;
	uint64_t unpaired = st->unpaired_records;

	/* Every sample read is in exactly one of these. */
	fprintf(out, "rtmerge: %" PRIu64 " samples read: %" PRIu64 " folded (event %s), %" PRIu64
		" filtered out, %" PRIu64 " of other processes, %" PRIu64
		" interpreter code records (names, not stacks)", rs->samples, st->samples,
		m->evsel ? m->evsel->name : "none", st->filtered, st->other_processes,
		st->code_records);
	if (st->stack_only_records)
		fprintf(out, ", %" PRIu64 " interpreter stack records (joined to their native "
			"samples; %" PRIu64 " found none)", st->stack_only_records, unpaired);
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
	}
	if (st->collapsed_frames)
		fprintf(out, "rtmerge: %" PRIu64 " repeats of an unresolved frame collapsed into the "
			"run's first (broken callchains repeat an address)\n", st->collapsed_frames);
	rt_offcpu__print_summary(m->offcpu, out);
	print_hints(m, rs, out);
}
