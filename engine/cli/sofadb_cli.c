/*
 * sofadb_cli.c - the sofadb command-line tool.
 *
 *   sofadb DIR put [--sync] K V | get K | del [--sync] K | scan [FROM [TO]]
 *   sofadb DIR load N [--seed S] [--batch B] [--keys K] | stats [--format prometheus]
 *   sofadb DIR check | dump FILE
 *   any command: --opt NAME=VALUE (an sdb_options field; unknown names are an error)
 *   sofadb --help | sofadb help CMD | sofadb DIR CMD --help
 *
 * Exit status: 0 ok, 1 key not found (get), 2 usage error, 3 database error
 * (I/O, corruption: check exits 3 naming file and offset).
 *
 * get, scan, stats, check and dump open the database read-only (option
 * read_only): they never create, change or delete a file in DIR, not even
 * LOCK. put, del and load open it for writing (creating it if missing).
 */
#include "sofadb.h"
#include "tools.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EX_NOTFOUND 1
#define EX_USAGE 2
#define EX_DB 3

typedef struct cmd cmd;

/* The command line after the command's name: positional arguments and the
 * options the command takes. */
typedef struct args {
  const char *dir;
  const char *pos[8];
  int npos;
  int sync;                    /* put, del: --sync */
  uint64_t seed, batch, nkeys; /* load: --seed, --batch, --keys */
  const char *format;          /* stats: --format */
} args;

/* The options a command takes besides --opt and --help. */
enum { OPT_SYNC = 1, OPT_LOAD = 2, OPT_FORMAT = 4 };

struct cmd {
  const char *name, *args, *help;
  int minpos, maxpos; /* how many positional arguments */
  int opts;           /* OPT_* */
  int (*run)(const cmd *c, const args *a);
};

static int cmd_help(const cmd *c) {
  printf("usage: sofadb DIR %s %s\n\n%s\n", c->name, c->args, c->help);
  return 0;
}

static int bad_usage(const cmd *c, const char *what) {
  fprintf(stderr, "sofadb %s: %s\nusage: sofadb DIR %s %s\n", c->name, what, c->name, c->args);
  return EX_USAGE;
}

static int db_error(const char *what, int rc, sdb *db) {
  const char *m = db ? sdb_errmsg(db) : "";
  fprintf(stderr, "sofadb: %s: %s%s%s\n", what, sdb_strerror(rc), *m ? ": " : "", m);
  return EX_DB;
}

/* The options every command opens with: defaults, then every --opt
 * NAME=VALUE. Commands that only read do not create a database. */
static sdb_options g_opt;

/* "name: value" lines -> Prometheus text format. Numeric values become
 * gauges sofadb_<name>; "levelN: files F bytes B ..." becomes per-level
 * series; other lines (file names, states) are skipped. */
static void print_prometheus(const char *stats) {
  char line[512];
  const char *p = stats;
  while (*p) {
    size_t n = strcspn(p, "\n");
    if (n >= sizeof line) n = sizeof line - 1;
    memcpy(line, p, n);
    line[n] = 0;
    p += n + (p[n] == '\n');
    char *colon = strstr(line, ": ");
    if (!colon) continue;
    *colon = 0;
    char *val = colon + 2, *end;
    int level;
    if (sscanf(line, "level%d", &level) == 1) {
      char *tok = strtok(val, " ");
      while (tok) {
        char *num = strtok(NULL, " ");
        if (!num) break;
        printf("sofadb_level_%s{level=\"%d\"} %s\n", tok, level, num);
        tok = strtok(NULL, " ");
      }
      continue;
    }
    strtod(val, &end);
    if (end == val || (*end && *end != ' ')) continue;
    *end = 0;
    printf("# TYPE sofadb_%s gauge\nsofadb_%s %s\n", line, line, val);
  }
}

/* write: 1 = open for writing, creating a missing database; 0 = read-only */
static int open_db(const char *dir, int write, sdb **db) {
  sdb_options o = g_opt;
  o.create_if_missing = write;
  if (!write) o.read_only = 1;
  int rc = sdb_open(dir, &o, db);
  if (rc) {
    db_error("open", rc, *db);
    sdb_close(*db);
    *db = NULL;
  }
  return rc;
}

static int finish(sdb *db, int ex) {
  int rc = sdb_close(db);
  if (rc && ex == 0) {
    fprintf(stderr, "sofadb: close: %s\n", sdb_strerror(rc));
    return EX_DB;
  }
  return ex;
}

static void put_escaped(const void *p, size_t n) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\\')
      fputs("\\\\", stdout);
    else if (s[i] >= 0x20 && s[i] < 0x7f)
      putchar(s[i]);
    else
      printf("\\x%02x", s[i]);
  }
}

static uint64_t rng_next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static int parse_u64(const char *s, uint64_t *v) {
  char *end;
  if (!*s || *s == '-') return -1;
  *v = strtoull(s, &end, 10);
  return *end ? -1 : 0;
}

static double secs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- commands ---- */
static int run_check(const cmd *c, const args *a) {
  char msg[512];
  (void)c;
  int rc = sdb__check_dir(a->dir, stdout, msg, sizeof msg);
  if (rc) {
    fprintf(stderr, "sofadb: check: %s: %s\n", sdb_strerror(rc), msg);
    return EX_DB;
  }
  printf("%s\n", msg);
  return 0;
}

static int run_dump(const cmd *c, const args *a) {
  char msg[512], path[4096];
  (void)c;
  if (strchr(a->pos[0], '/'))
    snprintf(path, sizeof path, "%s", a->pos[0]);
  else
    snprintf(path, sizeof path, "%s/%s", a->dir, a->pos[0]);
  int rc = sdb__dump_file(path, stdout, msg, sizeof msg);
  if (rc) {
    fprintf(stderr, "sofadb: dump: %s: %s\n", sdb_strerror(rc), msg);
    return rc == SDB_EINVAL ? EX_USAGE : EX_DB;
  }
  return 0;
}

static int run_put(const cmd *c, const args *a) {
  sdb *db;
  int rc;
  (void)c;
  if (open_db(a->dir, 1, &db)) return EX_DB;
  if ((rc = sdb_put(db, a->pos[0], strlen(a->pos[0]), a->pos[1], strlen(a->pos[1]), a->sync)))
    return finish(db, db_error("put", rc, db));
  return finish(db, 0);
}

static int run_del(const cmd *c, const args *a) {
  sdb *db;
  int rc;
  (void)c;
  if (open_db(a->dir, 1, &db)) return EX_DB;
  if ((rc = sdb_delete(db, a->pos[0], strlen(a->pos[0]), a->sync))) return finish(db, db_error("del", rc, db));
  return finish(db, 0);
}

static int run_get(const cmd *c, const args *a) {
  sdb *db;
  void *v;
  size_t vn;
  (void)c;
  if (open_db(a->dir, 0, &db)) return EX_DB;
  int rc = sdb_get(db, a->pos[0], strlen(a->pos[0]), &v, &vn);
  if (rc == SDB_ENOTFOUND) {
    fprintf(stderr, "sofadb: get: key not found\n");
    return finish(db, EX_NOTFOUND);
  }
  if (rc) return finish(db, db_error("get", rc, db));
  fwrite(v, 1, vn, stdout);
  putchar('\n');
  free(v);
  return finish(db, 0);
}

static int run_scan(const cmd *c, const args *a) {
  sdb *db;
  sdb_iter *it;
  const char *from = a->npos > 0 ? a->pos[0] : NULL, *to = a->npos > 1 ? a->pos[1] : NULL;
  (void)c;
  if (open_db(a->dir, 0, &db)) return EX_DB;
  int rc = sdb_iter_create(db, from, from ? strlen(from) : 0, to, to ? strlen(to) : 0, &it);
  if (rc) return finish(db, db_error("scan", rc, db));
  for (; sdb_iter_valid(it); sdb_iter_next(it)) {
    size_t kn, vn;
    const void *k = sdb_iter_key(it, &kn), *v = sdb_iter_value(it, &vn);
    put_escaped(k, kn);
    putchar('\t');
    put_escaped(v, vn);
    putchar('\n');
  }
  rc = sdb_iter_status(it);
  sdb_iter_free(it);
  if (rc) return finish(db, db_error("scan", rc, db));
  return finish(db, 0);
}

static int run_stats(const cmd *c, const args *a) {
  sdb *db;
  char buf[4096];
  int rc;
  (void)c;
  double t0 = secs();
  if (open_db(a->dir, 0, &db)) return EX_DB;
  double t1 = secs();
  if ((rc = sdb_stats(db, buf, sizeof buf))) return finish(db, db_error("stats", rc, db));
  if (!strcmp(a->format, "prometheus")) {
    print_prometheus(buf);
    printf("# TYPE sofadb_open_wall_seconds gauge\nsofadb_open_wall_seconds %.6f\n", t1 - t0);
  } else {
    printf("%sopen_wall_ms: %.3f\n", buf, (t1 - t0) * 1e3);
  }
  return finish(db, 0);
}

/* load's next key (16 hex digits) from the generator state; returns the
 * number it is made of. */
static uint64_t load_key(uint64_t *s, uint64_t nkeys, char key[16]) {
  uint64_t r = rng_next(s);
  if (nkeys) { /* one of nkeys keys: a fixed bijective scramble of r % nkeys */
    uint64_t x = r % nkeys + 1;
    r = rng_next(&x);
  }
  for (int j = 0; j < 16; j++) key[j] = "0123456789abcdef"[(r >> (60 - 4 * j)) & 15];
  return r;
}

static int run_load(const cmd *c, const args *a) {
  uint64_t n, s;
  char key[17], val[101], pattern[200];
  sdb *db;
  sdb_batch *b = NULL;
  int rc = 0;
  if (parse_u64(a->pos[0], &n)) return bad_usage(c, "N must be a number");
  if (open_db(a->dir, 1, &db)) return EX_DB;
  if (a->batch > 1 && sdb_batch_create(&b)) return finish(db, db_error("load", SDB_ENOMEM, db));
  s = a->seed ^ 0x5bd1e995;
  for (int j = 0; j < 200; j++) pattern[j] = (char)('a' + rng_next(&s) % 26);
  s = a->seed;
  key[16] = 0;
  double t0 = secs();
  for (uint64_t i = 0; i < n; i++) {
    uint64_t r = load_key(&s, a->nkeys, key);
    memcpy(val, pattern + r % 100, 100); /* value varies with the key, cheaply */
    if (i == 0) printf("first key: %s\n", key);
    if (b) {
      if ((rc = sdb_batch_put(b, key, 16, val, 100))) break;
      if ((i + 1) % a->batch == 0 || i + 1 == n) {
        rc = sdb_write(db, b, 0);
        sdb_batch_clear(b);
      }
    } else {
      rc = sdb_put(db, key, 16, val, 100, 0);
    }
    if (rc) {
      sdb_batch_free(b);
      return finish(db, db_error("load", rc, db));
    }
  }
  double t1 = secs();
  sdb_batch_free(b);
  { /* this session's counters (write amplification...) die with the handle */
    char st[8192];
    if (!sdb_stats(db, st, sizeof st)) printf("%s", st);
  }
  rc = sdb_close(db);
  double t2 = secs();
  if (rc) return db_error("close", rc, NULL);
  printf("load: %" PRIu64 " puts in %.3f s: %.0f ops/s (close+sync %.3f s)\n", n, t1 - t0,
         (double)n / (t1 - t0 > 0 ? t1 - t0 : 1e-9), t2 - t1);
  return 0;
}

static const cmd cmds[] = {
    {.name = "put", .args = "[--sync] KEY VALUE", .minpos = 2, .maxpos = 2, .opts = OPT_SYNC, .run = run_put,
     .help = "Store VALUE under KEY. --sync: fdatasync the WAL before returning."},
    {.name = "get", .args = "KEY", .minpos = 1, .maxpos = 1, .run = run_get,
     .help = "Print the value of KEY (raw bytes, then a newline). Exit 1 if absent."},
    {.name = "del", .args = "[--sync] KEY", .minpos = 1, .maxpos = 1, .opts = OPT_SYNC, .run = run_del,
     .help = "Delete KEY. --sync: fdatasync the WAL before returning."},
    {.name = "scan", .args = "[FROM [TO]]", .minpos = 0, .maxpos = 2, .run = run_scan,
     .help = "Print KEY<TAB>VALUE lines in key order for FROM <= KEY < TO\n"
             "(non-printable bytes escaped as \\xNN)."},
    {.name = "load", .args = "N [--seed S] [--batch B] [--keys K]", .minpos = 1, .maxpos = 1, .opts = OPT_LOAD,
     .run = run_load,
     .help = "N random puts of 16-byte keys and 100-byte values, no sync (the WAL is\n"
             "synced once at close); prints puts/s. --batch B: B puts per atomic batch\n"
             "(default 1: one WAL record per put). --seed: key generator seed (default 1).\n"
             "--keys K: draw the keys from K distinct ones (overwrites; default: all distinct)."},
    {.name = "stats", .args = "[--format text|prometheus]", .minpos = 0, .maxpos = 0, .opts = OPT_FORMAT,
     .run = run_stats,
     .help = "Print engine statistics; open_us is the time the open (recovery) took.\n"
             "--format prometheus: the Prometheus text exposition format (sofadb_* gauges)."},
    {.name = "check", .args = "", .minpos = 0, .maxpos = 0, .run = run_check,
     .help = "Verify every checksum of every live file (MANIFEST, tables, WAL).\n"
             "Exit 3 on corruption, naming the file and offset."},
    {.name = "dump", .args = "FILE", .minpos = 1, .maxpos = 1, .run = run_dump,
     .help = "Print a WAL (NNNNNN.log), table (NNNNNN.sst) or MANIFEST-NNNNNN readably.\n"
             "FILE is taken relative to DIR unless it contains a '/'."},
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

static void usage(FILE *f) {
  fprintf(f, "usage: sofadb DIR COMMAND [ARGS]\n       sofadb help COMMAND\n       sofadb --version\n\ncommands:\n");
  for (size_t i = 0; i < NCMDS; i++) fprintf(f, "  %-6s %s\n", cmds[i].name, cmds[i].args);
  fprintf(f, "\nget, scan, stats, check and dump open DIR read-only: they change no file in it.\n"
             "Exit status: 0 ok, 1 not found (get), 2 usage error, 3 database error.\n");
}

static const cmd *find_cmd(const char *name) {
  for (size_t i = 0; i < NCMDS; i++)
    if (!strcmp(cmds[i].name, name)) return &cmds[i];
  return NULL;
}

/* --opt NAME=VALUE at argv[i]: applied to g_opt. 0, or the usage error. */
static int parse_opt(const cmd *c, int argc, char **argv, int i) {
  char m[1024], name[64];
  const char *eq = i + 1 < argc ? strchr(argv[i + 1], '=') : NULL;
  if (!eq || eq == argv[i + 1] || (size_t)(eq - argv[i + 1]) >= sizeof name) return bad_usage(c, "--opt takes NAME=VALUE");
  memcpy(name, argv[i + 1], (size_t)(eq - argv[i + 1]));
  name[eq - argv[i + 1]] = 0;
  if (sdb_options_set(&g_opt, name, eq + 1, m, sizeof m)) return bad_usage(c, m);
  return 0;
}

/* The option at argv[*i] (it starts with "--"); *i moves past its value.
 * 0, or the usage error. */
static int parse_option(const cmd *c, int argc, char **argv, int *i, args *a) {
  const char *o = argv[*i];
  if (!strcmp(o, "--sync") && (c->opts & OPT_SYNC)) {
    a->sync = 1;
  } else if ((!strcmp(o, "--seed") || !strcmp(o, "--batch") || !strcmp(o, "--keys")) && (c->opts & OPT_LOAD)) {
    uint64_t v;
    if (*i + 1 >= argc || parse_u64(argv[*i + 1], &v) || (strcmp(o, "--seed") && v == 0))
      return bad_usage(c, "option needs a positive number");
    *(!strcmp(o, "--seed") ? &a->seed : !strcmp(o, "--batch") ? &a->batch : &a->nkeys) = v;
    ++*i;
  } else if (!strcmp(o, "--format") && (c->opts & OPT_FORMAT)) {
    if (*i + 1 >= argc || (strcmp(argv[*i + 1], "text") && strcmp(argv[*i + 1], "prometheus")))
      return bad_usage(c, "--format takes text or prometheus");
    a->format = argv[++*i];
  } else if (!strcmp(o, "--opt")) {
    int rc = parse_opt(c, argc, argv, *i);
    if (rc) return rc;
    ++*i;
  } else {
    char m[128];
    snprintf(m, sizeof m, "unknown option '%s'", o);
    return bad_usage(c, m);
  }
  return 0;
}

/* The command's arguments argv[3..]: -1 when they ask for --help (printed),
 * else 0 or the usage error. */
static int parse_args(const cmd *c, int argc, char **argv, args *a) {
  int rc;
  for (int i = 3; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "--help") || !strcmp(s, "-h")) return cmd_help(c), -1;
    if (!strcmp(s, "--")) {
      while (++i < argc && a->npos < 8) a->pos[a->npos++] = argv[i];
      break;
    }
    if (s[0] == '-' && s[1] == '-') {
      if ((rc = parse_option(c, argc, argv, &i, a))) return rc;
      continue;
    }
    if (a->npos == 8) return bad_usage(c, "too many arguments");
    a->pos[a->npos++] = s;
  }
  if (a->npos < c->minpos || a->npos > c->maxpos)
    return bad_usage(c, a->npos < c->minpos ? "missing argument" : "too many arguments");
  return 0;
}

int main(int argc, char **argv) {
  const cmd *c;
  args a = {.seed = 1, .batch = 1, .format = "text"};
  int rc;
  sdb_options_init(&g_opt);
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? EX_USAGE : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("sofadb %s\n", PC_VERSION);
    return 0;
  }
  if (!strcmp(argv[1], "help")) {
    if (argc == 2) return usage(stdout), 0;
    if (!(c = find_cmd(argv[2]))) {
      fprintf(stderr, "sofadb: unknown command '%s'\n", argv[2]);
      return EX_USAGE;
    }
    return cmd_help(c);
  }
  if (argv[1][0] == '-') {
    fprintf(stderr, "sofadb: unknown option '%s'\n", argv[1]);
    usage(stderr);
    return EX_USAGE;
  }
  a.dir = argv[1];
  if (!*a.dir) {
    fprintf(stderr, "sofadb: DIR is empty: give the database directory\n");
    usage(stderr);
    return EX_USAGE;
  }
  if (argc < 3) {
    fprintf(stderr, "sofadb: missing command\n");
    usage(stderr);
    return EX_USAGE;
  }
  if (!(c = find_cmd(argv[2]))) {
    fprintf(stderr, "sofadb: unknown command '%s'\n", argv[2]);
    usage(stderr);
    return EX_USAGE;
  }
  if ((rc = parse_args(c, argc, argv, &a))) return rc < 0 ? 0 : rc;
  return c->run(c, &a);
}
