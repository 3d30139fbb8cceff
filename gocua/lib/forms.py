"""Form fields for text a person types: control characters are refused under the field.

Django's CharField already refuses NUL; a form field of GõCửa refuses every control character
(what no keyboard types, and what broken or hostile input carries), with the same words the
API uses. `LongTextField` (notes) allows tabs and line breaks."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from gocua.lib.text import control_character


def _refuse_controls(value: str, *, multiline: bool) -> None:
    found = control_character(value or "", multiline=multiline)
    if found:
        raise ValidationError(
            _("Có ký tự điều khiển không hợp lệ (%(char)s): hãy gõ lại.") % {"char": found},
            code="control_character",
        )


def no_control_characters(value: str) -> None:
    _refuse_controls(value, multiline=False)


def no_control_characters_but_lines(value: str) -> None:
    _refuse_controls(value, multiline=True)


class TextField(forms.CharField):
    default_validators = [no_control_characters]


class LongTextField(forms.CharField):
    default_validators = [no_control_characters_but_lines]

    def __init__(self, *, rows: int = 2, **kwargs) -> None:
        kwargs.setdefault("widget", forms.Textarea({"rows": rows}))
        super().__init__(**kwargs)
