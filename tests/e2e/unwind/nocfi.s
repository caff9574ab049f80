# SPDX-License-Identifier: GPL-2.0-only
# Two functions without any CFI: asm_fp sets up a frame pointer, asm_nofp
# has a fixed-size frame.  asm_fp -> asm_nofp -> c_leaf.
	.text
	.globl	asm_fp
	.type	asm_fp, @function
asm_fp:
	push	%rbp
	mov	%rsp, %rbp
	push	%rbx
	sub	$8, %rsp
	call	asm_nofp
	add	$8, %rsp
	pop	%rbx
	pop	%rbp
	ret
	.size	asm_fp, .-asm_fp

	.globl	asm_nofp
	.type	asm_nofp, @function
asm_nofp:
	push	%rbx
	push	%r12
	sub	$24, %rsp
	mov	%edi, %ebx
	mov	$20000, %r12d
1:	dec	%r12d
	jnz	1b
	mov	%ebx, %edi
	call	c_leaf
	add	$24, %rsp
	pop	%r12
	pop	%rbx
	ret
	.size	asm_nofp, .-asm_nofp
	.section .note.GNU-stack,"",@progbits
