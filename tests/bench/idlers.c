// SPDX-License-Identifier: GPL-2.0-only
/*
 * idlers N: forks N children that sleep, prints "ready" once they all
 * exist, waits for SIGTERM/SIGINT (or its own parent's end) and kills them.
 * Each child also asks the kernel for SIGKILL when its parent dies, so no
 * idler outlives the benchmark whatever way it ends.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;
	pid_t self = getpid(), *kids;
	sigset_t set;

	if (n <= 0) {
		fprintf(stderr, "usage: idlers N\n");
		return 2;
	}
	kids = calloc((size_t)n, sizeof(*kids));
	if (!kids)
		return 1;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("idlers: fork");
			n = i;
			break;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != self) /* the parent already went */
				_exit(0);
			for (;;)
				pause();
		}
		kids[i] = pid;
	}
	printf("ready\n");
	fflush(stdout);
	sigwaitinfo(&set, NULL);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	return 0;
}
