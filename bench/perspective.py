"""Perspective benchmark: comments:analyze as Coral Talk calls it, next to a bare Flask endpoint.

Sends N requests per phase to ``POST /v1alpha1/comments:analyze?key=<KEY>`` with the body
Coral Talk sends (``{"comment": {"text": ...}, "doNotStore": true, "requestedAttributes":
{"TOXICITY": {}}, "languages": ["en"]}``, texts from bench/corpus.py), in four phases on the
same service, after a warm-up that loads the classifier in every gunicorn worker:

- throughput: requests/s and per-request latency p50/p99/max at -c client threads;
- latency: the same one at a time (-c 1), what one Coral comment submission waits for;
- stored: ``doNotStore: false`` at -c threads (each comment is also stored, decided and
  queued for review in the request);
- stored, one at a time.

Then the same bodies go to bench/bare_app.py under gunicorn with the same number of sync
workers (at -c and at 1), the ceiling of "Flask JSON under gunicorn on this machine"; the
bare app answers ``POST /v1/comments`` and echoes an ``id``, so its bodies carry one more
field. The table sets the figures beside those of the Perspective API this replaces: a
default quota of 1 query per second, a 3,000-byte text limit, and Coral's default 800 ms
timeout, with the share of requests that finished within it.

    .venv/bin/python bench/perspective.py -n 1000 -c 8 --json out.json

Without --url it starts `moderation up` in a temporary data folder on a free port (SQLite
by default; PostgreSQL/Redis when DATABASE_URL / CELERY_BROKER_URL are set) and stops it
at the end. Exits 1 unless every request to the service got a 200 with a TOXICITY score,
2 if a server did not start.
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import corpus
from ingest import backend, machine, percentile, start_timeout
from load import Client
from servers import LOOPBACK, StartError, start_bare, start_moderation

ANALYZE_PATH = "/v1alpha1/comments:analyze"
BARE_PATH = "/v1/comments"
WARMUP_PER_WORKER = 16  # analyze warm-up requests per gunicorn worker (a few dozen in all)

# The Perspective API this replaces, and Coral Talk's client of it.
PERSPECTIVE_QPS = 1  # default quota: 1 query per second
PERSPECTIVE_TEXT_BYTES = 3000  # current docs; older docs said 20 KB
CORAL_TIMEOUT_MS = 800  # Coral's default Perspective timeout

# (name in the results, doNotStore, sequential): the phases on the service, in order.
SERVICE_PHASES = (("analyze", True, False), ("analyze_c1", True, True),
                  ("stored", False, False), ("stored_c1", False, True))
BARE_PHASES = (("bare", False), ("bare_c1", True))


@dataclass(frozen=True)
class Timed:
    """One POST: its HTTP status (0: no answer or skipped), whether it counts as a success,
    and the seconds until the response was read."""

    status: int
    ok: bool
    seconds: float


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; --url must be loopback and comes with --key."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running service on 127.0.0.1 "
                        "(default: start `moderation up` here)")
    parser.add_argument("--key", help="API key for --url (sent as ?key=, as Coral does)")
    parser.add_argument("-n", "--requests", type=int, default=1000, help="requests per phase")
    parser.add_argument("-c", "--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn workers for the bare app and a service started here")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="overall limit in seconds, start-up included")
    parser.add_argument("--seed", type=int, default=1729, help="seed of the comment mix")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.url:
        if not args.key:
            parser.error("--url needs --key")
        parts = urlsplit(args.url)
        if parts.scheme != "http" or parts.hostname not in (LOOPBACK, "localhost") \
                or not parts.port:
            parser.error("--url must be http://127.0.0.1:<port> (loopback only)")
    elif args.key:
        parser.error("--key goes with --url")
    if min(args.requests, args.concurrency, args.workers) < 1:
        parser.error("-n, -c and --workers must be positive")
    return args


def coral_bodies(texts: Sequence[str], do_not_store: bool, with_id: bool = False) -> list[bytes]:
    """Coral Talk's analyze body for each text, serialised beforehand; ``with_id`` adds the
    ``id`` the bare app echoes."""
    bodies = []
    for n, text in enumerate(texts):
        body: dict[str, Any] = {"comment": {"text": text}, "doNotStore": do_not_store,
                                "requestedAttributes": {"TOXICITY": {}}, "languages": ["en"]}
        if with_id:
            body["id"] = f"c{n}"
        bodies.append(json.dumps(body).encode())
    return bodies


def cpu_seconds() -> float:
    """The client's CPU time so far (user and system), all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_post(client: Client, path: str, body: bytes, ok_status: int,
               must_contain: bytes) -> Timed:
    """POST one body on a fresh connection and time it."""
    start = time.perf_counter()
    try:
        status, answer = client.request("POST", path, body)
    except OSError:
        status, answer = 0, b""
    return Timed(status, status == ok_status and must_contain in answer,
                 time.perf_counter() - start)


def burst(client: Client, path: str, bodies: Sequence[bytes], concurrency: int,
          deadline: float, ok_status: int = 200, must_contain: bytes = b"") -> dict[str, Any]:
    """POST every body with ``concurrency`` threads; bodies not yet sent when
    ``time.monotonic()`` passes ``deadline`` are skipped and count as failed (status 0)."""
    def send(body: bytes) -> Timed:
        if time.monotonic() >= deadline:
            return Timed(0, False, 0.0)
        return timed_post(client, path, body, ok_status, must_contain)

    with ThreadPoolExecutor(concurrency, thread_name_prefix="send") as pool:
        cpu, start = cpu_seconds(), time.perf_counter()
        timed = list(pool.map(send, bodies))
        seconds = time.perf_counter() - start
        cpu = cpu_seconds() - cpu
    return summary(timed, concurrency, seconds, cpu)


def summary(timed: list[Timed], concurrency: int, seconds: float,
            client_cpu: float) -> dict[str, Any]:
    """The numbers of one phase; latencies cover the answered requests."""
    ok = sum(1 for t in timed if t.ok)
    ms = [t.seconds * 1000 for t in timed if t.status] or [0.0]
    return {
        "concurrency": concurrency,
        "requests": len(timed),
        "ok": ok,
        "failures": {str(k): v for k, v in Counter(t.status for t in timed if not t.ok).items()},
        "seconds": round(seconds, 3),
        "per_second": round(ok / seconds, 1),
        "ms_p50": round(percentile(ms, 50), 1),
        "ms_p99": round(percentile(ms, 99), 1),
        "ms_max": round(max(ms), 1),
        "within_coral_timeout_percent": round(
            100 * sum(1 for t in timed if t.ok and t.seconds * 1000 <= CORAL_TIMEOUT_MS)
            / len(timed), 2),
        "client_cpu_percent": round(100 * client_cpu / seconds),
    }


@contextmanager
def service(args: argparse.Namespace, data_dir: Path, deadline: float) -> Iterator[
    tuple[Client, str]
]:
    """(a client without a bearer key, the analyze path with ``?key=``) for --url or for a
    `moderation up` started (and stopped) here."""
    if args.url:
        yield Client(urlsplit(args.url).port or 0, None), f"{ANALYZE_PATH}?key={quote(args.key)}"
        return
    server, key = start_moderation(args.workers, data_dir, start_timeout(deadline))
    try:
        yield Client(server.port, None), f"{ANALYZE_PATH}?key={quote(key)}"
    finally:
        server.stop()


def warm_up(client: Client, path: str, texts: Sequence[str], args: argparse.Namespace,
            deadline: float, ok_status: int = 200, with_id: bool = False) -> dict[str, Any]:
    """WARMUP_PER_WORKER requests per worker, half stored, at least one thread per worker.

    Every sync worker takes connections from the same socket; with more threads than workers
    and the first requests held up by the classifier loading, each worker gets some, so
    neither the app nor the model loads during a measurement.
    """
    count = WARMUP_PER_WORKER * args.workers
    chosen = [texts[i % len(texts)] for i in range(count)]
    bodies = [b for pair in zip(coral_bodies(chosen[0::2], True, with_id),
                                coral_bodies(chosen[1::2], False, with_id), strict=False)
              for b in pair]
    result = burst(client, path, bodies, max(args.concurrency, 2 * args.workers), deadline,
                   ok_status)
    return {"requests": result["requests"], "ok": result["ok"], "seconds": result["seconds"],
            "ms_max": result["ms_max"]}


def bench_service(args: argparse.Namespace, texts: Sequence[str], data_dir: Path,
                  deadline: float) -> dict[str, Any]:
    """Warm-up, then the four phases on the service."""
    with service(args, data_dir, deadline) as (client, path):
        results: dict[str, Any] = {"warmup": warm_up(client, path, texts, args, deadline)}
        for name, do_not_store, sequential in SERVICE_PHASES:
            results[name] = burst(client, path, coral_bodies(texts, do_not_store),
                                  1 if sequential else args.concurrency, deadline,
                                  must_contain=b'"TOXICITY"')
    return results


def bench_bare(args: argparse.Namespace, texts: Sequence[str], log_dir: Path,
               deadline: float) -> dict[str, Any]:
    """The ceiling: the same bodies (plus an id) to bare_app.py under gunicorn."""
    server = start_bare(args.workers, log_dir, start_timeout(deadline))
    path = f"{BARE_PATH}?key=bench"  # the same shape of URL; the bare app ignores it
    try:
        client = Client(server.port, None)
        results: dict[str, Any] = {
            "warmup": warm_up(client, path, texts, args, deadline, 202, with_id=True)}
        bodies = coral_bodies(texts, True, with_id=True)
        for name, sequential in BARE_PHASES:
            results[name] = burst(client, path, bodies, 1 if sequential else args.concurrency,
                                  deadline, ok_status=202)
        return results
    finally:
        server.stop()


PHASE_LABELS = {"analyze": "analyze, doNotStore true", "analyze_c1": "analyze, doNotStore true",
                "stored": "analyze, doNotStore false", "stored_c1": "analyze, doNotStore false",
                "bare": "bare Flask (ceiling)", "bare_c1": "bare Flask (ceiling)"}


def _row(name: str, phase: dict[str, Any]) -> str:
    fails = ", ".join(f"{n} x {'no answer' if s == '0' else 'HTTP ' + s}"
                      for s, n in sorted(phase["failures"].items()))
    answered = f"{phase['ok']}/{phase['requests']}"
    return (f"{PHASE_LABELS[name]:<26}{phase['concurrency']:>4}{answered:>12}"
            f"{phase['per_second']:>9.1f}{phase['ms_p50']:>9.1f}"
            f"{phase['ms_p99']:>9.1f}{phase['ms_max']:>9.1f}"
            f"{phase['within_coral_timeout_percent']:>9.1f}%{phase['client_cpu_percent']:>6}%"
            + (f"  FAILED: {fails}" if fails else ""))


def report(results: dict[str, Any]) -> str:
    """The plain-text table printed to stdout."""
    mod, bare, facts = results["moderation"], results["bare"], results["machine"]
    phases = [(name, mod[name]) for name, _, _ in SERVICE_PHASES] + \
             [(name, bare[name]) for name, _ in BARE_PHASES]
    sizes = results["text_bytes"]
    throughput = mod["analyze"]["per_second"]
    worst_share = min(mod[name]["within_coral_timeout_percent"] for name, _, _ in SERVICE_PHASES)
    return "\n".join([
        f"command:  {results['command']}",
        f"machine:  nproc {facts['nproc']}, {facts['implementation']} {facts['python']}, "
        f"{facts['platform']}, load {facts['loadavg_1m']:.2f} before the run",
        f"setup:    {results['requests']} requests per phase, gunicorn --workers "
        f"{results['workers']} (sync) on {LOOPBACK} for both; client and servers share the "
        "machine",
        f"service:  {results['service']}",
        "body:     Coral Talk's ({\"comment\": {\"text\": ...}, \"doNotStore\": ..., "
        "\"requestedAttributes\": {\"TOXICITY\": {}}, \"languages\": [\"en\"]}), key as ?key=; "
        f"texts from bench/corpus.py, {sizes['min']}-{sizes['max']} bytes",
        "",
        f"{'phase':<26}{'-c':>4}{'ok':>12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'<=800ms':>10}{'cpu':>7}",
        *(_row(name, phase) for name, phase in phases),
        "",
        f"ratio to bare Flask (req/s at -c {results['concurrency']}): doNotStore true "
        f"{results['ratio']:.3f}, doNotStore false {results['ratio_stored']:.3f}",
        "",
        "Perspective API, which this replaces:",
        f"  default quota:   {PERSPECTIVE_QPS} query/s; this service: {throughput:.0f} req/s "
        f"(doNotStore true, -c {results['concurrency']}), {throughput / PERSPECTIVE_QPS:.0f}x",
        f"  text limit:      {PERSPECTIVE_TEXT_BYTES:,} bytes (current docs; older docs said "
        f"20 KB); the texts here are at most {sizes['max']} bytes",
        f"  Coral's timeout: {CORAL_TIMEOUT_MS} ms; within it: {worst_share:.1f}% of the "
        "service's requests in its worst phase (column <=800ms)",
        "",
        f"warm-up:  service {mod['warmup']['ok']}/{mod['warmup']['requests']} in "
        f"{mod['warmup']['seconds']:.1f} s (slowest {mod['warmup']['ms_max']:.0f} ms: loads "
        f"the classifier in each worker); bare {bare['warmup']['ok']}/"
        f"{bare['warmup']['requests']} in {bare['warmup']['seconds']:.1f} s",
        "cpu:      the client's CPU time over the phase's wall time",
    ])


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Service, then the bare app, with the overall deadline."""
    deadline = time.monotonic() + args.timeout
    facts = machine()
    texts = [c["text"] for c in corpus.comments(args.requests, "bench", args.seed)]
    sizes = [len(t.encode()) for t in texts]
    moderation = bench_service(args, texts, workdir, deadline)
    bare = bench_bare(args, texts, workdir, deadline)
    ceiling = max(bare["bare"]["per_second"], 1e-9)
    return {
        "command": shlex.join(sys.orig_argv), "machine": facts,
        "requests": args.requests, "concurrency": args.concurrency, "workers": args.workers,
        "timeout": args.timeout,
        "service": f"--url {args.url}" if args.url else f"moderation up started here; {backend()}",
        "text_bytes": {"min": min(sizes), "max": max(sizes)},
        "perspective": {"default_qps": PERSPECTIVE_QPS, "text_limit_bytes": PERSPECTIVE_TEXT_BYTES,
                        "coral_timeout_ms": CORAL_TIMEOUT_MS},
        "moderation": moderation, "bare": bare,
        "ratio": round(moderation["analyze"]["per_second"] / ceiling, 3),
        "ratio_stored": round(moderation["stored"]["per_second"] / ceiling, 3),
    }


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write --json; 0 only if every analyze request succeeded."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-perspective-") as tmp:
        try:
            results = run(args, Path(tmp))
        except StartError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    mod = results["moderation"]
    all_ok = all(mod[name]["ok"] == mod[name]["requests"] for name, _, _ in SERVICE_PHASES)
    return 0 if all_ok and mod["warmup"]["ok"] == mod["warmup"]["requests"] else 1


if __name__ == "__main__":
    sys.exit(main())
