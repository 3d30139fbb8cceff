"""Keeping personal data out of every log line, whatever the handler.

Three layers, so that no path leaves a national ID or phone in clear:
- a log-record factory scrubs each message as the record is made (so caplog, the server's error
  log and any handler added later see masked text);
- `gocua.lib.masking.PersonalDataFilter` on the console handler (settings.LOGGING);
- `ScrubbingFormatter` masks the formatted line, tracebacks included (an IntegrityError's
  message can quote the national ID that collided).
"""

import logging

from gocua.lib.masking import scrub

_installed = False


def install_record_scrubber() -> None:
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return record
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))
