/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Layout generator for CRuby: compiled with -include of a Ruby's
 * rb_mjit_min_header-X.Y.Z.h, or of layouts/ruby_src.h against that
 * Ruby's source tree (see layouts/ruby_gen.sh), and with RT_RUBY_MAJOR and
 * RT_RUBY_MINOR defined, it prints one struct rt_layout initializer with the
 * offsets of that build.  A handful of facts live in Ruby's private sources
 * rather than in the header; they are constants here, named, and checked
 * against a live process by runtimes/ruby/inspect.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#if !defined(RT_RUBY_MAJOR) || !defined(RT_RUBY_MINOR)
#error "compile with -DRT_RUBY_MAJOR=X -DRT_RUBY_MINOR=Y (layouts/ruby_gen.sh does)"
#endif
#define RT_RUBY_AT_LEAST(x, y) (RT_RUBY_MAJOR * 100 + RT_RUBY_MINOR >= (x) * 100 + (y))
#define NONE 0xffffffffu /* RT_RUBY_NONE */

/* From st.c (struct st_table_entry): hash, key, record. */
#define ST_ENTRY_SIZE   24
#define ST_ENTRY_KEY    8
#define ST_ENTRY_RECORD 16
/* From symbol.h (rb_symbols_t): last_id, str_sym, ids; ID_ENTRY_UNIT/SIZE. */
#define SYMBOLS_LAST_ID 0
#define SYMBOLS_IDS     16
#define ID_ENTRY_UNIT   512
#define ID_ENTRY_SIZE   2
/* From iseq.c: IMMEDIATE_TABLE_SIZE and struct succ_dict_block
 * (rank, small_block_ranks, bits[8]). */
#define SUCC_IMMEDIATE_SIZE 54
#define SUCC_BLOCK_SIZE     80

#define F(name, value) printf("\t\t\t.%s = %lld,\n", name, (long long)(value))
#define OFF(name, type, member) F(name, offsetof(type, member))

int main(int argc, char **argv)
{
	int major, minor, patch, patch_min, patch_max;

	if (argc != 4 || sscanf(argv[1], "%d.%d.%d", &major, &minor, &patch) != 3 ||
	    sscanf(argv[2], "%d", &patch_min) != 1 || sscanf(argv[3], "%d", &patch_max) != 1) {
		fprintf(stderr, "usage: ruby_offsets X.Y.Z PATCH_MIN PATCH_MAX (the header's version, "
				"the patch levels its entry covers)\n");
		return 2;
	}
	if (major != RT_RUBY_MAJOR || minor != RT_RUBY_MINOR) {
		fprintf(stderr, "ruby_offsets: built for %d.%d, asked for %s\n", RT_RUBY_MAJOR,
			RT_RUBY_MINOR, argv[1]);
		return 2;
	}
	/* the patch range this build stands for: the generator knows which
	 * other builds of the minor it was given */
	printf("\t{\n\t\t.runtime = RT_RUNTIME_RUBY, .major = %d, .minor = %d,\n", major, minor);
	printf("\t\t.patch_min = %d, .patch_max = %d,\n", patch_min, patch_max);
	printf("\t\t.linetable_format = \"ruby-insn-info\",\n");
	printf("\t\t.ruby = {\n");
#if RT_RUBY_AT_LEAST(3, 0)
	OFF("vm_main_ractor", rb_vm_t, ractor.main_ractor);
	OFF("thread_list", rb_ractor_t, threads.set);
	OFF("thread_lt_node", rb_thread_t, lt_node);
#else
	F("vm_main_ractor", NONE);
	OFF("thread_list", rb_vm_t, living_threads);
	OFF("thread_lt_node", rb_thread_t, vmlt_node);
#endif
	OFF("thread_ec", rb_thread_t, ec);
#if RT_RUBY_AT_LEAST(3, 3)
	OFF("thread_nt", rb_thread_t, nt);
	OFF("thread_pthread", struct rb_native_thread, thread_id);
#else
	F("thread_nt", NONE);
	OFF("thread_pthread", rb_thread_t, thread_id);
#endif
	/* the GVL, whose waiting threads sleep on their own condition variable
	 * while queued in it (thread_pthread.c) */
#if RT_RUBY_AT_LEAST(3, 3)
	OFF("gvl", rb_ractor_t, threads.sched);
	F("gvl_size", sizeof(struct rb_thread_sched));
	OFF("gvl_waitq", struct rb_thread_sched, readyq);
	OFF("thread_gvl_node", rb_thread_t, sched.node.readyq);
#elif RT_RUBY_AT_LEAST(3, 0)
	OFF("gvl", rb_ractor_t, threads.gvl);
	F("gvl_size", sizeof(rb_global_vm_lock_t));
	OFF("gvl_waitq", rb_global_vm_lock_t, waitq);
	OFF("thread_gvl_node", rb_thread_t, native_thread_data.node.gvl);
#else
	OFF("gvl", rb_vm_t, gvl);
	F("gvl_size", sizeof(rb_global_vm_lock_t));
	OFF("gvl_waitq", rb_global_vm_lock_t, waitq);
	OFF("thread_gvl_node", rb_thread_t, native_thread_data.node.gvl);
#endif
	OFF("ec_vm_stack", rb_execution_context_t, vm_stack);
	OFF("ec_vm_stack_size", rb_execution_context_t, vm_stack_size);
	OFF("ec_cfp", rb_execution_context_t, cfp);
	OFF("cfp_pc", rb_control_frame_t, pc);
	OFF("cfp_iseq", rb_control_frame_t, iseq);
	OFF("cfp_ep", rb_control_frame_t, ep);
	F("cfp_size", sizeof(rb_control_frame_t));
	OFF("iseq_body", rb_iseq_t, body);
	OFF("body_type", struct rb_iseq_constant_body, type);
	OFF("body_iseq_size", struct rb_iseq_constant_body, iseq_size);
	OFF("body_iseq_encoded", struct rb_iseq_constant_body, iseq_encoded);
	OFF("body_location_pathobj", struct rb_iseq_constant_body, location.pathobj);
	OFF("body_location_label", struct rb_iseq_constant_body, location.label);
	OFF("body_location_first_lineno", struct rb_iseq_constant_body, location.first_lineno);
	F("first_lineno_fixnum", !RT_RUBY_AT_LEAST(3, 3));
	OFF("body_insns_info_body", struct rb_iseq_constant_body, insns_info.body);
	OFF("body_insns_info_positions", struct rb_iseq_constant_body, insns_info.positions);
	OFF("body_insns_info_size", struct rb_iseq_constant_body, insns_info.size);
	OFF("body_insns_info_succ_index_table", struct rb_iseq_constant_body,
	    insns_info.succ_index_table);
	F("insn_info_entry_size", sizeof(struct iseq_insn_info_entry));
	OFF("insn_info_line_no", struct iseq_insn_info_entry, line_no);
	OFF("me_def", rb_callable_method_entry_t, def);
	OFF("me_called_id", rb_callable_method_entry_t, called_id);
	OFF("me_owner", rb_callable_method_entry_t, owner);
	OFF("def_original_id", rb_method_definition_t, original_id);
#if RT_RUBY_AT_LEAST(3, 3)
	/* the ext follows the RClass in the same slot; classpath and the
	 * attached object are members of it, no longer instance variables */
	OFF("rclass_ext", struct RClass_and_rb_classext_t, classext);
	F("rclass_ext_inline", 1);
	F("classext_iv_tbl", NONE);
	OFF("classext_classpath", struct rb_classext_struct, classpath);
	OFF("classext_attached", struct rb_classext_struct, as.singleton_class.attached_object);
#else
	OFF("rclass_ext", struct RClass, ptr);
	F("rclass_ext_inline", 0);
	OFF("classext_iv_tbl", struct rb_classext_struct, iv_tbl);
	F("classext_classpath", NONE);
	F("classext_attached", NONE);
#endif
	OFF("st_entries_start", struct st_table, entries_start);
	OFF("st_entries_bound", struct st_table, entries_bound);
	OFF("st_entries", struct st_table, entries);
	F("st_entry_size", ST_ENTRY_SIZE);
	F("st_entry_key", ST_ENTRY_KEY);
	F("st_entry_record", ST_ENTRY_RECORD);
#if RT_RUBY_AT_LEAST(3, 3)
	/* one length for embedded and heap strings, outside the union */
	OFF("rstring_len", struct RString, len);
	OFF("rstring_ptr", struct RString, as.heap.ptr);
	OFF("rstring_embed", struct RString, as.embed.ary);
	F("rstring_noembed", RSTRING_NOEMBED);
	F("rstring_embed_len_mask", 0);
	F("rstring_embed_len_shift", 0);
#else
	OFF("rstring_len", struct RString, as.heap.len);
	OFF("rstring_ptr", struct RString, as.heap.ptr);
#if RT_RUBY_AT_LEAST(3, 0)
	OFF("rstring_embed", struct RString, as.embed.ary);
#else
	OFF("rstring_embed", struct RString, as.ary);
#endif
	F("rstring_noembed", RSTRING_NOEMBED);
	F("rstring_embed_len_mask", RSTRING_EMBED_LEN_MASK);
	F("rstring_embed_len_shift", RSTRING_EMBED_LEN_SHIFT);
#endif
	OFF("rarray_len", struct RArray, as.heap.len);
	OFF("rarray_ptr", struct RArray, as.heap.ptr);
	OFF("rarray_embed", struct RArray, as.ary);
	F("rarray_embed_flag", RARRAY_EMBED_FLAG);
	F("rarray_embed_len_mask", RARRAY_EMBED_LEN_MASK);
	F("rarray_embed_len_shift", RARRAY_EMBED_LEN_SHIFT);
	F("t_mask", RUBY_T_MASK);
	F("t_string", RUBY_T_STRING);
	F("t_array", RUBY_T_ARRAY);
	F("fl_singleton", RUBY_FL_SINGLETON);
	F("symbols_last_id", SYMBOLS_LAST_ID);
	F("symbols_ids", SYMBOLS_IDS);
	F("id_scope_shift", RUBY_ID_SCOPE_SHIFT);
	F("id_entry_unit", ID_ENTRY_UNIT);
	F("id_entry_size", ID_ENTRY_SIZE);
	F("last_op_id", tLAST_OP_ID);
	F("frame_magic_mask", VM_FRAME_MAGIC_MASK);
	F("frame_magic_cfunc", VM_FRAME_MAGIC_CFUNC);
	F("frame_magic_dummy", VM_FRAME_MAGIC_DUMMY);
	F("frame_flag_finish", VM_FRAME_FLAG_FINISH);
	F("frame_flag_cframe", VM_FRAME_FLAG_CFRAME);
	F("env_me_cref", VM_ENV_DATA_INDEX_ME_CREF);
	F("env_flags", VM_ENV_DATA_INDEX_FLAGS);
	F("iseq_type_main", ISEQ_TYPE_MAIN);
	F("iseq_type_top", ISEQ_TYPE_TOP);
	F("succ_immediate_size", SUCC_IMMEDIATE_SIZE);
	F("succ_block_size", SUCC_BLOCK_SIZE);
	printf("\t\t},\n\t},\n");
	return 0;
}
