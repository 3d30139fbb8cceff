"""Form fields for text a person types: control characters are refused under the field.

Django's CharField already refuses NUL; a form field of GõCửa refuses every control character
(what no keyboard types, and what broken or hostile input carries), with the same words the
API uses. `LongTextField` (notes) allows tabs and line breaks. Both state and enforce their
`max_length` (take it from gocua.lib.limits)."""

from functools import partial
from typing import Any

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext as _

from gocua.lib.limits import limit_help, over_limit
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


_limit_help = lazy(limit_help, str)


class LimitedField(forms.CharField):
    """A text field whose limit (`max_length`, one of gocua.lib.limits) is said under it
    ('Tối đa 2.000 ký tự.'; `state_limit=False` where it goes without saying, a login), carried by the input's maxlength and, past it, refused with the
    length and the limit in the same words as the API and the imports."""

    def __init__(self, *, state_limit: bool = True, **kwargs: Any) -> None:
        limit = kwargs.get("max_length")
        if limit is not None and state_limit:
            given = kwargs.get("help_text")
            said = _limit_help(limit)
            kwargs["help_text"] = format_lazy("{} {}", given, said) if given else said
        super().__init__(**kwargs)
        if limit is not None:
            self.validators = [
                v for v in self.validators if not isinstance(v, validators.MaxLengthValidator)
            ] + [partial(_within, limit=limit)]


def _within(value: str, *, limit: int) -> None:
    refusal = over_limit(value or "", limit)
    if refusal:
        raise ValidationError(refusal, code="max_length")


class TextField(LimitedField):
    default_validators = [no_control_characters]


class LongTextField(LimitedField):
    default_validators = [no_control_characters_but_lines]

    def __init__(self, *, rows: int = 2, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea({"rows": rows}))
        super().__init__(**kwargs)
