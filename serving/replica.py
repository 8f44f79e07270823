"""Ray Serve: the HTTP service as N replicas behind Ray's HTTP proxy, on one machine or a cluster (`.[cluster]`).

Each replica loads the artifacts and serves `serving.service`'s app, so the routes, JSON and errors are the single
process's; it batches with `@serve.batch` in place of the single process's `Batcher`, and Ray's proxy spreads
requests over the replicas. `build` is the application that `serve run` and `serve deploy` take:

    serve run serving.replica:build artifacts=numbers=/srv/attention_en_fr_numbers,scenes=/srv/sat_fashion_scenes replicas=2
    serve deploy serving/cluster.yaml    # a cluster of `ray start --head` and `ray start --address=HEAD:6379` machines
"""
import asyncio

from ray import serve

from serving.artifact import Artifact
from serving.batcher import split
from serving.limits import Limits
from serving.runtime import BATCH, Runtime
from serving.service import create_app


def batch_items(requests):
    return sum(len(items) for _, items, _ in requests)


@serve.deployment
@serve.ingress()
class Replica:
    def __init__(self, artifacts, limits=None, max_batch=BATCH, max_wait_ms=5.0):
        self.runtimes = {name: Runtime(Artifact(folder, spinning=False)) for name, folder in artifacts.items()}
        self.limits = Limits(**(limits or {}))
        # Ray refuses a request larger than the batch outright; the single process decodes it alone instead.
        self.decode.set_max_batch_size(max(max_batch, self.limits.items))
        self.decode.set_batch_wait_timeout_s(max_wait_ms / 1000)

    def __serve_build_asgi_app__(self):
        return create_app(self.runtimes, self.limits, self.submit)

    async def submit(self, key, items, run):
        answer = await self.decode((key, items, run))
        if isinstance(answer, Exception):
            raise answer
        return answer

    @serve.batch(max_batch_size=BATCH, batch_wait_timeout_s=0.005, batch_size_fn=batch_items)
    async def decode(self, requests):
        """What Ray gathered, as `Batcher` runs it: requests of equal key as one list (key None alone), on a worker
        thread; per request its results and the batch's size, or the exception its batch raised."""
        groups = {}
        for index, (key, _, _) in enumerate(requests):
            groups.setdefault(("alone", index) if key is None else key, []).append(index)
        answers = [None] * len(requests)
        for indices in groups.values():
            item_lists = [requests[index][1] for index in indices]
            try:
                results = await asyncio.to_thread(requests[indices[0]][2], [item for items in item_lists for item in items])
            except Exception as error:  # every request of the group gets it
                for index in indices:
                    answers[index] = error
                continue
            for index, answer in zip(indices, split(results, item_lists)):
                answers[index] = answer
        return answers


def parsed_artifacts(artifacts):
    """{name: folder} from a mapping (a config file) or `NAME=DIR,NAME=DIR` (the `serve run` command line)."""
    if isinstance(artifacts, dict):
        return dict(artifacts)
    return dict(pair.split("=", 1) for pair in str(artifacts).split(","))


def build(args):
    """The application: `artifacts` ({name: folder}, or `NAME=DIR,...`), optional `replicas` (1), `cpus_per_replica`
    (1), `max_batch`, `max_wait_ms` and `limits` ({body_mb, items, text_characters, megapixels, timeout_s})."""
    max_batch = int(args.get("max_batch", BATCH))
    deployment = Replica.options(
        num_replicas=int(args.get("replicas", 1)),
        # Ray lets 5 requests into a replica by default: too few to fill a batch while the one before decodes.
        max_ongoing_requests=2 * max_batch,
        ray_actor_options={"num_cpus": float(args.get("cpus_per_replica", 1))},
    )
    return deployment.bind(parsed_artifacts(args["artifacts"]), args.get("limits"), max_batch, float(args.get("max_wait_ms", 5.0)))


def start(artifacts, replicas=1, host="127.0.0.1", port=8000, **options):
    """Deploys on the Ray instance this process is connected to (`ray.init(...)` first) and returns once every
    replica is ready: the routes answer at http://host:port/."""
    serve.start(http_options={"host": host, "port": port})
    serve.run(build({"artifacts": artifacts, "replicas": replicas, **options}), name="attention-zoo", route_prefix="/")
