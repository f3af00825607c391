/*
 * isulad-pause: the program of isulad's built-in pod sandbox ("pause") image, used when pod-sandbox-image is
 * absent and cannot be pulled. It holds the pod's namespaces: it sleeps until SIGTERM or SIGINT (then exits 0),
 * and as PID 1 of a pod sharing its PID namespace it reaps the orphans given to it. Linked statically: it is
 * the whole image (no libc in the image).
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

static void on_child(int sig)
{
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_child;
    sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    while (!stop)
        pause();
    return 0;
}
