#include "ckernels.h"
int bf_ckernels_version(void) { return 1; }
