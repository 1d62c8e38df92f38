/*
 * pw_log.c — where plugin logs go: proxy_log, WASI fd_write 1/2, traps and
 * host diagnostics about a plugin (pw_set_log). Default: stderr, one line
 * "[plugin NAME] LEVEL message".
 * Not here:  line assembly of fd_write chunks (pw_link.c).
 */
#include <stdarg.h>
#include <stdio.h>

#include "pw_int.h"

static pw_log_fn log_fn;
static void *log_user;
static pw_log_level log_min = PW_LOG_INFO;

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error", "critical"};

void pw_set_log(pw_log_fn fn, void *user, pw_log_level min_level)
{
    log_fn = fn;
    log_user = user;
    log_min = min_level > PW_LOG_CRITICAL ? PW_LOG_CRITICAL : min_level;
}

pw_log_level pw__log_min(void)
{
    return log_min;
}

void pw__log(const char *plugin, pw_log_level level, const char *msg, size_t len)
{
    if (level > PW_LOG_CRITICAL)
        level = PW_LOG_CRITICAL;
    if (level < log_min)
        return;
    if (log_fn) {
        log_fn(log_user, plugin ? plugin : "", level, msg, len);
        return;
    }
    fprintf(stderr, "[plugin %s] %s %.*s\n", plugin ? plugin : "", level_names[level],
            (int)(len > 65536 ? 65536 : len), msg);
}

void pw__logf(const char *plugin, pw_log_level level, const char *fmt, ...)
{
    if (level < log_min)
        return;
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    pw__log(plugin, level, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
