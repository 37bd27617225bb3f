"""The kiosk's barcode scanner: the ``BarcodeScanner`` port, the camera adapter, simulators,
the decoding pipeline and the frame-agreement rule.

* :class:`CameraBarcodeScanner` over a :class:`FrameSource` (:class:`OpenCvFrameSource` for a
  V4L2 camera or video file; :class:`ImageFolderFrameSource` and :class:`GeneratedFrameSource`
  as camera simulators that yield real images).
* :class:`SimulatedBarcodeScanner`: the simulator with a person's verbs.
* :class:`DecodePipeline`: ``decode_image`` (single image) and ``decode_frame`` (live).
* :class:`FrameAgreement`: pure; when reads across frames become a scan.
"""

from kiosk.devices.scanner.agreement import FrameAgreement
from kiosk.devices.scanner.camera import CameraBarcodeScanner
from kiosk.devices.scanner.decoding import DecodePipeline, Decoded, default_validator
from kiosk.devices.scanner.errors import FrameSourceUnavailableError, ScannerConfigError, ScannerError
from kiosk.devices.scanner.frames import FrameSource, GeneratedFrameSource, ImageFolderFrameSource, OpenCvFrameSource
from kiosk.devices.scanner.model import Scan
from kiosk.devices.scanner.port import BarcodeScanner, ScanCallback
from kiosk.devices.scanner.render import place_in_frame, render_barcode
from kiosk.devices.scanner.simulated import SimulatedBarcodeScanner

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
