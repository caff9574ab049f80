/* SPDX-License-Identifier: GPL-2.0-only */
#include <CUnit/Basic.h>

#include "runtimes/python/asyncio.h"

int main(void)
{
	return 0;
}
