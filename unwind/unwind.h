/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * unwind: user stacks from perf's register and stack copies
 * (PERF_SAMPLE_REGS_USER + PERF_SAMPLE_STACK_USER, `perf record
 * --call-graph dwarf`) on x86_64.
 *
 * Each frame is unwound through the DWARF CFI of the file mapped at its
 * address (.eh_frame, else .debug_frame from the file or its separate debug
 * file).  Every file's CFI is compiled once into a sorted table and cached by
 * (path, build id), so a frame costs a map lookup (the caller's callback), a
 * binary search and a few loads from the stack copy; nothing is allocated per
 * sample once the files are loaded.  Code without CFI is unwound only when
 * its prologue (disassembled with capstone) shows a frame pointer or a fixed
 * frame size; such frames are marked.  Memory is read only from the stack
 * copy.  Files on disk and the sample's bytes are untrusted: bad input ends
 * the unwind (with a reason), never the process.
 *
 * Not thread-safe: use one unwinder per thread.
 */
#ifndef RT_UNWIND_H
#define RT_UNWIND_H

#include <stddef.h>
#include <stdint.h>

/* One mapping of the sampled process. */
struct rt_unwind_map {
	const char *path;         /* as perf recorded it; "[vdso]" is this machine's vDSO */
	uint64_t start, end, pgoff;
	const uint8_t *build_id;  /* NULL/0 when unknown; checked when given */
	size_t build_id_size;
	/* Optional: a magic link to the mapped file itself
	 * (/proc/PID/map_files/START-END of a live process), read instead of
	 * root_dir + path, which may not name it (a process in another root
	 * or mount namespace); path and build id still say which file it is.
	 * Read right after find_map returns, before its next call. */
	const char *link;
};

/* The caller's map lookup: fill *out with the map containing addr in the
 * sampled process and return 0, or return -ENOENT.  out->path must stay
 * valid until rt_unwinder__unwind() returns. */
typedef int (*rt_unwind_find_map_fn)(void *ctx, uint64_t addr, struct rt_unwind_map *out);

struct rt_unwinder_opts {
	size_t sz;                /* sizeof(struct rt_unwinder_opts) */
	const char *root_dir;     /* prefix for every file path, default "" */
	const char *debug_root;   /* separate debug files, default /usr/lib/debug */
	/* The caller interns map paths: equal path pointers mean equal paths,
	 * so the per-frame file lookup can skip comparing strings. */
	bool interned_paths;
	/* perf's build-id cache, where a file with the map's build id is
	 * looked for when the path does not give it (a container's file):
	 * default $HOME/.debug; "" for none */
	const char *buildid_cache;
};

struct rt_unwinder;

/* Returns a new unwinder, or NULL with errno set.  opts may be NULL. */
struct rt_unwinder *rt_unwinder__new(const struct rt_unwinder_opts *opts);
/* Frees the unwinder and every cached file.  NULL is a no-op. */
void rt_unwinder__free(struct rt_unwinder *unwinder);

/* x86_64 perf register numbers (bits of regs_mask). */
enum {
	RT_PERF_REG_AX = 0, RT_PERF_REG_BX, RT_PERF_REG_CX, RT_PERF_REG_DX, RT_PERF_REG_SI,
	RT_PERF_REG_DI, RT_PERF_REG_BP, RT_PERF_REG_SP, RT_PERF_REG_IP, RT_PERF_REG_FLAGS,
	RT_PERF_REG_R8 = 16, RT_PERF_REG_R15 = 23,
};

/* Register @reg (RT_PERF_REG_*) of perf's packed user registers @regs (one
 * value per set bit of @mask, in bit order); 0 when @mask lacks it. */
static inline uint64_t rt_perf_reg(const uint64_t *regs, uint64_t mask, unsigned int reg)
{
	const uint64_t bit = 1ull << reg;

	if (!regs || !(mask & bit))
		return 0;
	return regs[__builtin_popcountll(mask & (bit - 1))];
}

/* A word of the stack whose true value is not the one in the copy: a
 * function with a uretprobe has the kernel's trampoline where its return
 * address is until it returns; the unwind reads @value at @addr instead. */
struct rt_unwind_patch {
	uint64_t addr;
	uint64_t value;
};

struct rt_unwind_input {
	const uint64_t *regs;     /* one value per set bit of regs_mask, in bit order */
	uint64_t regs_mask;       /* perf register numbers, see above */
	const uint8_t *stack;     /* copy of the user stack starting at regs[SP] */
	uint64_t stack_size;      /* valid bytes (perf's user_stack_dyn_size) */
	const struct rt_unwind_patch *patches; /* words read as given, not from the copy */
	size_t nr_patches;
	rt_unwind_find_map_fn find_map;
	void *ctx;
	/* Optional: a value that names the process's executable mappings as
	 * find_map sees them (changes whenever they change, never reused for
	 * other mappings), 0 if none; lets the unwinder cache per address. */
	uint64_t maps_key;
};

/* How a frame's ip was found.  Frame 0 (the sampled ip) is always CFI. */
enum rt_unwind_how {
	RT_UNWIND_CFI,            /* the callee's DWARF CFI */
	RT_UNWIND_FP,             /* callee without CFI whose prologue sets up rbp */
	RT_UNWIND_PROLOGUE,       /* callee without CFI: frame size from its prologue */
};

/* Why an unwind ended. */
enum rt_unwind_stop {
	RT_UNWIND_STOP_END,       /* outermost frame: RA undefined (_start, thread start) */
	RT_UNWIND_STOP_NO_MAP,    /* an address in no mapping (or no file behind it) */
	RT_UNWIND_STOP_NO_CFI,    /* no CFI and no safe prologue analysis */
	RT_UNWIND_STOP_STACK,     /* needed memory outside the stack copy */
	RT_UNWIND_STOP_BAD,       /* loop, bad CFA, unsupported rule, missing register */
	RT_UNWIND_STOP_MAX_DEPTH, /* the frames array is full */
	RT_UNWIND_STOP_NR,
};

/* Short names for the summary: "end", "no-map", "no-cfi", "stack", "bad", "max-depth". */
const char *rt_unwind_stop__name(enum rt_unwind_stop stop);

struct rt_unwind_frame {
	uint64_t ip;              /* frame 0: the sampled ip; others: the return address */
	enum rt_unwind_how how;
};

/*
 * Unwind one sample.  Fills frames (leaf first, at most max) and returns how
 * many; at least 1 when the registers include IP and max >= 1.  Returns
 * -EINVAL when IP or SP is missing from the registers or an argument is
 * missing (find_map, regs, frames).  *stop (may be NULL)
 * says why the unwind ended.  Callers' frames hold return addresses: look
 * them up at ip - 1.
 */
int rt_unwinder__unwind(struct rt_unwinder *unwinder, const struct rt_unwind_input *input,
			struct rt_unwind_frame *frames, size_t max, enum rt_unwind_stop *stop);

/* Counters over the unwinder's life. */
struct rt_unwinder_stats {
	uint64_t files_loaded, files_failed;  /* distinct (path, build id) seen */
	uint64_t cfi_rows;                    /* rows in all loaded tables */
	uint64_t frames_cfi, frames_fp, frames_prologue;
};

/* Copy the counters into *stats.  Returns 0. */
int rt_unwinder__stats(const struct rt_unwinder *unwinder, struct rt_unwinder_stats *stats);

#endif
