"""The kiosk's Kivy touchscreen UI: app shell, theme, fonts, screens and a test driver.

Importing :mod:`kiosk.ui.app`, :mod:`kiosk.ui.widgets`, :mod:`kiosk.ui.screens.*` or
:mod:`kiosk.ui.testing` imports Kivy; call :func:`kiosk.ui.env.prepare_kivy` before that.
:mod:`kiosk.ui.env`, :mod:`kiosk.ui.theme` and :mod:`kiosk.ui.fonts` import no Kivy.
"""
