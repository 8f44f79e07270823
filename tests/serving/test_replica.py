"""Ray Serve replicas on a real local Ray instance give the single-process server's answers."""
import base64
from concurrent.futures import ThreadPoolExecutor

from benchmarks.load import free_port
from tests.conftest import REPO, http_server, once, same

NUMBERS = ["seven", "four hundred and twenty-three", "one million two hundred thousand and five", "ninety-one", "twelvety", "sixty", "eleven", "three hundred"]


@once
def test_two_ray_replicas_answer_as_the_single_process_server(artifacts, scene_files):
    import httpx
    import ray
    from ray import serve

    from serving import replica

    image = base64.b64encode(scene_files[0].read_bytes()).decode()
    folders = {"numbers": str(artifacts["attention_en_fr_numbers"]), "scenes": str(artifacts["sat_fashion_scenes"])}
    requests = [("/v1/translate", {"texts": NUMBERS, "beam": 4}), ("/v1/caption", {"images": [image], "beam": 2}), ("/v1/translate", {"texts": ["seven"], "beam": 0})]
    requests += [("/v1/translate", {"texts": [text]}) for text in NUMBERS]
    # Replicas import this checkout, whatever the environment's installed copy is.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
    try:
        port = free_port()
        replica.start(folders, replicas=2, port=port, max_wait_ms=50)
        assert serve.status().applications["attention-zoo"].deployments["Replica"].replica_states == {"RUNNING": 2}
        with ThreadPoolExecutor(8) as pool, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            clustered = list(pool.map(lambda request: client.post(request[0], json=request[1]), requests))
        with http_server(*(f"--artifact={name}={folder}" for name, folder in folders.items())) as (url, _), httpx.Client(base_url=url, timeout=120) as client:
            single = [client.post(route, json=body) for route, body in requests]
    finally:
        serve.shutdown()
        ray.shutdown()
    assert same([[answer.status_code, answer.json()] for answer in clustered], [[answer.status_code, answer.json()] for answer in single])
    assert [answer.status_code for answer in single[:3]] == [200, 200, 422] and "twelvety" in single[0].json()["results"][4]["error"]


@once
def test_the_cluster_config_is_one_ray_serve_deploys():
    import yaml
    from ray.serve.deployment import Application
    from ray.serve.schema import ServeDeploySchema

    from serving.replica import build

    (application,) = ServeDeploySchema.model_validate(yaml.safe_load((REPO / "serving" / "cluster.yaml").read_text())).applications
    assert application.import_path == "serving.replica:build" and isinstance(build(application.args), Application)
