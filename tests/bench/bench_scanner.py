"""Benchmark the kiosk's barcode decoding on a labelled folder of images.

    python tests/bench/bench_scanner.py --data /work/shared/data/barcodes-dev

The folder holds one sub-folder per set (``ean13-2``, ``upca-2``, ... ``falsepositives-2``),
each with ``NAME.png|jpg`` and ``NAME.txt`` (expected text). Comparison rules: EAN-13, UPC-A,
UPC-E as GTIN-13 (UPC-E expanded); DataBar and Code 128 without parentheses and GS, a bare
GTIN-14 taking "01"; QR exactly (line ends normalised). A read that matches another label of
the same set (a book cover's second EAN-13 price code) is a legitimate extra, not wrong.

Reports read rate (overall, EAN/UPC), wrong codes and ms per image for our pipeline, raw
pyzbar and raw zxing-cpp; then ms per live frame (640x480, 1280x720; with and without a
code) for our live decoding and raw zxing-cpp restricted to retail formats. Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from kiosk.devices.scanner.decoding import DecodePipeline, ZbarDecoder, ZxingDecoder  # noqa: E402
from kiosk.devices.scanner.gtin import expand_upce  # noqa: E402
from kiosk.devices.scanner.render import place_in_frame, render_barcode  # noqa: E402

EANUPC = ("ean13", "ean8", "upca", "upce")
SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")


def family(set_name: str) -> str:
    return set_name.split("-")[0]


def normalise(set_name: str, text: str) -> str:
    fam = family(set_name)
    if fam in EANUPC:
        t = text.strip()
        if fam == "upce" and len(t) == 8 and t.isdigit():
            t = expand_upce(t)
        if fam == "ean8" or len(t) == 8:
            return t
        return t.zfill(13)
    if fam in ("rss14", "rssexpanded", "code128"):
        t = text.replace("(", "").replace(")", "").replace("\x1d", "")
        if len(t) == 14 and t.isdigit():
            t = "01" + t
        return t
    return text.replace("\r\n", "\n").rstrip("\n")


def load(folder: Path) -> list[tuple[str, Path, str | None]]:
    items = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        for img in sorted(sub.iterdir()):
            if img.suffix.lower() not in SUFFIXES:
                continue
            label = img.with_suffix(".txt")
            expected = label.read_text(encoding="utf-8") if label.exists() else None
            items.append((sub.name, img, expected))
    return items


def measure(name: str, decode: Callable[[np.ndarray], list[str]], items, labels) -> dict:
    per_set: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # images, read, wrong
    times = []
    wrong_list = []
    for set_name, path, expected in items:
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        start = time.perf_counter()
        texts = decode(gray)
        times.append((time.perf_counter() - start) * 1000)
        got = [normalise(set_name, t) for t in texts]
        exp = None if expected is None else normalise(set_name, expected)
        row = per_set[set_name]
        row[0] += 1
        if exp is not None and exp in got:
            row[1] += 1
        for t, g in zip(texts, got):
            if g != exp and g not in labels[set_name]:
                row[2] += 1
                wrong_list.append(f"{set_name}/{path.name}: {t!r} (expected {expected!r})")
    labelled = [r for s, r in per_set.items() if not s.startswith("falsepositives")]
    eu = [r for s, r in per_set.items() if family(s) in EANUPC]
    return {
        "name": name,
        "per_set": dict(per_set),
        "read_pct": 100 * sum(r[1] for r in labelled) / max(sum(r[0] for r in labelled), 1),
        "eanupc_read_pct": 100 * sum(r[1] for r in eu) / max(sum(r[0] for r in eu), 1),
        "eanupc_wrong": sum(r[2] for r in eu),
        "wrong": sum(r[2] for r in per_set.values()),
        "wrong_list": wrong_list,
        "ms": statistics.fmean(times) if times else 0.0,
    }


def paired_frame_ms(ours: Callable[[np.ndarray], object], theirs: Callable[[np.ndarray], object], frame: np.ndarray, blocks: int) -> tuple[float, float]:
    """ms per frame for both, timed in alternating blocks of 4 calls (one full cycle of the
    live pipeline's every-4th-frame enhanced pass); the best block of each, as timeit does,
    so that other processes on the machine disturb both sides alike."""
    ours(frame)
    theirs(frame)
    best = [float("inf"), float("inf")]
    for _ in range(blocks):
        for i, fn in enumerate((ours, theirs)):
            start = time.perf_counter()
            for _ in range(4):
                fn(frame)
            best[i] = min(best[i], (time.perf_counter() - start) * 1000 / 4)
    return best[0], best[1]


def live_frames(size: tuple[int, int]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    w, h = size
    # a cluttered scene: blocks, lines and text, like a counter with things on it
    scene = np.full((h, w), 170, np.uint8)
    for _ in range(40):
        x, y = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
        cv2.rectangle(scene, (x, y), (x + int(rng.integers(10, 120)), y + int(rng.integers(10, 90))), int(rng.integers(0, 255)), -1)
    for i in range(12):
        cv2.putText(scene, "FRESH MILK 1L  2.49", (int(rng.integers(0, w // 2)), 30 + i * (h // 13)), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 40, 2)
    scene = cv2.GaussianBlur(scene, (3, 3), 0)
    empty = cv2.cvtColor(scene, cv2.COLOR_GRAY2BGR)
    code = render_barcode("4006381333931", "EAN13", module_px=2 if w <= 640 else 3)
    with_code = empty.copy()
    ch, cw = code.shape
    y, x = (h - ch) // 2, (w - cw) // 2
    with_code[y : y + ch, x : x + cw] = cv2.cvtColor(code, cv2.COLOR_GRAY2BGR)
    return {"empty": empty, "code": with_code}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path)
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no data folder at {args.data}", file=sys.stderr)
        return 2
    items = load(args.data)
    labels: dict[str, set[str]] = defaultdict(set)
    for set_name, _, expected in items:
        if expected is not None:
            labels[set_name].add(normalise(set_name, expected))

    pipeline = DecodePipeline()
    zbar, zxing = ZbarDecoder(), ZxingDecoder()
    results = [
        measure("ours", lambda g: [d.text for d in pipeline.decode_image(g)], items, labels),
        measure("raw pyzbar", lambda g: [r.text for r in zbar.decode(g)], items, labels),
        measure("raw zxing-cpp", lambda g: [r.text for r in zxing.decode(g)], items, labels),
    ]
    sets = sorted({s for s, _, _ in items})
    print(f"barcode decoding on {args.data} ({len(items)} images)\n")
    print(f"{'set':<18}" + "".join(f"{r['name']:>16}" for r in results))
    for s in sets:
        cells = []
        for r in results:
            n, ok, bad = r["per_set"].get(s, [0, 0, 0])
            cells.append(f"{ok:>4}/{n:<3} w{bad:<3}" if not s.startswith("falsepositives") else f"{'fp':>4} {bad:<3}    ")
        print(f"{s:<18}" + "".join(f"{c:>16}" for c in cells))
    print()
    for key, fmt in (("read_pct", "{:.1f} %"), ("eanupc_read_pct", "{:.1f} %"), ("eanupc_wrong", "{}"), ("wrong", "{}"), ("ms", "{:.2f}")):
        print(f"{key:<18}" + "".join(f"{fmt.format(r[key]):>16}" for r in results))
    for r in results:
        for w in r["wrong_list"]:
            print(f"  wrong ({r['name']}): {w}")

    print("\nlive frames, ms per frame (best block of 4 frames, ours and zxing timed alternately)")
    live = DecodePipeline()
    live_zx = ZxingDecoder()
    figures: dict[str, float] = {}
    print(f"{'frame':<22}{'ours':>10}{'zxing':>10}{'ratio':>8}")
    for size in ((640, 480), (1280, 720)):
        frames = live_frames(size)
        for kind, frame in frames.items():
            blocks = 40 if size[0] == 640 else 20
            ours, zx = paired_frame_ms(live.decode_frame, lambda f: live_zx.decode(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)), frame, blocks)
            figures[f"{size[0]}_{kind}"] = ours
            figures[f"zx_{size[0]}_{kind}"] = zx
            print(f"{size[0]}x{size[1]} {kind:<12}{ours:>10.2f}{zx:>10.2f}{ours / zx:>8.2f}")
        got = [d.text for d in live.decode_frame(frames["code"])]
        print(f"   ({size[0]}x{size[1]} frame with code read by ours: {got})")
    frame_640 = (figures["640_empty"] + figures["640_code"]) / 2
    zx_640 = (figures["zx_640_empty"] + figures["zx_640_code"]) / 2
    print(f"\n640x480 mean of empty and code frames: ours {frame_640:.2f} ms, zxing {zx_640:.2f} ms, ratio {frame_640 / zx_640:.2f}")
    ours = results[0]
    print(
        json.dumps(
            {
                "eanupc_read_pct": round(ours["eanupc_read_pct"], 1),
                "wrong": ours["wrong"],
                "frame_ms_640": round(frame_640, 2),
                "zxing_frame_ms_640": round(zx_640, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
