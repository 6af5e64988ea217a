/*
 * crc64.h: CRC-64/Jones, the checksum Redis puts in DUMP payloads and RDB files.
 *
 * Parameters: polynomial 0xad93d23594c935a9, reflected input and output, initial value 0,
 * no final xor. The check value (CRC of "123456789") is 0xe9c6d914c4b8d9ca. Because there is
 * no final xor, a CRC can be continued: crc64(crc64(0, a), b) == crc64(0, a ++ b).
 */
#ifndef DF_CRC64_H
#define DF_CRC64_H

#include <stddef.h>
#include <stdint.h>

/* Continue crc over len bytes at p (start with crc = 0). Thread-safe, any thread. */
uint64_t crc64(uint64_t crc, const void *p, size_t len);

#endif
