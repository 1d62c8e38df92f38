/*
 * pw_plugin.c — a configured plugin: deep copy of pw_plugin_conf, the
 * module reference, the process-wide stats entry, the canary check.
 * Not here:  instances (pw_vm.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "pw_int.h"

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

static void plugin_free(pw_plugin *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->root_count; i++) {
        free(p->roots[i].root_id);
        free(p->roots[i].configuration);
    }
    free(p->roots);
    for (size_t i = 0; i < p->env_count; i++)
        free(p->env[i]);
    free(p->env);
    free(p->name);
    free(p->vm_id);
    free(p->vm_configuration);
    pw_module_unref(p->module);
    free(p);
}

pw_plugin *pw_plugin_new(pw_module *m, const pw_plugin_conf *conf, char *err, size_t err_len)
{
    char dummy[8];
    if (!err || !err_len)
        err = dummy, err_len = sizeof dummy;
    err[0] = '\0';
    if (!m || !conf || !conf->roots || !conf->root_count) {
        snprintf(err, err_len, "pw_plugin_new: a module and at least one root are required");
        return NULL;
    }
    pw_plugin *p = calloc(1, sizeof *p);
    if (!p)
        goto oom;
    atomic_init(&p->refs, 1);
    p->module = pw_module_ref(m);
    p->name = dup_str(conf->name);
    p->vm_id = dup_str(conf->vm_id);
    p->vm_configuration = dup_bytes(conf->vm_configuration, conf->vm_configuration_len);
    p->vm_configuration_len = conf->vm_configuration_len;
    p->max_memory_pages = conf->max_memory_pages;
    p->callback_cpu_ms = conf->callback_cpu_ms;
    p->honour_stop_iteration = conf->header_stop_iteration < 0 ? m->abi == PW_ABI_0_2_100
                                                              : conf->header_stop_iteration > 0;
    if (!p->name || !p->vm_id || !p->vm_configuration)
        goto oom;
    if (conf->env_count) {
        p->env = calloc(conf->env_count, sizeof *p->env);
        if (!p->env)
            goto oom;
        for (; p->env_count < conf->env_count; p->env_count++)
            if (!(p->env[p->env_count] = dup_str(conf->env[p->env_count])))
                goto oom;
    }
    p->roots = calloc(conf->root_count, sizeof *p->roots);
    if (!p->roots)
        goto oom;
    for (; p->root_count < conf->root_count; p->root_count++) {
        const pw_root_conf *r = &conf->roots[p->root_count];
        pw__root_conf *d = &p->roots[p->root_count];
        d->root_id = dup_str(r->root_id);
        d->configuration = dup_bytes(r->configuration, r->configuration_len);
        d->configuration_len = r->configuration_len;
        d->failure = r->failure;
        if (!d->root_id || !d->configuration) {
            p->root_count++;
            goto oom;
        }
    }
    if (!(p->stats = pw__stats_get(p->name)))
        goto oom;
    return p;
oom:
    snprintf(err, err_len, "out of memory");
    plugin_free(p);
    return NULL;
}

pw_plugin *pw_plugin_ref(pw_plugin *p)
{
    if (p)
        atomic_fetch_add(&p->refs, 1);
    return p;
}

void pw_plugin_unref(pw_plugin *p)
{
    if (p && atomic_fetch_sub(&p->refs, 1) == 1)
        plugin_free(p);
}

const char *pw_plugin_name(const pw_plugin *p)
{
    return p->name;
}

size_t pw_plugin_root_count(const pw_plugin *p)
{
    return p->root_count;
}

pw_failure_policy pw_plugin_failure(const pw_plugin *p, size_t root_index)
{
    return root_index < p->root_count ? p->roots[root_index].failure : PW_FAIL_CLOSED;
}

/* The canary has no Redis, but plugins commonly call proxy_redis_init while
 * configuring and fail when it does (Higress' ParseConfig returns Init's error):
 * accept it here; the workers' VMs run it against the real host. */
static pw_status canary_redis_init(void *user, pw_vm *vm, const char *cluster, size_t cluster_len,
                                   const char *username, size_t username_len, const char *password,
                                   size_t password_len, uint32_t timeout_ms)
{
    (void)user, (void)vm, (void)cluster, (void)cluster_len, (void)username, (void)username_len;
    (void)password, (void)password_len, (void)timeout_ms;
    return PW_OK;
}

int pw_plugin_check(const pw_plugin *p, sl_engine *engine, char *err, size_t err_len)
{
    pw_host none = {.redis_init = canary_redis_init};
    pw_vm *vm = pw_vm_new(p, engine, &none, err, err_len);
    if (!vm)
        return -1;
    pw_vm_unref(vm);
    return 0;
}
