/* A tiny unit-test harness: each test file is one executable.
 *
 *   TEST(base64_roundtrip) { CHECK_EQ_INT(f(), 3); }
 *   int main(void) { return RUN_TESTS(base64_roundtrip, other_test); }
 *
 * A failed CHECK prints file:line and the values, marks the test failed and
 * returns from it. The exit status is non-zero when any test failed, so meson
 * counts it.
 */
#ifndef CAMRTC_TEST_CHECK_H
#define CAMRTC_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failed_;

#define TEST(name) static void name(void)

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
    check_failed_ = 1; return; } } while (0)

#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) { fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
        __FILE__, __LINE__, #a, #b, a_, b_); check_failed_ = 1; return; } } while (0)

#define CHECK_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { fprintf(stderr, \
        "%s:%d: %s == %s failed:\n  \"%s\"\n  \"%s\"\n", __FILE__, __LINE__, #a, #b, \
        a_ ? a_ : "(null)", b_ ? b_ : "(null)"); check_failed_ = 1; return; } } while (0)

#define CHECK_EQ_MEM(a, b, n) do { if (memcmp((a), (b), (n)) != 0) { \
    fprintf(stderr, "%s:%d: memory %s == %s failed\n", __FILE__, __LINE__, #a, #b); \
    check_failed_ = 1; return; } } while (0)

typedef struct { const char *name; void (*fn)(void); } check_case_;

static inline int check_run_(const check_case_ *cases, size_t n)
{
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        check_failed_ = 0;
        cases[i].fn();
        printf("%s %s\n", check_failed_ ? "FAIL" : "ok  ", cases[i].name);
        failed += check_failed_;
    }
    printf("%zu passed, %d failed\n", n - (size_t)failed, failed);
    return failed ? 1 : 0;
}

#define CHECK_CASE_(fn) {#fn, fn},
#define CHECK_MAP1_(m, x) m(x)
#define RUN_TESTS(...) check_run_all_((const check_case_[]){CHECK_FOREACH_(CHECK_CASE_, __VA_ARGS__)})

/* Expand m over up to 64 arguments. */
#define CHECK_FOREACH_(m, ...) CHECK_FE_N_(__VA_ARGS__, CHECK_FE_SEQ_)(m, __VA_ARGS__)
#define CHECK_FE_N_(...) CHECK_FE_ARG_(__VA_ARGS__)
#define CHECK_FE_ARG_(_1,_2,_3,_4,_5,_6,_7,_8,_9,_10,_11,_12,_13,_14,_15,_16,_17,_18,_19,_20,\
  _21,_22,_23,_24,_25,_26,_27,_28,_29,_30,_31,_32,_33,_34,_35,_36,_37,_38,_39,_40,_41,_42,_43,\
  _44,_45,_46,_47,_48,_49,_50,_51,_52,_53,_54,_55,_56,_57,_58,_59,_60,_61,_62,_63,_64,N,...) CHECK_FE_##N
#define CHECK_FE_SEQ_ 64,63,62,61,60,59,58,57,56,55,54,53,52,51,50,49,48,47,46,45,44,43,42,41,40,\
  39,38,37,36,35,34,33,32,31,30,29,28,27,26,25,24,23,22,21,20,19,18,17,16,15,14,13,12,11,10,9,8,7,6,5,4,3,2,1
#define CHECK_FE_1(m, x) m(x)
#define CHECK_FE_2(m, x, ...) m(x) CHECK_FE_1(m, __VA_ARGS__)
#define CHECK_FE_3(m, x, ...) m(x) CHECK_FE_2(m, __VA_ARGS__)
#define CHECK_FE_4(m, x, ...) m(x) CHECK_FE_3(m, __VA_ARGS__)
#define CHECK_FE_5(m, x, ...) m(x) CHECK_FE_4(m, __VA_ARGS__)
#define CHECK_FE_6(m, x, ...) m(x) CHECK_FE_5(m, __VA_ARGS__)
#define CHECK_FE_7(m, x, ...) m(x) CHECK_FE_6(m, __VA_ARGS__)
#define CHECK_FE_8(m, x, ...) m(x) CHECK_FE_7(m, __VA_ARGS__)
#define CHECK_FE_9(m, x, ...) m(x) CHECK_FE_8(m, __VA_ARGS__)
#define CHECK_FE_10(m, x, ...) m(x) CHECK_FE_9(m, __VA_ARGS__)
#define CHECK_FE_11(m, x, ...) m(x) CHECK_FE_10(m, __VA_ARGS__)
#define CHECK_FE_12(m, x, ...) m(x) CHECK_FE_11(m, __VA_ARGS__)
#define CHECK_FE_13(m, x, ...) m(x) CHECK_FE_12(m, __VA_ARGS__)
#define CHECK_FE_14(m, x, ...) m(x) CHECK_FE_13(m, __VA_ARGS__)
#define CHECK_FE_15(m, x, ...) m(x) CHECK_FE_14(m, __VA_ARGS__)
#define CHECK_FE_16(m, x, ...) m(x) CHECK_FE_15(m, __VA_ARGS__)
#define CHECK_FE_17(m, x, ...) m(x) CHECK_FE_16(m, __VA_ARGS__)
#define CHECK_FE_18(m, x, ...) m(x) CHECK_FE_17(m, __VA_ARGS__)
#define CHECK_FE_19(m, x, ...) m(x) CHECK_FE_18(m, __VA_ARGS__)
#define CHECK_FE_20(m, x, ...) m(x) CHECK_FE_19(m, __VA_ARGS__)
#define CHECK_FE_21(m, x, ...) m(x) CHECK_FE_20(m, __VA_ARGS__)
#define CHECK_FE_22(m, x, ...) m(x) CHECK_FE_21(m, __VA_ARGS__)
#define CHECK_FE_23(m, x, ...) m(x) CHECK_FE_22(m, __VA_ARGS__)
#define CHECK_FE_24(m, x, ...) m(x) CHECK_FE_23(m, __VA_ARGS__)
#define CHECK_FE_25(m, x, ...) m(x) CHECK_FE_24(m, __VA_ARGS__)
#define CHECK_FE_26(m, x, ...) m(x) CHECK_FE_25(m, __VA_ARGS__)
#define CHECK_FE_27(m, x, ...) m(x) CHECK_FE_26(m, __VA_ARGS__)
#define CHECK_FE_28(m, x, ...) m(x) CHECK_FE_27(m, __VA_ARGS__)
#define CHECK_FE_29(m, x, ...) m(x) CHECK_FE_28(m, __VA_ARGS__)
#define CHECK_FE_30(m, x, ...) m(x) CHECK_FE_29(m, __VA_ARGS__)
#define CHECK_FE_31(m, x, ...) m(x) CHECK_FE_30(m, __VA_ARGS__)
#define CHECK_FE_32(m, x, ...) m(x) CHECK_FE_31(m, __VA_ARGS__)
#define CHECK_FE_33(m, x, ...) m(x) CHECK_FE_32(m, __VA_ARGS__)
#define CHECK_FE_34(m, x, ...) m(x) CHECK_FE_33(m, __VA_ARGS__)
#define CHECK_FE_35(m, x, ...) m(x) CHECK_FE_34(m, __VA_ARGS__)
#define CHECK_FE_36(m, x, ...) m(x) CHECK_FE_35(m, __VA_ARGS__)
#define CHECK_FE_37(m, x, ...) m(x) CHECK_FE_36(m, __VA_ARGS__)
#define CHECK_FE_38(m, x, ...) m(x) CHECK_FE_37(m, __VA_ARGS__)
#define CHECK_FE_39(m, x, ...) m(x) CHECK_FE_38(m, __VA_ARGS__)
#define CHECK_FE_40(m, x, ...) m(x) CHECK_FE_39(m, __VA_ARGS__)
#define CHECK_FE_41(m, x, ...) m(x) CHECK_FE_40(m, __VA_ARGS__)
#define CHECK_FE_42(m, x, ...) m(x) CHECK_FE_41(m, __VA_ARGS__)
#define CHECK_FE_43(m, x, ...) m(x) CHECK_FE_42(m, __VA_ARGS__)
#define CHECK_FE_44(m, x, ...) m(x) CHECK_FE_43(m, __VA_ARGS__)
#define CHECK_FE_45(m, x, ...) m(x) CHECK_FE_44(m, __VA_ARGS__)
#define CHECK_FE_46(m, x, ...) m(x) CHECK_FE_45(m, __VA_ARGS__)
#define CHECK_FE_47(m, x, ...) m(x) CHECK_FE_46(m, __VA_ARGS__)
#define CHECK_FE_48(m, x, ...) m(x) CHECK_FE_47(m, __VA_ARGS__)
#define CHECK_FE_49(m, x, ...) m(x) CHECK_FE_48(m, __VA_ARGS__)
#define CHECK_FE_50(m, x, ...) m(x) CHECK_FE_49(m, __VA_ARGS__)
#define CHECK_FE_51(m, x, ...) m(x) CHECK_FE_50(m, __VA_ARGS__)
#define CHECK_FE_52(m, x, ...) m(x) CHECK_FE_51(m, __VA_ARGS__)
#define CHECK_FE_53(m, x, ...) m(x) CHECK_FE_52(m, __VA_ARGS__)
#define CHECK_FE_54(m, x, ...) m(x) CHECK_FE_53(m, __VA_ARGS__)
#define CHECK_FE_55(m, x, ...) m(x) CHECK_FE_54(m, __VA_ARGS__)
#define CHECK_FE_56(m, x, ...) m(x) CHECK_FE_55(m, __VA_ARGS__)
#define CHECK_FE_57(m, x, ...) m(x) CHECK_FE_56(m, __VA_ARGS__)
#define CHECK_FE_58(m, x, ...) m(x) CHECK_FE_57(m, __VA_ARGS__)
#define CHECK_FE_59(m, x, ...) m(x) CHECK_FE_58(m, __VA_ARGS__)
#define CHECK_FE_60(m, x, ...) m(x) CHECK_FE_59(m, __VA_ARGS__)
#define CHECK_FE_61(m, x, ...) m(x) CHECK_FE_60(m, __VA_ARGS__)
#define CHECK_FE_62(m, x, ...) m(x) CHECK_FE_61(m, __VA_ARGS__)
#define CHECK_FE_63(m, x, ...) m(x) CHECK_FE_62(m, __VA_ARGS__)
#define CHECK_FE_64(m, x, ...) m(x) CHECK_FE_63(m, __VA_ARGS__)

#define check_run_all_(arr) check_run_((arr), sizeof(arr) / sizeof((arr)[0]))
#endif
