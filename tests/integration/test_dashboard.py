# SPDX-License-Identifier: MIT
"""`hq dashboard`: the real binary in a pseudo-terminal, its screen read
back through a small terminal emulator (cursor moves, erases, text)."""
import codecs
import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time

from conftest import HQ_BIN, TIMEOUT, wait_until

PBS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..",
                                       "pbs"))
sys.path.insert(0, PBS_DIR)
import fakepbs  # noqa: E402

ROWS, COLS = 40, 150
CSI = re.compile(r"\x1b\[([?0-9;]*)([@-~])")
ALT_ON, ALT_OFF = b"\x1b[?1049h", b"\x1b[?1049l"


class Screen:
    """Just enough of a VT100 for what hq dashboard writes."""

    def __init__(self, rows, cols):
        self.rows, self.cols = rows, cols
        self.cells = [[" "] * cols for _ in range(rows)]
        self.r = self.c = 0
        self.pending = ""
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def resize(self, rows, cols):
        self.rows, self.cols = rows, cols
        self.cells = [[" "] * cols for _ in range(rows)]
        self.r = self.c = 0

    def erase(self, r, c0, c1):
        for c in range(c0, c1):
            self.cells[r][c] = " "

    def csi(self, params, final):
        private = params.startswith("?")
        nums = [int(p) if p else 0 for p in params.lstrip("?").split(";")]
        if private or final == "m":
            return
        if final in "Hf":
            row = nums[0] if nums and nums[0] else 1
            col = nums[1] if len(nums) > 1 and nums[1] else 1
            self.r = min(row, self.rows) - 1
            self.c = min(col, self.cols) - 1
        elif final == "K":
            if nums[0] == 0:
                self.erase(self.r, self.c, self.cols)
            elif nums[0] == 2:
                self.erase(self.r, 0, self.cols)
        elif final == "J":
            if nums[0] == 0:
                self.erase(self.r, self.c, self.cols)
                for r in range(self.r + 1, self.rows):
                    self.erase(r, 0, self.cols)
            elif nums[0] == 2:
                for r in range(self.rows):
                    self.erase(r, 0, self.cols)

    def feed(self, data):
        text = self.pending + self.decoder.decode(data)
        self.pending = ""
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\x1b":
                m = CSI.match(text, i)
                if m:
                    self.csi(m.group(1), m.group(2))
                    i = m.end()
                    continue
                if len(text) - i < 16 and re.fullmatch(
                        r"\x1b(\[[?0-9;]*)?", text[i:]):
                    self.pending = text[i:]  # the rest comes later
                    return
                i += 2
                continue
            if ch == "\r":
                self.c = 0
            elif ch == "\n":
                self.r = min(self.r + 1, self.rows - 1)
            elif ch >= " ":
                if self.c < self.cols:
                    self.cells[self.r][self.c] = ch
                self.c += 1
            i += 1

    def lines(self):
        return ["".join(row).rstrip() for row in self.cells]

    def text(self):
        return "\n".join(self.lines())


class Dashboard:
    """hq dashboard ARGS on a pty of ROWS x COLS, as its controlling
    terminal (so it gets SIGWINCH)."""

    def __init__(self, hq, args, rows=ROWS, cols=COLS, env=None):
        self.master, slave = os.openpty()
        self.set_size(rows, cols)
        self.attrs = termios.tcgetattr(self.master)
        e = dict(hq.env)
        e.update(env or {})
        e["TERM"] = "xterm"

        def child():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            [HQ_BIN, "dashboard"] + list(args), stdin=slave, stdout=slave,
            stderr=slave, env=e, cwd=str(hq.work), preexec_fn=child)
        os.close(slave)
        hq.procs.append(self.proc)
        self.screen = Screen(rows, cols)
        self.raw = b""
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def set_size(self, rows, cols):
        fcntl.ioctl(self.master, termios.TIOCSWINSZ,
                    struct.pack("HHHH", rows, cols, 0, 0))

    def resize(self, rows, cols):
        with self.lock:
            self.screen.resize(rows, cols)
        self.set_size(rows, cols)

    def read(self):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.raw += data
                self.screen.feed(data)

    def text(self):
        with self.lock:
            return self.screen.text()

    def lines(self):
        with self.lock:
            return self.screen.lines()

    def wait_for(self, *needles, timeout=TIMEOUT):
        def seen():
            t = self.text()
            return all(n in t for n in needles)
        try:
            wait_until(seen, timeout=timeout, what=f"{needles} on screen")
        except AssertionError:
            raise AssertionError(f"{needles} not on screen:\n{self.text()}")

    def find_row(self, needle):
        """The first line holding needle, or "" (to poll for it)."""
        for line in self.lines():
            if needle in line:
                return line
        return ""

    def row_with(self, needle):
        line = self.find_row(needle)
        if not line:
            raise AssertionError(f"no line with {needle!r}:\n{self.text()}")
        return line

    def wait_gone(self, needle, timeout=TIMEOUT):
        wait_until(lambda: needle not in self.text(), timeout=timeout,
                   what=f"{needle!r} off the screen")

    def press(self, keys):
        os.write(self.master, keys)

    def wait_exit(self, timeout=TIMEOUT):
        rc = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=5)
        return rc

    def close(self):
        os.close(self.master)


def column(dash, header_word, row_word):
    """The value under a header word in the row holding row_word."""
    header = dash.row_with("FINISHED")
    row = dash.row_with(row_word)
    start = header.index(header_word)
    # Numbers are right-aligned: the cell ends where its header ends.
    end = start + len(header_word)
    return row[:end].split()[-1]


def test_dashboard_stream_screens_and_quit(hq, tmp_path):
    hq.start_server(journal=tmp_path / "j.lmdb")
    hq.start_worker("--hostname", "alpha-node")
    dash = Dashboard(hq, [])
    try:
        # History: the worker that connected before the dashboard.
        dash.wait_for("alpha-node", "connected", "1 Cluster")
        # Live: a second worker and a job.
        hq.start_worker("--hostname", "beta-node")
        job = hq.submit(["--name", "dashjob", "--array", "1-4", "--",
                         "true"])
        hq.wait_job(job)
        dash.wait_for("beta-node", "Workers 2 online / 2")
        dash.wait_for("job 1 task")
        dash.press(b"2")
        dash.wait_for("Jobs: 1", "dashjob")
        wait_until(lambda: "FINISHED" in dash.find_row("dashjob"),
                   what="job finished on screen")
        assert column(dash, "FINISHED", "dashjob") == "4"
        assert column(dash, "TASKS", "dashjob") == "4"
        assert column(dash, "FAILED", "dashjob") == "0"
        assert "Tasks 4: 0 waiting, 0 running, 4 finished" in dash.text()
        dash.press(b"3")
        dash.wait_for("No allocation queues")
        assert "dashjob" not in dash.text()
        dash.press(b"\t")
        dash.wait_for("alpha-node", "Recent events (UTC)")
        dash.press(b"q")
        assert dash.wait_exit() == 0
        assert ALT_ON in dash.raw and ALT_OFF in dash.raw
        assert dash.raw.rindex(ALT_OFF) > dash.raw.rindex(ALT_ON)
        # The terminal mode is back as it was.
        after = termios.tcgetattr(dash.master)
        assert after[3] & termios.ECHO and after[3] & termios.ICANON
        assert after == dash.attrs
    finally:
        dash.close()


def test_dashboard_server_disconnected(hq):
    server = hq.start_server()
    hq.start_worker("--hostname", "gamma-node")
    dash = Dashboard(hq, ["stream"])
    try:
        # No journal: the worker list stands in for the history.
        dash.wait_for("gamma-node",
                      "no journal: started from the server's lists")
        hq.kill(server)
        dash.wait_for("server disconnected")
        # The last state stays until q.
        time.sleep(0.5)
        assert dash.proc.poll() is None
        assert "gamma-node" in dash.text()
        dash.press(b"\x03")  # Ctrl-C quits like q
        assert dash.wait_exit() == 0
        assert ALT_OFF in dash.raw
    finally:
        dash.close()


def test_dashboard_seeds_from_a_server_without_journal(hq):
    hq.start_server()
    hq.start_worker("--hostname", "delta-node")
    job = hq.submit(["--name", "before", "--array", "1-3", "--", "true"])
    hq.wait_job(job)
    dash = Dashboard(hq, [])
    try:
        dash.press(b"2")
        dash.wait_for("before")
        assert column(dash, "FINISHED", "before") == "3"
        job = hq.submit(["--name", "after", "--array", "1-2", "--", "true"])
        hq.wait_job(job)
        wait_until(lambda: "FINISHED" in dash.find_row("after"),
                   what="second job finished on screen")
        assert column(dash, "FINISHED", "after") == "2"
        dash.press(b"q")
        assert dash.wait_exit() == 0
    finally:
        dash.close()


def test_dashboard_replay_of_a_journal(hq, tmp_path):
    journal = tmp_path / "old.lmdb"
    hq.start_server(journal=journal)
    hq.start_worker("--hostname", "epsilon-node")
    job = hq.submit(["--name", "replayed", "--array", "1-5", "--", "true"])
    hq.wait_job(job)
    hq.command(["server", "stop"])
    wait_until(lambda: not hq.server_up(), what="server stop")

    dash = Dashboard(hq, ["replay", str(journal)])
    try:
        # The server stopped with the worker still connected.
        dash.wait_for("replay of", "epsilon-node", "SERVER STOPPED",
                      "Workers 0 online / 1", "server stopped")
        dash.press(b"2")
        dash.wait_for("replayed")
        assert column(dash, "FINISHED", "replayed") == "5"
        assert "FINISHED" in dash.row_with("replayed")
        dash.press(b"3")
        dash.wait_for("No allocation queues")
        dash.press(b"q")
        assert dash.wait_exit() == 0
    finally:
        dash.close()


def test_dashboard_errors(hq, tmp_path):
    # Not a terminal.
    r = hq.command(["dashboard"], check=False)
    assert r.rc == 1
    assert "hq dashboard needs a terminal" in r.stderr
    r = hq.command(["dashboard", "replay", str(tmp_path / "x")], check=False)
    assert r.rc == 1 and "needs a terminal" in r.stderr
    # Bad arguments.
    r = hq.command(["dashboard", "bogus"], check=False)
    assert r.rc == 1 and "unrecognized subcommand 'bogus'" in r.stderr
    r = hq.command(["dashboard", "replay"], check=False)
    assert r.rc == 1 and "<JOURNAL>" in r.stderr

    # In a terminal: a journal that is not there, or not a journal.
    missing = tmp_path / "missing.lmdb"
    dash = Dashboard(hq, ["replay", str(missing)])
    try:
        assert dash.wait_exit() == 1
        out = dash.raw.decode(errors="replace")
        assert str(missing) in out
        assert ALT_ON not in dash.raw
    finally:
        dash.close()
    garbage = tmp_path / "garbage.lmdb"
    garbage.write_bytes(b"not a journal at all\n" * 400)
    dash = Dashboard(hq, ["replay", str(garbage)])
    try:
        assert dash.wait_exit() == 1
        assert str(garbage) in dash.raw.decode(errors="replace")
        assert ALT_ON not in dash.raw
    finally:
        dash.close()
    # No server to stream from.
    dash = Dashboard(hq, [])
    try:
        assert dash.wait_exit() == 1
        assert b"No running instance of HQ found" in dash.raw
        assert ALT_ON not in dash.raw
    finally:
        dash.close()


def test_dashboard_resize_and_sigterm(hq, tmp_path):
    hq.start_server(journal=tmp_path / "j.lmdb")
    hq.start_worker("--hostname", "zeta-node")
    dash = Dashboard(hq, [], rows=30, cols=100)
    try:
        dash.wait_for("zeta-node")
        assert "q: quit" in dash.lines()[29]
        dash.resize(20, 90)
        wait_until(lambda: "q: quit" in dash.lines()[19],
                   what="footer on the last row after a resize")
        dash.wait_for("zeta-node")
        # A signal restores the terminal too, then kills as it would.
        dash.proc.send_signal(signal.SIGTERM)
        assert dash.wait_exit() == -signal.SIGTERM
        assert dash.raw.rindex(ALT_OFF) > dash.raw.rindex(ALT_ON)
        assert termios.tcgetattr(dash.master) == dash.attrs
    finally:
        dash.close()


def test_dashboard_many_jobs_scroll(hq, tmp_path):
    hq.start_server(journal=tmp_path / "j.lmdb")
    for i in range(30):
        hq.submit(["--name", f"job-{i + 1:02d}", "--", "true"])
    dash = Dashboard(hq, [], rows=20, cols=120)
    try:
        dash.press(b"2")
        dash.wait_for("Jobs: 30", "job-01")
        assert "job-30" not in dash.text()
        dash.press(b"G")
        dash.wait_for("job-30")
        assert "job-01" not in dash.text()
        dash.press(b"\x1b[5~")  # PgUp: a page less one row
        dash.wait_for("job-06", "job-18")
        assert "job-05" not in dash.text()
        assert "job-19" not in dash.text()
        dash.press(b"g")
        dash.wait_for("job-01")
        dash.press(b"j" * 3)
        dash.wait_gone("job-03")
        assert "job-04" in dash.text()
        dash.press(b"\x1b[A")  # Up
        dash.wait_for("job-03")
        assert "job-02" not in dash.text()
        dash.press(b"q")
        assert dash.wait_exit() == 0
    finally:
        dash.close()


def test_dashboard_autoalloc_screen(hq, tmp_path):
    """Queues and allocations through the fake PBS of tests/pbs: the
    dashboard follows them as `hq alloc info` does."""
    hq.env["PATH"] = PBS_DIR + ":" + hq.env["PATH"]
    hq.env["HQ_FAKE_PBS_DIR"] = os.environ["HQ_FAKE_PBS_DIR"] = \
        str(tmp_path / "pbs")
    hq.env.update({"HQ_AUTOALLOC_REFRESH_INTERVAL_MS": "500",
                   "HQ_AUTOALLOC_SCHEDULE_TICK_INTERVAL_MS": "200",
                   "HQ_AUTOALLOC_MAX_SCHEDULE_DELAY_MS": "1000"})
    dash = None
    try:
        hq.start_server(journal=tmp_path / "j.lmdb")
        dash = Dashboard(hq, [])
        dash.press(b"3")
        dash.wait_for("No allocation queues")
        hq.command(["alloc", "add", "pbs", "--time-limit", "5m",
                    "--backlog", "1", "--max-workers-per-alloc", "1",
                    "--idle-timeout", "2s", "--cpus", "1", "--name", "qa",
                    "--worker-wrap-cmd", "env ASAN_OPTIONS=detect_leaks=0"])
        dash.wait_for("Allocation queues: 1", "qa", "ACTIVE")
        row = dash.row_with("qa")
        assert row.split()[:2] == ["1", "PBS"]
        assert "5m" in row
        job = hq.submit(["--array", "1-3", "--", "true"])
        hq.wait_job(job, timeout=60)
        allocs = hq.json(["alloc", "info", "1"])
        assert allocs
        dash.wait_for(*[a["id"] for a in allocs])
        hq.command(["alloc", "pause", "1"])
        dash.wait_for("PAUSED")
        dash.press(b"q")
        assert dash.wait_exit() == 0
    finally:
        if dash is not None:
            dash.close()
        for pid in fakepbs.running_pids():
            fakepbs.kill_group(pid)
        os.environ.pop("HQ_FAKE_PBS_DIR", None)
