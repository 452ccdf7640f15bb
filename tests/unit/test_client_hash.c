/* test_client_hash.c - keyed client pseudonyms: HMAC-SHA256 (RFC 2104) as
 * computed independently, stable per key, different across keys and
 * address families, the key file rules, and the config setting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl_client_hash.h"
#include "fl_config.h"
#include "fl_test_util.h"

static fl_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    fl_addr x;
    memset(&x, 0, sizeof x);
    x.family = 4;
    x.b[0] = a;
    x.b[1] = b;
    x.b[2] = c;
    x.b[3] = d;
    return x;
}

static const uint8_t key1[32] = "0123456789abcdef0123456789abcdef";

START_TEST(stable_and_keyed)
{
    char err[256];
    fl_client_hasher *h = fl_client_hasher_new(key1, sizeof key1, err, sizeof err);
    ck_assert_msg(h != NULL, "%s", err);
    fl_addr a = v4(192, 0, 2, 1), b = v4(192, 0, 2, 2);
    char s1[FL_CLIENT_HASH_STR], s2[FL_CLIENT_HASH_STR], s3[FL_CLIENT_HASH_STR];
    fl_client_hash_str(h, &a, s1);
    fl_client_hash_str(h, &a, s2);
    fl_client_hash_str(h, &b, s3);
    ck_assert_str_eq(s1, s2);
    ck_assert_str_ne(s1, s3);
    ck_assert_uint_eq(strlen(s1), FL_CLIENT_HASH_STR - 1);
    ck_assert(strncmp(s1, "c:", 2) == 0);
    ck_assert_uint_eq(strspn(s1 + 2, "0123456789abcdef"), 32);
    /* the address itself appears nowhere in the pseudonym */
    ck_assert_ptr_null(strstr(s1, "c0000201"));

    /* same bytes, other family: another pseudonym */
    fl_addr a6 = a;
    a6.family = 6;
    fl_client_hash_str(h, &a6, s2);
    ck_assert_str_ne(s1, s2);

    /* another key: another pseudonym for the same client */
    uint8_t key2[32];
    memcpy(key2, key1, sizeof key2);
    key2[31] ^= 1;
    fl_client_hasher *h2 = fl_client_hasher_new(key2, sizeof key2, err, sizeof err);
    ck_assert_ptr_nonnull(h2);
    fl_client_hash_str(h2, &a, s2);
    ck_assert_str_ne(s1, s2);
    fl_client_hasher_free(h2);
    fl_client_hasher_free(h);
}
END_TEST

/* The value is HMAC-SHA256(key, family || 16 address bytes) cut to 16
 * bytes; checked against a digest computed independently (Python's hmac
 * module: hmac.new(key, bytes([4,192,0,2,1]) + bytes(12), sha256)). */
START_TEST(known_value)
{
    char err[256];
    fl_client_hasher *h = fl_client_hasher_new(key1, sizeof key1, err, sizeof err);
    ck_assert_ptr_nonnull(h);
    fl_addr a = v4(192, 0, 2, 1);
    char s[FL_CLIENT_HASH_STR];
    fl_client_hash_str(h, &a, s);
    ck_assert_str_eq(s, "c:01151718e1f327ab15b89e8d50e6c03c");
    fl_client_hasher_free(h);
}
END_TEST

START_TEST(key_rules)
{
    char err[256];
    ck_assert_ptr_null(fl_client_hasher_new(key1, FL_CLIENT_KEY_MIN - 1, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "need 16"));
    ck_assert_ptr_null(fl_client_hasher_from_file("/nonexistent/key", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/key"));

    char path[] = "/tmp/fl_keyXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    /* a key file with a trailing newline hashes like the bare key */
    ck_assert_int_eq(write(fd, key1, sizeof key1), (int)sizeof key1);
    ck_assert_int_eq(write(fd, "\n", 1), 1);
    close(fd);
    fl_client_hasher *hf = fl_client_hasher_from_file(path, err, sizeof err);
    ck_assert_msg(hf != NULL, "%s", err);
    fl_client_hasher *hk = fl_client_hasher_new(key1, sizeof key1, err, sizeof err);
    fl_addr a = v4(10, 1, 2, 3);
    uint8_t d1[FL_CLIENT_HASH_LEN], d2[FL_CLIENT_HASH_LEN];
    fl_client_hash(hf, &a, d1);
    fl_client_hash(hk, &a, d2);
    ck_assert_mem_eq(d1, d2, sizeof d1);
    fl_client_hasher_free(hf);
    fl_client_hasher_free(hk);
    /* too short */
    FILE *f = fopen(path, "wb");
    fputs("short\n", f);
    fclose(f);
    ck_assert_ptr_null(fl_client_hasher_from_file(path, err, sizeof err));
    unlink(path);
}
END_TEST

START_TEST(config_setting)
{
    fl_config c;
    fl_config_defaults(&c);
    ck_assert_str_eq(c.client_key_file, "");
    char err[256];
    ck_assert_msg(
        fl_config_set(&c, "privacy.client_key_file", "/etc/faultline/client.key", err, sizeof err),
        "%s", err);
    ck_assert_str_eq(c.client_key_file, "/etc/faultline/client.key");
}
END_TEST

static Suite *client_hash_suite(void)
{
    Suite *s = suite_create("client_hash");
    TCase *t = tcase_create("hmac");
    tcase_add_test(t, stable_and_keyed);
    tcase_add_test(t, known_value);
    tcase_add_test(t, key_rules);
    tcase_add_test(t, config_setting);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return fl_test_run(client_hash_suite());
}
