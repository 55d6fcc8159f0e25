// thp-off COMMAND [ARGS...] — run COMMAND with transparent huge pages disabled for it alone
// (prctl PR_SET_THP_DISABLE, kept across execve and inherited by children): compares THP on and
// off for one program without touching /sys/kernel/mm/transparent_hugepage.
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: thp-off COMMAND [ARGS...]\n");
        return 2;
    }
    if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0) {
        perror("prctl(PR_SET_THP_DISABLE)");
        return 1;
    }
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    return 127;
}
