from django import forms
from django.utils.translation import gettext_lazy as _

from gocua.imports.models import ImportJob

# A commune's list is a few MB; a province-sized file belongs on the server's command line,
# where it streams in the background instead of holding a web worker.
WEB_IMPORT_MAX_BYTES = 50 * 1024 * 1024


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại tệp"), choices=ImportJob.Kind.choices)
    file = forms.FileField(label=_("Tệp CSV hoặc Excel (.xlsx)"))
    dry_run = forms.BooleanField(label=_("Chạy thử (kiểm tra, không ghi gì)"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > WEB_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _(
                    "Tệp lớn hơn %(mb)s MB: nhờ Công an tỉnh nhập bằng lệnh gocua import "
                    "trên máy chủ."
                ),
                params={"mb": WEB_IMPORT_MAX_BYTES // (1024 * 1024)},
            )
        return upload
