#include "daemon/image/registry/curl_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>

static struct curl_api api;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *load_error;

static CURL *stub_easy_init(void)
{
    return NULL;
}

static CURLcode stub_easy_setopt(CURL *e, CURLoption o, ...)
{
    return CURLE_FAILED_INIT;
}

static CURLcode stub_easy_getinfo(CURL *e, CURLINFO i, ...)
{
    return CURLE_FAILED_INIT;
}

static CURLcode stub_easy_perform(CURL *e)
{
    return CURLE_FAILED_INIT;
}

static void stub_easy_cleanup(CURL *e)
{
}

static const char *stub_easy_strerror(CURLcode c)
{
    return "libcurl is not available";
}

static char *stub_easy_escape(CURL *e, const char *s, int n)
{
    return NULL;
}

static void stub_free(void *p)
{
}

static struct curl_slist *stub_slist_append(struct curl_slist *l, const char *s)
{
    return l;
}

static void stub_slist_free_all(struct curl_slist *l)
{
}

static const struct curl_api stubs = {stub_easy_init,    stub_easy_setopt,   stub_easy_getinfo, stub_easy_perform,
                                      stub_easy_cleanup, stub_easy_strerror, stub_easy_escape,  stub_free,
                                      stub_slist_append, stub_slist_free_all};

/* Resolves every entry or none: a half-filled table would crash later. */
static void load(void)
{
    static const char *const names[] = {
        "curl_easy_init",     "curl_easy_setopt", "curl_easy_getinfo", "curl_easy_perform", "curl_easy_cleanup",
        "curl_easy_strerror", "curl_easy_escape", "curl_free",         "curl_slist_append", "curl_slist_free_all"};
    void *syms[sizeof(names) / sizeof(names[0])];
    CURLcode (*global_init)(long);
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    api = stubs;
    if (h == NULL) {
        load_error = dlerror();
        return;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        syms[i] = dlsym(h, names[i]);
        if (syms[i] == NULL) {
            load_error = "libcurl.so.4 lacks a needed function";
            return;
        }
    }
    *(void **)&global_init = dlsym(h, "curl_global_init");
    if (global_init == NULL || global_init(CURL_GLOBAL_ALL) != CURLE_OK) {
        load_error = "curl_global_init failed";
        return;
    }
    /* The table's members are function pointers in the order of names[]. */
    void **slot = (void **)&api;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        slot[i] = syms[i];
}

const struct curl_api *curl_api(void)
{
    pthread_once(&once, load);
    return &api;
}

const char *curl_lazy_error(void)
{
    pthread_once(&once, load);
    return load_error;
}
