#!/usr/bin/env python3
"""Compare prpm-loadtest's closed-loop engine with wrk on one static route.

Usage: LoadTests/bench-vs-wrk.py [URL] [--bin PATH] [--runs N] [--duration S] [--connections C]
Start a static server first, e.g. `prpm-loadtest serve-static --port 18199` or nginx with `return 200 "ok";`.
Reports, per alternating pair of runs, req/s of each and requests per CPU-second of each client: on a shared
2-core machine the req/s ratio swings with background load, the CPU-efficiency ratio much less.
"""
import argparse, json, re, resource, statistics, subprocess, sys, tempfile

ap = argparse.ArgumentParser()
ap.add_argument("url", nargs="?", default="http://127.0.0.1:18199/healthz")
ap.add_argument("--bin", default=".build/release/prpm-loadtest")
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--duration", type=int, default=10)
ap.add_argument("--connections", type=int, default=32)
args = ap.parse_args()
m = re.match(r"(http://[^/]+)(/.*)?$", args.url)
if not m:
    sys.exit("URL must look like http://127.0.0.1:PORT/path")
base, path = m.group(1), m.group(2) or "/"


def run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


rps_ratios, eff_ratios = [], []
for i in range(args.runs):
    out, cpu_w = run(["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", args.url])
    n_w = int(re.search(r"(\d+) requests in", out).group(1))
    rps_w = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        _, cpu_e = run([args.bin, "--target", base, "--path", path, "--connections", str(args.connections),
                        "--duration", str(args.duration), "--baseline-duration", "0", "--quiet", "--no-metrics",
                        "--json", report.name])
        r = json.load(open(report.name))
    n_e, rps_e = r["requests"], r["throughput_rps"]
    rps_ratios.append(rps_e / rps_w)
    eff_ratios.append((n_e / cpu_e) / (n_w / cpu_w))
    print(f"pair {i + 1}: wrk {rps_w:9.0f} req/s {n_w / cpu_w:9.0f} req/CPU-s | prpm-loadtest {rps_e:9.0f} req/s "
          f"{n_e / cpu_e:9.0f} req/CPU-s | ratio req/s {rps_ratios[-1]:.2f}, req/CPU-s {eff_ratios[-1]:.2f}")
print(f"median ratio: req/s {statistics.median(rps_ratios):.2f}, req per CPU-second {statistics.median(eff_ratios):.2f}")
