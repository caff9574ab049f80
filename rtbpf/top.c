/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf top (-p PID | -a | -- CMD): a live terminal view of the hottest
 * functions, native and interpreter frames together.
 *
 * Four parts run at once.  The pump thread copies the records of the perf
 * events rtbpf/perflive.c opened through libperf into a pipe, in perf's
 * pipe format; the merge thread reads that pipe with the same reader and
 * merge rtmerge runs on `perf record -o -` (rtmerge/merge.h), whose
 * per-sample output (one "TID TIME stack" line per sample) feeds the
 * function table (rtbpf/topagg.h); the walker's scanner thread finds
 * interpreter processes (rtbpf/app.c, targets.c, as for record and
 * attach); and the main thread draws the table with ncurses once a second
 * and reads keys (rtbpf/topview.h).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf/walker.h"
#include "bpf/walker.skel.h"
#include "perfglue/grow.h"
#include "rtbpf/perflive.h"
#include "rtbpf/rtbpf.h"
#include "rtbpf/topagg.h"
#include "rtbpf/topview.h"
#include "rtmerge/merge.h"

#define REFRESH_MS 1000
#define KEY_WAIT_MS 100
#define PUMP_WAIT_MS 100
#define MAX_ROWS 512
#define MESSAGES 16

/* Ctrl-C, a closed terminal or a kill end the view as q does. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* top's own options. */
struct top_opts {
	unsigned int freq;      /* -F */
	bool all;               /* -a */
};

struct top {
	/* what to profile */
	pid_t pid;              /* -p, or the command once started */
	char *const *argv;      /* -- CMD */
	bool all;
	unsigned int freq;
	char target[128];
	/* the parts */
	struct rt_bpf_app *app; /* the walker, its trackers and discovery */
	struct rt_perf_live *live;
	struct bpf_link **links;
	int nr_links;
	struct rt_top_agg *agg;
	pthread_mutex_t lock;   /* agg, line, messages */
	/* the pipe from the pump thread to the merge thread */
	int pipe_read, pipe_write;
	pthread_t pump, merger;
	bool pump_running, merger_running;
	volatile bool stop;
	int pump_err, merge_err;
	char merge_error[256];
	/* the per-sample output's partial line */
	char *line;
	size_t line_len, line_cap;
	/* stderr while the screen is up: the latest lines */
	int saved_stderr, messages_fd;
	char messages[MESSAGES][160];
	unsigned int nr_messages;
	char partial[160];
	size_t partial_len;
	/* the screen's last snapshot */
	struct rt_top_row snapshot_rows[MAX_ROWS];
	struct rt_top_status status;
	char message[256];
	char rows[MAX_ROWS][256];
	int nr_rows;
	/* -- CMD */
	int release_fd;         /* writing to it lets the command exec */
	int exec_err_fd;        /* the command's errno when execvp failed */
	int exec_errno;         /* ... read once it ended */
	bool child_done;
	int child_status;
	char state[192];        /* why sampling ended, for the header */
};

/* ---- the merge's per-sample output into the table ------------------------ */

/* The merge's per-sample output, a FILE (fopencookie) that ends here:
 * each whole line goes into the table under the lock the screen takes. */
static ssize_t sample_lines_write(void *cookie, const char *buf, size_t size)
{
	struct top *t = cookie;
	size_t done = 0;

	pthread_mutex_lock(&t->lock);
	while (done < size) {
		const char *nl = memchr(buf + done, '\n', size - done);
		size_t take = nl ? (size_t)(nl - (buf + done)) : size - done;

		if (RT_ARRAY_GROW(t->line, t->line_cap, t->line_len + take, 64)) {
			pthread_mutex_unlock(&t->lock);
			errno = ENOMEM;
			return -1;
		}
		if (take)
			memcpy(t->line + t->line_len, buf + done, take);
		t->line_len += take;
		done += take;
		if (!nl)
			break;
		done++;
		if (rt_top_agg__add_line(t->agg, t->line, t->line_len) == -ENOMEM) {
			pthread_mutex_unlock(&t->lock);
			errno = ENOMEM;
			return -1;
		}
		t->line_len = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return (ssize_t)size;
}

/* Ends the merge thread with @err, said in @msg (may be empty): under the
 * lock, as the screen shows them. */
static void merge_failed(struct top *t, int err, const char *msg)
{
	pthread_mutex_lock(&t->lock);
	t->merge_err = err;
	snprintf(t->merge_error, sizeof(t->merge_error), "%s", msg && msg[0] ? msg : strerror(-err));
	pthread_mutex_unlock(&t->lock);
}

static void *merge_main(void *arg)
{
	struct top *t = arg;
	cookie_io_functions_t io = { .write = sample_lines_write };
	FILE *lines = fopencookie(t, "w", io);
	struct rt_merge_opts opts = { .sz = sizeof(opts) };
	struct rt_perf_reader *reader = NULL;
	struct rt_merge *merge = NULL;
	char path[64], msg[256] = "";
	int err;

	pthread_setname_np(pthread_self(), "rt-top-merge");
	if (!lines) {
		merge_failed(t, -errno, NULL);
		goto out;
	}
	setvbuf(lines, NULL, _IOLBF, 0);
	/* the reader opens a path: the pipe's read end under /proc */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", t->pipe_read);
	reader = rt_perf_reader__open(path, msg, sizeof(msg));
	close(t->pipe_read);
	t->pipe_read = -1;
	if (!reader) {
		merge_failed(t, -errno, msg);
		goto out;
	}
	opts.per_sample = lines;
	merge = rt_merge__new(&opts);
	if (!merge) {
		merge_failed(t, -errno, NULL);
		goto out;
	}
	err = rt_merge__run(merge, reader);
	if (err)
		merge_failed(t, err, rt_perf_reader__error(reader));
out:
	rt_merge__free(merge);
	rt_perf_reader__close(reader);
	if (lines)
		fclose(lines);
	if (t->pipe_read >= 0)
		close(t->pipe_read);
	return NULL;
}

/* ---- the pump ------------------------------------------------------------- */

static void *pump_main(void *arg)
{
	struct top *t = arg;

	pthread_setname_np(pthread_self(), "rt-top-pump");
	while (!t->stop) {
		int n = rt_perf_live__pump(t->live, t->pipe_write, PUMP_WAIT_MS);

		if (n < 0) {
			t->pump_err = n;
			break;
		}
	}
	/* end of the stream: the merge thread folds what is held and ends */
	close(t->pipe_write);
	t->pipe_write = -1;
	return NULL;
}

/* ---- messages ------------------------------------------------------------- */

/* Keeps the lines written to stderr while the screen is up; the latest is shown. */
static void messages_read(struct top *t)
{
	char buf[512];
	ssize_t n;

	if (t->messages_fd < 0)
		return;
	while ((n = read(t->messages_fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (t->partial_len + 1 < sizeof(t->partial))
					t->partial[t->partial_len++] = buf[i] == '\t' ? ' ' : buf[i];
				continue;
			}
			t->partial[t->partial_len] = '\0';
			pthread_mutex_lock(&t->lock);
			snprintf(t->messages[t->nr_messages++ % MESSAGES], sizeof(t->messages[0]), "%s",
				 t->partial);
			pthread_mutex_unlock(&t->lock);
			t->partial_len = 0;
		}
	}
}

/* stderr goes into a pipe while the screen is up: messages from the walker's
 * process discovery would tear the screen. */
static void messages_capture(struct top *t)
{
	int fds[2];

	t->saved_stderr = -1;
	t->messages_fd = -1;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK))
		return;
	fflush(stderr);
	t->saved_stderr = dup(STDERR_FILENO);
	if (t->saved_stderr < 0 || dup2(fds[1], STDERR_FILENO) < 0) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	close(fds[1]);
	t->messages_fd = fds[0];
}

/* Restores stderr and repeats the kept lines on it. */
static void messages_release(struct top *t)
{
	unsigned int first;

	if (t->saved_stderr < 0)
		return;
	fflush(stderr);
	messages_read(t);
	dup2(t->saved_stderr, STDERR_FILENO);
	close(t->saved_stderr);
	close(t->messages_fd);
	t->saved_stderr = t->messages_fd = -1;
	first = t->nr_messages > MESSAGES ? t->nr_messages - MESSAGES : 0;
	for (unsigned int i = first; i < t->nr_messages; i++)
		fprintf(stderr, "%s\n", t->messages[i % MESSAGES]);
}

/* ---- the target ----------------------------------------------------------- */

/* Forks the command, held before exec until the events and the walker are
 * ready (nothing of its start is missed).  A failed exec sends its errno
 * through a pipe a successful one closes: the command's stderr is
 * /dev/null, and its status 127 is also a command's own. */
static int command_start(struct top *t)
{
	int fds[2], errfds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	if (pipe2(errfds, O_CLOEXEC | O_NONBLOCK)) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		close(errfds[0]);
		close(errfds[1]);
		return err;
	}
	if (!pid) {
		char c;
		int null = open("/dev/null", O_RDWR), err;
		ssize_t sent;

		close(fds[1]);
		close(errfds[0]);
		/* the profiled command ends with the view, however it ends */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (read(fds[0], &c, 1) != 1)
			_exit(127);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		err = -rt_bpf__execvp(t->argv);
		sent = write(errfds[1], &err, sizeof(err));
		(void)sent;
		_exit(127);
	}
	close(fds[0]);
	close(errfds[1]);
	t->release_fd = fds[1];
	t->exec_err_fd = errfds[0];
	t->pid = pid;
	return 0;
}

static void command_release(struct top *t)
{
	if (t->release_fd >= 0) {
		if (write(t->release_fd, "x", 1) != 1)
			fprintf(stderr, "rt-bpf top: cannot start the command\n");
		close(t->release_fd);
		t->release_fd = -1;
	}
}

/* Why sampling ended, or NULL while the target runs. */
static const char *target_state(struct top *t)
{
	if (t->argv) {
		if (!t->child_done && waitpid(t->pid, &t->child_status, WNOHANG) == t->pid) {
			t->child_done = true;
			if (t->exec_err_fd >= 0 && read(t->exec_err_fd, &t->exec_errno,
							sizeof(t->exec_errno)) != sizeof(t->exec_errno))
				t->exec_errno = 0;
		}
		if (!t->child_done)
			return NULL;
		if (t->exec_errno)
			snprintf(t->state, sizeof(t->state), "cannot run %.120s: %s", t->argv[0],
				 strerror(t->exec_errno));
		else
			snprintf(t->state, sizeof(t->state), "the command exited");
		return t->state;
	}
	if (t->pid > 0 && kill(t->pid, 0) && errno == ESRCH)
		return "the process exited";
	return NULL;
}

/* ---- setting up ----------------------------------------------------------- */

/* Links the walker to each CPU's sampling event and puts each CPU's channel
 * into its map, as rt-bpf attach does with perf's events. */
static int attach_walker(struct top *t)
{
	int nr = rt_perf_live__nr_cpus(t->live);
	int map_fd = bpf_map__fd(t->app->skel->maps.channel);

	t->links = calloc((size_t)nr, sizeof(*t->links));
	if (!t->links)
		return -ENOMEM;
	for (int i = 0; i < nr; i++) {
		__u32 cpu = (__u32)rt_perf_live__cpu(t->live, i);
		int fd = rt_perf_live__channel_fd(t->live, i);

		if (bpf_map_update_elem(map_fd, &cpu, &fd, BPF_ANY))
			return -errno;
		t->links[i] = bpf_program__attach_perf_event(t->app->skel->progs.rt_walker,
							     rt_perf_live__sampling_fd(t->live, i));
		if (!t->links[i])
			return -errno;
		t->nr_links++;
	}
	return 0;
}

static int max_cpu(const struct rt_perf_live *live)
{
	int max = 0;

	for (int i = 0; i < rt_perf_live__nr_cpus(live); i++)
		if (rt_perf_live__cpu(live, i) > max)
			max = rt_perf_live__cpu(live, i);
	return max;
}

static int setup(struct top *t)
{
	/* per-CPU channels without callchains: every native sample is kept */
	struct rt_bpf_walker_opts wo = { .keep_native = true };
	int fds[2], err;

	t->live = rt_perf_live__open(&(struct rt_perf_live_opts){
		.sz = sizeof(struct rt_perf_live_opts), .freq = t->freq });
	if (!t->live) {
		fprintf(stderr, "rt-bpf top: cannot open perf events: %s\n", strerror(errno));
		return -errno;
	}
	wo.channel_slots = (unsigned int)max_cpu(t->live) + 1;
	if (t->argv) {
		err = command_start(t);
		if (err) {
			fprintf(stderr, "rt-bpf top: cannot start %s: %s\n", t->argv[0],
				strerror(-err));
			return err;
		}
		/* held before exec: the tree is rooted at its pid */
		t->app->scope = RT_PROCESS_TREE;
		t->app->pids[0] = t->pid;
		t->app->nr_pids = 1;
	}
	err = rt_bpf_app__load(t->app, &wo);
	if (err)
		return err;
	err = attach_walker(t);
	if (err) {
		fprintf(stderr, "rt-bpf top: cannot attach the walker: %s\n", strerror(-err));
		return err;
	}
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	t->pipe_read = fds[0];
	t->pipe_write = fds[1];
	/* room for a second of a busy machine without blocking the pump */
	fcntl(t->pipe_write, F_SETPIPE_SZ, 1 << 20);
	err = pthread_create(&t->merger, NULL, merge_main, t);
	if (err) {
		close(t->pipe_read);
		t->pipe_read = -1;
		return -err;
	}
	t->merger_running = true;
	err = rt_perf_live__write_header(t->live, t->pipe_write, t->all ? 0 : t->pid);
	/* processes that exist now: their names and code mappings; a command
	 * not started yet maps everything after the events are on */
	if (!err && !t->argv)
		err = rt_perf_live__synthesize(t->live, t->pipe_write, t->all ? -1 : t->pid);
	if (!err)
		err = rt_perf_live__enable(t->live);
	if (err) {
		fprintf(stderr, "rt-bpf top: cannot start the stream: %s\n", strerror(-err));
		return err;
	}
	err = rt_bpf_app__start_scanner(t->app);
	if (!err)
		err = pthread_create(&t->pump, NULL, pump_main, t);
	if (err)
		return err < 0 ? err : -err;
	t->pump_running = true;
	command_release(t);
	return 0;
}

static void teardown(struct top *t)
{
	t->stop = true;
	rt_bpf_app__stop_scanner(t->app);
	if (t->live)
		rt_perf_live__disable(t->live);
	if (t->pump_running)
		pthread_join(t->pump, NULL);
	if (t->pipe_write >= 0)
		close(t->pipe_write);
	t->pipe_write = -1;
	if (t->merger_running)
		pthread_join(t->merger, NULL);
	for (int i = 0; i < t->nr_links; i++)
		bpf_link__destroy(t->links[i]);
	free(t->links);
	if (t->release_fd >= 0)
		close(t->release_fd);
	if (t->argv && t->pid > 0 && !t->child_done) {
		/* SIGTERM, and SIGKILL when it is still there 2 s later */
		struct rt_bpf_stop stop;

		rt_bpf_stop__begin(&stop, t->pid, SIGTERM, 2000, 0, false);
		while (waitpid(t->pid, &t->child_status, WNOHANG) != t->pid) {
			if (rt_bpf_stop__due(&stop, 0, NULL)) {
				waitpid(t->pid, &t->child_status, 0);
				break;
			}
			usleep(10 * 1000);
		}
		/* an exec that failed before the view looked (q at once) */
		if (t->exec_err_fd >= 0 && read(t->exec_err_fd, &t->exec_errno,
						sizeof(t->exec_errno)) != sizeof(t->exec_errno))
			t->exec_errno = 0;
	}
	if (t->exec_err_fd >= 0)
		close(t->exec_err_fd);
	t->exec_err_fd = -1;
	/* the links first: the walker itself goes with the app, after run */
	rt_perf_live__close(t->live);
	rt_top_agg__free(t->agg);
	free(t->line);
}

/* ---- the screen ----------------------------------------------------------- */

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Takes a new snapshot of the table into the screen's lines. */
static void snapshot(struct top *t, const struct rt_top_view *view, double rate, const char *state)
{
	struct rt_top_row *rows = t->snapshot_rows;
	struct rt_top_snapshot_opts so = { .sz = sizeof(so), .sort = view->sort, .tid = view->tid,
					   .window = view->window, .interp_only = view->interp_only };
	struct rt_top_snapshot_info info = { 0 };
	struct rt_perf_live_stats ls;
	__u64 wstat[RT_WALKER_STAT_MAX] = { 0 };
	int nr;

	rt_perf_live__stats(t->live, &ls);
	rt_bpf_app__stats(t->app, wstat);
	pthread_mutex_lock(&t->lock);
	nr = rt_top_agg__snapshot(t->agg, &so, rows, MAX_ROWS, &info);
	t->status = (struct rt_top_status){
		.target = t->target,
		.state = state,
		.rate = rate,
		.samples = info.samples,
		.interp_stacks = wstat[RT_WALKER_STAT_STACK_OK],
		.lost_records = ls.lost,
		.lost_samples = ls.lost_samples,
		.lost_stacks = wstat[RT_WALKER_STAT_STACK_LOST],
	};
	if (t->merge_err)
		snprintf(t->message, sizeof(t->message), "merging stopped: %.200s", t->merge_error);
	else if (t->nr_messages)
		snprintf(t->message, sizeof(t->message), "%s",
			 t->messages[(t->nr_messages - 1) % MESSAGES]);
	t->status.message = t->message[0] ? t->message : NULL;
	t->nr_rows = nr < 0 ? 0 : nr;
	for (int i = 0; i < t->nr_rows; i++)
		rt_top_view__row(&rows[i], info.samples, t->rows[i], sizeof(t->rows[i]));
	pthread_mutex_unlock(&t->lock);
}

/* Puts the header (from the view as it is now) and the last snapshot's rows
 * on the screen: while paused the rows stay as they were. */
static void render(struct top *t, const struct rt_top_view *view)
{
	char header[3][256];
	int nh = rt_top_view__header(view, &t->status, header, 3), y = 0;

	erase();
	for (int i = 0; i < nh && y < LINES; i++)
		mvaddnstr(y++, 0, header[i], COLS);
	y++;
	attron(A_REVERSE);
	mvprintw(y++, 0, "%-*.*s", COLS, COLS, rt_top_view__columns());
	attroff(A_REVERSE);
	for (int i = 0; i < t->nr_rows && y < LINES; i++)
		mvaddnstr(y++, 0, t->rows[i], COLS);
	refresh();
}

static void ui_loop(struct top *t)
{
	struct rt_top_view view = { .sort = RT_TOP_SORT_OWN };
	struct rt_top_thread threads[256];
	uint64_t next = 0, last_ms = monotonic_ms(), last_samples = 0;
	double rate = 0;
	const char *state = NULL;

	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(KEY_WAIT_MS);
	while (!view.quit && !interrupted) {
		int ch = getch();
		uint64_t now = monotonic_ms();
		bool fresh = false, show = false;

		messages_read(t);
		if (ch != ERR) {
			size_t nr;
			bool was_paused = view.paused;

			pthread_mutex_lock(&t->lock);
			nr = rt_top_agg__threads(t->agg, threads, 256);
			/* rt_top_view__key copies the comm it keeps */
			show = rt_top_view__key(&view, ch, threads, nr) || ch == KEY_RESIZE;
			pthread_mutex_unlock(&t->lock);
			/* a new sort or filter shows at once, unless paused */
			fresh = show && !view.paused && !was_paused;
		}
		if (!state && (state = target_state(t)) != NULL) {
			/* the last samples still come through the pipe */
			rt_perf_live__disable(t->live);
		}
		if (now >= next) {
			uint64_t samples;

			pthread_mutex_lock(&t->lock);
			samples = rt_top_agg__samples(t->agg);
			pthread_mutex_unlock(&t->lock);
			rate = now > last_ms ? (double)(samples - last_samples) * 1000.0 /
					       (double)(now - last_ms) : 0;
			last_ms = now;
			last_samples = samples;
			next = now + REFRESH_MS;
			fresh = fresh || !view.paused;
		}
		if (fresh)
			snapshot(t, &view, rate, state);
		if (fresh || show)
			render(t, &view);
	}
	endwin();
}

/* The target's description for the header. */
static void describe_target(struct top *t)
{
	if (t->argv) {
		size_t n = 0;

		for (int i = 0; t->argv[i] && n + 2 < sizeof(t->target); i++)
			n += (size_t)snprintf(t->target + n, sizeof(t->target) - n, "%s%s", i ? " " : "",
					      t->argv[i]);
	} else if (t->pid > 0) {
		snprintf(t->target, sizeof(t->target), "pid %d", (int)t->pid);
	} else {
		snprintf(t->target, sizeof(t->target), "all processes");
	}
}

static void top_init(void *opts)
{
	struct top_opts *o = opts;

	o->freq = 99;
}

static int top_option(void *opts, int c, const char *arg)
{
	struct top_opts *o = opts;
	unsigned long v;

	switch (c) {
	case 'F':
		if (rt_bpf__parse_number(arg, 1, 10000, &v)) {
			fprintf(stderr, "rt-bpf: bad -F %s (1 to 10000)\n", arg);
			return -EINVAL;
		}
		o->freq = (unsigned int)v;
		return 0;
	case 'a':
		o->all = true;
		return 0;
	}
	return -EINVAL;
}

static int top_check(struct rt_bpf_app *app, void *opts, int argc, char **argv)
{
	const struct top_opts *o = opts;

	if ((argc > 0) + (app->nr_pids > 0) + o->all != 1 || app->nr_pids > 1) {
		fprintf(stderr, "rt-bpf top: give exactly one of -p PID, -a, -- CMD ARGS\n");
		return -EINVAL;
	}
	return 0;
}

static int top_run(struct rt_bpf_app *app, void *opts, int argc, char **argv)
{
	const struct top_opts *o = opts;
	struct top t = { .app = app, .freq = o->freq, .all = o->all, .pipe_read = -1,
			 .pipe_write = -1, .release_fd = -1, .exec_err_fd = -1, .saved_stderr = -1,
			 .messages_fd = -1 };
	int err;

	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		fprintf(stderr, "rt-bpf top: needs a terminal (for a profile to a file: rt-bpf "
			"record)\n");
		return -ENOTTY;
	}
	err = rt_bpf__preflight(false);
	if (!err && argc > 0)
		err = rt_bpf__check_command(argv[0]);
	if (!err)
		err = rt_bpf_app__check_targets(app);
	if (err)
		return err;
	/* after the check: a thread's id became its process's */
	if (argc > 0)
		t.argv = argv;
	else if (app->nr_pids)
		t.pid = app->pids[0];
	/* -p: the processes it forks are shown as the target's (the view's
	 * merge follows its forks), so they are walked too */
	if (app->nr_pids)
		app->scope = RT_PROCESS_TREE;
	describe_target(&t);
	t.agg = rt_top_agg__new();
	if (!t.agg || pthread_mutex_init(&t.lock, NULL)) {
		fprintf(stderr, "rt-bpf top: out of memory\n");
		rt_top_agg__free(t.agg);
		return -ENOMEM;
	}
	/* a closed screen or a dead merge must not kill us mid-draw */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	err = setup(&t);
	if (!err) {
		messages_capture(&t);
		ui_loop(&t);
		messages_release(&t);
	}
	teardown(&t);
	if (t.pump_err && t.pump_err != -EPIPE)
		fprintf(stderr, "rt-bpf top: reading the events failed: %s\n", strerror(-t.pump_err));
	if (t.merge_err)
		fprintf(stderr, "rt-bpf top: merging failed: %s\n", t.merge_error);
	/* what the walker did, as rt-bpf record ends */
	if (!err && app->skel)
		rt_bpf_app__print_stats(app, NULL, RT_BPF_STATS_LIVE |
					(t.exec_errno ? RT_BPF_STATS_NO_TARGET : 0));
	pthread_mutex_destroy(&t.lock);
	if (!err && t.exec_errno) {
		/* the view showed it; the terminal keeps it, and scripts see it */
		fprintf(stderr, "rt-bpf: cannot run %s: %s\n", t.argv[0], strerror(t.exec_errno));
		return 127;
	}
	/* -- CMD that ended on its own while shown: its status, as record's
	 * (quitting the view first ends it: 0) */
	if (!err && t.argv && t.child_done)
		return rt_bpf__command_status(t.child_status);
	return err;
}

const struct rt_bpf_cmd rt_bpf_cmd_top = {
	.name = "top",
	.synopsis = "top [-F HZ] (-p PID | -a | -- CMD ARGS...)\n",
	.help =
	"top     a live view of the hottest functions, native and interpreter frames\n"
	"        together, refreshed every second: own share (samples it was running in)\n"
	"        and total share (samples it was on the stack in), one line per\n"
	"        function, \"name (file:line)\" with its hottest line.  -p PID: that\n"
	"        process (every thread, and the processes it starts); -a: every\n"
	"        process; -- CMD: runs CMD (its output goes to /dev/null) and its\n"
	"        children.  -F HZ per CPU (default 99, at most 10000).  Keys: o/t sort\n"
	"        by own/total (s toggles), f next thread (hottest first), a all threads,\n"
	"        i interpreter functions only (own: the leafmost), w last second / since\n"
	"        start, p or space pause, q quit.  Opens perf events itself: no perf, no\n"
	"        perf.data.\n",
	.shortopts = "F:a",
	.opts_size = sizeof(struct top_opts),
	.init = top_init,
	.option = top_option,
	.check = top_check,
	.run = top_run,
};
