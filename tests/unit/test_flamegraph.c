/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for rtmerge/flamegraph: merging, layout order, escaping,
 * folded parsing, determinism, narrow-frame omission and scale. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "rtmerge/flamegraph.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLOWDOWN 10.0
#else
#define SLOWDOWN 1.0
#endif

static char *svg_of(struct rt_flamegraph *fg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_EQUAL(rt_flamegraph__write_svg(fg, f), 0);
	fclose(f);
	return buf;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* 1: well-formed, 0: not, -1: no checker available. */
static int xml_well_formed(const char *svg)
{
	char path[] = "/tmp/test_flamegraph_XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f;
	char cmd[512];

	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	fputs(svg, f);
	fclose(f);
	if (system("command -v xmllint >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof(cmd), "xmllint --noout --huge '%s'", path);
	} else if (system("command -v python3 >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof(cmd),
			 "python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' '%s'",
			 path);
	} else {
		unlink(path);
		printf("xml check skipped: neither xmllint nor python3 found\n");
		return -1;
	}
	rc = system(cmd);
	unlink(path);
	return rc == 0 ? 1 : 0;
}

static void assert_well_formed(const char *svg)
{
	int rc = xml_well_formed(svg);

	CU_ASSERT(rc != 0);
}

static struct rt_flamegraph *new_fg(const char *count_name, double min_width)
{
	struct rt_flamegraph_opts opts = { .sz = sizeof(opts), .title = "Test <graph>",
					   .count_name = count_name, .min_width = min_width };
	struct rt_flamegraph *fg = rt_flamegraph__new(&opts);

	CU_ASSERT_FATAL(fg != NULL);
	return fg;
}

/* The x attribute of the rect of the frame whose title starts with name. */
static double frame_x(const char *svg, const char *name)
{
	char needle[256];
	const char *p;

	snprintf(needle, sizeof(needle), "<title>%s (", name);
	p = strstr(svg, needle);
	if (!p)
		return -1;
	p = strstr(p, "<rect x=\"");
	return p ? atof(p + 9) : -1;
}

static void test_merge(void)
{
	struct rt_flamegraph *fg = new_fg("events", 0);
	const char *s1[] = { "a", "b", "c" }, *s2[] = { "a", "b", "d" }, *s3[] = { "x" };
	char *svg;

	CU_ASSERT_EQUAL(rt_flamegraph__add(fg, s1, 3, 1), 0);
	CU_ASSERT_EQUAL(rt_flamegraph__add(fg, s2, 3, 2), 0);
	CU_ASSERT_EQUAL(rt_flamegraph__add(fg, s1, 3, 3), 0);
	CU_ASSERT_EQUAL(rt_flamegraph__add(fg, s3, 1, 4), 0);
	CU_ASSERT_EQUAL(rt_flamegraph__add(fg, s3, 0, 4), -EINVAL);
	CU_ASSERT_EQUAL(rt_flamegraph__add(fg, s3, 1, 0), 0); /* nothing to draw */
	svg = svg_of(fg);
	CU_ASSERT_EQUAL(count_of(svg, "<title>all (10 events, 100.00%)</title>"), 1);
	CU_ASSERT_EQUAL(count_of(svg, "<title>a (6 events, 60.00%)</title>"), 1);
	CU_ASSERT_EQUAL(count_of(svg, "<title>b (6 events, 60.00%)</title>"), 1);
	CU_ASSERT_EQUAL(count_of(svg, "<title>c (4 events, 40.00%)</title>"), 1);
	CU_ASSERT_EQUAL(count_of(svg, "<title>d (2 events, 20.00%)</title>"), 1);
	CU_ASSERT_EQUAL(count_of(svg, "<title>x (4 events, 40.00%)</title>"), 1);
	CU_ASSERT_EQUAL(count_of(svg, "<g class=\"f\""), 6);
	CU_ASSERT(strstr(svg, "Total: 10 events") != NULL);
	/* Children start at their parent's left edge; self time is on the right. */
	CU_ASSERT_DOUBLE_EQUAL(frame_x(svg, "a"), 10.0, 0.01);
	CU_ASSERT_DOUBLE_EQUAL(frame_x(svg, "c"), 10.0, 0.01);
	CU_ASSERT_DOUBLE_EQUAL(frame_x(svg, "d"), 10.0 + 4 * 118.0, 0.01);
	CU_ASSERT_DOUBLE_EQUAL(frame_x(svg, "x"), 10.0 + 6 * 118.0, 0.01);
	assert_well_formed(svg);
	free(svg);
	rt_flamegraph__free(fg);
}

static void test_order_and_commas(void)
{
	struct rt_flamegraph *fg = new_fg(NULL, 0);
	char *svg;

	CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, "zeta 1000\n"), 0);
	CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, "alpha 2000\n"), 0);
	CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, "Mid 1000\n"), 0);
	CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, "mid 1000\n"), 0);
	svg = svg_of(fg);
	/* Byte order per level, as flamegraph.pl sorts: "Mid" < "alpha" < "mid". */
	CU_ASSERT_DOUBLE_EQUAL(frame_x(svg, "Mid"), 10.0, 0.01);
	CU_ASSERT_DOUBLE_EQUAL(frame_x(svg, "alpha"), 10.0 + 236.0, 0.01);
	CU_ASSERT_DOUBLE_EQUAL(frame_x(svg, "mid"), 10.0 + 708.0, 0.01);
	CU_ASSERT_DOUBLE_EQUAL(frame_x(svg, "zeta"), 10.0 + 944.0, 0.01);
	CU_ASSERT(strstr(svg, "<title>alpha (2,000 samples, 40.00%)</title>") != NULL);
	CU_ASSERT(strstr(svg, "Total: 5,000 samples") != NULL);
	free(svg);
	rt_flamegraph__free(fg);
}

static void test_escaping(void)
{
	struct rt_flamegraph_opts opts = { .sz = sizeof(opts), .title = "t<&>", .subtitle = "s\"'",
					   .count_name = "<n>" };
	struct rt_flamegraph *fg = rt_flamegraph__new(&opts);
	const char *evil[] = { "<script>&\"'", "bad\xff\xc3(\x01\x1b)]]>" };
	char *svg;

	CU_ASSERT_FATAL(fg != NULL);
	CU_ASSERT_EQUAL(rt_flamegraph__add(fg, evil, 2, 5), 0);
	svg = svg_of(fg);
	CU_ASSERT(strstr(svg, "<script>&") == NULL);
	CU_ASSERT(strstr(svg, "&\"'") == NULL);
	CU_ASSERT(strstr(svg, "\xff") == NULL);
	CU_ASSERT(strstr(svg, "\x01") == NULL);
	CU_ASSERT(strstr(svg, "]]>]") == NULL);
	CU_ASSERT_EQUAL(count_of(svg, "<title>&lt;script&gt;&amp;&quot;&#39; (5 &lt;n&gt;, 100.00%)"),
			1);
	CU_ASSERT(strstr(svg, ">&lt;script&gt;&amp;&quot;&#39;</text>") != NULL);
	CU_ASSERT(strstr(svg, "t&lt;&amp;&gt;</text>") != NULL);
	CU_ASSERT(strstr(svg, "s&quot;&#39;</text>") != NULL);
	CU_ASSERT(strstr(svg, "bad\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd)]]&gt;") != NULL);
	CU_ASSERT_EQUAL(xml_well_formed(svg) != 0, 1);
	free(svg);
	rt_flamegraph__free(fg);
}

static void test_folded(void)
{
	struct rt_flamegraph *fg = new_fg(NULL, 0);
	static const char *const bad[] = {
		"", "\n", "abc", "abc\n", "a;b", "a;b x", "a;b 12x", "a;b 1 2x", " 5", "5",
		"a;b -1", "a;b 1.5", "a;b 99999999999999999999999", "a;b 18446744073709551616",
		"   7", "a;b \n",
	};
	char *svg;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = rt_flamegraph__add_folded(fg, bad[i]);

		if (rc != -EINVAL)
			printf("line '%s' gave %d\n", bad[i], rc);
		CU_ASSERT_EQUAL(rc, -EINVAL);
	}
	CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, "a b;c d 5\n"), 0);
	CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, "a b;c d  2\r\n"), 0);
	CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, "a b;e 3"), 0);
	CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, "main;work (x.py:12) 10"), 0);
	CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, "main;;gap 0"), 0);
	svg = svg_of(fg);
	CU_ASSERT(strstr(svg, "<title>all (20 samples, 100.00%)</title>") != NULL);
	CU_ASSERT(strstr(svg, "<title>a b (10 samples, 50.00%)</title>") != NULL);
	CU_ASSERT(strstr(svg, "<title>c d (7 samples, 35.00%)</title>") != NULL);
	CU_ASSERT(strstr(svg, "<title>e (3 samples, 15.00%)</title>") != NULL);
	CU_ASSERT(strstr(svg, "<title>work (x.py:12) (10 samples, 50.00%)</title>") != NULL);
	CU_ASSERT(strstr(svg, "gap") == NULL);
	/* Legend lists exactly the kinds drawn. */
	CU_ASSERT(strstr(svg, ">Python</text>") != NULL);
	CU_ASSERT(strstr(svg, ">native</text>") != NULL);
	CU_ASSERT(strstr(svg, ">kernel</text>") == NULL);
	free(svg);
	rt_flamegraph__free(fg);
}

static void fill_mixed(struct rt_flamegraph *fg, int reverse)
{
	static const char *const lines[] = {
		"main;do_work;memcpy 10", "main;run (app.py:3);step (app.py:9) 7",
		"main;Object#each (lib.rb:4) 3", "main;Interpreter::invoke_j_[j] 4",
		"main;syscall;do_syscall_64_[k] 6", "[libc.so.6];[unknown] 2", "main;do_work 5",
		"main;Object#each (lib.rb:4);Array#each 2", "main;Zlib::Deflate.deflate 1",
		"main;loop (app.py) 2", "main;deflate_slow.isra.0 1", "main;Foo.cold 1",
		"main;run (app.py:3);[task] Task-3 blocker;blocker (app.py:20) 2",
	};
	size_t n = sizeof(lines) / sizeof(lines[0]);

	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, lines[reverse ? n - 1 - i : i]), 0);
}

static void test_deterministic(void)
{
	struct rt_flamegraph *a = new_fg(NULL, 0), *b = new_fg(NULL, 0);
	char *s1, *s2, *s3;

	fill_mixed(a, 0);
	fill_mixed(b, 1);
	s1 = svg_of(a);
	s2 = svg_of(a);
	s3 = svg_of(b);
	CU_ASSERT_STRING_EQUAL(s1, s2);
	CU_ASSERT_STRING_EQUAL(s1, s3);
	/* Every kind gets its own legend entry, and the colours differ. */
	CU_ASSERT(strstr(s1, ">kernel</text>") && strstr(s1, ">JIT</text>") &&
		  strstr(s1, ">Python</text>") && strstr(s1, ">Ruby</text>") &&
		  strstr(s1, ">unresolved</text>") && strstr(s1, ">native</text>") &&
		  strstr(s1, ">async task</text>"));
	assert_well_formed(s1);
	free(s1);
	free(s2);
	free(s3);
	rt_flamegraph__free(a);
	rt_flamegraph__free(b);
}

static void test_colours(void)
{
	struct rt_flamegraph *fg = new_fg(NULL, 0);
	char *svg;
	const char *p;
	unsigned int r, g, b;

	fill_mixed(fg, 0);
	svg = svg_of(fg);
#define FILL_OF(name)                                                                \
	do {                                                                         \
		p = strstr(svg, "<title>" name " (");                                \
		CU_ASSERT_FATAL(p != NULL);                                          \
		p = strstr(p, "fill=\"rgb(");                                        \
		CU_ASSERT_FATAL(p && sscanf(p, "fill=\"rgb(%u,%u,%u)", &r, &g, &b) == 3); \
	} while (0)
	FILL_OF("do_syscall_64_[k]"); /* orange */
	CU_ASSERT(r > 220 && g >= 120 && g < 190 && b < 70);
	FILL_OF("Interpreter::invoke_j_[j]"); /* green */
	CU_ASSERT(g > r && g > b);
	FILL_OF("run (app.py:3)"); /* blue */
	CU_ASSERT(b > r && b > g);
	FILL_OF("Object#each (lib.rb:4)"); /* crimson */
	CU_ASSERT(r > 180 && g < 80 && b > g);
	FILL_OF("[unknown]"); /* grey */
	CU_ASSERT(r == g && g == b);
	FILL_OF("memcpy"); /* hot */
	CU_ASSERT(r >= 205 && b <= 55);
	/* Ruby's C methods: violet, instance and singleton forms */
	FILL_OF("Array#each");
	CU_ASSERT(b > 190 && r > g && r < 195);
	FILL_OF("Zlib::Deflate.deflate");
	CU_ASSERT(b > 190 && r > g && r < 195);
	/* ...but not compiler clones of C functions */
	FILL_OF("deflate_slow.isra.0");
	CU_ASSERT(r >= 205 && b <= 55);
	FILL_OF("Foo.cold");
	CU_ASSERT(r >= 205 && b <= 55);
	FILL_OF("loop (app.py)"); /* --no-lines: still Python */
	CU_ASSERT(b > r && b > g);
	FILL_OF("[task] Task-3 blocker"); /* teal */
	CU_ASSERT(g > r + 80 && b > r + 80);
#undef FILL_OF
	free(svg);
	rt_flamegraph__free(fg);
}

static void test_min_width_and_labels(void)
{
	struct rt_flamegraph *fg = new_fg(NULL, 0), *all = new_fg(NULL, 0.0001);
	char long_name[201], line[300], *svg;

	memset(long_name, 'L', 200);
	long_name[200] = '\0';
	long_name[0] = 'A';
	for (int k = 0; k < 2; k++) {
		struct rt_flamegraph *g = k ? all : fg;

		CU_ASSERT_EQUAL(rt_flamegraph__add_folded(g, "big;child 99989"), 0);
		CU_ASSERT_EQUAL(rt_flamegraph__add_folded(g, "tiny;tinier 1"), 0);
		snprintf(line, sizeof(line), "%s 10", long_name);
		CU_ASSERT_EQUAL(rt_flamegraph__add_folded(g, line), 0);
	}
	/* 1 of 100000 samples on 1180 px is 0.0118 px: under the 0.1 px default. */
	svg = svg_of(fg);
	CU_ASSERT(strstr(svg, "<title>big (") != NULL);
	CU_ASSERT(strstr(svg, "<title>tiny (") == NULL);
	CU_ASSERT(strstr(svg, "<title>tinier (") == NULL);
	/* 10 samples are 0.118 px: drawn but with no room for a label. */
	CU_ASSERT(strstr(svg, "<title>ALLL") != NULL);
	CU_ASSERT(strstr(svg, "\">ALL") == NULL);
	/* "child" is wide enough for its whole name. */
	CU_ASSERT(strstr(svg, ">child</text>") != NULL);
	free(svg);
	svg = svg_of(all);
	CU_ASSERT(strstr(svg, "<title>tiny (") != NULL);
	CU_ASSERT(strstr(svg, "<title>tinier (") != NULL);
	free(svg);
	rt_flamegraph__free(fg);
	rt_flamegraph__free(all);

	/* A long name on 118 px keeps (118 - 3) / (12 * 0.59) = 16 characters. */
	fg = new_fg(NULL, 0);
	snprintf(line, sizeof(line), "%s 1", long_name);
	CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, line), 0);
	CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, "other 9"), 0);
	svg = svg_of(fg);
	CU_ASSERT(strstr(svg, ">ALLLLLLLLLLLLL..</text>") != NULL);
	free(svg);
	rt_flamegraph__free(fg);
}

static void test_empty(void)
{
	struct rt_flamegraph *fg = rt_flamegraph__new(NULL);
	char *svg;

	CU_ASSERT_FATAL(fg != NULL);
	svg = svg_of(fg);
	CU_ASSERT(strstr(svg, "<svg ") != NULL);
	CU_ASSERT(strstr(svg, "</svg>\n") != NULL);
	CU_ASSERT(strstr(svg, "No stack counts found") != NULL);
	CU_ASSERT(strstr(svg, "<g class=\"f\"") == NULL);
	assert_well_formed(svg);
	free(svg);
	rt_flamegraph__free(fg);
	rt_flamegraph__free(NULL);
}

static void test_bad_opts(void)
{
	struct rt_flamegraph_opts opts = { .sz = sizeof(opts), .width = 5 };

	errno = 0;
	CU_ASSERT(rt_flamegraph__new(&opts) == NULL);
	CU_ASSERT_EQUAL(errno, EINVAL);
	opts = (struct rt_flamegraph_opts){ .sz = sizeof(opts), .min_width = -1 };
	CU_ASSERT(rt_flamegraph__new(&opts) == NULL);
	opts = (struct rt_flamegraph_opts){ .sz = 1 };
	CU_ASSERT(rt_flamegraph__new(&opts) == NULL);
	CU_ASSERT_EQUAL(rt_flamegraph__write_svg(NULL, stdout), -EINVAL);
}

/* Random bytes, biased towards the folded syntax: never a crash, a count
 * that adds up, and well-formed XML whatever the names hold. */
static void test_random_lines(void)
{
	struct rt_flamegraph *fg = new_fg(NULL, 0.0001);
	static const char alphabet[] = "ab;; ;  0123456789<>&\"'\r\n\t\x01\xc3\xa9\xff\xe2\x82";
	uint32_t seed = 12345;
	uint64_t expected = 0;
	char line[64], total[64], *svg;
	const char *p;
	int accepted = 0;

	for (int i = 0; i < 20000; i++) {
		size_t len;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % (sizeof(line) - 1);
		for (size_t j = 0; j < len; j++) {
			seed = seed * 1103515245u + 12345u;
			line[j] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		line[len] = '\0';
		if (i % 3 == 0 && len < sizeof(line) - 8) /* often end in a count */
			snprintf(line + len, sizeof(line) - len, " %u", (seed >> 20) % 100);
		int rc = rt_flamegraph__add_folded(fg, line);

		CU_ASSERT(rc == 0 || rc == -EINVAL);
		if (rc == 0) {
			const char *sp = strrchr(line, ' ');

			accepted++;
			expected += strtoull(sp + 1, NULL, 10);
		}
	}
	CU_ASSERT(accepted > 1000);
	svg = svg_of(fg);
	p = strstr(svg, "data-total=\"");
	CU_ASSERT_FATAL(p != NULL);
	snprintf(total, sizeof(total), "%llu\"", (unsigned long long)expected);
	CU_ASSERT_EQUAL(strncmp(p + 12, total, strlen(total)), 0);
	CU_ASSERT_EQUAL(xml_well_formed(svg) != 0, 1);
	free(svg);
	rt_flamegraph__free(fg);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 100k distinct stacks 300 deep: 16 hot paths with varied leaves. */
static void test_scale(void)
{
	struct rt_flamegraph *fg = new_fg(NULL, 0);
	size_t cap = 300 * 24, n = 100000;
	char *line = malloc(cap);
	char *svg = NULL;
	size_t len = 0;
	double t0, t1, t2;
	FILE *out;
	uint32_t seed = 1;

	CU_ASSERT_FATAL(line != NULL);
	/* The 16 shared 290-frame prefixes are built once; lines only differ
	 * in their leaves, so the timing is mostly the library's. */
	char *prefix[16];
	size_t prefix_len[16];

	for (unsigned path = 0; path < 16; path++) {
		size_t off = 0;

		prefix[path] = malloc(cap);
		CU_ASSERT_FATAL(prefix[path] != NULL);
		for (int d = 0; d < 290; d++)
			off += snprintf(prefix[path] + off, cap - off, "%sfn_%u_%d", d ? ";" : "",
					path & (d < 100 ? 3 : 15), d);
		prefix_len[path] = off;
	}
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		size_t off = prefix_len[i % 16];

		memcpy(line, prefix[i % 16], off);
		for (int d = 290; d < 300; d++) {
			seed = seed * 1103515245u + 12345u;
			off += snprintf(line + off, cap - off, ";leaf_%u", (unsigned)(seed >> 16) % 64);
		}
		snprintf(line + off, cap - off, " %u\n", 1 + (unsigned)(seed >> 20) % 5);
		CU_ASSERT_EQUAL_FATAL(rt_flamegraph__add_folded(fg, line), 0);
	}
	t1 = now();
	out = open_memstream(&svg, &len);
	CU_ASSERT_FATAL(out != NULL);
	CU_ASSERT_EQUAL(rt_flamegraph__write_svg(fg, out), 0);
	fclose(out);
	t2 = now();
	printf("\nFIGURE flamegraph: 100k stacks x 300 frames: add %.0f ms, write %.0f ms, %.1f MB SVG\n",
	       (t1 - t0) * 1e3, (t2 - t1) * 1e3, len / 1e6);
	CU_ASSERT(t2 - t1 < 1.0 * SLOWDOWN);
	CU_ASSERT(len > 0 && len < 200u * 1000 * 1000);
	CU_ASSERT(strstr(svg, "<title>all (") != NULL);
	assert_well_formed(svg);
	free(svg);
	free(line);
	for (unsigned path = 0; path < 16; path++)
		free(prefix[path]);
	rt_flamegraph__free(fg);

	/* One absurdly deep stack must not exhaust the C stack. */
	fg = new_fg(NULL, 0);
	line = malloc(200000 * 2 + 16);
	CU_ASSERT_FATAL(line != NULL);
	for (size_t i = 0; i < 200000; i++) {
		line[2 * i] = 'a' + i % 26;
		line[2 * i + 1] = ';';
	}
	strcpy(line + 2 * 200000 - 1, " 1");
	CU_ASSERT_EQUAL(rt_flamegraph__add_folded(fg, line), 0);
	out = fopen("/dev/null", "w");
	CU_ASSERT_FATAL(out != NULL);
	CU_ASSERT_EQUAL(rt_flamegraph__write_svg(fg, out), 0);
	fclose(out);
	free(line);
	rt_flamegraph__free(fg);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return CU_get_error();
	suite = CU_add_suite("flamegraph", NULL, NULL);
	if (!suite || !CU_add_test(suite, "merge", test_merge) ||
	    !CU_add_test(suite, "order and commas", test_order_and_commas) ||
	    !CU_add_test(suite, "escaping", test_escaping) ||
	    !CU_add_test(suite, "folded lines", test_folded) ||
	    !CU_add_test(suite, "deterministic", test_deterministic) ||
	    !CU_add_test(suite, "colours by kind", test_colours) ||
	    !CU_add_test(suite, "min width and labels", test_min_width_and_labels) ||
	    !CU_add_test(suite, "empty graph", test_empty) ||
	    !CU_add_test(suite, "bad options", test_bad_opts) ||
	    !CU_add_test(suite, "random lines", test_random_lines) ||
	    !CU_add_test(suite, "scale", test_scale)) {
		CU_cleanup_registry();
		return CU_get_error();
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
