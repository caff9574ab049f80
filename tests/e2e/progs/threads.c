/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Two named threads, each running its own functions, for per-thread
 * attribution: "worker-a" runs alpha_loop -> alpha_leaf, "worker-b" runs
 * beta_loop -> beta_leaf.  Runs argv[1] seconds (default 2).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static double secs = 2.0;
volatile unsigned long sink_a, sink_b;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void alpha_leaf(void)
{
	for (int i = 0; i < 100000; i++)
		sink_a += i;
}

__attribute__((noinline)) void *alpha_loop(void *arg)
{
	double end = now() + secs;

	pthread_setname_np(pthread_self(), "worker-a");
	while (now() < end)
		alpha_leaf();
	return arg;
}

__attribute__((noinline)) void beta_leaf(void)
{
	for (int i = 0; i < 100000; i++)
		sink_b ^= i;
}

__attribute__((noinline)) void *beta_loop(void *arg)
{
	double end = now() + secs;

	pthread_setname_np(pthread_self(), "worker-b");
	while (now() < end)
		beta_leaf();
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t a, b;

	if (argc > 1)
		secs = atof(argv[1]);
	pthread_create(&a, NULL, alpha_loop, NULL);
	pthread_create(&b, NULL, beta_loop, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
