/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel features rt-bpf relies on, the Linux release that brought
 * each, and probes for them on the running kernel, so that a kernel below
 * the floor gets one line naming what is missing instead of a verifier
 * log or a half-working session. */
#ifndef RT_KFEATURES_H
#define RT_KFEATURES_H

#include <stdbool.h>
#include <stddef.h>

enum rt_kfeature {
	RT_KF_BTF,		/* /sys/kernel/btf/vmlinux: CO-RE relocations */
	RT_KF_PROBE_READ_USER,	/* bpf_probe_read_user(): interpreter memory */
	RT_KF_PIDFD_GETFD,	/* pidfd_getfd(): perf's event fds */
	RT_KF_TASK_FILE_ITER,	/* the task_file BPF iterator: finding perf's fds */
	RT_KF_PERF_LINK,	/* BPF links on perf events: joining perf's events */
	RT_KF_BPF_LOOP,		/* bpf_loop(): the frame walks */
	RT_KF__NR,
};

struct rt_kfeature_info {
	const char *name;	/* as the message names it */
	const char *since;	/* the mainline release that brought it */
};

/* The name and first release of @f; NULL for an unknown feature. */
const struct rt_kfeature_info *rt_kfeature__info(enum rt_kfeature f);

/* Probes @f on the running kernel (needs root for the BPF and perf probes):
 * 1 present, 0 missing, -errno when the probe itself could not run. */
int rt_kfeature__probe(enum rt_kfeature f);

/* One line for the features whose bit is set in @missing on the kernel
 * @release ("this kernel (R) lacks A (Linux X), B (Linux Y); ..."), into
 * @buf of @len bytes.  Returns the length it needed, as snprintf does. */
int rt_kfeatures__format_missing(unsigned int missing, const char *release, char *buf, size_t len);

/* Probes every feature.  Returns 0 when all are there; otherwise writes
 * the line of rt_kfeatures__format_missing into @buf and returns -ENOTSUP.
 * A probe that cannot run counts as present: the later step that needs
 * the feature reports its own error. */
int rt_kfeatures__check(char *buf, size_t len);

#endif
