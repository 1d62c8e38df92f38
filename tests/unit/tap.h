/*
 * tap.h — the unit tests' reporting: one "ok - NAME" / "not ok - NAME" line
 * per check, then the "N passed, N failed" line tests/unit/suite.sh reads.
 * Header-only; each test program includes it once.
 */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>

static int n_pass, n_fail;

static void check(int cond, const char *name)
{
    printf("%s - %s\n", cond ? "ok" : "not ok", name);
    if (cond)
        n_pass++;
    else
        n_fail++;
}

#endif
