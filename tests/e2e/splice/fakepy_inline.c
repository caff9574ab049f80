/* SPDX-License-Identifier: GPL-2.0-only */
/* fakepy.c with the eval loop inlined into its callers: with --inline,
 * DWARF names it in PyObject_Vectorcall and fake_main, and interpreter
 * frames must splice there as at an out-of-line eval loop. */
volatile int fake_sink;
__attribute__((noinline)) void deflate(void) { fake_sink += 1; }
__attribute__((noinline)) void zlib_compress(void) { deflate(); fake_sink += 2; }
__attribute__((noinline)) void PyObject_Vectorcall(void);
static inline __attribute__((always_inline)) void _PyEval_EvalFrameDefault(int leaf)
{
	if (leaf)
		zlib_compress();
	else
		PyObject_Vectorcall();
	fake_sink += 3;
}
__attribute__((noinline)) void PyObject_Vectorcall(void) { _PyEval_EvalFrameDefault(1); fake_sink += 4; }
__attribute__((noinline)) void fake_main(void) { _PyEval_EvalFrameDefault(0); fake_sink += 5; }
