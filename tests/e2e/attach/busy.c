/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A CPU-bound target for the attach e2e tests: spins in spin_inner() called
 * from spin_outer() for argv[1] seconds (default 2), so every sample's
 * callchain holds both.  A start gate (argv[2], a file to wait for) lets a
 * test release it once recording runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

__attribute__((noinline)) void spin_inner(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink += i * 7 + 1;
}

__attribute__((noinline)) void spin_outer(double seconds)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		spin_inner(200000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;

	if (argc > 2)
		while (access(argv[2], F_OK) != 0)
			usleep(10000);
	spin_outer(seconds);
	return 0;
}
