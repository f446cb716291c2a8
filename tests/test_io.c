/* io layer: CRC-32, writer/reader bounds, container validation, atomic files. */

static void io_crc32_known(void) {
    CHECK(bgpbt_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(bgpbt_crc32(0, "", 0) == 0u);
    /* chaining equals one call */
    CHECK(bgpbt_crc32(bgpbt_crc32(0, "12345", 5), "6789", 4) == 0xCBF43926u);
    CHECK(bgpbt_crc32(0, "The quick brown fox jumps over the lazy dog", 43) == 0x414FA339u);
}

static void io_writer_reader_roundtrip(void) {
    unsigned char buf[256];
    bgpbt_writer w;
    bgpbt_reader r;
    float fs[3] = {1.5f, -0.0f, 3e38f}, fo[3];
    double ds[2] = {1e-300, -2.5}, dout[2];
    memset(&w, 0, sizeof w);
    bgpbt_write_u32(&w, 0xDEADBEEFu);
    bgpbt_write_u64(&w, 0x0123456789ABCDEFull);
    bgpbt_write_i32(&w, -7);
    bgpbt_write_f32(&w, 0.1f);
    bgpbt_write_f64(&w, 0.1);
    bgpbt_write_f32s(&w, fs, 3);
    bgpbt_write_f64s(&w, ds, 2);
    CHECK_EQ_INT(w.pos, 4 + 8 + 4 + 4 + 8 + 12 + 16); /* counting pass */
    w.buf = buf; w.cap = sizeof buf; w.pos = 0;
    bgpbt_write_u32(&w, 0xDEADBEEFu);
    bgpbt_write_u64(&w, 0x0123456789ABCDEFull);
    bgpbt_write_i32(&w, -7);
    bgpbt_write_f32(&w, 0.1f);
    bgpbt_write_f64(&w, 0.1);
    bgpbt_write_f32s(&w, fs, 3);
    bgpbt_write_f64s(&w, ds, 2);
    CHECK(!w.overflow);
    CHECK(buf[0] == 0xEF && buf[3] == 0xDE); /* little-endian on every host */
    r.buf = buf; r.size = w.pos; r.pos = 0; r.failed = 0;
    CHECK(bgpbt_read_u32(&r) == 0xDEADBEEFu);
    CHECK(bgpbt_read_u64(&r) == 0x0123456789ABCDEFull);
    CHECK_EQ_INT(bgpbt_read_i32(&r), -7);
    CHECK(bgpbt_read_f32(&r) == 0.1f);
    CHECK(bgpbt_read_f64(&r) == 0.1);
    bgpbt_read_f32s(&r, fo, 3);
    CHECK(memcmp(fo, fs, sizeof fs) == 0);
    bgpbt_read_f64s(&r, dout, 2);
    CHECK(memcmp(dout, ds, sizeof ds) == 0);
    CHECK(!r.failed);
    CHECK_EQ_INT(bgpbt_read_u32(&r), 0); /* past the end: zero and failed */
    CHECK(r.failed);
}

static void io_bounds(void) {
    unsigned char buf[8];
    bgpbt_writer w;
    bgpbt_reader r;
    float big[100];
    w.buf = buf; w.cap = sizeof buf; w.pos = 0; w.overflow = 0;
    bgpbt_write_u64(&w, 1);
    bgpbt_write_u32(&w, 2);
    CHECK(w.overflow);
    CHECK_EQ_INT(w.pos, 8);
    r.buf = buf; r.size = 8; r.pos = 0; r.failed = 0;
    bgpbt_read_f32s(&r, big, 100); /* asks for 400 bytes of 8 */
    CHECK(r.failed);
    CHECK(big[0] == 0.0f && big[99] == 0.0f);
    r.pos = 0; r.failed = 0;
    buf[0] = 0xFF; buf[1] = 0xFF; buf[2] = 0xFF; buf[3] = 0x7F; /* count 2^31-1 */
    CHECK_EQ_INT(bgpbt_read_count(&r, 1000000, 4), 0);
    CHECK(r.failed);
    r.pos = 0; r.failed = 0;
    buf[0] = 1; buf[1] = 0; buf[2] = 0; buf[3] = 0; /* count 1 with 4 bytes left */
    CHECK_EQ_INT(bgpbt_read_count(&r, 10, 4), 1);
    CHECK(!r.failed);
    r.pos = 0;
    CHECK_EQ_INT(bgpbt_read_count(&r, 10, 5), 0); /* 1 element of 5 bytes does not fit */
    CHECK(r.failed);
}

static size_t io_make_container(unsigned char* buf, size_t cap) {
    bgpbt_writer w;
    w.buf = buf; w.cap = cap; w.pos = 0; w.overflow = 0;
    bgpbt_container_begin(&w, BGPBT_FOURCC('T', 'E', 'S', 'T'), 2);
    bgpbt_write_u32(&w, 42);
    bgpbt_write_f64(&w, 3.25);
    bgpbt_container_end(&w, 0);
    return w.pos;
}

static void io_container(void) {
    unsigned char buf[128], bad[128];
    size_t n = io_make_container(buf, sizeof buf), i;
    bgpbt_reader p;
    uint32_t version = 0;
    int all_refused = 1;
    const uint32_t kind = BGPBT_FOURCC('T', 'E', 'S', 'T');
    CHECK_EQ_INT(n, BGPBT_CONTAINER_HEADER_SIZE + 12);
    CHECK_OK(bgpbt_container_open(buf, n, kind, 2, &version, &p));
    CHECK_EQ_INT(version, 2);
    CHECK_EQ_INT(bgpbt_read_u32(&p), 42);
    CHECK(bgpbt_read_f64(&p) == 3.25);
    CHECK(!p.failed);
    CHECK_RESULT(bgpbt_container_open(buf, n, BGPBT_FOURCC('X', 'X', 'X', 'X'), 2, NULL, &p), BGPBT_ERR_BAD_FORMAT);
    CHECK_RESULT(bgpbt_container_open(buf, n, kind, 1, NULL, &p), BGPBT_ERR_VERSION);
    CHECK_RESULT(bgpbt_container_open(buf, 10, kind, 2, NULL, &p), BGPBT_ERR_TRUNCATED);
    CHECK_RESULT(bgpbt_container_open(buf, n - 1, kind, 2, NULL, &p), BGPBT_ERR_TRUNCATED);
    CHECK_RESULT(bgpbt_container_open(NULL, n, kind, 2, NULL, &p), BGPBT_ERR_INVALID_ARGUMENT);
    memcpy(bad, buf, n);
    bad[0] = 'X';
    CHECK_RESULT(bgpbt_container_open(bad, n, kind, 2, NULL, &p), BGPBT_ERR_BAD_FORMAT);
    /* every single-bit flip anywhere is refused */
    for (i = 0; i < n * 8; ++i) {
        memcpy(bad, buf, n);
        bad[i / 8] ^= (unsigned char)(1u << (i % 8));
        all_refused &= bgpbt_container_open(bad, n, kind, 2, NULL, &p) != BGPBT_OK;
    }
    CHECK(all_refused);
    {   /* a too-small buffer overflows instead of writing past it */
        bgpbt_writer w;
        w.buf = bad; w.cap = 20; w.pos = 0; w.overflow = 0;
        bgpbt_container_begin(&w, kind, 1);
        CHECK(w.overflow);
    }
}

static void io_atomic_file(void) {
    const char* path = "bgpbt_test_io.bin";
    unsigned char buf[128];
    size_t n = io_make_container(buf, sizeof buf), size = 0;
    void* data = NULL;
    test_failing_alloc f;
    bgpbt_allocator a = test_failing_allocator(&f, 0);
    FILE* tmpf;
    CHECK_OK(bgpbt_file_write_atomic(path, buf, n));
    CHECK_OK(bgpbt_file_read(path, &a, 1 << 20, &data, &size));
    CHECK_EQ_INT(size, n);
    CHECK(data && memcmp(data, buf, n) == 0);
    bgpbt_mem_free(&a, data, size);
    CHECK_EQ_INT(f.live_blocks, 0);
    /* a leftover temporary from a crashed writer does not matter */
    tmpf = fopen("bgpbt_test_io.bin.tmp", "wb");
    if (tmpf) { fputs("garbage", tmpf); fclose(tmpf); }
    CHECK_OK(bgpbt_file_write_atomic(path, buf, n - 1));
    CHECK_OK(bgpbt_file_read(path, NULL, 1 << 20, &data, &size));
    CHECK_EQ_INT(size, n - 1);
    bgpbt_mem_free(NULL, data, size);
    CHECK_RESULT(bgpbt_file_read(path, NULL, 4, &data, &size), BGPBT_ERR_LIMIT);
    a = test_failing_allocator(&f, 1);
    CHECK_RESULT(bgpbt_file_read(path, &a, 1 << 20, &data, &size), BGPBT_ERR_OUT_OF_MEMORY);
    CHECK_RESULT(bgpbt_file_read("no/such/dir/file.bin", NULL, 100, &data, &size), BGPBT_ERR_IO);
    CHECK_RESULT(bgpbt_file_write_atomic("no/such/dir/file.bin", buf, n), BGPBT_ERR_IO);
    CHECK_RESULT(bgpbt_file_write_atomic(NULL, buf, n), BGPBT_ERR_INVALID_ARGUMENT);
    remove(path);
    remove("bgpbt_test_io.bin.tmp");
}

void suite_io(void) {
    RUN(io_crc32_known);
    RUN(io_writer_reader_roundtrip);
    RUN(io_bounds);
    RUN(io_container);
    RUN(io_atomic_file);
}
