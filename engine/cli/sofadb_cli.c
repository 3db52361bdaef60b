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

typedef struct cmd {
  const char *name, *args, *help;
} cmd;

static const cmd cmds[] = {
    {"put", "[--sync] KEY VALUE", "Store VALUE under KEY. --sync: fdatasync the WAL before returning."},
    {"get", "KEY", "Print the value of KEY (raw bytes, then a newline). Exit 1 if absent."},
    {"del", "[--sync] KEY", "Delete KEY. --sync: fdatasync the WAL before returning."},
    {"scan", "[FROM [TO]]", "Print KEY<TAB>VALUE lines in key order for FROM <= KEY < TO\n"
                            "(non-printable bytes escaped as \\xNN)."},
    {"load", "N [--seed S] [--batch B] [--keys K]",
     "N random puts of 16-byte keys and 100-byte values, no sync (the WAL is\n"
     "synced once at close); prints puts/s. --batch B: B puts per atomic batch\n"
     "(default 1: one WAL record per put). --seed: key generator seed (default 1).\n"
     "--keys K: draw the keys from K distinct ones (overwrites; default: all distinct)."},
    {"stats", "[--format text|prometheus]",
     "Print engine statistics; open_us is the time the open (recovery) took.\n"
     "--format prometheus: the Prometheus text exposition format (sofadb_* gauges)."},
    {"check", "", "Verify every checksum of every live file (MANIFEST, tables, WAL).\n"
                  "Exit 3 on corruption, naming the file and offset."},
    {"dump", "FILE", "Print a WAL (NNNNNN.log), table (NNNNNN.sst) or MANIFEST-NNNNNN readably.\n"
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

/* Commands that only read do not create a database. */
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
} /* defaults, then every --opt NAME=VALUE */

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

int main(int argc, char **argv) {
  const char *dir;
  const cmd *c;
  sdb *db = NULL;
  int rc, sync = 0;
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
  dir = argv[1];
  if (!*dir) {
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
  /* split options from positional arguments */
  const char *pos[8];
  int npos = 0;
  uint64_t seed = 1, batch = 1, nkeys = 0;
  const char *format = "text";
  for (int i = 3; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) return cmd_help(c);
    if (!strcmp(a, "--")) {
      while (++i < argc && npos < 8) pos[npos++] = argv[i];
      break;
    }
    if (a[0] == '-' && a[1] == '-') {
      if (!strcmp(a, "--sync") && (!strcmp(c->name, "put") || !strcmp(c->name, "del"))) {
        sync = 1;
      } else if ((!strcmp(a, "--seed") || !strcmp(a, "--batch") || !strcmp(a, "--keys")) &&
                 !strcmp(c->name, "load")) {
        uint64_t v;
        if (i + 1 >= argc || parse_u64(argv[i + 1], &v) || (strcmp(a, "--seed") && v == 0))
          return bad_usage(c, "option needs a positive number");
        *(!strcmp(a, "--seed") ? &seed : !strcmp(a, "--batch") ? &batch : &nkeys) = v;
        i++;
      } else if (!strcmp(a, "--format") && !strcmp(c->name, "stats")) {
        if (i + 1 >= argc || (strcmp(argv[i + 1], "text") && strcmp(argv[i + 1], "prometheus")))
          return bad_usage(c, "--format takes text or prometheus");
        format = argv[++i];
      } else if (!strcmp(a, "--opt")) {
        char m[1024], name[64];
        const char *eq = i + 1 < argc ? strchr(argv[i + 1], '=') : NULL;
        if (!eq || eq == argv[i + 1] || (size_t)(eq - argv[i + 1]) >= sizeof name)
          return bad_usage(c, "--opt takes NAME=VALUE");
        memcpy(name, argv[i + 1], (size_t)(eq - argv[i + 1]));
        name[eq - argv[i + 1]] = 0;
        if (sdb_options_set(&g_opt, name, eq + 1, m, sizeof m)) return bad_usage(c, m);
        i++;
      } else {
        char m[128];
        snprintf(m, sizeof m, "unknown option '%s'", a);
        return bad_usage(c, m);
      }
      continue;
    }
    if (npos == 8) return bad_usage(c, "too many arguments");
    pos[npos++] = a;
  }
#define NARGS(lo, hi) \
  if (npos < (lo) || npos > (hi)) return bad_usage(c, npos < (lo) ? "missing argument" : "too many arguments")

  if (!strcmp(c->name, "check")) {
    char msg[512];
    NARGS(0, 0);
    rc = sdb__check_dir(dir, stdout, msg, sizeof msg);
    if (rc) {
      fprintf(stderr, "sofadb: check: %s: %s\n", sdb_strerror(rc), msg);
      return EX_DB;
    }
    printf("%s\n", msg);
    return 0;
  }
  if (!strcmp(c->name, "dump")) {
    char msg[512], path[4096];
    NARGS(1, 1);
    if (strchr(pos[0], '/'))
      snprintf(path, sizeof path, "%s", pos[0]);
    else
      snprintf(path, sizeof path, "%s/%s", dir, pos[0]);
    rc = sdb__dump_file(path, stdout, msg, sizeof msg);
    if (rc) {
      fprintf(stderr, "sofadb: dump: %s: %s\n", sdb_strerror(rc), msg);
      return rc == SDB_EINVAL ? EX_USAGE : EX_DB;
    }
    return 0;
  }
  if (!strcmp(c->name, "put")) {
    NARGS(2, 2);
    if (open_db(dir, 1, &db)) return EX_DB;
    if ((rc = sdb_put(db, pos[0], strlen(pos[0]), pos[1], strlen(pos[1]), sync)))
      return finish(db, db_error("put", rc, db));
    return finish(db, 0);
  }
  if (!strcmp(c->name, "del")) {
    NARGS(1, 1);
    if (open_db(dir, 1, &db)) return EX_DB;
    if ((rc = sdb_delete(db, pos[0], strlen(pos[0]), sync))) return finish(db, db_error("del", rc, db));
    return finish(db, 0);
  }
  if (!strcmp(c->name, "get")) {
    void *v;
    size_t vn;
    NARGS(1, 1);
    if (open_db(dir, 0, &db)) return EX_DB;
    rc = sdb_get(db, pos[0], strlen(pos[0]), &v, &vn);
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
  if (!strcmp(c->name, "scan")) {
    sdb_iter *it;
    NARGS(0, 2);
    if (open_db(dir, 0, &db)) return EX_DB;
    rc = sdb_iter_create(db, npos > 0 ? pos[0] : NULL, npos > 0 ? strlen(pos[0]) : 0, npos > 1 ? pos[1] : NULL,
                         npos > 1 ? strlen(pos[1]) : 0, &it);
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
  if (!strcmp(c->name, "stats")) {
    char buf[4096];
    NARGS(0, 0);
    double t0 = secs();
    if (open_db(dir, 0, &db)) return EX_DB;
    double t1 = secs();
    if ((rc = sdb_stats(db, buf, sizeof buf))) return finish(db, db_error("stats", rc, db));
    if (!strcmp(format, "prometheus")) {
      print_prometheus(buf);
      printf("# TYPE sofadb_open_wall_seconds gauge\nsofadb_open_wall_seconds %.6f\n", t1 - t0);
    } else {
      printf("%sopen_wall_ms: %.3f\n", buf, (t1 - t0) * 1e3);
    }
    return finish(db, 0);
  }
  if (!strcmp(c->name, "load")) {
    uint64_t n, s;
    char key[17], val[101];
    sdb_batch *b = NULL;
    NARGS(1, 1);
    if (parse_u64(pos[0], &n)) return bad_usage(c, "N must be a number");
    if (open_db(dir, 1, &db)) return EX_DB;
    if (batch > 1 && sdb_batch_create(&b)) return finish(db, db_error("load", SDB_ENOMEM, db));
    char pattern[200];
    s = seed ^ 0x5bd1e995;
    for (int j = 0; j < 200; j++) pattern[j] = (char)('a' + rng_next(&s) % 26);
    s = seed;
    key[16] = 0;
    double t0 = secs();
    for (uint64_t i = 0; i < n; i++) {
      uint64_t r = rng_next(&s);
      if (nkeys) { /* one of nkeys keys: a fixed bijective scramble of r % nkeys */
        uint64_t x = r % nkeys + 1;
        r = rng_next(&x);
      }
      for (int j = 0; j < 16; j++) key[j] = "0123456789abcdef"[(r >> (60 - 4 * j)) & 15];
      memcpy(val, pattern + r % 100, 100); /* value varies with the key, cheaply */
      if (i == 0) printf("first key: %s\n", key);
      if (b) {
        if ((rc = sdb_batch_put(b, key, 16, val, 100))) break;
        if ((i + 1) % batch == 0 || i + 1 == n) {
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
  return EX_USAGE;
}
