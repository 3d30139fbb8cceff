from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from gocua.imports.models import ImportJob

# A province's list (1.2M people) is about 130 MB as CSV: the web takes it (the import runs in
# the background worker); a proxy in front must allow bodies this large too.
WEB_IMPORT_MAX_BYTES = settings.IMPORT_MAX_BYTES


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại tệp"), choices=ImportJob.Kind.choices)
    file = forms.FileField(label=_("Tệp CSV hoặc Excel (.xlsx)"))
    dry_run = forms.BooleanField(label=_("Chạy thử (kiểm tra, không ghi gì)"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > WEB_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _(
                    "Tệp lớn hơn %(mb)s MB: hãy chia thành nhiều tệp, hoặc nhờ quản trị viên "
                    "nhập trên máy chủ."
                ),
                params={"mb": WEB_IMPORT_MAX_BYTES // (1024 * 1024)},
            )
        return upload
