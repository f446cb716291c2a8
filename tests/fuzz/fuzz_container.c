/* libFuzzer target: the checkpoint container and the bounded reader on arbitrary bytes.
   The first byte picks the expected kind's version bound; the loader must never read out of
   bounds, crash or accept a file whose CRCs do not match. */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    bgpbt_reader payload;
    uint32_t version = 0;
    uint32_t max_version = size ? (uint32_t)(data[0] & 7u) + 1u : 1u;
    bgpbt_result r = bgpbt_container_open(data, size, BGPBT_FOURCC('T', 'E', 'S', 'T'), max_version,
                                          &version, &payload);
    if (r == BGPBT_OK) {
        float f[8];
        uint32_t n;
        if (version < 1 || version > max_version) __builtin_trap();
        if (bgpbt_crc32(0, data + BGPBT_CONTAINER_HEADER_SIZE, payload.size) != bgpbt_crc32(0, payload.buf, payload.size))
            __builtin_trap();
        /* read a count-prefixed array, as every loader does */
        n = bgpbt_read_count(&payload, 8, sizeof(float));
        bgpbt_read_f32s(&payload, f, n);
        (void)bgpbt_read_f64(&payload);
        if (payload.pos > payload.size) __builtin_trap();
    }
    return 0;
}
