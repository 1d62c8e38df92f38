/*
 * cli_spectest.c — `sluice spectest [options] FILE.json...`: runs wabt
 * wast2json output and reports per-file and total counts.
 *
 * Owns:      options, one child process per file, crash and hang
 *            recovery, and the output format:
 *              FILE: N passed, N failed, N skipped
 *                line L: why          (one per failed command, on failure)
 *              total: N passed, N failed, N skipped   (more than one file)
 *            Exit status 1 if anything failed, 2 for a bad command line.
 * Isolation: each file runs in a forked child that streams its progress
 *            over a pipe ("B line" before a command, "P/F/S line why" after,
 *            "N line msg" notes, "E" at the end). Traps are values and never
 *            end the child; but if the engine crashes (or a command exceeds
 *            --timeout seconds, via alarm()), the parent counts the command
 *            that was running as failed and starts a new child that replays
 *            the earlier commands silently (to rebuild their state), skips
 *            the crashing ones, and reports the rest. A child that finishes
 *            but exits non-zero (e.g. LeakSanitizer found a leak) adds one
 *            failure. --no-fork runs in-process (for debuggers).
 * Not here:  what each command means (cli_wast.c).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cli_wast.h"

#define MAX_CRASHES_PER_FILE 25
#define MAX_FAIL_LINES 100 /* per file, unless --verbose */

typedef struct spec_opts {
    bool verbose;
    bool strict_messages;
    bool no_fork;
    unsigned timeout_s;
    bool aot;
    const char *aot_cache;
} spec_opts;

/* Counts for one file, fed by the reporter callbacks (directly, or from the
 * child's pipe). */
typedef struct tally {
    cli_reporter rep; /* first: the callbacks get a tally* */
    const char *file;
    bool verbose;
    long passed, failed, skipped;
    char **fails;
    size_t n_fails, cap_fails;
    long inflight;      /* line begun and not yet reported; 0 if none */
    long last_reported; /* highest line with an outcome */
    bool finished;      /* the child sent "E" */
} tally;

static void tally_add_fail(tally *t, long line, const char *why)
{
    t->failed++;
    if (t->n_fails == t->cap_fails) {
        size_t nc = t->cap_fails ? t->cap_fails * 2 : 16;
        char **nf = realloc(t->fails, nc * sizeof *nf);
        if (!nf)
            return;
        t->fails = nf;
        t->cap_fails = nc;
    }
    size_t n = strlen(why) + 48;
    char *s = malloc(n);
    if (!s)
        return;
    if (line > 0)
        snprintf(s, n, "line %ld: %s", line, why && *why ? why : "failed");
    else
        snprintf(s, n, "error: %s", why && *why ? why : "failed");
    t->fails[t->n_fails++] = s;
}

static void tally_begin(cli_reporter *r, long line)
{
    ((tally *)r)->inflight = line;
}

static void tally_outcome(cli_reporter *r, long line, cli_outcome o, const char *why)
{
    tally *t = (tally *)r;
    t->inflight = 0;
    if (line > t->last_reported)
        t->last_reported = line;
    switch (o) {
    case CLI_PASS:
        t->passed++;
        break;
    case CLI_FAIL:
        tally_add_fail(t, line, why);
        break;
    case CLI_SKIP:
        t->skipped++;
        if (t->verbose)
            printf("%s:%ld: skipped: %s\n", t->file, line, why);
        break;
    }
}

static void tally_note(cli_reporter *r, long line, const char *msg)
{
    tally *t = (tally *)r;
    printf("%s:%ld: note: %s\n", t->file, line, msg);
    fflush(stdout);
}

static void tally_init(tally *t, const char *file, bool verbose)
{
    memset(t, 0, sizeof *t);
    t->rep.begin = tally_begin;
    t->rep.outcome = tally_outcome;
    t->rep.note = tally_note;
    t->file = file;
    t->verbose = verbose;
}

static void tally_print_free(tally *t)
{
    printf("%s: %ld passed, %ld failed, %ld skipped\n", t->file, t->passed, t->failed,
           t->skipped);
    for (size_t i = 0; i < t->n_fails; i++) {
        if (i < MAX_FAIL_LINES || t->verbose)
            printf("  %s\n", t->fails[i]);
        free(t->fails[i]);
    }
    if (t->n_fails > MAX_FAIL_LINES && !t->verbose)
        printf("  ... and %zu more (see --verbose)\n", t->n_fails - MAX_FAIL_LINES);
    free(t->fails);
    fflush(stdout);
}

/* ---- the child's side of the pipe -------------------------------------------------- */

typedef struct pipe_reporter {
    cli_reporter rep;
    FILE *out;
} pipe_reporter;

/* One line per message; newlines inside a reason would break the framing. */
static void pipe_send(cli_reporter *r, char tag, long line, const char *msg)
{
    FILE *out = ((pipe_reporter *)r)->out;
    fprintf(out, "%c %ld ", tag, line);
    for (const char *p = msg ? msg : ""; *p; p++)
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, out);
    fputc('\n', out);
    fflush(out);
}

static void pipe_begin(cli_reporter *r, long line)
{
    pipe_send(r, 'B', line, NULL);
}

static void pipe_outcome(cli_reporter *r, long line, cli_outcome o, const char *why)
{
    pipe_send(r, o == CLI_PASS ? 'P' : o == CLI_FAIL ? 'F' : 'S', line, why);
}

static void pipe_note(cli_reporter *r, long line, const char *msg)
{
    pipe_send(r, 'N', line, msg);
}

/* Applies one line from the child to the tally. */
static void parse_child_line(tally *t, char *buf)
{
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (buf[0] == 'E') {
        t->finished = true;
        return;
    }
    char *end;
    long line = strtol(buf + 1, &end, 10);
    const char *msg = *end == ' ' ? end + 1 : end;
    switch (buf[0]) {
    case 'B': tally_begin(&t->rep, line); break;
    case 'P': tally_outcome(&t->rep, line, CLI_PASS, msg); break;
    case 'F': tally_outcome(&t->rep, line, CLI_FAIL, msg); break;
    case 'S': tally_outcome(&t->rep, line, CLI_SKIP, msg); break;
    case 'N': tally_note(&t->rep, line, msg); break;
    default: break;
    }
}

static void describe_status(int status, unsigned timeout_s, char *buf, size_t n)
{
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        snprintf(buf, n, "timed out (more than %u s)", timeout_s);
    else if (WIFSIGNALED(status))
        snprintf(buf, n, "crashed (signal %d, %s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, n, "runner died (exit status %d; sanitizer report on stderr?)",
                 WEXITSTATUS(status));
}

/* Runs the file in a child. Returns false when fork/pipe failed. */
static bool run_child(const char *path, const spec_opts *o, const long *skip, size_t n_skip,
                      long quiet_until, tally *t, int *status)
{
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        close(fds[0]);
        pipe_reporter pr = {{pipe_begin, pipe_outcome, pipe_note}, fdopen(fds[1], "w")};
        if (!pr.out)
            _exit(3);
        cli_wast_opts wo = {
            .verbose = o->verbose,
            .strict_messages = o->strict_messages,
            .skip_lines = skip,
            .n_skip_lines = n_skip,
            .quiet_until = quiet_until,
            .timeout_s = o->timeout_s,
            .aot = o->aot,
            .aot_cache = o->aot_cache,
        };
        cli_wast_run_file(path, &wo, &pr.rep);
        fputs("E\n", pr.out);
        fclose(pr.out);
        fflush(stdout);
        exit(0); /* not _exit: LeakSanitizer checks at exit */
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    if (!in) {
        close(fds[0]);
    } else {
        char *buf = NULL;
        size_t cap = 0;
        while (getline(&buf, &cap, in) > 0)
            parse_child_line(t, buf);
        free(buf);
        fclose(in);
    }
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return true;
}

/* Runs one file (in children, restarting after crashes) into t. */
static void run_file_forked(const char *path, const spec_opts *o, tally *t)
{
    long skip[MAX_CRASHES_PER_FILE];
    size_t n_skip = 0;
    long quiet_until = LONG_MIN;
    for (;;) {
        int status = 0;
        char desc[128];
        t->finished = false;
        t->inflight = 0;
        if (!run_child(path, o, skip, n_skip, quiet_until, t, &status)) {
            snprintf(desc, sizeof desc, "cannot start a runner process: %s", strerror(errno));
            tally_add_fail(t, 0, desc);
            return;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && t->finished)
            return;
        describe_status(status, o->timeout_s, desc, sizeof desc);
        if (t->finished || t->inflight == 0) {
            char msg[192];
            snprintf(msg, sizeof msg, "%s outside any command", desc);
            tally_add_fail(t, 0, msg);
            return;
        }
        long line = t->inflight;
        if (line > t->last_reported) {
            tally_add_fail(t, line, desc);
            t->last_reported = line;
        }
        if (n_skip == MAX_CRASHES_PER_FILE) {
            tally_add_fail(t, 0, "too many crashes; the rest of the file was not run");
            return;
        }
        skip[n_skip++] = line;
        quiet_until = t->last_reported;
    }
}

static int spectest_usage(void)
{
    fprintf(stderr,
            "usage: sluice spectest [--verbose] [--strict-messages] [--no-fork]\n"
            "                       [--timeout SEC] FILE.json...\n"
            "  --verbose          notes (message mismatches, skips) and spectest.print output\n"
            "  --strict-messages  a trap/error message that differs from the spec fails\n"
            "  --no-fork          run in this process (a crash then ends the run)\n"
            "  --timeout SEC      per command, default 60; 0 = none\n"
            "  --aot              compile every module to native code first (sluice/aot.h)\n"
            "  --aot-cache DIR    artifact cache for --aot (default: $SLUICE_AOT_CACHE,\n"
            "                     else ~/.cache/sluice/aot)\n");
    return CLI_EXIT_USAGE;
}

int cli_spectest_main(int argc, char **argv)
{
    spec_opts o = {.timeout_s = 60};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            o.verbose = true;
        } else if (strcmp(a, "--strict-messages") == 0) {
            o.strict_messages = true;
        } else if (strcmp(a, "--no-fork") == 0) {
            o.no_fork = true;
        } else if (strcmp(a, "--aot") == 0) {
            o.aot = true;
        } else if (strcmp(a, "--aot-cache") == 0 && i + 1 < argc) {
            o.aot = true;
            o.aot_cache = argv[++i];
        } else if (strcmp(a, "--timeout") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || v < 0 || v > 86400)
                return spectest_usage();
            o.timeout_s = (unsigned)v;
        } else {
            fprintf(stderr, "sluice spectest: unknown option '%s'\n", a);
            return spectest_usage();
        }
    }
    if (i >= argc)
        return spectest_usage();
    if (o.no_fork)
        o.timeout_s = 0; /* alarm() would end this process */

    long passed = 0, failed = 0, skipped = 0;
    int n_files = argc - i;
    for (; i < argc; i++) {
        tally t;
        tally_init(&t, argv[i], o.verbose);
        if (o.no_fork) {
            cli_wast_opts wo = {.verbose = o.verbose,
                                .strict_messages = o.strict_messages,
                                .aot = o.aot,
                                .aot_cache = o.aot_cache,
                                .quiet_until = LONG_MIN};
            cli_wast_run_file(argv[i], &wo, &t.rep);
        } else {
            run_file_forked(argv[i], &o, &t);
        }
        passed += t.passed;
        failed += t.failed;
        skipped += t.skipped;
        tally_print_free(&t);
    }
    if (n_files > 1)
        printf("total: %ld passed, %ld failed, %ld skipped\n", passed, failed, skipped);
    return failed ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
