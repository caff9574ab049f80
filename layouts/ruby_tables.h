/* SPDX-License-Identifier: GPL-2.0-only */
/* The generated CRuby layout table (internal to layouts/; use rt_layout__find). */
#ifndef RT_LAYOUTS_RUBY_TABLES_H
#define RT_LAYOUTS_RUBY_TABLES_H

#include <stddef.h>

#include "layouts/layout.h"

extern const struct rt_layout rt_layout_ruby_table[];
extern const size_t rt_layout_ruby_table_len;
extern const char rt_layout_ruby_supported[]; /* "3.1, 3.2" */

#endif
