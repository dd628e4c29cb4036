#ifndef BITFOUNTAIN_CKERNELS_H
#define BITFOUNTAIN_CKERNELS_H
#include <stddef.h>
#include <stdint.h>
/* Filled by the RaptorQ issue. */
int bf_ckernels_version(void);
#endif
