/*
 * test_stats.c — unit tests for the gateway metrics (src/gateway/gw_stats.c).
 *
 * Owns:     the slot registry (stability across "reloads", reserved names,
 *           overflow into "_other"), status-class and latency-bucket
 *           mapping, cumulative histogram rendering, summing over workers
 *           (also while worker threads are writing), label escaping, the
 *           process-wide values, and a small validator that checks every
 *           rendered line against the Prometheus text format 0.0.4.
 * Not here: serving /metrics over HTTP (test_admin.c covers the listener).
 * Output:   "ok - NAME" / "not ok - NAME" lines, then "N passed, N failed".
 */
#include "gw_stats.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* ---- a small Prometheus text-format validator ---- */

#define MAX_FAMILIES 128

typedef struct validator {
    char families[MAX_FAMILIES][96];
    char types[MAX_FAMILIES][16];
    int n_families;
    int current; /* index of the family whose samples may follow, or -1 */
    char error[256];
    int line_no;
    int samples;
    /* histogram checks, per series without le */
    char hist_series[512];
    double hist_last;
    int hist_seen_inf;
    double hist_inf;
} validator;

static int fail_v(validator *v, const char *why, const char *line)
{
    if (!v->error[0])
        snprintf(v->error, sizeof v->error, "line %d: %s: %.120s", v->line_no, why, line);
    return 0;
}

static int is_name_start(char c)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':';
}

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == ':';
}

/* Reads a metric name at *p; returns its length (0 if none). */
static size_t read_name(const char *p)
{
    size_t n = 0;
    if (!is_name_start(p[0]))
        return 0;
    while (is_name_char(p[n]))
        n++;
    return n;
}

static int find_family(validator *v, const char *name, size_t n)
{
    for (int i = 0; i < v->n_families; i++)
        if (strlen(v->families[i]) == n && memcmp(v->families[i], name, n) == 0)
            return i;
    return -1;
}

static int parse_value(const char *s, double *out)
{
    if (strcmp(s, "+Inf") == 0) {
        *out = 1e308 * 10;
        return 1;
    }
    if (strcmp(s, "-Inf") == 0) {
        *out = -1e308 * 10;
        return 1;
    }
    if (strcmp(s, "NaN") == 0) {
        *out = 0;
        return 1;
    }
    char *end;
    if (!*s || isspace((unsigned char)*s))
        return 0;
    *out = strtod(s, &end);
    return *end == '\0';
}

static int validate_line(validator *v, const char *line)
{
    v->line_no++;
    if (line[0] == '#') {
        int is_help = strncmp(line, "# HELP ", 7) == 0;
        int is_type = strncmp(line, "# TYPE ", 7) == 0;
        if (!is_help && !is_type)
            return fail_v(v, "comment that is neither HELP nor TYPE", line);
        const char *p = line + 7;
        size_t n = read_name(p);
        if (n == 0 || n >= sizeof v->families[0] || p[n] != ' ')
            return fail_v(v, "bad metric name in HELP/TYPE", line);
        int f = find_family(v, p, n);
        if (is_help) {
            if (f >= 0 && f != v->n_families - 1)
                return fail_v(v, "HELP for an earlier family", line);
            for (const char *q = p + n + 1; *q; q++) {
                if (*q != '\\')
                    continue;
                if (q[1] != '\\' && q[1] != 'n')
                    return fail_v(v, "bad escape in HELP", line);
                q++;
            }
            if (f < 0) {
                if (v->n_families == MAX_FAMILIES)
                    return fail_v(v, "too many families", line);
                memcpy(v->families[v->n_families], p, n);
                v->families[v->n_families][n] = '\0';
                v->types[v->n_families][0] = '\0';
                v->n_families++;
            }
            v->current = -1;
            return 1;
        }
        const char *t = p + n + 1;
        if (strcmp(t, "counter") && strcmp(t, "gauge") && strcmp(t, "histogram") &&
            strcmp(t, "summary") && strcmp(t, "untyped"))
            return fail_v(v, "unknown TYPE", line);
        if (f < 0) {
            if (v->n_families == MAX_FAMILIES)
                return fail_v(v, "too many families", line);
            f = v->n_families++;
            memcpy(v->families[f], p, n);
            v->families[f][n] = '\0';
            v->types[f][0] = '\0';
        } else if (f != v->n_families - 1) {
            return fail_v(v, "TYPE for an earlier family", line);
        }
        if (v->types[f][0])
            return fail_v(v, "second TYPE line", line);
        snprintf(v->types[f], sizeof v->types[f], "%s", t);
        v->current = f;
        return 1;
    }

    /* a sample */
    size_t n = read_name(line);
    if (n == 0)
        return fail_v(v, "sample without a metric name", line);
    if (v->current < 0)
        return fail_v(v, "sample before its TYPE line", line);
    const char *fam = v->families[v->current];
    size_t fl = strlen(fam);
    const char *suffix = "";
    if (n >= fl && memcmp(line, fam, fl) == 0)
        suffix = line + fl;
    else
        return fail_v(v, "sample outside its family", line);
    size_t sl = n - fl;
    int is_hist = strcmp(v->types[v->current], "histogram") == 0;
    if (sl) {
        if (!is_hist ||
            !((sl == 7 && !memcmp(suffix, "_bucket", 7)) || (sl == 4 && !memcmp(suffix, "_sum", 4)) ||
              (sl == 6 && !memcmp(suffix, "_count", 6))))
            return fail_v(v, "sample name does not belong to the family", line);
    } else if (is_hist) {
        return fail_v(v, "histogram sample without _bucket/_sum/_count", line);
    }
    const char *p = line + n;
    char series_wo_le[512];
    size_t sw = 0;
    char le[32] = "";
    memcpy(series_wo_le, line, n);
    sw = n;
    if (*p == '{') {
        p++;
        int first = 1;
        while (*p != '}') {
            if (!first) {
                if (*p != ',')
                    return fail_v(v, "expected ',' between labels", line);
                p++;
            }
            first = 0;
            size_t ln = read_name(p);
            if (ln == 0 || p[ln] != '=' || p[ln + 1] != '"')
                return fail_v(v, "bad label", line);
            int is_le = ln == 2 && !memcmp(p, "le", 2);
            const char *lname = p;
            p += ln + 2;
            char val[256];
            size_t vl = 0;
            while (*p != '"') {
                if (!*p)
                    return fail_v(v, "unterminated label value", line);
                char c = *p++;
                if (c == '\\') {
                    if (*p == '\\' || *p == '"')
                        c = *p++;
                    else if (*p == 'n') {
                        c = '\n';
                        p++;
                    } else
                        return fail_v(v, "bad escape in label value", line);
                }
                if (vl < sizeof val - 1)
                    val[vl++] = c;
            }
            val[vl] = '\0';
            p++;
            if (is_le)
                snprintf(le, sizeof le, "%.31s", val);
            else if (sw + ln + vl + 4 < sizeof series_wo_le) {
                series_wo_le[sw++] = '|';
                memcpy(series_wo_le + sw, lname, ln);
                sw += ln;
                series_wo_le[sw++] = '=';
                memcpy(series_wo_le + sw, val, vl);
                sw += vl;
            }
        }
        p++;
    }
    series_wo_le[sw] = '\0';
    if (*p != ' ')
        return fail_v(v, "expected a space before the value", line);
    p++;
    char vbuf[64];
    size_t k = 0;
    while (*p && *p != ' ' && k < sizeof vbuf - 1)
        vbuf[k++] = *p++;
    vbuf[k] = '\0';
    double val;
    if (!parse_value(vbuf, &val))
        return fail_v(v, "bad sample value", line);
    if (*p == ' ') { /* optional timestamp */
        p++;
        char *end;
        strtoll(p, &end, 10);
        if (end == p || *end)
            return fail_v(v, "bad timestamp", line);
    } else if (*p) {
        return fail_v(v, "junk after value", line);
    }
    v->samples++;

    if (is_hist) {
        /* series_wo_le starts with the full sample name; compare the labels only */
        const char *labels = strchr(series_wo_le, '|');
        if (!labels)
            labels = "";
        if (sl == 7) {
            if (!le[0])
                return fail_v(v, "bucket without le", line);
            double bound;
            if (!parse_value(le, &bound))
                return fail_v(v, "bad le", line);
            if (strcmp(v->hist_series, labels) != 0 || v->hist_seen_inf) {
                if (strcmp(v->hist_series, labels) == 0)
                    return fail_v(v, "bucket after +Inf", line);
                snprintf(v->hist_series, sizeof v->hist_series, "%s", labels);
                v->hist_last = -1;
                v->hist_seen_inf = 0;
            }
            if (val < v->hist_last)
                return fail_v(v, "buckets not cumulative", line);
            v->hist_last = val;
            if (strcmp(le, "+Inf") == 0) {
                v->hist_seen_inf = 1;
                v->hist_inf = val;
            }
        } else if (sl == 6) {
            if (strcmp(v->hist_series, labels) != 0 || !v->hist_seen_inf)
                return fail_v(v, "_count without a +Inf bucket", line);
            if (val != v->hist_inf)
                return fail_v(v, "_count differs from the +Inf bucket", line);
        }
    }
    return 1;
}

/* Validates a whole exposition; on failure puts the reason in why. */
static int validate(const char *text, char *why, size_t why_len)
{
    validator *v = calloc(1, sizeof *v);
    v->current = -1;
    int ok = 1;
    const char *p = text;
    size_t len = strlen(text);
    if (len == 0 || text[len - 1] != '\n') {
        snprintf(why, why_len, "does not end in a newline");
        free(v);
        return 0;
    }
    char line[4096];
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = (size_t)(nl - p);
        if (n == 0 || n >= sizeof line) {
            snprintf(why, why_len, "empty or over-long line after line %d", v->line_no);
            ok = 0;
            break;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        if (!validate_line(v, line)) {
            snprintf(why, why_len, "%s", v->error);
            ok = 0;
            break;
        }
        p = nl + 1;
    }
    if (ok)
        snprintf(why, why_len, "%d families, %d samples", v->n_families, v->samples);
    free(v);
    return ok;
}

/* The value of the line "<series> <value>", or -1 when absent. */
static double value_of(const char *text, const char *series)
{
    size_t n = strlen(series);
    const char *p = text;
    while ((p = strstr(p, series)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p += n;
    }
    return -1;
}

static char *render(gw_stats *s)
{
    ut_buf b = {0};
    gw_stats_render_prometheus(s, &b);
    if (b.oom) {
        ut_buf_free(&b);
        return NULL;
    }
    return b.data;
}

/* ---- tests ---- */

static void test_registry(void)
{
    gw_stats *s = gw_stats_new(2);
    check(s != NULL && gw_stats_n_workers(s) == 2, "gw_stats_new");
    check(gw_stats_worker(s, 0) && gw_stats_worker(s, 1) && !gw_stats_worker(s, 2),
          "gw_stats_worker bounds");
    check(((uintptr_t)gw_stats_worker(s, 1) & 63) == 0 &&
              (char *)gw_stats_worker(s, 1) - (char *)gw_stats_worker(s, 0) >=
                  (ptrdiff_t)sizeof(gw_worker_stats),
          "worker blocks are cache-line aligned and disjoint");
    check(gw_stats_route_slot(s, "_none") == 0 && strcmp(gw_stats_route_name(s, 0), "_none") == 0,
          "route slot 0 is _none");
    uint32_t a = gw_stats_route_slot(s, "api");
    uint32_t b = gw_stats_route_slot(s, "web");
    check(a == 1 && b == 2, "routes get slots in order after _none");
    /* a "reload" registering in another order, with a new route */
    uint32_t c = gw_stats_route_slot(s, "static");
    check(gw_stats_route_slot(s, "web") == b && gw_stats_route_slot(s, "api") == a && c == 3,
          "slots are stable across re-registration");
    check(gw_stats_cluster_slot(s, "backend") == 0 && gw_stats_cluster_slot(s, "auth") == 1 &&
              gw_stats_cluster_slot(s, "backend") == 0,
          "cluster slots start at 0 and are stable");
    check(gw_stats_cluster_slot(s, "_none") == 2, "_none is an ordinary cluster name");
    check(gw_stats_route_name(s, 4) == NULL && gw_stats_route_name(s, 100000) == NULL &&
              gw_stats_route_name(s, GW_STATS_ROUTE_OTHER) == NULL,
          "unregistered slots have no name");

    char name[32];
    int all_distinct = 1;
    uint32_t last_regular = 0;
    for (int i = 0; i < 600; i++) {
        snprintf(name, sizeof name, "r%d", i);
        uint32_t slot = gw_stats_route_slot(s, name);
        if (i < (int)GW_STATS_MAX_ROUTES - 5) {
            if (slot != (uint32_t)(4 + i))
                all_distinct = 0;
            last_regular = slot;
        }
    }
    check(all_distinct && last_regular == GW_STATS_MAX_ROUTES - 2,
          "routes fill every slot up to the overflow slot");
    check(gw_stats_route_slot(s, "r599") == GW_STATS_ROUTE_OTHER &&
              gw_stats_route_slot(s, "another") == GW_STATS_ROUTE_OTHER &&
              strcmp(gw_stats_route_name(s, GW_STATS_ROUTE_OTHER), "_other") == 0,
          "a full route table returns the _other slot");
    check(gw_stats_route_slot(s, "api") == a && gw_stats_route_slot(s, "r0") == 4,
          "existing names keep their slots when full");

    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "c%d", i);
        gw_stats_cluster_slot(s, name);
    }
    check(gw_stats_cluster_slot(s, "c299") == GW_STATS_CLUSTER_OTHER &&
              gw_stats_cluster_slot(s, "c0") == 3 &&
              strcmp(gw_stats_cluster_name(s, GW_STATS_CLUSTER_OTHER), "_other") == 0,
          "a full cluster table returns the _other slot");

    /* everything registered is rendered, nothing else */
    char *text = render(s);
    check(text && value_of(text, "sluice_requests_total{route=\"r0\",class=\"2xx\"}") == 0 &&
              value_of(text, "sluice_requests_total{route=\"_other\",class=\"2xx\"}") == 0 &&
              value_of(text, "sluice_upstream_requests_total{cluster=\"_other\"}") == 0 &&
              value_of(text, "sluice_requests_total{route=\"r599\",class=\"2xx\"}") == -1,
          "registered slots render, overflowed names do not");
    char why[300];
    int ok = text && validate(text, why, sizeof why);
    check(ok, "full tables render as valid Prometheus text");
    if (!ok)
        printf("# %s\n", why);
    free(text);
    gw_stats_free(s);

    s = gw_stats_new(1);
    check(gw_stats_route_slot(s, "_other") == GW_STATS_ROUTE_OTHER &&
              gw_stats_route_slot(s, "x") == 1,
          "_other can be named explicitly and takes the reserved slot");
    gw_stats_free(s);
    check(gw_stats_new(0) == NULL, "gw_stats_new(0) fails");
    gw_stats_free(NULL);
}

static void test_mapping(void)
{
    check(gw_stats_status_class(100) == 1 && gw_stats_status_class(204) == 2 &&
              gw_stats_status_class(302) == 3 && gw_stats_status_class(499) == 4 &&
              gw_stats_status_class(599) == 5 && gw_stats_status_class(0) == 5 &&
              gw_stats_status_class(600) == 5 && gw_stats_status_class(-1) == 5,
          "status classes (index = first digit)");
    check(gw_stats_latency_bucket(0) == 0 && gw_stats_latency_bucket(500) == 0 &&
              gw_stats_latency_bucket(501) == 1 && gw_stats_latency_bucket(1000) == 1 &&
              gw_stats_latency_bucket(2500) == 2 && gw_stats_latency_bucket(100000) == 7 &&
              gw_stats_latency_bucket(10000000) == 13 && gw_stats_latency_bucket(10000001) == 14 &&
              gw_stats_latency_bucket(UINT64_MAX) == 14,
          "latency buckets (le is inclusive)");
}

static void test_histogram(void)
{
    gw_stats *s = gw_stats_new(1);
    gw_worker_stats *w = gw_stats_worker(s, 0);
    uint32_t api = gw_stats_route_slot(s, "api");
    static const uint64_t lat[] = {100, 500, 501, 3000, 3000, 7000, 200000, 1000000, 20000000};
    uint64_t sum = 0;
    for (size_t i = 0; i < sizeof lat / sizeof lat[0]; i++) {
        gw_stats_observe_response(w, api, i == 8 ? 504 : 200, lat[i]);
        sum += lat[i];
    }
    gw_stats_observe_response(w, GW_STATS_ROUTE_NONE, 404, 50);
    gw_stats_observe_response(w, 99999, 200, 50); /* out of range: "_other" */
    char *text = render(s);
    static const struct {
        const char *le;
        double want;
    } cum[] = {
        {"0.0005", 2}, {"0.001", 3}, {"0.0025", 3}, {"0.005", 5}, {"0.01", 6}, {"0.025", 6},
        {"0.05", 6},   {"0.1", 6},   {"0.25", 7},   {"0.5", 7},   {"1", 8},    {"2.5", 8},
        {"5", 8},      {"10", 8},    {"+Inf", 9},
    };
    int ok = text != NULL;
    char series[128];
    for (size_t i = 0; ok && i < sizeof cum / sizeof cum[0]; i++) {
        snprintf(series, sizeof series,
                 "sluice_request_duration_seconds_bucket{route=\"api\",le=\"%s\"}", cum[i].le);
        if (value_of(text, series) != cum[i].want) {
            printf("# %s = %g, want %g\n", series, value_of(text, series), cum[i].want);
            ok = 0;
        }
    }
    check(ok, "histogram buckets render cumulatively");
    check(text && value_of(text, "sluice_request_duration_seconds_count{route=\"api\"}") == 9,
          "histogram _count");
    char want_sum[64];
    snprintf(want_sum, sizeof want_sum, "%" PRIu64 ".%06" PRIu64, sum / 1000000, sum % 1000000);
    const char *p = text ? strstr(text, "sluice_request_duration_seconds_sum{route=\"api\"} ") : NULL;
    check(p && strncmp(p + strlen("sluice_request_duration_seconds_sum{route=\"api\"} "), want_sum,
                       strlen(want_sum)) == 0,
          "histogram _sum in seconds, exact");
    check(text && value_of(text, "sluice_requests_total{route=\"api\",class=\"2xx\"}") == 8 &&
              value_of(text, "sluice_requests_total{route=\"api\",class=\"5xx\"}") == 1 &&
              value_of(text, "sluice_requests_total{route=\"_none\",class=\"4xx\"}") == 1 &&
              value_of(text, "sluice_requests_total{route=\"api\",class=\"1xx\"}") == 0,
          "responses by route and class");
    check(GW_STAT_GET(w->routes[GW_STATS_ROUTE_OTHER].responses[2]) == 1 &&
              (!text || value_of(text, "sluice_requests_total{route=\"_other\",class=\"2xx\"}") == -1),
          "out-of-range slots count into _other (rendered only once registered)");
    char why[300];
    ok = text && validate(text, why, sizeof why);
    check(ok, "histogram render is valid Prometheus text");
    if (!ok)
        printf("# %s\n", why);
    free(text);
    gw_stats_free(s);
}

static void test_workers_summed(void)
{
    gw_stats *s = gw_stats_new(2);
    gw_worker_stats *w0 = gw_stats_worker(s, 0), *w1 = gw_stats_worker(s, 1);
    uint32_t r = gw_stats_route_slot(s, "api");
    uint32_t c = gw_stats_cluster_slot(s, "backend");
    gw_stats_observe_response(w0, r, 200, 1000);
    gw_stats_observe_response(w1, r, 201, 3000);
    gw_stats_observe_response(w1, r, 503, 3000);
    gw_stats_downstream_open(w0);
    gw_stats_downstream_open(w0);
    gw_stats_downstream_open(w1);
    gw_stats_downstream_close(w0);
    gw_stats_request(w0);
    gw_stats_request(w1);
    gw_stats_request(w1);
    gw_stats_bad_request(w1);
    gw_stats_bytes(w0, 100, 1000);
    gw_stats_bytes(w1, 23, 4);
    gw_stats_cluster_request(w0, c);
    gw_stats_cluster_request(w1, c);
    gw_stats_cluster_request(w1, c);
    gw_stats_cluster_response(w0, c, 200);
    gw_stats_cluster_response(w1, c, 502);
    gw_stats_cluster_connect_failure(w1, c);
    gw_stats_cluster_timeout(w0, c);
    gw_stats_cluster_retry(w1, c);
    gw_stats_cluster_ejection(w0, c);
    gw_stats_cluster_conn_open(w0, c);
    gw_stats_cluster_conn_open(w1, c);
    gw_stats_cluster_conn_open(w1, c);
    gw_stats_cluster_conn_close(w1, c);
    char *text = render(s);
    check(text && value_of(text, "sluice_requests_total{route=\"api\",class=\"2xx\"}") == 2 &&
              value_of(text, "sluice_requests_total{route=\"api\",class=\"5xx\"}") == 1 &&
              value_of(text, "sluice_request_duration_seconds_bucket{route=\"api\",le=\"0.001\"}") == 1 &&
              value_of(text, "sluice_request_duration_seconds_bucket{route=\"api\",le=\"0.005\"}") == 3,
          "route counters are summed over workers");
    check(text && value_of(text, "sluice_downstream_connections_active") == 2 &&
              value_of(text, "sluice_downstream_connections_total") == 3 &&
              value_of(text, "sluice_downstream_requests_total") == 3 &&
              value_of(text, "sluice_downstream_bad_requests_total") == 1 &&
              value_of(text, "sluice_downstream_received_bytes_total") == 123 &&
              value_of(text, "sluice_downstream_sent_bytes_total") == 1004 &&
              value_of(text, "sluice_workers") == 2,
          "worker counters and gauges are summed");
    check(text && value_of(text, "sluice_upstream_requests_total{cluster=\"backend\"}") == 3 &&
              value_of(text, "sluice_upstream_responses_total{cluster=\"backend\",class=\"2xx\"}") == 1 &&
              value_of(text, "sluice_upstream_responses_total{cluster=\"backend\",class=\"5xx\"}") == 1 &&
              value_of(text, "sluice_upstream_connect_failures_total{cluster=\"backend\"}") == 1 &&
              value_of(text, "sluice_upstream_timeouts_total{cluster=\"backend\"}") == 1 &&
              value_of(text, "sluice_upstream_retries_total{cluster=\"backend\"}") == 1 &&
              value_of(text, "sluice_upstream_ejections_total{cluster=\"backend\"}") == 1 &&
              value_of(text, "sluice_upstream_connections_active{cluster=\"backend\"}") == 2,
          "cluster counters and gauges are summed");
    char why[300];
    int ok = text && validate(text, why, sizeof why);
    check(ok, "render is valid Prometheus text");
    if (!ok)
        printf("# %s\n", why);
    else
        printf("# %s\n", why);
    free(text);
    gw_stats_free(s);
}

typedef struct thread_arg {
    gw_worker_stats *w;
    uint32_t route, cluster;
    int n;
} thread_arg;

static void *worker_thread(void *p)
{
    thread_arg *t = p;
    for (int i = 0; i < t->n; i++) {
        gw_stats_downstream_open(t->w);
        gw_stats_request(t->w);
        gw_stats_cluster_request(t->w, t->cluster);
        gw_stats_observe_response(t->w, t->route, 200, (uint64_t)(i % 2000) * 10);
        gw_stats_downstream_close(t->w);
    }
    return NULL;
}

static void test_concurrent(void)
{
    enum { W = 4, N = 200000 };
    gw_stats *s = gw_stats_new(W);
    uint32_t r = gw_stats_route_slot(s, "api");
    uint32_t c = gw_stats_cluster_slot(s, "backend");
    pthread_t th[W];
    thread_arg args[W];
    for (int i = 0; i < W; i++) {
        args[i] = (thread_arg){gw_stats_worker(s, (unsigned)i), r, c, N};
        pthread_create(&th[i], NULL, worker_thread, &args[i]);
    }
    int valid = 1, monotonic = 1;
    double last = 0;
    char why[300];
    for (int k = 0; k < 20; k++) {
        char *text = render(s);
        if (!text || !validate(text, why, sizeof why)) {
            valid = 0;
            printf("# %s\n", why);
        }
        double v = text ? value_of(text, "sluice_downstream_requests_total") : -1;
        if (v < last)
            monotonic = 0;
        last = v;
        free(text);
    }
    for (int i = 0; i < W; i++)
        pthread_join(th[i], NULL);
    check(valid && monotonic, "rendering while workers write: valid and monotonic");
    char *text = render(s);
    check(text && value_of(text, "sluice_downstream_requests_total") == (double)W * N &&
              value_of(text, "sluice_requests_total{route=\"api\",class=\"2xx\"}") == (double)W * N &&
              value_of(text, "sluice_request_duration_seconds_count{route=\"api\"}") == (double)W * N &&
              value_of(text, "sluice_upstream_requests_total{cluster=\"backend\"}") == (double)W * N &&
              value_of(text, "sluice_downstream_connections_active") == 0 &&
              value_of(text, "sluice_downstream_connections_total") == (double)W * N,
          "no update lost once the workers are done");
    free(text);
    gw_stats_free(s);
}

static void test_escaping(void)
{
    ut_buf b = {0};
    gw_stats_escape_label(&b, "a\"b\\c\nd\te");
    check(b.data && strcmp(b.data, "a\\\"b\\\\c\\nd\te") == 0, "label escaping of \" \\ and newline");
    ut_buf_reset(&b);
    gw_stats_escape_label(&b, "caf\xc3\xa9 \xff\xc3 \xed\xa0\x80 \xf0\x9f\x98\x80");
    check(b.data && strcmp(b.data, "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd"
                                   "\xef\xbf\xbd \xf0\x9f\x98\x80") == 0,
          "invalid UTF-8 becomes U+FFFD, valid UTF-8 is kept");
    ut_buf_free(&b);

    gw_stats *s = gw_stats_new(1);
    uint32_t r = gw_stats_route_slot(s, "we\"ird\\na\nme");
    gw_stats_cluster_slot(s, "c\"1");
    gw_stats_observe_response(gw_stats_worker(s, 0), r, 200, 10);
    char *text = render(s);
    check(text && value_of(text, "sluice_requests_total{route=\"we\\\"ird\\\\na\\nme\",class=\"2xx\"}") == 1 &&
              value_of(text, "sluice_upstream_requests_total{cluster=\"c\\\"1\"}") == 0,
          "escaped labels in the render");
    char why[300];
    int ok = text && validate(text, why, sizeof why);
    check(ok, "render with odd names is valid Prometheus text");
    if (!ok)
        printf("# %s\n", why);
    free(text);
    gw_stats_free(s);
}

static void test_process(void)
{
    gw_stats *s = gw_stats_new(1);
    char *text = render(s);
    check(text && value_of(text, "sluice_config_generation") == 0 &&
              value_of(text, "sluice_config_last_reload_success") == 1 &&
              value_of(text, "sluice_draining") == 0 &&
              value_of(text, "sluice_process_resident_memory_bytes") > 0 &&
              value_of(text, "sluice_process_cpu_seconds_total") >= 0 &&
              value_of(text, "sluice_process_start_time_seconds") > 1.6e9,
          "process metrics before any load");
    free(text);

    gw_stats_config_applied(s, 1, false);
    gw_stats_config_applied(s, 2, true);
    gw_stats_config_failed(s, "gateway.yaml:3:1: bad \"thing\"");
    gw_stats_set_draining(s, true);
    gw_stats_process p;
    gw_stats_process_get(s, &p);
    check(p.config_generation == 2 && p.reloads_ok == 1 && p.reload_errors == 1 &&
              !p.last_reload_success && p.draining && p.last_reload_unix_ms >= p.start_unix_ms &&
              strcmp(p.last_reload_error, "gateway.yaml:3:1: bad \"thing\"") == 0,
          "process state after load, reload and a failed reload");
    text = render(s);
    check(text && value_of(text, "sluice_config_generation") == 2 &&
              value_of(text, "sluice_config_reloads_total") == 1 &&
              value_of(text, "sluice_config_reload_errors_total") == 1 &&
              value_of(text, "sluice_config_last_reload_success") == 0 &&
              value_of(text, "sluice_draining") == 1 &&
              value_of(text, "sluice_config_last_reload_timestamp_seconds") > 1.6e9,
          "process metrics render");
    free(text);
    gw_stats_config_applied(s, 3, true);
    char longmsg[600];
    memset(longmsg, 'x', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    gw_stats_process_get(s, &p);
    int cleared = p.last_reload_success && p.last_reload_error[0] == '\0';
    gw_stats_config_failed(s, longmsg);
    gw_stats_process_get(s, &p);
    check(cleared && strlen(p.last_reload_error) == sizeof p.last_reload_error - 1,
          "a success clears the error; long messages are truncated");
    text = render(s);
    char why[300];
    int ok = text && validate(text, why, sizeof why);
    check(ok, "process render is valid Prometheus text");
    if (!ok)
        printf("# %s\n", why);
    free(text);
    gw_stats_free(s);
}

static void test_validator(void)
{
    /* the validator itself must reject what Prometheus rejects */
    static const char *bad[] = {
        "x 1\n",                                           /* no TYPE */
        "# TYPE x counter\nx{a=\"b} 1\n",                  /* unterminated */
        "# TYPE x counter\nx{a=\"\\t\"} 1\n",              /* bad escape */
        "# TYPE x counter\nx 1x\n",                        /* bad value */
        "# TYPE x counter\ny 1\n",                         /* outside family */
        "# TYPE x histogram\nx_bucket{le=\"1\"} 2\nx_bucket{le=\"+Inf\"} 1\nx_count 1\n",
        "# TYPE x histogram\nx_bucket{le=\"+Inf\"} 2\nx_count 1\n",
        "# TYPE x counter\n# TYPE x counter\n",
        "# TYPE x counter\nx 1",                           /* no final newline */
    };
    static const char *good[] = {
        "# HELP x a \\\\ help\n# TYPE x counter\nx 1\nx{a=\"\\\"\\n\\\\\"} 2 1700000000000\n",
        "# TYPE x histogram\nx_bucket{le=\"1\"} 1\nx_bucket{le=\"+Inf\"} 2\nx_sum 3.5\nx_count 2\n",
    };
    char why[300];
    int ok = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (validate(bad[i], why, sizeof why)) {
            printf("# validator accepted bad input %zu\n", i);
            ok = 0;
        }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!validate(good[i], why, sizeof why)) {
            printf("# validator rejected good input %zu: %s\n", i, why);
            ok = 0;
        }
    check(ok, "the test's format validator accepts and rejects correctly");
}

int main(void)
{
    test_validator();
    test_registry();
    test_mapping();
    test_histogram();
    test_workers_summed();
    test_concurrent();
    test_escaping();
    test_process();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
