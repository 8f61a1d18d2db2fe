#include "check.h"

#include "camrtc/buf.h"
#include "camrtc/codec.h"
#include "camrtc/error.h"
#include "camrtc/str.h"
#include "camrtc/time.h"

TEST(base64_rfc4648_vectors)
{
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char out[16];
        CHECK_EQ_INT(camrtc_base64_encode(plain[i], strlen(plain[i]), out, sizeof out), strlen(enc[i]));
        CHECK_EQ_STR(out, enc[i]);
        uint8_t dec[16];
        int n = camrtc_base64_decode(enc[i], strlen(enc[i]), dec, sizeof dec);
        CHECK_EQ_INT(n, strlen(plain[i]));
        CHECK_EQ_MEM(dec, plain[i], (size_t)n);
    }
}

TEST(base64_rejects_malformed)
{
    uint8_t out[16];
    CHECK_EQ_INT(camrtc_base64_decode("Zg=", 3, out, sizeof out), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_base64_decode("Z===", 4, out, sizeof out), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_base64_decode("Zm9v Zg==", 9, out, sizeof out), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_base64_decode("Zg==Zm9v", 8, out, sizeof out), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_base64_decode("Zh==", 4, out, sizeof out), CAMRTC_EPROTO); /* non-canonical */
    CHECK_EQ_INT(camrtc_base64_decode("Zm9vYmFy", 8, out, 5), CAMRTC_ETOOBIG);
    char small[4];
    CHECK_EQ_INT(camrtc_base64_encode("foo", 3, small, sizeof small), CAMRTC_ETOOBIG);
}

TEST(hex_roundtrip_and_errors)
{
    uint8_t in[] = {0x00, 0xab, 0xff, 0x10};
    char out[9];
    CHECK_EQ_INT(camrtc_hex_encode(in, 4, out, sizeof out), 8);
    CHECK_EQ_STR(out, "00abff10");
    uint8_t dec[4];
    CHECK_EQ_INT(camrtc_hex_decode("00ABff10", 8, dec, 4), 4);
    CHECK_EQ_MEM(dec, in, 4);
    CHECK_EQ_INT(camrtc_hex_decode("0g", 2, dec, 4), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_hex_decode("abc", 3, dec, 4), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_hex_decode("0011223344", 10, dec, 4), CAMRTC_ETOOBIG);
}

TEST(buf_headroom_append_consume_bound)
{
    camrtc_buf b = {0};
    CHECK_EQ_INT(camrtc_buf_init(&b, 4, 8), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "hello"), 0);
    CHECK_EQ_INT(camrtc_buf_prepend(&b, "ab", 2), 0);
    CHECK_EQ_STR(camrtc_buf_cstr(&b), "abhello");
    CHECK_EQ_INT(camrtc_buf_prepend(&b, "xyz", 3), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_buf_appendf(&b, "-%d-%s", 42, "a long string that forces growth"), 0);
    CHECK_EQ_STR(camrtc_buf_cstr(&b), "abhello-42-a long string that forces growth");
    camrtc_buf_consume(&b, 7);
    CHECK_EQ_STR(camrtc_buf_cstr(&b), "-42-a long string that forces growth");
    camrtc_buf_free(&b);
    camrtc_buf bounded = {.max_cap = 16};
    CHECK_EQ_INT(camrtc_buf_append(&bounded, "0123456789", 10), 0);
    CHECK_EQ_INT(camrtc_buf_append(&bounded, "0123456789", 10), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(bounded.len, 10);
    camrtc_buf_free(&bounded);
}

TEST(time_formats_roundtrip)
{
    char amz[17], http[30];
    int64_t t = 1704164645; /* 2024-01-02T03:04:05Z */
    camrtc_time_amz(t, amz);
    CHECK_EQ_STR(amz, "20240102T030405Z");
    int64_t back = 0;
    CHECK_EQ_INT(camrtc_time_parse_amz(amz, &back), 0);
    CHECK_EQ_INT(back, t);
    camrtc_time_http(t, http);
    CHECK_EQ_STR(http, "Tue, 02 Jan 2024 03:04:05 GMT");
    CHECK_EQ_INT(camrtc_time_parse_http(http, &back), 0);
    CHECK_EQ_INT(back, t);
    CHECK_EQ_INT(camrtc_time_parse_amz("20241302T030405Z", &back), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_time_parse_amz("2024010T2030405Z", &back), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_time_parse_http("Tue, 02 Jxn 2024 03:04:05 GMT", &back), CAMRTC_EPROTO);
}

TEST(names_and_strings)
{
    CHECK(camrtc_str_is_name("lab-channel_1.x", 15, 256));
    CHECK(!camrtc_str_is_name("bad/name", 8, 256));
    CHECK(!camrtc_str_is_name("", 0, 256));
    CHECK(!camrtc_str_is_name("abc", 3, 2));
    char d[4];
    CHECK_EQ_INT(camrtc_strlcpy(d, "abcdef", sizeof d), CAMRTC_ETOOBIG);
    CHECK_EQ_STR(d, "abc");
    camrtc_kv kv[] = {{"Content-Type", "a"}, {"host", "b"}};
    CHECK_EQ_STR(camrtc_kv_get(kv, 2, "HOST"), "b");
    CHECK(camrtc_kv_get(kv, 2, "x") == NULL);
    CHECK(camrtc_mem_equal_ct("abc", "abc", 3));
    CHECK(!camrtc_mem_equal_ct("abc", "abd", 3));
    CHECK_EQ_STR(camrtc_strerror(CAMRTC_EPROTO), "malformed protocol input");
    CHECK_EQ_STR(camrtc_errname(CAMRTC_ENOMEM), "CAMRTC_ENOMEM");
}

int main(void)
{
    return RUN_TESTS(base64_rfc4648_vectors, base64_rejects_malformed, hex_roundtrip_and_errors,
                     buf_headroom_append_consume_bound, time_formats_roundtrip, names_and_strings);
}
