"""The kiosk's device profile: a small, human-readable TinyDB file.

It holds the lane's identity, which hardware backend to use, the GPIO pin map, each
scale's settings and calibration, and the printer and camera settings. Every write is
atomic (:class:`AtomicJSONStorage`: temporary file in the same folder, fsync, rename, fsync
of the folder), so a crash or power cut mid-write leaves the previous profile intact.

The printer section holds :class:`kiosk.devices.printer.settings.PrinterSettings` (the printer
package's own class; the receipt spool's path is not stored here, it lives in the kiosk's data
folder). Files written by earlier versions (``device_path``, ``columns``) are read and
converted.

Everything read back is validated; a bad value raises
:class:`~kiosk.errors.DeviceConfigError` naming the entry. A new profile starts from
defaults that run on a laptop (simulated hardware, a dummy printer).

Layout (one TinyDB table per section; ``scales`` has one document per scale)::

    {"lane": {"1": {"store_id": "dev-store", "kiosk_id": "kiosk-01", ...}},
     "pins": {"1": {"produce_scale_data": 5, ...}},
     "scales": {"1": {"name": "produce", "capacity_g": 15000, ...}, "2": {...}},
     ...}
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from tinydb import Query, TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

from kiosk.devices.printer.errors import PrinterConfigError
from kiosk.devices.printer.settings import PrinterSettings
from kiosk.devices.scale.calibration import ScaleCalibration
from kiosk.errors import DeviceConfigError

__all__ = [
    "AtomicJSONStorage",
    "BACKENDS",
    "CameraSettings",
    "DEVICES",
    "DRAWER_KICKS",
    "DeviceProfile",
    "HardwareSettings",
    "LaneIdentity",
    "PinMap",
    "PrinterSettings",
    "ProfileCorruptError",
    "ScaleSettings",
]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ProfileCorruptError(DeviceConfigError):
    """The profile file is not valid JSON (or not a TinyDB document)."""


# -- atomic storage ------------------------------------------------------------------------


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some filesystems / platforms cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class AtomicJSONStorage(Storage):
    """TinyDB storage that never leaves a half-written file.

    ``write`` serialises to a temporary file in the same folder, flushes and fsyncs it,
    ``os.replace``s it over the profile and fsyncs the folder, so the rename itself is
    durable. Reads open the file afresh each time.
    """

    def __init__(self, path: str | os.PathLike[str], *, indent: int = 2, create_dirs: bool = True) -> None:
        super().__init__()
        self.path = Path(path)
        self.indent = indent
        if create_dirs:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProfileCorruptError(f"device profile {self.path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ProfileCorruptError(f"device profile {self.path} is not a JSON object")
        return data

    def _serialise(self, data: dict[str, dict[str, Any]]) -> bytes:
        return (json.dumps(data, indent=self.indent, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")

    def _write_payload(self, fh: Any, payload: bytes) -> None:
        """Write ``payload`` to the open temporary file (a seam for crash tests)."""
        fh.write(payload)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        payload = self._serialise(data)
        folder = self.path.parent
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                self._write_payload(fh, payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
            raise
        _fsync_dir(folder)

    def close(self) -> None:
        pass


# -- typed sections ------------------------------------------------------------------------


def _need_int(section: str, key: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DeviceConfigError(f"{section}.{key} must be an integer, not {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise DeviceConfigError(f"{section}.{key} = {value} is outside {lo}..{hi}")
    return value


def _need_str(section: str, key: str, value: Any, *, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DeviceConfigError(f"{section}.{key} must be a non-empty string, not {value!r}")
    if pattern is not None and not pattern.match(value):
        raise DeviceConfigError(f"{section}.{key} = {value!r} has characters that are not allowed")
    return value


def _need_choice(section: str, key: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise DeviceConfigError(f"{section}.{key} must be one of {', '.join(choices)}, not {value!r}")
    return str(value)


@dataclass(frozen=True, slots=True)
class LaneIdentity:
    store_id: str = "dev-store"
    kiosk_id: str = "kiosk-dev-01"
    lane_number: int = 1
    display_name: str = "Lane 1"

    def __post_init__(self) -> None:
        _need_str("lane", "store_id", self.store_id, pattern=_ID_RE)
        _need_str("lane", "kiosk_id", self.kiosk_id, pattern=_ID_RE)
        _need_int("lane", "lane_number", self.lane_number, 1, 999)
        _need_str("lane", "display_name", self.display_name)


#: The kiosk's devices, by the names the hardware section and the composition root use.
DEVICES = ("scanner", "produce_scale", "bag_scale", "drawer", "light", "printer")
#: ``real`` runs a device's adapter on the Pi's hardware; ``gpio`` is its older name.
BACKENDS = ("simulated", "real", "gpio")
#: How a real cash drawer is opened: a relay on ``pins.drawer_relay``, or the printer's kick port.
DRAWER_KICKS = ("gpio", "printer")


@dataclass(frozen=True, slots=True)
class HardwareSettings:
    """Which backend each device runs on.

    ``backend`` is every device's default: ``simulated`` runs the device's simulator (a
    laptop), ``real`` (or its older name ``gpio``) its adapter on the Pi's hardware. A
    device's own entry (``scanner``, ``produce_scale``, ``bag_scale``, ``drawer``, ``light``,
    ``printer``) overrides the default for that device; ``None`` follows it. ``drawer_kick``
    says how a real drawer is opened: ``gpio`` (a relay) or ``printer`` (the printer's
    drawer-kick port, pin ``printer.drawer_kick_pin``).
    """

    backend: str = "simulated"
    scanner: str | None = None
    produce_scale: str | None = None
    bag_scale: str | None = None
    drawer: str | None = None
    light: str | None = None
    printer: str | None = None
    drawer_kick: str = "gpio"

    def __post_init__(self) -> None:
        _need_choice("hardware", "backend", self.backend, BACKENDS)
        for device in DEVICES:
            value = getattr(self, device)
            if value is not None:
                _need_choice("hardware", device, value, BACKENDS)
        _need_choice("hardware", "drawer_kick", self.drawer_kick, DRAWER_KICKS)

    def backend_of(self, device: str) -> str:
        """``"simulated"`` or ``"real"`` for ``device`` (one of :data:`DEVICES`)."""
        if device not in DEVICES:
            raise DeviceConfigError(f"no device named {device!r}; the kiosk has {', '.join(DEVICES)}")
        value = getattr(self, device) or self.backend
        return "real" if value == "gpio" else value


@dataclass(frozen=True, slots=True)
class PinMap:
    """BCM GPIO numbers. ``None`` marks a device that is not fitted."""

    produce_scale_data: int | None = 5
    produce_scale_clock: int | None = 6
    bag_scale_data: int | None = 20
    bag_scale_clock: int | None = 21
    drawer_relay: int | None = 17
    drawer_switch: int | None = 27
    light_green: int | None = 22
    light_amber: int | None = 23
    light_red: int | None = 24
    buzzer: int | None = 25
    rgb_red: int | None = None
    rgb_green: int | None = None
    rgb_blue: int | None = None

    def __post_init__(self) -> None:
        seen: dict[int, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            _need_int("pins", f.name, value, 0, 27)
            if value in seen:
                raise DeviceConfigError(f"pins.{f.name} and pins.{seen[value]} both use GPIO{value}")
            seen[value] = f.name


@dataclass(frozen=True, slots=True)
class ScaleSettings:
    """One scale: where it is wired (from the pin map), its capacity, resolution and gain."""

    name: str
    data_pin: int | None
    clock_pin: int | None
    capacity_g: int
    resolution_g: int
    gain: int = 128

    def __post_init__(self) -> None:
        section = f"scales.{self.name}"
        _need_int(section, "capacity_g", self.capacity_g, 1, 1_000_000)
        _need_int(section, "resolution_g", self.resolution_g, 1, self.capacity_g)
        if self.gain not in (128, 64, 32):
            raise DeviceConfigError(f"{section}.gain must be 128, 64 or 32, not {self.gain!r}")


#: Keys of the printer section written before the profile stored the printer package's own
#: settings class; they are converted when read.
_LEGACY_PRINTER_KEYS = frozenset({"device_path", "columns"})


def _printer_doc(settings: PrinterSettings) -> dict[str, Any]:
    """The printer section as stored: every setting but the spool's path (data folder)."""
    doc = asdict(settings)
    del doc["spool_path"]
    return doc


def _printer_from_doc(data: Any) -> PrinterSettings:
    if not isinstance(data, dict):
        raise PrinterConfigError(f"profile section 'printer' must be a mapping, not {data!r}")
    values = dict(data)
    if "spool_path" in values:
        raise PrinterConfigError(
            "profile section 'printer' has spool_path: the receipt spool lives in the kiosk's data "
            "folder (TILLPI_KIOSK_SPOOL_PATH), not in the device profile"
        )
    if _LEGACY_PRINTER_KEYS & set(values):
        # the profile's former printer section: device_path, columns (16..80), host None
        device_path = values.pop("device_path", None)
        if device_path and not values.get("device"):
            values["device"] = device_path
        columns = values.pop("columns", None)
        if columns is not None and "width_chars" not in values:
            values["width_chars"] = 48 if isinstance(columns, int) and columns >= 40 else 32
        if values.get("host") is None:
            values["host"] = ""
    try:
        return PrinterSettings.from_dict(values)
    except PrinterConfigError as exc:
        raise PrinterConfigError(f"profile section 'printer': {exc}") from None
    except TypeError as exc:
        raise PrinterConfigError(f"profile section 'printer': {exc}") from None


@dataclass(frozen=True, slots=True)
class CameraSettings:
    """``source`` is a V4L2 device (``/dev/video0``), a camera index (``"0"``), a video file
    or a folder of images."""

    source: str = "0"
    width: int = 1280
    height: int = 720
    fps: int = 15
    decoder: str = "pyzbar"

    def __post_init__(self) -> None:
        _need_str("camera", "source", self.source)
        _need_int("camera", "width", self.width, 160, 7680)
        _need_int("camera", "height", self.height, 120, 4320)
        _need_int("camera", "fps", self.fps, 1, 120)
        _need_str("camera", "decoder", self.decoder)


#: Scales a kiosk has, with their laptop defaults (settings, calibration).
DEFAULT_SCALES: dict[str, tuple[int, int, int, ScaleCalibration]] = {
    # name: (capacity_g, resolution_g, gain, calibration)
    "produce": (15000, 5, 128, ScaleCalibration(8000, 420.0)),
    "bag": (30000, 10, 128, ScaleCalibration(8000, 210.0)),
}


def _build(cls: type[_T], section: str, data: Any) -> _T:
    if not isinstance(data, dict):
        raise DeviceConfigError(f"profile section {section!r} must be a mapping, not {data!r}")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise DeviceConfigError(f"profile section {section!r} has unknown keys: {', '.join(unknown)}")
    try:
        return cls(**data)
    except TypeError as exc:
        raise DeviceConfigError(f"profile section {section!r}: {exc}") from None


# -- the profile ---------------------------------------------------------------------------


class DeviceProfile:
    """Typed, validated access to the kiosk's device profile at ``path``.

    A missing file is created with laptop defaults. ``storage`` is the TinyDB storage
    class (tests pass a subclass of :class:`AtomicJSONStorage` that fails mid-write).
    """

    _SINGLE_DOC = 1

    def __init__(self, path: str | os.PathLike[str], *, storage: type[AtomicJSONStorage] = AtomicJSONStorage) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db = TinyDB(self.path, storage=storage)
        self._closed = False
        try:
            if not self._db.tables():
                self._write_fresh_defaults()
            else:
                self.validate()
        except BaseException:
            self._db.close()
            raise

    # generic section access --------------------------------------------------------------

    def _get_single(self, table: str) -> dict[str, Any] | None:
        with self._lock:
            doc = self._db.table(table).get(doc_id=self._SINGLE_DOC)
            return dict(doc) if doc is not None else None

    def _put_single(self, table: str, data: dict[str, Any]) -> None:
        with self._lock:
            tbl = self._db.table(table)
            tbl.upsert(Document(data, doc_id=self._SINGLE_DOC))

    def _section(self, cls: type[_T], table: str) -> _T:
        data = self._get_single(table)
        return cls() if data is None else _build(cls, table, data)

    def _write_fresh_defaults(self) -> None:
        """A new file: every default section in one atomic write."""
        data: dict[str, dict[str, Any]] = {
            table: {str(self._SINGLE_DOC): asdict(cls())}
            for cls, table in (
                (LaneIdentity, "lane"),
                (HardwareSettings, "hardware"),
                (PinMap, "pins"),
                (CameraSettings, "camera"),
            )
        }
        data["printer"] = {str(self._SINGLE_DOC): _printer_doc(PrinterSettings())}
        data["scales"] = {
            str(i): {"name": name, "capacity_g": cap, "resolution_g": res, "gain": gain, **cal.to_dict()}
            for i, (name, (cap, res, gain, cal)) in enumerate(DEFAULT_SCALES.items(), start=1)
        }
        with self._lock:
            self._db.storage.write(data)

    def write_defaults(self) -> None:
        """Write a complete profile of laptop defaults (keeps sections already present)."""
        with self._lock:
            for cls, table in (
                (LaneIdentity, "lane"),
                (HardwareSettings, "hardware"),
                (PinMap, "pins"),
                (CameraSettings, "camera"),
            ):
                if self._get_single(table) is None:
                    self._put_single(table, asdict(cls()))
            if self._get_single("printer") is None:
                self._put_single("printer", _printer_doc(PrinterSettings()))
            for name in DEFAULT_SCALES:
                if self._scale_doc(name) is None:
                    capacity, resolution, gain, cal = DEFAULT_SCALES[name]
                    self._db.table("scales").insert(
                        {"name": name, "capacity_g": capacity, "resolution_g": resolution, "gain": gain, **cal.to_dict()}
                    )

    def validate(self) -> None:
        """Read every section; raise DeviceConfigError on the first bad entry."""
        self.lane()
        self.hardware()
        self.pins()
        self.printer_settings()
        self.camera_settings()
        for name in self.scale_names():
            self.scale_settings(name)
            self.scale_calibration(name)

    # typed accessors ---------------------------------------------------------------------

    def lane(self) -> LaneIdentity:
        return self._section(LaneIdentity, "lane")

    def set_lane(self, lane: LaneIdentity) -> None:
        self._put_single("lane", asdict(lane))

    def hardware(self) -> HardwareSettings:
        return self._section(HardwareSettings, "hardware")

    def set_hardware(self, hardware: HardwareSettings) -> None:
        self._put_single("hardware", asdict(hardware))

    def pins(self) -> PinMap:
        return self._section(PinMap, "pins")

    def set_pins(self, pins: PinMap) -> None:
        self._put_single("pins", asdict(pins))

    def printer_settings(self) -> PrinterSettings:
        """The printer's settings (:class:`kiosk.devices.printer.settings.PrinterSettings`),
        with the default ``spool_path`` (the composition root points it at the data folder)."""
        data = self._get_single("printer")
        return PrinterSettings() if data is None else _printer_from_doc(data)

    def set_printer_settings(self, settings: PrinterSettings) -> None:
        """Store the printer's settings; ``spool_path`` is not stored (it is the data folder's)."""
        if not isinstance(settings, PrinterSettings):
            raise PrinterConfigError(f"expected kiosk.devices.printer.PrinterSettings, not {type(settings).__name__}")
        self._put_single("printer", _printer_doc(settings))

    def camera_settings(self) -> CameraSettings:
        return self._section(CameraSettings, "camera")

    def set_camera_settings(self, settings: CameraSettings) -> None:
        self._put_single("camera", asdict(settings))

    # scales ------------------------------------------------------------------------------

    def _scale_doc(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._db.table("scales").search(Query().name == name)
            if len(found) > 1:
                raise DeviceConfigError(f"the profile lists scale {name!r} twice")
            return dict(found[0]) if found else None

    def scale_names(self) -> list[str]:
        with self._lock:
            names = [doc.get("name") for doc in self._db.table("scales").all()]
        for n in names:
            _need_str("scales", "name", n, pattern=_ID_RE)
        return sorted(names)  # type: ignore[arg-type]

    def _require_scale(self, name: str) -> dict[str, Any]:
        doc = self._scale_doc(name)
        if doc is None:
            raise DeviceConfigError(f"the profile has no scale named {name!r}")
        return doc

    def scale_settings(self, name: str) -> ScaleSettings:
        """A scale's settings; its pins come from the pin map (``<name>_scale_data`` /
        ``<name>_scale_clock``)."""
        doc = self._require_scale(name)
        pins = self.pins()
        data = {k: doc[k] for k in ("capacity_g", "resolution_g", "gain") if k in doc}
        missing = {"capacity_g", "resolution_g"} - set(data)
        if missing:
            raise DeviceConfigError(f"scales.{name} lacks {', '.join(sorted(missing))}")
        return ScaleSettings(
            name=name,
            data_pin=getattr(pins, f"{name}_scale_data", None),
            clock_pin=getattr(pins, f"{name}_scale_clock", None),
            **data,
        )

    def set_scale_settings(self, settings: ScaleSettings) -> None:
        """Store capacity, resolution and gain (pins live in the pin map)."""
        _need_str("scales", "name", settings.name, pattern=_ID_RE)
        values = {"capacity_g": settings.capacity_g, "resolution_g": settings.resolution_g, "gain": settings.gain}
        with self._lock:
            if self._scale_doc(settings.name) is None:
                cal = ScaleCalibration()
                self._db.table("scales").insert({"name": settings.name, **values, **cal.to_dict()})
            else:
                self._db.table("scales").update(values, Query().name == settings.name)

    def scale_calibration(self, name: str) -> ScaleCalibration:
        doc = self._require_scale(name)
        try:
            return ScaleCalibration.from_dict(doc)
        except DeviceConfigError as exc:
            raise DeviceConfigError(f"scales.{name}: {exc}") from None

    def set_scale_calibration(self, name: str, calibration: ScaleCalibration) -> None:
        """Store a scale's calibration (the scale must already be in the profile)."""
        with self._lock:
            self._require_scale(name)
            self._db.table("scales").update(calibration.to_dict(), Query().name == name)
        log.info("saved calibration of scale %s", name)

    # lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._db.close()

    def __enter__(self) -> DeviceProfile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<DeviceProfile {self.path}>"

