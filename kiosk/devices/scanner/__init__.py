"""The kiosk's barcode scanner: the ``BarcodeScanner`` port, the camera adapter, simulators,
the decoding pipeline and the frame-agreement rule.

* :class:`CameraBarcodeScanner` over a :class:`FrameSource` (:class:`OpenCvFrameSource` for a
  V4L2 camera or video file; :class:`ImageFolderFrameSource` and :class:`GeneratedFrameSource`
  as camera simulators that yield real images).
* :class:`SimulatedBarcodeScanner`: the simulator with a person's verbs.
* :class:`DecodePipeline`: ``decode_image`` (single image) and ``decode_frame`` (live).
* :class:`FrameAgreement`: pure; when reads across frames become a scan.

The camera adapter, the frame sources, the decoders and the barcode renderer need OpenCV and
NumPy (about 45 MB resident on a kiosk). Their names are imported from their modules on first
use, so a kiosk whose scanner is simulated never loads those libraries.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from kiosk.devices.scanner.agreement import FrameAgreement
from kiosk.devices.scanner.errors import FrameSourceUnavailableError, ScannerConfigError, ScannerError
from kiosk.devices.scanner.gtin import default_validator
from kiosk.devices.scanner.model import Scan
from kiosk.devices.scanner.port import BarcodeScanner, ScanCallback
from kiosk.devices.scanner.simulated import SimulatedBarcodeScanner

if TYPE_CHECKING:
    from kiosk.devices.scanner.camera import CameraBarcodeScanner
    from kiosk.devices.scanner.decoding import DecodePipeline, Decoded
    from kiosk.devices.scanner.frames import FrameSource, GeneratedFrameSource, ImageFolderFrameSource, OpenCvFrameSource
    from kiosk.devices.scanner.render import place_in_frame, render_barcode

__all__ = [
    "BarcodeScanner",
    "CameraBarcodeScanner",
    "DecodePipeline",
    "Decoded",
    "FrameAgreement",
    "FrameSource",
    "FrameSourceUnavailableError",
    "GeneratedFrameSource",
    "ImageFolderFrameSource",
    "OpenCvFrameSource",
    "Scan",
    "ScanCallback",
    "ScannerConfigError",
    "ScannerError",
    "SimulatedBarcodeScanner",
    "default_validator",
    "place_in_frame",
    "render_barcode",
]

_NEEDS_OPENCV = {
    "CameraBarcodeScanner": "camera",
    "DecodePipeline": "decoding",
    "Decoded": "decoding",
    "FrameSource": "frames",
    "GeneratedFrameSource": "frames",
    "ImageFolderFrameSource": "frames",
    "OpenCvFrameSource": "frames",
    "place_in_frame": "render",
    "render_barcode": "render",
}


def __getattr__(name: str) -> Any:
    """Import a name that needs OpenCV or NumPy from its module, on first use (PEP 562)."""
    module = _NEEDS_OPENCV.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
