/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge: naming frames.  Addresses become interned frame names (kernel,
 * ELF files, JIT maps, interpreter frames, the comm root), through a frame
 * cache valid for one maps generation; eval-loop frames are marked here for
 * the splice.
 */
#include "rtmerge/merge_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "perfglue/grow.h"
#include "perfglue/hash.h"
#include "perfglue/safefile.h"

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
int rt_merge__intern_text(struct rt_merge *m, const char *text, size_t len, uint32_t *id)
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

/* "[dso]", or "[dso <addr>]" with --addrs.  stable: dso's text lives as
 * long as the run at that address (a literal, an interned map path), so
 * the frame is found by that address next time. */
static int unresolved_frame(struct rt_merge *m, const char *dso, bool stable, uint64_t addr,
			    uint32_t *id)
{
	struct unresolved_slot *slot = NULL;
	char text[FRAME_TEXT_MAX];
	uint64_t sanitized;
	size_t len;
	int n, err;

	if (m->opts.include_addrs) {
		n = snprintf(text, sizeof(text), "[%s <%" PRIx64 ">]", dso, addr);
		if (n >= (int)sizeof(text))
			n = sizeof(text) - 1;
		return rt_merge__intern_text(m, text, (size_t)n, id);
	}
	if (stable) {
		slot = &m->unresolved_cache[((uintptr_t)dso >> 3) % UNRESOLVED_CACHE];
		if (slot->dso == dso) {
			m->stats.names_sanitized += slot->sanitized;
			*id = slot->id;
			return 0;
		}
	}
	/* as snprintf "[%s]" would cut it: at sizeof(text) - 1 bytes */
	len = strnlen(dso, sizeof(text) - 2);
	text[0] = '[';
	memcpy(text + 1, dso, len);
	n = (int)len + 1;
	if (n < (int)sizeof(text) - 1)
		text[n++] = ']';
	text[n] = '\0';
	sanitized = m->stats.names_sanitized;
	err = rt_merge__intern_text(m, text, (size_t)n, id);
	if (!err && slot)
		*slot = (struct unresolved_slot){ dso, *id, m->stats.names_sanitized != sanitized };
	return err;
}

#define FRAME_EVAL       1 /* interpreter eval loop */
#define FRAME_PY_TRAMPOLINE 2 /* CPython 3.12+ -X perf trampoline ("py::" in the perf map) */
#define FRAME_EVAL_CORE  4 /* the loop itself, not a wrapper that calls it */

/*
 * Native functions that run interpreter frames: each stands for the
 * interpreter frames it executes when those are spliced in.  Returns 0 or
 * the FRAME_EVAL* bits of @name.  GCC's out-of-line part of a function
 * (".cold", where a profile-guided build may put most of CPython 3.14's
 * eval loop) is that function's frame.  The cores: CPython's
 * _PyEval_EvalFrameDefault and CRuby's vm_exec_core (named by symbolize/
 * rubyvm.c in a stripped libruby).  The wrappers, each calling a core
 * directly: _PyEval_EvalFrame and PyEval_EvalFrameEx (kept as frames by a
 * -O0 build), CRuby's vm_exec (rb_vm_exec where exported), the anchor when
 * the core has no name.
 */
static uint8_t eval_loop_kind(const char *name)
{
	static const struct {
		const char *name;
		uint8_t kind;
	} loops[] = {
		{ "_PyEval_EvalFrameDefault", FRAME_EVAL | FRAME_EVAL_CORE },
		{ "PyEval_EvalFrameEx", FRAME_EVAL },
		{ "_PyEval_EvalFrame", FRAME_EVAL },
		{ "vm_exec_core", FRAME_EVAL | FRAME_EVAL_CORE },
		{ "rb_vm_exec", FRAME_EVAL },
		{ "vm_exec", FRAME_EVAL },
	};
	size_t i, n = strlen(name);

	if (n > 5 && !strcmp(name + n - 5, ".cold"))
		n -= 5;
	for (i = 0; i < sizeof(loops) / sizeof(loops[0]); i++)
		if (strlen(loops[i].name) == n && !strncmp(name, loops[i].name, n))
			return loops[i].kind;
	return 0;
}

static int mark_frame(struct rt_merge *m, uint32_t id, uint8_t kind)
{
	if (RT_ARRAY_GROW(m->is_eval, m->is_eval_cap, (size_t)id + 1, 1024))
		return -ENOMEM;
	m->is_eval[id] |= kind;
	return 0;
}

static bool frame_is_eval(const struct rt_merge *m, uint32_t id)
{
	return id < m->is_eval_cap && (m->is_eval[id] & FRAME_EVAL);
}

/* Frame @i of @native (root first) runs interpreter frames of its own: an
 * eval loop's core, or a wrapper whose next frame leafward is no core (a
 * wrapper and the core it calls run one group; a sample taken in the
 * wrapper itself, or in a core without a name, leaves the wrapper alone). */
bool rt_merge__native_is_loop(const struct rt_merge *m, const uint32_t *native, uint32_t nr,
			      uint32_t i)
{
	if (!frame_is_eval(m, native[i]))
		return false;
	return m->is_eval[native[i]] & FRAME_EVAL_CORE || i + 1 >= nr ||
	       native[i + 1] >= m->is_eval_cap || !(m->is_eval[native[i + 1]] & FRAME_EVAL_CORE);
}

/* A trampoline frame CPython 3.12+ run with -X perf puts before each eval
 * loop; it names the Python function the walker's frames name already. */
bool rt_merge__frame_is_py_trampoline(const struct rt_merge *m, uint32_t id)
{
	return id < m->is_eval_cap && (m->is_eval[id] & FRAME_PY_TRAMPOLINE);
}

/* A user address that no mapping covered ("[unknown]", with --addrs
 * "[unknown <addr>]"). */
bool rt_merge__frame_is_no_map(const struct rt_merge *m, uint32_t id)
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
	err = rt_merge__intern_text(m, text, n, id);
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

/* Names interpreter frame @f as "func (file:line)" into *id, uncached. */
static int interp_frame_text(struct rt_merge *m, const struct rt_interp_frame *f, uint32_t *id)
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
	rt_merge__no_separators(text, (size_t)n);
	return rt_merge__intern_text(m, text, (size_t)n, id);
}

/* A placeholder frame for @f, whose line is pending, remembered once. */
static int defer_line(struct rt_merge *m, uint32_t pid, const struct rt_interp_frame *f,
		      uint32_t *id)
{
	char text[160];
	size_t names = rt_stacks__nr_names(m->stacks);
	int n = snprintf(text, sizeof(text), "\002line %u %p %p %" PRIx64 " %u %x %u", pid,
			 (const void *)f->function, (const void *)f->file, f->key.code,
			 f->key.lasti, f->key.rec_flags, f->key.rec_runtime);
	int64_t r = rt_stacks__intern(m->stacks, text, (size_t)n); /* not scrubbed */

	if (r < 0)
		return (int)r;
	*id = (uint32_t)r;
	if (rt_stacks__nr_names(m->stacks) == names)
		return 0;
	if (RT_ARRAY_GROW(m->pending_lines, m->cap_pending_lines, m->nr_pending_lines + 1, 16))
		return -ENOMEM;
	m->pending_lines[m->nr_pending_lines++] =
		(struct pending_line){ .id = *id, .pid = pid, .frame = *f };
	return 0;
}

int rt_merge__pending_line_known(const struct rt_merge *m, size_t i)
{
	const struct pending_line *p = &m->pending_lines[i];

	return rt_interp_decoder__line(m->decoder, p->pid, &p->frame);
}

int rt_merge__pending_line_name(struct rt_merge *m, size_t i, bool final, uint32_t *id)
{
	struct rt_interp_frame f = m->pending_lines[i].frame;

	f.line = rt_merge__pending_line_known(m, i);
	f.flags &= ~RT_INTERP_FRAME_LINE_PENDING;
	if (f.line > 0 && final)
		m->stats.late_lines++;
	return rt_merge__interp_frame(m, m->pending_lines[i].pid, &f, id);
}

int rt_merge__interp_frame(struct rt_merge *m, uint32_t pid, const struct rt_interp_frame *f,
			   uint32_t *id)
{
	/* The decoder's strings are interned: equal pointers, equal texts. */
	uint64_t key = (uint64_t)(uintptr_t)f->function * 31 + (uint64_t)(uintptr_t)f->file;
	struct interp_slot *slot;
	uint64_t sanitized;
	int err;

	/* A placeholder, named at the end (per-sample lines from here on
	 * wait for it: rtmerge/merge_persample.c). */
	if ((f->flags & RT_INTERP_FRAME_LINE_PENDING) && !m->opts.no_lines)
		return defer_line(m, pid, f, id);
	if (!m->interp_cache && !(m->interp_cache = calloc(INTERP_CACHE, sizeof(*slot))))
		return -ENOMEM;
	slot = &m->interp_cache[rt_hash64(key ^ (uint32_t)f->line) & (INTERP_CACHE - 1)];
	if (slot->id && slot->function == f->function && slot->file == f->file &&
	    slot->line == f->line) {
		m->stats.names_sanitized += slot->sanitized;
		*id = slot->id - 1;
		return 0;
	}
	sanitized = m->stats.names_sanitized;
	err = interp_frame_text(m, f, id);
	if (err)
		return err;
	slot->function = f->function;
	slot->file = f->file;
	slot->line = f->line;
	slot->id = *id + 1;
	slot->sanitized = m->stats.names_sanitized != sanitized;
	return 0;
}

/* The build id perf listed for map's file (NULL: none): the reader's list
 * is searched once per path and list length (map paths are interned, so the
 * pointer is the key).  The answer is valid until the next call. */
const struct bid_slot *rt_merge__recorded_build_id(struct rt_merge *m,
						   const struct rt_map *map)
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
	if (RT_ARRAY_GROW(m->pending, m->cap_pending, m->nr_pending + 1, 1024))
		return -ENOMEM;
	m->pending[m->nr_pending].addr = addr;
	m->pending[m->nr_pending++].id = *id;
	return 0;
}

int rt_merge__on_ksymbol(struct rt_perf_tool *tool, uint64_t addr, uint32_t len, uint16_t type,
			 bool unregister, const char *name)
{
	struct rt_merge *m = rt_merge__of(tool);
	struct bpf_ksym *k;

	if (type != PERF_RECORD_KSYMBOL_TYPE_BPF && type != PERF_RECORD_KSYMBOL_TYPE_OOL)
		return 0;
	for (size_t i = m->nr_ksyms; i-- > 0; ) {
		k = &m->ksyms[i];
		if (!k->live || k->addr != addr)
			continue;
		k->live = false; /* unloaded, or replaced by what follows */
		break;
	}
	if (unregister || !len)
		return 0;
	if (RT_ARRAY_GROW(m->ksyms, m->cap_ksyms, m->nr_ksyms + 1, 64))
		return -ENOMEM;
	k = &m->ksyms[m->nr_ksyms];
	*k = (struct bpf_ksym){ .addr = addr, .len = len, .live = true, .name = strdup(name) };
	if (!k->name)
		return -ENOMEM;
	m->nr_ksyms++;
	return 0;
}

/* The BPF program (or trampoline) loaded at @addr now, by the recording's
 * KSYMBOL records; NULL when none is. */
static const char *bpf_ksym_at(const struct rt_merge *m, uint64_t addr)
{
	for (size_t i = m->nr_ksyms; i-- > 0; ) {
		const struct bpf_ksym *k = &m->ksyms[i];

		if (k->live && addr - k->addr < k->len)
			return k->name;
	}
	return NULL;
}

int rt_merge__resolve_kernel(struct rt_merge *m, uint64_t addr, uint32_t *id)
{
	struct rt_symbol sym;
	const char *bpf = m->nr_ksyms && !m->ksyms_past ? bpf_ksym_at(m, addr) : NULL;

	if (bpf) {
		/* another program may take the address later in the recording */
		m->uncacheable = true;
		return named_frame(m, bpf, m->opts.annotate_kernel ? "_[k]" : NULL, id);
	}
	if (m->kernel_deferred)
		return defer_kernel(m, addr, id);
	rt_symbolizer__resolve_kernel(m->symbolizer, addr, &sym);
	if (sym.status != RT_SYMBOL_OK) {
		m->reason = sym.status;
		return unresolved_frame(m, "kernel.kallsyms", true, addr, id);
	}
	return named_frame(m, sym.name, m->opts.annotate_kernel ? "_[k]" : NULL, id);
}

/* --inline: the DWARF's functions at the address, one frame each (one id
 * standing for them all when there are several). */
static int inline_chain(struct rt_merge *m, const struct rt_symbol *sym, uint32_t *id)
{
	uint32_t ids[64], n = sym->chain_len < 64 ? sym->chain_len : 64;

	for (uint32_t i = 0; i < n; i++) {
		int err = named_frame(m, sym->chain[i], NULL, &ids[i]);

		if (err)
			return err;
	}
	if (n == 1) {
		*id = ids[0];
		return 0;
	}
	return rt_chains__add(&m->chains, ids, n, id);
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
			return rt_merge__resolve_kernel(m, addr, id);
		m->reason = REASON_NO_MAP;
		return unresolved_frame(m, "unknown", true, addr, id);
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
			return unresolved_frame(m, basename_of(map->path), true, addr, id);
		snprintf(dso, sizeof(dso), "perf-%u.map", pid);
		return unresolved_frame(m, dso, false, addr, id);
	}
	{
		const uint8_t *bid = map->build_id_size ? map->build_id : NULL;
		size_t bid_size = map->build_id_size;

		if (!bid) {
			const struct bid_slot *b = rt_merge__recorded_build_id(m, map);

			if (b) {
				bid = b->id;
				bid_size = b->size;
			}
		}
		rt_symbolizer__resolve_in_process(m->symbolizer, (int)pid, map->path, bid, bid_size,
						  addr - map->start + map->pgoff, &sym);
		if (sym.status == RT_SYMBOL_OK && m->opts.on_native_frame) {
			int err = named_frame(m, sym.name, NULL, id);

			if (!err)
				m->opts.on_native_frame(m->opts.ctx, rt_stacks__name(m->stacks, *id),
							map->path, bid, bid_size);
			return err;
		}
	}
	if (sym.status != RT_SYMBOL_OK) {
		m->reason = sym.status;
		return unresolved_frame(m, basename_of(map->path), true, addr, id);
	}
	/* An answer that is not cached (no code mapping) would store a new
	 * chain each time: such an address gets its symbol's name alone. */
	if (sym.chain_len && !m->uncacheable)
		return inline_chain(m, &sym, id);
	return named_frame(m, sym.name, NULL, id);
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
		j = rt_merge__frame_hash(e->addr, e->pid, false) & (size - 1);
		while (t[j].frame)
			j = (j + 1) & (size - 1);
		t[j] = *e;
	}
	free(m->cache);
	m->cache = t;
	m->cache_size = size;
	return 0;
}

static void count_reason(struct rt_merge *m, uint8_t reason)
{
	if (reason == REASON_NO_MAP)
		m->stats.unresolved_no_map++;
	else if (reason)
		m->stats.unresolved[reason]++;
}

/* The frame id of addr in pid (kernel addresses use RT_MACHINE_KERNEL_PID). */
int rt_merge__frame_of(struct rt_merge *m, uint32_t pid, uint64_t user_gen, uint64_t addr,
		       bool kernel, uint32_t *id)
{
	return rt_merge__frame_of_hashed(m, pid, user_gen, addr, kernel,
					 rt_merge__frame_hash(addr, pid, kernel), id);
}

int rt_merge__frame_of_hashed(struct rt_merge *m, uint32_t pid, uint64_t user_gen, uint64_t addr,
			      bool kernel, uint64_t hash, uint32_t *id)
{
	uint32_t key_pid = kernel ? RT_MACHINE_KERNEL_PID : pid;
	uint64_t gen = kernel ? 0 : user_gen;
	struct frame_slot *l1 = &m->l1[rt_merge__l1_index(hash)];
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
	for (i = hash & mask; m->cache[i].frame; i = (i + 1) & mask) {
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
	err = kernel ? rt_merge__resolve_kernel(m, addr, id) : resolve_user(m, pid, addr, id);
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

int rt_merge__root_frame(struct rt_merge *m, const struct rt_perf_sample *s, uint32_t *id)
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
	rt_merge__no_separators(text, (size_t)n);
	err = rt_merge__intern_text(m, text, (size_t)n, id);
	if (!err)
		*slot = (struct root_slot){ s->tid, s->pid, comm, *id, true };
	return err;
}
