#!/usr/bin/env bash
# Embedding throughput on a CUDA machine (issue 7): bench/encode_throughput.py at --device cuda (raw
# fp16 SentenceTransformer.encode against the local engine, and Embedder's batched vectors against
# one text at a time, bit for bit), then the CPU baseline on the same machine. About 6 minutes.
#
# Two steps, because the device machine reaches no network and takes at most 64 MiB along (our
# .venv is 2.6 GB of Python 3.11 with a CPU-only torch; the model's weights are 236 MB):
#
#   1. here, on the development machine:     bash bench/gpu_check.sh prepare
#      writes build/gpu-kit/ (ignored by git, ~20 MB): razdel (the one package the pipeline needs
#      that the device's python3 lacks), the default model's small files (tokenizer, configs) and
#      the header of its weights file, and the NTREX/FLORES files bench/pages.py renders pages from.
#   2. with the device tool:  run(command="bash bench/gpu_check.sh run", carry=["build/gpu-kit"],
#                                  timeout_s=540)
#      uses the device's python3 (it holds torch with CUDA and sentence-transformers), writes the
#      model there with the real file layout and random weights — throughput does not depend on
#      the weights' values; the pairing and the alignment of the pages are then meaningless, the
#      count of texts embedded about the same — and leaves everything in $OUT/gpu_check.log.
#
# Ray is not in the device's image and its wheel alone is over the 64 MiB, so this times the local
# engine only (the bench skips the Ray engine when `ray` cannot be imported).
set -euo pipefail
cd "$(dirname "$0")/.."
KIT=build/gpu-kit
MODEL=models/multilingual-e5-small

prepare() {
    local python=${PYTHON:-.venv/bin/python} shared=../shared/data
    [ -f "$MODEL/align-model.json" ] || { echo "build the default model first: make install" >&2; exit 1; }
    [ -d "$shared/ntrex" ] && [ -d "$shared/flores200" ] || { echo "../shared/data (NTREX, FLORES) missing" >&2; exit 1; }
    rm -rf "$KIT" && mkdir -p "$KIT/site" "$KIT/model" "$KIT/shared/data"
    local razdel
    razdel=$("$python" -c 'import pathlib, razdel; print(pathlib.Path(razdel.__file__).parent)')
    cp -r "$razdel" "$KIT/site/"  # pure Python
    tar -C "$MODEL" --exclude=./model.safetensors -cf - . | tar -C "$KIT/model" -xf -
    "$python" - "$MODEL/model.safetensors" "$KIT/model/model.safetensors.header" <<'EOF'
import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(8)
    head += f.read(struct.unpack("<Q", head)[0])
open(sys.argv[2], "wb").write(head)
EOF
    cp -r "$shared/ntrex" "$shared/flores200" "$KIT/shared/data/"
    find "$KIT/site" -name __pycache__ -prune -exec rm -rf {} +
    du -sh "$KIT"
}

# The model directory: the kit's files plus model.safetensors with the original header (names,
# dtypes, shapes, offsets) and random values, so the file has its listed size and loads as the real one.
make_model() {
    [ -f "$MODEL/model.safetensors" ] && return 0
    mkdir -p "$MODEL"
    cp -r "$KIT/model/." "$MODEL/"
    python3 - "$MODEL" <<'EOF'
import json, struct, sys
from pathlib import Path
import numpy as np
model = Path(sys.argv[1])
head = (model / "model.safetensors.header").read_bytes()
meta = json.loads(head[8:])
meta.pop("__metadata__", None)
rng = np.random.default_rng(0)
with open(model / "model.safetensors", "wb") as out:
    out.write(head)
    for name, info in sorted(meta.items(), key=lambda item: item[1]["data_offsets"][0]):
        count = int(np.prod(info["shape"], dtype=np.int64))
        values = np.ones(count) if name.endswith("LayerNorm.weight") else rng.normal(0.0, 0.02, count)
        data = values.astype({"F16": np.float16, "F32": np.float32}[info["dtype"]]).tobytes()
        assert len(data) == info["data_offsets"][1] - info["data_offsets"][0], name
        out.write(data)
(model / "model.safetensors.header").unlink()
EOF
}

run() {
    # DOCS=N, CPU_WORKERS=N: fewer stories, fewer CPU workers, for a quick try elsewhere
    local out=${OUT:-out/gpu-check} docs=${DOCS:-62} cpu_workers=${CPU_WORKERS:-8}
    mkdir -p "$out"
    [ -d "$KIT" ] || { echo "no $KIT: run 'bash bench/gpu_check.sh prepare' here, then carry build/gpu-kit" >&2; exit 1; }
    [ -d ../shared/data/ntrex ] || { mkdir -p ../shared && cp -r "$KIT/shared/data" ../shared/; }
    make_model
    export PYTHONPATH="$PWD/$KIT/site:$PWD" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
    {
        echo "== $(date -u +%FT%TZ) $(uname -m), $(nproc) cores"
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
        python3 -c 'import sys, torch, sentence_transformers as st, transformers as tf, numpy as np; print(f"python {sys.version.split()[0]}, torch {torch.__version__} (CUDA {torch.cuda.is_available()}), sentence-transformers {st.__version__}, transformers {tf.__version__}, numpy {np.__version__}")' || true
        echo "== GPU: $docs NTREX dev stories, 2 local workers sharing the GPU, raw fp16 encode (batch 128)"
        timeout 300 python3 bench/encode_throughput.py --device cuda --docs "$docs" --workers 2 --rounds 2 --single 96 --no-ray \
            --workdir /tmp/align-gpu || echo "GPU bench failed or timed out: exit $?"
        echo "== CPU baseline on the same machine: $cpu_workers workers, one thread each"
        timeout 150 python3 bench/encode_throughput.py --device cpu --docs "$docs" --workers "$cpu_workers" \
            --rounds 1 --single 0 --no-ray \
            --workdir /tmp/align-cpu || echo "CPU bench failed or timed out: exit $?"
    } 2>&1 | tee "$out/gpu_check.log"
}

case "${1:-}" in
    prepare) prepare ;;
    run) run ;;
    *) echo "usage: bash bench/gpu_check.sh prepare|run   (see the comment at the top)" >&2; exit 2 ;;
esac
