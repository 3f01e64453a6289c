// Process-level helpers Swift 6 cannot call safely itself (stdout is a mutable C global; signal
// handlers may only touch sig_atomic_t and call async-signal-safe functions).
#include "CKernels.h"
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal = 0;

static void on_stop_signal(int signal) {
    if (stop_signal != 0) _exit(128 + signal);
    stop_signal = signal;
}

static void set_stop_handlers(void (*handler)(int)) {
    struct sigaction action = {0};
    action.sa_handler = handler;
    action.sa_flags = SA_RESTART;  // reads, writes and waits go on; the loop polls ck_stop_signal
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}

void ck_catch_stop_signals(void) {
    stop_signal = 0;
    set_stop_handlers(on_stop_signal);
}

void ck_restore_stop_signals(void) { set_stop_handlers(SIG_DFL); }

int ck_stop_signal(void) { return stop_signal; }

void ck_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

void ck_ignore_file_size_signal(void) { signal(SIGXFSZ, SIG_IGN); }

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void ck_single_malloc_arena(void) {
#if defined(__GLIBC__)
    mallopt(M_ARENA_MAX, 1);
#endif
}

#include <sys/resource.h>

int ck_limit_memory(int64_t bytes) {
    struct rlimit address = {(rlim_t)bytes, (rlim_t)bytes}, core = {0, 0};
    if (setrlimit(RLIMIT_CORE, &core) != 0) return -1;
    return setrlimit(RLIMIT_AS, &address);
}
