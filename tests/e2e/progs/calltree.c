/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A workload with a known call structure for the end-to-end tests:
 * main -> work -> branch_a -> burn   (7 units of every 10)
 *              -> branch_b -> burn   (3 units of every 10)
 * Run for argv[1] seconds (default 2).
 */
#include <stdlib.h>
#include <time.h>

volatile unsigned long sink;

__attribute__((noinline)) void burn(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink += i ^ (sink >> 3);
}

__attribute__((noinline)) void branch_a(void)
{
	burn(7 * 200000);
}

__attribute__((noinline)) void branch_b(void)
{
	burn(3 * 200000);
}

__attribute__((noinline)) void work(void)
{
	branch_a();
	branch_b();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0, end = now() + secs;

	while (now() < end)
		work();
	return 0;
}
