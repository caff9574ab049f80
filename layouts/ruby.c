/* SPDX-License-Identifier: GPL-2.0-only */
#include "layouts/ruby.h"
#include "layouts/ruby_tables.h"

const char *rt_layout_ruby__supported(void)
{
	return rt_layout_ruby_supported;
}
