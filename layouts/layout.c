/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "layouts/layout.h"
#include "layouts/ruby_tables.h"
#include "layouts/tables.h"

#define F(m) { #m, offsetof(struct rt_layout_cpython, m) }
const struct rt_layout_field rt_layout_cpython_fields[] = {
	F(anchor), F(runtime_interpreters_head), F(runtime_debug_offsets), F(debug_offsets_size),
	F(interp_next), F(interp_threads_head),
	F(tstate_next), F(tstate_thread_id), F(tstate_native_thread_id), F(tstate_cframe),
	F(tstate_frame), F(cframe_current_frame),
	F(frame_code), F(frame_previous), F(frame_instr_ptr), F(frame_lasti), F(frame_is_entry),
	F(frame_owner), F(frame_owner_generator), F(frame_owner_cstack), F(frame_size),
	F(code_firstlineno), F(code_name), F(code_qualname), F(code_filename), F(code_linetable),
	F(code_firsttraceable), F(code_code_adaptive), F(object_type),
	F(unicode_length), F(unicode_state), F(unicode_ascii_data), F(unicode_compact_data),
	F(bytes_size), F(bytes_data),
	F(runtime_ceval_gil), F(runtime_interpreters_main), F(interp_ceval_gil), F(gil_size), F(gil_last_holder),
	F(gil_locked),
};
#undef F
const size_t rt_layout_cpython_nr_fields =
	sizeof(rt_layout_cpython_fields) / sizeof(rt_layout_cpython_fields[0]);
_Static_assert(sizeof(rt_layout_cpython_fields) / sizeof(rt_layout_cpython_fields[0]) ==
	       sizeof(struct rt_layout_cpython) / sizeof(uint32_t), "every member listed");

const struct rt_layout *rt_layout__find(enum rt_runtime runtime, int major, int minor, int patch)
{
	for (size_t i = 0; i < rt_layout_cpython_table_len; i++) {
		const struct rt_layout *l = &rt_layout_cpython_table[i];

		/* An unknown patch level takes the newest range of its minor:
		 * struct layouts rarely change within one. */
		if (l->runtime == runtime && l->major == major && l->minor == minor &&
		    ((patch < 0 && l->patch_max >= 99) ||
		     (patch >= l->patch_min && patch <= l->patch_max)))
			return l;
	}
	for (size_t i = 0; i < rt_layout_ruby_table_len; i++) {
		const struct rt_layout *l = &rt_layout_ruby_table[i];

		if (l->runtime == runtime && l->major == major && l->minor == minor &&
		    patch >= l->patch_min && patch <= l->patch_max)
			return l;
	}
	errno = ENOENT;
	return NULL;
}

const char *rt_layout__runtime_name(enum rt_runtime runtime)
{
	switch (runtime) {
	case RT_RUNTIME_CPYTHON:
		return "cpython";
	case RT_RUNTIME_RUBY:
		return "ruby";
	default:
		return "unknown";
	}
}
