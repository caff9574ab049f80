/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `rt-bpf trace`'s kernel side: USDT programs on CPython's line and
 * function probes and CRuby's method probes, and a write(2) tracepoint
 * program, each sending records (bpf/trace.h) through one ring buffer.
 *
 * CPython 3.11's function probes do not fire for calls from Python to
 * Python, so at every Python event the program reads the thread's current
 * frame and its callers, up to one the previous event of the thread sent:
 * user space follows frame pushes and pops from these chains.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "bpf/trace.h"
#include "bpf/maps.bpf.h"
#include "bpf/py_tstate.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader: the process whose writes to fds 1 and 2 are sent. */
const volatile __u32 target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24); /* resized by the loader */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32); /* tgid */
	__type(value, struct rt_trace_py_config);
} py_procs SEC(".maps");

/* What the previous event of a thread sent: where the next chain may stop. */
struct thread_state {
	__u64 frame;       /* its current frame */
	__u64 code;
	__u64 caller;      /* that frame's caller */
	__u64 call_instr;  /* the caller's call instruction */
	__u64 caller_code;
	__u32 lost;        /* records lost since the last one sent */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct thread_state);
} threads SEC(".maps");

struct seen_key {
	__u32 pid;
	__u32 pad;
	__u64 addr;
};

/* Code and type objects whose names were sent (value: the code's
 * firstlineno + 1, or 1 for a type): a code object freed and another
 * allocated at its address is sent again when its first line differs. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct seen_key);
	__type(value, __u32);
} seen SEC(".maps");

RT_BPF_STATS(RT_TRACE_STAT_MAX)

union scratch_rec {
	struct rt_trace_py_event ev;
	struct rt_trace_py_args args;
	struct rt_trace_py_retval retval;
	struct rt_trace_py_code code;
	struct rt_trace_rb_event rb;
	struct rt_trace_rb_frame rbf;
	struct rt_trace_write write;
};

struct scratch {
	union scratch_rec rec;
	__u8 frame_buf[2 * RT_WALKER_FRAME_READ]; /* masked offsets + 8 stay inside */
};

/* 0: the event, 1: code, args and type records */
RT_BPF_SCRATCH(struct scratch, 2);
/* the kernel's bound on a per-CPU map's value (PCPU_MIN_UNIT_SIZE) */
_Static_assert(sizeof(struct scratch) <= 32768, "a per-CPU value holds an event of the longest chain");


/* Fills the header and sends @size bytes of @rec; counts a loss against
 * the thread, whose next record then says how many went before it. */
static __always_inline int send(void *rec, __u64 size, __u32 type, __u32 pid, __u32 tid)
{
	struct rt_trace_header *hdr = rec;
	struct thread_state *th = bpf_map_lookup_elem(&threads, &tid);

	/* the bound the verifier needs, on the very register passed */
	bound_barrier(size);
	if (size > sizeof(union scratch_rec) || size < sizeof(*hdr))
		return -1;
	hdr->type = type;
	hdr->size = (__u32)size;
	hdr->pid = pid;
	hdr->tid = tid;
	hdr->time = bpf_ktime_get_ns();
	hdr->lost = th ? th->lost : 0;
	hdr->pad = 0;
	if (bpf_ringbuf_output(&events, rec, size, 0)) {
		count(RT_TRACE_STAT_LOST);
		if (th) {
			th->lost++;
			/* the frames the lost record sent are unknown to user space:
			 * the next chain goes to the root */
			th->frame = 0;
			th->caller = 0;
			th->code = 0;
			th->caller_code = 0;
		}
		return -1;
	}
	count(RT_TRACE_STAT_EVENTS);
	if (th)
		th->lost = 0;
	return 0;
}

/* Reads str object @obj (compact, 3.3+) into @buf: its kind, bytes and
 * length into @info; nothing when it is not a compact str. */
static __always_inline void read_str(const struct rt_walker_offsets *off, __u64 obj, __u8 *buf,
				     __u32 max, struct rt_trace_str_info *info)
{
	__u32 state = 0, kind;
	__s64 length = 0;
	__u64 n, data;

	info->kind = 0;
	info->nbytes = 0;
	info->length = 0;
	if (obj && off->unicode_length == RT_WALKER_NONE) {
		/* 2.7: names are byte strings (PyStringObject) */
		if (bpf_probe_read_user(&length, sizeof(length), (const void *)(obj + off->bytes_size)) ||
		    length < 0 || length > (1 << 24))
			return;
		kind = 1;
		data = obj + off->bytes_data;
		goto copy;
	}
	if (!obj ||
	    bpf_probe_read_user(&state, sizeof(state), (const void *)(obj + off->unicode_state)) ||
	    bpf_probe_read_user(&length, sizeof(length), (const void *)(obj + off->unicode_length)))
		return;
	kind = (state >> 2) & 7;
	if (!((state >> 5) & 1) || (kind != 1 && kind != 2 && kind != 4) || length < 0 ||
	    length > (1 << 24))
		return;
	data = obj + (((state >> 6) & 1) ? off->unicode_ascii_data : off->unicode_compact_data);
copy:
	n = (__u64)length * kind;
	if (n > max)
		n = max & ~3u;
	bound_barrier(n);
	if (n > RT_TRACE_PATH_MAX)
		return;
	if (n && bpf_probe_read_user(buf, n, (const void *)data))
		return;
	info->kind = kind;
	info->nbytes = (__u32)n;
	info->length = (__u32)length;
}

/* Sends the names of code object @code unless sent already.  Separately
 * verified (global): its many reads would otherwise be verified once per
 * frame of the chain loop. */
__noinline int send_code(__u32 pid, __u32 tid, __u64 code)
{
	const struct rt_trace_py_config *cfg = bpf_map_lookup_elem(&py_procs, &pid);
	__u32 one = 1, firstlineno = 0, *sent;
	struct seen_key key = { .pid = pid, .addr = code };
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &one);
	__u64 name = 0, qualname = 0, filename = 0, names = 0;
	__s32 argcount = 0, kwonly = 0;

	if (!cfg || !sc || !code)
		return 0;
	const struct rt_walker_offsets *off = &cfg->walker.off;
	struct rt_trace_py_code *rec = &sc->rec.code;

	if (bpf_probe_read_user(&firstlineno, sizeof(firstlineno),
				(const void *)(code + off->code_firstlineno)))
		return 0;
	sent = bpf_map_lookup_elem(&seen, &key);
	if (sent && *sent == firstlineno + 1)
		return 0;
	read_ptr(&name, code + off->code_name);
	read_ptr(&qualname, code + off->code_qualname);
	read_ptr(&filename, code + off->code_filename);
	if (cfg->code_argcount != RT_WALKER_NONE) {
		read_ptr(&names, code + cfg->code_localsplusnames);
		bpf_probe_read_user(&argcount, sizeof(argcount),
				    (const void *)(code + cfg->code_argcount));
		if (cfg->code_kwonlyargcount != RT_WALKER_NONE) /* 2.7 has none */
			bpf_probe_read_user(&kwonly, sizeof(kwonly),
					    (const void *)(code + cfg->code_kwonlyargcount));
	}
	rec->code = code;
	rec->firstlineno = firstlineno;
	rec->firsttraceable = 0;
	rec->co_flags = 0;
	rec->pad = 0;
	bpf_probe_read_user(&rec->co_flags, sizeof(rec->co_flags), (const void *)(code + cfg->code_flags));
	rec->linetable_nbytes = 0;
	if (off->code_firsttraceable != RT_WALKER_NONE) {
		__s32 ft = 0;
		__s64 lt_size = 0;
		__u64 lt = 0, n;

		bpf_probe_read_user(&ft, sizeof(ft), (const void *)(code + off->code_firsttraceable));
		rec->firsttraceable = ft > 0 ? (__u32)ft : 0;
		if (!read_ptr(&lt, code + off->code_linetable) && lt &&
		    !bpf_probe_read_user(&lt_size, sizeof(lt_size), (const void *)(lt + off->bytes_size)) &&
		    lt_size > 0) {
			n = lt_size > RT_TRACE_LINETABLE_HEAD ? RT_TRACE_LINETABLE_HEAD : (__u64)lt_size;
			bound_barrier(n);
			if (n <= RT_TRACE_LINETABLE_HEAD &&
			    !bpf_probe_read_user(rec->linetable, n, (const void *)(lt + off->bytes_data)))
				rec->linetable_nbytes = (__u32)n;
		}
	}
	rec->argcount = (argcount > 0 ? argcount : 0) + (kwonly > 0 ? kwonly : 0);
	read_str(off, name, rec->name, RT_TRACE_NAME_MAX, &rec->name_info);
	read_str(off, qualname, rec->qualname, RT_TRACE_NAME_MAX, &rec->qualname_info);
	read_str(off, filename, rec->filename, RT_TRACE_PATH_MAX, &rec->filename_info);
	for (__u32 i = 0; i < RT_TRACE_MAX_ARGS; i++) {
		__u64 item = 0;

		rec->argname_info[i].kind = 0;
		rec->argname_info[i].nbytes = 0;
		if (i >= rec->argcount || !names ||
		    read_ptr(&item, names + cfg->tuple_items + i * 8))
			continue;
		read_str(off, item, rec->argnames[i], RT_TRACE_ARGNAME_MAX, &rec->argname_info[i]);
	}
	if (send(rec, sizeof(*rec), RT_TRACE_PY_CODE, pid, tid))
		return -1;
	firstlineno++;
	bpf_map_update_elem(&seen, &key, &firstlineno, BPF_ANY);
	return 0;
}

/* Sends the first arguments of @frame (whose first RT_WALKER_FRAME_READ
 * bytes are in @buf) and the names of their types not sent yet. */
__noinline int send_args(__u32 pid, __u32 tid, __u64 frame, __u64 code)
{
	const struct rt_trace_py_config *cfg = bpf_map_lookup_elem(&py_procs, &pid);
	__u32 one = 1;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &one);
	__s32 argcount = 0, kwonly = 0;
	__u32 n;

	if (!cfg || !sc || cfg->code_argcount == RT_WALKER_NONE)
		return -1;
	struct rt_trace_py_args *rec = &sc->rec.args;

	bpf_probe_read_user(&argcount, sizeof(argcount), (const void *)(code + cfg->code_argcount));
	if (cfg->code_kwonlyargcount != RT_WALKER_NONE)
		bpf_probe_read_user(&kwonly, sizeof(kwonly),
				    (const void *)(code + cfg->code_kwonlyargcount));
	n = (argcount > 0 ? argcount : 0) + (kwonly > 0 ? kwonly : 0);
	if (n > RT_TRACE_MAX_ARGS)
		n = RT_TRACE_MAX_ARGS;
	rec->frame = frame;
	rec->code = code;
	rec->nr_args = 0;
	for (__u32 i = 0; i < RT_TRACE_MAX_ARGS; i++) {
		struct rt_trace_py_arg *a = &rec->args[i];
		__u64 obj = 0, type = 0;

		if (i >= n)
			break;
		a->object = 0;
		a->type = 0;
		if (!read_ptr(&obj, frame + cfg->frame_localsplus + i * 8) && obj &&
		    !read_ptr(&type, obj + cfg->walker.off.object_type))
			bpf_probe_read_user(a->data, sizeof(a->data), (const void *)(obj + 16));
		a->object = obj;
		a->type = type;
		rec->nr_args = i + 1;
	}
	return send(rec, sizeof(*rec), RT_TRACE_PY_ARGS, pid, tid);
}

/* Sends the name of type object @type unless sent already. */
__noinline int send_type(__u32 pid, __u32 tid, __u64 type)
{
	const struct rt_trace_py_config *cfg = bpf_map_lookup_elem(&py_procs, &pid);
	struct seen_key key = { .pid = pid, .addr = type };
	__u32 one = 1, *sent;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &one);
	__u64 name = 0;

	if (!cfg || !sc || !type)
		return 0;
	sent = bpf_map_lookup_elem(&seen, &key);
	if (sent)
		return 0;
	struct rt_trace_py_type *rec = (struct rt_trace_py_type *)&sc->rec;

	rec->type = type;
	rec->name[0] = 0;
	if (read_ptr(&name, type + cfg->type_name) ||
	    bpf_probe_read_user_str(rec->name, sizeof(rec->name), (const void *)name) < 0)
		rec->name[0] = 0;
	if (send(rec, sizeof(*rec), RT_TRACE_PY_TYPE, pid, tid))
		return -1;
	bpf_map_update_elem(&seen, &key, &one, BPF_ANY);
	return 0;
}

struct chain {
	const struct rt_walker_offsets *off;
	struct rt_trace_py_event *ev;
	struct thread_state *th; /* the thread's: where its previous event stood */
	__u8 *buf;
	__u64 frame;
	__u64 after_first;  /* with has_after_first: the frame that follows the first (EVAL_ENTER) */
	bool has_after_first;
	__u64 stop1, stop2; /* frames the previous event sent */
	__u32 n;            /* frames stored */
	__u32 flags;
	bool stop_second;   /* stop after the second frame when the first is known */
	bool first_known;
};

/* One frame of the chain: reads it, stores it (a 3.12+ entry shim, which
 * is no Python code and not yet linked when a frame is entered, is skipped:
 * a frame's caller is the same at every event), and stops after a frame
 * the previous event of the thread sent (from the second frame on: the
 * first frame's caller always goes, its call instruction tells a new call
 * from the same site apart from a new one at another). */
static long chain_frame(__u32 i, void *arg)
{
	struct chain *c = arg;
	const struct rt_walker_offsets *off = c->off;
	__u64 idx = c->n, size = off->frame_read, frame = c->frame;
	struct rt_trace_py_frame *f;
	__u8 owner = 0, is_entry = 0;
	__u32 flags = 0;

	bound_barrier(idx);
	if (idx >= RT_TRACE_MAX_CHAIN)
		return 1;
	if (!frame) {
		c->flags |= RT_TRACE_CHAIN_ROOT;
		return 1;
	}
	bound_barrier(size);
	if (size > RT_WALKER_FRAME_READ || size < 8)
		return 1;
	if (bpf_probe_read_user(c->buf, size, (const void *)frame)) {
		c->flags |= RT_TRACE_READ_FAULT;
		return 1;
	}
	c->frame = *(__u64 *)(c->buf + (off->frame_previous & RT_WALKER_FRAME_OFF_MASK));
	if (off->frame_owner != RT_WALKER_NONE)
		owner = c->buf[off->frame_owner & RT_WALKER_FRAME_OFF_MASK];
	if (off->frame_owner != RT_WALKER_NONE && owner >= off->frame_owner_cstack)
		return 0;
	f = &c->ev->frames[idx];
	f->frame = frame;
	f->code = *(__u64 *)(c->buf + (off->frame_code & RT_WALKER_FRAME_OFF_MASK)) &
		  ~(__u64)off->frame_code_tag;
	/* <= 3.10: f_lasti, the caller's call instruction all the same */
	f->instr = off->frame_instr_ptr != RT_WALKER_NONE ?
		   *(__u64 *)(c->buf + (off->frame_instr_ptr & RT_WALKER_FRAME_OFF_MASK)) :
		   (__u64)*(__u32 *)(c->buf + (off->frame_lasti & RT_WALKER_FRAME_OFF_MASK));
	if (off->frame_is_entry != RT_WALKER_NONE)
		is_entry = c->buf[off->frame_is_entry & RT_WALKER_FRAME_OFF_MASK];
	if (is_entry)
		flags |= RT_TRACE_FRAME_ENTRY;
	if (off->frame_owner != RT_WALKER_NONE && owner == off->frame_owner_generator)
		flags |= RT_TRACE_FRAME_GENERATOR;
	f->flags = flags;
	f->pad = 0;
	c->n = idx + 1;
	c->ev->nr_frames = c->n;
	if (idx == 0 && c->has_after_first)
		c->frame = c->after_first;
	if (idx == 0 && c->stop_second && (frame == c->stop1 || frame == c->stop2))
		c->first_known = true;
	if ((idx >= 1 && (frame == c->stop1 || frame == c->stop2)) || (idx == 1 && c->first_known)) {
		c->flags |= RT_TRACE_CHAIN_KNOWN;
		return 1;
	}
	return 0;
}

/* Sends the code object of chain frame @i unless sent (a loop callback on
 * the chain, as an attach's first chain may be RT_TRACE_MAX_CHAIN frames
 * long; the chain's own context, so that the programs' stack stays within
 * the kernel's 512 bytes on 6.1). */
static long chain_code(__u32 i, void *arg)
{
	struct chain *c = arg;
	struct thread_state *th = c->th;
	__u64 id = bpf_get_current_pid_tgid(), k = i;

	if (!th || i >= c->ev->nr_frames)
		return 1;
	bound_barrier(k);
	if (k >= RT_TRACE_MAX_CHAIN)
		return 1;
	/* the previous event's two frames, still running the same code
	 * objects (a frame holds its code alive), had theirs sent then: a
	 * step costs no code lookup */
	if ((c->ev->frames[k].frame == th->frame && c->ev->frames[k].code == th->code) ||
	    (c->ev->frames[k].frame == th->caller && c->ev->frames[k].code == th->caller_code))
		return 0;
	send_code(id >> 32, (__u32)id, c->ev->frames[k].code);
	return 0;
}

/*
 * Whether a frame clear or pop of @frame (the fallback's FRAME_POP uprobe)
 * is the return of a running frame: the eval loop clears a returning frame
 * while it is the current frame or just after it made the frame's caller
 * the current one (3.12+ unlink it first; 3.11 as compiled may store the
 * new current frame before the call).  Not a return: the clear of a
 * suspended or finished generator's frame (freed, closed: previous NULL,
 * not on the stack) and 3.11's clear of a frame entered from C (is_entry),
 * which comes after its eval call returned (EVAL_EXIT reported that), and
 * likewise 3.12+'s clear of a frame whose caller is an entry shim (entered
 * from C): EVAL_EXIT, which comes next, reports it with its return value.
 */
static __always_inline bool pop_is_return(const struct rt_walker_offsets *off, __u64 frame,
					  __u64 current)
{
	__u64 prev = 0;
	__u8 is_entry = 0, owner = 0;

	if (read_ptr(&prev, frame + off->frame_previous) || !prev)
		return false;
	if (off->frame_is_entry != RT_WALKER_NONE &&
	    (bpf_probe_read_user(&is_entry, 1, (const void *)(frame + off->frame_is_entry)) || is_entry))
		return false;
	if (off->frame_owner_cstack != RT_WALKER_NONE && off->frame_owner != RT_WALKER_NONE &&
	    !bpf_probe_read_user(&owner, 1, (const void *)(prev + off->frame_owner)) &&
	    owner >= off->frame_owner_cstack)
		return false;
	return frame == current || prev == current;
}

/* A Python probe fired on the current thread: sends its chain of frames,
 * preceded by the names of code objects not sent yet and, for a frame that
 * may be new, its arguments.  @start: 0 for a chain from the current
 * frame; EVAL_ENTER: the frame being entered, before the current one (its
 * previous is not set yet); FRAME_POP: the frame returning, then its
 * callers. */
static __always_inline int py_event(__u32 probe, __s32 line, __u64 start)
{
	__u64 id = bpf_get_current_pid_tgid(), ts, current = 0;
	__u32 pid = id >> 32, tid = (__u32)id, zero = 0, top;
	const struct rt_trace_py_config *cfg = bpf_map_lookup_elem(&py_procs, &pid);
	struct thread_state fresh = {}, *th;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);
	struct rt_trace_py_event *ev;
	struct chain c = {};
	bool want_args;
	__u32 n;

	if (!cfg) {
		count(RT_TRACE_STAT_NO_CONFIG);
		return 0;
	}
	if (!sc)
		return 0;
	th = bpf_map_lookup_elem(&threads, &tid);
	if (!th) {
		bpf_map_update_elem(&threads, &tid, &fresh, BPF_NOEXIST);
		th = bpf_map_lookup_elem(&threads, &tid);
		if (!th)
			return 0;
	}
	ev = &sc->rec.ev;
	ev->probe = probe;
	ev->line = line;
	ev->nr_frames = 0;
	ev->flags = 0;
	ts = find_tstate(&cfg->walker, pid, tid);
	if (!ts) {
		if (probe == RT_TRACE_PROBE_PY_FRAME_POP)
			return 0; /* no telling whether it is a return */
		count(RT_TRACE_STAT_NO_TSTATE);
		ev->flags |= RT_TRACE_NO_TSTATE;
	} else {
		c.off = &cfg->walker.off;
		c.ev = ev;
		c.buf = sc->frame_buf;
		c.stop1 = th->frame;
		c.stop2 = th->caller;
		if (current_frame(&cfg->walker.off, ts, &current))
			c.flags |= RT_TRACE_READ_FAULT;
		c.frame = current;
		if (probe == RT_TRACE_PROBE_PY_FRAME_POP) {
			if (!pop_is_return(&cfg->walker.off, start, current)) {
				count(RT_TRACE_STAT_POP_OTHER);
				return 0;
			}
			c.frame = start;
		} else if (probe == RT_TRACE_PROBE_PY_EVAL_ENTER) {
			c.frame = start;
			c.after_first = current;
			c.has_after_first = true;
		} else if (probe == RT_TRACE_PROBE_PY_EVAL_EXIT &&
			   cfg->walker.off.frame_instr_ptr == RT_WALKER_NONE) {
			/* <= 3.10, where every frame has its own eval call: the
			 * current frame is the one returned to, no new call */
			c.stop_second = true;
		}
		bpf_loop(RT_TRACE_MAX_CHAIN + 8, chain_frame, &c, 0);
		ev->flags |= c.flags;
		if (c.flags & RT_TRACE_READ_FAULT)
			count(RT_TRACE_STAT_READ_FAULT);
	}
	n = ev->nr_frames;
	c.ev = ev;
	c.th = th;
	bpf_loop(RT_TRACE_MAX_CHAIN, chain_code, &c, 0);
	/* the fallback's calls are mostly seen at their return, when the
	 * arguments may have been rebound: only a frame entered is read */
	want_args = probe == RT_TRACE_PROBE_PY_EVAL_ENTER;
	if (n >= 1 && probe <= RT_TRACE_PROBE_PY_RETURN) {
		__u64 caller = n >= 2 ? ev->frames[1].frame : 0;
		__u64 call_instr = n >= 2 ? ev->frames[1].instr : 0;

		want_args = probe == RT_TRACE_PROBE_PY_ENTRY || ev->frames[0].frame != th->frame ||
			    ev->frames[0].code != th->code || caller != th->caller ||
			    call_instr != th->call_instr;
	}
	if (n >= 1 && want_args) {
		__u64 types[RT_TRACE_MAX_ARGS] = {};
		__u32 one = 1, nr = 0;
		struct scratch *s1;

		/* the type records reuse the scratch slot the arguments are in */
		if (!send_args(pid, tid, ev->frames[0].frame, ev->frames[0].code)) {
			s1 = bpf_map_lookup_elem(&scratch, &one);
			if (s1) {
				nr = s1->rec.args.nr_args;
				for (__u32 i = 0; i < RT_TRACE_MAX_ARGS; i++)
					types[i] = s1->rec.args.args[i].type;
			}
		}
		for (__u32 i = 0; i < RT_TRACE_MAX_ARGS; i++) {
			if (i >= nr)
				break;
			send_type(pid, tid, types[i]);
		}
	}
	/* where the next chain may stop: the top of the stack after this
	 * event (a popped frame's caller after FRAME_POP) and its caller */
	top = probe == RT_TRACE_PROBE_PY_FRAME_POP || probe == RT_TRACE_PROBE_PY_YIELD ? 1 : 0;
	th->frame = top < n && top < RT_TRACE_MAX_CHAIN ? ev->frames[top].frame : 0;
	th->code = top < n && top < RT_TRACE_MAX_CHAIN ? ev->frames[top].code : 0;
	th->caller = top + 1 < n && top + 1 < RT_TRACE_MAX_CHAIN ? ev->frames[top + 1].frame : 0;
	th->call_instr = top + 1 < n && top + 1 < RT_TRACE_MAX_CHAIN ? ev->frames[top + 1].instr : 0;
	th->caller_code = top + 1 < n && top + 1 < RT_TRACE_MAX_CHAIN ? ev->frames[top + 1].code : 0;
	return send(ev, sizeof(*ev) - sizeof(ev->frames) + n * sizeof(ev->frames[0]),
		    RT_TRACE_PY_EVENT, pid, tid);
}

SEC("usdt")
int BPF_USDT(py_line, __u64 filename, __u64 funcname, int lineno)
{
	return py_event(RT_TRACE_PROBE_LINE, lineno, 0);
}

SEC("usdt")
int BPF_USDT(py_entry, __u64 filename, __u64 funcname, int lineno)
{
	return py_event(RT_TRACE_PROBE_PY_ENTRY, lineno, 0);
}

SEC("usdt")
int BPF_USDT(py_return, __u64 filename, __u64 funcname, int lineno)
{
	return py_event(RT_TRACE_PROBE_PY_RETURN, lineno, 0);
}

/* The fallback for builds without USDT probes: _PyEval_EvalFrameDefault
 * (tstate, frame, throwflag) runs a frame entered from C (a call from C,
 * a generator resumed by C); its return goes back to C. */
SEC("uprobe")
int BPF_KPROBE(py_eval_enter, __u64 tstate, __u64 frame)
{
	return py_event(RT_TRACE_PROBE_PY_EVAL_ENTER, 0, frame);
}

/* 3.6-3.8 _PyEval_EvalFrameDefault and 2.7 PyEval_EvalFrameEx take
 * (frame, throwflag); on these versions every frame evaluation, each
 * generator resumption included, is one such call. */
SEC("uprobe")
int BPF_KPROBE(py_eval_enter_f1, __u64 frame)
{
	return py_event(RT_TRACE_PROBE_PY_EVAL_ENTER, 0, frame);
}

/* Sends the object the eval loop returned (@obj, NULL on an exception)
 * and its type's name. */
__noinline int send_retval(__u32 pid, __u32 tid, __u64 obj)
{
	const struct rt_trace_py_config *cfg = bpf_map_lookup_elem(&py_procs, &pid);
	__u32 one = 1;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &one);
	__u64 type = 0;

	if (!cfg || !sc)
		return 0;
	struct rt_trace_py_retval *rec = &sc->rec.retval;

	rec->value.object = obj;
	rec->value.type = 0;
	if (obj && !read_ptr(&type, obj + cfg->walker.off.object_type))
		bpf_probe_read_user(rec->value.data, sizeof(rec->value.data), (const void *)(obj + 16));
	rec->value.type = type;
	if (send(rec, sizeof(*rec), RT_TRACE_PY_RETVAL, pid, tid))
		return -1;
	return send_type(pid, tid, type);
}

SEC("uretprobe")
int BPF_KRETPROBE(py_eval_exit, __u64 ret)
{
	__u64 id = bpf_get_current_pid_tgid();

	send_retval(id >> 32, (__u32)id, ret);
	return py_event(RT_TRACE_PROBE_PY_EVAL_EXIT, 0, 0);
}

/* _PyFrame_Clear (3.11) or _PyFrame_ClearExceptCode (3.12+) (frame): the
 * eval loop clears each frame that returns, inline calls included. */
SEC("uprobe")
int BPF_KPROBE(py_frame_clear, __u64 frame)
{
	return py_event(RT_TRACE_PROBE_PY_FRAME_POP, 0, frame);
}

/* The code of the YIELD_VALUE instruction in the eval loop (3.12+, where a
 * generator resumed by a for loop or `yield from` in Python runs and yields
 * inline): the current frame yields. */
SEC("uprobe")
int py_yield(struct pt_regs *ctx)
{
	return py_event(RT_TRACE_PROBE_PY_YIELD, 0, 0);
}

/* _PyEval_FrameClearAndPop or _PyThreadState_PopFrame (tstate, frame):
 * where the clear function is not a symbol of the build (stripped), the
 * function around it or the pop that follows it. */
SEC("uprobe")
int BPF_KPROBE(py_frame_pop, __u64 tstate, __u64 frame)
{
	return py_event(RT_TRACE_PROBE_PY_FRAME_POP, 0, frame);
}

/* CRuby's probes carry the class, method, file and line as C strings. */
static __always_inline int rb_event(__u32 probe, __u64 klass, __u64 method, __u64 file, __s32 line)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id, zero = 0;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);
	struct thread_state fresh = {};
	struct rt_trace_rb_event *rec;

	if (!sc)
		return 0;
	if (!bpf_map_lookup_elem(&threads, &tid))
		bpf_map_update_elem(&threads, &tid, &fresh, BPF_NOEXIST);
	rec = &sc->rec.rb;
	rec->probe = probe;
	rec->line = line;
	if (bpf_probe_read_user_str(rec->klass, sizeof(rec->klass), (const void *)klass) < 0)
		rec->klass[0] = 0;
	if (bpf_probe_read_user_str(rec->method, sizeof(rec->method), (const void *)method) < 0)
		rec->method[0] = 0;
	if (bpf_probe_read_user_str(rec->file, sizeof(rec->file), (const void *)file) < 0)
		rec->file[0] = 0;
	return send(rec, sizeof(*rec), RT_TRACE_RB_EVENT, pid, tid);
}

/* CRuby's four method probes share their arguments: one program each,
 * named @prog, sending @probe. */
#define RB_PROBE(prog, probe)                                                   \
	SEC("usdt")                                                             \
	int BPF_USDT(prog, __u64 klass, __u64 method, __u64 file, int line)     \
	{                                                                       \
		return rb_event(probe, klass, method, file, line);              \
	}

RB_PROBE(rb_entry, RT_TRACE_PROBE_RB_ENTRY)
RB_PROBE(rb_return, RT_TRACE_PROBE_RB_RETURN)
RB_PROBE(rb_centry, RT_TRACE_PROBE_RB_CENTRY)
RB_PROBE(rb_creturn, RT_TRACE_PROBE_RB_CRETURN)

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* host tid */
	__type(value, struct rt_trace_rb_thread);
} rb_cfp_threads SEC(".maps");

/*
 * The Ruby fallback names frames by reading the target's memory as their
 * records arrive, which needs the objects alive: where they are about to
 * go away (the end of the script, exit), the target is stopped (SIGSTOP,
 * pending before the record is sent) and user space told, which continues
 * it once every earlier record is written.
 */
static __always_inline void rb_hold(struct scratch *sc, __u32 pid, __u32 tid)
{
	/* with interrupts off (the breakpoint's trap) the signal is sent from
	 * an irq_work, which may run after the record wakes user space: user
	 * space waits for the stop before it continues the target */
	bpf_send_signal_thread(19); /* SIGSTOP */
	send(&sc->rec, sizeof(struct rt_trace_header), RT_TRACE_RB_HOLD, pid, tid);
}

/* Word at byte offset @off (0, 8 or 16) of @w. */
static __always_inline __u64 word3(const __u64 *w, __u32 off)
{
	return off < 8 ? w[0] : off < 16 ? w[1] : w[2];
}

/*
 * The fallback for a CRuby without USDT probes: runs at each trap of the
 * hardware write breakpoint user space put on a thread's ec->cfp (a
 * perf_event program on a PERF_TYPE_BREAKPOINT event; a data breakpoint
 * traps after the write, so ec->cfp holds the new value).  vm_push_frame
 * fills the new control frame and its environment before it stores
 * ec->cfp, vm_pop_frame stores the caller's; the depth the new cfp gives
 * against the thread's previous one tells a push from a pop.
 */
SEC("perf_event")
int rb_cfp_write(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), w[3] = {}, cfp, end, depth;
	__u32 pid = id >> 32, tid = (__u32)id, zero = 0, prev;
	struct rt_trace_rb_thread *th = bpf_map_lookup_elem(&rb_cfp_threads, &tid);
	struct thread_state fresh = {};
	struct rt_trace_rb_frame *rec;
	struct scratch *sc;
	__u8 *f;

	if (!th || !th->cfp_size || th->cfp_size > 64)
		return 0;
	if (bpf_probe_read_user(w, sizeof(w), (const void *)th->ec))
		goto fault;
	cfp = word3(w, th->ec_cfp);
	/* a thread that ends releases its VM stack (rb_ec_clear_vm_stack:
	 * ec->vm_stack, then ec->cfp NULL): nothing more to follow */
	if (!cfp || !word3(w, th->ec_vm_stack))
		return 0;
	/* the first control frame sits at the very end of the VM stack */
	end = word3(w, th->ec_vm_stack) + word3(w, th->ec_vm_stack_size) * 8;
	/* a torn or foreign read: no VM stack comes near 64 MiB */
	if (!cfp || cfp > end || end - cfp > (1ull << 26))
		goto fault;
	depth = (end - cfp) / th->cfp_size;
	prev = th->depth;
	if (depth == prev) {
		count(RT_TRACE_STAT_RB_SAME);
		return 0;
	}
	th->depth = (__u32)depth;
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return 0;
	if (!bpf_map_lookup_elem(&threads, &tid))
		bpf_map_update_elem(&threads, &tid, &fresh, BPF_NOEXIST);
	rec = &sc->rec.rbf;
	rec->depth = (__u32)depth;
	rec->prev_depth = prev;
	rec->cfp = cfp;
	rec->iseq = rec->me = rec->flags = rec->pc = 0;
	rec->caller_iseq = rec->caller_pc = 0;
	if (depth > prev || prev == RT_TRACE_RB_DEPTH_UNKNOWN) {
		__u64 ep, env[3] = {};

		/* the new frame, then its caller, which lies just above it (the
		 * last control frame ends the VM stack: no read past it) */
		__u64 n = th->cfp_size;

		f = sc->frame_buf;
		bound_barrier(n);
		n &= 0x7f; /* what the verifier sees on the register passed */
		if (n > 64 || n < 8 || bpf_probe_read_user(f, n, (const void *)cfp))
			goto fault_send;
		rec->pc = *(__u64 *)(f + (th->cfp_pc & 0x38));
		rec->iseq = *(__u64 *)(f + (th->cfp_iseq & 0x38));
		ep = *(__u64 *)(f + (th->cfp_ep & 0x38));
		if (depth > 1 && !bpf_probe_read_user(f + 64, n, (const void *)(cfp + n))) {
			rec->caller_pc = *(__u64 *)(f + 64 + (th->cfp_pc & 0x38));
			rec->caller_iseq = *(__u64 *)(f + 64 + (th->cfp_iseq & 0x38));
		}
		/* ep[-2] (method entry or cref) .. ep[0] (frame flags) */
		if (!ep || bpf_probe_read_user(env, sizeof(env), (const void *)(ep - 16)))
			goto fault_send;
		rec->me = env[0];
		rec->flags = env[2];
	}
	send(rec, sizeof(*rec), RT_TRACE_RB_FRAME, pid, tid);
	/* the main thread back at its first frame: the script ended, and
	 * the VM's teardown, which frees the objects user space reads names
	 * from, is next (see rb_hold) */
	if (depth < prev && depth <= 1 && tid == pid)
		rb_hold(sc, pid, tid);
	return 0; /* no perf sample: the event has no buffer */
fault_send:
	count(RT_TRACE_STAT_RB_FAULT);
	send(rec, sizeof(*rec), RT_TRACE_RB_FRAME, pid, tid);
	return 0;
fault:
	count(RT_TRACE_STAT_RB_FAULT);
	return 0;
}

/* The target's libc exit and _exit: its end without a return to its first
 * frame (exit!); see rb_hold. */
SEC("uprobe")
int rb_exit(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id, zero = 0;
	struct scratch *sc;

	if (pid != target_pid)
		return 0;
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (sc)
		rb_hold(sc, pid, tid);
	return 0;
}

/* Vectors of a writev read at most: their lengths make the count. */
#define WRITEV_VECS 64

struct user_iovec {
	__u64 base, len;
};

struct writev_copy {
	struct rt_trace_write *rec;
	__u64 vec, vlen;
	__u64 n;     /* bytes copied into rec->data */
	__u64 count; /* bytes the vectors hold */
};

/* One vector of a writev: its length counted, its bytes copied after the
 * ones before while they fit.  A loop callback: the verifier checks it
 * once, not once per copied length. */
static long writev_vec(__u32 i, void *arg)
{
	struct writev_copy *c = arg;
	struct user_iovec v;
	__u64 n = c->n, m;

	if (i >= c->vlen ||
	    bpf_probe_read_user(&v, sizeof(v), (const void *)(c->vec + (__u64)i * sizeof(v))))
		return 1;
	c->count += v.len;
	m = v.len < RT_TRACE_WRITE_MAX - n ? v.len : RT_TRACE_WRITE_MAX - n;
	bound_barrier(n);
	bound_barrier(m);
	if (n >= RT_TRACE_WRITE_MAX || m > RT_TRACE_WRITE_MAX || !m)
		return 0;
	if (bpf_probe_read_user(c->rec->data + n, m, (const void *)v.base))
		return 1;
	c->n = n + m;
	return 0;
}

/* The write record to fill for a write to @fd, when the target writes to
 * its stdout or stderr; else NULL. */
static __always_inline struct rt_trace_write *target_write(__u64 fd)
{
	struct scratch *sc;
	__u32 zero = 0;

	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_pid || (fd != 1 && fd != 2))
		return NULL;
	sc = bpf_map_lookup_elem(&scratch, &zero);
	return sc ? &sc->rec.write : NULL;
}

/* Sends @rec, its first @n bytes of data copied, for a write of @count
 * bytes to @fd. */
static __always_inline int send_write(struct rt_trace_write *rec, __u64 fd, __u64 count, __u64 n)
{
	__u64 id = bpf_get_current_pid_tgid();

	bound_barrier(n);
	if (n > RT_TRACE_WRITE_MAX)
		return 0;
	rec->fd = (__u32)fd;
	rec->count = count;
	rec->nbytes = (__u32)n;
	return send(rec, sizeof(*rec) - RT_TRACE_WRITE_MAX + n, RT_TRACE_WRITE, id >> 32, (__u32)id);
}

/* The target's writev to its stdout and stderr (CRuby's IO#puts, for
 * one): the vectors' bytes in order, up to RT_TRACE_WRITE_MAX, as one
 * Write. */
SEC("tracepoint/syscalls/sys_enter_writev")
int trace_writev(struct trace_event_raw_sys_enter *ctx)
{
	struct writev_copy c = { .vec = ctx->args[1], .vlen = ctx->args[2] };

	c.rec = target_write(ctx->args[0]);
	if (!c.rec)
		return 0;
	bpf_loop(WRITEV_VECS, writev_vec, &c, 0);
	return send_write(c.rec, ctx->args[0], c.count, c.n);
}

/* The target's writes to its stdout and stderr. */
SEC("tracepoint/syscalls/sys_enter_write")
int trace_write(struct trace_event_raw_sys_enter *ctx)
{
	__u64 buf = ctx->args[1], len = ctx->args[2], n;
	struct rt_trace_write *rec = target_write(ctx->args[0]);

	if (!rec)
		return 0;
	n = len > RT_TRACE_WRITE_MAX ? RT_TRACE_WRITE_MAX : len;
	bound_barrier(n);
	if (n > RT_TRACE_WRITE_MAX)
		return 0;
	if (n && bpf_probe_read_user(rec->data, n, (const void *)buf))
		n = 0;
	return send_write(rec, ctx->args[0], len, n);
}
