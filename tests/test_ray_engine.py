"""The Ray engine (align.ray_engine) against the local engine: the same bytes, resume, errors; and the
batch invariance of `Embedder` that makes batched embedding give the local engine's vectors.

Ray is an optional extra (``pip install -e '.[ray]'``; `make test` installs it): without it these
tests skip, except the one checking the message a user without Ray gets. Ray runs on one local
instance of 2 CPUs for the whole module (started once: each start costs seconds), and every Ray run
is compared byte for byte with the local engine's.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from pages import CORPUS_OUTPUTS as OUTPUTS, FakeFactory, build_fake_pool, differing_outputs  # noqa: E402

from align.corpus import run_corpus  # noqa: E402
from align.filters import FilterSettings  # noqa: E402
from align.types import ModelError, UsageError  # noqa: E402

HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAS_RAY, reason="Ray is not installed (optional extra: pip install -e '.[ray]')")
MODEL_DIR = REPO / "models" / "multilingual-e5-small"
needs_model = pytest.mark.skipif(not (MODEL_DIR / "modules.json").is_file(),
                                 reason="default model not built (align models build)")
SAMPLE = REPO / "samples" / "sputnik-2023-12-06"
NO_LANGUAGE = FilterSettings(language=False)  # the fake "Azerbaijani" is transliterated Russian


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    return build_fake_pool(tmp_path_factory.mktemp("pool"), pairs=4, one_sided=1, templates=3)


@pytest.fixture(scope="module")
def local_run(pool, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    report = run_corpus(pool.ru_dir, pool.az_dir, out, encoder_factory=FakeFactory(), workers=0,
                        filters=NO_LANGUAGE, progress=False)
    return out, report


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray instance for the module (run_corpus_ray uses a Ray already started, as is)."""
    import ray

    from align.ray_engine import _connect

    started = _connect(ray, None, 2)
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def ray_run(pool, ray_instance, tmp_path_factory):
    """A whole Ray run, pairing included."""
    from align.ray_engine import run_corpus_ray

    out = tmp_path_factory.mktemp("ray")
    report = run_corpus_ray(pool.ru_dir, pool.az_dir, out, encoder_factory=FakeFactory(), workers=2,
                            filters=NO_LANGUAGE, progress=False)
    return out, report


@needs_ray
def test_ray_engine_writes_the_local_engines_bytes(local_run, ray_run):
    (local_out, local_report), (ray_out, ray_report) = local_run, ray_run
    assert differing_outputs(local_out, ray_out) == []
    for key in ("pairs", "rows", "unpaired", "score_histogram", "failed_documents"):
        assert ray_report[key] == local_report[key], key
    timing = ray_report["timing"]
    assert timing["engine"] == "ray" and timing["device"] == "cpu"
    assert timing["documents_aligned_now"] == ray_report["pairs"] > 0
    # the same record files, under the same keys
    assert sorted(p.name for p in (local_out / ".work" / "docs").glob("*.json")) == \
        sorted(p.name for p in (ray_out / ".work" / "docs").glob("*.json"))


@needs_ray
def test_the_engines_resume_each_others_runs(pool, local_run, ray_run, tmp_path):
    """Ray redoes the deleted records of a killed local run (a half-written temp file, no final files)
    and the local engine those of a Ray run: the same bytes either way."""
    from align.ray_engine import run_corpus_ray

    by_ray = tmp_path / "by-ray"
    shutil.copytree(local_run[0], by_ray)
    for name in (*OUTPUTS, "report.json"):
        (by_ray / name).unlink()
    records = sorted((by_ray / ".work" / "docs").glob("*.json"))
    for record in records[::2]:
        record.unlink()
    (by_ray / ".work" / "docs" / ".half-written.json.123.tmp").write_text("{", encoding="utf-8")  # a killed write
    remote = run_corpus_ray(pool.ru_dir, pool.az_dir, by_ray, encoder_factory=FakeFactory(), filters=NO_LANGUAGE,
                            progress=False)
    assert remote["timing"]["documents_aligned_now"] == len(records[::2])
    assert not list((by_ray / ".work" / "docs").glob(".*.tmp"))
    assert differing_outputs(local_run[0], by_ray) == []

    by_local = tmp_path / "by-local"
    shutil.copytree(ray_run[0], by_local)
    for record in sorted((by_local / ".work" / "docs").glob("*.json"))[:3]:
        record.unlink()
    local = run_corpus(pool.ru_dir, pool.az_dir, by_local, encoder_factory=FakeFactory(), workers=0,
                       filters=NO_LANGUAGE, progress=False)
    assert local["timing"]["documents_aligned_now"] == 3
    assert differing_outputs(local_run[0], by_local) == []


@needs_ray
def test_given_pairs_and_new_filters(pool, local_run, ray_instance, tmp_path):
    from align.ray_engine import run_corpus_ray

    pairs = tmp_path / "given.tsv"
    chosen = sorted(pool.gold.items())[:2]
    pairs.write_text("ru\taz\n" + "".join(f"{r}\t{a}\n" for r, a in chosen), encoding="utf-8")
    kwargs = dict(pairs_tsv=pairs, encoder_factory=FakeFactory(), filters=NO_LANGUAGE, progress=False)
    local = run_corpus(pool.ru_dir, pool.az_dir, tmp_path / "l", workers=0, **kwargs)
    remote = run_corpus_ray(pool.ru_dir, pool.az_dir, tmp_path / "r", **kwargs)
    assert remote["pairs"] == local["pairs"] == 2
    assert differing_outputs(tmp_path / "l", tmp_path / "r") == []
    strict = FilterSettings(language=False, min_score=0.99)
    again = run_corpus_ray(pool.ru_dir, pool.az_dir, tmp_path / "r", **{**kwargs, "filters": strict})
    assert again["timing"]["documents_aligned_now"] == 0 and again["rows"]["kept"] < remote["rows"]["kept"]


@needs_ray
def test_bad_arguments(pool, ray_instance, tmp_path):
    from align.ray_engine import run_corpus_ray

    with pytest.raises(UsageError):
        run_corpus_ray(pool.ru_dir, pool.az_dir, tmp_path / "o", encoder_factory=FakeFactory(), workers=0)
    with pytest.raises(UsageError, match="unknown device"):
        run_corpus_ray(pool.ru_dir, pool.az_dir, tmp_path / "o", encoder_factory=FakeFactory(), device="tpu")
    if not ray_instance.cluster_resources().get("GPU"):
        with pytest.raises(UsageError, match="no GPU"):
            run_corpus_ray(pool.ru_dir, pool.az_dir, tmp_path / "o", encoder_factory=FakeFactory(), device="cuda",
                           progress=False)


class FailingFactory:
    """Builds no encoder: fails in the actor, as a model missing on a worker node would."""

    name = "failing"

    def __call__(self):
        raise ModelError("cannot load model 'x': not on this node")


@needs_ray
def test_an_error_in_an_actor_reaches_the_user_as_itself(pool, ray_instance, tmp_path):
    from align.ray_engine import run_corpus_ray

    with pytest.raises(ModelError, match="not on this node"):
        run_corpus_ray(pool.ru_dir, pool.az_dir, tmp_path / "o", encoder_factory=FailingFactory(), progress=False)
    with pytest.raises(ModelError):  # a missing model fails on the driver, before any actor starts
        run_corpus_ray(pool.ru_dir, pool.az_dir, tmp_path / "o", model=str(tmp_path / "no-model"), progress=False)


def test_without_ray_the_user_is_told_how_to_install_it(pool, tmp_path, monkeypatch):
    from align.ray_engine import run_corpus_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray → ImportError
    with pytest.raises(UsageError, match=r"align\[ray\]"):
        run_corpus_ray(pool.ru_dir, pool.az_dir, tmp_path / "o", encoder_factory=FakeFactory())


# ----------------------------------------------------------------------------- the real model


def _sample_sentences() -> list[str]:
    from align.pipeline import load_article
    from align.segment import segment_article

    texts = []
    for lang in ("ru", "az"):
        units = segment_article(load_article(SAMPLE / f"{lang}.txt", lang))
        texts += [u.text for u in units]
        texts += [f"{a} {b}" for a, b in zip([u.text for u in units], [u.text for u in units][1:])]
    return texts


@pytest.mark.model
@needs_model
def test_embedder_gives_each_text_its_vector_alone():
    """Batched encoding (texts grouped by exact token count, no padding) gives each text its
    single-text vector to within float rounding. Bit for bit only where the CPU's GEMM kernels do
    not depend on the row count: true on some machines, not on all (CI's differed by 1e-7), so the
    guarantee checked is 1e-6 per component; written scores have 4 decimals."""
    from align.embed import Embedder, same_length_batches

    embedder = Embedder(device="cpu")
    texts = _sample_sentences()[:32]
    counts = embedder.token_counts(texts)
    batches = same_length_batches(counts, embedder.batch_size)
    assert len(batches) < len(texts), "the sample should give some batches of several texts"
    assert all(len({counts[i] for i in rows}) == 1 for rows in batches)
    batched = embedder.encode(texts)
    alone = np.stack([embedder.encode([t])[0] for t in texts])
    assert batched.dtype == np.float32 and batched.shape == alone.shape
    assert float(np.abs(batched - alone).max()) <= 1e-6


@pytest.mark.model
@needs_model
@needs_ray
def test_real_model_ray_run_matches_the_local_engine(ray_instance, tmp_path):
    from align.ray_engine import run_corpus_ray

    ru_dir, az_dir = tmp_path / "ru", tmp_path / "az"
    for folder, lang in ((ru_dir, "ru"), (az_dir, "az")):
        folder.mkdir()
        shutil.copy(SAMPLE / f"{lang}.txt", folder / "sputnik.txt")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("ru\taz\nsputnik.txt\tsputnik.txt\n", encoding="utf-8")
    started = time.perf_counter()
    local = run_corpus(ru_dir, az_dir, tmp_path / "l", pairs_tsv=pairs, workers=0, progress=False)
    remote = run_corpus_ray(ru_dir, az_dir, tmp_path / "r", pairs_tsv=pairs, workers=1, progress=False)
    assert remote["rows"]["aligned"] == local["rows"]["aligned"] > 10
    assert differing_outputs(tmp_path / "l", tmp_path / "r") == []
    assert time.perf_counter() - started < 120


def test_the_default_model_has_the_local_engines_name_on_cpu():
    """Both engines key records and cache entries by the encoder's name: on CPU the Ray engine's
    factory must name the model as the local engine's does; fp16 (CUDA) must be a different name."""
    from align.corpus import DefaultModel
    from align.ray_engine import EmbedderFactory

    if not (MODEL_DIR / "modules.json").is_file():
        pytest.skip("default model not built")
    if DefaultModel(None)().device != "cpu":
        pytest.skip("this machine has a GPU: the local engine's default is not CPU")
    assert EmbedderFactory(None, "cpu").name == DefaultModel(None).name
    assert EmbedderFactory(None, "cuda").name == DefaultModel(None).name + "|fp16"


# ----------------------------------------------------------------------------- a two-node cluster

TWO_NODE_DRIVER = """
import json, sys
sys.path[:0] = [{repo!r}, {bench!r}]
from pages import FakeFactory
from align.filters import FilterSettings
from align.ray_engine import run_corpus_ray
report = run_corpus_ray({ru!r}, {az!r}, {out!r}, address={address!r}, workers=2, encoder_factory=FakeFactory(),
                        filters=FilterSettings(language=False), progress=False)
print(json.dumps({{"ray_nodes": report["timing"]["ray_nodes"], "pairs": report["pairs"]}}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_node(args: list[str], env: dict):
    """``ray start … --block`` in its own process group (stopped by `_stop_ray_node`, never `ray stop`,
    which would stop every Ray on the machine)."""
    ray_cli = Path(sys.executable).with_name("ray")
    return subprocess.Popen([str(ray_cli), "start", *args, "--block"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _stop_ray_node(proc) -> None:
    """SIGTERM to the node's process group, then SIGKILL to whatever of the group is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)


def _wait_for_nodes(address: str, count: int, env: dict, procs: list, timeout: float = 90.0) -> str:
    """'' once the cluster at ``address`` has ``count`` live nodes, else why not (a node's exit, or time)."""
    probe = ("import json, ray; ray.init(address=%r, logging_level='ERROR', log_to_driver=False); "
             "print(json.dumps(sum(1 for n in ray.nodes() if n['Alive'])))" % address)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                return f"`ray start` exited {proc.returncode}: {' '.join(proc.stderr.read().split())[-300:]}"
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
        if out.returncode == 0 and out.stdout.strip() and json.loads(out.stdout.strip().splitlines()[-1]) >= count:
            return ""
        time.sleep(1.0)
    return f"the cluster did not reach {count} nodes in {timeout:.0f} s"


@needs_ray
def test_a_two_node_cluster_writes_the_local_engines_bytes(pool, local_run, tmp_path):
    """`ray start --head` plus a second node joining it by address, both on this machine with one CPU
    each; the driver (a separate process: this one may hold the module's local Ray) runs two actors,
    one per node, and must write the local engine's bytes."""
    port = _free_port()
    address = f"127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "bench")]),
           "RAY_BACKEND_LOG_LEVEL": "fatal",
           # token authentication (Ray ≥ 2.52; the default from 2.61): nodes and driver share the token
           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    temp = Path("/tmp") / f"ray-two-node-{os.getpid()}"  # Ray's socket paths must stay short
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--num-gpus", "0", "--disable-usage-stats"]
    nodes = [_ray_node(["--head", "--port", str(port), "--include-dashboard", "false", "--temp-dir", str(temp),
                        *common], env)]
    try:
        why = _wait_for_nodes(address, 1, env, nodes)
        if not why:
            nodes.append(_ray_node(["--address", address, *common], env))
            why = _wait_for_nodes(address, 2, env, nodes)
        if why:
            pytest.skip(f"Ray cannot start two nodes here: {why}")
        out = tmp_path / "two-nodes"
        driver = TWO_NODE_DRIVER.format(repo=str(REPO), bench=str(REPO / "bench"), ru=str(pool.ru_dir),
                                        az=str(pool.az_dir), out=str(out), address=address)
        done = subprocess.run([sys.executable, "-c", driver], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result == {"ray_nodes": 2, "pairs": local_run[1]["pairs"]}
        assert differing_outputs(local_run[0], out) == []
    finally:
        for node in reversed(nodes):
            _stop_ray_node(node)
        shutil.rmtree(temp, ignore_errors=True)
