#!/usr/bin/env python3
"""check_junit.py - checks that a powercut junit.xml is well-formed and has the
structure CI systems expect: a <testsuites> root, <testsuite> children whose
tests/failures/errors attributes match the <testcase> elements they hold, and
root totals equal to the sums. Exits 0 if so, 1 with a reason otherwise.

usage: check_junit.py FILE --tests N --failures N --errors N --suites N
                      [--expect-name ID]... [--expect-body TEXT]...
"""
import argparse
import sys
import xml.etree.ElementTree as ET


def fail(msg):
    print("check_junit: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--tests", type=int, required=True)
    ap.add_argument("--failures", type=int, required=True)
    ap.add_argument("--errors", type=int, required=True)
    ap.add_argument("--suites", type=int, required=True)
    ap.add_argument("--expect-name", action="append", default=[])
    ap.add_argument("--expect-body", action="append", default=[])
    a = ap.parse_args()

    try:
        root = ET.parse(a.file).getroot()
    except ET.ParseError as e:
        fail("not well-formed XML: %s" % e)
    if root.tag != "testsuites":
        fail("root is <%s>, not <testsuites>" % root.tag)
    suites = list(root)
    if any(s.tag != "testsuite" for s in suites):
        fail("a child of <testsuites> is not a <testsuite>")
    if len(suites) != a.suites:
        fail("%d testsuites, expected %d" % (len(suites), a.suites))

    tot = {"tests": 0, "failures": 0, "errors": 0}
    names = set()
    bodies = []
    for s in suites:
        for attr in ("name", "tests", "failures", "errors", "time"):
            if attr not in s.attrib:
                fail("testsuite %r lacks %s" % (s.get("name"), attr))
        cases = s.findall("testcase")
        if len(cases) != len(list(s)):
            fail("testsuite %r holds something other than testcases" % s.get("name"))
        nf = ne = 0
        for c in cases:
            if not c.get("classname") or not c.get("name") or c.get("time") is None:
                fail("a testcase lacks classname, name or time")
            float(c.get("time"))
            names.add(c.get("name"))
            kids = list(c)
            if len(kids) > 1:
                fail("testcase %r has %d children" % (c.get("name"), len(kids)))
            for k in kids:
                if k.tag not in ("failure", "error"):
                    fail("unexpected <%s> in a testcase" % k.tag)
                msg = k.get("message", "")
                if ": " not in msg or msg.split(": ")[0] != k.get("type"):
                    fail("message %r does not start with its verdict %r" % (msg, k.get("type")))
                if "powercut repro '" not in (k.text or ""):
                    fail("no repro command in the body of %r" % c.get("name"))
                bodies.append(k.text or "")
                nf += k.tag == "failure"
                ne += k.tag == "error"
        if int(s.get("tests")) != len(cases) or int(s.get("failures")) != nf \
                or int(s.get("errors")) != ne:
            fail("testsuite %r: attributes tests=%s failures=%s errors=%s, content %d/%d/%d"
                 % (s.get("name"), s.get("tests"), s.get("failures"), s.get("errors"),
                    len(cases), nf, ne))
        tot["tests"] += len(cases)
        tot["failures"] += nf
        tot["errors"] += ne
    for k in tot:
        if int(root.get(k, "-1")) != tot[k]:
            fail("root %s=%s but the suites hold %d" % (k, root.get(k), tot[k]))
    if (tot["tests"], tot["failures"], tot["errors"]) != (a.tests, a.failures, a.errors):
        fail("tests/failures/errors = %d/%d/%d, expected %d/%d/%d"
             % (tot["tests"], tot["failures"], tot["errors"], a.tests, a.failures, a.errors))
    for n in a.expect_name:
        if n not in names:
            fail("no testcase named %r" % n)
    for t in a.expect_body:
        if not any(t in b for b in bodies):
            fail("no failure body contains %r" % t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
