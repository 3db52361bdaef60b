/*
 * html.c - index.html: one self-contained page (inline CSS, inline SVG drawn
 * here, no script, no network) that shows what a campaign found:
 *   - headline cards: cases, violations, faults fired, states/s, recovery;
 *   - verdicts per fault kind and per model (stacked bars + tables);
 *   - the failures grouped by signature (rpt_set_groups): one row per group
 *     with its count, its smallest case's explanation, key diff and repro
 *     command, how often that reproduced, and links to kept (tarred) data dirs;
 *   - crash-point coverage of fired cases per syscall kind and per path, and the
 *     crash sites (call stacks) of the dry runs that no fault fired at;
 *   - the recovery-time histogram (log scale) with p50/p99/max;
 *   - the shards that produced the results.
 * Every string that comes from a case goes through rpt__html_text/attr.
 * Invariant: the page references no URL with a scheme (no http:, https:,
 * javascript:); the only links are in-page anchors and relative kept paths.
 */
#include "rpt_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RPT_HTML_MAX_FAILURES 1000 /* group rows */
#define RPT_HTML_MAX_PATHS 30
#define RPT_HTML_MAX_SITES 200

static const struct { const char *verdict, *color; } verdict_colors[] = {
    {"PASS", "#2f9e60"},           {"LOST_ACKED", "#d64541"},
    {"NOT_PREFIX", "#e8772e"},     {"PHANTOM", "#8e5bd0"},
    {"TORN_BATCH", "#c2408f"},     {"INVARIANT", "#b88a00"},
    {"BAD_READ", "#0f8b8d"},       {"BAD_CHECKPOINT", "#6d7a1f"},
    {"RECOVERY_FAILED", "#4b5bd6"}, {"RECOVERY_HANG", "#2f86c8"},
    {"RECOVERY_CRASH", "#1f4f8a"}, {"ERROR", "#7b8088"},
};

static const char *color_of(const char *verdict) {
  size_t i;
  for (i = 0; i < sizeof verdict_colors / sizeof verdict_colors[0]; i++)
    if (strcmp(verdict_colors[i].verdict, verdict) == 0)
      return verdict_colors[i].color;
  return "#4a4f57";
}

static const char *fmt_us(char *buf, size_t n, int64_t us) {
  if (us < 1000) snprintf(buf, n, "%" PRId64 " µs", us);
  else if (us < 10000) snprintf(buf, n, "%.2f ms", (double)us / 1e3);
  else if (us < 1000000) snprintf(buf, n, "%.1f ms", (double)us / 1e3);
  else snprintf(buf, n, "%.2f s", (double)us / 1e6);
  return buf;
}

static const char css[] =
    ":root{--fg:#1d2330;--muted:#5d6675;--line:#e3e6eb;--bg:#f6f7f9;--card:#fff;"
    "--pass:#2f9e60;--fail:#d64541;--accent:#2f6fd6}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 -apple-system,"
    "'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}"
    "main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}"
    "header.top{display:flex;align-items:center;justify-content:space-between;"
    "gap:16px;flex-wrap:wrap;margin-bottom:6px}"
    "h1{font-size:24px;margin:0;font-weight:650;letter-spacing:-.01em}"
    "h1 span{color:var(--muted);font-weight:400}"
    "h2{font-size:17px;margin:0 0 4px;font-weight:650}"
    "p.lead{color:var(--muted);margin:0 0 18px}"
    ".note{color:var(--muted);font-size:12px}p.note{margin:0 0 12px;font-size:13px}"
    ".status{font-weight:650;padding:6px 14px;border-radius:999px;color:#fff}"
    ".status.ok{background:var(--pass)}.status.bad{background:var(--fail)}"
    ".status.warn{background:#b7791f}"
    "nav{margin:0 0 18px;font-size:13px}nav a{color:var(--accent);"
    "text-decoration:none;margin-right:14px}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));"
    "gap:12px;margin-bottom:22px}"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:10px;"
    "padding:12px 14px}.card .k{color:var(--muted);font-size:12px;text-transform:"
    "uppercase;letter-spacing:.04em}.card .v{font-size:24px;font-weight:650;"
    "margin-top:2px;font-variant-numeric:tabular-nums}.card .s{color:var(--muted);"
    "font-size:12px}.card.bad .v{color:var(--fail)}.card.ok .v{color:var(--pass)}"
    "section{background:var(--card);border:1px solid var(--line);border-radius:10px;"
    "padding:18px 20px;margin-bottom:18px}"
    ".grid2{display:grid;grid-template-columns:1fr 1fr;gap:22px}"
    "@media(max-width:900px){.grid2{grid-template-columns:1fr}}"
    "table{border-collapse:collapse;width:100%;font-size:13px;margin-top:8px}"
    "th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;"
    "vertical-align:top}th{font-size:12px;color:var(--muted);font-weight:600;"
    "background:#fafbfc}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "td.zero{color:#b4bac3}td.bad{color:var(--fail);font-weight:650}.rate.bad{color:var(--fail);font-weight:650}"
    "code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}"
    "pre{margin:4px 0 0;padding:6px 8px;background:#f3f4f7;border-radius:6px;"
    "white-space:pre-wrap;overflow-wrap:anywhere}"
    "code.id{word-break:break-all}"
    ".badge{display:inline-block;padding:1px 8px;border-radius:999px;color:#fff;"
    "font-size:11px;font-weight:650;letter-spacing:.02em;white-space:nowrap}"
    ".diff{display:grid;grid-template-columns:auto 1fr;gap:2px 8px;margin:0}"
    ".diff dt{color:var(--muted);font-size:12px}.diff dd{margin:0;"
    "overflow-wrap:anywhere}.diff dd.exp{color:#1d6b3f}.diff dd.got{color:#a62d2a}"
    ".legend{display:flex;flex-wrap:wrap;gap:12px;font-size:12px;color:var(--muted);"
    "margin:6px 0}.legend i{display:inline-block;width:10px;height:10px;"
    "border-radius:2px;margin-right:5px;vertical-align:-1px}"
    ".bar{height:8px;background:var(--accent);border-radius:4px;min-width:2px}"
    "svg{display:block;max-width:100%;height:auto}"
    "svg text{font:11px -apple-system,'Segoe UI',Roboto,Arial,sans-serif;fill:#3b4350}"
    "h3{font-size:12px;color:var(--muted);margin:14px 0 6px;font-weight:600;"
    "text-transform:uppercase;letter-spacing:.04em}"
    "footer{color:var(--muted);font-size:12px;margin-top:10px}"
    "a{color:var(--accent)}";

static void badge(FILE *f, const char *verdict) {
  fprintf(f, "<span class=\"badge\" style=\"background:%s\">", color_of(verdict));
  rpt__html_text(f, verdict);
  fputs("</span>", f);
}

static void card(FILE *f, const char *cls, const char *k, const char *v,
                 const char *sub) {
  fprintf(f, "<div class=\"card %s\"><div class=\"k\">%s</div><div class=\"v\">%s"
             "</div><div class=\"s\">%s</div></div>\n", cls, k, v, sub);
}

static void legend(FILE *f, const rpt__stats *st) {
  size_t v;
  fputs("<div class=\"legend\">", f);
  for (v = 0; v < st->nverdicts; v++) {
    fprintf(f, "<span><i style=\"background:%s\"></i>", color_of(st->verdicts[v]));
    rpt__html_text(f, st->verdicts[v]);
    fputs("</span>", f);
  }
  fputs("</div>\n", f);
}

/* Stacked horizontal bars, one per row, scaled to the largest row; a
 * non-zero segment is at least 3 px wide so one failure among thousands of
 * passes stays visible. */
static void svg_stacked(FILE *f, const rpt__table *t, const rpt__stats *st) {
  const double label_w = 130, bar_w = 360, row_h = 26, top = 6;
  double height = top * 2 + row_h * (double)t->nrows;
  int64_t maxrow = 1;
  size_t r, v;
  for (r = 0; r < t->nrows; r++)
    if (t->row_total[r] > maxrow) maxrow = t->row_total[r];
  fprintf(f, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
             "role=\"img\">\n", label_w + bar_w + 70, height, label_w + bar_w + 70, height);
  for (r = 0; r < t->nrows; r++) {
    double y = top + row_h * (double)r, x = label_w;
    double full = bar_w * (double)t->row_total[r] / (double)maxrow;
    fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", label_w - 8, y + 16);
    rpt__html_text(f, t->rows[r][0] ? t->rows[r] : "(none)");
    fputs("</text>\n", f);
    /* widths: proportional, with the 3 px floor taken from the largest */
    double w[64] = {0};
    size_t nv = st->nverdicts < 64 ? st->nverdicts : 64, big = 0;
    double sum = 0;
    for (v = 0; v < nv; v++) {
      int64_t n = t->cells[r * st->nverdicts + v];
      w[v] = n ? full * (double)n / (double)t->row_total[r] : 0;
      if (n && w[v] < 3) w[v] = 3;
      if (w[v] > w[big]) big = v;
      sum += w[v];
    }
    if (sum > full && w[big] > sum - full) w[big] -= sum - full;
    for (v = 0; v < nv; v++) {
      int64_t n = t->cells[r * st->nverdicts + v];
      if (!n) continue;
      fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" "
                 "fill=\"%s\"><title>", x, y + 4, w[v], color_of(st->verdicts[v]));
      rpt__html_text(f, t->rows[r]);
      fputs(": ", f);
      rpt__html_text(f, st->verdicts[v]);
      fprintf(f, " %" PRId64 "</title></rect>\n", n);
      x += w[v];
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%" PRId64 "</text>\n", x + 6, y + 16,
            t->row_total[r]);
  }
  fputs("</svg>\n", f);
}

static void table_html(FILE *f, const rpt__table *t, const rpt__stats *st,
                       const char *first_col) {
  size_t r, v;
  fprintf(f, "<table><thead><tr><th>%s</th>", first_col);
  for (v = 0; v < st->nverdicts; v++) {
    fputs("<th class=\"n\">", f);
    rpt__html_text(f, st->verdicts[v]);
    fputs("</th>", f);
  }
  fputs("<th class=\"n\">total</th></tr></thead><tbody>\n", f);
  for (r = 0; r < t->nrows; r++) {
    fputs("<tr><td>", f);
    rpt__html_text(f, t->rows[r][0] ? t->rows[r] : "(none)");
    fputs("</td>", f);
    for (v = 0; v < st->nverdicts; v++) {
      int64_t n = t->cells[r * st->nverdicts + v];
      const char *cls = !n ? " zero" : strcmp(st->verdicts[v], "PASS") ? " bad" : "";
      fprintf(f, "<td class=\"n%s\">%" PRId64 "</td>", cls, n);
    }
    fprintf(f, "<td class=\"n\"><b>%" PRId64 "</b></td></tr>\n", t->row_total[r]);
  }
  fputs("</tbody></table>\n", f);
}

static void svg_counts(FILE *f, const rpt__count *c, size_t n, size_t max_rows) {
  const double label_w = 130, bar_w = 330, row_h = 22;
  size_t i, rows = n < max_rows ? n : max_rows;
  double height = row_h * (double)rows + 8;
  int64_t maxn = rows ? c[0].n : 1;
  fprintf(f, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
             "role=\"img\">\n", label_w + bar_w + 70, height, label_w + bar_w + 70, height);
  for (i = 0; i < rows; i++) {
    double y = 4 + row_h * (double)i;
    double w = bar_w * (double)c[i].n / (double)(maxn ? maxn : 1);
    fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", label_w - 8, y + 13);
    rpt__html_text(f, c[i].name);
    fprintf(f, "</text><rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"13\" "
               "rx=\"2\" fill=\"#2f6fd6\"></rect><text x=\"%.1f\" y=\"%.1f\">%"
               PRId64 "</text>\n", label_w, y + 3, w < 2 ? 2 : w, label_w + w + 6,
            y + 13, c[i].n);
  }
  fputs("</svg>\n", f);
}

/* "1 µs", "10 µs", "100 µs", "1 ms", ... for 10^d microseconds. */
static const char *tick_label(char *buf, size_t n, int d) {
  static const char *const unit[] = {"µs", "ms", "s"};
  int u = d < 0 ? 0 : d / 3 > 2 ? 2 : d / 3;
  int e = d - 3 * u;
  if (e < 0) snprintf(buf, n, "1e%d µs", d);
  else snprintf(buf, n, "%.0f %s", pow(10, e), unit[u]);
  return buf;
}

/* Log-scale histogram of recovery times with p50/p99/max markers. */
static void svg_histogram(FILE *f, const rpt__stats *st) {
  const double W = 1000, H = 250, left = 50, right = 20, top = 50, bottom = 30;
  const double pw = W - left - right, ph = H - top - bottom;
  int64_t lo = st->recovery[0] < 1 ? 1 : st->recovery[0];
  int64_t hi = st->rec_max < 1 ? 1 : st->rec_max;
  int dlo = (int)floor(log10((double)lo)), dhi = (int)ceil(log10((double)hi));
  if (dhi <= dlo) dhi = dlo + 1;
  int span = dhi - dlo, bpd = span <= 2 ? 10 : span <= 4 ? 5 : 4;
  int nb = span * bpd, b, d;
  int64_t *bins = calloc((size_t)nb, sizeof *bins), maxb = 1;
  size_t i;
  char buf[32];
  if (!bins) return;
  for (i = 0; i < st->nrecovery; i++) {
    double x = (double)(st->recovery[i] < 1 ? 1 : st->recovery[i]);
    b = (int)floor((log10(x) - dlo) * bpd);
    if (b < 0) b = 0;
    if (b >= nb) b = nb - 1;
    if (++bins[b] > maxb) maxb = bins[b];
  }
  fprintf(f, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
             "role=\"img\">\n", W, H, W, H);
  fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" "
             "stroke=\"#9aa1ac\"></line>\n", left, top + ph, left + pw, top + ph);
  fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%" PRId64 "</text>"
             "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">0</text>\n",
          left - 6, top + 4, maxb, left - 6, top + ph);
  double bw = pw / nb;
  for (b = 0; b < nb; b++) {
    if (!bins[b]) continue;
    double h = ph * (double)bins[b] / (double)maxb;
    if (h < 1) h = 1;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
               "fill=\"#6d9be6\"><title>%" PRId64 " cases</title></rect>\n",
            left + bw * b + 1, top + ph - h, bw - 2, h, bins[b]);
  }
  for (d = dlo; d <= dhi; d++) {
    double x = left + pw * (double)(d - dlo) / span;
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" "
               "stroke=\"#9aa1ac\"></line><text x=\"%.1f\" y=\"%.0f\" "
               "text-anchor=\"middle\">%s</text>\n",
            x, top + ph, x, top + ph + 5, x, top + ph + 18,
            tick_label(buf, sizeof buf, d));
  }
  const struct { const char *name, *color; int64_t v; } marks[] = {
      {"p50", "#1f4f8a", st->rec_p50}, {"p99", "#e8772e", st->rec_p99},
      {"max", "#d64541", st->rec_max}};
  for (i = 0; i < 3; i++) {
    double v = (double)(marks[i].v < 1 ? 1 : marks[i].v);
    double x = left + pw * (log10(v) - dlo) / span;
    double ty = 14 + 13 * (double)i;
    const char *anchor = x > W - 160 ? "end" : "start";
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"%s\" "
               "stroke-width=\"1.5\" stroke-dasharray=\"4 3\"></line>"
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" style=\"fill:%s\">"
               "%s %s</text>\n",
            x, ty + 3, x, top + ph, marks[i].color,
            anchor[0] == 'e' ? x - 4 : x + 4, ty, anchor, marks[i].color,
            marks[i].name, fmt_us(buf, sizeof buf, marks[i].v));
  }
  fputs("</svg>\n", f);
  free(bins);
}

/* A kept path is linked only when it is relative and has no scheme. */
static int safe_relative(const char *p) {
  const char *colon = strchr(p, ':');
  const char *slash = strchr(p, '/');
  return p[0] && p[0] != '/' && !(colon && (!slash || colon < slash));
}

static void join(FILE *f, const char *const *v, size_t n, int more) {
  for (size_t i = 0; i < n; i++) {
    if (i) fputs(", ", f);
    rpt__html_text(f, v[i]);
  }
  if (more) fputs(", …", f);
}

static void kept_link(FILE *f, const char *kept, const char *text) {
  if (safe_relative(kept)) {
    fputs("<a href=\"", f);
    rpt__html_attr(f, kept);
    fputs("\">", f);
    rpt__html_text(f, text);
    fputs("</a>", f);
  } else {
    fputs("kept: <code>", f);
    rpt__html_text(f, kept);
    fputs("</code>", f);
  }
}

/* One row per group of failing cases (rpt_set_groups): the same bug hit at many crash
 * points is one row with its count, its smallest case and that case's repro line. */
static int failures_html(FILE *f, const rpt_set *s, const rpt__stats *st) {
  rpt_group *g = NULL;
  size_t ng = 0, i;
  int rc;
  fputs("<section id=\"failures\"><h2>Failure groups</h2>\n", f);
  if (st->nfail == 0) {
    fputs("<p class=\"note\">No violations: every recovered state was one the "
          "engine's contract allows.</p></section>\n", f);
    return 0;
  }
  if ((rc = rpt_set_groups(s, &g, &ng))) return rc;
  fprintf(f, "<p class=\"note\">%zu failing case%s in %zu group%s. A group is one "
             "verdict, one shape of key diff (the key absent, older, newer or garbage), "
             "one syscall kind and one path class (digits as *) where the fault fired: "
             "most often one bug hit at many crash points. Each row shows the group's "
             "smallest case (fewest ops, then the earliest fault point); its repro command "
             "re-runs it. Every case is in summary.json and junit.xml. ERROR rows are "
             "cases the harness could not run.</p>\n",
          st->nfail, st->nfail == 1 ? "" : "s", ng, ng == 1 ? "" : "s");
  fputs("<table><thead><tr><th>verdict</th><th class=\"n\">cases</th><th>group</th>"
        "<th>smallest case</th><th>key diff</th><th>repro</th></tr></thead><tbody>\n", f);
  for (i = 0; i < ng && i < RPT_HTML_MAX_FAILURES; i++) {
    const rpt_group *gr = &g[i];
    const rpt_case *c = &s->cases[gr->smallest];
    char *repro = NULL, rate[64];
    if ((rc = rpt__min_repro(c, &repro))) break;
    fputs("<tr><td>", f);
    badge(f, gr->verdict);
    fprintf(f, "</td><td class=\"n\">%zu</td><td><code class=\"id\">", gr->count);
    rpt__html_text(f, gr->signature);
    fputs("</code><br><span class=\"note\">", f);
    join(f, gr->fault_kinds, gr->nfault_kinds, gr->more_fault_kinds);
    fputs(" · ", f);
    join(f, gr->models, gr->nmodels, gr->more_models);
    fputs("</span></td><td><code class=\"id\">", f);
    rpt__html_text(f, c->id);
    fputs("</code><br>", f);
    rpt__html_text(f, c->explanation);
    fputs("</td><td>", f);
    if (c->first_key[0] || c->expected[0] || c->found[0]) {
      fputs("<dl class=\"diff\"><dt>key</dt><dd><code>", f);
      rpt__html_text(f, c->first_key);
      fputs("</code></dd><dt>expected</dt><dd class=\"exp\"><code>", f);
      rpt__html_text(f, c->expected);
      fputs("</code></dd><dt>found</dt><dd class=\"got\"><code>", f);
      rpt__html_text(f, c->found);
      fputs("</code></dd></dl>", f);
    }
    fputs("</td><td><pre>", f);
    rpt__html_text(f, repro);
    fputs("</pre>", f);
    if (c->minimized_id[0]) fputs("<span class=\"note\">minimized</span> ", f);
    if (rpt__rate(c, rate, sizeof rate)) {
      fprintf(f, "<span class=\"note rate%s\">", c->reproduced < c->reruns ? " bad" : "");
      rpt__html_text(f, rate);
      fputs("</span> ", f);
    }
    {
      char label[600];
      rpt_reach_label(c, label, sizeof label);
      fputs("<span class=\"note reach\">", f);
      rpt__html_text(f, label);
      fputs("</span> ", f);
    }
    for (size_t k = 0; k < gr->nkept; k++) {
      char text[64];
      if (k) fputs(" ", f);
      snprintf(text, sizeof text, gr->nkept > 1 ? "kept data dir %zu" : "kept data dir", k + 1);
      kept_link(f, s->cases[gr->kept[k]].kept, text);
    }
    if (gr->nkept_all > gr->nkept)
      fprintf(f, " <span class=\"note\">(+%zu more in summary.json)</span>",
              gr->nkept_all - gr->nkept);
    if (!gr->nkept && c->reruns > 0 && c->reproduced == 0)
      fputs("<span class=\"note\">nothing kept: no re-run failed</span>", f);
    fputs("</td></tr>\n", f);
    free(repro);
  }
  fputs("</tbody></table>\n", f);
  if (ng > RPT_HTML_MAX_FAILURES)
    fprintf(f, "<p class=\"note\">… and %zu more groups: see summary.json.</p>\n",
            ng - RPT_HTML_MAX_FAILURES);
  fputs("</section>\n", f);
  rpt_groups_free(g, ng);
  return rc;
}

/* The distinct values of one string field, joined with ", " (at most 4). */
static void distinct(FILE *f, const rpt_set *s, size_t off) {
  const char *seen[4];
  size_t n = 0, i, j, more = 0;
  for (i = 0; i < s->ncases; i++) {
    const char *v = *(char *const *)((const char *)&s->cases[i] + off);
    for (j = 0; j < n && strcmp(seen[j], v); j++) {}
    if (j < n) continue;
    if (n < 4) seen[n++] = v;
    else more = 1;
  }
  for (i = 0; i < n; i++) {
    if (i) fputs(", ", f);
    rpt__html_text(f, seen[i]);
  }
  if (more) fputs(", …", f);
}

int rpt_write_html(const rpt_set *s, FILE *f) {
  int rc;
  rpt__stats st;
  size_t i;
  char v[64], sub[128], a[32], b[32];
  if ((rc = rpt__stats_compute(s, &st))) return rc;

  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
        "<title>powercut report</title>\n<style>", f);
  fputs(css, f);
  fputs("</style></head><body><main>\n<header class=\"top\"><h1>powercut report "
        "<span>crash-consistency campaign</span></h1>", f);
  size_t nviol = st.nfail - st.nerror;
  if (st.nfail == 0)
    fprintf(f, "<div class=\"status ok\">all %zu cases pass</div>", st.ncases);
  else if (nviol)
    fprintf(f, "<div class=\"status bad\">%zu violation%s in %zu cases</div>",
            nviol, nviol == 1 ? "" : "s", st.ncases);
  else
    fprintf(f, "<div class=\"status warn\">no violation; %zu case%s could not "
               "run</div>", st.nerror, st.nerror == 1 ? "" : "s");
  if (rpt__interrupted(s)) {
    fputs("<div class=\"status warn\" id=\"interrupted\">interrupted by ", f);
    rpt__xml_text(f, rpt__interrupted(s));
    fprintf(f, ": only the %zu cases verified before it</div>", st.ncases);
  }
  fputs("</header>\n<p class=\"lead\">target ", f);
  distinct(f, s, offsetof(rpt_case, target));
  fputs(" · workload ", f);
  distinct(f, s, offsetof(rpt_case, workload));
  fputs(" · model ", f);
  distinct(f, s, offsetof(rpt_case, model));
  if (st.nshards > 1) fprintf(f, " · %zu shards merged", st.nshards);
  fputs(". Each case crashes the engine at one chosen point, recovers it and "
        "checks the recovered state against everything it acknowledged.</p>\n", f);
  fputs("<nav><a href=\"#verdicts\">Verdicts</a><a href=\"#failures\">Failure groups</a>"
        "<a href=\"#coverage\">Crash-point coverage</a><a href=\"#recovery\">"
        "Recovery time</a><a href=\"#shards\">Shards</a></nav>\n", f);

  fputs("<div class=\"cards\">\n", f);
  snprintf(v, sizeof v, "%zu", st.ncases);
  snprintf(sub, sizeof sub, "%zu passed", st.npass);
  card(f, "", "crash states", v, sub);
  snprintf(v, sizeof v, "%zu", nviol);
  if (st.nerror)
    snprintf(sub, sizeof sub, "+ %zu harness error%s", st.nerror,
             st.nerror == 1 ? "" : "s");
  else
    snprintf(sub, sizeof sub, "%s", nviol ? "contract broken" : "none found");
  card(f, nviol ? "bad" : "ok", "violations", v, sub);
  snprintf(v, sizeof v, "%.0f%%", st.ncases ? 100.0 * (double)st.nfired / (double)st.ncases : 0);
  snprintf(sub, sizeof sub, "in %zu of %zu cases", st.nfired, st.ncases);
  card(f, "", "faults fired", v, sub);
  if (st.nshards) {
    snprintf(v, sizeof v, "%.0f", st.states_per_s);
    if (st.nshards > 1)
      snprintf(sub, sizeof sub, "per runner; %.0f/s over %zu shards",
               st.aggregate_states_per_s, st.nshards);
    else
      snprintf(sub, sizeof sub, "%.1f s, %" PRId64 " jobs", s->metas[0].elapsed_s,
               s->metas[0].jobs);
    card(f, "", "states / second", v, sub);
  }
  if (st.nrecovery) {
    snprintf(sub, sizeof sub, "p99 %s · max %s", fmt_us(a, sizeof a, st.rec_p99),
             fmt_us(b, sizeof b, st.rec_max));
    card(f, "", "recovery p50", fmt_us(v, sizeof v, st.rec_p50), sub);
  }
  fputs("</div>\n", f);

  fputs("<section id=\"verdicts\"><h2>Verdicts</h2><p class=\"note\">Cases per "
        "fault kind and per durability model, by verdict. Bars are scaled to the "
        "largest row; a violation is never drawn narrower than 3 px.</p>\n", f);
  legend(f, &st);
  fputs("<div class=\"grid2\"><div><h3>by fault kind</h3>\n", f);
  svg_stacked(f, &st.by_fault, &st);
  table_html(f, &st.by_fault, &st, "fault kind");
  fputs("</div><div><h3>by model</h3>\n", f);
  svg_stacked(f, &st.by_model, &st);
  table_html(f, &st.by_model, &st, "model");
  fputs("</div></div></section>\n", f);

  if ((rc = failures_html(f, s, &st))) goto fail;

  fputs("<section id=\"coverage\"><h2>Crash-point coverage</h2><p class=\"note\">"
        "Where the faults of the fired cases landed: the syscall kind and the file "
        "(relative to the data dir). ", f);
  fprintf(f, "%zu of %zu cases fired.</p>\n", st.nfired, st.ncases);
  if (st.nfired == 0) {
    fputs("<p class=\"note\">No fault fired.</p>", f);
  } else {
    fputs("<div class=\"grid2\"><div><h3>per syscall kind</h3>\n", f);
    svg_counts(f, st.ops, st.nops, 40);
    fputs("</div><div><h3>per path</h3><table><thead><tr><th>path</th>"
          "<th class=\"n\">fired</th><th style=\"width:40%\"></th></tr></thead>"
          "<tbody>\n", f);
    for (i = 0; i < st.npaths && i < RPT_HTML_MAX_PATHS; i++) {
      fputs("<tr><td><code>", f);
      rpt__html_text(f, st.paths[i].name);
      fprintf(f, "</code></td><td class=\"n\">%" PRId64 "</td><td><div class=\"bar\" "
                 "style=\"width:%.1f%%\"></div></td></tr>\n", st.paths[i].n,
              100.0 * (double)st.paths[i].n / (double)st.paths[0].n);
    }
    fputs("</tbody></table>", f);
    if (st.npaths > RPT_HTML_MAX_PATHS)
      fprintf(f, "<p class=\"note\">… %zu more paths in summary.json.</p>",
              st.npaths - RPT_HTML_MAX_PATHS);
    fputs("</div></div>\n", f);
  }
  if (st.nsites) {
    /* crash sites: WHERE in the program (a call stack), not which N-th call */
    size_t never = st.nsites - st.nsites_crashed, shown = 0;
    fprintf(f, "<h3 id=\"sites\">crash sites</h3><p class=\"note\">%zu distinct call stacks made a "
               "tracked call in the dry runs; faults fired at %zu of them (%.1f%%)",
            st.nsites, st.nsites_crashed, 100.0 * (double)st.nsites_crashed / (double)st.nsites);
    if (st.nsites_elsewhere) fprintf(f, ", and at %zu more that no dry run made", st.nsites_elsewhere);
    if (st.nsites_unaimed)
      fprintf(f, "; the campaign's fault kinds aim at none of the calls of %zu of them (read, close, ...)",
              st.nsites_unaimed);
    fprintf(f, ". %s</p>\n", never ? "Never crashed at (top frames; a static function shows as "
                                     "module+offset: name it with addr2line):" : "Every one was crashed at.");
    if (never) {
      fputs("<table><thead><tr><th>site</th><th>workload</th><th>syscall</th><th>aimed at</th><th>top frames</th>"
            "</tr></thead><tbody>\n", f);
      for (i = 0; i < st.nsites && shown < RPT_HTML_MAX_SITES; i++) {
        const rpt_site *t = st.sites[i];
        if (st.site_crashed[i]) continue;
        shown++;
        fputs("<tr><td><code>", f);
        rpt__html_text(f, t->site);
        fputs("</code></td><td>", f);
        rpt__html_text(f, t->workload);
        fputs(t->recovery ? " (recovery)</td><td>" : "</td><td>", f);
        rpt__html_text(f, t->op);
        fputs(t->aimed ? "</td><td>yes</td><td><code>" : "</td><td>no</td><td><code>", f);
        rpt__html_text(f, t->name[0] ? t->name : "(not named)");
        fputs("</code></td></tr>\n", f);
      }
      fputs("</tbody></table>", f);
      if (never > shown) fprintf(f, "<p class=\"note\">… %zu more in summary.json.</p>", never - shown);
    }
  }
  fputs("</section>\n", f);

  fputs("<section id=\"recovery\"><h2>Recovery time</h2><p class=\"note\">Time of "
        "the target's open() after the crash, log scale. Percentiles are nearest "
        "rank: p<i>k</i> is the smallest time at least <i>k</i>% of cases "
        "recovered within.</p>\n", f);
  if (st.nrecovery) {
    svg_histogram(f, &st);
    fprintf(f, "<p class=\"note\">%zu samples · p50 %s · p99 %s · max %s</p>\n",
            st.nrecovery, fmt_us(v, sizeof v, st.rec_p50),
            fmt_us(a, sizeof a, st.rec_p99), fmt_us(b, sizeof b, st.rec_max));
  } else {
    fputs("<p class=\"note\">No recovery was measured.</p>\n", f);
  }
  fputs("</section>\n", f);

  fputs("<section id=\"shards\"><h2>Shards</h2>\n", f);
  if (s->nmetas == 0) {
    fputs("<p class=\"note\">No meta.json was loaded.</p>\n", f);
  } else {
    fputs("<table><thead><tr><th>shard</th><th class=\"n\">cases</th><th class=\"n\">"
          "elapsed</th><th class=\"n\">states/s</th><th class=\"n\">jobs</th>"
          "<th>command</th></tr></thead><tbody>\n", f);
    for (i = 0; i < s->nmetas; i++) {
      const rpt_meta *m = &s->metas[i];
      fputs("<tr><td>", f);
      rpt__html_text(f, m->shard);
      fprintf(f, "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%.1f s</td>"
                 "<td class=\"n\">%.0f</td><td class=\"n\">%" PRId64 "</td><td><code>",
              m->cases, m->elapsed_s, m->states_per_s, m->jobs);
      rpt__html_text(f, m->argv);
      fputs("</code></td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
  }
  fputs("</section>\n<footer>Generated by powercut from results.jsonl (the source "
        "of truth; summary.json and junit.xml hold the same data). This page is "
        "self-contained: no script, no network.</footer>\n</main></body></html>\n", f);
  rc = ferror(f) ? RPT_EIO : 0;
fail:
  rpt__stats_free(&st);
  return rc;
}
