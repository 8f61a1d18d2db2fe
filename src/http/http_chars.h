/* Character classes shared by the HTTP parser and serializers, so both accept
 * exactly the same bytes (RFC 9110 section 5.6.2 tokens, 5.5 field values;
 * RFC 9112 section 3.2 request targets). */
#ifndef CAMRTC_HTTP_CHARS_H
#define CAMRTC_HTTP_CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static inline bool http_is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static inline bool http_is_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!http_is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

/* field-vchar / SP / HTAB: every byte but the controls (CR, LF and NUL among them) and DEL. */
static inline bool http_is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static inline bool http_is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Printable ASCII without space; '#' is refused because a fragment is never sent. */
static inline bool http_is_target_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '#';
}

#endif
