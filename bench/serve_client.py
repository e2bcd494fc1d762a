"""The HTTP side of bench/serve.sh: start-up time, relevance, latency and
load of `cradle serve` on a workspace, with the labelled query set of
bench/serve_queries.py.

    python bench/serve_client.py CRADLE_BIN WS QUERIES.json API_KEY OUT_DIR \
        [--restarts 5] [--rounds 3] [--duration 10] [--connections 8]
        [--modes keyword,vector,hybrid]

Prints `name: value` lines and tables; writes `latency.json` (every
request's time, per mode) and `summary.json` (start-up, relevance, p50/p99,
requests/s per mode: what bench/compare.sh puts side by side) to OUT_DIR. Standard library only; the load
generator is wrk when it is installed (a Lua script rotates over the
queries), else Python threads.
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse

MODES = ["keyword", "vector", "hybrid"]
K = 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * share))]


class Server:
    """One `cradle serve` process on a free port."""

    def __init__(self, binary, workspace, log_path):
        self.port = free_port()
        self.log = open(log_path, "ab")
        self.started = time.perf_counter()
        # One key makes the whole load: lift its per-key search rate
        # (default 50/s), or the benchmark would measure 429s (versions
        # before the limit have no such flag).
        helptext = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
        rate = ["--rate", "search=1000000"] if "--rate" in helptext else []
        self.process = subprocess.Popen(
            [binary, "serve", "--workspace", workspace, "--port", str(self.port)] + rate,
            stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout=120.0):
        """Seconds from process start to `/ready` answering 200."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"error: cradle serve exited with {self.process.returncode}; "
                                 f"see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/ready")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.002)
        raise SystemExit(f"error: /ready did not answer 200 within {timeout} s; see {self.log.name}")

    def rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def path_of(query, mode, limit=K):
    return "/api/search?" + urllib.parse.urlencode({"q": query, "mode": mode, "limit": limit})


class Client:
    def __init__(self, port, key):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {key}"}

    def get(self, path):
        started = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        return response.status, body, (time.perf_counter() - started) * 1e3


def relevance(client, queries, failures):
    """Per mode and query type: recall@10 and MRR; and the hit lists."""
    scores = {}
    for mode in MODES:
        for q in queries:
            status, body, _ = client.get(path_of(q["q"], mode))
            if status != 200:
                failures.append((mode, q["q"], status, body[:300].decode("utf-8", "replace")))
                hits = []
            else:
                hits = [h["article_no"] for h in json.loads(body)["hits"]]
            expected = set(q["expected"])
            found = len(expected & set(hits[:K]))
            recall = found / min(K, len(expected))
            rank = next((i + 1 for i, a in enumerate(hits[:K]) if a in expected), None)
            scores.setdefault(mode, []).append((q["type"], recall, 1 / rank if rank else 0.0))
    return scores


def print_relevance(scores, queries):
    types = sorted({q["type"] for q in queries})
    print(f"\nrelevance: recall@{K} / MRR@{K} per query type and mode "
          f"(recall@{K} = share of the expected products in the top {K}, "
          f"at most min({K}, expected))")
    header = f"{'query type':<14}{'n':>4}" + "".join(f"{m + ' R@10':>14}{'MRR':>7}" for m in MODES)
    print(header)
    for t in types + ["overall"]:
        row = f"{t:<14}"
        for i, mode in enumerate(MODES):
            rows = [s for s in scores[mode] if t == "overall" or s[0] == t]
            if i == 0:
                row += f"{len(rows):>4}"
            row += f"{statistics.mean(r[1] for r in rows):>14.3f}{statistics.mean(r[2] for r in rows):>7.3f}"
        print(row)


def summary(scores, queries):
    """Overall recall@10 and MRR per mode, for comparing runs."""
    return {mode: {"recall_at_10": statistics.mean(r[1] for r in scores[mode]),
                   "mrr": statistics.mean(r[2] for r in scores[mode]),
                   "queries": len(queries)}
            for mode in MODES}


def latency(client, queries, rounds, failures):
    times = {}
    for mode in MODES:
        paths = [path_of(q["q"], mode) for q in queries]
        for p in paths[:20]:  # warm-up (the relevance pass warmed the rest)
            client.get(p)
        for _ in range(rounds if mode == "keyword" else max(1, rounds // 2)):
            for p in paths:
                status, body, ms = client.get(p)
                if status != 200:
                    failures.append((mode, p, status, body[:300].decode("utf-8", "replace")))
                times.setdefault(mode, []).append(ms)
    return times


WRK_LUA = """
local paths = {}
for line in io.lines(os.getenv("CRADLE_PATHS")) do paths[#paths + 1] = line end
local key = os.getenv("CRADLE_KEY")
local counter = 0
function setup(thread)
  thread:set("offset", counter * 7)
  counter = counter + 1
end
local i = 0
request = function()
  i = i + 1
  local p = paths[((i + (offset or 0)) % #paths) + 1]
  return wrk.format("GET", p, {["Authorization"] = "Bearer " .. key})
end
"""


def load_wrk(port, key, queries, mode, duration, connections, out):
    paths_file = os.path.join(out, f"paths-{mode}.txt")
    with open(paths_file, "w") as f:
        for q in queries:
            f.write(path_of(q["q"], mode) + "\n")
    script = os.path.join(out, "rotate.lua")
    with open(script, "w") as f:
        f.write(WRK_LUA)
    env = dict(os.environ, CRADLE_PATHS=paths_file, CRADLE_KEY=key)
    result = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency",
         "-s", script, f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, env=env, check=True,
    )
    text = result.stdout
    rps = float(text.split("Requests/sec:")[1].split()[0])
    total = int(text.split(" requests in ")[0].split()[-1])
    non2xx = int(text.split("Non-2xx or 3xx responses:")[1].split()[0]) if "Non-2xx" in text else 0
    socket_errors = 0
    if "Socket errors:" in text:
        part = text.split("Socket errors:")[1].splitlines()[0]
        socket_errors = sum(int(x.split()[-1]) for x in part.split(","))
    p50 = p99 = "?"
    for line in text.splitlines():
        bits = line.split()
        if len(bits) == 2 and bits[0] == "50%":
            p50 = bits[1]
        if len(bits) == 2 and bits[0] == "99%":
            p99 = bits[1]
    return rps, total, non2xx, socket_errors, p50, p99


def load_threads(port, key, queries, mode, duration, connections):
    paths = [path_of(q["q"], mode) for q in queries]
    counts, errors, lock = [0], [0], threading.Lock()
    stop = time.perf_counter() + duration

    def worker(offset):
        client = Client(port, key)
        i = offset
        while time.perf_counter() < stop:
            try:
                status, _, _ = client.get(paths[i % len(paths)])
                ok = 200 <= status < 300
            except OSError:
                client = Client(port, key)
                ok = False
            with lock:
                counts[0] += 1
                errors[0] += 0 if ok else 1
            i += 1

    threads = [threading.Thread(target=worker, args=(n * 7,)) for n in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts[0] / (time.perf_counter() - started), counts[0], errors[0], 0, "?", "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("workspace")
    parser.add_argument("queries")
    parser.add_argument("key")
    parser.add_argument("out")
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--modes", default=",".join(MODES),
                        help="search modes to measure (keyword alone needs no vectors)")
    parser.add_argument("--relevance-only", action="store_true",
                        help="one start, the relevance table and nothing else")
    args = parser.parse_args()
    MODES[:] = [m for m in args.modes.split(",") if m]
    if args.relevance_only:
        args.restarts = 1
    queries = json.load(open(args.queries, encoding="utf-8"))["queries"]
    log = os.path.join(args.out, "serve.log")

    # 1. Start-up: process start to /ready 200, several restarts.
    startups = []
    for _ in range(args.restarts):
        server = Server(args.binary, args.workspace, log)
        startups.append(server.wait_ready())
        server.stop()
    print(f"startup_to_ready_ms: median {statistics.median(startups) * 1e3:.1f} "
          f"(runs: {' '.join(f'{s * 1e3:.1f}' for s in startups)}; process start to /ready 200) "
          f"load {load()}")

    server = Server(args.binary, args.workspace, log)
    server.wait_ready()
    print(f"rss_after_start_mib: {server.rss_mib():.1f}")
    failures = []
    try:
        client = Client(server.port, args.key)
        # 2. Relevance (also the warm-up of every query and mode).
        started = time.perf_counter()
        scores = relevance(client, queries, failures)
        print(f"relevance_pass_seconds: {time.perf_counter() - started:.1f} "
              f"({len(queries)} queries x {len(MODES)} modes)")
        print_relevance(scores, queries)
        if args.relevance_only:
            with open(os.path.join(args.out, "relevance.json"), "w") as f:
                json.dump(summary(scores, queries), f)
            return

        # 3. Sequential latency.
        print(f"\nlatency: sequential, one keep-alive connection, limit={K}, after a warm-up; "
              f"client-side wall time per request (Python http.client) load {load()}")
        times = latency(client, queries, args.rounds, failures)
        report = {"startup_ms": statistics.median(startups) * 1e3,
                  "relevance": summary(scores, queries), "latency": {}, "load": {}}
        print(f"{'mode':<10}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'target p99':>12}")
        targets = {"keyword": "< 10 ms", "hybrid": "< 25 ms", "vector": "-"}
        for mode in MODES:
            t = times[mode]
            print(f"{mode:<10}{len(t):>9}{percentile(t, 0.5):>9.2f}{percentile(t, 0.99):>9.2f}"
                  f"{statistics.mean(t):>9.2f}{targets[mode]:>12}")
            report["latency"][mode] = {"p50_ms": percentile(t, 0.5), "p99_ms": percentile(t, 0.99)}
        with open(os.path.join(args.out, "latency.json"), "w") as f:
            json.dump(times, f)

        # 4. Load from a second process.
        tool = "wrk" if shutil.which("wrk") else "python-threads"
        print(f"\nload: {tool}, {args.duration} s per mode, {args.connections} connections, "
              f"rotating over the {len(queries)} queries, limit={K}")
        print(f"{'mode':<10}{'req/s':>9}{'requests':>10}{'non-2xx':>9}{'errors':>8}"
              f"{'p50':>10}{'p99':>10}  load average")
        for mode in MODES:
            if tool == "wrk":
                r = load_wrk(server.port, args.key, queries, mode, args.duration,
                             args.connections, args.out)
            else:
                r = load_threads(server.port, args.key, queries, mode, args.duration,
                                 args.connections)
            rps, total, non2xx, errors, p50, p99 = r
            report["load"][mode] = {"requests_per_s": rps, "failed": non2xx + errors}
            print(f"{mode:<10}{rps:>9.1f}{total:>10}{non2xx:>9}{errors:>8}{p50:>10}{p99:>10}  {load()}")
        print(f"\nrss_after_run_mib: {server.rss_mib():.1f} (VmRSS of cradle serve after relevance, "
              f"latency and load)")
        report["rss_after_run_mib"] = server.rss_mib()
        with open(os.path.join(args.out, "summary.json"), "w") as f:
            json.dump(report, f, indent=1)
    finally:
        server.stop()
    print(f"failed_requests_sequential: {len(failures)}")
    for mode, what, status, body in failures[:10]:
        print(f"  {mode} {what} -> {status} {body}")


if __name__ == "__main__":
    main()
