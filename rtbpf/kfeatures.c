// SPDX-License-Identifier: GPL-2.0-only
/* Kernel feature probes for rt-bpf's preflight (see kfeatures.h). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/btf.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "rtbpf/kfeatures.h"

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static const struct rt_kfeature_info infos[RT_KF__NR] = {
	[RT_KF_BTF] = { "kernel BTF (CONFIG_DEBUG_INFO_BTF)", "5.4" },
	[RT_KF_PROBE_READ_USER] = { "bpf_probe_read_user", "5.5" },
	[RT_KF_PIDFD_GETFD] = { "pidfd_getfd", "5.6" },
	[RT_KF_TASK_FILE_ITER] = { "the task_file BPF iterator", "5.8" },
	[RT_KF_PERF_LINK] = { "BPF links on perf events", "5.15" },
	[RT_KF_BPF_LOOP] = { "bpf_loop", "5.17" },
};

const struct rt_kfeature_info *rt_kfeature__info(enum rt_kfeature f)
{
	return (unsigned int)f < RT_KF__NR ? &infos[f] : NULL;
}

static int probe_helper(enum bpf_func_id id)
{
	int r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, id, NULL);

	return r < 0 ? r : r > 0;
}

/* The vmlinux BTF names the iterator's context type from the release that
 * added the iterator on.  Only its string section is searched: parsing the
 * whole BTF (libbpf's btf__load_vmlinux_btf) costs 10 ms of CPU or more,
 * a large part of rt-bpf's start-up, to answer a yes-or-no question. */
static int probe_task_file_iter(void)
{
	static const char want[] = "\0bpf_iter__task_file";
	struct btf_header hdr;
	char *strs;
	int fd, found;
	ssize_t got;

	fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	got = pread(fd, &hdr, sizeof(hdr), 0);
	if (got != (ssize_t)sizeof(hdr) || hdr.magic != BTF_MAGIC || hdr.hdr_len < sizeof(hdr) ||
	    hdr.str_len == 0 || hdr.str_len > (1u << 28)) {
		close(fd);
		return -EINVAL;
	}
	strs = malloc((size_t)hdr.str_len + 1);
	if (!strs) {
		close(fd);
		return -ENOMEM;
	}
	/* sysfs hands out a page per read */
	for (size_t done = 0; done < hdr.str_len; done += (size_t)got) {
		got = pread(fd, strs + done, hdr.str_len - done,
			    (off_t)hdr.hdr_len + hdr.str_off + (off_t)done);
		if (got <= 0) {
			close(fd);
			free(strs);
			return got < 0 ? -errno : -EIO;
		}
	}
	close(fd);
	strs[hdr.str_len] = '\0';
	/* the name with the NUL before it and the one after it (sizeof) */
	found = memmem(strs, hdr.str_len + 1, want, sizeof(want)) != NULL;
	free(strs);
	return found;
}

/* Links a do-nothing perf_event program to a disabled software event of
 * this thread: kernels without BPF_PERF_EVENT links answer EINVAL. */
static int probe_perf_link(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = 1000000000,
		.disabled = 1,
	};
	int prog, ev, link, err;

	prog = bpf_prog_load(BPF_PROG_TYPE_PERF_EVENT, NULL, "GPL", insns, 2, NULL);
	if (prog < 0)
		return -errno;
	ev = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (ev < 0) {
		err = -errno;
		close(prog);
		return err;
	}
	link = bpf_link_create(prog, ev, BPF_PERF_EVENT, NULL);
	err = link >= 0 ? 1 : (errno == EINVAL || errno == EOPNOTSUPP) ? 0 : -errno;
	if (link >= 0)
		close(link);
	close(ev);
	close(prog);
	return err;
}

int rt_kfeature__probe(enum rt_kfeature f)
{
	switch (f) {
	case RT_KF_BTF:
		return access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	case RT_KF_PROBE_READ_USER:
		return probe_helper(BPF_FUNC_probe_read_user);
	case RT_KF_PIDFD_GETFD:
		/* a bad pidfd: EBADF where the call exists, ENOSYS where not */
		return syscall(SYS_pidfd_getfd, -1, 0, 0) < 0 && errno == ENOSYS ? 0 : 1;
	case RT_KF_TASK_FILE_ITER:
		return probe_task_file_iter();
	case RT_KF_PERF_LINK:
		return probe_perf_link();
	case RT_KF_BPF_LOOP:
		return probe_helper(BPF_FUNC_loop);
	default:
		return -EINVAL;
	}
}

int rt_kfeatures__format_missing(unsigned int missing, const char *release, char *buf, size_t len)
{
	size_t n = 0;
	const char *sep = "";
	int w;

#define PUT(...)                                                             \
	do {                                                                 \
		w = snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, __VA_ARGS__); \
		if (w < 0)                                                   \
			return w;                                            \
		n += (size_t)w;                                              \
	} while (0)
	PUT("this kernel (%s) lacks ", release);
	for (unsigned int f = 0; f < RT_KF__NR; f++) {
		if (!(missing & (1u << f)))
			continue;
		PUT("%s%s (Linux %s)", sep, infos[f].name, infos[f].since);
		sep = ", ";
	}
	PUT("; rt-bpf needs Linux %s or later with BTF: boot a newer kernel "
	    "(Debian 12's 6.1 works)", infos[RT_KF_BPF_LOOP].since);
#undef PUT
	return (int)n;
}

int rt_kfeatures__check(char *buf, size_t len)
{
	unsigned int missing = 0;
	struct utsname u;

	for (unsigned int f = 0; f < RT_KF__NR; f++) {
		/* without BTF the helper probes still answer; say everything at once */
		if (rt_kfeature__probe((enum rt_kfeature)f) == 0)
			missing |= 1u << f;
	}
	if (!missing)
		return 0;
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "unknown");
	rt_kfeatures__format_missing(missing, u.release, buf, len);
	return -ENOTSUP;
}
