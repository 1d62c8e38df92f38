/* routes.c — WAGI guest with the _routes convention: `_routes` prints two
 * sub-routes ("SUBPATH ENTRYPOINT"), the exports `hello` and `goodbye`
 * answer them, `_start` (main) answers the module's own route. Each names
 * itself and shows SCRIPT_NAME, PATH_INFO and X_MATCHED_ROUTE. Used by
 * tests/wagi/test_wagi.c and tests/wagi_gateway/suite.sh. */
#include <stdio.h>
#include <stdlib.h>

static void answer(const char *who)
{
    const char *sn = getenv("SCRIPT_NAME"), *pi = getenv("PATH_INFO"),
               *mr = getenv("X_MATCHED_ROUTE");
    printf("Content-Type: text/plain\n\n%s SCRIPT_NAME=%s PATH_INFO=%s X_MATCHED_ROUTE=%s\n", who,
           sn ? sn : "-", pi ? pi : "-", mr ? mr : "-");
    fflush(stdout);
}

__attribute__((export_name("_routes"))) void routes(void)
{
    printf("/hello hello\n/goodbye/... goodbye\n");
    fflush(stdout);
}

__attribute__((export_name("hello"))) void hello(void)
{
    answer("hello");
}

__attribute__((export_name("goodbye"))) void goodbye(void)
{
    answer("goodbye");
}

int main(void)
{
    answer("main");
    return 0;
}
