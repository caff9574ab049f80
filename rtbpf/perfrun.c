/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Starting perf record for the caller (rt_perf_record): checking perf's
 * version, spawning perf with a control fifo and the COMMAND held at a
 * gate, attaching through rt_perf_session once perf's events exist,
 * enabling, waiting for the end and stopping perf.  See rtbpf/perfsession.h
 * and docs/attach.md.
 */
#include "rtbpf/perfsession.h"
#include "rtbpf/perfinternal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int rt_perf_version__parse(const char *text)
{
	const char *p = text ? strstr(text, "version ") : NULL;
	char *end;
	long major, minor;

	if (!p)
		return -EINVAL;
	p += strlen("version ");
	major = strtol(p, &end, 10);
	if (end == p || *end != '.' || major < 0 || major > 1000)
		return -EINVAL;
	p = end + 1;
	minor = strtol(p, &end, 10);
	if (end == p || minor < 0 || minor > 999)
		return -EINVAL;
	return (int)(major * 1000 + minor);
}

bool rt_perf__is_trace_event(const char *ev)
{
	const char *colon = strchr(ev, ':');
	char path[512];

	if (!colon || strchr(ev, '/') || colon == ev || !colon[1])
		return false;
	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%.*s/%s", (int)(colon - ev), ev,
		 colon + 1);
	return !access(path, F_OK);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs `perf version` and checks it; returns the version or -errno. */
static int check_perf(const char *perf, rt_perf_log_fn log, void *log_ctx,
		      const sigset_t *child_mask)
{
	char out[256];
	size_t len = 0;
	int fds[2], status, version;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		sigset_t mask = *child_mask;

		/* a terminal's Ctrl-C now ends rt-bpf's start, said as such, not
		 * as a perf that cannot run */
		sigaddset(&mask, SIGINT);
		sigaddset(&mask, SIGTERM);
		sigprocmask(SIG_SETMASK, &mask, NULL);
		dup2(fds[1], STDOUT_FILENO);
		execlp(perf, perf, "version", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		ssize_t got = read(fds[0], out + len, sizeof(out) - 1 - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
		if (len == sizeof(out) - 1)
			break;
	}
	out[len] = 0;
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
		rt_perf__logf(log, log_ctx, "cannot run '%s version': install perf (Debian: linux-perf) "
		      "or point $PERF at it", perf);
		return -ENOENT;
	}
	version = rt_perf_version__parse(out);
	if (version < 0) {
		rt_perf__logf(log, log_ctx, "cannot understand '%s version' output: %.80s", perf, out);
		return -EINVAL;
	}
	if (version < RT_PERF_MIN_VERSION) {
		rt_perf__logf(log, log_ctx, "perf %d.%d is too old: rt-bpf needs %d.%d or newer "
		      "(--control ping, -D -1)", version / 1000, version % 1000,
		      RT_PERF_MIN_VERSION / 1000, RT_PERF_MIN_VERSION % 1000);
		return -ENOTSUP;
	}
	return version;
}

/*
 * Sends a control command and waits for perf's "ack", watching perf's pidfd
 * so a perf that dies does not leave us waiting.
 */
static int perf_control(int ctl_fd, int ack_fd, int perf_pidfd, const char *cmd, int timeout_ms)
{
	char buf[64];
	size_t len = strlen(cmd), got_len = 0;
	long long deadline = now_ms() + timeout_ms;

	if (write(ctl_fd, cmd, len) != (ssize_t)len)
		return -errno ? -errno : -EIO;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = ack_fd, .events = POLLIN },
			{ .fd = perf_pidfd, .events = POLLIN },
		};
		long long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(p, 2, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (p[0].revents & POLLIN) {
			ssize_t r = read(ack_fd, buf + got_len, sizeof(buf) - 1 - got_len);

			if (r <= 0)
				return -EPIPE;
			got_len += (size_t)r;
			buf[got_len] = 0;
			if (strstr(buf, "ack\n"))
				return 0;
			if (got_len == sizeof(buf) - 1)
				return -EPROTO;
			continue;
		}
		if (p[1].revents || (p[0].revents & (POLLHUP | POLLERR)))
			return -ECHILD;
	}
}

static int wait_exit(int pidfd, pid_t pid, int timeout_ms, int *status)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ETIMEDOUT;
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Whether a signal to end rt-bpf waits on @sig_fd (left there for the
 * recording's loop to read). */
static bool signal_pending(int sig_fd)
{
	struct pollfd p = { .fd = sig_fd, .events = POLLIN };

	return sig_fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* wait_exit(), cut short by a signal to rt-bpf on @sig_fd (a second
 * Ctrl-C): -EINTR then. */
static int wait_exit_or_signal(int pidfd, pid_t pid, int timeout_ms, int sig_fd, int *status)
{
	struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = sig_fd, .events = POLLIN } };
	struct signalfd_siginfo si;
	int n;

	do
		n = poll(p, sig_fd >= 0 ? 2 : 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ETIMEDOUT;
	if (!(p[0].revents & POLLIN) && (p[1].revents & POLLIN)) {
		ssize_t got = read(sig_fd, &si, sizeof(si));

		(void)got;
		return -EINTR;
	}
	return wait_exit(pidfd, pid, 0, status);
}

/* Stops perf the way Ctrl-C does, so it writes a complete perf.data. */
static int stop_perf(int pidfd, pid_t pid, int *status)
{
	kill(pid, SIGINT);
	if (wait_exit(pidfd, pid, 60000, status) == 0)
		return 0;
	kill(pid, SIGKILL);
	return wait_exit(pidfd, pid, -1, status);
}

struct record_run {
	const struct rt_perf_record_opts *opts;
	rt_perf_log_fn log;
	void *log_ctx;
	sigset_t old_mask;      /* the children's: the caller's without SIGINT, SIGTERM */
	sigset_t caller_mask;   /* the caller's, put back at the end */
	int ctl[2], ack[2], gate[2];
	int exec_err[2];        /* the command's errno when execvp fails */
	int sig_fd;
	pid_t perf_pid, cmd_pid, target_pid;
	int perf_pidfd, cmd_pidfd, target_pidfd;
	int perf_err[2];        /* perf's stderr, read by the filter thread */
	pthread_t err_filter;
	bool err_filter_running;
};

bool rt_bpf__signal_reached(pid_t pid, bool from_terminal)
{
	return from_terminal && getpgid(pid) == getpgrp();
}

/* SIGPIPE's disposition as rt-bpf was started with, for its commands */
static void (*inherited_sigpipe)(int) = SIG_DFL;

void rt_bpf__ignore_sigpipe(void)
{
	void (*was)(int) = signal(SIGPIPE, SIG_IGN);

	if (was != SIG_ERR)
		inherited_sigpipe = was;
}

int rt_bpf__execvp(char *const argv[])
{
	/* an ignored signal stays ignored across exec: a command's pipelines
	 * (yes | head) would see EPIPE where they die quietly outside rt-bpf */
	signal(SIGPIPE, inherited_sigpipe == SIG_IGN ? SIG_IGN : SIG_DFL);
	execvp(argv[0], argv);
	return -errno;
}

/*
 * Forks the command, held before exec until the gate opens.  An exec that
 * fails sends its errno through r->exec_err (closed by a successful exec):
 * its exit status 127 alone would not tell it from a command that exits
 * 127 itself.
 */
static pid_t spawn_gated_command(struct record_run *r)
{
	pid_t pid;

	if (pipe2(r->gate, O_CLOEXEC) || pipe2(r->exec_err, O_CLOEXEC | O_NONBLOCK))
		return -1;
	pid = fork();
	if (pid != 0)
		return pid;
	/* Child: wait for the parent's go, so not one instruction runs unsampled. */
	const char *output;
	char go = 0;
	int err;

	sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
	/* named as perf names its own (perf-exec): the samples of the exec
	 * itself are the command's start, not rt-bpf's work */
	prctl(PR_SET_NAME, "rt-bpf-exec", 0, 0, 0);
	close(r->gate[1]);
	close(r->exec_err[0]);
	while (read(r->gate[0], &go, 1) < 0 && errno == EINTR)
		;
	if (go != 'g')
		_exit(126);
	/* -o -: perf's data goes to standard output; the command's output
	 * goes to standard error, as perf does with its own workload */
	output = OPT(r->opts, output, NULL);
	if (output && !strcmp(output, "-"))
		dup2(STDERR_FILENO, STDOUT_FILENO);
	err = -rt_bpf__execvp(r->opts->argv);
	fprintf(stderr, "rt-bpf: cannot run %s: %s\n", r->opts->argv[0], strerror(err));
	/* a short write leaves the parent the exit status alone */
	ssize_t sent = write(r->exec_err[1], &err, sizeof(err));

	(void)sent;
	_exit(127);
}

/* Says how perf ended when that was not its clean exit. */
static void say_perf_status(const struct record_run *r, int status)
{
	if (WIFSIGNALED(status))
		rt_perf__logf(r->log, r->log_ctx, "perf record was killed by signal %d",
			      WTERMSIG(status));
	else if (WIFEXITED(status))
		rt_perf__logf(r->log, r->log_ctx, "perf record exited with status %d",
			      WEXITSTATUS(status));
	else
		rt_perf__logf(r->log, r->log_ctx, "perf record failed (wait status 0x%x)", status);
}

static pid_t spawn_perf(struct record_run *r, const char *perf, const char *output)
{
	const struct rt_perf_record_opts *o = r->opts;
	char control[64], freq[16], channel[128], pid_arg[16], marker[64], clock[64], dwarf[32];
	char mmap_size[16];
	const char *argv[32 + 3 * RT_PERF_MAX_EXTRA_EVENTS];
	const char *const *extra = OPT(o, extra_events, NULL);
	int n = 0;
	pid_t pid;

	snprintf(control, sizeof(control), "fd:%d,%d", r->ctl[0], r->ack[1]);
	snprintf(freq, sizeof(freq), "%u", OPT(o, freq, 0u) ? OPT(o, freq, 0u) : 99u);
	/* call-graph=no: the native sample keeps its stack (see walker.bpf.c). */
	snprintf(channel, sizeof(channel), "bpf-output/no-inherit,name=%s%s/",
		 OPT(o, channel_name, NULL) ? OPT(o, channel_name, NULL) : "rt",
		 OPT(o, channel_callchain, false) ? "" : ",call-graph=no");
	argv[n++] = perf;
	argv[n++] = "record";
	argv[n++] = "-D";
	argv[n++] = "-1";
	argv[n++] = "--control";
	argv[n++] = control;
	argv[n++] = "-k";
	argv[n++] = "mono";
	argv[n++] = "-e";
	if (extra && extra[0]) {
		/* -F would sample the extra events too; tracepoints keep their
		 * default period of 1 (every event) without it */
		snprintf(clock, sizeof(clock), "cpu-clock/freq=%s,name=cpu-clock/", freq);
		argv[n++] = clock;
	} else {
		argv[n++] = "cpu-clock";
		argv[n++] = "-F";
		argv[n++] = freq;
	}
	switch (OPT(o, call_graph, RT_PERF_CALL_GRAPH_FP)) {
	case RT_PERF_CALL_GRAPH_FP:
		argv[n++] = "-g";
		break;
	case RT_PERF_CALL_GRAPH_DWARF:
		snprintf(dwarf, sizeof(dwarf), "dwarf,%u", OPT(o, dwarf_stack_size, 0u) ?
			 OPT(o, dwarf_stack_size, 0u) : RT_PERF_DWARF_STACK_DEFAULT);
		argv[n++] = "--call-graph";
		argv[n++] = dwarf;
		break;
	default:
		break;
	}
	for (int i = 0; extra && extra[i] && i < RT_PERF_MAX_EXTRA_EVENTS; i++) {
		argv[n++] = "-e";
		argv[n++] = extra[i];
		if (OPT(o, exclude_perf, false) && rt_perf__is_trace_event(extra[i]))
			argv[n++] = "--exclude-perf";
	}
	argv[n++] = "-e";
	argv[n++] = channel;
	if (OPT(o, mmap_kib, 0u)) {
		snprintf(mmap_size, sizeof(mmap_size), "%uK", OPT(o, mmap_kib, 0u));
		argv[n++] = "-m";
		argv[n++] = mmap_size;
	}
	/* build ids in the MMAP2 events, read by the kernel from the mapped
	 * file itself: a container's files have paths the host does not
	 * resolve, and perf's end-of-record build-id pass skips them */
	argv[n++] = "--buildid-mmap";
	argv[n++] = "-o";
	argv[n++] = output;
	if (OPT(o, target, RT_PERF_RECORD_SYSTEM) == RT_PERF_RECORD_PID) {
		snprintf(pid_arg, sizeof(pid_arg), "%d", (int)OPT(o, pid, 0));
		argv[n++] = "-p";
		argv[n++] = pid_arg;
	} else {
		argv[n++] = "-a";
	}
	if (OPT(o, mark_target, false) && r->target_pid > 0) {
		snprintf(marker, sizeof(marker), "dummy/name=" RT_PERF_TARGET_PREFIX "%d/",
			 (int)r->target_pid);
		argv[n++] = "-e";
		argv[n++] = marker;
	}
	argv[n] = NULL;

	pid = fork();
	if (pid != 0)
		return pid;
	sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
	/* perf's ends of the control pipes survive exec; ours do not. */
	fcntl(r->ctl[0], F_SETFD, 0);
	fcntl(r->ack[1], F_SETFD, 0);
	if (OPT(o, quiet, false)) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, STDERR_FILENO);
	} else if (r->perf_err[1] >= 0) {
		dup2(r->perf_err[1], STDERR_FILENO);
	}
	execvp(perf, (char *const *)argv);
	fprintf(stderr, "rt-bpf: cannot run %s: %s\n", perf, strerror(errno));
	_exit(127);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Copies perf's stderr to ours without the "Events disabled" and "Events
 * enabled" lines perf prints when the control fd toggles it: those are
 * rt_perf_record()'s doing, not news for the user.  Ends at EOF, when perf
 * has exited.
 */
static void *perf_stderr_filter(void *arg)
{
	FILE *in = fdopen((int)(intptr_t)arg, "r");
	char line[1024];

	if (!in) {
		close((int)(intptr_t)arg);
		return NULL;
	}
	while (fgets(line, sizeof(line), in))
		if (strcmp(line, "Events disabled\n") && strcmp(line, "Events enabled\n"))
			fputs(line, stderr);
	fclose(in);
	return NULL;
}

int rt_perf_record(const struct rt_perf_record_opts *opts, struct rt_perf_record_result *res)
{
	struct record_run r = {
		.opts = opts,
		.ctl = { -1, -1 }, .ack = { -1, -1 }, .gate = { -1, -1 }, .exec_err = { -1, -1 },
		.sig_fd = -1, .perf_pidfd = -1, .cmd_pidfd = -1, .target_pidfd = -1,
		.perf_err = { -1, -1 },
	};
	struct rt_perf_session *s = NULL;
	const char *perf, *output;
	enum rt_perf_record_target target;
	rt_perf_attach_fn attach;
	unsigned int duration_ms;
	sigset_t block;
	int err, perf_status = -1, cmd_status = -1, exec_errno = 0;
	bool mask_set = false, perf_gone = false, cmd_stopped = false, had_command = false;
	int stop_signal = 0;
	pid_t target_pid = 0;

	if (!opts || !opts_valid(opts, opts->sz,
				 offsetofend_(struct rt_perf_record_opts, rt_perf_record_opts__last_field)))
		return -EINVAL;
	r.log = OPT(opts, log, NULL);
	r.log_ctx = OPT(opts, log_ctx, NULL);
	perf = OPT(opts, perf, NULL);
	if (!perf)
		perf = getenv("PERF");
	if (!perf || !*perf)
		perf = "perf";
	output = OPT(opts, output, NULL) ? OPT(opts, output, NULL) : "perf.data";
	target = OPT(opts, target, RT_PERF_RECORD_SYSTEM);
	attach = OPT(opts, attach, NULL);
	duration_ms = OPT(opts, duration_ms, 0u);
	if (res) {
		memset(res, 0, sizeof(*res));
		res->perf_status = res->target_status = -1;
	}
	if (target == RT_PERF_RECORD_COMMAND &&
	    (!OPT(opts, argv, NULL) || !OPT(opts, argv, NULL)[0])) {
		rt_perf__logf(r.log, r.log_ctx, "no command to run");
		return -EINVAL;
	}
	if ((target == RT_PERF_RECORD_PID || target == RT_PERF_RECORD_PROCESS) &&
	    OPT(opts, pid, 0) <= 0) {
		rt_perf__logf(r.log, r.log_ctx, "no pid to record");
		return -EINVAL;
	}
	if (geteuid() != 0) {
		rt_perf__logf(r.log, r.log_ctx, "recording with rt-bpf needs root");
		return -EPERM;
	}

	/* SIGINT/SIGTERM end the recording cleanly instead of killing us mid-way. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, &r.caller_mask))
		return -errno;
	mask_set = true;
	/* the caller may have blocked them already (record: until the USDT
	 * probes it defined are removed), and keeps them so; the children are
	 * not to inherit that */
	r.old_mask = r.caller_mask;
	sigdelset(&r.old_mask, SIGINT);
	sigdelset(&r.old_mask, SIGTERM);
	err = check_perf(perf, r.log, r.log_ctx, &r.old_mask);
	if (err < 0)
		goto cleanup;
	r.sig_fd = signalfd(-1, &block, SFD_CLOEXEC);
	if (r.sig_fd < 0 || pipe2(r.ctl, O_CLOEXEC) || pipe2(r.ack, O_CLOEXEC)) {
		err = -errno;
		goto cleanup;
	}

	if (target == RT_PERF_RECORD_COMMAND) {
		r.cmd_pid = spawn_gated_command(&r);
		if (r.cmd_pid < 0) {
			err = -errno;
			goto cleanup;
		}
		close_fd(&r.gate[0]);
		close_fd(&r.exec_err[1]);
		r.cmd_pidfd = pidfd_open(r.cmd_pid, 0);
		r.target_pidfd = r.cmd_pidfd;
		target_pid = r.cmd_pid;
	} else if (target == RT_PERF_RECORD_PID || target == RT_PERF_RECORD_PROCESS) {
		target_pid = OPT(opts, pid, 0);
		r.target_pidfd = pidfd_open(target_pid, 0);
		if (r.target_pidfd < 0) {
			err = -errno;
			rt_perf__logf(r.log, r.log_ctx, "process %d: %s", (int)target_pid, strerror(-err));
			goto cleanup;
		}
	}

	r.target_pid = target_pid;
	/* Ctrl-C before perf starts: no file is touched (perf would move an
	 * existing one to .old) */
	if (signal_pending(r.sig_fd)) {
		err = -EINTR;
		goto cleanup;
	}
	if (!OPT(opts, quiet, false) && pipe2(r.perf_err, O_CLOEXEC))
		r.perf_err[0] = r.perf_err[1] = -1; /* then perf writes to our stderr */
	r.perf_pid = spawn_perf(&r, perf, output);
	if (r.perf_pid < 0) {
		err = -errno;
		goto cleanup;
	}
	close_fd(&r.perf_err[1]);
	if (r.perf_err[0] >= 0 &&
	    !pthread_create(&r.err_filter, NULL, perf_stderr_filter, (void *)(intptr_t)r.perf_err[0])) {
		r.err_filter_running = true;
		r.perf_err[0] = -1; /* the thread's now */
	}
	close_fd(&r.ctl[0]);
	close_fd(&r.ack[1]);
	r.perf_pidfd = pidfd_open(r.perf_pid, 0);
	if (r.perf_pidfd < 0) {
		err = -errno;
		goto cleanup;
	}

	/* perf answers ping from its main loop, i.e. once every event is open. */
	err = perf_control(r.ctl[1], r.ack[0], r.perf_pidfd, "ping\n", 60000);
	if (err && signal_pending(r.sig_fd)) {
		err = -EINTR; /* perf had the terminal's Ctrl-C too */
		goto cleanup;
	}
	if (err) {
		rt_perf__logf(r.log, r.log_ctx, "perf record did not start%s",
		      err == -ECHILD ? " (it exited; see its messages)" : ": no answer in 60 s");
		goto cleanup;
	}
	{
		struct rt_perf_find_opts fo = {
			.sz = sizeof(fo), .perf_pid = r.perf_pid, .log = r.log, .log_ctx = r.log_ctx,
			.perf_files = OPT(opts, perf_files, NULL),
		};

		s = rt_perf_session__find(&fo);
		if (!s) {
			err = -errno;
			goto cleanup;
		}
	}
	if (attach) {
		err = attach(s, target_pid, OPT(opts, attach_ctx, NULL));
		if (err)
			goto cleanup;
	}
	/* Ctrl-C while the walker loaded: the command is not released (it
	 * would start only to be interrupted) */
	if (signal_pending(r.sig_fd)) {
		err = -EINTR;
		goto cleanup;
	}
	err = perf_control(r.ctl[1], r.ack[0], r.perf_pidfd, "enable\n", 10000);
	if (err && signal_pending(r.sig_fd)) {
		err = -EINTR;
		goto cleanup;
	}
	if (err) {
		rt_perf__logf(r.log, r.log_ctx, "perf did not acknowledge 'enable': %s", strerror(-err));
		goto cleanup;
	}
	if (r.cmd_pid > 0) {
		if (write(r.gate[1], "g", 1) != 1) {
			err = -errno;
			goto cleanup;
		}
		close_fd(&r.gate[1]);
	}

	{
		long long deadline = duration_ms ? now_ms() + duration_ms : 0;

		for (;;) {
			struct pollfd p[3] = {
				{ .fd = r.sig_fd, .events = POLLIN },
				{ .fd = r.perf_pidfd, .events = POLLIN },
				{ .fd = r.target_pidfd, .events = POLLIN },
			};
			int timeout = -1, n;

			if (deadline) {
				long long left = deadline - now_ms();

				if (left <= 0)
					break;
				timeout = (int)left;
			}
			n = poll(p, r.target_pidfd >= 0 ? 3 : 2, timeout);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				err = -errno;
				break;
			}
			if (p[0].revents & POLLIN) {
				struct signalfd_siginfo si;

				/* the user ends the recording (Ctrl-C, SIGTERM): as
				 * -d does, the command's end is the recording's */
				if (read(r.sig_fd, &si, sizeof(si)) > 0 && r.cmd_pid > 0) {
					/* a terminal's Ctrl-C reached the command
					 * already (its process group is rt-bpf's): a
					 * second one would cut its own handling short */
					if (!rt_bpf__signal_reached(r.cmd_pid,
								    si.ssi_code == SI_KERNEL))
						kill(r.cmd_pid, (int)si.ssi_signo);
					stop_signal = (int)si.ssi_signo;
					cmd_stopped = true;
				}
				break;
			}
			if (r.target_pidfd >= 0 && p[2].revents)
				break;
			if (p[1].revents) {
				perf_gone = true; /* said below, with how it ended */
				break;
			}
		}
	}
	err = 0;
	if (OPT(opts, before_stop, NULL))
		OPT(opts, before_stop, NULL)(OPT(opts, attach_ctx, NULL));

cleanup:
	close_fd(&r.gate[1]); /* an unreleased command exits on EOF */
	if (r.perf_pid > 0) {
		int e = r.perf_pidfd >= 0 ? stop_perf(r.perf_pidfd, r.perf_pid, &perf_status)
					  : (int)(waitpid(r.perf_pid, &perf_status, 0) < 0 ? -errno : 0);

		/* perf re-raises the SIGINT it handled: that death is its clean exit. */
		bool clean = (WIFEXITED(perf_status) && WEXITSTATUS(perf_status) == 0) ||
			     (WIFSIGNALED(perf_status) && WTERMSIG(perf_status) == SIGINT);

		/* said also when its death is what failed first (an
		 * unacknowledged 'enable') */
		if (e == 0 && !clean) {
			say_perf_status(&r, perf_status);
			if (!err)
				err = -EIO;
		} else if (e == 0 && !err && perf_gone) {
			rt_perf__logf(r.log, r.log_ctx, "perf record exited before the target");
		}
	}
	close_fd(&r.perf_err[1]);
	if (r.err_filter_running)
		pthread_join(r.err_filter, NULL); /* perf is gone: its stderr ends */
	close_fd(&r.perf_err[0]);
	had_command = r.cmd_pid > 0;
	if (r.cmd_pid > 0 && stop_signal && r.cmd_pidfd >= 0) {
		/* A signal ended the recording, and the command has it too: it
		 * has RT_BPF_STOP_WAIT_MS to end on it (its own cleanup), then
		 * SIGTERM as after -d; a second signal kills it at once. */
		int e = wait_exit_or_signal(r.cmd_pidfd, r.cmd_pid, RT_BPF_STOP_WAIT_MS, r.sig_fd,
					    &cmd_status);

		if (!e) {
			r.cmd_pid = 0;
		} else if (e == -EINTR) {
			rt_perf__logf(r.log, r.log_ctx, "pid %d: a second signal: killing it",
				      (int)r.cmd_pid);
			kill(r.cmd_pid, SIGKILL);
			waitpid(r.cmd_pid, &cmd_status, 0);
			r.cmd_pid = 0;
		} else {
			rt_perf__logf(r.log, r.log_ctx, "pid %d did not end on signal %d in %d s: "
				      "sending it SIGTERM", (int)r.cmd_pid, stop_signal,
				      RT_BPF_STOP_WAIT_MS / 1000);
		}
	}
	if (r.cmd_pid > 0) {
		/* Recording is over (duration, signal or perf gone): end the command too. */
		if (r.cmd_pidfd >= 0 && wait_exit(r.cmd_pidfd, r.cmd_pid, 0, &cmd_status)) {
			cmd_stopped = true;
			kill(r.cmd_pid, SIGTERM);
			/* a second Ctrl-C ends the wait: SIGKILL below */
			if (wait_exit_or_signal(r.cmd_pidfd, r.cmd_pid, 5000, r.sig_fd,
						&cmd_status) == 0)
				r.cmd_pid = 0;
		} else if (r.cmd_pidfd >= 0) {
			r.cmd_pid = 0;
		}
		if (r.cmd_pid > 0) {
			rt_perf__logf(r.log, r.log_ctx, "pid %d did not end on SIGTERM: killing it",
				      (int)r.cmd_pid);
			cmd_stopped = true;
			kill(r.cmd_pid, SIGKILL);
			waitpid(r.cmd_pid, &cmd_status, 0);
		}
	}
	/* the command is gone (reaped above, whichever way): its end of the
	 * pipe is closed */
	if (had_command && r.exec_err[0] >= 0 &&
	    read(r.exec_err[0], &exec_errno, sizeof(exec_errno)) != sizeof(exec_errno))
		exec_errno = 0;
	if (s) {
		rt_perf_session__detach(s);
		if (res)
			rt_perf_session__prog_stats(s, &res->stats);
		rt_perf_session__free(s);
	}
	if (res) {
		res->perf_status = perf_status;
		res->target_status = cmd_status;
		res->exec_errno = exec_errno;
		res->target_stopped = cmd_stopped;
		if (!realpath(output, res->output))
			snprintf(res->output, sizeof(res->output), "%s", output);
	}
	close_fd(&r.ctl[0]);
	close_fd(&r.ctl[1]);
	close_fd(&r.ack[0]);
	close_fd(&r.ack[1]);
	close_fd(&r.gate[0]);
	close_fd(&r.exec_err[0]);
	close_fd(&r.exec_err[1]);
	close_fd(&r.sig_fd);
	close_fd(&r.perf_pidfd);
	close_fd(&r.cmd_pidfd);
	if (target == RT_PERF_RECORD_PID || target == RT_PERF_RECORD_PROCESS)
		close_fd(&r.target_pidfd);
	if (mask_set) {
		/* Drop a SIGINT that arrived while blocked: it has been handled. */
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&block, NULL, &zero) > 0)
			;
		sigprocmask(SIG_SETMASK, &r.caller_mask, NULL);
	}
	return err;
}
