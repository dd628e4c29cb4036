#ifndef BITFOUNTAIN_CSODIUM_SHIM_H
#define BITFOUNTAIN_CSODIUM_SHIM_H
#include <sodium.h>
#endif
