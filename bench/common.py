"""Helpers shared by the benchmarks: free ports, process CPU and memory from /proc, servers."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """user + system CPU time of a process, to the nanosecond: the scheduler's own count, read
    through the process's CPU clock (Linux: ``clock_gettime`` on ``MAKE_PROCESS_CPUCLOCK(pid,
    CPUCLOCK_SCHED)``). /proc/PID/stat counts whole 10 ms ticks, charged to whoever runs when
    the tick falls: over the half second of CPU that a fan-out run costs, that alone spread
    single runs by ±10 %. Falls back to /proc/PID/stat where the clock cannot be read."""
    try:
        return time.clock_gettime(((~pid) << 3) | 2)
    except OSError:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def loadavg() -> list[float]:
    """The 1, 5 and 15-minute load averages of the machine."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def machine_cpu() -> dict[str, float]:
    """CPU seconds of the whole machine since boot, all cores, from /proc/stat: the difference
    over a window tells how many cores everybody (not only us) kept busy, how much of it in
    softirq (loopback TCP runs there), and how much the hypervisor gave to others (steal)."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = f
    return {"busy": (user + nice + system + irq + softirq) / CLK_TCK, "softirq": softirq / CLK_TCK,
            "steal": steal / CLK_TCK}


def kernel_threads_cpu(prefix: str = "ksoftirqd") -> float:
    """CPU seconds of the kernel threads named ``prefix``*: softirq work deferred to them is
    nobody's process time."""
    total = 0.0
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().startswith(prefix):
                    total += cpu_seconds(int(d.name))
            except OSError:
                continue
    return total


def wait_http(url: str, timeout: float = 120.0) -> None:
    import urllib.request
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def start_server(port: int, data_dir: Path, *extra: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    out = open(log or os.devnull, "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "server.tools.cli", "serve", "--port", str(port), "--data-dir",
                             str(data_dir), "--no-media", *extra], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                            preexec_fn=raise_nofile)   # the server's open-files limit too
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return proc


def start_floor(port: int, log: Path | None = None) -> subprocess.Popen[bytes]:
    """bench/floor_server.py: the plain-aiohttp fan-out floor to compare the server with."""
    out = open(log or os.devnull, "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "floor_server.py"), "--port", str(port)],
                            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, preexec_fn=raise_nofile)
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return proc


def start_redis(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(data_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=raise_nofile)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")
