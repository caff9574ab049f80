/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Process events from the kernel (bpf/discovery.bpf.c) that tell rt-bpf
 * which processes to inspect, instead of rereading /proc: a process exec'd,
 * forked, exited, or mapped a library that may hold an interpreter.
 * Shared by the BPF program and its loader (rtbpf/discovery.c).
 */
#ifndef RT_BPF_DISCOVERY_H
#define RT_BPF_DISCOVERY_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum rt_discovery_type {
	RT_DISCOVERY_EXEC = 1, /* pid runs a new image */
	RT_DISCOVERY_FORK,     /* pid is a new process, child of ppid */
	RT_DISCOVERY_EXIT,     /* pid's last thread ended */
	RT_DISCOVERY_MMAP,     /* pid mapped a file named libpython* or libruby* */
};

/* Library base names whose mmap is reported (prefixes). */
#define RT_DISCOVERY_LIB_PYTHON "libpython"
#define RT_DISCOVERY_LIB_RUBY   "libruby"

struct rt_discovery_event {
	__u32 type;     /* enum rt_discovery_type */
	__u32 pid;      /* the process (thread group id) */
	__u32 ppid;     /* FORK: the parent process */
	__u32 pad;
	__u64 time_ns;  /* when, CLOCK_BOOTTIME */
	__u64 start_ns; /* EXEC, FORK: the process's start, ns after boot (what
			 * /proc/PID/stat's starttime counts in clock ticks) */
};

/*
 * One process as the first full scan's table needs it, written by the
 * rt_processes iterator for every thread group leader: what /proc/PID/stat
 * and a stat() of /proc/PID/exe told, for 2,000 processes in one read.
 */
struct rt_discovery_process {
	__u32 pid;      /* thread group id */
	__u32 ppid;     /* the real parent's thread group id */
	__u64 start_ns; /* start, ns after boot (start_boottime) */
	__u64 exe;      /* address of the executable's struct inode: equal for
			 * processes running the same file; 0 for kernel
			 * threads and processes without an mm */
};

/* Events the ring buffer had no room for, per CPU (key 0). */
#define RT_DISCOVERY_LOST_KEY 0

#endif
