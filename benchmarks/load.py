"""`python -m benchmarks.load`: latency and throughput of the HTTP service under concurrent clients, on 127.0.0.1 only.

Targets: the single-process server (`python -m serving --http`) with batching on and off (`--no-batching`), and
Ray Serve (`serving.replica`, a local Ray instance) with 1 and 2 replicas. Tasks: translation
(attention_en_fr_numbers, one held-out number per request) and captioning (sat_fashion_scenes, one held-out scene per
request, a base64 PNG in JSON), greedy. At each number of concurrent clients, each client sends its next request as
soon as it has the answer to the last, until `--requests` are answered or `--seconds` pass. Reported: p50, p95 and
p99 latency, requests per second, errors (a status other than 200 or an item's error: 0 expected) and the mean
number of items in the decoder batch that answered a request. Then the single server's resident memory before
and after `--soak` more requests.

Every request goes to 127.0.0.1, and every loop is bounded in count and in time.
"""
import argparse
import asyncio
import base64
import io
import itertools
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
PRESETS = {"translate": "attention_en_fr_numbers", "caption": "sat_fashion_scenes"}
TARGETS = ("single", "unbatched", "ray1", "ray2")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", help="a folder holding attention_en_fr_numbers/ and sat_fashion_scenes/ artifacts (default: export them to a temporary folder)")
    parser.add_argument("--concurrency", default="1,8,32,128", help="numbers of concurrent clients (default 1,8,32,128)")
    parser.add_argument("--requests", type=int, default=1_000, help="requests per level (default 1000)")
    parser.add_argument("--seconds", type=float, default=120, help="time limit per level (default 120)")
    parser.add_argument("--soak", type=int, default=10_000, help="requests between the two memory readings (default 10000; 0 skips)")
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"among {', '.join(TARGETS)} (default all)")
    parser.add_argument("--tasks", default="translate,caption")
    parser.add_argument("--max-wait-ms", type=float, default=5.0, help="the servers' --max-wait-ms (default 5)")
    parser.add_argument("--threads", type=int, help="the single server's onnxruntime --threads (default: serving's, one for the search graphs and every core for the others)")
    parser.add_argument("--json", help="also write the measurements to this file")
    return parser.parse_args(argv)


def inputs(folders):
    """Request bodies per task, from the held-out sets the presets ship."""
    from PIL import Image

    from serving.artifact import Artifact
    from zoo.core.tokenizers import EOS_ID, PAD_ID
    from zoo.presets import read_held_out

    bodies = {}
    if "translate" in folders:
        artifact = Artifact(folders["translate"])
        rows = read_held_out(artifact.checked(artifact.manifest["held_out"]["file"]))
        source = artifact.tokenizer.source
        bodies["translate"] = [{"texts": [" ".join(source.tokens([int(i) for i in row if i not in (PAD_ID, EOS_ID)]))], "attention": False} for row in rows]
    if "caption" in folders:
        artifact = Artifact(folders["caption"])
        scenes = read_held_out(artifact.checked(artifact.manifest["held_out"]["file"]))
        bodies["caption"] = []
        for scene in scenes:
            buffer = io.BytesIO()
            Image.fromarray(scene).save(buffer, "PNG")
            bodies["caption"].append({"images": [base64.b64encode(buffer.getvalue()).decode()], "attention": False})
    return bodies


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def resident_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def post(connection, path, body):
    """One POST over a kept-alive HTTP/1.1 connection: (status, headers, body). A minimal client, because the load
    generator shares the machine with the server and must cost it little: httpx took as much CPU as the server."""
    reader, writer = connection
    writer.write(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (path.encode(), len(body), body))
    await writer.drain()
    status = await reader.readline()
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status.split()[1]), headers, await reader.readexactly(int(headers["content-length"]))


async def level(url, route, bodies, clients, count, seconds):
    """`clients` closed-loop clients sending `count` requests in all (at most `seconds`): one measurement row."""
    host, port = url.removeprefix("http://").split(":")
    payloads = [json.dumps(body).encode() for body in bodies]
    latencies, errors, batches = [], 0, []
    indices, deadline = itertools.count(), time.monotonic() + seconds

    async def client_loop(first):
        nonlocal errors
        connection = await asyncio.open_connection(host, int(port))
        await post(connection, route, payloads[first])  # warm: the connection, and the server's sessions
        await barrier.wait()
        while (index := next(indices)) < count and time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                status, headers, content = await post(connection, route, payloads[index % len(payloads)])
                good = status == 200 and b'"error"' not in content
                batches.append(int(headers.get("x-batch-items", 0)))
            except (OSError, ValueError, KeyError, asyncio.IncompleteReadError):
                good = False
                connection[1].close()
                connection = await asyncio.open_connection(host, int(port))
            if good:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
        connection[1].close()

    barrier = asyncio.Barrier(clients + 1)
    loops = [asyncio.create_task(client_loop(index % len(payloads))) for index in range(clients)]
    await barrier.wait()
    started = time.perf_counter()
    await asyncio.gather(*loops)
    elapsed = time.perf_counter() - started
    milliseconds = np.array(latencies) * 1000 if latencies else np.array([np.nan])
    return {
        "clients": clients, "answered": len(latencies), "errors": errors, "seconds": round(elapsed, 2),
        "p50_ms": round(float(np.percentile(milliseconds, 50)), 1), "p95_ms": round(float(np.percentile(milliseconds, 95)), 1),
        "p99_ms": round(float(np.percentile(milliseconds, 99)), 1), "requests_per_s": round(len(latencies) / elapsed, 1),
        "mean_batch": round(float(np.mean(batches)), 1) if batches else None,
    }


def started_server(arguments, ready_s=120, **popen):
    """A `python -m serving --http ARGUMENTS` process on a free localhost port, once it answers /health: (url,
    process); the url is None where the process ended or did not answer within `ready_s` (it is then killed)."""
    import httpx

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "serving", "--http", "--port", str(port), *map(str, arguments)], cwd=REPOSITORY, **popen)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_s
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return url, process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    return None, process


def single_server(folders, batching, arguments):
    """A `python -m serving --http` process on a free port: (url, process), once it answers."""
    options = ["--max-wait-ms", arguments.max_wait_ms, *(f"--artifact={task}={folder}" for task, folder in folders.items())]
    options += ([] if batching else ["--no-batching"]) + ([] if arguments.threads is None else ["--threads", arguments.threads])
    url, process = started_server(options)
    if url is None:
        raise SystemExit("error: the server did not start")
    return url, process


def measure(url, bodies, tasks, concurrency, arguments, target):
    rows = []
    for task in tasks:
        for clients in concurrency:
            row = {"target": target, "task": task, **asyncio.run(level(url, f"/v1/{task}", bodies[task], clients, arguments.requests, arguments.seconds))}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def soak(url, process, bodies, count, seconds):
    before = resident_mb(process.pid)
    row = asyncio.run(level(url, "/v1/translate", bodies["translate"], 32, count, seconds))
    return {"requests": row["answered"], "errors": row["errors"], "rss_before_mb": round(before, 1), "rss_after_mb": round(resident_mb(process.pid), 1)}


def table(rows):
    lines = ["| target | task | clients | answered | errors | p50 ms | p95 ms | p99 ms | requests/s | mean batch |", "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for row in rows:
        lines.append(f"| {row['target']} | {row['task']} | {row['clients']} | {row['answered']} | {row['errors']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | {row['requests_per_s']} | {row['mean_batch']} |")
    return "\n".join(lines)


def artifact_folders(arguments, tasks, temporary):
    if arguments.artifacts:
        return {task: Path(arguments.artifacts) / PRESETS[task] for task in tasks}
    from export.artifact import export_preset

    return {task: export_preset(PRESETS[task], Path(temporary) / PRESETS[task], formats=("onnx",), decode_limit=4) for task in tasks}


def main(argv=None):
    arguments = parse_arguments(argv)
    concurrency = [int(value) for value in arguments.concurrency.split(",")]
    tasks, targets = arguments.tasks.split(","), arguments.targets.split(",")
    if set(tasks) - set(PRESETS) or set(targets) - set(TARGETS):
        raise SystemExit(f"error: --tasks are among {', '.join(PRESETS)} and --targets among {', '.join(TARGETS)}")
    load = os.getloadavg()
    rows, memory = [], None
    with tempfile.TemporaryDirectory() as temporary:
        folders = artifact_folders(arguments, tasks, temporary)
        bodies = inputs(folders)
        for target in [target for target in targets if target in ("single", "unbatched")]:
            url, process = single_server(folders, target == "single", arguments)
            try:
                rows += measure(url, bodies, tasks, concurrency, arguments, target)
                if target == "single" and arguments.soak and "translate" in tasks:
                    memory = soak(url, process, bodies, arguments.soak, 10 * arguments.seconds)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=120)
        if any(target.startswith("ray") for target in targets):
            import ray
            from ray import serve

            from serving import replica

            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": str(REPOSITORY)}})
            try:
                port = free_port()
                for target in [target for target in targets if target.startswith("ray")]:
                    replica.start({task: str(folder) for task, folder in folders.items()}, replicas=int(target[3:]), port=port, max_wait_ms=arguments.max_wait_ms)
                    rows += measure(f"http://127.0.0.1:{port}", bodies, tasks, concurrency, arguments, target)
            finally:
                serve.shutdown()
                ray.shutdown()
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} CPU cores; load average {load[0]:.1f} before, {os.getloadavg()[0]:.1f} after.\n")
    print(table(rows))
    if memory:
        print(f"\nSingle server, resident memory: {memory['rss_before_mb']} MB before and {memory['rss_after_mb']} MB after {memory['requests']:,} more translation requests ({memory['errors']} errors).")
    if arguments.json:
        Path(arguments.json).write_text(json.dumps({"rows": rows, "memory": memory, "load_average": [load, os.getloadavg()]}, indent=1))


if __name__ == "__main__":
    main()
