/* SPDX-License-Identifier: GPL-2.0-only */
/* Native functions named like an interpreter's, for the synthetic splice test. */
volatile int fake_sink;
__attribute__((noinline)) void deflate(void) { fake_sink += 1; }
__attribute__((noinline)) void zlib_compress(void) { deflate(); fake_sink += 2; }
__attribute__((noinline)) void _PyEval_EvalFrameDefault(void) { zlib_compress(); fake_sink += 3; }
__attribute__((noinline)) void PyObject_Vectorcall(void) { _PyEval_EvalFrameDefault(); fake_sink += 4; }
__attribute__((noinline)) void fake_main(void) { PyObject_Vectorcall(); fake_sink += 5; }
