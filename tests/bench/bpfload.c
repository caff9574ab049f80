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

static char log_buf[1 << 20];

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
		const char *stats, *base = strrchr(argv[i], '/');

		t = cpu_s();
		obj = bpf_object__open_file(argv[i], NULL);
		if (!obj) {
			fprintf(stderr, "bpfload: cannot open %s\n", argv[i]);
			return 1;
		}
		/* the first program's statistics: rt-bpf's objects hold one each */
		log_buf[0] = '\0';
		bpf_object__for_each_program(prog, obj) {
			bpf_program__set_log_buf(prog, log_buf, sizeof(log_buf));
			bpf_program__set_log_level(prog, 4);
			break;
		}
		err = bpf_object__load(obj);
		now = cpu_s();
		stats = strstr(log_buf, "verification time");
		printf("STEP load %s: %.3f s CPU%s%.*s\n", base ? base + 1 : argv[i], now - t,
		       stats ? "; " : "", stats ? (int)strcspn(stats, "\n") : 0, stats ? stats : "");
		stats = stats ? strstr(stats, "processed") : NULL;
		if (stats)
			printf("     %.*s\n", (int)strcspn(stats, "\n"), stats);
		bpf_object__close(obj);
		if (err) {
			fprintf(stderr, "bpfload: cannot load %s: %s\n", argv[i], strerror(-err));
			return 1;
		}
	}
	return 0;
}
