"""The corpus filters on true translations: how often each drops a good pair, how often it catches a bad one,
and which language detector the ``language`` filter should use.

    .venv/bin/python bench/corpus_filters.py            # tune-side data only: FLORES dev, NTREX 1–62

Language identification: FLORES-200 dev ru / az (and en) sentences, plus Turkish sentences written for
this bench (no Turkish is in ../shared), through lingua-language-detector and align.lang.detect_language;
accuracy per language and sentences per second. Filters: the false-drop rate on the true pairs of FLORES
dev and NTREX dev, and the catch rate on shifted (wrong) pairs.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pages import flores_sentences, ntrex_documents, FLORES_DIR, _read_lines  # noqa: E402

from align.filters import (  # noqa: E402
    LinguaDetector, content_filter, language_filter, length_ratio_filter, numbers_filter, rule_detector, script_filter,
)
from align.types import Pair  # noqa: E402

# Written for this bench (Turkish news-style sentences; Azerbaijani look-alikes are the hard case).
TURKISH = [
    "Dışişleri Bakanı bugün Ankara'da mevkidaşıyla bir araya geldi.",
    "Toplantıda iki ülke arasındaki ticari ilişkiler ele alındı.",
    "Bakan, işbirliğinin önümüzdeki yıllarda da süreceğini söyledi.",
    "Hava yarından itibaren soğuyacak ve kar yağışı bekleniyor.",
    "Belediye, şehir merkezindeki yol çalışmalarının hafta sonu biteceğini açıkladı.",
    "Milli takım, hazırlık maçında rakibini iki golle yendi.",
    "Cumhurbaşkanı, yeni eğitim reformunun ayrıntılarını paylaştı.",
    "Merkez Bankası faiz oranını değiştirmeme kararı aldı.",
    "Yangın, itfaiye ekiplerinin müdahalesiyle kısa sürede söndürüldü.",
    "Uzmanlar, enflasyonun yıl sonuna kadar düşmesini bekliyor.",
    "Öğrenciler sınav sonuçlarını internet üzerinden öğrenebilecek.",
    "Şirket, yeni fabrikasında beş yüz kişiye iş imkânı sağlayacak.",
    "Toplantıya katılan heyetler ortak bir bildiri yayımladı.",
    "Yetkililer, kazada yaralananların hastaneye kaldırıldığını bildirdi.",
    "Sergi, önümüzdeki ay boyunca ziyaretçilere açık olacak.",
    "Hükümet, enerji fiyatlarına ilişkin yeni bir paket hazırlıyor.",
    "Bilim insanları, gölde daha önce görülmemiş bir balık türü keşfetti.",
    "Vatandaşlar, seçimlerde oy kullanmak için sabahın erken saatlerinde sandık başına gitti.",
    "Festival, bu yıl da binlerce kişiyi bir araya getirdi.",
    "Kulüp başkanı, teknik direktörle yollarını ayırdıklarını duyurdu.",
    "Araştırmaya göre gençlerin çoğu haberleri sosyal medyadan takip ediyor.",
    "Havalimanında yoğun sis nedeniyle bazı seferler iptal edildi.",
    "Bakanlık, salgına karşı yeni önlemler alınacağını açıkladı.",
    "İki lider, bölgesel güvenlik konularını da görüştü.",
    "Yeni köprü, iki yaka arasındaki ulaşımı önemli ölçüde kolaylaştıracak.",
    "Tarihi binanın restorasyonu iki yıl sürdü.",
    "Çiftçiler, kuraklık nedeniyle bu yıl hasadın az olacağından endişe ediyor.",
    "Konser biletleri satışa çıktıktan birkaç saat sonra tükendi.",
    "Polis, olayla ilgili soruşturma başlattığını bildirdi.",
    "Müze, hafta sonları ücretsiz olarak ziyaret edilebilecek.",
]


def langid_table() -> None:
    ru, az = flores_sentences("dev")
    en = _read_lines(FLORES_DIR / "eng_Latn.dev")
    sets = {"ru": ru, "az": az, "en": en[:300], "tr": TURKISH}
    started = time.perf_counter()
    lingua = LinguaDetector()
    build = time.perf_counter() - started
    detectors = {"lingua": lingua, "rules (align.lang)": rule_detector()}
    print(f"language identification (FLORES-200 dev ru/az/en, {len(TURKISH)} hand-written tr); "
          f"lingua detector built in {build:.1f} s (models load lazily)")
    print(f"{'detector':20s} " + " ".join(f"{k:>12s}" for k in sets) + f" {'sent/s':>9s}")
    for name, detect in detectors.items():
        detect(ru[0])  # warm-up: lingua loads its models on first use
        cells, total_n, total_t = [], 0, 0.0
        for lang, texts in sets.items():
            t0 = time.perf_counter()
            hits = sum(detect(t) == lang for t in texts)
            total_t += time.perf_counter() - t0
            total_n += len(texts)
            cells.append(f"{hits}/{len(texts)} {100 * hits / len(texts):5.1f}%")
        print(f"{name:20s} " + " ".join(f"{c:>12s}" for c in cells) + f" {total_n / total_t:9.0f}")
    print("short texts (the first N words of each sentence), accuracy:")
    for n in (3, 5):
        short = {lang: [" ".join(t.split()[:n]) for t in texts] for lang, texts in sets.items()}
        for name, detect in detectors.items():
            cells = [f"{100 * sum(detect(t) == lang for t in texts) / len(texts):5.1f}%" for lang, texts in short.items()]
            print(f"  {n} words {name:20s} " + " ".join(f"{c:>12s}" for c in cells))
    # what the language filter needs: a false drop is a true ru/az pair flagged as another language
    for name, detect in detectors.items():
        for label, pairs in (("full", list(zip(ru, az))),
                             ("first 5 words", [(" ".join(r.split()[:5]), " ".join(a.split()[:5]))
                                                for r, a in zip(ru, az)])):
            drops = sum(not language_filter(Pair("d", "sentence", (0,), (0,), r, a, 1.0), detect)[0]
                        for r, a in pairs)
            print(f"  language filter with {name:18s}: drops {drops:3d}/{len(pairs)} true FLORES dev pairs ({label})")


def filter_table() -> None:
    ru, az = flores_sentences("dev")
    ntrex = ntrex_documents(range(1, 63))
    sets = {"FLORES dev": list(zip(ru, az)),
            "NTREX dev": [(r, a) for d in ntrex for r, a in zip(d.ru_body, d.az_body)]}
    filters = {"content": content_filter, "length-ratio": length_ratio_filter, "numbers": numbers_filter,
               "script": script_filter}
    print("\nfilters: false drops on true pairs / caught among shifted (wrong) pairs")
    for set_name, pairs in sets.items():
        for name, check in filters.items():
            false = sum(not check(Pair("d", "sentence", (0,), (0,), r, a, 1.0))[0] for r, a in pairs)
            shifted = [(r, pairs[(i + 7) % len(pairs)][1]) for i, (r, _) in enumerate(pairs)]
            caught = sum(not check(Pair("d", "sentence", (0,), (0,), r, a, 1.0))[0] for r, a in shifted)
            print(f"  {set_name:11s} {name:13s} false drops {false:4d}/{len(pairs)} ({100 * false / len(pairs):4.1f}%)"
                  f"   caught {caught:4d}/{len(pairs)} ({100 * caught / len(pairs):4.1f}%)")


if __name__ == "__main__":
    langid_table()
    filter_table()
