/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for rtmerge/diff and the flamegraph's differential mode. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "rtmerge/diff.h"

static void add(struct rt_stacks *s, const char *folded_stack, uint64_t count)
{
	uint32_t ids[16], n = 0;
	char *copy = strdup(folded_stack), *save = NULL;

	for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
		int64_t id = rt_stacks__intern(s, t, strlen(t));

		CU_ASSERT_FATAL(id >= 0);
		ids[n++] = (uint32_t)id;
	}
	CU_ASSERT_EQUAL_FATAL(rt_stacks__add(s, ids, n, count, count * 10), 0);
	free(copy);
}

/* BEFORE: 100 samples, hot 70 / cold 30; AFTER: 200 samples, hot 60 /
 * cold 100 / new 40. */
static void fixtures(struct rt_stacks **before, struct rt_stacks **after)
{
	*before = rt_stacks__new();
	*after = rt_stacks__new();
	add(*before, "py;main;hot", 70);
	add(*before, "py;main;cold", 30);
	add(*after, "py;main;hot", 60);
	add(*after, "py;main;cold", 100);
	add(*after, "py;main;new", 40);
}

static char *run(int (*fn)(FILE *, void *), void *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT_EQUAL(fn(f, arg), 0);
	fclose(f);
	return text;
}

struct pair {
	struct rt_stacks *before, *after;
	bool by_period;
};

static int folded(FILE *f, void *arg)
{
	struct pair *p = arg;

	return rt_diff__write_folded(p->before, p->after, p->by_period, f);
}

static int svg(FILE *f, void *arg)
{
	struct pair *p = arg;
	struct rt_flamegraph_opts o = { .sz = sizeof(o), .title = "diff" };

	return rt_diff__write_svg(p->before, p->after, p->by_period, &o, f);
}

static void test_folded(void)
{
	struct pair p = { 0 };
	char *text;

	fixtures(&p.before, &p.after);
	text = run(folded, &p);
	/* BEFORE scaled by 200/100; a stack AFTER lacks keeps its line. */
	CU_ASSERT_STRING_EQUAL(text, "py;main;cold 60 100\npy;main;hot 140 60\npy;main;new 0 40\n");
	free(text);
	p.by_period = true;
	text = run(folded, &p);
	CU_ASSERT_STRING_EQUAL(text,
			       "py;main;cold 600 1000\npy;main;hot 1400 600\npy;main;new 0 400\n");
	free(text);
	/* Reversed: "new" vanished, still listed with AFTER 0. */
	{
		struct pair r = { p.after, p.before, false };

		text = run(folded, &r);
		CU_ASSERT_STRING_EQUAL(text, "py;main;cold 50 30\npy;main;hot 30 70\n"
					     "py;main;new 20 0\n");
		free(text);
	}
	rt_stacks__free(p.before);
	rt_stacks__free(p.after);
}

/* The fill colour of the frame titled "NAME (" in the SVG. */
static void fill_of(const char *doc, const char *name, char *out, size_t size)
{
	char key[64];
	const char *t, *fill;

	snprintf(key, sizeof(key), "<title>%s (", name);
	t = strstr(doc, key);
	fill = t ? strstr(t, "fill=\"") : NULL;
	snprintf(out, size, "%.*s", fill ? (int)strcspn(fill + 6, "\"") : 4,
		 fill ? fill + 6 : "none");
}

static void test_svg(void)
{
	struct pair p = { 0 };
	char *doc, c[32];

	fixtures(&p.before, &p.after);
	doc = run(svg, &p);
	/* hot: 140 -> 60, the largest change (80): deepest blue. */
	fill_of(doc, "hot", c, sizeof(c));
	CU_ASSERT_STRING_EQUAL(c, "rgb(35,35,255)");
	/* cold: 60 -> 100 (+40): half as red. */
	fill_of(doc, "cold", c, sizeof(c));
	CU_ASSERT_STRING_EQUAL(c, "rgb(255,135,135)");
	/* main: 200 -> 200, unchanged. */
	fill_of(doc, "main", c, sizeof(c));
	CU_ASSERT_STRING_EQUAL(c, "rgb(235,235,235)");
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "<title>hot (60 samples, 30.00%; -40.00% change)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "<title>new (40 samples, 20.00%; +20.00% change)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, ">grew</text>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, ">shrank</text>"));
	CU_ASSERT_PTR_NULL(strstr(doc, ">Python</text>"));      /* kinds legend is off */
	free(doc);
	rt_stacks__free(p.before);
	rt_stacks__free(p.after);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("diff", NULL, NULL);
	CU_add_test(suite, "folded, normalized", test_folded);
	CU_add_test(suite, "svg colours", test_svg);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
