#ifndef CSANDBOX_H
#define CSANDBOX_H

#include <sys/types.h>

/// The resource limits of a sandboxed process (setrlimit; a value < 0 leaves that limit as it is).
typedef struct {
    long cpu_seconds;       // RLIMIT_CPU
    long address_space;     // RLIMIT_AS, bytes
    long file_size;         // RLIMIT_FSIZE, bytes
    long open_files;        // RLIMIT_NOFILE
    long processes;         // RLIMIT_NPROC (enforced for a non-root uid)
} sb_limits;

/// Forks and executes `path` with `argv` and `envp` (both NULL-terminated) in a new session (its own
/// process group), its stdin, stdout and stderr on the given descriptors and every other descriptor
/// closed, in `workdir`, under `limits`, with no core dumps, killed if this process dies
/// (PR_SET_PDEATHSIG), and as `uid`/`gid` when they are >= 0 (supplementary groups dropped).
/// Returns the child's pid, or -errno when fork fails. The child does only async-signal-safe calls;
/// if one fails it exits with status 126 (setup) or 127 (exec).
pid_t sb_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd,
               const char *workdir, sb_limits limits, int uid, int gid);

/// pipe2(fds, O_CLOEXEC): a pipe no concurrently spawned child inherits. Returns 0 or -errno.
int sb_pipe(int fds[2]);

#endif
