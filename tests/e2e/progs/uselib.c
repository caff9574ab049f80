/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Calls into libcallee.so: main -> call_lib -> lib_entry -> lib_leaf.
 * With an argument "exec:PROG ARGS", forks first and the child execs PROG,
 * to exercise address spaces replaced at exec.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void lib_entry(void);

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void call_lib(void)
{
	lib_entry();
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0, end;
	pid_t child = -1;

	if (argc > 3 && !strcmp(argv[2], "exec")) {
		child = fork();
		if (child == 0) {
			execv(argv[3], argv + 3);
			_exit(127);
		}
	}
	end = now() + secs;
	while (now() < end)
		call_lib();
	if (child > 0)
		waitpid(child, NULL, 0);
	return 0;
}
