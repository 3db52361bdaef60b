/* plan_test.c — cmocka tests of the fault-plan parser/formatter, names, the fired-record
 * reader and the trace printer (everything in libffs_ctl that needs no shim). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "faultfs.h"

static ffs_plan *parse_ok(const char *text) {
  ffs_plan *p = NULL;
  char err[256];
  int rc = ffs_plan_parse(text, &p, err, sizeof err);
  if (rc != 0) fail_msg("'%s' should parse, got: %s", text, err);
  return p;
}

static void parse_bad(const char *text, const char *want_in_err) {
  ffs_plan *p = (ffs_plan *)0x1;
  char err[256];
  int rc = ffs_plan_parse(text, &p, err, sizeof err);
  if (rc != FFS_EPLAN) fail_msg("'%s' should be rejected", text);
  assert_null(p);
  if (!strstr(err, want_in_err)) fail_msg("'%s': error '%s' lacks '%s'", text, err, want_in_err);
}

static void full_rule_parses_every_field(void **st) {
  ffs_plan *p = parse_ok("torn@write(*.sst)#3:1000");
  assert_int_equal(p->nrules, 1);
  assert_int_equal(p->rules[0].action, FFS_A_TORN);
  assert_int_equal(p->rules[0].op, FFS_OP_WRITE);
  assert_string_equal(p->rules[0].glob, "*.sst");
  assert_int_equal(p->rules[0].n, 3);
  assert_int_equal(p->rules[0].plus, 0);
  assert_int_equal(p->rules[0].has_arg, 1);
  assert_int_equal(p->rules[0].arg, 1000);
  ffs_plan_free(p);
}

static void defaults_are_first_call_any_path_no_arg(void **st) {
  ffs_plan *p = parse_ok("crash@fsync");
  assert_int_equal(p->rules[0].n, 1);
  assert_string_equal(p->rules[0].glob, "");
  assert_int_equal(p->rules[0].has_arg, 0);
  ffs_plan_free(p);
}

static void several_rules_and_plus_suffix(void **st) {
  ffs_plan *p = parse_ok("enospc@write#40+; eio@fdatasync#2;kill-after@rename(MANIFEST-*);crash-after@sync");
  assert_int_equal(p->nrules, 4);
  assert_int_equal(p->rules[0].action, FFS_A_ENOSPC);
  assert_int_equal(p->rules[0].n, 40);
  assert_int_equal(p->rules[0].plus, 1);
  assert_int_equal(p->rules[1].op, FFS_OP_FDATASYNC);
  assert_int_equal(p->rules[2].action, FFS_A_KILL_AFTER);
  assert_string_equal(p->rules[2].glob, "MANIFEST-*");
  assert_int_equal(p->rules[3].op, FFS_OP_SYNC);
  ffs_plan_free(p);
}

static void every_action_and_op_name_round_trips(void **st) {
  for (int a = 0; a < FFS_A_COUNT; a++)
    assert_int_equal(ffs_action_from_name(ffs_action_name((ffs_action)a), strlen(ffs_action_name((ffs_action)a))), a);
  for (int o = 0; o <= FFS_OP_PLAN_LAST; o++)
    assert_int_equal(ffs_op_from_name(ffs_op_name((ffs_op)o), strlen(ffs_op_name((ffs_op)o))), o);
  /* trace-only ops cannot be named in a plan */
  assert_true(ffs_op_from_name("mmap", 4) < 0);
  assert_true(ffs_action_is_powercut(FFS_A_TORN));
  assert_false(ffs_action_is_powercut(FFS_A_KILL));
  assert_true(ffs_action_is_fatal(FFS_A_KILL_AFTER));
  assert_false(ffs_action_is_fatal(FFS_A_EIO));
}

static void empty_and_none_give_no_rules(void **st) {
  ffs_plan *p = parse_ok("");
  assert_int_equal(p->nrules, 0);
  char buf[16];
  assert_int_equal(ffs_plan_format(p, buf, sizeof buf), 4);
  assert_string_equal(buf, "none");
  ffs_plan_free(p);
  p = parse_ok("none");
  assert_int_equal(p->nrules, 0);
  ffs_plan_free(p);
}

static void format_is_canonical_and_reparses_equal(void **st) {
  static const char *const plans[] = {
      "crash@fsync(*.log)#17", "torn@write(*.sst)#3:1000", "eio@fdatasync#2", "enospc@write#40+",
      "flip@pread(*.sst):7;short@writev#2:10;kill@any", "crash@fsync#1", " edquot@rename ( x ) ",
  };
  static const char *const canon[] = {
      "crash@fsync(*.log)#17", "torn@write(*.sst)#3:1000", "eio@fdatasync#2", "enospc@write#40+",
      "flip@pread(*.sst):7;short@writev#2:10;kill@any", "crash@fsync", NULL,
  };
  for (size_t k = 0; k < sizeof plans / sizeof plans[0]; k++) {
    ffs_plan *p = NULL, *q;
    char err[256], buf[512], buf2[512];
    if (ffs_plan_parse(plans[k], &p, err, sizeof err) != 0) {
      assert_null(canon[k]); /* " edquot@rename ( x ) ": '(' must follow the op directly */
      continue;
    }
    assert_true(ffs_plan_format(p, buf, sizeof buf) > 0);
    if (canon[k]) assert_string_equal(buf, canon[k]);
    q = parse_ok(buf);
    assert_int_equal(q->nrules, p->nrules);
    assert_memory_equal(q->rules, p->rules, p->nrules * sizeof *p->rules);
    assert_true(ffs_plan_format(q, buf2, sizeof buf2) > 0);
    assert_string_equal(buf, buf2);
    ffs_plan_free(p);
    ffs_plan_free(q);
  }
}

static void format_reports_a_small_buffer(void **st) {
  ffs_plan *p = parse_ok("crash@fsync(*.log)#17");
  char buf[8];
  assert_int_equal(ffs_plan_format(p, buf, sizeof buf), FFS_ETOOBIG);
  ffs_plan_free(p);
}

static void invalid_plans_name_position_and_problem(void **st) {
  parse_bad("explode@write", "plan:1: unknown action 'explode'");
  parse_bad("crash@wrte", "plan:7: unknown op 'wrte'");
  parse_bad("crash", "expected '@'");
  parse_bad("@write", "expected an action");
  parse_bad("crash@", "expected an op");
  parse_bad("crash@write#", "bad N");
  parse_bad("crash@write#0", "bad N: calls are counted from 1");
  parse_bad("crash@write#x", "bad N");
  parse_bad("crash@write#99999999999999999999999", "bad N");
  parse_bad("crash@write(*.log", "bad glob: missing ')'");
  parse_bad("crash@write()", "bad glob: empty");
  parse_bad("crash@write([abc)", "bad glob");
  parse_bad("crash@write:5", "takes no ':ARG'");
  parse_bad("torn@fsync", "torn applies to write");
  parse_bad("short@read", "short applies to write");
  parse_bad("flip@write", "flip applies to read");
  parse_bad("torn@write:x", "bad ARG");
  parse_bad("crash@fsync;", "empty rule after ';'");
  parse_bad("crash@fsync;;eio@write", "expected an action");
  parse_bad("crash@fsync#3 junk", "unexpected 'j'");
  parse_bad("crash@mmap", "unknown op 'mmap'");
  /* the position points into the second rule */
  parse_bad("crash@fsync;eio@frob", "plan:17:");
}

static void models_parse_by_name(void **st) {
  assert_int_equal(ffs_model_from_name("strict"), FFS_MODEL_STRICT);
  assert_int_equal(ffs_model_from_name("ext4"), FFS_MODEL_EXT4);
  assert_int_equal(ffs_model_from_name("reorder"), FFS_MODEL_REORDER);
  assert_int_equal(ffs_model_from_name(NULL), FFS_MODEL_STRICT);
  assert_int_equal(ffs_model_from_name("xfs"), FFS_MODEL_XFS);
  assert_null(ffs_model_fs(FFS_MODEL_XFS)); /* a model, not a real file system */
  assert_true(ffs_model_from_name("btrfs") < 0);
  assert_int_equal(ffs_model_from_name("kernel-ext4"), FFS_MODEL_KERNEL_EXT4);
  assert_int_equal(ffs_model_from_name("kernel-xfs"), FFS_MODEL_KERNEL_XFS);
  assert_string_equal(ffs_model_fs(FFS_MODEL_KERNEL_XFS), "xfs");
  assert_null(ffs_model_fs(FFS_MODEL_EXT4));
}

static void fired_record_prefers_the_fatal_firing(void **st) {
  char dir[] = "/tmp/ffs-fired-XXXXXX", path[256];
  ffs_fired f;
  assert_non_null(mkdtemp(dir));
  assert_int_equal(ffs_state_claim(dir, NULL, 0), 0);
  assert_int_equal(ffs_fired_read(dir, &f), FFS_ENOTFIRED);
  snprintf(path, sizeof path, "%s/%s", dir, FFS_STATE_FIRED);
  FILE *fp = fopen(path, "w");
  fputs("0 eio write 3 1 0000000000000000 a b.log\n0 eio write 5 2 0000000000000000 a b.log\n"
        "1 crash fsync 9 1 9f3c0a1b22d4e570 x/000003.log\n2 eio wri", fp);
  fclose(fp);
  assert_int_equal(ffs_fired_read(dir, &f), 0);
  assert_int_equal(f.rule, 1);
  assert_int_equal(f.action, FFS_A_CRASH);
  assert_int_equal(f.op, FFS_OP_FSYNC);
  assert_int_equal(f.call_index, 9);
  assert_int_equal(f.match_index, 1);
  assert_string_equal(f.path, "x/000003.log");
  assert_true(f.site == 0x9f3c0a1b22d4e570ull);
  assert_int_equal(f.nfired, 3); /* the torn last line is ignored */
  assert_int_equal(f.powercut, 1);
  assert_int_equal(f.killed, 0);
  assert_int_equal(ffs_state_clear(dir), 0);
  assert_int_equal(ffs_fired_read(dir, &f), FFS_ENOTFIRED);
  snprintf(path, sizeof path, "%s/%s", dir, FFS_STATE_MARKER);
  unlink(path);
  rmdir(dir);
}

static void rollback_without_undo_log_is_a_noop(void **st) {
  char dir[] = "/tmp/ffs-rb-XXXXXX", err[128];
  assert_non_null(mkdtemp(dir));
  assert_int_equal(ffs_rollback(dir, dir, err, sizeof err), 0);
  rmdir(dir);
}

static void trace_record_formats_flags(void **st) {
  ffs_trace_rec r;
  char buf[512];
  memset(&r, 0, sizeof r);
  r.index = 17;
  r.op = FFS_OP_FSYNC;
  strcpy(r.path, "000003.log");
  r.offset = -1;
  r.dur = FFS_DUR_SYNC | FFS_DUR_FIRED;
  assert_true(ffs_trace_format(&r, buf, sizeof buf) > 0);
  assert_string_equal(buf, "17 fsync 000003.log off=-1 len=0 res=0 [sync,FIRED]");
  r.site = 0x9f3c0a1b22d4e570ull;
  strcpy(r.site_name, "wal_append+0x1a (sofadb+0x1234)");
  assert_true(ffs_trace_format(&r, buf, sizeof buf) > 0);
  assert_string_equal(buf, "17 fsync 000003.log off=-1 len=0 res=0 site=9f3c0a1b22d4e570 [sync,FIRED] @ wal_append+0x1a (sofadb+0x1234)");
  assert_string_equal(ffs_strerror(FFS_EPLAN), "malformed fault plan");
}


/* The action table is the one vocabulary: every row parses on each op it allows and on no
 * other, prints back to the same text, is consistent (a fatal action is a power cut or a
 * kill; a byte ARG is an ARG) and has ops a campaign aims it at, within the ones a plan may
 * name; the default campaign list names exactly the rows marked default. */
static void every_action_in_the_table_parses_prints_and_has_campaign_ops(void **state) {
  char text[64], out[128], err[256];
  const char *defaults = ffs_action_list(1), *all = ffs_action_list(0);
  for (int a = 0; a < FFS_A_COUNT; a++) {
    const ffs_action_info *ai = ffs_action_get((ffs_action)a);
    assert_non_null(ai);
    assert_string_equal(ai->name, ffs_action_name((ffs_action)a));
    assert_int_equal(ffs_action_from_name(ai->name, strlen(ai->name)), a);
    assert_non_null(strstr(all, ai->name));
    assert_int_equal(ai->fatal, ai->powercut || ai->kill);
    assert_false(ai->powercut && ai->kill);
    assert_true(!ai->arg_bytes || ai->arg);
    assert_true(ai->campaign_ops != 0);
    assert_int_equal(ai->campaign_ops & ~ai->plan_ops, 0);
    for (int op = 0; op <= FFS_OP_PLAN_LAST; op++) {
      ffs_plan *p = NULL;
      snprintf(text, sizeof text, "%s@%s#2%s", ai->name, ffs_op_name((ffs_op)op), ai->arg ? ":7" : "");
      int rc = ffs_plan_parse(text, &p, err, sizeof err);
      if (!(ai->plan_ops & FFS_OP_BIT(op))) {
        assert_int_equal(rc, FFS_EPLAN);
        assert_non_null(strstr(err, "applies to"));
        continue;
      }
      assert_int_equal(rc, 0);
      assert_int_equal(ffs_plan_format(p, out, sizeof out), (int)strlen(text));
      assert_string_equal(out, text);
      ffs_plan_free(p);
    }
    /* in the default list as a whole comma-separated word, or not at all */
    size_t n = strlen(ai->name);
    int listed = 0;
    for (const char *d = defaults; (d = strstr(d, ai->name)); d += n)
      if ((d == defaults || d[-1] == ',') && (d[n] == ',' || !d[n])) listed = 1;
    assert_int_equal(listed, ai->campaign_default);
  }
  assert_null(ffs_action_get(FFS_A_COUNT));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(full_rule_parses_every_field),
      cmocka_unit_test(defaults_are_first_call_any_path_no_arg),
      cmocka_unit_test(several_rules_and_plus_suffix),
      cmocka_unit_test(every_action_and_op_name_round_trips),
      cmocka_unit_test(every_action_in_the_table_parses_prints_and_has_campaign_ops),
      cmocka_unit_test(empty_and_none_give_no_rules),
      cmocka_unit_test(format_is_canonical_and_reparses_equal),
      cmocka_unit_test(format_reports_a_small_buffer),
      cmocka_unit_test(invalid_plans_name_position_and_problem),
      cmocka_unit_test(models_parse_by_name),
      cmocka_unit_test(fired_record_prefers_the_fatal_firing),
      cmocka_unit_test(rollback_without_undo_log_is_a_noop),
      cmocka_unit_test(trace_record_formats_flags),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
