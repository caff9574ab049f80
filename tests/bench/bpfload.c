// SPDX-License-Identifier: GPL-2.0-only
/*
 * What rt-bpf's start-up spends its CPU on, step by step: parsing the
 * kernel's BTF, then opening and loading each BPF object it loads (the
 * CPU of this process: the verifier runs in it), with the kernel's own
 * verification time and instruction count for each program.
 *   bpfload OBJ.bpf.o...
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#define MAX_PROGS 8
#define LOG_SIZE (1 << 16)

static char log_bufs[MAX_PROGS][LOG_SIZE];

/* CPU seconds (user and system) this process has used so far. */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

int main(int argc, char **argv)
{
	double t = cpu_s(), now;
	struct btf *btf;
	int err = 0;

	libbpf_set_print(quiet);
	btf = btf__load_vmlinux_btf();
	now = cpu_s();
	printf("STEP vmlinux BTF parse: %.3f s CPU\n", now - t);
	btf__free(btf);
	for (int i = 1; i < argc; i++) {
		struct bpf_object *obj;
		struct bpf_program *prog;
		const char *base = strrchr(argv[i], '/');
		int nlogs;

		t = cpu_s();
		obj = bpf_object__open_file(argv[i], NULL);
		if (!obj) {
			fprintf(stderr, "bpfload: cannot open %s\n", argv[i]);
			return 1;
		}
		/* each program its own log: the verifier's statistics per program */
		nlogs = 0;
		bpf_object__for_each_program(prog, obj) {
			if (nlogs == MAX_PROGS || !bpf_program__autoload(prog))
				continue;
			log_bufs[nlogs][0] = '\0';
			bpf_program__set_log_buf(prog, log_bufs[nlogs++], LOG_SIZE);
			bpf_program__set_log_level(prog, 4);
		}
		err = bpf_object__load(obj);
		now = cpu_s();
		printf("STEP load %s: %.3f s CPU\n", base ? base + 1 : argv[i], now - t);
		bpf_object__for_each_program(prog, obj) {
			size_t log_size;
			const char *log = bpf_program__log_buf(prog, &log_size);
			const char *time = log ? strstr(log, "verification time") : NULL;
			const char *insns = log ? strstr(log, "processed") : NULL;

			if (!time)
				continue;
			printf("     %s: %.*s; %.*s\n", bpf_program__name(prog),
			       (int)strcspn(time, "\n"), time, insns ? (int)strcspn(insns, "\n") : 0,
			       insns ? insns : "");
		}
		bpf_object__close(obj);
		if (err) {
			fprintf(stderr, "bpfload: cannot load %s: %s\n", argv[i], strerror(-err));
			return 1;
		}
	}
	return 0;
}
