/* SPDX-License-Identifier: GPL-2.0-only */
/* The shared-library link of the unwind test chain: a -> lib_b -> fn. */
int lib_b(int (*fn)(int), int x);

__attribute__((noinline)) int lib_b(int (*fn)(int), int x)
{
	int r = fn(x * 2 + 1);

	/* Use the result so the call is not a tail call. */
	return (r ^ (x & 3)) + 1;
}
