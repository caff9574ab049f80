/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A thread's native stack from a copy that a BPF program took (its user
 * registers and the bytes from its stack pointer up), unwound with the
 * mapped files' DWARF CFI (unwind/) and named (symbolize/) while its
 * process lives: the mappings come from /proc/PID/maps.  The unwinder reads
 * each file through /proc/PID/map_files (the mapped file itself, whatever
 * its path means from here: a chroot, another mount namespace); names come
 * from a file with the mapped file's build id, at its path or else inside
 * the process's root.  A file of a process in another root whose build id
 * cannot be read is not named ("[unknown]"), rather than named from the
 * host's file at that path.
 * `rt-bpf async` uses it for the blocking polls of tokio programs, whose
 * release builds have no frame pointers to walk in BPF.
 *
 * Not thread-safe; one per target process.
 */
#ifndef RT_RTBPF_NATIVESTACK_H
#define RT_RTBPF_NATIVESTACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rt_native_stack;

/* Returns a namer for process @pid, or NULL with errno set. */
struct rt_native_stack *rt_native_stack__new(pid_t pid);
/* NULL is a no-op. */
void rt_native_stack__free(struct rt_native_stack *ns);

/* One stack copy: registers as perf numbers them (one value per set bit of
 * @regs_mask, in bit order; IP and SP needed) and @size bytes copied from
 * the stack pointer up.  A function with a uretprobe has the kernel's
 * trampoline for its return address: @ret_stack[i] is where one is on the
 * stack (the stack pointer at the function's entry), @ret_addr[i] the real
 * one (@nr_returns of them, from the kernel's list); an entry is used only
 * where the copy holds the trampoline (the list can hold stale ones). */
struct rt_native_stack_copy {
	const uint64_t *regs;
	uint64_t regs_mask;
	const uint8_t *stack;
	size_t size;
	const uint64_t *ret_stack, *ret_addr;
	size_t nr_returns;
};

/*
 * Unwinds @copy and names its frames, leaf first, into *@out (an array of
 * *@nr malloc'd strings; free each and the array): "function (file)" when a
 * symbol covers the address, "[unknown] (file+0xOFFSET)" when none does,
 * "[unknown] 0xADDRESS" outside every file.  An unwind that ends before the
 * thread's first frame ends in a "[stack ends: REASON]" line (the reasons of
 * rt_unwind_stop__name()).  The process's mappings are read again on every
 * call.  Returns 0 or -errno (-ESRCH: the process is gone).
 */
int rt_native_stack__frames(struct rt_native_stack *ns, const struct rt_native_stack_copy *copy,
			    char ***out, size_t *nr);

#endif
