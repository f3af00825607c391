/*
 * The daemon side of a shim's attach socket (<state_dir>/attach, docs/design/shim.md): 8-byte stdcopy frame
 * headers (type, 3 zero bytes, big-endian length) both ways; stdin, close-stdin and resize frames to the
 * shim; stdout, stderr and a final exit-code frame from it. Stateless: each call works on the fds it gets.
 */
#ifndef ISD_DAEMON_RUNTIME_ATTACH_H
#define ISD_DAEMON_RUNTIME_ATTACH_H

#include <stdbool.h>

#include "common/error.h"

/* Connects to <state_dir>/attach (paths longer than sun_path work); returns the fd. */
int runtime_attach_connect(const char *state_dir, struct isd_error **err);
/* Proxies between a client connection and a shim attach connection until the exit frame, the end of the
 * shim, or (with neither out nor err) the client's end. tty: raw output for the client, else stdcopy frames.
 * The end of the client's input closes the process's stdin without a tty; with one it ends the proxy (Docker's
 * rule: the process's input stays open), unless end_tty: then the shim types the terminal's end of input (^D) and
 * the proxy goes on until the exit (CRI exec). ret_exit: exit code from the shim's final frame, or -1. */
int runtime_attach_proxy(int client_fd, int shim_fd, bool tty, bool in, bool end_tty, bool out, bool err,
                         int *ret_exit);
/* Sends a terminal size on an attach connection. */
int runtime_attach_send_resize(int fd, int height, int width, struct isd_error **err);
/* Asks the shim to open its log file again (after a rotation by kubelet). */
int runtime_attach_send_reopen_log(int fd, struct isd_error **err);

#endif
