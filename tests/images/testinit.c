/*
 * testinit: a tiny static program that is a whole container image on its own (no shell, no libc in the
 * image). Integration tests import it and drive it by its arguments:
 *   testinit echo WORDS...      print the words, exit 0
 *   testinit exit N             exit with status N
 *   testinit env NAME           print the value of NAME
 *   testinit signals            print "ready", then one line per signal received; exit 0 on SIGTERM
 *   testinit cat                copy stdin to stdout until EOF
 *   testinit keyctl             call keyctl(KEYCTL_GET_KEYRING_ID, session keyring): print "ok" or the error
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t last_signal;

static void on_signal(int sig)
{
    last_signal = sig;
}

static int signals_mode(void)
{
    struct sigaction sa;
    sigset_t none;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    for (int s = 1; s < 32; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL);
    printf("ready\n");
    fflush(stdout);
    sigemptyset(&none);
    for (;;) {
        sigsuspend(&none);
        printf("signal %d\n", (int)last_signal);
        fflush(stdout);
        if (last_signal == SIGTERM)
            return 0;
    }
}

static int cat_mode(void)
{
    char buf[4096];
    ssize_t n;
    while ((n = read(0, buf, sizeof(buf))) > 0)
        if (write(1, buf, (size_t)n) != n)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "echo") == 0) {
        for (int i = 2; i < argc; i++)
            printf("%s%s", argv[i], i + 1 < argc ? " " : "");
        printf("\n");
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "exit") == 0)
        return atoi(argv[2]);
    if (argc == 3 && strcmp(argv[1], "env") == 0) {
        const char *v = getenv(argv[2]);
        printf("%s\n", v ? v : "");
        return v ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[1], "signals") == 0)
        return signals_mode();
    if (argc == 2 && strcmp(argv[1], "cat") == 0)
        return cat_mode();
    if (argc == 2 && strcmp(argv[1], "keyctl") == 0) {
        /* KEYCTL_GET_KEYRING_ID = 0, KEY_SPEC_SESSION_KEYRING = -3: allowed by the kernel to anybody */
        long r = syscall(SYS_keyctl, 0L, -3L, 1L);
        printf("%s\n", r < 0 ? strerror(errno) : "ok");
        return r < 0 ? 1 : 0;
    }
    fprintf(stderr, "usage: testinit echo|exit N|env NAME|signals|cat|keyctl\n");
    return 2;
}
