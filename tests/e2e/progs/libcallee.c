/* SPDX-License-Identifier: GPL-2.0-only */
/* A shared library for the end-to-end tests: lib_entry -> lib_leaf. */
volatile unsigned long lib_sink;

__attribute__((noinline)) void lib_leaf(void)
{
	for (int i = 0; i < 200000; i++)
		lib_sink += i * 3;
}

__attribute__((noinline)) void lib_entry(void)
{
	lib_leaf();
}
