/* Transport addresses: parsing, formatting, comparisons, classification, sockaddr glue. */
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "camrtc/addr.h"
#include "camrtc/error.h"
#include "check.h"

static camrtc_addr A(const char *ip, uint16_t port)
{
    camrtc_addr a = {0};
    if (camrtc_addr_parse(&a, ip, port) != 0)
        abort(); /* the tests below only call this with valid literals */
    return a;
}

TEST(parse_numeric_literals)
{
    camrtc_addr a;
    CHECK_EQ_INT(camrtc_addr_parse(&a, "192.0.2.1", 3478), CAMRTC_OK);
    CHECK_EQ_INT(a.family, 4);
    CHECK_EQ_INT(a.port, 3478);
    CHECK_EQ_MEM(a.ip, ((uint8_t[16]){192, 0, 2, 1}), 16); /* the rest stays 0 */
    CHECK_EQ_INT(camrtc_addr_parse(&a, "2001:db8::1", 5), CAMRTC_OK);
    CHECK_EQ_INT(a.family, 6);
    CHECK_EQ_MEM(a.ip, ((uint8_t[16]){0x20, 0x01, 0x0d, 0xb8, [15] = 1}), 16);
    CHECK_EQ_INT(camrtc_addr_parse(&a, "::ffff:1.2.3.4", 5), CAMRTC_OK);
    CHECK_EQ_INT(a.family, 6); /* only the sockaddr conversion folds v4-mapped addresses */
}

TEST(parse_rejects_names_and_garbage)
{
    static const char *const bad[] = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "::g", "[::1]",
                                      "localhost", "fe80::1%eth0", "1.2.3.-4", ":::"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        camrtc_addr a = A("9.9.9.9", 9);
        CHECK_EQ_INT(camrtc_addr_parse(&a, bad[i], 1), CAMRTC_EINVAL);
        CHECK(camrtc_addr_equal(&a, &(camrtc_addr){4, 9, {9, 9, 9, 9}})); /* untouched on error */
    }
    camrtc_addr a;
    CHECK_EQ_INT(camrtc_addr_parse(&a, NULL, 1), CAMRTC_EINVAL);
}

TEST(parse_hostport_forms)
{
    camrtc_addr a;
    CHECK_EQ_INT(camrtc_addr_parse_hostport(&a, "1.2.3.4:5"), CAMRTC_OK);
    CHECK(camrtc_addr_equal(&a, &(camrtc_addr){4, 5, {1, 2, 3, 4}}));
    CHECK_EQ_INT(camrtc_addr_parse_hostport(&a, "[::1]:0"), CAMRTC_OK);
    CHECK(camrtc_addr_is_loopback(&a));
    CHECK_EQ_INT(a.port, 0);
    CHECK_EQ_INT(camrtc_addr_parse_hostport(&a, "[2001:db8::1]:65535"), CAMRTC_OK);
    CHECK_EQ_INT(a.family, 6);
    CHECK_EQ_INT(a.port, 65535);

    static const char *const bad[] = {"1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:x", "1.2.3.4:-1",
                                      "1.2.3.4:123456", "::1:5", "[::1]", "[::1]5", "[::1:5", "[1.2.3.4]:5",
                                      ":5", "[]:5", "host:80", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(camrtc_addr_parse_hostport(&a, bad[i]), CAMRTC_EINVAL);
}

TEST(format_and_ip_str)
{
    char s[CAMRTC_ADDR_STRLEN];
    camrtc_addr a = A("192.0.2.1", 32853);
    CHECK_EQ_STR(camrtc_addr_format(&a, s, sizeof s), "192.0.2.1:32853");
    CHECK_EQ_STR(camrtc_addr_ip_str(&a, s, sizeof s), "192.0.2.1");
    a = A("2001:0db8:0:0:0:0:0:1", 5);
    CHECK_EQ_STR(camrtc_addr_format(&a, s, sizeof s), "[2001:db8::1]:5");
    CHECK_EQ_STR(camrtc_addr_ip_str(&a, s, sizeof s), "2001:db8::1");
    /* The longest IPv6 text still fits CAMRTC_ADDR_STRLEN. */
    a = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
    CHECK_EQ_STR(camrtc_addr_format(&a, s, sizeof s), "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    a = A("::ffff:1.2.3.4", 1);
    CHECK_EQ_STR(camrtc_addr_format(&a, s, sizeof s), "[::ffff:1.2.3.4]:1");
    camrtc_addr unset = {0};
    CHECK_EQ_STR(camrtc_addr_format(&unset, s, sizeof s), "-");
    CHECK_EQ_STR(camrtc_addr_ip_str(&unset, s, sizeof s), "-");
    /* A short buffer truncates, NUL-terminated. */
    char tiny[6];
    a = A("192.0.2.1", 1);
    CHECK_EQ_STR(camrtc_addr_format(&a, tiny, sizeof tiny), "192.0");
}

TEST(equality)
{
    camrtc_addr a = A("10.0.0.1", 1), b = A("10.0.0.1", 2), c = A("10.0.0.2", 1), d = A("::a00:1", 1);
    CHECK(camrtc_addr_equal(&a, &a));
    CHECK(!camrtc_addr_equal(&a, &b));
    CHECK(camrtc_addr_ip_equal(&a, &b));
    CHECK(!camrtc_addr_ip_equal(&a, &c));
    CHECK(!camrtc_addr_ip_equal(&a, &d)); /* same trailing bytes, other family */
    camrtc_addr u1 = {0}, u2 = {0};
    CHECK(camrtc_addr_equal(&u1, &u2));
}

static bool loopback(const char *ip)
{
    camrtc_addr a = A(ip, 0);
    return camrtc_addr_is_loopback(&a);
}

static bool link_local(const char *ip)
{
    camrtc_addr a = A(ip, 0);
    return camrtc_addr_is_link_local(&a);
}

TEST(classification)
{
    CHECK(loopback("127.1.2.3"));
    CHECK(loopback("::1"));
    CHECK(!loopback("::2"));
    CHECK(!loopback("128.0.0.1"));
    CHECK(link_local("169.254.10.1"));
    CHECK(!link_local("169.253.10.1"));
    CHECK(link_local("fe80::1"));
    CHECK(link_local("febf::1"));
    CHECK(!link_local("fec0::1"));
    camrtc_addr unset = {0};
    CHECK(!camrtc_addr_is_loopback(&unset));
    CHECK(!camrtc_addr_is_link_local(&unset));
}

TEST(hash_follows_equality)
{
    camrtc_addr a = A("10.0.0.1", 1), a2 = A("10.0.0.1", 1), b = A("10.0.0.1", 2), c = A("10.0.0.2", 1);
    CHECK_EQ_INT(camrtc_addr_hash(&a), camrtc_addr_hash(&a2));
    CHECK(camrtc_addr_hash(&a) != camrtc_addr_hash(&b));
    CHECK(camrtc_addr_hash(&a) != camrtc_addr_hash(&c));
}

TEST(sockaddr_round_trip)
{
    struct sockaddr_storage ss;
    camrtc_addr a = A("192.0.2.1", 3478), back;
    CHECK_EQ_INT(camrtc_addr_to_sockaddr(&a, (struct sockaddr *)&ss), sizeof(struct sockaddr_in));
    CHECK_EQ_INT(((struct sockaddr_in *)&ss)->sin_port, htons(3478));
    CHECK_EQ_INT(camrtc_addr_from_sockaddr(&back, (struct sockaddr *)&ss), CAMRTC_OK);
    CHECK(camrtc_addr_equal(&a, &back));

    a = A("2001:db8::7", 443);
    CHECK_EQ_INT(camrtc_addr_to_sockaddr(&a, (struct sockaddr *)&ss), sizeof(struct sockaddr_in6));
    CHECK_EQ_INT(camrtc_addr_from_sockaddr(&back, (struct sockaddr *)&ss), CAMRTC_OK);
    CHECK(camrtc_addr_equal(&a, &back));

    camrtc_addr unset = {0};
    CHECK_EQ_INT(camrtc_addr_to_sockaddr(&unset, (struct sockaddr *)&ss), 0);
}

TEST(sockaddr_v4_mapped_becomes_v4)
{
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(9);
    uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, [12] = 10, [13] = 1, [14] = 2, [15] = 3};
    memcpy(&sin6.sin6_addr, mapped, 16);
    camrtc_addr a;
    CHECK_EQ_INT(camrtc_addr_from_sockaddr(&a, (struct sockaddr *)&sin6), CAMRTC_OK);
    CHECK(camrtc_addr_equal(&a, &(camrtc_addr){4, 9, {10, 1, 2, 3}}));
}

TEST(sockaddr_other_family_rejected)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    camrtc_addr a;
    CHECK_EQ_INT(camrtc_addr_from_sockaddr(&a, (struct sockaddr *)&sun), CAMRTC_EINVAL);
}

int main(void)
{
    return RUN_TESTS(parse_numeric_literals, parse_rejects_names_and_garbage, parse_hostport_forms,
                     format_and_ip_str, equality, classification, hash_follows_equality, sockaddr_round_trip,
                     sockaddr_v4_mapped_becomes_v4, sockaddr_other_family_rejected);
}
