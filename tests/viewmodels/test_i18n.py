import string

import pytest

from kiosk.viewmodels.errors import UnknownLanguageError, UnknownMessageError, ViewModelError
from kiosk.viewmodels.i18n import MESSAGES, I18n, Language


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_has_english_and_chinese_with_the_same_placeholders():
    for key, table in MESSAGES.items():
        assert set(table) == set(Language), key
        assert _placeholders(table[Language.EN]) == _placeholders(table[Language.ZH_CN]), key
        assert all(text.strip() for text in table.values()), key


def test_messages_follow_the_current_language():
    i18n = I18n()
    assert i18n.t("scan.pay") == "Pay"
    i18n.set_language("zh_CN")
    assert i18n.t("scan.pay") == "付款"
    assert i18n.t("scan.total") == "合计"
    assert i18n.t("scan.pay", language=Language.EN) == "Pay"


def test_english_plural_and_chinese_counter():
    i18n = I18n()
    assert i18n.t("scan.items", count=1) == "1 item"
    assert i18n.t("scan.items", count=0) == "0 items"
    assert i18n.t("scan.items", count=8) == "8 items"
    i18n.set_language(Language.ZH_CN)
    assert i18n.t("scan.items", count=1) == "1 件商品"


def test_unknown_key_is_a_typed_key_error():
    with pytest.raises(UnknownMessageError) as info:
        I18n().t("scan.nope")
    assert isinstance(info.value, KeyError) and isinstance(info.value, ViewModelError)


def test_missing_parameter_is_reported():
    with pytest.raises(UnknownMessageError):
        I18n().t("scan.saving")


def test_unknown_language_is_a_value_error():
    with pytest.raises(UnknownLanguageError) as info:
        I18n("fr")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("code", ["zh", "zh-CN", "ZH_cn", Language.ZH_CN])
def test_language_codes_are_normalised(code):
    assert Language.parse(code) is Language.ZH_CN


def test_toggle_notifies_once_and_same_language_is_silent():
    i18n = I18n()
    heard = []
    i18n.on_change(heard.append)
    assert i18n.toggle() is Language.ZH_CN
    i18n.set_language("zh_CN")
    assert heard == [frozenset({"language"})]
    assert i18n.other_language is Language.EN


def test_native_names_are_written_in_their_own_script():
    assert Language.EN.native_name == "English"
    assert Language.ZH_CN.native_name == "简体中文"
