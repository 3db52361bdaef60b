/*
 * escape.c - XML/HTML escaping that keeps the output well-formed whatever
 * bytes a case carries: markup characters become entities, and bytes that
 * XML 1.0 cannot hold (invalid UTF-8, control characters, U+FFFE/U+FFFF)
 * become the visible text \xNN, so nothing is dropped silently.
 */
#include "rpt_int.h"

/* Length of the valid UTF-8 sequence XML may hold at s, or 0. */
static int utf8_ok(const unsigned char *s) {
  unsigned c = s[0];
  uint32_t cp;
  int n, i;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
  else return 0;
  for (i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;   /* also stops at NUL */
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;                              /* overlong or out of range */
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
    return 0;
  return n;
}

static void escape(FILE *f, const char *str, int attr) {
  const unsigned char *s = (const unsigned char *)(str ? str : "");
  while (*s) {
    unsigned c = *s;
    int n;
    switch (c) {
    case '&': fputs("&amp;", f); s++; continue;
    case '<': fputs("&lt;", f); s++; continue;
    case '>': fputs("&gt;", f); s++; continue;
    case '"': fputs(attr ? "&quot;" : "\"", f); s++; continue;
    case '\'': fputs(attr ? "&#39;" : "'", f); s++; continue;
    case '\n': fputs(attr ? "&#10;" : "\n", f); s++; continue;
    case '\t': fputs(attr ? "&#9;" : "\t", f); s++; continue;
    default: break;
    }
    if (c < 0x20 || c == 0x7F || !(n = utf8_ok(s))) {
      fprintf(f, "\\x%02x", c);
      s++;
      continue;
    }
    fwrite(s, 1, (size_t)n, f);
    s += n;
  }
}

void rpt__xml_text(FILE *f, const char *s) { escape(f, s, 0); }
void rpt__xml_attr(FILE *f, const char *s) { escape(f, s, 1); }
