"""Plain-Python view-models of the kiosk's screens; no Kivy here, tested without a window."""

from kiosk.viewmodels.errors import InvalidLineError, UnknownLanguageError, UnknownMessageError, ViewModelError
from kiosk.viewmodels.formatting import quantity_text, weight_text
from kiosk.viewmodels.i18n import I18n, Language
from kiosk.viewmodels.kiosk import KioskViewModel, ScreenName
from kiosk.viewmodels.observable import Observable, Subscription
from kiosk.viewmodels.scan import LineRow, LineView, ScanViewModel
from kiosk.viewmodels.welcome import WelcomeViewModel

__all__ = [
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
