/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Offsets into CRuby's structs and the constants the Ruby stack walker
 * needs.  The tables are generated (layouts/ruby_gen.sh) from the
 * rb_mjit_min_header-X.Y.Z.h that a Ruby's -dev package ships, or from
 * the Ruby's own source headers where there is none (3.3; docs/ruby.md),
 * as member .ruby of struct rt_layout (layouts/layout.h): look them up
 * with rt_layout__find(RT_RUNTIME_RUBY, ...).  Nothing here reads a
 * process.
 */
#ifndef RT_LAYOUTS_RUBY_H
#define RT_LAYOUTS_RUBY_H

#ifndef __bpf__
#include <stdint.h> /* BPF programs get uint32_t from vmlinux.h */
#endif

/* An offset a build does not have. */
#define RT_RUBY_NONE 0xffffffffu

struct rt_layout_ruby {
	/* rb_vm_t, rb_ractor_t, rb_thread_t */
	uint32_t vm_main_ractor;        /* .ractor.main_ractor; RT_RUBY_NONE: no ractors (2.x) */
	uint32_t thread_list;           /* list_head of rb_thread_t.lt_node: main ractor's
					 * .threads.set, or rb_vm_t.living_threads (2.x) */
	uint32_t thread_lt_node;        /* .lt_node (.vmlt_node in 2.x) */
	uint32_t thread_ec;
	uint32_t thread_nt;             /* .nt (rb_native_thread *, 3.3+); RT_RUBY_NONE: the
					 * id below is in rb_thread_t itself */
	uint32_t thread_pthread;        /* .thread_id (pthread_t) of rb_thread_t or of *nt */
	/* The GVL, for the off-CPU views' [gvl wait]: rb_global_vm_lock_t
	 * (up to 3.2; struct rb_thread_sched from 3.3) in the thread list's
	 * owner, its list of waiting threads, and each thread's node in it. */
	uint32_t gvl;                   /* .threads.gvl / .threads.sched / rb_vm_t.gvl (2.x) */
	uint32_t gvl_size;
	uint32_t gvl_waitq;             /* .waitq / .readyq (list_head) */
	uint32_t thread_gvl_node;       /* rb_thread_t .native_thread_data.node.gvl / .sched.node.readyq */
	/* rb_execution_context_t */
	uint32_t ec_vm_stack;
	uint32_t ec_vm_stack_size;      /* in VALUEs */
	uint32_t ec_cfp;
	/* rb_control_frame_t */
	uint32_t cfp_pc;
	uint32_t cfp_iseq;
	uint32_t cfp_ep;
	uint32_t cfp_size;
	/* rb_iseq_t and its constant body */
	uint32_t iseq_body;
	uint32_t body_type;
	uint32_t body_iseq_size;
	uint32_t body_iseq_encoded;
	uint32_t body_location_pathobj;
	uint32_t body_location_label;
	uint32_t body_location_first_lineno;
	uint32_t first_lineno_fixnum;   /* 1: a Fixnum VALUE (up to 3.2), 0: an int */
	uint32_t body_insns_info_body;
	uint32_t body_insns_info_positions;
	uint32_t body_insns_info_size;
	uint32_t body_insns_info_succ_index_table;
	uint32_t insn_info_entry_size;
	uint32_t insn_info_line_no;
	/* rb_callable_method_entry_t, RClass, st_table */
	uint32_t me_def;
	uint32_t me_called_id;
	uint32_t me_owner;
	uint32_t def_original_id;
	uint32_t rclass_ext;            /* RClass.ptr, or where the ext is embedded (3.3) */
	uint32_t rclass_ext_inline;     /* 1: rclass_ext is the ext's offset, not a pointer */
	uint32_t classext_iv_tbl;       /* st_table of ivars; RT_RUBY_NONE (3.3: shapes) */
	uint32_t classext_classpath;    /* VALUE classpath (3.3); RT_RUBY_NONE: __classpath__ */
	uint32_t classext_attached;     /* .as.singleton_class.attached_object (3.3) */
	uint32_t st_entries_start;
	uint32_t st_entries_bound;
	uint32_t st_entries;
	uint32_t st_entry_size;
	uint32_t st_entry_key;
	uint32_t st_entry_record;
	/* RString, RArray */
	uint32_t rstring_len;
	uint32_t rstring_ptr;
	uint32_t rstring_embed;
	uint32_t rstring_noembed;        /* flag bit: heap string */
	uint32_t rstring_embed_len_mask; /* 0: an embedded string's length is at rstring_len too */
	uint32_t rstring_embed_len_shift;
	uint32_t rarray_len;
	uint32_t rarray_ptr;
	uint32_t rarray_embed;
	uint32_t rarray_embed_flag;
	uint32_t rarray_embed_len_mask;
	uint32_t rarray_embed_len_shift;
	uint32_t t_mask, t_string, t_array;
	uint32_t fl_singleton;
	/* global symbol table (rb_symbols_t) and IDs */
	uint32_t symbols_last_id;
	uint32_t symbols_ids;
	uint32_t id_scope_shift;
	uint32_t id_entry_unit;          /* IDs per second-level array */
	uint32_t id_entry_size;          /* VALUEs per ID in it; the string is first */
	uint32_t last_op_id;             /* IDs up to this are their own serial */
	/* control frame types (ep[0] flags) */
	uint32_t frame_magic_mask;
	uint32_t frame_magic_cfunc;
	uint32_t frame_magic_dummy;
	uint32_t frame_flag_finish;
	uint32_t frame_flag_cframe;
	int32_t env_me_cref;             /* ep index of the method entry */
	int32_t env_flags;               /* ep index of the frame flags */
	/* iseq_type values */
	uint32_t iseq_type_main;
	uint32_t iseq_type_top;
	/* succinct position index */
	uint32_t succ_immediate_size;    /* positions answered by imm_part */
	uint32_t succ_block_size;        /* bytes per succ_dict_block */
};

/* Versions with a layout, as "3.1" entries separated by ", " (static). */
const char *rt_layout_ruby__supported(void);

#endif
