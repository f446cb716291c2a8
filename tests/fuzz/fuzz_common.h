/* tests/fuzz/fuzz_common.h - shared by the fuzz targets.

   Every saved object sits in a container whose payload and header carry CRC-32s, so almost
   every mutation of a valid blob is refused at the checksum. To reach the parsers behind it,
   each target also feeds a "resealed" copy: the input with its payload size and both CRCs
   recomputed, as a corrupt-but-consistent file (or a malicious one) would be. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H
#include <stdlib.h>
#include <string.h>

static void fuzz_put32(unsigned char* p, uint32_t v) {
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

/* A malloc'd copy of data with the container header fixed up (NULL if too short). */
static unsigned char* fuzz_reseal(const uint8_t* data, size_t size) {
    unsigned char* c;
    uint64_t payload;
    int i;
    if (size < BGPBT_CONTAINER_HEADER_SIZE) return NULL;
    c = (unsigned char*)malloc(size);
    if (!c) return NULL;
    memcpy(c, data, size);
    memcpy(c, "BGPT", 4);
    payload = (uint64_t)(size - BGPBT_CONTAINER_HEADER_SIZE);
    for (i = 0; i < 8; ++i) c[16 + i] = (unsigned char)(payload >> (8 * i));
    fuzz_put32(c + 24, bgpbt_crc32(0, c + BGPBT_CONTAINER_HEADER_SIZE, (size_t)payload));
    fuzz_put32(c + 28, bgpbt_crc32(0, c, 28));
    return c;
}
#endif
