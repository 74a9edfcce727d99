"""Ingest benchmark: accepted/s and POST→decision latency, next to a bare Flask endpoint.

Sends N comments concurrently to the moderation service on loopback and to a bare Flask
JSON endpoint (bench/bare_app.py) served the same way (gunicorn, same number of sync
workers), one after the other in the same run. The headline is the ratio of the service's
accepted/s to the bare endpoint's requests/s. Then it polls until every comment is decided.

    .venv/bin/python bench/ingest.py -n 1000 -c 16 --json out.json

Without --url it starts `moderation up` in a temporary data folder on a free port (SQLite
by default; PostgreSQL/Redis when DATABASE_URL / CELERY_BROKER_URL are set) and stops it
at the end. Exits 1 if a POST was not accepted or comments are still undecided at --timeout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import corpus
from load import Client, Decision, Phase, Sent, await_decisions, send_all
from servers import LOOPBACK, StartError, start_bare, start_moderation

POLLERS = 4
START_TIMEOUT = 120.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; --url must be loopback and comes with --key."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running service on 127.0.0.1 "
                        "(default: start `moderation up` here)")
    parser.add_argument("--key", help="API key for --url")
    parser.add_argument("-n", "--comments", type=int, default=1000)
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn workers for the bare app and a service started here")
    parser.add_argument("--timeout", type=float, default=300.0,
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
    if min(args.comments, args.concurrency, args.workers) < 1:
        parser.error("-n, -c and --workers must be positive")
    return args


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def backend() -> str:
    """Which database and broker a service started here uses, without credentials."""
    def describe(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme} {parts.hostname}:{parts.port}{parts.path}"

    database, broker = os.environ.get("DATABASE_URL"), os.environ.get("CELERY_BROKER_URL")
    return (f"database {describe(database) if database else 'SQLite (embedded)'}, "
            f"broker {describe(broker) if broker else 'SQLite file (embedded)'}")


def phase_summary(phase: Phase) -> dict[str, Any]:
    """The numbers of one burst of POSTs."""
    post_ms = [s.seconds * 1000 for s in phase.sent]
    return {
        "requests": len(phase.sent),
        "accepted": phase.accepted,
        "seconds": round(phase.seconds, 3),
        "per_second": round(phase.accepted_per_second, 1),
        "post_ms_p50": round(percentile(post_ms, 50), 1),
        "post_ms_p99": round(percentile(post_ms, 99), 1),
        "client_cpu_percent": round(100 * phase.client_cpu_seconds / phase.seconds),
    }


def _timing(prefix: str, pairs: list[tuple[Sent, Decision]], started_at: float) -> dict[str, Any]:
    """p50/p99 of POST→decision, and the last decision's time from the phase start."""
    if not pairs:
        return {}
    latency_ms = [(decision.at - sent.started_at) * 1000 for sent, decision in pairs]
    return {f"{prefix}_ms_p50": round(percentile(latency_ms, 50)),
            f"{prefix}_ms_p99": round(percentile(latency_ms, 99)),
            f"{prefix}_last_s": round(max(d.at for _, d in pairs) - started_at, 2)}


def decision_summary(phase: Phase, decided: dict[str, Decision]) -> dict[str, Any]:
    """POST→decision latency (client clock at POST start to the server's scored_at, one
    machine, one clock), and how long until the last decision, from the first POST."""
    pairs = [(s, decided[s.comment_id]) for s in phase.sent if s.comment_id in decided]
    return {
        "decided": len(decided),
        "undecided": phase.accepted - len(decided),
        "statuses": dict(Counter(d.status for d in decided.values())),
        **_timing("decision", pairs, phase.started_at),
    }


def warm_up(client: Client, comments: list[dict[str, Any]], concurrency: int,
            deadline: float) -> dict[str, Any]:
    """Send the warm-up comments to the service and wait until they are decided.

    This loads the app in every gunicorn worker and the model in the Celery worker, so
    neither counts in the measurement.
    """
    start = time.perf_counter()
    send_all(client, comments, concurrency, deadline)
    decided = await_decisions(client, [c["id"] for c in comments], deadline, POLLERS)
    return {"warmup_comments": len(comments), "warmup_decided": len(decided),
            "warmup_s": round(time.perf_counter() - start, 2)}


def start_timeout(deadline: float) -> float:
    """Seconds a server may take to start: START_TIMEOUT, or less if the deadline is near."""
    return max(1.0, min(START_TIMEOUT, deadline - time.monotonic()))


def bench_bare(args: argparse.Namespace, comments: list[dict[str, Any]],
               warmup: list[dict[str, Any]], log_dir: Path, deadline: float) -> dict[str, Any]:
    """The ceiling: the same POSTs against bare_app.py under gunicorn."""
    server = start_bare(args.workers, log_dir, start_timeout(deadline))
    try:
        client = Client(server.port, None)
        send_all(client, warmup, args.concurrency, deadline)  # load the app in every worker
        return phase_summary(send_all(client, comments, args.concurrency, deadline))
    finally:
        server.stop()


@contextmanager
def moderation_service(args: argparse.Namespace, data_dir: Path,
                       deadline: float) -> Iterator[Client]:
    """A client for --url, or for a `moderation up` started (and stopped) here."""
    if args.url:
        yield Client(urlsplit(args.url).port or 0, args.key)
        return
    server, key = start_moderation(args.workers, data_dir, start_timeout(deadline))
    try:
        yield Client(server.port, key)
    finally:
        server.stop()


def bench_moderation(args: argparse.Namespace, comments: list[dict[str, Any]],
                     warmup: list[dict[str, Any]], data_dir: Path,
                     deadline: float) -> dict[str, Any]:
    """The service: accepted/s while sending, then poll until decided or ``deadline``."""
    with moderation_service(args, data_dir, deadline) as client:
        warmed = warm_up(client, warmup, args.concurrency, deadline)
        phase = send_all(client, comments, args.concurrency, deadline)
        decided = await_decisions(client, [s.comment_id for s in phase.sent if s.status == 202],
                                  deadline, POLLERS)
    return {**phase_summary(phase), **decision_summary(phase, decided), **warmed}


def machine() -> dict[str, Any]:
    """Facts that make the figures comparable between runs."""
    return {"nproc": os.cpu_count(), "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(terse=True), "loadavg_1m": os.getloadavg()[0]}


def _phase_line(name: str, phase: dict[str, Any]) -> str:
    return (f"  {name:<11} {phase['accepted']}/{phase['requests']} x 202 in "
            f"{phase['seconds']:.2f} s, POST p50/p99 {phase['post_ms_p50']:.0f} / "
            f"{phase['post_ms_p99']:.0f} ms, client CPU {phase['client_cpu_percent']}%")


def _decision_lines(mod: dict[str, Any], timeout: float) -> list[str]:
    if mod["undecided"]:
        lines = [f"NOT all decided:         {mod['undecided']} still undecided at the "
                 f"{timeout:.0f} s timeout; the figures below cover the decided ones"]
    else:
        lines = [f"all decided after:       {mod.get('decision_last_s', 0):.1f} s  (latest "
                 "scored_at, from the first POST)"]
    if "decision_ms_p50" in mod:
        lines.append(f"POST->decision p50/p99:  {mod['decision_ms_p50']} ms / "
                     f"{mod['decision_ms_p99']} ms  (client clock at POST start to the "
                     "server's scored_at, same machine clock)")
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(mod["statuses"].items()))
    return lines + [f"decisions:               {statuses or 'none'}; "
                    f"undecided {mod['undecided']}"]


def report(results: dict[str, Any]) -> str:
    """The plain-text table printed to stdout."""
    bare, mod, facts = results["bare"], results["moderation"], results["machine"]
    return "\n".join([
        f"command:  {results['command']}",
        f"machine:  nproc {facts['nproc']}, {facts['implementation']} {facts['python']}, "
        f"{facts['platform']}, load {facts['loadavg_1m']:.2f} before the run",
        f"setup:    {results['comments']} comments, {results['concurrency']} client threads, "
        f"gunicorn --workers {results['workers']} (sync) on {LOOPBACK} for both; client, "
        "servers and worker share the machine",
        f"service:  {results['service']}",
        "",
        f"bare flask:  {bare['per_second']:7.0f} req/s",
        f"moderation:  {mod['per_second']:7.0f} accepted/s (ratio {results['ratio']:.2f} of bare)",
        _phase_line("bare:", bare),
        _phase_line("moderation:", mod),
        "",
        *_decision_lines(mod, results["timeout"]),
        f"warm-up:                 {mod['warmup_decided']}/{mod['warmup_comments']} comments "
        f"decided in {mod['warmup_s']:.1f} s before measuring (loads the app and the model)",
    ])


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Both benchmarks, one after the other, with the overall deadline."""
    deadline = time.monotonic() + args.timeout
    facts = machine()
    prefix = f"bench-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
    comments = corpus.comments(args.comments, prefix, args.seed)
    warmup = corpus.comments(args.concurrency, f"{prefix}-warm", args.seed + 1)
    bare = bench_bare(args, comments, warmup, workdir, deadline)
    moderation = bench_moderation(args, comments, warmup, workdir, deadline)
    return {
        "command": shlex.join(sys.orig_argv), "machine": facts,
        "comments": args.comments, "concurrency": args.concurrency, "workers": args.workers,
        "timeout": args.timeout,
        "service": f"--url {args.url}" if args.url else f"moderation up started here; {backend()}",
        "bare": bare, "moderation": moderation,
        "ratio": round(moderation["per_second"] / max(bare["per_second"], 1e-9), 3),
    }


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write --json; 0 only if all were accepted and decided."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        try:
            results = run(args, Path(tmp))
        except StartError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    mod = results["moderation"]
    return 0 if mod["accepted"] == mod["requests"] and not mod["undecided"] else 1


if __name__ == "__main__":
    sys.exit(main())
