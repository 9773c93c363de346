/* SPDX-License-Identifier: MIT */
/* Entry point of the hq binary. */
#include <stdio.h>

#include "common/version.h"

int
main(void)
{
	printf("hyperqueue %s\n", HQ_VERSION);
	return 0;
}
