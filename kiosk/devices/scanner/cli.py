"""``python -m kiosk.scanner decode IMAGE...``: one JSON line per image.

``{"path": ..., "codes": [{"text": ..., "symbology": ...}], "ms": ...}``; an image that is
missing or unreadable gives ``{"path": ..., "codes": [], "error": ...}``. Exit status 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import TextIO

import cv2

from kiosk.devices.scanner.decoding import DecodePipeline


def decode_paths(paths: Sequence[str], out: TextIO, pipeline: DecodePipeline | None = None) -> None:
    pipeline = pipeline or DecodePipeline()
    for path in paths:
        image = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if image is None:
            out.write(json.dumps({"path": path, "codes": [], "error": "missing or unreadable image"}) + "\n")
            out.flush()
            continue
        start = time.perf_counter()
        codes = pipeline.decode_image(image)
        ms = (time.perf_counter() - start) * 1000.0
        line = {"path": path, "codes": [{"text": c.text, "symbology": c.symbology} for c in codes], "ms": round(ms, 2)}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.scanner", description="tillpi barcode scanner tools")
    sub = parser.add_subparsers(dest="command", required=True)
    dec = sub.add_parser("decode", help="decode still images, one JSON line per image")
    dec.add_argument("images", nargs="+", metavar="IMAGE")
    args = parser.parse_args(argv)
    if args.command == "decode":
        decode_paths(args.images, sys.stdout)
    return 0
