/* SPDX-License-Identifier: GPL-2.0-only */
/* The layout data tables (internal to layouts/; use rt_layout__find). */
#ifndef RT_LAYOUTS_TABLES_H
#define RT_LAYOUTS_TABLES_H

#include <stddef.h>

#include "layouts/layout.h"

extern const struct rt_layout rt_layout_cpython_table[];
extern const size_t rt_layout_cpython_table_len;

#endif
