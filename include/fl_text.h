/* fl_text.h - names from the traffic (SNI, Host, queried names) made
 * visible in reports.
 *
 * Host names on the wire are ASCII (RFC 6066 section 3 for the SNI, RFC
 * 1035 / RFC 5890 A-labels for DNS, RFC 9110 for Host); any other byte is
 * a broken or hostile client, and the analyst should see which bytes it
 * sent, not a row of `?` or a replacement character: every byte outside
 * printable ASCII is written as \xNN. A backslash is kept: the names'
 * sources escape their own odd bytes the same way (the classifier as
 * \xNN, DNS names as \DDD, RFC 1035 5.1), and escaping them twice would
 * hide the bytes again.
 */
#ifndef FL_TEXT_H
#define FL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* The escaped text of s into out (always NUL-terminated when outlen > 0,
 * cut at a whole escape). Returns true when something was escaped. An
 * out of 4 * strlen(s) + 1 bytes always holds it all. */
bool fl_text_visible(const char *s, char *out, size_t outlen);

#endif
