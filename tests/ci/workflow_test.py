#!/usr/bin/python3
"""workflow_test - the shipped GitHub Actions workflow (.github/workflows/crash.yml) is
consistent and its commands work: the shards cover 1..N exactly, every shard's results are
uploaded even on a violation, the merge job reads exactly those shards, and the merged
report's links to kept crash images point into what the merge job uploads.

The campaign and merge commands are taken from the workflow file and run here, as the
runner would run them, with a smaller case budget and the deliberately broken target
sofadb-nosync, so there are failures and kept tarballs whose links can be checked.

usage: workflow_test.py SRC_DIR BUILD_DIR
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

SRC, BUILD = sys.argv[1], sys.argv[2]
WF = os.path.join(SRC, ".github/workflows/crash.yml")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def step(job, pred, what):
    for s in job["steps"]:
        if pred(s):
            return s
    fail("job has no step %s" % what)


with open(WF) as f:
    wf = yaml.safe_load(f)
jobs = wf.get("jobs") or fail("no jobs")
camp, merge = jobs.get("campaign"), jobs.get("merge")
if not camp or not merge:
    fail("want jobs 'campaign' and 'merge', have %s" % sorted(jobs))

# --- structure -------------------------------------------------------------------------
shards = camp["strategy"]["matrix"]["shard"]
n = len(shards)
if shards != list(range(1, n + 1)):
    fail("matrix shards %s are not 1..%d" % (shards, n))
if camp["strategy"].get("fail-fast", True):
    fail("campaign matrix must set fail-fast: false (a violating shard must not cancel the rest)")
run = step(camp, lambda s: "powercut campaign" in s.get("run", ""), "running powercut campaign")["run"]
if "--shard ${{ matrix.shard }}/%d" % n not in run:
    fail("campaign command does not shard as K/%d: %s" % (n, run))
m = re.search(r"--out ((?:[^\s$]|\$\{\{[^}]*\}\})+)", run) or fail("campaign has no --out")
out_tpl = m.group(1)
up = step(camp, lambda s: "upload-artifact" in s.get("uses", ""), "uploading the shard")
if up.get("if") != "always()":
    fail("shard upload must run if: always() (a violation exits 1)")
if up["with"]["path"] != out_tpl:
    fail("shard upload path %r is not the campaign's --out %r" % (up["with"]["path"], out_tpl))
if merge.get("needs") != "campaign" or merge.get("if") != "always()":
    fail("merge must need campaign and run if: always()")
mrun = step(merge, lambda s: "powercut report" in s.get("run", ""), "running powercut report")["run"]
outs = [out_tpl.replace("${{ matrix.shard }}", str(k)) for k in shards]
if mrun.split("powercut report", 1)[1].split("--out")[0].split() != outs:
    fail("merge reads %r, the shards write %r" % (mrun, outs))
mout = re.search(r"--out (\S+)", mrun).group(1)
mup = step(merge, lambda s: "upload-artifact" in s.get("uses", "") and
           mout in str(s["with"]["path"]), "uploading the merged report")
upload_globs = str(mup["with"]["path"]).split()
junit = step(merge, lambda s: "junit" in s.get("uses", ""), "publishing JUnit")
junit_path = junit["with"]["report_paths"]
for j in jobs.values():
    for s in j["steps"]:
        for path in re.findall(r"(?:scripts|\.ci)/[\w./-]+", s.get("run", "")):
            if not os.path.exists(os.path.join(SRC, path)):
                fail("workflow runs %s, which does not exist" % path)

# --- run the commands ------------------------------------------------------------------
with tempfile.TemporaryDirectory(prefix="pc-workflow-") as tmp:
    os.symlink(os.path.abspath(BUILD), os.path.join(tmp, "build"))
    # 120: the list opens with a case at each crash site's first call, early in the workload; the
    # nosync loss needs an acked sync write before the crash, which 40 such cases did not reach
    env = dict(os.environ, CASES="120")
    broken = run.replace("--target sofadb ", "--target sofadb-nosync ")
    if broken == run:
        fail("cannot find '--target sofadb ' in the campaign command")
    for k in shards:
        cmd = broken.replace("${{ matrix.shard }}", str(k))
        r = subprocess.run(["bash", "-e", "-c", cmd], cwd=tmp, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode not in (0, 1):
            fail("shard %d exited %d: %s" % (k, r.returncode, r.stderr[-2000:]))
    r = subprocess.run(["bash", "-e", "-c", mrun], cwd=tmp, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 1:
        fail("merge of a campaign on a broken target exited %d, want 1: %s"
             % (r.returncode, r.stderr[-2000:]))
    if not os.path.isfile(os.path.join(tmp, junit_path)):
        fail("JUnit file %s was not written" % junit_path)
    if not os.path.isfile(os.path.join(tmp, mout, "index.html")):
        fail("%s/index.html was not written" % mout)
    uploaded = set()
    for g in upload_globs:
        for p in glob.glob(os.path.join(tmp, g)):
            for root, _, files in os.walk(p):
                uploaded.update(os.path.normpath(os.path.join(root, f)) for f in files)
            if os.path.isfile(p):
                uploaded.add(os.path.normpath(p))
    kept = 0
    with open(os.path.join(tmp, mout, "results.jsonl")) as f:
        for line in f:
            c = json.loads(line)
            if not c.get("kept"):
                continue
            p = os.path.normpath(os.path.join(tmp, mout, c["kept"]))
            if not os.path.isfile(p):
                fail("merged report links %s, which does not exist" % c["kept"])
            if p not in uploaded:
                fail("merged report links %s, which the merge job does not upload (%s)"
                     % (c["kept"], upload_globs))
            kept += 1
    if kept == 0:
        fail("the broken target gave no kept crash image to check")
print("ok: workflow with %d shards; %d kept links in the merged report are uploaded" % (n, kept))
