/*
 * cli_wast.h — runs the commands of one wast2json file (used by
 * cli_spectest.c, which owns processes, output and totals).
 *
 * Layer:     cli. Sees vm.h and ut_json.h.
 * Contract:  cli_wast_run_file executes every command of the file in order
 *            and reports each through the reporter: begin() before it runs,
 *            then exactly one outcome() (pass / fail / skip, with a one-line
 *            reason for fail and skip), and note()s for verbose-only remarks
 *            (e.g. a message mismatch that still counts as a pass).
 *            Commands whose line is in skip_lines are not run at all;
 *            commands at lines <= quiet_until run without reporting any
 *            outcome (used to rebuild state after a crash; see
 *            cli_spectest.c). A file that cannot be read or parsed yields
 *            one failed outcome at line 0.
 * Ownership: all engine objects live until the file ends, then are freed.
 */
#ifndef CLI_WAST_H
#define CLI_WAST_H

#include <stdbool.h>
#include <stddef.h>

typedef enum cli_outcome {
    CLI_PASS,
    CLI_FAIL,
    CLI_SKIP,
} cli_outcome;

typedef struct cli_reporter cli_reporter;
struct cli_reporter {
    void (*begin)(cli_reporter *r, long line);
    void (*outcome)(cli_reporter *r, long line, cli_outcome o, const char *why);
    void (*note)(cli_reporter *r, long line, const char *msg);
};

typedef struct cli_wast_opts {
    bool verbose;          /* spectest.print* write to stdout; notes are sent */
    bool strict_messages;  /* a message mismatch fails instead of noting */
    const long *skip_lines;
    size_t n_skip_lines;
    long quiet_until;
    unsigned timeout_s;    /* per command, via alarm(); 0 = none */
    bool aot;              /* every module runs AOT-compiled native code */
    const char *aot_cache; /* artifact cache directory (NULL = default) */
} cli_wast_opts;

void cli_wast_run_file(const char *json_path, const cli_wast_opts *opts, cli_reporter *rep);

#endif /* CLI_WAST_H */
