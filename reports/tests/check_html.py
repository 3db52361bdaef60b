#!/usr/bin/env python3
"""check_html.py - checks a powercut index.html with python3's HTML parser:
every element that is opened is closed, in order (void elements aside), and
no attribute references anything outside the page (a URL with a scheme or
a protocol-relative //host). Exits 0 if so, 1 with a reason otherwise.

usage: check_html.py FILE
"""
import html.parser
import re
import sys

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}
URL_ATTRS = {"src", "href", "xlink:href", "action", "poster", "data"}


class Checker(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.problems = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in URL_ATTRS and v is not None and \
                    (re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", v.strip()) or v.strip().startswith("//")):
                self.problems.append("external reference %s=%r in <%s>" % (k, v, tag))
        if tag in ("script", "iframe", "object", "link"):
            self.problems.append("<%s> is not allowed in a self-contained report" % tag)
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack:
            self.problems.append("</%s> closes nothing at %s" % (tag, self.getpos()))
            return
        top, pos = self.stack.pop()
        if top != tag:
            self.problems.append("</%s> at %s closes <%s> opened at %s" % (tag, self.getpos(), top, pos))


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    c = Checker()
    c.feed(text)
    c.close()
    if c.stack:
        c.problems.append("unclosed: %s" % ", ".join(t for t, _ in c.stack[-5:]))
    if "@import" in text or "url(" in text:
        c.problems.append("CSS loads something (@import or url())")
    for p in c.problems[:10]:
        print("check_html: " + p, file=sys.stderr)
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main())
