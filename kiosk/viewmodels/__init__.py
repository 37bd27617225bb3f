"""Plain-Python view-models of the kiosk's screens; no Kivy here, tested without a window."""

from kiosk.viewmodels.errors import InvalidLineError, UnknownLanguageError, UnknownMessageError, ViewModelError
from kiosk.viewmodels.formatting import quantity_text, weight_text
from kiosk.viewmodels.i18n import I18n, Language
from kiosk.viewmodels.kiosk import KioskViewModel, ScreenName
from kiosk.viewmodels.observable import Observable, Subscription
from kiosk.viewmodels.scan import LineRow, LineView, ScanViewModel
from kiosk.viewmodels.welcome import WelcomeViewModel
from kiosk.viewmodels.attendant import AttendantViewModel
from kiosk.viewmodels.base import KeyEntry, ScreenViewModel
from kiosk.viewmodels.finish import PriceOverrideViewModel, ReceiptViewModel, SuspendedViewModel, ThankYouViewModel
from kiosk.viewmodels.lookup import LookupViewModel, Tile
from kiosk.viewmodels.member import CouponViewModel, MemberViewModel
from kiosk.viewmodels.payment import CashViewModel, PayViewModel, QrPayViewModel
from kiosk.viewmodels.weighing import WeighingViewModel
from kiosk.viewmodels.kiosk import screen_for

__all__ = [
    "AttendantViewModel",
    "CashViewModel",
    "CouponViewModel",
    "KeyEntry",
    "LookupViewModel",
    "MemberViewModel",
    "PayViewModel",
    "PriceOverrideViewModel",
    "QrPayViewModel",
    "ReceiptViewModel",
    "ScreenViewModel",
    "SuspendedViewModel",
    "ThankYouViewModel",
    "Tile",
    "WeighingViewModel",
    "screen_for",
    "I18n",
    "InvalidLineError",
    "KioskViewModel",
    "Language",
    "LineRow",
    "LineView",
    "Observable",
    "ScanViewModel",
    "ScreenName",
    "Subscription",
    "UnknownLanguageError",
    "UnknownMessageError",
    "ViewModelError",
    "WelcomeViewModel",
    "quantity_text",
    "weight_text",
]
