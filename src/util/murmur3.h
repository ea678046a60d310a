/* util/murmur3.h - MurmurHash3 x86 32-bit (seed 0 in Iceberg's bucket
 * transform). Internal to libfloe. */
#ifndef FLOE_UTIL_MURMUR3_H
#define FLOE_UTIL_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

uint32_t floe_murmur3_32(const void *data, size_t len, uint32_t seed);

#endif
