// Process creation for the sandbox: what Swift cannot do safely between fork and exec.
#define _GNU_SOURCE
#include "CSandbox.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

static int set_limit(int resource, long value) {
    if (value < 0) return 0;
    struct rlimit r = {(rlim_t)value, (rlim_t)value};
    // Past its CPU seconds a program gets SIGXCPU; a second later, SIGKILL.
    if (resource == RLIMIT_CPU) r.rlim_max = (rlim_t)value + 1;
    return setrlimit(resource, &r);
}

pid_t sb_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd,
               const char *workdir, sb_limits limits, int uid, int gid) {
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid > 0) return pid;
    // The child: async-signal-safe calls only.
    if (setsid() < 0) _exit(126);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) _exit(126);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(126);
    for (int fd = 3; fd < 4096; fd++) close(fd);
    if (chdir(workdir) < 0) _exit(126);
    struct rlimit no_core = {0, 0};
    if (setrlimit(RLIMIT_CORE, &no_core) < 0) _exit(126);
    if (set_limit(RLIMIT_CPU, limits.cpu_seconds) < 0 || set_limit(RLIMIT_AS, limits.address_space) < 0 ||
        set_limit(RLIMIT_FSIZE, limits.file_size) < 0 || set_limit(RLIMIT_NOFILE, limits.open_files) < 0 ||
        set_limit(RLIMIT_NPROC, limits.processes) < 0)
        _exit(126);
    if (gid >= 0 && (setgroups(0, NULL) < 0 || setgid((gid_t)gid) < 0)) _exit(126);
    if (uid >= 0 && setuid((uid_t)uid) < 0) _exit(126);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGXFSZ, SIG_DFL);  // the trainer ignores it (a full disk is an error there); a program past its file size dies
    execve(path, argv, envp);
    _exit(127);
}

int sb_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno; }
